"""The photograph and the classic 3×3 kernels that chapters 7 and 8 convolve (numpy only).

:func:`load_input` gives the course's RGB photograph as a (1, 3, H, W) batch; :func:`kernel_bank`
gives (n, 3, 3, 3) kernels of one kind (edges, blur, sharpen, random, or typed in). Chapter 7's
and chapter 8's modules re-export them, so neither chapter imports the other.
"""
from __future__ import annotations

import re

import numpy as np

MAX_KERNELS = 4
CHANNELS = ("R", "G", "B")

_SOBEL_X = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
_LAPLACE = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
_BOX = np.full((3, 3), 1.0 / 9.0)
_SHARPEN = np.array([[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]])
_DIAG = np.array([[2.0, 1.0, 0.0], [1.0, 0.0, -1.0], [0.0, -1.0, -2.0]])

DEFAULT_CUSTOM = "R: -1 0 1  -2 0 2  -1 0 1\nG:  0 0 0   0 0 0   0 0 0\nB:  1 0 -1  2 0 -2  1 0 -1"
KERNEL_CHOICES = ("edge", "blur", "sharpen", "random", "custom")


def _all(k2d: np.ndarray) -> np.ndarray:
    """The same 2-D filter on every input channel, divided by 3 (a filter on the grey image)."""
    return np.stack([k2d / 3.0] * 3)


def _only(k2d: np.ndarray, c: int) -> np.ndarray:
    """A 2-D filter on channel ``c`` only; the other two layers are zero."""
    out = np.zeros((3, 3, 3))
    out[c] = k2d
    return out


def random_kernels(n: int, seed: int = 0) -> np.ndarray:
    """Kernels as a network starts: N(0, 1/27) weights of shape (n, 3, 3, 3), seeded."""
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 1.0 / np.sqrt(27.0), size=(n, 3, 3, 3))


def parse_custom_kernel(text: str) -> np.ndarray:
    """Parse one line of nine numbers per input channel (R, G, B) into a (3, 3, 3) kernel.

    A single line is used for all three channels. Labels such as ``R:`` are ignored.
    Raises ``ValueError`` with a message for the read-out when the text does not fit.
    """
    lines = [ln for ln in str(text).strip().splitlines() if ln.strip()]
    rows = []
    for ln in lines:
        ln = re.sub(r"^\s*[A-Za-z]+\s*:", "", ln)
        nums = [float(t) for t in re.split(r"[\s,;]+", ln.strip()) if t]
        if len(nums) != 9:
            raise ValueError(f"custom kernel: each line needs 9 numbers (a 3×3 layer), "
                             f"got {len(nums)} in {ln.strip()!r}")
        rows.append(np.array(nums).reshape(3, 3))
    if len(rows) == 1:
        rows = rows * 3
    if len(rows) != 3:
        raise ValueError(f"custom kernel: give 1 line or 3 lines (R, G, B), got {len(rows)}")
    return np.stack(rows)


def kernel_bank(kind: str, n: int, seed: int = 0, custom: str = DEFAULT_CUSTOM) -> tuple[np.ndarray, list[str]]:
    """``n`` kernels of shape (n, 3, 3, 3) of one kind, with a short name for each."""
    if kind == "edge":
        ks = [_all(_SOBEL_X), _all(_SOBEL_X.T), _all(_LAPLACE), _only(_SOBEL_X, 0)]
        names = ["vertical edges", "horizontal edges", "Laplacian", "vertical edges, R only"]
    elif kind == "blur":
        ks = [_all(_BOX), _only(_BOX, 0), _only(_BOX, 1), _only(_BOX, 2)]
        names = ["blur (grey)", "blur R only", "blur G only", "blur B only"]
    elif kind == "sharpen":
        ks = [_all(_SHARPEN), _only(_SHARPEN, 0), _only(_SHARPEN, 1), _all(_DIAG)]
        names = ["sharpen (grey)", "sharpen R only", "sharpen G only", "diagonal edges"]
    elif kind == "random":
        return random_kernels(n, seed), [f"random #{i + 1}" for i in range(n)]
    elif kind == "custom":
        rnd = random_kernels(MAX_KERNELS, seed)
        ks = [parse_custom_kernel(custom)] + list(rnd[1:])
        names = ["your kernel"] + [f"random #{i + 1}" for i in range(1, MAX_KERNELS)]
    else:
        raise ValueError(f"kernel_bank: kind must be one of {KERNEL_CHOICES}, got {kind!r}")
    return np.stack(ks[:n]), names[:n]


def load_input(size: int = 64) -> np.ndarray:
    """The chapter's RGB photograph as a (1, 3, size, size) batch in [0, 1]."""
    from dlcore.data import load_photo

    img = np.asarray(load_photo(size=size), dtype=np.float64)
    if img.ndim == 3 and img.shape[-1] == 3:  # (H, W, 3) -> (3, H, W)
        img = img.transpose(2, 0, 1)
    if img.ndim == 3:
        img = img[None]
    return img
