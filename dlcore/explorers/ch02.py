"""Chapter 2 (softmax): static figures and :func:`softmax_explorer`.

The numbers come from :mod:`dlcore.chapters.ch02` (numpy only); its names are re-exported here
so the chapter's notebook needs one import. This module draws them.

Everything shown is computed with :mod:`dlcore.softmax` and :mod:`dlcore.losses`:
probabilities ``p = softmax(z / T)``, the cross-entropy ``−log p_y`` of a chosen true class and
its gradient ``p − y`` with respect to the (tempered) logits.
"""
from __future__ import annotations

import html

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from dlcore.chapters._shared import format_table  # noqa: F401 - re-exported for the chapter's tables
from dlcore.chapters.ch02 import (  # noqa: F401 - the chapter's numbers, re-exported for its notebook
    gradient_check_table, gradient_three_ways, linear_softmax_digits, overflow_table, pairing_table)
from dlcore.explorers.base import Explorer, fmt
from dlcore.explorers.fastdraw import StaticLayer
from dlcore.losses import cross_entropy, cross_entropy_grad
from dlcore.softmax import softmax

__all__ = ["format_table", "overflow_table", "gradient_check_table", "linear_softmax_digits", "plot_softmax_temperatures", "gradient_three_ways", "pairing_table", "SoftmaxExplorer", "softmax_explorer"]

MAX_CLASSES = 5


def _static_figure(figsize) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def plot_softmax_temperatures(z, temperatures=(0.25, 1.0, 4.0)) -> Figure:
    """Bars of ``softmax(z / T)`` for a few temperatures ``T`` (one panel each)."""

    z = np.asarray(z, dtype=np.float64)
    fig = _static_figure((3.0 * len(temperatures), 2.6))
    axes = np.atleast_1d(fig.subplots(1, len(temperatures), sharey=True))
    for ax, t in zip(axes, temperatures):
        p = softmax(z / t)
        ax.bar(np.arange(len(z)), p, color="tab:blue")
        ax.set(title=f"T = {t:g}", xlabel="class", ylim=(0, 1.12), xticks=np.arange(len(z)))
        for k, v in enumerate(p):
            ax.text(k, v + 0.02, f"{v:.2f}", ha="center", fontsize=8)
    axes[0].set_ylabel("softmax(z / T)")
    return fig


class SoftmaxExplorer(Explorer):
    """Logit and temperature sliders; bars of p = softmax(z/T), the loss −log p_y and p − y."""

    title = "Softmax and cross-entropy: p = softmax(z / T), loss = −log p_y, gradient p − y"

    def __init__(self, student_fn=None, **params: Any) -> None:
        self.student_fn = student_fn
        super().__init__(**params)

    def defaults(self) -> dict[str, Any]:
        return {"n_classes": 4, "z0": 2.0, "z1": 1.0, "z2": 0.1, "z3": -1.0, "z4": 0.5,
                "temperature": 1.0, "true_class": 0}

    def figure_kwargs(self) -> dict[str, Any]:
        return {"figsize": (10, 3.4)}

    def setup_figure(self) -> None:
        fig = self.fig
        axes = fig.subplots(1, 3, gridspec_kw={"left": 0.06, "right": 0.98, "bottom": 0.16, "top": 0.86,
                                               "wspace": 0.3})
        self.ax_z, self.ax_p, self.ax_g = axes
        k = np.arange(MAX_CLASSES)
        self.bars_z = self.ax_z.bar(k, np.zeros(MAX_CLASSES), color="0.55")
        self.bars_p = self.ax_p.bar(k, np.zeros(MAX_CLASSES), color="tab:blue")
        self.bars_g = self.ax_g.bar(k, np.zeros(MAX_CLASSES), color="tab:purple")
        self.ax_z.set(title="tempered logits z / T", xlabel="class", ylim=(-12, 12))
        self.ax_p.set(title="probabilities p", xlabel="class", ylim=(0, 1.3), yticks=np.linspace(0, 1, 6))
        self.ax_g.set(title="gradient ∂L/∂(z/T) = p − y", xlabel="class", ylim=(-1.05, 1.05))
        for ax in axes:
            ax.set_xticks(k)
            ax.axhline(0, color="k", lw=0.6)
        (self.student_marks,) = self.ax_p.plot([], [], "_", color="tab:orange", ms=22, mew=3,
                                               label="your softmax")
        self.p_texts = [self.ax_p.text(i, 0, "", ha="center", va="bottom", fontsize=8) for i in k]
        self.loss_text = self.ax_p.text(0.98, 0.97, "", transform=self.ax_p.transAxes, ha="right",
                                        va="top", fontsize=9, family="monospace")
        # Axes, y ticks and titles are rendered once and pasted back; an update draws the bars, the
        # texts, the x axes (their limits follow n_classes), and the zero lines and frames over them.
        self.static = StaticLayer(
            fig, axes, live_axis=[ax.xaxis for ax in axes],
            dynamic=[*self.bars_z, *self.bars_p, *self.bars_g, self.student_marks, *self.p_texts,
                     self.loss_text, *(line for ax in axes for line in ax.lines if line is not self.student_marks),
                     *(sp for ax in axes for sp in ax.spines.values())])

    def compute(self, params: dict[str, Any]) -> dict[str, Any]:

        c = int(params["n_classes"])
        if not 2 <= c <= MAX_CLASSES:
            raise ValueError(f"softmax_explorer: n_classes must be in 2..{MAX_CLASSES}, got {c}")
        t = float(params["temperature"])
        if t <= 0:
            raise ValueError(f"softmax_explorer: temperature must be > 0, got {t}")
        y = int(params["true_class"])
        if not 0 <= y < c:
            raise ValueError(f"softmax_explorer: true_class must be in 0..{c - 1}, got {y}")
        z = np.array([float(params[f"z{i}"]) for i in range(c)])
        u = (z / t)[None, :]
        labels = np.array([y])
        state = {"c": c, "y": y, "T": t, "z": z, "u": u[0], "p": softmax(u)[0],
                 "loss": float(cross_entropy(u, labels)), "grad": cross_entropy_grad(u, labels)[0]}
        if self.student_fn is not None:
            try:
                state["student_p"] = np.asarray(self.student_fn(u), dtype=np.float64).reshape(-1)[:c]
            except Exception:  # noqa: BLE001 - an unfinished exercise must not break the explorer
                state["student_p"] = None
        return state

    def draw(self, state: dict[str, Any]) -> None:
        c, y = state["c"], state["y"]
        for ax in (self.ax_z, self.ax_p, self.ax_g):
            ax.set_xlim(-0.6, c - 0.4)
        for k in range(MAX_CLASSES):
            on = k < c
            for bars, values in ((self.bars_z, state["u"]), (self.bars_p, state["p"]), (self.bars_g, state["grad"])):
                bars[k].set_visible(on)
                bars[k].set_height(float(values[k]) if on else 0.0)
            self.bars_p[k].set_color("tab:red" if k == y else "tab:blue")
            self.p_texts[k].set_visible(on)
            if on:
                self.p_texts[k].set_position((k, float(state["p"][k]) + 0.01))
                self.p_texts[k].set_text(f"{state['p'][k]:.2f}")
        sp = state.get("student_p")
        if sp is not None and len(sp) == c:
            self.student_marks.set_data(np.arange(c), sp)
        else:
            self.student_marks.set_data([], [])
        self.loss_text.set_text(f"true class {y}\nL = −log p_{y} = {state['loss']:.3f}")
        numbers: dict[str, Any] = {"loss": state["loss"], "temperature": state["T"]}
        numbers.update({f"p{k}": float(state["p"][k]) for k in range(c)})
        numbers.update({f"grad{k}": float(state["grad"][k]) for k in range(c)})
        numbers["sum_p"] = float(state["p"].sum())
        vec = lambda a: "(" + ", ".join(fmt(float(v)) for v in a) + ")"  # noqa: E731
        self.summary = [
            ("true class y", f"{y}"),
            ("loss L = −log p_y", fmt(state["loss"])),
            ("temperature T", fmt(state["T"])),
            ("probabilities p = softmax(z/T)", f"{vec(state['p'][:c])}, sum {fmt(numbers['sum_p'])}"),
            ("gradient ∂L/∂(z/T) = p − y", vec(state["grad"][:c])),
        ]
        self.set_numbers(numbers)

    def summary_rows(self):
        return getattr(self, "summary", [])

    def make_controls(self) -> dict[str, Any]:
        import ipywidgets as widgets

        ctl: dict[str, Any] = {
            "n_classes": widgets.IntSlider(value=self.params["n_classes"], min=3, max=MAX_CLASSES,
                                           description="classes", continuous_update=True),
        }
        for i in range(MAX_CLASSES):
            ctl[f"z{i}"] = widgets.FloatSlider(value=self.params[f"z{i}"], min=-6, max=6, step=0.1,
                                               description=f"logit z{i}", continuous_update=True)
        ctl["temperature"] = widgets.FloatLogSlider(value=self.params["temperature"], base=10, min=-1,
                                                    max=1, step=0.02, description="temperature T",
                                                    continuous_update=True)
        ctl["true_class"] = widgets.Dropdown(options=list(range(MAX_CLASSES)), value=self.params["true_class"],
                                             description="true class")
        for name, w in ctl.items():
            w.add_class(f"dl-ctl-{name}")
        return ctl

    def update(self, **changes: Any) -> Any:
        # A true class beyond the classes shown (fewer classes, or the dropdown) moves into range.
        c = int(changes.get("n_classes", self.params["n_classes"]))
        y = int(changes.get("true_class", self.params["true_class"]))
        if y >= c:
            changes["true_class"] = c - 1
        return super().update(**changes)


def softmax_explorer(**params: Any) -> SoftmaxExplorer:
    """Explore softmax and cross-entropy: ``softmax_explorer(z0=2, z1=1, z2=0.1, temperature=1)``.

    Keyword arguments: ``n_classes`` (3..5), logits ``z0`` .. ``z4``, ``temperature``,
    ``true_class``; ``student_fn=softmax`` overlays your softmax (orange marks) on the bars.
    """
    return SoftmaxExplorer(**params)
