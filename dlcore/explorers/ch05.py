"""Chapter 5 (batch normalization): static plots and the activation-histogram explorer.

The numbers come from :mod:`dlcore.chapters.ch05` (re-exported here for the notebook).

``batchnorm_explorer()`` pushes one batch through a deep stack of linear layers twice — once
plain (linear → activation) and once with batch norm (linear → batch norm → activation), with
the same weights — and draws every layer's activation histogram for both, so the weight scale's
effect (activations collapsing to 0 or saturating) and batch norm's cure are seen layer by layer.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

from dlcore.chapters._shared import one_blas_thread
from dlcore.chapters.ch05 import (  # noqa: F401 - re-exported for the chapter's notebook
    ACTIVATIONS, DeepStackActivations, deep_mlp, deep_stack_activations, digits_split, train_digits_mlp)
from dlcore.explorers.base import Explorer, fmt, new_figure
from dlcore.explorers.fastdraw import StaticLayer

# Bin ranges chosen so a healthy layer fills most of its row; values outside are clipped into
# the edge bins, so saturated or exploding layers show as spikes at the edge.
BIN_RANGES = {"tanh": (-1.0, 1.0), "relu": (0.0, 3.0)}


# --------------------------------------------------------------------------- static plots
def plot_normalize_steps(x, out_norm, out_affine, features=(0, 1), titles=None, names=None):
    """Scatter two features of a batch: raw, normalised (x̂), then scaled and shifted (γx̂ + β).

    ``x``, ``out_norm``, ``out_affine``: arrays (N, D); ``features``: the two columns drawn;
    ``names``: their axis labels. Returns the figure.
    """
    fig = new_figure(figsize=(10, 3.4))
    titles = titles or ("mini-batch x", "normalised x̂ = (x − μ)/√(σ² + ε)", "scaled and shifted γx̂ + β")
    i, j = features
    arrays = (np.asarray(x), np.asarray(out_norm), np.asarray(out_affine))
    lo = min(float(a[:, [i, j]].min()) for a in arrays)
    hi = max(float(a[:, [i, j]].max()) for a in arrays)
    pad = 0.05 * (hi - lo + 1e-12)
    for k, (a, t) in enumerate(zip(arrays, titles)):
        ax = fig.add_subplot(1, 3, k + 1)
        ax.scatter(a[:, i], a[:, j], s=10, alpha=0.7)
        ax.axhline(0, color="0.7", lw=0.8)
        ax.axvline(0, color="0.7", lw=0.8)
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_aspect("equal")
        ax.set_title(t, fontsize=9)
        ax.set_xlabel(names[0] if names else f"feature {i}")
        if k == 0:
            ax.set_ylabel(names[1] if names else f"feature {j}")
    fig.tight_layout()
    return fig


def plot_running_stats(batch_means, running_means, true_mean, feature=0):
    """Per-step batch mean of one feature, the running mean that tracks it, and the data's mean.

    ``batch_means``, ``running_means``: arrays (steps, D); ``true_mean``: (D,). Returns the figure.
    """
    fig = new_figure(figsize=(6.5, 3.2))
    ax = fig.add_subplot(1, 1, 1)
    steps = np.arange(1, len(batch_means) + 1)
    ax.plot(steps, np.asarray(batch_means)[:, feature], ".", color="0.6", label="batch mean μ_B (training)")
    ax.plot(steps, np.asarray(running_means)[:, feature], "-", color="C1", label="running mean (used in eval)")
    ax.axhline(float(np.asarray(true_mean)[feature]), color="C2", ls="--", label="mean over the whole data")
    ax.set_xlabel("training step")
    ax.set_ylabel(f"feature {feature}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_loss_curves(curves: dict, ylabel: str = "training loss", title: str = ""):
    """Loss curves side by side: one panel per group, one line per run.

    ``curves``: ``{panel title: {label: sequence of losses}}``. Returns the figure.
    """
    fig = new_figure(figsize=(4.2 * len(curves), 3.3))
    axes = [fig.add_subplot(1, len(curves), k + 1) for k in range(len(curves))]
    ymax = max(float(np.nanmax(np.asarray(c, dtype=float))) for group in curves.values() for c in group.values())
    for ax, (panel, group) in zip(axes, curves.items()):
        for label, c in group.items():
            c = np.asarray(c, dtype=float)
            ax.plot(np.arange(1, len(c) + 1), c, label=label)
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel("epoch")
        ax.set_ylim(0, min(ymax * 1.05, 3.0))
        ax.legend(fontsize=8)
    axes[0].set_ylabel(ylabel)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- the explorer
class BatchNormExplorer(Explorer):
    """Per-layer activation histograms without and with batch norm (ridge plots), and the std per layer."""

    title = "Activations layer by layer, without and with batch norm"
    max_depth = 10
    width = 100
    in_features = 100
    max_batch = 512
    n_bins = 30

    def __init__(self, student_fn=None, seed: int = 0, **params: Any) -> None:
        self.student_fn = student_fn
        rng = np.random.default_rng(seed)
        # Drawn once: a control change rescales these, so compute() is only matrix products.
        self._x = rng.standard_normal((self.max_batch, self.in_features))
        self._w0 = [rng.standard_normal((self.width, self.in_features if l == 0 else self.width))
                    for l in range(self.max_depth)]
        super().__init__(**params)

    def defaults(self) -> dict[str, Any]:
        return {"depth": 6, "weight_scale": 1.0, "batch_size": 128, "activation": "tanh"}

    def figure_kwargs(self) -> dict[str, Any]:
        return {"figsize": (10, 4.6)}

    def weights(self, params) -> list:
        """W_l = weight_scale · N(0, 1) / √fan_in, so weight_scale = 1 keeps a linear layer's variance."""
        s = float(params["weight_scale"])
        return [s * w / np.sqrt(w.shape[1]) for w in self._w0[: int(params["depth"])]]

    def inputs(self, params) -> np.ndarray:
        return self._x[: int(params["batch_size"])]

    # -- figure -------------------------------------------------------------------------------
    def setup_figure(self) -> None:
        gs = self.fig.add_gridspec(1, 3, width_ratios=(1, 1, 0.9))
        self.ax_plain = self.fig.add_subplot(gs[0, 0])
        self.ax_bn = self.fig.add_subplot(gs[0, 1], sharey=self.ax_plain)
        self.ax_std = self.fig.add_subplot(gs[0, 2])
        # One collection of rectangles per panel (every layer's bars): a single draw call instead of
        # one per bar. ``bar_heights[key][l]`` holds the heights drawn for layer l (0 beyond depth).
        self.bars = {}
        self.bar_heights = {}
        self.layer_labels = {}
        self._act_drawn = None
        self._edges = np.linspace(0, 1, self.n_bins + 1)
        for key, ax, name in (("plain", self.ax_plain, "without batch norm"), ("bn", self.ax_bn, "with batch norm")):
            self.bars[key] = PolyCollection([], facecolors="C0" if key == "plain" else "C2", alpha=0.85,
                                            edgecolors="none", linewidths=0)
            ax.add_collection(self.bars[key], autolim=False)
            self.bar_heights[key] = np.zeros((self.max_depth, self.n_bins))
            ax.set_title(name, fontsize=10)
            ax.set_xlabel("activation value")
            ax.set_ylim(-self.max_depth + 0.9, 1.05)
            self.layer_labels[key] = [ax.text(0.98, -l + 0.6, "", transform=ax.get_yaxis_transform(),
                                              ha="right", fontsize=7, color="0.2",
                                              bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7,
                                                    "pad": 0.5}) for l in range(self.max_depth)]
        self.ax_plain.set_yticks([-l + 0.4 for l in range(self.max_depth)])
        self.ax_plain.set_yticklabels([f"layer {l + 1}" for l in range(self.max_depth)], fontsize=8)
        self.ax_bn.tick_params(labelleft=False)
        (self.line_plain,) = self.ax_std.plot([], [], "o-", color="C0", label="without BN")
        (self.line_bn,) = self.ax_std.plot([], [], "s-", color="C2", label="with BN")
        # The student's line is in the legend only when there is one (no entry without data).
        (self.line_student,) = self.ax_std.plot([], [], "x--", color="C3",
                                                label="with your BN" if self.student_fn is not None else "_nolegend_")
        self.ax_std.set_yscale("log")
        self.ax_std.set_xlabel("layer")
        self.ax_std.set_ylabel("std of activations")
        self.ax_std.set_xlim(0.5, self.max_depth + 0.5)
        self.ax_std.legend(fontsize=8, loc="lower left")
        # The std axis is redrawn on every update (its limits follow the lines), so its tick labels
        # are plain text ("1e-03", no mathtext) and few, and it has no minor ticks.
        self.ax_std.yaxis.set_major_locator(LogLocator(numticks=6))
        self.ax_std.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.0e}"))
        self.ax_std.yaxis.set_minor_locator(NullLocator())
        self.fig.tight_layout()
        # The histogram axes, their ticks and titles, and the std axes' x axis are rendered once;
        # an update draws bars and labels on top of that picture, and the std axes' lines and
        # y axis (its limits follow the lines), then its legend over them. The std axes' background
        # is transparent so the cached x axis shows through.
        self.ax_std.patch.set_visible(False)
        # The histograms' y axes follow the depth (no empty rows), so they are drawn every frame
        # instead of forcing the cached picture to be rendered again for each depth.
        self.static = StaticLayer(self.fig, (self.ax_plain, self.ax_bn), live=[self.ax_std],
                                  live_axis=[self.ax_plain.yaxis, self.ax_bn.yaxis],
                                  dynamic=[*self.bars.values(), *self.layer_labels["plain"],
                                           *self.layer_labels["bn"], self.ax_std.get_legend()],
                                  artists=[self.ax_std.xaxis],
                                  signature=lambda: (self.ax_std.get_xlim(), self.ax_std.get_position().bounds))

    def _set_bins(self, activation: str) -> None:
        lo, hi = BIN_RANGES[activation]
        self._edges = np.linspace(lo, hi, self.n_bins + 1)
        for ax in (self.ax_plain, self.ax_bn):
            ax.set_xlim(lo, hi)
        self._act_drawn = activation

    # -- numbers --------------------------------------------------------------------------------
    def compute(self, params: dict[str, Any]) -> dict[str, Any]:
        act = params["activation"]
        if act not in ACTIVATIONS:
            raise ValueError(f"batchnorm_explorer: activation must be one of {sorted(ACTIVATIONS)}, got {act!r}")
        depth = int(params["depth"])
        if not 1 <= depth <= self.max_depth:
            raise ValueError(f"batchnorm_explorer: depth must be in 1..{self.max_depth}, got {depth}")
        x, ws = self.inputs(params), self.weights(params)
        with one_blas_thread():
            res = deep_stack_activations(x, ws, act)
        lo, hi = BIN_RANGES[act]
        hists = {}
        for key, acts in (("plain", res.plain), ("bn", res.bn)):
            h = []
            for a in acts:
                # Equal-width bins: the bin index is arithmetic, no sort as in np.histogram.
                idx = np.clip(((a.ravel() - lo) * (self.n_bins / (hi - lo))).astype(np.intp), 0, self.n_bins - 1)
                frac = np.bincount(idx, minlength=self.n_bins) / a.size
                # Tallest bar fills 90% of its row; for ReLU the spike of exact zeros is left out of
                # that scale (and capped) so the shape of the active units stays visible.
                ref = frac[1:].max() if act == "relu" and frac[1:].max() > 0 else frac.max()
                h.append(0.9 * np.minimum(frac / ref, 1.0))
            hists[key] = h
        student_std = None
        if self.student_fn is not None:
            fn = self.student_fn

            def bn_fn(z, g, b):
                out = fn(z, g, b)
                return out[0] if isinstance(out, tuple) else out

            with one_blas_thread():
                student_std = deep_stack_activations(x, ws, act, bn_fn=bn_fn).std_bn
        return {"depth": depth, "activation": act, "hists": hists, "std_plain": res.std_plain,
                "std_bn": res.std_bn, "std_student": student_std}

    def draw(self, state: dict[str, Any]) -> None:
        if state["activation"] != self._act_drawn:
            self._set_bins(state["activation"])
        depth = state["depth"]
        if depth != getattr(self, "_depth_drawn", None):
            # Only the rows that exist: no empty "layer 8–10" rows below a depth-7 stack.
            for ax in (self.ax_plain, self.ax_bn):
                ax.set_ylim(-depth + 0.9, 1.05)
            self.ax_plain.set_yticks([-l + 0.4 for l in range(depth)])
            self.ax_plain.set_yticklabels([f"layer {l + 1}" for l in range(depth)], fontsize=8)
            self._depth_drawn = depth
        left, right = self._edges[:-1], self._edges[1:]
        for key in ("plain", "bn"):
            stds = state["std_" + key]
            heights = self.bar_heights[key]
            heights[:] = 0.0
            heights[:depth] = state["hists"][key][:depth]
            # rectangles (depth·n_bins, 4 corners, xy): layer l sits on the baseline y = −l
            bottom = -np.arange(depth, dtype=np.float64)[:, None] * np.ones(self.n_bins)
            top = bottom + heights[:depth]
            x0, x1 = np.broadcast_to(left, bottom.shape), np.broadcast_to(right, bottom.shape)
            verts = np.stack([np.stack([x0, bottom], -1), np.stack([x0, top], -1),
                              np.stack([x1, top], -1), np.stack([x1, bottom], -1)], axis=-2)
            self.bars[key].set_verts(verts.reshape(-1, 4, 2))
            for l in range(self.max_depth):
                self.layer_labels[key][l].set_text(f"std {stds[l]:.2g}" if l < depth else "")
        layers = np.arange(1, depth + 1)
        self.line_plain.set_data(layers, state["std_plain"])
        self.line_bn.set_data(layers, state["std_bn"])
        if state["std_student"] is not None:
            self.line_student.set_data(layers, state["std_student"])
        else:
            self.line_student.set_data([], [])
        allstd = np.concatenate([state["std_plain"], state["std_bn"]])
        allstd = allstd[allstd > 0]
        lo = min(1e-3, float(allstd.min()) / 2) if allstd.size else 1e-3
        hi = max(3.0, float(allstd.max()) * 2) if allstd.size else 3.0
        self.ax_std.set_ylim(lo, hi)
        numbers: dict[str, Any] = {"depth": depth}
        for l in range(depth):
            numbers[f"std_plain_L{l + 1}"] = float(state["std_plain"][l])
        for l in range(depth):
            numbers[f"std_bn_L{l + 1}"] = float(state["std_bn"][l])
        rows = [("std of activations per layer", "without BN → with BN")]
        for l in range(depth):
            rows.append((f"layer {l + 1}", f"{fmt(state['std_plain'][l])} → {fmt(state['std_bn'][l])}"))
        if state["std_student"] is not None:
            diff = float(np.max(np.abs(np.asarray(state["std_student"]) - state["std_bn"])))
            rows.append(("your batch norm", ("matches dlcore" if diff < 1e-9 else "differs from dlcore")
                         + f": largest std difference {fmt(diff)}"))
        self.summary = rows
        self.set_numbers(numbers)

    def summary_rows(self):
        return getattr(self, "summary", [])

    def make_controls(self) -> dict[str, Any]:
        import ipywidgets as widgets

        p = self.params
        c = {
            "depth": widgets.IntSlider(value=p["depth"], min=1, max=self.max_depth, description="depth",
                                       continuous_update=True),
            "weight_scale": widgets.FloatLogSlider(value=p["weight_scale"], base=10, min=-1.3, max=0.8, step=0.05,
                                                   description="weight scale", continuous_update=True,
                                                   readout_format=".2f"),
            "batch_size": widgets.IntSlider(value=p["batch_size"], min=2, max=self.max_batch, step=2,
                                            description="batch size", continuous_update=True),
            "activation": widgets.Dropdown(options=sorted(ACTIVATIONS), value=p["activation"],
                                           description="activation"),
        }
        for name, w in c.items():
            w.add_class(f"dl-ctl-{name}")
        return c


def batchnorm_explorer(student_fn=None, **params: Any) -> BatchNormExplorer:
    """Explorer: per-layer activation histograms of a deep stack, without and with batch norm.

    Parameters: ``depth`` (1–10), ``weight_scale`` (W = scale·N(0,1)/√fan_in), ``batch_size``
    (2–512), ``activation`` ('tanh' or 'relu'). ``student_fn(x, gamma, beta)`` — your
    ``batch_norm_forward`` — adds a line for the std per layer it gives.
    """
    return BatchNormExplorer(student_fn=student_fn, **params)
