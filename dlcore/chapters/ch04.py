"""Chapter 4 (optimizers): runs of the ``dlcore.optim`` classes on the ``dlcore.surfaces`` surfaces.

Steps to a tolerance, escapes from saddles, the two momentum forms, learning-rate decay on a noisy
quadratic, the optimizers' internal state and the student's step functions on a surface; numpy
only. The figures and the explorer are in :mod:`dlcore.explorers.ch04`.
"""
from __future__ import annotations

import numpy as np

from dlcore import optim
from dlcore.surfaces import DIVERGED, get_surface, run_optimizer


#: The surfaces the explorer offers and a learning rate that shows each one well.
SURFACE_LR = {"saddle": 0.05, "plateau_saddle": 0.02, "ill_conditioned": 0.1, "rosenbrock": 0.001}


def hyper_for(name: str, lr: float, momentum: float = 0.9, beta1: float = 0.9,
              beta2: float = 0.999) -> dict:
    """Keyword arguments of ``run_optimizer`` for optimizer ``name`` from the explorer's sliders.

    Momentum and Nesterov share ``momentum`` (at 0 both are plain SGD: see :func:`run_name`); Adam takes ``betas=(beta1, beta2)``; RMSprop's
    decay ``alpha`` is ``beta2`` (both are the decay of the average of g²).
    """
    if name in ("momentum", "nesterov"):
        return {"lr": lr, "momentum": momentum} if momentum > 0 else {"lr": lr}
    if name == "rmsprop":
        return {"lr": lr, "alpha": beta2}
    if name == "adam":
        return {"lr": lr, "betas": (beta1, beta2)}
    return {"lr": lr}


def run_name(name: str, momentum: float) -> str:
    """The ``run_optimizer`` name for explorer optimizer ``name``: with momentum 0, Momentum and
    Nesterov are plain SGD (``optim.SGD`` refuses ``nesterov=True`` without momentum)."""
    return "sgd" if name in ("momentum", "nesterov") and momentum <= 0 else name


def distance_history(surface, optimizer: str, start, steps: int, **hyper) -> np.ndarray:
    """Distance to the surface's minimum after each step, shape ``(steps + 1,)`` (NaN once diverged)."""
    surf = get_surface(surface)
    traj = run_optimizer(surf, optimizer, start=start, steps=steps, **hyper)
    return np.hypot(traj[:, 0] - surf.minimum[0], traj[:, 1] - surf.minimum[1])


def steps_to_tolerance(surface, optimizer: str, tol: float, start=None, steps: int = 1000, **hyper) -> int | None:
    """First step k at which the distance to the surface's minimum is below ``tol`` (None if never)."""
    d = distance_history(surface, optimizer, start, steps, **hyper)
    hit = np.flatnonzero(d < tol)
    return int(hit[0]) if hit.size else None


def escape_step(surface, optimizer: str, start=None, steps: int = 1000, below: float = -1.0, **hyper) -> int | None:
    """First step at which f drops below ``below`` (None if never).

    Both saddles have f = 0 at the saddle point, so with ``below=-1`` this counts the steps a
    run started near the ridge spends before it has clearly left the saddle.
    """
    surf = get_surface(surface)
    traj = run_optimizer(surf, optimizer, start=start, steps=steps, **hyper)
    with np.errstate(invalid="ignore"):
        hit = np.flatnonzero(surf.f(traj[:, 0], traj[:, 1]) < below)
    return int(hit[0]) if hit.size else None


def momentum_forms(surface="ill_conditioned", lr: float = 0.05, momentum: float = 0.9, steps: int = 50,
                   start=None) -> tuple[np.ndarray, np.ndarray]:
    """The same momentum run written two ways; returns both trajectories, each (steps + 1, 2).

    Notes' form (their α, ε are our μ, lr): v ← μ·v − lr·g, w ← w + v (``optim.sgd_momentum_notes_step``); PyTorch's form:
    b ← μ·b + g, w ← w − lr·b (``optim.SGD(momentum=μ)``, driven step by step).
    """
    surf = get_surface(surface)
    w0 = np.array(surf.start if start is None else start, dtype=np.float64)
    w, v = w0.copy(), np.zeros(2)
    notes = [w0.copy()]
    for _ in range(steps):
        w, v = optim.sgd_momentum_notes_step(w, v, np.array(surf.grad(w[0], w[1])), lr, momentum)
        notes.append(w)
    p = w0.copy()
    opt = optim.SGD([p], lr=lr, momentum=momentum)
    torch_form = [w0.copy()]
    for _ in range(steps):
        opt.step([np.array(surf.grad(p[0], p[1]))])
        torch_form.append(p.copy())
    return np.array(notes), np.array(torch_form)


def noisy_quadratic_losses(lr: float, epochs: int = 60, steps_per_epoch: int = 20, *,
                           step_size: int | None = None, gamma: float = 0.1, noise: float = 1.0,
                           curvature: float = 1.0, rng: np.random.Generator) -> np.ndarray:
    """Loss f = L/2·‖w‖² at each epoch's end under SGD with noisy gradients g = L·w + noise·ξ.

    With ``step_size`` a :class:`dlcore.optim.StepLR` multiplies lr by ``gamma`` every
    ``step_size`` epochs. Returns shape ``(epochs + 1,)``; w starts at (5, 5).
    """
    w = np.array([5.0, 5.0])
    opt = optim.SGD([w], lr=lr)
    sched = optim.StepLR(opt, step_size=step_size, gamma=gamma) if step_size else None
    out = [0.5 * curvature * float(w @ w)]
    for _ in range(epochs):
        for _ in range(steps_per_epoch):
            opt.step([curvature * w + noise * rng.standard_normal(2)])
        if sched is not None:
            sched.step()
        out.append(0.5 * curvature * float(w @ w))
    return np.array(out)


def optimizer_state_history(surface, optimizer, steps: int, start=None, **hyper) -> dict:
    """Run a :mod:`dlcore.optim` optimizer class on a surface and record its internal state.

    Returns arrays over the steps: ``"w"`` (steps + 1, 2), and for Adagrad ``"r"`` (its
    ``sum_sq``), for RMSprop ``"r"`` (its ``square_avg``), each (steps, 2), plus
    ``"effective_lr"`` = lr / (√r + eps), the per-coordinate step per unit gradient.
    """
    surf = get_surface(surface)
    w = np.array(surf.start if start is None else start, dtype=np.float64)
    opt = optimizer([w], **hyper)
    ws, rs = [w.copy()], []
    for _ in range(steps):
        opt.step([np.array(surf.grad(w[0], w[1]), dtype=np.float64)])
        ws.append(w.copy())
        r = opt.sum_sq[0] if isinstance(opt, optim.Adagrad) else opt.square_avg[0]
        rs.append(r.copy())
    r = np.array(rs)
    return {"w": np.array(ws), "r": r, "effective_lr": opt.lr / (np.sqrt(r) + opt.eps)}


def adam_first_steps(g, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8) -> dict:
    """Adam's first step for gradient ``g`` with and without bias correction (from dlcore.optim.Adam).

    Corrected: Δw = −lr·ĝ/(|ĝ|+ε) ≈ −lr·sign(g); uncorrected: −lr·(1−β₁)g/(√(1−β₂)|g| + ε).
    """
    g = np.asarray(g, dtype=np.float64)
    w = np.zeros_like(g)
    optim.Adam([w], lr=lr, betas=betas, eps=eps).step([g])
    b1, b2 = betas
    raw = -lr * (1 - b1) * g / (np.sqrt((1 - b2) * g * g) + eps)
    return {"g": g, "corrected": w.copy(), "uncorrected": raw}


#: The chapter's exercises: keyword arguments each step function takes, from the explorer's params.
STUDENT_HYPER = {
    "momentum": lambda p: {"lr": p["lr"], "momentum": p["momentum"]},
    "nesterov": lambda p: {"lr": p["lr"], "momentum": p["momentum"]},
    "adagrad": lambda p: {"lr": p["lr"]},
    "rmsprop": lambda p: {"lr": p["lr"], "alpha": p["beta2"]},
    "adam": lambda p: {"lr": p["lr"], "beta1": p["beta1"], "beta2": p["beta2"]},
}


def student_trajectory(fn, key: str, surf, start, steps: int, params: dict):
    """Iterate a student's step ``w, state = fn(w, g, state, **hyper)`` on a surface.

    Returns ``(trajectory (steps + 1, 2) with NaN after divergence, None)`` or
    ``(None, "ExceptionName: message")`` when the student's function fails, so an unfinished
    exercise never breaks the explorer.
    """
    traj = np.full((steps + 1, 2), np.nan)
    w = np.array(start, dtype=np.float64)
    traj[0] = w
    state: dict = {}
    hyper = STUDENT_HYPER[key](params)
    try:
        with np.errstate(all="ignore"):
            for k in range(1, steps + 1):
                g = np.array(surf.grad(w[0], w[1]), dtype=np.float64)
                w, state = fn(w.copy(), g, state, **hyper)
                w = np.asarray(w, dtype=np.float64).reshape(2)
                traj[k] = w
                if not np.all(np.abs(w) <= DIVERGED):
                    break
    except Exception as exc:  # noqa: BLE001 - any failure is the student's to see, not ours to raise
        return None, f"{type(exc).__name__}: {exc}"[:120]
    return traj, None


# ---------------------------------------------------------------------------------------------
# What a run's loss panel shows, and what a run's read-out says

#: f below this value on a surface unbounded below counts as having escaped its saddle (f = 0 there).
ESCAPE_BELOW = -1.0


def progress(surf, traj) -> tuple[np.ndarray, str]:
    """The quantity a loss panel plots on a log axis for ``traj`` (steps + 1, 2) on ``surf``.

    On a surface with a minimum: the gap f − f* (floored at 1e-16, so rounding below f* stays on
    the axis). On a surface unbounded below (the saddle x² − y²): |y|, the distance from the
    ridge y = 0 along which the run has to escape. Returns ``(values, label)``.
    """
    surf = get_surface(surf)
    x, y = traj[:, 0], traj[:, 1]
    if surf.minimum is None:
        return np.abs(y), "|y|"
    f_star = float(surf.f(*surf.minimum))
    with np.errstate(invalid="ignore"):
        return np.maximum(surf.f(x, y) - f_star, 1e-16), "f − f*"


def run_outcome(surf, traj) -> dict:
    """What happened in one run: a dict of numbers for the explorer's read-out.

    ``final_loss``: f at the last finite step. On a surface with a minimum: ``final_gap``
    (f − f* there) and ``diverged`` (1.0 if the run left |w| ≤ 10⁶, else 0.0). On a surface
    unbounded below, leaving is the point, not a failure: ``escaped_at`` is the first step with
    f < −1 (−1.0 if the run has not escaped yet), and ``diverged`` appears only for a run that
    left |w| ≤ 10⁶ *without* escaping first — it blew up where f curves up (on the saddle,
    x² with lr > 1 = 2/L), which is a divergence there too.
    """
    surf = get_surface(surf)
    with np.errstate(invalid="ignore", over="ignore"):
        loss = surf.f(traj[:, 0], traj[:, 1])
    finite = np.flatnonzero(np.isfinite(loss))
    reached = int(finite[-1])
    out = {"final_loss": float(loss[reached])}
    if surf.minimum is None:
        with np.errstate(invalid="ignore"):
            hit = np.flatnonzero(loss < ESCAPE_BELOW)
        out["escaped_at"] = float(hit[0]) if hit.size else -1.0
        if reached < len(loss) - 1 and not hit.size:
            out["diverged"] = 1.0
    else:
        out["final_gap"] = float(loss[reached] - surf.f(*surf.minimum))
        out["diverged"] = float(reached < len(loss) - 1)
    return out


def mean_noisy_losses(lr: float, seeds: int = 10, *, step_size: int | None = None, gamma: float = 0.3,
                      epochs: int = 60) -> np.ndarray:
    """Mean over ``seeds`` seeds (0, 1, …) of :func:`noisy_quadratic_losses`; shape ``(epochs + 1,)``."""
    return np.mean([noisy_quadratic_losses(lr, epochs, step_size=step_size, gamma=gamma,
                                           rng=np.random.default_rng(s)) for s in range(seeds)], axis=0)


#: The preset where Adagrad is good early and falls behind late: Rosenbrock at a large lr.
ADAGRAD_PRESET = {"surface": "rosenbrock", "lr": 0.5, "steps": 1000}


def gap_table(surface, optimizers, lr: float, checkpoints=(10, 30, 100, 300, 1000), **hyper) -> dict:
    """f − f* after each checkpoint step, per optimizer, same lr: ``{name: array(len(checkpoints))}``.

    NaN where a run has diverged by then.
    """
    surf = get_surface(surface)
    steps = max(checkpoints)
    out = {}
    for name in optimizers:
        traj = run_optimizer(surf, name, steps=steps, **hyper_for(name, lr, **hyper))
        with np.errstate(invalid="ignore"):
            gap = surf.f(traj[:, 0], traj[:, 1]) - surf.f(*surf.minimum)
        out[name] = gap[list(checkpoints)]
    return out
