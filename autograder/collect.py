"""`python -m autograder collect PATH --root DIR`: import submissions into DIR/submitted.

Accepted layouts (a folder or a .zip of it):

* ``<student>/<chapter>/<notebook>.ipynb`` – one folder per student and chapter;
* ``<student>.ipynb`` files, one per student, with ``--chapter CHAPTER``.

Each notebook is stored as ``DIR/submitted/<student>/<chapter>/<chapter>.ipynb`` (the name
nbgrader expects); an identical file is left untouched so that grading stays incremental.
Everything that does not fit is reported, one line each, and skipped.
"""
from __future__ import annotations

import sys
import tempfile
import zipfile
from pathlib import Path

from autograder.grade import STUDENT_OK
from autograder.release import REPO, chapters

_IGNORED = {"__MACOSX", ".ipynb_checkpoints", ".DS_Store"}


def _valid_student(name: str) -> bool:
    return bool(name) and not name.startswith(".") and all(c in STUDENT_OK for c in name)


def _safe_extract(zpath: Path, dest: Path) -> None:
    with zipfile.ZipFile(zpath) as z:
        for info in z.infolist():
            target = (dest / info.filename).resolve()
            if not str(target).startswith(str(dest.resolve()) + "/") and target != dest.resolve():
                raise ValueError(f"collect: {zpath} holds an unsafe path {info.filename!r}")
        z.extractall(dest)


def _store(nb: Path, root: Path, student: str, chapter: str) -> bool:
    dest = root / "submitted" / student / chapter / f"{chapter}.ipynb"
    data = nb.read_bytes()
    if dest.exists() and dest.read_bytes() == data:
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(dest)
    return True


def collect(path: Path, root: Path, chapter: str | None = None, source: Path | None = None,
            out=None, err=None) -> int:
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    path, root = Path(path), Path(root)
    known = chapters(Path(source) if source else REPO / "solutions")
    if not path.exists():
        print(f"collect: {path} does not exist", file=err)
        return 1
    if chapter is not None and chapter not in known:
        print(f"collect: unknown chapter {chapter!r}; available: {known}", file=err)
        return 1
    problems, imported, changed = [], 0, 0
    with tempfile.TemporaryDirectory(prefix="dlcourse-collect-") as tmp:
        base = path
        if path.is_file():
            if not zipfile.is_zipfile(path):
                print(f"collect: {path} is neither a folder nor a .zip", file=err)
                return 1
            try:
                _safe_extract(path, Path(tmp))
            except ValueError as exc:
                print(exc, file=err)
                return 1
            base = Path(tmp)
        for entry in sorted(base.iterdir()):
            if entry.name in _IGNORED or entry.name.startswith("."):
                continue
            if entry.is_file() and entry.suffix == ".ipynb":
                student = entry.stem
                if chapter is None:
                    problems.append(f"{entry.name}: one notebook per student needs --chapter CHAPTER")
                elif not _valid_student(student):
                    problems.append(f"{entry.name}: {student!r} is not a usable student id (letters, digits, _ - .)")
                else:
                    changed += _store(entry, root, student, chapter)
                    imported += 1
                continue
            if not entry.is_dir():
                problems.append(f"{entry.name}: not a student folder or a <student>.ipynb; ignored")
                continue
            if not _valid_student(entry.name):
                problems.append(f"{entry.name}/: {entry.name!r} is not a usable student id (letters, digits, _ - .)")
                continue
            for sub in sorted(entry.iterdir()):
                if sub.name in _IGNORED or sub.name.startswith("."):
                    continue
                if not sub.is_dir():
                    problems.append(f"{entry.name}/{sub.name}: expected a chapter folder <student>/<chapter>/; ignored")
                    continue
                if sub.name not in known:
                    problems.append(f"{entry.name}/{sub.name}/: no chapter {sub.name!r} (available: {', '.join(known)})")
                    continue
                nbs = sorted(p for p in sub.glob("*.ipynb"))
                exact = sub / f"{sub.name}.ipynb"
                if exact.exists():
                    nbs = [exact]
                if len(nbs) != 1:
                    problems.append(f"{entry.name}/{sub.name}/: expected one notebook {sub.name}.ipynb, found "
                                    f"{[p.name for p in nbs] or 'none'}")
                    continue
                if nbs[0] != exact:
                    problems.append(f"{entry.name}/{sub.name}/{nbs[0].name}: stored as {sub.name}.ipynb")
                changed += _store(nbs[0], root, entry.name, sub.name)
                imported += 1
    for p in problems:
        print(f"collect: {p}", file=err)
    print(f"collect: {imported} notebooks imported into {root / 'submitted'} ({changed} new or changed), "
          f"{len(problems)} notes", file=out)
    return 0 if imported else 1
