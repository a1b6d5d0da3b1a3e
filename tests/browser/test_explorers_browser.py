"""Every chapter's explorer, used in JupyterLab in a real Chromium as a student would.

Open the student notebook, Run All, wait for the kernel, move a slider with the keyboard,
and check that (1) the figure's pixels changed, (2) the numbers the read-out shows are what
dlcore computes for the new setting (the explorer is rebuilt here, headless, from the
parameters the page reports), (3) no JavaScript console error and no error output outside
the unsolved exercises; then, in the same page at 1280 px (:mod:`tests.browser.figures`), that
no control label is clipped, a Chinese glossary term renders in real glyphs, and the first
self-check answers with its explanation. A screenshot of each explorer after the change is kept
in ``test-artifacts/browser/``.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest

from dlcore.explorers import EXPLORERS, get_factory

from .figures import check_figures
from .lab import (CANVAS_WATCH_JS, LATENCY_RESULT_JS, canvas_digest, error_outputs, open_notebook, readout,
                  run_all, shutdown_kernels)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = [ch for ch in EXPLORERS if (ROOT / "course" / ch / f"{ch}.ipynb").exists()]
# A dropped connection (a kernel's websocket closing under load) is the network, not a script
# error; every other console error fails the test.
IGNORED_CONSOLE = ("net::ERR_CONNECTION_RESET", "net::ERR_ABORTED")
LATENCY: dict[str, float] = {}


def _is_exercise_error(src: str) -> bool:
    # (the capstone's carry cell is an answer cell: unsolved chapters beside it make it fail)
    return "NotImplementedError" in src or "check_" in src or "run_student" in src or "carry(" in src


def _close(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b))
    return str(a) == str(b)


@pytest.fixture
def fresh_kernels(lab_server):
    yield
    shutdown_kernels(lab_server["url"])


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_explorer_in_lab(chapter, lab_server, page, artifacts, fresh_kernels):
    page.set_viewport_size({"width": 1280, "height": 900})
    open_notebook(page, lab_server["url"], f"{chapter}/{chapter}.ipynb")
    run_all(page)
    explorer = page.locator(".dl-explorer").first
    explorer.wait_for(state="attached", timeout=60_000)
    explorer.scroll_into_view_if_needed()
    explorer.wait_for(state="visible", timeout=30_000)
    params_before, numbers_before = readout(explorer)
    pixels_before = canvas_digest(page, explorer)

    handle = explorer.locator(".noUi-handle").first
    assert handle.count() == 1, "the explorer has no slider to move"
    # Move right, or left when the slider already sits at its maximum.
    at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
    key = "ArrowLeft" if at_max else "ArrowRight"
    handle.focus()
    page.evaluate(CANVAS_WATCH_JS, [".dl-explorer", 10_000])
    t0 = time.monotonic()
    page.keyboard.press(key)
    latency_ms = page.evaluate(LATENCY_RESULT_JS)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # wait until the read-out reflects the new value
        params_after, numbers_after = readout(explorer)
        if params_after != params_before:
            break
        time.sleep(0.2)
    assert params_after != params_before, "moving the slider did not change the explorer's parameters"
    time.sleep(0.5)
    params_after, numbers_after = readout(explorer)
    pixels_after = canvas_digest(page, explorer)
    assert pixels_after != pixels_before, "the figure's pixels did not change after the slider moved"
    LATENCY[chapter] = latency_ms
    record = artifacts / "latency.json"
    data = json.loads(record.read_text()) if record.exists() else {}
    data[chapter] = round(latency_ms, 1)
    record.write_text(json.dumps(data, indent=1, sort_keys=True))
    print(f"\n{chapter}: slider -> first changed pixels {latency_ms:.0f} ms (wall {1000 * (time.monotonic() - t0):.0f} ms)")

    expected = get_factory(chapter)(**params_after)
    assert set(expected.numbers) == set(numbers_after), (expected.numbers, numbers_after)
    mismatched = {k: (numbers_after[k], v) for k, v in expected.numbers.items() if not _close(float(v) if isinstance(v, (int, float)) else v, numbers_after[k])}
    assert not mismatched, f"read-out differs from dlcore (shown, expected): {mismatched}"

    explorer.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"{chapter}.png"), clip=explorer.bounding_box(), full_page=True)
    bad_console = [m for m in page.console_errors if not any(s in m for s in IGNORED_CONSOLE)]
    assert not bad_console, f"JavaScript console errors: {bad_console}"
    stray = [(src[:80], err[:200]) for src, err in error_outputs(page) if not _is_exercise_error(src)]
    assert not stray, f"error output outside the exercises: {stray}"

    check_figures(page, chapter, artifacts)
