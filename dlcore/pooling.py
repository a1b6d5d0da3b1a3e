"""2-D max and average pooling (chapter 7: the forward pass; chapter 8: backpropagation through it).

Semantics are those of ``torch.nn.functional.max_pool2d`` / ``avg_pool2d`` without padding:
``stride=None`` means ``stride = kernel_size``; windows may overlap (stride < kernel);
the output size rounds down, OH = floor((H - KH) / S) + 1; a max-pool window whose maximum
is tied sends its gradient to the first maximum in row-major order, as PyTorch does.

The max-pool "switches" (where each maximum came from) are stored as flat indices into each
(H, W) plane, the same numbers as ``max_pool2d(..., return_indices=True)``.

The ``*_loops`` functions are the readable versions the chapter 8 exercises mirror; the others
are vectorised. They never copy a window: a window max (or sum) is separable, first over the
KW columns of each window row, then over KH rows, each step one strided view per offset, done
on about 1 MB of planes at a time so that every pass hits the cache. Max-pool backward is a
single weighted histogram of the switches (``np.bincount``), which also sums the gradients of
overlapping windows that share a maximum.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, check_ndim, pair


class PoolCache(NamedTuple):
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


def _planes_per_chunk(M, H, W, itemsize):
    """How many (H, W) planes to pool at once: about 1 MB, so all KH*KW passes hit the cache."""
    return max(1, min(M, (1 << 20) // (H * W * itemsize)))


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


def max_pool2d_forward(x, kernel_size, stride=None):
    """Max pooling, vectorised: out[n, c, i, j] = max_{a<KH, e<KW} x[n, c, S_h*i + a, S_w*j + e].

    Shapes: x (N, C, H, W); kernel_size, stride an int or a pair (stride None = kernel_size)
    -> out (N, C, OH, OW), OH = floor((H - KH) / S_h) + 1. Returns (out, cache).
    """
    x, (KH, KW), (SH, SW) = _check_args("max_pool2d_forward", x, kernel_size, stride)
    N, C, H, W = x.shape
    OH, OW = _out_size(H, W, KH, KW, SH, SW)
    M = N * C
    xr = x.reshape(M, H, W)
    out = np.empty((M, OH, OW), dtype=x.dtype)
    switches = np.empty((M, OH, OW), dtype=np.int64)
    nb = _planes_per_chunk(M, H, W, x.itemsize)
    # The max is separable: first over the KW columns of each window row (h), then over the
    # KH rows. Ties: a strict ">" keeps the first column of a row and then the first row,
    # which is the first maximum in row-major order. Winning positions are tracked with
    # branch-free int8 blends (k += bigger * (new - k)); masked copies are 10x slower.
    h = np.empty((nb, H, OW), dtype=x.dtype)
    small = np.int8 if max(KH, KW) < 128 else np.int32
    col = np.empty((nb, H, OW), dtype=small)
    bigger = np.empty((nb, H, OW), dtype=bool)
    tmp = np.empty((nb, H, OW), dtype=small)
    row_k = np.empty((nb, OH, OW), dtype=small)
    col_k = np.empty((nb, OH, OW), dtype=small)
    corner = np.arange(OH)[:, None] * (SH * W) + np.arange(OW)[None, :] * SW
    for s in range(0, M, nb):
        m = min(nb, M - s)
        xs, hs, cs = xr[s:s + m], h[:m], col[:m]
        g, t = bigger[:m], tmp[:m]
        g8 = g.view(np.int8) if small is np.int8 else g
        hs[...] = xs[:, :, 0:SW * (OW - 1) + 1:SW]
        cs[...] = 0
        for e in range(1, KW):
            v = xs[:, :, e:e + SW * (OW - 1) + 1:SW]
            np.greater(v, hs, out=g)
            np.maximum(hs, v, out=hs)
            np.subtract(e, cs, out=t); t *= g8; cs += t
        o, r, c = out[s:s + m], row_k[:m], col_k[:m]
        g, t = bigger[:m, :OH], tmp[:m, :OH]
        g8 = g.view(np.int8) if small is np.int8 else g
        rows = slice(0, SH * (OH - 1) + 1, SH)
        o[...] = hs[:, rows]
        r[...] = 0
        c[...] = cs[:, rows]
        for a in range(1, KH):
            rows = slice(a, a + SH * (OH - 1) + 1, SH)
            v, cv = hs[:, rows], cs[:, rows]
            np.greater(v, o, out=g)
            np.maximum(o, v, out=o)
            np.subtract(a, r, out=t); t *= g8; r += t
            np.subtract(cv, c, out=t); t *= g8; c += t
        q = switches[s:s + m]
        np.multiply(r, W, out=q)
        q += c
        q += corner
    return (out.reshape(N, C, OH, OW),
            PoolCache(x.shape, (KH, KW), (SH, SW), switches.reshape(N, C, OH, OW), x.dtype))


def max_pool2d_backward(dout, cache):
    """Max pooling backward, vectorised: dx gets each dout at its window's (first) maximum, summed over windows.

    dx.flat[plane * H*W + switch] += dout  (a histogram of switches weighted by dout: np.bincount)
    Shapes: dout (N, C, OH, OW) -> dx (N, C, H, W).
    """
    dout, (N, C, H, W), _, _, _ = _check_dout("max_pool2d_backward", dout, cache)
    where = cache.switches + (np.arange(N * C, dtype=np.int64) * (H * W)).reshape(N, C, 1, 1)
    # bincount adds repeated indices (overlapping windows sharing a maximum) in one pass.
    dx = np.bincount(where.ravel(), weights=dout.ravel(), minlength=N * C * H * W)
    return dx.reshape(N, C, H, W).astype(cache.dtype, copy=False)


def _window_sum(terms, out):
    """out = sum of the equally shaped views in ``terms`` (at least one), in len(terms) - 1 passes."""
    if len(terms) == 1:
        np.copyto(out, terms[0])
        return
    np.add(terms[0], terms[1], out=out)
    for t in terms[2:]:
        out += t


def _spread(src, dst, axis, K, S):
    """dst = the transpose of a K-tap, stride-S window sum along ``axis``: dst[S*i + a] = sum of src[i].

    ``dst`` is written phase by phase: rows r = ph, ph + S, ... (a view T) receive the taps
    a = ph, ph + S, ... (a = ph + S*k), which put src[i] at T[i + k] for k = 0, 1, ... So
    T = src placed at shifts 0, 1, ..., nk - 1, summed: the first two together in one pass,
    every element of dst written (not zeroed and then added to).
    """
    O, U_all = src.shape[axis], dst.shape[axis]

    def at(a, sl):
        idx = [slice(None)] * a.ndim
        idx[axis] = sl
        return a[tuple(idx)]

    for ph in range(S):
        T = at(dst, slice(ph, None, S))
        U = T.shape[axis]
        nk = len(range(ph, K, S))
        if nk == 0:
            T[...] = 0
            continue
        if nk == 1:
            np.copyto(at(T, slice(0, O)), src)
        else:
            np.copyto(at(T, slice(0, 1)), at(src, slice(0, 1)))
            np.add(at(src, slice(1, None)), at(src, slice(0, O - 1)), out=at(T, slice(1, O)))
            np.copyto(at(T, slice(O, O + 1)), at(src, slice(O - 1, O)))
            for k in range(2, nk):
                view = at(T, slice(k, k + O - 1))
                view += at(src, slice(0, O - 1))
                np.copyto(at(T, slice(k + O - 1, k + O)), at(src, slice(O - 1, O)))
        if U > nk - 1 + O:
            at(T, slice(nk - 1 + O, None))[...] = 0


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


def avg_pool2d_forward(x, kernel_size, stride=None):
    """Average pooling, vectorised: out[n, c, i, j] = (1 / (KH*KW)) sum_{a, e} x[n, c, S_h*i + a, S_w*j + e].

    Shapes: x (N, C, H, W); kernel_size, stride an int or a pair (stride None = kernel_size)
    -> out (N, C, OH, OW). Returns (out, cache).
    """
    x, (KH, KW), (SH, SW) = _check_args("avg_pool2d_forward", x, kernel_size, stride)
    N, C, H, W = x.shape
    OH, OW = _out_size(H, W, KH, KW, SH, SW)
    M = N * C
    xr = x.reshape(M, H, W)
    out = np.empty((M, OH, OW), dtype=x.dtype)
    nb = _planes_per_chunk(M, H, W, x.itemsize)
    h = np.empty((nb, H, OW), dtype=x.dtype)
    # Separable: sum the KW columns of every window row, then KH of those rows. The first two
    # terms of each sum are added straight into the buffer (no copy, then add).
    for s in range(0, M, nb):
        m = min(nb, M - s)
        xs, hs, o = xr[s:s + m], h[:m], out[s:s + m]
        _window_sum([xs[:, :, e:e + SW * (OW - 1) + 1:SW] for e in range(KW)], hs)
        _window_sum([hs[:, a:a + SH * (OH - 1) + 1:SH] for a in range(KH)], o)
    out *= x.dtype.type(1.0 / (KH * KW))
    return out.reshape(N, C, OH, OW), PoolCache(x.shape, (KH, KW), (SH, SW), None, x.dtype)


def avg_pool2d_backward(dout, cache):
    """Average pooling backward, vectorised: dx[window] += dout / (KH*KW) for every window.

    Shapes: dout (N, C, OH, OW) -> dx (N, C, H, W).
    """
    dout, (N, C, H, W), (KH, KW), (SH, SW), (OH, OW) = _check_dout("avg_pool2d_backward", dout, cache)
    M = N * C
    dtype = cache.dtype
    dout = dout.reshape(M, OH, OW)
    dx = np.empty((M, H, W), dtype=dtype)
    nb = _planes_per_chunk(M, H, W, np.dtype(dtype).itemsize)
    dh = np.empty((nb, H, OW), dtype=dtype)
    share = np.empty((nb, OH, OW), dtype=dtype)
    # The transpose of the separable forward: spread over the KH rows, then over the KW columns,
    # each written phase by phase (see _spread), so that every element is written once.
    for s in range(0, M, nb):
        m = min(nb, M - s)
        d, dxs, sh = dh[:m], dx[s:s + m], share[:m]
        np.multiply(dout[s:s + m], dtype.type(1.0 / (KH * KW)), out=sh)
        _spread(sh, d, 1, KH, SH)
        _spread(d, dxs, 2, KW, SW)
    return dx.reshape(N, C, H, W)
