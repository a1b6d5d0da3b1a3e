"""The grading kernel: ipykernel inside bubblewrap, allow-listed, every resource bounded.

``install_kernelspec(dir)`` writes a kernelspec ``dlcourse-sandbox`` whose ``argv`` runs this
module. The module is a small **supervisor**: it starts ``bwrap … python -m ipykernel_launcher``
as its child, drains the kernel's own stdout/stderr (bounded), enforces the limits that the
kernel cannot lift, and when the kernel ends (or is killed by jupyter_client) it kills every
process left in the sandbox and writes a status file for the grader.

What the kernel sees (deny by default; the allow-list is :func:`bwrap_argv`):

* read-only: the operating system's ``/usr`` (and the ``/bin``, ``/lib…`` links into it), a few
  files of ``/etc`` (the loader cache, time zone, fonts) and a synthetic ``/etc/passwd``; the
  Python interpreter and its packages (``sys.base_prefix``, ``sys.prefix``); the ``dlcore``
  package; the student's own submitted folder, as its working directory;
* writable: a fresh ``/tmp`` of bounded size (also ``$HOME``), and the per-task runtime folder
  that holds the kernel's IPC sockets (its size is watched);
* nothing else: not the grading root, not ``solutions/``, not the instructor's home, not
  ``/etc/shadow``, no host Unix sockets. The environment is cleared (``--clearenv``) and only
  a few variables are set. ``/proc/sys`` is read-only; network, IPC, PID, UTS and cgroup
  namespaces are new; every capability is dropped.

Where the grader runs as root, the sandbox runs as a dedicated unprivileged uid
(``UID_BASE + worker slot``), so even a file the allow-list missed is read with no
privilege, and the per-uid process limit is exact.

Limits per submission: processes (``RLIMIT_NPROC`` for the dedicated uid, a cgroup ``pids.max``
where cgroups are writable, else the watchdog counts the sandbox's process tree), memory
summed over every process (a cgroup ``memory`` limit where available, else the watchdog sums
their resident memory; ``RLIMIT_AS`` per process on top, so one huge array is a clean
``MemoryError``), CPU seconds, file size, no core dumps, ``/tmp`` size, runtime-folder size,
and the bytes of the kernel's own stdout/stderr that are kept. Wall time per cell is enforced
by the grader (:class:`autograder.preprocessors.SandboxExecute`), which kills the kernel when
an interrupt does not stop it.

Configuration comes from environment variables that the grading worker sets (the kernel
launcher inherits them; the kernel itself does not): ``DLCOURSE_SANDBOX_MODE`` (``bwrap`` or
``limits``), ``_RUNTIME``, ``_STATUS``, ``_LOG``, ``_CWD`` / ``_CWD_SRC``, ``_MEM``, ``_CPU``,
``_NPROC``, ``_TMP``, ``_SCRATCH``, ``_SLOT``, ``_UID_BASE``, ``_PARENT`` (the pid of the grading process that
starts the supervisor: a supervisor whose parent is no longer that process kills its sandbox).

bubblewrap does not forward SIGINT, so the kernelspec interrupts by message.
"""
from __future__ import annotations

import importlib.util
import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

KERNEL_NAME = "dlcourse-sandbox"
UID_BASE = 1_900_000_000
_PROBE: dict[str, bool] = {}
_MiB = 2**20


@dataclass
class Limits:
    mem: int = 3 * 2**30        # bytes, summed over every process of the sandbox
    cpu: int = 300              # CPU seconds per process
    nproc: int = 64             # processes and threads
    tmp: int = 256 * _MiB       # bytes of /tmp (and $HOME)
    scratch: int = 16 * _MiB    # bytes in the runtime folder (the IPC sockets need none)
    fsize: int = 64 * _MiB      # largest file the kernel may write
    log: int = 64 * 1024        # bytes of the kernel's own stdout/stderr kept for the instructor

    @classmethod
    def from_env(cls) -> "Limits":
        d = cls()
        env = os.environ.get
        return cls(mem=int(env("DLCOURSE_SANDBOX_MEM", d.mem)), cpu=int(env("DLCOURSE_SANDBOX_CPU", d.cpu)),
                   nproc=int(env("DLCOURSE_SANDBOX_NPROC", d.nproc)), tmp=int(env("DLCOURSE_SANDBOX_TMP", d.tmp)),
                   scratch=int(env("DLCOURSE_SANDBOX_SCRATCH", d.scratch)))


# ----------------------------------------------------------------------------- probing
def bwrap_works() -> bool:
    """True when bubblewrap is installed and can build this sandbox here (cached)."""
    if "ok" not in _PROBE:
        import tempfile

        ok = False
        if shutil.which("bwrap"):
            with tempfile.TemporaryDirectory(prefix="dlcourse-probe-") as tmp:
                etc, run = os.path.join(tmp, "etc"), os.path.join(tmp, "run")
                os.mkdir(run)
                _write_etc(etc, os.geteuid())
                uid = UID_BASE if os.geteuid() == 0 else None
                argv = bwrap_argv(runtime=run, etc_dir=etc, cwd=None, cwd_src=None, tmp_bytes=_MiB, binds=[], uid=uid)
                try:
                    ok = subprocess.run(argv + ["--", "/bin/sh", "-c", "exit 0"], capture_output=True,
                                        timeout=20).returncode == 0
                except (OSError, subprocess.SubprocessError):
                    ok = False
        _PROBE["ok"] = ok
    return _PROBE["ok"]


def lost_protections(mode: str) -> list[str]:
    """What a submission can do under ``mode`` that it cannot do in the full sandbox."""
    lost = []
    if mode != "bwrap":
        lost += ["read every file the grader's user can read (solutions/, hidden tests, the gradebook, "
                 "other students' submissions) and print it into its feedback",
                 "write to the gradebook and other students' results",
                 "reach the real dlcore (its reference implementations) from the process that is graded, "
                 "by putting the repository back on sys.path",
                 "use the network and see the grader's environment variables and processes"]
    if not Cgroups.available():
        lost += ["hold more memory in total than --mem by forking (a watchdog sums the processes' "
                 "memory every 0.2 s and kills the sandbox instead)"]
    if os.geteuid() != 0:
        lost += ["fork up to the process limit counted with the grader's own processes (a watchdog "
                 "counts the sandbox's processes instead)"]
    return lost


def install_kernelspec(jupyter_dir: Path) -> Path:
    """Write ``<jupyter_dir>/kernels/dlcourse-sandbox/kernel.json``; put jupyter_dir on JUPYTER_PATH."""
    kdir = Path(jupyter_dir) / "kernels" / KERNEL_NAME
    kdir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "autograder.sandbox", "-f", "{connection_file}"],
        "display_name": "dl-course grading sandbox",
        "language": "python",
        "interrupt_mode": "message",
        "metadata": {"debugger": False},
    }
    text = json.dumps(spec, indent=1, sort_keys=True)
    path = kdir / "kernel.json"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


# ----------------------------------------------------------------------------- what the kernel sees
def kernel_env(venv_bin: str) -> dict[str, str]:
    """The kernel's whole environment (everything else is cleared)."""
    return {"PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp/home", "USER": "student",
            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TMPDIR": "/tmp", "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline", "MPLCONFIGDIR": "/tmp/home/.mpl",
            "IPYTHONDIR": "/tmp/home/.ipython", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1"}


def python_paths() -> list[str]:
    """Directories the interpreter and the course's packages live in (bound read-only)."""
    paths = [sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable))]
    spec = importlib.util.find_spec("dlcore")
    if spec is not None and spec.submodule_search_locations:
        paths += list(spec.submodule_search_locations)
    out: list[str] = []
    for p in sorted({os.path.realpath(p) for p in paths}):
        if not any(p == q or p.startswith(q + os.sep) for q in out):
            out.append(p)
    return out


_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/fonts")


_DROP = ("import os, sys; u = int(sys.argv[1]); os.setgroups([]); os.setgid(u); os.setuid(u); "
         "os.execv(sys.argv[2], sys.argv[2:])")


def program_binds(lib: str) -> tuple[list[str], list[str], dict[str, str]]:
    """For the trusted-scoring runner: what to bind read-only (the interpreter and its packages,
    and ``lib`` instead of ``dlcore``), what to cover with an empty tmpfs (a ``dlcore`` inside
    the bound packages, as a non-editable install puts it), and the environment to add."""
    real = []
    spec = importlib.util.find_spec("dlcore")
    if spec is not None and spec.submodule_search_locations:
        real = sorted({os.path.realpath(p) for p in spec.submodule_search_locations})
    binds = [p for p in python_paths() if p not in real] + [os.path.realpath(lib)]
    # Other reference implementations of the same layers: the deep-learning frameworks a grading
    # machine may carry (the course's own tests compare with torch) are not the student's to call.
    for name in OTHER_REFERENCES:
        other = importlib.util.find_spec(name)
        if other is not None and other.submodule_search_locations:
            real += [os.path.realpath(p) for p in other.submodule_search_locations]
    masks = [r for r in real if any(r.startswith(b + os.sep) for b in binds)]
    return binds, masks, {"PYTHONPATH": os.path.realpath(lib)}


OTHER_REFERENCES = ("torch", "tensorflow", "jax", "keras", "sklearn")


def bwrap_argv(*, runtime: str, etc_dir: str, cwd: str | None, cwd_src: str | None, tmp_bytes: int,
               binds: list[str] | None = None, uid: int | None = None, venv_bin: str | None = None,
               masks: list[str] = (), extra_env: dict[str, str] | None = None) -> list[str]:
    """The bubblewrap command line (without the program to run): an allow-list.

    ``binds`` are read-only directories (default: :func:`python_paths`). With ``uid`` (the
    grader runs as root) bubblewrap sets the sandbox up as root, keeps only the two
    capabilities needed to change user, and :func:`wrap_kernel` drops to ``uid`` before the
    kernel starts; without it (an ordinary grader) a user namespace does the job.
    """
    argv = ["bwrap", "--die-with-parent", "--new-session", "--clearenv", "--cap-drop", "ALL"]
    if uid is None:
        argv += ["--unshare-all"]
    else:
        argv += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                 "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    for d in _SYSTEM_DIRS:
        if os.path.islink(d):
            argv += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            argv += ["--ro-bind", d, d]
    for f in _ETC_FILES:
        if os.path.exists(f):
            argv += ["--ro-bind", f, f]
    argv += ["--ro-bind", os.path.join(etc_dir, "passwd"), "/etc/passwd",
             "--ro-bind", os.path.join(etc_dir, "group"), "/etc/group"]
    argv += ["--dev", "/dev", "--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys",
             "--size", str(tmp_bytes), "--perms", "1777", "--tmpfs", "/tmp", "--perms", "1777", "--dir", "/tmp/home",
             "--size", str(min(tmp_bytes, 64 * _MiB)), "--perms", "1777", "--tmpfs", "/dev/shm"]
    binds = binds if binds is not None else python_paths()
    # Folders bubblewrap creates on the way to a mount point must be traversable by the kernel's uid.
    parents = sorted({str(a) for p in [*binds, runtime, *([cwd] if cwd else [])] for a in Path(p).parents
                      if str(a) not in ("/", "/tmp")} - set(_SYSTEM_DIRS))
    for d in parents:
        argv += ["--perms", "0755", "--dir", d]
    for p in binds:
        argv += ["--ro-bind", p, p]
    for p in masks:
        argv += ["--tmpfs", p]
    argv += ["--bind", runtime, runtime]
    if cwd and cwd_src and os.path.isdir(cwd_src):
        argv += ["--ro-bind", cwd_src, cwd, "--chdir", cwd]
    elif cwd:
        argv += ["--dir", cwd, "--chdir", cwd]
    else:
        argv += ["--chdir", "/tmp/home"]
    for k, v in {**kernel_env(venv_bin or os.path.dirname(sys.executable)), **(extra_env or {})}.items():
        argv += ["--setenv", k, v]
    # The sandbox's own root (the folders bubblewrap made for the mount points) is a tmpfs that,
    # in a user namespace, belongs to the kernel's uid: make it read-only, or it is unbounded scratch.
    return argv + ["--remount-ro", "/"]


def wrap_kernel(kernel: list[str], uid: int | None) -> list[str]:
    """The kernel's command line, behind the uid drop when there is one."""
    if uid is None:
        return kernel
    return [sys.executable, "-I", "-c", _DROP, str(uid), *kernel]


# ----------------------------------------------------------------------------- cgroups
class Cgroups:
    """A memory + pids cgroup for one kernel, v2 (unified) or v1, where the grader may create one."""

    V2 = V1 = Path("/sys/fs/cgroup")  # the unified hierarchy, or the folder of v1's per-controller mounts

    def __init__(self, name: str, mem: int, nproc: int):
        self.name, self.mem, self.nproc = name, mem, nproc
        self.make()

    def make(self) -> None:
        """Create (or re-create) the cgroup and set its limits."""
        name, mem, nproc = self.name, self.mem, self.nproc
        self.dirs: list[Path] = []
        self.kind = self.available()
        if self.kind == "v2":
            d = self._parent_v2() / name
            d.mkdir(exist_ok=True)
            (d / "memory.max").write_text(str(mem))
            if (d / "memory.swap.max").exists():
                (d / "memory.swap.max").write_text("0")
            (d / "pids.max").write_text(str(nproc))
            self.dirs = [d]
        elif self.kind == "v1":
            m = self.V1 / "memory" / "dlcourse" / name
            p = self.V1 / "pids" / "dlcourse" / name
            for d in (m, p):
                d.mkdir(parents=True, exist_ok=True)
            (m / "memory.limit_in_bytes").write_text(str(mem))
            sw = m / "memory.memsw.limit_in_bytes"
            if sw.exists():
                try:
                    sw.write_text(str(mem))
                except OSError:
                    pass
            (p / "pids.max").write_text(str(nproc))
            self.dirs = [m, p]

    @classmethod
    def _parent_v2(cls) -> Path:
        return cls.V2 / "dlcourse.slice"

    @classmethod
    def available(cls) -> str:
        """'v2', 'v1' or '' (no writable memory and pids controllers for this user)."""
        if "cg" in _PROBE:
            return _PROBE["cg"]  # type: ignore[return-value]
        kind = ""
        try:
            ctl = cls.V2 / "cgroup.controllers"
            if ctl.exists() and {"memory", "pids"} <= set(ctl.read_text().split()) and os.access(cls.V2, os.W_OK):
                parent = cls._parent_v2()
                parent.mkdir(exist_ok=True)
                (cls.V2 / "cgroup.subtree_control").write_text("+memory +pids")
                (parent / "cgroup.subtree_control").write_text("+memory +pids")
                kind = "v2"
            elif all(os.access(cls.V1 / c, os.W_OK) for c in ("memory", "pids")) and \
                    (cls.V1 / "memory" / "memory.limit_in_bytes").exists():
                for c in ("memory", "pids"):
                    (cls.V1 / c / "dlcourse").mkdir(exist_ok=True)
                kind = "v1"
        except OSError:
            kind = ""
        _PROBE["cg"] = kind  # type: ignore[assignment]
        return kind

    def join(self, pid: int) -> None:
        for d in self.dirs:
            (d / "cgroup.procs").write_text(str(pid))

    def pids(self) -> set[int]:
        out: set[int] = set()
        for d in self.dirs:
            try:
                out |= {int(x) for x in (d / "cgroup.procs").read_text().split()}
            except OSError:
                pass
        return out

    def events(self) -> dict[str, int]:
        """Counters of limits hit: ``{'oom_kill': n, 'pids_max': n}`` (v2 ``*.events``, v1 ``memory.oom_control``)."""
        ev = {"oom_kill": 0, "pids_max": 0}
        for d in self.dirs:
            for fname, key, field_ in (("memory.events", "oom_kill", "oom_kill"),
                                       ("memory.oom_control", "oom_kill", "oom_kill"), ("pids.events", "pids_max", "max")):
                try:
                    text = (d / fname).read_text()
                except OSError:
                    continue
                for line in text.splitlines():
                    parts = line.split()
                    if len(parts) == 2 and parts[0] == field_:
                        ev[key] = max(ev[key], int(parts[1]))
        return ev

    def kill_all(self) -> None:
        for _ in range(50):
            left = self.pids()
            if not left:
                return
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)

    def remove(self) -> None:
        for d in self.dirs:
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def remove_stale_cgroups(prefix: str) -> None:
    """Remove empty cgroups left by supervisors that were SIGKILLed (names are ``prefix`` + the
    supervisor's pid).

    Empty is not enough: a supervisor creates its cgroup a moment before its kernel joins it, and
    another worker's clean-up in that moment would make the kernel's start fail. So a cgroup is
    stale only when the supervisor that named it is gone.
    """
    kind = Cgroups.available()
    parents = [Cgroups._parent_v2()] if kind == "v2" else \
        [Cgroups.V1 / c / "dlcourse" for c in ("memory", "pids")] if kind == "v1" else []
    for parent in parents:
        for d in parent.glob(prefix + "*"):
            tail = d.name[len(prefix):]
            if tail.isdigit() and _alive(int(tail)):
                continue
            try:
                if not (d / "cgroup.procs").read_text().split():
                    d.rmdir()
            except OSError:
                pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ----------------------------------------------------------------------------- the process tree
def _proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, resident bytes) for every process on the host."""
    page = os.sysconf("SC_PAGE_SIZE")
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
            with open(f"/proc/{name}/statm", "rb") as f:
                rss = int(f.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        table[int(name)] = (int(fields[1]), rss)
    return table


def tree(root_pid: int) -> tuple[set[int], int]:
    """The processes descending from ``root_pid`` (itself included) and their summed RSS."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    seen, todo = set(), [root_pid]
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in table:
            continue
        seen.add(pid)
        todo += children.get(pid, [])
    return seen, sum(table[p][1] for p in seen)


def dir_bytes(path: str, cap: int) -> int:
    """Bytes under ``path`` (stops counting past ``cap``)."""
    total = 0
    stack = [path]
    while stack and total <= cap:
        try:
            with os.scandir(stack.pop()) as it:
                for e in it:
                    try:
                        if e.is_dir(follow_symlinks=False):
                            stack.append(e.path)
                        else:
                            total += e.stat(follow_symlinks=False).st_size
                    except OSError:
                        pass
        except OSError:
            pass
    return total


def _count_user_processes(uid: int) -> int:
    n = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid == uid:
                    n += len(os.listdir(f"/proc/{name}/task"))
            except OSError:
                pass
    return n


# ----------------------------------------------------------------------------- the supervisor
@dataclass
class Status:
    """What the supervisor saw, for the grader (``DLCOURSE_SANDBOX_STATUS``)."""
    mode: str = ""
    uid: int = -1
    cgroups: str = ""
    killed: str = ""             # memory-limit | process-limit | scratch-limit | '' (not killed by us)
    oom_kills: int = 0
    forks_refused: int = 0
    peak_rss: int = 0
    peak_procs: int = 0
    log_bytes_dropped: int = 0
    returncode: int | None = None


def _write_etc(etc_dir: str, uid: int) -> None:
    os.makedirs(etc_dir, exist_ok=True)
    Path(etc_dir, "passwd").write_text(f"student:x:{uid}:{uid}:student:/tmp/home:/usr/sbin/nologin\n"
                                       "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
    Path(etc_dir, "group").write_text(f"student:x:{uid}:\nnogroup:x:65534:\n")


def _child_setup(lim: Limits, cg: Cgroups | None, nproc: int):
    def setup() -> None:
        os.setsid()
        if cg is not None:
            cg.join(os.getpid())
        resource.setrlimit(resource.RLIMIT_AS, (lim.mem, lim.mem))
        resource.setrlimit(resource.RLIMIT_CPU, (lim.cpu, lim.cpu + 5))
        resource.setrlimit(resource.RLIMIT_FSIZE, (lim.fsize, lim.fsize))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    return setup


def supervise(argv: list[str]) -> int:
    """Run the kernel ``argv[…]`` in the sandbox; return its exit code.

    ``argv = ["--program", LIB, SOCKET]`` runs the trusted-scoring runner instead
    (``LIB/runner.py SOCKET``, :mod:`autograder.runner`): the same sandbox and limits, but
    ``LIB`` (the runner and a ``dlcore`` without its references, :mod:`autograder.withhold`)
    is shown in place of the real ``dlcore``.
    """
    program = argv[0] == "--program" if argv else False
    if program:
        lib, sock = os.path.abspath(argv[1]), os.path.abspath(argv[2])
        conn = sock
    else:
        conn = os.path.abspath(argv[argv.index("-f") + 1])
    mode = os.environ.get("DLCOURSE_SANDBOX_MODE", "bwrap")
    lim = Limits.from_env()
    runtime = os.path.abspath(os.environ.get("DLCOURSE_SANDBOX_RUNTIME") or os.path.dirname(conn))
    status_path = os.environ.get("DLCOURSE_SANDBOX_STATUS")
    log_path = os.environ.get("DLCOURSE_SANDBOX_LOG", os.devnull)
    if runtime in ("/", "/tmp", os.path.expanduser("~")):
        raise SystemExit(f"autograder.sandbox: refusing to bind {runtime} into the sandbox")
    st = Status(mode=mode)
    # The grading process that started this supervisor says who it is: if it died before the death
    # signal below was armed (or even before this line), the parent is already someone else.
    parent = int(os.environ.get("DLCOURSE_SANDBOX_PARENT") or os.getppid())
    _die_with_parent()
    if os.getppid() != parent:
        return 1
    # As root, the kernel becomes a dedicated uid (one per worker slot, so RLIMIT_NPROC is exact).
    # Without bubblewrap it cannot: the interpreter may live where only root can reach (/root).
    uid = None
    if os.geteuid() == 0 and mode == "bwrap":
        uid = int(os.environ.get("DLCOURSE_SANDBOX_UID_BASE") or UID_BASE) + int(os.environ.get("DLCOURSE_SANDBOX_SLOT", "0"))
    st.uid = uid if uid is not None else os.geteuid()
    if program:
        if not conn.startswith(runtime + os.sep):
            raise SystemExit("autograder.sandbox: the runner's socket must lie in the runtime folder")
        if uid is not None:
            os.chown(runtime, uid, uid)
            os.chmod(runtime, 0o700)
        kernel = [sys.executable, os.path.join(lib, "runner.py"), sock]
        binds, masks, extra_env = program_binds(lib)
    else:
        # The kernel must be able to read its connection file and create its sockets as that uid.
        if not (conn.startswith(runtime + os.sep)):
            dest = os.path.join(runtime, os.path.basename(conn))
            shutil.copyfile(conn, dest)
            conn = dest
        argv = list(argv)
        argv[argv.index("-f") + 1] = conn
        if uid is not None:
            os.chown(runtime, uid, uid)
            os.chmod(runtime, 0o700)
            os.chown(conn, uid, uid)
        kernel = [sys.executable, "-m", "ipykernel_launcher", *argv]
        binds, masks, extra_env = None, [], {}
    cg = None
    if Cgroups.available():
        try:
            cg = Cgroups(f"k{os.getpid()}", lim.mem, lim.nproc)
            st.cgroups = cg.kind
        except OSError:
            cg = None
    nproc = lim.nproc if uid is not None else _count_user_processes(os.geteuid()) + lim.nproc
    if mode == "bwrap":
        etc_dir = os.path.join(os.path.dirname(status_path), "etc") if status_path else runtime + ".etc"
        _write_etc(etc_dir, st.uid)
        cmd = bwrap_argv(runtime=runtime, etc_dir=etc_dir, cwd=os.environ.get("DLCOURSE_SANDBOX_CWD"),
                         cwd_src=os.environ.get("DLCOURSE_SANDBOX_CWD_SRC"), tmp_bytes=lim.tmp,
                         uid=uid, venv_bin=os.path.dirname(sys.executable), binds=binds, masks=masks,
                         extra_env=extra_env)
        cmd += ["--", *wrap_kernel(kernel, uid)]
        # bubblewrap's own init is pid 1 in the sandbox: /proc/1/environ must hold nothing.
        env = {"PATH": "/usr/bin:/bin"}
    else:
        # No bubblewrap: limits only, as the grader's own user, without the grader's secrets.
        cmd = kernel
        env = {k: v for k, v in os.environ.items()
               if not (k.startswith(("DLCOURSE_", "JUPYTERHUB_", "JPY_")) or "TOKEN" in k or "SECRET" in k
                       or "PASSWORD" in k or "KEY" in k)}
        env.update({k: v for k, v in kernel_env(os.path.dirname(sys.executable)).items() if k not in ("HOME", "USER")})
        env.update(extra_env)
    rfd, wfd = os.pipe()
    # Nothing of the student's has run before the child's set-up succeeds, so a failed set-up (a
    # cgroup removed under it, say) is tried again with the cgroup re-made.
    for attempt in range(3):
        try:
            child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=wfd, stderr=wfd, env=env,
                                     preexec_fn=_child_setup(lim, cg, nproc), close_fds=True)
            break
        except subprocess.SubprocessError:
            if attempt == 2:
                raise
            time.sleep(0.2 * (attempt + 1))
            if cg is not None:
                try:
                    cg.make()
                except OSError:
                    cg = None
    os.close(wfd)

    def stop(*_):
        _kill(child, cg)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, stop)
    kept = 0
    try:
        log = open(log_path, "ab")
    except OSError:
        log = open(os.devnull, "ab")
    next_check = 0.0
    readers = [rfd]
    with log:
        while True:
            ready, _, _ = select.select(readers, [], [], 0.2)
            if ready:
                chunk = os.read(rfd, 65536)
                if not chunk:
                    readers = []  # every writer closed; keep watching until the child is reaped
                    time.sleep(0.05)
                else:
                    room = lim.log - kept
                    if room > 0:
                        log.write(chunk[:room])
                        log.flush()
                    kept += min(len(chunk), max(room, 0))
                    st.log_bytes_dropped += max(0, len(chunk) - max(room, 0))
            if child.poll() is not None:
                break
            now = time.monotonic()
            if now >= next_check:
                next_check = now + 0.2
                if os.getppid() != parent:
                    # The grader is gone and its death signal did not come (it is sent when the
                    # parent *thread* ends, and not at all if the parent died before it was armed):
                    # nobody will read this kernel, so it must not outlive its grader.
                    _kill(child, cg)
                reason = _check(os.getpid(), cg, lim, runtime, st)
                if reason:
                    st.killed = reason
                    _write_status(status_path, st)  # before the kill: jupyter_client may SIGKILL us next
                    _kill(child, cg)
    os.close(rfd)
    st.returncode = child.wait()
    if not st.killed and dir_bytes(runtime, lim.scratch) > lim.scratch:
        st.killed = "scratch-limit"  # filled it and ended before the watchdog's next look
    _kill(child, cg)
    if cg is not None:
        ev = cg.events()
        st.oom_kills, st.forks_refused = ev["oom_kill"], ev["pids_max"]
        cg.remove()
    _write_status(status_path, st)
    return st.returncode if st.returncode is not None else 1


def _die_with_parent() -> None:
    """SIGTERM this supervisor when the grader that started it dies, and make it the reaper of
    orphans (a double-forked daemon stays its descendant, so :func:`_kill` finds it)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        libc.prctl(36, 1)              # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def _write_status(path: str | None, st: Status) -> None:
    if path:
        tmp = path + ".tmp"
        Path(tmp).write_text(json.dumps(asdict(st)))
        os.replace(tmp, path)


def _check(pid: int, cg: Cgroups | None, lim: Limits, runtime: str, st: Status) -> str:
    """'' while within the limits, else what was exceeded (the watchdog's part)."""
    procs, rss = tree(pid)
    st.peak_rss, st.peak_procs = max(st.peak_rss, rss), max(st.peak_procs, len(procs))
    if cg is None:
        if rss > lim.mem:
            return "memory-limit"
        if len(procs) > lim.nproc + 4:  # this supervisor, bubblewrap's pair and the uid drop are not the student's
            return "process-limit"
    if dir_bytes(runtime, lim.scratch) > lim.scratch:
        return "scratch-limit"
    return ""


def _kill(child: subprocess.Popen, cg: Cgroups | None) -> None:
    """Kill the sandbox and everything in it: every descendant of this supervisor (a pid
    namespace dies with its init; without one, orphans were re-parented here), and the cgroup."""
    procs, _ = tree(os.getpid())
    procs.discard(os.getpid())
    for pid in procs:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    if cg is not None:
        cg.kill_all()


def main(argv: list[str]) -> None:
    """Kernel launcher: ``python -m autograder.sandbox -f CONNECTION_FILE [ipykernel args]``."""
    sys.exit(supervise(argv))


if __name__ == "__main__":
    main(sys.argv[1:])
