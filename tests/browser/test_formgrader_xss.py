"""A submission's HTML, JavaScript and markdown never run in the instructor's formgrader page.

A class of two (an attacker and an honest student) on the fixture chapter is graded through the
real CLI; then nbgrader's formgrader, in a JupyterLab server rooted at the grading root, opens
the attacker's autograded notebook in Chromium. Every payload would set ``document.title`` or
write a file through the instructor's Jupyter API with the page's XSRF cookie; the test first
shows that its detector catches exactly such a payload on a plain page, then asserts that
nothing in formgrader (or the feedback page) ran.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from _support import stop_process_group

from .conftest import _isolated_env, _wait_http, free_port

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "fixtures"))
import build_fixture  # noqa: E402
import students as S  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]
F = build_fixture.CHAPTER

PAYLOAD_CELL = '''from IPython.display import HTML, Javascript, display
display(HTML("<img src=x onerror=\\"document.title='PWNED-html'; fetch('/api/contents/pwned-html.txt', {method: 'PUT', headers: {'X-XSRFToken': (document.cookie.match(/_xsrf=([^;]+)/) || [])[1], 'Content-Type': 'application/json'}, body: JSON.stringify({type: 'file', format: 'text', content: 'x'})})\\">"))
display(Javascript("document.title='PWNED-js'"))
display({"text/html": "<script>document.title='PWNED-script'</script>", "text/plain": "plain"}, raw=True)'''
ANSWER = ('Signs cancel. <img src=x onerror="document.title=\'PWNED-answer\'"> '
          '<a href="javascript:document.title=\'PWNED-link\'" id="lnk">see</a> $a<b$')


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from autograder.release import release

    base = tmp_path_factory.mktemp("xss")
    src, course, root = base / "src", base / "course", base / "root"
    build_fixture.build(src)
    release(None, quiet=True, source=src, out=course)
    stu, sol = S.load(course / F / f"{F}.ipynb"), S.load(src / F / f"{F}.ipynb")
    nb = S.fill(S.perfect(stu, sol), {"ch00-why-answer": ANSWER})
    nb["cells"].append({"cell_type": "code", "execution_count": None, "id": "attack", "metadata": {},
                        "outputs": [], "source": PAYLOAD_CELL})
    nb["metadata"]["title"] = "</title><script>document.title='PWNED-meta'</script>"
    S.write(root, "mallory", F, nb)
    S.write(root, "honest", F, S.perfect(stu, sol))
    for cmd in (["grade", "--root", root, "--source", src, "--jobs", "1", "--no-progress"],
                ["feedback", "--root", root, "--source", src]):
        r = subprocess.run([sys.executable, "-m", "autograder", *map(str, cmd)], cwd=REPO, capture_output=True,
                           text=True, timeout=600)
        assert r.returncode == 0, r.stdout + r.stderr
    return {"base": base, "src": src, "root": root}


@pytest.fixture(scope="module")
def formgrader(graded, chromium_path):
    base, root = graded["base"], graded["root"]
    env = _isolated_env(base / "lab")
    port = free_port()
    log = base / "formgrader.log"
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
           "--port-retries=0", "--IdentityProvider.token=", "--ServerApp.password=", f"--ServerApp.root_dir={root}",
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           f"--CourseDirectory.root={root}", f"--CourseDirectory.source_directory={graded['src']}",
           f"--CourseDirectory.db_url=sqlite:///{root / 'gradebook.db'}", "--CourseDirectory.course_id=dl-fundamentals",
           f"--Exchange.root={base / 'exchange'}"]
    (base / "exchange").mkdir()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=root, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_http(url + "/api/status", proc, log)
        yield url
    finally:
        stop_process_group(proc)


def _watch(page) -> dict:
    seen = {"writes": [], "dialogs": 0}
    page.on("request", lambda req: seen["writes"].append(f"{req.method} {req.url}")
            if req.method not in ("GET", "HEAD", "OPTIONS") else None)

    def on_dialog(dialog):
        seen["dialogs"] += 1
        dialog.dismiss()
    page.on("dialog", on_dialog)
    return seen


def _pwned(page) -> str:
    time.sleep(1.0)  # let image errors and scripts fire
    return page.title() if "PWNED" in page.title() else ""


def test_the_detector_catches_a_payload_on_a_plain_page(page):
    _watch(page)
    page.set_content('<title>ok</title><img src="data:," onerror="document.title=\'PWNED-control\'">')
    assert _pwned(page) == "PWNED-control"


def test_formgrader_runs_nothing_from_the_submission(formgrader, graded, page):
    from nbgrader.api import Gradebook

    with Gradebook("sqlite:///" + str(graded["root"] / "gradebook.db")) as gb:
        sub_id = gb.find_submission_notebook(F, F, "mallory").id
    seen = _watch(page)
    page.goto(f"{formgrader}/formgrader/submissions/{sub_id}/?index=0", wait_until="networkidle")
    page.wait_for_selector("text=Signs cancel", timeout=30000)  # the written answer is shown, as text
    assert _pwned(page) == ""
    page.click("#lnk") if page.locator("#lnk").count() else None
    assert _pwned(page) == ""
    # No element carries the payload in an attribute (its text, escaped, is fine: that is the code).
    armed = page.evaluate("""() => Array.from(document.querySelectorAll('*')).flatMap(el =>
        Array.from(el.attributes).filter(a => a.value.includes('PWNED')).map(a => el.tagName + ' ' + a.name))""")
    assert armed == []
    assert seen["dialogs"] == 0
    assert not [w for w in seen["writes"] if "/api/contents" in w], seen["writes"]
    assert not list(graded["root"].rglob("pwned*"))


def test_feedback_page_runs_nothing_either(graded, page):
    seen = _watch(page)
    feedback = graded["root"] / "feedback" / "mallory" / F / f"{F}.html"
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:"))
               else route.abort())
    page.goto(feedback.as_uri())
    assert _pwned(page) == ""
    assert seen["dialogs"] == 0 and not seen["writes"]
