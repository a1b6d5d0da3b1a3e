"""`python -m autograder collect PATH --root DIR`: import submissions into DIR/submitted.

Accepted layouts (a folder or a .zip of it):

* ``<student>/<chapter>/<notebook>.ipynb`` – one folder per student and chapter;
* ``<student>.ipynb`` files, one per student, with ``--chapter CHAPTER``.

Each notebook is stored as ``DIR/submitted/<student>/<chapter>/<chapter>.ipynb`` (the name
nbgrader expects) with its submission time beside it in ``timestamp.txt`` (nbgrader's
convention, which its late-penalty step reads): a ``timestamp.txt`` in the submitted
``<student>/<chapter>/`` folder when there is one (what nbgrader's exchange writes), else the
zip entry's time, else the file's modification time. An identical notebook is left untouched,
its first timestamp kept, so that grading stays incremental.
Everything that does not fit is reported, one line each, and skipped: symbolic links (in a
folder or a zip), notebooks over the size limit (a zip entry is judged by its declared size
before anything is extracted, and extraction stops at the limit whatever the header says),
unsafe zip paths, and a ``DIR/submitted`` that is itself a link.
"""
from __future__ import annotations

import os
import stat
import sys
import tempfile
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from autograder.grade import STUDENT_OK
from autograder.release import REPO, chapters, write_if_changed

_IGNORED = {"__MACOSX", ".ipynb_checkpoints", ".DS_Store"}


def _valid_student(name: str) -> bool:
    return bool(name) and not name.startswith(".") and all(c in STUDENT_OK for c in name)


MAX_ENTRIES = 20000


def _safe_extract(zpath: Path, dest: Path, max_bytes: int) -> list[str]:
    """Extract the zip's regular files; return one note per entry skipped (links, oversize)."""
    notes = []
    with zipfile.ZipFile(zpath) as z:
        infos = z.infolist()
        if len(infos) > MAX_ENTRIES:
            raise ValueError(f"collect: {zpath} holds {len(infos)} entries, more than {MAX_ENTRIES}")
        for info in infos:
            target = (dest / info.filename).resolve()
            if not str(target).startswith(str(dest.resolve()) + "/") and target != dest.resolve():
                raise ValueError(f"collect: {zpath} holds an unsafe path {info.filename!r}")
        for info in infos:
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                notes.append(f"{info.filename}: a symbolic link in the zip; refused")
                continue
            if info.is_dir():
                (dest / info.filename).mkdir(parents=True, exist_ok=True)
                continue
            if info.file_size > max_bytes:
                notes.append(f"{info.filename}: {info.file_size / 2**20:.1f} MiB, over the limit of "
                             f"{max_bytes / 2**20:.0f} MiB; refused")
                continue
            out = dest / info.filename
            out.parent.mkdir(parents=True, exist_ok=True)
            try:
                with z.open(info) as src, open(out, "wb") as f:
                    left = max_bytes
                    while chunk := src.read(min(1 << 20, left + 1)):
                        left -= len(chunk)
                        if left < 0:
                            raise ValueError("larger than its header says")
                        f.write(chunk)
            except (ValueError, zipfile.BadZipFile, OSError) as exc:
                out.unlink(missing_ok=True)
                notes.append(f"{info.filename}: could not be extracted ({exc}); refused")
                continue
            try:  # the entry's time (local time, the zip convention) becomes the file's mtime
                t = time.mktime((*info.date_time, 0, 0, -1))
                os.utime(out, (t, t))
            except (OverflowError, ValueError, OSError):
                pass
    return notes


TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"


def submission_time(nb: Path) -> str:
    """The submission time, as nbgrader writes it into timestamp.txt (UTC)."""
    given = nb.parent / "timestamp.txt"
    if given.is_file() and not given.is_symlink():
        from nbgrader.utils import parse_utc

        try:
            return parse_utc(given.read_text(encoding="utf-8", errors="replace").strip()[:64]).strftime(TIMESTAMP_FORMAT)
        except Exception:  # noqa: BLE001 - an unreadable timestamp falls back to the file's time
            pass
    return datetime.fromtimestamp(nb.stat().st_mtime, tz=timezone.utc).strftime(TIMESTAMP_FORMAT)


def _refuse(path: Path, max_bytes: int) -> str:
    """'' when ``path`` may be stored, else why not (links and oversize files are refused)."""
    if path.is_symlink():
        return "a symbolic link; refused (submit the notebook itself)"
    size = path.stat().st_size
    if size > max_bytes:
        return f"{size / 2**20:.1f} MiB, over the limit of {max_bytes / 2**20:.0f} MiB; refused"
    return ""


def _store(nb: Path, root: Path, student: str, chapter: str) -> bool:
    dest = root / "submitted" / student / chapter / f"{chapter}.ipynb"
    for p in (root / "submitted", root / "submitted" / student, dest.parent, dest):
        if p.is_symlink():
            raise ValueError(f"{p} is a symbolic link; refusing to write through it")
    data = nb.read_bytes()
    stamp = dest.with_name("timestamp.txt")
    if stamp.is_symlink():
        raise ValueError(f"{stamp} is a symbolic link; refusing to write through it")
    changed = write_if_changed(dest, data)
    if changed or not stamp.exists():
        stamp.write_text(submission_time(nb) + "\n")
    return changed


def collect(path: Path, root: Path, chapter: str | None = None, source: Path | None = None,
            out=None, err=None, max_bytes: int = 16 * 2**20) -> int:
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
    if (root / "submitted").is_symlink():
        print(f"collect: {root / 'submitted'} is a symbolic link; refusing to write through it", file=err)
        return 1
    problems, imported, changed = [], 0, 0

    def store(nb: Path, student: str, ch: str, label: str) -> None:
        nonlocal imported, changed
        why = _refuse(nb, max_bytes)
        if why:
            problems.append(f"{label}: {why}")
            return
        try:
            changed += _store(nb, root, student, ch)
        except ValueError as exc:
            problems.append(f"{label}: {exc}")
            return
        imported += 1

    with tempfile.TemporaryDirectory(prefix="dlcourse-collect-") as tmp:
        base = path
        if path.is_symlink():
            print(f"collect: {path} is a symbolic link; give the folder or zip itself", file=err)
            return 1
        if path.is_file():
            if not zipfile.is_zipfile(path):
                print(f"collect: {path} is neither a folder nor a .zip", file=err)
                return 1
            try:
                problems += _safe_extract(path, Path(tmp), max_bytes)
            except (ValueError, zipfile.BadZipFile) as exc:
                print(exc, file=err)
                return 1
            base = Path(tmp)
        for entry in sorted(base.iterdir()):
            if entry.name in _IGNORED or entry.name.startswith("."):
                continue
            if entry.is_symlink():
                problems.append(f"{entry.name}: a symbolic link; refused")
                continue
            if entry.is_file() and entry.suffix == ".ipynb":
                student = entry.stem
                if chapter is None:
                    problems.append(f"{entry.name}: one notebook per student needs --chapter CHAPTER")
                elif not _valid_student(student):
                    problems.append(f"{entry.name}: {student!r} is not a usable student id (letters, digits, _ - .)")
                else:
                    store(entry, student, chapter, entry.name)
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
                if sub.is_symlink():
                    problems.append(f"{entry.name}/{sub.name}: a symbolic link; refused")
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
                if nbs[0] != exact and not nbs[0].is_symlink():
                    problems.append(f"{entry.name}/{sub.name}/{nbs[0].name}: stored as {sub.name}.ipynb")
                store(nbs[0], entry.name, sub.name, f"{entry.name}/{sub.name}/{nbs[0].name}")
    for p in problems:
        print(f"collect: {p}", file=err)
    print(f"collect: {imported} notebooks imported into {root / 'submitted'} ({changed} new or changed), "
          f"{len(problems)} notes", file=out)
    return 0 if imported else 1
