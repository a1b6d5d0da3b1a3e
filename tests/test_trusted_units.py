"""Units of trusted scoring: plain data, the withheld dlcore, the plan of a notebook, verdicts."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder import plaindata as P
from autograder import trusted, withhold
from autograder.preprocessors import verdict_outputs
from autograder.release import chapters

REPO = Path(__file__).resolve().parents[1]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                    st.text(max_size=20))
arrays = hnp.arrays(st.sampled_from([np.float64, np.float32, np.int64, np.uint8, np.bool_, np.complex128]),
                    hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
values = st.recursive(st.one_of(scalars, arrays), lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.tuples(inner, inner), st.dictionaries(st.text(max_size=5), inner, max_size=3),
    st.dictionaries(st.integers(0, 9), inner, max_size=3)), max_leaves=8)


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


@settings(max_examples=150, deadline=None)
@given(values)
def test_plain_data_round_trips_exact_types(v):
    assert _same(P.loads(P.dumps(v)), v)


def test_non_finite_floats_numpy_scalars_and_generators_cross():
    out = P.loads(P.dumps([float("nan"), float("inf"), -float("inf"), np.float32(1.5), np.int64(-3), np.float64(2.5),
                           np.bool_(True)]))
    assert np.isnan(out[0]) and out[1] == float("inf") and out[2] == -float("inf")
    assert type(out[3]) is np.float32 and out[3] == 1.5 and type(out[4]) is np.int64
    assert type(out[5]) is np.float64 and type(out[6]) is np.bool_   # (numpy.float64 subclasses float)
    g = np.random.default_rng(7)
    g.random(3)
    h = P.loads(P.dumps(g))
    assert h.random() == g.random()


def test_what_is_not_data_never_becomes_a_live_object():
    class Yes(str):
        def __eq__(self, other):
            return True
        __hash__ = str.__hash__

    out = P.loads(P.dumps(Yes("?")))
    assert type(out) is str and out != "B"
    with pytest.raises(P.PlainDataError):
        P.dumps(np.array([object()], dtype=object))
    with pytest.raises(P.PlainDataError):
        P.dumps(lambda: 0)
    assert P.loads(P.dumps(lambda: 0, other=lambda obj: 5), refs=lambda n: ("ref", n)) == ("ref", 5)


@pytest.mark.parametrize("raw", [
    b'{"$nd": "|O", "shape": [1], "b64": "AAAAAAAAAAA="}',       # object dtype
    b'{"$nd": "<f8", "shape": [2], "b64": "AAAAAAAAAAA="}',      # 8 bytes for 2 float64
    b'{"$nd": "<f8", "shape": [-1], "b64": ""}',
    b'{"$pickle": "gASVAAAAAAAAAAA="}',                           # an unknown tag
    b'{"$ref": 1}',                                               # no resolver on this side
    b'NaN', b'[' * 5000 + b']' * 5000, b'\xff\xfe', b'{"$float": "1e999"}',
])
def test_decoding_refuses_what_is_not_plain_data(raw):
    with pytest.raises(P.PlainDataError):
        P.loads(raw)


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    return withhold.build(tmp_path_factory.mktemp("lib") / "lib", {"dlcore.activations.sigmoid"},
                          (REPO / "autograder" / "runner.py", REPO / "autograder" / "plaindata.py"))


def _run(lib: Path, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-S", "-c", "import sys; sys.path.insert(0, sys.argv[1]);\n" + code, str(lib)],
                          capture_output=True, text=True, timeout=60, cwd=str(lib),
                          env={"PYTHONPATH": ":".join(p for p in sys.path if "site-packages" in p)})


def test_withheld_dlcore_keeps_only_what_the_solutions_use(lib):
    r = _run(lib, "import numpy as np\nfrom dlcore import activations, losses\nfrom dlcore.losses import mse_loss\n"
             "import dlcore.explorers.ch01, dlcore._withheld as W\n"
             "print(activations.sigmoid(np.array([0.0, 800.0, -800.0])).tolist())\n"
             "for f in (mse_loss, activations.sigmoid_grad, getattr(losses, 'binary_cross_entropy')):\n"
             "    try:\n        f(1, 2)\n    except Exception as e:\n        print(type(e).__name__)\n"
             "print(W.CALLS)")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "[0.5, 1.0, 0.0]"
    assert lines[1:4] == ["ReferenceWithheld"] * 3
    assert lines[4] == str(["dlcore.losses.mse_loss", "dlcore.activations.sigmoid_grad",
                            "dlcore.losses.binary_cross_entropy"])
    text = "\n".join(p.read_text() for p in (lib / "dlcore").rglob("*.py"))
    assert "def mse_loss" not in text and "def sigmoid_grad" not in text and "def sigmoid(" in text


def _src(ch):
    return json.loads((REPO / "solutions" / ch / f"{ch}.ipynb").read_text())


@pytest.mark.parametrize("ch", chapters())
def test_each_chapter_tells_the_student_what_dlcore_offers_when_graded(ch):
    allowed = sorted(trusted.allowed_names(_src(ch)))
    text = (REPO / "chapters" / f"{ch}.py").read_text()
    para = text[text.index("**How your work is graded.**"):].split("\n\n")[0].replace("\n# ", " ")
    if allowed:
        assert "`dlcore` offers only " + ", ".join(f"`{a.removeprefix('dlcore.')}`" for a in allowed) in para
    else:
        assert "`dlcore` offers none of its functions" in para


def test_plan_runs_solutions_and_added_cells_never_demos_or_student_test_code():
    src = _src("ch01_objective_functions")
    nb = json.loads(json.dumps(src))
    for c in nb["cells"]:
        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "ch01-mse_loss-test":
            c["source"] = "pass  # edited by the student"
    nb["cells"].insert(5, {"cell_type": "code", "id": "mine", "metadata": {}, "outputs": [], "execution_count": None,
                           "source": "def helper():\n    return 1\n"})
    nb["cells"].append({"cell_type": "code", "id": "after", "metadata": {}, "outputs": [], "execution_count": None,
                        "source": "while True:\n    pass  # after every test: never run by the grader\n"})
    steps = trusted.plan(nb, src)
    kinds = [s[0] for s in steps]
    assert kinds[0] == "setup" and kinds.count("test") == 4 and kinds.count("exec") == 5
    assert "explorers" not in steps[0][1] and "dlcore.testing" not in steps[0][1]
    assert any(s[0] == "exec" and "helper" in s[2] for s in steps)
    assert steps[-1][0] == "test" and not any("while True" in s[-1] for s in steps if s[0] == "exec")
    test = next(s for s in steps if s[0] == "test" and s[1] == "ch01-mse_loss-test")
    assert "BEGIN HIDDEN TESTS" in test[2]   # the instructor's code, not the student's edit


def test_failures_of_hidden_tests_name_the_case_not_its_values():
    msg = trusted.describe(AssertionError("mse_loss on shape (2, 7): expected 1.234, got 0.5"), hidden=True)
    assert msg == "a hidden test of this cell failed: mse_loss on shape (2, 7) — your function returned 0.5"
    assert "1.234" not in msg
    nan = trusted.describe(AssertionError("z: got non-finite values (nan or inf): [nan]; expected [0.25]"), hidden=True)
    assert "0.25" not in nan and "[nan]" in nan
    shape = trusted.describe(AssertionError("dx: expected shape (2, 3), got shape (3, 2)"), hidden=True)
    assert shape == "a hidden test of this cell failed: dx — your function returned shape (3, 2)"
    visible = trusted.describe(AssertionError("mse_loss([1, 2, 3], [1, 0, 0]): expected 4.33, got 0.0"), hidden=False)
    assert "expected 4.33, got 0.0" in visible


def test_process_routes_are_found_in_the_source():
    assert trusted.process_routes("import subprocess\nsubprocess.run(['x'])") == ["subprocess"]
    assert trusted.process_routes("import os\nos.system('ls')") == ["os.system"]
    assert trusted.process_routes("from os import popen") == ["os.popen"]
    assert trusted.process_routes("import numpy as np\nnp.mean([1])") == []


def test_verdict_is_the_first_output_nbgrader_reads_as_points():
    from nbformat import NotebookNode
    from nbgrader.utils import determine_grade

    v = trusted.Verdict("ch00-x-test", 1.5, 3.0, "a <script>", parts=[("a", 1.5, 1.5, True, ""), ("b", 0, 1.5, False, "no")])
    outs = verdict_outputs(v)
    student_said = [NotebookNode(output_type="stream", name="stderr", text="forged"),
                    NotebookNode(output_type="execute_result", data={"text/plain": "3"}, metadata={}, execution_count=1)]
    cell = NotebookNode(cell_type="code", source="", metadata=NotebookNode(nbgrader=NotebookNode(
        grade=True, solution=False, points=3, grade_id="ch00-x-test")), outputs=outs + student_said)
    assert determine_grade(cell) == (1.5, 3.0)
    assert [o.output_type for o in outs] == ["stream", "execute_result"]
    assert set(outs[1].data) == {"text/plain"}      # plain text only, like every other output
    assert "Autograder: 1.5 of 3 points. a <script>" in outs[0].text
    assert "✓ a: 1.5 of 1.5" in outs[0].text and "✗ b: 0 of 1.5 — no" in outs[0].text


def test_a_grading_process_that_cannot_start_is_the_graders_error_not_a_zero():
    import tempfile

    tmp_path = Path(tempfile.mkdtemp(prefix="dlc-", dir="/tmp"))   # a Unix socket's path is short
    run = tmp_path / "run"
    run.mkdir()
    (tmp_path / "lib").mkdir()   # no runner.py in it
    with pytest.raises(trusted.ScoringUnavailable, match=trusted.UNAVAILABLE):
        trusted.Session(tmp_path / "lib", str(run), timeout=5)


def test_students_see_reference_calls_but_not_similarity_findings_naming_others():
    from autograder.feedback import banner
    from autograder.grade import Result

    r = Result("s1", "ch08_cnn_backprop", "graded", 5, 13, flags=[
        "similar:ch08-convback-impl:s2", "similar-to-reference:ch08-convback-impl", "reference-call:ch08-maxpool-test"])
    page = banner(r)
    assert "s2" not in page and "similar" not in page
    assert "ch08-maxpool-test" in page and "not available while your functions are graded" in page


def test_the_graded_process_sees_neither_dlcore_nor_a_framework_with_the_same_layers():
    import importlib.util

    from autograder.sandbox import program_binds, python_paths

    binds, masks, env = program_binds("/tmp/somewhere/lib")
    real = importlib.util.find_spec("dlcore").submodule_search_locations[0]
    shown = [b for b in binds if real.startswith(b + "/") or real == b]
    assert (not shown) or any(m == real for m in masks), (binds, masks)
    torch = importlib.util.find_spec("torch")
    if torch is not None:
        where = torch.submodule_search_locations[0]
        assert any(where.startswith(m) for m in masks), masks
    assert env == {"PYTHONPATH": "/tmp/somewhere/lib"} or env["PYTHONPATH"].endswith("/lib")
    assert set(python_paths()) - set(binds) <= {real}


def test_the_graded_path_is_setup_student_cells_and_tests_not_the_demonstrations():
    """What the grading kernel runs (SandboxExecute) and the scorer replays: no explorer or demo."""
    from autograder.trusted import graded_path, is_test

    for ch in ("ch01_objective_functions", "ch08_cnn_backprop"):
        nb = json.loads((REPO / "solutions" / ch / f"{ch}.ipynb").read_text())
        run = graded_path(nb, nb)
        code = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]
        tests = [i for i in code if is_test(nb["cells"][i])]
        assert set(tests) <= run and max(run) == max(tests)
        skipped = [i for i in code if i not in run]
        assert skipped, ch
        for i in skipped:
            src = "".join(nb["cells"][i]["source"])
            assert not nb["cells"][i]["metadata"].get("nbgrader", {}).get("solution"), (ch, i)
            if "explorer(" in src:
                break
        else:
            raise AssertionError(f"{ch}: no explorer among the cells left unrun")
        added = json.loads(json.dumps(nb))
        added["cells"].insert(tests[0], {"cell_type": "code", "id": "mine", "metadata": {}, "outputs": [],
                                         "source": "helper = 1", "execution_count": None})
        assert tests[0] in graded_path(added, nb)  # a cell the student added runs


def test_a_hidden_case_that_crashes_the_function_says_which_kind_of_case_it_was():
    import numpy as np

    call = trusted._call_kind((np.zeros((1, 2, 6, 5)), None, 1), {"stride": 2})
    assert call == "called with an array of shape (1, 2, 6, 5), None, 1 and stride=2"
    err = trusted.StudentError("IndexError", "too many indices", call=call)
    hidden = trusted.describe(err, hidden=True)
    assert hidden == "a hidden test of this cell failed: your function raised IndexError: too many indices, " + call
    assert trusted.describe(err, hidden=False) == "your function raised IndexError: too many indices"
    assert trusted._call_kind((3.25, [1, 2], {"a": 1}, 12345), {}) == "called with a float, a list of 2, a dict and an int"
    warned = trusted.describe(RuntimeWarning("overflow encountered in exp"), hidden=True)
    assert warned.startswith("a hidden test of this cell failed: your function emitted a warning (RuntimeWarning: overflow")
