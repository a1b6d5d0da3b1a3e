"""`python -m autograder export --csv FILE`: one row per student, sorted, written atomically.

Columns: ``student``, one per chapter (autograded plus manual points so far; empty when
nothing was submitted), ``total``, ``needs_manual_grading`` (``yes``/``no``) and ``flags``
(``chapter:finding`` tokens: integrity findings and grading problems; empty when none).
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


def rows(root: Path) -> tuple[list[str], list[list[str]]]:
    from nbgrader.api import Gradebook, MissingEntry

    root = Path(root).resolve()
    db = root / "gradebook.db"
    if not db.exists():
        raise FileNotFoundError(f"export: no gradebook at {db}; run `python -m autograder grade --root {root}` first")
    flags: dict[str, list[str]] = {}
    for r in all_results(root):
        flags.setdefault(r.student, []).extend(f"{r.chapter}:{f}" for f in r.flags)
    with Gradebook("sqlite:///" + str(db)) as gb:
        chapters = sorted(a.name for a in gb.assignments)
        header = ["student", *chapters, "total", "needs_manual_grading", "flags"]
        table = []
        for student in sorted(s.id for s in gb.students):
            cells, total, manual = [], 0.0, False
            for ch in chapters:
                try:
                    sub = gb.find_submission(ch, student)
                except MissingEntry:
                    cells.append("")
                    continue
                total += float(sub.score)
                manual = manual or bool(sub.needs_manual_grade)
                cells.append(_num(sub.score))
            table.append([student, *cells, _num(total), "yes" if manual else "no",
                          " ".join(sorted(set(flags.get(student, []))))])
    return header, table


def export_csv(root: Path, csv_path: Path, source=None, out=None, err=None) -> int:
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    try:
        header, table = rows(root)
    except FileNotFoundError as exc:
        print(exc, file=err)
        return 1
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(table)
    _atomic_write(Path(csv_path), buf.getvalue())
    print(f"export: {len(table)} students -> {csv_path}", file=out)
    return 0
