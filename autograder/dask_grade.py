"""`grade --cluster local:N` / `grade --scheduler ADDRESS`: the batch on Dask workers.

Each (student, chapter) is one Dask task that carries everything it needs as bytes — the
submission's files, the chapter's source folder, the grading settings and the chapter's due
date — so a worker needs no shared filesystem. On the worker the task is graded by the same
code as the process pool (:func:`autograder.grade.grade_one`: the same sandbox, the same
trusted scoring) in a private scratch root with its own scratch gradebook, inside a grading
process the worker keeps for its life (one notebook at a time; the kernel sandboxes need a
process's main thread and a dedicated uid slot). The task returns the autograded folder, the
result, the similarity data, the kernel's log and the submission's rows of the scratch
gradebook. The instructor's process alone writes them: the gradebook (the same fields nbgrader's
``SaveAutoGrades`` and ``AssignLatePenalties`` write, and a manual score a grader gave is kept
as nbgrader keeps it), ``autograded/``, the result files — so a SQLite gradebook is never opened
from two machines, and resume and idempotence are the process pool's own (a result file is
written once its task's grades are in the gradebook).

A task whose worker dies is rescheduled by Dask on another worker; a task that raises is tried
once more (``retries=1``); one that fails twice is recorded as a grader error with its reason,
and the next run grades it again.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

MAX_TASK_BYTES = 64 * 2**20  # what one task may carry back (autograded folder, log)


# ----------------------------------------------------------------------------- instructor side
def connect(s, err):
    """A ``distributed.Client`` for ``s.cluster`` (``local:N``) or ``s.scheduler`` (an address, or a
    ``Client`` from Python); and what to close."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - the dev extra installs it
        raise RuntimeError("grade: --cluster/--scheduler need Dask: pip install 'dask[distributed]'") from None
    closers = []
    if s.cluster:
        kind, _, n = s.cluster.partition(":")
        if kind != "local" or not n.isdigit() or int(n) < 1:
            raise ValueError(f"grade: --cluster {s.cluster!r}: expected local:N (N worker processes)")
        # A worker lost mid-task is retried once elsewhere, then reported (the task's own retry
        # covers a task that raises).
        dask.config.set({"distributed.scheduler.allowed-failures": 1})
        cluster = LocalCluster(n_workers=int(n), threads_per_worker=1, processes=True, dashboard_address=":0",
                               silence_logs=50, worker_class="distributed.Nanny")
        client = Client(cluster)
        closers += [client.close, cluster.close]
    elif isinstance(s.scheduler, str):
        client = Client(s.scheduler)
        closers.append(client.close)
    else:
        client = s.scheduler  # a Client the caller made (a Dask Gateway cluster's get_client()); theirs to close
    print(f"grade: Dask dashboard: {client.dashboard_link}", file=err)
    return client, closers


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def payload(s, student: str, chapter: str, mode: str, due: str | None) -> dict:
    from autograder.grade import Settings

    keep = {k: getattr(s, k) for k in Settings.__dataclass_fields__
            if k not in ("root", "source", "hide", "jobs", "scheduler", "cluster")}
    return {"student": student, "chapter": chapter, "mode": mode, "due": due, "settings": keep,
            "submission": _files(Path(s.root) / "submitted" / student / chapter),
            "source": _files(Path(s.source) / chapter)}


def run_tasks(s, todo, mode: str, finish, bar, err) -> list[str]:
    """Grade ``todo`` on Dask; ``finish(result)`` for each as it lands. Returns the failures."""
    import warnings

    from distributed import as_completed

    from autograder.grade import Result, _due_dates, save_result, task_digest

    warnings.filterwarnings("ignore", message=".*not in session.*")  # nbgrader's own, as in the pool's workers

    client, closers = connect(s, err)
    failures: list[str] = []
    try:
        due = _due_dates(s.root)
        futures = {}
        for st, ch in todo:
            digest = task_digest(s, st, ch)
            fut = client.submit(grade_task, payload(s, st, ch, mode, due.get(ch)), key=f"grade-{st}-{ch}-{digest[:16]}",
                                retries=1, pure=False)
            futures[fut] = (st, ch, digest)
        for fut in as_completed(list(futures)):
            st, ch, digest = futures[fut]
            try:
                out = fut.result()
                r = apply(s, out, digest)
            except Exception as exc:  # noqa: BLE001 - recorded with its reason; the next run grades it again
                failures.append(f"{st}/{ch}: {type(exc).__name__}: {exc}")
                r = Result(st, ch, "error", 0.0, 0.0, ["grader-error"], f"{type(exc).__name__}: {exc}")
            else:
                save_result(s.root, r)
            bar.update(1)
            finish(r)
    finally:
        for close in closers:
            try:
                close()
            except Exception:  # noqa: BLE001 - shutting down
                pass
    return failures


def apply(s, out: dict, digest: str):
    """Write one task's outcome into the instructor's root: gradebook, autograded folder, logs."""
    from datetime import datetime

    from nbgrader.api import Gradebook

    from autograder.grade import Result, _atomic_write, _similar_path, record_zero, make_api

    r = Result(**out["result"])
    r.digest = digest
    root = Path(s.root)
    auto = root / "autograded" / r.student / r.chapter
    if r.status == "invalid":
        shutil.rmtree(auto, ignore_errors=True)
        r.max_score = record_zero(make_api(s), r.student, r.chapter)
        return r
    _write_folder(auto, out["autograded"])
    rows = out["gradebook"]
    db = "sqlite:///" + str(root / "gradebook.db")
    with Gradebook(db, "dl-fundamentals") as gb:
        gb.update_or_create_student(r.student)
        kw = {"timestamp": datetime.fromisoformat(rows["timestamp"])} if rows.get("timestamp") else {}
        sub = gb.update_or_create_submission(r.chapter, r.student, **kw)
        for nb in sub.notebooks:
            got = rows["notebooks"].get(nb.name, {})
            for grade in nb.grades:
                if grade.name in got.get("grades", {}):
                    grade.auto_score = got["grades"][grade.name]
                    # SaveAutoGrades' rule, with this gradebook's manual score
                    grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
            for comment in nb.comments:
                if comment.name in got.get("comments", {}):
                    comment.auto_comment = got["comments"][comment.name]
            if "late_submission_penalty" in got:
                nb.late_submission_penalty = got["late_submission_penalty"]
        gb.db.commit()
        sub = gb.find_submission(r.chapter, r.student)
        r.score, r.max_score = float(sub.score), float(sub.max_score)
    _atomic_write(_similar_path(root, r.student, r.chapter), out.get("similar") or "{}")
    log = root / ".autograder" / "logs" / r.student / f"{r.chapter}.log"
    if out.get("log"):
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_bytes(out["log"])
    elif log.exists():
        log.unlink()
    return r


# ----------------------------------------------------------------------------- worker side
_POOL: dict = {}


def grade_task(p: dict) -> dict:
    """The Dask task: grade one submission in this worker's grading process."""
    import pickle
    import subprocess
    import sys

    child = _POOL.get("child")
    if child is None or child.poll() is not None:
        # A process of its own (Dask's worker processes are daemons, which may not fork a pool, and
        # the kernel sandboxes want a main thread): started once, it serves this worker's tasks.
        child = _POOL["child"] = subprocess.Popen([sys.executable, "-m", "autograder.dask_grade"],
                                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    data = pickle.dumps(p)
    try:
        child.stdin.write(len(data).to_bytes(8, "big") + data)
        child.stdin.flush()
        n = int.from_bytes(_read(child.stdout, 8), "big")
        reply = pickle.loads(_read(child.stdout, n))
    except (OSError, EOFError):
        child.kill()
        _POOL.pop("child", None)
        raise RuntimeError(f"the grading process of this Dask worker ended (exit {child.wait()})") from None
    if "error" in reply:
        raise RuntimeError(reply["error"])
    return reply["out"]


def _read(f, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = f.read(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def serve() -> None:
    """The grading process: tasks in on stdin, results out (length-prefixed pickles, between this
    module's two ends only); whatever else prints goes to stderr."""
    import pickle
    import sys
    import traceback

    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    inp = sys.stdin.buffer
    _child_init()
    while True:
        try:
            n = int.from_bytes(_read(inp, 8), "big")
        except EOFError:
            return
        p = pickle.loads(_read(inp, n))
        try:
            reply = {"out": _grade_here(p)}
        except Exception as exc:  # noqa: BLE001 - the task's failure, with its reason
            reply = {"error": f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"}
        data = pickle.dumps(reply)
        out.write(len(data).to_bytes(8, "big") + data)
        out.flush()


def _child_init() -> None:
    import atexit
    import ctypes
    import fcntl
    import signal

    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the Dask worker
    except (OSError, AttributeError):
        pass
    base = Path(tempfile.mkdtemp(prefix="dlcourse-dask-"))
    atexit.register(shutil.rmtree, base, True)
    # A uid slot no other grading process on this machine holds (a kernel's dedicated uid and its
    # process limit are per slot): the first free lock, held for this process's life.
    locks = Path(tempfile.gettempdir()) / "dlcourse-slots"
    locks.mkdir(exist_ok=True, mode=0o755)
    for slot in range(1, 4096):
        f = open(locks / f"{slot}.lock", "w")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            continue
        _POOL["slot_lock"], _POOL["slot"] = f, slot
        break
    _POOL["base"] = base


def _safe_rel(rel: str) -> Path:
    q = Path(rel)
    if q.is_absolute() or ".." in q.parts or not q.parts:
        raise ValueError(f"a carried file lies outside its folder: {rel!r}")
    return q


def _write_folder(folder: Path, files: dict[str, bytes]) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        dest = folder / _safe_rel(rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)


def _grade_here(p: dict) -> dict:
    from nbgrader.api import Gradebook
    from nbgrader.utils import parse_utc

    from autograder import grade as G

    base: Path = _POOL["base"].resolve()
    st, ch = p["student"], p["chapter"]
    if not st or any(c not in G.STUDENT_OK for c in st) or ch in ("", ".", "..") or "/" in ch:
        raise ValueError(f"not a student/chapter pair: {st!r}/{ch!r}")
    root, source = base / "root", base / "source"
    settings = G.Settings(root=root, source=source, **p["settings"])
    written = _POOL.setdefault("sources", {})
    if written.get(ch) != p["source"]:
        _write_folder(source / ch, p["source"])  # the chapter's source folder, as the instructor has it now
        written[ch] = p["source"]
    _write_folder(root / "submitted" / st / ch, p["submission"])
    if p["mode"] == "bwrap":
        from autograder.sandbox import bwrap_works

        if not bwrap_works():
            raise RuntimeError("bubblewrap cannot build the sandbox on this Dask worker (is `bwrap` installed, and "
                               "are unprivileged user namespaces allowed?); the instructor's machine can, so "
                               "grading here would be weaker: see docs/grading-at-scale.md")
    G.check_hidden(settings)
    G.prepare(settings, [(st, ch)])
    with Gradebook("sqlite:///" + str(root / "gradebook.db"), "dl-fundamentals") as gb:
        gb.update_or_create_assignment(ch, duedate=parse_utc(p["due"]) if p.get("due") else None)
    if G._WORKER.get("settings") != settings or G._WORKER.get("mode") != p["mode"]:
        G._worker_init(settings, p["mode"], None)
        G._WORKER["mode"] = p["mode"]
        os.environ["DLCOURSE_SANDBOX_SLOT"] = str(_POOL.get("slot", 0))
    r = G.grade_one(st, ch)
    out = {"result": asdict(r), "autograded": {}, "gradebook": {}, "similar": None, "log": None}
    auto = root / "autograded" / st / ch
    if r.status != "invalid":
        out["autograded"] = _files(auto)
        sim = G._similar_path(root, st, ch)
        out["similar"] = sim.read_text() if sim.exists() else None
        log = root / ".autograder" / "logs" / st / f"{ch}.log"
        out["log"] = log.read_bytes() if log.exists() else None
        with Gradebook("sqlite:///" + str(root / "gradebook.db"), "dl-fundamentals") as gb:
            s = gb.find_submission(ch, st)
            out["gradebook"] = {
                "timestamp": s.timestamp.isoformat() if s.timestamp else None,  # naive UTC, as nbgrader keeps it
                "notebooks": {nb.name: {"grades": {g.name: g.auto_score for g in nb.grades},
                                        "comments": {c.name: c.auto_comment for c in nb.comments},
                                        "late_submission_penalty": nb.late_submission_penalty}
                              for nb in s.notebooks}}
    size = sum(len(v) for v in out["autograded"].values()) + len(out["log"] or b"")
    if size > MAX_TASK_BYTES:
        raise ValueError(f"the autograded folder and log are {size / 2**20:.0f} MiB, over {MAX_TASK_BYTES >> 20} MiB")
    shutil.rmtree(root / "submitted" / st, ignore_errors=True)
    shutil.rmtree(root / "autograded" / st, ignore_errors=True)
    return out


if __name__ == "__main__":
    serve()
