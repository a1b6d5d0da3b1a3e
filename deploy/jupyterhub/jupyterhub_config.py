"""JupyterHub configuration for the course: instructors and students, nbgrader's exchange.

Two modes, chosen by ``DLHUB_MODE``:

* ``server`` (default) — a plain JupyterHub on one machine: system users spawned by
  ``LocalProcessSpawner`` (each student's files belong to that student), your institution's
  authenticator, the formgrader for the instructor group only. (On The Littlest JupyterHub
  do not use this file: copy only ``dlcourse_hub.py`` into ``jupyterhub_config.d/``.)
* ``demo`` — what ``make hub`` starts: everything on 127.0.0.1, JupyterHub's
  ``DummyAuthenticator`` and ``SimpleLocalProcessSpawner`` (both shipped for testing), one
  instructor and two students whose homes live under ``DLHUB_DIR``. Never expose it.

The course's part (groups, each role's nbgrader configuration) is ``dlcourse_hub.py``, loaded
below with the settings ``setup_course.py`` wrote to ``DLHUB_DIR/course.json``. The hub's
part is set here from environment variables: ``DLHUB_INSTRUCTORS`` and ``DLHUB_STUDENTS``
(comma-separated user names), ``DLHUB_DIR`` (state: database, cookie secret, homes in demo
mode), ``DLHUB_PORT``, ``DLHUB_API_TOKEN`` (a service token for scripts and the tests).
See ``deploy/jupyterhub/README.md``.
"""
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 - provided by JupyterHub

HERE = Path(__file__).resolve().parent
MODE = os.environ.get("DLHUB_MODE", "server")
STATE = Path(os.environ.get("DLHUB_DIR", "/srv/dlcourse-hub"))
INSTRUCTORS = [u for u in os.environ.get("DLHUB_INSTRUCTORS", "instructor").split(",") if u]
STUDENTS = [u for u in os.environ.get("DLHUB_STUDENTS", "student1,student2").split(",") if u]
PORT = int(os.environ.get("DLHUB_PORT", "8000"))

# --- the hub itself ---------------------------------------------------------------------------
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
_chp = HERE / "node_modules" / ".bin" / "configurable-http-proxy"
if _chp.exists():
    c.ConfigurableHTTPProxy.command = [str(_chp)]

c.Authenticator.allowed_users = set(INSTRUCTORS + STUDENTS)
c.Authenticator.admin_users = set(INSTRUCTORS)
_token = os.environ.get("DLHUB_API_TOKEN")
if _token:
    c.JupyterHub.services = [{"name": "course-admin", "api_token": _token}]
    c.JupyterHub.load_roles = [{
        "name": "course-admin",
        "scopes": ["admin:users", "admin:servers", "access:servers", "list:users", "read:users"],
        "services": ["course-admin"],
    }]

c.Spawner.default_url = "/lab"  # students fetch each chapter (Assignments tab) into ~/<chapter>/
c.Spawner.http_timeout = 60
c.Spawner.start_timeout = 90

if MODE == "demo":
    c.JupyterHub.bind_url = f"http://127.0.0.1:{PORT}"
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = int(os.environ.get("DLHUB_HUB_PORT", "0")) or PORT + 1
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{int(os.environ.get('DLHUB_PROXY_API_PORT', PORT + 2))}"
    c.JupyterHub.authenticator_class = "dummy"
    c.JupyterHub.spawner_class = "simple"
    c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "home" / "{username}")
    c.Spawner.ip = "127.0.0.1"
    # The demo's single-user servers run from this project's environment.
    c.Spawner.cmd = [str(Path(sys.executable).with_name("jupyterhub-singleuser"))]
    if os.getuid() == 0:  # the demo's shared account may be root (containers, CI)
        c.Spawner.args = ["--allow-root"]
else:
    c.JupyterHub.bind_url = f"http://:{PORT}"


# --- the course: groups and each role's nbgrader configuration (the snippet TLJH and Z2JH load too)
os.environ.setdefault("DLCOURSE_HUB_SETTINGS", str(STATE / "course.json"))  # written by setup_course.py
load_subconfig(str(HERE / "dlcourse_hub.py"))  # noqa: F821 - provided by traitlets
if MODE != "demo":
    c.Spawner.notebook_dir = "~"
