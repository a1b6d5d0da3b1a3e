"""Prepare a hub's shared state: the exchange, per-role configuration, the instructor's course root.

``python deploy/jupyterhub/setup_course.py --dir STATE [--exchange DIR] [--course-root DIR]``

* the nbgrader exchange, world-writable with the sticky bit as nbgrader documents
  (``chmod 1777``: students drop submissions in ``inbound/``; nobody can delete another's);
* ``STATE/user-config/{instructor,student}/``: the ``nbgrader_config.py`` each role's servers
  load (students submit under their hub name; instructors grade in the course root), and the
  server/lab settings that give the formgrader and "create assignment" tools to instructors only;
* the instructor's course root: a copy of ``solutions/`` and ``course/`` (nbgrader writes
  ``submitted/`` and the gradebook next to them, never into the repository), with the
  instructor's ``nbgrader_config.py`` in it (so ``dlcourse grade --root`` leaves it alone);
* ``STATE/course.json``: what ``dlcourse_hub.py`` (the hub's snippet) reads — course id,
  exchange, course root, the per-role config folders, instructors and students.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

STUDENT_CONFIG = '''import os
c = get_config()
c.CourseDirectory.course_id = os.environ["DLHUB_COURSE_ID"]
c.Exchange.root = os.environ["DLHUB_EXCHANGE"]
# Submissions are filed under the hub user name (with shared-account spawners the OS user is the same for all).
c.CourseDirectory.student_id = os.environ.get("JUPYTERHUB_USER", "*")
'''

INSTRUCTOR_CONFIG = '''import os
c = get_config()
c.CourseDirectory.course_id = os.environ["DLHUB_COURSE_ID"]
c.Exchange.root = os.environ["DLHUB_EXCHANGE"]
c.CourseDirectory.root = os.environ["DLHUB_COURSE_ROOT"]
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "course"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(os.environ["DLHUB_COURSE_ROOT"], "gradebook.db")
c.CollectApp.check_owner = False
'''

INSTRUCTOR_ONLY_SERVER = ["nbgrader.server_extensions.formgrader"]
INSTRUCTOR_ONLY_LAB = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                       "@jupyter/nbgrader:course-list"]


def settings(state: Path, exchange: Path, course_root: Path, instructors=("instructor",),
             students=("student1", "student2"), course_id: str = "dl-fundamentals") -> dict:
    return {"course_id": course_id, "exchange": str(exchange), "course_root": str(course_root),
            "config_dirs": str(state / "user-config"), "instructors": list(instructors), "students": list(students)}


def prepare(state: Path, exchange: Path, course_root: Path, instructors=("instructor",),
            students=("student1", "student2"), course_id: str = "dl-fundamentals") -> None:
    state.mkdir(parents=True, exist_ok=True)
    (state / "course.json").write_text(json.dumps(
        settings(state, exchange, course_root, instructors, students, course_id), indent=1) + "\n")
    exchange.mkdir(parents=True, exist_ok=True)
    os.chmod(exchange, 0o1777)
    for role, text in (("student", STUDENT_CONFIG), ("instructor", INSTRUCTOR_CONFIG)):
        d = state / "user-config" / role
        (d / "labconfig").mkdir(parents=True, exist_ok=True)
        (d / "nbgrader_config.py").write_text(text)
        enabled = role == "instructor"
        (d / "jupyter_server_config.json").write_text(json.dumps(
            {"ServerApp": {"jpserver_extensions": {ext: enabled for ext in INSTRUCTOR_ONLY_SERVER}}}, indent=1))
        (d / "labconfig" / "page_config.json").write_text(json.dumps(
            {"disabledExtensions": {ext: not enabled for ext in INSTRUCTOR_ONLY_LAB}}, indent=1))
    course_root.mkdir(parents=True, exist_ok=True)
    for sub in ("solutions", "course"):
        dest = course_root / sub
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(REPO / sub, dest)
    (course_root / "nbgrader_config.py").write_text(INSTRUCTOR_CONFIG)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=Path, required=True, help="the hub's course state (e.g. /srv/dlcourse-hub)")
    ap.add_argument("--exchange", type=Path, help="nbgrader's exchange (default DIR/exchange)")
    ap.add_argument("--course-root", type=Path, help="the instructor's nbgrader course root (inside their home)")
    ap.add_argument("--instructors", default="instructor", help="comma-separated hub user names of the instructors")
    ap.add_argument("--students", default="", help="comma-separated hub user names of the students (nbgrader's group)")
    ap.add_argument("--course-id", default="dl-fundamentals", help="nbgrader's course id")
    a = ap.parse_args(argv)
    split = lambda text: [u for u in text.split(",") if u]  # noqa: E731
    prepare(a.dir, a.exchange or a.dir / "exchange", a.course_root or a.dir / "course-root",
            split(a.instructors), split(a.students), a.course_id)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
