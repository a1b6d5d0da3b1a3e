"""The sandboxed side of trusted scoring: run a student's cells, answer calls with plain data.

The grader (:mod:`autograder.trusted`) copies this file, :mod:`autograder.plaindata` and a
``dlcore`` without its reference implementations into a folder, and starts
``python runner.py SOCKET`` inside the sandbox (:mod:`autograder.sandbox`). The runner connects
to the grader's Unix socket and obeys messages:

* ``{"op": "exec", "source": ..., "statements": bool}`` runs a cell in the student namespace
  (statement by statement for the setup cell, so one failing import does not stop the rest)
  and answers with the names it now holds;
* ``{"op": "call", "name": ..., "args": [...], "kwargs": {...}, "forbid": [...]}`` calls a
  student function and answers with its result, the arguments as the call left them (so the
  grader sees in-place changes), the warnings it raised, what it wrote to ``sys.stderr``, the
  withheld references it tried, or its exception. An argument the grader lent as a callable
  (``{"$ref": n}``, n >= 0) calls back into the grader;
* ``{"op": "get", "name": ...}`` answers with a value.

Nothing here is trusted: student code shares this process and can change any of it. It can
only change what its own functions are reported to return, which is what is being graded.
"""
from __future__ import annotations

import builtins
import io
import socket
import sys
import traceback
import types
import warnings

import plaindata as P

MAX_TEXT = 4000


class _Capped(io.StringIO):
    def write(self, s):
        if self.tell() < MAX_TEXT:
            super().write(str(s)[: MAX_TEXT - self.tell()])
        return len(s)


def _kind(v) -> str:
    if isinstance(v, types.ModuleType):
        return "module"
    return "callable" if callable(v) else "value"


class Runner:
    def __init__(self, sock):
        self.sock = sock
        self.ns = {"__name__": "__main__", "__builtins__": builtins}
        self.handles: list = []
        self.handle_ids: dict[int, int] = {}

    # -- plain data, with handles for what is not data and callbacks into the grader
    def _other(self, obj) -> int:
        key = id(obj)
        if key not in self.handle_ids:
            self.handle_ids[key] = len(self.handles)
            self.handles.append(obj)
        return self.handle_ids[key]

    def _refs(self, n: int):
        if n < 0:
            if -n - 1 >= len(self.handles):
                raise P.PlainDataError(f"no object {n}")
            return self.handles[-n - 1]

        def lent(*args, **kwargs):
            P.send(self.sock, {"op": "callback", "ref": n, "args": list(args), "kwargs": kwargs}, self._other)
            reply = P.recv(self.sock, self._refs)
            if reply.get("error"):
                raise RuntimeError(reply["error"])
            return reply.get("value")
        lent.__name__ = f"grader_function_{n}"
        return lent

    def send(self, msg: dict) -> None:
        P.send(self.sock, msg, self._other)

    def names(self) -> dict:
        return {k: _kind(v) for k, v in self.ns.items() if not k.startswith("__")}

    # -- operations
    def op_exec(self, msg: dict) -> dict:
        source = msg.get("source", "")
        errors = []
        if msg.get("statements"):
            import ast

            try:
                parts = [ast.Module(body=[node], type_ignores=[]) for node in ast.parse(source).body]
            except SyntaxError as exc:
                return {"ok": False, "error": f"SyntaxError: {exc}", "names": self.names()}
            for part in parts:
                err = self._run(lambda: exec(compile(part, "<setup>", "exec"), self.ns))
                if err:
                    errors.append(err)
        else:
            import linecache

            filename = str(msg.get("filename", "<cell>"))
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            err = self._run(lambda: exec(compile(source, filename, "exec"), self.ns))
            if err:
                errors.append(err)
        return {"ok": not errors, "error": "; ".join(errors)[:MAX_TEXT], "names": self.names()}

    def _run(self, fn) -> str:
        out, err = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = _Capped()
        try:
            fn()
            return ""
        except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt are answers too
            return f"{type(exc).__name__}: {exc}"[:MAX_TEXT]
        finally:
            sys.stdout, sys.stderr = out, err

    def op_get(self, msg: dict) -> dict:
        name = msg.get("name")
        if name not in self.ns:
            return {"missing": True}
        return {"value": self.ns[name]}

    def op_call(self, msg: dict) -> dict:
        fn = self.ns.get(msg.get("name"))
        if fn is None or not callable(fn):
            return {"error": {"type": "NameError", "message": f"name {msg.get('name')!r} is not defined"}}
        args, kwargs = msg.get("args", []), msg.get("kwargs", {})
        watch = _Watch(msg.get("forbid") or [])
        withheld_before = len(_withheld_log())
        out, err = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Capped(), _Capped()
        reply: dict = {}
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("default")
                for cat in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
                    warnings.filterwarnings("ignore", category=cat)
                warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
                try:
                    with watch:
                        value = fn(*args, **kwargs)
                    reply["value"] = value
                except BaseException as exc:  # noqa: BLE001
                    reply["error"] = {"type": type(exc).__name__, "message": str(exc)[:MAX_TEXT],
                                      "where": _student_frames(exc)}
            reply["warnings"] = [[type(w.message).__name__ if isinstance(w.message, Warning) else w.category.__name__,
                                  str(w.message)[:500]] for w in caught[:20]]
        finally:
            reply["stderr"] = sys.stderr.getvalue()
            sys.stdout, sys.stderr = out, err
        if watch.seen:
            reply["error"] = {"type": "IntegrityError", "message": f"calls the reference {watch.seen[0]}",
                              "where": ""}
            reply.pop("value", None)
        reply["withheld"] = sorted(set(_withheld_log()[withheld_before:]))
        reply["args"], reply["kwargs"] = args, kwargs
        return reply

    def serve(self) -> None:
        while True:
            try:
                msg = P.recv(self.sock, self._refs)
            except (ConnectionError, OSError):
                return
            op = msg.get("op")
            handler = {"exec": self.op_exec, "call": self.op_call, "get": self.op_get}.get(op)
            if handler is None:
                return
            reply = handler(msg)
            reply["op"] = "reply"
            try:
                self.send(reply)
            except P.PlainDataError as exc:
                what = "returned a value" if "value" in reply else "left its arguments in a state"
                self.send({"op": "reply", "error": {"type": "UnsendableResult",
                                                    "message": f"your function {what} that cannot be graded: {exc}"}})


def _student_frames(exc: BaseException) -> str:
    """Where in the student's cells the exception was raised (the last cell frame), for feedback."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<cell")]
    if not frames:
        return ""
    f = frames[-1]
    return f"line {f.lineno} of your cell: {(f.line or '').strip()[:200]}"


def _withheld_log() -> list:
    mod = sys.modules.get("dlcore._withheld")
    return getattr(mod, "CALLS", []) if mod is not None else []


class _Watch:
    """A profiler that notices calls of forbidden functions that the sandbox could not withhold
    (numpy's, for instance); ``forbid`` holds qualified names."""

    def __init__(self, names: list):
        self.codes, self.cids, self.seen = {}, {}, []
        for name in names:
            obj = _resolve(str(name))
            todo = [obj] if obj is not None else []
            while todo:
                ref = todo.pop()
                code = getattr(ref, "__code__", None)
                if code is not None:
                    self.codes[code] = name
                elif callable(ref):
                    self.cids[id(ref)] = name
                for attr in ("_implementation", "__wrapped__", "__func__"):
                    inner = getattr(ref, attr, None)
                    if inner is not None and callable(inner) and inner is not ref:
                        todo.append(inner)

    def _profile(self, frame, event, arg):
        if event == "call" and frame.f_code in self.codes:
            self.seen.append(self.codes[frame.f_code])
        elif event == "c_call" and id(arg) in self.cids:
            self.seen.append(self.cids[id(arg)])

    def __enter__(self):
        if self.codes or self.cids:
            sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc):
        if self.codes or self.cids:
            sys.setprofile(None)
        return False


def _resolve(qualname: str):
    import importlib

    parts = qualname.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except Exception:  # noqa: BLE001
            continue
        try:
            for p in parts[i:]:
                obj = getattr(obj, p)
            return obj
        except AttributeError:
            return None
    return None


def main(path: str) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    Runner(sock).serve()


if __name__ == "__main__":
    main(sys.argv[1])
