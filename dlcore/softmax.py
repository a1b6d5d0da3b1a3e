"""Softmax, log-softmax and the softmax Jacobian-vector product (taught in chapter 2).

softmax(z)_i = exp(z_i) / sum_j exp(z_j). Subtracting max_j z_j first changes nothing
mathematically (the factor exp(-max) cancels) but keeps every exponent <= 0, so logits of
magnitude 1e4 neither overflow nor underflow to 0/0. :func:`naive_softmax` leaves the shift
out so the chapter can show what goes wrong.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dlcore._checks import as_float_array, check_same_shape


def _check_axis(fn: str, z: np.ndarray, axis) -> int:
    if z.ndim == 0:
        raise ValueError(f"{fn}: z must have at least one axis, got a 0-D array")
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool) or not -z.ndim <= axis < z.ndim:
        raise ValueError(f"{fn}: axis must be an int in [{-z.ndim}, {z.ndim - 1}] for z of shape "
                         f"{tuple(z.shape)}, got {axis!r}")
    return int(axis)


def _shift(z: np.ndarray, axis: int) -> np.ndarray:
    """z - max(z) along ``axis``. A row holding +inf, or only -inf, gives inf - inf = nan, as in torch;
    callers silence that one warning so such rows come back as nan quietly."""
    return z - z.max(axis=axis, keepdims=True)


def softmax(z, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis``: p_i = exp(z_i - m) / sum_j exp(z_j - m), m = max_j z_j.

    Any shape; the output has z's shape and dtype, and sums to 1 along ``axis``.

    >>> softmax(np.array([0.0, np.log(3.0)])).round(6).tolist()
    [0.25, 0.75]
    """
    z = as_float_array("softmax", "z", z)
    axis = _check_axis("softmax", z, axis)
    with np.errstate(invalid="ignore", over="ignore"):  # only for inf/nan inputs, where torch gives nan
        e = np.exp(_shift(z, axis))
        return e / e.sum(axis=axis, keepdims=True)


def log_softmax(z, axis: int = -1) -> np.ndarray:
    """Log-softmax along ``axis``: log p_i = (z_i - m) - log sum_j exp(z_j - m), m = max_j z_j.

    Any shape; output has z's shape and dtype. Finite for finite logits of any magnitude
    (``log(softmax(z))`` would give log(0) = -inf for logits 1e4 apart).
    """
    z = as_float_array("log_softmax", "z", z)
    axis = _check_axis("log_softmax", z, axis)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        s = _shift(z, axis)
        return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def naive_softmax(z) -> np.ndarray:
    """Softmax along the last axis WITHOUT the max shift: exp(z_i) / sum_j exp(z_j).

    For teaching only: exp(1000) overflows to inf, and inf / inf gives nan; very negative
    logits underflow to 0 / 0 = nan. No warning is emitted (the notebook shows the nan instead).
    """
    z = as_float_array("naive_softmax", "z", z)
    _check_axis("naive_softmax", z, -1)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)


class SoftmaxCache(NamedTuple):
    p: np.ndarray  # the softmax output, which is all the backward needs


def softmax_forward(z) -> tuple[np.ndarray, SoftmaxCache]:
    """Softmax along the last axis, keeping what the backward needs. z: (..., C) -> p: (..., C)."""
    z = as_float_array("softmax_forward", "z", z)
    _check_axis("softmax_forward", z, -1)
    p = softmax(z, axis=-1)
    return p, SoftmaxCache(p)


def softmax_backward(dp, cache: SoftmaxCache) -> np.ndarray:
    """Jacobian-vector product of softmax along the last axis.

    With J = diag(p) - p p^T:  dz = J^T dp = p * (dp - sum_j dp_j p_j).  dp, dz: (..., C).
    """
    p = cache.p
    dp = as_float_array("softmax_backward", "dp", dp)
    check_same_shape("softmax_backward", "dp", dp, "cache.p", p)
    dz = p * (dp - np.sum(dp * p, axis=-1, keepdims=True))
    return dz.astype(p.dtype, copy=False)
