"""Data sets that ship with the course, and seeded toy sets (used from chapter 1 on).

Nothing here touches the network:

* :func:`load_digits` – the 1,797 real handwritten 8×8 digits of the UCI "Optical Recognition
  of Handwritten Digits" set (CC BY 4.0, see ``dlcore/data/LICENSE-digits.md``), shipped as
  ``dlcore/data/digits.npz``;
* :func:`load_photo` – a real RGB photograph (Grace Hopper, from matplotlib's bundled sample
  data) as a ``(3, H, W)`` float image, optionally area-averaged down to a small size;
* :func:`make_spirals`, :func:`make_moons`, :func:`make_blobs` – 2-D classification toys;
* :func:`train_val_test_split` – a seeded (optionally stratified) three-way split.

Randomness comes only from the ``rng`` argument: a ``numpy.random.Generator`` or an int seed.
"""
from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import NamedTuple

import numpy as np

from dlcore._checks import as_rng as _rng

__all__ = ["load_digits", "load_photo", "make_spirals", "make_moons", "make_blobs",
           "train_val_test_split", "Split"]

DATA_DIR = Path(__file__).resolve().parent / "data"



def _count(fn: str, name: str, n, minimum: int = 1) -> int:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < minimum:
        raise ValueError(f"{fn}: {name} must be an int >= {minimum}, got {n!r}")
    return int(n)


@functools.lru_cache(maxsize=1)
def _digits_raw() -> tuple[np.ndarray, np.ndarray]:
    with np.load(DATA_DIR / "digits.npz") as z:
        return z["images"], z["labels"]


def load_digits(images: bool = False, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 handwritten digits, pixels scaled from 0..16 to [0, 1].

    Returns ``(X, y)``: ``X`` of shape ``(1797, 64)`` (or ``(1797, 1, 8, 8)`` NCHW with
    ``images=True``) in ``dtype``, ``y`` int64 labels 0–9 of shape ``(1797,)``. Fresh arrays on
    every call.
    """
    raw, labels = _digits_raw()
    X = raw.astype(dtype) / np.dtype(dtype).type(16)
    X = X[:, None, :, :] if images else X.reshape(len(X), 64)
    return X, labels.astype(np.int64)


def _area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Weights ``(n_out, n_in)``: output cell i averages input cells over [i·s, (i+1)·s), s = n_in/n_out,
    counting partly covered cells by the fraction covered (so each row sums to 1)."""
    edges = np.arange(n_out + 1) * (n_in / n_out)
    lo, hi = edges[:-1, None], edges[1:, None]
    cells = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(hi, cells + 1) - np.maximum(lo, cells), 0.0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def resize_area(img: np.ndarray, size) -> np.ndarray:
    """Shrink a ``(C, H, W)`` image to ``(C, h, w)`` by area averaging (exact box filter)."""
    h, w = (size, size) if isinstance(size, (int, np.integer)) else size
    _, H, W = img.shape
    if not (1 <= h <= H and 1 <= w <= W):
        raise ValueError(f"resize_area: size must be between 1 and the image's ({H}, {W}), "
                         f"got {(h, w)}")
    A, B = _area_matrix(H, h), _area_matrix(W, w)
    return np.einsum("hH,cHW,wW->chw", A, img, B, optimize=True)


@functools.lru_cache(maxsize=8)
def _photo(size) -> np.ndarray:
    # matplotlib (and Pillow for the JPEG) only when a photo is asked for: the core stays light.
    import matplotlib.cbook as cbook
    import matplotlib.image as mimage

    path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    img = np.asarray(mimage.imread(path), dtype=np.float64) / 255.0  # (600, 512, 3) uint8
    img = np.ascontiguousarray(img.transpose(2, 0, 1))
    if size is not None:
        # Averaging can round a touch above 1; keep the documented range.
        img = np.clip(resize_area(img, size), 0.0, 1.0)
    img.setflags(write=False)
    return img


def load_photo(size=None, dtype=np.float64) -> np.ndarray:
    """A real photograph (Grace Hopper, 600×512 RGB) as a ``(3, H, W)`` array in [0, 1].

    ``size`` = an int ``s`` or a pair ``(h, w)`` shrinks it by area averaging to ``(3, s, s)``
    or ``(3, h, w)``; ``None`` keeps ``(3, 600, 512)``. Cached; each call returns a fresh copy.
    """
    if size is not None:
        if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
            size = (int(size), int(size))
        elif (isinstance(size, (tuple, list)) and len(size) == 2
              and all(isinstance(v, (int, np.integer)) for v in size)):
            size = (int(size[0]), int(size[1]))
        else:
            raise ValueError(f"load_photo: size must be None, an int or a pair (h, w), got {size!r}")
    return _photo(size).astype(dtype, copy=True)


# ---------------------------------------------------------------------------------------------
# 2-D toy sets: X (N, 2) float64, y (N,) int64


def make_spirals(n_samples: int = 300, n_classes: int = 3, noise: float = 0.2, *, rng,
                 turns: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class (CS231n's spiral set).

    Arm k: radius r ∈ [0, 1], angle θ = 2π·turns·r + 2πk/K + noise·N(0, 1);
    point (r·sin θ, r·cos θ). Returns ``X`` (N, 2), ``y`` (N,) with classes as equal as possible.
    """
    fn = "make_spirals"
    g = _rng(fn, rng)
    n = _count(fn, "n_samples", n_samples)
    k = _count(fn, "n_classes", n_classes)
    y = np.arange(n) % k
    y.sort()
    r = np.concatenate([np.linspace(0.0, 1.0, int(np.sum(y == c))) for c in range(k)])
    theta = 2 * np.pi * turns * r + 2 * np.pi * y / k + noise * g.standard_normal(n)
    X = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1)
    return X, y.astype(np.int64)


def make_moons(n_samples: int = 200, noise: float = 0.1, *, rng) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (as scikit-learn's ``make_moons``) plus Gaussian noise.

    Class 0: (cos t, sin t), class 1: (1 − cos t, 0.5 − sin t), t ∈ [0, π]; then
    ``noise``·N(0, I) added. Returns ``X`` (N, 2), ``y`` (N,).
    """
    fn = "make_moons"
    g = _rng(fn, rng)
    n = _count(fn, "n_samples", n_samples, minimum=2)
    n0 = n // 2
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n - n0)
    X = np.concatenate([np.stack([np.cos(t0), np.sin(t0)], 1),
                        np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], 1)])
    y = np.concatenate([np.zeros(n0, np.int64), np.ones(n - n0, np.int64)])
    X = X + noise * g.standard_normal(X.shape)
    order = g.permutation(n)
    return X[order], y[order]


def make_blobs(n_samples: int = 200, centers=3, std: float = 1.0, *, rng,
               box: tuple[float, float] = (-5.0, 5.0)) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs: class k is N(center_k, std²·I).

    ``centers`` is a number of classes (centers drawn uniformly in ``box``²) or an array
    ``(K, 2)`` of centers. Returns ``X`` (N, 2), ``y`` (N,).
    """
    fn = "make_blobs"
    g = _rng(fn, rng)
    n = _count(fn, "n_samples", n_samples)
    if isinstance(centers, (int, np.integer)) and not isinstance(centers, bool):
        k = _count(fn, "centers", centers)
        C = g.uniform(box[0], box[1], size=(k, 2))
    else:
        C = np.asarray(centers, dtype=np.float64)
        if C.ndim != 2 or C.shape[1] != 2 or len(C) == 0:
            raise ValueError(f"{fn}: centers must be an int or an array (K, 2), got shape {C.shape}")
    y = np.arange(n) % len(C)
    X = C[y] + std * g.standard_normal((n, 2))
    order = g.permutation(n)
    return X[order], y[order].astype(np.int64)


class Split(NamedTuple):
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def train_val_test_split(X, y, rng, val_frac: float = 0.15, test_frac: float = 0.15,
                         stratify: bool = True) -> Split:
    """Shuffle and split ``(X, y)`` into train / validation / test parts.

    Returns a :class:`Split` ``(X_train, y_train, X_val, y_val, X_test, y_test)``. The
    validation and test parts hold ``round(frac·N)`` samples; with ``stratify=True`` (integer
    labels) each class is split in those proportions, so all parts keep the class balance.
    """
    fn = "train_val_test_split"
    g = _rng(fn, rng)
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"{fn}: X and y must have the same length, got {len(X)} and {len(y)}")
    for name, f in (("val_frac", val_frac), ("test_frac", test_frac)):
        if not 0 <= f < 1:
            raise ValueError(f"{fn}: {name} must be in [0, 1), got {f!r}")
    if val_frac + test_frac >= 1:
        raise ValueError(f"{fn}: val_frac + test_frac must be < 1, got {val_frac + test_frac!r}")
    n = len(X)
    if stratify and y.dtype.kind in "iub":
        groups = [g.permutation(np.flatnonzero(y == c)) for c in np.unique(y)]
    else:
        groups = [g.permutation(n)]
    parts: list[list[np.ndarray]] = [[], [], []]
    for idx in groups:
        m = len(idx)
        n_test = int(math.floor(test_frac * m + 0.5))
        n_val = int(math.floor(val_frac * m + 0.5))
        parts[2].append(idx[:n_test])
        parts[1].append(idx[n_test:n_test + n_val])
        parts[0].append(idx[n_test + n_val:])
    tr, va, te = (g.permutation(np.concatenate(p)) for p in parts)
    return Split(X[tr], y[tr], X[va], y[va], X[te], y[te])
