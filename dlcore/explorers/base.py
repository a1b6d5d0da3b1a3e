"""The shape every chapter's explorer shares (ipywidgets controls driving a matplotlib figure).

An explorer builds its figure and artists once; a control change calls :meth:`Explorer.update`,
which runs :meth:`compute` (numbers only, from ``dlcore``) and then :meth:`draw` (moves the
existing artists with ``set_data`` / ``set_array`` / ``set_height`` and calls ``draw_idle``).
Nothing is rebuilt, so a slider answers within a frame or two.

With ``%matplotlib widget`` (ipympl) the figure's canvas is itself a widget and sits inside
:attr:`Explorer.widget`. With any other backend, or with no browser at all (CI, tests,
benchmarks), the figure lives on a plain Agg canvas and everything still runs: tests call
``update(...)`` directly and read the artists and :attr:`numbers`.

Static layers and moving artists are cached by :mod:`dlcore.explorers.fastdraw` (marked
``animated``), so changing them does not flag the figure as stale by itself: code that changes
artists outside :meth:`Explorer.update` must call ``fig.canvas.draw_idle()`` itself.

Every explorer exposes
* ``controls`` – a dict name -> ipywidget;
* ``update(**changes)`` – set parameters (the controls follow) and redraw; returns the state;
* ``compute(params)`` / ``draw(state)`` – the two halves, timed separately by the benchmarks;
* ``numbers`` – the figures shown in the read-out, as a dict of floats (tests compare them
  with ``dlcore``), rendered into ``readout`` (an HTML widget with CSS class ``dl-readout``).
"""
from __future__ import annotations

import html
import json
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure


def _widget_backend() -> bool:
    backend = matplotlib.get_backend().lower()
    return "ipympl" in backend or "widget" in backend


def new_figure(figsize=(9, 4), **kwargs) -> Figure:
    """A figure on the ipympl canvas when ``%matplotlib widget`` is active, else on Agg."""
    if _widget_backend():
        import matplotlib.pyplot as plt

        with plt.ioff():
            fig = plt.figure(figsize=figsize, **kwargs)
        fig.canvas.header_visible = False
        fig.canvas.footer_visible = False
        fig.canvas.toolbar_visible = False
        fig.canvas.resizable = False
        return fig
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=figsize, **kwargs)
    FigureCanvasAgg(fig)
    return fig


class Explorer:
    """Base class: subclasses set ``params`` defaults, build artists, and fill compute/draw."""

    #: CSS class of the read-out, so browser tests can find it.
    readout_class = "dl-readout"
    title = ""

    def __init__(self, **params: Any) -> None:
        self.params: dict[str, Any] = dict(self.defaults())
        unknown = set(params) - set(self.params)
        if unknown:
            raise ValueError(
                f"{type(self).__name__}: unknown parameter(s) {sorted(unknown)}; "
                f"expected some of {sorted(self.params)}"
            )
        self.params.update(params)
        self.fig = new_figure(**self.figure_kwargs())
        self.numbers: dict[str, float] = {}
        self._widget = None
        self.controls: dict[str, Any] = {}
        self.setup_figure()
        self.state = self.compute(self.params)
        self.draw(self.state)
        self._syncing = False

    # -- to be provided by subclasses -------------------------------------------------------
    def defaults(self) -> dict[str, Any]:
        raise NotImplementedError

    def figure_kwargs(self) -> dict[str, Any]:
        return {"figsize": (9, 4)}

    def setup_figure(self) -> None:
        """Create axes and artists once."""
        raise NotImplementedError

    def compute(self, params: dict[str, Any]) -> Any:
        """Numbers only: everything the figure shows, computed with dlcore."""
        raise NotImplementedError

    def draw(self, state: Any) -> None:
        """Move the existing artists to ``state`` and refresh the read-out."""
        raise NotImplementedError

    def make_controls(self) -> dict[str, Any]:
        """Build the ipywidgets controls (called lazily, only when a widget is wanted)."""
        raise NotImplementedError

    # -- shared machinery ----------------------------------------------------------------------
    def update(self, **changes: Any) -> Any:
        """Apply parameter changes, recompute, redraw in place; return the new state."""
        unknown = set(changes) - set(self.params)
        if unknown:
            raise ValueError(f"{type(self).__name__}.update: unknown parameter(s) {sorted(unknown)}")
        self.params.update(changes)
        self._sync_controls(changes)
        self.state = self.compute(self.params)
        self.draw(self.state)
        self.fig.canvas.draw_idle()
        if self._widget is not None and not _widget_backend():
            self._render_static()
        return self.state

    def set_numbers(self, numbers: dict[str, float]) -> None:
        """Record the read-out numbers and render them into the HTML read-out."""
        # numpy scalars become Python numbers, so the read-out shows 3, not np.int64(3).
        self.numbers = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in numbers.items()}
        if self._widget is not None:
            self.readout.value = self._readout_html()

    def _readout_html(self) -> str:
        cells = "".join(
            f"<span class='dl-num' data-name='{html.escape(k, quote=True)}' "
            f"data-value='{html.escape(repr(v), quote=True)}' "
            f"style='margin-right:1.2em'><b>{html.escape(k)}</b> = {self._format(v)}</span>"
            for k, v in self.numbers.items()
        )
        params = html.escape(json.dumps(self.json_params(), sort_keys=True), quote=True)
        return (f"<div class='{self.readout_class}-body' data-params=\"{params}\" "
                f"style='font-family:monospace'>{cells}</div>")

    def json_params(self) -> dict[str, Any]:
        """The parameters that can be written as JSON (browser tests rebuild the explorer from them)."""
        out = {}
        for k, v in self.params.items():
            if isinstance(v, np.generic):
                v = v.item()
            try:
                json.dumps(v)
            except TypeError:
                continue
            out[k] = v
        return out

    @staticmethod
    def _format(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return html.escape(str(v))

    def _sync_controls(self, changes: dict[str, Any]) -> None:
        if not self.controls:
            return
        self._syncing = True
        try:
            for name, value in changes.items():
                w = self.controls.get(name)
                if w is not None and getattr(w, "value", None) != value:
                    w.value = value
        finally:
            self._syncing = False

    def _on_control(self, name: str):
        def handler(change):
            if not self._syncing:
                self.update(**{name: change["new"]})

        return handler

    @property
    def widget(self):
        """The whole explorer as one ipywidgets box (controls, figure, read-out)."""
        if self._widget is None:
            import ipywidgets as widgets

            self.controls = self.make_controls()
            for name, w in self.controls.items():
                w.observe(self._on_control(name), names="value")
            self.readout = widgets.HTML(self._readout_html())
            self.readout.add_class(self.readout_class)
            if _widget_backend():
                canvas = self.fig.canvas
            else:
                canvas = widgets.Output()
                self._static_out = canvas
            # Controls above the figure, wrapping into rows, so neither squeezes the other.
            controls = widgets.Box(list(self.controls.values()),
                                   layout=widgets.Layout(display="flex", flex_flow="row wrap",
                                                         align_items="center"))
            box = widgets.VBox(
                [widgets.HTML(f"<b>{html.escape(self.title)}</b>") if self.title else widgets.HTML(""),
                 controls, canvas, self.readout]
            )
            box.add_class("dl-explorer")
            self._widget = box
            if not _widget_backend():
                self._render_static()
        return self._widget

    def _render_static(self) -> None:
        out = getattr(self, "_static_out", None)
        if out is None:
            return
        from IPython.display import display

        out.clear_output(wait=True)
        with out:
            display(self.fig)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
