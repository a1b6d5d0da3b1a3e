"""Command line: ``python -m autograder <command>``; instructor guide in autograder/README.md.

  build [CHAPTER…] [--check]         chapters/*.py -> solutions/*.ipynb -> course/ (the chapter build)
  release [CHAPTER…]                 generate course/ from solutions/
  bundle OUT                         the student distribution (folder, or OUT.zip)
  collect PATH --root DIR            import submissions into DIR/submitted
  grade --root DIR [--jobs N] …      autograde in parallel, in a sandbox
  feedback --root DIR                HTML feedback per student and chapter
  export --root DIR --csv FILE       one row per student

Exit codes: 0 done (a student scoring 0 is not an error), 1 the instructor's side failed
(unknown chapter, broken source, a grading crash), 2 bad command line.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.release import REPO


def _root(p):
    p.add_argument("--root", required=True, type=Path, help="the term's grading folder (outside the repository)")
    p.add_argument("--source", type=Path, default=REPO / "solutions", help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    bd = sub.add_parser("build", help="build solutions/*.ipynb from the text sources in chapters/, then course/")
    bd.add_argument("chapters", nargs="*", help="chapter ids such as ch01_objective_functions (default: all)")
    bd.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 if solutions/ or course/ differ from a fresh build")
    bd.add_argument("--from-notebook", type=Path, metavar="IPYNB",
                    help="first rewrite chapters/<ch>.py from an edited solutions/<ch>/<ch>.ipynb")
    r = sub.add_parser("release", help="generate course/ (student notebooks) from solutions/")
    r.add_argument("chapters", nargs="*", help="chapter ids such as ch01_objective_functions (default: all)")
    b = sub.add_parser("bundle", help="write the student distribution to OUT (a folder, or a .zip file)")
    b.add_argument("out", type=Path)
    c = sub.add_parser("collect", help="import submissions laid out as <student>/<chapter>/<notebook>.ipynb")
    c.add_argument("path", type=Path, help="a folder or a .zip")
    _root(c)
    c.add_argument("--chapter", help="chapter id, when PATH holds one <student>.ipynb per student")
    g = sub.add_parser("grade", help="autograde every submission under ROOT/submitted")
    _root(g)
    g.add_argument("chapters", nargs="*", help="only these chapters (default: all)")
    g.add_argument("--student", nargs="+", default=None, help="only these students")
    g.add_argument("--jobs", type=int, default=0, help="parallel workers (default: number of CPUs)")
    g.add_argument("--timeout", type=int, default=30, help="seconds per cell (default 30)")
    g.add_argument("--budget", type=int, default=300, help="seconds per notebook (default 300)")
    g.add_argument("--mem", type=int, default=3072, help="MiB of memory per kernel (default 3072)")
    g.add_argument("--cpu", type=int, default=300, help="CPU seconds per kernel (default 300)")
    g.add_argument("--hide", action="append", default=[], help="another path the student code must not see")
    g.add_argument("--sandbox", choices=("auto", "bwrap", "limits"), default="auto")
    g.add_argument("--force", action="store_true", help="regrade even unchanged submissions")
    g.add_argument("--no-progress", action="store_true")
    f = sub.add_parser("feedback", help="write ROOT/feedback/<student>/<chapter>/<chapter>.html")
    _root(f)
    f.add_argument("chapters", nargs="*")
    f.add_argument("--student", nargs="+", default=None)
    e = sub.add_parser("export", help="write grades as CSV, one row per student")
    _root(e)
    e.add_argument("--csv", required=True, type=Path)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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

        return collect(args.path, args.root, chapter=args.chapter, source=args.source)
    if args.command == "grade":
        from autograder.grade import GradeError, Settings, run_grade

        s = Settings(root=args.root, source=args.source, jobs=args.jobs, timeout=args.timeout,
                     budget=args.budget, mem=args.mem * 2**20, cpu=args.cpu, hide=args.hide,
                     force=args.force, sandbox=args.sandbox)
        try:
            return run_grade(s, args.chapters or None, args.student, progress=not args.no_progress)
        except (GradeError, RuntimeError) as exc:
            print(exc, file=sys.stderr)
            return 1
    if args.command == "feedback":
        from autograder.feedback import feedback

        return feedback(args.root, args.source, args.chapters or None, args.student)
    if args.command == "export":
        from autograder.export import export_csv

        return export_csv(args.root, args.csv, source=args.source)
    return 2
