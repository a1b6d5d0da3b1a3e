"""App mode: every chapter's explorer as a page, served by Voila (``make explore``).

``python -m dlcore.explorers.app [--port 8866] [--no-browser] [--dir DIR]`` writes one small
notebook per chapter (a title and one call) into DIR (a temporary folder by default) and serves
that folder with Voila; ``/voila/render/index.ipynb`` is the index page linking them. No code is shown; only the
controls and figures.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from dlcore.explorers import EXPLORERS, available


CHAPTER_SOURCES = Path(__file__).resolve().parents[2] / "chapters"  # present in a checkout of the course


def self_check_cells(chapter: str) -> list[str]:
    """The code of the chapter's self-check cells (its "Self-checks" section), or [] without sources."""
    import re

    src = CHAPTER_SOURCES / f"{chapter}.py"
    if not src.exists():
        return []
    text = src.read_text(encoding="utf-8")
    if "## Self-checks" not in text:
        return []
    section = text[text.index("## Self-checks"):]
    section = section[:section.index("## Glossary")] if "## Glossary" in section else section
    cells = re.split(r"^# %%.*$", section, flags=re.M)[1:]
    return [c.strip() for c in cells if "ask(" in c]


def write_pages(directory: Path) -> list[Path]:
    """Write ``NN_<chapter>.ipynb`` for every chapter whose explorer exists; return the paths."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for chapter in available():
        _, factory, title = EXPLORERS[chapter]
        number = int(chapter[2:4])
        nb = new_notebook(cells=[
            new_markdown_cell(f"# Chapter {number}: {title}\n\nMove the controls; the figure and the "
                              "numbers below it follow. The notebook `course/"
                              f"{chapter}/{chapter}.ipynb` explains what you see."),
            new_code_cell("%matplotlib widget\nfrom dlcore.explorers import get_factory\n"
                          f"get_factory({chapter!r})()"),
        ])
        checks = self_check_cells(chapter)
        if checks:  # the chapter's self-checks under its explorer: they answer on the spot here too
            nb.cells.append(new_markdown_cell("## Self-checks\n\nChoose an answer: the explanation appears at once."))
            nb.cells += [new_code_cell(c) for c in checks]
        nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
        path = directory / f"{chapter}.ipynb"
        nbformat.write(nb, path)
        written.append(path)
    rows = "\n".join(f"| {int(ch[2:4])} | [{EXPLORERS[ch][2]}]({ch}.ipynb) |" for ch in available())
    index = new_notebook(cells=[new_markdown_cell(
        "# Deep-learning fundamentals: the explorers\n\nOne page per chapter: sliders and figures, "
        "no code. The course notebooks explain what you see.\n\n| chapter | explorer |\n|---|---|\n" + rows)])
    index.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nbformat.write(index, directory / "index.ipynb")
    return written


TEMPLATES = Path(__file__).resolve().parent / "share"  # share/voila/templates/dlcourse: no CDN stylesheets


def voila_command(directory: Path, port: int, open_browser: bool) -> list[str]:
    """Voila's command line; run it with :data:`TEMPLATES` first on ``JUPYTER_PATH`` (see :func:`main`)."""
    # nbgrader's, Notebook 7's and Jupytext's lab extensions fail to load outside JupyterLab (console errors).
    cmd = [sys.executable, "-m", "voila", str(directory), f"--port={port}", "--Voila.ip=127.0.0.1",
           "--VoilaConfiguration.template=dlcourse",
           "--VoilaConfiguration.extension_denylist=@jupyter/nbgrader",
           "--VoilaConfiguration.extension_denylist=@jupyter-notebook/lab-extension",
           "--VoilaConfiguration.extension_denylist=jupyterlab-jupytext"]
    if not open_browser:
        cmd.append("--no-browser")
    return cmd


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlcore.explorers.app", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8866)
    parser.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    parser.add_argument("--dir", type=Path, default=None, help="where to write the pages (default: a temporary folder)")
    args = parser.parse_args(argv)
    directory = args.dir or Path(tempfile.mkdtemp(prefix="dlcourse-explore-"))
    pages = write_pages(directory)
    if not pages:
        print("explore: no explorer modules found in dlcore.explorers", file=sys.stderr)
        return 1
    print(f"explore: {len(pages)} explorers in {directory}; open http://127.0.0.1:{args.port}/voila/render/index.ipynb")
    cmd = voila_command(directory, args.port, not args.no_browser)
    os.environ["JUPYTER_PATH"] = os.pathsep.join([str(TEMPLATES), *filter(None, [os.environ.get("JUPYTER_PATH")])])
    os.execv(cmd[0], cmd)
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
