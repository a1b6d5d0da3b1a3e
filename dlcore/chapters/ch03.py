"""Chapter 3 (activations): vanishing gradients through sigmoid chains, ReLU sparsity, per-layer gradient norms.

The numbers the chapter shows, numpy only, from ``dlcore.nn`` forward and backward passes; the
figures and the explorer are in :mod:`dlcore.explorers.ch03`.
"""
from __future__ import annotations

import timeit

import numpy as np

from dlcore import nn
from dlcore.activations import relu, relu_grad, sigmoid, sigmoid_grad


MAX_DEPTH = 30


def sigmoid_chain(n_or_w, x: float = 1.0):
    """Build the scalar chain a_k = σ(w_k·a_{k−1}) (a_0 = x, no bias) as a ``dlcore.nn`` stack.

    ``n_or_w`` is the weight vector w, shape (n,). Returns the Sequential of n
    ``Linear(1, 1, bias=False)`` + ``Sigmoid`` pairs with those weights.
    """
    w = np.asarray(n_or_w, dtype=np.float64).reshape(-1)
    layers = []
    for wk in w:
        lin = nn.Linear(1, 1, bias=False, rng=np.random.default_rng(0))
        lin.weight[...] = wk
        layers += [lin, nn.Sigmoid()]
    return nn.Sequential(*layers)


def sigmoid_chain_reference(x: float, w) -> np.ndarray:
    """dy/dw_k for y = a_n, a_k = σ(w_k·a_{k−1}), a_0 = x, from a dlcore.nn forward+backward. Shape (n,)."""
    model = sigmoid_chain(w)
    model.forward(np.array([[float(x)]]))
    model.backward(np.ones((1, 1)))
    return np.array([layer.dweight[0, 0] for layer in model.layers[::2]])


def chain_input_gradient(x: float, w) -> float:
    """dy/dx of the scalar sigmoid chain (a dlcore.nn backward pass)."""
    model = sigmoid_chain(w)
    model.forward(np.array([[float(x)]]))
    return float(model.backward(np.ones((1, 1)))[0, 0])


def relu_sparsity(x) -> float:
    """Fraction of units that ReLU sets to exactly zero."""
    return float(np.mean(relu(x) == 0))


def deep_relu_sparsity(depth: int = 8, width: int = 128, batch: int = 128, *, rng) -> np.ndarray:
    """Fraction of zero units after each ReLU of a He-initialised (w ~ N(0, 2/width)) dlcore.nn stack, shape (depth,)."""
    x = rng.standard_normal((batch, width))
    out = []
    for _ in range(depth):
        lin = nn.Linear(width, width, bias=False, rng=rng)
        lin.weight[...] = rng.standard_normal((width, width)) * np.sqrt(2.0 / width)
        x = nn.ReLU().forward(lin.forward(x))
        out.append(relu_sparsity(x))
    return np.array(out)


def time_activations(n: int = 1_000_000, repeats: int = 7, number: int = 5, *, rng) -> dict:
    """Best-of-``repeats`` seconds per call on n float64 values: raw exp, the division 1/(1 + e) and max,
    and dlcore's sigmoid vs relu (forward and derivative)."""
    x = rng.standard_normal(n)
    d = 1.0 + np.exp(-x)
    cases = {
        "np.exp(-x) (the sigmoid's core)": lambda: np.exp(-x),
        "1 / (1 + e) (the sigmoid's division)": lambda: 1.0 / d,
        "np.maximum(x, 0) (ReLU)": lambda: np.maximum(x, 0),
        "dlcore sigmoid": lambda: sigmoid(x),
        "dlcore relu": lambda: relu(x),
        "dlcore sigmoid_grad": lambda: sigmoid_grad(x),
        "dlcore relu_grad": lambda: relu_grad(x),
    }
    return {k: min(timeit.repeat(f, number=number, repeat=repeats)) / number for k, f in cases.items()}


def layer_gradient_norms(depth: int, weight_scale: float, activation: str, width: int = 32,
                         batch: int = 64, seed: int = 0) -> dict:
    """One forward+backward pass through a deep ``dlcore.nn`` stack; per-layer gradient norms.

    The stack is ``depth`` × (Linear(width, width, no bias) + activation) with weights
    w ~ weight_scale · N(0, 1/width); the loss is a fixed random linear read-out of the last
    layer. Returns ``grad_norms`` ‖∂L/∂W_k‖_F and ``mean_act_grad`` (the mean of σ'(z) or
    ReLU'(z) in layer k), both shape (depth,), and ``pre_activations`` (the list of z_k, each
    (batch, width)).
    """
    if activation not in ("sigmoid", "relu"):
        raise ValueError(f"layer_gradient_norms: activation must be 'sigmoid' or 'relu', got {activation!r}")
    base = _base_weights(seed, width, batch)
    act, act_grad = (nn.Sigmoid, sigmoid_grad) if activation == "sigmoid" else (nn.ReLU, relu_grad)
    layers, mean_act_grad, pre = [], [], []
    x = base["x"]
    init_rng = np.random.default_rng(seed)
    for k in range(depth):
        lin = nn.Linear(width, width, bias=False, rng=init_rng)
        lin.weight[...] = weight_scale * base["w"][k]
        layers += [lin, act()]
    model = nn.Sequential(*layers)
    for k in range(depth):  # model.forward, one layer pair at a time, to look at z
        z = model[2 * k].forward(x)
        mean_act_grad.append(float(act_grad(z).mean()))
        pre.append(z)
        x = model[2 * k + 1].forward(z)
    model.backward(base["readout"])
    norms = np.array([np.linalg.norm(model[2 * k].dweight) for k in range(depth)])
    return {"grad_norms": norms, "mean_act_grad": np.array(mean_act_grad), "pre_activations": pre}


_BASE_CACHE: dict = {}


def _base_weights(seed: int, width: int, batch: int) -> dict:
    key = (seed, width, batch)
    if key not in _BASE_CACHE:
        rng = np.random.default_rng(seed)
        _BASE_CACHE[key] = {
            "x": rng.standard_normal((batch, width)),
            "w": rng.standard_normal((MAX_DEPTH, width, width)) / np.sqrt(width),
            "readout": rng.standard_normal((batch, width)) / batch,
        }
    return _BASE_CACHE[key]


def student_means(fn, pre_activations):
    """Per-layer mean of a student's derivative function on the explorer's z_k.

    Returns ``(means (depth,), None)``, or ``(None, "ExceptionName: message")`` if it fails,
    so an unfinished exercise never breaks the explorer.
    """
    try:
        with np.errstate(all="ignore"):
            means = np.array([float(np.mean(fn(z))) for z in pre_activations])
    except Exception as exc:  # noqa: BLE001 - the student's error is shown, not raised
        return None, f"{type(exc).__name__}: {exc}"[:120]
    return means, None
