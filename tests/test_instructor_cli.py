"""The instructor's command line and the files it writes, without grading anything.

The parser (every option has help; a chapter is never read as a student name), the installed
``dlcourse`` command, late-penalty policies, the grading root's nbgrader_config.py, and file
modes that a student's own Unix account can read (tested with a real second user when run as
root).
"""
from __future__ import annotations

import argparse
import os
import shutil
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from autograder import cli, courseroot, late
from autograder.grade import GradeError, _atomic_write, exercise_chapters

REPO = Path(__file__).resolve().parents[1]
CH1, CH2 = "ch01_objective_functions", "ch02_softmax"


def _parse(*argv):
    return cli.build_parser().parse_known_args(list(argv))


def test_every_option_of_every_command_has_help():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = []
    for name, p in sub.choices.items():
        for action in p._actions:
            if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
                continue
            if not (action.help or "").strip():
                missing.append(f"{name} {action.option_strings or action.dest}")
    assert not missing, missing
    assert {"formgrader", "report", "export", "grade", "collect"} <= set(sub.choices)


def test_student_option_never_swallows_a_chapter(monkeypatch):
    seen = {}

    def fake_run_grade(s, chapters, students, progress=True, only_exercises=None):
        seen.update(chapters=chapters, students=students, exercises=only_exercises, late=s.late_penalty)
        return 0

    monkeypatch.setattr("autograder.grade.run_grade", fake_run_grade)
    root = Path("/tmp/not-in-repo-term")
    assert cli.main(["grade", "--root", str(root), "--student", "alice", CH1]) == 0
    assert seen["chapters"] == [CH1] and seen["students"] == ["alice"]
    assert cli.main(["grade", "--root", str(root), CH1, "--student", "alice", CH2, "--student", "bob",
                     "--chapter", CH1, "--late-penalty", "per-day:10"]) == 0
    assert seen["chapters"] == [CH1, CH2] and seen["students"] == ["alice", "bob"] and seen["late"] == "per-day:10"
    assert cli.main(["grade", "--root", str(root), "--exercise", "ch01-mse_loss-test"]) == 0
    assert seen["exercises"] == ["ch01-mse_loss-test"] and seen["chapters"] is None
    with pytest.raises(SystemExit) as e:
        cli.main(["grade", "--root", str(root), "--bogus"])
    assert e.value.code == 2
    assert cli.main(["grade", "--root", str(root), "--late-penalty", "half"]) == 2


def test_exercise_maps_to_its_chapter():
    assert exercise_chapters(REPO / "solutions", ["ch02-shift-answer", "ch01-saturation-answer"]) == {
        CH1: ["ch01-saturation-answer"], CH2: ["ch02-shift-answer"]}
    with pytest.raises(GradeError, match="no exercise"):
        exercise_chapters(REPO / "solutions", ["ch01-nope"])


def test_installed_console_command_and_version():
    exe = shutil.which("dlcourse", path=os.path.dirname(sys.executable))
    assert exe, "the dlcourse console script is not installed (pip install -e .)"
    r = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("dlcourse ") and "nbgrader 0.9.6" in r.stdout


def test_late_penalty_policies():
    assert late.parse("none") == "none" and late.parse("ZERO") == "zero" and late.parse("per-day:12.5") == "per-day:12.5"
    for bad in ("per-day:120", "per-day:x", "half"):
        with pytest.raises(ValueError):
            late.parse(bad)
    p = late.PerDayPenalty(percent_per_day=10)
    assert p.late_submission_penalty("a", 8.0, 0) is None
    assert p.late_submission_penalty("a", 8.0, 1) == pytest.approx(0.8)          # a started day
    assert p.late_submission_penalty("a", 8.0, 86400 * 2 + 5) == pytest.approx(2.4)
    assert p.late_submission_penalty("a", 8.0, 86400 * 30) == 8.0                # never more than the score


def test_grading_root_config_is_written_once_and_leaves_an_own_file(tmp_path):
    path = courseroot.write_config(tmp_path / "term")
    text = path.read_text()
    assert str(REPO / "nbgrader_config.py") in text and "configure(" in text
    assert courseroot.write_config(tmp_path / "term") == path and path.read_text() == text
    own = tmp_path / "other"
    own.mkdir()
    (own / "nbgrader_config.py").write_text("c = get_config()\n")
    assert courseroot.write_config(own) is None  # the instructor's own file (e.g. a hub's course root) is kept
    assert (own / "nbgrader_config.py").read_text() == "c = get_config()\n"


def test_plain_nbgrader_reads_the_repository_config():
    """`nbgrader` from the repository root finds nbgrader_config.py (no --config option exists)."""
    nbgrader = shutil.which("nbgrader", path=os.path.dirname(sys.executable))
    r = subprocess.run([nbgrader, "generate_assignment", "--help-all"], cwd=REPO, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
    assert cfg.CourseDirectory.source_directory == "solutions" and cfg.CourseDirectory.release_directory == "course"
    assert not (REPO / "autograder" / "nbgrader_config.py").exists()  # one configuration, not two


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_written_files_follow_the_umask_like_plain_open(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        _atomic_write(tmp_path / "f.html", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f.html").stat().st_mode) == mode


def test_a_second_unix_user_reads_feedback_and_export(tmp_path):
    """The grader (this account) writes; a student's own account reads: no 0600 on the way."""
    if os.getuid() != 0 or shutil.which("useradd") is None or shutil.which("runuser") is None:
        pytest.skip("needs root with useradd and runuser to create a second Unix user")
    import tempfile

    from autograder.export import export_csv

    base = Path(tempfile.mkdtemp(prefix="dlcourse-modes-"))
    os.chmod(base, 0o755)
    user = f"dlc{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", user], check=True)
    try:
        from nbgrader.api import Gradebook

        from autograder.release import ensure_venv_on_path

        ensure_venv_on_path()
        root = base / "term"
        root.mkdir()
        with Gradebook("sqlite:///" + str(root / "gradebook.db")) as gb:
            gb.add_assignment(CH1)
            gb.add_student("alice")
        old = os.umask(0o022)
        try:
            assert export_csv(root, base / "grades.csv") == 0
            _atomic_write(root / "feedback" / "alice" / CH1 / f"{CH1}.html", "<p>10 / 14</p>")
        finally:
            os.umask(old)
        for f in (base / "grades.csv", root / "feedback" / "alice" / CH1 / f"{CH1}.html"):
            r = subprocess.run(["runuser", "-u", user, "--", "cat", str(f)], capture_output=True, text=True, timeout=30)
            assert r.returncode == 0, f"{user} cannot read {f}: {r.stderr}"
        assert "10 / 14" in r.stdout
    finally:
        subprocess.run(["userdel", user], check=False)
        shutil.rmtree(base, ignore_errors=True)


def test_feedback_formulas_are_svg_without_mathjax():
    import json as _json

    from autograder.mathsvg import RenderMath, render_markdown_math, strip_mathjax

    assert render_markdown_math("cost `$x$` in code") == "cost `$x$` in code"
    out = render_markdown_math(r"the mean $\mu = \frac1N\sum_n x_n$ and $$\lVert w\rVert^2$$")
    assert out.count("<svg") == 2 and "$" not in out
    assert "<code class='tex'>" in render_markdown_math(r"$\begin{cases} a & b \end{cases}$")
    nb = _json.loads((REPO / "solutions" / "ch05_batch_norm" / "ch05_batch_norm.ipynb").read_text())
    import nbformat

    node = nbformat.reads(_json.dumps(nb), as_version=4)
    RenderMath().preprocess(node, {})
    text = "".join(c.source for c in node.cells if c.cell_type == "markdown")
    assert text.count("<svg") >= 5
    page = '<head><script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js?config=X"> </script>' \
           '<script type="text/x-mathjax-config">init()</script><script data-dlcourse="mathjax">x()</script></head>'
    assert strip_mathjax(page) == "<head></head>"
