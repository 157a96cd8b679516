"""The 2-D pooling layers, under the module path `kerasish.layers` imports them from.

They are `pooling_nd`'s every-rank classes (one implementation for 1-D, 2-D and 3-D pooling):
channels last or first, Keras 3's names, defaults and configs.
"""

from kerasish.layers.pooling_nd import (AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D,
                                        MaxPooling2D)

__all__ = ["AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "MaxPooling2D"]
