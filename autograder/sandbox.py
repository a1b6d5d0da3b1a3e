"""The grading kernel: ipykernel inside bubblewrap, bounded in memory and CPU time.

``install_kernelspec(dir)`` writes a kernelspec ``dlcourse-sandbox`` whose ``argv`` runs this
module; the module applies resource limits to itself and then ``exec``s
``bwrap … python -m ipykernel_launcher``. The worker that grades a submission describes the
sandbox through environment variables (the kernel inherits them):

* ``DLCOURSE_SANDBOX_HIDE`` – paths (``os.pathsep``-separated) replaced by an empty tmpfs
  (directories) or ``/dev/null`` (files): the solutions, the grading root (gradebook, other
  students, autograded notebooks), ``.git``.
* ``DLCOURSE_SANDBOX_CWD`` / ``DLCOURSE_SANDBOX_CWD_SRC`` – the kernel's working directory
  and the student's own submitted folder bound read-only onto it.
* ``DLCOURSE_SANDBOX_MEM`` (bytes) / ``DLCOURSE_SANDBOX_CPU`` (seconds).
* ``DLCOURSE_SANDBOX_MODE`` – ``bwrap`` or ``limits`` (no bubblewrap: limits only).
* ``DLCOURSE_SANDBOX_RUNTIME`` – the worker's private directory holding the IPC sockets.
* ``DLCOURSE_SANDBOX_LOG`` – where the kernel process's own stdout/stderr go.

The network is cut (``--unshare-net``), other processes are invisible (``--unshare-pid``) and
every capability is dropped (so the kernel cannot unmount what hides the solutions, even when
the grader runs as root); the kernel talks to the grader over IPC sockets in a
private runtime directory that is the only writable place besides a fresh ``/tmp``.
bubblewrap does not forward SIGINT, so the kernelspec interrupts by message.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

KERNEL_NAME = "dlcourse-sandbox"
_PROBE: dict[str, bool] = {}


def bwrap_works() -> bool:
    """True when bubblewrap is installed and can build a sandbox here (cached)."""
    if "ok" not in _PROBE:
        exe = shutil.which("bwrap")
        ok = False
        if exe:
            try:
                ok = subprocess.run([exe, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                                     "--unshare-net", "--die-with-parent", "true"],
                                    capture_output=True, timeout=20).returncode == 0
            except (OSError, subprocess.SubprocessError):
                ok = False
        _PROBE["ok"] = ok
    return _PROBE["ok"]


def install_kernelspec(jupyter_dir: Path) -> Path:
    """Write ``<jupyter_dir>/kernels/dlcourse-sandbox/kernel.json``; put jupyter_dir on JUPYTER_PATH."""
    kdir = Path(jupyter_dir) / "kernels" / KERNEL_NAME
    kdir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "autograder.sandbox", "-f", "{connection_file}"],
        "display_name": "dl-course grading sandbox",
        "language": "python",
        "interrupt_mode": "message",
        "env": {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "MPLBACKEND": "agg", "MPLCONFIGDIR": "/tmp/mpl", "IPYTHONDIR": "/tmp/ipython",
                "PYTHONDONTWRITEBYTECODE": "1"},
        "metadata": {"debugger": False},
    }
    text = json.dumps(spec, indent=1, sort_keys=True)
    path = kdir / "kernel.json"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def bwrap_argv(hide: list[str], cwd: str | None, cwd_src: str | None, runtime_dir: str,
               connection_file: str | None = None) -> list[str]:
    """The bubblewrap command line (without the program to run).

    ``runtime_dir`` (the worker's private directory for IPC sockets) is bound writable; the
    connection file is bound read-only on its own, wherever jupyter_client put it.
    """
    argv = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
            "--unshare-net", "--unshare-ipc", "--unshare-pid", "--unshare-uts", "--die-with-parent",
            "--new-session",
            # Run as root, bwrap would keep every capability: a student could simply umount the
            # tmpfs over solutions/, or reach the grader's files through /proc/<pid>/root.
            "--cap-drop", "ALL"]
    # The fresh /tmp must not hide the code the kernel runs: a checkout or virtual environment
    # that lives under /tmp (CI clones often do) is bound back, read-only, before the hiding.
    for keep in dict.fromkeys(os.path.realpath(p) for p in (_REPO, sys.prefix, sys.base_prefix)):
        if keep == "/tmp" or keep.startswith("/tmp/"):
            argv += ["--ro-bind", keep, keep]
    emptied = []
    for path in hide:
        if not path or not os.path.lexists(path):
            continue
        if os.path.isdir(path):
            argv += ["--tmpfs", path]
            emptied.append(path)
        else:
            argv += ["--ro-bind", "/dev/null", path]
    argv += ["--bind", runtime_dir, runtime_dir]
    if connection_file and not os.path.abspath(connection_file).startswith(os.path.abspath(runtime_dir) + os.sep):
        argv += ["--ro-bind", connection_file, connection_file]
    if cwd and cwd_src and os.path.isdir(cwd_src):
        argv += ["--ro-bind", cwd_src, cwd, "--chdir", cwd]
    elif cwd:
        argv += ["--dir", cwd, "--chdir", cwd]
    for path in emptied:  # an empty, read-only stand-in: nothing to read, nowhere to write
        argv += ["--remount-ro", path]
    return argv


def _limits() -> None:
    mem = int(os.environ.get("DLCOURSE_SANDBOX_MEM", str(3 * 2**30)))
    cpu = int(os.environ.get("DLCOURSE_SANDBOX_CPU", "300"))
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 2**20, 256 * 2**20))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main(argv: list[str]) -> None:
    """Kernel launcher: ``python -m autograder.sandbox -f CONNECTION_FILE [ipykernel args]``."""
    conn = argv[argv.index("-f") + 1]
    kernel = [sys.executable, "-m", "ipykernel_launcher", *argv]
    mode = os.environ.get("DLCOURSE_SANDBOX_MODE", "bwrap")
    _limits()
    # The kernel's own stdout/stderr (start-up banner, crash reports) go to a log, not to the
    # grader's terminal; what the student's cells print travels over the kernel protocol.
    log = os.environ.get("DLCOURSE_SANDBOX_LOG", os.devnull)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    if mode == "bwrap":
        hide = [p for p in os.environ.get("DLCOURSE_SANDBOX_HIDE", "").split(os.pathsep) if p]
        runtime = os.environ.get("DLCOURSE_SANDBOX_RUNTIME") or os.path.dirname(os.path.abspath(conn))
        if os.path.abspath(runtime) in ("/", "/tmp", os.path.expanduser("~")):
            raise SystemExit(f"autograder.sandbox: refusing to bind {runtime} into the sandbox")
        # In the new pid namespace the kernel's parent is bwrap's init (pid 1), which ipykernel's
        # parent poller reads as "orphaned"; --die-with-parent does that job instead.
        os.environ.pop("JPY_PARENT_PID", None)
        cmd = bwrap_argv(hide, os.environ.get("DLCOURSE_SANDBOX_CWD"), os.environ.get("DLCOURSE_SANDBOX_CWD_SRC"),
                         runtime, os.path.abspath(conn)) + ["--", *kernel]
        os.execvp(cmd[0], cmd)
    os.execv(kernel[0], kernel)


if __name__ == "__main__":
    main(sys.argv[1:])
