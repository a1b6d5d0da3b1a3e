"""Grading throughput: one student's full course, and a class graded with --jobs 1 versus 2,
and on a local Dask cluster of 1 and 2 workers; where a notebook's grading time goes.

    python benchmarks/bench_grading.py [--students 40] [--chapter ch01_objective_functions | all]
                                       [--baseline GIT-REV] [--jobs 1,2] [--dask 1,2]

``--chapter all`` grades the class on every chapter (the issue-17 figure: 40 students x 8
chapters). After each run it prints the per-stage breakdown, mean seconds per notebook:
``kernel`` (the student's notebook in the sandbox kernel, start to shutdown; ``kernel_cells``
of it running cells), ``trusted`` (the scoring process, which runs beside the kernel),
``trusted_wait`` (what the notebook still waited for it after the kernel was done) and
``nbgrader`` (everything else in nbgrader's autograde: its passes, the gradebook).

``--baseline REV`` first runs the same class with the grader as it was at ``REV`` (a git
worktree of it, same interpreter, same machine, one run right after the other) and prints the
ratio of today's time to the baseline's for each ``--jobs``: the way to check a change against
a throughput budget (trusted scoring: at most 1.5x the in-kernel grading of f4f5d25).

Builds a throwaway grading root (perfect and untouched submissions alternating), grades it
through the same code path as ``python -m autograder grade`` (sandbox included), and prints
seconds, notebooks per second and the jobs-1 / jobs-2 ratio.
"""
from __future__ import annotations

import argparse
import os
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


def _grade(root: Path, src: Path, jobs: int, perfect: set[str], cluster: str = "") -> float:
    t0 = time.perf_counter()
    extra = {"cluster": cluster} if cluster else {}
    with open("/dev/null", "w") as sink:
        rc = run_grade(Settings(root=root, source=src, jobs=jobs, timeout=120, **extra), out=sink, err=sink,
                       progress=False)
    if rc != 0:
        raise SystemExit(f"grading failed (exit {rc}) in {root}")
    secs = time.perf_counter() - t0
    # A benchmark of a grader that scores nothing measures nothing: every perfect notebook must earn
    # every autograded point (the written answers wait for a human).
    import json

    for p in (root / ".autograder" / "results").glob("*/*.json"):
        r = json.loads(p.read_text())
        nb = json.loads((src / r["chapter"] / f"{r['chapter']}.ipynb").read_text())
        auto = sum(float(c["metadata"]["nbgrader"]["points"]) for c in nb["cells"] if c["cell_type"] == "code"
                   and c.get("metadata", {}).get("nbgrader", {}).get("grade"))
        if r["student"] in perfect and r["score"] != auto:
            raise SystemExit(f"{r['student']}/{r['chapter']}: a perfect notebook scored {r['score']} of its {auto} "
                             f"autograded points in {root}: the benchmark is not grading")
    return secs


def _stages(root: Path) -> str:
    """Mean seconds per notebook in each stage (results written by this version's grader)."""
    import json

    sums: dict[str, float] = {}
    n = 0
    for p in (root / ".autograder" / "results").glob("*/*.json"):
        st = json.loads(p.read_text()).get("stages") or {}
        if st:
            n += 1
            for k, v in st.items():
                sums[k] = sums.get(k, 0.0) + v
    if not n:
        return "  (no per-stage times: this grader does not record them)"
    order = ["kernel", "kernel_cells", "trusted", "trusted_wait", "nbgrader"]
    return "  per notebook: " + ", ".join(f"{k} {sums[k] / n:.2f} s" for k in order if k in sums)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--students", type=int, default=40)
    ap.add_argument("--chapter", default=None, help="chapter of the class run (default: the first)")
    ap.add_argument("--skip-course", action="store_true", help="skip the one-student full-course run")
    ap.add_argument("--baseline", default=None, help="git revision to run the same class with first")
    ap.add_argument("--jobs", default="1,2", help="comma-separated --jobs values for the class run")
    ap.add_argument("--dask", default="", help="comma-separated Dask worker counts (local cluster) for the class run")
    args = ap.parse_args()
    jobs_list = [int(j) for j in args.jobs.split(",") if j]
    dask_list = [int(j) for j in args.dask.split(",") if j]
    base_times = _baseline(args, jobs_list) if args.baseline else {}
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
            secs = _grade(root, src, jobs=2, perfect={"student"})
            print(f"one student's full course: {len(every)} notebooks in {secs:.1f} s "
                  f"({secs / len(every):.2f} s per notebook, --jobs 2)")
        class_chapters = every if chapter == "all" else [chapter]
        n_nb = args.students * len(class_chapters)
        label = f"class of {args.students} on {chapter if chapter != 'all' else f'all {len(every)} chapters'}"
        perfect = {f"s{i:03d}" for i in range(0, args.students, 2)}

        def make_class(root: Path) -> None:
            for ch in class_chapters:
                stu, sol = nbs[ch]
                for i in range(args.students):
                    S.write(root, f"s{i:03d}", ch, S.perfect(stu, sol) if i % 2 == 0 else stu)

        timings = {}
        for jobs in jobs_list:
            root = tmp / f"class{jobs}"
            make_class(root)
            timings[jobs] = _grade(root, src, jobs=jobs, perfect=perfect)
            print(f"{label}, --jobs {jobs}: {timings[jobs]:.1f} s ({n_nb / timings[jobs]:.2f} notebooks/s, "
                  f"{n_nb} notebooks)")
            print(_stages(root))
        for workers in dask_list:
            root = tmp / f"dask{workers}"
            make_class(root)
            secs = _grade(root, src, jobs=0, perfect=perfect, cluster=f"local:{workers}")
            print(f"{label}, Dask local cluster of {workers} worker(s): {secs:.1f} s ({n_nb / secs:.2f} notebooks/s)")
            print(_stages(root))
        if 1 in timings and 2 in timings:
            print(f"speed-up --jobs 2 over --jobs 1: {timings[1] / timings[2]:.2f}x")
        for jobs, secs in sorted(base_times.items()):
            if jobs in timings:
                print(f"--jobs {jobs}: {timings[jobs]:.1f} s now vs {secs:.1f} s at {args.baseline}: "
                      f"{timings[jobs] / secs:.2f}x the baseline's time")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _baseline(args, jobs_list) -> dict[int, float]:
    """Run this benchmark's class as the grader was at ``args.baseline``; {jobs: seconds}."""
    import re
    import subprocess

    wt = Path(tempfile.mkdtemp(prefix="dlcourse-bench-base-")) / "tree"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(wt), args.baseline], check=True)
    try:
        # This script, run against the baseline's grader and chapters (so both sides take the same
        # class options; it only uses what every grader since f4f5d25 has).
        shutil.copyfile(Path(__file__), wt / "benchmarks" / "bench_grading_now.py")
        cmd = [sys.executable, str(wt / "benchmarks" / "bench_grading_now.py"), "--students", str(args.students),
               "--skip-course", "--jobs", args.jobs] + (["--chapter", args.chapter] if args.chapter else [])
        # The baseline's grading pipeline runs from the worktree; its kernels start through the installed
        # launcher (this checkout's autograder.sandbox, the same kernel sandbox) and import the installed
        # dlcore: a PYTHONPATH pointing at the worktree would bind its dlcore while the kernel (whose
        # environment the sandbox clears) imports the installed one, and every notebook would fail.
        out = subprocess.run(cmd, cwd=wt, capture_output=True, text=True, check=True).stdout
        times = {}
        for line in out.splitlines():
            print(f"baseline {args.baseline}: {line}")
            m = re.search(r"--jobs (\d+): ([0-9.]+) s", line)
            if m and int(m.group(1)) in jobs_list:
                times[int(m.group(1))] = float(m.group(2))
        return times
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(wt)], check=False)
        shutil.rmtree(wt.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
