"""Time dlcore's conv2d, pooling and batch norm (forward + backward) against PyTorch on the CPU.

    .venv/bin/python benchmarks/bench_ops.py            # full run, a few minutes
    .venv/bin/python benchmarks/bench_ops.py --quick    # fewer repetitions, about half a minute
    .venv/bin/python benchmarks/bench_ops.py --threads 1 --cpu-time   # robust on a busy machine

Both libraries run in the same process, one call each in turn (alternating, so a burst of load
from elsewhere hits both), with the same number of threads. The table gives the median time
of each and the ratio dlcore / torch next to the target of issue 7. See benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import ctypes
import glob
import os
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dlcore.conv import (conv2d_backward, conv2d_backward_loops, conv2d_forward,  # noqa: E402
                         conv2d_forward_loops)
from dlcore.pooling import (avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward,  # noqa: E402
                            max_pool2d_forward)

try:
    from dlcore.batchnorm import batch_norm_backward, batch_norm_forward
except ImportError:  # written by another module's author; the table says so when it is missing
    batch_norm_forward = batch_norm_backward = None

CONV_SHAPES = [  # (x shape, w shape, stride, padding)
    ((64, 16, 32, 32), (32, 16, 3, 3), 1, 1),
    ((64, 3, 32, 32), (16, 3, 5, 5), 2, 0),
]
POOL_X = (64, 32, 32, 32)
POOL_CASES = [(2, 2), (3, 2)]  # (kernel_size, stride)
BN_SHAPES = [(64, 32, 16, 16), (256, 512)]
TARGETS = {"conv2d": {"float64": 1.0, "float32": 3.0}, "pool": 2.0, "batch_norm": 2.0}


# ---------------------------------------------------------------------------- threads

def _openblas(suffixes):
    """A function of the OpenBLAS that numpy bundles (already loaded, so CDLL returns it), or None."""
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*"))
    for path in libs:
        lib = ctypes.CDLL(path)
        for name in suffixes:
            fn = getattr(lib, name, None)
            if fn is not None:
                return name, fn
    return None, None


def set_blas_threads(n: int) -> bool:
    """Set numpy's BLAS threads (threadpoolctl if installed, else OpenBLAS directly)."""
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(n, user_api="blas")
        return True
    except ImportError:
        pass
    _, fn = _openblas(("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
                       "openblas_set_num_threads"))
    if fn is None:
        return False
    fn(ctypes.c_int(n))
    return True


def blas_threads() -> tuple[int | None, str]:
    """numpy's BLAS thread count, from threadpoolctl if installed, else asked of OpenBLAS directly."""
    try:
        from threadpoolctl import threadpool_info
        for info in threadpool_info():
            if info.get("user_api") == "blas":
                return int(info["num_threads"]), f"threadpoolctl ({info.get('internal_api')})"
    except ImportError:
        pass
    name, fn = _openblas(("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                          "openblas_get_num_threads"))
    if fn is not None:
        return int(fn()), f"OpenBLAS {name}"
    return None, "unknown (install threadpoolctl to read it)"


# ---------------------------------------------------------------------------- timing

CLOCK = time.perf_counter  # --cpu-time switches to time.process_time


def alternate(f_a, f_b, reps: int, warmup: int = 2):
    """Run f_a and f_b in turn ``reps`` times (after a warm-up); return both lists of seconds."""
    for _ in range(warmup):
        f_a()
        f_b()
    ta, tb = [], []
    for _ in range(reps):
        t0 = CLOCK()
        f_a()
        t1 = CLOCK()
        f_b()
        t2 = CLOCK()
        ta.append(t1 - t0)
        tb.append(t2 - t1)
    return np.array(ta), np.array(tb)


def timeit(f, reps: int, warmup: int = 1) -> np.ndarray:
    for _ in range(warmup):
        f()
    out = []
    for _ in range(reps):
        t0 = CLOCK()
        f()
        out.append(CLOCK() - t0)
    return np.array(out)


# ---------------------------------------------------------------------------- cases

def conv_case(torch, xs, ws, stride, padding, dtype, rng):
    F = torch.nn.functional
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype)
    out, _ = conv2d_forward(x, w, b, stride, padding)
    dout = rng.standard_normal(out.shape).astype(dtype)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    dt = torch.tensor(dout)

    def ours():
        _, cache = conv2d_forward(x, w, b, stride, padding)
        conv2d_backward(dout, cache)

    def theirs():
        F.conv2d(xt, wt, bt, stride=stride, padding=padding).backward(dt)
        xt.grad = wt.grad = bt.grad = None

    return ours, theirs


def pool_case(torch, kind, k, s, dtype, rng):
    x = rng.standard_normal(POOL_X).astype(dtype)
    fwd, bwd = (max_pool2d_forward, max_pool2d_backward) if kind == "max" else (avg_pool2d_forward, avg_pool2d_backward)
    tf = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d
    out, _ = fwd(x, k, s)
    dout = rng.standard_normal(out.shape).astype(dtype)
    xt, dt = torch.tensor(x, requires_grad=True), torch.tensor(dout)

    def ours():
        _, cache = fwd(x, k, s)
        bwd(dout, cache)

    def theirs():
        tf(xt, k, s).backward(dt)
        xt.grad = None

    return ours, theirs


def bn_case(torch, shape, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    C = shape[1]
    g, b = rng.standard_normal(C).astype(dtype), rng.standard_normal(C).astype(dtype)
    dout = rng.standard_normal(shape).astype(dtype)
    xt, gt, bt = (torch.tensor(a, requires_grad=True) for a in (x, g, b))
    dt = torch.tensor(dout)

    def ours():
        _, cache = batch_norm_forward(x, g, b)
        batch_norm_backward(dout, cache)

    def theirs():
        torch.nn.functional.batch_norm(xt, None, None, gt, bt, training=True).backward(dt)
        xt.grad = gt.grad = bt.grad = None

    return ours, theirs


# ---------------------------------------------------------------------------- reports

def gemm_floor(xs, ws, stride, padding, dtype, reps, rng):
    """FLOPs of conv fwd+bwd and the time numpy's BLAS needs for its three GEMMs alone."""
    N, C, H, W = xs
    F, _, KH, KW = ws
    OH = (H + 2 * padding - KH) // stride + 1
    OW = (W + 2 * padding - KW) // stride + 1
    K, L = C * KH * KW, N * OH * OW
    flops = 3 * 2 * F * K * L  # forward, dW and dcols: three products of the same size
    a = rng.standard_normal((F, K)).astype(dtype)
    cols = rng.standard_normal((K, L)).astype(dtype)
    d = rng.standard_normal((F, L)).astype(dtype)
    at = np.ascontiguousarray(a.T)

    def three():
        a @ cols
        d @ cols.T
        at @ d

    t = np.median(timeit(three, reps))
    return flops, t


def conv_peak_memory(xs, ws, stride, padding, dtype, rng):
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    b = np.zeros(ws[0], dtype)
    tracemalloc.start()
    out, cache = conv2d_forward(x, w, b, stride, padding)
    grads = conv2d_backward(np.ones_like(out), cache)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del out, cache, grads
    return peak, x.nbytes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (noisier), about half a minute")
    ap.add_argument("--reps", type=int, default=None, help="timed repetitions per case (default 30, quick 7)")
    ap.add_argument("--dtype", choices=["float64", "float32", "both"], default="both")
    ap.add_argument("--threads", type=int, default=None,
                    help="set numpy's BLAS and torch to this many threads (default: leave numpy's as it is)")
    ap.add_argument("--cpu-time", action="store_true",
                    help="measure the process's CPU time instead of wall time: with --threads 1 "
                         "this is the work done, unaffected by other processes on a busy machine")
    args = ap.parse_args(argv)
    global CLOCK
    CLOCK = time.process_time if args.cpu_time else time.perf_counter
    reps = args.reps or (7 if args.quick else 30)
    dtypes = ["float64", "float32"] if args.dtype == "both" else [args.dtype]

    try:
        import torch
    except ImportError:
        print("bench_ops: PyTorch is not installed (pip install -e '.[dev]'); nothing to compare with.")
        return 1

    if args.threads is not None and not set_blas_threads(args.threads):
        print(f"bench_ops: could not set numpy's BLAS threads to {args.threads}; leaving them")
    n_blas, how = blas_threads()
    if n_blas is not None:
        torch.set_num_threads(n_blas)
        threads = f"numpy BLAS {n_blas} (read via {how}); torch set to {torch.get_num_threads()}"
    else:
        threads = f"numpy BLAS {how}; torch {torch.get_num_threads()} (could not match)"
    load = os.getloadavg()
    print(f"numpy {np.__version__}, torch {torch.__version__}, {os.cpu_count()} CPUs")
    print(f"threads: {threads}")
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
          + ("   <-- busy machine: wall times are inflated, multi-threaded ones most (prefer --threads 1 --cpu-time)"
             if load[0] > 0.5 * (os.cpu_count() or 1) else ""))
    clock = "CPU time of the process" if args.cpu_time else "wall time"
    print(f"{reps} alternating repetitions per case; times are medians of forward+backward ({clock}), in ms\n")

    rng = np.random.default_rng(0)
    rows = []
    for dtype in dtypes:
        dt = np.dtype(dtype)
        for xs, ws, s, p in CONV_SHAPES:
            ours, theirs = conv_case(torch, xs, ws, s, p, dt, rng)
            rows.append((dtype, f"conv2d x{xs} w{ws} s{s} p{p}", *alternate(ours, theirs, reps),
                         TARGETS["conv2d"][dtype]))
        for kind in ("max", "avg"):
            for k, s in POOL_CASES:
                ours, theirs = pool_case(torch, kind, k, s, dt, rng)
                rows.append((dtype, f"{kind}_pool2d {k}x{k} s{s} x{POOL_X}", *alternate(ours, theirs, reps),
                             TARGETS["pool"]))
        for shape in BN_SHAPES:
            name = f"batch_norm x{shape}"
            if batch_norm_forward is None:
                rows.append((dtype, name, None, None, TARGETS["batch_norm"]))
                continue
            ours, theirs = bn_case(torch, shape, dt, rng)
            rows.append((dtype, name, *alternate(ours, theirs, reps), TARGETS["batch_norm"]))

    w = max(len(r[1]) for r in rows)
    print(f"{'dtype':8} {'op':{w}} {'dlcore':>9} {'torch':>9} {'ratio':>6} {'target':>7}  met")
    for dtype, name, ta, tb, target in rows:
        if ta is None:
            print(f"{dtype:8} {name:{w}} {'skipped: dlcore.batchnorm not found':>34}")
            continue
        a, b = np.median(ta) * 1e3, np.median(tb) * 1e3
        ratio = a / b
        print(f"{dtype:8} {name:{w}} {a:9.2f} {b:9.2f} {ratio:6.2f} {'<= ' + str(target):>7}  "
              f"{'yes' if ratio <= target else 'NO'}")

    print("\nconv2d floor: the three GEMMs of im2col (forward, dW, dcols) timed alone in numpy")
    print(f"{'dtype':8} {'shape':34} {'GFLOP':>6} {'GEMMs ms':>9} {'GFLOP/s':>8} {'dlcore ms':>10} {'torch ms':>9}")
    for dtype, name, ta, tb, _ in rows:
        if not name.startswith("conv2d"):
            continue
        xs, ws, s, p = CONV_SHAPES[[f"conv2d x{c[0]} w{c[1]} s{c[2]} p{c[3]}" for c in CONV_SHAPES].index(name)]
        flops, t = gemm_floor(xs, ws, s, p, np.dtype(dtype), reps, rng)
        print(f"{dtype:8} {str(xs) + ' ' + str(ws):34} {flops / 1e9:6.2f} {t * 1e3:9.2f} {flops / t / 1e9:8.1f} "
              f"{np.median(ta) * 1e3:10.2f} {np.median(tb) * 1e3:9.2f}")

    print("\npeak memory of the fast conv2d, forward + backward (tracemalloc)")
    for dtype in dtypes:
        for xs, ws, s, p in CONV_SHAPES:
            peak, xbytes = conv_peak_memory(xs, ws, s, p, np.dtype(dtype), rng)
            print(f"{dtype:8} x{xs} w{ws}: {peak / 2**20:7.1f} MiB  ({peak / xbytes:.1f}x the input)")

    print("\nthe loop version (teaching) against the fast one, float64, forward+backward")
    xs, ws = (4, 3, 16, 16), (8, 3, 3, 3)
    x, wt = rng.standard_normal(xs), rng.standard_normal(ws)
    b = np.zeros(ws[0])
    out, _ = conv2d_forward(x, wt, b, 1, 1)
    dout = rng.standard_normal(out.shape)

    def loops():
        _, c = conv2d_forward_loops(x, wt, b, 1, 1)
        conv2d_backward_loops(dout, c)

    def fast():
        _, c = conv2d_forward(x, wt, b, 1, 1)
        conv2d_backward(dout, c)

    tl = np.median(timeit(loops, 1 if args.quick else 3)) * 1e3
    tf = np.median(timeit(fast, reps)) * 1e3
    print(f"x{xs} w{ws} padding 1: loops {tl:.1f} ms, fast {tf:.2f} ms ({tl / tf:.0f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
