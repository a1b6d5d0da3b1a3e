"""Grade a generated class of messy submissions end to end, through the command line.

Every chapter in solutions/ gets a perfect submission (full marks through the whole pipeline);
the untouched and messy cases use the fixture chapter ch00_fixture
(tests/fixtures/build_fixture.py), which is fast to run. That every real exercise's released
stub earns nothing in the grader's scoring is checked per exercise by tests/test_mistakes.py,
and that each stub fails its test in the student's notebook by tests/test_notebooks.py.
Each student's score and flags are asserted exactly, then: exit code, gradebook holds every
student, a re-run changes nothing, a batch killed half-way and resumed ends the same, and no
feedback page or export contains hidden-test text.
"""
from __future__ import annotations

import csv
import html
import io
import json
import os
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

from autograder.release import chapters, hidden_lines, release  # noqa: E402

pytestmark = pytest.mark.slow
F = build_fixture.CHAPTER
PY = sys.executable
# Three workers on two cores: a notebook's grading waits about a third of its time (kernel start and
# shutdown, the scoring process), so a third worker fills it.
GRADE_OPTS = ["--jobs", "3", "--budget", "120", "--mem", "2048", "--cpu", "120", "--no-progress"]
# The fixture's infinite loop should cost seconds, not the default 30; real chapters keep a
# generous per-cell limit so a loaded CI machine does not turn slow cells into timeouts.
FIXTURE_OPTS = [F, "--timeout", "3"]
CHAPTER_OPTS = ["--timeout", "60"]

# mean_square variants (exercise 2 of the fixture, 3 points); l2_norm is exercise 1 (2 points).
GOOD_NORM = "def l2_norm(x):\n    return float(np.sqrt(np.sum(x * x)))"
GOOD_MSQ = "def mean_square(x):\n    return float(np.mean(x * x))"
WRONG_MSQ = "def mean_square(x):\n    return float(np.mean(x))"


def _snoop(src: Path, root: Path) -> str:
    """Student code that looks for what the sandbox must hide and reports it as JSON."""
    return f'''import json, os
def _try_write(p):
    try:
        with open(p, "ab") as f:
            f.write(b"")
        return True
    except OSError:
        return False
report = {{
    "solutions": os.path.exists({str(src / F / (F + ".ipynb"))!r}) or os.path.exists({str(REPO / "solutions")!r} + "/{F}"),
    "repo_solutions": os.listdir({str(REPO / "solutions")!r}) if os.path.isdir({str(REPO / "solutions")!r}) else [],
    "gradebook_exists": os.path.exists({str(root / "gradebook.db")!r}),
    "gradebook_writable": _try_write({str(root / "gradebook.db")!r}),
    "other_student": os.path.exists({str(root / "submitted" / "perfect")!r}),
    "autograded": os.listdir({str(root / "autograded")!r}),
    "own_folder_writable": _try_write("scratch.txt"),
}}
import subprocess
# Escape attempts: unmount what hides the solutions, or go through another process's root.
subprocess.run(["umount", {str(REPO / "solutions")!r}], capture_output=True)
report["after_umount"] = os.listdir({str(REPO / "solutions")!r}) if os.path.isdir({str(REPO / "solutions")!r}) else []
def _ls(p):
    try:
        return os.listdir(p)
    except OSError:
        return []
report["via_proc"] = any(_ls(f"/proc/{{pid}}/root{str(REPO / 'solutions')}")
                         for pid in os.listdir("/proc") if pid.isdigit())
print("SNOOP" + json.dumps(report))
{GOOD_MSQ}'''


MESSY = {
    # student: (builder(stu, sol, src, root), expected ch00 score, expected flags)
    "partial": (lambda st, so, *_: S.fill(st, {"ch00-norm-impl": GOOD_NORM, "ch00-msq-impl": WRONG_MSQ}), 2, []),
    "hiddenfail": (lambda st, so, *_: S.fill(st, {"ch00-norm-impl": GOOD_NORM, "ch00-msq-impl":
                   "def mean_square(x):\n    return float(np.mean(x * x)) if x.ndim == 1 else 0.0"}), 2, []),
    "loop": (lambda st, so, *_: S.fill(st, {"ch00-norm-impl": GOOD_NORM,
             "ch00-msq-impl": "def mean_square(x):\n    while True:\n        pass"}), 2, ["timeout:ch00-msq-test"]),
    "osexit": (lambda st, so, *_: S.fill(st, {"ch00-norm-impl": GOOD_NORM,
               "ch00-msq-impl": "import os\nos._exit(1)\n" + GOOD_MSQ}), 2, ["dead-kernel"]),
    "sysexit": (lambda st, so, *_: S.fill(st, {"ch00-norm-impl": GOOD_NORM,
                "ch00-msq-impl": "def mean_square(x):\n    import sys\n    sys.exit()"}), 2, []),
    "membomb": (lambda st, so, *_: S.fill(st, {"ch00-norm-impl": GOOD_NORM, "ch00-msq-impl":
                "def mean_square(x):\n    hog = []\n    while True:\n        hog.append(np.empty(2**27))"}),
                2, ["memory-limit"]),
    "deleted": (lambda st, so, *_: S.drop_cell(S.perfect(st, so), "ch00-norm-test"), 5, []),
    "edited": (lambda st, so, *_: S.edit_cell(S.fill(st, {"ch00-norm-impl": GOOD_NORM, "ch00-msq-impl": WRONG_MSQ}),
               "ch00-msq-test", "pass  # the test is gone"), 2, []),
    "stripped": (lambda st, so, *_: S.strip_metadata(S.perfect(st, so)), 0, ["invalid-notebook"]),
    "corrupt": (lambda st, so, *_: '{"cells": [ {"cell_type": "code", "source": "x = 1"', 0, ["invalid-notebook"]),
    "patcher": (lambda st, so, *_: S.fill(st, {"ch00-norm-impl": GOOD_NORM, "ch00-msq-impl":
                "import sys, types\n"
                "fake = types.ModuleType('dlcore.testing')\n"
                "fake.check_close = lambda *a, **k: None\n"
                "fake.run_student = lambda fn, *a, forbid=(), **k: fn(*a, **k)\n"
                "sys.modules['dlcore.testing'] = fake\n"
                "np.allclose = lambda *a, **k: True\n"
                "def mean_square(x):\n    return 0.0"}), 2, ["integrity:ch00-msq-test"]),
    "snoop": (lambda st, so, src, root: S.fill(st, {"ch00-norm-impl": GOOD_NORM, "ch00-msq-impl": _snoop(src, root)}),
              5, ["subprocess:ch00-msq-impl"]),  # it runs umount: flagged for the instructor
    "callsref": (lambda st, so, *_: S.fill(st, {"ch00-norm-impl":
                 "import sys as _s\ndef l2_norm(x):\n    norm = getattr(_s.modules['numpy'].linalg, 'norm')\n"
                 "    return float(norm(x))", "ch00-msq-impl": GOOD_MSQ}), 3, ["integrity:ch00-norm-test", "reference-call:ch00-norm-test"]),
}


def _cli(*args, timeout=900):
    return subprocess.run([PY, "-m", "autograder", *map(str, args)], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def _max_auto(nb: dict) -> float:
    return sum(float(c["metadata"]["nbgrader"]["points"]) for c in nb["cells"]
               if c.get("metadata", {}).get("nbgrader", {}).get("grade") and c["cell_type"] == "code")


def _export(root: Path, path: Path) -> tuple[bytes, dict]:
    r = _cli("export", "--root", root, "--csv", path)
    assert r.returncode == 0, r.stderr
    data = path.read_bytes()
    return data, {row["student"]: row for row in csv.DictReader(io.StringIO(data.decode()))}


def _grade_all(root: Path, src: Path) -> subprocess.CompletedProcess:
    """The instructor's two calls: the real chapters, then the fixture with a short cell timeout."""
    real = [ch for ch in chapters(src) if ch != F]
    first = _cli("grade", "--root", root, "--source", src, *GRADE_OPTS, *CHAPTER_OPTS, *real) if real else None
    second = _cli("grade", "--root", root, "--source", src, *GRADE_OPTS, *FIXTURE_OPTS)
    if first is None:
        return second
    return subprocess.CompletedProcess(second.args, max(first.returncode, second.returncode),
                                       first.stdout + second.stdout, first.stderr + second.stderr)


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    src = base / "src"
    src.mkdir()
    for ch in chapters():
        (src / ch).symlink_to(REPO / "solutions" / ch)
    build_fixture.build(src)
    course = base / "course"
    release(None, quiet=True, source=src, out=course)
    root = base / "root"
    every = chapters(src)
    load = {ch: (S.load(course / ch / f"{ch}.ipynb"), S.load(src / ch / f"{ch}.ipynb")) for ch in every}
    for ch, (stu, sol) in load.items():
        S.write(root, "perfect", ch, S.perfect(stu, sol))
    stu, sol = load[F]
    S.write(root, "untouched", F, stu)
    for name, (make, _, _) in MESSY.items():
        S.write(root, name, F, make(stu, sol, src, root))
    t0 = time.monotonic()
    run = _grade_all(root, src)
    seconds = time.monotonic() - t0
    export, rows = _export(root, base / "grades.csv")
    return {"base": base, "src": src, "root": root, "run": run, "chapters": every, "load": load,
            "export": export, "rows": rows, "seconds": seconds}


def test_batch_completes_with_exit_0_and_a_line_per_student(klass):
    run = klass["run"]
    assert run.returncode == 0, run.stdout + run.stderr
    students = ["perfect", "untouched", *MESSY]
    for s in students:
        assert any(line.startswith(f"{s}: ") for line in run.stdout.splitlines()), run.stdout
    n_real = len(klass["chapters"]) - 1
    n = len(MESSY) + 2
    assert f"graded {n}/{n} submissions of {len(students)} students" in run.stdout, run.stdout
    if n_real:
        assert f"graded {n_real}/{n_real} submissions of 1 student" in run.stdout, run.stdout
    assert "sandbox: bwrap" in run.stdout or "WARNING: bubblewrap" in run.stderr


def test_perfect_scores_full_marks_in_every_chapter_and_untouched_zero(klass):
    rows = klass["rows"]
    for ch, (stu, sol) in klass["load"].items():
        assert float(rows["perfect"][ch]) == pytest.approx(_max_auto(sol)), ch
    assert float(rows["untouched"][F]) == 0.0 and float(rows["untouched"]["total"]) == 0.0
    assert rows["perfect"]["flags"] == "" and rows["untouched"]["flags"] == ""
    assert rows["perfect"]["needs_manual_grading"] == "yes"  # the written answers


@pytest.mark.parametrize("student", sorted(MESSY))
def test_messy_submission_score_and_flags(klass, student):
    _, score, flags = MESSY[student]
    row = klass["rows"][student]
    assert float(row[F]) == score, row
    assert row["flags"] == " ".join(sorted(f"{F}:{f}" for f in flags)), row
    assert float(row["total"]) == score


def test_sandbox_hid_solutions_gradebook_and_other_students(klass):
    nb = json.loads((klass["root"] / "autograded" / "snoop" / F / f"{F}.ipynb").read_text())
    text = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
    report = json.loads(text.split("SNOOP", 1)[1].splitlines()[0])
    if "sandbox: bwrap" not in klass["run"].stdout:
        pytest.skip("bubblewrap is not installed: grading ran with resource limits only")
    # The student's own folder is bound read-only at the working directory; nothing else of the
    # grading root exists in the sandbox, and the empty stand-in is read-only.
    assert report == {"solutions": False, "repo_solutions": [], "gradebook_exists": False,
                      "gradebook_writable": False, "other_student": False, "autograded": ["snoop"],
                      "own_folder_writable": False, "after_umount": [], "via_proc": False}


def test_gradebook_holds_every_student(klass):
    from nbgrader.api import Gradebook

    with Gradebook("sqlite:///" + str(klass["root"] / "gradebook.db")) as gb:
        assert sorted(s.id for s in gb.students) == sorted(["perfect", "untouched", *MESSY])
        assert sorted(a.name for a in gb.assignments) == sorted(klass["chapters"])


def test_rerun_changes_nothing_and_export_is_byte_identical(klass):
    again = _grade_all(klass["root"], klass["src"])
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("(0 run,") == again.stdout.count("graded "), again.stdout
    data, _ = _export(klass["root"], klass["base"] / "grades-again.csv")
    assert data == klass["export"]


def _processes_mentioning(text: str) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                cmd = Path(f"/proc/{d}/cmdline").read_bytes()
                state = Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if text.encode() in cmd and state != "Z":
                out.append(int(d))
    return out


def test_killed_batch_resumes_to_the_same_grades(klass):
    root2 = klass["base"] / "root2"
    subset = ["partial", "loop", "callsref", "deleted", "patcher", "osexit"]
    for s in subset:
        sub = klass["root"] / "submitted" / s / F / f"{F}.ipynb"
        S.write(root2, s, F, sub.read_text())
    args = [PY, "-m", "autograder", "grade", "--root", str(root2), "--source", str(klass["src"]),
            *GRADE_OPTS, *FIXTURE_OPTS, "--jobs", "1"]
    proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    results = root2 / ".autograder" / "results"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and len(list(results.glob("*/*.json"))) < 2 and proc.poll() is None:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    # No sandbox outlives the grader that was killed (a kernel left behind once ran on for good).
    end = time.monotonic() + 15
    while time.monotonic() < end and _processes_mentioning(str(root2)):
        time.sleep(0.2)
    assert not _processes_mentioning(str(root2)), "a sandbox outlived its killed grader"
    done_before = len(list(results.glob("*/*.json")))
    assert 0 < done_before < len(subset), "the batch should have been killed half-way"
    resumed = _cli("grade", "--root", root2, "--source", klass["src"], *GRADE_OPTS, *FIXTURE_OPTS)
    assert resumed.returncode == 0, resumed.stderr
    assert f"({len(subset) - done_before} run, {done_before} unchanged)" in resumed.stdout
    _, rows2 = _export(root2, klass["base"] / "grades2.csv")
    for s in subset:
        assert (rows2[s][F], rows2[s]["flags"]) == (klass["rows"][s][F], klass["rows"][s]["flags"]), s


def test_feedback_explains_visible_failures_and_never_shows_hidden_tests(klass):
    root = klass["root"]
    r = _cli("feedback", "--root", root, "--source", klass["src"])
    assert r.returncode == 0, r.stderr
    pages = {p.relative_to(root / "feedback").parts[0] + "/" + p.parent.name: html.unescape(p.read_text())
             for p in (root / "feedback").rglob("*.html")}
    assert len(pages) == len(klass["chapters"]) + 1 + len(MESSY)
    secrets = {build_fixture.HIDDEN_CANARY, "BEGIN HIDDEN TESTS"}
    for ch, (_, sol) in klass["load"].items():
        secrets |= hidden_lines(sol)
    for name, page in pages.items():
        leaked = [s for s in secrets if s in page]
        assert not leaked, f"{name} shows hidden-test text: {leaked[:2]}"
    assert "mean_square([1, 3]): expected 5.0, got 2.0" in pages[f"partial/{F}"]
    assert "a hidden test of this cell failed" in pages[f"hiddenfail/{F}"]
    assert "did not finish within the time limit" in pages[f"loop/{F}"]
    assert "a hidden test of this cell failed" not in pages[f"loop/{F}"]
    assert "INTEGRITY:" in pages[f"callsref/{F}"] and "reference implementation" in pages[f"callsref/{F}"]
    assert "could not be graded" in pages[f"corrupt/{F}"]
    export = klass["export"].decode()
    assert not [s for s in secrets if s in export]
