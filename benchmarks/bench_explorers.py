"""Explorer latency: time each explorer's update step headless (Agg canvas, no browser).

For every chapter's explorer, sweep each control over its range (sliders over their range,
log sliders over their exponents, dropdowns / toggle buttons / selection sliders over their
options, checkboxes toggled off and on) and time every update in two halves:

* **compute** – ``explorer.compute(params)``, the numbers from dlcore;
* **redraw** – everything else an update does: ``draw(state)`` (moving the artists and the
  read-out) plus one full render ``fig.canvas.draw()`` on the Agg canvas, which is what ipympl
  does for each update.

Each update goes through ``explorer.update(**change)`` (so explorer-specific update logic,
e.g. a surface change resetting the start point, is exercised) with the canvas's
``draw_idle`` silenced, because on a plain Agg canvas ``draw_idle`` renders at once and would
count the render twice. Both wall-clock (``perf_counter``) and CPU (``process_time``) times are
recorded: the machine is shared, and CPU time shows what the update itself costs.

Prints median and 95th percentile in milliseconds per explorer against the target
p95 ≤ 50 ms for compute + redraw (wall clock).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_explorers.py [--values 15] [--quick]
                                                                [--chapter ch04_optimizers ...]
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from dlcore.explorers import EXPLORERS, available, get_factory  # noqa: E402

TARGET_MS = 50.0


def _option_values(w) -> list:
    """The values a selection widget (Dropdown, ToggleButtons, SelectionSlider) can take."""
    options = w.options
    if isinstance(options, dict):
        return list(options.values())
    return [o[1] if isinstance(o, tuple) and len(o) == 2 else o for o in options]


def control_sweeps(controls: dict, params: dict, n_values: int):
    """(name, values) for every control bound to a parameter, in the order a person would move them.

    * FloatLogSlider: ``base ** linspace(min, max, n)`` (its ``min``/``max`` are exponents);
    * FloatSlider / IntSlider: ``linspace(min, max, n)`` (integers rounded, duplicates dropped);
    * Dropdown / ToggleButtons / SelectionSlider …: every option;
    * Checkbox: toggled, then back;
    * anything else (text boxes, buttons): not swept.
    """
    for name, w in controls.items():
        if name not in params:
            continue
        kind = type(w).__name__
        if isinstance(w.value, bool):
            yield name, [not w.value, w.value]
        elif kind == "FloatLogSlider":
            yield name, [float(v) for v in w.base ** np.linspace(w.min, w.max, n_values)]
        elif hasattr(w, "options"):
            yield name, _option_values(w)
        elif getattr(w, "min", None) is not None and getattr(w, "max", None) is not None:
            vals = np.linspace(w.min, w.max, n_values)
            if isinstance(w.value, (int, np.integer)):
                yield name, [int(v) for v in np.unique(np.round(vals).astype(int))]
            else:
                yield name, [float(v) for v in vals]


def slider_sweeps(explorer, n_values: int):
    """:func:`control_sweeps` over a fresh set of the explorer's controls."""
    return list(control_sweeps(explorer.make_controls(), explorer.params, n_values))


class _Timed:
    """Wrap an explorer's ``compute`` on the instance so an update's compute time is recorded."""

    def __init__(self, explorer):
        self.explorer = explorer
        self.wall = self.cpu = 0.0
        inner = explorer.compute

        def compute(params):
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return inner(params)
            finally:
                self.wall += time.perf_counter() - t0
                self.cpu += time.process_time() - c0

        explorer.compute = compute
        # ipympl's draw_idle only asks the browser for a frame; Agg's renders at once. One render
        # per update, the explicit one below, is what a student's browser sees.
        explorer.fig.canvas.draw_idle = lambda *a, **k: None

    def update(self, **change) -> tuple[float, float, float, float]:
        """Apply one change; return (compute wall, compute cpu, redraw wall, redraw cpu) in ms."""
        self.wall = self.cpu = 0.0
        t0, c0 = time.perf_counter(), time.process_time()
        self.explorer.update(**change)
        self.explorer.fig.canvas.draw()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        return 1e3 * self.wall, 1e3 * self.cpu, 1e3 * (wall - self.wall), 1e3 * (cpu - self.cpu)


def sweep(explorer, n_values: int, on_update=None) -> np.ndarray:
    """Run every control's sweep through ``explorer.update``; return the (updates, 4) ms timings.

    After each control's sweep the explorer goes back to its starting parameters, so every
    sweep starts from the defaults. ``on_update(name, value)`` is called after each update
    (the tests use it to check the figure changed).
    """
    sweeps = slider_sweeps(explorer, n_values)
    timed = _Timed(explorer)
    rows = []
    try:
        explorer.fig.canvas.draw()  # the first render (fonts, caches) is not an update
        base = dict(explorer.params)
        for name, values in sweeps:
            for v in values:
                rows.append(timed.update(**{name: v}))
                if on_update is not None:
                    on_update(name, v)
            explorer.update(**{k: v for k, v in base.items() if explorer.params.get(k) != v})
            explorer.fig.canvas.draw()  # going back is not timed, and neither is its render
    finally:
        del explorer.compute
        del explorer.fig.canvas.draw_idle
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


def bench(chapter: str, n_values: int) -> dict:
    explorer = get_factory(chapter)()
    t = sweep(explorer, n_values)
    out = {"updates": len(t)}
    for i, part in enumerate(("compute_wall", "compute_cpu", "redraw_wall", "redraw_cpu")):
        out[f"{part}_med"], out[f"{part}_p95"] = np.median(t[:, i]), np.percentile(t[:, i], 95)
    total_wall, total_cpu = t[:, 0] + t[:, 2], t[:, 1] + t[:, 3]
    out["total_wall_med"], out["total_wall_p95"] = np.median(total_wall), np.percentile(total_wall, 95)
    out["total_cpu_med"], out["total_cpu_p95"] = np.median(total_cpu), np.percentile(total_cpu, 95)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--values", type=int, default=15, help="positions per slider (default 15)")
    ap.add_argument("--quick", action="store_true", help="5 positions per slider")
    ap.add_argument("--chapter", nargs="*", default=None)
    args = ap.parse_args(argv)
    n_values = 5 if args.quick else args.values
    chapters = args.chapter or [c for c in EXPLORERS if c in available()]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average {load:.2f} on {os.cpu_count()} CPUs; OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS')}; ms per update, median / p95; "
          f"target: total wall p95 <= {TARGET_MS:.0f} ms")
    head = (f"{'explorer':26s} {'n':>4s} | {'compute wall':>13s} {'compute cpu':>13s} | "
            f"{'redraw wall':>13s} {'redraw cpu':>13s} | {'total wall':>13s} {'total cpu':>13s} |")
    print(head)
    print("-" * len(head))
    slow = []
    for ch in chapters:
        r = bench(ch, n_values)

        def cell(part):
            return f"{r[part + '_med']:5.1f} / {r[part + '_p95']:5.1f}"

        ok = r["total_wall_p95"] <= TARGET_MS
        if not ok:
            slow.append(ch)
        print(f"{ch:26s} {r['updates']:4d} | {cell('compute_wall')} {cell('compute_cpu')} | "
              f"{cell('redraw_wall')} {cell('redraw_cpu')} | {cell('total_wall')} {cell('total_cpu')} | "
              f"{'ok' if ok else 'SLOW'}", flush=True)
    if slow:
        print(f"over target: {', '.join(slow)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
