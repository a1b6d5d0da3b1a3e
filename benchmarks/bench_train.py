"""One epoch of the chapter-7 CNN on the real digits: dlcore against the same network in PyTorch.

The architecture is chapter 7's (conv 1→8, 3×3, padding 1 → ReLU → 2×2 max-pool → flatten →
linear 128→10), Adam lr 0.01, mini-batches of 32 over the training split of the digits, the same
initial weights and the same batch order in both libraries. Each library runs its epoch
alternately, ``--reps`` times; medians are printed with the ratio dlcore/torch, and the two
models' losses after the first epoch are compared (they follow the same arithmetic).

    python benchmarks/bench_train.py [--reps 7] [--dtype float64|float32] [--threads N]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from dlcore import data, losses, nn, optim


def build(rng, dtype):
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, rng=rng, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(8 * 4 * 4, 10, rng=rng, dtype=dtype))


def torch_twin(model, torch, dtype):
    tm = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                             torch.nn.Flatten(), torch.nn.Linear(8 * 4 * 4, 10)).to(dtype)
    with torch.no_grad():
        tm[0].weight.copy_(torch.from_numpy(model[0].weight))
        tm[0].bias.copy_(torch.from_numpy(model[0].bias))
        tm[4].weight.copy_(torch.from_numpy(model[4].weight))
        tm[4].bias.copy_(torch.from_numpy(model[4].bias))
    return tm


def epoch_dlcore(model, X, y, order, batch_size=32):
    opt = optim.Adam(model.parameters(), lr=0.01)
    total = 0.0
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        logits = model.forward(X[idx])
        total += losses.cross_entropy(logits, y[idx]) * len(idx)
        model.backward(losses.cross_entropy_grad(logits, y[idx]))
        opt.step(model.grads())
    return total / len(order)


def epoch_torch(tm, torch, X, y, order, batch_size=32):
    opt = torch.optim.Adam(tm.parameters(), lr=0.01)
    total = 0.0
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(tm(X[idx]), y[idx])
        loss.backward()
        opt.step()
        total += loss.detach().item() * len(idx)
    return total / len(order)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    a = ap.parse_args(argv)
    import torch

    if a.threads:
        torch.set_num_threads(a.threads)
    dtype = np.dtype(a.dtype)
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    X, y = data.load_digits(images=True, dtype=dtype)
    split = data.train_val_test_split(X, y, rng=np.random.default_rng(0))
    Xtr, ytr = split.X_train, split.y_train
    Xt, yt = torch.from_numpy(Xtr), torch.from_numpy(ytr)
    order = np.random.default_rng(1).permutation(len(Xtr))
    torder = torch.from_numpy(order)

    ours, theirs, first = [], [], None
    for rep in range(a.reps):
        model = build(np.random.default_rng(rep), dtype)
        tm = torch_twin(model, torch, tdtype)
        t0 = time.perf_counter()
        loss_d = epoch_dlcore(model, Xtr, ytr, order)
        t1 = time.perf_counter()
        loss_t = epoch_torch(tm, torch, Xt, yt, torder)
        t2 = time.perf_counter()
        ours.append(t1 - t0)
        theirs.append(t2 - t1)
        if first is None:
            first = (loss_d, loss_t)
    md, mt = statistics.median(ours), statistics.median(theirs)
    print(f"one epoch, chapter-7 CNN, {len(Xtr)} digits, batch 32, {a.dtype}, torch threads {torch.get_num_threads()}")
    print(f"  dlcore  {1e3 * md:8.1f} ms   torch {1e3 * mt:8.1f} ms   ratio dlcore/torch {md / mt:5.2f}")
    print(f"  mean training loss of the epoch: dlcore {first[0]:.6f}, torch {first[1]:.6f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
