"""Helpers shared by several test files (imported as ``_support``; pytest puts tests/ on sys.path)."""
from __future__ import annotations

import os
import signal
import subprocess

import numpy as np


def numgrad(f, x, h=1e-6):
    """Central differences of the scalar f() with respect to x (changed in place, then restored).

    Independent of dlcore.gradcheck on purpose: the ops' tests should not lean on the library.
    """
    g = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        fp = f()
        x[i] = old - h
        fm = f()
        x[i] = old
        g[i] = (fp - fm) / (2 * h)
    return g


def stop_process_group(proc: subprocess.Popen, timeout: float = 30) -> None:
    """Stop a server a test started in its own process group (its kernels, proxy, spawned
    servers included), and nothing else — even when the group's leader has already exited."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)
