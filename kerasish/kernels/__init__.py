"""CPU-fast kernels that layers call (NHWC, Keras semantics): not `keras.ops` (that is `kerasish.ops`).

Each op takes an ``impl`` argument naming its lowering; ``"auto"`` is a static
Python choice by backend (CPU-fast formulations on CPU, native XLA elsewhere).
No op holds state or sets global flags.
"""

from kerasish.kernels.conv import CONV_IMPLS, conv2d
from kerasish.kernels.pooling import (
    POOL_IMPLS,
    avg_pool2d,
    global_avg_pool2d,
    global_max_pool2d,
    max_pool2d,
)

__all__ = [
    "CONV_IMPLS",
    "POOL_IMPLS",
    "avg_pool2d",
    "conv2d",
    "global_avg_pool2d",
    "global_max_pool2d",
    "max_pool2d",
]
