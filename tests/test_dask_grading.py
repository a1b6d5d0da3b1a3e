"""`grade --cluster local:2` grades a class exactly as the process pool does.

One class of the fixture chapter (perfect, partial, untouched, a timeout, an invalid file, a late
submission with a due date and a late-penalty policy, and two students who handed in the same
long solution), graded twice through the real command line: with the process pool, and on a
local Dask cluster of two worker processes — during which one worker process is killed
mid-batch, then the whole run is killed and resumed. Gradebook (every grade, comment and late
penalty), results, export and feedback must be identical (the twins' ``similar:`` flags
included, whichever run graded each); a third run grades nothing.

The source folder is a symbolic link, as a course's ``solutions/<chapter>`` may be. A real
chapter adds nothing here: a Dask task carries whatever the chapter's folder holds as bytes and
grades it with the process pool's own code, and ``test_autograder_class.py`` grades every real
chapter through that code; with the fixture's 3 s cell limit (the infinite loop's) a real
chapter's test cells also time out on a loaded machine.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "fixtures"))
import build_fixture  # noqa: E402
import students as S  # noqa: E402

from autograder.release import release  # noqa: E402

pytest.importorskip("distributed")
pytestmark = pytest.mark.slow
F = build_fixture.CHAPTER
PY = sys.executable
OPTS = ["--budget", "120", "--mem", "2048", "--cpu", "120", "--no-progress", "--timeout", "3",
        "--due", f"{F}=2026-10-01 12:00:00 UTC", "--late-penalty", "per-day:10"]
GOOD_NORM = "def l2_norm(x):\n    return float(np.sqrt(np.sum(x * x)))"
GOOD_MSQ = "def mean_square(x):\n    return float(np.mean(x * x))"
WRONG_MSQ = "def mean_square(x):\n    return float(np.mean(x))"
# Long enough to be compared (autograder.similarity.MIN_TOKENS); the twin renames its variables.
LONG_NORM = ("def l2_norm(x):\n    x = np.asarray(x, dtype=float)\n    if x.ndim != 1:\n"
             "        raise ValueError('l2_norm: expected a 1-D array')\n    total = 0.0\n"
             "    for value in x:\n        total = total + value * value\n    if not np.isfinite(total):\n"
             "        raise ValueError('l2_norm: the sum of squares overflowed')\n    return float(np.sqrt(total))")
TWIN_NORM = LONG_NORM.replace("total", "acc").replace("value", "v")


def _cli(*args, timeout=600):
    return subprocess.run([PY, "-m", "autograder", *map(str, args)], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def _class(root: Path, src: Path, course: Path) -> None:
    stu, sol = S.load(course / F / f"{F}.ipynb"), S.load(src / F / f"{F}.ipynb")
    S.write(root, "perfect", F, S.perfect(stu, sol))
    S.write(root, "partial", F, S.fill(stu, {"ch00-norm-impl": GOOD_NORM, "ch00-msq-impl": WRONG_MSQ}))
    S.write(root, "untouched", F, stu)
    S.write(root, "loop", F, S.fill(stu, {"ch00-norm-impl": GOOD_NORM,
                                          "ch00-msq-impl": "def mean_square(x):\n    while True:\n        pass"}))
    S.write(root, "corrupt", F, '{"cells": [')
    late = S.write(root, "late", F, S.perfect(stu, sol))
    (late.parent / "timestamp.txt").write_text("2026-10-03 09:30:00.000000 UTC")
    S.write(root, "half", F, S.fill(stu, {"ch00-norm-impl": GOOD_NORM}))
    S.write(root, "twin_a", F, S.fill(stu, {"ch00-norm-impl": LONG_NORM, "ch00-msq-impl": GOOD_MSQ}))
    S.write(root, "twin_b", F, S.fill(stu, {"ch00-norm-impl": TWIN_NORM, "ch00-msq-impl": GOOD_MSQ}))


def _gradebook(root: Path) -> list[tuple]:
    """Every grade, comment, late penalty and timestamp the gradebook holds."""
    from nbgrader.api import Gradebook

    rows = []
    with Gradebook("sqlite:///" + str(root / "gradebook.db"), "dl-fundamentals") as gb:
        for a in gb.assignments:
            for sub in a.submissions:
                rows.append((sub.student_id, a.name, "submission", str(sub.timestamp)))
                for nb in sub.notebooks:
                    rows.append((sub.student_id, a.name, nb.name, "late", nb.late_submission_penalty))
                    rows += [(sub.student_id, a.name, nb.name, g.name, g.auto_score, g.manual_score,
                              g.needs_manual_grade) for g in nb.grades]
                    rows += [(sub.student_id, a.name, nb.name, c.name, c.auto_comment) for c in nb.comments]
    return sorted(rows, key=repr)


def _results(root: Path) -> dict:
    out = {}
    for p in sorted((root / ".autograder" / "results").glob("*/*.json")):
        r = json.loads(p.read_text())
        r.pop("seconds"), r.pop("stages")
        out[f"{p.parent.name}/{p.stem}"] = r
    return out


def _pages(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root / "feedback")): p.read_bytes() for p in sorted((root / "feedback").rglob("*.html"))}


def _autograded(root: Path) -> dict[str, dict]:
    out = {}
    for p in sorted((root / "autograded").rglob("*.ipynb")):
        nb = json.loads(p.read_text())
        out[str(p.relative_to(root))] = [(c.get("source"), c.get("outputs")) for c in nb["cells"]]
    return out


def _export(root: Path) -> bytes:
    r = _cli("export", "--root", root, "--csv", root / "grades.csv")
    assert r.returncode == 0, r.stderr
    return (root / "grades.csv").read_bytes()


def _descendants(pid: int) -> list[tuple[int, str]]:
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
                cmd = Path(f"/proc/{d}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            kids.setdefault(int(stat[stat.rfind(")") + 2:].split()[1]), []).append((int(d), cmd))
    out, todo = [], [pid]
    while todo:
        for child in kids.get(todo.pop(), []):
            out.append(child)
            todo.append(child[0])
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("dask")
    src = base / "src"
    src.mkdir()
    build_fixture.build(base / "chapters")
    (src / F).symlink_to(base / "chapters" / F)
    course = base / "course"
    release(None, quiet=True, source=src, out=course)
    pool, dask = base / "pool", base / "dask"
    _class(pool, src, course)
    shutil.copytree(pool / "submitted", dask / "submitted", symlinks=True)
    run_pool = _cli("grade", "--root", pool, "--source", src, "--jobs", "2", *OPTS)
    assert run_pool.returncode == 0, run_pool.stdout + run_pool.stderr
    n = len(list((pool / ".autograder" / "results").glob("*/*.json")))

    # Dask: one worker process killed once two results are in, the whole run killed at five.
    proc = subprocess.Popen([PY, "-m", "autograder", "grade", "--root", str(dask), "--source", str(src),
                             "--cluster", "local:2", *OPTS], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    results = dask / ".autograder" / "results"
    killed_worker = None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        done = len(list(results.glob("*/*.json")))
        if killed_worker is None and done >= 2:
            # a Dask worker process that is grading right now (its grading process runs a kernel)
            grading = [pid for pid, cmd in _descendants(proc.pid) if "multiprocessing.spawn" in cmd
                       and any("autograder.sandbox" in c for _, c in _descendants(pid))]
            if grading:
                killed_worker = grading[0]
                os.kill(killed_worker, signal.SIGKILL)
        if done >= 5:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        first_out, first_err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        first_out, first_err = proc.communicate()
    done_first = len(list(results.glob("*/*.json")))
    resumed = _cli("grade", "--root", dask, "--source", src, "--cluster", "local:2", *OPTS)
    again = _cli("grade", "--root", dask, "--source", src, "--cluster", "local:2", *OPTS)
    for root in (pool, dask):
        r = _cli("feedback", "--root", root, "--source", src)
        assert r.returncode == 0, r.stderr
    return {"pool": pool, "dask": dask, "n": n, "killed_worker": killed_worker, "done_first": done_first,
            "first_err": first_err, "resumed": resumed, "again": again, "run_pool": run_pool}


def test_the_dask_run_was_interrupted_twice_and_finished(graded):
    assert graded["killed_worker"] is not None, "no grading process of a Dask worker was found to kill"
    assert 0 < graded["done_first"] < graded["n"], "the first Dask run should have been killed half-way"
    resumed = graded["resumed"]
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    n, done = graded["n"], graded["done_first"]
    assert f"({n - done} run, {done} unchanged)" in resumed.stdout, resumed.stdout
    assert "Dask dashboard: http" in resumed.stderr
    again = graded["again"]
    assert again.returncode == 0 and f"(0 run, {n} unchanged)" in again.stdout, again.stdout + again.stderr


def test_gradebook_results_export_and_feedback_match_the_process_pool(graded):
    pool, dask = graded["pool"], graded["dask"]
    assert _gradebook(dask) == _gradebook(pool)
    assert _results(dask) == _results(pool)
    assert _export(dask) == _export(pool)
    assert _pages(dask) == _pages(pool) and len(_pages(pool)) == graded["n"]
    assert _autograded(dask) == _autograded(pool)


def test_the_class_scored_what_each_student_earned(graded):
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(_export(graded["pool"]).decode()))}
    assert float(rows["perfect"][F]) == 5 and float(rows["partial"][F]) == 2 and float(rows["untouched"][F]) == 0
    assert float(rows["late"][F]) < 5  # two started days late at 10 % a day
    assert "timeout" in rows["loop"]["flags"] and "invalid-notebook" in rows["corrupt"]["flags"]
    assert float(rows["half"][F]) == 2 and float(rows["twin_a"][F]) == float(rows["twin_b"][F]) == 5
    assert rows["twin_a"]["flags"] == f"{F}:similar:ch00-norm-impl:twin_b", rows["twin_a"]
    assert rows["twin_b"]["flags"] == f"{F}:similar:ch00-norm-impl:twin_a", rows["twin_b"]
    assert not [r for r in rows.values() if "similar" in r["flags"] and r["student"] not in ("twin_a", "twin_b")]
