"""The grader's ``dlcore.testing``: what a test cell imports when it runs in the grader's process.

Trusted scoring (:mod:`autograder.trusted`) executes each test cell's code here, with the
student's functions replaced by :class:`autograder.trusted.Remote` stand-ins. A test cell's
``from dlcore.testing import …`` then gets this module: the same checks (they compare plain
data, so they are the module's own functions), a :func:`run_student` that sends the call and
its ``forbid`` list to the student's process, and :func:`part` for partial credit.

``part(points, what)`` marks an independent part of a test: ::

    with part(1, "stride 2"):
        check_close(run_student(conv2d_forward, x, w, stride=2), expected, "stride 2")

In the notebook (``dlcore.testing.part``) a failing part fails the cell as any check does, so
the student sees it at once; here a failing part costs only its points and the test goes on.
A failure outside every part stops the test and scores it 0 (the parts after it never ran), so
a test with parts calls the student's function inside them.
"""
from __future__ import annotations

from dlcore import testing as _t

# No student code runs in the grader's process: the checks need not watch it for tampering.
_t.trust_this_process()

IntegrityError = _t.IntegrityError
INTEGRITY_MARK = _t.INTEGRITY_MARK
check_close = _t.check_close
check_shape = _t.check_shape
check_gradient = _t.check_gradient
numerical_gradient = _t.numerical_gradient

_PARTS: list[list] = []


def assert_untampered() -> None:
    """Nothing to check here: the student's code never ran in this process."""


def run_student(fn, *args, forbid=(), **kwargs):
    """Call the student's function ``fn`` in their process (or a grader-side callable here)."""
    if fn is None or not callable(fn):
        raise AssertionError(f"expected a function, got {fn!r}")
    from autograder.trusted import Remote

    if isinstance(fn, Remote):
        return fn.call(args, kwargs, forbid)
    return fn(*args, **kwargs)


def check_step_against(step, reference, shape, steps, seed, **kw):
    return _t.check_step_against(step, reference, shape, steps, seed, _call=run_student, **kw)


check_step_against.__doc__ = _t.check_step_against.__doc__


class part:  # noqa: N801 - used as a context manager, like a keyword
    """An independent part of a test worth ``points`` (see the module docstring)."""

    def __init__(self, points: float, what: str):
        self.points, self.what = float(points), str(what)

    def __enter__(self):
        return self

    def __exit__(self, etype, exc, tb):
        from autograder.trusted import GradingTimeout, ProcessDied

        if etype is not None and issubclass(etype, (GradingTimeout, ProcessDied)):
            return False
        passed = etype is None
        _PARTS[-1].append((self.what, self.points if passed else 0.0, self.points, passed, exc))
        return etype is not None and issubclass(etype, Exception)


def begin_parts(points: float) -> list:
    _PARTS.append([])
    return _PARTS[-1]


def end_parts() -> list:
    return _PARTS.pop() if _PARTS else []
