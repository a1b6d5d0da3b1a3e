"""`python -m autograder bundle OUT`: the distribution an instructor hands to students.

OUT is a folder, or a ``.zip`` when it ends so. It holds ``course/`` (the released
notebooks), ``dlcore/`` (the library the notebooks import), the packaging files and a student
README with the two set-up commands; never ``solutions/``, ``autograder/``, tests, or any
text carrying a solution or hidden-test marker (checked file by file before writing).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from autograder.release import FORBIDDEN_MARKERS, REPO, chapters, check_clean

MARK = ".dlcourse-bundle"
_SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
STUDENT_README = """# Deep-learning fundamentals: student notebooks

Set up once (Python 3.11 or newer), from this folder:

    python -m venv .venv && .venv/bin/pip install '.[notebook]'
    .venv/bin/python -m dlcore.workspace
    .venv/bin/jupyter lab --notebook-dir=workspace

(On Windows: `.venv\\Scripts\\pip`, `.venv\\Scripts\\python` and `.venv\\Scripts\\jupyter`.)

Work in `workspace/`, your own copy: `course/` is the release and may be replaced by a newer
one. Running `python -m dlcore.workspace` again copies new chapters in and never overwrites
a notebook you have changed (a newer release of it is put beside it as `<name>.release.ipynb`).
Each chapter is one notebook in `workspace/<chapter>/`. Fill in the cells that say
`raise NotImplementedError()`, run the test cell under each exercise, and hand the notebook
back as your instructor asks. Do not edit or delete the locked cells: they are restored from
the original when your work is graded.
"""


class BundleError(RuntimeError):
    pass


def _files(root: Path = REPO) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    course = root / "course"
    released = set(chapters(root / "solutions"))
    present = sorted(p.name for p in course.glob("ch*") if p.is_dir()) if course.is_dir() else []
    if not present:
        raise BundleError("bundle: course/ is empty; run `python -m autograder release` first")
    missing = sorted(released - set(present))
    if missing:
        raise BundleError(f"bundle: course/ lacks {missing}; run `python -m autograder release`")
    for top in ("course", "dlcore"):
        for p in sorted((root / top).rglob("*")):
            if p.is_file() and not (set(p.relative_to(root).parts) & _SKIP_DIRS) and p.suffix != ".pyc":
                files[p.relative_to(root).as_posix()] = p.read_bytes()
    for name in ("pyproject.toml", "LICENSE", "LICENSE.md", "environment.yml"):
        if (root / name).is_file():
            files[name] = (root / name).read_bytes()
    files["README.md"] = STUDENT_README.encode()
    for name, data in files.items():
        if name.endswith(".ipynb"):
            tmp = Path(tempfile.mkdtemp()) / "nb.ipynb"
            tmp.write_bytes(data)
            try:
                check_clean(tmp)
            except Exception as exc:  # noqa: BLE001 - ReleaseError or broken JSON
                raise BundleError(f"bundle: {name}: {exc}") from None
            finally:
                shutil.rmtree(tmp.parent, ignore_errors=True)
        text = data.decode("utf-8", errors="ignore")
        for marker in FORBIDDEN_MARKERS:
            if f"### {marker}" in text:
                raise BundleError(f"bundle: {name} contains {marker!r}; refusing to hand it out")
    return files


def bundle(out: Path, root: Path = REPO) -> Path:
    """Write the bundle to ``out`` (folder, or zip when it ends in .zip); return the path."""
    out = Path(out).resolve()
    files = _files(root)
    if out.suffix == ".zip":
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".zip.tmp")
        os.close(fd)
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for name in sorted(files):
                info = zipfile.ZipInfo(f"{out.stem}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                z.writestr(info, files[name], compress_type=zipfile.ZIP_DEFLATED)
        os.replace(tmp, out)
        return out
    if out.exists() and any(out.iterdir()) and not (out / MARK).exists():
        raise BundleError(f"bundle: {out} exists and is not an earlier bundle; choose an empty folder")
    if out.exists():
        shutil.rmtree(out)
    for name, data in files.items():
        p = out / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    (out / MARK).write_text("written by python -m autograder bundle\n")
    return out
