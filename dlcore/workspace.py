"""A student's own copy of the course: ``python -m dlcore.workspace [--course course] [--workspace workspace]``.

``course/`` is the release: ``release``, ``git pull`` and the bundle rewrite it. A student
works in ``workspace/`` (git-ignored), which this module keeps up to date without ever
losing work:

* a file the release has and the workspace lacks is copied in (a new chapter appears);
* a file the student has not touched since it was copied (its bytes still match the copy,
  recorded in ``workspace/.dlcourse-manifest.json``) follows the release when it changes;
* a file the student has touched is never overwritten; when the release changed it too, the
  new version is put beside it as ``<name>.release.ipynb`` and a line says so.

It also writes ``workspace/.jupyter/``, the Jupyter configuration ``make lab`` points at
(``JUPYTER_CONFIG_PATH``): nbgrader's instructor tools (formgrader, create assignment, the
exchange's assignment and course lists) are switched off for students, since on a laptop
there is no exchange and no course to grade. Standard library only.

``carry(*names)`` (from :mod:`dlcore.carry`) copies a student's own functions from the other
chapter notebooks of the workspace into the notebook they are working in.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

from dlcore.carry import CarryError, carry, carried_source  # noqa: F401 - a notebook's `from dlcore.workspace import carry`

MANIFEST = ".dlcourse-manifest.json"
_SKIP = {".ipynb_checkpoints", "__pycache__"}
# nbgrader's Lab plugins and server extensions: none of them is for students on their own machine.
LAB_DISABLED = ["@jupyter/nbgrader"]
SERVER_DISABLED = ["nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.assignment_list",
                   "nbgrader.server_extensions.course_list", "nbgrader.server_extensions.validate_assignment"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _release_files(course: Path) -> list[Path]:
    return sorted(p.relative_to(course) for p in course.rglob("*")
                  if p.is_file() and not (set(p.relative_to(course).parts) & _SKIP))


def write_student_config(workspace: Path) -> Path:
    """``workspace/.jupyter``: nbgrader's Lab plugins and server extensions off."""
    conf = Path(workspace) / ".jupyter"
    (conf / "labconfig").mkdir(parents=True, exist_ok=True)
    (conf / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {name: True for name in LAB_DISABLED}}, indent=1) + "\n")
    (conf / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {name: False for name in SERVER_DISABLED}}}, indent=1) + "\n")
    return conf


def sync(course: Path, workspace: Path) -> dict[str, list[str]]:
    """Bring ``workspace`` up to date with ``course``; return what happened, by kind."""
    course, workspace = Path(course), Path(workspace)
    if not course.is_dir():
        raise FileNotFoundError(f"workspace: no release folder {course}")
    workspace.mkdir(parents=True, exist_ok=True)
    mpath = workspace / MANIFEST
    try:
        manifest = json.loads(mpath.read_text())
    except (OSError, ValueError):
        manifest = {}
    done: dict[str, list[str]] = {"copied": [], "updated": [], "kept": [], "beside": []}
    for rel in _release_files(course):
        src, dest, key = course / rel, workspace / rel, rel.as_posix()
        new = _sha(src)
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
            manifest[key] = new
            done["copied"].append(key)
            continue
        have = _sha(dest)
        if have == new:
            manifest[key] = new
            continue
        if manifest.get(key) == have:  # untouched since we copied it: follow the release
            tmp = dest.with_name(dest.name + ".tmp")
            shutil.copy2(src, tmp)
            os.replace(tmp, dest)
            manifest[key] = new
            done["updated"].append(key)
            continue
        done["kept"].append(key)  # the student's work: never overwritten
        if manifest.get(key) == new:  # edited by the student, the release unchanged
            continue
        beside = dest.with_name(f"{dest.stem}.release{dest.suffix}")
        if not beside.exists() or _sha(beside) != new:
            shutil.copy2(src, beside)
            done["beside"].append(beside.relative_to(workspace).as_posix())
    tmp = mpath.with_name(MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, mpath)
    write_student_config(workspace)
    return done


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dlcore.workspace", description=__doc__.split("\n")[0])
    ap.add_argument("--course", type=Path, default=Path("course"), help="the release folder (default: course)")
    ap.add_argument("--workspace", type=Path, default=Path("workspace"),
                    help="the student's own folder (default: workspace)")
    a = ap.parse_args(argv)
    try:
        done = sync(a.course, a.workspace)
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 1
    for key in done["copied"]:
        print(f"workspace: new {key}")
    for key in done["updated"]:
        print(f"workspace: updated {key} (you had not changed it)")
    for key in done["beside"]:
        print(f"workspace: the release changed a notebook you edited; its new version is {key} (yours is untouched)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
