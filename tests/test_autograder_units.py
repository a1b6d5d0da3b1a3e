"""Fast unit tests of the autograder's parts: dlcore.testing hardening, feedback trimming,
collect, the sandbox command line (the whole class is graded in test_autograder_class.py)."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.collect import collect
from autograder.preprocessors import TrimTracebacks, failing_line, hidden_line_range
from autograder.sandbox import bwrap_argv

REPO = Path(__file__).resolve().parents[1]


def _fresh_python(code: str) -> subprocess.CompletedProcess:
    """Tampering poisons dlcore.testing for the rest of a process: run each case in its own."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=REPO, timeout=120)


@pytest.mark.parametrize("body, marker", [
    ("return float(np.linalg.norm(x))", "calls the reference"),
    ("f = getattr(sys.modules['numpy'].linalg, 'norm')\n    return float(f(x))", "calls the reference"),
    ("import threading\n    out = []\n    t = threading.Thread(target=lambda: out.append(np.linalg.norm(x)))\n"
     "    t.start(); t.join()\n    return float(out[0])", "calls the reference"),
    ("p = sys.getprofile(); sys.setprofile(None)\n    r = np.linalg.norm(x); sys.setprofile(p)\n    return float(r)",
     "sys.setprofile"),
])
def test_run_student_catches_the_reference_however_it_is_reached(body, marker):
    r = _fresh_python("import sys, numpy as np, dlcore.testing as g\ndef l2(x):\n    " + body + """
try:
    g.run_student(l2, np.ones(3), forbid=(np.linalg.norm,))
    print("MISSED")
except g.IntegrityError as e:
    print(e)
print(g.run_student(lambda x: float((x * x).sum()) ** 0.5, np.ones(4), forbid=(np.linalg.norm,)))
""")
    lines = r.stdout.splitlines()
    assert lines[0].startswith("INTEGRITY:") and marker in lines[0], r.stdout + r.stderr
    assert lines[1] == "2.0"


@pytest.mark.parametrize("attack", [
    "np.allclose = lambda *a, **k: True",
    "import builtins; builtins.abs = lambda x: 0",
    "import dlcore.gradcheck as gc; gc.numerical_gradient = lambda *a, **k: None",
    "sys.modules['dlcore.testing'] = types.ModuleType('fake'); g._guard()",
    "import builtins; real = builtins.__import__; builtins.__import__ = lambda *a, **k: real(*a, **k); g._guard()",
])
def test_monkeypatching_is_caught_by_the_next_check(attack):
    r = _fresh_python(f"""
        import sys, types, numpy as np, dlcore.testing as g
        import dlcore.gradcheck
        g._guard()  # what IPython's pre_run_cell hook does before the student's next cell
        {attack}
        try:
            g.check_close(1.0, 1.0)
            print("MISSED")
        except g.IntegrityError as e:
            print(e)
        print(sys.modules['dlcore.testing'] is g)
    """)
    lines = r.stdout.splitlines()
    assert lines[0].startswith("INTEGRITY:"), r.stdout + r.stderr
    assert lines[1] == "True"


def test_grading_module_is_read_only_and_checks_still_work():
    import numpy as np

    import dlcore.testing as g

    with pytest.raises(AttributeError):
        g.check_close = lambda *a, **k: None
    g.check_close(np.array([1.0, 2.0]), [1.0, 2.0])
    with pytest.raises(AssertionError, match=r"expected \[1.0, 2.0\], got \[1.0, 3.0\]"):
        g.check_close(np.array([1.0, 3.0]), [1.0, 2.0], "x")
    g.check_gradient(lambda x: float((x ** 2).sum()), np.array([1.0, -2.0]), np.array([2.0, -4.0]))


def _test_cell(source: str, outputs: list, points=3):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "points": points, "grade_id": "t"}
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return cell


SRC = "check(a)\n### BEGIN HIDDEN TESTS\nsecret_value = 42\ncheck(secret_value)\n### END HIDDEN TESTS"


def _err(line, evalue):
    return {"output_type": "error", "ename": "AssertionError", "evalue": evalue,
            "traceback": ["\x1b[0;31mAssertionError\x1b[0m Traceback", f"Cell \x1b[0;32mIn[7], line {line}\x1b[0m",
                          f"----> {line} check(secret_value)", "File dlcore/grading.py:120, in check_close"]}


def test_hidden_failure_shows_only_that_it_failed():
    assert hidden_line_range(SRC) == {2, 3, 4, 5}
    assert failing_line(_err(4, "x")["traceback"]) == 4
    cell = _test_cell(SRC, [{"output_type": "stream", "name": "stdout", "text": "secret_value=42\n"},
                            _err(4, "expected 42 got 0")])
    TrimTracebacks().preprocess_cell(cell, {}, 0)
    text = json.dumps(cell.outputs)
    assert "secret" not in text and "42" not in text
    assert "a hidden test of this cell failed (0 of 3 points)" in text


def test_visible_failure_keeps_its_message_without_the_traceback():
    cell = _test_cell(SRC, [_err(1, "a: expected 5.0, got 2.0")])
    TrimTracebacks().preprocess_cell(cell, {}, 0)
    assert cell.outputs[0]["traceback"] == ["AssertionError: a: expected 5.0, got 2.0"]


def test_timeout_is_reported_once_as_a_timeout():
    interrupted = {"output_type": "error", "ename": "KeyboardInterrupt", "evalue": "",
                   "traceback": ["Cell In[7], line 4", "----> 4 check(secret_value)"]}
    copy = {"output_type": "error", "ename": "CellTimeoutError", "evalue": "", "traceback": ["no reply"]}
    cell = _test_cell(SRC, [interrupted, copy])
    TrimTracebacks().preprocess_cell(cell, {}, 0)
    assert len(cell.outputs) == 1 and cell.outputs[0]["ename"] == "Timeout"
    assert "secret" not in json.dumps(cell.outputs)


def test_marker_in_output_is_scrubbed():
    cell = nbformat.v4.new_code_cell("print(1)")
    cell.outputs = [nbformat.from_dict({"output_type": "stream", "name": "stdout", "text": "### BEGIN HIDDEN TESTS"})]
    TrimTracebacks().preprocess_cell(cell, {}, 0)
    assert "BEGIN HIDDEN TESTS" not in cell.outputs[0]["text"]


def test_sandbox_argv_hides_paths_and_binds_the_submission(tmp_path):
    hidden_dir, hidden_file = tmp_path / "solutions", tmp_path / "gradebook.db"
    hidden_dir.mkdir()
    hidden_file.write_text("")
    argv = bwrap_argv([str(hidden_dir), str(hidden_file), str(tmp_path / "absent")], "/root/ag/s/ch",
                      str(tmp_path), "/tmp/rt")
    assert argv[:3] == ["bwrap", "--ro-bind", "/"]
    assert {"--unshare-net", "--unshare-pid"} <= set(argv) and argv[argv.index("--cap-drop") + 1] == "ALL"
    assert ["--tmpfs", str(hidden_dir)] == argv[argv.index(str(hidden_dir)) - 1:argv.index(str(hidden_dir)) + 1]
    assert argv[argv.index(str(hidden_file)) - 2] == "--ro-bind" and argv[argv.index(str(hidden_file)) - 1] == "/dev/null"
    assert str(tmp_path / "absent") not in argv
    assert argv[-7:-2] == ["--ro-bind", str(tmp_path), "/root/ag/s/ch", "--chdir", "/root/ag/s/ch"]
    assert argv[-2:] == ["--remount-ro", str(hidden_dir)]


@pytest.fixture
def source(tmp_path):
    sys.path.insert(0, str(REPO / "tests" / "fixtures"))
    import build_fixture

    build_fixture.build(tmp_path / "src")
    return tmp_path / "src"


def test_collect_folder_zip_and_single_files(tmp_path, source, capsys):
    F = "ch00_fixture"
    inbox = tmp_path / "inbox"
    (inbox / "alice" / F).mkdir(parents=True)
    (inbox / "alice" / F / "my work.ipynb").write_text("{}")
    (inbox / "bob" / "ch99_unknown").mkdir(parents=True)
    (inbox / "bad name!").mkdir()
    (inbox / "notes.txt").write_text("x")
    root = tmp_path / "root"
    assert collect(inbox, root, source=source) == 0
    err = capsys.readouterr().err
    assert (root / "submitted" / "alice" / F / f"{F}.ipynb").read_text() == "{}"
    assert "no chapter 'ch99_unknown'" in err and "not a usable student id" in err and "notes.txt" in err
    assert "stored as ch00_fixture.ipynb" in err

    zpath = tmp_path / "subs.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr(f"carol/{F}/{F}.ipynb", "{}")
    assert collect(zpath, root, source=source) == 0
    assert (root / "submitted" / "carol" / F / f"{F}.ipynb").exists()

    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "dave.ipynb").write_text("{}")
    assert collect(flat, root, source=source) == 1  # needs --chapter
    assert "needs --chapter" in capsys.readouterr().err
    assert collect(flat, root, chapter=F, source=source) == 0
    assert (root / "submitted" / "dave" / F / f"{F}.ipynb").exists()

    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("../../escape.ipynb", "{}")
    assert collect(evil, root, source=source) == 1


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def test_cli_help_and_instructor_side_errors(tmp_path, source):
    assert _cli("--help").returncode == 0
    for cmd in ("release", "bundle", "collect", "grade", "feedback", "export"):
        assert cmd in _cli("--help").stdout
    r = _cli("grade", "--root", tmp_path / "nowhere", "--source", source)
    assert r.returncode == 1 and "does not exist" in r.stderr
    (tmp_path / "root" / "submitted").mkdir(parents=True)
    r = _cli("grade", "--root", tmp_path / "root", "--source", source, "ch99_nope")
    assert r.returncode == 1 and "unknown chapter" in r.stderr
    r = _cli("export", "--root", tmp_path / "root", "--csv", tmp_path / "x.csv")
    assert r.returncode == 1 and "no gradebook" in r.stderr
    assert _cli("grade").returncode == 2  # --root is required
    assert _cli("grade", "--root", REPO / "term").returncode == 2  # never inside the repository


@pytest.mark.slow
def test_without_bubblewrap_grading_runs_with_limits_and_warns_once(tmp_path, source):
    sys.path.insert(0, str(REPO / "tests" / "fixtures"))
    import students as S

    from autograder.release import release

    F = "ch00_fixture"
    release([F], quiet=True, source=source, out=tmp_path / "course")
    stu, sol = S.load(tmp_path / "course" / F / f"{F}.ipynb"), S.load(source / F / f"{F}.ipynb")
    S.write(tmp_path / "root", "alice", F, S.perfect(stu, sol))
    S.write(tmp_path / "root", "bob", F, stu)
    r = _cli("grade", "--root", tmp_path / "root", "--source", source, "--sandbox", "limits", "--jobs", "1",
             "--no-progress")
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("WARNING: bubblewrap") == 1
    assert "alice: 5/6" in r.stdout and "bob: 0/6" in r.stdout and "sandbox: limits" in r.stdout
    again = _cli("grade", "--root", tmp_path / "root", "--source", source, "--sandbox", "limits", "--no-progress")
    assert "(0 run, 2 unchanged)" in again.stdout
    # A notebook that sleeps through its whole time budget: the cells left score 0, the rest count.
    S.write(tmp_path / "root", "sleepy", F, S.fill(S.perfect(stu, sol), {"ch00-msq-impl": "import time\ntime.sleep(300)"}))
    slow = _cli("grade", "--root", tmp_path / "root", "--source", source, "--student", "sleepy", "--budget", "25",
                "--no-progress")
    assert slow.returncode == 0, slow.stderr
    assert "sleepy: 2/6" in slow.stdout and "time-budget" in slow.stdout, slow.stdout
