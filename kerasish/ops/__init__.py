"""keras.ops: Keras 3's op namespace as thin names over jax.numpy / jax.nn / jax.lax / jax.scipy.

Keras's argument names, defaults, dtype rules and results; every op returns a JAX array (as Keras's
JAX backend does) and works eagerly and under `jax.jit` on NumPy arrays, JAX arrays, Python scalars
and kerasish variables. The groups live in one file each; `keras.ops.numpy`, `.nn`, `.linalg` and
`.image` are also reachable as submodules, as in Keras 3. The CPU-fast convolution and pooling
lowerings that layers use are `kerasish.kernels`, not this namespace.
"""

from kerasish.ops import core, image, linalg, math, nn, numpy
from kerasish.ops.core import *  # noqa: F401,F403
from kerasish.ops.image import *  # noqa: F401,F403
from kerasish.ops.linalg import *  # noqa: F401,F403
from kerasish.ops.math import *  # noqa: F401,F403
from kerasish.ops.nn import *  # noqa: F401,F403
from kerasish.ops.numpy import *  # noqa: F401,F403

__all__ = sorted({*core.__all__, *image.__all__, *linalg.__all__, *math.__all__, *nn.__all__,
                  *numpy.__all__, "core", "image", "linalg", "math", "nn", "numpy"})
