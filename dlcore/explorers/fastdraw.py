"""Cheap redraws for the explorers: render what does not change once, paste it back each frame.

ipympl renders the whole figure for every slider step (``canvas.draw()`` on an Agg canvas), so
an explorer with many axes, tick labels and titles pays for all of them on every update even
though only a few lines move. :class:`StaticLayer` is a figure-level artist that draws a set of
*static* axes once, keeps the pixels (``renderer.copy_from_bbox``) and on later draws only
restores them (``renderer.restore_region``) before drawing the *dynamic* artists on top. It
runs inside the normal ``Figure.draw``, so it works with any Agg-based canvas: plain Agg,
ipympl's canvas, the inline backend's PNGs. Vector output (``savefig`` to PDF/SVG) and any
save simply draw everything.

The cache is rebuilt by itself when the canvas size or dpi (ipympl switches dpi on HiDPI
screens), an axes' position, visibility, view limits or 3-D view angles change, or when the
explorer's ``signature()`` (e.g. the texts of titles it rewrites) changes; call
:meth:`StaticLayer.invalidate` after changing anything else inside a static axes.

Static axes and dynamic artists are marked ``animated``: the figure then skips them in its own
pass (this layer draws them) and their changes do not mark the figure stale, which is fine
because :meth:`Explorer.update` asks for a redraw itself.
"""
from __future__ import annotations

import math
from typing import Callable, Iterable

import numpy as np
from matplotlib import artist as martist
from matplotlib.text import Text

# --------------------------------------------------------------------------------------------
# Text as cached bitmaps
# --------------------------------------------------------------------------------------------
# Agg (matplotlib >= 3.10) renders text glyph by glyph in Python, ~30 µs a glyph: a figure full
# of numbers spends most of a redraw there. A string is rendered once per (string, font, dpi)
# as one FreeType bitmap and afterwards only pasted.
_STAMPS: dict = {}
_EXTENTS: dict = {}
_MAX_STAMPS = 8192


def _extent(renderer, s: str, prop) -> tuple:
    """``renderer.get_text_width_height_descent(s, prop, False)``, memoised (it lays the string out)."""
    key = (s, prop, renderer.dpi)
    hit = _EXTENTS.get(key)
    if hit is None:
        if len(_EXTENTS) >= _MAX_STAMPS:
            _EXTENTS.clear()
        hit = _EXTENTS[key] = renderer.get_text_width_height_descent(s, prop, ismath=False)
    return hit


def _stamp(renderer, s: str, prop):
    """(alpha bitmap, x offset, y offset, descent) of ``s`` in font ``prop`` at the renderer's dpi."""
    key = (s, prop, renderer.dpi)
    hit = _STAMPS.get(key)
    if hit is None:
        from matplotlib.backends.backend_agg import get_hinting_flag

        font = renderer._prepare_font(prop)
        font.set_text(s, 0.0, flags=get_hinting_flag())
        w, h = font.get_width_height()
        d = font.get_descent() / 64.0
        font.draw_glyphs_to_bitmap(antialiased=True)
        xo, yo = font.get_bitmap_offset()
        hit = (np.array(font.get_image(), dtype=np.uint8), xo / 64.0, yo / 64.0, d)
        if len(_STAMPS) >= _MAX_STAMPS:
            _STAMPS.clear()
            _EXTENTS.clear()
        _STAMPS[key] = hit
        _EXTENTS[key] = (w / 64.0, h / 64.0, d)  # what get_text_width_height_descent gives
    return hit


def _paste(renderer, gc, x: float, y_down: float, s: str, prop, angle: float = 0.0) -> None:
    """Paste ``s`` with its baseline at (x, y_down), y counted down from the top, as Agg would draw it."""
    img, xo, yo, d = _stamp(renderer, s, prop)
    # the placement of matplotlib's own (pre-3.10) Agg draw_text, which pasted one string bitmap too
    xd, yd = d * math.sin(math.radians(angle)), d * math.cos(math.radians(angle))
    renderer._renderer.draw_text_image(img, round(x + xo + xd), round(y_down + yo + yd) + 1, angle, gc)


class _StampRenderer:
    """Wraps an Agg renderer; plain (not math) text is pasted from the bitmap cache."""

    def __init__(self, renderer) -> None:
        self._r = renderer

    def __getattr__(self, name):
        return getattr(self._r, name)

    def get_text_width_height_descent(self, s, prop, ismath):
        if ismath:
            return self._r.get_text_width_height_descent(s, prop, ismath)
        return _extent(self._r, s, prop)

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if ismath or not gc.get_antialiased():
            return self._r.draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
        _paste(self._r, gc, x, y, s, prop, angle)


def _can_stamp(renderer) -> bool:
    return hasattr(renderer, "_prepare_font") and hasattr(renderer, "_renderer") \
        and hasattr(renderer._renderer, "draw_text_image")


class TextGrid(martist.Artist):
    """Draw many small one-line :class:`~matplotlib.text.Text` labels (e.g. a number in every
    cell of a map) in one pass, pasting cached string bitmaps.

    The Text objects stay the source of truth (``set_text``, ``set_color``, ``set_visible``);
    they are marked animated so their axes skip them, and this artist draws them. Rotation,
    bbox patches and multi-line texts are not supported (those are drawn as usual).
    """

    def __init__(self, texts: Iterable[Text]) -> None:
        super().__init__()
        self.texts = list(texts)
        for t in self.texts:
            t.set_animated(True)

    @martist.allow_rasterization
    def draw(self, renderer) -> None:
        if not self.get_visible():
            return
        if not _can_stamp(renderer):
            for t in self.texts:
                t.draw(renderer)
            return
        height = renderer.get_canvas_width_height()[1]
        gc = renderer.new_gc()
        try:
            by_trans: dict = {}
            for t in self.texts:
                s = t.get_text()
                if s and t.get_visible():
                    by_trans.setdefault(id(t.get_transform()), []).append(t)
            for group in by_trans.values():
                xy = group[0].get_transform().transform(np.array([t.get_unitless_position() for t in group]))
                for t, (x, y) in zip(group, xy):
                    s, prop = t.get_text(), t.get_fontproperties()
                    _stamp(renderer, s, prop)  # renders on a miss, and records the extent too
                    w, h, d = _extent(renderer, s, prop)
                    _, lp_h, lp_d = _extent(renderer, "lp", prop)
                    h, d = max(h, lp_h), max(d, lp_d)  # every line is at least as tall as "lp"
                    ha, va = t.get_horizontalalignment(), t.get_verticalalignment()
                    x0 = x - (w / 2 if ha == "center" else w if ha == "right" else 0.0)
                    base = {"center": y - h / 2 + d, "top": y - h + d, "bottom": y + d}.get(va, y)
                    gc.set_foreground(t.get_color())
                    gc.set_alpha(t.get_alpha())
                    _paste(renderer, gc, x0, height - base, s, prop)
        finally:
            gc.restore()
        self.stale = False


class StaticLayer(martist.Artist):
    """Draw ``axes`` once and cache the pixels; draw ``dynamic`` artists fresh on every frame."""

    def __init__(self, fig, axes: Iterable, dynamic: Iterable = (),
                 signature: Callable[[], tuple] | None = None, artists: Iterable = (),
                 live: Iterable = (), live_axis: Iterable = ()) -> None:
        super().__init__()
        self.axes_list = list(axes)
        # x or y axes (ticks and label) of static axes drawn every frame, so that those limits may
        # change without re-rendering the rest (whatever else depends on them must be dynamic).
        self.live_axis = list(live_axis)
        # Axes drawn in full on every frame (their limits follow the data), but with their text
        # pasted from the bitmap cache: tick labels repeat from one frame to the next.
        self.live = list(live)
        # Single static artists of axes that are otherwise redrawn (e.g. a legend, an x axis whose
        # limits never change); ``signature`` must cover whatever they depend on.
        self.static_artists = list(artists)
        self.dynamic: list = []
        self.signature = signature or (lambda: ())
        self._key = None
        self._background = None
        self._stamped = None  # the renderer wrapper; kept, since Text caches layouts per renderer
        #: how many times the static part was rendered (tests and benchmarks read it)
        self.renders = 0
        self.set_zorder(-1e6)  # below every axes: the background goes down first
        for a in self.axes_list + self.static_artists + self.live:
            a.set_animated(True)
        self.add_dynamic(*dynamic, *self.live_axis)
        fig.add_artist(self)

    def add_dynamic(self, *artists) -> None:
        """Artists (inside the static axes) drawn fresh on every frame, on top of the cache."""
        for a in artists:
            a.set_animated(True)
            self.dynamic.append(a)
        self.dynamic.sort(key=lambda a: a.get_zorder())

    def invalidate(self) -> None:
        """Force the static part to be rendered again on the next draw."""
        self._key = None

    def _state(self, renderer) -> tuple:
        parts: list = [renderer.get_canvas_width_height(), self.figure.dpi]
        for ax in self.axes_list:
            parts += [ax.get_visible(), ax.get_position().bounds]
            if ax.xaxis not in self.live_axis:
                parts.append(tuple(ax.viewLim.intervalx))
            if ax.yaxis not in self.live_axis:
                parts.append(tuple(ax.viewLim.intervaly))
            if hasattr(ax, "get_w_lims"):  # 3-D axes: the mouse may rotate or zoom them
                parts += [ax.elev, ax.azim, getattr(ax, "roll", 0), ax.get_w_lims()]
        parts += list(self.signature())
        return tuple(parts)

    @martist.allow_rasterization
    def draw(self, renderer) -> None:
        if not self.get_visible():
            return
        canvas = self.figure.canvas
        saving = canvas is not None and canvas.is_saving()
        cacheable = not saving and hasattr(renderer, "copy_from_bbox")
        key = self._state(renderer) if cacheable else None
        if cacheable and key == self._key:
            renderer.restore_region(self._background)
        else:
            for ax in sorted(self.axes_list, key=lambda a: a.get_zorder()):
                if ax.get_visible():
                    ax.draw(renderer)  # when saving, this includes the dynamic children too
            for a in self.static_artists:
                if saving and a.axes is not None:
                    continue  # when saving, their own axes draw them
                if a.get_visible():
                    a.draw(renderer)
            self.renders += 1
            if cacheable:
                self._background = renderer.copy_from_bbox(self.figure.bbox)
                self._key = key
            else:
                self._key = None
        if not saving and _can_stamp(renderer):
            if self._stamped is None or self._stamped._r is not renderer:
                self._stamped = _StampRenderer(renderer)
            renderer = self._stamped  # text is pasted from the bitmap cache, the rest drawn as usual
        for ax in sorted(self.live, key=lambda a: a.get_zorder()):
            if ax.get_visible():
                ax.draw(renderer)
        for a in self.dynamic:  # after the live axes: a dynamic legend goes over their lines
            if saving and (a.axes in self.axes_list + self.live or isinstance(a, TextGrid)):
                continue  # already drawn by its axes
            if a.get_visible() and (a.axes is None or a.axes.get_visible()):
                a.draw(renderer)
        self.stale = False
