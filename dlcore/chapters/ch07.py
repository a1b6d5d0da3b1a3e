"""Chapter 7 (CNN layers): the chapter's photograph and kernels (numpy only).

The convolutions and poolings the chapter shows are ``dlcore.conv`` and ``dlcore.pooling`` calls
on these inputs; the figures and the explorer are in :mod:`dlcore.explorers.ch07`.
"""
from __future__ import annotations

import numpy as np

from dlcore.chapters._shared import small_cnn  # section 7's CNN (the capstone trains it too)
from dlcore.chapters.images import (CHANNELS, DEFAULT_CUSTOM, KERNEL_CHOICES, MAX_KERNELS, kernel_bank,
                                    load_input, parse_custom_kernel, random_kernels)

__all__ = ["CHANNELS", "DEFAULT_CUSTOM", "KERNEL_CHOICES", "MAX_KERNELS", "kernel_bank", "load_input",
           "parse_custom_kernel", "random_kernels", "small_cnn", "pooling_comparison"]


def pooling_comparison(seeds=(0, 1, 2), epochs: int = 10, lr: float = 0.01) -> dict:
    """Train :func:`small_cnn` with max and with average pooling on the digits, same seeds.

    Both use the split of section 7 (``train_val_test_split`` with seed 0), Adam(lr), batches of
    32, and for each seed s the same ``default_rng(s)`` for the initial weights and the batch
    order, so the only difference is the pooling. Returns ``{"max": {...}, "avg": {...}}`` with
    ``test_acc``, ``test_loss`` (arrays over the seeds) and ``val_acc`` (seeds × epochs).
    """
    from dlcore import data, optim, train

    X, y = data.load_digits(images=True)
    split = data.train_val_test_split(X, y, rng=np.random.default_rng(0))
    out = {}
    for pool in ("max", "avg"):
        acc, loss, val = [], [], []
        for s in seeds:
            rng = np.random.default_rng(s)
            model = small_cnn(pool, rng)
            hist = train.fit(model, split.X_train, split.y_train, optimizer=optim.Adam(model.parameters(), lr=lr),
                             epochs=epochs, batch_size=32, rng=rng, X_val=split.X_val, y_val=split.y_val,
                             progress=False)
            test_loss, test_acc = train.evaluate(model, split.X_test, split.y_test)
            acc.append(test_acc)
            loss.append(test_loss)
            val.append(hist.val_acc)
        out[pool] = {"test_acc": np.array(acc), "test_loss": np.array(loss), "val_acc": np.array(val)}
    return out
