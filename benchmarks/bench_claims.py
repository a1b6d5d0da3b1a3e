"""Speed claims, timed here rather than asserted in unit tests (a busy machine makes a timed test flaky).

* chapter 3: ReLU's forward costs less than the sigmoid's, and the sigmoid's division less than its exp
  (``dlcore.chapters.ch03.time_activations``);
* chapter 4: the five trajectories the optimizer explorer recomputes per slider move take a few ms.

Prints each figure next to its goal and exits 1 when a goal is missed.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_claims.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dlcore.chapters.ch03 import time_activations  # noqa: E402
from dlcore.surfaces import run_optimizer  # noqa: E402

TRAJECTORY_GOAL_S = 25e-3   # five 200-step trajectories; measured about 3-5 ms


def main() -> int:
    ok = True
    t = time_activations(n=200_000, repeats=5, number=3, rng=np.random.default_rng(0))
    for fast, slow in (("dlcore relu", "dlcore sigmoid"), ("np.maximum(x, 0) (ReLU)", "np.exp(-x) (the sigmoid's core)"),
                       ("1 / (1 + e) (the sigmoid's division)", "np.exp(-x) (the sigmoid's core)")):
        good = t[fast] < t[slow]
        ok &= good
        print(f"ch03  {fast:<28} {t[fast] * 1e6:8.1f} µs  <  {slow:<32} {t[slow] * 1e6:8.1f} µs  {'ok' if good else 'MISSED'}")
    times = []
    for _ in range(30):
        t0 = time.perf_counter()
        for name in ("sgd", "momentum", "nesterov", "rmsprop", "adam"):
            run_optimizer("rosenbrock", name, steps=200, lr=1e-3)
        times.append(time.perf_counter() - t0)
    med = float(np.median(times))
    good = med < TRAJECTORY_GOAL_S
    ok &= good
    print(f"ch04  five 200-step trajectories: median {med * 1e3:.2f} ms (goal < {TRAJECTORY_GOAL_S * 1e3:.0f} ms)  "
          f"{'ok' if good else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
