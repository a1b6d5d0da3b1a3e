"""Chapter 1 (objective functions): one sigmoid output's losses and gradients, one neuron trained by gradient descent.

The tables and runs the chapter shows, numpy only; the figures and the explorer are in
:mod:`dlcore.explorers.ch01`.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dlcore import data
from dlcore.activations import sigmoid, sigmoid_grad
from dlcore.linear import linear_backward, linear_forward
from dlcore.losses import (binary_cross_entropy_with_logits, sigmoid_bce_grad_z, sigmoid_mse_grad_z,
                           sigmoid_mse_loss)
from dlcore.optim import SGD


def sigmoid_output_table(z, y: float = 1.0) -> dict[str, np.ndarray]:
    """MSE and BCE of one sigmoid output ``p = σ(z)`` against target ``y``, with gradients in z.

    For each entry of ``z`` (shape ``(K,)``) the loss of that single sample, from ``dlcore.losses``:

        MSE: L = (p − y)²,                         dL/dz = 2(p − y) · σ'(z)
        BCE: L = −[y log p + (1 − y) log(1 − p)],  dL/dz = (p − y)/(p(1 − p)) · σ'(z) = p − y

    Returns a dict of ``(K,)`` arrays: ``z, p, sigma_prime, mse, dmse_dz, bce, dbce_dz``.
    """

    z = np.atleast_1d(np.asarray(z, dtype=np.float64))
    out = {"z": z, "p": sigmoid(z), "sigma_prime": sigmoid_grad(z)}
    for k in ("mse", "dmse_dz", "bce", "dbce_dz"):
        out[k] = np.empty_like(z)
    target = np.array([float(y)])
    for i, zi in enumerate(z):
        zz = np.array([zi])  # one sample, so the mean over samples is that sample's loss
        out["mse"][i] = sigmoid_mse_loss(zz, target)
        out["dmse_dz"][i] = sigmoid_mse_grad_z(zz, target)[0]
        out["bce"][i] = binary_cross_entropy_with_logits(zz, target)
        out["dbce_dz"][i] = sigmoid_bce_grad_z(zz, target)[0]
    return out


class NeuronData(NamedTuple):
    x: np.ndarray  # (N,) one feature, standardised
    y: np.ndarray  # (N,) targets in {0, 1}
    name: str


def neuron_data(kind: str = "toy", n: int = 40, seed: int = 0) -> NeuronData:
    """A 1-D two-class data set for one sigmoid neuron.

    ``"toy"``: ``n`` points, half from N(−1, 0.8²) labelled 0 and half from N(+1, 0.8²) labelled 1
    (overlapping, so no (w, b) is perfect), clipped to [−2.5, 2.5].
    ``"digits"``: the real 8×8 handwritten 0s and 1s of :mod:`dlcore.data`, one feature: the mean
    ink of the two central pixel columns (a 1 has ink there, a 0 a hole), standardised.
    """
    if kind == "toy":
        rng = np.random.default_rng(seed)
        half = n // 2
        x = np.concatenate([rng.normal(-1.0, 0.8, half), rng.normal(1.0, 0.8, n - half)])
        y = np.concatenate([np.zeros(half), np.ones(n - half)])
        return NeuronData(np.clip(x, -2.5, 2.5), y, "toy: two overlapping Gaussians")
    if kind == "digits":
        X, labels = data.load_digits()
        keep = (labels == 0) | (labels == 1)
        feat = X[keep].reshape(-1, 8, 8)[:, :, 3:5].mean(axis=(1, 2))
        feat = (feat - feat.mean()) / feat.std()
        return NeuronData(np.clip(feat, -2.5, 2.5), (labels[keep] == 1).astype(np.float64),
                          "digits 0 vs 1: central-column ink")
    raise ValueError(f"neuron_data: kind must be 'toy' or 'digits', got {kind!r}")


def neuron_loss_and_grads(w: float, b: float, x, y) -> dict[str, float]:
    """Loss and gradient in (w, b) of ``p = σ(w·x + b)`` for MSE and BCE, all through dlcore.

    ``z = linear_forward(x[:, None], [[w]], [b])``; ``dL/dz`` from ``dlcore.losses``'
    ``sigmoid_mse_grad_z`` / ``sigmoid_bce_grad_z``; ``linear_backward`` turns ``dL/dz`` into
    ``(dL/dw, dL/db)``. ``x``, ``y``: shape ``(N,)``.
    Returns ``mse, bce, dmse_dw, dmse_db, dbce_dw, dbce_db`` as floats.
    """

    xs = np.asarray(x, dtype=np.float64)[:, None]
    t = np.asarray(y, dtype=np.float64)[:, None]
    z, cache = linear_forward(xs, np.array([[float(w)]]), np.array([float(b)]))
    out = {"mse": float(sigmoid_mse_loss(z, t)), "bce": float(binary_cross_entropy_with_logits(z, t))}
    for name, dz in (("mse", sigmoid_mse_grad_z(z, t)), ("bce", sigmoid_bce_grad_z(z, t))):
        _, dw, db = linear_backward(dz, cache)
        out[f"d{name}_dw"] = float(dw[0, 0])
        out[f"d{name}_db"] = float(db[0])
    return out


def loss_grids(x, y, w_range=(-6.0, 6.0), b_range=(-6.0, 6.0), n: int = 81):
    """MSE and BCE of ``σ(w·x + b)`` on an ``n × n`` grid of (w, b), vectorised.

    BCE uses ``log σ(z) = −log(1 + e^(−z))`` (no overflow, no log(0)), the value
    ``dlcore.losses.binary_cross_entropy_with_logits`` gives at each grid point.
    Returns ``W, B, MSE, BCE``, each of shape ``(n, n)`` (rows follow b, columns follow w).
    """

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    W, B = np.meshgrid(np.linspace(*w_range, n), np.linspace(*b_range, n))
    Z = W[..., None] * x + B[..., None]  # (n, n, N)
    P = sigmoid(Z)
    mse = ((P - y) ** 2).mean(axis=-1)
    bce = (y * np.logaddexp(0.0, -Z) + (1.0 - y) * np.logaddexp(0.0, Z)).mean(axis=-1)
    return W, B, mse, bce


def train_neuron(loss: str, w0: float, b0: float, x, y, lr: float = 1.0, steps: int = 200) -> np.ndarray:
    """Plain gradient descent (``dlcore.optim.SGD``) on one sigmoid neuron, ``loss`` = ``"mse"`` or ``"bce"``.

    Returns the trajectory, shape ``(steps + 1, 4)``: columns ``w, b, loss, accuracy`` before
    each step (accuracy: the fraction of samples with ``(σ(w·x + b) > 0.5) == y``).
    """

    if loss not in ("mse", "bce"):
        raise ValueError(f"train_neuron: loss must be 'mse' or 'bce', got {loss!r}")
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    wb = np.array([float(w0), float(b0)])
    opt = SGD([wb], lr=lr)
    out = np.empty((steps + 1, 4))
    for t in range(steps + 1):
        w, b = float(wb[0]), float(wb[1])
        r = neuron_loss_and_grads(w, b, x, y)
        out[t] = w, b, r[loss], ((sigmoid(w * x + b) > 0.5) == (y > 0.5)).mean()
        if t < steps:
            opt.step([np.array([r[f"d{loss}_dw"], r[f"d{loss}_db"]])])
    return out
