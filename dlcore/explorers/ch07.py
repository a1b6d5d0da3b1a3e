"""Chapter 7 (CNN layers): static figures and the convolution explorer.

The numbers come from :mod:`dlcore.chapters.ch07` (numpy only); its names are re-exported here
so the chapter's notebook needs one import. This module draws them.

``conv_explorer()`` shows an RGB photograph going through one convolution layer (a bank of
kernels, each with one 3×3 layer per input channel), ReLU, and max or average pooling; every
output channel is drawn, and the read-out prints the shapes that the size formula predicts.
All numbers come from :mod:`dlcore.conv` and :mod:`dlcore.pooling`.
"""
from __future__ import annotations

import html

from typing import Any

import numpy as np
from matplotlib.patches import Rectangle

from dlcore.chapters.ch07 import (  # noqa: F401 - the chapter's numbers, re-exported for its notebook
    pooling_comparison, small_cnn,
    CHANNELS, DEFAULT_CUSTOM, KERNEL_CHOICES, MAX_KERNELS, kernel_bank, load_input,
    parse_custom_kernel, random_kernels)
from dlcore.explorers.base import Explorer, fmt, new_figure
from dlcore.explorers.fastdraw import StaticLayer


def to_rgb(x: np.ndarray) -> np.ndarray:
    """(1, 3, H, W) or (3, H, W) in [0, 1] -> (H, W, 3) for imshow."""
    x = np.asarray(x)
    if x.ndim == 4:
        x = x[0]
    return np.clip(x.transpose(1, 2, 0), 0.0, 1.0)


def kernel_strip(w3: np.ndarray) -> np.ndarray:
    """A (3, 3, 3) kernel laid out as one 3×11 picture: R | G | B layers, NaN gaps."""
    strip = np.full((3, 11), np.nan)
    for c in range(3):
        strip[:, 4 * c: 4 * c + 3] = w3[c]
    return strip


# --- static figures for the notebook ------------------------------------------------------------

def show_channels(x: np.ndarray):
    """The photo and its three channels: the three layers a first-layer kernel sees."""
    fig = new_figure(figsize=(9, 2.6), layout="constrained")
    axes = fig.subplots(1, 4)
    axes[0].imshow(to_rgb(x))
    axes[0].set_title(f"input {tuple(x.shape)}")
    cmaps = ("Reds", "Greens", "Blues")
    for c in range(3):
        axes[c + 1].imshow(x[0, c], cmap=cmaps[c], vmin=0, vmax=1)
        axes[c + 1].set_title(f"channel {c} ({CHANNELS[c]})")
    for ax in axes:
        ax.set_axis_off()
    return fig


def show_kernels(w: np.ndarray, names=None, annotate: bool = True):
    """Each 3×3 kernel (F, C, 3, 3) as its C layers side by side (one row per kernel), numbers in the cells."""
    F, C, KH, KW = w.shape
    fig = new_figure(figsize=(min(0.45 * C * (KW + 1) + 0.4, 9), (0.45 * KH + 0.55) * F + 0.2),
                     layout="constrained")
    axes = np.atleast_1d(fig.subplots(F, 1, squeeze=False)[:, 0])
    vmax = float(np.abs(w).max()) or 1.0
    for f, ax in enumerate(axes):
        strip = np.full((KH, C * (KW + 1) - 1), np.nan)
        for c in range(C):
            strip[:, c * (KW + 1): c * (KW + 1) + KW] = w[f, c]
        ax.imshow(strip, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        if annotate:
            for c in range(C):
                for (i, j), v in np.ndenumerate(w[f, c]):
                    ax.text(c * (KW + 1) + j, i, f"{v:.2g}", ha="center", va="center", fontsize=6.5,
                            color="white" if abs(v) > 0.65 * vmax else "black")
        ax.set_xticks([c * (KW + 1) + (KW - 1) / 2 for c in range(C)],
                      [f"layer {c}" + (f" ({CHANNELS[c]})" if C == 3 else "") for c in range(C)], fontsize=7)
        ax.set_yticks([])
        ax.set_title(f"kernel {f}" + (f": {names[f]}" if names else ""), fontsize=8)
        for side in ax.spines.values():
            side.set_visible(False)
    return fig


def show_kernel_mosaic(rows, row_titles):
    """Rows of single-layer kernels, e.g. (F, KH, KW) before and after training, one axis per row."""
    fig = new_figure(figsize=(9, 1.1 * len(rows) + 0.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(rows), 1, squeeze=False)[:, 0])
    for ax, ks, title in zip(axes, rows, row_titles):
        ks = np.asarray(ks)
        F, KH, KW = ks.shape
        strip = np.full((KH, F * (KW + 1) - 1), np.nan)
        for f in range(F):
            strip[:, f * (KW + 1): f * (KW + 1) + KW] = ks[f]
        v = float(np.abs(ks).max()) or 1.0
        ax.imshow(strip, cmap="RdBu_r", vmin=-v, vmax=v)
        ax.set_xticks([f * (KW + 1) + (KW - 1) / 2 for f in range(F)], [str(f) for f in range(F)], fontsize=7)
        ax.set_yticks([])
        ax.set_title(title, fontsize=9)
    return fig


def show_maps(maps: np.ndarray, title: str = "", cmap: str = "gray", titles=None, symmetric: bool = False):
    """A row of feature maps (C, H, W) or (1, C, H, W), each with its own colour scale."""
    maps = np.asarray(maps)
    if maps.ndim == 4:
        maps = maps[0]
    n = maps.shape[0]
    fig = new_figure(figsize=(min(2.2 * n, 11), 2.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n, squeeze=False)[0])
    for i, ax in enumerate(axes):
        m = maps[i]
        if symmetric:
            v = float(np.abs(m).max()) or 1.0
            ax.imshow(m, cmap="RdBu_r", vmin=-v, vmax=v)
        else:
            ax.imshow(m, cmap=cmap)
        ax.set_title(titles[i] if titles else f"channel {i} {m.shape}", fontsize=8)
        ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def show_grid_numbers(arrays, titles, fmt: str = "{:.2g}", figsize=None):
    """Small 2-D arrays side by side with every number written in its cell (worked examples)."""
    n = len(arrays)
    fig = new_figure(figsize=figsize or (2.4 * n, 2.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n, squeeze=False)[0])
    for ax, a, t in zip(axes, arrays, titles):
        a = np.asarray(a, dtype=float)
        v = float(np.abs(a).max()) or 1.0
        ax.imshow(a, cmap="RdBu_r", vmin=-v, vmax=v)
        for (i, j), val in np.ndenumerate(a):
            ax.text(j, i, fmt.format(val), ha="center", va="center", fontsize=9,
                    color="white" if abs(val) > 0.65 * v else "black")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{t}\n{a.shape}", fontsize=9)
    return fig


def show_predictions(images: np.ndarray, probs: np.ndarray, labels: np.ndarray):
    """Digits (N, 1, H, W) in a row, and below them their softmax probabilities (N, classes) as a
    table: one column per digit, the true class boxed, the predicted class in bold."""
    n, _, H, W = images.shape
    classes = probs.shape[1]
    fig = new_figure(figsize=(1.15 * n + 1.0, 4.6), layout="constrained")
    ax_img, ax_p = fig.subplots(2, 1, gridspec_kw={"height_ratios": [1, 2.4]})
    strip = np.full((H, n * (W + 1) - 1), np.nan)
    for i in range(n):
        strip[:, i * (W + 1): i * (W + 1) + W] = images[i, 0]
    ax_img.imshow(strip, cmap="gray_r")
    ax_img.set_xticks([i * (W + 1) + (W - 1) / 2 for i in range(n)],
                      [f"true {int(labels[i])}\npred {int(np.argmax(probs[i]))}" for i in range(n)], fontsize=8)
    ax_img.set_yticks([])
    ax_p.imshow(probs.T, cmap="Greens", vmin=0, vmax=1, aspect="auto")
    for i in range(n):
        for k in range(classes):
            ax_p.text(i, k, f"{probs[i, k]:.2f}", ha="center", va="center", fontsize=7,
                      color="white" if probs[i, k] > 0.6 else "black",
                      weight="bold" if k == np.argmax(probs[i]) else "normal")
        ax_p.add_patch(Rectangle((i - 0.5, labels[i] - 0.5), 1, 1, fill=False, ec="tab:red", lw=1.5))
    ax_p.set_xticks(range(n), [f"digit {i}" for i in range(n)], fontsize=7)
    ax_p.set_yticks(range(classes), [f"p(class {k})" for k in range(classes)], fontsize=7)
    ax_p.set_title("softmax probabilities (each column sums to 1; red box = true class)", fontsize=9)
    return fig


def plot_pooling_comparison(result: dict):
    """Max against average pooling (from :func:`dlcore.chapters.ch07.pooling_comparison`): the
    validation accuracy per epoch of every seed (left) and each seed's test accuracy (right)."""
    fig = new_figure(figsize=(8.5, 3.0))
    ax_v, ax_t = fig.subplots(1, 2)
    for k, (pool, colour) in enumerate((("max", "tab:blue"), ("avg", "tab:orange"))):
        r = result[pool]
        epochs = np.arange(1, r["val_acc"].shape[1] + 1)
        for i, row in enumerate(r["val_acc"]):
            ax_v.plot(epochs, row, color=colour, lw=1, alpha=0.8, label=f"{pool} pooling" if i == 0 else None)
        seeds = np.arange(len(r["test_acc"]))
        ax_t.plot(seeds + (k - 0.5) * 0.15, r["test_acc"], "o", color=colour,
                  label=f"{pool} pooling: mean {r['test_acc'].mean():.3f}")
    ax_v.set(xlabel="epoch", ylabel="validation accuracy", title="same network, same seeds")
    ax_t.set(xlabel="seed", ylabel="test accuracy", title="test accuracy per seed", xticks=seeds)
    ax_v.legend(fontsize=8)
    ax_t.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_history(history, keys=("train_loss", "val_loss")):
    """Loss and accuracy per epoch from a :class:`dlcore.train.History` (or a dict of lists)."""
    if not isinstance(history, dict):
        history = {k: getattr(history, k) for k in ("train_loss", "val_loss", "train_acc", "val_acc")}
    fig = new_figure(figsize=(8, 2.8), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    for k in keys:
        if k in history:
            ax1.plot(np.arange(1, len(history[k]) + 1), history[k], "o-", label=k)
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("cross-entropy")
    ax1.legend()
    for k in ("train_acc", "val_acc"):
        if k in history and not np.all(np.isnan(history[k])):
            ax2.plot(np.arange(1, len(history[k]) + 1), history[k], "o-", label=k)
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy")
    ax2.legend()
    return fig


# --- the explorer --------------------------------------------------------------------------------

class ConvExplorer(Explorer):
    """Kernel bank × stride × padding × pooling on an RGB photo; every channel drawn."""

    title = "Convolution explorer: input → conv (F kernels) → ReLU → pooling"

    def __init__(self, image: np.ndarray | None = None, student_fn=None, **params: Any) -> None:
        self.student_fn = student_fn
        self.x = load_input(64) if image is None else np.asarray(image, dtype=np.float64)
        if self.x.ndim != 4 or self.x.shape[:2] != (1, 3):
            raise ValueError(f"conv_explorer: image must have shape (1, 3, H, W), got {self.x.shape}")
        self._last_custom = parse_custom_kernel(DEFAULT_CUSTOM)
        super().__init__(**params)

    def defaults(self) -> dict[str, Any]:
        return {"kernel": "edge", "n_kernels": 4, "stride": 1, "padding": 0, "pool": "max",
                "pool_size": 2, "seed": 0, "custom": DEFAULT_CUSTOM}

    def figure_kwargs(self) -> dict[str, Any]:
        return {"figsize": (10, 6.4)}

    def setup_figure(self) -> None:
        fig = self.fig
        gs = fig.add_gridspec(3, MAX_KERNELS + 1, hspace=0.45, wspace=0.25,
                              left=0.02, right=0.98, top=0.93, bottom=0.02)
        H, W = self.x.shape[2:]
        # Every image fills its panel whatever its size (extent fixed to the unit square, limits
        # never change), so the axes stay put and are rendered once (see StaticLayer below).
        unit = dict(extent=(0, 1, 1, 0), interpolation="nearest")
        self.ax_in = fig.add_subplot(gs[0, 0])
        self.ax_in.imshow(to_rgb(self.x), **unit)
        self.ax_in.set_title(f"input {tuple(self.x.shape)}", fontsize=8)
        self.ax_pre = fig.add_subplot(gs[1, 0])
        self.im_pre = self.ax_pre.imshow(np.zeros((H, W)), cmap="RdBu_r", vmin=-1, vmax=1, **unit)
        self.ax_pre.set_title("kernel 0 before ReLU", fontsize=8)
        self.ax_txt = fig.add_subplot(gs[2, 0])
        self.ax_txt.set_axis_off()
        self.txt_shapes = self.ax_txt.text(0.0, 0.95, "", va="top", ha="left", fontsize=8, family="monospace",
                                           transform=self.ax_txt.transAxes)
        self.ax_k, self.im_k, self.ax_relu, self.im_relu, self.ax_pool, self.im_pool = [], [], [], [], [], []
        for f in range(MAX_KERNELS):
            ak = fig.add_subplot(gs[0, f + 1])
            self.im_k.append(ak.imshow(np.zeros((3, 11)), cmap="RdBu_r", vmin=-1, vmax=1,
                                       extent=(0, 11, 3, 0), interpolation="nearest"))
            ak.set_xticks([1.5, 5.5, 9.5], ["R", "G", "B"], fontsize=7)
            ak.set_title(" ", fontsize=8, y=1.0)  # fixed y: no auto-placement from hidden parts
            ak.set_yticks([])
            self.ax_k.append(ak)
            ar = fig.add_subplot(gs[1, f + 1])
            self.im_relu.append(ar.imshow(np.zeros((H, W)), cmap="magma", vmin=0, vmax=1, **unit))
            ar.set_title(f"ReLU(conv) ch {f}", fontsize=8)
            self.ax_relu.append(ar)
            ap = fig.add_subplot(gs[2, f + 1])
            self.im_pool.append(ap.imshow(np.zeros((H // 2, W // 2)), cmap="magma", vmin=0, vmax=1, **unit))
            ap.set_title(" ", fontsize=8, y=1.0)  # fixed y: no auto-placement from hidden parts
            self.ax_pool.append(ap)
        for ax in [self.ax_in, self.ax_pre] + self.ax_relu + self.ax_pool:
            ax.set_xticks([])
            ax.set_yticks([])
        self._pool_titles = None
        # Kernels beyond n_kernels are covered by a patch of the figure's colour rather than hidden,
        # so hiding one does not force the cached picture to be rendered again.
        self.cover = Rectangle((1, 0), 0, 1, transform=fig.transFigure, facecolor=fig.get_facecolor(),
                               edgecolor="none", zorder=-1)
        fig.add_artist(self.cover)
        # Axes, frames, ticks and fixed titles are rendered once and pasted back on every update;
        # an update draws the images, the kernel titles and the shapes text on top.
        self.static = StaticLayer(
            fig, [self.ax_in, self.ax_pre, self.ax_txt] + self.ax_k + self.ax_relu + self.ax_pool,
            dynamic=[self.cover, self.im_pre, *self.im_k, *self.im_relu, *self.im_pool, self.txt_shapes,
                     *(ax.title for ax in self.ax_k + self.ax_pool),
                     # frames go over the images, as in a full render
                     *(sp for ax in [self.ax_pre] + self.ax_k + self.ax_relu + self.ax_pool
                       for sp in ax.spines.values())],
        )

    def kernels(self, params: dict[str, Any]) -> tuple[np.ndarray, list[str], str]:
        """The (F, 3, 3, 3) kernels for ``params``; a bad custom text keeps the last good one."""
        note = ""
        custom = params["custom"]
        if params["kernel"] == "custom":
            try:
                self._last_custom = parse_custom_kernel(custom)
            except ValueError as exc:
                note = str(exc)
            rnd = random_kernels(MAX_KERNELS, params["seed"])
            w = np.concatenate([self._last_custom[None], rnd[1:]])[: params["n_kernels"]]
            names = (["your kernel"] + [f"random #{i}" for i in range(1, MAX_KERNELS)])[: params["n_kernels"]]
            return w, names, note
        w, names = kernel_bank(params["kernel"], params["n_kernels"], params["seed"])
        return w, names, note

    def compute(self, params: dict[str, Any]) -> dict[str, Any]:
        from dlcore.conv import conv2d_forward
        from dlcore.pooling import avg_pool2d_forward, max_pool2d_forward

        F = int(params["n_kernels"])
        if not 1 <= F <= MAX_KERNELS:
            raise ValueError(f"conv_explorer: n_kernels must be 1..{MAX_KERNELS}, got {F}")
        w, names, note = self.kernels(params)
        b = np.zeros(F)
        z, _ = conv2d_forward(self.x, w, b, stride=params["stride"], padding=params["padding"])
        a = np.maximum(z, 0.0)
        k = int(params["pool_size"])
        if min(a.shape[2:]) >= k:
            pool_fn = max_pool2d_forward if params["pool"] == "max" else avg_pool2d_forward
            p, _ = pool_fn(a, k)
        else:
            p = np.zeros(a.shape[:2] + (0, 0))
        return {"w": w, "names": names, "z": z, "a": a, "p": p, "note": note,
                "student": self._compare_student(w, b, z, params)}

    def _compare_student(self, w, b, z, params) -> dict[str, Any]:
        """The student's ``conv2d_forward(x, w, b, stride, padding)`` (exercise 1) against dlcore."""
        if self.student_fn is None:
            return {}
        try:
            got = np.asarray(self.student_fn(self.x, w, b, params["stride"], params["padding"]), dtype=float)
            value: Any = (float(np.abs(got - z).max()) if got.shape == z.shape
                          else f"shape {got.shape}, expected {z.shape}")
        except NotImplementedError:
            value = "not implemented yet"
        except Exception as exc:  # noqa: BLE001 - a student's error is shown, not raised
            value = f"{type(exc).__name__}: {exc}"[:80]
        return {"max |your conv − dlcore|": value}

    def draw(self, s: dict[str, Any]) -> None:
        w, z, a, p = s["w"], s["z"], s["a"], s["p"]
        F = w.shape[0]
        pre = z[0, 0]
        v = float(np.abs(pre).max()) or 1.0
        self._set_image(self.ax_pre, self.im_pre, pre, (-v, v))
        pool = self.params["pool"]
        if self._pool_titles != pool:
            self._pool_titles = pool
            for f, ax in enumerate(self.ax_pool):
                ax.title.set_text(f"{pool} pool ch {f}")
        for f in range(MAX_KERNELS):
            on = f < F
            for artist in (self.im_k[f], self.ax_k[f].title, self.im_relu[f], self.im_pool[f], self.ax_pool[f].title,
                           *self.ax_k[f].spines.values(), *self.ax_relu[f].spines.values(),
                           *self.ax_pool[f].spines.values()):
                artist.set_visible(on)
            if not on:
                continue
            vk = float(np.abs(w[f]).max()) or 1.0
            self.im_k[f].set_data(kernel_strip(w[f]))
            self.im_k[f].set_clim(-vk, vk)
            self.ax_k[f].title.set_text(f"kernel {f}: {s['names'][f]}")
            self._set_image(self.ax_relu[f], self.im_relu[f], a[0, f], (0.0, float(a[0, f].max()) or 1.0))
            if p.size:
                self._set_image(self.ax_pool[f], self.im_pool[f], p[0, f], (0.0, float(p[0, f].max()) or 1.0))
            else:
                self.im_pool[f].set_visible(False)
        if F < MAX_KERNELS:  # cover the unused columns, from halfway between the last used and the next
            left = 0.5 * (self.ax_relu[F - 1].get_position().x1 + self.ax_relu[F].get_position().x0)
            self.cover.set_bounds(left, 0.0, 1.0 - left, 1.0)
        self.cover.set_visible(F < MAX_KERNELS)
        P, S, K = self.params["padding"], self.params["stride"], 3
        H = self.x.shape[2]
        lines = [
            f"input  {tuple(self.x.shape)}",
            f"kernels {tuple(w.shape)}",
            f"conv   {tuple(z.shape)}",
            f"  ⌊(H+2P−K)/S⌋+1",
            f"  = ⌊({H}+{2 * P}−{K})/{S}⌋+1 = {z.shape[2]}",
            f"pool   {tuple(p.shape)}, k={self.params['pool_size']}",
            f"weights {w.size} + {F} biases",
            "pool weights 0",
        ]
        if s["note"]:
            lines.append("! " + s["note"][:40])
        self.txt_shapes.set_text("\n".join(lines))
        self.summary = [
            ("output channels", f"F = {F} (one per kernel)"),
            ("conv output H × W", f"{z.shape[2]} × {z.shape[3]} = ⌊({H} + 2·{P} − {K})/{S}⌋ + 1"),
            ("after pooling", f"{p.shape[2]} × {p.shape[3]} ({self.params['pool']} pool, k = {self.params['pool_size']})"),
            ("parameters", f"conv {w.size + F} ({w.size} weights + {F} biases), pool 0"),
            ("set to 0 by ReLU", f"{100 * float((a == 0).mean()):.1f} % of the conv outputs"),
        ]
        if s["note"]:
            self.summary.append(("custom kernel", f"<span style='color:#b00'>{html.escape(s['note'])}</span>"))
        for v in s["student"].values():     # one entry: the student's conv against dlcore's
            if isinstance(v, float):
                verdict = ("matches dlcore" if v <= 1e-9 else "<span style='color:#b00'>differs from dlcore</span>")
                v = f"{verdict}: largest difference {fmt(v)}"
            else:
                v = f"<span style='color:#b00'>{html.escape(str(v))}</span>"
            self.summary.append(("your conv2d_forward", v))
        self.set_numbers({
            "output channels": F,
            "conv H_out": int(z.shape[2]), "conv W_out": int(z.shape[3]),
            "pool H_out": int(p.shape[2]), "pool W_out": int(p.shape[3]),
            "conv parameters": int(w.size + F), "pool parameters": 0,
            "ReLU zero fraction": float((a == 0).mean()),
            "conv out shape": str(tuple(z.shape)), "pool out shape": str(tuple(p.shape)),
            **({"custom kernel error": s["note"]} if s["note"] else {}),
            **s["student"],
        })

    def summary_rows(self):
        return getattr(self, "summary", [])

    @staticmethod
    def _set_image(ax, im, arr, clim) -> None:
        # The extent is the unit square whatever the size: the panel's axes never change.
        im.set_data(arr)
        im.set_clim(*clim)

    def make_controls(self) -> dict[str, Any]:
        import ipywidgets as widgets

        p = self.params
        c = {
            "kernel": widgets.Dropdown(options=list(KERNEL_CHOICES), value=p["kernel"], description="kernel"),
            "n_kernels": widgets.IntSlider(value=p["n_kernels"], min=1, max=MAX_KERNELS, description="kernels F",
                                           continuous_update=True),
            "stride": widgets.IntSlider(value=p["stride"], min=1, max=4, description="stride S",
                                        continuous_update=True),
            "padding": widgets.IntSlider(value=p["padding"], min=0, max=3, description="padding P",
                                         continuous_update=True),
            "pool": widgets.ToggleButtons(options=["max", "avg"], value=p["pool"], description="pooling"),
            "pool_size": widgets.IntSlider(value=p["pool_size"], min=1, max=4, description="pool k",
                                           continuous_update=True),
            "seed": widgets.IntSlider(value=p["seed"], min=0, max=20, description="random seed",
                                      continuous_update=True),
            "custom": widgets.Textarea(value=p["custom"], description="custom 3×3 per channel",
                                       continuous_update=False,
                                       # the explorer puts a text box on a row of its own (Explorer.widget)
                                       layout=widgets.Layout(width="100%", max_width="520px", height="70px")),
        }
        for name, w in c.items():
            w.add_class(f"dl-ctl-{name}")
        return c


def conv_explorer(student_fn=None, **params: Any) -> ConvExplorer:
    """Explore convolution on a photo: kernel choice (edge/blur/sharpen/random/custom), number of
    kernels, stride, padding, max/average pooling. ``custom`` takes one line of nine numbers per
    input channel (R, G, B). ``student_fn``: your ``conv2d_forward(x, w, b, stride, padding)``;
    the read-out then shows its largest difference from dlcore for the current setting."""
    return ConvExplorer(student_fn=student_fn, **params)
