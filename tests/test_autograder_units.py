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


def test_sandbox_argv_is_an_allow_list(tmp_path):
    etc, rt, sub = tmp_path / "etc", tmp_path / "run", tmp_path / "submitted"
    for d in (etc, rt, sub):
        d.mkdir()
    argv = bwrap_argv(runtime=str(rt), etc_dir=str(etc), cwd="/g/autograded/s/ch", cwd_src=str(sub),
                      tmp_bytes=2**20, binds=["/opt/py", "/srv/repo/dlcore"])
    pairs = [(argv[i], argv[i + 1], argv[i + 2]) for i in range(len(argv) - 2) if argv[i].endswith("bind")]
    sources = {src for _, src, _ in pairs}
    assert "/" not in sources and "/etc" not in sources and "/home" not in sources and "/root" not in sources
    assert {"/usr", "/opt/py", "/srv/repo/dlcore", str(sub), "/proc/sys"} <= sources
    assert ("--bind", str(rt), str(rt)) in pairs and [p for p in pairs if p[0] == "--bind"] == [("--bind", str(rt), str(rt))]
    assert ("--ro-bind", str(sub), "/g/autograded/s/ch") in pairs and ("--ro-bind", "/proc/sys", "/proc/sys") in pairs
    assert {"--clearenv", "--unshare-all", "--die-with-parent", "--new-session"} <= set(argv)
    assert argv[argv.index("--cap-drop") + 1] == "ALL" and "--cap-add" not in argv
    i = argv.index("/tmp") - 1
    assert argv[i] == "--tmpfs" and argv[i - 4:i - 2] == ["--size", str(2**20)]
    env = {argv[i + 1]: argv[i + 2] for i in range(len(argv)) if argv[i] == "--setenv"}
    assert env["HOME"] == "/tmp/home" and not [k for k in env if "TOKEN" in k or k.startswith("JUPYTER")]
    # As root: no user namespace, only the capabilities needed to drop to the dedicated uid.
    root_argv = bwrap_argv(runtime=str(rt), etc_dir=str(etc), cwd=None, cwd_src=None, tmp_bytes=2**20,
                           binds=[], uid=1234)
    assert "--unshare-all" not in root_argv and "--unshare-net" in root_argv and "--unshare-pid" in root_argv
    caps = [root_argv[i + 1] for i in range(len(root_argv)) if root_argv[i] == "--cap-add"]
    assert sorted(caps) == ["CAP_SETGID", "CAP_SETUID"]


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
    slow = _cli("grade", "--root", tmp_path / "root", "--source", source, "--student", "sleepy", "--budget", "8",
                "--no-progress")
    assert slow.returncode == 0, slow.stderr
    assert "sleepy: 2/6" in slow.stdout and "time-budget" in slow.stdout, slow.stdout


def test_sanitize_keeps_plain_outputs_and_the_instructors_text_only(tmp_path):
    from autograder.preprocessors import SanitizeNotebook, safe_markdown

    src = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    src.cells = [nbformat.v4.new_markdown_cell("Trusted <b>prose</b>"),
                 nbformat.v4.new_code_cell("x = 1\n### BEGIN HIDDEN TESTS\nsecret_check_line(12345)\n### END HIDDEN TESTS",
                                           metadata={"nbgrader": {"grade": True, "grade_id": "t", "points": 1}})]
    (tmp_path / "a").mkdir()
    nbformat.write(src, tmp_path / "a" / "nb.ipynb")
    sub = nbformat.v4.new_notebook(metadata={"title": "</title><script>x</script>", "widgets": {}})
    sub.cells = [nbformat.v4.new_markdown_cell("Trusted <b>prose</b>"),
                 nbformat.v4.new_markdown_cell('answer <img src=x onerror="alert(1)"> [l](javascript:alert(2)) $a<b$'),
                 nbformat.v4.new_raw_cell("<script>alert(3)</script>"),
                 nbformat.v4.new_code_cell("print(In)", outputs=[
                     nbformat.v4.new_output("stream", text="\x1b[0;31msecret_check_line\x1b[0m(12345)\nok\n"),
                     nbformat.v4.new_output("display_data", data={"text/html": "<script>", "text/plain": "p",
                                                                  "image/png": "AAAA\" onerror=\"x"},
                                            metadata={"width": "1 onload=x"}),
                     nbformat.v4.new_output("display_data", data={"application/javascript": "alert(4)"}),
                     nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="})])]
    sub.cells[3]["metadata"] = {"tags": ["x"], "nbgrader": {"grade": False, "grade_id": "c", "locked": False}}
    pp = SanitizeNotebook(source_directory=str(tmp_path))
    nb, _ = pp.preprocess(sub, {"nbgrader": {"assignment": "a", "notebook": "nb"}})
    assert dict(nb.metadata) == {"kernelspec": {"name": "python3", "display_name": "Python 3"}}
    assert nb.cells[0].source == "Trusted <b>prose</b>"
    answer = nb.cells[1].source
    assert "onerror" not in answer and "javascript:" not in answer and "<img" not in answer
    assert "$a&lt;b$" in answer and answer.startswith('<div class="dlcourse-answer">') and "\n" not in answer
    assert nb.cells[2].source == "&lt;script&gt;alert(3)&lt;/script&gt;"
    outs = nb.cells[3].outputs
    assert outs[0].text == "[a line of a hidden test was removed]\nok\n"
    assert dict(outs[1].data) == {"text/plain": "p"} and not outs[1].metadata
    assert dict(outs[2].data) == {"image/png": "iVBORw0KGgo="} and len(outs) == 3
    assert dict(nb.cells[3].metadata) == {"nbgrader": {"grade": False, "grade_id": "c", "locked": False}}
    assert "<script" not in safe_markdown("<script>alert(1)</script> **bold**") and "<strong>bold" in safe_markdown("**bold**")


def test_duplicate_graded_cells_lose_their_metadata_not_the_notebook():
    from autograder.preprocessors import DropDuplicateIds

    meta = {"nbgrader": {"grade": True, "grade_id": "t", "locked": True, "points": 1, "solution": False}}
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("a", metadata=json.loads(json.dumps(meta))),
                nbformat.v4.new_code_cell("b", metadata={"nbgrader": {}}),
                nbformat.v4.new_code_cell("c", metadata=json.loads(json.dumps(meta)))]
    nb, _ = DropDuplicateIds().preprocess(nb, {})
    assert [("nbgrader" in c.metadata) for c in nb.cells] == [False, False, True]


def test_collect_refuses_links_and_oversize_notebooks(tmp_path, source):
    F = "ch00_fixture"
    inbox = tmp_path / "inbox"
    (inbox / "alice" / F).mkdir(parents=True)
    (inbox / "alice" / F / f"{F}.ipynb").write_text('{"cells": []}')
    (inbox / "bob" / F).mkdir(parents=True)
    (inbox / "bob" / F / f"{F}.ipynb").symlink_to(source / F / f"{F}.ipynb")
    (inbox / "carol").symlink_to(inbox / "alice")
    (inbox / "dave" / F).mkdir(parents=True)
    (inbox / "dave" / F / f"{F}.ipynb").write_bytes(b" " * (2 * 2**20))
    out, err = __import__("io").StringIO(), __import__("io").StringIO()
    assert collect(inbox, tmp_path / "root", source=source, out=out, err=err, max_bytes=2**20) == 0
    assert "1 notebooks imported" in out.getvalue()
    e = err.getvalue()
    assert "bob/" in e and "carol: a symbolic link" in e and "dave/" in e and "over the limit" in e
    assert sorted(p.name for p in (tmp_path / "root" / "submitted").iterdir()) == ["alice"]
    # A zip whose header lies about an entry's size is cut off at the limit.
    z = tmp_path / "lie.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr(f"erin/{F}/{F}.ipynb", b"x" * (3 * 2**20))
    data = bytearray(z.read_bytes())
    import struct
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        i = data.find(sig)
        data[i + off:i + off + 4] = struct.pack("<I", 100)  # the declared uncompressed size
    z.write_bytes(bytes(data))
    err2 = __import__("io").StringIO()
    assert collect(z, tmp_path / "root2", source=source, out=__import__("io").StringIO(), err=err2, max_bytes=2**20) == 1
    assert "erin" in err2.getvalue() and not (tmp_path / "root2" / "submitted" / "erin").exists()
    (tmp_path / "root3").mkdir()
    (tmp_path / "root3" / "submitted").symlink_to(tmp_path / "root" / "submitted")
    err3 = __import__("io").StringIO()
    assert collect(inbox, tmp_path / "root3", source=source, out=__import__("io").StringIO(), err=err3) == 1
    assert "symbolic link" in err3.getvalue()


def test_autograde_failed_reason_is_nbgraders_own_error_not_its_reraise():
    from autograder.grade import autograde_error

    out = {"success": False,
           "log": "[ERROR] Timeout waiting for execute reply (30s).\n"
                  "[ERROR] Notebook JSON is invalid: 'grade_id' is a required property\n",
           "error": "Traceback (most recent call last):\n  File \"x.py\", line 3, in convert\n"
                    "    raise NbGraderException(msg)\nnbgrader.converters.base.NbGraderException: Please see the "
                    "error log above for details.\n"}
    assert autograde_error(out) == "[ERROR] Notebook JSON is invalid: 'grade_id' is a required property"
    assert autograde_error({"error": "KeyError: 'grade_id'"}) == "KeyError: 'grade_id'"


def test_clean_up_keeps_the_empty_cgroup_of_a_live_supervisor():
    """A supervisor makes its cgroup just before its kernel joins it; another worker's clean-up in
    that moment once removed it and the kernel's start failed (CI, a student scored 0)."""
    from autograder.sandbox import Cgroups, remove_stale_cgroups

    if not Cgroups.available():
        pytest.skip("no writable memory+pids cgroups here")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    live = Cgroups(f"kzz{subprocess.os.getpid()}", 2**30, 64)
    dead = Cgroups(f"kzz{gone.pid}", 2**30, 64)
    try:
        remove_stale_cgroups("kzz")
        assert all(d.exists() for d in live.dirs)
        assert not any(d.exists() for d in dead.dirs)
    finally:
        for d in live.dirs + dead.dirs:
            if d.exists():
                d.rmdir()


def test_a_kernel_that_never_started_is_recognised_from_nbgraders_report():
    from autograder.grade import kernel_never_started

    assert kernel_never_started({"success": False, "log": "[ERROR] Kernel died before replying to kernel_info"})
    assert kernel_never_started({"success": False, "error": "RuntimeError: Kernel didn't respond in 60 seconds"})
    assert not kernel_never_started({"success": False, "log": "[ERROR] cell ids must be unique", "error": None})
