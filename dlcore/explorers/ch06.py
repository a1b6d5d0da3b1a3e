"""Chapter 6 (overfitting): static plots and the explorer over the chapter's cached sweep.

The numbers (the runs, the shipped sweep, early stopping, the gap) come from
:mod:`dlcore.chapters.ch06`; this module draws them. Its names are re-exported here so a notebook
can keep one import (``from dlcore.explorers import ch06``).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator

from dlcore.chapters._shared import one_blas_thread  # noqa: F401 - re-exported
from dlcore.chapters.ch06 import (  # noqa: F401 - re-exported for the chapter's notebook
    CHAPTER_SETTING, RUN_CONFIG, decay_per_step, SWEEP_GRID, SWEEP_PATH, Curves, build_overfitting_sweep, cached_history,
    early_stopping_point, gap_summary, init_mlp, load_overfitting_sweep, overfitting_data, overfitting_mlp,
    run_setting, train_mlp)
from dlcore.explorers.base import Explorer, fmt, new_figure
from dlcore.explorers.fastdraw import StaticLayer

# --------------------------------------------------------------------------- static plots
def plot_history(hist: Curves, title: str = "", best_epoch=None, ax=None, ylim=None):
    """Training and validation loss per epoch; early stopping's epoch marked when given."""
    fig = None
    if ax is None:
        fig = new_figure(figsize=(6, 3.4))
        ax = fig.add_subplot(1, 1, 1)
    epochs = np.arange(1, len(hist.train_loss) + 1)
    ax.plot(epochs, hist.train_loss, color="C0", label="training loss")
    ax.plot(epochs, hist.val_loss, color="C1", label="validation loss")
    if best_epoch is not None:
        ax.axvline(best_epoch, color="C3", ls="--", lw=1, label=f"early stop: best epoch {best_epoch}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    if fig is not None:
        fig.tight_layout()
    return fig if fig is not None else ax.figure


def plot_histories(hists: dict, best_epochs=None, ylim=(0, 1.5)):
    """Several runs side by side: ``{title: Curves}``, same y-axis."""
    fig = new_figure(figsize=(3.6 * len(hists), 3.3))
    for k, (title, h) in enumerate(hists.items()):
        ax = fig.add_subplot(1, len(hists), k + 1)
        plot_history(h, title, (best_epochs or {}).get(title), ax=ax, ylim=ylim)
    fig.tight_layout()
    return fig


def plot_weight_histograms(weights: dict, bins=60, lim=None):
    """Histograms of weight values, one per run: ``{label: flat array}`` (weight decay shrinks them)."""
    fig = new_figure(figsize=(6, 3.2))
    ax = fig.add_subplot(1, 1, 1)
    allw = np.concatenate([np.ravel(w) for w in weights.values()])
    # The full range, no clipping: clipped tails would pile up in the end bins as false spikes.
    lim = lim or float(np.abs(allw).max())
    edges = np.linspace(-lim, lim, bins + 1)
    for label, w in weights.items():
        ax.hist(np.ravel(w), bins=edges, histtype="step", lw=1.5, density=True, label=label)
    ax.set_xlim(-lim, lim)
    ax.set_yscale("log")  # the tails, where decay acts most, are visible next to the peak
    ax.set_xlabel("weight value (every weight, full range)")
    ax.set_ylabel("density (log)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_gap_bars(gaps: dict, title: str = "validation − training loss at the kept epoch"):
    """One bar per method: ``{label: gap}``."""
    fig = new_figure(figsize=(6, 3))
    ax = fig.add_subplot(1, 1, 1)
    labels = list(gaps)
    ax.bar(range(len(labels)), [gaps[k] for k in labels], color=[f"C{i}" for i in range(len(labels))])
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel("loss gap")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- the explorer
class OverfittingExplorer(Explorer):
    """Training/validation curves of the cached grid with early stopping marked and the final gap."""

    title = "Overfitting: training-set size, weight decay, dropout and early stopping"

    def __init__(self, sweep_path=SWEEP_PATH, student_fn=None, **params: Any) -> None:
        self.sweep = load_overfitting_sweep(sweep_path)
        self.student_fn = student_fn
        self.live = None
        super().__init__(**params)

    def defaults(self) -> dict[str, Any]:
        return {"n_train": 100, "weight_decay": 0.0, "dropout": 0.0, "early_stopping": True, "patience": 10}

    def figure_kwargs(self) -> dict[str, Any]:
        return {"figsize": (10, 3.8)}

    def setup_figure(self) -> None:
        gs = self.fig.add_gridspec(1, 2, width_ratios=(2.2, 1))
        self.ax = self.fig.add_subplot(gs[0, 0])
        self.ax_gap = self.fig.add_subplot(gs[0, 1])
        epochs = self.sweep["config"]["epochs"]
        x = np.arange(1, epochs + 1)
        (self.l_train,) = self.ax.plot(x, np.zeros(epochs), color="C0", label="training loss")
        (self.l_val,) = self.ax.plot(x, np.zeros(epochs), color="C1", label="validation loss")
        # Labelled (and so in the legend) only once a live run exists: no legend entry without data.
        (self.l_live_train,) = self.ax.plot([], [], ls="none", marker=".", ms=3, color="C0", label="_nolegend_")
        (self.l_live_val,) = self.ax.plot([], [], ls="none", marker=".", ms=3, color="C1")
        self.v_best = self.ax.axvline(1, color="C3", ls="--", lw=1.2, label="kept epoch (best)")
        self.v_stop = self.ax.axvline(1, color="0.4", ls=":", lw=1.2, label="training stops")
        (self.v_student,) = self.ax.plot([], [], "v", color="C4", ms=9,
                                         label="your rule stops" if self.student_fn is not None else "_nolegend_")
        self.ax.set_xlim(0, epochs + 1)
        self.ax.set_ylim(0, 1.6)
        self.ax.set_xlabel("epoch")
        self.ax.set_ylabel("cross-entropy")
        self.ax.legend(fontsize=7, loc="upper right")
        self.gap_bars = self.ax_gap.bar([0, 1], [0, 0], color=["0.6", "C2"])
        self.ax_gap.set_xticks([0, 1])
        self.ax_gap.set_xticklabels(["no regularisation\n(last epoch)", "this setting"], fontsize=8)
        self.ax_gap.set_ylabel("validation − training loss")
        self.ax_gap.set_ylim(0, 1.0)
        # The y axes are drawn on every update: few ticks keep that cheap.
        self.ax_gap.yaxis.set_major_locator(MaxNLocator(5, steps=[1, 2, 2.5, 5, 10]))
        self.gap_texts = [self.ax_gap.text(i, 0, "", ha="center", va="bottom", fontsize=8) for i in (0, 1)]
        self.fig.tight_layout()
        # Frames, x axes and labels are rendered once and pasted back. The y limits follow the data,
        # so the y axes are drawn on every update, with the curves, markers, bars and legend
        # (their texts pasted from a bitmap cache).
        self.static = StaticLayer(
            self.fig, [self.ax, self.ax_gap], live_axis=[self.ax.yaxis, self.ax_gap.yaxis],
            dynamic=[self.l_train, self.l_val, self.l_live_train, self.l_live_val, self.v_best, self.v_stop,
                     self.v_student, self.ax.get_legend(), *self.gap_bars, *self.gap_texts,
                     *self.ax.spines.values(), *self.ax_gap.spines.values()])

    def compute(self, params: dict[str, Any]) -> dict[str, Any]:
        hist = cached_history(self.sweep, params["n_train"], params["weight_decay"], params["dropout"])
        patience = int(params["patience"]) if params["early_stopping"] else None
        summ = gap_summary(hist, patience)
        base = gap_summary(cached_history(self.sweep, params["n_train"], 0.0, 0.0), None)
        student_stop = None
        if self.student_fn is not None and patience is not None:
            out = self.student_fn(hist.val_loss.copy(), patience)
            student_stop = int(out[1] if isinstance(out, tuple) else out)
        return {"hist": hist, "summary": summ, "base_gap": base["gap"], "student_stop": student_stop}

    def draw(self, state: dict[str, Any]) -> None:
        hist, s = state["hist"], state["summary"]
        self.l_train.set_ydata(hist.train_loss)
        self.l_val.set_ydata(hist.val_loss)
        self.v_best.set_xdata([s["best_epoch"]] * 2)
        self.v_stop.set_xdata([s["stop_epoch"]] * 2)
        if state["student_stop"] is not None:
            self.v_student.set_data([state["student_stop"]], [0.05])
        else:
            self.v_student.set_data([], [])
        self.l_live_train.set_data([], [])
        self.l_live_val.set_data([], [])
        top = max(1.0, float(np.max(hist.val_loss[: s["stop_epoch"]])) * 1.1)
        self.ax.set_ylim(0, min(top, 3.0))
        gaps = (state["base_gap"], s["gap"])
        for bar, txt, g in zip(self.gap_bars, self.gap_texts, gaps):
            bar.set_height(g)
            txt.set_position((bar.get_x() + bar.get_width() / 2, g))
            txt.set_text(f"{g:.3f}")
        self.ax_gap.set_ylim(0, max(0.2, 1.15 * max(gaps)))
        self.set_numbers({"best_epoch": s["best_epoch"], "stop_epoch": s["stop_epoch"],
                          "train_loss": s["train_loss"], "val_loss": s["val_loss"], "gap": s["gap"],
                          "gap_no_regularisation": state["base_gap"],
                          "train_acc": s["train_acc"], "val_acc": s["val_acc"]})

    def summary_rows(self):
        n = self.numbers
        es = bool(self.params["early_stopping"])
        rows = [("kept epoch", f"{n['best_epoch']} (lowest validation loss"
                 + (f"; early stopping ends training at epoch {n['stop_epoch']})" if es else ", no early stopping)")),
                ("loss at the kept epoch", f"training {fmt(n['train_loss'])}, validation {fmt(n['val_loss'])}"),
                ("gap (validation − training)", f"{fmt(n['gap'])}, against {fmt(n['gap_no_regularisation'])} "
                                                 "with no regularisation at this size"),
                ("accuracy", f"training {100 * n['train_acc']:.1f} %, validation {100 * n['val_acc']:.1f} %")]
        if "live_max_abs_diff" in n:
            rows.append(("recomputed live", f"largest difference from the stored curves {fmt(n['live_max_abs_diff'])}"))
        return rows

    def recompute_live(self) -> float:
        """Train the current setting now (a few seconds), overlay it, and return max |live − cached|."""
        p = self.params
        cfg = {k: v for k, v in self.sweep["config"].items()}
        live = run_setting(int(p["n_train"]), float(p["weight_decay"]), float(p["dropout"]), **cfg)
        cached = self.state["hist"]
        diff = max(float(np.max(np.abs(getattr(live, f) - getattr(cached, f)))) for f in Curves._fields)
        self.live = live
        x = np.arange(1, len(live.train_loss) + 1)
        self.l_live_train.set_data(x, live.train_loss)
        self.l_live_val.set_data(x, live.val_loss)
        self.set_numbers({**self.numbers, "live_max_abs_diff": diff})
        if self.l_live_train.get_label() == "_nolegend_":
            self.l_live_train.set_label("recomputed live (dots)")
            old = self.ax.get_legend()
            self.static.dynamic.remove(old)
            self.static.add_dynamic(self.ax.legend(fontsize=7, loc="upper right"))
        self.fig.canvas.draw_idle()
        if self._widget is not None:
            self._render_static()
        return diff

    def make_controls(self) -> dict[str, Any]:
        import ipywidgets as widgets

        p, sw = self.params, self.sweep
        c = {
            "n_train": widgets.SelectionSlider(options=[int(v) for v in sw["sizes"]], value=int(p["n_train"]),
                                               description="training size", continuous_update=True),
            "weight_decay": widgets.SelectionSlider(options=[float(v) for v in sw["weight_decays"]],
                                                    value=float(p["weight_decay"]), description="weight decay λ",
                                                    continuous_update=True),
            "dropout": widgets.SelectionSlider(options=[float(v) for v in sw["dropouts"]], value=float(p["dropout"]),
                                               description="dropout p", continuous_update=True),
            "early_stopping": widgets.Checkbox(value=bool(p["early_stopping"]), description="early stopping"),
            "patience": widgets.IntSlider(value=int(p["patience"]), min=1, max=40, description="patience",
                                          continuous_update=True),
        }
        for name, w in c.items():
            w.add_class(f"dl-ctl-{name}")
        # A button has no value: it sits with the controls but acts through on_click.
        # width "auto": the default button width (148 px) cuts its label
        button = widgets.Button(description="recompute this setting live", layout=widgets.Layout(width="auto"))
        button.add_class("dl-ctl-recompute")
        button.on_click(lambda _b: self.recompute_live())
        c["recompute"] = button
        return c


def overfitting_explorer(student_fn=None, **params: Any) -> OverfittingExplorer:
    """Explorer: train/validation curves over the cached grid, early stopping marked, final gap.

    Parameters: ``n_train`` (50–800), ``weight_decay``, ``dropout`` (values on the cached grid),
    ``early_stopping`` (bool), ``patience``. ``student_fn(val_losses, patience)`` — your early-
    stopping rule — marks where it stops. ``explorer.recompute_live()`` retrains the current
    setting and compares it with the cache.
    """
    return OverfittingExplorer(student_fn=student_fn, **params)
