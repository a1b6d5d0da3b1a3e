"""Checks for the notebooks' autograded test cells (every chapter).

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
  with ``INTEGRITY:`` so the autograder can flag it.

Failure messages say what was expected and what came back.
"""
from __future__ import annotations

import builtins as _builtins
import sys as _sys
import types as _types

import numpy as _np

# Private references taken at import, before student code runs.
_array = _np.array
_float64 = _np.float64
_isfinite = _np.isfinite
_zeros = _np.zeros
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
        items = [(k, v) for k, v in items if k in _BUILTINS_WATCHED]
    return {k: _id(v) for k, v in items if callable(v) and not k.startswith("__")}


def _watched_modules() -> dict:
    mods = {"numpy": _np, "numpy.linalg": _np.linalg, "builtins": _builtins}
    for name, mod in _tuple(_sys.modules.items()):
        if (name == "dlcore" or name.startswith("dlcore.")) and _isinstance(mod, _types.ModuleType):
            mods[name] = mod
    return mods


_SNAPSHOT: dict[str, dict] = {}


def _take_snapshot() -> None:
    for name, mod in _watched_modules().items():
        if name not in _SNAPSHOT:
            _SNAPSHOT[name] = _snapshot_module(mod)


def assert_untampered() -> None:
    """Fail if a watched function was rebound since this module was imported."""
    _take_snapshot()  # modules imported since (e.g. dlcore.conv) join the snapshot now
    for name, mod in _watched_modules().items():
        before = _SNAPSHOT.get(name, {})
        now = vars(mod)
        for key, ident in before.items():
            if key not in now or _id(now[key]) != ident:
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


def numerical_gradient(f, x, h: float = 1e-6):
    """Central-difference gradient of scalar ``f`` at ``x`` (x is restored afterwards)."""
    x = _array(x, dtype=_float64, copy=True)
    grad = _zeros(x.shape, dtype=_float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in _range(flat.size):
        old = flat[i]
        flat[i] = old + h
        fp = _float(f(x))
        flat[i] = old - h
        fm = _float(f(x))
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * h)
    return grad


def check_gradient(f, x, analytic, what: str = "gradient", h: float = 1e-6, rtol: float = 1e-5,
                   atol: float = 1e-7) -> None:
    """Compare ``analytic`` with the central-difference gradient of scalar ``f`` at ``x``."""
    num = numerical_gradient(f, x, h=h)
    check_close(analytic, num, what=f"{what} (compared with a numerical gradient)", rtol=rtol, atol=atol)


def run_student(fn, *args, forbid=(), **kwargs):
    """Call ``fn(*args, **kwargs)`` and fail if any function in ``forbid`` runs inside it.

    Watches code objects with a profiler, so the reference is caught however it is reached:
    imported under another name, through ``getattr``, ``sys.modules`` or ``importlib``.
    """
    assert_untampered()
    if fn is None or not callable(fn):
        raise _AssertionError(f"expected a function, got {_repr(fn)}")
    forbidden = {}
    for ref in forbid:
        code = _getattr(ref, "__code__", None)
        if code is not None:
            forbidden[code] = f"{ref.__module__}.{ref.__qualname__}"
    seen = []

    def _profiler(frame, event, arg):
        if event == "call" and frame.f_code in forbidden:
            seen.append(forbidden[frame.f_code])

    previous = _getprofile()
    _setprofile(_profiler)
    try:
        result = fn(*args, **kwargs)
    finally:
        still_ours = _getprofile() is _profiler
        _setprofile(previous)
    if not still_ours:
        raise IntegrityError(f"{INTEGRITY_MARK} the function under test changed the profiler (sys.setprofile)")
    if seen:
        raise IntegrityError(
            f"{INTEGRITY_MARK} your {getattr(fn, '__name__', 'function')} calls the reference "
            f"{seen[0]}; this exercise asks you to implement it yourself."
        )
    return result


class _FrozenModule(_types.ModuleType):
    def __setattr__(self, name, value):
        raise AttributeError(f"dlcore.grading is read-only: cannot set {name!r}")

    def __delattr__(self, name):
        raise AttributeError(f"dlcore.grading is read-only: cannot delete {name!r}")


_take_snapshot()
_sys.modules[__name__].__class__ = _FrozenModule
