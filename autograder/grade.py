"""`python -m autograder grade`: autograde every submission under ROOT/submitted, in parallel.

Layout of the grading root (never inside the repository)::

    ROOT/submitted/<student>/<chapter>/<chapter>.ipynb   (python -m autograder collect)
    ROOT/autograded/…, ROOT/feedback/…, ROOT/gradebook.db  (nbgrader)
    ROOT/.autograder/results/<student>/<chapter>.json    (status, score, flags, input digest)

Each (student, chapter) is one task, run by ``NbGraderAPI.autograde`` in a worker process
through the sandbox kernel (:mod:`autograder.sandbox`). A task's result file is written
atomically after the gradebook was updated, and it records a digest of the submission, the
source notebook and the grading settings: a re-run skips tasks whose digest is unchanged
(idempotent), and a batch killed half-way resumes with the tasks that have no result yet.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path

from autograder.release import REPO, chapters, ensure_venv_on_path, load_config

STUDENT_OK = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-."
from dlcore.testing import INTEGRITY_MARK  # noqa: E402 - defined once, in the checking module
from autograder.trusted import UNAVAILABLE  # noqa: E402
SETTINGS_VERSION = "3"  # 3: points decided outside the student's process (autograder.trusted)


@dataclass
class Settings:
    root: Path
    source: Path = REPO / "solutions"
    jobs: int = 0
    timeout: int = 30          # seconds per cell
    budget: int = 300          # seconds per notebook
    mem: int = 3 * 2**30       # bytes of address space for the kernel
    cpu: int = 300             # CPU seconds for the kernel
    hide: list[str] = field(default_factory=list)
    force: bool = False
    sandbox: str = "auto"      # auto | bwrap | limits
    nproc: int = 64            # processes and threads of one kernel
    tmp: int = 256 * 2**20     # bytes of the kernel's /tmp
    max_notebook: int = 16 * 2**20  # bytes of a submitted notebook
    late_penalty: str = "none"  # none | zero | per-day:P (autograder.late)
    scheduler: object = ""     # a Dask scheduler's address (or, from Python, a distributed.Client): its workers grade
    cluster: str = ""          # local:N: grade on a local Dask cluster of N worker processes

    def digest_part(self) -> str:
        parts = [SETTINGS_VERSION, self.timeout, self.budget, self.mem, self.cpu, self.nproc, self.tmp,
                 self.max_notebook]
        if self.late_penalty != "none":  # (only when set: grades recorded before it stay valid)
            parts.append(self.late_penalty)
        return json.dumps(parts, sort_keys=True)


@dataclass
class Result:
    student: str
    chapter: str
    status: str                # graded | invalid | error
    score: float = 0.0
    max_score: float = 0.0
    flags: list[str] = field(default_factory=list)
    reason: str = ""
    digest: str = ""
    seconds: float = 0.0
    # where the time went (autograder.preprocessors.STAGES): kernel (the student's notebook, start
    # to shutdown), kernel_cells, trusted (scoring, beside the kernel), trusted_wait, nbgrader (the rest)
    stages: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------- configuration
def grading_config(s: Settings):
    """nbgrader config for a grading root: source from the repository, everything else in ROOT.

    The pipeline's structure (preprocessors) comes from the repository's nbgrader_config.py.
    """
    from autograder.sandbox import KERNEL_NAME

    from autograder.courseroot import configure

    root = Path(s.root).resolve()
    cfg = load_config(root, db_dir=None)
    configure(cfg, root, s.source)  # the same as ROOT/nbgrader_config.py, which plain nbgrader reads
    from autograder.late import configure as late_penalties

    late_penalties(cfg, s.late_penalty)
    cfg.Execute.timeout = int(s.timeout)
    cfg.Execute.kernel_name = KERNEL_NAME
    cfg.SandboxExecute.budget = int(s.budget)
    cfg.SandboxExecute.kernel_name = KERNEL_NAME
    cfg.TrustedScore.timeout = int(s.timeout)  # (source folders: courseroot.configure)
    cfg.TrustedScore.budget = int(s.budget)
    cfg.KernelManager.transport = "ipc"
    # IPC sockets live in the worker's private runtime directory, the one place bound writable.
    cfg.KernelManager.ip = os.path.join(os.environ.get("JUPYTER_RUNTIME_DIR", tempfile.gettempdir()), "kernel-ipc")
    return cfg


def make_api(s: Settings):
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    ensure_venv_on_path()
    cfg = grading_config(s)
    os.makedirs(cfg.Exchange.root, exist_ok=True)
    api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
    # Errors reach the log that NbGraderAPI captures per call (the reason an autograde failed),
    # not the instructor's terminal.
    api.log.setLevel("ERROR")
    for h in api.log.handlers:
        h.setLevel("CRITICAL")
    return api


def sandbox_mode(s: Settings) -> str:
    from autograder.sandbox import bwrap_works

    if s.sandbox == "limits":
        return "limits"
    if bwrap_works():
        return "bwrap"
    if s.sandbox == "bwrap":
        raise RuntimeError("grade: --sandbox bwrap asked for, but bubblewrap (bwrap) is missing or does not work here")
    return "limits"


def hidden_paths(s: Settings) -> list[str]:
    """Paths the instructor asked to keep out (``--hide``): they must not overlap what the
    allow-listed sandbox binds (the interpreter, its packages and ``dlcore``)."""
    paths = [Path(p) for p in s.hide]
    paths += [Path(p) for p in os.environ.get("DLCOURSE_SANDBOX_EXTRA_HIDE", "").split(os.pathsep) if p]
    return sorted({str(p.resolve()) for p in paths})


def check_hidden(s: Settings) -> None:
    """The sandbox shows only an allow-list; refuse to grade if a hidden path lies inside it."""
    from autograder.sandbox import python_paths

    shown = python_paths()
    for h in hidden_paths(s) + [str(Path(s.source).resolve()), str(Path(s.root).resolve())]:
        for p in shown:
            if h == p or h.startswith(p + os.sep):
                raise GradeError(f"grade: {h} lies inside {p}, which the sandbox shows to student code "
                                 "(the interpreter, its packages or dlcore); move it elsewhere")


# ----------------------------------------------------------------------------- digests and results
def _sha(paths: list[Path], extra: str = "") -> str:
    h = hashlib.sha256(extra.encode())
    for p in paths:
        h.update(str(p.name).encode())
        h.update(p.read_bytes() if p.is_file() else b"<missing>")
    return h.hexdigest()


def task_digest(s: Settings, student: str, chapter: str) -> str:
    sub = Path(s.root) / "submitted" / student / chapter
    files = sorted(p for p in sub.rglob("*") if p.is_file())
    src = Path(s.source) / chapter / f"{chapter}.ipynb"
    due = _due_dates(s.root).get(chapter)
    return _sha(files + [src], s.digest_part() + (f"|due:{due}" if due else ""))


def _due_dates(root: Path) -> dict[str, str]:
    """chapter -> due date recorded in the gradebook (a changed due date regrades its chapter)."""
    db = Path(root) / "gradebook.db"
    if not db.exists():
        return {}
    import sqlite3

    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            return {n: str(d) for n, d in con.execute("SELECT name, duedate FROM assignment") if d}
    except sqlite3.Error:
        return {}


def parse_late_penalty(policy: str) -> str:
    from autograder.late import parse

    return parse(policy)


def set_due_dates(s: Settings, items: list[str]) -> None:
    """``CHAPTER=WHEN`` items -> the gradebook's due dates (nbgrader parses WHEN; UTC unless a zone is given)."""
    from nbgrader.api import Gradebook
    from nbgrader.utils import parse_utc

    ensure_venv_on_path()
    known = chapters(s.source)
    dates = {}
    for item in items:
        ch, sep, when = item.partition("=")
        if not sep or ch not in known:
            raise GradeError(f"grade: --due {item!r}: expected CHAPTER=WHEN with CHAPTER one of {known}")
        try:
            dates[ch] = parse_utc(when)
        except Exception as exc:  # noqa: BLE001 - dateutil's errors vary
            raise GradeError(f"grade: --due {item!r}: cannot read the date {when!r} ({exc})") from None
    Path(s.root).mkdir(parents=True, exist_ok=True)
    with Gradebook("sqlite:///" + str(Path(s.root).resolve() / "gradebook.db"), "dl-fundamentals") as gb:
        for ch, when in dates.items():
            gb.update_or_create_assignment(ch, duedate=when)


def result_path(root: Path, student: str, chapter: str) -> Path:
    return Path(root) / ".autograder" / "results" / student / f"{chapter}.json"


def load_result(root: Path, student: str, chapter: str) -> Result | None:
    p = result_path(root, student, chapter)
    try:
        return Result(**json.loads(p.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _atomic_write(path: Path, text: str) -> None:
    """Write atomically, with the mode a plain ``open()`` gives (0666 minus the umask, as nbgrader's
    own files): mkstemp's 0600 would keep feedback and exports from the students and TAs they are for."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        os.fchmod(f.fileno(), 0o666 & ~_umask())
    os.replace(tmp, path)


def save_result(root: Path, r: Result) -> None:
    _atomic_write(result_path(root, r.student, r.chapter), json.dumps(asdict(r), indent=1, sort_keys=True) + "\n")


# ----------------------------------------------------------------------------- one task
def precheck(path: Path, root: Path | None = None, max_bytes: int = 16 * 2**20) -> str:
    """'' when the submitted notebook can be graded, else the reason it cannot."""
    import nbformat

    if root is not None:
        sub = Path(root) / "submitted"
        rel = path.relative_to(sub)
        for i in range(len(rel.parts) + 1):
            p = sub.joinpath(*rel.parts[:i])
            if p.is_symlink():
                return f"{p.relative_to(root)} is a symbolic link; a submission must be a plain file"
    if not path.exists():
        return f"no notebook {path.name} in the submission"
    size = path.stat().st_size
    if size > max_bytes:
        return f"the notebook is {size / 2**20:.1f} MiB, over the limit of {max_bytes / 2**20:.0f} MiB"
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the reason
        return f"unreadable notebook (invalid JSON or not a notebook): {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    if not any("nbgrader" in c.get("metadata", {}) for c in nb.cells):
        return "the nbgrader metadata was stripped from every cell; the notebook cannot be matched to the exercises"
    return ""


def record_zero(api, student: str, chapter: str) -> float:
    """Record every grade of the submission as 0 (nothing to run); return the maximum score."""
    from nbgrader.api import Gradebook

    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        gb.update_or_create_student(student)
        sub = gb.update_or_create_submission(chapter, student)
        for nb in sub.notebooks:
            for grade in nb.grades:
                grade.auto_score = 0
                grade.manual_score = None
                grade.needs_manual_grade = False
        gb.db.commit()
        return float(sub.max_score)


def read_score(api, student: str, chapter: str) -> tuple[float, float]:
    from nbgrader.api import Gradebook

    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        sub = gb.find_submission(chapter, student)
        return float(sub.score), float(sub.max_score)


def scan_flags(nb_path: Path) -> list[str]:
    """Integrity findings and grading problems visible in the autograded notebook's outputs."""
    import nbformat

    from autograder.preprocessors import BUDGET_EXCEEDED, KERNEL_DIED

    flags: set[str] = set()
    nb = nbformat.read(str(nb_path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id", "")
        for out in cell.get("outputs", []):
            if out.get("output_type") != "error":
                continue
            ename, evalue = out.get("ename", ""), str(out.get("evalue", ""))
            if ename == KERNEL_DIED:
                flags.add("dead-kernel")
            elif ename == BUDGET_EXCEEDED:
                flags.add("time-budget")
            elif ename in ("CellTimeoutError", "KeyboardInterrupt"):
                flags.add(f"timeout:{gid}" if gid else "timeout")
            elif ename == "MemoryError":
                flags.add("memory-limit")
            if meta.get("grade") and not meta.get("solution") and evalue.startswith(INTEGRITY_MARK):
                flags.add(f"integrity:{gid}")
    return sorted(flags)


_WORKER: dict = {}
STATUS_FLAGS = ("memory-limit", "process-limit", "scratch-limit")


def _worker_init(s: Settings, mode: str, slots=None) -> None:
    import warnings

    from autograder.sandbox import install_kernelspec

    warnings.filterwarnings("ignore", module="sqlalchemy")
    warnings.filterwarnings("ignore", message=".*not in session.*")

    from multiprocessing.util import Finalize

    # One private folder per worker, outside the grading root: the kernel's IPC sockets (run/,
    # the only folder bound writable, emptied after every task), and what only the supervisor
    # writes (status, the kernel's own bounded log, the synthetic /etc).
    private = tempfile.mkdtemp(prefix="dlcourse-worker-")
    Finalize(None, shutil.rmtree, args=(private,), kwargs={"ignore_errors": True}, exitpriority=0)
    runtime = os.path.join(private, "run")
    os.mkdir(runtime, 0o700)
    slot = 0
    if slots is not None:
        with slots.get_lock():
            slot = slots.value
            slots.value += 1
    jdir = Path(s.root) / ".autograder" / "jupyter"
    install_kernelspec(jdir)
    env = {"JUPYTER_PATH": str(jdir), "JUPYTER_RUNTIME_DIR": runtime, "DLCOURSE_SANDBOX_RUNTIME": runtime,
           "DLCOURSE_SANDBOX_STATUS": os.path.join(private, "status.json"),
           "DLCOURSE_SANDBOX_LOG": os.path.join(private, "kernel.log"), "DLCOURSE_SANDBOX_MODE": mode,
           "DLCOURSE_SANDBOX_MEM": str(s.mem), "DLCOURSE_SANDBOX_CPU": str(s.cpu),
           "DLCOURSE_SANDBOX_NPROC": str(s.nproc), "DLCOURSE_SANDBOX_TMP": str(s.tmp),
           "DLCOURSE_SANDBOX_SLOT": str(slot), "DLCOURSE_SANDBOX_PARENT": str(os.getpid())}
    os.environ.update(env)
    os.environ.pop("PYTHONSTARTUP", None)
    _WORKER["api"] = make_api(s)
    _WORKER["settings"] = s
    _WORKER["private"] = private


def _reset_private() -> None:
    """Empty the worker's runtime folder and forget the last kernel's status and log."""
    private = _WORKER["private"]
    runtime = os.path.join(private, "run")
    shutil.rmtree(runtime, ignore_errors=True)
    shutil.rmtree(runtime + "-t", ignore_errors=True)  # the scoring process's (autograder.trusted)
    os.mkdir(runtime, 0o700)
    for name in ("status.json", "kernel.log", "status.json.trusted", "status.json.trusted.log", "trusted.json"):
        try:
            os.unlink(os.path.join(private, name))
        except FileNotFoundError:
            pass


def _kernel_status() -> dict:
    try:
        return json.loads(Path(_WORKER["private"], "status.json").read_text())
    except (OSError, ValueError):
        return {}


def _status_flags(status: dict) -> list[str]:
    flags = []
    if status.get("killed") in STATUS_FLAGS:
        flags.append(status["killed"])
    if status.get("oom_kills"):
        flags.append("memory-limit")
    if status.get("forks_refused"):
        flags.append("process-limit")
    return flags


def _keep_kernel_log(root: Path, student: str, chapter: str) -> None:
    """The kernel's own stdout/stderr (bounded by the supervisor), for the instructor only."""
    src = Path(_WORKER["private"], "kernel.log")
    dest = root / ".autograder" / "logs" / student / f"{chapter}.log"
    dest.parent.mkdir(parents=True, exist_ok=True)
    if src.exists() and src.stat().st_size:
        shutil.copyfile(src, dest)
    elif dest.exists():
        dest.unlink()


def grade_one(student: str, chapter: str) -> Result:
    """Grade one submission in this worker; every outcome is recorded, none is skipped silently."""
    s: Settings = _WORKER["settings"]
    api = _WORKER["api"]
    root = Path(s.root).resolve()
    t0 = time.monotonic()
    digest = task_digest(s, student, chapter)
    nb_path = root / "submitted" / student / chapter / f"{chapter}.ipynb"
    autograded = root / "autograded" / student / chapter
    reason = precheck(nb_path, root, s.max_notebook)
    if reason:
        shutil.rmtree(autograded, ignore_errors=True)
        max_score = record_zero(api, student, chapter)
        r = Result(student, chapter, "invalid", 0.0, max_score, ["invalid-notebook"], reason, digest)
    else:
        from autograder.sandbox import remove_stale_cgroups

        os.environ["DLCOURSE_SANDBOX_CWD"] = str(autograded)
        os.environ["DLCOURSE_SANDBOX_CWD_SRC"] = str(nb_path.parent)
        _reset_private()
        report = os.path.join(_WORKER["private"], "trusted.json")
        os.environ["DLCOURSE_TRUSTED_REPORT"] = report
        trusted: dict = {}
        from autograder.preprocessors import STAGES

        STAGES.clear()
        t_auto = time.monotonic()
        for attempt in range(KERNEL_START_ATTEMPTS):
            try:
                out = api.autograde(chapter, student, force=True, create=True)
            finally:
                status = _kernel_status()
                try:
                    trusted = json.loads(Path(report).read_text())
                except (OSError, ValueError):
                    trusted = {}
                _keep_kernel_log(root, student, chapter)
                _reset_private()
                remove_stale_cgroups("k")
            if out.get("success") or not kernel_never_started(out):
                break
            if attempt == KERNEL_START_ATTEMPTS - 1:
                # No cell ran: the grader's problem, not a zero for the student (resume tries again).
                raise GradeError(f"the sandboxed kernel did not start ({KERNEL_START_ATTEMPTS} tries): "
                                 f"{autograde_error(out)}")
            time.sleep(0.5 * (attempt + 1))
        stages = dict(STAGES)
        stages["nbgrader"] = round(time.monotonic() - t_auto - stages.get("kernel", 0.0)
                                   - stages.get("trusted_wait", 0.0), 4)
        out_nb = autograded / f"{chapter}.ipynb"
        if out.get("success") and out_nb.exists():
            score, max_score = read_score(api, student, chapter)
            flags = sorted(set(scan_flags(out_nb)) | set(_status_flags(status)) | set(trusted.get("flags", [])))
            _atomic_write(_similar_path(root, student, chapter), json.dumps(trusted.get("similar", {}), sort_keys=True))
            r = Result(student, chapter, "graded", score, max_score, flags, "", digest)
        elif UNAVAILABLE in f"{out.get('log')}\n{out.get('error')}":
            raise GradeError(f"trusted scoring is unavailable on this machine: {autograde_error(out)}")
        else:
            # nbgrader could not grade it (e.g. a notebook structure it rejects): a recorded 0
            # with the reason, so the instructor sees it instead of a missing row.
            max_score = record_zero(api, student, chapter)
            r = Result(student, chapter, "invalid", 0.0, max_score, ["autograde-failed"],
                       f"nbgrader could not autograde it: {autograde_error(out)}", digest)
    r.seconds = round(time.monotonic() - t0, 2)
    if reason == "":
        r.stages = stages
    save_result(root, r)
    return r


KERNEL_START_ATTEMPTS = 3
_NEVER_STARTED = ("Kernel died before replying to kernel_info", "Kernel didn't respond in")


def kernel_never_started(out: dict) -> bool:
    """nbgrader failed because the kernel died or hung before its first reply (no cell ran)."""
    text = f"{out.get('log')}\n{out.get('error')}"
    return any(m in text for m in _NEVER_STARTED)


def autograde_error(out: dict) -> str:
    """The line that says what failed, from nbgrader's log and traceback (not its re-raise)."""
    text = "\n".join(x for x in (out.get("log") or "", out.get("error") or "") if x)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    boring = ("above traceback", "raise NbGraderException", "NbGraderException", "Traceback (most recent",
              "File \"", "^", "During handling")
    useful = [ln for ln in lines if not ln.startswith(boring) and "NbGraderException" not in ln]
    errors = [ln for ln in useful if re.match(r"^(\[\w+\]\s*)?\[?(ERROR|CRITICAL)", ln) or re.match(r"^\w+(Error|Exception):", ln)]
    pick = (errors or useful or ["no error message"])[-1]
    return pick[:300]


# ----------------------------------------------------------------------------- the batch
class GradeError(RuntimeError):
    """The instructor's side is wrong (bad root, unknown chapter, broken source)."""


def exercise_chapters(source: Path, exercises: list[str]) -> dict[str, list[str]]:
    """chapter -> the requested exercises (nbgrader grade_ids) it holds; unknown ids raise GradeError."""
    import nbformat

    found: dict[str, list[str]] = {}
    for ch in chapters(source):
        nb = nbformat.read(str(Path(source) / ch / f"{ch}.ipynb"), as_version=4)
        ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
        for ex in exercises:
            if ex in ids:
                found.setdefault(ch, []).append(ex)
    unknown = sorted(set(exercises) - {e for es in found.values() for e in es})
    if unknown:
        raise GradeError(f"grade: no exercise (nbgrader grade_id) {unknown} in {source}")
    return found


def discover(s: Settings, only_chapters: list[str] | None, only_students: list[str] | None):
    root = Path(s.root)
    sub = root / "submitted"
    if sub.is_symlink():
        raise GradeError(f"grade: {sub} is a symbolic link; refusing to grade through it")
    if not sub.is_dir():
        raise GradeError(f"grade: {sub} does not exist; import submissions with `python -m autograder collect`")
    known = chapters(s.source)
    if only_chapters:
        unknown = [c for c in only_chapters if c not in known]
        if unknown:
            raise GradeError(f"grade: unknown chapter(s) {unknown}; available: {known}")
    tasks, notes = [], []
    for sdir in sorted(p for p in sub.iterdir() if p.is_dir() or p.is_symlink()):
        if sdir.is_symlink():
            notes.append(f"skipped {sdir}: a symbolic link, not a student folder")
            continue
        if only_students and sdir.name not in only_students:
            continue
        if not sdir.name or any(ch not in STUDENT_OK for ch in sdir.name):
            notes.append(f"skipped {sdir}: a student id may only use letters, digits, '_', '-' and '.'")
            continue
        for cdir in sorted(p for p in sdir.iterdir() if p.is_dir() or p.is_symlink()):
            if cdir.is_symlink():
                notes.append(f"skipped {cdir}: a symbolic link, not a chapter folder")
            elif cdir.name not in known:
                notes.append(f"skipped {cdir}: no chapter {cdir.name!r} in {s.source}")
            elif not only_chapters or cdir.name in only_chapters:
                tasks.append((sdir.name, cdir.name))
    if only_students:
        missing = sorted(set(only_students) - {t[0] for t in tasks})
        notes += [f"no submission for student {m!r}" for m in missing]
    return tasks, notes


def prepare(s: Settings, tasks) -> None:
    """Register each chapter and student in the gradebook (once, before the workers start)."""
    from nbgrader.api import Gradebook

    api = make_api(s)
    state_path = Path(s.root) / ".autograder" / "sources.json"
    try:
        state = json.loads(state_path.read_text())
    except (OSError, ValueError):
        state = {}
    for ch in sorted({c for _, c in tasks}):
        src = Path(s.source) / ch / f"{ch}.ipynb"
        digest = _sha([src])
        if state.get(ch) == digest and Path(api.coursedir.db_url[len("sqlite:///"):]).exists():
            continue
        out = api.generate_assignment(ch, force=True, create=True)
        if not out.get("success"):
            log = (out.get("error") or out.get("log") or "").strip()
            raise GradeError(f"grade: could not register {ch} in the gradebook (did a graded cell change "
                             f"after submissions were graded?):\n{log[-2000:]}")
        state[ch] = digest
    _atomic_write(state_path, json.dumps(state, indent=1, sort_keys=True) + "\n")
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        for student in sorted({st for st, _ in tasks}):
            gb.update_or_create_student(student)


def _lock(root: Path):
    """An exclusive lock on the grading root (released by the OS even if we are killed)."""
    import fcntl

    path = Path(root) / ".autograder" / "grade.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    f = open(path, "w")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        return None
    return f


def summary_line(student: str, results: list[Result]) -> str:
    score = sum(r.score for r in results)
    max_score = sum(r.max_score for r in results)
    flags = sorted({f"{r.chapter}:{f}" for r in results for f in r.flags})
    parts = [f"{r.chapter} {r.score:g}/{r.max_score:g}" for r in sorted(results, key=lambda r: r.chapter)]
    text = f"{student}: {score:g}/{max_score:g} ({', '.join(parts)})"
    return text + (f"  flags: {' '.join(flags)}" if flags else "")


def run_grade(s: Settings, only_chapters=None, only_students=None, out=None, err=None,
              progress: bool = True, only_exercises=None) -> int:
    """Grade the batch; return the exit code (0 all recorded, 1 instructor-side failure).

    ``only_exercises`` (grade_ids) regrades the chapters that hold them, for the selected
    students, even when unchanged: a notebook's cells build on each other, so the whole
    notebook runs again, and only those chapters' grades can change.
    """
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    ensure_venv_on_path()
    s.root = Path(s.root).resolve()
    s.source = Path(s.source).resolve()
    if only_exercises:
        holders = exercise_chapters(s.source, only_exercises)
        if only_chapters:
            outside = sorted(set(holders) - set(only_chapters))
            if outside:
                raise GradeError(f"grade: exercise(s) {[e for c in outside for e in holders[c]]} are not in the "
                                 f"chapters selected {only_chapters}")
        only_chapters = sorted(holders)
        s.force = True
    tasks, notes = discover(s, only_chapters, only_students)
    for note in notes:
        print(f"grade: {note}", file=err)
    if not tasks:
        print("grade: nothing to grade", file=err)
        return 1 if notes else 0
    lock = _lock(s.root)
    if lock is None:
        print(f"grade: another `grade` is running on {s.root}; wait for it to finish", file=err)
        return 1
    try:
        return _run_locked(s, tasks, out, err, progress)
    finally:
        lock.close()


def _run_locked(s: Settings, tasks, out, err, progress: bool) -> int:
    from tqdm import tqdm

    from autograder.sandbox import lost_protections

    mode = sandbox_mode(s)
    check_hidden(s)
    lost = lost_protections(mode)
    if mode != "bwrap":
        print("grade: WARNING: bubblewrap (bwrap) is not available: student code runs with resource limits only. "
              "Install it (Debian: apt-get install bubblewrap) before grading real submissions, or pass "
              "--sandbox bwrap to make its absence an error. What a submission can do now:", file=err)
    elif lost:
        print("grade: note: the sandbox runs without some protections here:", file=err)
    for item in lost:
        print(f"grade:   - {item}", file=err)
    prepare(s, tasks)
    todo, done = [], {}
    for st, ch in tasks:
        old = None if s.force else load_result(s.root, st, ch)
        if old is not None and old.digest == task_digest(s, st, ch):
            done[(st, ch)] = old
        else:
            todo.append((st, ch))
    jobs = max(1, min(s.jobs or os.cpu_count() or 1, len(todo) or 1))
    failures: list[str] = []
    per_student: dict[str, list[Result]] = {}
    remaining: dict[str, int] = {}
    for st, ch in tasks:
        remaining[st] = remaining.get(st, 0) + 1

    def finish(r: Result) -> None:
        per_student.setdefault(r.student, []).append(r)
        remaining[r.student] -= 1
        if remaining[r.student] == 0:
            tqdm.write(summary_line(r.student, per_student[r.student]), file=out)

    for key in sorted(done):
        finish(done[key])
    bar = tqdm(total=len(todo), desc="grading", unit="nb", file=err, disable=not progress or not todo,
               dynamic_ncols=True)
    if todo and (s.cluster or s.scheduler not in ("", None)):
        from autograder import dask_grade

        failures += dask_grade.run_tasks(s, todo, mode, finish, bar, err)
    elif todo:
        ctx = get_context("fork")
        slots = ctx.Value("i", 0)
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init,
                                 initargs=(s, mode, slots)) as pool:
            futures = {pool.submit(grade_one, st, ch): (st, ch) for st, ch in todo}
            for fut in as_completed(futures):
                st, ch = futures[fut]
                try:
                    r = fut.result()
                except Exception as exc:  # noqa: BLE001 - a crash on our side: report, keep going
                    failures.append(f"{st}/{ch}: {type(exc).__name__}: {exc}")
                    r = Result(st, ch, "error", 0.0, 0.0, ["grader-error"], str(exc))
                bar.update(1)
                finish(r)
    bar.close()
    report = class_similarity(s, per_student)
    if report:
        print(f"grade: {report}", file=err)
    results = [r for rs in per_student.values() for r in rs]
    total = sum(r.score for r in results)
    max_total = sum(r.max_score for r in results)
    print(f"graded {len(results) - len(failures)}/{len(tasks)} submissions of {len(per_student)} students "
          f"({len(todo)} run, {len(done)} unchanged); total {total:g}/{max_total:g}; sandbox: {mode}", file=out)
    for f in failures:
        print(f"grade: FAILED {f}", file=err)
    return 1 if failures else 0


def class_similarity(s: Settings, per_student: dict[str, list[Result]]) -> str:
    """Compare every pair of students' solution cells per exercise (:mod:`autograder.similarity`):
    flag each pair at or above the threshold (``similar:<cell>:<other student>``) and write
    ``ROOT/reports/similarity.html`` with the pairs side by side. Returns a line for the instructor."""
    import nbformat

    from autograder import similarity

    solutions: dict[str, dict[str, str]] = {}
    for student, results in per_student.items():
        for r in results:
            if r.status != "graded":
                continue
            path = Path(s.root) / "submitted" / student / r.chapter / f"{r.chapter}.ipynb"
            try:
                nb = nbformat.read(str(path), as_version=4)
            except Exception:  # noqa: BLE001 - graded a moment ago; gone or unreadable now: skip it
                continue
            for cell in nb.cells:
                meta = cell.get("metadata", {}).get("nbgrader", {})
                if cell.cell_type == "code" and meta.get("solution") and meta.get("grade_id"):
                    solutions.setdefault(student, {})[meta["grade_id"]] = cell.source
    matches = similarity.compare_class(solutions)
    for student, results in sorted(per_student.items()):   # copies of a reference, found while grading
        for r in results:
            if r.status != "graded":
                continue
            try:
                found = json.loads(_similar_path(Path(s.root), student, r.chapter).read_text())
            except (OSError, ValueError):
                continue
            for cell, (ref, score) in sorted(found.items()):
                mine = solutions.get(student, {}).get(cell, "")
                matches.append(similarity.Match("reference", cell, student, ref, float(score), mine,
                                                similarity.function_source(ref) or ""))
    pairs: dict[str, set[str]] = {}
    for m in matches:
        if m.kind != "student":
            continue
        pairs.setdefault(m.a, set()).add(f"similar:{m.exercise}:{m.b}")
        pairs.setdefault(m.b, set()).add(f"similar:{m.exercise}:{m.a}")
    for student, results in per_student.items():
        for r in results:
            mine = {f for f in pairs.get(student, set()) if f.split(":")[1].startswith(_chapter_prefix(r.chapter))}
            new = sorted({f for f in r.flags if not f.startswith("similar:")} | mine)
            if new != r.flags and r.status == "graded":
                r.flags = new
                save_result(Path(s.root), r)
    path = Path(s.root) / "reports" / "similarity.html"
    similarity.write_report(matches, path, title="Similar solutions in this class")
    if not matches:
        return ""
    n_ref = sum(m.kind == "reference" for m in matches)
    return (f"{len(matches) - n_ref} pair(s) of students' solutions at or above similarity {similarity.THRESHOLD:g} "
            f"and {n_ref} solution(s) close to a reference: see {path} (a reason to look, not proof)")


def _similar_path(root: Path, student: str, chapter: str) -> Path:
    return Path(root) / ".autograder" / "similar" / student / f"{chapter}.json"


def _chapter_prefix(chapter: str) -> str:
    """ch01_objective_functions -> 'ch01-' (grade_ids start with the chapter's number)."""
    return chapter.split("_", 1)[0] + "-"
