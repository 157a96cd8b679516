"""Preprocessing layers that run on arrays (Keras 3's `keras.layers` preprocessing family).

Submodules:
- `image`: Resizing, CenterCrop, RandomCrop, RandomFlip, RandomContrast, RandomBrightness;
- `geometric`: RandomRotation, RandomZoom, RandomTranslation, RandomShear, RandomPerspective;
- `color`: RandomGrayscale, RandomInvert, Solarization, AutoContrast, Equalization, RandomColorDegeneration,
  RandomSaturation, RandomHue, RandomSharpness, RandomPosterization;
- `color_mix`: RandomGaussianBlur, RandomColorJitter, RandomErasing;
- `normalization`: Normalization; `categorical`: CategoryEncoding, Discretization;
- `hashing`: Hashing (over the hashes of `_hash64`); `integer_lookup`: IntegerLookup;
- `pipeline`: Pipeline; `adapt_data` reads the data `adapt()` is given.
`Rescaling` lives in `kerasish.layers.rescaling`.

Not here: StringLookup and TextVectorization, which need TensorFlow's string ops in Keras 3 too
(`keras.layers.StringLookup` is an AttributeError in kerasish), and Keras's other augmentation and
audio layers (MixUp, CutMix, RandAugment, AugMix, RandomElasticTransform, MelSpectrogram, ...).
"""

from kerasish.layers.preprocessing.categorical import *  # noqa: F401,F403
from kerasish.layers.preprocessing.color import *  # noqa: F401,F403
from kerasish.layers.preprocessing.color_mix import *  # noqa: F401,F403
from kerasish.layers.preprocessing.geometric import *  # noqa: F401,F403
from kerasish.layers.preprocessing.hashing import *  # noqa: F401,F403
from kerasish.layers.preprocessing.image import *  # noqa: F401,F403
from kerasish.layers.preprocessing.integer_lookup import *  # noqa: F401,F403
from kerasish.layers.preprocessing.normalization import *  # noqa: F401,F403
from kerasish.layers.preprocessing.pipeline import *  # noqa: F401,F403
from kerasish.layers.preprocessing import (categorical, color, color_mix, geometric, hashing, image, integer_lookup,
                                           normalization, pipeline)

__all__ = [name for module in (categorical, color, color_mix, geometric, hashing, image, integer_lookup, normalization,
                               pipeline) for name in module.__all__]
