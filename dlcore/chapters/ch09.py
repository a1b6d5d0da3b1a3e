"""Chapter 9 (capstone): chapter 7's small CNN written as plain functions, trained on the digits.

The network is section 7's ``Conv2d(1, 8, 3, padding=1) → ReLU → MaxPool2d(2) → Flatten →
Linear(128, 10)``, with its parameters in a dict (``conv_w``, ``conv_b``, ``fc_w``, ``fc_b``)
and its backward pass spelled out layer by layer, so the student's network can be compared with
it at every error term δ. Numpy and dlcore only; the figures are in :mod:`dlcore.explorers.ch09`.

The training recipe the chapter states (and its tests assert) is :data:`RECIPE`: SGD with
momentum, each epoch visiting the training set in the order ``rng.permutation(N)`` in
consecutive batches, one momentum step per parameter per batch.
"""
from __future__ import annotations

import functools

import numpy as np

from dlcore import conv, data, linear, losses, optim, pooling
from dlcore.chapters._shared import small_cnn

__all__ = ["PARAMS", "LAYERS", "RECIPE", "init_params", "digits_split", "forward", "forward_backward",
           "train", "accuracy", "first_difference", "reference_run", "reference_history", "mosaic"]

#: the parameters, their shapes
PARAMS = {"conv_w": (8, 1, 3, 3), "conv_b": (8,), "fc_w": (10, 128), "fc_b": (10,)}
#: the training recipe of section 4 (the graded run)
RECIPE = {"epochs": 3, "lr": 0.1, "momentum": 0.9, "batch_size": 32, "seed": 0}
#: backprop's order: (layer, what it hands back, its parameters' gradients)
LAYERS = (("softmax cross-entropy", "logits", ()),
          ("affine (fully connected)", "pool", ("fc_w", "fc_b")),
          ("max pooling", "relu", ()),
          ("ReLU", "conv", ()),
          ("convolution", None, ("conv_w", "conv_b")))
_DELTA_AT = {"logits": "the logits", "pool": "the pooling output", "relu": "the ReLU output (pooling's input)",
             "conv": "the convolution output (ReLU's input)"}


def init_params(seed: int = 0) -> dict[str, np.ndarray]:
    """Section 7's initial weights (``small_cnn("max", default_rng(seed))``'s), as a dict."""
    model = small_cnn("max", np.random.default_rng(seed))
    conv_layer, fc = model.layers[0], model.layers[-1]
    return {"conv_w": conv_layer.weight.copy(), "conv_b": conv_layer.bias.copy(),
            "fc_w": fc.weight.copy(), "fc_b": fc.bias.copy()}


def digits_split() -> data.Split:
    """The split of chapter 7 (``train_val_test_split`` of the digits as images, seed 0)."""
    X, y = data.load_digits(images=True)
    return data.train_val_test_split(X, y, rng=np.random.default_rng(0))


def forward(params: dict, x: np.ndarray) -> np.ndarray:
    """Logits (N, 10) of images x (N, 1, 8, 8)."""
    z, _ = conv.conv2d_forward(x, params["conv_w"], params["conv_b"], padding=1)
    p, _ = pooling.max_pool2d_forward(np.maximum(z, 0.0), 2)
    return linear.linear_forward(p.reshape(len(x), -1), params["fc_w"], params["fc_b"])[0]


def forward_backward(params: dict, x: np.ndarray, y: np.ndarray):
    """``(loss, grads, deltas)``: the mean cross-entropy, the gradient of every parameter, and
    the error term δ at each layer's output (``deltas["logits"]``, ``["pool"]``, ``["relu"]``,
    ``["conv"]``)."""
    z, c_cache = conv.conv2d_forward(x, params["conv_w"], params["conv_b"], padding=1)
    a = np.maximum(z, 0.0)
    p, p_cache = pooling.max_pool2d_forward(a, 2)
    logits, l_cache = linear.linear_forward(p.reshape(len(x), -1), params["fc_w"], params["fc_b"])
    loss = losses.cross_entropy(logits, y)
    d_logits = losses.cross_entropy_grad(logits, y)
    d_flat, d_fc_w, d_fc_b = linear.linear_backward(d_logits, l_cache)
    d_pool = d_flat.reshape(p.shape)
    d_relu = pooling.max_pool2d_backward(d_pool, p_cache)
    d_conv = d_relu * (z > 0)
    _, d_conv_w, d_conv_b = conv.conv2d_backward(d_conv, c_cache)
    grads = {"conv_w": d_conv_w, "conv_b": d_conv_b, "fc_w": d_fc_w, "fc_b": d_fc_b}
    return loss, grads, {"logits": d_logits, "pool": d_pool, "relu": d_relu, "conv": d_conv}


def train(params: dict, X: np.ndarray, y: np.ndarray, *, epochs: int, lr: float, momentum: float,
          batch_size: int, rng: np.random.Generator, snapshots: bool = False):
    """Train with :data:`RECIPE`'s loop; returns ``(params, losses)`` (one loss per batch), and
    the parameters after every step as a third item with ``snapshots=True``."""
    params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    opt = optim.SGD(list(params.values()), lr=lr, momentum=momentum)   # updates params' arrays in place
    out, snaps = [], []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for i in range(0, len(X), batch_size):
            batch = order[i:i + batch_size]
            loss, grads, _ = forward_backward(params, X[batch], y[batch])
            opt.step([grads[k] for k in params])
            out.append(loss)
            if snapshots:
                snaps.append({k: v.copy() for k, v in params.items()})
    return (params, np.array(out), snaps) if snapshots else (params, np.array(out))


def accuracy(params: dict, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of ``X`` whose largest logit is its label."""
    return float(np.mean(forward(params, X).argmax(axis=1) == y))


def first_difference(got_loss, got_grads, got_deltas, params, x, y, rtol: float = 1e-6,
                     atol: float = 1e-8) -> str | None:
    """``None`` if a student's ``(loss, grads, deltas)`` match :func:`forward_backward`'s,
    else a sentence naming the first layer, in backprop's order, whose error term or
    gradient differs (the forward's loss is checked first)."""
    loss, grads, deltas = forward_backward(params, x, y)

    def close(a, b) -> bool:
        a = np.asarray(a, dtype=np.float64) if not isinstance(a, np.ndarray) else a
        return a.shape == np.shape(b) and bool(np.allclose(a, b, rtol=rtol, atol=atol))

    if not close(got_loss, loss):
        return f"the forward pass: the loss is {float(np.asarray(got_loss)):.6g}, dlcore's {loss:.6g}"
    for layer, delta, pnames in LAYERS:
        for name in pnames:
            if not close(got_grads.get(name), grads[name]):
                return f"{layer}: the gradient of {name} differs from dlcore's"
        if delta is not None and not close(got_deltas.get(delta), deltas[delta]):
            return f"{layer}: the error term δ at {_DELTA_AT[delta]} (deltas[{delta!r}]) differs from dlcore's"
    return None


@functools.lru_cache(maxsize=2)
def reference_run(seed: int = RECIPE["seed"]) -> dict:
    """The reference network trained with :data:`RECIPE` from :func:`init_params` (``seed``):
    ``losses`` per step, ``snapshots`` (the parameters after each step), the trained ``params``
    and ``init``, ``initial_test_acc`` and ``test_acc``. Cached: a grader scoring a class trains it
    once; do not change what it returns."""
    split = digits_split()
    p0 = init_params(seed)
    r = RECIPE
    params, losses_, snaps = train(p0, split.X_train, split.y_train, epochs=r["epochs"], lr=r["lr"],
                                   momentum=r["momentum"], batch_size=r["batch_size"],
                                   rng=np.random.default_rng(seed), snapshots=True)
    steps_per_epoch = -(-len(split.X_train) // r["batch_size"])
    return {"losses": losses_, "steps_per_epoch": steps_per_epoch, "snapshots": snaps, "params": params,
            "init": p0, "initial_test_acc": accuracy(p0, split.X_test, split.y_test),
            "test_acc": accuracy(params, split.X_test, split.y_test)}


@functools.lru_cache(maxsize=2)
def reference_history(seed: int = RECIPE["seed"]) -> dict:
    """:func:`reference_run` plus the test accuracy after every step (``test_acc_steps``, with
    the initial weights first) and each step's 8 kernels as one 2×4 mosaic (``mosaics``)."""
    run = dict(reference_run(seed))
    split = digits_split()
    states = [run["init"], *run["snapshots"]]
    run["test_acc_steps"] = np.array([accuracy(p, split.X_test, split.y_test) for p in states])
    run["mosaics"] = np.stack([mosaic(p["conv_w"]) for p in states])
    return run


def mosaic(w: np.ndarray) -> np.ndarray:
    """(For the explorer's kernel panel.) The 8 kernels (8, 1, 3, 3) as one 2×4 grid image with a NaN gap between kernels."""
    k = w.shape[-1]
    out = np.full((2 * k + 1, 4 * k + 3), np.nan)
    for f in range(w.shape[0]):
        r, c = divmod(f, 4)
        out[r * (k + 1):r * (k + 1) + k, c * (k + 1):c * (k + 1) + k] = w[f, 0]
    return out
