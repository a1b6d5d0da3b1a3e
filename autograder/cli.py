"""Command line: ``python -m autograder <command>`` (see ``--help``)."""
from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("release", help="generate course/ (student notebooks) from solutions/")
    r.add_argument("chapters", nargs="*", help="chapter ids such as ch01_objective_functions (default: all)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "release":
        from autograder.release import ReleaseError, release

        try:
            written = release(args.chapters or None, quiet=True)
        except ReleaseError as exc:
            print(exc, file=sys.stderr)
            return 1
        for path in written:
            print(f"released {path}")
        return 0
    return 2
