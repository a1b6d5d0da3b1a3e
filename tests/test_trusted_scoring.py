"""Points that cannot be forged: every attack that earned full marks when the student's own
kernel decided the grade, graded through the real ``grade`` CLI.

Each attacker solves nothing (their functions return a wrong value or are the released stubs)
and adds one attack on the grading machinery; each must score exactly what its functions earn
on the grader's inputs: 0. Honest students beside them score exactly as before (perfect,
partial, blank). Students who call the reference by any route (import, alias, ``getattr``,
``importlib``, a subprocess) or hand in a renamed copy of it are flagged, with a reason.
"""
from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "fixtures"))
import students as S  # noqa: E402

from autograder.release import hidden_lines, release  # noqa: E402

pytestmark = pytest.mark.slow
CH1, CH5, CH8 = "ch01_objective_functions", "ch05_batch_norm", "ch08_cnn_backprop"
MSE = "ch01-mse_loss-impl"
WRONG = "def mse_loss(pred, target):\n    return 0.0\n"

ATTACKS_CH1 = {
    # nbgrader reads an execute_result in a test cell as the points; "ok" counts as full marks
    "displayhook": "import sys\ndef mse_loss(pred, target):\n    sys.displayhook('ok')\n    return 0.0\n",
    # every later test cell becomes `pass`
    "transformer": WRONG + "get_ipython().input_transformers_post.append(\n"
                   "    lambda lines: ['pass\\n'] if any('check_' in l for l in lines) else lines)\n",
    # the checks' code replaced
    "code_swap": WRONG + "import dlcore.testing as T\n"
                 "for name in ('check_close', 'check_shape', 'check_gradient', 'run_student'):\n"
                 "    try:\n        getattr(T, name).__code__ = (lambda *a, **k: None).__code__\n"
                 "    except Exception:\n        pass\n",
    "vars_update": WRONG + "import dlcore.testing\n"
                   "vars(dlcore.testing).update(check_close=lambda *a, **k: None, check_shape=lambda *a, **k: None,\n"
                   "    check_gradient=lambda *a, **k: None, run_student=lambda fn, *a, forbid=(), **k: None)\n",
    # the import guard switched off, then a fake checking module
    "fake_module": WRONG + "import sys, types\n"
                   "get_ipython().events.callbacks['pre_run_cell'].clear()\n"
                   "fake = types.ModuleType('dlcore.testing')\n"
                   "fake.check_close = fake.check_shape = fake.check_gradient = lambda *a, **k: None\n"
                   "fake.run_student = lambda fn, *a, forbid=(), **k: None\n"
                   "sys.modules['dlcore.testing'] = fake\n",
    # a return value that finds the checker's expected value on the stack
    "oracle": "import sys\nclass Oracle:\n"
              "    def __array__(self, dtype=None, copy=None):\n"
              "        f = sys._getframe(1)\n"
              "        while f is not None:\n"
              "            for key in ('expected', 'e'):\n"
              "                v = f.f_locals.get(key)\n"
              "                if v is not None and not isinstance(v, Oracle):\n"
              "                    return np.asarray(v, dtype=dtype)\n"
              "            f = f.f_back\n"
              "        return np.zeros(())\n"
              "    def __float__(self):\n        return float(self.__array__())\n"
              "def mse_loss(pred, target):\n    return Oracle()\n",
    # numpy and builtins patched so that every comparison passes: every type check of a checking
    # module succeeds (patching isinstance for everyone hangs the kernel's own machinery instead, so
    # the kernel's tests never run and the attack is never tried)
    "patch_numpy": WRONG + "import builtins, sys\nnp.allclose = lambda *a, **k: True\nnp.isclose = lambda *a, **k: True\n"
                   "_isinstance = builtins.isinstance\n"
                   "def _yes(obj, cls):\n"
                   "    caller = sys._getframe(1).f_globals.get('__name__', '')\n"
                   "    return True if caller.startswith('dlcore') else _isinstance(obj, cls)\n"
                   "builtins.isinstance = _yes\n",
    # another framework's implementation of the same loss (the grading machine has torch)
    "torch": "def mse_loss(pred, target):\n    import torch\n"
             "    return float(torch.nn.functional.mse_loss(torch.tensor(pred), torch.tensor(target)))\n",
    # a fake verdict of its own, printed as the cell's result
    "fake_verdict": "from IPython.display import display\nimport sys\n"
                    "def mse_loss(pred, target):\n"
                    "    display({'text/plain': '2', 'text/html': '<b>Autograder: 2 of 2 points.</b>'}, raw=True)\n"
                    "    sys.displayhook(2)\n    return 1.0\n",
}

# route -> (student, exercise, its source, the flag it must raise). The four in-process routes
# share one student, one route per exercise of chapter 1 (each test cell must score 0 and raise
# its own flag); the subprocess route, flagged from the source, has a student of its own.
REFERENCE_ROUTES = {
    "ref_import": ("ref_routes", MSE,
                   "def mse_loss(pred, target):\n    from dlcore.losses import mse_loss as m\n    return m(pred, target)\n",
                   "reference-call:ch01-mse_loss-test"),
    "ref_alias": ("ref_routes", "ch01-mse_loss_grad-impl",
                  "from dlcore import losses\nref = losses.mse_loss_grad\ndef mse_loss_grad(pred, target):\n"
                  "    return ref(pred, target)\n", "reference-call:ch01-mse_loss_grad-test"),
    "ref_getattr": ("ref_routes", "ch01-binary_cross_entropy-impl",
                    "import dlcore\ndef binary_cross_entropy(p, y):\n"
                    "    return getattr(getattr(dlcore, 'los' + 'ses'), 'binary_cross_' + 'entropy')(p, y)\n",
                    "reference-call:ch01-binary_cross_entropy-test"),
    "ref_importlib": ("ref_routes", "ch01-sigmoid_bce_grad_z-impl",
                      "import importlib, sys\ndef sigmoid_bce_grad_z(z, y):\n"
                      "    importlib.import_module('dlcore.losses')\n"
                      "    return sys.modules['dlcore.losses'].sigmoid_bce_grad_z(z, y)\n",
                      "reference-call:ch01-sigmoid_bce_grad_z-test"),
    # the reference run in another process, which the in-process watch never saw
    "ref_subprocess": ("ref_subprocess", MSE,
                       "import json, subprocess, sys\ndef mse_loss(pred, target):\n"
                       "    code = ('import json, sys, numpy as np; from dlcore.losses import mse_loss; '\n"
                       "            'a = json.loads(sys.stdin.read()); print(mse_loss(np.array(a[0]), np.array(a[1])))')\n"
                       "    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,\n"
                       "        input=json.dumps([np.asarray(pred).tolist(), np.asarray(target).tolist()]))\n"
                       "    return float(out.stdout)\n", "subprocess:ch01-mse_loss-impl"),
}

# chapter 8's reference backward (dlcore.conv.conv2d_backward_loops), variables renamed and reformatted
COPIED_CONVBACK = '''from dlcore.conv import full_convolve2d, rot180


def conv2d_backward(dout, x, w, padding=0):
    # my own implementation
    xx, ww = x, w
    (sh, sw), (ph, pw) = (1, 1), (padding, padding)
    n_img, n_ch, hh, wd = xx.shape
    n_f, _, kh, kw = ww.shape
    g = np.asarray(dout, dtype=xx.dtype)
    oh, ow = g.shape[2], g.shape[3]
    xp = np.pad(xx, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dxp = np.zeros_like(xp)
    dk = np.zeros_like(ww)
    for a in range(n_img):
        for b in range(n_f):
            for r in range(oh):
                for q in range(ow):
                    patch = xp[a, :, r * sh:r * sh + kh, q * sw:q * sw + kw]
                    dk[b] += g[a, b, r, q] * patch
    if (sh, sw) == (1, 1):
        for a in range(n_img):
            for c in range(n_ch):
                for b in range(n_f):
                    dxp[a, c] += full_convolve2d(g[a, b], rot180(ww[b, c]))
    else:
        for a in range(n_img):
            for b in range(n_f):
                for r in range(oh):
                    for q in range(ow):
                        dxp[a, :, r * sh:r * sh + kh, q * sw:q * sw + kw] += g[a, b, r, q] * ww[b]
    d_in = np.ascontiguousarray(dxp[:, :, ph:ph + hh, pw:pw + wd])
    d_bias = g.sum(axis=(0, 2, 3))
    return d_in, dk, d_bias
'''

# partial credit decided by the grader, per independent part
BN_PARTIAL = ("def batch_norm_backward(dout, x, gamma, eps=1e-5):\n"
              "    xhat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)\n"
              "    return np.zeros_like(x), (dout * xhat).sum(axis=0), dout.sum(axis=0)  # dx is missing\n")

# a str whose == is always true
YES_STR = ("class Yes(str):\n    def __eq__(self, other):\n        return True\n"
           "    def __ne__(self, other):\n        return False\n    __hash__ = str.__hash__\n"
           "def find_wrong_backward(forward, candidates, x):\n    return Yes('?')\n")


def _cli(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("trusted")
    course = base / "course"
    release([CH1, CH5, CH8], quiet=True, out=course)
    root = base / "root"
    nbs = {ch: (S.load(course / ch / f"{ch}.ipynb"), S.load(REPO / "solutions" / ch / f"{ch}.ipynb")) for ch in (CH1, CH5, CH8)}
    stu1, sol1 = nbs[CH1]
    stu8, sol8 = nbs[CH8]
    # (everyone hands in only the exercises: the demo and explorer cells are theirs to delete, no
    # grade depends on them, and the notebook runs faster without them; the whole notebooks are
    # graded in test_autograder_class.py)
    def lean(nb):
        return {**nb, "cells": [c for c in nb["cells"] if c["cell_type"] != "code" or c["metadata"].get("nbgrader")]}

    lean1 = lean(stu1)
    S.write(root, "perfect", CH1, S.perfect(lean1, sol1))
    S.write(root, "perfect", CH8, S.perfect(lean(stu8), sol8))
    S.write(root, "blank", CH1, lean1)
    S.write(root, "partial", CH1, S.fill(lean1, {MSE: S.solution_sources(sol1)[MSE]}))
    for name, src in ATTACKS_CH1.items():
        S.write(root, name, CH1, S.fill(lean1, {MSE: src}))
    routes: dict[str, dict[str, str]] = {}
    for student, impl, src, _ in REFERENCE_ROUTES.values():
        routes.setdefault(student, {})[impl] = src
    for student, answers in routes.items():
        S.write(root, student, CH1, S.fill(lean1, answers))
    S.write(root, "yes_str", CH8, S.fill(lean(stu8), {"ch08-findbug-impl": YES_STR}))
    S.write(root, "copier", CH8, S.fill(lean(stu8), {"ch08-convback-impl": COPIED_CONVBACK}))
    stu5, _ = nbs[CH5]
    S.write(root, "bn_partial", CH5, S.fill(lean(stu5), {"ch05-bn-backward-impl": BN_PARTIAL}))
    norot = S.solution_sources(sol8)["ch08-convback-impl"].replace("w_rot = w[:, :, ::-1, ::-1]", "w_rot = w")
    assert "w_rot = w\n" in norot
    S.write(root, "conv_norot", CH8, S.fill(lean(stu8), {"ch08-convback-impl": norot}))
    run = _cli("grade", "--root", root, "--jobs", "3", "--timeout", "60", "--no-progress", "--sandbox", "bwrap")
    out = _cli("export", "--root", root, "--csv", base / "grades.csv")
    assert out.returncode == 0, out.stderr
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO((base / "grades.csv").read_text()))}
    return {"root": root, "run": run, "rows": rows, "sol": {CH1: sol1, CH8: sol8}}


def _flags(row) -> set[str]:
    return set(row["flags"].split())


def _autograded(root: Path, student: str, ch: str) -> dict:
    return json.loads((root / "autograded" / student / ch / f"{ch}.ipynb").read_text())


def _cell_points(root: Path, student: str, ch: str, test_id: str) -> tuple[float, float]:
    """(earned, max) of one test cell, from the grader's verdict at the top of its outputs."""
    nb = _autograded(root, student, ch)
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == test_id)
    m = re.match(r"Autograder: ([\d.]+) of ([\d.]+) point", "".join(cell["outputs"][0]["text"]))
    assert m, cell["outputs"][:1]
    return float(m.group(1)), float(m.group(2))


def test_batch_finishes(graded):
    assert graded["run"].returncode == 0, graded["run"].stderr[-3000:]


@pytest.mark.parametrize("student", sorted(ATTACKS_CH1))
def test_attack_scores_what_the_functions_earn(graded, student):
    row = graded["rows"][student]
    assert float(row[CH1]) == 0.0, row
    # The attack was really tried: its kernel kept working through the cells after it (a kernel that
    # hangs or dies fails its own tests for that reason alone, whoever decides the grade).
    errors = {o.get("ename") for c in _autograded(graded["root"], student, CH1)["cells"] for o in c.get("outputs", [])
              if o.get("output_type") == "error"}
    assert not errors & {"CellTimeoutError", "KernelStopped", "DeadKernelError"}, errors


def test_str_subclass_with_true_eq_earns_nothing(graded):
    # (the other chapter-8 exercises are the released stubs)
    assert float(graded["rows"]["yes_str"][CH8]) == 0.0, graded["rows"]["yes_str"]


def test_honest_students_score_as_before(graded):
    rows = graded["rows"]
    assert float(rows["perfect"][CH1]) == 10.0
    assert float(rows["perfect"][CH8]) == 15.0
    assert float(rows["partial"][CH1]) == 2.0
    assert float(rows["blank"][CH1]) == 0.0
    for s in ("perfect", "partial", "blank"):
        assert not [f for f in _flags(rows[s]) if "reference" in f], rows[s]
    # conv_norot is the model solution with one line changed: rightly near-identical to "perfect"
    assert {f for f in _flags(rows["perfect"]) if "similar" in f} == {f"{CH8}:similar:ch08-convback-impl:conv_norot"}


@pytest.mark.parametrize("route", sorted(REFERENCE_ROUTES))
def test_every_route_to_the_reference_is_flagged_and_earns_nothing(graded, route):
    student, impl, _, flag = REFERENCE_ROUTES[route]
    row = graded["rows"][student]
    assert f"{CH1}:{flag}" in _flags(row), row
    earned, most = _cell_points(graded["root"], student, CH1, impl.replace("-impl", "-test"))
    assert (earned, most > 0) == (0.0, True), (route, earned, most)
    assert float(row[CH1]) == 0.0, row


def test_partial_credit_per_part_comes_from_the_grader(graded):
    rows = graded["rows"]
    assert float(rows["bn_partial"][CH5]) == 3.0, rows["bn_partial"]   # dgamma 2 + dbeta 1; dx 0
    assert float(rows["conv_norot"][CH8]) == 2.0, rows["conv_norot"]   # dw 1 + db 1; dx (no rotation) 0
    nb = json.loads((graded["root"] / "autograded" / "conv_norot" / CH8 / f"{CH8}.ipynb").read_text())
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "ch08-convback-test")
    verdict = "".join(cell["outputs"][0]["text"])
    assert "Autograder: 2 of 7 points." in verdict
    assert "✓ dw: 1 of 1" in verdict and "✓ db: 1 of 1" in verdict and "✗ dx: 0 of 3" in verdict
    assert "dx for a single δ at (1, 2)" in verdict    # a visible check: says what was expected


def test_a_renamed_copy_of_the_reference_is_flagged(graded):
    row = graded["rows"]["copier"]
    assert f"{CH8}:similar-to-reference:ch08-convback-impl" in _flags(row), row


def test_feedback_says_why_and_never_shows_hidden_code(graded):
    root = graded["root"]
    r = _cli("feedback", "--root", root)
    assert r.returncode == 0, r.stderr
    page = (root / "feedback" / "ref_routes" / CH1 / f"{CH1}.html").read_text()
    assert "withheld while your functions are graded" in page
    assert "Autograder: 0 of 2 points." in page
    secrets = hidden_lines(graded["sol"][CH1]) | hidden_lines(graded["sol"][CH8])
    for p in (root / "feedback").rglob("*.html"):
        text = p.read_text()
        assert not [s for s in secrets if s in text], p
    # the hidden tests never reached the student's kernel: not in the notebook it executed
    nb = json.loads((root / "autograded" / "transformer" / CH1 / f"{CH1}.ipynb").read_text())
    assert "BEGIN HIDDEN TESTS" not in json.dumps(nb)



def test_the_similarity_report_is_inert_and_lists_the_copy(graded):
    report = (graded["root"] / "reports" / "similarity.html").read_text()
    assert "<script" not in report.lower()
    assert "copier" in report and "dlcore.conv.conv2d_backward_loops" in report and "d_bias" in report
