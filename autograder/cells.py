"""Build nbgrader cells with the right metadata (used to author chapters and by the tests).

nbgrader's schema 3: every graded or locked cell carries ``metadata.nbgrader`` with
``grade``, ``grade_id``, ``locked``, ``solution``, ``task``, ``schema_version`` and, for graded
cells, ``points``. Cell ids follow ``chNN-<name>-impl`` / ``chNN-<name>-test``.
"""
from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None,
          task: bool = False) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": task}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def markdown(text: str):
    """Plain prose, editable (not tracked by nbgrader)."""
    return new_markdown_cell(text)


def code(src: str):
    """Plain code, editable (demonstrations, explorers)."""
    return new_code_cell(src)


def locked_markdown(grade_id: str, text: str):
    """Prose a student cannot edit (exercise statements, written-question prompts)."""
    return new_markdown_cell(text, metadata=_meta(grade_id, grade=False, solution=False, locked=True))


def locked_code(grade_id: str, src: str):
    """Code a student cannot edit (the setup cell that imports dlcore.testing first)."""
    return new_code_cell(src, metadata=_meta(grade_id, grade=False, solution=False, locked=True))


def solution(grade_id: str, src: str):
    """The one cell the student fills in; wrap the answer in ### BEGIN/END SOLUTION."""
    return new_code_cell(src, metadata=_meta(grade_id, grade=False, solution=True, locked=False))


def tests(grade_id: str, src: str, points: float):
    """An autograded, locked test cell worth ``points``; hidden part in ### BEGIN/END HIDDEN TESTS."""
    return new_code_cell(src, metadata=_meta(grade_id, grade=True, solution=False, locked=True, points=points))


def written_answer(grade_id: str, text: str, points: float):
    """A manually graded markdown answer cell (the student writes here)."""
    return new_markdown_cell(text, metadata=_meta(grade_id, grade=True, solution=True, locked=False, points=points))


def notebook(cells, title: str = ""):
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def write(nb, path) -> None:
    """Write without outputs or execution counts, as the repository keeps notebooks."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.validate(nb)
    with open(path, "w", encoding="utf-8") as f:
        nbformat.write(nb, f)
