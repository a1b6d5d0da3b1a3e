"""Chapter 6 (overfitting): the chapter's training runs, the shipped sweep, early stopping, the gap.

The chapter trains one over-sized MLP (64 → 128 → 128 → 10, ≈ 26 000 weights) on a few hundred
real 8×8 digits and watches the training and validation losses part. A run is a
``dlcore.nn.Sequential`` trained by ``dlcore.train.fit`` with ``dlcore.optim.SGD`` (momentum,
and weight decay λ through the optimizer's ``weight_decay``: the penalty λ/2·‖w‖² on every
parameter, as ``torch.optim.SGD(model.parameters(), weight_decay=λ)``); both curves are measured
in evaluation mode after each epoch (``fit(eval_train=True)``). Every run is deterministic (one
seeded ``numpy.random.Generator`` draws the initial weights, the epoch shuffles and the dropout
masks), so a grid of runs is computed once and shipped, and any single setting recomputed live
(:func:`run_setting`) gives the same numbers.

Rebuild the shipped ``dlcore/data/ch06_sweep.npz`` (100 runs of 100 epochs, a few minutes on
two cores) with::

    python -m dlcore.chapters.ch06 --rebuild-sweep [--out PATH]

``tests/test_ch06_claims.py`` rebuilds a subset of the grid and checks it equals the shipped file.

Early stopping needs no extra runs: stopping only reads the validation curve, so the run that
stops at epoch t is the prefix of the full run, and :func:`early_stopping_point` replays the
rule on the cached curve.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import NamedTuple

import numpy as np

from dlcore import nn
from dlcore.chapters._shared import one_blas_thread
from dlcore.data import load_digits
from dlcore.optim import SGD
from dlcore.regularization import EarlyStopping
from dlcore.train import fit

__all__ = ["SWEEP_PATH", "RUN_CONFIG", "SWEEP_GRID", "CHAPTER_SETTING", "Curves", "overfitting_data",
           "overfitting_mlp", "init_mlp", "train_mlp", "run_setting", "build_overfitting_sweep",
           "load_overfitting_sweep", "cached_history", "early_stopping_point", "gap_summary", "decay_per_step"]

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


class Curves(NamedTuple):
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


def overfitting_mlp(sizes, dropout: float, rng: np.random.Generator) -> nn.Sequential:
    """(Linear → ReLU → Dropout(p))* → Linear for layer widths ``sizes``, e.g. (64, 128, 128, 10).

    Weights start as PyTorch's ``nn.Linear`` defaults, drawn from ``rng`` layer by layer; the
    dropout layers draw their masks from the same ``rng`` (p = 0 draws nothing).
    """
    layers: list[nn.Module] = []
    for k, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out, rng=rng))
        if k < len(sizes) - 2:
            layers += [nn.ReLU(), nn.Dropout(dropout, rng=rng)]
    return nn.Sequential(*layers)


def init_mlp(sizes, rng: np.random.Generator) -> list:
    """The initial parameters ``[w1, b1, w2, b2, ...]`` of :func:`overfitting_mlp` for ``rng``."""
    return overfitting_mlp(sizes, 0.0, rng).parameters()


def train_mlp(x, y, x_val, y_val, *, weight_decay=0.0, dropout=0.0, epochs=100, hidden=128, lr=0.03,
              momentum=0.9, batch_size=32, seed=0) -> tuple[Curves, list]:
    """Train the chapter's MLP with ``dlcore.train.fit``: SGD with momentum, weight decay, dropout.

    Loss per step: cross-entropy + weight_decay/2 · Σ‖θ‖² (``SGD(weight_decay=...)`` adds
    weight_decay · θ to every gradient). One generator seeded with ``seed`` draws the initial
    weights, the epoch shuffles and the dropout masks. Returns the per-epoch :class:`Curves` and
    the final parameters ``[w1, b1, ...]``.
    """
    rng = np.random.default_rng(seed)
    sizes = (x.shape[1], hidden, hidden, int(max(y.max(), y_val.max())) + 1)
    model = overfitting_mlp(sizes, dropout, rng)
    opt = SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    with one_blas_thread():
        hist = fit(model, x, y, optimizer=opt, epochs=int(epochs), batch_size=int(batch_size), rng=rng,
                   X_val=x_val, y_val=y_val, eval_train=True, progress=False)
    curves = Curves(*(np.asarray(getattr(hist, name), dtype=np.float64) for name in Curves._fields))
    return curves, model.parameters()


def run_setting(n_train: int, weight_decay: float, dropout: float, **config) -> Curves:
    """One run of the chapter's experiment; ``config`` overrides :data:`RUN_CONFIG`."""
    cfg = {**RUN_CONFIG, **config}
    data = overfitting_data(n_train, cfg.pop("n_val"), cfg["seed"])
    return train_mlp(*data, weight_decay=weight_decay, dropout=dropout, **cfg)[0]


def build_overfitting_sweep(path=SWEEP_PATH, grid=None, **config) -> Path:
    """Train every (size, weight decay, dropout) of the grid and save the curves as ``path`` (.npz).

    The shipped ``dlcore/data/ch06_sweep.npz`` is this with the defaults (run it as
    ``python -m dlcore.chapters.ch06 --rebuild-sweep``). Curves are stored as float32 (shape
    (sizes, decays, dropouts, epochs)); ``w1_final`` holds the first-layer weights after training
    for the chapter's size without dropout, one per decay (float32, (decays, hidden, 64), NaN when
    the grid lacks that size). The grid and the run configuration are stored beside them, so
    :func:`load_overfitting_sweep` knows exactly what to recompute.
    """
    grid = {**SWEEP_GRID, **(grid or {})}
    cfg = {**RUN_CONFIG, **config}
    shape = (len(grid["sizes"]), len(grid["weight_decays"]), len(grid["dropouts"]), cfg["epochs"])
    out = {k: np.empty(shape, dtype=np.float32) for k in Curves._fields}
    out["w1_final"] = np.full((len(grid["weight_decays"]), cfg["hidden"], 64), np.nan, dtype=np.float32)
    n_val, run_cfg = cfg["n_val"], {k: v for k, v in cfg.items() if k != "n_val"}
    for i, n in enumerate(grid["sizes"]):
        data = overfitting_data(n, n_val, cfg["seed"])
        for j, wd in enumerate(grid["weight_decays"]):
            for k, p in enumerate(grid["dropouts"]):
                curves, params = train_mlp(*data, weight_decay=wd, dropout=p, **run_cfg)
                for name in Curves._fields:
                    out[name][i, j, k] = getattr(curves, name)
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


def cached_history(sweep: dict, n_train, weight_decay, dropout) -> Curves:
    """The cached curves of one grid point (raises ValueError for a setting not on the grid)."""
    def index(name, values, v):
        hits = np.flatnonzero(np.isclose(values, v, rtol=1e-9, atol=1e-12))
        if hits.size == 0:
            raise ValueError(f"cached_history: {name}={v!r} is not in the cache's grid {values.tolist()}")
        return int(hits[0])

    i = index("n_train", sweep["sizes"], n_train)
    j = index("weight_decay", sweep["weight_decays"], weight_decay)
    k = index("dropout", sweep["dropouts"], dropout)
    return Curves(*(sweep[name][i, j, k].astype(np.float64) for name in Curves._fields))


# --------------------------------------------------------------------------- early stopping and the gap
def early_stopping_point(val_loss, patience: int, min_delta: float = 0.0) -> tuple[int, int]:
    """Replay ``dlcore.regularization.EarlyStopping`` on a validation curve.

    Returns ``(best_epoch, stop_epoch)``, 1-based: the epoch whose weights are kept and the
    epoch after which training stops (the last epoch if patience never runs out).

    >>> early_stopping_point([1.0, 0.5, 0.6, 0.7, 0.4], patience=2)
    (2, 4)
    """
    stopper = EarlyStopping(patience=patience, min_delta=min_delta)
    stop = len(val_loss)
    for epoch, v in enumerate(val_loss, start=1):
        if stopper.step(float(v)):
            stop = epoch
            break
    return stopper.best_epoch + 1, stop


def gap_summary(hist: Curves, patience=None) -> dict:
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlcore.chapters.ch06",
                                     description="Chapter 6's shipped data: rebuild the overfitting sweep.")
    parser.add_argument("--rebuild-sweep", action="store_true",
                        help="train every setting of SWEEP_GRID and write the .npz (a few minutes)")
    parser.add_argument("--out", default=str(SWEEP_PATH), help=f"where to write it (default {SWEEP_PATH})")
    args = parser.parse_args(argv)
    if not args.rebuild_sweep:
        parser.print_help()
        return 2
    print(f"wrote {build_overfitting_sweep(args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def decay_per_step(lr: float, weight_decay: float, momentum: float = 0.0, steps: int = 1000) -> float:
    """The factor by which ``dlcore.optim.SGD`` shrinks a weight per step when its loss gradient is 0.

    Runs ``steps`` steps on w = 1 with zero gradient and returns the per-step factor over the
    second half (after momentum's buffer has built up): ``1 − lr·λ`` for plain SGD, about
    ``1 − lr·λ/(1 − μ)`` with momentum μ, since λ·w enters the buffer like any gradient.
    """
    from dlcore import optim

    w = np.array([1.0])
    opt = optim.SGD([w], lr=lr, momentum=momentum, weight_decay=weight_decay)
    half = None
    for k in range(steps):
        opt.step([np.zeros(1)])
        if k + 1 == steps // 2:
            half = float(w[0])
    return float((w[0] / half) ** (1.0 / (steps - steps // 2)))
