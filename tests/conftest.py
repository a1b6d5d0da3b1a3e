"""Project-wide test settings."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

try:  # PyTorch (used only as a reference) collapses under CPU contention with its default threads.
    import torch as _torch

    _torch.set_num_threads(1)
except ImportError:  # torch is optional: the tests that need it skip themselves
    pass


@pytest.fixture(scope="session")
def torch():
    """PyTorch as the reference, or a skip where it is not installed (one thread, see above)."""
    return pytest.importorskip("torch")
