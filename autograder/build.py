"""`python -m autograder build`: chapters/*.py (text) -> solutions/*.ipynb -> course/*.ipynb.

A chapter's source of record is ``chapters/chNN_topic.py``, a Jupytext ``py:percent`` file:
``# %% [markdown]`` starts a prose cell (each line commented with ``# ``), ``# %%`` a code
cell, and an nbgrader cell carries its metadata on that header line::

    # %% nbgrader={"grade": true, "grade_id": "ch04-adam_step-test", "locked": true, "points": 2, ...}

The sources live outside ``solutions/`` on purpose: nbgrader's ``generate_assignment`` copies
every file of ``solutions/<chapter>/`` into the student release, so a text copy of the solution
there would be handed out. ``build`` writes each ``solutions/<ch>/<ch>.ipynb`` (no outputs, no
execution counts, cell ids derived from the nbgrader ``grade_id`` or, for plain cells, the
position: ``chNN-cell-07``), then regenerates ``course/`` with :func:`autograder.release.release`.
The bytes depend only on the text, so building twice writes nothing the second time, and
``tests/test_build.py`` proves that what is committed equals a fresh build.
"""
from __future__ import annotations

import copy
import re
import tempfile
from pathlib import Path

from autograder.release import REPO, ReleaseError, write_if_changed

SOURCES = REPO / "chapters"
FORMAT = "py:percent"
# What the text header keeps of the notebook metadata; Jupytext's own bookkeeping (its version,
# the format name) stays out so that the text does not change with the tool's version.
HEADER_FILTER = "kernelspec,language_info,-jupytext"
# Cell metadata Jupytext adds to keep blank lines; the notebook never carried them.
_JUPYTEXT_CELL_KEYS = ("lines_to_next_cell", "lines_to_end_of_cell_marker", "cell_marker")
_CHAPTER_RE = re.compile(r"^(ch\d\d)_[a-z0-9_]+$")


class BuildError(ReleaseError):
    pass


def sources(src: Path = SOURCES) -> dict[str, Path]:
    """``{chapter id: text source}`` for every ``chNN_topic.py`` in ``src``."""
    return {p.stem: p for p in sorted(Path(src).glob("ch*.py")) if _CHAPTER_RE.match(p.stem)}


def cell_id(chapter: str, index: int, cell) -> str:
    """The grade_id of an nbgrader cell, else ``chNN-cell-<position>`` (stable, readable)."""
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    if grade_id:
        return grade_id
    m = _CHAPTER_RE.match(chapter)
    return f"{m.group(1) if m else chapter}-cell-{index:02d}"


def to_notebook(text: str, chapter: str, origin: str = "<text>"):
    """Parse a py:percent chapter into an nbformat notebook with stable ids and no outputs."""
    import jupytext
    import nbformat

    nb = jupytext.reads(text, fmt=FORMAT)
    nb.metadata.pop("jupytext", None)
    seen: dict[str, int] = {}
    for i, cell in enumerate(nb.cells):
        for key in _JUPYTEXT_CELL_KEYS:
            cell.metadata.pop(key, None)
        if "incorrectly_encoded_metadata" in cell.metadata:
            raise BuildError(f"build: {origin} cell {i}: the metadata on its `# %%` line is not valid JSON: "
                             f"{cell.metadata['incorrectly_encoded_metadata']!r}")
        cell.id = cell_id(chapter, i, cell)
        if cell.id in seen:
            raise BuildError(f"build: {origin}: cells {seen[cell.id]} and {i} share the id {cell.id!r}; "
                             "every grade_id must be unique")
        seen[cell.id] = i
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.validate(nb)
    return nb


def notebook_bytes(nb) -> bytes:
    """The repository's notebook layout (nbformat's, plus a final newline)."""
    import nbformat

    return (nbformat.writes(nb) + "\n").encode("utf-8")


def to_text(nb) -> str:
    """A notebook as py:percent text (ids and outputs dropped: the build derives the one, never keeps the other)."""
    import jupytext

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        cell.pop("id", None)
        if "nbgrader" in cell.metadata:  # one key order on every header line
            cell.metadata["nbgrader"] = dict(sorted(cell.metadata["nbgrader"].items()))
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata["jupytext"] = {"notebook_metadata_filter": HEADER_FILTER}
    return jupytext.writes(nb, fmt=FORMAT)


def build_solutions(src: Path = SOURCES, out: Path = REPO / "solutions",
                    selected: list[str] | None = None) -> list[Path]:
    """Write ``out/<ch>/<ch>.ipynb`` from each text source; return the notebooks written."""
    found = sources(src)
    selected = list(selected or found)
    unknown = [c for c in selected if c not in found]
    if unknown:
        raise BuildError(f"build: no text source for {unknown} in {src}; available: {sorted(found)}")
    out = Path(out)
    orphans = sorted(p.name for p in out.glob("ch*") if p.is_dir() and p.name not in found) if out.is_dir() else []
    if orphans:
        raise BuildError(f"build: {out} has chapter folders with no text source in {src}: {orphans}; "
                         "add the source or delete the folder")
    written = []
    for ch in selected:
        nb = to_notebook(found[ch].read_text(encoding="utf-8"), ch, origin=str(found[ch]))
        folder = out / ch
        extra = sorted(p.name for p in folder.iterdir() if p.name != f"{ch}.ipynb") if folder.is_dir() else []
        if extra:
            # generate_assignment would copy them into course/ (a solution source there would leak).
            raise BuildError(f"build: {folder} holds {extra} besides the notebook; nbgrader releases every file "
                             "of that folder to students. Keep sources in chapters/ and data in dlcore/data/")
        path = folder / f"{ch}.ipynb"
        if write_if_changed(path, notebook_bytes(nb)):
            written.append(path)
    return written


def build(selected: list[str] | None = None, src: Path = SOURCES, solutions: Path | None = None,
          course: Path | None = None, quiet: bool = True) -> list[Path]:
    """Text -> solutions/ -> course/ (via the release); return every notebook whose bytes changed."""
    from autograder.release import release

    solutions = Path(solutions) if solutions is not None else REPO / "solutions"
    course = Path(course) if course is not None else REPO / "course"
    written = build_solutions(src, solutions, selected)
    chapters = list(selected or sources(src))
    before = {p: p.read_bytes() for ch in chapters for p in (course / ch).glob("*.ipynb")}
    released = release(chapters, quiet=quiet, source=solutions, out=course)
    written += [p for p in released if before.get(p) != p.read_bytes()]
    return written


def stale(src: Path = SOURCES, root: Path = REPO) -> list[str]:
    """Committed notebooks that differ from a fresh build (relative paths); empty when in sync."""
    with tempfile.TemporaryDirectory(prefix="dlcourse-build-") as tmp:
        fresh = Path(tmp)
        build(src=src, solutions=fresh / "solutions", course=fresh / "course")
        diffs = []
        for top in ("solutions", "course"):
            want = {p.relative_to(fresh / top) for p in (fresh / top).rglob("*") if p.is_file()}
            have = {p.relative_to(root / top) for p in (root / top).rglob("*")
                    if p.is_file() and ".ipynb_checkpoints" not in p.parts}
            for rel in sorted(want | have):
                a, b = fresh / top / rel, root / top / rel
                if not (a.is_file() and b.is_file() and a.read_bytes() == b.read_bytes()):
                    diffs.append(f"{top}/{rel.as_posix()}")
        return diffs


def import_notebook(path: Path, src: Path = SOURCES) -> Path:
    """Write ``chapters/<ch>.py`` from an edited ``solutions/<ch>/<ch>.ipynb`` (then run build)."""
    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    target = Path(src) / f"{path.stem}.py"
    target.write_text(to_text(nb), encoding="utf-8")
    return target

