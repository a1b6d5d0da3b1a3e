"""A local demo hub on 127.0.0.1 (``make hub``): one instructor, two students, nbgrader's exchange.

``python deploy/jupyterhub/demo.py [--dir DIR] [--port 8000]`` installs the proxy from npm when
it is missing (``deploy/jupyterhub/package.json``), prepares the exchange and the instructor's
course root under DIR, and runs JupyterHub in the foreground. Log in at the printed address as
``instructor``, ``student1`` or ``student2`` with any password (DummyAuthenticator).
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from setup_course import prepare  # noqa: E402

CHP = HERE / "node_modules" / ".bin" / "configurable-http-proxy"


def course_root(state: Path, instructor: str = "instructor") -> Path:
    """nbgrader wants the course root inside the instructor's server root (their home)."""
    return state / "home" / instructor / "course-root"


def ensure_proxy() -> Path:
    """Install configurable-http-proxy from the npm registry (pinned by package-lock.json)."""
    if CHP.exists():
        return CHP
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("hub: npm is not installed; install Node.js (apt-get install nodejs npm) and retry")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=HERE, check=True)
    return CHP


def hub_env(state: Path, port: int, token: str, instructors=("instructor",), students=("student1", "student2")) -> dict:
    env = dict(os.environ)
    env.update({
        "DLHUB_MODE": "demo",
        "DLHUB_DIR": str(state),
        "DLHUB_EXCHANGE": str(state / "exchange"),
        "DLHUB_COURSE_ROOT": str(course_root(state)),
        "DLHUB_PORT": str(port),
        "DLHUB_API_TOKEN": token,
        "DLHUB_INSTRUCTORS": ",".join(instructors),
        "DLHUB_STUDENTS": ",".join(students),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    })
    return env


def hub_command(state: Path) -> list[str]:
    return [sys.executable, "-m", "jupyterhub", "-f", str(HERE / "jupyterhub_config.py")]


def start(state: Path, port: int, token: str | None = None, **popen) -> tuple[subprocess.Popen, str]:
    """Prepare and start the demo hub in the background (its own process group); return (proc, token)."""
    ensure_proxy()
    state.mkdir(parents=True, exist_ok=True)
    prepare(state, state / "exchange", course_root(state))
    token = token or secrets.token_hex(16)
    proc = subprocess.Popen(hub_command(state), env=hub_env(state, port, token), cwd=state,
                            start_new_session=True, **popen)
    return proc, token


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "dlcourse-hub-demo")
    ap.add_argument("--port", type=int, default=8000)
    a = ap.parse_args(argv)
    ensure_proxy()
    prepare(a.dir, a.dir / "exchange", course_root(a.dir))
    token = secrets.token_hex(16)
    print(f"hub: http://127.0.0.1:{a.port}/ — log in as instructor, student1 or student2 (any password)")
    print(f"hub: state in {a.dir}; instructor's course root {course_root(a.dir)}")
    os.chdir(a.dir)
    cmd = hub_command(a.dir)
    os.execve(cmd[0], cmd, hub_env(a.dir, a.port, token))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
