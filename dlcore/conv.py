"""2-D convolution (chapter 7: the forward pass; chapter 8: backpropagation through it).

"Convolution" here is cross-correlation, exactly as ``torch.nn.functional.conv2d``::

    out[n, f, i, j] = b[f] + sum_{c, a, e} x_pad[n, c, S_h*i + a, S_w*j + e] * w[f, c, a, e]

Read this file for the maths: the shapes, the formulas, and the forward/backward pair written as
plain loops (``conv2d_forward_loops`` / ``conv2d_backward_loops``), which the chapter 7/8
exercises mirror. The backward's ``dx`` is written, for stride 1, as the *full* convolution of
the upstream gradient with the kernel rotated by 180 degrees.

``conv2d_forward`` / ``conv2d_backward``, the pair everything else calls (``dlcore.nn.Conv2d``),
compute the same numbers quickly: they check their arguments here and dispatch to
:mod:`dlcore._fast_conv` (im2col, one matrix product per chunk of images, col2im), which
``tests/test_conv.py`` checks against the loops and against PyTorch. Float32 stays float32.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _fast_conv as _fast
from ._checks import as_float_array, check_ndim, pair



def conv_output_size(H: int, K: int, S: int = 1, P: int = 0) -> int:
    """Output length of a convolution or pooling along one axis: floor((H + 2P - K) / S) + 1.

    >>> conv_output_size(32, 3, 1, 1), conv_output_size(32, 5, 2, 0)
    (32, 14)
    """
    return (H + 2 * P - K) // S + 1


def rot180(w: np.ndarray) -> np.ndarray:
    """Rotate a kernel by 180 degrees over its last two axes: rot180(w)[..., a, e] = w[..., KH-1-a, KW-1-e]."""
    w = np.asarray(w)
    return w[..., ::-1, ::-1]


def full_convolve2d(delta: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The "full" 2-D convolution (this course's convolution = cross-correlation) of ``delta`` with ``kernel``.

    ``delta`` is zero-padded by KH-1 rows and KW-1 columns on every side, so every partial
    overlap counts: out[p, q] = sum_{a, e} delta_pad[p + a, q + e] * kernel[a, e].
    Shapes: delta (H, W), kernel (KH, KW) -> out (H + KH - 1, W + KW - 1).
    ``full_convolve2d(delta, rot180(w))`` is the gradient of a stride-1 convolution with
    respect to its (padded) input.
    """
    delta = np.asarray(delta)
    kernel = np.asarray(kernel)
    if delta.ndim != 2 or kernel.ndim != 2:
        raise ValueError(
            f"full_convolve2d: delta and kernel must be 2-D, got shapes {delta.shape} and {kernel.shape}"
        )
    KH, KW = kernel.shape
    padded = np.pad(delta, ((KH - 1, KH - 1), (KW - 1, KW - 1)))
    H_out, W_out = delta.shape[0] + KH - 1, delta.shape[1] + KW - 1
    out = np.zeros((H_out, W_out), dtype=np.result_type(delta, kernel))
    for p in range(H_out):
        for q in range(W_out):
            out[p, q] = np.sum(padded[p:p + KH, q:q + KW] * kernel)
    return out


class ConvCache(NamedTuple):
    """What the backward needs from the forward."""

    x: np.ndarray         # (N, C, H, W), the input as the forward saw it (not a copy)
    w: np.ndarray         # (F, C, KH, KW)
    has_bias: bool
    stride: tuple         # (SH, SW)
    padding: tuple        # (PH, PW)
    # conv2d_forward only: what its fast kernels keep for the backward (dlcore._fast_conv.FastState).
    fast: object = None


def _check_args(fn, x, w, b, stride, padding):
    x = as_float_array(fn, "x", x)
    w = as_float_array(fn, "w", w)
    check_ndim(fn, "x", x, 4, "(N, C, H, W)")
    check_ndim(fn, "w", w, 4, "(F, C, KH, KW)")
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"{fn}: x has {x.shape[1]} channels but w expects {w.shape[1]}")
    SH, SW = pair(fn, "stride", stride)
    PH, PW = pair(fn, "padding", padding)
    if SH <= 0 or SW <= 0:
        raise ValueError(f"{fn}: stride must be > 0, got {stride!r}")
    if PH < 0 or PW < 0:
        raise ValueError(f"{fn}: padding must be >= 0, got {padding!r}")
    F, _, KH, KW = w.shape
    if KH == 0 or KW == 0:
        raise ValueError(f"{fn}: w must have a non-empty kernel, got shape {w.shape}")
    Hp, Wp = x.shape[2] + 2 * PH, x.shape[3] + 2 * PW
    if KH > Hp or KW > Wp:
        raise ValueError(
            f"{fn}: kernel {KH}x{KW} is larger than the padded input {Hp}x{Wp} "
            f"(x spatial size {x.shape[2]}x{x.shape[3]}, padding {(PH, PW)})"
        )
    dtype = np.result_type(x.dtype, w.dtype)
    if b is not None:
        b = as_float_array(fn, "b", b)
        if b.shape != (F,):
            raise ValueError(f"{fn}: b must have shape ({F},) to match w's {F} filters, got {b.shape}")
        dtype = np.result_type(dtype, b.dtype)
    x, w = x.astype(dtype, copy=False), w.astype(dtype, copy=False)
    b = None if b is None else b.astype(dtype, copy=False)
    return x, w, b, (SH, SW), (PH, PW)


# ----------------------------------------------------------------------------------------
# The teaching version: loops you can read line by line.
# ----------------------------------------------------------------------------------------

def conv2d_forward_loops(x, w, b, stride=1, padding=0):
    """Convolution forward pass as plain loops (slow; for reading and for checking).

    out[n, f, i, j] = b[f] + sum(x_pad[n, :, S*i : S*i + KH, S*j : S*j + KW] * w[f])
    Shapes: x (N, C, H, W), w (F, C, KH, KW), b (F,) or None -> out (N, F, OH, OW),
    OH = floor((H + 2P - KH) / S) + 1. Returns (out, cache).
    """
    x, w, b, (SH, SW), (PH, PW) = _check_args("conv2d_forward_loops", x, w, b, stride, padding)
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)))
    OH = conv_output_size(H, KH, SH, PH)
    OW = conv_output_size(W, KW, SW, PW)
    out = np.zeros((N, F, OH, OW), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(OH):
                for j in range(OW):
                    window = x_pad[n, :, i * SH:i * SH + KH, j * SW:j * SW + KW]
                    out[n, f, i, j] = np.sum(window * w[f])
            if b is not None:
                out[n, f] += b[f]
    return out, ConvCache(x, w, b is not None, (SH, SW), (PH, PW))


def conv2d_backward_loops(dout, cache):
    """Convolution backward pass as plain loops: returns (dx, dw, db).

    dw[f] = sum_{n, i, j} dout[n, f, i, j] * window(n, i, j);   db[f] = sum_{n, i, j} dout[n, f, i, j]
    dx: for stride 1, dx_pad[n, c] = sum_f full_convolve2d(dout[n, f], rot180(w[f, c]));
        for a larger stride, each dout[n, f, i, j] * w[f] is scattered back onto its window.
    Shapes: dout (N, F, OH, OW) -> dx (N, C, H, W), dw (F, C, KH, KW), db (F,) or None.
    """
    x, w, has_bias = cache.x, cache.w, cache.has_bias
    (SH, SW), (PH, PW) = cache.stride, cache.padding
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    dout = np.asarray(dout, dtype=x.dtype)
    OH, OW = dout.shape[2], dout.shape[3]
    x_pad = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(OH):
                for j in range(OW):
                    window = x_pad[n, :, i * SH:i * SH + KH, j * SW:j * SW + KW]
                    dw[f] += dout[n, f, i, j] * window
    if (SH, SW) == (1, 1):
        # Each input pixel touched the kernel at every offset: a full convolution with the
        # flipped kernel collects all of them.
        for n in range(N):
            for c in range(C):
                for f in range(F):
                    dx_pad[n, c] += full_convolve2d(dout[n, f], rot180(w[f, c]))
    else:
        for n in range(N):
            for f in range(F):
                for i in range(OH):
                    for j in range(OW):
                        dx_pad[n, :, i * SH:i * SH + KH, j * SW:j * SW + KW] += dout[n, f, i, j] * w[f]
    dx = np.ascontiguousarray(dx_pad[:, :, PH:PH + H, PW:PW + W])
    db = dout.sum(axis=(0, 2, 3)) if has_bias else None
    return dx, dw, db


# ----------------------------------------------------------------------------------------
# The pair everything else calls: the same formulas, computed by dlcore._fast_conv.
# ----------------------------------------------------------------------------------------

def conv2d_forward(x, w, b, stride=1, padding=0):
    """Convolution (cross-correlation) forward pass: the same numbers as torch.nn.functional.conv2d.

    out[n, f, i, j] = b[f] + sum_{c, a, e} x_pad[n, c, S_h*i + a, S_w*j + e] * w[f, c, a, e]
    Shapes: x (N, C, H, W), w (F, C, KH, KW), b (F,) or None; stride, padding an int or a pair
    -> out (N, F, OH, OW) with OH = floor((H + 2P - KH) / S) + 1. Returns (out, cache).

    What :func:`conv2d_forward_loops` computes, done quickly by im2col and matrix products
    (:mod:`dlcore._fast_conv`).
    """
    x, w, b, stride, padding = _check_args("conv2d_forward", x, w, b, stride, padding)
    out, fast = _fast.conv2d_forward_im2col(x, w, b, stride, padding)
    return out, ConvCache(x, w, b is not None, stride, padding, fast)


def conv2d_backward(dout, cache):
    """Convolution backward pass: returns (dx, dw, db) (db is None without a bias).

    dw[f] = sum_{n, i, j} dout[n, f, i, j] * window(n, i, j);   db[f] = sum_{n, i, j} dout[n, f, i, j]
    dx[n, c] = the sum over f of every dout[n, f, i, j] * w[f, c] placed back on its window
               (for stride 1: full_convolve2d(dout[n, f], rot180(w[f, c])), cropped by the padding).
    Shapes: dout (N, F, OH, OW) -> dx (N, C, H, W), dw (F, C, KH, KW), db (F,).

    What :func:`conv2d_backward_loops` computes, done quickly (:mod:`dlcore._fast_conv`: two
    matrix products and "col2im", one strided add per kernel offset).
    """
    x, w = cache.x, cache.w
    N, F = x.shape[0], w.shape[0]
    (SH, SW), (PH, PW) = cache.stride, cache.padding
    OH = conv_output_size(x.shape[2], w.shape[2], SH, PH)
    OW = conv_output_size(x.shape[3], w.shape[3], SW, PW)
    dout = np.asarray(dout)
    if dout.shape != (N, F, OH, OW):
        raise ValueError(f"conv2d_backward: dout must have shape {(N, F, OH, OW)}, got {dout.shape}")
    return _fast.conv2d_backward_col2im(dout, x, w, cache.has_bias, cache.stride, cache.padding, cache.fast)
