"""`python -m autograder release`: generate course/ (student notebooks) from solutions/.

nbgrader's generate_assignment does the work (clears solutions and hidden tests, records
checksums of locked cells); this wrapper runs it for every chapter, against a throwaway
gradebook, and then refuses the result if a released notebook still carries solution code or
a hidden test.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FORBIDDEN_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS",
                     "### END HIDDEN TESTS", "BEGIN SOLUTION", "BEGIN HIDDEN TESTS")


class ReleaseError(RuntimeError):
    pass


def chapters(root: Path = REPO) -> list[str]:
    """Chapter ids (``chNN_topic``) that have a solution notebook."""
    src = root / "solutions"
    return sorted(p.name for p in src.glob("ch*") if (p / f"{p.name}.ipynb").exists())


def load_config(root: Path = REPO, db_dir: str | None = None):
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(root / "autograder")).load_config()
    cfg.CourseDirectory.root = str(root)
    if db_dir is not None:
        cfg.CourseDirectory.db_url = "sqlite:///" + os.path.join(db_dir, "release.db")
        cfg.Exchange.root = os.path.join(db_dir, "exchange")
        os.makedirs(cfg.Exchange.root, exist_ok=True)
    return cfg


def check_clean(path: Path) -> None:
    """Raise if a student notebook contains solution code, hidden tests or outputs."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb.get("cells", [])):
        src = "".join(cell.get("source", ""))
        for marker in FORBIDDEN_MARKERS:
            if marker in src:
                raise ReleaseError(f"release: {path} cell {i} still contains {marker!r}; refusing to release it")
        if cell.get("cell_type") == "code" and (cell.get("outputs") or cell.get("execution_count")):
            raise ReleaseError(f"release: {path} cell {i} has outputs; student notebooks are released without them")


def _normalise(path: Path) -> None:
    """Strip execution counts/outputs and write with a stable layout (so re-releasing is byte-identical)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def release(selected: list[str] | None = None, root: Path = REPO, quiet: bool = False) -> list[Path]:
    """Generate course/<ch>/<ch>.ipynb for the selected chapters (all by default)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    available = chapters(root)
    selected = list(selected or available)
    unknown = [c for c in selected if c not in available]
    if unknown:
        raise ReleaseError(f"release: unknown chapter(s) {unknown}; available: {available}")
    written = []
    with tempfile.TemporaryDirectory(prefix="dlcourse-release-") as tmp:
        cfg = load_config(root, db_dir=tmp)
        cfg.CourseDirectory.release_directory = os.path.join(tmp, "out")
        api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
        if quiet:
            api.log.setLevel("ERROR")
        for ch in selected:
            result = api.generate_assignment(ch, force=True, create=True)
            if not result.get("success"):
                raise ReleaseError(f"release: nbgrader could not generate {ch}:\n{result.get('error') or result.get('log')}")
            out_dir = Path(tmp) / "out" / ch
            for nb_path in sorted(out_dir.glob("*.ipynb")):
                _normalise(nb_path)
                check_clean(nb_path)
            dest = root / "course" / ch
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(out_dir, dest)
            written.extend(sorted(dest.glob("*.ipynb")))
    return written
