"""Project-wide test settings."""
from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

try:  # PyTorch (used only as a reference) collapses under CPU contention with its default threads.
    import torch

    torch.set_num_threads(1)
except ImportError:  # torch is optional: the tests that need it skip themselves
    pass
