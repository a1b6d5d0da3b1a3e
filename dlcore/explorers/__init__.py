"""Interactive explorers, one per chapter (matplotlib + ipywidgets; imported only on demand).

Each is one call in its notebook, e.g. ``loss_surface_explorer()``; see :mod:`dlcore.explorers.base`
for the shape they share. :data:`EXPLORERS` lists them for the app mode (``make explore``), the
latency benchmark and the browser tests.
"""
from __future__ import annotations

import importlib
import importlib.util

#: chapter id -> (module, factory name, title)
EXPLORERS: dict[str, tuple[str, str, str]] = {
    "ch01_objective_functions": ("dlcore.explorers.ch01", "loss_surface_explorer", "Loss surfaces: MSE vs cross-entropy"),
    "ch02_softmax": ("dlcore.explorers.ch02", "softmax_explorer", "Softmax, temperature and p − y"),
    "ch03_activations": ("dlcore.explorers.ch03", "vanishing_gradient_explorer", "Vanishing gradients: sigmoid vs ReLU"),
    "ch04_optimizers": ("dlcore.explorers.ch04", "optimizer_explorer", "Optimizers on saddle surfaces"),
    "ch05_batch_norm": ("dlcore.explorers.ch05", "batchnorm_explorer", "Activations with and without batch norm"),
    "ch06_overfitting": ("dlcore.explorers.ch06", "overfitting_explorer", "Overfitting and regularisation"),
    "ch07_cnn_layers": ("dlcore.explorers.ch07", "conv_explorer", "Convolution and pooling on a photograph"),
    "ch08_cnn_backprop": ("dlcore.explorers.ch08", "backprop_explorer", "The error term δ flowing backward"),
    "ch09_capstone": ("dlcore.explorers.ch09", "training_explorer", "Training the capstone CNN step by step"),
}


def get_factory(chapter: str):
    """The explorer factory of a chapter, e.g. ``get_factory('ch04_optimizers')(lr=0.1)``."""
    try:
        module, name, _ = EXPLORERS[chapter]
    except KeyError:
        raise ValueError(f"get_factory: unknown chapter {chapter!r}; expected one of {sorted(EXPLORERS)}") from None
    return getattr(importlib.import_module(module), name)


def available() -> list[str]:
    """Chapters whose explorer module exists in this installation."""
    out = []
    for chapter, (module, _, _) in EXPLORERS.items():
        if importlib.util.find_spec(module) is not None:
            out.append(chapter)
    return out
