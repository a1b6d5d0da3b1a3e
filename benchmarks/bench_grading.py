"""Grading throughput: one student's full course, and a class graded with --jobs 1 versus 2.

    python benchmarks/bench_grading.py [--students 40] [--chapter ch01_objective_functions]

Builds a throwaway grading root (perfect and untouched submissions alternating), grades it
through the same code path as ``python -m autograder grade`` (sandbox included), and prints
seconds, notebooks per second and the jobs-1 / jobs-2 ratio.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "fixtures"))

import students as S  # noqa: E402

from autograder.grade import Settings, run_grade  # noqa: E402
from autograder.release import chapters, release  # noqa: E402


def _grade(root: Path, src: Path, jobs: int) -> float:
    t0 = time.perf_counter()
    with open("/dev/null", "w") as sink:
        rc = run_grade(Settings(root=root, source=src, jobs=jobs, timeout=120), out=sink, err=sink, progress=False)
    if rc != 0:
        raise SystemExit(f"grading failed (exit {rc}) in {root}")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--students", type=int, default=40)
    ap.add_argument("--chapter", default=None, help="chapter of the class run (default: the first)")
    ap.add_argument("--skip-course", action="store_true", help="skip the one-student full-course run")
    args = ap.parse_args()
    every = chapters()
    if not every:
        raise SystemExit("no chapter in solutions/")
    chapter = args.chapter or every[0]
    tmp = Path(tempfile.mkdtemp(prefix="dlcourse-bench-"))
    try:
        src = REPO / "solutions"
        course = tmp / "course"
        release(None, quiet=True, out=course)
        nbs = {ch: (S.load(course / ch / f"{ch}.ipynb"), S.load(src / ch / f"{ch}.ipynb")) for ch in every}
        if not args.skip_course:
            root = tmp / "one"
            for ch, (stu, sol) in nbs.items():
                S.write(root, "student", ch, S.perfect(stu, sol))
            secs = _grade(root, src, jobs=2)
            print(f"one student's full course: {len(every)} notebooks in {secs:.1f} s "
                  f"({secs / len(every):.2f} s per notebook, --jobs 2)")
        stu, sol = nbs[chapter]
        timings = {}
        for jobs in (1, 2):
            root = tmp / f"class{jobs}"
            for i in range(args.students):
                S.write(root, f"s{i:03d}", chapter, S.perfect(stu, sol) if i % 2 == 0 else stu)
            timings[jobs] = _grade(root, src, jobs=jobs)
            print(f"class of {args.students} on {chapter}, --jobs {jobs}: {timings[jobs]:.1f} s "
                  f"({args.students / timings[jobs]:.2f} notebooks/s)")
        print(f"speed-up --jobs 2 over --jobs 1: {timings[1] / timings[2]:.2f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
