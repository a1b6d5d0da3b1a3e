"""Chapter 3 (ReLU instead of sigmoid): static figures and the vanishing-gradient explorer.

The numbers come from :mod:`dlcore.chapters.ch03` (numpy only); its names are re-exported here
so the chapter's notebook needs one import. This module draws them.

Everything here computes with :mod:`dlcore.activations` and :mod:`dlcore.nn`; the notebook
calls each helper in one line. :func:`vanishing_gradient_explorer` runs a real forward and
backward pass through a deep ``dlcore.nn.Sequential`` stack on every control change and
draws the gradient norm of each layer's weights on a log scale.
"""
from __future__ import annotations

import html

from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

from dlcore.activations import relu, relu_grad, sigmoid, sigmoid_grad
from dlcore.chapters.ch03 import (  # noqa: F401 - the chapter's numbers, re-exported for its notebook
    MAX_DEPTH, chain_input_gradient, deep_relu_sparsity, layer_gradient_norms, relu_sparsity,
    sigmoid_chain, sigmoid_chain_reference, student_means, time_activations)
from dlcore.explorers.base import Explorer, fmt
from dlcore.explorers.fastdraw import StaticLayer


def _static_figure(figsize) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def plot_activations(lim: float = 6.0) -> Figure:
    """σ and σ' (peak 1/4 at 0) beside ReLU and its derivative (1 for x > 0, else 0)."""
    x = np.linspace(-lim, lim, 601)
    fig = _static_figure((9, 3.2))
    ax_s, ax_r = fig.subplots(1, 2)
    ax_s.plot(x, sigmoid(x), label="σ(x)")
    ax_s.plot(x, sigmoid_grad(x), label="σ'(x) = σ(1−σ)")
    ax_s.axhline(0.25, color="0.5", ls=":", lw=1)
    ax_s.annotate("max σ' = 0.25 at x = 0", (0, 0.25), (1.2, 0.4), fontsize=8,
                  arrowprops={"arrowstyle": "->", "color": "0.4"})
    ax_r.plot(x, relu(x), label="ReLU(x) = max(x, 0)")
    ax_r.plot(x, relu_grad(x), label="ReLU'(x)")
    for ax, title in ((ax_s, "sigmoid"), (ax_r, "ReLU")):
        ax.set(xlabel="x", title=title)
        ax.legend(fontsize=8, loc="upper left")
        ax.grid(alpha=0.3)
    return fig


def plot_chain_gradient(weights=(1.0, 2.0, 4.0), n_max: int = 25, x: float = 1.0) -> Figure:
    """|dy/dx| through n sigmoid layers of equal weight w against the bound (0.25·|w|)ⁿ (log scale)."""
    fig = _static_figure((6.5, 3.4))
    ax = fig.subplots()
    ns = np.arange(1, n_max + 1)
    for w in weights:
        g = [abs(chain_input_gradient(x, np.full(n, w))) for n in ns]
        line, = ax.semilogy(ns, g, "o-", ms=3, label=f"|dy/dx|, w = {w:g}")
        ax.semilogy(ns, (0.25 * abs(w)) ** ns, "--", color=line.get_color(), lw=1,
                    label=f"bound (0.25·{w:g})ⁿ")
    ax.set(xlabel="number of sigmoid layers n", ylabel="gradient magnitude",
           title="gradient reaching the input of a sigmoid chain")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3, which="both")
    return fig


def plot_relu_sparsity(*, rng) -> Figure:
    """Histogram of N(0, 1) pre-activations and ReLU's output: about half the units become 0."""
    z = rng.standard_normal(20_000)
    fig = _static_figure((9, 3))
    ax_h, ax_d = fig.subplots(1, 2)
    bins = np.linspace(-4, 4, 81)
    ax_h.hist(z, bins=bins, alpha=0.6, label="z ~ N(0, 1)")
    ax_h.hist(relu(z)[relu(z) > 0], bins=bins, alpha=0.6, label="ReLU(z), nonzero part")
    ax_h.set(title=f"{100 * relu_sparsity(z):.1f}% of ReLU(z) are exactly 0", xlabel="value")
    ax_h.legend(fontsize=8)
    frac = deep_relu_sparsity(rng=rng)
    ax_d.bar(np.arange(1, len(frac) + 1), frac)
    ax_d.axhline(0.5, color="0.4", ls=":")
    ax_d.set(ylim=(0, 1), xlabel="layer", ylabel="fraction of zero units", title="sparsity per layer (He init)")
    return fig


# ---------------------------------------------------------------------------------------------
# The explorer


def _power_of_ten(v, _pos) -> str:
    return f"1e{int(round(np.log10(v)))}" if v > 0 else ""


class VanishingGradientExplorer(Explorer):
    """Gradient norm of every layer's weights in a deep sigmoid or ReLU stack (log scale)."""

    title = "Vanishing gradients: ‖∂L/∂W‖ per layer of a deep network"

    def __init__(self, student_fn: dict | None = None, **params: Any) -> None:
        self.student_fn = dict(student_fn or {})
        unknown = set(self.student_fn) - {"sigmoid", "relu"}
        if unknown:
            raise ValueError(f"vanishing_gradient_explorer: student_fn keys must be 'sigmoid' and/or "
                             f"'relu', got {sorted(unknown)}")
        super().__init__(**params)

    def defaults(self) -> dict[str, Any]:
        return {"depth": 10, "weight_scale": 1.0, "activation": "sigmoid", "width": 32, "seed": 0}

    def figure_kwargs(self) -> dict[str, Any]:
        return {"figsize": (9, 3.8)}

    def setup_figure(self) -> None:
        self.ax_g, self.ax_a = self.fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
        self.fig.subplots_adjust(left=0.1, right=0.98, bottom=0.14, top=0.9, wspace=0.3)
        k = np.arange(1, MAX_DEPTH + 1)
        self.bars = self.ax_g.bar(k, np.ones(MAX_DEPTH), color="tab:blue")
        self.ax_g.set_yscale("log")
        # Few ticks and no minor labels: the span can reach 30 decades, and text is what costs.
        self.ax_g.yaxis.set_major_locator(LogLocator(numticks=6))
        self.ax_g.yaxis.set_minor_locator(NullLocator())
        self.ax_g.yaxis.set_major_formatter(FuncFormatter(_power_of_ten))
        self.ax_g.set(xlabel="layer k (1 = nearest the input)", ylabel="‖∂L/∂W_k‖ (log)")
        self.ax_g_title = self.ax_g.set_title("")
        self.act_line, = self.ax_a.plot([], [], "o-", ms=3, color="tab:green")
        self.student_marks, = self.ax_a.plot([], [], "x", ms=7, color="tab:red", label="your derivative")
        self.student_note = self.ax_a.text(0.03, 0.97, "", transform=self.ax_a.transAxes, fontsize=7,
                                           color="tab:red", va="top", visible=False)
        self.ref_line = self.ax_a.axhline(0.25, color="0.5", ls=":", lw=1)
        self.ref_text = self.ax_a.text(0.6, 0.26, "σ' ≤ 0.25", fontsize=7, color="0.4")
        self.ax_a.set(xlabel="layer k", ylabel="mean f'(z) in layer", ylim=(0, 1.05),
                      title="mean derivative of the activation")
        # Tick labels are most of a redraw's cost: few, fixed ones.
        self.ax_a.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
        for axis in (self.ax_a.xaxis, self.ax_g.xaxis):
            axis.set_major_locator(MaxNLocator(5, integer=True))
        # The gradient panel follows the data (its limits change with depth and the gradients), so it
        # is drawn in full on every update, its texts pasted from a bitmap cache. The derivative
        # panel is rendered once; only its x axis (depth), line and markers are drawn each time.
        self.static = StaticLayer(
            self.fig, [self.ax_a], live=[self.ax_g], live_axis=[self.ax_a.xaxis],
            dynamic=[self.act_line, self.student_marks, self.student_note, self.ref_line, self.ref_text,
                     *self.ax_a.spines.values()])

    def compute(self, params: dict[str, Any]) -> dict:
        depth = int(params["depth"])
        if not 1 <= depth <= MAX_DEPTH:
            raise ValueError(f"vanishing_gradient_explorer: depth must be in 1..{MAX_DEPTH}, got {depth}")
        return layer_gradient_norms(depth, float(params["weight_scale"]), params["activation"],
                                    width=int(params["width"]), seed=int(params["seed"]))

    def draw(self, state: dict) -> None:
        g = state["grad_norms"]
        depth = len(g)
        colour = "tab:blue" if self.params["activation"] == "sigmoid" else "tab:orange"
        # A zero norm (a dead ReLU stack) cannot sit on a log axis; draw it at the floor.
        floor = 1e-300
        for k, bar in enumerate(self.bars):
            bar.set_visible(k < depth)
            if k < depth:
                bar.set_height(max(g[k], floor))
                bar.set_color(colour)
        positive = g[g > 0]
        lo = positive.min() if positive.size else 1e-12
        hi = positive.max() if positive.size else 1.0
        self.ax_g.set_ylim(lo / 3, hi * 3)
        self.ax_g.set_xlim(0.4, depth + 0.6)
        self.ax_g_title.set_text(f"{self.params['activation']}, depth {depth}, weight scale "
                                 f"{self.params['weight_scale']:g}")
        self.act_line.set_data(np.arange(1, depth + 1), state["mean_act_grad"])
        self.ax_a.set_xlim(0.4, depth + 0.6)
        first, last = float(g[0]), float(g[-1])
        numbers = {
            "grad_norm_first": first,
            "grad_norm_last": last,
            "ratio_first_to_last": first / last if last > 0 else float("nan"),
            "mean_act_grad": float(state["mean_act_grad"].mean()),
        }
        fn = self.student_fn.get(self.params["activation"])
        means, error = student_means(fn, state["pre_activations"]) if fn else (None, None)
        self.student_marks.set_visible(means is not None)
        if means is not None:
            self.student_marks.set_data(np.arange(1, depth + 1), means)
            numbers["student_max_diff"] = float(np.abs(means - state["mean_act_grad"]).max())
        if error is not None:
            numbers["student_failed"] = 1.0
        self.student_note.set_text(f"your derivative: {error}" if error else "")
        self.student_note.set_visible(error is not None)
        ratio = numbers["ratio_first_to_last"]
        self.summary = [
            ("‖∂L/∂W₁‖ (layer 1, nearest the input)", fmt(first)),
            (f"‖∂L/∂W_{depth}‖ (last layer)", fmt(last)),
            ("layer 1 / last layer", f"{fmt(ratio)}" + (" — the gradient vanishes on the way down" if ratio < 1e-2
                                                     else " — it explodes on the way down" if ratio > 1e2 else "")),
            ("mean f′(z) over the layers", fmt(numbers["mean_act_grad"])),
        ]
        if "student_max_diff" in numbers:
            d = numbers["student_max_diff"]
            self.summary.append(("your derivative", ("matches dlcore" if d < 1e-9 else "differs from dlcore")
                                 + f": largest difference {fmt(d)}"))
        elif error is not None:
            self.summary.append(("your derivative", html.escape(error)))
        self.set_numbers(numbers)

    def summary_rows(self):
        return getattr(self, "summary", [])

    def make_controls(self) -> dict[str, Any]:
        import ipywidgets as W

        p = self.params
        style = {"description_width": "initial"}
        c = {
            "depth": W.IntSlider(value=p["depth"], min=1, max=MAX_DEPTH, description="depth",
                                 continuous_update=True, style=style),
            "weight_scale": W.FloatSlider(value=p["weight_scale"], min=0.1, max=6.0, step=0.05,
                                          description="weight scale", continuous_update=True, style=style),
            "activation": W.ToggleButtons(options=["sigmoid", "relu"], value=p["activation"],
                                          description="activation", style=style),
        }
        for name, w in c.items():
            w.add_class(f"dl-ctl-{name}")
        return c


def vanishing_gradient_explorer(student_fn: dict | None = None, **params) -> VanishingGradientExplorer:
    """The chapter 3 explorer: ``vanishing_gradient_explorer(depth=20, activation="relu")``.

    Parameters: ``depth`` (1..30), ``weight_scale`` (weights ~ scale·N(0, 1/width)),
    ``activation`` ("sigmoid" or "relu"); also ``width`` and ``seed`` (no control).
    Read-out: ``grad_norm_first`` (layer 1), ``grad_norm_last``, ``ratio_first_to_last``,
    ``mean_act_grad``.

    ``student_fn={"sigmoid": sigmoid_grad, "relu": relu_grad}`` marks (×) the per-layer mean of
    your own derivative functions next to dlcore's, with their largest gap ``student_max_diff``.
    """
    return VanishingGradientExplorer(student_fn=student_fn, **params)
