"""Two-dimensional test surfaces and optimizer trajectories on them (chapters 1 and 4).

Each surface has its value ``f(x, y)``, its analytic gradient ``grad(x, y) -> (gx, gy)`` and
Hessian ``hessian(x, y) -> (fxx, fxy, fyy)``, all vectorised: ``x`` and ``y`` may be floats or
arrays of one shape (a grid from :meth:`Surface.grid`). Registered in :data:`SURFACES`:

========================  =======================================  =============================
name                      f(x, y)                                   what it shows
========================  =======================================  =============================
``"saddle"``              x² − y²                                   a saddle point (马鞍面)
``"plateau_saddle"``      x³ − 3xy² + (x² + y²)²/2                  monkey saddle in a bowl: at 0
                                                                     gradient and Hessian vanish
``"ill_conditioned"``     (a·x² + b·y²)/2, b/a = 20                 zig-zag of plain SGD
``"rosenbrock"``          (1 − x)² + 100·(y − x²)²                  a long curved valley
========================  =======================================  =============================

:func:`run_optimizer` runs any :mod:`dlcore.optim` optimizer from a start point and returns the
trajectory, shape ``(steps + 1, 2)``. The built-in optimizers take a fast path that applies the
optimizer's own update function (the one ``opt.step`` applies to arrays, see :mod:`dlcore.optim`)
to the two coordinates as Python floats, because an explorer recomputes several trajectories per
slider move; ``tests/test_surfaces.py`` checks it against ``opt.step`` step for step.
"""
from __future__ import annotations

import numpy as np

from dlcore import optim

__all__ = ["Surface", "Saddle", "PlateauSaddle", "Quadratic", "Rosenbrock", "SURFACES",
           "get_surface", "run_optimizer", "OPTIMIZERS"]

#: A run stops (the remaining rows are NaN) once a coordinate leaves [-DIVERGED, DIVERGED]:
#: every surface here still has finite values and gradients there, so no overflow can occur.
DIVERGED = 1e6


class Surface:
    """A 2-D function with value, gradient and Hessian; plus the plotting defaults.

    Attributes: ``name``, ``formula`` (LaTeX), ``xlim``, ``ylim`` (default plot range),
    ``start`` (default start point), ``minimum`` (a global minimiser or None when f is
    unbounded below), ``levels`` (suggested contour levels or None).
    """

    name = ""
    formula = ""
    xlim = (-2.0, 2.0)
    ylim = (-2.0, 2.0)
    start = (1.0, 1.0)
    minimum: tuple[float, float] | None = None
    levels = None

    def f(self, x, y):
        raise NotImplementedError

    def grad(self, x, y):
        raise NotImplementedError

    def hessian(self, x, y):
        raise NotImplementedError

    def grid(self, n: int = 101, xlim=None, ylim=None):
        """``(X, Y, Z)`` on an ``n × n`` grid over the default (or given) range, for contours."""
        xlim = self.xlim if xlim is None else xlim
        ylim = self.ylim if ylim is None else ylim
        X, Y = np.meshgrid(np.linspace(*xlim, n), np.linspace(*ylim, n))
        return X, Y, self.f(X, Y)

    def __repr__(self) -> str:
        return f"<surface {self.name}: {self.formula}>"


class Saddle(Surface):
    """f = x² − y²: minimum along x, maximum along y; the origin is a saddle point."""

    name, formula = "saddle", r"$x^2 - y^2$"
    start = (-1.5, 0.01)

    def f(self, x, y):
        return x * x - y * y

    def grad(self, x, y):
        return 2 * x, -2 * y

    def hessian(self, x, y):
        return 2.0 + 0 * x, 0 * x, -2.0 + 0 * y


class PlateauSaddle(Surface):
    """Monkey saddle in a bowl, f = x³ − 3xy² + (x² + y²)²/2.

    At the origin the gradient and the whole Hessian vanish: a flat plateau around a
    degenerate saddle (gradient O(r²)), so plain gradient descent crawls there. Three valleys
    (angles π and ±π/3) lead to three minima at radius 3/2 with f = −27/32.
    """

    name, formula = "plateau_saddle", r"$x^3 - 3xy^2 + (x^2 + y^2)^2/2$"
    xlim = ylim = (-2.0, 2.0)
    start = (1.5, 0.02)
    minimum = (-1.5, 0.0)

    def f(self, x, y):
        r2 = x * x + y * y
        return x * x * x - 3 * x * y * y + 0.5 * r2 * r2

    def grad(self, x, y):
        r2 = x * x + y * y
        return 3 * x * x - 3 * y * y + 2 * x * r2, -6 * x * y + 2 * y * r2

    def hessian(self, x, y):
        r2 = x * x + y * y
        return 6 * x + 2 * r2 + 4 * x * x, -6 * y + 4 * x * y, -6 * x + 2 * r2 + 4 * y * y


class Quadratic(Surface):
    """Ill-conditioned bowl f = (a·x² + b·y²)/2: curvatures a and b, condition number b/a.

    Plain gradient descent converges only for lr < 2/max(a, b) and then needs about
    (b/a)·log(1/tol) steps along the flat x axis.
    """

    formula = ""

    def __init__(self, a: float = 0.2, b: float = 4.0, name: str = "ill_conditioned"):
        if not (a > 0 and b > 0):
            raise ValueError(f"Quadratic: curvatures a and b must be > 0, got a={a!r}, b={b!r}")
        self.a, self.b, self.name = float(a), float(b), name
        self.formula = rf"$({self.a:g}x^2 + {self.b:g}y^2)/2$"
        self.condition_number = max(self.a, self.b) / min(self.a, self.b)
        self.xlim, self.ylim = (-5.0, 5.0), (-3.0, 3.0)
        self.start = (-4.5, 2.0)
        self.minimum = (0.0, 0.0)

    def f(self, x, y):
        return 0.5 * (self.a * x * x + self.b * y * y)

    def grad(self, x, y):
        return self.a * x, self.b * y

    def hessian(self, x, y):
        return self.a + 0 * x, 0 * x, self.b + 0 * y


class Rosenbrock(Surface):
    """Rosenbrock's banana f = (a − x)² + b·(y − x²)², minimum 0 at (a, a²)."""

    name = "rosenbrock"

    def __init__(self, a: float = 1.0, b: float = 100.0):
        self.a, self.b = float(a), float(b)
        self.formula = rf"$({self.a:g} - x)^2 + {self.b:g}(y - x^2)^2$"
        self.xlim, self.ylim = (-2.0, 2.0), (-1.0, 3.0)
        self.start = (-1.2, 1.0)
        self.minimum = (self.a, self.a * self.a)
        self.levels = np.logspace(-1, 3.5, 20)

    def f(self, x, y):
        u = y - x * x
        return (self.a - x) ** 2 + self.b * u * u

    def grad(self, x, y):
        u = y - x * x
        return -2 * (self.a - x) - 4 * self.b * x * u, 2 * self.b * u

    def hessian(self, x, y):
        return 2 - 4 * self.b * (y - x * x) + 8 * self.b * x * x, -4 * self.b * x, 2 * self.b + 0 * y


#: name -> surface object.
SURFACES: dict[str, Surface] = {
    s.name: s for s in (Saddle(), PlateauSaddle(), Quadratic(), Rosenbrock())
}


def get_surface(surface) -> Surface:
    """A registered surface by name, or the surface object itself."""
    if isinstance(surface, Surface):
        return surface
    if isinstance(surface, str) and surface in SURFACES:
        return SURFACES[surface]
    raise ValueError(f"get_surface: surface must be one of {sorted(SURFACES)} or a Surface, "
                     f"got {surface!r}")


# ---------------------------------------------------------------------------------------------
# Trajectories

#: Optimizer names accepted by run_optimizer -> (class, default hyperparameters).
OPTIMIZERS: dict[str, tuple[type, dict]] = {
    "sgd": (optim.SGD, {}),
    "momentum": (optim.SGD, {"momentum": 0.9}),
    "nesterov": (optim.SGD, {"momentum": 0.9, "nesterov": True}),
    "adagrad": (optim.Adagrad, {}),
    "rmsprop": (optim.RMSprop, {}),
    "adam": (optim.Adam, {}),
}


def _walk_floats(opt, grad, x: float, y: float, steps: int, out: list) -> None:
    """Step the point (x, y) with the optimizer's own update function, on Python floats.

    ``type(opt).update`` is the function :meth:`dlcore.optim.Optimizer.step` applies to arrays;
    here it is applied to each coordinate (x and y are two parameters of one element each), with
    the state starting at 0 as the class's does.
    """
    update, hyper = type(opt).update, opt.hyper()
    sx = sy = [0.0] * len(opt.state_names)
    for t in range(1, steps + 1):
        gx, gy = grad(x, y)
        x, *sx = update(x, gx, *sx, t, **hyper)
        y, *sy = update(y, gy, *sy, t, **hyper)
        out.append((x, y))
        if not (abs(x) <= DIVERGED and abs(y) <= DIVERGED):
            return


_FLOAT_STEPPABLE = (optim.SGD, optim.Adagrad, optim.RMSprop, optim.Adam)


def run_optimizer(surface, optimizer, start=None, steps: int = 100, *, fast: bool = True,
                  **hyper) -> np.ndarray:
    """Run an optimizer on a surface; return the visited points, shape ``(steps + 1, 2)``.

    ``optimizer`` is a name from :data:`OPTIMIZERS` (``"sgd"``, ``"momentum"``, ``"nesterov"``,
    ``"adagrad"``, ``"rmsprop"``, ``"adam"``), a :mod:`dlcore.optim` class, or any factory
    ``factory(params, **hyper) -> optimizer``; ``hyper`` are its keyword arguments
    (``lr=0.1, momentum=0.9`` …). Row 0 is ``start`` (default ``surface.start``); row k is the
    point after k steps ``w ← update(w, ∇f(w))``. If a coordinate leaves ±1e6 (divergence) the
    run stops and the remaining rows are NaN.

    With ``fast=True`` the four built-in optimizers step the two coordinates as Python floats
    with the class's own update function (:func:`dlcore.optim.adam_update` …), a few µs per step
    instead of 20 µs for ``opt.step`` on arrays; ``fast=False`` always drives ``opt.step``.

    >>> run_optimizer("ill_conditioned", "sgd", start=(1.0, 1.0), steps=1, lr=0.1)[1]
    array([0.98, 0.6 ])
    """
    surf = get_surface(surface)
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 0:
        raise ValueError(f"run_optimizer: steps must be an int >= 0, got {steps!r}")
    start = surf.start if start is None else start
    w0 = np.asarray(start, dtype=np.float64)
    if w0.shape != (2,):
        raise ValueError(f"run_optimizer: start must be a point (x, y), got shape {w0.shape}")

    if isinstance(optimizer, str):
        key = optimizer.lower()
        if key not in OPTIMIZERS:
            raise ValueError(f"run_optimizer: optimizer must be one of {sorted(OPTIMIZERS)}, a "
                             f"dlcore.optim class or a factory, got {optimizer!r}")
        cls, defaults = OPTIMIZERS[key]
        hyper = {**defaults, **hyper}
        factory = cls
    elif callable(optimizer):
        factory = optimizer
    else:
        raise ValueError(f"run_optimizer: optimizer must be a name, a class or a factory, "
                         f"got {optimizer!r}")
    if factory is optim.SGD and "lr" not in hyper:
        raise ValueError("run_optimizer: SGD needs a learning rate, pass lr=...")

    w = w0.copy()
    opt = factory([w], **hyper)  # also validates the hyperparameters
    traj = np.full((steps + 1, 2), np.nan)
    traj[0] = w0
    grad = surf.grad
    if fast and type(opt) in _FLOAT_STEPPABLE:
        out: list[tuple[float, float]] = []
        try:
            _walk_floats(opt, grad, float(w0[0]), float(w0[1]), int(steps), out)
        except (OverflowError, ZeroDivisionError):
            pass  # the rows not reached stay NaN
        if out:
            traj[1:len(out) + 1] = out
        return traj

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k in range(1, steps + 1):
            gx, gy = grad(w[0], w[1])
            opt.step([np.array([gx, gy], dtype=np.float64)])
            traj[k] = w
            if not np.all(np.abs(w) <= DIVERGED):
                break
    return traj
