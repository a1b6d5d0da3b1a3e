"""Packaging facts: pyproject.toml and environment.yml agree; importing dlcore stays light."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    assert m, req
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def pyproject_requirements(path: Path = ROOT / "pyproject.toml") -> dict[str, str]:
    data = tomllib.loads(path.read_text())
    reqs = list(data["project"]["dependencies"])
    for extra in data["project"]["optional-dependencies"].values():
        reqs.extend(extra)
    reqs.append(f"python{data['project']['requires-python']}")
    return dict(_split(r) for r in reqs)


def environment_requirements(path: Path = ROOT / "environment.yml") -> dict[str, str]:
    env = yaml.safe_load(path.read_text())
    out: dict[str, str] = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for r in dep["pip"]:
                if not r.startswith("-e"):
                    out.update([_split(r)])
        elif dep != "pip":
            out.update([_split(dep)])
    return out


def test_environment_yml_matches_pyproject():
    py, env = pyproject_requirements(), environment_requirements()
    assert set(py) == set(env), f"only in pyproject: {set(py) - set(env)}; only in environment.yml: {set(env) - set(py)}"
    differing = {k: (py[k], env[k]) for k in py if py[k] != env[k]}
    assert not differing, f"version specifiers differ (pyproject, environment.yml): {differing}"


def test_environment_comparison_sees_a_changed_pin(tmp_path):
    """The check above is real: a loosened pin in environment.yml is seen as a difference."""
    changed = tmp_path / "environment.yml"
    changed.write_text((ROOT / "environment.yml").read_text().replace("nbgrader==0.9.6", "nbgrader>=0.9"))
    assert environment_requirements(changed)["nbgrader"] != pyproject_requirements()["nbgrader"]


def test_import_dlcore_is_light():
    code = (
        "import sys, dlcore, dlcore.losses, dlcore.softmax, dlcore.activations, dlcore.optim, "
        "dlcore.surfaces, dlcore.batchnorm, dlcore.regularization, dlcore.linear, dlcore.conv, "
        "dlcore.pooling, dlcore.gradcheck, dlcore.nn\n"
        "heavy = [m for m in ('matplotlib', 'ipywidgets', 'tqdm', 'torch', 'IPython') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing the numpy core pulled in: {out.stdout.strip()}"
    assert out.stderr == ""


def test_makefile_targets_build_venv_first():
    text = (ROOT / "Makefile").read_text()
    # `make lab` (students) needs only the notebook stack; `make test` the maintainers' tools too.
    for target, stamp in (("lab", "$(NB_STAMP)"), ("test", "$(STAMP)")):
        m = re.search(rf"^{target}:\s*(.*)$", text, re.M)
        assert m and stamp in m.group(1), f"`make {target}` must depend on the venv stamp {stamp}"
    nb_rule = re.search(r"^\$\(NB_STAMP\):.*\n((?:\t.*\n)+)", text, re.M)
    assert nb_rule and "'.[notebook]'" in nb_rule.group(1) and "dev" not in nb_rule.group(1)


def test_readme_first_screen_gives_the_two_commands():
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:25])
    assert "make lab" in first_screen and "make test" in first_screen


def test_import_star_does_not_arm_the_notebook_checks():
    """dlcore.testing snapshots numpy and hooks IPython when imported: only a setup cell may do that."""
    code = ("import sys\nfrom dlcore import *\n"
            "print('dlcore.testing' in sys.modules, 'testing' in dir())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "False"], out.stdout + out.stderr


def test_one_integrity_marker():
    """The marker the autograder looks for is defined once, in dlcore.testing, and imported."""
    import autograder.grade
    import autograder.preprocessors
    import dlcore.testing

    literal = re.compile(r"[\"']INTEGRITY:")
    defined = sorted(p.relative_to(ROOT).as_posix() for top in ("dlcore", "autograder")
                     for p in (ROOT / top).rglob("*.py") if literal.search(p.read_text(encoding="utf-8")))
    assert defined == ["dlcore/testing.py"], defined
    assert autograder.grade.INTEGRITY_MARK is dlcore.testing.INTEGRITY_MARK
    assert autograder.preprocessors.INTEGRITY_MARK is dlcore.testing.INTEGRITY_MARK
