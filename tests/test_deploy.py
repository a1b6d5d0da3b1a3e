"""The hub configurations, loaded the way each hub loads them (no cluster, no TLJH install here).

* TLJH: its ``jupyterhub_config.py`` sets the hub up, then ``load_subconfig``s every file in
  ``jupyterhub_config.d/`` in sorted order; the course's snippet must leave what TLJH manages
  (address, database, cookie secret, authenticator, allowed users, spawner, limits) alone, and
  its hook must work with a spawner that has no ``home_dir`` and copy nothing anywhere.
* Zero to JupyterHub: the hub ``exec``s each ``hub.extraConfig`` value in a namespace where
  ``get_config`` is z2jh's own; the values must set limits, the culler, the exchange on a
  ReadWriteMany claim, and mount the same per-role nbgrader files ``setup_course.py`` writes.
"""
from __future__ import annotations

import json
import os
import sys
import types
from pathlib import Path

import pytest
import yaml
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

REPO = Path(__file__).resolve().parents[1]
HUB = REPO / "deploy" / "jupyterhub"
sys.path.insert(0, str(HUB))
import setup_course  # noqa: E402

# What TLJH's own jupyterhub_config.py does (tljh/jupyterhub_config.py, trimmed to what matters):
TLJH_MAIN = '''
import os
from glob import glob
c.JupyterHub.bind_url = "http://:80"
c.JupyterHub.db_url = "sqlite:////opt/tljh/state/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "/opt/tljh/state/jupyterhub_cookie_secret"
c.JupyterHub.spawner_class = "tljh.user_creating_spawner.UserCreatingSpawner"
c.JupyterHub.authenticator_class = "firstuseauthenticator.FirstUseAuthenticator"
c.Authenticator.allowed_users = {"teacher", "alice"}
c.Spawner.mem_limit = "2G"
c.Spawner.default_url = "/lab"
for ec in sorted(glob(os.path.join(CONFIG_DIR, "jupyterhub_config.d", "*.py"))):
    load_subconfig(ec)
'''


class _User:
    def __init__(self, name, groups=()):
        self.name = name
        self.groups = [types.SimpleNamespace(name=g) for g in groups]


class _Spawner:
    """What the hook may touch: the user and the environment (no home_dir, as with most spawners)."""

    def __init__(self, name, groups=()):
        self.user = _User(name, groups)
        self.environment = {}


@pytest.fixture
def tljh(tmp_path, monkeypatch):
    state = tmp_path / "srv" / "dlcourse-hub"
    setup_course.prepare(state, tmp_path / "exchange", tmp_path / "home" / "jupyter-teacher" / "course-root",
                         instructors=["teacher"], students=["alice"])
    conf = tmp_path / "opt" / "tljh" / "config"
    (conf / "jupyterhub_config.d").mkdir(parents=True)
    (conf / "jupyterhub_config.d" / "dlcourse.py").write_bytes((HUB / "dlcourse_hub.py").read_bytes())
    main = conf / "jupyterhub_config.py"
    main.write_text(f"CONFIG_DIR = {str(conf)!r}\n" + TLJH_MAIN)
    monkeypatch.setenv("DLCOURSE_HUB_SETTINGS", str(state / "course.json"))
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return {"main": main, "state": state, "cwd": work, "tmp": tmp_path}


def test_tljh_snippet_leaves_tljh_settings_alone_and_its_hook_copies_nothing(tljh):
    cfg = PyFileConfigLoader(tljh["main"].name, path=str(tljh["main"].parent)).load_config()
    hub = cfg.JupyterHub
    assert hub.bind_url == "http://:80" and hub.db_url.endswith("/opt/tljh/state/jupyterhub.sqlite")
    assert hub.cookie_secret_file == "/opt/tljh/state/jupyterhub_cookie_secret"
    assert hub.spawner_class.startswith("tljh.") and hub.authenticator_class.startswith("firstuse")
    assert cfg.Authenticator.allowed_users == {"teacher", "alice"} and cfg.Spawner.mem_limit == "2G"
    assert cfg.Spawner.default_url == "/lab"
    assert hub.load_groups["formgrade-dl-fundamentals"] == {"users": ["teacher"]}
    assert hub.load_groups["nbgrader-dl-fundamentals"] == {"users": ["alice"]}

    hook = cfg.Spawner.pre_spawn_hook
    teacher, alice = _Spawner("teacher"), _Spawner("alice")
    hook(teacher)
    hook(alice)
    config_dirs = tljh["state"] / "user-config"
    assert teacher.environment["JUPYTER_CONFIG_PATH"] == str(config_dirs / "instructor")
    assert teacher.environment["DLHUB_COURSE_ROOT"].endswith("jupyter-teacher/course-root")
    assert alice.environment["JUPYTER_CONFIG_PATH"] == str(config_dirs / "student")
    assert "DLHUB_COURSE_ROOT" not in alice.environment
    assert alice.environment["DLHUB_EXCHANGE"] == str(tljh["tmp"] / "exchange")
    assert list(tljh["cwd"].iterdir()) == []  # no ./~alice/course, nothing copied anywhere
    ta = _Spawner("ta1", groups=["instructors"])  # an instructor added as a hub group member
    hook(ta)
    assert ta.environment["JUPYTER_CONFIG_PATH"].endswith("instructor")


def test_tljh_snippet_without_settings_fails_at_hub_start_with_the_fix(tljh, monkeypatch):
    monkeypatch.setenv("DLCOURSE_HUB_SETTINGS", str(tljh["tmp"] / "missing.json"))
    with pytest.raises(RuntimeError, match="setup_course.py"):
        PyFileConfigLoader(tljh["main"].name, path=str(tljh["main"].parent)).load_config()


def test_setup_course_writes_the_instructor_config_into_the_course_root(tljh):
    root = tljh["tmp"] / "home" / "jupyter-teacher" / "course-root"
    assert (root / "nbgrader_config.py").read_text() == setup_course.INSTRUCTOR_CONFIG
    from autograder.courseroot import write_config

    assert write_config(root) is None  # `dlcourse grade --root` leaves the hub's config alone
    settings = json.loads((tljh["state"] / "course.json").read_text())
    assert settings["config_dirs"] == str(tljh["state"] / "user-config")


@pytest.fixture
def values():
    return yaml.safe_load((HUB / "z2jh" / "values.yaml").read_text())


def test_z2jh_values_limits_culler_and_shared_exchange(values):
    su = values["singleuser"]
    assert su["memory"]["limit"] and su["memory"]["guarantee"] and su["cpu"]["limit"]
    assert values["cull"]["enabled"] is True and values["cull"]["timeout"] > 0
    vol = {v["name"]: v for v in su["storage"]["extraVolumes"]}["nbgrader-exchange"]
    claim = vol["persistentVolumeClaim"]["claimName"]
    mounts = {m["name"]: m for m in su["storage"]["extraVolumeMounts"]}
    assert mounts["nbgrader-exchange"]["mountPath"] == values["custom"]["dlcourse"]["exchange"]
    pvc = yaml.safe_load((HUB / "z2jh" / "exchange-pvc.yaml").read_text())
    assert pvc["metadata"]["name"] == claim and pvc["spec"]["accessModes"] == ["ReadWriteMany"]


def test_z2jh_extra_files_are_setup_courses_files(values):
    files = values["singleuser"]["extraFiles"]
    base = values["custom"]["dlcourse"]["config_dirs"]
    for role, text in (("student", setup_course.STUDENT_CONFIG), ("instructor", setup_course.INSTRUCTOR_CONFIG)):
        assert files[f"{role}-nbgrader"]["mountPath"] == f"{base}/{role}/nbgrader_config.py"
        assert files[f"{role}-nbgrader"]["stringData"] == text
        enabled = role == "instructor"
        server = json.loads(files[f"{role}-server"]["stringData"])
        assert server["ServerApp"]["jpserver_extensions"] == {e: enabled for e in setup_course.INSTRUCTOR_ONLY_SERVER}
        page = json.loads(files[f"{role}-lab"]["stringData"])
        assert page["disabledExtensions"] == {e: not enabled for e in setup_course.INSTRUCTOR_ONLY_LAB}


def test_z2jh_hub_runs_the_extra_config_and_its_hook(values, monkeypatch, tmp_path):
    """As the chart's hub does: `exec(config_py)` for each hub.extraConfig (here the --set-file'd snippet)."""
    def get_config(key, default=None):  # z2jh.get_config: dotted keys into the values
        node = values
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    monkeypatch.setitem(sys.modules, "z2jh", types.SimpleNamespace(get_config=get_config))
    monkeypatch.chdir(tmp_path)
    extra = dict(values["hub"]["extraConfig"] or {})
    extra["dlcourse"] = (HUB / "dlcourse_hub.py").read_text()  # --set-file hub.extraConfig.dlcourse=…
    c = Config()
    namespace = {"c": c, "get_config": get_config}  # z2jh's get_config shadows traitlets' there
    for _, code in sorted(extra.items()):
        exec(compile(code, "extraConfig", "exec"), namespace)  # noqa: S102 - what the chart does
    teacher, alice = _Spawner("teacher"), _Spawner("alice")
    c.Spawner.pre_spawn_hook(teacher)
    c.Spawner.pre_spawn_hook(alice)
    assert teacher.environment["JUPYTER_CONFIG_PATH"] == "/etc/dlcourse/user-config/instructor"
    assert alice.environment["JUPYTER_CONFIG_PATH"] == "/etc/dlcourse/user-config/student"
    assert alice.environment["DLHUB_EXCHANGE"] == "/srv/nbgrader/exchange"
    assert list(tmp_path.iterdir()) == []

    # The mounted student config, in a pod with the hook's environment: submissions under the hub name.
    cfg_dir = tmp_path / "student"
    cfg_dir.mkdir()
    (cfg_dir / "nbgrader_config.py").write_text(values["singleuser"]["extraFiles"]["student-nbgrader"]["stringData"])
    for k, v in {**alice.environment, "JUPYTERHUB_USER": "alice"}.items():
        monkeypatch.setenv(k, v)
    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(cfg_dir)).load_config()
    assert cfg.CourseDirectory.student_id == "alice" and cfg.Exchange.root == "/srv/nbgrader/exchange"


def test_guide_paths_work_without_tmpdir_and_without_home_dirs():
    guide = (HUB / "README.md").read_text()
    assert "$TMPDIR/" not in guide and "${TMPDIR:-/tmp}" in guide
    assert "~user" not in (HUB / "dlcourse_hub.py").read_text() and "expanduser" not in (HUB / "dlcourse_hub.py").read_text()
    for cmd in ("tljh-config set limits.memory", "tljh-config set services.cull.timeout",
                "jupyterhub-ltiauthenticator", "oauthenticator"):
        assert cmd in guide, cmd
    assert "What cannot be tested here" in guide
