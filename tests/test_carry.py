"""``carry``: a student's own functions brought from their other chapter notebooks (dlcore/carry.py)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from dlcore.carry import CarryError, carried_source, carry_call, expand

REPO = Path(__file__).resolve().parents[1]


def _nb(cells):
    out = []
    for kind, meta, src in cells:
        cell = {"cell_type": "code", "metadata": {}, "source": src, "outputs": [], "execution_count": None}
        if kind == "setup":
            cell["metadata"] = {"nbgrader": {"grade": False, "grade_id": "chXX-setup", "locked": True, "solution": False}}
        elif kind == "impl":
            cell["metadata"] = {"nbgrader": {"grade": False, "grade_id": meta, "locked": False, "solution": True}}
        elif kind == "carry":
            cell["metadata"] = {"nbgrader": {"grade": False, "grade_id": meta, "locked": False, "solution": True},
                                "dlcourse": {"carry": True}}
        out.append(cell)
    return {"cells": out, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _write(root: Path, chapter: str, cells) -> Path:
    path = root / chapter / f"{chapter}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_nb(cells)))
    return path


@pytest.fixture
def ws(tmp_path):
    _write(tmp_path, "ch02_softmax", [
        ("setup", None, "%matplotlib widget\nimport numpy as np\nimport dlcore.testing\nfrom dlcore import activations\n"
                        "from dlcore.explorers import ch02\n"),
        ("impl", "ch02-helper-impl", "def _shift(z):\n    return z - z.max()\n"),
        ("impl", "ch02-soft-impl", "def soft(z):\n    e = np.exp(_shift(z))\n    return activations.sigmoid(0) * 2 * e / e.sum()\n"),
        ("impl", "ch02-unused-impl", "def unused():\n    return 1\n"),
        ("impl", "ch02-stub-impl", "def later(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"),
    ])
    _write(tmp_path, "ch03_activations", [
        ("impl", "ch03-relu-impl", "def relu_grad(x):\n    return (np.asarray(x) > 0).astype(float)\n"),
        ("carry", "ch03-carry-impl", "carry('soft')\n"),
    ])
    (tmp_path / "ch09_capstone").mkdir()
    return tmp_path / "ch09_capstone"


def test_brings_the_cell_the_cells_it_calls_and_the_chapters_imports_in_chapter_order(ws):
    code = carried_source(["relu_grad", "soft"], ws)
    assert "def soft" in code and "def _shift" in code and "def relu_grad" in code
    assert "def unused" not in code and "later" not in code
    assert code.index("ch02-helper-impl") < code.index("ch02-soft-impl") < code.index("ch03-relu-impl")
    assert "import numpy as np" in code and "from dlcore import activations" in code
    assert "dlcore.testing" not in code and "explorers" not in code and "%matplotlib" not in code
    assert 'carry("relu_grad", "soft")' in code   # how to bring it again
    ns = {}
    exec(code, ns)  # noqa: S102 - the code under test
    assert ns["soft"](__import__("numpy").array([0.0, 0.0])).tolist() == [0.5, 0.5]
    assert ns["relu_grad"]([-1.0, 2.0]).tolist() == [0.0, 1.0]


def test_refuses_a_stub_a_missing_name_and_an_empty_list_with_what_to_do(ws):
    with pytest.raises(CarryError, match=r"later in ch02_softmax.ipynb \(cell ch02-stub-impl\) is still the exercise's stub"):
        carried_source(["later"], ws)
    with pytest.raises(CarryError, match="no answer cell defines softmaxx"):
        carried_source(["softmaxx"], ws)
    with pytest.raises(CarryError, match="name the functions"):
        carried_source([], ws)


def test_outside_a_course_folder_says_the_notebook_is_graded_on_its_own(tmp_path):
    (tmp_path / "alone").mkdir()
    with pytest.raises(CarryError, match="graded on its own: it must hold the code this cell puts in it"):
        carried_source(["soft"], tmp_path / "alone")


def test_a_cell_that_does_not_parse_is_named(ws):
    path = ws.parent / "ch04_optimizers" / "ch04_optimizers.ipynb"
    _write(ws.parent, "ch04_optimizers", [("impl", "ch04-sgd-impl", "def sgd(w:\n    return w\n")])
    assert path.exists()
    with pytest.raises(CarryError, match=r"ch04_optimizers.ipynb \(ch04-sgd-impl\) does not parse"):
        carried_source(["relu_grad", "sgd"], ws)


def test_expand_fills_a_carry_cell_as_jupyterlab_does(ws):
    nb = _nb([("carry", "ch09-carry-impl", "from dlcore.workspace import carry\ncarry('relu_grad')\n"),
              ("impl", "ch09-x-impl", "def x():\n    return relu_grad(1)\n")])
    assert carry_call(nb["cells"][0]["source"]) == ("relu_grad",)
    out = expand(nb, ws)
    assert "def relu_grad" in out["cells"][0]["source"] and "carry('relu_grad')" not in out["cells"][0]["source"]
    assert out["cells"][1] == nb["cells"][1] and "carry(" in nb["cells"][0]["source"]


def test_the_capstone_carries_every_function_it_names_from_the_solutions():
    cap = json.loads((REPO / "solutions" / "ch09_capstone" / "ch09_capstone.ipynb").read_text())
    cell = next(c for c in cap["cells"] if c.get("metadata", {}).get("dlcourse", {}).get("carry"))
    names = carry_call("".join(cell["source"]))
    assert len(names) == 12
    code = carried_source(names, REPO / "solutions" / "ch09_capstone")
    ns = {}
    exec(code, ns)  # noqa: S102
    assert all(callable(ns[n]) for n in names)
    assert "BEGIN SOLUTION" not in code and "dlcore.testing" not in code


def test_in_a_kernel_carry_runs_the_code_and_replaces_its_cell(ws):
    """What JupyterLab acts on: the execute reply's set_next_input payload with replace=True."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", cwd=str(ws))
    try:
        msg_id = kc.execute("from dlcore.workspace import carry\ncarry('relu_grad')\nprint(relu_grad([3.0, -3.0]))")
        reply = kc.get_shell_msg(timeout=60)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = kc.get_shell_msg(timeout=60)
        assert reply["content"]["status"] == "ok", reply["content"]
        (payload,) = [p for p in reply["content"]["payload"] if p["source"] == "set_next_input"]
        assert payload["replace"] is True and "def relu_grad" in payload["text"]
        out = []
        while True:
            m = kc.get_iopub_msg(timeout=60)
            if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "stream":
                out.append(m["content"]["text"])
            if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "status" \
                    and m["content"]["execution_state"] == "idle":
                break
        assert "[1. 0.]" in "".join(out) and "this cell now holds their code" in "".join(out)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_workspace_layout_carries_from_the_students_own_notebooks(tmp_path):
    from dlcore.workspace import sync

    course = tmp_path / "course"
    _write(course, "ch03_activations", [("impl", "ch03-relu-impl", "def relu_grad(x):\n    raise NotImplementedError()\n")])
    (course / "ch09_capstone").mkdir()
    (course / "ch09_capstone" / "ch09_capstone.ipynb").write_text(json.dumps(_nb([])))
    sync(course, tmp_path / "workspace")
    here = tmp_path / "workspace" / "ch09_capstone"
    with pytest.raises(CarryError, match="still the exercise's stub"):
        carried_source(["relu_grad"], here)
    _write(tmp_path / "workspace", "ch03_activations",
           [("impl", "ch03-relu-impl", "def relu_grad(x):\n    return 42\n")])   # the student solved it
    assert "return 42" in carried_source(["relu_grad"], here)


def test_not_a_reference_in_the_graded_process(tmp_path):
    """The grader's dlcore keeps carry, so an unexpanded carry cell fails with carry's own words."""
    import subprocess

    from autograder import withhold

    lib = withhold.build(tmp_path / "lib", set())
    (tmp_path / "nb").mkdir()
    r = subprocess.run([sys.executable, "-c", "from dlcore.workspace import carry\ncarry('relu_grad')"],
                       cwd=tmp_path / "nb", env={"PYTHONPATH": str(lib), "PATH": "/usr/bin:/bin"},
                       capture_output=True, text=True)
    assert "CarryError" in r.stderr and "graded on its own" in r.stderr and "ReferenceWithheld" not in r.stderr
