"""A student's workspace is their own: `make lab` copies chapters in and never overwrites work.

The sync rules on small files; then a real clone of this repository where a student saves a
notebook and the instructor's side moves on — `git pull` of a new release, `python -m
autograder release`, `make test` — and the saved notebook is still there, byte for byte; and
JupyterLab started as `make lab` starts it shows none of nbgrader's instructor tools.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from _support import stop_process_group

from dlcore import workspace as W

REPO = Path(__file__).resolve().parents[1]
CH = "ch01_objective_functions"


def _git(cwd, *args):
    r = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
                            "GIT_COMMITTER_EMAIL": "t@x"})
    assert r.returncode == 0, f"git {args}: {r.stdout}{r.stderr}"
    return r.stdout


def test_sync_copies_new_follows_untouched_and_keeps_edited(tmp_path):
    course, ws = tmp_path / "course", tmp_path / "workspace"
    (course / "ch01").mkdir(parents=True)
    (course / "ch01" / "ch01.ipynb").write_text("v1")
    (course / "ch01" / "data.txt").write_text("d1")
    assert W.sync(course, ws)["copied"] == ["ch01/ch01.ipynb", "ch01/data.txt"]
    (ws / "ch01" / "ch01.ipynb").write_text("my work")
    assert W.sync(course, ws)["beside"] == []  # edited, release unchanged: nothing to say
    (course / "ch01" / "ch01.ipynb").write_text("v2")
    (course / "ch01" / "data.txt").write_text("d2")
    (course / "ch02").mkdir()
    (course / "ch02" / "ch02.ipynb").write_text("new")
    done = W.sync(course, ws)
    assert (ws / "ch01" / "ch01.ipynb").read_text() == "my work"
    assert (ws / "ch01" / "ch01.release.ipynb").read_text() == "v2"
    assert (ws / "ch01" / "data.txt").read_text() == "d2" and done["updated"] == ["ch01/data.txt"]
    assert done["copied"] == ["ch02/ch02.ipynb"] and done["kept"] == ["ch01/ch01.ipynb"]
    page = json.loads((ws / ".jupyter" / "labconfig" / "page_config.json").read_text())
    assert page["disabledExtensions"] == {"@jupyter/nbgrader": True}


@pytest.mark.slow
def test_saved_notebook_survives_git_pull_release_and_make_test(tmp_path):
    if _git(REPO, "status", "--porcelain", "--", "dlcore/workspace.py", "Makefile", ".gitignore").strip():
        pytest.skip("commit dlcore/workspace.py, Makefile and .gitignore first: this test clones HEAD")
    upstream, student = tmp_path / "upstream", tmp_path / "student"
    _git(tmp_path, "clone", "-q", str(REPO), str(upstream))
    _git(tmp_path, "clone", "-q", str(upstream), str(student))
    py = [sys.executable, "-m", "dlcore.workspace"]
    subprocess.run(py, cwd=student, check=True, timeout=60, env={**os.environ, "PYTHONPATH": str(student)})
    mine = student / "workspace" / CH / f"{CH}.ipynb"
    nb = json.loads(mine.read_text())
    nb["cells"][0]["source"] = "my notes: saved by the student"
    mine.write_text(json.dumps(nb))
    saved = mine.read_bytes()

    # The instructor publishes a changed chapter 1; the student pulls it.
    released = upstream / "course" / CH / f"{CH}.ipynb"
    up = json.loads(released.read_text())
    up["cells"][0]["source"] = ["an erratum in the release\n"]
    released.write_text(json.dumps(up, indent=1))
    _git(upstream, "commit", "-qam", "erratum")
    _git(student, "pull", "-q")
    assert _git(student, "status", "--porcelain") == ""  # workspace/ is ignored: nothing to merge
    env = {**os.environ, "PYTHONPATH": str(student)}
    subprocess.run(py, cwd=student, check=True, timeout=60, env=env)
    assert mine.read_bytes() == saved
    assert "erratum" in (mine.parent / f"{CH}.release.ipynb").read_text()

    # A release regenerates course/ (solutions/ of the clone), then the test suite runs (restricted to one
    # quick file through PYTEST_ADDOPTS: the point is what `make test` writes, not the whole suite).
    r = subprocess.run([sys.executable, "-m", "autograder", "release", CH], cwd=student, capture_output=True,
                       text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    venv = Path(sys.executable).parent.parent
    # `-o STAMP`: never reinstall (that would point this environment's editable install at the clone).
    r = subprocess.run(["make", "-o", str(venv / ".installed"), "test", f"VENV={venv}", f"STAMP={venv / '.installed'}"],
                       cwd=student,
                       capture_output=True, text=True, timeout=600,
                       env={**env, "PYTEST_ADDOPTS": "tests/test_docs.py -p no:cacheprovider"})
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "pip install" not in r.stdout
    subprocess.run(py, cwd=student, check=True, timeout=60, env=env)
    assert mine.read_bytes() == saved


@pytest.mark.slow
def test_lab_as_make_lab_starts_it_shows_no_instructor_tools(tmp_path):
    """Even in an environment that has nbgrader (the dev install), the student's Lab has none of it."""
    pytest.importorskip("nbgrader")
    sys.path.insert(0, str(REPO / "tests"))
    from browser.conftest import _isolated_env, _wait_http, free_port

    (tmp_path / "course" / "ch01").mkdir(parents=True)
    (tmp_path / "course" / "ch01" / "ch01.ipynb").write_text(json.dumps(
        {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    W.sync(tmp_path / "course", tmp_path / "workspace")
    env = _isolated_env(tmp_path / "jupyter")
    env["JUPYTER_CONFIG_PATH"] = str(tmp_path / "workspace" / ".jupyter")  # what `make lab` sets
    port = free_port()
    log = tmp_path / "lab.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
                                 f"--port={port}", "--IdentityProvider.token=",
                                 f"--notebook-dir={tmp_path / 'workspace'}"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_http(url + "/api/status", proc, log)
        page = urllib.request.urlopen(url + "/lab", timeout=30).read().decode()
        config = json.loads(page.split('id="jupyter-config-data"')[1].split(">", 1)[1].split("</script>")[0])
        assert "@jupyter/nbgrader" in config["disabledExtensions"], config["disabledExtensions"]
        for path in ("/formgrader", "/assignments?course_id=x", "/formgrader/api/assignments"):
            with pytest.raises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(url + path, timeout=30)
            assert e.value.code == 404, path
        time.sleep(0.2)
    finally:
        stop_process_group(proc)
