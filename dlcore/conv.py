"""2-D convolution (chapter 7: the forward pass; chapter 8: backpropagation through it).

"Convolution" here is cross-correlation, exactly as ``torch.nn.functional.conv2d``::

    out[n, f, i, j] = b[f] + sum_{c, a, e} x_pad[n, c, S_h*i + a, S_w*j + e] * w[f, c, a, e]

Two implementations of the same pair live here:

* ``conv2d_forward_loops`` / ``conv2d_backward_loops``: plain loops to read line by line; the
  chapter 7/8 exercises mirror them. The backward's ``dx`` is written, for stride 1, as the
  *full* convolution of the upstream gradient with the kernel rotated by 180 degrees.
* ``conv2d_forward`` / ``conv2d_backward``: the fast version everything else uses. It copies
  the input windows into a matrix ("im2col") and does one matrix product (GEMM) per chunk of
  images; the backward's ``dx`` adds the columns back, one strided add per kernel offset
  ("col2im"). Float32 stays float32 throughout.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, check_ndim, pair

# Bytes of im2col matrix handled per GEMM: a chunk that stays in the last-level cache keeps
# the copy, the product and the col2im adds from going to main memory (measured best at 4-8 MB).
_CHUNK_BYTES = 6 << 20
# The forward keeps its im2col matrix for the backward when it is at most this big; larger
# ones are rebuilt chunk by chunk in the backward, which costs one more copy but no memory.
_KEEP_BYTES = 16 << 20


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
    x: np.ndarray         # (N, C, H, W), the input as the forward saw it (not a copy)
    w: np.ndarray         # (F, C, KH, KW)
    has_bias: bool
    stride: tuple         # (SH, SW)
    padding: tuple        # (PH, PW)
    # Fast version only: the im2col matrix when it is small enough to keep, else the
    # stride-phase split of the padded input it is rebuilt from (see _phase_split).
    cols: np.ndarray | None = None
    x_phases: np.ndarray | None = None


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
# The fast version: im2col + one GEMM per chunk of images, col2im by strided adds.
# ----------------------------------------------------------------------------------------
#
# The padded input is first split by stride phase: x_phases[n, c, a, e, u, v] =
# x_pad[n, c, SH*u + a, SW*v + e] (for stride 1 this is just x_pad). Kernel offset (p, q) then
# reads phase (p % SH, q % SW) at rows i + p // SH, columns j + q // SW: a stride-1 window.
# Each output row is computed over the whole phase width Vq (not just OW), so that the
# im2col row of one (channel, offset) is ONE contiguous run of the phase plane, a fast copy,
# and so is its col2im add. The Vq - OW extra columns are thrown away in the forward and are
# zero in the backward; a guard row below the planes keeps the last runs in bounds.


def _geometry(x_shape, w_shape, stride, padding):
    N, C, H, W = x_shape
    F, _, KH, KW = w_shape
    (SH, SW), (PH, PW) = stride, padding
    Hp, Wp = H + 2 * PH, W + 2 * PW
    OH, OW = (Hp - KH) // SH + 1, (Wp - KW) // SW + 1
    Hq, Vq = -(-Hp // SH) + 1, -(-Wp // SW)  # phase plane: rows (plus the guard row), columns
    return N, C, H, W, F, KH, KW, SH, SW, PH, PW, OH, OW, Hq, Vq


def _phase_slices(H, W, PH, PW, SH, SW):
    """For each phase (a, e): the slice of x's rows/columns that lands in it and where it lands."""
    for a in range(SH):
        h0 = (a - PH) % SH
        nh = len(range(h0, H, SH))
        u0 = (h0 + PH) // SH
        for e in range(SW):
            w0 = (e - PW) % SW
            nw = len(range(w0, W, SW))
            v0 = (w0 + PW) // SW
            yield a, e, (slice(h0, H, SH), slice(w0, W, SW)), (slice(u0, u0 + nh), slice(v0, v0 + nw))


def _phase_split(x, g):
    N, C, H, W, F, KH, KW, SH, SW, PH, PW, OH, OW, Hq, Vq = g
    xq = np.zeros((N, C, SH, SW, Hq, Vq), dtype=x.dtype)
    for a, e, (rows, cols), (u, v) in _phase_slices(H, W, PH, PW, SH, SW):
        xq[:, :, a, e, u, v] = x[:, :, rows, cols]
    return xq.reshape(N, C, SH, SW, Hq * Vq)


def _offsets(g):
    """(p, q, phase a, phase e, start of the run in the flat phase plane) for every kernel offset."""
    N, C, H, W, F, KH, KW, SH, SW, PH, PW, OH, OW, Hq, Vq = g
    return [(p, q, p % SH, q % SW, (p // SH) * Vq + q // SW) for p in range(KH) for q in range(KW)]


def _im2col(xq, s, m, g, offsets, out):
    """out[c, p, q, n, i*Vq + j] = x_phases of image s + n under offset (p, q) at output (i, j)."""
    OH, Vq = g[11], g[14]
    L = OH * Vq
    for p, q, a, e, start in offsets:
        np.copyto(out[:, p, q], xq[s:s + m, :, a, e, start:start + L].transpose(1, 0, 2))


def _chunk(K, L, itemsize, N):
    return max(1, min(N, _CHUNK_BYTES // max(K * L * itemsize, 1)))


def conv2d_forward(x, w, b, stride=1, padding=0):
    """Convolution (cross-correlation) forward pass, vectorised: the same numbers as torch.nn.functional.conv2d.

    out[n, f, i, j] = b[f] + sum_{c, a, e} x_pad[n, c, S_h*i + a, S_w*j + e] * w[f, c, a, e]
    Shapes: x (N, C, H, W), w (F, C, KH, KW), b (F,) or None; stride, padding an int or a pair
    -> out (N, F, OH, OW) with OH = floor((H + 2P - KH) / S) + 1. Returns (out, cache).
    """
    x, w, b, stride, padding = _check_args("conv2d_forward", x, w, b, stride, padding)
    g = _geometry(x.shape, w.shape, stride, padding)
    N, C, H, W, F, KH, KW, SH, SW, PH, PW, OH, OW, Hq, Vq = g
    K, L, dtype = C * KH * KW, OH * Vq, x.dtype
    xq = _phase_split(x, g)
    offsets = _offsets(g)
    w2 = w.reshape(F, K)
    out = np.empty((N, F, OH, OW), dtype=dtype)
    keep = K * N * L * x.itemsize <= _KEEP_BYTES
    nb = N if keep else _chunk(K, L, x.itemsize, N)
    cols = np.empty((C, KH, KW, nb, L), dtype=dtype)
    for s in range(0, N, nb):
        m = min(nb, N - s)
        c = cols[:, :, :, :m]
        _im2col(xq, s, m, g, offsets, c)
        o = (w2 @ c.reshape(K, m * L)).reshape(F, m, OH, Vq)[..., :OW].transpose(1, 0, 2, 3)
        if b is not None:  # added while cropping: one pass over the output instead of two
            np.add(o, b[:, None, None], out=out[s:s + m])
        else:
            out[s:s + m] = o
    cache = ConvCache(x, w, b is not None, stride, padding,
                      cols=cols if keep else None, x_phases=None if keep else xq)
    return out, cache


def conv2d_backward(dout, cache):
    """Convolution backward pass, vectorised: returns (dx, dw, db) (db is None without a bias).

    dw = dout_mat @ cols^T,  dcols = w_mat^T @ dout_mat,  dx = col2im(dcols),  db = sum_{n,i,j} dout
    Shapes: dout (N, F, OH, OW) -> dx (N, C, H, W), dw (F, C, KH, KW), db (F,).
    """
    x, w = cache.x, cache.w
    g = _geometry(x.shape, w.shape, cache.stride, cache.padding)
    N, C, H, W, F, KH, KW, SH, SW, PH, PW, OH, OW, Hq, Vq = g
    dout = np.asarray(dout)
    if dout.shape != (N, F, OH, OW):
        raise ValueError(f"conv2d_backward: dout must have shape {(N, F, OH, OW)}, got {dout.shape}")
    K, L, dtype = C * KH * KW, OH * Vq, x.dtype
    offsets = _offsets(g)
    kept, xq = cache.cols, cache.x_phases
    if kept is None and xq is None:  # a cache from conv2d_forward_loops
        xq = _phase_split(x, g)
    db = dout.sum(axis=(0, 2, 3), dtype=dtype) if cache.has_bias else None
    w2t = np.ascontiguousarray(w.reshape(F, K).T)
    dwt = np.zeros((K, F), dtype=dtype)
    # dxq is not zeroed up front: each phase's first offset (p, q) = (a, e), whose run starts
    # at 0, is copied in rather than added, and only what no first run covers is zeroed.
    dxq = np.empty((N, C, SH, SW, Hq * Vq), dtype=dtype)
    first = {}
    for p, q, a, e, start in offsets:
        first.setdefault((a, e), (p, q))
    for a in range(SH):
        for e in range(SW):
            if (a, e) in first:
                dxq[:, :, a, e, L:] = 0
            else:  # a stride larger than the kernel: no offset lands in this phase
                dxq[:, :, a, e] = 0
    nb = N if kept is not None else _chunk(K, L, x.itemsize, N)
    cols = kept if kept is not None else np.empty((C, KH, KW, nb, L), dtype=dtype)
    # dout of a chunk as (F, m, OH, Vq): the columns beyond OW are zero so they add nothing.
    d = np.zeros((F, nb, OH, Vq), dtype=dtype)
    for s in range(0, N, nb):
        m = min(nb, N - s)
        d[:, :m, :, :OW] = dout[s:s + m].transpose(1, 0, 2, 3)
        dm = d[:, :m].reshape(F, m * L)
        c = cols[:, :, :, :m]
        if kept is None:
            _im2col(xq, s, m, g, offsets, c)
        # cols @ dm^T rather than dm @ cols^T: the same numbers, and BLAS runs this
        # orientation (long contiguous rows on both sides) about 20% faster.
        dwt += c.reshape(K, m * L) @ dm.T
        dcols = (w2t @ dm).reshape(C, KH, KW, m, L)
        for p, q, a, e, start in offsets:
            # One offset's runs never overlap each other, so this in-place add is safe;
            # different offsets overlap and are therefore added one after another.
            t = dxq[s:s + m, :, a, e, start:start + L].transpose(1, 0, 2)
            if first[a, e] == (p, q):
                np.copyto(t, dcols[:, p, q])
            else:
                np.add(t, dcols[:, p, q], out=t)
    dxq = dxq.reshape(N, C, SH, SW, Hq, Vq)
    dx = np.empty((N, C, H, W), dtype=dtype)
    for a, e, (rows, cols_), (u, v) in _phase_slices(H, W, PH, PW, SH, SW):
        dx[:, :, rows, cols_] = dxq[:, :, a, e, u, v]
    return dx, np.ascontiguousarray(dwt.T).reshape(w.shape), db
