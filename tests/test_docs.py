"""Everything a maintainer reads is in the repository: every relative link in the guides
resolves to a file or folder inside it, and no guide points at a path outside it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GUIDES = sorted({REPO / "README.md", REPO / "autograder" / "README.md", REPO / "deploy" / "jupyterhub" / "README.md",
                 REPO / "benchmarks" / "README.md", *(REPO / "docs").glob("*.md")})
# [text](target) and [text](target "title"); images too. Reference definitions: [id]: target
INLINE = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)
# a path in backticks that leaves the repository, such as `../shared/dlcore-api.md`
OUTSIDE = re.compile(r"`(\.\./[^`\s]+)`")


def _targets(text: str) -> list[str]:
    text = re.sub(r"^(```|~~~).*?^\1", "", text, flags=re.M | re.S)  # no links inside code blocks
    return INLINE.findall(text) + REFERENCE.findall(text)


def _relative(target: str) -> bool:
    return not re.match(r"^([a-z][a-z0-9+.-]*:|#|//)", target, re.I)


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_relative_links_resolve_inside_the_repository(guide):
    assert guide.is_file(), f"{guide.relative_to(REPO)} is missing"
    text = guide.read_text(encoding="utf-8")
    broken = []
    for target in filter(_relative, _targets(text)):
        path = (guide.parent / target.split("#", 1)[0]).resolve()
        if not path.exists() or not path.is_relative_to(REPO):
            broken.append(target)
    for target in OUTSIDE.findall(text):
        path = (guide.parent / target).resolve()
        if not path.is_relative_to(REPO) or not path.exists():
            broken.append(target)
    assert not broken, f"{guide.relative_to(REPO)}: links that do not resolve inside the repository: {broken}"


def test_the_link_check_sees_a_broken_link(tmp_path):
    assert _targets("see [the API](../shared/dlcore-api.md) and [x](https://example.org)") == [
        "../shared/dlcore-api.md", "https://example.org"]
    assert [t for t in _targets("[a](docs/a.md#part)\n\n```\n[b](nope.md)\n```\n") if _relative(t)] == ["docs/a.md#part"]
    assert OUTSIDE.findall("its contract is `../shared/dlcore-api.md`.") == ["../shared/dlcore-api.md"]


def test_readme_points_at_the_guides():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    for guide in ("docs/dlcore-api.md", "docs/authoring.md", "autograder/README.md"):
        assert f"]({guide})" in text, f"README.md does not link {guide}"


def test_the_cjk_font_is_named_in_the_set_up_and_installed_by_ci():
    """Without a CJK font the chapters' Chinese terms are empty boxes (the browser test measures one)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "apt-get install fonts-noto-cjk" in readme and "chromium fonts-noto-cjk" in readme
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^[^#\n]*need\+=\(fonts-noto-cjk\)", ci, flags=re.M), "CI does not install fonts-noto-cjk"
    assert re.search(r'^\s*\(apt-get update[^\n]*apt-get install[^\n]*"\$\{need\[@\]\}"', ci, flags=re.M)
