"""dlcore.testing: the checks the notebooks' autograded test cells call (every chapter).

Named in the spirit of ``numpy.testing`` and ``torch.testing``: assertions that compare a
result with what was expected and say both. Unlike those, importing it arms it, so it is
never imported by ``from dlcore import *``; each chapter's setup cell imports it by name.

In the notebook these checks teach: a student sees at once what failed. They decide no
grade. The autograder runs each test cell's code again in its own process, against the
student's functions in a fresh sandbox, with ``autograder.checks`` standing in for this
module (``autograder/trusted.py``); the hardening below only keeps a student's own view honest.

Each chapter's first (locked) cell imports this module, before any student code runs. On
import it keeps its own references to the numpy and builtin functions it uses and takes a
snapshot of the names a student could rebind (``numpy``, ``builtins``, ``dlcore`` and this
module). So a student cell that rebinds ``np.allclose`` or ``dlcore.losses.mse_loss`` does not
change a verdict: every check first compares the snapshot and fails loudly if something was
replaced, and this module refuses attribute assignment.

The test cells use:

* ``check_shape(got, shape, what)``
* ``check_close(got, expected, what, rtol=1e-6, atol=1e-9)``
* ``check_gradient(f, x, analytic, what)`` – compare with central differences
* ``run_student(fn, *args, forbid=(reference_fn, ...), **kwargs)`` – call the student's
  function while watching which code runs; calling a forbidden reference (imported, aliased,
  via ``getattr`` or ``sys.modules``) raises :class:`IntegrityError`, whose message starts
  with ``INTEGRITY:`` (:data:`INTEGRITY_MARK`, which the autograder imports) so it can flag it.
* ``check_step_against(step, reference, shape, steps, seed, forbid=..., **hyper)`` – run a
  student's optimizer step side by side with a ``dlcore.optim`` optimizer on seeded gradients.

Hardening (what a student cell cannot do to turn a wrong answer into points): rebinding a
watched function is detected by the snapshot; replacing ``sys.modules`` entries,
``builtins.__import__`` or the notebook's ``np`` is undone before every cell by an IPython
``pre_run_cell`` hook and remembered, so every later check fails with ``INTEGRITY:``;
``run_student`` also watches threads the student starts, flags ``sys.setprofile`` /
``sys.settrace`` calls, and unwraps numpy dispatchers and decorators to find the reference's
code. Python code can always be defeated from inside the same process with enough effort;
the autograder's sandbox bounds what that buys.

Failure messages say what was expected and what came back.
"""
from __future__ import annotations

import builtins as _builtins
import sys as _sys
import threading as _threading
import types as _types

import numpy as _np

from dlcore.gradcheck import numerical_gradient as _numerical_gradient

_MappingProxy = _types.MappingProxyType

# Private references taken at import, before student code runs.
_array = _np.array
_float64 = _np.float64
_isfinite = _np.isfinite
_ndarray = _np.ndarray
_setprofile = _sys.setprofile
_getprofile = _sys.getprofile
_isinstance = isinstance
_tuple = tuple
_float = float
_len = len
_repr = repr
_getattr = getattr
_id = id
_range = range
_AssertionError = AssertionError
_list = list
_hasattr = hasattr
_dict = dict
_type = type
_array_equal = _np.array_equal
_copy = _np.copy
_default_rng = _np.random.default_rng
# Calling these from the function under test would blind the profiler that watches it.
_ESCAPES = {_id(_sys.setprofile): "sys.setprofile", _id(_sys.settrace): "sys.settrace",
            _id(_threading.setprofile): "threading.setprofile"}

INTEGRITY_MARK = "INTEGRITY:"


class IntegrityError(AssertionError):
    """The student's code called the reference it must implement, or tampered with the checks."""


# IPython rebinds a few builtins (input, display, ...) per request, so only these are watched.
_BUILTINS_WATCHED = ("abs", "all", "any", "bool", "float", "int", "isinstance", "len", "list", "max",
                     "min", "range", "repr", "round", "sorted", "sum", "tuple", "type", "zip", "getattr",
                     "setattr", "hasattr", "callable", "iter", "next", "map", "filter", "enumerate")


def _snapshot_module(mod) -> dict:
    items = vars(mod).items()
    if mod is _builtins:
        items = [(k, v) for k, v in items if k in _BUILTINS_WATCHED or k == "__import__"]
    # Keep the objects themselves: an id can be reused once the original is garbage-collected.
    return _MappingProxy({k: v for k, v in items if callable(v) and not k.startswith("__") or k == "__import__"})


def _watched_modules() -> dict:
    mods = {"numpy": _np, "numpy.linalg": _np.linalg, "builtins": _builtins}
    for name, mod in _tuple(_sys.modules.items()):
        if (name == "dlcore" or name.startswith("dlcore.")) and _isinstance(mod, _types.ModuleType):
            mods[name] = mod
    return mods


_SNAPSHOT: dict[str, dict] = {}
_MODULES: dict[str, object] = {}   # the genuine module objects, to undo sys.modules swaps
_TAMPERED: list[str] = []         # what the pre-cell guard found (and undid) since import
_DLCORE_DIR = __file__.rsplit("/", 1)[0] if "/" in __file__ else ""


def _genuine(name: str, mod) -> bool:
    """A dlcore module that really is a file of this package (not a stand-in put in sys.modules)."""
    if name in ("numpy", "numpy.linalg", "builtins"):
        return True
    spec = _getattr(mod, "__spec__", None)
    origin = _getattr(spec, "origin", None) or ""
    return _isinstance(origin, str) and origin.startswith(_DLCORE_DIR)


def _take_snapshot() -> None:
    for name, mod in _watched_modules().items():
        if name not in _SNAPSHOT and _genuine(name, mod):
            _SNAPSHOT[name] = _snapshot_module(mod)
            _MODULES[name] = mod


def _identical(a, b) -> bool:
    return a is b or (_getattr(a, "__self__", None) is not None and a == b)  # bound methods compare equal


_NO_STUDENT_CODE: list[bool] = []  # set by trust_this_process(): nothing to watch here


def trust_this_process() -> None:
    """Declare that no student code runs in this process (the grader's own, :mod:`autograder.checks`):
    the checks skip the integrity watch, which guards a notebook's kernel and costs time on every check."""
    _NO_STUDENT_CODE.append(True)


def assert_untampered() -> None:
    """Fail if a watched function was rebound since this module was imported."""
    if _NO_STUDENT_CODE:
        return
    _guard()
    if _TAMPERED:
        raise IntegrityError(
            f"{INTEGRITY_MARK} {_TAMPERED[0]} was replaced after the notebook started; the checks "
            "cannot trust it. Restart the kernel and do not reassign library modules or functions."
        )
    _take_snapshot()  # modules imported since (e.g. dlcore.conv) join the snapshot now
    for name, mod in _MODULES.items():
        before = _SNAPSHOT.get(name, {})
        now = vars(mod)
        for key, obj in before.items():
            if key not in now or not _identical(now[key], obj):
                raise IntegrityError(
                    f"{INTEGRITY_MARK} {name}.{key} was replaced or deleted after the notebook "
                    "started; the checks cannot trust it. Restart the kernel and do not "
                    "reassign library functions."
                )


def _as_array(x, what: str):
    try:
        return _array(x, dtype=_float64, copy=True)
    except Exception as exc:  # noqa: BLE001 - any failure to convert is the student's answer
        raise _AssertionError(f"{what}: expected an array of numbers, got {_repr(type(x))}: {exc}") from None


def _fmt(a) -> str:
    text = _repr(a.tolist() if _isinstance(a, _ndarray) and a.size <= 12 else a)
    return text if _len(text) <= 300 else text[:300] + " ..."


def check_shape(got, shape, what: str = "result") -> None:
    """Fail unless ``got`` is an array of exactly ``shape``."""
    assert_untampered()
    got_shape = _tuple(_getattr(got, "shape", ()))
    if got is None:
        raise _AssertionError(f"{what}: expected an array of shape {_tuple(shape)}, got None (did you forget `return`?)")
    if got_shape != _tuple(shape):
        raise _AssertionError(f"{what}: expected shape {_tuple(shape)}, got {got_shape}")


def check_close(got, expected, what: str = "result", rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """Fail unless ``got`` equals ``expected`` elementwise within ``atol + rtol*|expected|``."""
    assert_untampered()
    if got is None:
        raise _AssertionError(f"{what}: expected {_fmt(_as_array(expected, what))}, got None (did you forget `return`?)")
    g = _as_array(got, what)
    e = _as_array(expected, what)
    if g.shape != e.shape:
        raise _AssertionError(f"{what}: expected shape {e.shape}, got shape {g.shape}")
    if not _isfinite(g).all():
        raise _AssertionError(f"{what}: got non-finite values (nan or inf): {_fmt(g)}; expected {_fmt(e)}")
    diff = g - e
    diff = diff * (diff >= 0) - diff * (diff < 0)  # |diff| without calling abs/np.abs
    scale = e * (e >= 0) - e * (e < 0)
    bad = diff > atol + rtol * scale
    if bad.any():
        raise _AssertionError(
            f"{what}: expected {_fmt(e)}, got {_fmt(g)} "
            f"(largest difference {_float(diff.max()):.3g} at {int(diff.argmax())} in flat order)"
        )


class part:  # noqa: N801 - used as a context manager, like a keyword
    """An independent part of a test worth ``points``: ``with part(1, "stride 2"): …``.

    In the notebook a failing part fails the cell like any check, so the student sees it at
    once. The grader, which decides the points outside the notebook (``autograder.checks``),
    gives each part that passes its points and goes on after one that fails.
    """

    def __init__(self, points: float, what: str):
        self.points, self.what = points, what

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def numerical_gradient(f, x, h: float = 1e-6):
    """Central-difference gradient of scalar ``f`` at a float64 copy of ``x`` (dlcore.gradcheck's,
    through a reference taken at import, so rebinding the module's name changes nothing here)."""
    return _numerical_gradient(f, _array(x, dtype=_float64, copy=True), h=h)


def check_gradient(f, x, analytic, what: str = "gradient", h: float = 1e-6, rtol: float = 1e-5,
                   atol: float = 1e-7) -> None:
    """Compare ``analytic`` with the central-difference gradient of scalar ``f`` at ``x``."""
    num = numerical_gradient(f, x, h=h)
    check_close(analytic, num, what=f"{what} (compared with a numerical gradient)", rtol=rtol, atol=atol)


def check_step_against(step, reference, shape, steps: int, seed: int, *, forbid=(), nondecreasing: str | None = None,
                       _call=None, **hyper) -> None:
    """Run a student's optimizer step and a reference optimizer side by side for ``steps`` steps.

    ``step(w, g, state, **hyper) -> (w_new, state_new)`` must leave ``w``, ``g`` and ``state``
    unchanged (state is ``{}`` before the first step). ``reference(params, **hyper)`` builds an
    optimizer whose ``.step(grads)`` updates ``params`` in place: a ``dlcore.optim`` class, or a
    small function that maps the exercise's hyperparameter names onto one. Weights start at a
    seeded ``standard_normal(shape)``; each gradient is ``standard_normal(shape)`` scaled by
    ``10**uniform(-2, 1)``, so the steps meet gradients over three decades. After every step the
    two weights must agree; ``nondecreasing`` names a state entry that must never decrease.
    Each call of ``step`` goes through :func:`run_student` with ``forbid`` (or ``_call``, the
    grader's stand-in for it when it scores outside the notebook: :mod:`autograder.checks`).
    """
    assert_untampered()
    name = _getattr(step, "__name__", "step")
    rng = _default_rng(seed)
    w0 = rng.standard_normal(shape)
    w, state = w0.copy(), {}
    p = w0.copy()
    opt = reference([p], **hyper)
    previous = None
    for t in _range(steps):
        g = rng.standard_normal(shape) * 10.0 ** rng.uniform(-2, 1)
        w_in, g_copy, w_copy = w, g.copy(), w.copy()
        state_copy = {k: _copy(v) for k, v in state.items()}
        out = (_call or run_student)(step, w_in, g, state, forbid=forbid, **hyper)
        if not (_isinstance(out, _tuple) and _len(out) == 2):
            raise _AssertionError(f"{name} must return a pair (w_new, state_new)")
        w, new_state = out
        if not _isinstance(new_state, _dict):
            raise _AssertionError(f"{name} must return (w_new, state_new) with state_new a dict, "
                                  f"got {_type(new_state).__name__}")
        if not (_array_equal(g, g_copy) and _array_equal(w_in, w_copy)):
            raise _AssertionError(f"{name} must not change w or g in place")
        for k, v in state_copy.items():
            if not _array_equal(state[k], v):
                raise _AssertionError(f"{name} must not change the state passed in")
        state = new_state
        opt.step([g])
        check_shape(w, shape, f"{name}: w after step {t + 1}")
        check_close(w, p, f"{name}: w after step {t + 1} of {steps} (compared with dlcore.optim), shape {shape}")
        if nondecreasing is not None:
            if nondecreasing not in state:
                raise _AssertionError(f"{name}: state_new has no entry {nondecreasing!r} after step {t + 1}")
            now = _as_array(state[nondecreasing], f"{name}: state[{nondecreasing!r}]")
            if previous is not None and not (now >= previous).all():
                raise _AssertionError(f"{name}: state[{nondecreasing!r}] must never decrease, but it did at "
                                      f"step {t + 1}")
            previous = now


def _forbidden_codes(forbid):
    """Code objects (Python functions) and ids (C functions) of every forbidden reference.

    Unwraps what stands between a name and the code that runs: numpy's array-function
    dispatchers (``_implementation``), decorators (``__wrapped__``), bound methods
    (``__func__``), ``functools.partial`` (``func``), and classes (their methods).
    """
    codes, cfuncs, todo, done = {}, {}, _list(forbid), set()
    while todo:
        ref = todo.pop()
        if ref is None or _id(ref) in done:
            continue
        done.add(_id(ref))
        label = f"{_getattr(ref, '__module__', '?')}.{_getattr(ref, '__qualname__', _repr(ref))}"
        code = _getattr(ref, "__code__", None)
        if code is not None:
            codes[code] = label
        elif _isinstance(ref, type):
            todo.extend(v for v in vars(ref).values() if callable(v))
        else:
            cfuncs[_id(ref)] = label
        for attr in ("_implementation", "__wrapped__", "__func__", "func"):
            inner = _getattr(ref, attr, None)
            if inner is not None and callable(inner):
                todo.append(inner)
    return codes, cfuncs


def run_student(fn, *args, forbid=(), **kwargs):
    """Call ``fn(*args, **kwargs)`` and fail if any function in ``forbid`` runs inside it.

    Watches code objects with a profiler, so the reference is caught however it is reached:
    imported under another name, through ``getattr``, ``sys.modules`` or ``importlib``.
    """
    assert_untampered()
    if fn is None or not callable(fn):
        raise _AssertionError(f"expected a function, got {_repr(fn)}")
    forbidden, forbidden_c = _forbidden_codes(forbid)
    seen = []
    escaped = []

    finished = []

    def _profiler(frame, event, arg):
        if finished:
            return
        if event == "call":
            if frame.f_code in forbidden:
                seen.append(forbidden[frame.f_code])
        elif event == "c_call":
            if _id(arg) in forbidden_c:
                seen.append(forbidden_c[_id(arg)])
            elif _id(arg) in _ESCAPES:
                escaped.append(_ESCAPES[_id(arg)])

    previous = _getprofile()
    previous_thread = _threading.getprofile() if _hasattr(_threading, "getprofile") else None
    _threading.setprofile(_profiler)  # threads started by the student are watched too
    _setprofile(_profiler)
    try:
        result = fn(*args, **kwargs)
    finally:
        finished.append(True)
        still_ours = _getprofile() is _profiler
        _setprofile(previous)
        _threading.setprofile(previous_thread)
    if not still_ours or escaped:
        what = escaped[0] if escaped else "sys.setprofile"
        raise IntegrityError(f"{INTEGRITY_MARK} the function under test called {what}, which would hide "
                             "what it runs from the checks")
    if seen:
        raise IntegrityError(
            f"{INTEGRITY_MARK} your {getattr(fn, '__name__', 'function')} calls the reference "
            f"{seen[0]}; this exercise asks you to implement it yourself."
        )
    return result


def _guard(*_args, **_kwargs) -> None:
    """Undo (and remember) swaps of watched modules in sys.modules and of the notebook's ``np``.

    Runs before every cell (an IPython ``pre_run_cell`` hook) and before every check, so a
    test cell's ``from dlcore.testing import check_close`` always gets the genuine module.
    Never raises: a failing hook would print to stderr, and a test cell writing to stderr
    scores 0.
    """
    try:
        _restore()
    except Exception:  # noqa: BLE001 - see above; the checks themselves still run
        pass


def _restore() -> None:
    for name, mod in _tuple(_MODULES.items()):
        if _sys.modules.get(name) is not mod:
            _TAMPERED.append(f"sys.modules[{name!r}]")
            _sys.modules[name] = mod
    me = _MODULES.get(__name__)
    if me is not None and _sys.modules.get(__name__) is not me:
        _TAMPERED.append(f"sys.modules[{__name__!r}]")
        _sys.modules[__name__] = me
    if _builtins.__import__ is not _IMPORT:
        _TAMPERED.append("builtins.__import__")
        _builtins.__import__ = _IMPORT
    shell = _get_shell()
    if shell is not None:
        ns = shell.user_ns
        for alias, real in (("np", _np), ("numpy", _np)):
            if alias in ns and ns[alias] is not real and _isinstance(ns[alias], _types.ModuleType):
                _TAMPERED.append(f"the notebook's {alias!r}")
                ns[alias] = real
    _take_snapshot()  # dlcore modules the previous cell imported (the setup cell) join the watch


_IMPORT = _builtins.__import__


def _get_shell():
    ipython = _sys.modules.get("IPython")
    get = _getattr(ipython, "get_ipython", None) if ipython is not None else None
    return get() if get is not None else None


def _install_guard() -> None:
    shell = _get_shell()
    if shell is not None and _guard not in shell.events.callbacks.get("pre_run_cell", []):
        shell.events.register("pre_run_cell", _guard)


class _FrozenModule(_types.ModuleType):
    def __setattr__(self, name, value):
        raise AttributeError(f"dlcore.testing is read-only: cannot set {name!r}")

    def __delattr__(self, name):
        raise AttributeError(f"dlcore.testing is read-only: cannot delete {name!r}")


_take_snapshot()
_MODULES[__name__] = _sys.modules[__name__]
_install_guard()
_sys.modules[__name__].__class__ = _FrozenModule
