"""Chapter 9 (capstone): the training explorer and the curve figure.

The numbers come from :mod:`dlcore.chapters.ch09` (the reference network trained with the
chapter's recipe, one snapshot per step); this module draws them. :func:`training_explorer`
walks through training step by step (the loss, the test accuracy and the 8 kernels at that
step) and overlays the student's own loss curve when given; :func:`plot_training_curves` is the
static figure of section 5.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from dlcore.chapters.ch09 import (PARAMS, RECIPE, accuracy, digits_split, first_difference,  # noqa: F401
                                  forward, forward_backward, init_params, reference_history, reference_run,
                                  train)
from dlcore.explorers.base import Explorer, fmt
from dlcore.explorers.fastdraw import StaticLayer

__all__ = ["PARAMS", "RECIPE", "reference_run", "init_params", "digits_split", "forward_backward",
           "first_difference", "reference_history", "plot_training_curves", "TrainingExplorer",
           "training_explorer"]


#: what the kernel panel shows: the weights at the step, or how far each moved from the start
KERNEL_VIEWS = ("weights", "change since step 0")


def _static_figure(figsize) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def plot_training_curves(your_losses=None, seed: int = RECIPE["seed"]) -> Figure:
    """Batch loss per step of the reference run and, when given, of yours (same recipe)."""
    run = reference_history(seed)
    fig = _static_figure((8, 3.2))
    ax = fig.subplots()
    steps = np.arange(1, len(run["losses"]) + 1)
    ax.plot(steps, run["losses"], color="tab:blue", lw=2.5, alpha=0.6, label="reference (dlcore)")
    if your_losses is not None:
        yours = np.asarray(your_losses, dtype=np.float64).ravel()
        ax.plot(np.arange(1, len(yours) + 1), yours, color="tab:orange", lw=1.2, ls="--",
                label="yours (your functions)")
    for e in range(1, RECIPE["epochs"]):
        ax.axvline(e * run["steps_per_epoch"] + 0.5, color="0.7", lw=0.8)
    ax.set(xlabel="training step (one batch of 32)", ylabel="batch cross-entropy", yscale="log",
           title=f"Training curves, {RECIPE['epochs']} epochs (grey lines: epoch boundaries)")
    ax.legend(loc="upper right")
    return fig


class TrainingExplorer(Explorer):
    """A step slider through the reference run: the loss and test accuracy up to that step and
    the convolution's 8 kernels at it; the student's loss curve overlaid when given."""

    title = "Training the capstone CNN step by step: loss, test accuracy and the 8 kernels"
    readout_labels = {}

    def __init__(self, your_losses=None, **params: Any) -> None:
        self.your_losses = None if your_losses is None else np.asarray(your_losses, dtype=np.float64).ravel()
        self.run = reference_history(RECIPE["seed"])
        super().__init__(**params)

    def defaults(self) -> dict[str, Any]:
        return {"step": 10, "kernels": "weights"}

    def figure_kwargs(self) -> dict[str, Any]:
        return {"figsize": (10, 3.3)}

    def setup_figure(self) -> None:
        run, fig = self.run, self.fig
        n = len(run["losses"])
        ax_l, ax_a, ax_k = fig.subplots(1, 3, gridspec_kw={"left": 0.06, "right": 0.98, "bottom": 0.16,
                                                           "top": 0.86, "wspace": 0.32,
                                                           "width_ratios": [1.25, 1.0, 0.9]})
        self.ax_l, self.ax_a, self.ax_k = ax_l, ax_a, ax_k
        steps = np.arange(1, n + 1)
        ax_l.plot(steps, run["losses"], color="tab:blue", lw=1.6, alpha=0.65, label="reference (dlcore)")
        if self.your_losses is not None:
            m = min(len(self.your_losses), n)
            ax_l.plot(steps[:m], self.your_losses[:m], color="tab:orange", lw=1.0, ls="--", label="yours")
            ax_l.legend(loc="upper right", fontsize=8)
        ax_l.set(yscale="log", xlabel="step", title="batch loss", xlim=(0, n + 1))
        ax_a.plot(np.arange(n + 1), run["test_acc_steps"], color="tab:green", lw=1.6)
        ax_a.axhline(0.9, color="0.6", lw=0.8, ls=":")
        ax_a.set(xlabel="step", title="test accuracy (269 digits)", ylim=(0, 1.02), xlim=(0, n + 1))
        lo, hi = np.nanmin(run["mosaics"]), np.nanmax(run["mosaics"])
        lim = max(abs(lo), abs(hi))
        self.image = ax_k.imshow(run["mosaics"][0], cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
        ax_k.set(xticks=[], yticks=[], title="the 8 kernels (3×3) at this step")
        (self.cursor_l,) = ax_l.plot([0, 0], [run["losses"].min() * 0.8, run["losses"].max() * 1.2], color="k", lw=0.8)
        (self.cursor_a,) = ax_a.plot([0, 0], [0, 1.02], color="k", lw=0.8)
        (self.dot_a,) = ax_a.plot([], [], "o", color="tab:green", ms=5)
        self.static = StaticLayer(fig, [ax_l, ax_a, ax_k], dynamic=[self.cursor_l, self.cursor_a, self.dot_a, self.image])

    def compute(self, params: dict[str, Any]) -> dict[str, Any]:
        n = len(self.run["losses"])
        step = int(params["step"])
        if not 0 <= step <= n:
            raise ValueError(f"training_explorer: step must be in 0..{n}, got {step}")
        if params["kernels"] not in KERNEL_VIEWS:
            raise ValueError(f"training_explorer: kernels must be one of {list(KERNEL_VIEWS)}, got {params['kernels']!r}")
        mosaic = self.run["mosaics"][step]
        if params["kernels"] == "change since step 0":
            mosaic = mosaic - self.run["mosaics"][0]
        state = {"step": step, "acc": float(self.run["test_acc_steps"][step]), "mosaic": mosaic,
                 "kernels": params["kernels"], "change": float(np.nanmax(np.abs(self.run["mosaics"][step]
                                                                              - self.run["mosaics"][0]))),
                 "loss": float(self.run["losses"][step - 1]) if step else None,
                 "epoch": (step - 1) // self.run["steps_per_epoch"] + 1 if step else 0,
                 "yours": None}
        if step and self.your_losses is not None and step <= len(self.your_losses):
            state["yours"] = float(self.your_losses[step - 1])
        return state

    def draw(self, state: dict[str, Any]) -> None:
        s = state["step"]
        self.cursor_l.set_xdata([s, s])
        self.cursor_a.set_xdata([s, s])
        self.dot_a.set_data([s], [state["acc"]])
        self.image.set_data(state["mosaic"])
        numbers = {"step": s, "epoch": state["epoch"], "test_acc": state["acc"], "kernel_change": state["change"]}
        rows = [("step", f"{s} of {len(self.run['losses'])}" + (f" (epoch {state['epoch']})" if s else
                                                                 " (the initial weights)")),
                ("test accuracy", f"{100 * state['acc']:.1f} %"),
                ("kernels shown", f"{state['kernels']} (the largest weight change so far {fmt(state['change'])})")]
        if state["loss"] is not None:
            numbers["batch_loss"] = state["loss"]
            rows.append(("batch loss (reference)", fmt(state["loss"])))
        if state["yours"] is not None:
            numbers["your_loss"] = state["yours"]
            numbers["loss_gap"] = abs(state["yours"] - state["loss"])
            rows.append(("your batch loss", f"{fmt(state['yours'])} (differs by {fmt(numbers['loss_gap'])})"))
        self.rows = rows
        self.set_numbers(numbers)

    def summary_rows(self):
        return getattr(self, "rows", [])

    def make_controls(self) -> dict[str, Any]:
        import ipywidgets as widgets

        w = widgets.IntSlider(value=self.params["step"], min=0, max=len(self.run["losses"]), description="step",
                              continuous_update=True)
        w.add_class("dl-ctl-step")
        view = widgets.Dropdown(options=list(KERNEL_VIEWS), value=self.params["kernels"], description="kernels")
        view.add_class("dl-ctl-kernels")
        return {"step": w, "kernels": view}


def training_explorer(your_losses=None, **params: Any) -> TrainingExplorer:
    """Walk through the reference run: ``training_explorer(step=10)``; ``kernels="change since step 0"``
    shows how far each kernel weight moved; ``your_losses=`` (one loss per step, from your
    ``train_cnn``) overlays your curve."""
    return TrainingExplorer(your_losses=your_losses, **params)
