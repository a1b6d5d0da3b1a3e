"""Helpers shared by several test files (imported as ``_support``; pytest puts tests/ on sys.path).

The numerical gradient every test uses is ``dlcore.gradcheck.numerical_gradient``, itself checked
against hand-computed derivatives in ``tests/test_gradcheck.py``.
"""
from __future__ import annotations

import os
import signal
import subprocess


def render_once_then_skip_renders(explorer):
    """Render an explorer's figure once (the artists really draw), then make ``draw_idle`` a no-op
    so that tests driving many updates do not pay an Agg render each."""
    explorer.fig.canvas.draw()
    explorer.fig.canvas.draw_idle = lambda *a, **k: None
    return explorer


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
