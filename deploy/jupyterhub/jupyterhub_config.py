"""JupyterHub configuration for the course: instructors and students, nbgrader's exchange.

Two modes, chosen by ``DLHUB_MODE``:

* ``server`` (default) — a real course hub on one machine (The Littlest JupyterHub style):
  system users spawned by ``LocalProcessSpawner`` (each student's files belong to that
  student), your institution's authenticator, the exchange at ``DLHUB_EXCHANGE``
  (``/srv/nbgrader/exchange``), the formgrader for the instructor group only.
* ``demo`` — what ``make hub`` starts: everything on 127.0.0.1, JupyterHub's
  ``DummyAuthenticator`` and ``SimpleLocalProcessSpawner`` (both shipped for testing), one
  instructor and two students whose homes live under ``DLHUB_DIR``. Never expose it.

Settings (environment variables): ``DLHUB_INSTRUCTORS`` and ``DLHUB_STUDENTS`` (comma-separated
user names), ``DLHUB_DIR`` (state: database, cookie secret, homes in demo mode),
``DLHUB_EXCHANGE``, ``DLHUB_COURSE_ROOT`` (the instructor's nbgrader course directory: a copy
of this repository's ``solutions/``, ``course/``, and where ``submitted/`` lands),
``DLHUB_PORT``, ``DLHUB_API_TOKEN`` (a service token for scripts and the tests).
See ``deploy/jupyterhub/README.md``.
"""
import os
import shutil
import sys
from pathlib import Path

c = get_config()  # noqa: F821 - provided by JupyterHub

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
MODE = os.environ.get("DLHUB_MODE", "server")
STATE = Path(os.environ.get("DLHUB_DIR", "/srv/dlcourse-hub"))
EXCHANGE = Path(os.environ.get("DLHUB_EXCHANGE", str(STATE / "exchange" if MODE == "demo" else "/srv/nbgrader/exchange")))
COURSE_ID = os.environ.get("DLHUB_COURSE_ID", "dl-fundamentals")
COURSE_ROOT = Path(os.environ.get("DLHUB_COURSE_ROOT", str(STATE / "course-root")))
INSTRUCTORS = [u for u in os.environ.get("DLHUB_INSTRUCTORS", "instructor").split(",") if u]
STUDENTS = [u for u in os.environ.get("DLHUB_STUDENTS", "student1,student2").split(",") if u]
PORT = int(os.environ.get("DLHUB_PORT", "8000"))
CONFIG_DIRS = STATE / "user-config"

# --- the hub itself ---------------------------------------------------------------------------
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
_chp = HERE / "node_modules" / ".bin" / "configurable-http-proxy"
if _chp.exists():
    c.ConfigurableHTTPProxy.command = [str(_chp)]

c.Authenticator.allowed_users = set(INSTRUCTORS + STUDENTS)
c.Authenticator.admin_users = set(INSTRUCTORS)
c.JupyterHub.load_groups = {
    "instructors": {"users": INSTRUCTORS},
    f"formgrade-{COURSE_ID}": {"users": INSTRUCTORS},
    f"nbgrader-{COURSE_ID}": {"users": STUDENTS},
}
_token = os.environ.get("DLHUB_API_TOKEN")
if _token:
    c.JupyterHub.services = [{"name": "course-admin", "api_token": _token}]
    c.JupyterHub.load_roles = [{
        "name": "course-admin",
        "scopes": ["admin:users", "admin:servers", "access:servers", "list:users", "read:users"],
        "services": ["course-admin"],
    }]

c.Spawner.default_url = "/lab/tree/course"
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
    c.Spawner.notebook_dir = "~"


def _role(username: str) -> str:
    return "instructor" if username in INSTRUCTORS else "student"


def pre_spawn_hook(spawner):
    """Give each user the right nbgrader configuration and a copy of course/ in their home."""
    user = spawner.user.name
    role = _role(user)
    home = Path(getattr(spawner, "home_dir", "") or os.path.expanduser(f"~{user}"))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "course").exists():
        shutil.copytree(REPO / "course", home / "course")
    spawner.environment.update({
        "JUPYTER_CONFIG_PATH": str(CONFIG_DIRS / role),
        "DLHUB_COURSE_ID": COURSE_ID,
        "DLHUB_EXCHANGE": str(EXCHANGE),
        "DLHUB_COURSE_ROOT": str(COURSE_ROOT),
        "MPLBACKEND": "module://ipympl.backend_nbagg",
    })
    if role == "instructor":
        spawner.notebook_dir = str(home)


c.Spawner.pre_spawn_hook = pre_spawn_hook
