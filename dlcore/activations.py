"""Activation functions: sigmoid and ReLU with their derivatives (taught in chapter 3).

Chapter 3's vanishing-gradient argument rests on sigmoid'(x) = sigma(x)(1 - sigma(x)) <= 1/4,
which decays like exp(-|x|); :func:`sigmoid_grad` computes it without cancellation so that
decay is visible on a log scale (PyTorch's ``(1 - s) * s`` rounds to exactly 0 past |x| ~ 37
in float64; the two agree to within 1e-16 absolute everywhere).

The ``*_forward`` / ``*_backward`` pairs are what :mod:`dlcore.nn` builds its layers on.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dlcore._checks import as_float_array, check_same_shape


def sigmoid(x) -> np.ndarray:
    """Logistic sigmoid, sigma(x) = 1 / (1 + exp(-x)); any shape, dtype kept.

    Computed from exp(-|x|), which never overflows, so no x (even +-1e308) warns.

    >>> sigmoid(np.array([0.0])).tolist()
    [0.5]
    """
    x = as_float_array("sigmoid", "x", x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def sigmoid_grad(x) -> np.ndarray:
    """Derivative of the sigmoid, sigma'(x) = sigma(x)(1 - sigma(x)) = e / (1 + e)^2 with e = exp(-|x|).

    Finite (and >= 0) for any x; at most 1/4, reached at x = 0. Any shape, dtype kept.
    """
    x = as_float_array("sigmoid_grad", "x", x)
    e = np.exp(-np.abs(x))
    return e / ((1 + e) * (1 + e))


def relu(x) -> np.ndarray:
    """Rectified linear unit, relu(x) = max(x, 0); any shape, dtype kept (nan stays nan, as in torch)."""
    x = as_float_array("relu", "x", x)
    return np.maximum(x, 0).astype(x.dtype, copy=False)


def relu_grad(x) -> np.ndarray:
    """Derivative of ReLU: 1 where x > 0, else 0 (PyTorch's choice of 0 at x = 0). Any shape, dtype kept."""
    x = as_float_array("relu_grad", "x", x)
    return (x > 0).astype(x.dtype)


class SigmoidCache(NamedTuple):
    x: np.ndarray


class ReluCache(NamedTuple):
    x: np.ndarray


def sigmoid_forward(x) -> tuple[np.ndarray, SigmoidCache]:
    """out = sigmoid(x), keeping x for the backward. Any shape."""
    x = as_float_array("sigmoid_forward", "x", x)
    return sigmoid(x), SigmoidCache(x)


def sigmoid_backward(dout, cache: SigmoidCache) -> np.ndarray:
    """dx = dout * sigma'(x), with sigma'(x) from :func:`sigmoid_grad`. dout, dx: shape of x."""
    dout = as_float_array("sigmoid_backward", "dout", dout)
    check_same_shape("sigmoid_backward", "dout", dout, "x", cache.x)
    return (dout * sigmoid_grad(cache.x)).astype(cache.x.dtype, copy=False)


def relu_forward(x) -> tuple[np.ndarray, ReluCache]:
    """out = max(x, 0), keeping x for the backward. Any shape."""
    x = as_float_array("relu_forward", "x", x)
    return relu(x), ReluCache(x)


def relu_backward(dout, cache: ReluCache) -> np.ndarray:
    """dx = dout where x > 0, else 0. dout, dx: shape of x."""
    dout = as_float_array("relu_backward", "dout", dout)
    check_same_shape("relu_backward", "dout", dout, "x", cache.x)
    return np.where(cache.x > 0, dout, 0).astype(cache.x.dtype, copy=False)
