"""Argument checks shared by every dlcore op.

Each raises ``ValueError`` whose message names the function, the argument, and what was
expected versus what was given, so a student reading the error knows where to look, e.g.
``conv2d_forward: x has 4 channels but w expects 3``.
"""
from __future__ import annotations

import numpy as np


def as_float_array(fn: str, name: str, x) -> np.ndarray:
    """Return ``x`` as a float array, keeping float32/float64 and promoting anything else to float64."""
    arr = np.asarray(x)
    if arr.dtype == np.float32 or arr.dtype == np.float64:
        return arr
    if arr.dtype.kind in "biuf":
        return arr.astype(np.float64)
    raise ValueError(f"{fn}: {name} must hold numbers, got dtype {arr.dtype}")


def check_ndim(fn: str, name: str, x: np.ndarray, ndim, what: str = "") -> None:
    """Raise unless ``x.ndim`` is ``ndim`` (an int or a tuple of allowed ints)."""
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if x.ndim not in allowed:
        want = " or ".join(f"{d}-D" for d in allowed)
        extra = f" {what}" if what else ""
        raise ValueError(f"{fn}: {name} must be {want}{extra}, got shape {tuple(x.shape)}")


def check_same_shape(fn: str, name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{fn}: {name_a} and {name_b} must have the same shape, "
            f"got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def pair(fn: str, name: str, v) -> tuple[int, int]:
    """Turn an int or a pair of ints into a pair of non-negative ints."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        out = (int(v), int(v))
    elif isinstance(v, (tuple, list)) and len(v) == 2 and all(
        isinstance(e, (int, np.integer)) and not isinstance(e, bool) for e in v
    ):
        out = (int(v[0]), int(v[1]))
    else:
        raise ValueError(f"{fn}: {name} must be an int or a pair of ints, got {v!r}")
    return out


def check_positive(fn: str, name: str, v, allow_zero: bool = False) -> None:
    bad = v < 0 if allow_zero else v <= 0
    if bad:
        want = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{fn}: {name} must be {want}, got {v!r}")


def as_rng(fn: str, rng) -> np.random.Generator:
    """A ``numpy.random.Generator`` from a Generator or an int seed (never the global state)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise ValueError(f"{fn}: rng must be a numpy.random.Generator or an int seed, got {rng!r}")
