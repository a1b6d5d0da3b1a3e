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


def fmt(v: Any, digits: int = 3) -> str:
    """A number as a person reads it: three significant figures, 1.3·10⁻⁵ rather than 1.3e-05.

    >>> fmt(0.000013456), fmt(-1271413264106.77), fmt(48.0), fmt(0.5), fmt(float("nan"))
    ('1.35·10⁻⁵', '−1.27·10¹²', '48', '0.5', '—')
    """
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}".replace(",", "\u2009").replace("-", "−")
    if not isinstance(v, (float, np.floating)):
        return html.escape(str(v))
    v = float(v)
    if not np.isfinite(v):
        return "—" if np.isnan(v) else ("∞" if v > 0 else "−∞")
    if v == int(v) and abs(v) < 1e6:
        return str(int(v)).replace("-", "−")
    text = f"{v:.{digits}g}"
    if "e" in text:
        mant, exp = text.split("e")
        sup = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
        text = f"{mant}·10{str(int(exp)).translate(sup)}"
    return text.replace("-", "−")


def _widget_backend() -> bool:
    backend = matplotlib.get_backend().lower()
    return "ipympl" in backend or "widget" in backend


def new_figure(figsize=(9, 4), **kwargs) -> Figure:
    """A figure on the ipympl canvas when ``%matplotlib widget`` is active, else on Agg."""
    if _widget_backend():
        # An ipympl canvas and manager made by hand, not through pyplot: pyplot would keep every
        # figure ever made, so re-running a notebook's cells would pile them up (and warn "More
        # than 20 figures have been opened"). Unregistered, a figure goes when its widget goes.
        from ipympl.backend_nbagg import Canvas, FigureManager

        fig = Figure(figsize=figsize, **kwargs)
        canvas = Canvas(fig)
        FigureManager(canvas, 0)
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

    #: name in :attr:`numbers` -> (label a person reads, unit or ""); subclasses fill it.
    readout_labels: dict[str, tuple[str, str]] = {}

    def summary_rows(self) -> list[tuple[str, str]]:
        """The read-out as (label, value text) rows; HTML allowed in both.

        The default labels each number from :attr:`readout_labels` (falling back to its name) and
        writes it with three significant figures; an explorer overrides this to say what the
        numbers mean (``escaped at step 19``) rather than list them.
        """
        rows = []
        for k, v in self.numbers.items():
            label, unit = self.readout_labels.get(k, (html.escape(k.replace("_", " ")), ""))
            rows.append((label, f"{fmt(v)}{(' ' + unit) if unit else ''}"))
        return rows

    def _readout_html(self) -> str:
        # The numbers themselves ride along, hidden, for the browser tests; people read the rows.
        data = "".join(
            f"<span class='dl-num' data-name='{html.escape(k, quote=True)}' "
            f"data-value='{html.escape(repr(v), quote=True)}' hidden></span>"
            for k, v in self.numbers.items()
        )
        rows = "".join(
            f"<div class='dl-row' style='display:flex;gap:0.8em;line-height:1.45'>"
            f"<span class='dl-label' style='min-width:11em;color:#444'>{label}</span>"
            f"<span class='dl-value'>{value}</span></div>"
            for label, value in self.summary_rows()
        )
        params = html.escape(json.dumps(self.json_params(), sort_keys=True), quote=True)
        return (f"<div class='{self.readout_class}-body' data-params=\"{params}\" "
                f"style='font-size:13px;padding:0.3em 0.5em;border-left:3px solid #ccc'>{data}{rows}</div>")

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
        return fmt(v)

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
                # A label takes the width it needs: ipywidgets' default fixed width cuts
                # "temperature T" to "temperat…". (An explorer may still set its own width.)
                style = getattr(w, "style", None)
                if style is not None and hasattr(style, "description_width") and not style.description_width:
                    style.description_width = "initial"
            self.readout = widgets.HTML(self._readout_html())
            self.readout.add_class(self.readout_class)
            if _widget_backend():
                canvas = self.fig.canvas
            else:
                canvas = widgets.Output()
                self._static_out = canvas
            # Controls above the figure, wrapping into rows, so neither squeezes the other. A text
            # box gets a row of its own: its wrapper spans the row (the box itself may be narrower;
            # a max-width on the box alone lets it wrap in beside a slider, mid-row).
            children = [widgets.Box([w], layout=widgets.Layout(flex="1 0 100%", width="100%"))
                        if isinstance(w, widgets.Textarea) else w for w in self.controls.values()]
            controls = widgets.Box(children,
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
