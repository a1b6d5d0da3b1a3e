"""Prepare a hub's shared state: the exchange, per-role configuration, the instructor's course root.

``python deploy/jupyterhub/setup_course.py --dir STATE [--exchange DIR] [--course-root DIR]``

* the nbgrader exchange, world-writable with the sticky bit as nbgrader documents
  (``chmod 1777``: students drop submissions in ``inbound/``; nobody can delete another's);
* ``STATE/user-config/{instructor,student}/``: the ``nbgrader_config.py`` each role's servers
  load (students submit under their hub name; instructors grade in the course root), and the
  server/lab settings that give the formgrader and "create assignment" tools to instructors only;
* the instructor's course root: a copy of ``solutions/`` and ``course/`` (nbgrader writes
  ``submitted/`` and the gradebook next to them, never into the repository).
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


def prepare(state: Path, exchange: Path, course_root: Path) -> None:
    state.mkdir(parents=True, exist_ok=True)
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--exchange", type=Path)
    ap.add_argument("--course-root", type=Path)
    a = ap.parse_args(argv)
    prepare(a.dir, a.exchange or a.dir / "exchange", a.course_root or a.dir / "course-root")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
