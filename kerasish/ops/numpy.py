"""keras.ops numpy group: Keras 3's `keras.ops.numpy` names over `jax.numpy`.

The ops live in one file per topic and are gathered here: `_numpy_creation` (ones, arange, eye,
windows, ...), `_numpy_elementwise` (maths, comparisons, logic, bits, `vectorize`), `_numpy_reduce`
(sum, mean, var, quantiles, cumulative ops), `_numpy_sort` (arg-extrema, sorting, searching,
`unique`, `bincount`), `_numpy_shape` (reshape, joins and splits, pad, flips), `_numpy_index`
(take, where, select, diagonals, triangles) and `_numpy_products` (matmul, einsum, tensordot, ...).
Every name Keras 3.15 exports under `keras.ops.numpy` is here.
"""

from kerasish.ops import (_numpy_creation, _numpy_elementwise, _numpy_index, _numpy_products, _numpy_reduce,
                          _numpy_shape, _numpy_sort)
from kerasish.ops._numpy_creation import *  # noqa: F401,F403
from kerasish.ops._numpy_elementwise import *  # noqa: F401,F403
from kerasish.ops._numpy_index import *  # noqa: F401,F403
from kerasish.ops._numpy_products import *  # noqa: F401,F403
from kerasish.ops._numpy_reduce import *  # noqa: F401,F403
from kerasish.ops._numpy_shape import *  # noqa: F401,F403
from kerasish.ops._numpy_sort import *  # noqa: F401,F403

__all__ = sorted([*_numpy_creation.__all__, *_numpy_elementwise.__all__, *_numpy_index.__all__,
                  *_numpy_products.__all__, *_numpy_reduce.__all__, *_numpy_shape.__all__, *_numpy_sort.__all__])
