"""The layers stay apart: chapter numbers need no matplotlib, and no chapter imports another's module."""
from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "dlcore" / "chapters").glob("ch[0-9][0-9].py"))
EXPLORERS = sorted((ROOT / "dlcore" / "explorers").glob("ch[0-9][0-9].py"))
CLAIMS = sorted((ROOT / "tests").glob("test_ch[0-9][0-9]_claims.py"))


def _imported_modules(path: Path) -> set[str]:
    """Every module an ``import`` anywhere in the file names (top level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def test_every_chapter_has_a_numbers_module_an_explorer_and_a_claims_test():
    names = [p.stem for p in CHAPTERS]
    assert names == [f"ch0{i}" for i in range(1, 10)]
    assert [p.stem for p in EXPLORERS] == names
    assert [p.name[5:9] for p in CLAIMS] == names


@pytest.mark.parametrize("path", sorted((ROOT / "dlcore" / "chapters").glob("*.py")) + CLAIMS,
                         ids=lambda p: p.name)
def test_no_chapter_module_and_no_claims_test_mentions_matplotlib(path):
    assert "matplotlib" not in path.read_text(encoding="utf-8")
    assert not any(m.startswith(("matplotlib", "ipywidgets", "dlcore.explorers")) for m in _imported_modules(path))


def test_importing_every_claims_test_and_chapter_module_loads_no_matplotlib():
    mods = [f"dlcore.chapters.{p.stem}" for p in CHAPTERS]
    code = ("import sys; sys.path.insert(0, %r)\n" % str(ROOT / "tests")
            + "".join(f"import {m}\n" for m in mods)
            + "".join(f"import {p.stem}\n" for p in CLAIMS)
            + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'ipywidgets') "
              "or m.startswith('dlcore.explorers'))\n"
              "print(' '.join(bad))\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    env.pop("MPLBACKEND", None)  # nothing here should even look for a backend
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"these came in with the chapter layer: {out.stdout.strip()}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_a_chapter_module_imports_no_other_chapter(path):
    others = {m for m in _imported_modules(path) if re.match(r"dlcore\.chapters\.ch\d\d", m)}
    assert others == set(), f"{path.name} imports {others}; share code through dlcore.chapters._shared"


@pytest.mark.parametrize("path", EXPLORERS, ids=lambda p: p.name)
def test_an_explorer_imports_only_its_own_chapter(path):
    ch = path.stem
    chapter_imports = {m[:len("dlcore.explorers.chNN")] for m in _imported_modules(path)
                       if re.match(r"dlcore\.explorers\.ch\d\d", m)}
    chapter_imports |= {m[:len("dlcore.chapters.chNN")] for m in _imported_modules(path)
                        if re.match(r"dlcore\.chapters\.ch\d\d", m)}
    assert chapter_imports <= {f"dlcore.chapters.{ch}"}, f"{path.name} imports {chapter_imports}"
