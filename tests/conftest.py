"""Project-wide test settings."""
from __future__ import annotations

import os
from pathlib import Path

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


# `make test-fast` runs on two pytest-xdist workers (`-n 2 --dist loadgroup`; `make test` may too).
# Every file stays whole on one worker (its module-scoped fixtures are built once), and the files
# that grade through the sandbox share one worker, one after another: a grading run takes the
# machine's uid slots and runs its students side by side already, and two at once would compete
# for the same slots and limits. Without xdist the marks do nothing.
SANDBOXED_GRADING = {
    "test_autograder_class.py", "test_autograder_hostile.py", "test_autograder_units.py", "test_dask_grading.py",
    "test_hub.py", "test_instructor_cli.py", "test_mistakes.py", "test_trusted_scoring.py", "test_trusted_units.py",
    "test_formgrader_xss.py", "test_instructor_path.py",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    root = Path(__file__).resolve().parent
    for item in items:
        path = Path(str(item.fspath)).resolve()
        group = "sandboxed-grading" if path.name in SANDBOXED_GRADING else str(path.relative_to(root))
        item.add_marker(pytest.mark.xdist_group(group))
