"""Every chapter in solutions/: the solution runs clean and validates, course/ is exactly what
`python -m autograder release` makes now and leaks nothing, and the untouched student version
fails every autograded test without crashing while its explorers and teaching cells still work.

Each notebook is executed once per session (module-scoped caches) and shared by the tests.
"""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "fixtures"))
import run_notebooks  # noqa: E402

from autograder.preprocessors import is_carry_cell  # noqa: E402
from autograder.release import chapters, check_clean, hidden_lines, release  # noqa: E402

CHAPTERS = chapters()
# Executing every notebook (and releasing every chapter) takes minutes: the slow tier only.
pytestmark = [pytest.mark.slow, pytest.mark.notebooks,
              pytest.mark.skipif(not CHAPTERS, reason="no chapter in solutions/ yet")]
_EXECUTED: dict[tuple[str, str], object] = {}
_POOL: dict = {}
JOBS = max(1, min(2, os.cpu_count() or 1))


def _path(kind: str, ch: str) -> Path:
    return REPO / kind / ch / f"{ch}.ipynb"


def _run(kind: str, ch: str, out: Path) -> Path:
    save = out / kind
    save.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, str(REPO / "tests" / "fixtures" / "run_notebooks.py"), "--save", str(save),
                    str(_path(kind, ch))], check=True, capture_output=True, timeout=600)
    return save / f"{ch}.ipynb"


def executed(kind: str, ch: str):
    """The notebook solutions/<ch> or course/<ch> after one nbclient run.

    The first call starts every execution of this module on JOBS processes at once, so the
    2 CPUs stay busy; later calls wait for their own result.
    """
    import nbformat

    if not _POOL:
        out = Path(tempfile.mkdtemp(prefix="dlcourse-nbtests-"))
        pool = ThreadPoolExecutor(max_workers=JOBS)
        _POOL["pool"] = pool
        for c in _SELECTED or CHAPTERS:
            for k in ("solutions", "course"):
                if _path(k, c).exists():
                    _POOL[(k, c)] = pool.submit(_run, k, c, out)
    if (kind, ch) not in _EXECUTED:
        if (kind, ch) not in _POOL:
            pytest.fail(f"{_path(kind, ch)} is missing; run `python -m autograder release {ch}`")
        try:
            saved = _POOL[(kind, ch)].result()
        except subprocess.CalledProcessError as exc:
            pytest.fail(f"{kind}/{ch} could not be executed:\n{exc.stderr.decode()[-3000:]}")
        _EXECUTED[(kind, ch)] = nbformat.read(str(saved), as_version=4)
    return _EXECUTED[(kind, ch)]


_SELECTED: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def _selected_chapters(request):
    """Execute only the chapters whose tests were selected (``-k``), not every notebook."""
    ids = [item.callspec.params.get("ch") for item in request.session.items
           if item.module is request.module and hasattr(item, "callspec")]
    _SELECTED[:] = sorted({c for c in ids if c})


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "course"
    release(None, quiet=True, out=out)
    return out


def _validate(kind: str, ch: str, invert: bool) -> dict:
    """nbgrader's Validator, replaying our execution instead of running the notebook again."""
    from nbconvert.preprocessors import Preprocessor
    from nbgrader.preprocessors import CheckCellMetadata, ClearOutput
    from nbgrader.validator import Validator

    done = copy.deepcopy(executed(kind, ch))

    class Replay(Preprocessor):
        def preprocess(self, nb, resources):
            return done, resources

    v = Validator(invert=invert)
    v.preprocessors = [CheckCellMetadata, ClearOutput, Replay]
    return v.validate(str(_path(kind, ch)))


@pytest.mark.parametrize("ch", CHAPTERS)
def test_solution_executes_without_error(ch):
    summary = run_notebooks.summarize(executed("solutions", ch))
    assert summary["ran"], f"{ch}: not every cell ran"
    assert summary["errors"] == [], f"{ch}: errors in the solution notebook: {summary['errors']}"


@pytest.mark.parametrize("ch", CHAPTERS)
def test_solution_passes_nbgrader_validate(ch):
    assert _validate("solutions", ch, invert=False) == {}


@pytest.mark.parametrize("ch", CHAPTERS)
def test_course_is_exactly_the_release(ch, released):
    want = {p.relative_to(released / ch): p.read_bytes() for p in (released / ch).rglob("*") if p.is_file()}
    have = {p.relative_to(REPO / "course" / ch): p.read_bytes()
            for p in (REPO / "course" / ch).rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts}
    assert sorted(have) == sorted(want), f"course/{ch} files differ; run `python -m autograder release {ch}`"
    stale = [str(k) for k in want if have[k] != want[k]]
    assert not stale, f"course/{ch} is out of date ({stale}); run `python -m autograder release {ch}`"


@pytest.mark.parametrize("ch", CHAPTERS)
def test_course_holds_no_solution_hidden_test_or_output(ch):
    source = json.loads(_path("solutions", ch).read_text(encoding="utf-8"))
    check_clean(_path("course", ch), source)
    text = _path("course", ch).read_text(encoding="utf-8")
    leaked = [line for line in hidden_lines(source) if line in text]
    assert not leaked, f"course/{ch} contains hidden-test lines: {leaked[:3]}"
    # Lines only the solution regions contain must be gone; each code answer cell is a stub.
    inside, answer, elsewhere = False, set(), set()
    for cell in source["cells"]:
        for line in "".join(cell["source"]).splitlines():
            if "BEGIN SOLUTION" in line or "END SOLUTION" in line:
                inside = "BEGIN" in line
            elif len(line.strip()) >= 20:
                (answer if inside else elsewhere).add(line.strip())
    course = json.loads(text)
    course_lines = {line.strip() for c in course["cells"] for line in "".join(c["source"]).splitlines()}
    assert not (answer - elsewhere) & course_lines, f"course/{ch} contains solution lines"
    stubs = [c for c in course["cells"] if c["cell_type"] == "code"
             and c.get("metadata", {}).get("nbgrader", {}).get("solution") and not is_carry_cell(c)]
    assert stubs and all("raise NotImplementedError" in "".join(c["source"]) for c in stubs), ch


@pytest.mark.parametrize("ch", CHAPTERS)
def test_untouched_student_version_fails_every_test_but_nothing_else(ch):
    nb = executed("course", ch)
    summary = run_notebooks.summarize(nb)
    assert summary["ran"], f"{ch}: the student version stopped before its last cell"
    outside = [e for e in summary["errors"] if e[0] == "other"]
    assert not outside, f"{ch}: errors outside exercise/test cells (explorers must work unsolved): {outside}"
    tests = [run_notebooks.cell_kind(c)[1] for c in nb.cells if run_notebooks.cell_kind(c)[0] == "test"
             and c.cell_type == "code"]
    failing = {e[1] for e in summary["errors"] if e[0] == "test"}
    assert tests, f"{ch}: no autograded test cell"
    assert sorted(failing) == sorted(tests), f"{ch}: test cells that pass on the untouched version: {set(tests) - failing}"
    assert _validate("course", ch, invert=True) == {}
