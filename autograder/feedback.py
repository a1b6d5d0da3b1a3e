"""`python -m autograder feedback`: one HTML page per student and chapter.

nbgrader's GenerateFeedback renders the autograded notebook; the course configures it with
``TrimTracebacks`` (a failing visible test shows its message, a failing hidden test only
that it failed and its points) and ``ClearHiddenTests`` (the hidden source is removed). A
banner lists the grading findings (a reference called, dead kernel, timeouts; not the similarity
findings, which are the instructor's); a submission that could not be graded gets a short page
with the reason and its 0.
"""
from __future__ import annotations

import html
import json
import sys
from pathlib import Path

from autograder.grade import Result, Settings, _atomic_write, make_api
from autograder.mathsvg import strip_mathjax

_EXPLAIN = {
    "integrity": "calls the reference implementation it must replace (or tampered with the checks), as the "
                 "notebook's own test saw it; this is reported to your instructor",
    "reference-call": "called a reference implementation that is not available while your functions are graded "
                      "(they must compute it themselves): those cases scored 0, and this is reported to your instructor",
    "subprocess": "starts another process; this is reported to your instructor",
    "timeout": "did not finish within the time limit per cell (an infinite loop?)",
    "dead-kernel": "the notebook's kernel died (os._exit, a crash, or the memory/CPU limit); the cells after it were not run",
    "time-budget": "the notebook ran out of its total time budget; later cells were not run",
    "memory-limit": "ran out of the memory allowed to a submission",
    "invalid-notebook": "the notebook could not be graded",
    "autograde-failed": "the notebook could not be graded",
}


# Similarity findings are a reason for the instructor to look, not a verdict, and name another
# student: they stay in the instructor's report (DIR/reports/similarity.html) and the export.
_INSTRUCTOR_ONLY = ("similar", "similar-to-reference")


def all_results(root: Path) -> list[Result]:
    out = []
    for p in sorted((Path(root) / ".autograder" / "results").glob("*/*.json")):
        try:
            out.append(Result(**json.loads(p.read_text())))
        except (OSError, ValueError, TypeError):
            continue
    return out


def banner(r: Result) -> str:
    items = []
    for flag in r.flags:
        kind, _, where = flag.partition(":")
        if kind in _INSTRUCTOR_ONLY:
            continue
        text = _EXPLAIN.get(kind, kind)
        items.append(f"<li><b>{html.escape(where or r.chapter)}</b>: {html.escape(text)}</li>")
    if r.reason:
        items.append(f"<li>{html.escape(r.reason)}</li>")
    if not items:
        return ""
    return ('<div class="dlcourse-flags" style="border:2px solid #c33;padding:0.6em 1em;margin:1em;'
            'background:#fee"><b>Grading notes</b><ul>' + "".join(items) + "</ul></div>")


def _page(r: Result) -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(r.chapter)}</title></head>"
            f"<body><h1>{html.escape(r.chapter)}: {r.score:g} / {r.max_score:g}</h1>{banner(r)}</body></html>\n")


def feedback(root: Path, source: Path, chapters=None, students=None, out=None, err=None) -> int:
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    root = Path(root).resolve()
    api = make_api(Settings(root=root, source=Path(source)))
    failures, written = [], 0
    for r in all_results(root):
        if (chapters and r.chapter not in chapters) or (students and r.student not in students):
            continue
        dest = root / "feedback" / r.student / r.chapter / f"{r.chapter}.html"
        if r.status == "graded":
            res = api.generate_feedback(r.chapter, r.student, force=True)
            if not res.get("success") or not dest.exists():
                failures.append(f"{r.student}/{r.chapter}: {(res.get('error') or res.get('log') or '').strip()[-300:]}")
                continue
            page = strip_mathjax(dest.read_text(encoding="utf-8"))  # formulas are SVG already (RenderMath)
            extra = banner(r)
            if extra:
                i = page.find(">", page.find("<body")) + 1
                page = page[:i] + extra + page[i:]
            _atomic_write(dest, page)
        else:
            _atomic_write(dest, _page(r))
        written += 1
    print(f"feedback: wrote {written} pages under {root / 'feedback'}", file=out)
    for f in failures:
        print(f"feedback: FAILED {f}", file=err)
    return 1 if failures else 0
