"""Chapter 2 (softmax): overflow of the textbook formula, the gradient three ways, loss pairings.

The tables the chapter shows, numpy only; the figures and the explorer are in
:mod:`dlcore.explorers.ch02`.
"""
from __future__ import annotations

import numpy as np

from dlcore.gradcheck import max_relative_error, numerical_gradient
from dlcore.losses import cross_entropy, cross_entropy_grad, mse_loss, mse_loss_grad
from dlcore.softmax import naive_softmax, softmax, softmax_backward, softmax_forward


def overflow_table(z) -> dict[str, np.ndarray]:
    """The textbook formula ``exp(z) / Σ exp(z)`` next to the max-shifted one, for logits ``z`` (C,).

    Columns (each ``(C,)``): ``z``; ``exp_z`` (inf where z > 709, evaluated without a warning);
    ``naive`` (``dlcore.softmax.naive_softmax``, nan once a term is inf); ``shifted`` = z − max z;
    ``exp_shifted`` (every exponent ≤ 0, so ≤ 1 and the largest is exactly 1); ``stable``
    (``dlcore.softmax.softmax``).
    """

    z = np.asarray(z, dtype=np.float64)
    with np.errstate(over="ignore"):
        e = np.exp(z)
    shifted = z - z.max()
    return {"z": z, "exp_z": e, "naive": naive_softmax(z), "shifted": shifted,
            "exp_shifted": np.exp(shifted), "stable": softmax(z)}


def gradient_three_ways(logits, labels) -> dict[str, np.ndarray]:
    """The gradient of mean cross-entropy∘softmax with respect to the logits, computed three ways.

    ``formula``: (softmax(logits) − onehot(labels)) / N;
    ``chain``: dL/dp = −onehot / (N·p) pushed back through the softmax Jacobian
    (``dlcore.softmax.softmax_backward``);
    ``numerical``: central differences of ``dlcore.losses.cross_entropy`` (``dlcore.gradcheck``);
    ``reference``: ``dlcore.losses.cross_entropy_grad``. ``logits`` (N, C), ``labels`` (N,); each (N, C).
    """

    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels)
    n, c = logits.shape
    onehot = np.eye(c)[labels]
    p, cache = softmax_forward(logits)
    return {"formula": (softmax(logits) - onehot) / n,
            "chain": softmax_backward(-onehot / (n * p), cache),
            "numerical": numerical_gradient(lambda z: cross_entropy(z, labels), logits.copy()),
            "reference": cross_entropy_grad(logits, labels)}


def pairing_table(margins, n_classes: int = 3) -> dict[str, np.ndarray]:
    """Softmax + cross-entropy versus softmax + MSE when the network is confidently wrong.

    For each margin m the logits are ``[m, 0, ..., 0]`` and the true class is 1, so larger m means
    a more confident wrong answer. Columns (each ``(K,)``): ``margin``, ``p_true``, ``ce`` and the
    norm of its gradient in the logits ``ce_grad``; ``mse`` = mse_loss(p, onehot) and the norm of
    its gradient in the logits ``mse_grad`` (through ``softmax_backward``).
    """

    margins = np.atleast_1d(np.asarray(margins, dtype=np.float64))
    cols = {k: np.empty_like(margins) for k in ("p_true", "ce", "ce_grad", "mse", "mse_grad")}
    onehot = np.zeros((1, n_classes))
    onehot[0, 1] = 1.0
    labels = np.array([1])
    for i, m in enumerate(margins):
        z = np.zeros((1, n_classes))
        z[0, 0] = m
        p, cache = softmax_forward(z)
        cols["p_true"][i] = p[0, 1]
        cols["ce"][i] = cross_entropy(z, labels)
        cols["ce_grad"][i] = np.linalg.norm(cross_entropy_grad(z, labels))
        cols["mse"][i] = mse_loss(p, onehot)
        cols["mse_grad"][i] = np.linalg.norm(softmax_backward(mse_loss_grad(p, onehot), cache))
    return {"margin": margins, **cols}


def gradient_check_table(n: int = 4, c: int = 5, seed: int = 5, h: float = 1e-5, scale: float = 1.0) -> dict[str, float]:
    """How a gradient check tells a right gradient from a wrong one (the checker exercise's read-out).

    Logits ``normal(size=(n, c)) * scale`` and labels from ``default_rng(seed)``; each entry is the
    largest elementwise relative error (``dlcore.gradcheck.max_relative_error``) between a
    gradient and the numerical one of ``dlcore.losses.cross_entropy``:

    ``correct``: p − y over N against central differences; ``no_1_over_n``: p − y without the
    1/N (its error is (N − 1)/(N + 1) in every entry); ``forward_difference``: the correct
    gradient against one-sided differences (f(x + h e_i) − f(x)) / h, whose error is O(h);
    ``worst_entry`` and ``worst_abs_diff``: the correct gradient's entry where its relative error
    is largest, and the absolute difference there (tiny entries make relative errors large).
    """

    rng = np.random.default_rng(seed)
    logits, labels = rng.normal(size=(n, c)) * scale, rng.integers(0, c, size=n)
    loss = lambda z: cross_entropy(z, labels)  # noqa: E731
    right = cross_entropy_grad(logits, labels)
    central = numerical_gradient(loss, logits.copy(), h=h)
    f0, forward = loss(logits), np.empty_like(logits)
    for idx in np.ndindex(logits.shape):
        bumped = logits.copy()
        bumped[idx] += h
        forward[idx] = (loss(bumped) - f0) / h
    rel = np.abs(right - central) / np.maximum(np.abs(right) + np.abs(central), 1e-12)
    worst = np.unravel_index(int(rel.argmax()), rel.shape)
    return {"correct": max_relative_error(right, central),
            "no_1_over_n": max_relative_error(right * n, central),
            "forward_difference": max_relative_error(right, forward),
            "worst_entry": float(right[worst]), "worst_abs_diff": float(abs(right[worst] - central[worst]))}


def linear_softmax_digits(forward=None, backward=None, loss_grad=None, *, steps: int = 200, lr: float = 2.0,
                          seed: int = 0) -> dict:
    """A linear softmax classifier (affine layer + softmax cross-entropy) trained on the 8×8 digits.

    Full-batch gradient descent for ``steps`` steps with learning rate ``lr`` on the training part of
    a stratified 70/15/15 split (``dlcore.data.train_val_test_split`` with ``seed``); weights start
    at ``normal(0, 0.01)`` (10, 64) from ``default_rng(seed)``, the bias at 0. Each step calls
    ``forward(x, w, b) -> logits``, ``loss_grad(logits, labels) -> dlogits`` and
    ``backward(dlogits, x, w) -> (dx, dw, db)``; by default dlcore's (``linear``,
    ``losses.cross_entropy_grad``), or a student's own functions. The loss and accuracies are
    always measured with dlcore's references.

    Returns ``loss`` (steps + 1,), the training loss before each step and after the last;
    ``train_acc``, ``test_acc``; ``w``, ``b``; ``error``: None, or what went wrong when one of the
    functions given failed (an unfinished exercise), with every other entry None.
    """

    from dlcore.data import load_digits, train_val_test_split
    from dlcore.linear import linear_backward, linear_forward

    forward = forward or (lambda x, w, b: linear_forward(x, w, b)[0])
    backward = backward or (lambda dout, x, w: linear_backward(dout, linear_forward(x, w, np.zeros(len(w)))[1]))
    loss_grad = loss_grad or cross_entropy_grad
    X, y = load_digits()
    s = train_val_test_split(X, y, seed)
    rng = np.random.default_rng(seed)
    w, b = rng.normal(0.0, 0.01, size=(10, 64)), np.zeros(10)
    losses = []
    try:
        for _ in range(steps):
            logits = np.asarray(forward(s.X_train, w, b), dtype=np.float64)
            losses.append(cross_entropy(logits, s.y_train))
            _, dw, db = backward(np.asarray(loss_grad(logits, s.y_train), dtype=np.float64), s.X_train, w)
            w = w - lr * np.asarray(dw, dtype=np.float64)
            b = b - lr * np.asarray(db, dtype=np.float64)
    except Exception as exc:  # noqa: BLE001 - an unfinished exercise must not break the chapter
        return {"loss": None, "train_acc": None, "test_acc": None, "w": None, "b": None,
                "error": f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__}
    out_train = s.X_train @ w.T + b
    losses.append(cross_entropy(out_train, s.y_train))
    return {"loss": np.array(losses), "train_acc": float(np.mean(out_train.argmax(1) == s.y_train)),
            "test_acc": float(np.mean((s.X_test @ w.T + b).argmax(1) == s.y_test)), "w": w, "b": b, "error": None}
