"""Rubrics of the written questions, for the grader in formgrader and for the student's feedback.

Each written answer cell of an instructor notebook ends with its rubric::

    **Rubric (2 points).**
    - 1 point — MSE: dL/dz = 2(p − y)·σ′(z) … Half a point for …
    - 1 point — cross-entropy: …

While autograding, :class:`ShowRubric` puts that rubric, its lines labelled ``R1``, ``R2`` …,
in a cell right after the student's answer, so the grader sees it beside the answer in
formgrader. The grader cites the lines that apply in the comment box: ``R1`` for a whole line,
``R2=0.5`` for part of its points. When the feedback is generated, :class:`RubricFeedback`
turns that cell into what the student reads: every line, ✓ with the points it earned where the
grader cited it, ✗ where not, and the grader's comment.
"""
from __future__ import annotations

import html
import re

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

_HEAD = re.compile(r"^\*\*Rubric\b[^*]*\*\*\s*$")
_LINE = re.compile(r"^\s*[-*]\s+(?P<pts>\d+(?:\.\d+)?|[Hh]alf a)\s+points?\s*[—–-]\s*(?P<text>.+)$")
_CITE = re.compile(r"\bR(\d+)\b(?:\s*[=:]\s*(\d+(?:\.\d+)?))?")
KEY = "dlcourse_rubric"


def rubric_lines(source: str) -> list[tuple[float, str]]:
    """(points, text) of each line of the rubric at the end of an answer cell's source."""
    lines = source.splitlines()
    for i, line in enumerate(lines):
        if _HEAD.match(line.strip()):
            out = []
            for item in lines[i + 1:]:
                m = _LINE.match(item)
                if m:
                    pts = m.group("pts")
                    out.append((0.5 if pts.lower().startswith("half") else float(pts), m.group("text").strip()))
                elif out and item.strip() and not item.lstrip().startswith(("-", "*")):
                    out[-1] = (out[-1][0], out[-1][1] + " " + item.strip())   # a wrapped line
            return out
    return []


def rubrics(source_nb: dict) -> dict[str, list[tuple[float, str]]]:
    """answer cell grade_id -> its rubric lines, from the instructor's notebook."""
    out = {}
    for cell in source_nb.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "markdown" and meta.get("grade") and meta.get("solution"):
            src = cell.get("source", "")
            lines = rubric_lines("".join(src) if isinstance(src, list) else src)
            if lines:
                out[meta["grade_id"]] = lines
    return out


def citations(comment: str | None, n: int) -> dict[int, float | None]:
    """Rubric lines a grader's comment cites: {line number (1-based): points or None for all of it}."""
    out: dict[int, float | None] = {}
    for m in _CITE.finditer(comment or ""):
        k = int(m.group(1))
        if 1 <= k <= n:
            out[k] = float(m.group(2)) if m.group(2) else None
    return out


def _cell(gid: str, source: str, lines) -> NotebookNode:
    return NotebookNode(cell_type="markdown", id=f"{gid}-rubric"[:64], source=source,
                        metadata=NotebookNode({KEY: NotebookNode(answer=gid, lines=[list(x) for x in lines])}))


def grader_view(gid: str, lines) -> NotebookNode:
    items = "\n".join(f"- **R{i}** ({pts:g} {'point' if pts == 1 else 'points'}) — {html.escape(text)}"
                      for i, (pts, text) in enumerate(lines, start=1))
    return _cell(gid, "**Rubric** for the answer above. Graders: cite the lines that apply in the comment, "
                      "as `R1` (the whole line) or `R2=0.5` (part of its points); the student's feedback "
                      "shows them.\n\n" + items, lines)


def student_view(cell, comment: str | None, score) -> str:
    lines = [tuple(x) for x in cell.metadata[KEY]["lines"]]
    cited = citations(comment, len(lines))
    if score is None:
        head = "**Rubric** (this answer has not been graded yet)."
    elif cited:
        head = "**Rubric**: the lines your grader marked as met (✓), with the points each earned."
    else:
        head = "**Rubric** for this question (your grader did not mark individual lines)."
    items = []
    for i, (pts, text) in enumerate(lines, start=1):
        if cited and i in cited:
            got = pts if cited[i] is None else min(cited[i], pts)
            items.append(f"- ✓ **R{i}** — {got:g} of {pts:g} — {html.escape(text)}")
        elif cited:
            items.append(f"- ✗ **R{i}** — 0 of {pts:g} — {html.escape(text)}")
        else:
            items.append(f"- **R{i}** ({pts:g}) — {html.escape(text)}")
    out = head + "\n\n" + "\n".join(items)
    if comment:
        out += "\n\n**Your grader's comment:** " + html.escape(comment)
    return out


class ShowRubric(NbGraderPreprocessor):
    """Autograde: put each written answer's rubric right after it (see the module docstring)."""

    source_directory = Unicode("", help="Folder of the instructor's notebooks (<source>/<assignment>/<nb>.ipynb)."
                               ).tag(config=True)

    def preprocess(self, nb, resources):
        import json
        from pathlib import Path

        info = resources.get("nbgrader", {})
        path = Path(self.source_directory) / info.get("assignment", "") / f"{info.get('notebook', '')}.ipynb"
        try:
            found = rubrics(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            found = {}
        cells = []
        for cell in nb.cells:
            if KEY in cell.get("metadata", {}):
                continue   # a rubric cell from an earlier run (or pasted by the student)
            cells.append(cell)
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if cell.cell_type == "markdown" and gid in found:
                cells.append(grader_view(gid, found[gid]))
        nb.cells = cells
        return nb, resources


class RubricFeedback(NbGraderPreprocessor):
    """Feedback: the rubric cell says which lines the grader cited (after ``GetGrades``)."""

    def preprocess(self, nb, resources):
        answers = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells
                   if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")}
        for cell in nb.cells:
            info = cell.get("metadata", {}).get(KEY)
            if not info:
                continue
            answer = answers.get(info.get("answer"))
            meta = answer.metadata.get("nbgrader", {}) if answer is not None else {}
            cell.source = student_view(cell, meta.get("comment"), meta.get("score"))
        return nb, resources
