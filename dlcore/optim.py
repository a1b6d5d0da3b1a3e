"""Gradient-descent optimizers and learning-rate schedules (taught in chapter 4).

Each optimizer owns a list of parameter arrays and updates them **in place** when you call
``opt.step(grads)`` with a list of gradients of the same shapes. One step is exactly the update
that the same-named ``torch.optim`` class makes with the same arguments (single parameter
group, ``maximize=False``, no ``amsgrad``/``centered``/``lr_decay``), including PyTorch's
conventions that the study notes write differently:

* weight decay ``λ`` adds ``λ·w`` to the gradient before anything else (the gradient of the
  penalty ``λ/2·‖w‖²``);
* SGD's momentum buffer starts as a copy of the first gradient, and the step is
  ``w ← w − lr·b`` with ``b ← μ·b + (1 − dampening)·g``. The notes write
  ``v ← α·v − ε·g, w ← w + v``; with a constant ``lr`` the two are the same walk, with
  ``v = −lr·b`` (see :func:`sgd_momentum_notes_step`).

The internal state is public so a chapter can plot it: ``SGD.velocity`` (PyTorch's
``momentum_buffer``), ``Adagrad.sum_sq`` (the accumulator r), ``RMSprop.square_avg``,
``Adam.exp_avg`` / ``Adam.exp_avg_sq``, and ``step_count`` on all of them.

Each update equation is written once, as a function on one parameter (:func:`sgd_update`,
:func:`adagrad_update`, :func:`rmsprop_update`, :func:`adam_update`) that works on arrays and on
plain floats alike: the classes step every parameter array with it, and
:func:`dlcore.surfaces.run_optimizer` steps the two coordinates of a point with it.

Schedules (:class:`StepLR`, :class:`ExponentialLR`) read and write ``opt.lr`` and are stepped
once per epoch, after the epoch's optimizer steps, as in PyTorch.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

__all__ = [
    "Optimizer", "SGD", "Adagrad", "RMSprop", "Adam",
    "StepLR", "ExponentialLR", "sgd_momentum_notes_step",
    "sgd_update", "adagrad_update", "rmsprop_update", "adam_update",
]


def _check_hyper(cls: str, name: str, value, low: float = 0.0, high: float | None = None,
                 low_open: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{cls}: {name} must be a number, got {value!r}") from None
    bad = (v <= low if low_open else v < low) or (high is not None and v >= high) or math.isnan(v)
    if bad:
        lo = f"> {low}" if low_open else f">= {low}"
        hi = f" and < {high}" if high is not None else ""
        raise ValueError(f"{cls}: {name} must be {lo}{hi}, got {value!r}")
    return v


def _sqrt(v):
    # math.sqrt on a Python float (a surface trajectory steps floats), np.sqrt on arrays: both
    # are correctly rounded, so the two paths give the same numbers.
    return math.sqrt(v) if isinstance(v, float) else np.sqrt(v)


# ---------------------------------------------------------------------------------------------
# The update equations, once. Each takes one parameter w (an array, or a float), its gradient g,
# the optimizer's state for it and the step number t = 1, 2, ..., and returns the new w and the
# new state without changing its arguments. The classes below apply them to every parameter
# array in place; dlcore.surfaces applies them to the two coordinates of a point.

def sgd_update(w, g, b, t: int, *, lr: float, momentum: float = 0.0, dampening: float = 0.0,
               nesterov: bool = False, weight_decay: float = 0.0):
    """One step of :class:`SGD`; returns ``(w, b)``.

    g ← g + λ·w;  b ← g if t = 1, else μ·b + (1 − dampening)·g;
    d ← g + μ·b (Nesterov) or b (heavy ball) or g (μ = 0);  w ← w − lr·d.

    >>> sgd_update(1.0, 0.5, 0.0, 1, lr=0.1)
    (0.95, 0.0)
    """
    if weight_decay:
        g = g + weight_decay * w
    if momentum:
        b = g if t == 1 else momentum * b + (1 - dampening) * g
        d = g + momentum * b if nesterov else b
    else:
        d = g
    return w - lr * d, b


def adagrad_update(w, g, r, t: int, *, lr: float, eps: float = 1e-10, weight_decay: float = 0.0):
    """One step of :class:`Adagrad`; returns ``(w, r)``.  g ← g + λ·w;  r ← r + g²;  w ← w − lr·g/(√r + eps)."""
    if weight_decay:
        g = g + weight_decay * w
    r = r + g * g
    return w - lr * (g / (_sqrt(r) + eps)), r


def rmsprop_update(w, g, s, t: int, *, lr: float, alpha: float = 0.99, eps: float = 1e-8,
                   weight_decay: float = 0.0):
    """One step of :class:`RMSprop`; returns ``(w, s)``.  g ← g + λ·w;  s ← α·s + (1 − α)·g²;  w ← w − lr·g/(√s + eps)."""
    if weight_decay:
        g = g + weight_decay * w
    s = s * alpha + (1 - alpha) * (g * g)
    return w - lr * (g / (_sqrt(s) + eps)), s


def adam_update(w, g, m, v, t: int, *, lr: float, betas: tuple[float, float] = (0.9, 0.999),
                eps: float = 1e-8, weight_decay: float = 0.0):
    """One step of :class:`Adam`; returns ``(w, m, v)``.

    g ← g + λ·w;  m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²;
    w ← w − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps).
    """
    beta1, beta2 = betas
    if weight_decay:
        g = g + weight_decay * w
    m = m + (1 - beta1) * (g - m)  # torch's lerp_: the same average, rounded as torch does
    v = v * beta2 + (1 - beta2) * (g * g)
    step_size = lr / (1 - beta1 ** t)
    return w - step_size * (m / (_sqrt(v) / math.sqrt(1 - beta2 ** t) + eps)), m, v


class Optimizer:
    """Base class: keeps ``params`` (updated in place), ``lr`` and ``step_count``.

    A subclass names its update function (``update``), the attributes holding its per-parameter
    state (``state_names``, lists of arrays like ``params``) and its hyperparameters
    (:meth:`hyper`); :meth:`step` applies the update to every parameter.
    """

    update = None
    state_names: tuple[str, ...] = ()

    def __init__(self, params: Sequence[np.ndarray], lr: float, weight_decay: float = 0.0):
        cls = type(self).__name__
        if isinstance(params, np.ndarray):
            raise ValueError(f"{cls}: params must be a list of arrays, got a single array; "
                             f"wrap it as [w]")
        params = list(params)
        if not params:
            raise ValueError(f"{cls}: params is an empty list")
        for i, p in enumerate(params):
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                got = p.dtype if isinstance(p, np.ndarray) else type(p).__name__
                raise ValueError(f"{cls}: params[{i}] must be a float numpy array (it is updated "
                                 f"in place), got {got}")
        self.params = params
        self.lr = _check_hyper(cls, "lr", lr)
        self.weight_decay = _check_hyper(cls, "weight_decay", weight_decay)
        self.step_count = 0

    def _zeros(self) -> list[np.ndarray]:
        return [np.zeros_like(p) for p in self.params]

    def _grads(self, grads: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Check ``grads`` against ``params``; each in the parameter's dtype."""
        cls = type(self).__name__
        if isinstance(grads, np.ndarray):
            grads = [grads]
        grads = list(grads)
        if len(grads) != len(self.params):
            raise ValueError(f"{cls}.step: grads has {len(grads)} arrays but params has "
                             f"{len(self.params)}")
        out = []
        for i, (p, g) in enumerate(zip(self.params, grads)):
            g = np.asarray(g)
            if g.shape != p.shape:
                raise ValueError(f"{cls}.step: grads[{i}] has shape {g.shape} but params[{i}] "
                                 f"has shape {p.shape}")
            out.append(g.astype(p.dtype, copy=False))
        return out

    def hyper(self) -> dict:
        """The keyword arguments of :attr:`update` (the current ``lr`` included)."""
        raise NotImplementedError

    def step(self, grads: Sequence[np.ndarray]) -> None:
        """Update every parameter in place: ``w, *state = update(w, g, *state, t, **hyper())``."""
        grads = self._grads(grads)
        self.step_count += 1
        hyper = self.hyper()
        for i, (p, g) in enumerate(zip(self.params, grads)):
            state = [getattr(self, name)[i] for name in self.state_names]
            p_new, *state_new = type(self).update(p, g, *state, self.step_count, **hyper)
            p[...] = p_new
            for s, s_new in zip(state, state_new):
                if s_new is not s:
                    s[...] = s_new

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr:g}, {len(self.params)} params)"


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, as ``torch.optim.SGD``.

    g ← g + λ·w;  b ← g on the first step, else b ← μ·b + (1 − dampening)·g;
    d ← g + μ·b (Nesterov) or b (heavy ball) or g (μ = 0);  w ← w − lr·d   (:func:`sgd_update`).
    """

    update = staticmethod(sgd_update)
    state_names = ("velocity",)

    def __init__(self, params, lr: float, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0, dampening: float = 0.0):
        super().__init__(params, lr, weight_decay)
        self.momentum = _check_hyper("SGD", "momentum", momentum)
        self.dampening = _check_hyper("SGD", "dampening", dampening)
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("SGD: nesterov=True needs momentum > 0 and dampening = 0, "
                             f"got momentum={momentum!r}, dampening={dampening!r}")
        #: PyTorch's ``momentum_buffer`` b for each parameter (zeros before the first step).
        self.velocity = self._zeros()

    @property
    def momentum_buffer(self) -> list[np.ndarray]:
        return self.velocity

    def hyper(self) -> dict:
        return {"lr": self.lr, "momentum": self.momentum, "dampening": self.dampening,
                "nesterov": self.nesterov, "weight_decay": self.weight_decay}


def sgd_momentum_notes_step(w: np.ndarray, v: np.ndarray, g: np.ndarray, lr: float,
                            momentum: float) -> tuple[np.ndarray, np.ndarray]:
    """One momentum step in the study notes' form; returns new ``(w, v)`` and changes nothing.

    v ← α·v − ε·g,  w ← w + v   (α = ``momentum``, ε = ``lr``; start from v = 0).

    With v₀ = 0 and a constant lr this walks exactly the points of ``SGD(momentum=α)``,
    whose buffer b satisfies v = −lr·b after every step.
    """
    w = np.asarray(w)
    v_new = momentum * np.asarray(v) - lr * np.asarray(g)
    return w + v_new, v_new


class Adagrad(Optimizer):
    """Adagrad, as ``torch.optim.Adagrad`` (lr_decay=0, initial_accumulator_value=0).

    g ← g + λ·w;  r ← r + g²;  w ← w − lr·g / (√r + eps)   (:func:`adagrad_update`).
    """

    update = staticmethod(adagrad_update)
    state_names = ("sum_sq",)

    def __init__(self, params, lr: float = 1e-2, eps: float = 1e-10, weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        self.eps = _check_hyper("Adagrad", "eps", eps)
        #: The running sum of squared gradients r (PyTorch's ``sum``).
        self.sum_sq = self._zeros()

    def hyper(self) -> dict:
        return {"lr": self.lr, "eps": self.eps, "weight_decay": self.weight_decay}


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop`` (momentum=0, centered=False).

    g ← g + λ·w;  s ← α·s + (1 − α)·g²;  w ← w − lr·g / (√s + eps)   (:func:`rmsprop_update`).
    """

    update = staticmethod(rmsprop_update)
    state_names = ("square_avg",)

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        self.alpha = _check_hyper("RMSprop", "alpha", alpha)
        self.eps = _check_hyper("RMSprop", "eps", eps)
        #: The exponential moving average of squared gradients s.
        self.square_avg = self._zeros()

    def hyper(self) -> dict:
        return {"lr": self.lr, "alpha": self.alpha, "eps": self.eps, "weight_decay": self.weight_decay}


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam`` (amsgrad=False).

    g ← g + λ·w;  m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²;  t ← t + 1;
    w ← w − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)   (:func:`adam_update`).
    """

    update = staticmethod(adam_update)
    state_names = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (_check_hyper("Adam", "betas[0]", betas[0], high=1.0),
                      _check_hyper("Adam", "betas[1]", betas[1], high=1.0))
        self.eps = _check_hyper("Adam", "eps", eps)
        #: First moment m (moving average of gradients) and second moment v (of their squares).
        self.exp_avg = self._zeros()
        self.exp_avg_sq = self._zeros()

    def hyper(self) -> dict:
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps, "weight_decay": self.weight_decay}


class _Schedule:
    """Base: remembers ``base_lr`` and counts epochs in ``last_epoch`` (0 after construction)."""

    def __init__(self, optimizer: Optimizer):
        if not isinstance(optimizer, Optimizer):
            raise ValueError(f"{type(self).__name__}: optimizer must be a dlcore.optim optimizer, "
                             f"got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = 0

    def get_last_lr(self) -> list[float]:
        """The current learning rate, as a one-element list (PyTorch returns one per group)."""
        return [self.optimizer.lr]

    def step(self) -> None:
        """Advance one epoch and set ``optimizer.lr``."""
        self.last_epoch += 1
        self.optimizer.lr = self._next_lr(self.optimizer.lr)


class StepLR(_Schedule):
    """Multiply lr by ``gamma`` every ``step_size`` epochs: lr = base_lr · γ^⌊epoch / step_size⌋."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        super().__init__(optimizer)
        if not isinstance(step_size, (int, np.integer)) or isinstance(step_size, bool) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be an int >= 1, got {step_size!r}")
        self.step_size = int(step_size)
        self.gamma = _check_hyper("StepLR", "gamma", gamma)

    def _next_lr(self, lr: float) -> float:
        # Chained like PyTorch (multiply the current lr), so the floats match PyTorch's exactly.
        return lr * self.gamma if self.last_epoch % self.step_size == 0 else lr


class ExponentialLR(_Schedule):
    """Multiply lr by ``gamma`` every epoch: lr = base_lr · γ^epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float):
        super().__init__(optimizer)
        self.gamma = _check_hyper("ExponentialLR", "gamma", gamma)

    def _next_lr(self, lr: float) -> float:
        return lr * self.gamma
