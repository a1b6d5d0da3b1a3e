"""Chapter 6 (overfitting): the chapter's training runs, their cache, static plots, the explorer.

The chapter trains one over-sized MLP (64 → 128 → 128 → 10, ≈ 26 000 weights) on a few hundred
real 8×8 digits and watches the training and validation losses part. Every run is deterministic
(one seeded ``numpy.random.Generator`` drives initialisation, shuffling and dropout masks), so a
grid of runs can be computed once, shipped as ``dlcore/data/ch06_sweep.npz``
(:func:`build_overfitting_sweep`), and any single setting recomputed live
(:func:`run_setting`, ``explorer.recompute_live()``) to the same numbers.

Early stopping needs no extra runs: stopping only reads the validation curve, so the run that
stops at epoch t is the prefix of the full run, and the explorer applies the rule to the cached
curve.
"""
from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from matplotlib.ticker import MaxNLocator

from dlcore.activations import relu_backward, relu_forward
from dlcore.data import load_digits
from dlcore.explorers.base import Explorer, new_figure
from dlcore.explorers.fastdraw import StaticLayer
from dlcore.linear import linear_backward, linear_forward
from dlcore.losses import cross_entropy, cross_entropy_grad
from dlcore.optim import SGD
from dlcore.regularization import EarlyStopping, dropout_backward, dropout_forward, l2_penalty_grad

SWEEP_PATH = Path(__file__).resolve().parent.parent / "data" / "ch06_sweep.npz"

#: Everything that fixes a run besides (training-set size, weight decay, dropout).
RUN_CONFIG = {"epochs": 100, "hidden": 128, "lr": 0.03, "momentum": 0.9, "batch_size": 32,
              "n_val": 500, "seed": 0}
_INT_CONFIG = ("epochs", "hidden", "batch_size", "n_val", "seed")
#: The grid the shipped cache holds.
SWEEP_GRID = {"sizes": (50, 100, 200, 400, 800), "weight_decays": (0.0, 1e-3, 3e-3, 1e-2, 3e-2),
              "dropouts": (0.0, 0.2, 0.4, 0.6)}
#: The chapter's running example: few examples, and one value of each regulariser.
CHAPTER_SETTING = {"n_train": 100, "weight_decay": 1e-2, "dropout": 0.4, "patience": 10}


def one_blas_thread():
    """A context in which BLAS runs on one thread (when ``threadpoolctl`` is installed).

    The chapters' matrices are small (at most 500 × 128): splitting them over threads costs more
    than it saves, and on a busy machine multi-threaded OpenBLAS is ten to forty times slower.
    """
    controller = _blas_controller()
    return contextlib.nullcontext() if controller is None else controller.limit(limits=1, user_api="blas")


@functools.lru_cache(maxsize=1)
def _blas_controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()  # scanning the loaded libraries takes milliseconds: do it once


class History(NamedTuple):
    """Per-epoch curves of one run, each (epochs,), measured in evaluation mode after the epoch."""

    train_loss: np.ndarray
    val_loss: np.ndarray
    train_acc: np.ndarray
    val_acc: np.ndarray


# --------------------------------------------------------------------------- data and training
def overfitting_data(n_train: int, n_val: int = RUN_CONFIG["n_val"], seed: int = RUN_CONFIG["seed"]):
    """The chapter's split of the real digits: a fixed validation set and the first ``n_train`` of the rest.

    Returns ``(x_train (n_train, 64), y_train (n_train,), x_val (n_val, 64), y_val (n_val,))``,
    pixels scaled to [0, 1]. The same seed always gives the same split, whatever ``n_train``.
    """
    x, y = load_digits()
    perm = np.random.default_rng(seed).permutation(len(x))
    x, y = x[perm], y[perm]
    pool = len(x) - n_val
    if not 1 <= n_train <= pool:
        raise ValueError(f"overfitting_data: n_train must be in 1..{pool}, got {n_train}")
    return x[n_val:n_val + n_train], y[n_val:n_val + n_train], x[:n_val], y[:n_val]


def init_mlp(sizes, rng: np.random.Generator) -> list:
    """Weights and biases ``[w1, b1, w2, b2, ...]`` drawn as PyTorch's ``nn.Linear``: U(−1/√in, 1/√in)."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, (fan_out, fan_in)))
        params.append(rng.uniform(-bound, bound, fan_out))
    return params


def mlp_forward(x, params, dropout: float = 0.0, rng=None, train: bool = False):
    """Logits of the MLP (linear → ReLU → dropout)* → linear; returns ``(logits, caches)``."""
    caches = []
    h = x
    n_layers = len(params) // 2
    for i in range(n_layers):
        h, c_lin = linear_forward(h, params[2 * i], params[2 * i + 1])
        if i == n_layers - 1:
            caches.append((c_lin, None, None))
            break
        h, c_relu = relu_forward(h)
        c_drop = None
        if train and dropout > 0:
            h, c_drop = dropout_forward(h, dropout, rng, train=True)
        caches.append((c_lin, c_relu, c_drop))
    return h, caches


def mlp_backward(dlogits, caches) -> list:
    """Gradients ``[dw1, db1, ...]`` of the loss, given dL/dlogits and the forward's caches."""
    grads = []
    d = dlogits
    for c_lin, c_relu, c_drop in reversed(caches):
        if c_drop is not None:
            d = dropout_backward(d, c_drop)
        if c_relu is not None:
            d = relu_backward(d, c_relu)
        d, dw, db = linear_backward(d, c_lin)
        grads[:0] = [dw, db]
    return grads


def evaluate(x, y, params) -> tuple[float, float]:
    """Cross-entropy and accuracy of the MLP on ``(x, y)`` in evaluation mode (no dropout)."""
    logits, _ = mlp_forward(x, params)
    return cross_entropy(logits, y), float(np.mean(logits.argmax(axis=1) == y))


def train_mlp(x, y, x_val, y_val, *, weight_decay=0.0, dropout=0.0, epochs=100, hidden=128, lr=0.03,
              momentum=0.9, batch_size=32, seed=0) -> tuple[History, list]:
    """Train the chapter's MLP with mini-batch SGD (momentum), L2 weight decay and dropout.

    Loss per step: cross-entropy + weight_decay/2 · Σ‖W‖² over the weight matrices (not biases);
    its gradient adds weight_decay · W (``dlcore.regularization.l2_penalty_grad``). One generator
    seeded with ``seed`` draws the initial weights, the epoch shuffles and the dropout masks.
    Returns the per-epoch :class:`History` and the final parameters.
    """
    with one_blas_thread():
        return _train_mlp(x, y, x_val, y_val, weight_decay, dropout, epochs, hidden, lr, momentum, batch_size, seed)


def _train_mlp(x, y, x_val, y_val, weight_decay, dropout, epochs, hidden, lr, momentum, batch_size, seed):
    rng = np.random.default_rng(seed)
    params = init_mlp((x.shape[1], hidden, hidden, int(max(y.max(), y_val.max())) + 1), rng)
    opt = SGD(params, lr=lr, momentum=momentum)
    curves = np.empty((4, epochs))
    n = len(x)
    for epoch in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            logits, caches = mlp_forward(x[idx], params, dropout, rng, train=True)
            grads = mlp_backward(cross_entropy_grad(logits, y[idx]), caches)
            if weight_decay:
                for i in range(0, len(params), 2):  # weights only: biases are not decayed
                    grads[i] = grads[i] + l2_penalty_grad(params[i], weight_decay)
            opt.step(grads)
        curves[0, epoch], curves[2, epoch] = evaluate(x, y, params)
        curves[1, epoch], curves[3, epoch] = evaluate(x_val, y_val, params)
    return History(*curves), params


def run_setting(n_train: int, weight_decay: float, dropout: float, **config) -> History:
    """One run of the chapter's experiment; ``config`` overrides :data:`RUN_CONFIG`."""
    cfg = {**RUN_CONFIG, **config}
    data = overfitting_data(n_train, cfg.pop("n_val"), cfg["seed"])
    return train_mlp(*data, weight_decay=weight_decay, dropout=dropout, **cfg)[0]


def build_overfitting_sweep(path=SWEEP_PATH, grid=None, **config) -> Path:
    """Train every (size, weight decay, dropout) of the grid and save the curves as ``path`` (.npz).

    This produced the shipped ``dlcore/data/ch06_sweep.npz`` (run as
    ``python -c "from dlcore.explorers.ch06 import build_overfitting_sweep; build_overfitting_sweep()"``,
    1.5–3 minutes on two cores). Curves are stored as float32 (shape (sizes, decays, dropouts,
    epochs)); the grid and the run configuration are stored beside them, so
    :func:`load_overfitting_sweep` knows exactly what to recompute.
    """
    grid = {**SWEEP_GRID, **(grid or {})}
    cfg = {**RUN_CONFIG, **config}
    shape = (len(grid["sizes"]), len(grid["weight_decays"]), len(grid["dropouts"]), cfg["epochs"])
    out = {k: np.empty(shape, dtype=np.float32) for k in History._fields}
    # First-layer weights after training, for the chapter's size without dropout (one per decay).
    out["w1_final"] = np.empty((len(grid["weight_decays"]), cfg["hidden"], 64), dtype=np.float32)
    n_val, run_cfg = cfg["n_val"], {k: v for k, v in cfg.items() if k != "n_val"}
    for i, n in enumerate(grid["sizes"]):
        data = overfitting_data(n, n_val, cfg["seed"])
        for j, wd in enumerate(grid["weight_decays"]):
            for k, p in enumerate(grid["dropouts"]):
                hist, params = train_mlp(*data, weight_decay=wd, dropout=p, **run_cfg)
                for name in History._fields:
                    out[name][i, j, k] = getattr(hist, name)
                if n == CHAPTER_SETTING["n_train"] and p == 0.0:
                    out["w1_final"][j] = params[0]
    path = Path(path)
    np.savez_compressed(path, **out, **{k: np.asarray(v, dtype=float) for k, v in grid.items()},
                        config_keys=np.array(list(cfg)), config_values=np.array([float(v) for v in cfg.values()]))
    return path


def load_overfitting_sweep(path=SWEEP_PATH) -> dict:
    """The cached grid: ``{'sizes', 'weight_decays', 'dropouts', 'config', 'train_loss', ...}``."""
    with np.load(path) as f:
        d = {k: f[k] for k in f.files}
    cfg = {str(k): float(v) for k, v in zip(d.pop("config_keys"), d.pop("config_values"))}
    d["config"] = {k: (int(v) if k in _INT_CONFIG else v) for k, v in cfg.items()}
    d["sizes"] = d["sizes"].astype(int)
    d["epochs"] = d["config"]["epochs"]
    return d


def cached_history(sweep: dict, n_train, weight_decay, dropout) -> History:
    """The cached curves of one grid point (raises ValueError for a setting not on the grid)."""
    def index(name, values, v):
        hits = np.flatnonzero(np.isclose(values, v, rtol=1e-9, atol=1e-12))
        if hits.size == 0:
            raise ValueError(f"cached_history: {name}={v!r} is not in the cache's grid {values.tolist()}")
        return int(hits[0])

    i = index("n_train", sweep["sizes"], n_train)
    j = index("weight_decay", sweep["weight_decays"], weight_decay)
    k = index("dropout", sweep["dropouts"], dropout)
    return History(*(sweep[name][i, j, k].astype(np.float64) for name in History._fields))


# --------------------------------------------------------------------------- early stopping and the gap
def early_stopping_point(val_loss, patience: int, min_delta: float = 0.0) -> tuple[int, int]:
    """Replay ``dlcore.regularization.EarlyStopping`` on a validation curve.

    Returns ``(best_epoch, stop_epoch)``, 1-based: the epoch whose weights are kept and the
    epoch after which training stops (the last epoch if patience never runs out).
    """
    stopper = EarlyStopping(patience=patience, min_delta=min_delta)
    stop = len(val_loss)
    for epoch, v in enumerate(val_loss, start=1):
        if stopper.step(float(v)):
            stop = epoch
            break
    return stopper.best_epoch + 1, stop


def gap_summary(hist: History, patience=None) -> dict:
    """Losses, accuracies and the validation − training loss gap at the epoch whose weights we keep.

    With ``patience=None`` that is the last epoch; otherwise early stopping's best epoch.
    """
    if patience is None:
        best, stop = len(hist.val_loss), len(hist.val_loss)
    else:
        best, stop = early_stopping_point(hist.val_loss, patience)
    i = best - 1
    return {"best_epoch": best, "stop_epoch": stop,
            "train_loss": float(hist.train_loss[i]), "val_loss": float(hist.val_loss[i]),
            "train_acc": float(hist.train_acc[i]), "val_acc": float(hist.val_acc[i]),
            "gap": float(hist.val_loss[i] - hist.train_loss[i]),
            "acc_gap": float(hist.train_acc[i] - hist.val_acc[i])}


# --------------------------------------------------------------------------- static plots
def plot_history(hist: History, title: str = "", best_epoch=None, ax=None, ylim=None):
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
    """Several runs side by side: ``{title: History}``, same y-axis."""
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
    lim = lim or float(np.percentile(np.abs(allw), 99.5))
    edges = np.linspace(-lim, lim, bins + 1)
    for label, w in weights.items():
        ax.hist(np.clip(np.ravel(w), -lim, lim), bins=edges, histtype="step", lw=1.5, density=True, label=label)
    ax.set_xlabel("weight value")
    ax.set_ylabel("density")
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
        (self.l_live_train,) = self.ax.plot([], [], ls="none", marker=".", ms=3, color="C0", label="recomputed live")
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

    def recompute_live(self) -> float:
        """Train the current setting now (a few seconds), overlay it, and return max |live − cached|."""
        p = self.params
        cfg = {k: v for k, v in self.sweep["config"].items()}
        live = run_setting(int(p["n_train"]), float(p["weight_decay"]), float(p["dropout"]), **cfg)
        cached = self.state["hist"]
        diff = max(float(np.max(np.abs(getattr(live, f) - getattr(cached, f)))) for f in History._fields)
        self.live = live
        x = np.arange(1, len(live.train_loss) + 1)
        self.l_live_train.set_data(x, live.train_loss)
        self.l_live_val.set_data(x, live.val_loss)
        self.set_numbers({**self.numbers, "live_max_abs_diff": diff})
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
        button = widgets.Button(description="recompute this setting live")
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
