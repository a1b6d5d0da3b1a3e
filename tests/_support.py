"""Helpers shared by several test files (imported as ``_support``; pytest puts tests/ on sys.path).

The numerical gradient every test uses is ``dlcore.gradcheck.numerical_gradient``, itself checked
against hand-computed derivatives in ``tests/test_gradcheck.py``.
"""
from __future__ import annotations

import os
import signal
import subprocess


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
