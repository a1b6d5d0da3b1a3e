"""The fast convolution kernels behind :func:`dlcore.conv.conv2d_forward` / ``conv2d_backward``.

``dlcore/conv.py`` is what a student reads: the formulas, the shapes, and the loop version of the
forward/backward pair. This module is how the same numbers are computed quickly (the split of
CS231n's ``layers.py`` and ``fast_layers.py``); ``tests/test_conv.py`` checks it against the loops
and against PyTorch.

The method: im2col + one GEMM per chunk of images, col2im by strided adds. The padded input is
first split by stride phase: x_phases[n, c, a, e, u, v] = x_pad[n, c, SH*u + a, SW*v + e] (for
stride 1 this is just x_pad). Kernel offset (p, q) then reads phase (p % SH, q % SW) at rows
i + p // SH, columns j + q // SW: a stride-1 window. Each output row is computed over the whole
phase width Vq (not just OW), so that the im2col row of one (channel, offset) is ONE contiguous
run of the phase plane, a fast copy, and so is its col2im add. The Vq - OW extra columns are
thrown away in the forward and are zero in the backward; a guard row below the planes keeps the
last runs in bounds. Float32 stays float32 throughout.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

# Bytes of im2col matrix handled per GEMM: a chunk that stays in the last-level cache keeps
# the copy, the product and the col2im adds from going to main memory (measured best at 4-8 MB).
_CHUNK_BYTES = 6 << 20
# The forward keeps its im2col matrix for the backward when it is at most this big; larger
# ones are rebuilt chunk by chunk in the backward, which costs one more copy but no memory.
_KEEP_BYTES = 16 << 20


class Geometry(NamedTuple):
    """Every size the kernels need, computed once from the shapes, stride and padding."""

    N: int
    C: int
    H: int
    W: int
    F: int
    KH: int
    KW: int
    SH: int
    SW: int
    PH: int
    PW: int
    OH: int    # output rows
    OW: int    # output columns
    Hq: int    # rows of a phase plane, plus the guard row
    Vq: int    # columns of a phase plane

    @property
    def K(self) -> int:
        """Rows of the im2col matrix: C·KH·KW."""
        return self.C * self.KH * self.KW

    @property
    def L(self) -> int:
        """Columns of the im2col matrix per image: OH·Vq (each output row over the phase width)."""
        return self.OH * self.Vq


class FastState(NamedTuple):
    """What the forward keeps for the backward: the im2col matrix when it is small enough,
    else the phase split of the padded input it is rebuilt from."""

    cols: np.ndarray | None       # (C, KH, KW, N, L)
    x_phases: np.ndarray | None   # (N, C, SH, SW, Hq·Vq)


def geometry(x_shape, w_shape, stride, padding) -> Geometry:
    N, C, H, W = x_shape
    F, _, KH, KW = w_shape
    (SH, SW), (PH, PW) = stride, padding
    Hp, Wp = H + 2 * PH, W + 2 * PW
    OH, OW = (Hp - KH) // SH + 1, (Wp - KW) // SW + 1
    Hq, Vq = -(-Hp // SH) + 1, -(-Wp // SW)
    return Geometry(N, C, H, W, F, KH, KW, SH, SW, PH, PW, OH, OW, Hq, Vq)


def _phase_slices(g: Geometry):
    """For each phase (a, e): the slice of x's rows/columns that lands in it and where it lands."""
    for a in range(g.SH):
        h0 = (a - g.PH) % g.SH
        nh = len(range(h0, g.H, g.SH))
        u0 = (h0 + g.PH) // g.SH
        for e in range(g.SW):
            w0 = (e - g.PW) % g.SW
            nw = len(range(w0, g.W, g.SW))
            v0 = (w0 + g.PW) // g.SW
            yield a, e, (slice(h0, g.H, g.SH), slice(w0, g.W, g.SW)), (slice(u0, u0 + nh), slice(v0, v0 + nw))


def _phase_split(x, g: Geometry):
    xq = np.zeros((g.N, g.C, g.SH, g.SW, g.Hq, g.Vq), dtype=x.dtype)
    for a, e, (rows, cols), (u, v) in _phase_slices(g):
        xq[:, :, a, e, u, v] = x[:, :, rows, cols]
    return xq.reshape(g.N, g.C, g.SH, g.SW, g.Hq * g.Vq)


def _offsets(g: Geometry):
    """(p, q, phase a, phase e, start of the run in the flat phase plane) for every kernel offset."""
    return [(p, q, p % g.SH, q % g.SW, (p // g.SH) * g.Vq + q // g.SW)
            for p in range(g.KH) for q in range(g.KW)]


def _im2col(xq, s, m, g: Geometry, offsets, out):
    """out[c, p, q, n, i*Vq + j] = x_phases of image s + n under offset (p, q) at output (i, j)."""
    L = g.L
    for p, q, a, e, start in offsets:
        np.copyto(out[:, p, q], xq[s:s + m, :, a, e, start:start + L].transpose(1, 0, 2))


def _chunk(K, L, itemsize, N):
    return max(1, min(N, _CHUNK_BYTES // max(K * L * itemsize, 1)))


def conv2d_forward_im2col(x, w, b, stride, padding) -> tuple[np.ndarray, FastState]:
    """out = conv2d(x, w, b) by im2col and GEMMs, for checked arrays of one dtype; returns (out, state)."""
    g = geometry(x.shape, w.shape, stride, padding)
    N, F, K, L, dtype = g.N, g.F, g.K, g.L, x.dtype
    xq = _phase_split(x, g)
    offsets = _offsets(g)
    w2 = w.reshape(F, K)
    out = np.empty((N, F, g.OH, g.OW), dtype=dtype)
    keep = K * N * L * x.itemsize <= _KEEP_BYTES
    nb = N if keep else _chunk(K, L, x.itemsize, N)
    cols = np.empty((g.C, g.KH, g.KW, nb, L), dtype=dtype)
    for s in range(0, N, nb):
        m = min(nb, N - s)
        c = cols[:, :, :, :m]
        _im2col(xq, s, m, g, offsets, c)
        o = (w2 @ c.reshape(K, m * L)).reshape(F, m, g.OH, g.Vq)[..., :g.OW].transpose(1, 0, 2, 3)
        if b is not None:  # added while cropping: one pass over the output instead of two
            np.add(o, b[:, None, None], out=out[s:s + m])
        else:
            out[s:s + m] = o
    return out, FastState(cols=cols if keep else None, x_phases=None if keep else xq)


def conv2d_backward_col2im(dout, x, w, has_bias: bool, stride, padding, state: FastState | None):
    """(dx, dw, db) of conv2d by GEMMs and col2im; ``state`` from the forward, or None to rebuild it."""
    g = geometry(x.shape, w.shape, stride, padding)
    N, C, F, K, L, dtype = g.N, g.C, g.F, g.K, g.L, x.dtype
    offsets = _offsets(g)
    kept, xq = (None, None) if state is None else state
    if kept is None and xq is None:  # a cache from conv2d_forward_loops
        xq = _phase_split(x, g)
    db = dout.sum(axis=(0, 2, 3), dtype=dtype) if has_bias else None
    w2t = np.ascontiguousarray(w.reshape(F, K).T)
    dwt = np.zeros((K, F), dtype=dtype)
    # dxq is not zeroed up front: each phase's first offset (p, q) = (a, e), whose run starts
    # at 0, is copied in rather than added, and only what no first run covers is zeroed.
    dxq = np.empty((N, C, g.SH, g.SW, g.Hq * g.Vq), dtype=dtype)
    first = {}
    for p, q, a, e, start in offsets:
        first.setdefault((a, e), (p, q))
    for a in range(g.SH):
        for e in range(g.SW):
            if (a, e) in first:
                dxq[:, :, a, e, L:] = 0
            else:  # a stride larger than the kernel: no offset lands in this phase
                dxq[:, :, a, e] = 0
    nb = N if kept is not None else _chunk(K, L, x.itemsize, N)
    cols = kept if kept is not None else np.empty((C, g.KH, g.KW, nb, L), dtype=dtype)
    # dout of a chunk as (F, m, OH, Vq): the columns beyond OW are zero so they add nothing.
    d = np.zeros((F, nb, g.OH, g.Vq), dtype=dtype)
    for s in range(0, N, nb):
        m = min(nb, N - s)
        d[:, :m, :, :g.OW] = dout[s:s + m].transpose(1, 0, 2, 3)
        dm = d[:, :m].reshape(F, m * L)
        c = cols[:, :, :, :m]
        if kept is None:
            _im2col(xq, s, m, g, offsets, c)
        # cols @ dm^T rather than dm @ cols^T: the same numbers, and BLAS runs this
        # orientation (long contiguous rows on both sides) about 20% faster.
        dwt += c.reshape(K, m * L) @ dm.T
        dcols = (w2t @ dm).reshape(C, g.KH, g.KW, m, L)
        for p, q, a, e, start in offsets:
            # One offset's runs never overlap each other, so this in-place add is safe;
            # different offsets overlap and are therefore added one after another.
            t = dxq[s:s + m, :, a, e, start:start + L].transpose(1, 0, 2)
            if first[a, e] == (p, q):
                np.copyto(t, dcols[:, p, q])
            else:
                np.add(t, dcols[:, p, q], out=t)
    dxq = dxq.reshape(N, C, g.SH, g.SW, g.Hq, g.Vq)
    dx = np.empty((N, C, g.H, g.W), dtype=dtype)
    for a, e, (rows, cols_), (u, v) in _phase_slices(g):
        dx[:, :, rows, cols_] = dxq[:, :, a, e, u, v]
    return dx, np.ascontiguousarray(dwt.T).reshape(w.shape), db
