"""The capstone's carry cell in JupyterLab, as a student uses it: run it, it becomes the student's
own functions (JupyterLab applies the kernel's set_next_input(replace=True) to the cell), they
run, and the notebook saved to disk holds them — what the student submits."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from autograder.release import chapters

from .lab import open_notebook, shutdown_kernels, wait_kernel_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
CAPSTONE = "ch09_capstone"
# the open notebook whose path is the argument, made the current tab (`app`, `panel`); the caller adds the rest
PANEL_JS = """(path) => {
    const app = window.jupyterapp;
    const panel = Array.from(app.shell.widgets('main')).find((w) => w.context && w.context.path === path);
    app.shell.activateById(panel.id);
"""


def test_carry_fills_its_cell_and_the_saved_notebook_holds_the_code(lab_server, page):
    # a student who solved chapters 2-8: their notebooks (the model answers) beside the capstone
    solved = Path(lab_server["root"]) / "solved"
    for ch in chapters():
        shutil.copytree(ROOT / ("course" if ch == CAPSTONE else "solutions") / ch, solved / ch)
    try:
        open_notebook(page, lab_server["url"], f"solved/{CAPSTONE}/{CAPSTONE}.ipynb")
        nb = json.loads((solved / CAPSTONE / f"{CAPSTONE}.ipynb").read_text())
        index = next(i for i, c in enumerate(nb["cells"]) if c["metadata"].get("dlcourse", {}).get("carry"))
        path = f"solved/{CAPSTONE}/{CAPSTONE}.ipynb"
        # Lab may restore notebooks of earlier tests as hidden tabs: act on this one only
        page.evaluate(PANEL_JS + f"""
            panel.content.activeCellIndex = {index};
            return app.commands.execute('notebook:run-cell');
        }}""", path)
        cell = page.locator(".jp-NotebookPanel:visible .jp-Cell").nth(index)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and "Your own code, carried" not in cell.locator(".jp-InputArea").inner_text():
            time.sleep(0.3)
        wait_kernel_idle(page)
        assert "Your own code, carried from your chapter notebooks" in cell.locator(".jp-InputArea").inner_text(), \
            cell.locator(".jp-OutputArea").inner_text()[-2000:]
        assert "this cell now holds their code" in cell.locator(".jp-OutputArea").inner_text()
        # the functions it brought are defined in the kernel
        page.evaluate(PANEL_JS + """
            return app.commands.execute('notebook:insert-cell-below').then(() => {
                panel.content.activeCell.model.sharedModel.setSource(
                    "print('shape', affine_forward(np.ones((2, 3)), np.ones((4, 3)), np.zeros(4)).shape)");
                return app.commands.execute('notebook:run-cell');
            });
        }""", path)
        wait_kernel_idle(page)
        assert page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output", has_text="shape (2, 4)").count() == 1
        page.evaluate(PANEL_JS + "return app.commands.execute('docmanager:save'); }", path)
        deadline = time.monotonic() + 30
        saved = ""
        while time.monotonic() < deadline:
            saved = "".join(json.loads((solved / CAPSTONE / f"{CAPSTONE}.ipynb").read_text())["cells"][index]["source"])
            if "def affine_forward" in saved:
                break
            time.sleep(0.3)
        for name in ("eval_numerical_gradient", "affine_backward", "max_pool2d_backward", "conv2d_backward",
                     "sgd_momentum_step"):
            assert f"def {name}(" in saved, name
        assert "carry(\"eval_numerical_gradient\"" in saved and "from dlcore.workspace import carry" not in saved
    finally:
        # close the tab (a later test's Lab would restore it) and keep the files (a restored tab
        # whose file is gone is a 404 in every later page's console)
        page.evaluate("() => window.jupyterapp.commands.execute('application:close-all')")
        shutdown_kernels(lab_server["url"])
