"""Chapter 8 (CNN backprop): the error term δ flowing back through conv → ReLU → pool, from dlcore.

numpy only; the figures and the explorer are in :mod:`dlcore.explorers.ch08`.
"""
from __future__ import annotations

import numpy as np

from dlcore.chapters.images import kernel_bank, load_input  # noqa: F401 - chapter 7's photo and kernels, for chapter 8


POOL_K = 2


def stack_input(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The explorer's seeded x (1, 1, 8, 8) and kernel w (1, 1, 3, 3), one decimal each, b = 0."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(0.0, 1.0, size=(1, 1, 8, 8)), 1)
    w = np.round(rng.normal(0.0, 0.7, size=(1, 1, 3, 3)), 1)
    return x, w, np.zeros(1)


def top_delta(shape: tuple[int, ...], pattern: str, row: int, col: int, seed: int = 0) -> np.ndarray:
    """δ at the pool output: a one in cell (row, col), all ones, or seeded random (one decimal)."""
    d = np.zeros(shape)
    if pattern == "one cell":
        d[0, 0, min(row, shape[2] - 1), min(col, shape[3] - 1)] = 1.0
    elif pattern == "all ones":
        d[:] = 1.0
    elif pattern == "random":
        d[:] = np.round(np.random.default_rng(seed + 1000).normal(size=shape), 1)
    else:
        raise ValueError(f"top_delta: pattern must be 'one cell', 'all ones' or 'random', got {pattern!r}")
    return d


def backflow(x, w, b, delta_top, pool: str = "max", padding: int = 0) -> dict[str, np.ndarray]:
    """Forward conv → ReLU → pool, then δ back through each layer (all from dlcore).

    Returns z, a, p (forward) and dp, da, dz, dx, dw, db (backward), plus ``dx_full`` (the full
    convolution of δz with rot180(w), cropped by the padding) and ``dw_corr`` (the
    correlation of the padded x with δz), the chapter's two formulas, for comparison.
    """
    from dlcore.activations import relu_grad
    from dlcore.conv import conv2d_backward, conv2d_forward
    from dlcore.pooling import avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward

    z, cz = conv2d_forward(x, w, b, stride=1, padding=padding)
    a = np.maximum(z, 0.0)
    fwd, bwd = (max_pool2d_forward, max_pool2d_backward) if pool == "max" else (avg_pool2d_forward, avg_pool2d_backward)
    p, cp = fwd(a, POOL_K)
    da = bwd(delta_top, cp)
    # where each window sends its δ: the switches (max) or the whole window (avg)
    switch = bwd(np.ones_like(p), cp) != 0
    dz = da * relu_grad(z)
    dx, dw, db = conv2d_backward(dz, cz)
    dx_full = full_conv_rot180(dz[0, 0], w[0, 0])
    if padding:
        dx_full = dx_full[padding:-padding, padding:-padding]
    xp = np.pad(x[0, 0], padding)
    Ho, Wo = dz.shape[2:]
    dw_corr = np.array([[np.sum(xp[i:i + Ho, j:j + Wo] * dz[0, 0]) for j in range(w.shape[3])]
                        for i in range(w.shape[2])])
    return {"x": x, "w": w, "z": z, "a": a, "p": p, "dp": delta_top, "da": da, "dz": dz,
            "dx": dx, "dw": dw, "db": db, "switch": switch, "dx_full": dx_full, "dw_corr": dw_corr}


def full_conv_rot180(d: np.ndarray, k: np.ndarray) -> np.ndarray:
    """δ of a stride-1 conv's padded input: dlcore's full convolution of a 2-D δ with rot180(k)."""
    from dlcore.conv import full_convolve2d, rot180

    return full_convolve2d(d, rot180(k))


def dilate(d: np.ndarray, stride: int) -> np.ndarray:
    """Insert stride−1 zeros between the entries of a 2-D δ (stride-S conv's δ on the stride-1 grid)."""
    d = np.asarray(d)
    out = np.zeros(((d.shape[0] - 1) * stride + 1, (d.shape[1] - 1) * stride + 1), dtype=d.dtype)
    out[::stride, ::stride] = d
    return out


def unreached(H: int, K: int, S: int, P: int = 0) -> int:
    """Rows (or columns) at the bottom (right) of the padded input that a stride-S forward never reached.

    The last window starts at S·(H_out − 1) and ends at S·(H_out − 1) + K − 1; the padded input has
    H + 2P = S·(H_out − 1) + K + (H + 2P − K) mod S rows, so the last (H + 2P − K) mod S get no δ.
    """
    return (H + 2 * P - K) % S


def stride_example() -> dict:
    """Section 3's worked stride-2 case: the 6×6 input and 1..9 kernel, δz = [[1, −2], [0.5, 2]].

    Returns the dilated δ, δx by dlcore and by the full convolution of the dilated δ with rot180(w)
    (with the unreached last row and column appended as zeros), dW by dlcore and as the
    correlation of x with the dilated δ, the sizes the prose states, and the largest relative
    error of δx and dW against a numerical gradient.
    """
    from dlcore.conv import conv2d_backward, conv2d_forward, full_convolve2d, rot180
    from dlcore.gradcheck import max_relative_error, numerical_gradient

    rng = np.random.default_rng(1)
    x = np.round(rng.normal(size=(1, 1, 6, 6)), 1)        # the same x1 as section 3's single δ
    w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    S, K = 2, 3
    z, cache = conv2d_forward(x, w, np.zeros(1), stride=S)
    dz = np.array([[1.0, -2.0], [0.5, 2.0]])[None, None]
    dx, dw, db = conv2d_backward(dz, cache)
    d = dilate(dz[0, 0], S)
    core = full_convolve2d(d, rot180(w[0, 0]))
    r = unreached(6, K, S)
    dx_formula = np.pad(core, ((0, r), (0, r)))
    dw_corr = np.array([[np.sum(x[0, 0, u:u + d.shape[0], v:v + d.shape[1]] * d) for v in range(K)]
                        for u in range(K)])
    L = lambda xx, ww: np.sum(conv2d_forward(xx, ww, np.zeros(1), stride=S)[0] * dz)  # noqa: E731
    return {"x": x, "w": w, "z": z, "dz": dz, "dilated": d, "core": core, "dx": dx, "dw": dw, "db": db,
            "dx_formula": dx_formula, "dw_corr": dw_corr, "unreached": r,
            "dx_error": float(max_relative_error(dx, numerical_gradient(lambda v: L(v, w), x))),
            "dw_error": float(max_relative_error(dw, numerical_gradient(lambda v: L(x, v), w)))}
