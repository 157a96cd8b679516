"""Elementwise `keras.ops`: maths of one or two broadcasting arrays, comparisons, logic, bits.

Each op is the `jnp` function of the same maths with Keras's argument names (`x`, `x1, x2`, and
`x, y` for the bitwise ops). Where Keras computes a float-valued function (trigonometry, `exp`,
`ceil`, ...) of integer or bool input in floatx, the input is cast first (`to_float=True`); the
others follow JAX's promotion, as Keras's JAX backend does. A few ops carry a Keras rule of their
own (`fabs` refuses complex, `ldexp` wants an integer exponent, `trunc` keeps integers, `clip`
turns bools into int32, `round` with negative decimals on integers).
"""

from __future__ import annotations

from typing import Callable, Iterable

import jax
import jax.numpy as jnp

from kerasish.ops._numpy_base import ArrayLike, as_array, binary, dtype_of, floatx, is_int_or_bool, unary

__all__ = [
    "abs", "absolute", "angle", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh", "bitwise_invert",
    "bitwise_not", "cbrt", "ceil", "conj", "conjugate", "copy", "cos", "cosh", "deg2rad", "exp", "exp2", "expm1",
    "fabs", "floor", "i0", "imag", "isfinite", "isinf", "isnan", "isneginf", "isposinf", "isreal", "log",
    "log10", "log1p", "log2", "logical_not", "negative", "rad2deg", "real", "reciprocal", "round", "sign",
    "signbit", "sin", "sinc", "sinh", "sqrt", "square", "tan", "tanh", "trunc",
    "add", "arctan2", "bitwise_and", "bitwise_left_shift", "bitwise_or", "bitwise_right_shift", "bitwise_xor",
    "clip", "divide", "divide_no_nan", "equal", "floor_divide", "fmax", "fmin", "fmod", "gcd", "greater",
    "greater_equal", "heaviside", "hypot", "isclose", "lcm", "ldexp", "left_shift", "less", "less_equal",
    "logaddexp", "logaddexp2", "logical_and", "logical_or", "logical_xor", "maximum", "minimum", "mod",
    "multiply", "nan_to_num", "nextafter", "not_equal", "power", "right_shift", "subtract", "true_divide",
    "vectorize",
]

_F = {"to_float": True}

# One array in, same shape out.
absolute = unary("absolute", jnp.absolute, "Absolute value, elementwise.")
abs = unary("abs", jnp.absolute, "Absolute value, elementwise (alias of `absolute`).")
angle = unary("angle", jnp.angle, "Argument of a complex number, elementwise (0 or pi for reals).", **_F)
arccos = unary("arccos", jnp.arccos, "Inverse cosine, elementwise.", **_F)
arccosh = unary("arccosh", jnp.arccosh, "Inverse hyperbolic cosine, elementwise.", **_F)
arcsin = unary("arcsin", jnp.arcsin, "Inverse sine, elementwise.", **_F)
arcsinh = unary("arcsinh", jnp.arcsinh, "Inverse hyperbolic sine, elementwise.", **_F)
arctan = unary("arctan", jnp.arctan, "Inverse tangent, elementwise.", **_F)
arctanh = unary("arctanh", jnp.arctanh, "Inverse hyperbolic tangent, elementwise.", **_F)
bitwise_invert = unary("bitwise_invert", jnp.invert, "Bitwise NOT of integers (logical NOT of bools).")
bitwise_not = unary("bitwise_not", jnp.invert, "Bitwise NOT (alias of `bitwise_invert`).")
cbrt = unary("cbrt", jnp.cbrt, "Cube root, elementwise.")
ceil = unary("ceil", jnp.ceil, "Smallest integer-valued float not below `x`, elementwise.", **_F)
conjugate = unary("conjugate", jnp.conjugate, "Complex conjugate, elementwise.")
conj = unary("conj", jnp.conjugate, "Complex conjugate (alias of `conjugate`).")
copy = unary("copy", jnp.copy, "A copy of `x`.")
cos = unary("cos", jnp.cos, "Cosine, elementwise.", **_F)
cosh = unary("cosh", jnp.cosh, "Hyperbolic cosine, elementwise.", **_F)
deg2rad = unary("deg2rad", jnp.deg2rad, "Degrees to radians, elementwise.")
exp = unary("exp", jnp.exp, "Exponential, elementwise.", **_F)
exp2 = unary("exp2", jnp.exp2, "2 to the power `x`, elementwise.", **_F)
expm1 = unary("expm1", jnp.expm1, "`exp(x) - 1`, accurate near zero.", **_F)
floor = unary("floor", jnp.floor, "Largest integer-valued float not above `x`, elementwise.", **_F)
i0 = unary("i0", jnp.i0, "Modified Bessel function of the first kind, order 0.", **_F)
imag = unary("imag", jnp.imag, "Imaginary part, elementwise.")
isfinite = unary("isfinite", jnp.isfinite, "True where `x` is neither infinite nor NaN.")
isinf = unary("isinf", jnp.isinf, "True where `x` is +inf or -inf.")
isnan = unary("isnan", jnp.isnan, "True where `x` is NaN.")
isneginf = unary("isneginf", jnp.isneginf, "True where `x` is -inf.")
isposinf = unary("isposinf", jnp.isposinf, "True where `x` is +inf.")
isreal = unary("isreal", jnp.isreal, "True where `x` has no imaginary part.")
log = unary("log", jnp.log, "Natural logarithm, elementwise.")
log10 = unary("log10", jnp.log10, "Base-10 logarithm, elementwise.")
log1p = unary("log1p", jnp.log1p, "`log(1 + x)`, accurate near zero.")
log2 = unary("log2", jnp.log2, "Base-2 logarithm, elementwise.")
logical_not = unary("logical_not", jnp.logical_not, "Logical NOT, elementwise (bool result).")
negative = unary("negative", jnp.negative, "`-x`, elementwise.")
rad2deg = unary("rad2deg", jnp.rad2deg, "Radians to degrees, elementwise.")
real = unary("real", jnp.real, "Real part, elementwise.")
reciprocal = unary("reciprocal", jnp.reciprocal, "`1 / x`, elementwise.")
sign = unary("sign", jnp.sign, "-1, 0 or 1 by the sign of `x`, elementwise.")
signbit = unary("signbit", jnp.signbit, "True where the sign bit of `x` is set (so also for -0.0).")
sin = unary("sin", jnp.sin, "Sine, elementwise.", **_F)
sinc = unary("sinc", jnp.sinc, "Normalised sinc, `sin(pi x) / (pi x)`, elementwise.", **_F)
sinh = unary("sinh", jnp.sinh, "Hyperbolic sine, elementwise.", **_F)
sqrt = unary("sqrt", jnp.sqrt, "Square root, elementwise.")
square = unary("square", jnp.square, "`x * x`, elementwise.")
tan = unary("tan", jnp.tan, "Tangent, elementwise.", **_F)
tanh = unary("tanh", jnp.tanh, "Hyperbolic tangent, elementwise.", **_F)

# Two broadcasting arrays in.
add = binary("add", jnp.add, "`x1 + x2`, elementwise with broadcasting.")
subtract = binary("subtract", jnp.subtract, "`x1 - x2`, elementwise with broadcasting.")
multiply = binary("multiply", jnp.multiply, "`x1 * x2`, elementwise with broadcasting.")
divide = binary("divide", jnp.divide, "True division `x1 / x2`; integers divide in float.")
true_divide = binary("true_divide", jnp.divide, "True division (alias of `divide`).")
floor_divide = binary("floor_divide", jnp.floor_divide, "`x1 // x2`, rounding toward -inf.")
mod = binary("mod", jnp.mod, "Remainder with the sign of `x2` (Python's `%`).")
fmod = binary("fmod", jnp.fmod, "Remainder with the sign of `x1` (C's `fmod`).")
power = binary("power", jnp.power, "`x1 ** x2`, elementwise.")
maximum = binary("maximum", jnp.maximum, "Larger of `x1` and `x2`; NaN wins.")
minimum = binary("minimum", jnp.minimum, "Smaller of `x1` and `x2`; NaN wins.")
fmax = binary("fmax", jnp.fmax, "Larger of `x1` and `x2`; a NaN loses to a number.")
fmin = binary("fmin", jnp.fmin, "Smaller of `x1` and `x2`; a NaN loses to a number.")
equal = binary("equal", jnp.equal, "`x1 == x2`, elementwise.")
not_equal = binary("not_equal", jnp.not_equal, "`x1 != x2`, elementwise.")
greater = binary("greater", jnp.greater, "`x1 > x2`, elementwise.")
greater_equal = binary("greater_equal", jnp.greater_equal, "`x1 >= x2`, elementwise.")
less = binary("less", jnp.less, "`x1 < x2`, elementwise.")
less_equal = binary("less_equal", jnp.less_equal, "`x1 <= x2`, elementwise.")
logical_and = binary("logical_and", jnp.logical_and, "Logical AND, elementwise (bool result).")
logical_or = binary("logical_or", jnp.logical_or, "Logical OR, elementwise (bool result).")
logical_xor = binary("logical_xor", jnp.logical_xor, "Logical XOR, elementwise (bool result).")
arctan2 = binary("arctan2", jnp.arctan2, "Angle of the point (`x2`, `x1`), in (-pi, pi].", **_F)
logaddexp = binary("logaddexp", jnp.logaddexp, "`log(exp(x1) + exp(x2))` without overflow.", **_F)
logaddexp2 = binary("logaddexp2", jnp.logaddexp2, "`log2(2**x1 + 2**x2)` without overflow.", **_F)
gcd = binary("gcd", jnp.gcd, "Greatest common divisor of integers, elementwise.")
lcm = binary("lcm", jnp.lcm, "Least common multiple of integers, elementwise.")
heaviside = binary("heaviside", jnp.heaviside, "Step function: 0 below zero, 1 above, `x2` at zero.")
hypot = binary("hypot", jnp.hypot, "`sqrt(x1**2 + x2**2)` without overflow.")
nextafter = binary("nextafter", jnp.nextafter, "The next float after `x1` toward `x2`.")
_XY = {"arg_names": ("x", "y")}
bitwise_and = binary("bitwise_and", jnp.bitwise_and, "Bitwise AND of integers or bools.", **_XY)
bitwise_or = binary("bitwise_or", jnp.bitwise_or, "Bitwise OR of integers or bools.", **_XY)
bitwise_xor = binary("bitwise_xor", jnp.bitwise_xor, "Bitwise XOR of integers or bools.", **_XY)
bitwise_left_shift = binary("bitwise_left_shift", jnp.left_shift, "`x << y` for integers.", **_XY)
left_shift = binary("left_shift", jnp.left_shift, "`x << y` (alias of `bitwise_left_shift`).", **_XY)
bitwise_right_shift = binary("bitwise_right_shift", jnp.right_shift, "`x >> y` for integers.", **_XY)
right_shift = binary("right_shift", jnp.right_shift, "`x >> y` (alias of `bitwise_right_shift`).", **_XY)


def fabs(x: ArrayLike) -> jax.Array:
    """Absolute value of real numbers; complex input raises TypeError (use `abs`)."""
    x = as_array(x)
    if "complex" in dtype_of(x):
        raise TypeError(f"fabs does not support complex inputs. Received: x.dtype={dtype_of(x)}")
    return jnp.fabs(x)


def trunc(x: ArrayLike) -> jax.Array:
    """Rounds toward zero; integer and bool inputs come back unchanged (same dtype)."""
    x = as_array(x)
    return x if is_int_or_bool(dtype_of(x)) else jnp.trunc(x)


def round(x: ArrayLike, decimals: int = 0) -> jax.Array:
    """Rounds half to even to `decimals` places (negative: tens, hundreds...); keeps the dtype."""
    x = as_array(x)
    dtype = dtype_of(x)
    if "int" in dtype and decimals < 0:
        # jnp.round refuses negative decimals for integers: round in floatx, then cast back.
        return jnp.round(x.astype(floatx()), decimals).astype(dtype)
    return jnp.round(x, decimals)


def ldexp(x1: ArrayLike, x2: ArrayLike) -> jax.Array:
    """`x1 * 2**x2`; the exponent `x2` must have an integer dtype."""
    x1, x2 = as_array(x1), as_array(x2)
    if "int" not in dtype_of(x2):
        raise TypeError(f"ldexp exponent must be an integer type. Received: x2 dtype={dtype_of(x2)}")
    return jnp.ldexp(x1, x2)


def divide_no_nan(x1: ArrayLike, x2: ArrayLike) -> jax.Array:
    """`x1 / x2`, but 0 wherever `x2` is 0 (also in the gradient, which never sees the 0 division)."""
    x1, x2 = as_array(x1), as_array(x2)
    zero = x2 == 0
    return jnp.where(zero, 0, jnp.divide(x1, jnp.where(zero, 1, x2)))


def clip(x: ArrayLike, x_min: ArrayLike, x_max: ArrayLike) -> jax.Array:
    """`x` limited to [`x_min`, `x_max`], elementwise; bool input is clipped as int32."""
    x = as_array(x)
    if dtype_of(x) == "bool":
        x = x.astype("int32")
    return jnp.clip(x, x_min, x_max)


def isclose(x1: ArrayLike, x2: ArrayLike, rtol: float = 1e-5, atol: float = 1e-8,
            equal_nan: bool = False) -> jax.Array:
    """True where `|x1 - x2| <= atol + rtol * |x2|`, elementwise."""
    return jnp.isclose(as_array(x1), as_array(x2), rtol=rtol, atol=atol, equal_nan=equal_nan)


def nan_to_num(x: ArrayLike, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> jax.Array:
    """NaN replaced by `nan`, +-inf by `posinf`/`neginf` (default: the dtype's largest finite values)."""
    return jnp.nan_to_num(as_array(x), nan=nan, posinf=posinf, neginf=neginf)


def vectorize(pyfunc: Callable, *, excluded: Iterable[int | str] | None = None,
              signature: str | None = None) -> Callable:
    """`pyfunc` turned into a function that maps over the leading (broadcast) axes of its array inputs.

    `excluded` names positional indices or keywords passed through unmapped; `signature` (NumPy's
    "(n),(n)->()") says which trailing axes `pyfunc` itself consumes.

    Raises:
        ValueError: `pyfunc` is not callable.
    """
    if not callable(pyfunc):
        raise ValueError(f"Expected argument `pyfunc` to be a callable. Received: pyfunc={pyfunc}")
    return jnp.vectorize(pyfunc, excluded=set() if excluded is None else set(excluded), signature=signature)
