"""A training loop for :mod:`dlcore.nn` models (used from chapter 6 on).

:func:`fit` runs mini-batch training with any :mod:`dlcore.optim` optimizer, an optional
learning-rate schedule and optional early stopping, and returns a :class:`History` of the
per-epoch loss, accuracy and learning rate. One epoch:

    model.train(); for each shuffled mini-batch (x, y):
        out = model.forward(x);  loss = L(out, y);  model.backward(dL/dout);
        optimizer.step(model.grads())
    evaluate on the validation set (model.eval()); scheduler.step(); early_stopping check

Two options serve the chapters' experiments: ``eval_train=True`` records the training loss and
accuracy in evaluation mode on the whole training set after each epoch (as the validation numbers
are, so the two curves compare like with like; by default they are the running means over the
epoch's mini-batches), and ``callback(epoch, history)`` runs after every epoch and ends the run by
returning True (e.g. on a diverging loss).

The progress bar is ``tqdm.auto`` (a widget in Jupyter, text in a terminal), imported only when
``progress=True``. :func:`evaluate`, :func:`predict_proba` and :func:`predict` run a model in
evaluation mode, in batches.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from dlcore import losses as _losses
from dlcore.softmax import softmax as _softmax

__all__ = ["History", "fit", "evaluate", "predict_proba", "predict", "LOSSES"]


def _acc_argmax(out, y) -> float:
    return float(np.mean(np.argmax(out, axis=1) == y))


def _acc_threshold(out, y) -> float:
    return float(np.mean((out > 0.5) == (y > 0.5)))


def _acc_none(out, y) -> float:
    return math.nan


#: loss name -> (loss(out, y) -> float, grad(out, y) -> dout, accuracy(out, y) -> float).
LOSSES: dict[str, tuple[Callable, Callable, Callable]] = {
    "cross_entropy": (_losses.cross_entropy, _losses.cross_entropy_grad, _acc_argmax),
    "binary_cross_entropy": (_losses.binary_cross_entropy, _losses.binary_cross_entropy_grad,
                             _acc_threshold),
    "mse": (_losses.mse_loss, _losses.mse_loss_grad, _acc_none),
}


def _loss_fns(fn: str, loss):
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"{fn}: loss must be one of {sorted(LOSSES)} or a pair "
                             f"(loss_fn, grad_fn), got {loss!r}")
        return LOSSES[loss]
    if isinstance(loss, (tuple, list)) and len(loss) in (2, 3) and all(map(callable, loss)):
        return tuple(loss) if len(loss) == 3 else (loss[0], loss[1], _acc_none)
    raise ValueError(f"{fn}: loss must be one of {sorted(LOSSES)} or a pair (loss_fn, grad_fn), "
                     f"got {loss!r}")


@dataclass
class History:
    """Per-epoch record of a :func:`fit` run; every list has one entry per epoch run.

    ``lr`` is the learning rate used during the epoch; ``val_*`` are NaN without validation
    data; ``best_epoch`` is the index (0-based, into these lists) of the lowest validation loss
    (training loss without validation data); ``stopped_early`` says whether early stopping
    ended the run.
    """

    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    stopped_by_callback: bool = False
    seconds: float = 0.0

    @property
    def epochs(self) -> int:
        return len(self.train_loss)


def _batches(n: int, batch_size: int):
    for start in range(0, n, batch_size):
        yield slice(start, min(start + batch_size, n))


def _forward_eval(model, X, batch_size: int) -> np.ndarray:
    was_training = model.training
    model.eval()
    try:
        outs = [model.forward(X[s]) for s in _batches(len(X), batch_size)]
    finally:
        model.train(was_training)
    return np.concatenate(outs, axis=0)


def evaluate(model, X, y, *, loss="cross_entropy", batch_size: int = 512) -> tuple[float, float]:
    """``(mean loss, accuracy)`` of ``model`` on ``(X, y)`` in evaluation mode.

    The model's train/eval mode is restored afterwards. Accuracy is NaN for ``loss="mse"``.
    """
    loss_fn, _, acc_fn = _loss_fns("evaluate", loss)
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"evaluate: X and y must have the same length, got {len(X)} and {len(y)}")
    out = _forward_eval(model, X, batch_size)
    return float(loss_fn(out, y)), acc_fn(out, y)


def predict_proba(model, X, *, batch_size: int = 512) -> np.ndarray:
    """Class probabilities softmax(model(X)), shape (N, classes), in evaluation mode."""
    return _softmax(_forward_eval(model, np.asarray(X), batch_size), axis=1)


def predict(model, X, *, batch_size: int = 512) -> np.ndarray:
    """Predicted class indices argmax model(X), shape (N,), in evaluation mode."""
    return np.argmax(_forward_eval(model, np.asarray(X), batch_size), axis=1)


def fit(model, X, y, *, loss="cross_entropy", optimizer, epochs: int, batch_size: int = 32, rng,
        X_val=None, y_val=None, scheduler=None, early_stopping=None, restore_best: bool = True,
        progress: bool = True, eval_train: bool = False, callback=None) -> History:
    """Train ``model`` with mini-batch gradient descent; return the :class:`History`.

    model: a :mod:`dlcore.nn` layer (usually ``Sequential``); X: (N, ...), y: (N,) labels (or
    targets for ``loss="mse"``); loss: ``"cross_entropy"`` (logits vs class indices),
    ``"binary_cross_entropy"`` (probabilities), ``"mse"``, or a pair ``(loss_fn, grad_fn)``;
    optimizer: built on ``model.parameters()``; rng: shuffles the mini-batches each epoch.
    ``scheduler.step()`` runs after every epoch. ``early_stopping`` (a
    ``dlcore.regularization.EarlyStopping``; its ``step(value)`` returns True to stop) watches
    the validation loss (the training loss
    without validation data); with ``restore_best=True`` the model ends with the weights of
    the best epoch whenever ``early_stopping`` is given. ``eval_train=True``: ``train_loss`` and
    ``train_acc`` are measured after each epoch in evaluation mode on all of ``(X, y)`` instead of
    averaged over the epoch's mini-batches. ``callback(epoch, history)`` (0-based epoch) runs after
    each epoch's bookkeeping; returning True ends the run (``history.stopped_by_callback``).
    """
    fn = "fit"
    loss_fn, grad_fn, acc_fn = _loss_fns(fn, loss)
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y) or len(X) == 0:
        raise ValueError(f"{fn}: X and y must have the same, non-zero length, got {len(X)} and {len(y)}")
    has_val = X_val is not None
    if has_val:
        if y_val is None:
            raise ValueError(f"{fn}: X_val is given but y_val is None")
        X_val, y_val = np.asarray(X_val), np.asarray(y_val)
    if not isinstance(epochs, (int, np.integer)) or isinstance(epochs, bool) or epochs < 1:
        raise ValueError(f"{fn}: epochs must be an int >= 1, got {epochs!r}")
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"{fn}: batch_size must be an int >= 1, got {batch_size!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"{fn}: rng must be a numpy.random.Generator, got {rng!r}")
    if callback is not None and not callable(callback):
        raise ValueError(f"{fn}: callback must be a function (epoch, history) -> bool, got {callback!r}")
    params = model.parameters()
    if len(optimizer.params) != len(params) or any(a is not b for a, b in zip(optimizer.params, params)):
        raise ValueError(f"{fn}: the optimizer does not hold this model's parameters; build it as "
                         f"{type(optimizer).__name__}(model.parameters(), ...)")

    hist = History()
    best_value, best_state = math.inf, None
    keep_best = early_stopping is not None and restore_best
    epoch_iter = range(int(epochs))
    bar = None
    if progress:
        from tqdm.auto import tqdm  # only here: the numpy core never imports tqdm

        bar = tqdm(epoch_iter, desc="fit", unit="epoch", leave=True)
        epoch_iter = bar
    n = len(X)
    t0 = time.perf_counter()
    try:
        for epoch in epoch_iter:
            model.train()
            lr_now = optimizer.lr
            order = rng.permutation(n)
            total_loss, total_acc = 0.0, 0.0
            for s in _batches(n, int(batch_size)):
                idx = order[s]
                xb, yb = X[idx], y[idx]
                out = model.forward(xb)
                total_loss += loss_fn(out, yb) * len(idx)
                total_acc += acc_fn(out, yb) * len(idx)
                model.backward(grad_fn(out, yb))
                optimizer.step(model.grads())
            if eval_train:
                tl, ta = evaluate(model, X, y, loss=loss)
            else:
                tl, ta = total_loss / n, total_acc / n
            hist.train_loss.append(tl)
            hist.train_acc.append(ta)
            hist.lr.append(lr_now)
            if has_val:
                vl, va = evaluate(model, X_val, y_val, loss=loss)
            else:
                vl, va = math.nan, math.nan
            hist.val_loss.append(vl)
            hist.val_acc.append(va)

            monitored = vl if has_val else hist.train_loss[-1]
            if monitored < best_value:
                best_value, hist.best_epoch = monitored, epoch
                if keep_best:
                    best_state = model.state()
            if bar is not None:
                shown = {"loss": f"{hist.train_loss[-1]:.4f}"}
                if has_val:
                    shown.update(val_loss=f"{vl:.4f}", val_acc=f"{va:.3f}")
                bar.set_postfix(shown, refresh=False)
            if scheduler is not None:
                scheduler.step()
            if early_stopping is not None and early_stopping.step(monitored):
                hist.stopped_early = True
                break
            if callback is not None and callback(epoch, hist):
                hist.stopped_by_callback = True
                break
    finally:
        if bar is not None:
            bar.close()
    if keep_best and best_state is not None:
        model.load_state(best_state)
    hist.seconds = time.perf_counter() - t0
    return hist
