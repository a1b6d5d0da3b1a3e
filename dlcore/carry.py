"""Your own functions, carried from your other chapter notebooks into this one (like ``%load``).

Each chapter notebook is graded on its own, so a notebook that builds on earlier exercises (the
capstone network, or your chapter-2 gradient checker used on a later backward pass) must hold
that code itself. ``carry`` copies it for you instead of making you retype it::

    from dlcore.workspace import carry
    carry("affine_forward", "affine_backward", "conv2d_forward")

It reads the *saved* chapter notebooks next to this notebook's folder (``../chNN_*/chNN_*.ipynb``,
the layout of ``make lab``'s ``workspace/`` and of nbgrader's fetched assignments), finds the
answer cell that defines each name, adds the answer cells of the same notebook those functions
call and the chapter's own imports they use, runs the code here, and replaces the cell it was
called from with that code (``set_next_input(..., replace=True)``, what ``%load`` does), so the
notebook you save and submit carries your code. A function that is still the exercise's stub
(``raise NotImplementedError``) is refused with the chapter and exercise to finish first.

Standard library only; :func:`carried_source` is the same without running anything.
"""
from __future__ import annotations

import ast
import builtins
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

_CHAPTER = re.compile(r"^ch(\d\d)_[a-z0-9_]+$")
# What a chapter's setup cell imports that carried code may use; the grading guard and the
# figures are not carried.
# nbgrader's solution markers (spelled so that this file holds none: the student bundle refuses them)
_MARKER = re.compile(r"^\s*#{3}\s*(BEGIN|END)\s+SOLUTION\s*$")
_NOT_CARRIED = ("dlcore.testing", "dlcore.explorers", "matplotlib", "ipywidgets", "IPython")


class CarryError(Exception):
    """What to do so that ``carry`` can find your code, in words."""


@dataclass
class _Cell:
    chapter: str
    order: int
    grade_id: str
    source: str
    defines: set[str] = field(default_factory=set)
    uses: set[str] = field(default_factory=set)
    stubs: set[str] = field(default_factory=set)


def _text(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _nbg(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_carry_cell(cell: dict) -> bool:
    """A cell whose answer is a ``carry(...)`` call (``dlcourse: {"carry": true}`` in its metadata)."""
    return bool(cell.get("metadata", {}).get("dlcourse", {}).get("carry"))


def _is_stub(fn: ast.AST) -> bool:
    for node in ast.walk(fn):
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
                return True
    return False


def _analyse(cell: _Cell) -> None:
    tree = ast.parse(cell.source)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            cell.defines.add(node.name)
            if not isinstance(node, ast.ClassDef) and _is_stub(node):
                cell.stubs.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                cell.defines |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            cell.defines |= {(a.asname or a.name).split(".")[0] for a in node.names}
    cell.uses = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _setup_imports(cells: list[dict]) -> dict[str, str]:
    """The import lines of a chapter's setup cell, by the name each binds."""
    out: dict[str, str] = {}
    for cell in cells:
        m = _nbg(cell)
        if cell.get("cell_type") != "code" or not m.get("locked") or m.get("grade") or m.get("solution"):
            continue
        text = "\n".join(line for line in _text(cell).splitlines() if not line.lstrip().startswith("%"))
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in tree.body:
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            mod = node.module if isinstance(node, ast.ImportFrom) else None
            for a in node.names:
                full = f"{mod}.{a.name}" if mod else a.name
                if full.startswith(_NOT_CARRIED) or (mod or "").startswith(_NOT_CARRIED):
                    continue
                bound = (a.asname or a.name).split(".")[0]
                if isinstance(node, ast.ImportFrom):
                    line = f"from {mod} import {a.name}" + (f" as {a.asname}" if a.asname else "")
                else:
                    line = f"import {a.name}" + (f" as {a.asname}" if a.asname else "")
                out.setdefault(bound, line)
    return out


def chapter_notebooks(here: Path) -> list[Path]:
    """The chapter notebooks beside ``here`` (this notebook's folder), in chapter order."""
    here = Path(here).resolve()
    found = []
    for folder in sorted(here.parent.iterdir()) if here.parent.is_dir() else []:
        nb = folder / f"{folder.name}.ipynb"
        if folder.is_dir() and _CHAPTER.match(folder.name) and nb.is_file() and folder != here:
            found.append(nb)
    return found


def _load(nb_path: Path) -> tuple[list[_Cell], dict[str, str]]:
    try:
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CarryError(f"carry: cannot read {nb_path.name} ({exc}); is it a saved notebook?") from None
    chapter = nb_path.stem
    cells = []
    for cell in nb.get("cells", []):
        m = _nbg(cell)
        if cell.get("cell_type") != "code" or not m.get("solution") or is_carry_cell(cell):
            continue
        # (an instructor's notebook carries its model solutions: their markers stay behind)
        text = "".join(line for line in _text(cell).splitlines(keepends=True) if not _MARKER.match(line))
        c = _Cell(chapter, len(cells), m.get("grade_id", "?"), text.rstrip() + "\n")
        try:
            _analyse(c)
        except SyntaxError as exc:
            c.stubs.add(f"<syntax error line {exc.lineno}>")
        cells.append(c)
    return cells, _setup_imports(nb.get("cells", []))


def carried_source(names: tuple[str, ...] | list[str], here: Path | str = ".") -> str:
    """The code :func:`carry` puts in the cell: each named function's answer cell, the answer
    cells of the same notebook it uses, and the chapter imports they need."""
    names = list(dict.fromkeys(names))
    if not names:
        raise CarryError("carry: name the functions to bring, e.g. carry(\"affine_forward\", \"affine_backward\")")
    notebooks = chapter_notebooks(Path(here))
    if not notebooks:
        raise CarryError(
            f"carry: no chapter notebooks next to this one (looked for ../chNN_*/chNN_*.ipynb from {Path(here).resolve()}). "
            "Run this cell in your own copy of the course (make lab's workspace/, or the assignments you fetched), "
            "where your chapter notebooks sit beside this notebook's folder. A submitted notebook is graded on its own: "
            "it must hold the code this cell puts in it, so run it there and save before you submit.")
    chapters: list[tuple[Path, list[_Cell], dict[str, str]]] = [(p, *_load(p)) for p in notebooks]
    owner: dict[str, tuple[int, _Cell]] = {}
    for k, (_, cells, _) in enumerate(chapters):
        for c in cells:
            for n in c.defines:
                owner.setdefault(n, (k, c))
    missing = [n for n in names if n not in owner]
    if missing:
        unparsed = [f"{c.chapter}.ipynb ({c.grade_id})" for _, cells, _ in chapters for c in cells
                    if any(s.startswith("<syntax") for s in c.stubs)]
        hint = (f"; {', '.join(unparsed)} does not parse as Python, so nothing in it can be found: fix it there first"
                if unparsed else "; check the spelling, and save the chapter notebook that defines it")
        raise CarryError(f"carry: no answer cell defines {', '.join(missing)} in "
                         f"{', '.join(p.name for p, _, _ in chapters)}{hint}")
    # every answer cell the named functions need, within the chapter that defines them
    chosen: list[tuple[int, _Cell]] = []
    todo = [owner[n] for n in names]
    while todo:
        k, c = todo.pop(0)
        if any(c is d for _, d in chosen):
            continue
        chosen.append((k, c))
        local = {n: d for d in chapters[k][1] for n in d.defines}
        for n in sorted(c.uses - c.defines):
            if n in local and all(local[n] is not d for _, d in chosen):
                todo.append((k, local[n]))
    for n in names:
        k, c = owner[n]
        if n in c.stubs:
            raise CarryError(f"carry: {n} in {c.chapter}.ipynb (cell {c.grade_id}) is still the exercise's stub "
                             "(raise NotImplementedError): solve that exercise there, save the notebook, and run this "
                             "cell again")
    broken = [f"{c.chapter}.ipynb ({c.grade_id})" for _, c in chosen if any(s.startswith("<syntax") for s in c.stubs)]
    if broken:
        raise CarryError(f"carry: {', '.join(broken)} does not parse as Python; fix it there first")
    chosen.sort(key=lambda kc: (kc[0], kc[1].order))
    defined = set().union(*(c.defines for _, c in chosen))
    imports = ["import numpy as np"]
    for k, c in chosen:
        for n in sorted(c.uses - defined - set(dir(builtins))):
            line = chapters[k][2].get(n)
            if line and line not in imports:
                imports.append(line)
    call = ", ".join(f'"{n}"' for n in names)
    parts = [f"# Your own code, carried from your chapter notebooks on {date.today().isoformat()} by",
             f"#     carry({call})",
             "# This cell now holds it, so the notebook you save and submit carries it. Changed a chapter since?",
             "# Put that carry(...) line back in this cell and run it again.",
             *imports, ""]
    for _, c in chosen:
        parts += [f"# --- from {c.chapter}.ipynb, cell {c.grade_id} ---", c.source]
    return "\n".join(parts).rstrip() + "\n"


def carry_call(source: str) -> tuple[str, ...] | None:
    """The names of the ``carry("a", "b", …)`` call in a cell's source, or ``None``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "carry"
                and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args)):
            return tuple(a.value for a in node.args)
    return None


def expand(nb: dict, here: Path | str) -> dict:
    """``nb`` with every carry cell replaced by the code its ``carry(...)`` brings from the chapter
    notebooks beside ``here``: what the notebook holds after the student ran that cell in
    JupyterLab and saved it. (The instructor's tests grade solution notebooks this way.)"""
    import copy

    nb = copy.deepcopy(nb)
    for cell in nb.get("cells", []):
        if is_carry_cell(cell):
            names = carry_call(_text(cell))
            if names:
                cell["source"] = carried_source(names, here)
    return nb


def carry(*names: str, here: Path | str = ".") -> str:
    """Bring your own functions from your other chapter notebooks into this cell and run them.

    ``names``: the functions, e.g. ``carry("eval_numerical_gradient", "rel_error")``. ``here``:
    this notebook's folder (the kernel's working directory by default). In a notebook the code
    runs in the notebook's namespace and replaces the cell; elsewhere it is returned."""
    code = carried_source(names, here)
    try:
        from IPython import get_ipython
        ip = get_ipython()
    except ImportError:
        ip = None
    if ip is None:   # plain Python: nothing to run it in, nothing to replace
        return code
    exec(compile(code, "<carried code>", "exec"), ip.user_ns)
    ip.set_next_input(code, replace=True)
    print(f"carried {', '.join(names)}: this cell now holds their code (save the notebook).")
    return None
