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
SETTINGS_VERSION = "1"


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

    def digest_part(self) -> str:
        return json.dumps([SETTINGS_VERSION, self.timeout, self.budget, self.mem, self.cpu], sort_keys=True)


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


# ----------------------------------------------------------------------------- configuration
def grading_config(s: Settings):
    """nbgrader config for a grading root: source from the repository, everything else in ROOT.

    The pipeline's structure (preprocessors) comes from autograder/nbgrader_config.py.
    """
    from autograder.sandbox import KERNEL_NAME

    root = Path(s.root).resolve()
    private = root / ".autograder"
    cfg = load_config(root, db_dir=None)
    cd = cfg.CourseDirectory
    cd.root = str(root)
    cd.source_directory = str(Path(s.source).resolve())
    cd.release_directory = str(private / "release")
    cd.submitted_directory = "submitted"
    cd.autograded_directory = "autograded"
    cd.feedback_directory = "feedback"
    cd.db_url = "sqlite:///" + str(root / "gradebook.db")
    cfg.Exchange.root = str(private / "exchange")
    cfg.Execute.timeout = int(s.timeout)
    cfg.Execute.kernel_name = KERNEL_NAME
    cfg.SandboxExecute.budget = int(s.budget)
    cfg.SandboxExecute.kernel_name = KERNEL_NAME
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
    api.log.setLevel("CRITICAL")
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
    """What student code must not see: solutions, the grading root, git history, test fixtures."""
    paths = [Path(s.source), REPO / "solutions", REPO / ".git", REPO / "tests" / "fixtures", Path(s.root)]
    paths += [Path(p) for p in s.hide]
    paths += [Path(p) for p in os.environ.get("DLCOURSE_SANDBOX_EXTRA_HIDE", "").split(os.pathsep) if p]
    return sorted({str(p.resolve()) for p in paths})


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
    return _sha(files + [src], s.digest_part())


def result_path(root: Path, student: str, chapter: str) -> Path:
    return Path(root) / ".autograder" / "results" / student / f"{chapter}.json"


def load_result(root: Path, student: str, chapter: str) -> Result | None:
    p = result_path(root, student, chapter)
    try:
        return Result(**json.loads(p.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def save_result(root: Path, r: Result) -> None:
    _atomic_write(result_path(root, r.student, r.chapter), json.dumps(asdict(r), indent=1, sort_keys=True) + "\n")


# ----------------------------------------------------------------------------- one task
def precheck(path: Path) -> str:
    """'' when the submitted notebook can be graded, else the reason it cannot."""
    import nbformat

    if not path.exists():
        return f"no notebook {path.name} in the submission"
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


def _worker_init(s: Settings, mode: str) -> None:
    import warnings

    from autograder.sandbox import install_kernelspec

    warnings.filterwarnings("ignore", module="sqlalchemy")
    warnings.filterwarnings("ignore", message=".*not in session.*")

    from multiprocessing.util import Finalize

    runtime = tempfile.mkdtemp(prefix="dlcourse-kernel-")
    Finalize(None, shutil.rmtree, args=(runtime,), kwargs={"ignore_errors": True}, exitpriority=0)
    jdir = Path(s.root) / ".autograder" / "jupyter"
    install_kernelspec(jdir)
    os.environ["JUPYTER_PATH"] = str(jdir)
    os.environ["JUPYTER_RUNTIME_DIR"] = runtime
    os.environ["DLCOURSE_SANDBOX_RUNTIME"] = runtime
    logs = Path(s.root) / ".autograder" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    os.environ["DLCOURSE_SANDBOX_LOG"] = str(logs / f"kernels-{os.getpid()}.log")
    os.environ["DLCOURSE_SANDBOX_MODE"] = mode
    os.environ["DLCOURSE_SANDBOX_HIDE"] = os.pathsep.join(hidden_paths(s))
    os.environ["DLCOURSE_SANDBOX_MEM"] = str(s.mem)
    os.environ["DLCOURSE_SANDBOX_CPU"] = str(s.cpu)
    os.environ.pop("PYTHONSTARTUP", None)
    _WORKER["api"] = make_api(s)
    _WORKER["settings"] = s


def grade_one(student: str, chapter: str) -> Result:
    """Grade one submission in this worker; every outcome is recorded, none is skipped silently."""
    s: Settings = _WORKER["settings"]
    api = _WORKER["api"]
    root = Path(s.root).resolve()
    t0 = time.monotonic()
    digest = task_digest(s, student, chapter)
    nb_path = root / "submitted" / student / chapter / f"{chapter}.ipynb"
    autograded = root / "autograded" / student / chapter
    reason = precheck(nb_path)
    if reason:
        shutil.rmtree(autograded, ignore_errors=True)
        max_score = record_zero(api, student, chapter)
        r = Result(student, chapter, "invalid", 0.0, max_score, ["invalid-notebook"], reason, digest)
    else:
        os.environ["DLCOURSE_SANDBOX_CWD"] = str(autograded)
        os.environ["DLCOURSE_SANDBOX_CWD_SRC"] = str(nb_path.parent)
        out = api.autograde(chapter, student, force=True, create=True)
        out_nb = autograded / f"{chapter}.ipynb"
        if out.get("success") and out_nb.exists():
            score, max_score = read_score(api, student, chapter)
            r = Result(student, chapter, "graded", score, max_score, scan_flags(out_nb), "", digest)
        else:
            # nbgrader could not grade it (e.g. a notebook structure it rejects): a recorded 0
            # with the reason, so the instructor sees it instead of a missing row.
            err = (out.get("error") or out.get("log") or "").strip().splitlines()
            last = next((line for line in reversed(err) if line.strip() and "above traceback" not in line), "")
            max_score = record_zero(api, student, chapter)
            r = Result(student, chapter, "invalid", 0.0, max_score, ["autograde-failed"],
                       f"nbgrader could not autograde it: {last.strip()[:300]}", digest)
    r.seconds = round(time.monotonic() - t0, 2)
    save_result(root, r)
    return r


# ----------------------------------------------------------------------------- the batch
class GradeError(RuntimeError):
    """The instructor's side is wrong (bad root, unknown chapter, broken source)."""


def discover(s: Settings, only_chapters: list[str] | None, only_students: list[str] | None):
    root = Path(s.root)
    sub = root / "submitted"
    if not sub.is_dir():
        raise GradeError(f"grade: {sub} does not exist; import submissions with `python -m autograder collect`")
    known = chapters(s.source)
    if only_chapters:
        unknown = [c for c in only_chapters if c not in known]
        if unknown:
            raise GradeError(f"grade: unknown chapter(s) {unknown}; available: {known}")
    tasks, notes = [], []
    for sdir in sorted(p for p in sub.iterdir() if p.is_dir()):
        if only_students and sdir.name not in only_students:
            continue
        if not sdir.name or any(ch not in STUDENT_OK for ch in sdir.name):
            notes.append(f"skipped {sdir}: a student id may only use letters, digits, '_', '-' and '.'")
            continue
        for cdir in sorted(p for p in sdir.iterdir() if p.is_dir()):
            if cdir.name not in known:
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
              progress: bool = True) -> int:
    """Grade the batch; return the exit code (0 all recorded, 1 instructor-side failure)."""
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    ensure_venv_on_path()
    s.root = Path(s.root).resolve()
    s.source = Path(s.source).resolve()
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

    mode = sandbox_mode(s)
    if mode != "bwrap":
        print("grade: WARNING: bubblewrap (bwrap) is not available: student code runs with memory and CPU "
              "limits only and CAN READ solutions/ and the gradebook. Install it (Debian: apt-get install "
              "bubblewrap) before grading real submissions.", file=err)
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
    if todo:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork"),
                                 initializer=_worker_init, initargs=(s, mode)) as pool:
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
    results = [r for rs in per_student.values() for r in rs]
    total = sum(r.score for r in results)
    max_total = sum(r.max_score for r in results)
    print(f"graded {len(results) - len(failures)}/{len(tasks)} submissions of {len(per_student)} students "
          f"({len(todo)} run, {len(done)} unchanged); total {total:g}/{max_total:g}; sandbox: {mode}", file=out)
    for f in failures:
        print(f"grade: FAILED {f}", file=err)
    return 1 if failures else 0
