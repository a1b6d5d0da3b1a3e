"""Driving a notebook in JupyterLab the way a student does (Playwright, sync API)."""
from __future__ import annotations

import ast
import hashlib
import json
import time

# Starts a watch (not awaited) that records the milliseconds until the explorer's figure canvas
# shows new pixels; read the result with LATENCY_RESULT_JS after moving a control.
CANVAS_WATCH_JS = """
([sel, timeoutMs]) => {
  const root = document.querySelector(sel);
  const canvas = root && root.querySelector('.jupyter-matplotlib-canvas-div canvas');
  window.__dlLatency = new Promise((resolve) => {
    if (!canvas) { resolve(-1); return; }
    const before = canvas.toDataURL();
    const t0 = performance.now();
    const tick = () => {
      if (canvas.toDataURL() !== before) { resolve(performance.now() - t0); return; }
      if (performance.now() - t0 > timeoutMs) { resolve(-1); return; }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  return true;
}
"""
LATENCY_RESULT_JS = "() => window.__dlLatency"


def wait_kernel_idle(page, timeout: float = 90.0, settle: float = 0.5) -> None:
    """Wait until the status bar names the kernel and says Idle (twice, `settle` seconds apart)."""
    deadline = time.monotonic() + timeout
    seen_idle = None
    while time.monotonic() < deadline:
        text = page.locator("#jp-main-statusbar").inner_text()
        busy_cells = page.locator(".jp-InputPrompt:has-text('[*]')").count()
        if "ipykernel" in text and "Idle" in text and busy_cells == 0:
            if seen_idle is None:
                seen_idle = time.monotonic()
            elif time.monotonic() - seen_idle >= settle:
                return
        else:
            seen_idle = None
        time.sleep(0.2)
    raise AssertionError(f"kernel did not become idle within {timeout}s; status bar: {text!r}")


def open_notebook(page, base_url: str, rel_path: str) -> None:
    for attempt in (1, 2):
        page.goto(f"{base_url}/lab/tree/{rel_path}", timeout=90_000)
        try:
            page.wait_for_selector(".jp-Notebook .jp-Cell", state="attached", timeout=60_000)
            break
        except Exception:
            if attempt == 2:
                raise
    wait_kernel_idle(page)


def run_all(page) -> None:
    page.evaluate("window.jupyterapp.commands.execute('runmenu:run-all')")
    time.sleep(1.0)
    wait_kernel_idle(page, timeout=180)


def canvas_digest(page, explorer) -> str:
    """Hash of the explorer figure's pixels, once two screenshots in a row agree (ipympl is async)."""
    canvas = explorer.locator(".jupyter-matplotlib-canvas-div").first
    canvas.scroll_into_view_if_needed(timeout=30_000)
    previous = None
    for _ in range(40):
        box = canvas.bounding_box()
        # A page screenshot clipped to the canvas: no waiting for "stable" elements, whose
        # checks can stall for seconds on a page with many live figures.
        digest = hashlib.sha256(page.screenshot(clip=box, timeout=60_000)).hexdigest()
        if digest == previous:
            return digest
        previous = digest
        time.sleep(0.25)
    raise AssertionError("the figure never settled: consecutive screenshots kept changing")


def readout(explorer) -> tuple[dict, dict]:
    """(params, numbers) published by the explorer's read-out."""
    body = explorer.locator(".dl-readout-body").first
    params = json.loads(body.get_attribute("data-params"))
    numbers = {}
    spans = body.locator(".dl-num")
    for i in range(spans.count()):
        span = spans.nth(i)
        raw = span.get_attribute("data-value")  # repr() of the value
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = float(raw) if raw in ("nan", "inf", "-inf") else raw
        numbers[span.get_attribute("data-name")] = float(value) if isinstance(value, (int, float)) else value
    return params, numbers


def shutdown_kernels(base_url: str) -> None:
    """Stop every kernel session of the test server, so the next notebook has the CPU to itself."""
    import urllib.request

    with urllib.request.urlopen(f"{base_url}/api/sessions", timeout=10) as r:
        sessions = json.loads(r.read())
    for session in sessions:
        req = urllib.request.Request(f"{base_url}/api/sessions/{session['id']}", method="DELETE")
        urllib.request.urlopen(req, timeout=30).close()


def error_outputs(page) -> list[tuple[str, str]]:
    """(cell source, error text) for every cell that shows an error or stderr output."""
    found = []
    cells = page.locator(".jp-Notebook .jp-CodeCell")
    for i in range(cells.count()):
        cell = cells.nth(i)
        errs = cell.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        if errs.count():
            src = cell.locator(".jp-InputArea .cm-content").inner_text()
            found.append((src, errs.first.inner_text()[:500]))
    return found
