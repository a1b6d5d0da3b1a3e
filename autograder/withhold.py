"""A ``dlcore`` without its reference implementations, for the process that runs a student's code.

Trusted scoring (:mod:`autograder.trusted`) runs the student's functions with this package in
place of the real one. Every module of ``dlcore`` exists (so a chapter's setup imports work),
but its functions and classes are gone: a name resolves to a placeholder that raises
:class:`ReferenceWithheld` when called, and the call is remembered (the runner reports it, the
grader flags it). Only what the chapter's own model solutions use from ``dlcore`` (for instance
``dlcore.activations.sigmoid``, which chapter 1 tells the student to use) is copied in, with the
module-level helpers it needs, found by following names through the source. So calling the
reference by any route — an import, an alias, ``getattr``, ``sys.modules``, ``importlib``, a
subprocess — meets a placeholder, and the reference's source is not there to read.
"""
from __future__ import annotations

import ast
import os
import shutil
from pathlib import Path

DLCORE = Path(__file__).resolve().parents[1] / "dlcore"

WITHHELD_SOURCE = '''"""Placeholders for the reference implementations withheld while a student's functions are graded."""
CALLS = []


class ReferenceWithheld(RuntimeError):
    """A reference implementation was called while the student's own functions are being graded."""


def withheld(qualname):
    def placeholder(*args, **kwargs):
        CALLS.append(qualname)
        raise ReferenceWithheld(
            f"{qualname} is not available while your functions are graded: the autograder runs them in a "
            "clean process without the course's reference implementations, so each exercise must be "
            "computed by your own code")
    placeholder.__name__ = qualname.rsplit(".", 1)[-1]
    placeholder.__qualname__ = qualname
    return placeholder
'''


def module_name(path: Path, root: Path = DLCORE) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(root: Path = DLCORE) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted(root.rglob("*.py")) if "__pycache__" not in p.parts}


def _top_level(tree: ast.Module) -> dict[str, ast.stmt]:
    """name -> the top-level statement that binds it (defs, classes, assignments, imports)."""
    out: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        out[n.id] = node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                out[(a.asname or a.name).split(".")[0]] = node
    return out


def _names_used(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _resolve_from(node: ast.ImportFrom, modname: str, is_pkg: bool) -> str:
    if not node.level:
        return node.module or ""
    base = modname.split(".") if is_pkg else modname.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def closure(allowed: set[str], modules: dict[str, Path] | None = None) -> dict[str, set[str]]:
    """module -> the top-level names to copy: the allowed ones and everything they use, across modules."""
    modules = modules if modules is not None else _modules()
    trees = {m: ast.parse(p.read_text(encoding="utf-8")) for m, p in modules.items()}
    keep: dict[str, set[str]] = {}
    todo = [q for q in sorted(allowed)]
    while todo:
        qual = todo.pop()
        mod, _, name = qual.rpartition(".")
        if mod not in trees or name in keep.get(mod, set()):
            continue
        binding = _top_level(trees[mod]).get(name)
        if binding is None:
            continue
        keep.setdefault(mod, set()).add(name)
        if isinstance(binding, ast.ImportFrom):
            src = _resolve_from(binding, mod, modules[mod].name == "__init__.py")
            for a in binding.names:
                if (a.asname or a.name) == name and src.startswith("dlcore"):
                    todo.append(f"{src}.{a.name}")
            continue
        if isinstance(binding, ast.Import):
            continue
        for used in _names_used(binding):
            if used != name:
                todo.append(f"{mod}.{used}")
    return keep


def stub_source(modname: str, source: str, keep: set[str], submodules: list[str]) -> str:
    """The module's text with only ``keep`` (and the imports) left, and placeholders for the rest."""
    tree = ast.parse(source)
    body = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            body.append(node)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a for a in node.names if (a.asname or a.name).split(".")[0] in keep]
            if names:
                clone = type(node)(**{**{f: getattr(node, f) for f in node._fields}, "names": names})
                body.append(clone)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in keep:
            body.append(node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and any(
                n.id in keep for n in ast.walk(node.targets[0] if isinstance(node, ast.Assign) else node.target)
                if isinstance(n, ast.Name)):
            body.append(node)
    kept = ast.unparse(ast.Module(body=body, type_ignores=[])) if body else ""
    future = [s for s in kept.splitlines() if s.startswith("from __future__")]
    rest = [s for s in kept.splitlines() if not s.startswith("from __future__")]
    lines = [*future, f'"""{modname}, with its reference implementations withheld while a student\'s code is graded."""',
             "import importlib as _importlib", "from dlcore._withheld import withheld as _placeholder", *rest, "",
             f"_SUBMODULES = {sorted(submodules)!r}", "",
             "def __getattr__(name):",
             "    if name.startswith('__'):",
             "        raise AttributeError(name)",
             "    if name in _SUBMODULES:",
             f"        return _importlib.import_module({modname!r} + '.' + name)",
             f"    return _placeholder({modname!r} + '.' + name)", ""]
    return "\n".join(lines)


#: Not references, always there: a submitted capstone whose carry cell still holds its
#: ``carry(...)`` call then fails with carry's own explanation, not as a withheld reference.
NOT_REFERENCES = frozenset({"dlcore.carry.carry", "dlcore.carry.CarryError", "dlcore.workspace.carry",
                            "dlcore.workspace.CarryError"})


def build(dest: Path, allowed: set[str], extra_files: tuple[Path, ...] = ()) -> Path:
    """Write ``dest/dlcore`` (withheld) and ``extra_files`` into ``dest``; return ``dest``."""
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    modules = _modules()
    keep = closure(set(allowed) | NOT_REFERENCES, modules)
    for mod, path in modules.items():
        rel = path.relative_to(DLCORE.parent)
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        prefix = mod + "."
        subs = sorted({m[len(prefix):].split(".")[0] for m in modules if m.startswith(prefix)}) \
            if path.name == "__init__.py" else []
        if mod == "dlcore":
            subs.append("_withheld")
        out.write_text(stub_source(mod, path.read_text(encoding="utf-8"), keep.get(mod, set()), subs),
                       encoding="utf-8")
    (dest / "dlcore" / "_withheld.py").write_text(WITHHELD_SOURCE, encoding="utf-8")
    for f in extra_files:
        shutil.copyfile(f, dest / Path(f).name)
    for d, _dirs, files in os.walk(dest):
        os.chmod(d, 0o755)
        for f in files:
            os.chmod(os.path.join(d, f), 0o644)
    return dest
