"""A hostile class, graded through the real CLI (collect → grade → feedback → export).

Each student below is a perfect solution of the fixture chapter plus one attack, usually in a
cell of its own after every test, so an attack that kills its kernel still leaves the points it
earned. The test plants secrets where a grader's machine has them — an instructor's token in
the environment, a 0600 file and a listening Unix socket in the instructor's home, a previous
term's gradebook beside this term's root, ``/etc/shadow``, the hidden tests — and asserts, for
every attack, what must not happen: no secret in any autograded notebook, feedback page or
export; nothing written outside the sandbox's scratch; nothing active left for a browser; the
batch finishes; each honest student keeps every point earned before the bad cell.

The class is graded twice: with the grader running as root (the kernel becomes a dedicated
unprivileged uid, cgroups bound memory and processes) and as an ordinary user (a user
namespace; a watchdog bounds what cgroups would). The second run grades only the attacks whose
defence depends on that mode (``BY_MODE``: what the sandbox shows and lets write, processes,
memory, scratch, killing) and an honest student; what the grader does with any kernel's output
(capping, copied cells, making outputs inert) is the same code in both modes and is checked in
the first run. A grader that is not root has only the second run, with the whole class.
"""
from __future__ import annotations

import copy
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "fixtures"))
import build_fixture  # noqa: E402
import students as S  # noqa: E402

from autograder.release import hidden_lines, release  # noqa: E402
from autograder.sandbox import bwrap_works  # noqa: E402

pytestmark = pytest.mark.slow
F = build_fixture.CHAPTER
PY = sys.executable
USER_UID = 4242
MEM_MIB, TMP_MIB = 1536, 64
GRADE_OPTS = ["--jobs", "2", "--timeout", "10", "--budget", "150", "--mem", str(MEM_MIB), "--cpu", "60",
              "--nproc", "64", "--tmp", str(TMP_MIB), "--no-progress", "--sandbox", "bwrap"]

ENV_SECRET = "env_secret_token_5d1c"
HOME_SECRET = "home_secret_9b2e"
SOCKET_SECRET = "socket_secret_44aa"
PREV_SECRET = "previous_term_secret_c0de"
LEAK_SECRET = "left_by_a_leaver_77f1"

GOOD_NORM = "def l2_norm(x):\n    return float(np.sqrt(np.sum(x * x)))"
GOOD_MSQ = "def mean_square(x):\n    return float(np.mean(x * x))"


def _conn_dir() -> str:
    return ("from ipykernel.kernelapp import IPKernelApp\n"
            "RUNTIME = os.path.dirname(os.path.abspath(IPKernelApp.instance().connection_file))\n")


def attacks(paths: dict) -> dict[str, dict]:
    """student -> {"final": code in a cell of its own before the last test | "msq": code for exercise 2, ...}."""
    home, prev, root = paths["home"], paths["prev"], paths["root"]
    pwned = [str(root / "pwned"), str(home / "pwned"), str(REPO / "pwned"), str(paths["base"] / "pwned"),
             str(root / "submitted" / "c_host" / "pwned"), "/var/tmp/dlcourse-pwned"]
    read = [
        "/etc/shadow", str(home / "secret.txt"), str(prev / "gradebook.db"), str(root / "gradebook.db"),
        str(REPO / "solutions" / "ch01_objective_functions" / "ch01_objective_functions.ipynb"),
        str(REPO / "chapters" / "ch01_objective_functions.py"), str(paths["src"] / F / f"{F}.ipynb"),
        "/proc/1/environ", "/root/.bash_history",
    ]
    return {
        "a_leaver": {"final": "import os\n" + _conn_dir() +
                     f"open(os.path.join(RUNTIME, 'leak.txt'), 'w').write({LEAK_SECRET!r})\n"
                     f"open('/tmp/leak.txt', 'w').write({LEAK_SECRET!r})\nprint('left it')"},
        "b_reader": {"final": "import os, glob, socket\n" + _conn_dir() + f'''
print("ENV", dict(os.environ))
for p in {read!r} + glob.glob(RUNTIME + "/*") + glob.glob("/tmp/*") + glob.glob({str(home)!r} + "/*"):
    try:
        print("READ", p, open(p, "rb").read(4000))
    except Exception as e:
        print("DENIED", p, type(e).__name__)
for p in ["/", {str(paths["base"])!r}, {str(root)!r}, {str(prev)!r}, "/home", "/root", "/run", "/var/run"]:
    try:
        print("LS", p, os.listdir(p))
    except Exception as e:
        print("NOLS", p, type(e).__name__)
try:
    s = socket.socket(socket.AF_UNIX); s.connect({str(home / "agent.sock")!r}); print("SOCK", s.recv(100))
except Exception as e:
    print("NOSOCK", type(e).__name__)
print("\\n".join(In))
print(_ih)'''},
        "c_host": {"final": f'''import os
before = open("/proc/sys/vm/swappiness").read()
for p, v in [("/proc/sys/vm/swappiness", "17"), ("/proc/sys/kernel/core_pattern", "|/tmp/x")]:
    try:
        open(p, "w").write(v); print("WROTE", p)
    except Exception as e:
        print("NOWRITE", p, type(e).__name__)
for p in {pwned!r}:
    try:
        open(p, "w").write("pwned"); print("WROTE", p)
    except Exception as e:
        print("NOWRITE", p, type(e).__name__)'''},
        "d_forker": {"final": '''import os, time
n = 0
pids = []
try:
    for i in range(200):
        pid = os.fork()
        if pid == 0:
            time.sleep(1.5)
            os._exit(0)
        pids.append(pid)
        n += 1
except OSError as e:
    print("FORK REFUSED", type(e).__name__)
print("FORKED", n)
for p in pids:
    os.waitpid(p, 0)'''},
        "e_memhog": {"final": f'''import os, time
import numpy as np
pids = []
for i in range(8):
    pid = os.fork()
    if pid == 0:
        try:
            a = np.ones(int(0.15 * {MEM_MIB} * 2**20) // 8)
            time.sleep(4)  # long enough for the eight to hold theirs at once on a loaded machine
        finally:
            os._exit(0)
    pids.append(pid)
print("children", [os.waitpid(p, 0)[1] for p in pids])'''},
        "f_tmpfill": {"final": "import os\n" + _conn_dir() + '''
n = 0
try:
    with open("/tmp/fill", "wb") as f:
        for i in range(4096):
            f.write(b"x" * 2**20); n += 1
except OSError as e:
    print("TMP FULL", type(e).__name__)
print("TMP MIB", n, flush=True)
os.remove("/tmp/fill")
with open(os.path.join(RUNTIME, "fill"), "wb") as f:
    for i in range(200):
        f.write(b"y" * 2**20)
        f.flush()
import time; time.sleep(3)
print("still here")'''},
        "g_bigprint": {"final": 'import os\nfor i in range(100):\n    print("z" * 10**6)\n'
                       'os.write(1, b"fd1-" * 2**20)\nos.write(2, b"fd2-" * 2**20)\nprint("done")'},
        "h_stuck": {"msq": "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(600)\n" + GOOD_MSQ},
        "i_dup": {"dup": "ch00-norm-test"},
        "j_xss": {"final": '''from IPython.display import HTML, Javascript, SVG, display
display(HTML("<script>document.title='PWNED-html'</script><img src=x onerror=\\"document.title='PWNED-img'\\">"))
display(Javascript("document.title='PWNED-js'"))
display({"text/html": "<b onmouseover=alert(1)>x</b>", "text/plain": "plain fallback"}, raw=True)
display(SVG('<svg xmlns="http://www.w3.org/2000/svg"><script>document.title="PWNED-svg"</script></svg>'))
display({"image/png": "AAAA\\" onerror=\\"document.title='PWNED-png'"}, raw=True)''',
                  "answer": 'Because <img src=x onerror="document.title=\'PWNED-answer\'"> signs cancel. '
                            '[click](javascript:document.title="PWNED-link") and $a<b$.',
                  "title": "</title><script>document.title='PWNED-meta'</script>",
                  "raw": "<script>document.title='PWNED-raw'</script>"},
        "k_perfect": {},
        "l_daemon": {"final": "import os\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                              "        os.execv('/bin/sleep', ['/bin/sleep', '4242.17'])\n    os._exit(0)\n"
                              "print('daemon started')"},
    }


EXPECTED = {  # student -> (autograded points out of 5, flags that must be present)
    "a_leaver": (5, set()), "b_reader": (5, set()), "c_host": (5, set()), "d_forker": (5, set()),
    "e_memhog": (5, {"memory-limit"}), "f_tmpfill": (5, {"scratch-limit"}), "g_bigprint": (5, set()),
    "h_stuck": (2, {"timeout:ch00-msq-impl"}), "i_dup": (5, set()), "j_xss": (5, set()), "k_perfect": (5, set()),
    "l_daemon": (5, set()),
    "z_blank": (0, set()),
}
# The attacks whose defence differs between a root grader and an ordinary one: the user namespace
# and uid (what can be read, written, left behind), RLIMIT_NPROC on a dedicated uid vs a count with
# the grader's own processes, cgroups vs the watchdog (memory, scratch), killing a stuck or
# daemonised sandbox without a cgroup. The rest (g_bigprint, i_dup, j_xss, z_blank) is grader code.
BY_MODE = {"a_leaver", "b_reader", "c_host", "d_forker", "e_memhog", "f_tmpfill", "h_stuck", "k_perfect", "l_daemon"}
IS_ROOT = os.geteuid() == 0


def class_of(mode: str) -> set[str]:
    """The students graded in a run: the whole class as root, or as the only run there is."""
    return set(EXPECTED) if mode == "root" or not IS_ROOT else set(BY_MODE)


# Checks of grader code that behaves the same in both modes: on the run that grades the whole class.
WHOLE_CLASS = ["root"] if IS_ROOT else ["user"]


def _build(stu: dict, sol: dict, spec: dict) -> dict:
    answers = {"ch00-norm-impl": GOOD_NORM, "ch00-msq-impl": spec.get("msq", GOOD_MSQ)}
    nb = S.fill(stu, answers)
    if "answer" in spec:
        nb = S.fill(nb, {"ch00-why-answer": spec["answer"]})
    if "final" in spec:
        # A cell of its own just before the last test: what comes after the last test is never run
        # (it cannot change a grade), so an attack there would test nothing.
        last = max(i for i, c in enumerate(nb["cells"]) if c.get("metadata", {}).get("nbgrader", {}).get("grade")
                   and not c["metadata"]["nbgrader"].get("solution"))
        nb["cells"].insert(last, {"cell_type": "code", "execution_count": None, "id": "attack", "metadata": {},
                                  "outputs": [], "source": spec["final"]})
    if "raw" in spec:
        nb["cells"].append({"cell_type": "raw", "id": "rawattack", "metadata": {"raw_mimetype": "text/html"},
                            "source": spec["raw"]})
    if "title" in spec:
        nb["metadata"]["title"] = spec["title"]
        nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2,
                                                                                   "version_minor": 0}}
    if "dup" in spec:
        cell = next(c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == spec["dup"])
        copy_ = copy.deepcopy(cell)
        copy_["id"] = "pasted"
        nb["cells"].append(copy_)
    return nb


# ----------------------------------------------------------------------------- running as someone
def _blocked_ancestors(path: Path, uid: int) -> list[Path]:
    out = []
    for a in reversed(path.resolve().parents):
        if str(a) == "/":
            continue
        st = a.stat()
        if not (st.st_mode & stat.S_IXOTH) and st.st_uid != uid:
            out.append(a)
            break
    return out


def as_user_prefix(uid: int, needed: list[Path]) -> list[str]:
    """Run a command as ``uid`` in a mount namespace where ``needed`` paths are reachable
    (an ancestor only root may traverse, such as /root for a pyenv interpreter, is replaced by
    a 0755 tmpfs holding just those paths). Needs root and bubblewrap."""
    argv = ["bwrap", "--dev-bind", "/", "/"]
    covered: set[Path] = set()
    for p in needed:
        for a in _blocked_ancestors(p, uid):
            if a not in covered:
                argv += ["--perms", "0755", "--tmpfs", str(a)]
                covered.add(a)
    for p in needed:
        p = p.resolve()
        tops = [a for a in covered if a in p.parents]
        if tops:  # bubblewrap would create the folders on the way as 0700: make them traversable
            for d in sorted((d for d in p.parents if tops[0] in d.parents), key=lambda d: len(d.parts)):
                argv += ["--perms", "0755", "--dir", str(d)]
            argv += ["--ro-bind", str(p), str(p)]
    return argv + ["--", "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]


def _serve_secret(path: Path, stop: threading.Event) -> threading.Thread:
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(str(path))
    srv.listen(4)
    srv.settimeout(0.2)

    def loop():
        with srv:
            while not stop.is_set():
                try:
                    conn, _ = srv.accept()
                except OSError:
                    continue
                with conn:
                    conn.sendall(SOCKET_SECRET.encode())
    t = threading.Thread(target=loop, daemon=True)
    t.start()
    return t


@pytest.fixture(params=["root", "user"])
def mode(request):
    """Who runs the grader; a test that checks only one run parametrizes ``mode`` itself."""
    return request.param


@pytest.fixture(scope="module")
def _runs():
    """mode -> its graded class, each graded once, on first use; the folders go at the end."""
    done: dict[str, object] = {}
    bases: list[Path] = []

    def get(mode: str) -> dict:
        if mode not in done:
            try:
                if not bwrap_works():
                    if os.environ.get("CI") == "true":
                        pytest.fail("bubblewrap is required under CI=true (apt-get install bubblewrap)")
                    pytest.skip("bubblewrap is not installed or cannot build a sandbox here")
                if mode == "root" and not IS_ROOT:
                    pytest.skip("grading as root needs root")
                base = Path(tempfile.mkdtemp(prefix="dlcourse-hostile-", dir="/tmp"))
                bases.append(base)
                os.chmod(base, 0o755)
                done[mode] = _grade_class(base, mode == "user" and IS_ROOT, class_of(mode))
            except BaseException as exc:  # a skip or a failure is the same for every test of that run
                done[mode] = exc
        if isinstance(done[mode], BaseException):
            raise done[mode]
        return done[mode]
    yield get
    for base in bases:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def hostile(mode, _runs):
    return _runs(mode)


def _grade_class(base: Path, switch_user: bool, students: set[str]) -> dict:
    src, course, root, prev, home = (base / n for n in ("src", "course", "root", "term-2025", "home"))
    build_fixture.build(src)
    release(None, quiet=True, source=src, out=course)
    paths = {"base": base, "src": src, "root": root, "prev": prev, "home": home}
    prev.mkdir()
    (prev / "gradebook.db").write_text(f"hidden test source and student ids: {PREV_SECRET}")
    home.mkdir(mode=0o700)
    (home / "secret.txt").write_text(HOME_SECRET)
    os.chmod(home / "secret.txt", 0o600)
    stop = threading.Event()
    _serve_secret(home / "agent.sock", stop)
    stu, sol = S.load(course / F / f"{F}.ipynb"), S.load(src / F / f"{F}.ipynb")
    inbox = base / "inbox"
    for name, spec in attacks(paths).items():
        if name in students:
            S.write(inbox, name, F, _build(stu, sol, spec))
            shutil.move(str(inbox / "submitted" / name), str(inbox / name))
    if "z_blank" in students:
        S.write(inbox, "z_blank", F, stu)
        shutil.move(str(inbox / "submitted" / "z_blank"), str(inbox / "z_blank"))
    (inbox / "submitted").rmdir()
    # collect must refuse: a link to the instructor's solution, and (in a zip) an oversize notebook.
    (inbox / "y_symlink" / F).mkdir(parents=True)
    (inbox / "y_symlink" / F / f"{F}.ipynb").symlink_to(src / F / f"{F}.ipynb")
    big = base / "late.zip"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"x_bigzip/{F}/{F}.ipynb", b'{"cells": [], "pad": "' + b" " * (100 * 2**20) + b'"}')
        link = zipfile.ZipInfo(f"x_ziplink/{F}/{F}.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(link, str(src / F / f"{F}.ipynb"))
        z.write(inbox / "k_perfect" / F / f"{F}.ipynb", f"k_perfect/{F}/{F}.ipynb")  # unchanged: no-op
    if switch_user:
        for p in [base, *base.rglob("*")]:
            os.lchown(p, USER_UID, USER_UID)
    prefix = as_user_prefix(USER_UID, [REPO, Path(sys.prefix), Path(sys.base_prefix), base]) if switch_user else []
    env = {**os.environ, "HOME": str(home), "JUPYTERHUB_API_TOKEN": ENV_SECRET, "INSTRUCTOR_SECRET": ENV_SECRET,
           "USER": "grader" if switch_user else os.environ.get("USER", "root")}

    def cli(*args, timeout=900):
        return subprocess.run([*prefix, PY, "-m", "autograder", *map(str, args)], cwd=REPO, capture_output=True,
                              text=True, timeout=timeout, env=env)

    swappiness = Path("/proc/sys/vm/swappiness").read_text()
    protected = {p: p.read_bytes() for p in [*src.rglob("*.ipynb"), prev / "gradebook.db", home / "secret.txt"]}
    runs = {"collect": cli("collect", inbox, "--root", root, "--source", src),
            "collect_zip": cli("collect", big, "--root", root, "--source", src)}
    runs["grade"] = cli("grade", "--root", root, "--source", src, *GRADE_OPTS)
    runs["feedback"] = cli("feedback", "--root", root, "--source", src)
    runs["export"] = cli("export", "--root", root, "--csv", base / "grades.csv")
    stop.set()
    rows = {}
    if (base / "grades.csv").exists():
        import csv
        rows = {r["student"]: r for r in csv.DictReader((base / "grades.csv").open())}
    return {"paths": paths, "runs": runs, "rows": rows, "sol": sol, "switch_user": switch_user, "students": students,
            "swappiness": (swappiness, Path("/proc/sys/vm/swappiness").read_text()), "protected": protected,
            "artefacts": _read_artefacts(root, base), "notebooks": _autograded(root)}


def _read_artefacts(root: Path, base: Path) -> dict[str, str]:
    out = {}
    for p in [*(root / "autograded").rglob("*"), *(root / "feedback").rglob("*"), base / "grades.csv"]:
        if p.is_file():
            out[str(p.relative_to(base))] = p.read_bytes().decode("utf-8", "replace")
    return out


def _autograded(root: Path) -> dict[str, dict]:
    return {p.parts[-3]: json.loads(p.read_text()) for p in (root / "autograded").glob(f"*/{F}/{F}.ipynb")}


def _outputs(nb: dict) -> str:
    return "\n".join(json.dumps(o) for c in nb["cells"] for o in c.get("outputs", []))


# ----------------------------------------------------------------------------- the assertions
def test_every_command_succeeds_and_the_batch_finishes(hostile):
    runs = hostile["runs"]
    for name, r in runs.items():
        assert r.returncode == 0, f"{name}: {r.stdout}\n{r.stderr}"
    assert "sandbox: bwrap" in runs["grade"].stdout
    n = len(hostile["students"])
    assert f"graded {n}/{n} submissions of {n} students" in runs["grade"].stdout, runs["grade"].stdout


def test_collect_refuses_links_and_oversize_notebooks_one_line_each(hostile):
    err = hostile["runs"]["collect"].stderr + hostile["runs"]["collect_zip"].stderr
    assert "y_symlink" in err and "symbolic link" in err
    assert "x_bigzip" in err and "over the limit" in err
    assert "x_ziplink" in err
    root = hostile["paths"]["root"]
    for name in ("y_symlink", "x_bigzip", "x_ziplink"):
        assert not (root / "submitted" / name / F / f"{F}.ipynb").exists(), name
    assert sorted(p.name for p in (root / "submitted").iterdir()) == sorted(hostile["students"])


@pytest.mark.parametrize("mode, student", [(m, s) for m in ("root", "user") for s in sorted(class_of(m))])
def test_each_student_scores_what_their_code_earned(hostile, student):
    points, flags = EXPECTED[student]
    row = hostile["rows"][student]
    assert float(row[F]) == points, (student, row, hostile["runs"]["grade"].stdout)
    got = set(row["flags"].split()) if row["flags"] else set()
    assert {f"{F}:{f}" for f in flags} <= got, (student, got)
    assert f"{F}:autograde-failed" not in got and f"{F}:invalid-notebook" not in got


def test_no_secret_reaches_any_notebook_feedback_or_export(hostile):
    secrets = {ENV_SECRET, HOME_SECRET, SOCKET_SECRET, PREV_SECRET}
    try:
        secrets.add(Path("/etc/shadow").read_text().splitlines()[0])
    except (OSError, IndexError):
        pass
    hidden = hidden_lines(hostile["sol"]) | {build_fixture.HIDDEN_CANARY}
    for name, text in hostile["artefacts"].items():
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{name} holds {leaked}"
        if name.startswith("root/feedback") or name.endswith(".csv"):
            assert not [h for h in hidden if h in text], name
    for student, nb in hostile["notebooks"].items():
        out = _outputs(nb)
        assert not [h for h in hidden if h in out], f"{student}: a hidden-test line in an output"
    # What a leaver left for the next student graded by the same worker is gone.
    assert {"a_leaver", "b_reader"} <= hostile["students"]
    assert LEAK_SECRET not in _outputs(hostile["notebooks"]["b_reader"])


def test_the_reader_saw_nothing_but_its_own_sandbox(hostile):
    out = _outputs(hostile["notebooks"]["b_reader"])
    assert "NOSOCK" in out and "SOCK b" not in out
    p = hostile["paths"]
    for path in ["/etc/shadow", p["home"] / "secret.txt", p["prev"] / "gradebook.db", p["root"] / "gradebook.db",
                 REPO / "solutions" / "ch01_objective_functions" / "ch01_objective_functions.ipynb",
                 REPO / "chapters" / "ch01_objective_functions.py", p["src"] / F / f"{F}.ipynb",
                 "/root/.bash_history"]:
        assert f"DENIED {path} " in out, path
    # pid 1 is bubblewrap's init: as an ordinary grader it is the student's own uid, so readable,
    # but it was started with nothing in its environment.
    if "READ /proc/1/environ " in out:
        assert "READ /proc/1/environ b'PATH=/usr/bin:/bin\\\\x00'" in out
    for path in [p["prev"], "/home", "/run"]:
        assert f"NOLS {path} " in out, path
    assert f"LS {p['base']} ['root']" in out  # only the empty folders on the way to its own
    env = out[out.index("ENV {"):].split("\\n", 1)[0]
    assert "JUPYTERHUB" not in env and "INSTRUCTOR" not in env and str(p["home"]) not in env


def test_nothing_outside_the_scratch_was_written(hostile):
    before, after = hostile["swappiness"]
    assert before == after
    for p, data in hostile["protected"].items():
        assert p.read_bytes() == data, p
    base = hostile["paths"]["base"]
    for p in [base / "root" / "pwned", base / "home" / "pwned", REPO / "pwned", base / "pwned",
              base / "root" / "submitted" / "c_host" / "pwned", Path("/tmp/dlcourse-pwned"),
              Path("/var/tmp/dlcourse-pwned")]:
        assert not p.exists(), p
    # Under /tmp the sandbox has its own bounded scratch (the folders on the way to its working
    # directory live there when the grading root is under /tmp, as here): writing there is allowed.
    wrote = [line for line in _outputs(hostile["notebooks"]["c_host"]).split("\\n") if "WROTE " in line]
    assert all(w.split("WROTE ", 1)[1].startswith("/tmp/") for w in wrote), wrote
    assert not Path("/tmp/dlcourse-pwned").exists()


def test_processes_memory_and_tmp_are_bounded(hostile):
    nbs = hostile["notebooks"]
    forker = _outputs(nbs["d_forker"])
    if "FORKED" in forker:
        n = int(forker.split("FORKED ")[1].split("\\n")[0].split('"')[0])
        assert n < 100, n
    tmp = _outputs(nbs["f_tmpfill"])
    assert "TMP FULL" in tmp
    assert int(tmp.split("TMP MIB ")[1].split("\\n")[0].split('"')[0]) <= TMP_MIB
    assert '"still here\\n"' not in tmp  # stopped (EFBIG, or killed) while filling its runtime folder


@pytest.mark.parametrize("mode", WHOLE_CLASS)
def test_output_is_bounded(hostile):
    base = hostile["paths"]["base"]
    big = base / "root" / "autograded" / "g_bigprint" / F / f"{F}.ipynb"
    assert big.stat().st_size < 2 * 2**20
    assert "[output truncated: " in big.read_text()
    page = base / "root" / "feedback" / "g_bigprint" / F / f"{F}.html"
    assert page.stat().st_size < 3 * 2**20
    log = base / "root" / ".autograder" / "logs" / "g_bigprint" / f"{F}.log"
    assert not log.exists() or log.stat().st_size <= 64 * 1024


@pytest.mark.parametrize("mode", WHOLE_CLASS)
def test_nothing_active_is_left_for_the_instructors_browser(hostile):
    nb = hostile["notebooks"]["j_xss"]
    for c in nb["cells"]:
        for o in c.get("outputs", []):
            assert set(o.get("data", {})) <= {"text/plain", "image/png", "image/jpeg"}, o
            assert not o.get("metadata"), o
        if c["cell_type"] in ("markdown", "raw"):
            assert "<img" not in c["source"] and "<script" not in c["source"] and "javascript:" not in c["source"]
    assert "title" not in nb["metadata"] and "widgets" not in nb["metadata"]
    page = hostile["artefacts"][f"root/feedback/j_xss/{F}/{F}.html"]
    assert active_html(page) == [], active_html(page)
    assert "$a&lt;b$" in page or "a&lt;b" in page  # the answer's maths still renders


def active_html(page: str) -> list[str]:
    """Event-handler attributes, script URLs and scripts that mention the payload, in a page."""
    from html.parser import HTMLParser

    found: list[str] = []

    class P(HTMLParser):
        in_script = False

        def handle_starttag(self, tag, attrs):
            self.in_script = tag == "script"
            for k, v in attrs:
                if k.lower().startswith("on") or (v or "").strip().lower().startswith(("javascript:", "vbscript:")):
                    found.append(f"<{tag} {k}={v!r}>")

        def handle_data(self, data):
            if self.in_script and "PWNED" in data:
                found.append(f"<script>{data[:80]}")

        def handle_endtag(self, tag):
            self.in_script = False
    P().feed(page)
    return found


def test_no_process_outlives_its_sandbox(hostile):
    assert "daemon started" in _outputs(hostile["notebooks"]["l_daemon"])
    left = subprocess.run(["pgrep", "-f", "sleep 4242.17"], capture_output=True, text=True).stdout.split()
    assert left == [], left


def test_stuck_cell_costs_only_what_follows(hostile):
    nb = hostile["notebooks"]["h_stuck"]
    norm = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "ch00-norm-test")
    assert not [o for o in norm["outputs"] if o["output_type"] == "error"]
    assert "CellTimeoutError" in _outputs(nb)


def test_the_active_html_detector_finds_what_it_looks_for():
    page = ('<img src=x onerror="document.title=1"><a href=" JavaScript:alert(1)">x</a>'
            '<script>document.title="PWNED"</script><p>&lt;img onerror=1&gt;</p>')
    assert len(active_html(page)) == 3
