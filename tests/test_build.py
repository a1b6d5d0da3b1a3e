"""The chapters' text sources (chapters/*.py) are the source of record: what is committed in
solutions/ and course/ is exactly a fresh build of them, the build is deterministic, and no
solution text reaches a student (course/ or the bundle)."""
from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "fixtures"))
import build_fixture  # noqa: E402

from autograder import build as B  # noqa: E402
from autograder.release import MARKER_RE, chapters  # noqa: E402

SOURCES = B.sources()
F = build_fixture.CHAPTER


def test_committed_notebooks_equal_a_fresh_build(capsys):
    from autograder.cli import main

    code = main(["build", "--check"])
    assert code == 0, f"solutions/ or course/ differ from a fresh build of chapters/:\n{capsys.readouterr().err}"


def test_every_chapter_has_one_text_source():
    assert SOURCES, "no chapter source in chapters/"
    assert set(chapters()) == set(SOURCES), "each solutions/<ch>/ needs chapters/<ch>.py and the other way round"
    for ch in SOURCES:
        folder = REPO / "solutions" / ch
        assert sorted(p.name for p in folder.iterdir()) == [f"{ch}.ipynb"], f"{folder} must hold only the notebook"


@pytest.mark.parametrize("ch", sorted(SOURCES))
def test_text_source_is_in_canonical_form(ch):
    """Text -> notebook -> text is the identity, so `build --from-notebook` after an edit in
    Jupyter rewrites only what the edit changed."""
    text = SOURCES[ch].read_text(encoding="utf-8")
    assert B.to_text(B.to_notebook(text, ch)) == text


@pytest.mark.parametrize("ch", sorted(SOURCES))
def test_cell_ids_are_derived_and_notebooks_have_no_outputs(ch):
    import nbformat

    nb = nbformat.read(REPO / "solutions" / ch / f"{ch}.ipynb", as_version=4)
    for i, cell in enumerate(nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        assert cell.id == (grade_id or f"{ch[:4]}-cell-{i:02d}")
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def _fixture_sources(tmp_path: Path) -> Path:
    src = tmp_path / "chapters"
    src.mkdir()
    shutil.copy(build_fixture.SOURCE, src / f"{F}.py")
    return src


def test_build_of_the_fixture_is_deterministic(tmp_path):
    src = _fixture_sources(tmp_path)
    sol, course = tmp_path / "solutions", tmp_path / "course"
    first = B.build(src=src, solutions=sol, course=course)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in first) == [
        f"course/{F}/{F}.ipynb", f"solutions/{F}/{F}.ipynb"]
    before = {p: p.read_bytes() for p in first}
    assert B.build(src=src, solutions=sol, course=course) == []  # nothing changed, nothing written
    assert {p: p.read_bytes() for p in first} == before
    # an edit to one sentence changes that cell only; every id stays
    text = (src / f"{F}.py").read_text().replace("Why square before averaging?", "Why square first?")
    (src / f"{F}.py").write_text(text)
    import nbformat

    old = nbformat.reads(before[sol / F / f"{F}.ipynb"].decode(), as_version=4)
    B.build(src=src, solutions=sol, course=course)
    new = nbformat.read(sol / F / f"{F}.ipynb", as_version=4)
    assert [c.id for c in new.cells] == [c.id for c in old.cells]
    assert [i for i, (a, b) in enumerate(zip(old.cells, new.cells)) if a.source != b.source] == [9]


def test_build_refuses_a_file_beside_the_notebook(tmp_path):
    """nbgrader releases every file of solutions/<ch>/: a solution source there would leak."""
    src = _fixture_sources(tmp_path)
    sol = tmp_path / "solutions"
    (sol / F).mkdir(parents=True)
    shutil.copy(src / f"{F}.py", sol / F / f"{F}.py")
    with pytest.raises(B.BuildError, match="releases every file"):
        B.build(src=src, solutions=sol, course=tmp_path / "course")
    assert not (tmp_path / "course").exists()


def test_build_names_a_broken_header_line(tmp_path):
    src = _fixture_sources(tmp_path)
    text = (src / f"{F}.py").read_text().replace('"grade_id": "ch00-msq-test"', '"grade_id": ch00-msq-test')
    (src / f"{F}.py").write_text(text)
    with pytest.raises(B.BuildError, match="not valid JSON"):
        B.build_solutions(src, tmp_path / "solutions")


def _secret_lines(ch: str, text: str) -> set[str]:
    """Lines of a chapter only its instructor may read: inside solution or hidden-test markers,
    or in a written answer's model text, and nowhere else in the chapter."""
    secret, visible = set(), set()
    for cell in B.to_notebook(text, ch).cells:
        meta = cell.metadata.get("nbgrader", {})
        inside = cell.cell_type == "markdown" and meta.get("solution", False)
        for line in cell.source.splitlines():
            s = line.strip()
            m = MARKER_RE.search(s)
            if m and cell.cell_type == "code":
                inside = m.group(1).upper() == "BEGIN"
            elif len(s) >= 16:
                (secret if inside else visible).add(s)
    return secret - visible


def _readable(path: Path) -> str:
    """A file's text; for a notebook, its cells' sources and outputs (JSON escapes quotes)."""
    text = path.read_text(encoding="utf-8", errors="ignore")
    if path.suffix == ".ipynb":
        cells = json.loads(text)["cells"]
        text = "\n".join(["".join(c.get("source", "")) for c in cells]
                         + [json.dumps(c.get("outputs", []), ensure_ascii=False) for c in cells])
    return text


def test_no_solution_source_reaches_course_or_the_bundle(tmp_path):
    """Neither a text source nor a line of a solution, hidden test or model answer is handed out.
    (The bundle's dlcore/ is the public reference library; a solution line may equal one there.)"""
    from autograder.bundle import bundle

    out = bundle(tmp_path / "bundle")
    names = [p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()]
    assert not [n for n in names if n.startswith("chapters/") or (n.startswith("course/") and n.endswith(".py"))]
    shipped = {n: _readable(out / n) for n in names if not n.startswith("dlcore/")}
    shipped.update({f"(repository) {p.relative_to(REPO).as_posix()}": _readable(p)
                    for p in (REPO / "course").rglob("*") if p.is_file()})
    for ch, path in SOURCES.items():
        secret = _secret_lines(ch, path.read_text(encoding="utf-8"))
        assert len(secret) >= 10, f"{ch}: only {len(secret)} solution lines found; did the markers change?"
        for name, text in shipped.items():
            if name.endswith(".ipynb") and f"/{ch}/" not in name:
                continue  # another chapter may show a generic line (`with np.errstate(...)`) on purpose
            leaked = sorted(secret & {line.strip() for line in text.splitlines()})
            assert not leaked, f"{name} contains {len(leaked)} line(s) of {path.name}'s solutions: {leaked[:2]}"


def test_from_notebook_writes_back_only_the_edit(tmp_path):
    """An instructor who edited the built notebook in Jupyter (and ran it) gets the text back,
    changed where the notebook was changed and nowhere else; outputs are dropped."""
    import nbformat

    src = _fixture_sources(tmp_path)
    before = (src / f"{F}.py").read_text()
    nb_path = B.build_solutions(src, tmp_path / "solutions")[0]
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells[0].source = nb.cells[0].source.replace("A two-exercise notebook", "A small notebook")
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="norm of [0. 1. 2.] = 2.236\n")]
    nb.cells[2].execution_count = 3
    nbformat.write(nb, nb_path)
    assert B.import_notebook(nb_path, src) == src / f"{F}.py"
    after = (src / f"{F}.py").read_text()
    assert after == before.replace("# A two-exercise notebook", "# A small notebook")


@pytest.mark.xfail(strict=True, reason="chapters/ holds every solution and hidden test as text; the lead owns "
                   "autograder/grade.py and is to add REPO / 'chapters' to hidden_paths (then delete this marker)")
def test_grading_sandbox_hides_the_text_sources(tmp_path):
    from autograder.grade import Settings, hidden_paths

    assert str((REPO / "chapters").resolve()) in hidden_paths(Settings(root=tmp_path))
