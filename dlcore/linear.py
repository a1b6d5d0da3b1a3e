"""The fully connected (linear / affine) layer, forward and backward (taught in chapters 1 and 6).

out = x @ w.T + b, exactly as ``torch.nn.functional.linear``: weights are (out_features,
in_features), so row k of ``w`` holds the weights of output unit k.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np

from dlcore._checks import as_float_array, check_ndim


class LinearCache(NamedTuple):
    x: np.ndarray
    w: np.ndarray
    has_bias: bool
    b_dtype: Optional[np.dtype]


def linear_forward(x, w, b=None) -> tuple[np.ndarray, LinearCache]:
    """Affine map out = x @ w.T + b.

    x: (N, in) or any (..., in); w: (out, in); b: (out,) or None. out: (..., out).

    >>> linear_forward(np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]]), np.array([0.5]))[0].tolist()
    [[11.5]]
    """
    fn = "linear_forward"
    x = as_float_array(fn, "x", x)
    w = as_float_array(fn, "w", w)
    check_ndim(fn, "w", w, 2, "(out_features, in_features)")
    if x.ndim == 0:
        raise ValueError(f"{fn}: x must be (N, in_features) or (..., in_features), got a 0-D array")
    if x.shape[-1] != w.shape[1]:
        raise ValueError(f"{fn}: x has {x.shape[-1]} features (last axis of {tuple(x.shape)}) "
                         f"but w expects {w.shape[1]} (w has shape {tuple(w.shape)})")
    out = x @ w.T
    if b is not None:
        b = as_float_array(fn, "b", b)
        if b.shape != (w.shape[0],):
            raise ValueError(f"{fn}: b must have shape ({w.shape[0]},) to match w {tuple(w.shape)}, "
                             f"got {tuple(b.shape)}")
        out = out + b
    return out, LinearCache(x, w, b is not None, None if b is None else b.dtype)


def linear_backward(dout, cache: LinearCache):
    """Gradients of out = x @ w.T + b.

    dx = dout @ w            (shape of x)
    dw = dout^T @ x          (out, in), summed over every leading axis of x
    db = dout summed over every leading axis, (out,); None when the forward had no bias.

    Returns (dx, dw, db), each in its input's dtype.
    """
    fn = "linear_backward"
    x, w = cache.x, cache.w
    dout = as_float_array(fn, "dout", dout)
    want = x.shape[:-1] + (w.shape[0],)
    if dout.shape != want:
        raise ValueError(f"{fn}: dout must have the forward output's shape {want}, got {tuple(dout.shape)}")
    d2 = dout.reshape(-1, w.shape[0])
    dx = (dout @ w).astype(x.dtype, copy=False)
    dw = (d2.T @ x.reshape(-1, w.shape[1])).astype(w.dtype, copy=False)
    db = d2.sum(axis=0).astype(cache.b_dtype, copy=False) if cache.has_bias else None
    return dx, dw, db
