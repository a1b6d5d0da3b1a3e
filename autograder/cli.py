"""Command line: ``dlcourse <command>`` (or ``python -m autograder <command>``); guide in autograder/README.md.

  build [CHAPTER…] [--check]         chapters/*.py -> solutions/*.ipynb -> course/ (the chapter build)
  release [CHAPTER…]                 generate course/ from solutions/
  bundle OUT                         the student distribution (folder, or OUT.zip)
  collect PATH --root DIR            import submissions into DIR/submitted (with timestamp.txt)
  grade --root DIR [CHAPTER…] …      autograde in parallel, in a sandbox (--student S, --exercise ID)
  feedback --root DIR                HTML feedback per student and chapter
  export --root DIR --csv FILE       grades as CSV (--format wide|nbgrader|canvas|moodle)
  formgrader --root DIR              nbgrader's formgrader on DIR, for the written answers
  report --root DIR --html OUT       a class report (static HTML, opens offline)

Exit codes: 0 done (a student scoring 0 is not an error), 1 the instructor's side failed
(unknown chapter, broken source, a grading crash), 2 bad command line.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.release import REPO


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("dlcore")
    except Exception:  # noqa: BLE001 - running from a checkout that was never installed
        return "unknown"


def _root(p):
    p.add_argument("--root", required=True, type=Path, help="the term's grading folder (outside the repository)")
    p.add_argument("--source", type=Path, default=REPO / "solutions", help=argparse.SUPPRESS)


def _select(p, what: str):
    """Chapters and students: repeatable options that cannot swallow each other."""
    p.add_argument("chapters", nargs="*", metavar="CHAPTER",
                   help=f"only these chapters, e.g. ch01_objective_functions (default: every chapter {what})")
    p.add_argument("--chapter", action="append", default=[], dest="chapter_opt", metavar="CHAPTER",
                   help="only this chapter (repeat for more; the same as a positional CHAPTER)")
    p.add_argument("--student", action="append", default=[], metavar="STUDENT",
                   help="only this student (repeat for more: --student alice --student bob)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dlcourse", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()} (nbgrader 0.9.6)",
                   help="print the version and exit")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    bd = sub.add_parser("build", help="build solutions/*.ipynb from the text sources in chapters/, then course/")
    bd.add_argument("chapters", nargs="*", metavar="CHAPTER",
                    help="chapter ids such as ch01_objective_functions (default: all)")
    bd.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 if solutions/ or course/ differ from a fresh build")
    bd.add_argument("--from-notebook", type=Path, metavar="IPYNB",
                    help="first rewrite chapters/<ch>.py from an edited solutions/<ch>/<ch>.ipynb")
    r = sub.add_parser("release", help="generate course/ (student notebooks) from solutions/")
    r.add_argument("chapters", nargs="*", metavar="CHAPTER",
                   help="chapter ids such as ch01_objective_functions (default: all)")
    b = sub.add_parser("bundle", help="write the student distribution to OUT (a folder, or a .zip file)")
    b.add_argument("out", type=Path, metavar="OUT", help="a folder (created), or a file ending in .zip")
    c = sub.add_parser("collect", help="import submissions laid out as <student>/<chapter>/<notebook>.ipynb")
    c.add_argument("path", type=Path, metavar="PATH", help="a folder or a .zip")
    _root(c)
    c.add_argument("--chapter", help="chapter id, when PATH holds one <student>.ipynb per student")
    c.add_argument("--max-notebook", type=int, default=16, help="MiB a notebook may have (default 16)")
    g = sub.add_parser("grade", help="autograde every submission under ROOT/submitted")
    _root(g)
    _select(g, "with submissions")
    g.add_argument("--exercise", action="append", default=[], metavar="GRADE_ID",
                   help="regrade only the chapters holding this exercise (its nbgrader grade_id, e.g. "
                        "ch01-mse-test; repeatable); implies --force for them")
    g.add_argument("--jobs", type=int, default=0, help="parallel workers (default: number of CPUs)")
    where = g.add_mutually_exclusive_group()
    where.add_argument("--cluster", default="", metavar="local:N",
                       help="grade on a local Dask cluster of N worker processes instead of the process pool")
    where.add_argument("--scheduler", default="", metavar="ADDRESS",
                       help="grade on the workers of a running Dask scheduler (tcp://host:8786, or a Dask "
                            "Gateway cluster's address); see docs/grading-at-scale.md")
    g.add_argument("--timeout", type=int, default=30, help="seconds per cell (default 30)")
    g.add_argument("--budget", type=int, default=300, help="seconds per notebook (default 300)")
    g.add_argument("--mem", type=int, default=3072, help="MiB of memory per kernel (default 3072)")
    g.add_argument("--cpu", type=int, default=300, help="CPU seconds per kernel (default 300)")
    g.add_argument("--nproc", type=int, default=64, help="processes and threads per kernel (default 64)")
    g.add_argument("--tmp", type=int, default=256, help="MiB of /tmp per kernel (default 256)")
    g.add_argument("--max-notebook", type=int, default=16, help="MiB a submitted notebook may have (default 16)")
    g.add_argument("--hide", action="append", default=[],
                   help="a path that must never be visible to student code (grading refuses to start if the "
                        "sandbox would show it)")
    g.add_argument("--sandbox", choices=("auto", "bwrap", "limits"), default="auto",
                   help="auto: bubblewrap when it works, else limits only with a warning; bwrap: refuse to "
                        "grade without it; limits: resource limits only (trusted code)")
    g.add_argument("--due", action="append", default=[], metavar="CHAPTER=WHEN",
                   help="set a chapter's due date in the gradebook, e.g. ch01_objective_functions="
                        "'2026-10-01 23:59:00 UTC' (nbgrader's duedate; repeatable)")
    g.add_argument("--late-penalty", default="none", metavar="POLICY",
                   help="what a late submission costs, through nbgrader's AssignLatePenalties: none "
                        "(default), zero (the notebook scores 0), or per-day:P (P percent of the score "
                        "per started day late)")
    g.add_argument("--force", action="store_true", help="regrade even unchanged submissions")
    g.add_argument("--no-progress", action="store_true", help="no progress bar (for logs and CI)")
    f = sub.add_parser("feedback", help="write ROOT/feedback/<student>/<chapter>/<chapter>.html")
    _root(f)
    _select(f, "graded")
    e = sub.add_parser("export", help="write grades as CSV")
    _root(e)
    e.add_argument("--csv", required=True, type=Path, metavar="FILE", help="where to write the CSV")
    e.add_argument("--format", choices=("wide", "nbgrader", "canvas", "moodle"), default="wide",
                   help="wide: one row per student, a column per chapter (default); nbgrader: nbgrader's own "
                        "export (a row per student and chapter, with due date, timestamp and late penalty); "
                        "canvas: a Canvas gradebook import; moodle: a Moodle grade import")
    fg = sub.add_parser("formgrader", help="open nbgrader's formgrader (manual grading) on a grading root")
    _root(fg)
    fg.add_argument("--port", type=int, default=8888, help="the port JupyterLab listens on (default 8888)")
    fg.add_argument("--ip", default="127.0.0.1", help="the address JupyterLab listens on (default 127.0.0.1)")
    fg.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    rp = sub.add_parser("report", help="a class report: score distributions, failing tests, time per notebook")
    _root(rp)
    rp.add_argument("--html", required=True, type=Path, metavar="OUT",
                    help="where to write the report (one static HTML file, opens offline)")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # A chapter after an option (`grade --student alice ch02 --force ch03`): argparse leaves it
    # over; it is a chapter, never another option's value.
    stray = [x for x in extra if x.startswith("-") or not hasattr(args, "chapters")]
    if stray:
        parser.error(f"unrecognized arguments: {' '.join(stray)}")
    if extra:
        args.chapters = [*args.chapters, *extra]
    root = getattr(args, "root", None)
    if root is not None and (root.resolve() == REPO or REPO in root.resolve().parents):
        print(f"{args.command}: --root {root} is inside the repository; a term's grading data (submissions, "
              "gradebook, feedback) must live outside it", file=sys.stderr)
        return 2
    if args.command == "build":
        from autograder.build import BuildError, build, import_notebook, stale
        from autograder.release import ReleaseError

        try:
            if args.check:
                diffs = stale()
                for d in diffs:
                    print(f"differs from a fresh build: {d}", file=sys.stderr)
                if diffs:
                    print("run `python -m autograder build` (or `make notebooks`) and commit the result",
                          file=sys.stderr)
                return 1 if diffs else 0
            if args.from_notebook is not None:
                print(f"wrote {import_notebook(args.from_notebook).relative_to(REPO)}")
            written = build(args.chapters or None)
        except (BuildError, ReleaseError) as exc:
            print(exc, file=sys.stderr)
            return 1
        for path in written:
            print(f"built {path.relative_to(REPO)}")
        if not written:
            print("solutions/ and course/ are up to date")
        return 0
    if args.command == "release":
        from autograder.release import ReleaseError, release

        try:
            written = release(args.chapters or None, quiet=True)
        except ReleaseError as exc:
            print(exc, file=sys.stderr)
            return 1
        for path in written:
            print(f"released {path.relative_to(REPO)}")
        return 0
    if args.command == "bundle":
        from autograder.bundle import BundleError, bundle

        try:
            out = bundle(args.out)
        except BundleError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"bundle written to {out}")
        return 0
    if args.command == "collect":
        from autograder.collect import collect

        rc = collect(args.path, args.root, chapter=args.chapter, source=args.source,
                     max_bytes=args.max_notebook * 2**20)
        _course_config(args)
        return rc
    if args.command == "grade":
        from autograder.grade import GradeError, Settings, parse_late_penalty, run_grade, set_due_dates

        try:
            late = parse_late_penalty(args.late_penalty)
        except ValueError as exc:
            print(f"grade: {exc}", file=sys.stderr)
            return 2
        s = Settings(root=args.root, source=args.source, jobs=args.jobs, timeout=args.timeout,
                     budget=args.budget, mem=args.mem * 2**20, cpu=args.cpu, hide=args.hide,
                     force=args.force, sandbox=args.sandbox, nproc=args.nproc, tmp=args.tmp * 2**20,
                     max_notebook=args.max_notebook * 2**20, late_penalty=late, cluster=args.cluster,
                     scheduler=args.scheduler)
        try:
            _course_config(args)
            if args.due:
                set_due_dates(s, args.due)
            return run_grade(s, _chapters(args), args.student or None, progress=not args.no_progress,
                             only_exercises=args.exercise or None)
        except (GradeError, RuntimeError, ValueError) as exc:
            print(exc, file=sys.stderr)
            return 1
    if args.command == "feedback":
        from autograder.feedback import feedback

        return feedback(args.root, args.source, _chapters(args), args.student or None)
    if args.command == "export":
        from autograder.export import export_csv

        return export_csv(args.root, args.csv, source=args.source, fmt=args.format)
    if args.command == "formgrader":
        return _formgrader(args)
    if args.command == "report":
        from autograder.report import report

        return report(args.root, args.html)
    return 2


def _chapters(args) -> list[str] | None:
    return list(dict.fromkeys([*args.chapters, *args.chapter_opt])) or None


def _course_config(args) -> None:
    """ROOT/nbgrader_config.py, so that plain nbgrader and formgrader work in the grading root."""
    from autograder.courseroot import write_config

    if not args.root.exists():
        return
    try:
        if write_config(args.root, args.source) is None:
            print(f"{args.command}: note: {args.root / 'nbgrader_config.py'} is your own; left as it is "
                  "(the autograder does not read it)", file=sys.stderr)
    except ValueError as exc:
        print(f"{args.command}: note: {exc}", file=sys.stderr)


def _formgrader(args) -> int:
    """JupyterLab in the grading root, where nbgrader finds ROOT/nbgrader_config.py (formgrader)."""
    import os
    import shutil

    from autograder.courseroot import write_config

    root = args.root.resolve()
    if not (root / "gradebook.db").exists():
        print(f"formgrader: no gradebook in {root}; run `dlcourse grade --root {root}` first", file=sys.stderr)
        return 1
    if write_config(root, args.source) is None:
        print(f"formgrader: using your own {root / 'nbgrader_config.py'}", file=sys.stderr)
    jupyter = shutil.which("jupyter", path=os.path.dirname(sys.executable)) or "jupyter"
    cmd = [jupyter, "lab", f"--ServerApp.root_dir={root}", f"--ip={args.ip}", f"--port={args.port}"]
    if args.no_browser:
        cmd.append("--no-browser")
    if os.getuid() == 0:
        cmd.append("--allow-root")
    print(f"formgrader: {' '.join(cmd)}  (then open the Nbgrader menu > Formgrader, or /formgrader)", file=sys.stderr)
    os.chdir(root)
    os.execv(cmd[0], cmd) if os.path.isabs(cmd[0]) else os.execvp(cmd[0], cmd)
    return 0
