"""`python -m autograder export --csv FILE [--format F]`: grades as CSV, sorted, written atomically.

Formats:

* ``wide`` (default): one row per student. ``student``, one column per chapter (autograded plus
  manual points so far, minus nbgrader's late penalty; empty when nothing was submitted),
  ``total``, ``max_score`` (the points the chapters are worth together), ``late_penalty``,
  ``needs_manual_grading`` (``yes``/``no``) and ``flags`` (``chapter:finding`` tokens:
  integrity findings and grading problems; empty when none). A first row ``(max)`` holds each
  chapter's maximum.
* ``nbgrader``: nbgrader's own ``nbgrader export`` columns, one row per student and chapter
  (``assignment, duedate, timestamp, student_id, …, raw_score, late_submission_penalty, score,
  max_score``).
* ``canvas``: a Canvas gradebook import (``Student, ID, SIS User ID, SIS Login ID, Section``,
  then one column per chapter, and the ``Points Possible`` row Canvas expects first). The
  student id goes into ``SIS Login ID``, the column Canvas matches when ``ID`` is empty.
* ``moodle``: a Moodle grade import (``Username`` and one ``<chapter>`` column per grade item;
  choose "Username" as the identifier when importing).
"""
from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from autograder.feedback import all_results
from autograder.grade import _atomic_write


def _num(x: float) -> str:
    return format(round(float(x), 6), "g")


def _gradebook(root: Path):
    from nbgrader.api import Gradebook

    db = Path(root).resolve() / "gradebook.db"
    if not db.exists():
        raise FileNotFoundError(f"export: no gradebook at {db}; run `python -m autograder grade --root {root}` first")
    return Gradebook("sqlite:///" + str(db))


def records(root: Path) -> tuple[list[str], dict[str, float], list[dict]]:
    """(chapters, chapter -> max score, one record per student with each chapter's submission)."""
    from nbgrader.api import MissingEntry

    root = Path(root).resolve()
    flags: dict[str, list[str]] = {}
    for r in all_results(root):
        flags.setdefault(r.student, []).extend(f"{r.chapter}:{f}" for f in r.flags)
    with _gradebook(root) as gb:
        assignments = sorted(gb.assignments, key=lambda a: a.name)
        chapters = [a.name for a in assignments]
        maxima = {a.name: float(a.max_score) for a in assignments}
        duedates = {a.name: a.duedate for a in assignments}
        table = []
        for student in sorted(gb.students, key=lambda s: s.id):
            subs = {}
            for ch in chapters:
                try:
                    sub = gb.find_submission(ch, student.id)
                except MissingEntry:
                    continue
                penalty = float(sub.late_submission_penalty or 0.0)
                subs[ch] = {"raw": float(sub.score), "penalty": penalty, "score": max(0.0, float(sub.score) - penalty),
                            "timestamp": sub.timestamp, "manual": bool(sub.needs_manual_grade)}
            table.append({"student": student.id, "first_name": student.first_name or "",
                          "last_name": student.last_name or "", "email": student.email or "", "subs": subs,
                          "flags": " ".join(sorted(set(flags.get(student.id, []))))})
    for rec in table:
        rec["duedates"] = duedates
    return chapters, maxima, table


def rows(root: Path, fmt: str = "wide") -> tuple[list[str], list[list[str]]]:
    chapters, maxima, table = records(root)
    if fmt == "wide":
        header = ["student", *chapters, "total", "max_score", "late_penalty", "needs_manual_grading", "flags"]
        out = [["(max)", *(_num(maxima[c]) for c in chapters), _num(sum(maxima.values())),
                _num(sum(maxima.values())), "", "", ""]]
        for rec in table:
            subs = rec["subs"]
            out.append([rec["student"], *(_num(subs[c]["score"]) if c in subs else "" for c in chapters),
                        _num(sum(x["score"] for x in subs.values())), _num(sum(maxima.values())),
                        _num(sum(x["penalty"] for x in subs.values())),
                        "yes" if any(x["manual"] for x in subs.values()) else "no", rec["flags"]])
        return header, out
    if fmt == "nbgrader":
        header = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                  "raw_score", "late_submission_penalty", "score", "max_score"]
        out = []
        for ch in chapters:
            for rec in table:
                sub = rec["subs"].get(ch)
                due = rec["duedates"][ch]
                out.append([ch, "" if due is None else str(due),
                            "" if sub is None or sub["timestamp"] is None else str(sub["timestamp"]),
                            rec["student"], rec["last_name"], rec["first_name"], rec["email"],
                            _num(sub["raw"] if sub else 0), _num(sub["penalty"] if sub else 0),
                            _num(sub["score"] if sub else 0), _num(maxima[ch])])
        return header, out
    if fmt == "canvas":
        header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *chapters]
        out = [["    Points Possible", "", "", "", "", *(_num(maxima[c]) for c in chapters)]]
        for rec in table:
            name = ", ".join(x for x in (rec["last_name"], rec["first_name"]) if x) or rec["student"]
            out.append([name, "", "", rec["student"], "",
                        *(_num(rec["subs"][c]["score"]) if c in rec["subs"] else "" for c in chapters)])
        return header, out
    if fmt == "moodle":
        header = ["Username", *chapters]
        out = [[rec["student"], *(_num(rec["subs"][c]["score"]) if c in rec["subs"] else "-" for c in chapters)]
               for rec in table]
        return header, out
    raise ValueError(f"export: unknown format {fmt!r}")


def export_csv(root: Path, csv_path: Path, source=None, out=None, err=None, fmt: str = "wide") -> int:
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    try:
        header, table = rows(root, fmt)
    except FileNotFoundError as exc:
        print(exc, file=err)
        return 1
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(table)
    _atomic_write(Path(csv_path), buf.getvalue())
    print(f"export: {len(records(root)[2])} students, {fmt} format -> {csv_path}", file=out)
    return 0
