"""Rubrics of the written questions: parsed from the instructor notebooks, shown to the grader in
formgrader, and marked in the student's feedback with the lines the grader cited."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from nbformat import NotebookNode

from autograder import rubric
from autograder.release import chapters

REPO = Path(__file__).resolve().parents[1]


def _src(ch):
    return json.loads((REPO / "solutions" / ch / f"{ch}.ipynb").read_text())


@pytest.mark.parametrize("ch", chapters())
def test_every_written_question_has_a_rubric_whose_points_add_up(ch):
    nb = _src(ch)
    found = rubric.rubrics(nb)
    answers = {c["metadata"]["nbgrader"]["grade_id"]: c["metadata"]["nbgrader"]["points"] for c in nb["cells"]
               if c["cell_type"] == "markdown" and c.get("metadata", {}).get("nbgrader", {}).get("grade")}
    assert answers and set(found) == set(answers)
    for gid, lines in found.items():
        assert sum(p for p, _ in lines) == answers[gid], (gid, lines)


def test_citations_read_whole_and_partial_lines():
    assert rubric.citations("R1 and R2=0.5, also r3?", 3) == {1: None, 2: 0.5}
    assert rubric.citations("R9", 2) == {}
    assert rubric.citations(None, 2) == {}


def _feedback_cell(comment, score):
    lines = [(1.0, "MSE: the σ′ factor <b>"), (1.0, "cross-entropy cancels it")]
    cell = rubric.grader_view("ch01-saturation-answer", lines)
    answer = NotebookNode(cell_type="markdown", source="my answer", metadata=NotebookNode(nbgrader=NotebookNode(
        grade=True, solution=True, grade_id="ch01-saturation-answer", comment=comment, score=score, points=2)))
    nb = NotebookNode(cells=[answer, cell], metadata=NotebookNode())
    rubric.RubricFeedback().preprocess(nb, {})
    return nb.cells[1].source


def test_the_grader_sees_labelled_lines_and_the_student_sees_which_applied():
    grader = rubric.grader_view("x", [(1.0, "first"), (0.5, "second")]).source
    assert "**R1** (1 point) — first" in grader and "**R2** (0.5 points) — second" in grader
    page = _feedback_cell("R1 fully; R2=0.5 — good start", 1.5)
    assert "✓ **R1** — 1 of 1 — MSE: the σ′ factor &lt;b&gt;" in page
    assert "✓ **R2** — 0.5 of 1 — cross-entropy cancels it" in page
    assert "Your grader's comment:** R1 fully; R2=0.5 — good start" in page
    page = _feedback_cell("R2", 1.0)
    assert "✗ **R1** — 0 of 1" in page and "✓ **R2** — 1 of 1" in page
    assert "has not been graded yet" in _feedback_cell(None, None)
    assert "did not mark individual lines" in _feedback_cell("nice", 2.0)
