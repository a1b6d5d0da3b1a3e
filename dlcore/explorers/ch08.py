"""Chapter 8 (CNN backprop): static figures and the explorer of the error term δ flowing back.

The numbers come from :mod:`dlcore.chapters.ch08` (numpy only); its names are re-exported here
so the chapter's notebook needs one import. This module draws them.

``backprop_explorer()`` runs a tiny stack x (1×1×8×8) → conv 3×3 → ReLU → pool 2×2 forward,
puts an error term δ at the top (one cell, all ones, or random), and walks it back one layer
per step: through the pool (max: to the arg-max switch; average: δ/k² to every cell of the
window), through ReLU (times f'(z)), and through the conv (full convolution with the kernel
rotated by 180°), then shows dW (correlation of x with δz) and db (sum of δz). Every map is
drawn with its numbers. All numbers come from :mod:`dlcore.conv` and :mod:`dlcore.pooling`.
"""
from __future__ import annotations

import html

import textwrap
from typing import Any

import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.patches import Rectangle

from dlcore.chapters.ch08 import (  # noqa: F401 - the chapter's numbers, re-exported for its notebook
    POOL_K, backflow, dilate, full_conv_rot180, kernel_bank, load_input, stack_input, top_delta)
from dlcore.explorers.base import Explorer, new_figure
from dlcore.explorers.base import fmt as readable
from dlcore.explorers.fastdraw import StaticLayer, TextGrid

STEPS = (
    "step 0 — δ at the top: the error term of the pool's output (given).",
    "step 1 — through the pool: no weights, δ is restored to the input's size "
    "(max → the arg-max switch; avg → δ/k² to each cell).",
    "step 2 — through ReLU: δz = δa ⊙ f'(z); cells with z ≤ 0 (grey veil) pass nothing.",
    "step 3 — through the conv: δx = full convolution of δz with rot180(w); "
    "dW = correlation of x with δz; db = Σ δz.",
)


def fmt(v: float) -> str:
    """Compact number for a cell: '0' for zero, two decimals otherwise, trailing zeros dropped."""
    if abs(v) < 5e-4:
        return "0"
    s = f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"
    s = s.rstrip("0").rstrip(".")
    return s.replace("-0.", "-.").replace("0.", ".", 1) if abs(v) < 1 else s


# --- static figures for the notebook ------------------------------------------------------------

def annotate(ax, a: np.ndarray, fontsize: int = 8, vmax: float | None = None, cmap: str = "RdBu_r",
             number_format: str = "{:.3g}"):
    """Draw a 2-D array as a heat map with its numbers, white on the dark cells (a static helper)."""
    a = np.asarray(a, dtype=float)
    v = vmax or float(np.abs(a).max()) or 1.0
    ax.imshow(a, cmap=cmap, vmin=-v, vmax=v)
    if a.size <= 100:
        for (i, j), val in np.ndenumerate(a):
            text = "0" if val == 0 else number_format.format(val)
            ax.text(j, i, text, ha="center", va="center", fontsize=fontsize,
                    color="white" if abs(val) > 0.65 * v else "black")
    ax.set_xticks([])
    ax.set_yticks([])


def show_maps_with_numbers(arrays, titles, fontsize: int = 9, highlight=None, figsize=None,
                           number_format: str = "{:.3g}"):
    """Small 2-D arrays side by side with their numbers; ``highlight`` maps panel → boolean mask."""
    n = len(arrays)
    fig = new_figure(figsize=figsize or (2.5 * n, 2.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n, squeeze=False)[0])
    for k, (ax, a, t) in enumerate(zip(axes, arrays, titles)):
        a = np.asarray(a, dtype=float)
        annotate(ax, a, fontsize=fontsize, number_format=number_format)
        if highlight and k in highlight:
            for i, j in zip(*np.nonzero(highlight[k])):
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="lime", lw=2.5))
        ax.set_title(f"{t}\n{a.shape}", fontsize=9)
    return fig


def show_real_backflow(fmap: np.ndarray, delta: np.ndarray, d_max: np.ndarray, d_avg: np.ndarray):
    """A real feature map, a δ at its pooled size, and δ after max- and after avg-pool backward."""
    fig = new_figure(figsize=(10, 2.8), layout="constrained")
    axes = fig.subplots(1, 4)
    titles = ["feature map a", "δ at the pooled map", "δ back through max pool", "δ back through avg pool"]
    for ax, m, t in zip(axes, [fmap, delta, d_max, d_avg], titles):
        m = np.asarray(m)[0, 0] if np.ndim(m) == 4 else np.asarray(m)
        v = float(np.abs(m).max()) or 1.0
        ax.imshow(m, cmap="magma" if t == titles[0] else "RdBu_r", vmin=0 if t == titles[0] else -v, vmax=v)
        ax.set_title(f"{t}\n{m.shape}", fontsize=9)
        ax.set_axis_off()
    return fig


#: characters per line of the step text (it spans the three right-hand columns)
STEP_TEXT_WIDTH = 88  # characters per line of the step text, so it fits beside dW

#: corners of a unit cell around its centre, for the ReLU veil's squares
_SQUARE = ((-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5))


# --- the explorer --------------------------------------------------------------------------------

class BackpropExplorer(Explorer):
    """δ flowing back through pool → ReLU → conv, one layer per step, numbers in every cell."""

    title = "The error term δ flowing back: from the top of conv → ReLU → pool back to the input"
    # (row, column) of each panel and the largest map it can hold
    _PANELS = {"x": (0, 0, 8), "w": (0, 1, 3), "z": (0, 2, 8), "a": (0, 3, 8), "p": (0, 4, 4),
               "dx": (1, 0, 8), "wr": (1, 1, 3), "dz": (1, 2, 8), "da": (1, 3, 8), "dp": (1, 4, 4),
               "dw": (2, 1, 3)}
    _TITLES = {"x": "input x", "w": "kernel w", "z": "z = conv(x, w)", "a": "a = ReLU(z)",
               "p": "pool(a)", "dx": "δx = full conv(δz, rot180 w)", "wr": "rot180(w)",
               "dz": "δz = δa ⊙ f'(z)", "da": "δa (pool backward)", "dp": "δ at the top",
               "dw": "dW = corr(x, δz)"}
    _STEP_OF = {"dp": 0, "da": 1, "dz": 2, "dx": 3, "wr": 3, "dw": 3}
    STUDENT_NAMES = ("max_pool2d_backward", "avg_pool2d_backward", "conv2d_backward")

    def __init__(self, student_fns: dict | None = None, **params: Any) -> None:
        unknown = set(student_fns or {}) - set(self.STUDENT_NAMES)
        if unknown:
            raise ValueError(f"backprop_explorer: student_fns keys must be some of {self.STUDENT_NAMES}, "
                             f"got {sorted(unknown)}")
        self.student_fns = dict(student_fns or {})
        super().__init__(**params)

    def defaults(self) -> dict[str, Any]:
        return {"pool": "max", "pattern": "one cell", "row": 0, "col": 0, "step": 0, "padding": 0, "seed": 0}

    def figure_kwargs(self) -> dict[str, Any]:
        return {"figsize": (9.8, 6.6)}

    def setup_figure(self) -> None:
        fig = self.fig
        gs = fig.add_gridspec(3, 5, width_ratios=[8, 3.5, 8, 8, 4], height_ratios=[1, 1, 0.55],
                              left=0.01, right=0.99, top=0.94, bottom=0.01, wspace=0.12, hspace=0.28)
        self.ax, self.im, self.txt, self._shape, self._meshes = {}, {}, {}, {}, {}
        self.static = None
        for name, (r, c, n) in self._PANELS.items():
            ax = fig.add_subplot(gs[r, c])
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_aspect("equal")  # square cells, as imshow makes them
            self.ax[name] = ax
            self.im[name] = self._mesh(name, ax, (n, n))
            fs = 6.5 if n == 8 else 8
            self.txt[name] = [[ax.text(j, i, "", ha="center", va="center", fontsize=fs) for j in range(n)]
                              for i in range(n)]
            ax.set_title(self._TITLES[name], fontsize=8)
        # ReLU veil over z and δz, pool-window grid over a and δa
        # (grey squares over the dead cells: a collection draws far faster than an RGBA image;
        # ``veil_mask[k]`` says which cells are covered)
        self.veil = {k: self.ax[k].add_collection(PolyCollection([], facecolors=(0.5, 0.5, 0.5, 0.55),
                                                                 edgecolors="none", linewidths=0, zorder=3),
                                                  autolim=False) for k in ("z", "dz")}
        self.veil_mask = {k: np.zeros((0, 0), dtype=bool) for k in ("z", "dz")}
        self.grid = {k: self.ax[k].plot([], [], color="k", lw=0.8, ls=":", zorder=4)[0] for k in ("a", "da")}
        # switches (max) or the selected window (avg): up to 16 cell boxes on a and δa
        self.boxes = {k: [self.ax[k].add_patch(Rectangle((0, 0), 1, 1, fill=False, ec="lime", lw=2, zorder=5,
                                                         visible=False)) for _ in range(16)] for k in ("a", "da")}
        self.sel = {k: self.ax[k].add_patch(Rectangle((0, 0), 1, 1, fill=False, ec="gold", lw=2.5, zorder=6,
                                                      visible=False)) for k in ("p", "dp", "dx", "x")}
        ax_txt = fig.add_subplot(gs[2, 2:])
        ax_txt.set_axis_off()
        # wrapped once here (textwrap), not by matplotlib on every draw: its wrap measures the line
        # again for every word
        self.step_text = ax_txt.text(0.0, 0.95, "", va="top", ha="left", fontsize=9,
                                     transform=ax_txt.transAxes)
        ax_num = fig.add_subplot(gs[2, 0])
        ax_num.set_axis_off()
        self.num_text = ax_num.text(0.0, 0.95, "", va="top", ha="left", fontsize=8, family="monospace",
                                    transform=ax_num.transAxes)
        labels = [fig.text(0.01, 0.975, "forward →", fontsize=9, color="0.3"),
                  fig.text(0.01, 0.588, "← backward (error term δ), one layer per step", fontsize=9,
                           color="tab:red")]
        # Frames, fixed titles and labels are rendered once and pasted back; an update draws the
        # maps, their numbers (one TextGrid pasting cached string bitmaps instead of ~340 Text
        # draws), the overlays and the texts. Axes limits change only with the padding, and then
        # the cached picture is rendered again by itself.
        self.numbers_grid = TextGrid(t for rows in self.txt.values() for row in rows for t in row)
        self.numbers_grid.set_zorder(2.99)  # under the ReLU veil (3), as the texts were
        self.static = StaticLayer(
            fig, [*self.ax.values(), ax_txt, ax_num], artists=labels,
            dynamic=[*self._meshes.values(), *self.veil.values(), self.numbers_grid, *self.grid.values(),
                     *(b for boxes in self.boxes.values() for b in boxes), *self.sel.values(),
                     self.ax["da"].title, self.ax["p"].title, self.step_text, self.num_text,
                     # frames go over the maps, as in a full render
                     *(sp for ax in self.ax.values() for sp in ax.spines.values())])

    def compute(self, params: dict[str, Any]) -> dict[str, Any]:
        x, w, b = stack_input(params["seed"])
        P = int(params["padding"])
        H = x.shape[2] + 2 * P - w.shape[2] + 1
        top_shape = (1, 1, H // POOL_K, H // POOL_K)
        dp = top_delta(top_shape, params["pattern"], params["row"], params["col"], params["seed"])
        s = backflow(x, w, b, dp, pool=params["pool"], padding=P)
        s["wr"] = s["w"][0, 0, ::-1, ::-1]
        s["student"] = self._compare_student(s, params, P)
        return s

    def _compare_student(self, s: dict[str, Any], params: dict[str, Any], padding: int) -> dict[str, Any]:
        """Run the student's backward passes (chapter 8's exercises) on the same δ; report the gaps."""
        out: dict[str, Any] = {}
        pool = params["pool"]
        calls = {  # name -> (label, how the exercise's signature is called, reference key, applies now)
            "max_pool2d_backward": ("your δa", lambda f: f(s["dp"], s["a"], POOL_K), "da", pool == "max"),
            "avg_pool2d_backward": ("your δa", lambda f: f(s["dp"], s["a"].shape, POOL_K), "da", pool == "avg"),
            "conv2d_backward": ("your δx", lambda f: f(s["dz"], s["x"], s["w"], padding)[0], "dx", True),
        }
        for name, fn in self.student_fns.items():
            label, call, ref, applies = calls[name]
            if not applies:
                continue
            try:
                got = np.asarray(call(fn), dtype=float)
                value: Any = (float(np.abs(got - s[ref]).max()) if got.shape == s[ref].shape
                              else f"shape {got.shape}, expected {s[ref].shape}")
            except NotImplementedError:
                value = "not implemented yet"
            except Exception as exc:  # noqa: BLE001 - a student's error is shown, not raised
                value = f"{type(exc).__name__}: {exc}"[:80]
            out[f"max |{label} − dlcore|"] = value
        return out

    def _mesh(self, name: str, ax, shape: tuple):
        """The colour map of panel ``name`` for maps of ``shape``, made once per shape.

        A QuadMesh, not an image: for a few cells it draws ~10× faster than imshow's resampling.
        Row i, column j is the cell centred on (j, i), as imshow would put it.
        """
        key = (name, shape)
        if key not in self._meshes:
            h, w = shape
            mesh = ax.pcolormesh(np.arange(w + 1) - 0.5, np.arange(h + 1) - 0.5, np.zeros(shape),
                                 cmap="RdBu_r", vmin=-1, vmax=1)
            mesh.set_visible(False)
            self._meshes[key] = mesh
            if getattr(self, "static", None) is not None:
                self.static.add_dynamic(mesh)
        return self._meshes[key]

    def _show(self, name: str, arr: np.ndarray, visible: bool = True, vmax: float | None = None,
              blank_zero: bool = False) -> None:
        arr = np.asarray(arr, dtype=float)
        h, w = arr.shape
        ax = self.ax[name]
        if self._shape.get(name) != arr.shape:  # a new size: its own mesh, and limits to fit
            self._shape[name] = arr.shape
            self.im[name].set_visible(False)
            self.im[name] = self._mesh(name, ax, arr.shape)
            self.im[name].set_visible(True)
            ax.set_xlim(-0.5, w - 0.5)
            ax.set_ylim(h - 0.5, -0.5)
        im = self.im[name]
        v = vmax or float(np.abs(arr).max()) or 1.0
        im.set_array(arr)
        im.set_clim(-v, v)
        im.set_alpha(1.0 if visible else 0.0)
        for i, row in enumerate(self.txt[name]):
            for j, t in enumerate(row):
                # exact zeros of a δ map stay blank: the eye finds where δ flows, and Agg draws less text
                on = visible and i < h and j < w and not (blank_zero and arr[i, j] == 0)
                t.set_text(fmt(arr[i, j]) if on else "")
                if on:  # white on the darkest cells so every number stays readable
                    t.set_color("white" if abs(arr[i, j]) > 0.65 * v else "black")

    def draw(self, s: dict[str, Any]) -> None:
        step = int(self.params["step"])
        pool = self.params["pool"]
        fwd = {"x": s["x"][0, 0], "w": s["w"][0, 0], "z": s["z"][0, 0], "a": s["a"][0, 0], "p": s["p"][0, 0]}
        for k, v in fwd.items():
            self._show(k, v)
        bwd = {"dp": s["dp"][0, 0], "da": s["da"][0, 0], "dz": s["dz"][0, 0], "dx": s["dx"][0, 0],
               "wr": s["wr"], "dw": s["dw"][0, 0]}
        for k, v in bwd.items():
            self._show(k, v, visible=step >= self._STEP_OF[k], blank_zero=k in ("dp", "da", "dz", "dx"))
        self.ax["da"].title.set_text(f"δa ({'max: to the switch' if pool == 'max' else 'avg: δ/k² each'})")
        self.ax["p"].title.set_text(f"{pool}pool(a), k={POOL_K}")
        z = s["z"][0, 0]
        n = z.shape[0]
        for k in ("z", "dz"):
            mask = (z <= 0) & (k == "z" or step >= 2)
            self.veil_mask[k] = mask
            rows, cols = np.nonzero(mask)
            self.veil[k].set_verts(np.stack([np.stack([cols + dx, rows + dy], -1)
                                             for dx, dy in _SQUARE], axis=1))
        m = (n // POOL_K) * POOL_K
        xs, ys = [], []
        for e in range(0, m + 1, POOL_K):
            xs += [e - 0.5, e - 0.5, np.nan, -0.5, m - 0.5, np.nan]
            ys += [-0.5, m - 0.5, np.nan, e - 0.5, e - 0.5, np.nan]
        for k in ("a", "da"):
            self.grid[k].set_data(xs, ys)
        self._draw_boxes(s, step)
        d = self._numbers(s)
        lines = list(STEPS[: step + 1])
        if step < len(STEPS) - 1:
            lines.append("(raise step to send δ one layer further down)")
        self.step_text.set_text("\n".join(textwrap.fill(line, STEP_TEXT_WIDTH) for line in lines))
        self.num_text.set_text("\n".join([
            f"Σδ top  = {d['sum delta top']:.3g}", f"Σδa     = {d['sum delta a']:.3g}" if step >= 1 else "",
            f"Σδz = db = {d['db']:.3g}" if step >= 2 else "",
            f"max|δx − fullconv| = {readable(d['max |dx - fullconv(dz, rot180 w)|'], 2)}" if step >= 3 else "",
            f"max|dW − corr(x,δz)| = {readable(d['max |dW - corr(x, dz)|'], 2)}" if step >= 3 else ""]))
        self.summary = self._summary(d, s["student"], step)
        self.set_numbers({**d, **s["student"]})

    def summary_rows(self) -> list[tuple[str, str]]:
        return getattr(self, "summary", [])

    @staticmethod
    def _summary(d: dict[str, float], student: dict[str, Any], step: int) -> list[tuple[str, str]]:
        """The read-out: only what the panels already show at this step (δx and dW from step 3)."""
        from dlcore.explorers.base import fmt as f

        rows = [("Σδ at the top (pool output)", f(d["sum delta top"]))]
        if step >= 1:
            rows.append(("Σδa after the pool", f"{f(d['sum delta a'])} — the same total, "
                                                 f"spread over {d['cells receiving delta']} cell{'s' if d['cells receiving delta'] != 1 else ''}"))
        if step >= 2:
            rows.append(("Σδz = db after ReLU", f"{f(d['db'])} (cells with z ≤ 0 pass nothing)"))
        if step >= 3:
            rows += [("Σδx at the input", f(d["sum delta x"])),
                     ("δx vs full conv of δz with rot180(w)", f"largest difference {f(d['max |dx - fullconv(dz, rot180 w)|'])}"),
                     ("dW vs corr(x, δz)", f"largest difference {f(d['max |dW - corr(x, dz)|'])}; "
                                           f"dW[0,0] = {f(d['dW[0,0]'])}")]
        else:
            rows.append(("further down", f"δ has not reached {'ReLU and the conv' if step < 2 else 'the conv'} yet: "
                                         "raise step"))
        for label, value in student.items():
            if isinstance(value, float):
                verdict = "matches dlcore" if value < 1e-9 else "<span style='color:#b00'>differs from dlcore</span>"
                rows.append((html.escape(label.split("−")[0].replace("max |", "").strip()),
                             f"{verdict}: largest difference {f(value)}"))
            else:
                rows.append((html.escape(label.split("−")[0].replace("max |", "").strip()), html.escape(str(value))))
        return rows

    def _draw_boxes(self, s: dict[str, Any], step: int) -> None:
        np_ = s["p"].shape[2]
        pool = self.params["pool"]
        one = self.params["pattern"] == "one cell"
        r = min(self.params["row"], np_ - 1)
        c = min(self.params["col"], np_ - 1)
        if pool == "max":  # every window's switch (the first maximum in row-major order)
            cells = [tuple(rc) for rc in np.argwhere(s["switch"][0, 0])]
        elif one:  # the window the chosen δ spreads over
            cells = [(r * POOL_K + i, c * POOL_K + j) for i in range(POOL_K) for j in range(POOL_K)]
        else:
            cells = []
        for k in ("a", "da"):
            for idx, box in enumerate(self.boxes[k]):
                on = idx < len(cells) and (k == "a" or step >= 1)
                box.set_visible(on)
                if on:
                    box.set_xy((cells[idx][1] - 0.5, cells[idx][0] - 0.5))
        for k in ("p", "dp"):
            self.sel[k].set_visible(one)
            self.sel[k].set_xy((c - 0.5, r - 0.5))
        # footprint of δx: the input cells the top δ reaches (bounding box of non-zeros)
        nz = np.argwhere(np.abs(s["dx"][0, 0]) > 0)
        show = one and step >= 3 and len(nz) > 0
        for k in ("dx", "x"):
            self.sel[k].set_visible(bool(show))
            if show:
                (r0, c0), (r1, c1) = nz.min(0), nz.max(0)
                self.sel[k].set_xy((c0 - 0.5, r0 - 0.5))
                self.sel[k].set_width(c1 - c0 + 1)
                self.sel[k].set_height(r1 - r0 + 1)

    @staticmethod
    def _numbers(s: dict[str, Any]) -> dict[str, float]:
        return {
            "sum delta top": float(s["dp"].sum()),
            "sum delta a": float(s["da"].sum()),
            "cells receiving delta": int(np.count_nonzero(s["da"])),
            "sum delta z": float(s["dz"].sum()),
            "db": float(s["db"][0]),
            "sum delta x": float(s["dx"].sum()),
            "max |dx - fullconv(dz, rot180 w)|": float(np.abs(s["dx"][0, 0] - s["dx_full"]).max()),
            "max |dW - corr(x, dz)|": float(np.abs(s["dw"][0, 0] - s["dw_corr"]).max()),
            "dW[0,0]": float(s["dw"][0, 0, 0, 0]),
            "max |delta x|": float(np.abs(s["dx"]).max()),
        }

    def make_controls(self) -> dict[str, Any]:
        import ipywidgets as widgets

        p = self.params
        c = {
            "step": widgets.IntSlider(value=p["step"], min=0, max=3, description="step", continuous_update=True),
            "pool": widgets.ToggleButtons(options=["max", "avg"], value=p["pool"], description="pooling"),
            "pattern": widgets.Dropdown(options=["one cell", "all ones", "random"], value=p["pattern"],
                                        description="δ at top"),
            "row": widgets.IntSlider(value=p["row"], min=0, max=3, description="δ row", continuous_update=True),
            "col": widgets.IntSlider(value=p["col"], min=0, max=3, description="δ column", continuous_update=True),
            "padding": widgets.IntSlider(value=p["padding"], min=0, max=1, description="conv padding",
                                         continuous_update=True),
            "seed": widgets.IntSlider(value=p["seed"], min=0, max=20, description="seed (x, w)",
                                      continuous_update=True),
        }
        for name, w in c.items():
            w.add_class(f"dl-ctl-{name}")
        return c


def backprop_explorer(student_fns: dict | None = None, **params: Any) -> BackpropExplorer:
    """Walk an error term δ back through conv → ReLU → pool, one layer per ``step`` (0–3).

    ``pool`` 'max' or 'avg'; ``pattern`` 'one cell' (at ``row``, ``col``), 'all ones' or
    'random'; ``padding`` 0 or 1 for the conv; ``seed`` picks x and w. ``student_fns`` (optional)
    maps 'max_pool2d_backward' / 'avg_pool2d_backward' / 'conv2d_backward' to the chapter's
    exercise functions; the read-out then shows how far each is from dlcore on the same δ.
    """
    return BackpropExplorer(student_fns=student_fns, **params)
