"""Chapter 1 (objective functions): MSE versus cross-entropy for a sigmoid output.

The numbers come from :mod:`dlcore.chapters.ch01` (numpy only); its names are re-exported here
so the chapter's notebook needs one import. This module draws them.

Static figures for the chapter's claims and :func:`loss_surface_explorer`, the loss surface of
one sigmoid neuron ``p = σ(w·x + b)`` over ``(w, b)`` for MSE and binary cross-entropy side by
side. All numbers come from :mod:`dlcore.losses`, :mod:`dlcore.activations` and
:mod:`dlcore.linear`; the surfaces are computed once, vectorised, and checked against those
functions in ``tests/test_ch01_explorer.py``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from dlcore.activations import sigmoid
from dlcore.chapters._shared import format_table  # noqa: F401 - re-exported for the chapter's tables
from dlcore.chapters.ch01 import (  # noqa: F401 - the chapter's numbers, re-exported for its notebook
    NeuronData, loss_grids, neuron_data, neuron_loss_and_grads, sigmoid_output_table, train_neuron)
from dlcore.explorers.base import Explorer, fmt
from dlcore.explorers.fastdraw import StaticLayer

__all__ = ["sigmoid_output_table", "format_table", "plot_losses_vs_z", "neuron_data",
           "neuron_loss_and_grads", "loss_grids", "train_neuron", "plot_training", "LossSurfaceExplorer", "loss_surface_explorer"]


def _static_figure(figsize) -> Figure:
    # A plain Agg figure: the notebook shows it as a PNG, no widget needed for a static plot.
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


# ---------------------------------------------------------------------------------------------
# One sigmoid output: loss and gradient with respect to the pre-activation z
# ---------------------------------------------------------------------------------------------


def plot_losses_vs_z(y: float = 1.0, z_min: float = -10.0, z_max: float = 10.0) -> Figure:
    """Left: MSE and BCE of ``σ(z)`` against ``y``; right: ``|dL/dz|`` of both on a log scale."""
    z = np.linspace(z_min, z_max, 401)
    t = sigmoid_output_table(z, y)
    fig = _static_figure((9.5, 3.6))
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(z, t["mse"], label="MSE  (σ(z) − y)²", color="tab:blue")
    ax1.plot(z, t["bce"], label="cross-entropy  −log σ(z)" if y == 1 else "cross-entropy", color="tab:red")
    ax1.set(xlabel="pre-activation z", ylabel="loss", title=f"loss of one sigmoid output, target y = {y:g}")
    ax1.legend(loc="upper center" if y == 1 else "upper left", fontsize=8)
    ax2.semilogy(z, np.abs(t["dmse_dz"]), label="|dMSE/dz| = 2|p − y| σ'(z)", color="tab:blue")
    ax2.semilogy(z, np.abs(t["dbce_dz"]), label="|dCE/dz| = |p − y|", color="tab:red")
    ax2.semilogy(z, t["sigma_prime"], ":", label="σ'(z)", color="gray")
    ax2.set(xlabel="pre-activation z", ylabel="|gradient| (log scale)", title="gradient with respect to z")
    wrong = (z < 0) if y == 1 else (z > 0)
    ax2.axvspan(z[wrong].min(), z[wrong].max(), color="0.93", zorder=0)
    ax2.text(0.03 if y == 1 else 0.62, 0.04, "saturated on the\nwrong side", transform=ax2.transAxes, fontsize=8)
    ax2.legend(fontsize=8, loc="lower right" if y == 1 else "lower left")
    return fig


# ---------------------------------------------------------------------------------------------
# One sigmoid neuron on a 1-D data set
# ---------------------------------------------------------------------------------------------


def plot_training(w0: float = -4.0, b0: float = 2.0, lr: float = 1.0, steps: int = 200, data: str = "toy"):
    """Gradient descent from the same bad start under MSE and BCE: paths in (w, b) and accuracy per step.

    Returns ``(fig, runs)`` with ``runs = {"mse": traj, "bce": traj}`` from :func:`train_neuron`.
    """
    d = neuron_data(data)
    runs = {k: train_neuron(k, w0, b0, d.x, d.y, lr=lr, steps=steps) for k in ("mse", "bce")}
    W, B, _, bce = loss_grids(d.x, d.y, _RANGE, _RANGE, n=61)
    fig = _static_figure((9.5, 3.6))
    ax1, ax2 = fig.subplots(1, 2)
    cs = ax1.contour(W, B, bce, levels=np.quantile(bce, np.linspace(0.02, 0.98, 12)), colors="0.7", linewidths=0.6)
    ax1.clabel(cs, cs.levels[::2], fontsize=6, fmt=lambda v: f"{v:.2g}")
    ax1.plot([], [], color="0.7", lw=0.6, label="contours: cross-entropy loss")
    colors = {"mse": "tab:blue", "bce": "tab:red"}
    names = {"mse": "MSE", "bce": "cross-entropy"}
    for k, tr in runs.items():
        ax1.plot(tr[:, 0], tr[:, 1], ".-", ms=2, color=colors[k], label=names[k])
        ax2.plot(tr[:, 3], color=colors[k], label=names[k])
    ax1.plot([w0], [b0], "ko")
    ax1.set(xlabel="w", ylabel="b", title=f"gradient descent from (w, b) = ({w0:g}, {b0:g}), lr = {lr:g}",
            xlim=_RANGE, ylim=_RANGE)
    ax2.set(xlabel="step", ylabel="training accuracy", ylim=(0, 1.02), title="accuracy per step")
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8, loc="lower right")
    return fig, runs


# ---------------------------------------------------------------------------------------------
# The explorer
# ---------------------------------------------------------------------------------------------
_RANGE = (-6.0, 6.0)
#: A step shorter than this (in w, b units; the marker ring is about 0.4 wide) is also drawn magnified.
MIN_VISIBLE_STEP = 1.0


def _nice_factor(x: float) -> float:
    """The smallest of 2, 5, 10, 20, 50, … that is at least ``x``."""
    exp = int(np.floor(np.log10(x)))
    for m in (1, 2, 5, 10):
        if m * 10.0 ** exp >= x:
            return m * 10.0 ** exp
    return 10.0 ** (exp + 1)


class LossSurfaceExplorer(Explorer):
    """Contours and 3-D surfaces of MSE and BCE over (w, b), with a movable point and its step."""

    title = "Loss surface of one sigmoid neuron: MSE (left) and cross-entropy (right)"

    def __init__(self, data: str = "toy", student_fn: dict | None = None, **params: Any) -> None:
        self.data = neuron_data(data)
        self.student_fn = dict(student_fn or {})
        unknown = set(self.student_fn) - {"mse_loss", "binary_cross_entropy"}
        if unknown:
            raise ValueError(f"loss_surface_explorer: student_fn keys must be 'mse_loss' and/or "
                             f"'binary_cross_entropy', got {sorted(unknown)}")
        # Precomputed once: the surfaces do not depend on the point.
        self.W, self.B, self.MSE, self.BCE = loss_grids(self.data.x, self.data.y, _RANGE, _RANGE, n=81)
        super().__init__(**params)

    def defaults(self) -> dict[str, Any]:
        return {"w": -4.0, "b": 2.0, "lr": 1.0}

    def figure_kwargs(self) -> dict[str, Any]:
        return {"figsize": (10, 7.6)}

    def setup_figure(self) -> None:
        fig = self.fig
        gs = fig.add_gridspec(2, 2, height_ratios=[1.0, 1.05], hspace=0.28, wspace=0.22,
                              left=0.07, right=0.97, top=0.94, bottom=0.04)
        self.ax_c = [fig.add_subplot(gs[0, i]) for i in range(2)]
        self.ax_s = [fig.add_subplot(gs[1, i], projection="3d") for i in range(2)]
        self.points, self.arrows, self.points3d, self.labels = [], [], [], []
        self.magnified, self.mag_labels = [], []
        for i, (name, L) in enumerate((("MSE", self.MSE), ("cross-entropy", self.BCE))):
            ax = self.ax_c[i]
            # An image plus a few contour lines renders several times faster than filled contours.
            ax.imshow(L, origin="lower", extent=(*_RANGE, *_RANGE), cmap="viridis", aspect="auto",
                      interpolation="bilinear")
            ax.contour(self.W, self.B, L, levels=np.quantile(L, np.linspace(0.02, 0.98, 12)),
                       colors="k", linewidths=0.4, alpha=0.6)
            ax.set(xlabel="w", ylabel="b", title=f"{name} over (w, b)", xlim=_RANGE, ylim=_RANGE)
            # A ring, not a disc, and under the arrow: a short step stays visible inside it.
            (pt,) = ax.plot([0.0], [0.0], "o", mfc="none", mec="white", mew=1.5, ms=8, zorder=5)
            q = ax.quiver([0.0], [0.0], [0.0], [0.0], angles="xy", scale_units="xy", scale=1.0,
                          color="tab:red", width=0.012, zorder=6)
            # A step shorter than the ring is also drawn magnified (dashed outline, labelled ×N),
            # so its direction shows; the red arrow itself stays to scale.
            qm = ax.quiver([0.0], [0.0], [0.0], [0.0], angles="xy", scale_units="xy", scale=1.0,
                           facecolor=(0.84, 0.15, 0.16, 0.45), edgecolor="k", linewidth=0.8,
                           linestyle="--", width=0.012, zorder=6)
            self.magnified.append(qm)
            self.mag_labels.append(ax.text(0.0, 0.0, "", fontsize=8, color="k", zorder=7, ha="left",
                                           va="bottom", bbox=dict(fc="white", ec="none", alpha=0.75, pad=1)))
            self.labels.append(ax.text(0.02, 0.97, "", transform=ax.transAxes, va="top", fontsize=8,
                                       color="white", family="monospace"))
            self.points.append(pt)
            self.arrows.append(q)
            ax3 = self.ax_s[i]
            s = slice(None, None, 5)  # a 17×17 mesh is enough for the eye and keeps redraws cheap
            ax3.plot_surface(self.W[s, s], self.B[s, s], L[s, s], cmap="viridis", linewidth=0,
                             antialiased=False, alpha=0.85)
            ax3.set(xlabel="w", ylabel="b", zlabel=name)
            ax3.view_init(elev=30, azim=-60)
            (p3,) = ax3.plot([0.0], [0.0], [0.0], "o", color="tab:red", ms=7, zorder=10)
            self.points3d.append(p3)
        # The images, contours, surfaces, ticks and titles never change: they are rendered once
        # and pasted back, so an update only draws the point, arrow, label and 3-D marker.
        self.static = StaticLayer(fig, self.ax_c + self.ax_s,
                                  dynamic=self.points + self.arrows + self.magnified + self.mag_labels
                                  + self.labels + self.points3d)

    def compute(self, params: dict[str, Any]) -> dict[str, Any]:
        w, b, lr = float(params["w"]), float(params["b"]), float(params["lr"])
        nums = neuron_loss_and_grads(w, b, self.data.x, self.data.y)
        state = {"w": w, "b": b, "lr": lr, **nums}
        if self.student_fn:
            p = sigmoid(w * self.data.x + b)
            for key, fn in self.student_fn.items():
                try:
                    state[f"student_{key}"] = float(fn(p, self.data.y))
                except Exception:  # noqa: BLE001 - an unfinished exercise must not break the explorer
                    state[f"student_{key}"] = float("nan")
        return state

    def draw(self, state: dict[str, Any]) -> None:
        w, b, lr = state["w"], state["b"], state["lr"]
        for i, name in enumerate(("mse", "bce")):
            gw, gb = state[f"d{name}_dw"], state[f"d{name}_db"]
            self.points[i].set_data([w], [b])
            self.arrows[i].set_offsets([[w, b]])
            # The arrow is one gradient-descent step, −lr·∇L, drawn to scale in (w, b).
            self.arrows[i].set_UVC([-lr * gw], [-lr * gb])
            length = float(np.hypot(lr * gw, lr * gb))
            if 0 < length < MIN_VISIBLE_STEP:
                factor = _nice_factor(MIN_VISIBLE_STEP / length)
                self.magnified[i].set_offsets([[w, b]])
                self.magnified[i].set_UVC([-lr * gw * factor], [-lr * gb * factor])
                self.magnified[i].set_visible(True)
                self.mag_labels[i].set_position((w - lr * gw * factor, b - lr * gb * factor))
                self.mag_labels[i].set_text(f"step ×{factor:g}")
                self.mag_labels[i].set_visible(True)
            else:
                self.magnified[i].set_visible(False)
                self.mag_labels[i].set_visible(False)
            self.labels[i].set_text(f"L = {state[name]:.3g}\n|∇L| = {np.hypot(gw, gb):.3g}")
            self.points3d[i].set_data_3d([w], [b], [state[name]])
        numbers = {k: state[k] for k in ("w", "b", "mse", "bce", "dmse_dw", "dmse_db", "dbce_dw", "dbce_db")}
        numbers.update({k: v for k, v in state.items() if k.startswith("student_")})
        self.set_numbers(numbers)

    def summary_rows(self):
        n = self.numbers
        rows = [("point", f"w = {fmt(n['w'])}, b = {fmt(n['b'])}"),
                ("MSE", f"L = {fmt(n['mse'])}, ∇L = ({fmt(n['dmse_dw'])}, {fmt(n['dmse_db'])})"),
                ("cross-entropy", f"L = {fmt(n['bce'])}, ∇L = ({fmt(n['dbce_dw'])}, {fmt(n['dbce_db'])})")]
        for key, ref, name in (("student_mse_loss", "mse", "your mse_loss"),
                               ("student_binary_cross_entropy", "bce", "your binary_cross_entropy")):
            if key in n:
                v = n[key]
                if v != v:  # NaN: the exercise is not solved yet
                    rows.append((name, "not solved yet"))
                else:
                    same = abs(v - n[ref]) <= 1e-9 * max(1.0, abs(n[ref]))
                    rows.append((name, f"{fmt(v)} — " + ("matches dlcore" if same else
                                                         f"<span style='color:#b00'>dlcore gives {fmt(n[ref])}</span>")))
        return rows

    def make_controls(self) -> dict[str, Any]:
        import ipywidgets as widgets

        ctl = {
            "w": widgets.FloatSlider(value=self.params["w"], min=_RANGE[0], max=_RANGE[1], step=0.1,
                                     description="w", continuous_update=True),
            "b": widgets.FloatSlider(value=self.params["b"], min=_RANGE[0], max=_RANGE[1], step=0.1,
                                     description="b", continuous_update=True),
            "lr": widgets.FloatLogSlider(value=self.params["lr"], base=10, min=-1, max=1.5, step=0.05,
                                         description="lr (arrow)", continuous_update=True),
        }
        for name, w in ctl.items():
            w.add_class(f"dl-ctl-{name}")
        return ctl


def loss_surface_explorer(**params: Any) -> LossSurfaceExplorer:
    """Explore MSE and BCE over (w, b) of one sigmoid neuron: ``loss_surface_explorer(w=-4, b=2)``.

    Keyword arguments: ``w``, ``b`` (the point), ``lr`` (the arrow is the step −lr·∇L),
    ``data="toy"`` or ``"digits"``, ``student_fn={"mse_loss": f, "binary_cross_entropy": g}`` to
    show a student's losses at the point next to the reference's.
    """
    return LossSurfaceExplorer(**params)
