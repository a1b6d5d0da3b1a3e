"""The course's JupyterHub configuration: one snippet for every hub (TLJH, Zero to JupyterHub, the demo).

It adds only what the course needs, and leaves the hub itself (address, database, cookie
secret, authenticator, allowed users, spawner, limits, culler) to whoever runs the hub:

* ``load_groups``: ``formgrade-<course>`` (instructors) and ``nbgrader-<course>`` (students),
  the groups nbgrader's hub integration reads;
* a ``pre_spawn_hook`` that gives each user their role's nbgrader configuration
  (``JUPYTER_CONFIG_PATH`` = ``<config_dirs>/instructor`` or ``/student``: the formgrader and
  "create assignment" tools for instructors only) and the course's exchange. It copies
  nothing into homes: a student's copy of a chapter is the one nbgrader's *Fetch* puts in
  ``~/<chapter>/``, one per assignment.

Settings (a JSON object) come from ``custom.dlcourse`` in the Helm values on Zero to
JupyterHub, else from the file ``$DLCOURSE_HUB_SETTINGS`` (default
``/srv/dlcourse-hub/course.json``, written by ``setup_course.py``)::

    {"course_id": "dl-fundamentals", "exchange": "/srv/nbgrader/exchange",
     "course_root": "/home/jupyter-teacher/course-root", "config_dirs": "/srv/dlcourse-hub/user-config",
     "instructors": ["teacher"], "students": ["alice", "bob"]}

TLJH: copy this file to ``/opt/tljh/config/jupyterhub_config.d/dlcourse.py``. Z2JH:
``--set-file hub.extraConfig.dlcourse=deploy/jupyterhub/dlcourse_hub.py``. The demo's
``jupyterhub_config.py`` loads it too.
"""
import json
import os
from pathlib import Path

# `c` is given by whoever loads this file (traitlets' load_subconfig, Z2JH's extraConfig, whose
# namespace shadows get_config with its own: do not call it here).
c = globals()["c"]


def _dlcourse_settings() -> dict:
    try:
        from z2jh import get_config as z2jh_config  # only in Zero to JupyterHub's hub image
    except ImportError:
        path = Path(os.environ.get("DLCOURSE_HUB_SETTINGS", "/srv/dlcourse-hub/course.json"))
        if not path.is_file():
            raise RuntimeError(f"dlcourse: no course settings at {path}; run deploy/jupyterhub/setup_course.py "
                               "(or set DLCOURSE_HUB_SETTINGS)") from None
        return json.loads(path.read_text())
    return z2jh_config("custom.dlcourse", {})


_DL = _dlcourse_settings()
_DL_COURSE = _DL.get("course_id", "dl-fundamentals")
_DL_INSTRUCTORS = set(_DL.get("instructors", []))

_groups = dict(c.JupyterHub.load_groups) if "load_groups" in c.JupyterHub else {}
_groups.update({
    "instructors": {"users": sorted(_DL_INSTRUCTORS)},
    f"formgrade-{_DL_COURSE}": {"users": sorted(_DL_INSTRUCTORS)},
    f"nbgrader-{_DL_COURSE}": {"users": sorted(_DL.get("students", []))},
})
c.JupyterHub.load_groups = _groups

_previous_hook = c.Spawner.pre_spawn_hook if "pre_spawn_hook" in c.Spawner else None


def dlcourse_pre_spawn_hook(spawner):
    """The role's nbgrader configuration and the exchange, through the environment; no files copied."""
    if callable(_previous_hook):
        _previous_hook(spawner)
    user = spawner.user.name
    groups = {g.name for g in getattr(spawner.user, "groups", [])}
    role = "instructor" if user in _DL_INSTRUCTORS or "instructors" in groups else "student"
    env = {
        "JUPYTER_CONFIG_PATH": os.path.join(_DL["config_dirs"], role),
        "DLHUB_COURSE_ID": _DL_COURSE,
        "DLHUB_EXCHANGE": _DL["exchange"],
        "MPLBACKEND": "module://ipympl.backend_nbagg",
    }
    if role == "instructor" and _DL.get("course_root"):
        env["DLHUB_COURSE_ROOT"] = _DL["course_root"]
    spawner.environment.update(env)


c.Spawner.pre_spawn_hook = dlcourse_pre_spawn_hook
