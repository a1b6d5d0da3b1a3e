"""Regularisation: inverted dropout, L2 weight decay and early stopping (taught in chapter 6).

Dropout follows ``torch.nn.functional.dropout``: ``p`` is the probability of DROPPING a
unit, and the kept units are scaled by 1/(1 - p) during training so that the expected
activation is unchanged and evaluation needs no rescaling (the layer is then the identity).
"""
from __future__ import annotations

import math
from typing import NamedTuple, Optional

import numpy as np

from dlcore._checks import as_float_array, check_positive, check_same_shape


class DropoutCache(NamedTuple):
    mask: Optional[np.ndarray]  # 0 or 1/(1 - p) per unit, dtype of x; None when dropout was the identity


def _check_p(fn: str, p) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{fn}: p (the drop probability) must be a number in [0, 1], got {p!r}")
    return float(p)


def dropout_forward(x, p: float, rng: Optional[np.random.Generator], train: bool = True):
    """Inverted dropout: out = x * mask, mask_i = 1/(1 - p) with probability 1 - p, else 0.

    x: any shape; p: drop probability in [0, 1]; rng: ``numpy.random.Generator`` (may be None
    when no randomness is needed: ``train=False``, p = 0 or p = 1). With ``train=False`` or
    p = 0 the output is x itself; p = 1 drops everything (all zeros, as in torch).
    Returns (out, cache); out has x's shape and dtype. The mask does not depend on x's dtype,
    so float32 and float64 runs with the same seed drop the same units.
    """
    fn = "dropout_forward"
    x = as_float_array(fn, "x", x)
    p = _check_p(fn, p)
    if not isinstance(train, (bool, np.bool_)):
        raise ValueError(f"{fn}: train must be True or False, got {train!r}")
    needs_rng = bool(train) and 0.0 < p < 1.0
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise ValueError(f"{fn}: rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                         f"got {type(rng).__name__}")
    if needs_rng and rng is None:
        raise ValueError(f"{fn}: rng must be a numpy.random.Generator when train=True and 0 < p < 1, got None")
    if not train or p == 0.0:
        return x, DropoutCache(None)
    if p == 1.0:
        mask = np.zeros(x.shape, dtype=x.dtype)  # torch returns zeros here rather than x * 0 / 0
    else:
        mask = (rng.random(x.shape) >= p).astype(x.dtype)
        mask *= x.dtype.type(1.0 / (1.0 - p))
    return x * mask, DropoutCache(mask)


def dropout_backward(dout, cache: DropoutCache) -> np.ndarray:
    """dx = dout * mask (the same units dropped, the same 1/(1 - p) scale); dout when dropout was the identity."""
    fn = "dropout_backward"
    dout = as_float_array(fn, "dout", dout)
    if cache.mask is None:
        return dout
    check_same_shape(fn, "dout", dout, "mask", cache.mask)
    return (dout * cache.mask).astype(cache.mask.dtype, copy=False)


def _check_decay(fn: str, weight_decay) -> float:
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float, np.integer, np.floating)):
        raise ValueError(f"{fn}: weight_decay must be a number >= 0, got {weight_decay!r}")
    check_positive(fn, "weight_decay", weight_decay, allow_zero=True)
    return float(weight_decay)


def l2_penalty(weights, weight_decay: float) -> float:
    """L2 weight-decay penalty: (lambda / 2) * sum over arrays of ||w||^2, lambda = weight_decay.

    ``weights`` is one array or a list/tuple of arrays (biases are usually left out). Its
    gradient, :func:`l2_penalty_grad`, is lambda * w: what ``torch.optim``'s ``weight_decay``
    adds to each gradient. Returns a Python float.

    >>> l2_penalty([np.array([3.0, 4.0])], weight_decay=0.1)
    1.25
    """
    fn = "l2_penalty"
    lam = _check_decay(fn, weight_decay)
    arrays = weights if isinstance(weights, (list, tuple)) else [weights]
    total = 0.0
    for i, w in enumerate(arrays):
        w = as_float_array(fn, f"weights[{i}]" if arrays is weights else "weights", w).astype(np.float64)
        total += float(np.dot(w.reshape(-1), w.reshape(-1)))
    return 0.5 * lam * total


def l2_penalty_grad(w, weight_decay: float):
    """Gradient of :func:`l2_penalty`: lambda * w (a list in, a list out). Shape and dtype of w."""
    fn = "l2_penalty_grad"
    lam = _check_decay(fn, weight_decay)
    if isinstance(w, (list, tuple)):
        return [l2_penalty_grad(v, lam) for v in w]
    w = as_float_array(fn, "w", w)
    return (lam * w).astype(w.dtype, copy=False)


class EarlyStopping:
    """Stop training when the validation loss has not improved for ``patience`` epochs.

    Call ``step(val_loss)`` once per epoch; it returns True when training should stop.
    An epoch *improves* when ``val_loss < best - min_delta``; then ``best`` and
    ``best_epoch`` (0-based count of ``step`` calls) are updated and ``num_bad_epochs`` is
    reset to 0, otherwise ``num_bad_epochs`` grows by one (a nan loss counts as bad).
    ``should_stop`` becomes True once ``num_bad_epochs >= patience``, i.e. after ``patience``
    consecutive epochs without improvement, and stays True (call ``reset()`` to start over).

    >>> es = EarlyStopping(patience=2)
    >>> [es.step(v) for v in [1.0, 0.5, 0.6, 0.7]]
    [False, False, False, True]
    >>> es.best, es.best_epoch
    (0.5, 1)
    """

    def __init__(self, patience: int, min_delta: float = 0.0):
        fn = "EarlyStopping"
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 1:
            raise ValueError(f"{fn}: patience must be an int >= 1 (epochs without improvement), got {patience!r}")
        if isinstance(min_delta, bool) or not isinstance(min_delta, (int, float, np.integer, np.floating)) \
                or not min_delta >= 0:
            raise ValueError(f"{fn}: min_delta must be a number >= 0, got {min_delta!r}")
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.reset()

    def reset(self) -> None:
        """Forget every loss seen so far."""
        self.best = math.inf
        self.best_epoch = -1
        self.num_bad_epochs = 0
        self.should_stop = False
        self.epoch = -1

    def step(self, val_loss) -> bool:
        """Record one epoch's validation loss; return True when training should stop."""
        try:
            loss = float(val_loss)
        except (TypeError, ValueError):
            raise ValueError(f"EarlyStopping.step: val_loss must be a number, got {val_loss!r}") from None
        self.epoch += 1
        if loss < self.best - self.min_delta:
            self.best = loss
            self.best_epoch = self.epoch
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.num_bad_epochs >= self.patience:
            self.should_stop = True
        return self.should_stop

    def __repr__(self) -> str:
        return (f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, best={self.best}, "
                f"best_epoch={self.best_epoch}, num_bad_epochs={self.num_bad_epochs}, should_stop={self.should_stop})")
