"""The hidden tests catch the usual mistakes: every wrong implementation in ``tests/mistakes/``
scores exactly the points it is declared to earn (0, or the parts it does not break), the model
solution scores full marks, and the feedback says what went wrong.

One sandboxed grading process per chapter (``autograder.trusted``, as ``grade`` uses it): the
model solutions run first, then each mistake replaces its exercise's function, the exercise's
test runs in the grader's process, and the model solution is put back. The released stub of
every exercise (``course/``) is graded the same way: an untouched exercise earns nothing.
"""
from __future__ import annotations

import importlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from autograder import trusted
from autograder.preprocessors import is_carry_cell
from dlcore import carry
from autograder.sandbox import bwrap_works

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
CHAPTERS = sorted(p.stem for p in (REPO / "tests" / "mistakes").glob("ch*.py"))
MODULES = {ch: importlib.import_module(f"mistakes.{ch}") for ch in CHAPTERS}
CASES = [(ch, impl, name) for ch in CHAPTERS for impl, named in MODULES[ch].MISTAKES.items() for name in named]
# Correct implementations in another style (loops, the graph node by node, ...): full marks.
ALTERNATIVES = [(ch, impl, name) for ch in CHAPTERS
                for impl, named in getattr(MODULES[ch], "ALTERNATIVES", {}).items() for name in named]


def _chapter_dir(ch: str) -> str:
    return next(p.name for p in (REPO / "solutions").iterdir() if p.name.startswith(ch + "_"))


def _stubs(name: str) -> dict[str, str]:
    """grade_id -> the released answer cell (the stub a student starts from) of every code exercise
    ({} while the chapter has no release: test_every_released_stub_scores_nothing says so)."""
    path = REPO / "course" / name / f"{name}.ipynb"
    if not path.exists():
        return {}
    nb = json.loads(path.read_text())
    return {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"]) for c in nb["cells"]
            if c["cell_type"] == "code" and c.get("metadata", {}).get("nbgrader", {}).get("solution")
            and not is_carry_cell(c)}


@pytest.fixture(scope="module")
def graded():
    out = {}
    # One library cache for every chapter, as ``grade`` keeps one per grading root: chapters whose
    # model solutions use the same dlcore names share one withheld dlcore (building one is about
    # a second; most chapters use none).
    libs = Path(tempfile.mkdtemp(prefix="dlm-lib-", dir="/tmp"))
    for ch in CHAPTERS:
        name = _chapter_dir(ch)
        # a carry cell holds what it brings (the chapters' model solutions), as a student's saved notebook does
        src = carry.expand(json.loads((REPO / "solutions" / name / f"{name}.ipynb").read_text()), REPO / "solutions" / name)
        cells = {c["metadata"]["nbgrader"]["grade_id"]: c for c in src["cells"]
                 if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")}
        model = {g: "".join(c["source"]) for g, c in cells.items()
                 if c["cell_type"] == "code" and c["metadata"]["nbgrader"].get("solution")}
        steps = [s for s in trusted.plan(src, src) if s[0] in ("setup", "exec")]
        tests = {g: ("".join(c["source"]), float(c["metadata"]["nbgrader"]["points"])) for g, c in cells.items()
                 if trusted.is_test(c)}
        for g, (code, pts) in tests.items():
            steps.append(("test", f"{g}#model", code, pts))
        for impl, stub in _stubs(name).items():
            test = impl.replace("-impl", "-test")
            if impl in model and test in tests:
                steps += [("exec", f"{impl}#stub", stub), ("test", f"{test}#stub", *tests[test]),
                          ("exec", impl, model[impl])]
        for kind in ("MISTAKES", "ALTERNATIVES"):
            for impl, named in getattr(MODULES[ch], kind, {}).items():
                test = impl.replace("-impl", "-test")
                for mistake, (code, _) in named.items():
                    steps += [("exec", f"{impl}#{mistake}", code), ("test", f"{test}#{mistake}", *tests[test]),
                              ("exec", impl, model[impl])]
        run = Path(tempfile.mkdtemp(prefix="dlm-", dir="/tmp"))   # a Unix socket's path is short
        os.environ.setdefault("DLCOURSE_SANDBOX_MODE", "bwrap" if bwrap_works() else "limits")
        os.environ["DLCOURSE_SANDBOX_RUNTIME"] = str(run)
        lib = trusted.library(src, libs)
        scorer = trusted.Scorer({"cells": []}, src, lib, str(run), timeout=30)
        scorer.steps = steps
        scorer.setup = "\n".join(s[2] for s in trusted.plan(src, src) if s[0] == "setup")
        # The setup's imports in this process (explorers, matplotlib: seconds on a loaded machine)
        # before the first test's clock starts, not inside its 30 s limit.
        trusted.grader_namespace(scorer.setup)
        try:
            out[ch] = (scorer.run(), tests)
        finally:
            shutil.rmtree(run, ignore_errors=True)
    yield out
    shutil.rmtree(libs, ignore_errors=True)


@pytest.mark.parametrize("ch", CHAPTERS)
def test_the_model_solution_scores_full_marks(graded, ch):
    verdicts, tests = graded[ch]
    for g, (_, pts) in tests.items():
        v = verdicts[f"{g}#model"]
        assert v.points == pts, (g, v.message)


@pytest.mark.parametrize("ch", CHAPTERS)
def test_every_released_stub_scores_nothing(graded, ch):
    verdicts, tests = graded[ch]
    stubs = {g: v for g, v in verdicts.items() if g.endswith("#stub")}
    name = _chapter_dir(ch)
    assert (REPO / "course" / name / f"{name}.ipynb").exists(), f"course/{name} is missing: run `make notebooks`"
    assert stubs and len(stubs) == len(_stubs(name)), (sorted(stubs), sorted(_stubs(name)))
    for g, v in stubs.items():
        assert v.points == 0 and v.max_points > 0, (g, v.points, v.message)
        assert "not written yet" in v.message, (g, v.message)


@pytest.mark.parametrize("ch, impl, mistake", CASES)
def test_each_mistake_scores_what_it_earns_and_is_explained(graded, ch, impl, mistake):
    verdicts, _ = graded[ch]
    expected = MODULES[ch].MISTAKES[impl][mistake][1]
    v = verdicts[f"{impl.replace('-impl', '-test')}#{mistake}"]
    assert v.points == expected, (v.points, v.message, v.parts)
    assert v.message, "a failing test must say what went wrong"


@pytest.mark.parametrize("ch, impl, name", ALTERNATIVES)
def test_each_correct_alternative_scores_full_marks(graded, ch, impl, name):
    verdicts, tests = graded[ch]
    test = impl.replace("-impl", "-test")
    v = verdicts[f"{test}#{name}"]
    assert v.points == tests[test][1] == MODULES[ch].ALTERNATIVES[impl][name][1], (v.points, v.message, v.parts)


def test_every_graded_exercise_has_three_mistakes():
    missing = {}
    for ch_dir in sorted(p.name for p in (REPO / "solutions").iterdir() if p.is_dir() and p.name.startswith("ch")):
        ch = ch_dir.split("_")[0]
        src = json.loads((REPO / "solutions" / ch_dir / f"{ch_dir}.ipynb").read_text())
        for c in src["cells"]:
            m = c.get("metadata", {}).get("nbgrader", {})
            if c["cell_type"] == "code" and m.get("solution") and not is_carry_cell(c):
                have = len(MODULES[ch].MISTAKES.get(m["grade_id"], {})) if ch in MODULES else 0
                if have < 3:
                    missing[m["grade_id"]] = have
    assert not missing, missing


def test_the_capstone_names_the_first_layer_that_differs(graded):
    """Issue 14: the feedback of a whole-network mistake names the layer where to look."""
    verdicts, _ = graded["ch09"]
    spread = verdicts["ch09-network-test#the pooling δ spread over every cell of its window instead of routed to the maximum"]
    assert "the first layer whose result differs from dlcore's is max pooling" in spread.message, spread.message
    relu = verdicts["ch09-network-test#ReLU's backward forgotten (δ passes through unchanged)"]
    assert "is ReLU" in relu.message, relu.message
    lost = verdicts["ch09-train-test#the trained parameters lost (the initial ones returned)"]
    assert "classify 13.0 % of the 269 test digits" in lost.message, lost.message


def test_a_warning_only_failure_and_a_hidden_test_failure_are_explained(graded):
    """Issue 14: no failing test is left without words — a warning alone, and a hidden case."""
    warned = graded["ch01"][0]["ch01-sigmoid_bce_grad_z-test#a naive sigmoid that overflows"]
    assert warned.points == 0 and "your function emitted a warning (RuntimeWarning: overflow encountered in exp)" \
        in warned.message and "inputs of large magnitude" in warned.message, warned.message
    hidden = graded["ch09"][0]["ch09-fastconv-test#the bias added without checking for None (passes the visible "
                                "cases, which all have a bias)"]
    # which kind of case failed (the shapes of the call, b None), never the hidden test's values
    assert hidden.message.startswith("a hidden test of this cell failed: your function raised IndexError"), hidden.message
    assert "called with an array of shape" in hidden.message and ", None and " in hidden.message, hidden.message
