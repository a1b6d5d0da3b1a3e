"""`python -m autograder release`: generate course/ (student notebooks) from solutions/.

nbgrader's generate_assignment does the work (clears solutions and hidden tests, records
checksums of locked cells); this wrapper runs it for every chapter against a throwaway
gradebook, normalises the JSON so that re-releasing is byte-identical (files whose content
did not change are not rewritten), and refuses the result if a released notebook still
carries solution code, a hidden test's line, outputs, or lost its nbgrader metadata.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FORBIDDEN_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
# Near-misses too ("## BEGIN HIDDEN TEST"): nbgrader ignores a mistyped marker and would
# release what it was meant to hide.
MARKER_RE = re.compile(r"\b(BEGIN|END)\s+(HIDDEN\s+TESTS?|SOLUTION)\b", re.IGNORECASE)


class ReleaseError(RuntimeError):
    pass


def ensure_venv_on_path() -> None:
    """nbgrader runs ``alembic`` from PATH; make the interpreter's own bin/ win even when not activated."""
    import sys

    bindir = os.path.dirname(sys.executable)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if not parts or parts[0] != bindir:
        os.environ["PATH"] = os.pathsep.join([bindir] + [p for p in parts if p != bindir])


def chapters(source: Path | None = None) -> list[str]:
    """Chapter ids (``chNN_topic``) that have a solution notebook in ``source`` (default solutions/)."""
    src = Path(source) if source is not None else REPO / "solutions"
    return sorted(p.name for p in src.glob("ch*") if (p / f"{p.name}.ipynb").exists())


def load_config(root: Path = REPO, db_dir: str | None = None):
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
    cfg.CourseDirectory.root = str(root)
    if db_dir is not None:
        cfg.CourseDirectory.db_url = "sqlite:///" + os.path.join(db_dir, "release.db")
        cfg.Exchange.root = os.path.join(db_dir, "exchange")
        os.makedirs(cfg.Exchange.root, exist_ok=True)
    return cfg


def hidden_lines(source_nb: dict) -> set[str]:
    """Lines that only the hidden tests of a solution notebook contain (stripped, non-trivial)."""
    hidden, visible = set(), set()
    for cell in source_nb.get("cells", []):
        inside = False
        for line in "".join(cell.get("source", "")).splitlines():
            s = line.strip()
            m = MARKER_RE.search(s)
            if m and "HIDDEN" in m.group(2).upper():
                inside = m.group(1).upper() == "BEGIN"
            elif len(s) >= 12:
                (hidden if inside else visible).add(s)
    return hidden - visible


def check_clean(path: Path, source_nb: dict | None = None) -> None:
    """Raise if a student notebook contains solution code, hidden tests, outputs, or no nbgrader cells."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    secret = hidden_lines(source_nb) if source_nb else set()
    graded = 0
    for i, cell in enumerate(nb.get("cells", [])):
        src = "".join(cell.get("source", ""))
        m = MARKER_RE.search(src)
        if m:
            raise ReleaseError(f"release: {path} cell {i} still contains {m.group(0)!r} (solution or hidden-test "
                               "marker); refusing to release it")
        for line in src.splitlines():
            if line.strip() in secret:
                raise ReleaseError(f"release: {path} cell {i} contains a hidden-test line {line.strip()!r}")
        if cell.get("cell_type") == "code" and (cell.get("outputs") or cell.get("execution_count")):
            raise ReleaseError(f"release: {path} cell {i} has outputs; student notebooks are released without them")
        graded += bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade"))
    if source_nb is not None and graded == 0:
        raise ReleaseError(f"release: {path} has no graded cell; check the nbgrader metadata of the solution")


def _normalise(path: Path) -> str:
    """Strip execution counts/outputs; a stable JSON layout so re-releasing is byte-identical."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    text = json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    path.write_text(text, encoding="utf-8")
    return text


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically unless the file already holds exactly these bytes."""
    path = Path(path)
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def _sync(src_dir: Path, dest: Path) -> None:
    """Make dest a copy of src_dir, touching only files whose bytes changed."""
    dest.mkdir(parents=True, exist_ok=True)
    wanted = {p.relative_to(src_dir) for p in src_dir.rglob("*") if p.is_file()}
    for p in sorted(dest.rglob("*"), reverse=True):
        rel = p.relative_to(dest)
        if p.is_file() and rel not in wanted:
            p.unlink()
        elif p.is_dir() and not any(p.iterdir()):
            p.rmdir()
    for rel in sorted(wanted):
        write_if_changed(dest / rel, (src_dir / rel).read_bytes())


def release(selected: list[str] | None = None, root: Path = REPO, quiet: bool = False,
            source: Path | None = None, out: Path | None = None) -> list[Path]:
    """Generate ``out/<ch>/<ch>.ipynb`` (default course/) from ``source`` (default solutions/)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    ensure_venv_on_path()
    source = Path(source) if source is not None else Path(root) / "solutions"
    out = Path(out) if out is not None else Path(root) / "course"
    available = chapters(source)
    selected = list(selected or available)
    unknown = [c for c in selected if c not in available]
    if unknown:
        raise ReleaseError(f"release: unknown chapter(s) {unknown}; available: {available}")
    written = []
    with tempfile.TemporaryDirectory(prefix="dlcourse-release-") as tmp:
        cfg = load_config(root, db_dir=tmp)
        cfg.CourseDirectory.source_directory = str(source.resolve())
        cfg.CourseDirectory.release_directory = os.path.join(tmp, "out")
        api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
        if quiet:
            api.log.setLevel("ERROR")
        staged = []
        for ch in selected:
            result = api.generate_assignment(ch, force=True, create=True)
            if not result.get("success"):
                raise ReleaseError(f"release: nbgrader could not generate {ch}:\n{result.get('error') or result.get('log')}")
            out_dir = Path(tmp) / "out" / ch
            for nb_path in sorted(out_dir.glob("*.ipynb")):
                _normalise(nb_path)
                src_nb = json.loads((source / ch / nb_path.name).read_text(encoding="utf-8"))
                check_clean(nb_path, src_nb)
            staged.append((ch, out_dir))
        # Only after every chapter passed: a failing release leaves course/ as it was.
        for ch, out_dir in staged:
            _sync(out_dir, out / ch)
            written.extend(sorted((out / ch).glob("*.ipynb")))
    return written
