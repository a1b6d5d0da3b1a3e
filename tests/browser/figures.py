"""What the explorers and self-checks look like to a student in JupyterLab at 1280 px (used by
``test_explorers_browser.py``, which opens each chapter once for both).

Per chapter, after Run All in the student notebook: (1) no control label of the explorer is
clipped (each label's scrollWidth ≤ its clientWidth, so "temperat…" cannot come back); (2) a
Chinese glossary term renders real glyphs — two different characters draw different, non-empty
pixels (a browser without a CJK font draws the same empty box for both); (3) answering the
chapter's first self-check (run on its own: Run All stops at the first unsolved exercise) shows
its feedback and the explanation of the option chosen, at once; (4) a text box among the controls
(chapter 7's custom kernel) sits on a row of its own instead of wrapping mid-row.
"""
from __future__ import annotations

import html
import re
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]

CLIPPED_LABELS_JS = """
(sel) => {
  const out = [];
  for (const root of document.querySelectorAll(sel)) {
    if (root.offsetParent === null) continue;          // an explorer in a hidden tab
    for (const el of root.querySelectorAll('.widget-label, .widget-label-basic, label, .widget-button, .jupyter-button')) {
      if (el.offsetParent === null || !el.textContent.trim()) continue;   // hidden or empty
      if (el.scrollWidth > el.clientWidth + 1)
        out.push([el.textContent.trim(), el.scrollWidth, el.clientWidth]);
    }
  }
  return out;
}
"""

# Draw two different CJK characters in the font the glossary cell uses; real glyphs differ and have
# ink, the .notdef box of a missing font is the same for both.
CJK_GLYPHS_JS = """
(term) => {
  // only the open notebook: Lab restores earlier tabs, hidden, with their own glossaries
  const cells = [...document.querySelectorAll('.jp-RenderedMarkdown td')].filter(td => td.offsetParent !== null);
  const cell = cells.find(td => td.textContent.includes(term));
  if (!cell) return {found: false};
  const font = getComputedStyle(cell).font || '16px sans-serif';
  const range = document.createRange();
  const node = [...cell.childNodes].find(n => n.textContent.includes(term)) || cell;
  range.selectNodeContents(node);
  const width = range.getBoundingClientRect().width;
  const draw = (ch) => {
    const c = document.createElement('canvas'); c.width = 64; c.height = 64;
    const g = c.getContext('2d'); g.font = font.replace(/\\d+(\\.\\d+)?px/, '40px'); g.fillStyle = '#000';
    g.fillText(ch, 4, 48);
    const d = g.getImageData(0, 0, 64, 64).data;
    let ink = 0; for (let i = 3; i < d.length; i += 4) ink += d[i] > 0 ? 1 : 0;
    return {ink, data: c.toDataURL()};
  };
  const a = draw(term[0]), b = draw(term[1]);
  return {found: true, width, inkA: a.ink, inkB: b.ink, differ: a.data !== b.data, font};
}
"""


# A text box that shares its row with another control has wrapped mid-row.
SHARED_ROW_JS = """
(sel) => {
  const out = [];
  for (const root of document.querySelectorAll(sel)) {
    if (root.offsetParent === null) continue;
    const ctls = [...root.querySelectorAll('[class*="dl-ctl-"]')].filter(el => el.offsetParent !== null);
    for (const box of ctls.filter(el => el.querySelector('textarea'))) {
      const b = box.getBoundingClientRect();
      for (const el of ctls) {
        if (el === box || box.contains(el) || el.contains(box)) continue;
        const r = el.getBoundingClientRect();
        if (r.top < b.bottom - 1 && r.bottom > b.top + 1) out.push([box.className, el.className]);
      }
    }
  }
  return out;
}
"""


def _first_self_check(chapter: str):
    """The chapter's first self-check, built from its text source as the notebook cell builds it."""
    import re

    from dlcore.explorers.selfcheck import ask

    text = (ROOT / "chapters" / f"{chapter}.py").read_text()
    cell = next(c for c in re.split(r"^# %%.*$", text, flags=re.M) if "selfcheck import ask" in c)
    ns = {"ask": ask}
    exec(cell.replace("from dlcore.explorers.selfcheck import ask", "_check = None"), ns)  # noqa: S102
    return eval(cell[cell.index("ask("):].strip(), ns)  # noqa: S307 - our own chapter text


def _glossary_term(chapter: str) -> str:
    """The first Chinese term of the chapter's glossary table (two or more CJK characters)."""
    import re

    text = (ROOT / "chapters" / f"{chapter}.py").read_text()
    rows = [r for r in text[text.index("## Glossary"):].splitlines()
            if r.startswith("# |") and "English" not in r and "---" not in r]   # the table's body
    return next(m.group(0) for row in rows if (m := re.search(r"[\u4e00-\u9fff]{2,}", row)))


def _scroll_until(page, locator, timeout_s: float = 60.0) -> None:
    """Scroll the notebook down until ``locator`` is rendered (Lab renders only cells near view)."""
    import time

    deadline = time.monotonic() + timeout_s
    while locator.count() == 0 and time.monotonic() < deadline:
        page.evaluate("""() => { for (const el of document.querySelectorAll(
            '.jp-WindowedPanel-outer, .jp-NotebookPanel-notebook, .jp-Notebook')) el.scrollTop += 1500; }""")
        time.sleep(0.3)
    locator.first.scroll_into_view_if_needed(timeout=30_000)


def check_figures(page, chapter: str, artifacts) -> None:
    """(1) no clipped control label, (2) a glossary term drawn in real CJK glyphs, (3) a self-check
    answered with its explanation: in the notebook already open and run in ``page``."""
    nb = page.locator(".jp-NotebookPanel:visible")   # Lab may restore earlier notebooks as hidden tabs
    explorer = nb.locator(".dl-explorer").first
    explorer.wait_for(state="attached", timeout=60_000)
    explorer.scroll_into_view_if_needed()
    explorer.wait_for(state="visible", timeout=30_000)
    clipped = page.evaluate(CLIPPED_LABELS_JS, ".dl-explorer")
    assert not clipped, f"{chapter}: clipped control labels (text, scrollWidth, clientWidth): {clipped}"
    shared = page.evaluate(SHARED_ROW_JS, ".dl-explorer")
    assert not shared, f"{chapter}: a text box wraps mid-row beside other controls: {shared}"

    term = _glossary_term(chapter)
    _scroll_until(page, nb.locator(".jp-RenderedMarkdown td", has_text=term))
    glyphs = page.evaluate(CJK_GLYPHS_JS, term)
    assert glyphs["found"], f"{chapter}: glossary term {term!r} not on the page"
    assert glyphs["width"] > 0 and glyphs["inkA"] > 0 and glyphs["inkB"] > 0, glyphs
    assert glyphs["differ"], f"{chapter}: {term[:2]!r} draw the same glyph (no CJK font?): {glyphs['font']}"

    # Run All stops at the first unsolved exercise (the kernel aborts the rest), so run the first
    # self-check cell itself, as a student reading on would.
    cell = nb.locator(".jp-CodeCell", has_text="selfcheck import ask")
    _scroll_until(page, cell)
    cell.first.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    _scroll_until(page, nb.locator(".dl-selfcheck"))
    check = nb.locator(".dl-selfcheck").first
    check.locator(".dl-selfcheck-option").first.click()
    feedback = check.locator(".dl-selfcheck-feedback-body").first
    feedback.wait_for(state="visible", timeout=30_000)
    text = " ".join(feedback.inner_text().split())
    expected = _first_self_check(chapter).options[0]                 # option A was clicked
    explanation = " ".join(html.unescape(re.sub(r"<[^>]+>", "", expected.explanation)).split())
    assert ("A: Right." if expected.correct else "A: Not quite.") in text, text
    assert explanation in text, (text, explanation)
    check.screenshot(path=str(artifacts / f"selfcheck_{chapter}.png"))
