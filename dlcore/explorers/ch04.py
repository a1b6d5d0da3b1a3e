"""Chapter 4 (learning rate and optimizers): static figures and the optimizer explorer.

The numbers come from :mod:`dlcore.chapters.ch04` (numpy only); its names are re-exported here
so the chapter's notebook needs one import. This module draws them.

The figures plot what :mod:`dlcore.optim` and :mod:`dlcore.surfaces` compute; the notebook
calls each one in a line. :func:`optimizer_explorer` draws the six optimizers' trajectories
over a contour plot of a test surface and their loss against the step, recomputing every
trajectory with :func:`dlcore.surfaces.run_optimizer` whenever a control moves.
"""
from __future__ import annotations

import html
from typing import Any

import matplotlib.colors
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from dlcore import optim
from dlcore.chapters.ch04 import (  # noqa: F401 - the chapter's numbers, re-exported for its notebook
    ADAGRAD_PRESET, ESCAPE_BELOW, STUDENT_HYPER, SURFACE_LR, adam_first_steps, distance_history, escape_step,
    gap_table, hyper_for, mean_noisy_losses, momentum_forms, noisy_quadratic_losses, optimizer_state_history,
    progress, run_name, run_outcome, steps_to_tolerance, student_trajectory)
from dlcore.explorers.base import Explorer, fmt
from dlcore.explorers.fastdraw import StaticLayer
from dlcore.surfaces import Quadratic, get_surface, run_optimizer

#: Display name, run_optimizer name and colour of the six optimizers, in the order shown.
OPTIMIZER_STYLE = (
    ("SGD", "sgd", "tab:blue"),
    ("Momentum", "momentum", "tab:orange"),
    ("Nesterov", "nesterov", "tab:green"),
    ("Adagrad", "adagrad", "tab:red"),
    ("RMSprop", "rmsprop", "tab:purple"),
    ("Adam", "adam", "tab:brown"),
)


def _static_figure(figsize) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def plot_step_sizes(curvature: float = 4.0, factors=(0.05, 0.4, 0.95, 1.05), steps: int = 40) -> Figure:
    """Plain gradient descent on f = L/2·(x² + y²) with lr = factor · 2/L: crawl, converge, oscillate, diverge.

    Left: the x coordinate against the step (its sign flips when lr > 1/L); right: the distance
    to the minimum on a log scale (it grows once lr > 2/L).
    """
    bowl = Quadratic(a=curvature, b=curvature, name="round_bowl")
    fig = _static_figure((9, 3.4))
    ax_x, ax_d = fig.subplots(1, 2)
    k = np.arange(steps + 1)
    for f in factors:
        lr = f * 2 / curvature
        traj = run_optimizer(bowl, "sgd", start=(1.0, 0.0), steps=steps, lr=lr)
        label = f"lr = {f:g}·2/L = {lr:.3g}"
        ax_x.plot(k, traj[:, 0], ".-", ms=3, label=label)
        ax_d.semilogy(k, np.abs(traj[:, 0]), ".-", ms=3, label=label)
    ax_x.set(xlabel="step k", ylabel="x_k", title=f"x_k on f = {curvature:g}/2·x²", ylim=(-3, 3))
    ax_d.set(xlabel="step k", ylabel="|x_k − x*|", title="distance to the minimum (log)")
    ax_d.legend(fontsize=7)
    return fig


def plot_step_decay(lrs=(0.5, 0.15, 0.045), step_size: int = 15, gamma: float = 0.3, epochs: int = 60,
                    seeds: int = 10) -> Figure:
    """Three constant lrs against StepLR from the largest, each the mean of ``seeds`` noisy runs.

    Left: the learning rate per epoch; right: the mean loss at each epoch's end (log scale). The
    decayed run starts as fast as the largest lr and ends below the smallest one's floor.
    """
    fig = _static_figure((9, 3.2))
    ax_lr, ax_loss = fig.subplots(1, 2)
    runs = [(f"constant lr = {lr:g}", lr, None) for lr in lrs]
    runs.append((f"StepLR from {lrs[0]:g} (step_size={step_size}, γ={gamma:g})", lrs[0], step_size))
    for label, lr, ss in runs:
        losses = mean_noisy_losses(lr, seeds, step_size=ss, gamma=gamma, epochs=epochs)
        schedule = [lr * (gamma ** (e // ss) if ss else 1.0) for e in range(epochs + 1)]
        style = {"color": "k", "lw": 2} if ss else {}
        ax_lr.step(range(epochs + 1), schedule, where="post", label=label, **style)
        ax_loss.semilogy(losses, label=label, **style)
    ax_lr.set(xlabel="epoch", ylabel="lr", title="learning rate", yscale="log")
    ax_loss.set(xlabel="epoch", ylabel=f"loss at epoch end (mean of {seeds} seeds)", title="noisy quadratic")
    ax_loss.legend(fontsize=7)
    return fig


def plot_trajectories(surface, runs: dict, steps: int, start=None) -> Figure:
    """Trajectories of several optimizers over one surface's contours (left) and their progress (right).

    ``runs`` maps a label to ``(optimizer_name, hyper)`` as passed to ``run_optimizer``. The right
    panel is :func:`dlcore.chapters.ch04.progress` on a log axis: f − f* on a surface with a
    minimum, |y| on the saddle (which has none), so a run's approach or escape is a straight-ish
    line, not a cliff where f crosses 0.
    """
    surf = get_surface(surface)
    fig = _static_figure((9, 3.6))
    ax_c, ax_l = fig.subplots(1, 2)
    X, Y, Z = surf.grid(121)
    cs = ax_c.contour(X, Y, Z, levels=_levels(surf, Z), colors="0.6", linewidths=0.6)
    ax_c.clabel(cs, cs.levels[::3], fontsize=6, fmt=_short)
    ylabel = "f − f*"
    for label, (name, hyper) in runs.items():
        traj = run_optimizer(surf, name, start=start, steps=steps, **hyper)
        line, = ax_c.plot(traj[:, 0], traj[:, 1], ".-", ms=2, lw=1, label=label)
        values, ylabel = progress(surf, traj)
        ax_l.semilogy(values, color=line.get_color(), label=label)
    if surf.minimum is not None:
        ax_c.plot(*surf.minimum, "k*", ms=9, label="minimum")
    ax_c.set(xlim=surf.xlim, ylim=surf.ylim, xlabel="x", ylabel="y",
             title=f"{surf.name}: {surf.formula}, contours of f")
    ax_l.set(xlabel="step", ylabel=ylabel + " (log)",
             title="distance from the ridge" if surf.minimum is None else "gap to the minimum")
    ax_l.legend(fontsize=7)
    return fig


def plot_accumulators(surface="ill_conditioned", lr: float = 0.1, steps: int = 200, start=None) -> Figure:
    """Adagrad's accumulator r only grows, so its effective step shrinks; RMSprop's average does not."""
    fig = _static_figure((9, 3.2))
    ax_r, ax_e = fig.subplots(1, 2)
    for label, cls, kw in (("Adagrad", optim.Adagrad, {}), ("RMSprop", optim.RMSprop, {"alpha": 0.9})):
        h = optimizer_state_history(surface, cls, steps, start=start, lr=lr, **kw)
        k = np.arange(1, steps + 1)
        ax_r.semilogy(k, h["r"][:, 0], label=f"{label} r (x)")
        ax_e.semilogy(k, h["effective_lr"][:, 0], label=f"{label} lr/(√r+ε) (x)")
    ax_r.set(xlabel="step", title="accumulator r, x coordinate")
    ax_e.set(xlabel="step", title="effective step per unit gradient")
    ax_r.legend(fontsize=7)
    ax_e.legend(fontsize=7)
    return fig


def _short(v, _pos=None) -> str:
    return f"{v:.3g}"


def _pow10(v, _pos=None) -> str:
    return f"1e{int(round(np.log10(v)))}" if v > 0 else ""


def _levels(surf, Z) -> np.ndarray:
    if surf.levels is not None:
        return np.asarray(surf.levels)
    # Quantiles put many lines where the surface is flat and few up the steep walls.
    return np.unique(np.quantile(Z, np.linspace(0.0, 1.0, 24) ** 1.5))


# ---------------------------------------------------------------------------------------------
# The explorer

class OptimizerExplorer(Explorer):
    """Six optimizers on one 2-D surface: trajectories over its contours and loss against step."""

    title = "Optimizers on a surface: SGD, Momentum, Nesterov, Adagrad, RMSprop, Adam"
    SURFACES = tuple(SURFACE_LR)
    _contour_cache: dict[str, tuple] = {}

    def __init__(self, student_fn: dict | None = None, **params: Any) -> None:
        self.student_fn = dict(student_fn or {})
        unknown = set(self.student_fn) - set(STUDENT_HYPER)
        if unknown:
            raise ValueError(f"optimizer_explorer: student_fn keys must be some of {sorted(STUDENT_HYPER)}, "
                             f"got {sorted(unknown)}")
        if "surface" in params:  # the start point and lr default to the chosen surface's
            surf = get_surface(params["surface"])
            params = {"x0": float(surf.start[0]), "y0": float(surf.start[1]),
                      "lr": SURFACE_LR[surf.name], **params}
        super().__init__(**params)

    def defaults(self) -> dict[str, Any]:
        surf = get_surface("saddle")
        d = {"surface": "saddle", "lr": SURFACE_LR["saddle"], "momentum": 0.9, "beta1": 0.9,
             "beta2": 0.999, "x0": surf.start[0], "y0": surf.start[1], "steps": 100}
        d.update({f"show_{key}": True for _, key, _ in OPTIMIZER_STYLE})
        return d

    def figure_kwargs(self) -> dict[str, Any]:
        return {"figsize": (9.5, 4.2)}

    def update(self, **changes: Any) -> Any:
        # A new surface brings its own start point and a learning rate that suits it,
        # unless the caller sets them in the same call.
        if "surface" in changes and changes["surface"] != self.params["surface"]:
            surf = get_surface(changes["surface"])
            changes.setdefault("x0", float(surf.start[0]))
            changes.setdefault("y0", float(surf.start[1]))
            changes.setdefault("lr", SURFACE_LR[surf.name])
        return super().update(**changes)

    @classmethod
    def contour_data(cls, name: str):
        """(X, Y, Z, levels) of a surface's grid, computed once per surface and cached."""
        if name not in cls._contour_cache:
            surf = get_surface(name)
            X, Y, Z = surf.grid(121)
            cls._contour_cache[name] = (X, Y, Z, _levels(surf, Z))
        return cls._contour_cache[name]

    def setup_figure(self) -> None:
        self.ax_c, self.ax_l = self.fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
        self.fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.9, wspace=0.25)
        # One contour set per surface, all made now; a surface change only toggles visibility.
        self.contours = {}
        for name in self.SURFACES:
            X, Y, Z, levels = self.contour_data(name)
            cs = self.ax_c.contour(X, Y, Z, levels=levels, colors="0.65", linewidths=0.6)
            cs.set_visible(False)
            self.contours[name] = cs
        self.paths, self.losses = {}, {}
        for label, key, colour in OPTIMIZER_STYLE:
            self.paths[key], = self.ax_c.plot([], [], ".-", ms=2.5, lw=1.1, color=colour, label=label)
            self.losses[key], = self.ax_l.plot([], [], lw=1.3, color=colour, label=label)
        self.student_paths, self.student_losses = {}, {}
        for label, key, colour in OPTIMIZER_STYLE:
            if key in self.student_fn:
                style = dict(ls="--", lw=2.2, alpha=0.7, color=colour)
                self.student_paths[key], = self.ax_c.plot([], [], label=f"your {label}", **style)
                self.student_losses[key], = self.ax_l.plot([], [], **style)
        if self.student_paths:
            self.student_note = self.ax_c.text(0.02, 0.02, "", transform=self.ax_c.transAxes, fontsize=7,
                                               color="tab:red", va="bottom", visible=False)
        self.start_marker, = self.ax_c.plot([], [], "ko", ms=5, zorder=5)
        self.min_marker, = self.ax_c.plot([], [], "k*", ms=9, zorder=5)
        self.ax_c.set(xlabel="x", ylabel="y")
        self.ax_l.set_xlabel("step")
        self.ax_l.set_yscale("log")
        # Where each run escaped the saddle (f < −1), marked on its |y| curve.
        self.escape_marks = {key: self.ax_l.plot([], [], "o", ms=5, mfc="none", color=colour)[0]
                             for _, key, colour in OPTIMIZER_STYLE}
        # Tick labels are most of a redraw's cost: keep them few. The legend lives in the
        # controls (each optimizer's checkbox is written in its line's colour) for the same reason.
        self.ax_l.yaxis.set_major_locator(LogLocator(base=10, numticks=6))
        self.ax_l.yaxis.set_minor_locator(LogLocator(base=10, subs=(), numticks=1))
        self.ax_l.yaxis.set_major_formatter(FuncFormatter(_pow10))
        self.ax_l.yaxis.set_minor_formatter(NullFormatter())
        for axis in (self.ax_c.xaxis, self.ax_c.yaxis, self.ax_l.xaxis):
            axis.set_major_locator(MaxNLocator(5, steps=[1, 2, 5, 10]))
        self.ax_c_title = self.ax_c.set_title("")
        # The contour panel (contours, ticks, title) is rendered once per surface and pasted back;
        # an update draws the paths and markers on it. The loss panel follows the data, so it is
        # drawn in full, with its tick labels pasted from a bitmap cache.
        self.static = StaticLayer(
            self.fig, [self.ax_c], live=[self.ax_l],
            dynamic=[*self.paths.values(), *self.student_paths.values(), self.start_marker, self.min_marker,
                     *([self.student_note] if self.student_paths else []), *self.ax_c.spines.values()],
            signature=lambda: (self.ax_c_title.get_text(),))

    def compute(self, params: dict[str, Any]) -> dict:
        surf = get_surface(params["surface"])
        start = (float(params["x0"]), float(params["y0"]))
        steps = int(params["steps"])
        state = {"surface": surf.name, "start": start, "runs": {}}
        for _, key, _ in OPTIMIZER_STYLE:
            if not params[f"show_{key}"]:
                continue
            hyper = hyper_for(key, params["lr"], params["momentum"], params["beta1"], params["beta2"])
            traj = run_optimizer(surf, run_name(key, params["momentum"]), start=start, steps=steps, **hyper)
            state["runs"][key] = (traj, surf.f(traj[:, 0], traj[:, 1]))
        state["student"] = {}
        for key, fn in self.student_fn.items():
            if params[f"show_{key}"]:
                state["student"][key] = student_trajectory(fn, key, surf, start, steps, params)
        return state

    def draw(self, state: dict) -> None:
        surf = get_surface(state["surface"])
        steps = int(self.params["steps"])
        for name, cs in self.contours.items():
            cs.set_visible(name == surf.name)
        numbers: dict[str, float] = {}
        rows: list[tuple[str, str]] = []
        lo, hi = np.inf, -np.inf
        ylabel = "f − f*"
        for label, key, colour in OPTIMIZER_STYLE:
            run = state["runs"].get(key)
            visible = run is not None
            self.paths[key].set_visible(visible)
            self.losses[key].set_visible(visible)
            self.escape_marks[key].set_visible(visible)
            if not visible:
                continue
            traj, loss = run
            self.paths[key].set_data(traj[:, 0], traj[:, 1])
            values, ylabel = progress(surf, traj)
            k = np.arange(len(values))
            self.losses[key].set_data(k, values)
            finite = values[np.isfinite(values)]
            lo, hi = min(lo, finite.min()), max(hi, finite.max())
            outcome = run_outcome(surf, traj)
            numbers.update({f"{name}_{key}": v for name, v in outcome.items()})
            reached = int(np.flatnonzero(np.isfinite(loss))[-1])
            escaped = int(outcome.get("escaped_at", -1))
            self.escape_marks[key].set_data([escaped] if escaped >= 0 else [], [values[escaped]] if escaped >= 0 else [])
            name = f"<b style='color:{matplotlib.colors.to_hex(colour)}'>{label}</b>"
            if surf.minimum is None and outcome.get("diverged"):
                # it blew up where f curves up (along x) before it got away along y: a real divergence
                text = (f"<span style='color:#b00'>diverged</span> at step {reached + 1} without escaping "
                        f"(|w| > 10⁶ while f ≥ {fmt(ESCAPE_BELOW)}: lr is too large where f curves up)")
            elif surf.minimum is None:
                text = ("started below the saddle (f < {0} at step 0)" if escaped == 0 else
                        "escaped the saddle at step {1} (f < {0})" if escaped > 0 else
                        "still near the saddle after {2} steps: |y| = {3}").format(
                    fmt(ESCAPE_BELOW), escaped, steps, fmt(values[reached]))
                if reached < len(loss) - 1:
                    text += f"; left the plotted plane at step {reached + 1} (f is unbounded below)"
            elif outcome["diverged"]:
                text = f"<span style='color:#b00'>diverged</span> at step {reached + 1} (|w| > 10⁶)"
            else:
                text = f"f − f* = {fmt(outcome['final_gap'])} after {steps} steps"
            rows.append((name, text))
        errors: list[str] = []
        for key, line in self.student_paths.items():
            traj, error = state["student"].get(key, (None, None))
            shown = traj is not None
            line.set_visible(shown)
            self.student_losses[key].set_visible(shown)
            label = next(lab for lab, k, _ in OPTIMIZER_STYLE if k == key)
            if error is not None:
                numbers[f"student_failed_{key}"] = 1.0
                errors.append(f"your {key}: {error}")
                rows.append((f"your {label}", f"<span style='color:#b00'>fails</span>: {html.escape(error)}"))
            elif shown:
                line.set_data(traj[:, 0], traj[:, 1])
                self.student_losses[key].set_data(np.arange(len(traj)), progress(surf, traj)[0])
                ref = state["runs"][key][0]
                both = np.isfinite(ref[:, 0]) & np.isfinite(traj[:, 0])
                diff = float(np.abs(traj[both] - ref[both]).max())
                numbers[f"student_max_diff_{key}"] = diff
                verdict = "matches dlcore" if diff < 1e-8 else "<span style='color:#b00'>differs from dlcore</span>"
                rows.append((f"your {label}", f"{verdict}: largest distance {fmt(diff)}"))
        if self.student_paths:
            self.student_note.set_text("\n".join(errors))
            self.student_note.set_visible(bool(errors))
        self.start_marker.set_data([state["start"][0]], [state["start"][1]])
        m = surf.minimum
        self.min_marker.set_data([m[0]] if m else [], [m[1]] if m else [])
        self.ax_c.set_xlim(surf.xlim)
        self.ax_c.set_ylim(surf.ylim)
        self.ax_c_title.set_text(f"{surf.name}: {surf.formula}")
        self.ax_l.set_xlim(0, max(1, steps))
        self.ax_l.set_ylabel(f"{ylabel} (log)")
        self.ax_l.set_title("distance from the ridge y = 0: escape is up" if m is None else "gap to the minimum: down is better")
        if np.isfinite(lo):
            # A diverging run would squash every other curve: show at most 10⁶ × the start value.
            v0 = float(progress(surf, np.array([state["start"]]))[0][0])
            hi = min(hi, max(v0, 1e-12) * 1e6)
            lo = max(lo, 1e-16)
            self.ax_l.set_ylim(lo / 3, max(hi * 3, lo * 10))
        self.summary = rows
        self.set_numbers(numbers)

    def summary_rows(self) -> list[tuple[str, str]]:
        return getattr(self, "summary", [])

    def make_controls(self) -> dict[str, Any]:
        import ipywidgets as W

        p = self.params
        # "initial": each label takes the width it needs, so none is cut off.
        fl = dict(continuous_update=True, readout_format=".3f", style={"description_width": "initial"})
        c = {
            "surface": W.Dropdown(options=list(self.SURFACES), value=p["surface"], description="surface"),
            "lr": W.FloatLogSlider(value=p["lr"], base=10, min=-4, max=0.5, step=0.05,
                                   description="learning rate", **fl),
            "momentum": W.FloatSlider(value=p["momentum"], min=0.0, max=0.99, step=0.01,
                                      description="momentum μ", **fl),
            "beta1": W.FloatSlider(value=p["beta1"], min=0.0, max=0.99, step=0.01,
                                   description="β₁ (Adam)", **fl),
            "beta2": W.FloatSlider(value=p["beta2"], min=0.5, max=0.9999, step=0.0001,
                                   description="β₂ (Adam) = α (RMSprop)",
                                   **{**fl, "readout_format": ".4f"}),
            "x0": W.FloatSlider(value=p["x0"], min=-5.0, max=5.0, step=0.01, description="start x", **fl),
            "y0": W.FloatSlider(value=p["y0"], min=-3.0, max=3.0, step=0.01, description="start y", **fl),
            "steps": W.IntSlider(value=p["steps"], min=1, max=1000, step=1, description="steps",
                                 continuous_update=True, style={"description_width": "initial"}),
        }
        for label, key, colour in OPTIMIZER_STYLE:
            hexcolour = matplotlib.colors.to_hex(colour)
            c[f"show_{key}"] = W.Checkbox(
                value=p[f"show_{key}"], indent=False, layout=W.Layout(width="auto"),
                description=f"<b style='color:{hexcolour}'>━ {label}</b>", description_allow_html=True)
        for name, w in c.items():
            w.add_class(f"dl-ctl-{name}")
        return c


def optimizer_explorer(student_fn: dict | None = None, **params) -> OptimizerExplorer:
    """The chapter 4 explorer: ``optimizer_explorer(surface="rosenbrock", lr=0.002)``.

    Parameters (each also a control): ``surface`` (saddle, plateau_saddle, ill_conditioned,
    rosenbrock), ``lr``, ``momentum`` (Momentum and Nesterov), ``beta1`` and ``beta2`` (Adam;
    ``beta2`` is also RMSprop's α), start point ``x0``, ``y0``, ``steps``, and
    ``show_sgd`` … ``show_adam`` to show the optimizers together or singly.

    ``student_fn={"adam": adam_step, ...}`` overlays (dashed) the trajectories of your own step
    functions from the exercises (keys momentum, nesterov, adagrad, rmsprop, adam) on dlcore's,
    and reads out their largest distance from the reference (``student_max_diff_<key>``).
    """
    return OptimizerExplorer(student_fn=student_fn, **params)
