"""The explorer latency benchmark's sweep runs on every explorer, and every update shows.

Two values per control (no timing assertions): each control's sweep changes the rendered
figure, and every frame drawn from the cached static layer equals a frame rendered from scratch.
"""
import importlib.util
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcore.explorers import EXPLORERS, available, get_factory  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "bench_explorers", Path(__file__).resolve().parents[1] / "benchmarks" / "bench_explorers.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

#: controls that leave the figure as it is in the default setting, and why
NO_EFFECT_AT_DEFAULTS = {
    ("ch02_softmax", "z4"): "only 4 of the 5 classes are shown by default",
    ("ch07_cnn_layers", "seed"): "the seed draws random kernels; the default bank is fixed",
}


def _pixels(explorer) -> np.ndarray:
    return np.asarray(explorer.fig.canvas.buffer_rgba()).copy()


@pytest.mark.parametrize("chapter", [c for c in EXPLORERS if c in available()])
def test_sweep_runs_and_every_control_changes_the_figure(chapter):
    explorer = get_factory(chapter)()
    sweeps = bench.slider_sweeps(explorer, 2)
    assert sweeps, "no control to sweep"
    for name, values in sweeps:
        w = explorer.make_controls()[name]
        kind = type(w).__name__
        if kind == "FloatLogSlider":  # exponents in the widget, values in the sweep
            assert values == pytest.approx([w.base ** w.min, w.base ** w.max])
        elif isinstance(w.value, bool):
            assert values == [not w.value, w.value]
        elif hasattr(w, "options"):
            assert len(values) == len(w.options)
    layer = getattr(explorer, "static", None)
    before: dict = {}
    changed: dict = {}
    mismatched = []

    def on_update(name, value):
        px = _pixels(explorer)
        if name not in before:
            before[name] = start
        changed[name] = changed.get(name, False) or not np.array_equal(px, before[name])
        if layer is not None:  # the cached frame is what a full render gives
            layer.invalidate()
            explorer.fig.canvas.draw()
            if not np.array_equal(px, _pixels(explorer)):
                mismatched.append((name, value))

    explorer.fig.canvas.draw()
    start = _pixels(explorer)
    timings = bench.sweep(explorer, 2, on_update=on_update)
    assert timings.shape == (sum(len(v) for _, v in sweeps), 4) and np.all(timings[:, [0, 2]] >= 0)
    assert not mismatched, f"stale cached frame after {mismatched}"
    silent = {n for n, c in changed.items() if not c} - {n for c, n in NO_EFFECT_AT_DEFAULTS if c == chapter}
    assert not silent, f"controls that changed nothing: {sorted(silent)}"
    # the sweep leaves the explorer as it found it, and the instance without the timing wrappers
    assert "compute" not in vars(explorer) and "draw_idle" not in vars(explorer.fig.canvas)


def test_table_prints_every_explorer(capsys):
    bench.main(["--values", "2", "--chapter", "ch02_softmax", "ch08_cnn_backprop"])
    out = capsys.readouterr().out
    assert "compute wall" in out and "redraw cpu" in out
    assert "ch02_softmax" in out and "ch08_cnn_backprop" in out
