"""Explorer latency: time each explorer's update step headless (Agg canvas, no browser).

For every chapter's explorer, sweep each slider over its range and time, per update,
``compute`` (the numbers, from dlcore) and the redraw (``draw`` plus rendering the figure
on the Agg canvas) separately. Prints median and 95th percentile in milliseconds against the
target p95 ≤ 50 ms for compute + redraw.

    python benchmarks/bench_explorers.py [--values 15] [--chapter ch04_optimizers ...]
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402

from dlcore.explorers import EXPLORERS, available, get_factory  # noqa: E402

TARGET_MS = 50.0


def slider_sweeps(explorer, n_values: int):
    """(name, values) for every numeric slider among the explorer's controls."""
    controls = explorer.make_controls()
    for name, w in controls.items():
        if name not in explorer.params:
            continue
        lo, hi = getattr(w, "min", None), getattr(w, "max", None)
        if lo is None or hi is None or isinstance(w.value, bool):
            options = getattr(w, "options", None)
            if options:
                vals = [o[1] if isinstance(o, tuple) else o for o in options]
                yield name, vals
            continue
        vals = np.linspace(lo, hi, n_values)
        if isinstance(w.value, (int, np.integer)):
            vals = np.unique(np.round(vals).astype(int))
        yield name, [v.item() for v in vals]


def bench(chapter: str, n_values: int):
    explorer = get_factory(chapter)()
    base = dict(explorer.params)
    compute_ms, redraw_ms = [], []
    for name, values in slider_sweeps(explorer, n_values):
        for v in values:
            params = dict(base, **{name: v})
            t0 = time.perf_counter()
            state = explorer.compute(params)
            t1 = time.perf_counter()
            explorer.params = params
            explorer.draw(state)
            explorer.fig.canvas.draw()
            t2 = time.perf_counter()
            compute_ms.append(1e3 * (t1 - t0))
            redraw_ms.append(1e3 * (t2 - t1))
        explorer.params = dict(base)
    total = np.add(compute_ms, redraw_ms)
    return {
        "updates": len(total),
        "compute_med": np.median(compute_ms), "compute_p95": np.percentile(compute_ms, 95),
        "redraw_med": np.median(redraw_ms), "redraw_p95": np.percentile(redraw_ms, 95),
        "total_med": np.median(total), "total_p95": np.percentile(total, 95),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--values", type=int, default=15, help="slider positions per slider")
    ap.add_argument("--chapter", nargs="*", default=None)
    args = ap.parse_args(argv)
    chapters = args.chapter or [c for c in EXPLORERS if c in available()]
    print(f"{'explorer':28s} {'n':>4s} {'compute med/p95':>17s} {'redraw med/p95':>17s} {'total p95':>10s}  target {TARGET_MS:.0f} ms")
    worst = 0.0
    for ch in chapters:
        r = bench(ch, args.values)
        worst = max(worst, r["total_p95"])
        flag = "ok" if r["total_p95"] <= TARGET_MS else "SLOW"
        print(f"{ch:28s} {r['updates']:4d} {r['compute_med']:7.1f} / {r['compute_p95']:6.1f}  "
              f"{r['redraw_med']:7.1f} / {r['redraw_p95']:6.1f}  {r['total_p95']:9.1f}  {flag}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
