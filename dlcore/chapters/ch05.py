"""Chapter 5 (batch normalization): activations layer by layer, and deep MLPs trained with and without it.

:func:`deep_stack_activations` pushes one batch through a deep stack of linear layers twice, plain
(linear → activation) and with batch norm (linear → batch norm → activation), with the same
weights, and returns every layer's activations and their std. :func:`train_digits_mlp` trains a
deep ``dlcore.nn`` MLP on the real digits with ``dlcore.train.fit``, with or without batch norm.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dlcore import nn
from dlcore.activations import relu
from dlcore.batchnorm import batch_norm_forward
from dlcore.chapters._shared import one_blas_thread
from dlcore.data import load_digits
from dlcore.optim import SGD
from dlcore.train import fit

__all__ = ["ACTIVATIONS", "DeepStackActivations", "deep_stack_activations", "deep_mlp", "digits_split",
           "train_digits_mlp", "DIVERGED_LOSS"]

ACTIVATIONS = {"tanh": np.tanh, "relu": relu}

#: A training run whose epoch loss is above this (or not finite) has diverged.
DIVERGED_LOSS = 1e3


# --------------------------------------------------------------------------- one batch through a deep stack
class DeepStackActivations(NamedTuple):
    """Per-layer activations of the plain and the batch-normed stack, and their std."""

    plain: list          # L arrays (N, width)
    bn: list             # L arrays (N, width)
    std_plain: np.ndarray  # (L,)
    std_bn: np.ndarray     # (L,)


def deep_stack_activations(x, weights, activation="tanh", bn_fn=None) -> DeepStackActivations:
    """Run ``x`` through ``len(weights)`` layers, plain and with batch norm (γ = 1, β = 0).

    plain: a_l = f(a_{l-1} W_lᵀ);  with batch norm: a_l = f(BN(a_{l-1} W_lᵀ)), batch statistics.
    ``x``: (N, D); ``weights``: list of (width, in) arrays; ``bn_fn(z, gamma, beta)`` returns
    the normalised batch (defaults to ``dlcore.batchnorm.batch_norm_forward``'s output).
    """
    f = ACTIVATIONS[activation]
    if bn_fn is None:
        def bn_fn(z, gamma, beta):
            return batch_norm_forward(z, gamma, beta)[0]
    plain, bn = [], []
    a, b = x, x
    for w in weights:
        a = f(a @ w.T)
        z = b @ w.T
        ones, zeros = np.ones(z.shape[1]), np.zeros(z.shape[1])
        b = f(np.asarray(bn_fn(z, ones, zeros)))
        plain.append(a)
        bn.append(b)
    return DeepStackActivations(plain, bn, np.array([p.std() for p in plain]), np.array([q.std() for q in bn]))


# --------------------------------------------------------------------------- deep MLP on the digits
def deep_mlp(depth: int, width: int, batch_norm: bool, rng: np.random.Generator, init: str = "default"):
    """64 → (Linear → [BatchNorm1d] → ReLU) × depth → Linear(10), a ``dlcore.nn.Sequential``.

    ``init='default'`` keeps PyTorch's default U(−1/√fan_in, 1/√fan_in) weights (variance
    1/(3·fan_in): each ReLU layer shrinks the signal); ``init='he'`` redraws the hidden weights
    from N(0, 2/fan_in), which keeps the signal's scale through ReLU layers.
    """
    if init not in ("default", "he"):
        raise ValueError(f"deep_mlp: init must be 'default' or 'he', got {init!r}")
    layers, d = [], 64
    for _ in range(depth):
        lin = nn.Linear(d, width, rng=rng)
        if init == "he":
            lin.weight[...] = rng.normal(0.0, np.sqrt(2.0 / d), lin.weight.shape)
        layers.append(lin)
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.ReLU())
        d = width
    layers.append(nn.Linear(d, 10, rng=rng))
    return nn.Sequential(*layers)


def digits_split():
    """The chapter's split of the real digits: 1,400 for training, the remaining 397 for validation.

    Returns ``(x_train (1400, 64), y_train, x_val (397, 64), y_val)``.
    """
    x, y = load_digits()
    perm = np.random.default_rng(1234).permutation(len(x))
    x, y = x[perm], y[perm]
    return x[:1400], y[:1400], x[1400:], y[1400:]


def _diverging(epoch: int, history) -> bool:
    return not history.train_loss[-1] <= DIVERGED_LOSS   # also True for nan and inf


def train_digits_mlp(batch_norm: bool, lr: float, *, depth: int = 8, width: int = 64, init: str = "default",
                     epochs: int = 10, batch_size: int = 64, momentum: float = 0.9, seed: int = 0) -> dict:
    """Train :func:`deep_mlp` on the real digits (:func:`digits_split`) with SGD + momentum, via ``fit``.

    Returns ``{'loss': per-epoch mean training loss over the epoch's mini-batches (nan from a
    divergence on), 'val_acc': accuracy on the validation digits in eval mode after training (nan
    when the network's outputs are no longer finite), 'diverged_epoch': the first epoch (1-based)
    whose loss is not finite or above :data:`DIVERGED_LOSS`, where training stops (or None)}``.
    Same ``seed`` → same split, weights and batches, with or without batch norm.
    """
    xt, yt, xv, yv = digits_split()
    rng = np.random.default_rng(seed)
    model = deep_mlp(depth, width, batch_norm, rng, init)
    opt = SGD(model.parameters(), lr=lr, momentum=momentum)
    # A diverging run overflows on purpose (that is the point being shown): it ends quietly.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"), one_blas_thread():
        hist = fit(model, xt, yt, optimizer=opt, epochs=int(epochs), batch_size=int(batch_size), rng=rng,
                   callback=_diverging, progress=False)
        logits = model.eval().forward(xv)
    losses = np.full(int(epochs), np.nan)
    diverged = hist.epochs if hist.stopped_by_callback else None
    kept = hist.epochs - 1 if diverged else hist.epochs
    losses[:kept] = hist.train_loss[:kept]
    acc = float(np.mean(logits.argmax(axis=1) == yv)) if np.isfinite(logits).all() else float("nan")
    return {"loss": losses, "val_acc": acc, "diverged_epoch": diverged}
