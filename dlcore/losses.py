"""Loss functions and their gradients (taught in chapter 1).

Every loss takes the mean over all elements (PyTorch's ``reduction='mean'``) and returns a
Python ``float``; every ``*_grad`` returns the gradient of that mean with respect to its first
argument, with the first argument's shape and dtype (float32 stays float32).

Besides the contract's losses, chapter 1 compares the two ways of training a sigmoid output
(the "output saturation" argument): :func:`sigmoid_mse_loss` / :func:`sigmoid_mse_grad_z` and
:func:`binary_cross_entropy_with_logits` / :func:`sigmoid_bce_grad_z`, all as functions of
the pre-activation ``z``.
"""
from __future__ import annotations

import numpy as np

from dlcore._checks import as_float_array, check_ndim, check_same_shape

# torch clamps each log term of binary cross-entropy at -100 (so p = 0 or 1 gives a finite
# loss) and divides its gradient by max(p (1 - p), 1e-12) (so the gradient is finite too).
_LOG_CLAMP = -100.0
_BCE_GRAD_EPS = 1e-12


def _pair(fn: str, a, b, name_a: str, name_b: str) -> tuple[np.ndarray, np.ndarray]:
    a = as_float_array(fn, name_a, a)
    b = as_float_array(fn, name_b, b)
    check_same_shape(fn, name_a, a, name_b, b)
    if a.size == 0:
        raise ValueError(f"{fn}: {name_a} must hold at least one element, got shape {tuple(a.shape)}")
    return a, b


def _sigmoid64(z: np.ndarray) -> np.ndarray:
    # exp(-|z|) never overflows, so neither branch warns for any z.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# ---------------------------------------------------------------------------------------------
# mean squared error
# ---------------------------------------------------------------------------------------------
def mse_loss(pred, target) -> float:
    """Mean squared error, as ``torch.nn.functional.mse_loss``.

    L = (1/n) * sum_i (pred_i - target_i)^2, with n = pred.size; pred and target of one shape.

    >>> mse_loss([1.0, 2.0], [0.0, 0.0])
    2.5
    """
    pred, target = _pair("mse_loss", pred, target, "pred", "target")
    diff = pred.astype(np.float64) - target
    return float(np.mean(diff * diff))


def mse_loss_grad(pred, target) -> np.ndarray:
    """Gradient of :func:`mse_loss` with respect to ``pred``: dL/dpred = 2 (pred - target) / n.

    Shape and dtype of ``pred``.
    """
    pred, target = _pair("mse_loss_grad", pred, target, "pred", "target")
    return (2.0 * (pred.astype(np.float64) - target) / pred.size).astype(pred.dtype, copy=False)


# ---------------------------------------------------------------------------------------------
# binary cross-entropy on probabilities
# ---------------------------------------------------------------------------------------------
def _check_probabilities(fn: str, p: np.ndarray) -> None:
    inside = (p >= 0) & (p <= 1)  # False for nan as well, as in torch
    if not inside.all():
        bad = float(p[~inside].reshape(-1)[0])
        raise ValueError(f"{fn}: every element of p must lie in [0, 1], got {bad!r}")


def binary_cross_entropy(p, y) -> float:
    """Binary cross-entropy of probabilities ``p`` against targets ``y``, as torch's.

    L = -(1/n) * sum_i [ y_i * max(log p_i, -100) + (1 - y_i) * max(log(1 - p_i), -100) ]

    ``p`` in [0, 1] and ``y`` (usually 0/1, soft targets allowed) of one shape. Clamping each
    log at -100 keeps the loss finite at p = 0 or 1, exactly as PyTorch does.

    >>> round(binary_cross_entropy([0.5], [1.0]), 6)
    0.693147
    """
    p, y = _pair("binary_cross_entropy", p, y, "p", "y")
    _check_probabilities("binary_cross_entropy", p)
    p64 = p.astype(np.float64)
    with np.errstate(divide="ignore"):  # log(0) = -inf is then clamped to -100
        log_p = np.maximum(np.log(p64), _LOG_CLAMP)
        log_1mp = np.maximum(np.log1p(-p64), _LOG_CLAMP)
    return float(-np.mean(y * log_p + (1.0 - y) * log_1mp))


def binary_cross_entropy_grad(p, y) -> np.ndarray:
    """Gradient of :func:`binary_cross_entropy` with respect to ``p``, as torch's autograd.

    dL/dp_i = (p_i - y_i) / max(p_i (1 - p_i), 1e-12) / n

    The 1e-12 floor (PyTorch's) keeps it finite at p = 0 or 1: it is 0 where p already equals
    y and about -/+1e12 / n where p sits at the wrong end. Shape and dtype of ``p``.
    """
    p, y = _pair("binary_cross_entropy_grad", p, y, "p", "y")
    _check_probabilities("binary_cross_entropy_grad", p)
    p64 = p.astype(np.float64)
    grad = (p64 - y) / np.maximum(p64 * (1.0 - p64), _BCE_GRAD_EPS) / p.size
    return grad.astype(p.dtype, copy=False)


# ---------------------------------------------------------------------------------------------
# the sigmoid output layer, written in terms of the pre-activation z (chapter 1's comparison)
# ---------------------------------------------------------------------------------------------
def sigmoid_mse_loss(z, y) -> float:
    """MSE of a sigmoid output: L = (1/n) * sum_i (sigmoid(z_i) - y_i)^2; z, y of one shape."""
    z, y = _pair("sigmoid_mse_loss", z, y, "z", "y")
    diff = _sigmoid64(z.astype(np.float64)) - y
    return float(np.mean(diff * diff))


def sigmoid_mse_grad_z(z, y) -> np.ndarray:
    """Gradient of :func:`sigmoid_mse_loss` with respect to z.

    dL/dz_i = 2 (s_i - y_i) * s_i (1 - s_i) / n, with s = sigmoid(z).

    The factor s (1 - s) vanishes when the unit saturates (|z| large), even when the output
    is completely wrong: this is why MSE trains a saturated sigmoid so slowly.
    Shape and dtype of ``z``.
    """
    z, y = _pair("sigmoid_mse_grad_z", z, y, "z", "y")
    z64 = z.astype(np.float64)
    s = _sigmoid64(z64)
    e = np.exp(-np.abs(z64))
    ds = e / ((1.0 + e) * (1.0 + e))  # = s (1 - s) without the cancellation in 1 - s
    return (2.0 * (s - y) * ds / z.size).astype(z.dtype, copy=False)


def binary_cross_entropy_with_logits(z, y) -> float:
    """Binary cross-entropy of sigmoid(z), computed stably from z, as torch's same-named function.

    L = (1/n) * sum_i [ max(z_i, 0) - z_i y_i + log(1 + exp(-|z_i|)) ]

    which equals -(1/n) sum_i [y_i log s_i + (1 - y_i) log(1 - s_i)], s = sigmoid(z), without
    ever forming log(0). z, y of one shape.
    """
    z, y = _pair("binary_cross_entropy_with_logits", z, y, "z", "y")
    z64 = z.astype(np.float64)
    return float(np.mean(np.maximum(z64, 0.0) - z64 * y + np.log1p(np.exp(-np.abs(z64)))))


def sigmoid_bce_grad_z(z, y) -> np.ndarray:
    """Gradient of :func:`binary_cross_entropy_with_logits` with respect to z.

    dL/dz_i = (sigmoid(z_i) - y_i) / n

    The sigmoid's derivative cancels against the log, so the gradient stays large while the
    output is wrong, however saturated. Shape and dtype of ``z``.
    """
    z, y = _pair("sigmoid_bce_grad_z", z, y, "z", "y")
    return ((_sigmoid64(z.astype(np.float64)) - y) / z.size).astype(z.dtype, copy=False)


# ---------------------------------------------------------------------------------------------
# softmax cross-entropy on logits and class indices
# ---------------------------------------------------------------------------------------------
def _logits_labels(fn: str, logits, labels) -> tuple[np.ndarray, np.ndarray]:
    logits = as_float_array(fn, "logits", logits)
    check_ndim(fn, "logits", logits, 2, "(N, C)")
    n, c = logits.shape
    if n == 0 or c == 0:
        raise ValueError(f"{fn}: logits must have at least one row and one class, got shape {(n, c)}")
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise ValueError(f"{fn}: labels must be integer class indices, got dtype {labels.dtype}")
    if labels.shape != (n,):
        raise ValueError(f"{fn}: labels must have shape ({n},) to match logits {(n, c)}, got {tuple(labels.shape)}")
    bad = (labels < 0) | (labels >= c)
    if bad.any():
        raise ValueError(f"{fn}: labels must lie in [0, {c - 1}] for {c} classes, got {int(labels[bad][0])}")
    return logits, labels


def _log_softmax64(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64)
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy(logits, labels) -> float:
    """Softmax cross-entropy of ``logits`` (N, C) against class indices ``labels`` (N,), as torch's.

    L = -(1/N) * sum_n log softmax(logits_n)[labels_n]
      = (1/N) * sum_n [ logsumexp(logits_n) - logits_n[labels_n] ]

    >>> round(cross_entropy([[0.0, 0.0]], [1]), 6)
    0.693147
    """
    logits, labels = _logits_labels("cross_entropy", logits, labels)
    logp = _log_softmax64(logits)
    return float(-np.mean(logp[np.arange(logits.shape[0]), labels]))


def cross_entropy_grad(logits, labels) -> np.ndarray:
    """Gradient of :func:`cross_entropy` with respect to the logits.

    dL/dlogits = (softmax(logits) - onehot(labels)) / N;  shape (N, C), dtype of ``logits``.
    """
    logits, labels = _logits_labels("cross_entropy_grad", logits, labels)
    n = logits.shape[0]
    grad = np.exp(_log_softmax64(logits))
    grad[np.arange(n), labels] -= 1.0
    grad /= n
    return grad.astype(logits.dtype, copy=False)
