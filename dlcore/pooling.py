"""2-D max and average pooling (chapter 7: the forward pass; chapter 8: backpropagation through it).

Semantics are those of ``torch.nn.functional.max_pool2d`` / ``avg_pool2d`` without padding:
``stride=None`` means ``stride = kernel_size``; windows may overlap (stride < kernel);
the output size rounds down, OH = floor((H - KH) / S) + 1; a max-pool window whose maximum
is tied sends its gradient to the first maximum in row-major order, as PyTorch does.

The max-pool "switches" (where each maximum came from) are stored as flat indices into each
(H, W) plane, the same numbers as ``max_pool2d(..., return_indices=True)``.

Read this file for the maths: each forward/backward pair is written as plain loops (the
``*_loops`` functions, which the chapter 8 exercises mirror). The pairs everything else calls
(``max_pool2d_forward`` …, used by ``dlcore.nn``) check their arguments here and dispatch to
:mod:`dlcore._fast_pool`, which computes the same numbers with strided views and one
``np.bincount``; ``tests/test_pooling.py`` checks it against the loops and against PyTorch.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _fast_pool as _fast
from ._checks import as_float_array, check_ndim, pair


class PoolCache(NamedTuple):
    """What the backward needs from the forward."""

    x_shape: tuple             # (N, C, H, W)
    kernel_size: tuple         # (KH, KW)
    stride: tuple              # (SH, SW)
    switches: np.ndarray | None  # max pool: (N, C, OH, OW) flat index into H*W of each max
    dtype: np.dtype


def _check_args(fn, x, kernel_size, stride):
    x = as_float_array(fn, "x", x)
    check_ndim(fn, "x", x, 4, "(N, C, H, W)")
    KH, KW = pair(fn, "kernel_size", kernel_size)
    if KH <= 0 or KW <= 0:
        raise ValueError(f"{fn}: kernel_size must be > 0, got {kernel_size!r}")
    SH, SW = (KH, KW) if stride is None else pair(fn, "stride", stride)
    if SH <= 0 or SW <= 0:
        raise ValueError(f"{fn}: stride must be > 0, got {stride!r}")
    H, W = x.shape[2], x.shape[3]
    if KH > H or KW > W:
        raise ValueError(f"{fn}: kernel_size {KH}x{KW} is larger than the input's spatial size {H}x{W}")
    return x, (KH, KW), (SH, SW)


def _out_size(H, W, KH, KW, SH, SW):
    return (H - KH) // SH + 1, (W - KW) // SW + 1


def _check_dout(fn, dout, cache):
    N, C, H, W = cache.x_shape
    (KH, KW), (SH, SW) = cache.kernel_size, cache.stride
    OH, OW = _out_size(H, W, KH, KW, SH, SW)
    dout = np.asarray(dout)
    if dout.shape != (N, C, OH, OW):
        raise ValueError(f"{fn}: dout must have shape {(N, C, OH, OW)}, got {dout.shape}")
    return dout.astype(cache.dtype, copy=False), (N, C, H, W), (KH, KW), (SH, SW), (OH, OW)


# ----------------------------------------------------------------------------------------
# Max pooling
# ----------------------------------------------------------------------------------------

def max_pool2d_forward_loops(x, kernel_size, stride=None):
    """Max pooling as plain loops: out[n, c, i, j] = max of the window at (S*i, S*j).

    Shapes: x (N, C, H, W) -> out (N, C, OH, OW). Returns (out, cache); the cache keeps the
    switches, the flat index (row * W + col) of each window's first maximum.
    """
    x, (KH, KW), (SH, SW) = _check_args("max_pool2d_forward_loops", x, kernel_size, stride)
    N, C, H, W = x.shape
    OH, OW = _out_size(H, W, KH, KW, SH, SW)
    out = np.empty((N, C, OH, OW), dtype=x.dtype)
    switches = np.empty((N, C, OH, OW), dtype=np.int64)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    window = x[n, c, i * SH:i * SH + KH, j * SW:j * SW + KW]
                    k = np.argmax(window)  # the first maximum in row-major order
                    a, e = divmod(int(k), KW)
                    out[n, c, i, j] = window[a, e]
                    switches[n, c, i, j] = (i * SH + a) * W + (j * SW + e)
    return out, PoolCache(x.shape, (KH, KW), (SH, SW), switches, x.dtype)


def max_pool2d_backward_loops(dout, cache):
    """Max pooling backward as plain loops: each dout[n, c, i, j] goes to its window's maximum.

    dx[n, c, r, s] = sum of dout[n, c, i, j] over the windows whose switch is (r, s).
    Shapes: dout (N, C, OH, OW) -> dx (N, C, H, W).
    """
    dout, (N, C, H, W), _, _, (OH, OW) = _check_dout("max_pool2d_backward_loops", dout, cache)
    dx = np.zeros((N, C, H, W), dtype=cache.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    r, s = divmod(int(cache.switches[n, c, i, j]), W)
                    dx[n, c, r, s] += dout[n, c, i, j]  # += : overlapping windows can share a max
    return dx


# ----------------------------------------------------------------------------------------
# Average pooling
# ----------------------------------------------------------------------------------------

def avg_pool2d_forward_loops(x, kernel_size, stride=None):
    """Average pooling as plain loops: out[n, c, i, j] = mean of the window at (S*i, S*j).

    Shapes: x (N, C, H, W) -> out (N, C, OH, OW). Returns (out, cache).
    """
    x, (KH, KW), (SH, SW) = _check_args("avg_pool2d_forward_loops", x, kernel_size, stride)
    N, C, H, W = x.shape
    OH, OW = _out_size(H, W, KH, KW, SH, SW)
    out = np.empty((N, C, OH, OW), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    out[n, c, i, j] = np.mean(x[n, c, i * SH:i * SH + KH, j * SW:j * SW + KW])
    return out, PoolCache(x.shape, (KH, KW), (SH, SW), None, x.dtype)


def avg_pool2d_backward_loops(dout, cache):
    """Average pooling backward as plain loops: every pixel of a window gets dout / (KH*KW).

    Shapes: dout (N, C, OH, OW) -> dx (N, C, H, W).
    """
    dout, (N, C, H, W), (KH, KW), (SH, SW), (OH, OW) = _check_dout("avg_pool2d_backward_loops", dout, cache)
    dx = np.zeros((N, C, H, W), dtype=cache.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    dx[n, c, i * SH:i * SH + KH, j * SW:j * SW + KW] += dout[n, c, i, j] / (KH * KW)
    return dx


# ----------------------------------------------------------------------------------------
# The pairs everything else calls: the same formulas, computed by dlcore._fast_pool.
# ----------------------------------------------------------------------------------------

def max_pool2d_forward(x, kernel_size, stride=None):
    """Max pooling: out[n, c, i, j] = max_{a<KH, e<KW} x[n, c, S_h*i + a, S_w*j + e].

    Shapes: x (N, C, H, W); kernel_size, stride an int or a pair (stride None = kernel_size)
    -> out (N, C, OH, OW), OH = floor((H - KH) / S_h) + 1. Returns (out, cache); the cache keeps
    the switches, the flat index (row * W + col) of each window's first maximum.
    What :func:`max_pool2d_forward_loops` computes, done with strided views.
    """
    x, (KH, KW), (SH, SW) = _check_args("max_pool2d_forward", x, kernel_size, stride)
    out, switches = _fast.max_pool2d_forward_strided(x, KH, KW, SH, SW)
    return out, PoolCache(x.shape, (KH, KW), (SH, SW), switches, x.dtype)


def max_pool2d_backward(dout, cache):
    """Max pooling backward: dx[n, c, r, s] = sum of dout[n, c, i, j] over the windows whose switch is (r, s).

    Shapes: dout (N, C, OH, OW) -> dx (N, C, H, W).
    What :func:`max_pool2d_backward_loops` computes, as one weighted histogram of the switches.
    """
    dout, x_shape, _, _, _ = _check_dout("max_pool2d_backward", dout, cache)
    return _fast.max_pool2d_backward_bincount(dout, cache.switches, x_shape, cache.dtype)


def avg_pool2d_forward(x, kernel_size, stride=None):
    """Average pooling: out[n, c, i, j] = (1 / (KH*KW)) sum_{a<KH, e<KW} x[n, c, S_h*i + a, S_w*j + e].

    Shapes: x (N, C, H, W); kernel_size, stride an int or a pair (stride None = kernel_size)
    -> out (N, C, OH, OW). Returns (out, cache).
    What :func:`avg_pool2d_forward_loops` computes, done with strided views.
    """
    x, (KH, KW), (SH, SW) = _check_args("avg_pool2d_forward", x, kernel_size, stride)
    out = _fast.avg_pool2d_forward_strided(x, KH, KW, SH, SW)
    return out, PoolCache(x.shape, (KH, KW), (SH, SW), None, x.dtype)


def avg_pool2d_backward(dout, cache):
    """Average pooling backward: every pixel of a window gets dout / (KH*KW), summed over windows.

    Shapes: dout (N, C, OH, OW) -> dx (N, C, H, W).
    What :func:`avg_pool2d_backward_loops` computes, written phase by phase with strided views.
    """
    dout, x_shape, (KH, KW), (SH, SW), _ = _check_dout("avg_pool2d_backward", dout, cache)
    return _fast.avg_pool2d_backward_spread(dout, x_shape, KH, KW, SH, SW, cache.dtype)
