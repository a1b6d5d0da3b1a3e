"""Trusted scoring: every point of an autograded test cell is decided in the grader's process.

The notebook still runs in the sandbox kernel, so the student's feedback shows what their
visible tests printed. But that kernel is the student's own process: whatever decides a
grade there (a test cell's outputs, the checking module, IPython's hooks) the student's code
can rewrite. So after the notebook ran, :class:`autograder.preprocessors.TrustedScore` calls
:func:`score_notebook`, which

1. starts a **fresh sandboxed process** (:mod:`autograder.runner`, under the same
   :mod:`autograder.sandbox` and limits) whose ``dlcore`` lacks the reference implementations
   (:mod:`autograder.withhold`); it runs the chapter's setup imports, the student's solution
   cells and any cell the student added, in notebook order, and nothing else;
2. runs each test cell's code — the instructor's, from the source notebook, hidden tests
   included — **in the grader's process**, where the student's functions are stand-ins
   (:class:`Remote`) that send the call's arguments to the sandbox and get back only plain
   data (:mod:`autograder.plaindata`: numbers, strings, numeric arrays, containers of them;
   never pickle). The checks and the references therefore run where the student's code
   cannot reach, on inputs it sees only when it is called;
3. returns a :class:`Verdict` per test cell — points (partial credit per ``part`` of a test,
   :mod:`autograder.checks`), a message a student understands, and flags for the instructor
   (a withheld reference called, a forbidden function watched, a subprocess started).

The student's process is restarted whenever it dies (a timeout, a memory limit, ``os._exit``),
replaying the cells before, so one broken exercise costs only its own points.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import io
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder import plaindata as P
from dlcore.testing import INTEGRITY_MARK  # defined once, in the checking module

HERE = Path(__file__).resolve().parent
TRUSTED_SLOT_OFFSET = 4096  # the scoring process's uid: UID_BASE + worker slot + this
_DROP_IMPORTS = ("dlcore.testing", "dlcore.explorers", "matplotlib", "ipywidgets", "IPython", "ipympl")
_PROCESS_ROUTES = {"subprocess", "multiprocessing", "pty", "ctypes", "os.system", "os.popen", "os.fork",
                   "os.execv", "os.execve", "os.execl", "os.execlp", "os.execvp", "os.spawnl", "os.spawnv",
                   "os.posix_spawn", "os.forkpty"}


class GradingTimeout(Exception):
    """The student's code did not answer within the time limit."""


class ProcessDied(Exception):
    """The student's process ended while it was running their code."""


UNAVAILABLE = "TRUSTED-SCORING-UNAVAILABLE:"


class ScoringUnavailable(RuntimeError):
    """The grader could not start its sandboxed process at all (before any student code ran):
    the grader's problem, never a student's zero."""


@dataclass
class Verdict:
    grade_id: str
    points: float
    max_points: float
    message: str = ""
    hidden: bool = False          # the failure was in a hidden test
    parts: list = field(default_factory=list)   # (description, points, max, passed)
    flags: list = field(default_factory=list)
    seconds: float = 0.0
    references: list = field(default_factory=list)   # the dlcore functions the test forbids

    @property
    def passed(self) -> bool:
        return self.points >= self.max_points


# ----------------------------------------------------------------------------- the notebook's pieces
def _nbg(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_test(cell) -> bool:
    m = _nbg(cell)
    return cell.get("cell_type") == "code" and bool(m.get("grade")) and not m.get("solution")


def _src(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def setup_source(source: str, drop: tuple[str, ...] = _DROP_IMPORTS) -> str:
    """A setup cell without magics, the checking module and (for the student's process) the
    explorers (plots, widgets); the grader's own process keeps the explorers (``drop`` shorter)."""
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return ""
    keep = []
    for node in tree.body:
        if isinstance(node, ast.Import) and any(a.name.startswith(drop) for a in node.names):
            continue
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(drop):
            continue
        if isinstance(node, ast.Expr) and ast.unparse(node).startswith(("dlcore.testing", "plt.")):
            continue
        keep.append(node)
    return ast.unparse(ast.Module(body=keep, type_ignores=[]))


def plan(nb: dict, source_nb: dict) -> list[tuple]:
    """The steps, in notebook order: ("setup", src), ("exec", gid_or_index, src), ("test", gid, src, points).

    Test code and setup come from the instructor's source notebook (by grade_id), never from the
    submission; solution cells and cells the student added come from the submission.
    """
    return [step for _, step in _indexed_plan(nb, source_nb)]


def graded_path(nb: dict, source_nb: dict) -> set[int]:
    """Indices of the submission's cells a grade or the student's feedback depends on: the
    chapter's setup cells, the student's cells, the tests (up to the last test). The chapter's
    demonstrations and explorers are not among them: no test reads what they compute."""
    return {i for i, _ in _indexed_plan(nb, source_nb)}


def _indexed_plan(nb: dict, source_nb: dict) -> list[tuple[int, tuple]]:
    src_cells = {_nbg(c).get("grade_id"): c for c in source_nb.get("cells", []) if _nbg(c).get("grade_id")}
    src_ids = {c.get("id") for c in source_nb.get("cells", [])}
    src_texts = {_src(c) for c in source_nb.get("cells", [])}
    steps = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        m = _nbg(cell)
        gid = m.get("grade_id")
        if is_test(cell) and gid in src_cells:
            steps.append((i, ("test", gid, _src(src_cells[gid]), float(_nbg(src_cells[gid]).get("points", 0)))))
        elif m.get("solution"):
            steps.append((i, ("exec", gid or f"cell {i}", _src(cell))))
        elif gid and m.get("locked") and gid in src_cells and not m.get("grade"):
            steps.append((i, ("setup", setup_source(_src(src_cells[gid])),
                              setup_source(_src(src_cells[gid]), drop=("dlcore.testing",)))))
        elif not m and cell.get("id") not in src_ids and _src(cell) not in src_texts:
            steps.append((i, ("exec", f"cell {i} (added by you)", _src(cell))))
    # What comes after the last test cannot change a grade: it is not run.
    last = max((k for k, (_, st) in enumerate(steps) if st[0] == "test"), default=-1)
    return steps[:last + 1]


def allowed_names(source_nb: dict) -> set[str]:
    """The dlcore names the chapter's model solutions use (the exercise text names them): the
    only parts of dlcore the student's process keeps."""
    aliases: dict[str, str] = {}
    for cell in source_nb.get("cells", []):
        m = _nbg(cell)
        if cell.get("cell_type") == "code" and m.get("locked") and not m.get("grade") and not m.get("solution"):
            try:
                tree = ast.parse(setup_source(_src(cell)))
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    for a in node.names:
                        if a.name.startswith("dlcore"):
                            aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
                elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dlcore"):
                    for a in node.names:
                        aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    out: set[str] = set()
    for cell in source_nb.get("cells", []):
        if cell.get("cell_type") != "code" or not _nbg(cell).get("solution"):
            continue
        try:
            tree = ast.parse(_src(cell))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            chain = _dotted(node)
            if chain and chain.split(".")[0] in aliases:
                head, _, rest = chain.partition(".")
                full = aliases[head] + ("." + rest if rest else "")
                if "." in full:
                    out.add(full)
    return out


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and parts:
        return ".".join([node.id, *reversed(parts)])
    return ""


def free_names(source: str) -> set[str]:
    """Names a cell reads but never binds (the student's functions, for a test cell)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    bound, loads = set(), set()
    for n in ast.walk(tree):
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in n.names}
        elif isinstance(n, ast.Name):
            (loads if isinstance(n.ctx, ast.Load) else bound).add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(n.name)
        elif isinstance(n, ast.arg):
            bound.add(n.arg)
    return loads - bound - set(dir(builtins))


def hidden_lines(source: str) -> set[int]:
    """1-based line numbers inside the hidden-test markers (the preprocessors' own rule)."""
    from autograder.preprocessors import hidden_line_range

    return hidden_line_range(source)


def process_routes(source: str) -> list[str]:
    """Ways a solution cell starts another process (which could run what this one cannot)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names if a.name.split(".")[0] in _PROCESS_ROUTES}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in _PROCESS_ROUTES:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            found |= {f"os.{a.name}" for a in node.names if f"os.{a.name}" in _PROCESS_ROUTES}
        else:
            chain = _dotted(node)
            if chain in _PROCESS_ROUTES:
                found.add(chain)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in _PROCESS_ROUTES:
            found.add(node.value)
    return sorted(found)


# ----------------------------------------------------------------------------- the sandboxed process
class Handle:
    """Something the student's function returned that is not plain data (kept in their process)."""

    def __init__(self, n: int):
        self.n = n

    def __repr__(self):
        return f"<an object of the student's process, #{self.n}, not plain data>"


class Session:
    """One sandboxed runner process and the socket to it."""

    _count = 0

    def __init__(self, lib: Path, runtime: str, timeout: float, status: str | None = None):
        self.timeout = timeout
        self.names: dict[str, str] = {}
        self.lent: list = []
        self.lent_ids: dict[int, int] = {}
        self.withheld: set[str] = set()
        # short: a Unix socket's path must fit in 107 bytes (the runtime folder is already long)
        Session._count += 1
        self.path = os.path.join(runtime, f"t{Session._count}.sock")
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        os.chmod(self.path, 0o666)
        self.server.listen(1)
        env = dict(os.environ)
        env["DLCOURSE_SANDBOX_RUNTIME"] = runtime
        env["DLCOURSE_SANDBOX_PARENT"] = str(os.getpid())
        # Its own uid (as root): it runs beside the kernel of the same notebook, and neither may
        # count against the other's process limit or reach the other's files.
        env["DLCOURSE_SANDBOX_SLOT"] = str(int(env.get("DLCOURSE_SANDBOX_SLOT") or 0) + TRUSTED_SLOT_OFFSET)
        if status:
            env["DLCOURSE_SANDBOX_STATUS"] = status
            env["DLCOURSE_SANDBOX_LOG"] = status + ".log"
        # the supervisor's own errors (never the student's output: that goes to its bounded log)
        self.errors = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, "-m", "autograder.sandbox", "--program", str(lib), self.path],
                                     env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.errors, cwd=str(HERE.parent))
        end = time.monotonic() + max(30.0, timeout)
        self.server.settimeout(0.1)
        self.sock = None
        while self.sock is None and time.monotonic() < end and self.proc.poll() is None:
            try:
                self.sock, _ = self.server.accept()
            except socket.timeout:
                continue
            except OSError:
                break
        if self.sock is None:
            code = self.proc.poll()
            self.close()
            self.errors.seek(0)
            said = self.errors.read()[-600:].decode("utf-8", "replace").strip()
            raise ScoringUnavailable(f"{UNAVAILABLE} the sandboxed grading process did not start (exit {code}); "
                                     "check that `python -m autograder.sandbox --program` runs here"
                                     + (f": {said}" if said else "")) from None
        self.deadline = None

    # plain data with callbacks (what the grader lends) and handles (what the student keeps)
    def _other(self, obj) -> int:
        if isinstance(obj, Handle):
            return -obj.n - 1
        if callable(obj):
            key = id(obj)
            if key not in self.lent_ids:
                self.lent_ids[key] = len(self.lent)
                self.lent.append(obj)
            return self.lent_ids[key]
        raise P.PlainDataError(f"the test passes a {type(obj).__name__}, which cannot cross to the student's process")

    def _refs(self, n: int):
        return Handle(n)

    def request(self, msg: dict, limit: float | None = None) -> dict:
        limit = self.timeout if limit is None else limit
        end = time.monotonic() + limit
        P.send(self.sock, msg, self._other)
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise GradingTimeout()
            self.sock.settimeout(left)
            try:
                reply = P.recv(self.sock, self._refs)
            except socket.timeout:
                raise GradingTimeout() from None
            except (ConnectionError, OSError):
                raise ProcessDied() from None
            if reply.get("op") != "callback":
                return reply
            ref = reply.get("ref")
            fn = self.lent[ref] if isinstance(ref, int) and 0 <= ref < len(self.lent) else None
            try:
                if fn is None:
                    raise RuntimeError("no such function")
                args, kwargs = reply.get("args", []), reply.get("kwargs", {})
                if type(args) is not list or type(kwargs) is not dict:
                    raise TypeError("bad call")
                out = {"op": "callback_result", "value": fn(*args, **kwargs)}
            except Exception as exc:  # noqa: BLE001 - the student's function hears about it
                out = {"op": "callback_result", "error": f"{type(exc).__name__}: {exc}"}
            P.send(self.sock, out, self._other)

    def run_cell(self, source: str, statements: bool, filename: str, limit: float | None = None) -> dict:
        reply = self.request({"op": "exec", "source": source, "statements": statements, "filename": filename},
                             limit=limit)
        names = reply.get("names")
        if isinstance(names, dict):
            self.names = {str(k): str(v) for k, v in names.items()}
        return reply

    def close(self) -> None:
        for s in ("sock", "server"):
            try:
                getattr(self, s).close()
            except (AttributeError, OSError):
                pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def __del__(self):
        errors = getattr(self, "errors", None)
        if errors is not None:
            errors.close()


class Remote:
    """The grader's stand-in for a student function: calls cross to the sandbox as plain data."""

    def __init__(self, session: Session, name: str, log: "CallLog"):
        self.session, self.__name__, self.log = session, name, log

    def __call__(self, *args, **kwargs):
        return self.call(args, kwargs, ())

    def call(self, args, kwargs, forbid):
        names = [_qualname(f) for f in forbid]
        self.log.forbid.update(n for n in names if n.startswith("dlcore."))
        s = self.session
        reply = s.request({"op": "call", "name": self.__name__, "args": list(args), "kwargs": dict(kwargs),
                           "forbid": [n for n in names if n]}, limit=self.log.left())
        for name in reply.get("withheld") or []:
            self.log.withheld.add(str(name))
        _mirror(args, reply.get("args"))
        _mirror(kwargs, reply.get("kwargs"))
        for w in reply.get("warnings") or []:
            text = f"{w[0]}: {w[1]}" if isinstance(w, list) and len(w) == 2 else str(w)
            self.log.warnings.append(text)
            category = getattr(builtins, str(w[0]), None) if isinstance(w, list) else None
            if not (isinstance(category, type) and issubclass(category, Warning)):
                category = UserWarning
            warnings.warn(str(w[1]) if isinstance(w, list) else text, category, stacklevel=2)
        if reply.get("stderr"):
            self.log.stderr.append(str(reply["stderr"]))
        err = reply.get("error")
        if err:
            etype = str(err.get("type", "Error")) if isinstance(err, dict) else "Error"
            msg = str(err.get("message", "")) if isinstance(err, dict) else str(err)
            if etype == "IntegrityError":
                self.log.watched.add(msg.replace("calls the reference ", ""))
            raise StudentError(etype, msg, str(err.get("where", "")) if isinstance(err, dict) else "",
                               call=_call_kind(args, kwargs))
        return reply.get("value")


class StudentError(Exception):
    """The student's function raised (in their process): its type and message, as text."""

    def __init__(self, etype: str, message: str, where: str = "", call: str = ""):
        super().__init__(f"{etype}: {message}")
        self.etype, self.message, self.where, self.call = etype, message, where, call


def _arg_kind(a) -> str:
    """An argument as the kind of case it makes, never its values: shapes, None, small numbers."""
    if a is None or isinstance(a, (bool, int)) and abs(a) < 100:
        return repr(a)
    if isinstance(a, np.ndarray):
        return f"an array of shape {a.shape}" if a.ndim else "a 0-d array"
    if isinstance(a, float):
        return "a float"
    if isinstance(a, int):
        return "an int"
    if isinstance(a, (list, tuple)):
        return f"a {type(a).__name__} of {len(a)}"
    if isinstance(a, dict):
        return "a dict"
    return f"a {type(a).__name__}"


def _call_kind(args, kwargs) -> str:
    """``called with an array of shape (1, 2, 6, 5), None and 1``: which kind of case a call was."""
    parts = [_arg_kind(a) for a in args] + [f"{k}={_arg_kind(v)}" for k, v in kwargs.items()]
    if not parts:
        return "called with no arguments"
    return "called with " + (parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1])


def _qualname(f) -> str:
    mod = getattr(f, "__module__", None) or getattr(getattr(f, "__objclass__", None), "__module__", "")
    qual = getattr(f, "__qualname__", None) or getattr(f, "__name__", "")
    return f"{mod}.{qual}" if mod and qual else ""


def _mirror(before, after) -> None:
    """Make the grader's arguments show what the student's function did to its copies."""
    if isinstance(before, dict) and isinstance(after, dict):
        for k in list(before):
            if k in after:
                if not _mirror_value(before[k], after[k]):
                    before[k] = after[k]
            else:
                del before[k]
        for k in after:
            if k not in before:
                before[k] = after[k]
        return
    if isinstance(before, (list, tuple)) and isinstance(after, (list, tuple)) and len(before) == len(after):
        for i, (b, a) in enumerate(zip(before, after)):
            if not _mirror_value(b, a) and isinstance(before, list):
                before[i] = a


def _mirror_value(b, a) -> bool:
    """Change ``b`` in place to equal ``a``; False when that is not possible in place."""
    import numpy as np

    if isinstance(b, np.ndarray) and isinstance(a, np.ndarray):
        if b.shape == a.shape and b.flags.writeable:
            try:
                np.copyto(b, a, casting="unsafe")
                return True
            except (TypeError, ValueError):
                return False
        return False
    if isinstance(b, np.random.Generator) and isinstance(a, np.random.Generator):
        try:
            b.bit_generator.state = a.bit_generator.state
            return True
        except (TypeError, ValueError):
            return False
    if isinstance(b, (dict, list)) and type(a) is type(b):
        if isinstance(b, list) and len(a) != len(b):
            b[:] = a
        else:
            _mirror(b, a)
        return True
    return type(a) is type(b) and a == b if not isinstance(a, np.ndarray) else False


@dataclass
class CallLog:
    """What the student's functions did during one test cell, beyond their return values."""
    deadline: float = 0.0
    warnings: list = field(default_factory=list)
    stderr: list = field(default_factory=list)
    withheld: set = field(default_factory=set)
    watched: set = field(default_factory=set)
    forbid: set = field(default_factory=set)

    def left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())


# ----------------------------------------------------------------------------- the grader's side of a test
_PRELUDES: dict[str, dict] = {}


def grader_namespace(setup: str) -> dict:
    """The setup cell's imports, run once in the grader's process (real dlcore)."""
    if setup not in _PRELUDES:
        ns: dict = {"__name__": "__dlcourse_test__"}
        try:
            tree = ast.parse(setup)
        except SyntaxError:
            tree = ast.Module(body=[], type_ignores=[])
        for node in tree.body:
            try:
                exec(compile(ast.Module(body=[node], type_ignores=[]), "<setup>", "exec"), ns)
            except Exception:  # noqa: BLE001 - a setup line the grader cannot run is not the student's fault
                pass
        _PRELUDES[setup] = ns
    return dict(_PRELUDES[setup])


def _import_hook(real_import):
    def hook(name, globals=None, locals=None, fromlist=(), level=0):
        if name == "dlcore.testing" and fromlist:
            from autograder import checks

            return checks
        return real_import(name, globals, locals, fromlist, level)
    return hook


def run_test(session_factory, gid: str, source: str, points: float, setup: str, timeout: float) -> Verdict:
    """Run one test cell's code in this process against the student's functions."""
    from autograder import checks

    t0 = time.monotonic()
    log = CallLog(deadline=time.monotonic() + timeout)
    ns = grader_namespace(setup)
    session = session_factory()
    for name in sorted(free_names(source) - set(ns)):
        kind = session.names.get(name)
        if kind == "callable":
            ns[name] = Remote(session, name, log)
        elif kind == "value":
            reply = session.request({"op": "get", "name": name}, limit=log.left())
            if not reply.get("missing"):
                ns[name] = reply.get("value")
    bdict = dict(vars(builtins))
    bdict["__import__"] = _import_hook(builtins.__import__)
    ns["__builtins__"] = bdict
    hidden = hidden_lines(source)
    checks.begin_parts(points)
    error, at_line = None, None
    with warnings.catch_warnings(record=True), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("always")
        try:
            exec(compile(source, f"<test {gid}>", "exec"), ns)
        except (GradingTimeout, ProcessDied):
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of a test is a verdict (Ctrl-C is not)
            error = exc
            at_line = _test_line(exc, gid)
        finally:
            recorded = checks.end_parts()
    v = Verdict(gid, 0.0, points, seconds=round(time.monotonic() - t0, 3))
    # A part may be checked in several blocks (visible, then hidden, or once per hidden case): it
    # earns its points when every block of that name passed.
    merged: dict[str, list] = {}
    for what, _earned, most, passed, exc in recorded:
        entry = merged.setdefault(what, [what, 0.0, most, True, ""])
        entry[2] = max(entry[2], most)
        if not passed and entry[3]:
            entry[3], entry[4] = False, describe(exc, _test_line(exc, gid) in hidden)
        if isinstance(exc, StudentError) and exc.etype == "IntegrityError":
            log.watched.add(exc.message)
    for entry in merged.values():
        entry[1] = entry[2] if entry[3] else 0.0
    v.parts = [tuple(e) for e in merged.values()]
    recorded = v.parts
    problem = ""
    if log.warnings and error is None:
        problem = _warned(log.warnings[0])
    elif log.stderr and error is None:
        problem = f"your function wrote to stderr ({log.stderr[0].strip()[:200]!r}); a test that writes to stderr scores 0"
    if error is not None:
        v.hidden = at_line is not None and at_line in hidden
        v.message = describe(error, v.hidden)
    elif problem:
        v.message = problem
    # Points: each part that passed, plus the points outside every part. A failure outside every
    # part stops the test before the parts after it could fail, so it scores the cell 0 (a test
    # with parts calls the student's function inside them); a warning or a write to stderr costs
    # the whole cell too (as in the notebook).
    outside = points - sum(p[2] for p in recorded)
    earned = sum(p[1] for p in recorded) + outside
    v.points = 0.0 if (problem or error is not None) else round(min(max(earned, 0.0), points), 6)
    failed = [p for p in recorded if not p[3]]
    if failed and not v.message:
        v.message = "; ".join(f"{p[0]}: {p[4]}" for p in failed)
    for name in sorted(log.withheld):
        v.flags.append(f"reference-call:{gid}")
        v.message = v.message or ""
        v.message += f" (your code called {name}, which is withheld while your functions are graded)"
    if log.watched:
        v.flags.append(f"reference-call:{gid}")
    v.flags = sorted(set(v.flags))
    v.references = sorted(log.forbid)
    return v


def _test_line(exc: BaseException, gid: str) -> int | None:
    line = None
    for f in traceback.extract_tb(exc.__traceback__):
        if f.filename == f"<test {gid}>":
            line = f.lineno
    return line


def _short(text: str, n: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _warned(warning: str) -> str:
    """Why a test that warned scores 0, and where to look."""
    return (f"your function emitted a warning ({warning}), and a test whose code warns scores 0, as the exercise "
            "says; look for the step that overflows, divides by zero or takes the log of 0 — usually on inputs of "
            "large magnitude")


def describe(exc: BaseException, hidden: bool) -> str:
    """What went wrong, for the student; a hidden test says which kind of case, never its values."""
    warned = exc.etype if isinstance(exc, StudentError) else type(exc).__name__
    if warned.endswith("Warning"):
        text = _warned(f"{warned}: {_short(exc.message if isinstance(exc, StudentError) else str(exc), 160)}")
        return ("a hidden test of this cell failed: " + text) if hidden else text
    if isinstance(exc, StudentError):
        where = f" ({exc.where})" if exc.where else ""
        if exc.etype == "IntegrityError":
            return f"{INTEGRITY_MARK} your function {exc.message}; the exercise asks you to implement it"
        if exc.etype == "ReferenceWithheld":
            return _short(exc.message)
        said = _short(exc.message, 200) or ("it is not written yet" if exc.etype == "NotImplementedError" else "")
        text = f"your function raised {exc.etype}" + (f": {said}" if said else "") + where
        if hidden and exc.call and exc.etype != "NotImplementedError":   # which kind of case it was
            text += f", {exc.call}"
        return ("a hidden test of this cell failed: " + text) if hidden else text
    msg = _short(str(exc))
    if isinstance(exc, AssertionError):
        if hidden:
            what = re.split(r": (?:expected|got|must|should)\b| expected |, got ", msg, maxsplit=1)[0]
            # what the student's own function returned may be shown; what was expected may not
            got = re.search(r"\bgot (.+?)(?: \(largest difference| \(did you|; expected|, expected|$)", msg)
            said = f" — your function returned {_short(got.group(1), 120)}" if got else ""
            return f"a hidden test of this cell failed: {what}{said}"
        return msg
    if hidden:
        return f"a hidden test of this cell failed: {type(exc).__name__}"
    return f"{type(exc).__name__}: {msg}"


# ----------------------------------------------------------------------------- one notebook
class Scorer:
    """Score every test cell of one executed notebook (see the module docstring)."""

    def __init__(self, nb: dict, source_nb: dict, lib: Path, runtime: str, timeout: float,
                 status: str | None = None, budget: float = 300.0):
        self.steps = plan(nb, source_nb)
        self.budget_end = time.monotonic() + budget
        self.lib, self.runtime, self.timeout, self.status = lib, runtime, timeout, status
        self.session: Session | None = None
        self.done: list[tuple] = []        # exec steps run in the current session
        self.fatal: set[int] = set()       # steps that killed their process (skipped on replay)
        self.notes: dict[str, str] = {}    # cell -> why it could not run
        self.setup = "\n".join(s[2] for s in self.steps if s[0] == "setup")
        self.killed: list[str] = []

    def _start(self) -> Session:
        if self.session is not None and self.session.proc.poll() is None:
            return self.session
        self.close()
        # A start that fails ran no student code (the student's cells run after it connects), so
        # trying again is safe; three failures in a row are the grader's problem.
        for attempt in range(3):
            try:
                self.session = Session(self.lib, self.runtime, self.timeout, self.status)
                break
            except ScoringUnavailable:
                if attempt == 2:
                    raise
                time.sleep(0.5 * (attempt + 1))
        for idx in [i for i, _ in self.done]:
            if idx in self.fatal:
                continue
            try:
                self._exec(self.session, self.steps[idx])
            except (GradingTimeout, ProcessDied):
                self.fatal.add(idx)
                return self._start()
        return self.session

    def _exec(self, session: Session, step: tuple) -> dict:
        limit = max(0.5, min(self.timeout, self.budget_end - time.monotonic()))
        if step[0] == "setup":
            return session.run_cell(step[1], True, "<setup>", limit)
        return session.run_cell(step[2], False, f"<cell {step[1]}>", limit)

    def _status_reason(self) -> str:
        try:
            st = json.loads(Path(self.status).read_text()) if self.status else {}
        except (OSError, ValueError):
            st = {}
        if st.get("killed"):
            self.killed.append(st["killed"])
            return {"memory-limit": "it used more memory than the limit",
                    "process-limit": "it started more processes than the limit",
                    "scratch-limit": "it wrote more scratch data than the limit"}.get(st["killed"], st["killed"])
        if st.get("oom_kills"):
            self.killed.append("memory-limit")
            return "it used more memory than the limit"
        return ""

    def run(self) -> dict[str, Verdict]:
        verdicts: dict[str, Verdict] = {}
        for idx, step in enumerate(self.steps):
            if step[0] in ("setup", "exec"):
                try:
                    session = self._start()
                    reply = self._exec(session, step)
                    if not reply.get("ok", True) and step[0] == "exec":
                        self.notes[step[1]] = str(reply.get("error", ""))[:300]
                except GradingTimeout:
                    self.fatal.add(idx)
                    self.notes[step[1]] = "it did not finish within the time limit"
                    self.close()
                except ProcessDied:
                    self.fatal.add(idx)
                    self.notes[step[1]] = "it ended the process that ran it" + self._why()
                    self.close()
                self.done.append((idx, step))
                continue
            _, gid, source, points = step
            left = self.budget_end - time.monotonic()
            if left <= 0:
                verdicts[gid] = Verdict(gid, 0.0, points, "not run: the grading of this notebook used up its time "
                                        "budget on the cells before", flags=["time-budget"])
                continue
            try:
                v = run_test(self._start, gid, source, points, self.setup, min(self.timeout, left))
            except GradingTimeout:
                self.close()
                v = Verdict(gid, 0.0, points, f"your function did not finish within the time limit of "
                            f"{self.timeout:g} s per test cell")
                v.flags.append(f"timeout:{gid}")
            except ProcessDied:
                why = self._why()
                self.close()
                v = Verdict(gid, 0.0, points, "the process running your function ended before the test finished"
                            + why)
            verdicts[gid] = v
        self.close()
        return verdicts

    def _why(self) -> str:
        if self.session is not None and self.session.proc.poll() is None:
            try:
                self.session.proc.wait(2)
            except subprocess.TimeoutExpired:
                pass
        reason = self._status_reason()
        return f" ({reason})" if reason else " (for example os._exit, or a crash)"

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
            if self.status:
                try:
                    os.unlink(self.status)
                except OSError:
                    pass


def library(source_nb: dict, cache_root: Path) -> Path:
    """The sandbox's library folder for a source notebook (built once per content)."""
    import hashlib

    from autograder import withhold

    allowed = sorted(allowed_names(source_nb))
    h = hashlib.sha256(json.dumps(allowed).encode())
    for p in sorted(withhold.DLCORE.rglob("*.py")) + [HERE / "runner.py", HERE / "plaindata.py", HERE / "withhold.py"]:
        h.update(p.read_bytes())
    dest = Path(cache_root) / h.hexdigest()[:16]
    if not (dest / "runner.py").exists():
        tmp = Path(tempfile.mkdtemp(prefix="lib-", dir=cache_root))
        withhold.build(tmp, set(allowed), (HERE / "runner.py", HERE / "plaindata.py"))
        try:
            os.replace(tmp, dest)
        except OSError:  # another worker built it first
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    os.chmod(cache_root, 0o755)
    return dest


def score_notebook(nb: dict, source_nb: dict, *, timeout: float, cache_root: Path, runtime: str,
                   status: str | None = None, budget: float = 300.0) -> "Outcome":
    """Verdicts per test cell, and what the instructor should know about the run."""
    Path(cache_root).mkdir(parents=True, exist_ok=True)
    lib = library(source_nb, Path(cache_root))
    scorer = Scorer(nb, source_nb, lib, runtime, timeout, status, budget)
    verdicts = scorer.run()
    routes = {step[1]: process_routes(step[2]) for step in scorer.steps if step[0] == "exec"}
    return Outcome(verdicts, scorer.notes, sorted(set(scorer.killed)),
                   {k: v for k, v in routes.items() if v}, similar_to_references(scorer.steps, verdicts))


def reference_candidates(qualname: str) -> list[str]:
    """A reference and its variants in the same module (``conv2d_backward`` and
    ``conv2d_backward_loops``, the loop version an exercise usually mirrors)."""
    import importlib
    import inspect

    mod, _, name = qualname.rpartition(".")
    out = [qualname]
    try:
        m = importlib.import_module(mod)
    except Exception:  # noqa: BLE001 - a method's qualname: Class.method
        return out
    for other, obj in vars(m).items():
        if other != name and other.startswith(name) and inspect.isfunction(obj) and obj.__module__ == mod:
            out.append(f"{mod}.{other}")
    return out


# A copy of a reference must at least adapt its first lines to the exercise's signature (the
# reference reads a cache, the exercise gets arrays), which costs a faithful renamed copy of
# chapter 8's conv backward 0.24 of Jaccard similarity (0.76); the course's own model solutions
# score at most 0.38 against any reference, the helper module's honest rewrites at most 0.23.
REFERENCE_THRESHOLD = 0.7


def similar_to_references(steps: list[tuple], verdicts: dict) -> dict[str, list]:
    """solution cell -> [reference, score] when it is a (renamed, reformatted) copy of a reference
    its exercise forbids (:mod:`autograder.similarity`)."""
    from autograder import similarity

    found: dict[str, list] = {}
    for step in steps:
        if step[0] != "test" or step[1] not in verdicts:
            continue
        refs = [c for q in verdicts[step[1]].references for c in reference_candidates(q)]
        if not refs:
            continue
        wanted = free_names(step[2])
        for other in steps:
            if other[0] != "exec":
                continue
            try:
                defined = {n.name for n in ast.parse(other[2]).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
            except SyntaxError:
                continue
            if not defined & wanted:
                continue
            for m in similarity.compare_with_references("", str(other[1]), other[2], refs,
                                                        threshold=REFERENCE_THRESHOLD):
                if other[1] not in found or m.score > found[other[1]][1]:
                    found[other[1]] = [m.b, round(m.score, 3)]
    return found


@dataclass
class Outcome:
    verdicts: dict
    notes: dict            # cell -> why it could not run in the grading process
    killed: list           # limits the grading process hit
    routes: dict           # solution cell -> ways it starts other processes
    similar: dict = field(default_factory=dict)   # solution cell -> [reference, score]

    def flags(self) -> list[str]:
        out = {f for v in self.verdicts.values() for f in v.flags}
        out |= {f"subprocess:{cell}" for cell in self.routes}
        out |= {f"similar-to-reference:{cell}" for cell in self.similar}
        out |= set(self.killed)
        return sorted(out)
