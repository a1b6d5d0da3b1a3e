"""Every example in dlcore's docstrings runs and prints what it says (the doctests are part of the tests)."""
from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "dlcore"


def _modules_with_examples() -> list[str]:
    """Every dlcore module whose source holds a ``>>>`` example (only those are imported)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if ">>>" in path.read_text(encoding="utf-8"):
            parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


MODULES = _modules_with_examples()


def test_the_library_has_examples_to_run():
    assert len(MODULES) >= 10 and "dlcore.gradcheck" in MODULES and "dlcore.optim" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name}: no example was found"
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed (run: python -m doctest -v {name.replace('.', '/')}.py)"
