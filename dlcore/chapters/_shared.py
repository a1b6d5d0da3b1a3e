"""Helpers that more than one chapter module uses (so no chapter imports another)."""
from __future__ import annotations

import contextlib
import functools

import numpy as np

__all__ = ["one_blas_thread", "format_table", "small_cnn"]


def one_blas_thread():
    """A context in which BLAS runs on one thread (when ``threadpoolctl`` is installed).

    The chapters' matrices are small (at most 500 × 128): splitting them over threads costs more
    than it saves, and on a busy machine multi-threaded OpenBLAS is ten to forty times slower.
    """
    controller = _blas_controller()
    return contextlib.nullcontext() if controller is None else controller.limit(limits=1, user_api="blas")


@functools.lru_cache(maxsize=1)
def _blas_controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()  # scanning the loaded libraries takes milliseconds: do it once


def format_table(table: dict[str, np.ndarray], columns=None, fmt: str = "{:>12.4g}") -> str:
    """Render the ``(K,)`` columns of a table dict as aligned text (one row per entry).

    >>> print(format_table({"z": np.array([0.0, 2.0]), "p": np.array([0.5, 0.880797])}))
               z           p
    ------------------------
               0         0.5
               2      0.8808
    """
    columns = list(columns or table)
    head = "".join(f"{c:>12}" for c in columns)
    rows = ["".join(fmt.format(float(table[c][i])) for c in columns) for i in range(len(table[columns[0]]))]
    return "\n".join([head, "-" * len(head), *rows])


def small_cnn(pool: str, rng: np.random.Generator):
    """Section 7's CNN: Conv2d(1, 8, 3, padding=1) → ReLU → ``pool`` (``"max"`` or ``"avg"``, k = 2)
    → Flatten → Linear(128, 10) logits; input (N, 1, 8, 8)."""
    from dlcore import nn

    if pool not in ("max", "avg"):
        raise ValueError(f"small_cnn: pool must be 'max' or 'avg', got {pool!r}")
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, rng=rng), nn.ReLU(),
                         nn.MaxPool2d(2) if pool == "max" else nn.AvgPool2d(2),
                         nn.Flatten(), nn.Linear(8 * 4 * 4, 10, rng=rng))
