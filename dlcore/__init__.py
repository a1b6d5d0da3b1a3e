"""dlcore: the course's reference library — one numpy implementation of every concept taught.

The numpy core (one module per concept, the chapter that teaches it in brackets):
``losses`` [1], ``softmax`` [2], ``activations`` [3], ``optim`` and ``surfaces`` [4],
``batchnorm`` [5], ``regularization`` [6], ``linear`` [1, 6], ``conv`` and ``pooling`` [7, 8],
``gradcheck``, ``nn`` (layer objects), ``train`` (the training loop), ``data`` (offline data sets).
The numbers each chapter shows (tables, runs, sweeps) come from :mod:`dlcore.chapters`
(``dlcore.chapters.ch01`` … ``ch08``), numpy only, built on the core. Plots and widgets live one
layer up in :mod:`dlcore.explorers` and import matplotlib/ipywidgets themselves.
:mod:`dlcore.testing` holds the checks the notebooks' test cells call; it arms itself against
tampering when imported, so it is imported by name (``import dlcore.testing``) and never by
``from dlcore import *``.

Submodules load on first use (``dlcore.conv`` or ``import dlcore.conv``), so ``import dlcore``
takes milliseconds.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = (
    "losses", "softmax", "activations", "optim", "surfaces", "batchnorm", "regularization",
    "linear", "conv", "pooling", "gradcheck", "nn", "train", "data", "chapters", "explorers",
)
__all__ = list(_SUBMODULES)


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"dlcore.{name}")
    raise AttributeError(f"module 'dlcore' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES))
