"""`release` is idempotent and strict; `bundle` hands out only what a student should get, and
the bundle installs into a fresh virtual environment where every student notebook runs."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "fixtures"))
import build_fixture  # noqa: E402

from autograder.bundle import BundleError, bundle  # noqa: E402
from autograder.release import ReleaseError, chapters, release  # noqa: E402

F = build_fixture.CHAPTER


@pytest.fixture
def fixture_source(tmp_path):
    build_fixture.build(tmp_path / "src")
    return tmp_path / "src"


def test_release_twice_is_byte_identical_and_touches_nothing(tmp_path, fixture_source):
    out = tmp_path / "course"
    [path] = release([F], quiet=True, source=fixture_source, out=out)
    first, mtime = path.read_bytes(), path.stat().st_mtime_ns
    release([F], quiet=True, source=fixture_source, out=out)
    assert path.read_bytes() == first
    assert path.stat().st_mtime_ns == mtime
    text = first.decode()
    assert build_fixture.HIDDEN_CANARY not in text and "BEGIN SOLUTION" not in text
    assert "np.sqrt(np.sum(x * x))" not in text  # the solution body
    assert "raise NotImplementedError()" in text


def test_release_refuses_a_leak_and_leaves_course_untouched(tmp_path, fixture_source):
    out = tmp_path / "course"
    release([F], quiet=True, source=fixture_source, out=out)
    before = (out / F / f"{F}.ipynb").read_bytes()
    nb_path = fixture_source / F / f"{F}.ipynb"
    nb = json.loads(nb_path.read_text())
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "ch00-msq-test":
            # a typo in the marker: nbgrader keeps the "hidden" lines in the student version
            cell["source"] = "".join(cell["source"]).replace("### BEGIN HIDDEN TESTS", "## BEGIN HIDDEN TEST")
    nb_path.write_text(json.dumps(nb))
    with pytest.raises(ReleaseError, match="hidden"):
        release([F], quiet=True, source=fixture_source, out=out)
    assert (out / F / f"{F}.ipynb").read_bytes() == before


def test_release_rejects_unknown_chapter(fixture_source, tmp_path):
    with pytest.raises(ReleaseError, match="unknown chapter"):
        release(["ch99_nope"], quiet=True, source=fixture_source, out=tmp_path / "c")


def _names(path: Path) -> list[str]:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as z:
            return sorted(n.split("/", 1)[1] for n in z.namelist())
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    if not chapters():
        pytest.skip("no chapter yet")
    out = tmp_path_factory.mktemp("bundle")
    try:
        folder = bundle(out / "dl-course")
    except BundleError as exc:
        pytest.fail(str(exc))
    return folder, bundle(out / "dl-course.zip"), out


def test_bundle_holds_course_and_dlcore_only(bundled):
    folder, zipped, out = bundled
    names = _names(folder)
    assert _names(zipped) == [n for n in names if n != ".dlcourse-bundle"]
    assert {"README.md", "pyproject.toml"} <= set(names)
    assert {n.split("/")[0] for n in names} <= {"course", "dlcore", "README.md", "pyproject.toml", "LICENSE",
                                                "environment.yml", ".dlcourse-bundle"}
    for ch in chapters():
        assert f"course/{ch}/{ch}.ipynb" in names
    for p in folder.rglob("*"):
        if p.is_file():
            text = p.read_bytes().decode("utf-8", errors="ignore")
            assert "BEGIN HIDDEN TESTS" not in text and "### BEGIN SOLUTION" not in text, p
    readme = (folder / "README.md").read_text()
    assert "pip install" in readme and "jupyter lab" in readme
    again = bundle(out / "again" / "dl-course.zip")
    assert again.read_bytes() == zipped.read_bytes()  # deterministic


@pytest.mark.slow
def test_bundle_installs_into_a_fresh_venv_and_every_notebook_runs(bundled, tmp_path):
    folder, _, _ = bundled
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # Reuse the project's third-party packages (no download); dlcore must come from the bundle.
    Path(site, "_project_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps",
                    "--no-build-isolation", "--no-index", str(folder)], check=True, capture_output=True)
    probe = subprocess.run([py, "-c", "import dlcore, sys; print(dlcore.__file__)"], cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert probe.startswith(site), probe
    work = tmp_path / "student"
    shutil.copytree(folder / "course", work)
    runner = REPO / "tests" / "fixtures" / "run_notebooks.py"
    nbs = sorted(str(p) for p in work.glob("ch*/*.ipynb"))
    env = {**os.environ, "PYTHONPATH": ""}

    def run(path):
        r = subprocess.run([py, str(runner), path], cwd=tmp_path, capture_output=True, text=True, env=env,
                           timeout=600)
        assert r.returncode == 0, r.stderr[-3000:]
        return json.loads(r.stdout.strip().splitlines()[-1])

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, nbs))
    assert len(results) == len(chapters())
    for res in results:
        assert res["ran"], res
        assert not [e for e in res["errors"] if e[0] == "other"], res
        assert any(e[0] == "test" for e in res["errors"]), res
