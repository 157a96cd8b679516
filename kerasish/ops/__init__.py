"""keras.ops: Keras 3's op namespace as thin names over jax.numpy / jax.nn / jax.lax / jax.scipy.

Keras's argument names, defaults, dtype rules and results; every op returns a JAX array (as Keras's
JAX backend does) and works eagerly and under `jax.jit` on NumPy arrays, JAX arrays, Python scalars
and kerasish variables. The groups live in one file each; `keras.ops.numpy`, `.nn`, `.linalg` and
`.image` are also reachable as submodules, as in Keras 3. The CPU-fast convolution and pooling
lowerings that layers use are `kerasish.kernels`, not this namespace.
"""

import functools
import sys

from kerasish.ops import core, image, linalg, math, nn, numpy
from kerasish.ops.core import *  # noqa: F401,F403
from kerasish.ops.image import *  # noqa: F401,F403
from kerasish.ops.linalg import *  # noqa: F401,F403
from kerasish.ops.math import *  # noqa: F401,F403
from kerasish.ops.nn import *  # noqa: F401,F403
from kerasish.ops.numpy import *  # noqa: F401,F403

def _symbolic_aware(fn):
    """`fn`, which on KerasTensor arguments records a functional-graph node instead of computing.

    `kerasish.layers.symbolic` is looked up, not imported: no KerasTensor exists before it is
    loaded, so `kerasish.ops` (and the leaves built on it, such as `activations`) never import
    `kerasish.layers`.
    """
    @functools.wraps(fn)
    def op(*args, **kwargs):
        symbolic = sys.modules.get("kerasish.layers.symbolic")
        if symbolic is not None and symbolic.any_symbolic(args, kwargs):
            return symbolic.op_call(fn, args, kwargs, fn.__name__)
        return fn(*args, **kwargs)
    return op


for _name in {*core.__all__, *image.__all__, *linalg.__all__, *math.__all__, *nn.__all__, *numpy.__all__}:
    if callable(globals().get(_name)) and not isinstance(globals()[_name], type):
        globals()[_name] = _symbolic_aware(globals()[_name])

__all__ = sorted({*core.__all__, *image.__all__, *linalg.__all__, *math.__all__, *nn.__all__,
                  *numpy.__all__, "core", "image", "linalg", "math", "nn", "numpy"})
