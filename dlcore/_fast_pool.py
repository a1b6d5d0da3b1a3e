"""The fast pooling kernels behind :mod:`dlcore.pooling`'s ``max_pool2d_*`` and ``avg_pool2d_*``.

``dlcore/pooling.py`` is what a student reads: the formulas, the shapes, the loop version of each
forward/backward pair. This module computes the same numbers quickly (the split of CS231n's
``layers.py`` and ``fast_layers.py``); ``tests/test_pooling.py`` checks it against the loops and
against PyTorch.

The kernels never copy a window: a window max (or sum) is separable, first over the KW columns of
each window row, then over KH rows, each step one strided view per offset, done on about 1 MB of
planes at a time so that every pass hits the cache. Max-pool backward is a single weighted
histogram of the switches (``np.bincount``), which also sums the gradients of overlapping windows
that share a maximum. The arguments are checked by :mod:`dlcore.pooling` before they get here.
"""
from __future__ import annotations

import numpy as np


def _planes_per_chunk(M, H, W, itemsize):
    """How many (H, W) planes to pool at once: about 1 MB, so all KH*KW passes hit the cache."""
    return max(1, min(M, (1 << 20) // (H * W * itemsize)))


def _blend(k, new, bigger, tmp):
    """k ← new where ``bigger``, else k; branch-free: k += bigger·(new − k) (masked copies are 10x slower)."""
    np.subtract(new, k, out=tmp)
    tmp *= bigger
    k += tmp


# ----------------------------------------------------------------------------------------
# Max pooling
# ----------------------------------------------------------------------------------------

def max_pool2d_forward_strided(x, KH, KW, SH, SW):
    """Window maxima and switches of x (N, C, H, W): returns ``out`` and ``switches``, (N, C, OH, OW).

    A switch is the flat index (row * W + col) into the (H, W) plane of the window's first maximum.
    """
    N, C, H, W = x.shape
    OH, OW = (H - KH) // SH + 1, (W - KW) // SW + 1
    M = N * C
    xr = x.reshape(M, H, W)
    out = np.empty((M, OH, OW), dtype=x.dtype)
    switches = np.empty((M, OH, OW), dtype=np.int64)
    nb = _planes_per_chunk(M, H, W, x.itemsize)
    # The max is separable: first over the KW columns of each window row (h), then over the
    # KH rows. Ties: a strict ">" keeps the first column of a row and then the first row,
    # which is the first maximum in row-major order. Winning positions are tracked with
    # small integers blended in where a new maximum wins (_blend).
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
            _blend(cs, e, g8, t)
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
            _blend(r, a, g8, t)
            _blend(c, cv, g8, t)
        q = switches[s:s + m]
        np.multiply(r, W, out=q)
        q += c
        q += corner
    return out.reshape(N, C, OH, OW), switches.reshape(N, C, OH, OW)


def max_pool2d_backward_bincount(dout, switches, x_shape, dtype):
    """dx (x_shape) with each dout added at its window's switch: one weighted ``np.bincount``."""
    N, C, H, W = x_shape
    where = switches + (np.arange(N * C, dtype=np.int64) * (H * W)).reshape(N, C, 1, 1)
    # bincount adds repeated indices (overlapping windows sharing a maximum) in one pass.
    dx = np.bincount(where.ravel(), weights=dout.ravel(), minlength=N * C * H * W)
    return dx.reshape(N, C, H, W).astype(dtype, copy=False)


# ----------------------------------------------------------------------------------------
# Average pooling
# ----------------------------------------------------------------------------------------

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
    O = src.shape[axis]

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


def avg_pool2d_forward_strided(x, KH, KW, SH, SW):
    """Window means of x (N, C, H, W): returns out (N, C, OH, OW)."""
    N, C, H, W = x.shape
    OH, OW = (H - KH) // SH + 1, (W - KW) // SW + 1
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
    return out.reshape(N, C, OH, OW)


def avg_pool2d_backward_spread(dout, x_shape, KH, KW, SH, SW, dtype):
    """dx (x_shape): every window's dout / (KH·KW) spread back over the window."""
    N, C, H, W = x_shape
    OH, OW = dout.shape[2], dout.shape[3]
    M = N * C
    dtype = np.dtype(dtype)
    dout = dout.reshape(M, OH, OW)
    dx = np.empty((M, H, W), dtype=dtype)
    nb = _planes_per_chunk(M, H, W, dtype.itemsize)
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
