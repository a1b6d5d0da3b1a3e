"""The instructor's path in autograder/README.md, step by step, on a fresh grading root.

release → collect (a zip, with nbgrader's timestamp.txt) → grade (a due date and a late penalty) →
formgrader in Chromium (a written answer graded by hand) → feedback (readable by the student's
own Unix account where this runs as root) → export in every format → the class report.
Each step is the documented command line; each artefact is asserted. The time of every step
is written to test-artifacts/instructor-path-times.json.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

import pytest
from _support import stop_process_group

from .conftest import _isolated_env, _wait_http, free_port

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "fixtures"))
import students as S  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CH = "ch01_objective_functions"
DLCOURSE = [sys.executable, "-m", "autograder"]
DUE = "2026-10-02 23:59:00 UTC"
WRITTEN = ("ch01-saturation-answer", "ch01-learning-rate-answer")
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "file:", "about:")


def _run(times: dict, step: str, *args, ok=(0,)) -> subprocess.CompletedProcess:
    t0 = time.monotonic()
    r = subprocess.run([*DLCOURSE, *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=900)
    times[step] = round(time.monotonic() - t0, 2)
    assert r.returncode in ok, f"{step}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


def _inbox_zip(path: Path) -> None:
    """alice: the worked solution, on time; bob: the untouched release; carol: the solution, a day late."""
    stu = S.load(REPO / "course" / CH / f"{CH}.ipynb")
    sol = S.load(REPO / "solutions" / CH / f"{CH}.ipynb")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"alice/{CH}/{CH}.ipynb", json.dumps(S.perfect(stu, sol)))
        z.writestr(f"alice/{CH}/timestamp.txt", "2026-10-01 12:00:00.000000 UTC\n")
        z.writestr(f"bob/{CH}/{CH}.ipynb", json.dumps(stu))
        z.writestr(f"bob/{CH}/timestamp.txt", "2026-10-02 10:00:00.000000 UTC\n")
        z.writestr(f"carol/{CH}/{CH}.ipynb", json.dumps(S.perfect(stu, sol)))
        z.writestr(f"carol/{CH}/timestamp.txt", "2026-10-03 10:00:00.000000 UTC\n")


def _wide(path: Path) -> dict:
    return {r["student"]: r for r in csv.DictReader(io.StringIO(path.read_text()))}


@pytest.fixture
def term(tmp_path_factory):
    import tempfile

    # A grading root a second Unix user can traverse (pytest's own tmp folders are 0700).
    base = Path(tempfile.mkdtemp(prefix="dlcourse-term-"))
    os.chmod(base, 0o755)
    yield base
    import shutil

    shutil.rmtree(base, ignore_errors=True)


def _start_formgrader(root: Path, base: Path):
    env = _isolated_env(base / "jupyter")
    Path(env["JUPYTER_CONFIG_DIR"], "jupyter_server_config.json").write_text(json.dumps(
        {"IdentityProvider": {"token": ""}, "ServerApp": {"password": "", "disable_check_xsrf": True},
         "LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate"}}))
    port = free_port()
    log = base / "formgrader.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([*DLCOURSE, "formgrader", "--root", str(root), "--port", str(port), "--no-browser"],
                                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    _wait_http(url + "/api/status", proc, log)
    return proc, url, log


def test_instructor_path_end_to_end(term, page, artifacts):
    import requests

    times: dict[str, float] = {}
    root = term / "dl-2026"
    inbox = term / "submissions.zip"
    _inbox_zip(inbox)

    # 0. release: course/ regenerated from solutions/ (byte-identical when nothing changed).
    before = {p: p.read_bytes() for p in (REPO / "course").rglob("*.ipynb")}
    _run(times, "release", "release", CH)
    assert {p: p.read_bytes() for p in (REPO / "course").rglob("*.ipynb")} == before

    # 1. collect: the notebooks and nbgrader's timestamp.txt beside each.
    _run(times, "collect", "collect", inbox, "--root", root)
    stamps = {s: (root / "submitted" / s / CH / "timestamp.txt").read_text().strip() for s in ("alice", "carol")}
    assert stamps == {"alice": "2026-10-01 12:00:00.000000 UTC", "carol": "2026-10-03 10:00:00.000000 UTC"}
    assert (root / "nbgrader_config.py").exists()  # the root is an nbgrader course directory

    # 2. grade with a due date and a late penalty of 50 % per started day.
    r = _run(times, "grade", "grade", "--root", root, "--due", f"{CH}={DUE}", "--late-penalty", "per-day:50",
             "--jobs", "2", "--timeout", "60", "--no-progress", CH)
    assert "alice: 10/14" in r.stdout and "bob: 0/14" in r.stdout and "carol: 10/14" in r.stdout, r.stdout

    # 3. formgrader (plain nbgrader, started by `dlcourse formgrader`) lists every chapter of solutions/.
    proc, url, log = _start_formgrader(root, term)
    try:
        listed = requests.get(f"{url}/formgrader/api/assignments", timeout=30).json()
        names = {a["name"] for a in listed}
        assert {p.name for p in (REPO / "solutions").glob("ch*") if p.is_dir()} <= names, names
        ch01 = next(a for a in listed if a["name"] == CH)
        assert ch01["num_submissions"] == 3 and ch01["max_written_score"] == 4.0
        subs = requests.get(f"{url}/formgrader/api/submitted_notebooks/{CH}/{CH}", timeout=30).json()
        alice = next(s for s in subs if s["student"] == "alice")

        # … and the instructor grades alice's two written answers by hand, in Chromium (every request local:
        # MathJax comes from the instructor's own server).
        external: list[str] = []
        page.on("request", lambda req: None if req.url.startswith(LOCAL) else external.append(req.url))
        t0 = time.monotonic()
        page.goto(f"{url}/formgrader/submissions/{alice['id']}/", timeout=90_000)
        page.wait_for_function("() => window.MathJax && window.MathJax.Hub", timeout=60_000)
        # each written answer's rubric is beside it, its lines labelled for the grader to cite
        assert page.locator("text=Graders: cite the lines that apply").count() == len(WRITTEN)
        for gid, points in zip(WRITTEN, ("2", "1.5")):
            box = page.locator(f"input.score#{gid}")
            box.wait_for(timeout=60_000)
            box.fill(points)
            box.press("Tab")
        note = page.locator(f"textarea#{WRITTEN[1]}-comment")
        note.fill("R1; R2=0.5: the 500x overshoot near z = 0 is missing")
        note.press("Tab")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            grades = requests.get(f"{url}/formgrader/api/grades", params={"submission_id": alice["id"]},
                                  timeout=30).json()
            manual = {g["name"]: g["manual_score"] for g in grades if g["name"] in WRITTEN}
            comments = requests.get(f"{url}/formgrader/api/comments", params={"submission_id": alice["id"]},
                                    timeout=30).json()
            said = {c["name"]: c["manual_comment"] for c in comments}
            if manual == {WRITTEN[0]: 2.0, WRITTEN[1]: 1.5} and (said.get(WRITTEN[1]) or "").startswith("R1"):
                break
            time.sleep(0.3)
        assert manual == {WRITTEN[0]: 2.0, WRITTEN[1]: 1.5}, manual
        times["formgrader manual grade"] = round(time.monotonic() - t0, 2)
        page.screenshot(path=str(artifacts / "formgrader-manual-grade.png"))
        assert not external, f"the formgrader page asked for non-local resources: {external}"
    finally:
        stop_process_group(proc)

    # 4. feedback: the pages exist, show the score, and any account can read them (0644 like nbgrader's).
    _run(times, "feedback", "feedback", "--root", root)
    for s in ("alice", "bob", "carol"):
        fb = root / "feedback" / s / CH / f"{CH}.html"
        assert stat.S_IMODE(fb.stat().st_mode) & 0o044 == 0o044, oct(fb.stat().st_mode)
    alice_page = (root / "feedback" / "alice" / CH / f"{CH}.html").read_text()
    assert "13.5" in alice_page
    # the rubric lines the grader cited, marked for the student, with the grader's comment
    assert "✓ <strong>R1</strong> — 1 of 1" in alice_page and "✓ <strong>R2</strong> — 0.5 of 1" in alice_page
    assert "the 500x overshoot near z = 0 is missing" in alice_page
    page.set_content((root / "feedback" / "alice" / CH / f"{CH}.html").read_text(), wait_until="load", timeout=60_000)
    assert not external, f"the feedback page asked for non-local resources: {external}"
    if os.getuid() == 0 and shutil.which("useradd") and shutil.which("runuser"):
        user = f"dlc{uuid.uuid4().hex[:8]}"  # alice's own Unix account on a multi-user hub
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", user], check=True)
        try:
            r = subprocess.run(["runuser", "-u", user, "--", "cat", str(root / "feedback" / "alice" / CH / f"{CH}.html")],
                               capture_output=True, text=True, timeout=30)
            assert r.returncode == 0 and "13.5" in r.stdout, r.stderr
        finally:
            subprocess.run(["userdel", user], check=False)

    # 5. export in every format: the manual points are in, the late penalty is nbgrader's.
    for fmt in ("wide", "nbgrader", "canvas", "moodle"):
        _run(times, f"export {fmt}", "export", "--root", root, "--csv", term / f"{fmt}.csv", "--format", fmt)
        assert stat.S_IMODE((term / f"{fmt}.csv").stat().st_mode) & 0o044 == 0o044
    wide = _wide(term / "wide.csv")
    assert wide["(max)"][CH] == "14" and wide["alice"]["max_score"] == "14"
    assert wide["alice"][CH] == "13.5" and wide["alice"]["late_penalty"] == "0"
    assert wide["bob"][CH] == "0" and wide["alice"]["needs_manual_grading"] == "no"
    assert wide["carol"][CH] == "5" and wide["carol"]["late_penalty"] == "5"  # a started day late: -50 %
    nbg = list(csv.DictReader((term / "nbgrader.csv").open()))
    carol = next(r for r in nbg if r["student_id"] == "carol")
    assert carol["duedate"] == "2026-10-02 23:59:00" and carol["timestamp"].startswith("2026-10-03 10:00:00")
    assert (carol["raw_score"], carol["late_submission_penalty"], carol["score"]) == ("10", "5", "5")
    assert next(r for r in nbg if r["student_id"] == "alice")["score"] == "13.5"
    canvas = list(csv.reader((term / "canvas.csv").open()))
    assert canvas[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] and canvas[0][5] == CH
    assert canvas[1][0].strip() == "Points Possible" and canvas[1][5] == "14"
    assert ["alice", "", "", "alice", "", "13.5"] in canvas
    moodle = list(csv.reader((term / "moodle.csv").open()))
    assert moodle == [["Username", CH], ["alice", "13.5"], ["bob", "0"], ["carol", "5"]]

    # 5b. regrade one exercise for one student: that chapter's notebook runs again, the manual grades stay.
    r = _run(times, "regrade one exercise", "grade", "--root", root, "--exercise", "ch01-mse_loss-test",
             "--student", "alice", "--no-progress", "--timeout", "60")
    assert "1 run" in r.stdout and "alice:" in r.stdout and "bob:" not in r.stdout, r.stdout
    _run(times, "export after regrade", "export", "--root", root, "--csv", term / "again.csv")
    assert _wide(term / "again.csv")["alice"][CH] == "13.5"

    # 6. the class report: one static page with inline plots and the most common failing test.
    _run(times, "report", "report", "--root", root, "--html", term / "report.html")
    text = (term / "report.html").read_text()
    assert text.count("<svg") >= 3 and "<script" not in text and "src=" not in text
    assert "ch01-" in text.split("class='fail'>")[1][:80]

    (artifacts.parent / "instructor-path-times.json").write_text(json.dumps(times, indent=1) + "\n")
    print("instructor path, seconds per step:", times)
