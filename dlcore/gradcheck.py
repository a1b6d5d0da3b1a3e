"""Numerical gradient checking: how every backward pass in the course is verified.

Central differences, df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h), have error O(h^2)
(one-sided differences only O(h)); with float64 and h = 1e-5 an analytic gradient that is
right agrees to about 1e-8 relative error, and one that is wrong rarely beats 1e-3.
"""
from __future__ import annotations

import numpy as np

from dlcore._checks import as_float_array, check_positive

# Relative errors are taken against max(|a| + |b|, this), so entries that are both ~0 do not
# blow a tiny absolute difference up into a large relative one.
_REL_FLOOR = 1e-8


def numerical_gradient(f, x, h: float = 1e-5) -> np.ndarray:
    """Central-difference gradient of a scalar function ``f`` at ``x``.

    grad_i = (f(x + h e_i) - f(x - h e_i)) / (2h), where f is called as ``f(x)``.

    ``x`` must be a writable float ndarray (any shape): each entry is nudged in place and put
    back bit for bit, even if ``f`` raises, so ``x`` is left as it was found. ``f`` must return
    a scalar (a float or a one-element array). Returns an array of x's shape and dtype; for
    float32 inputs use a larger h (around 1e-2), as rounding swamps the difference otherwise.

    >>> numerical_gradient(lambda v: float(np.sum(v ** 2)), np.array([1.0, -2.0])).round(6).tolist()
    [2.0, -4.0]
    """
    fn = "numerical_gradient"
    if not callable(f):
        raise ValueError(f"{fn}: f must be a function of x returning a scalar, got {type(f).__name__}")
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        got = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        raise ValueError(f"{fn}: x must be a float numpy array (it is perturbed in place), got {got}")
    if not x.flags.writeable:
        raise ValueError(f"{fn}: x must be writable (it is perturbed in place and restored), got a read-only array")
    check_positive(fn, "h", h)

    def value(where: str) -> float:
        v = np.asarray(f(x))
        if v.size != 1:
            raise ValueError(f"{fn}: f must return a scalar, got an array of shape {tuple(v.shape)} {where}")
        return float(v.reshape(()))

    grad = np.zeros(x.shape, dtype=x.dtype)
    for idx in np.ndindex(x.shape):  # index x itself (not a flat copy) so non-contiguous views work
        old = x[idx]
        try:
            x[idx] = old + h
            fp = value(f"at x + h e_{idx}")
            x[idx] = old - h
            fm = value(f"at x - h e_{idx}")
        finally:
            x[idx] = old
        grad[idx] = (fp - fm) / (2 * h)
    return grad


def max_relative_error(a, b) -> float:
    """Largest elementwise relative error between two arrays of one shape.

    max_i |a_i - b_i| / max(|a_i| + |b_i|, 1e-8)

    0 for identical arrays, at most 1 (e.g. when signs differ); 0.0 for empty arrays.
    """
    fn = "max_relative_error"
    a = as_float_array(fn, "a", a).astype(np.float64)
    b = as_float_array(fn, "b", b).astype(np.float64)
    if a.shape != b.shape:
        raise ValueError(f"{fn}: a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    if a.size == 0:
        return 0.0
    with np.errstate(invalid="ignore"):  # inf - inf gives nan: reported below as nan, not as a warning
        err = np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), _REL_FLOOR)
    return float(np.max(err))
