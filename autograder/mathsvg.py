"""Formulas in feedback as inline SVG, drawn at feedback time: the page needs no MathJax and no network.

``RenderMath`` (a GenerateFeedback preprocessor) replaces ``$…$`` and ``$$…$$`` in markdown
cells by SVG drawn with matplotlib's mathtext (a TeX subset). A few commands mathtext lacks
are rewritten to ones it has (``\\text`` → ``\\mathrm``, ``\\lVert`` → ``\\Vert``, …); a
formula it still cannot draw is shown as its TeX source in ``<code>``, so nothing is lost.
Code spans are left alone. :func:`strip_mathjax` removes the MathJax ``<script>`` tags that
nbgrader's feedback template adds (they would fetch MathJax from a CDN).
"""
from __future__ import annotations

import html
import io
import re
from functools import lru_cache

from nbconvert.preprocessors import Preprocessor

_MATH = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<![\\$])\$(?!\s)([^$\n]+?)(?<![\\\s])\$(?!\$)", re.S)
_CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)
_REWRITE = [
    (re.compile(r"\\(?:text|textrm|operatorname)\s*\{"), r"\\mathrm{"),
    (re.compile(r"\\(?:lVert|rVert)"), r"\\Vert"),
    (re.compile(r"\\(?:lvert|rvert)"), r"|"),
    (re.compile(r"\\[tdc]frac"), r"\\frac"),
    (re.compile(r"\\frac\s*(\w)\s*(\w)"), r"\\frac{\1}{\2}"),
    (re.compile(r"\\(mathcal|mathbb|mathbf|mathrm)\s+(\w)"), r"\\\1{\2}"),
    (re.compile(r"_\\mathrm\{(\w+)\}"), r"_{\\mathrm{\1}}"),
    (re.compile(r"\\(?:big|Big|bigg|Bigg)[lr]?(?=[()\[\]|.])"), ""),
    (re.compile(r"\\(?:displaystyle|textstyle|,)\s*"), r"\\ "),
]
_MATHJAX_TAGS = re.compile(
    r"<script[^>]*(?:mathjax|MathJax)[^>]*>.*?</script>|<script type=\"text/x-mathjax-config\">.*?</script>", re.S)


def _normalise(tex: str) -> str:
    for pat, rep in _REWRITE:
        tex = pat.sub(rep, tex)
    return " ".join(tex.split())


@lru_cache(maxsize=4096)
def tex_to_svg(tex: str, display: bool = False) -> str | None:
    """``tex`` as an inline ``<svg>`` element, or None when mathtext cannot draw it."""
    from matplotlib import mathtext
    from matplotlib.font_manager import FontProperties

    buf = io.StringIO()
    try:
        mathtext.math_to_image(f"${_normalise(tex)}$", buf, prop=FontProperties(size=15 if display else 12),
                               dpi=72, format="svg")
    except Exception:  # noqa: BLE001 - mathtext raises ValueError and friends for what it cannot parse
        return None
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>|<!--.*?-->", "", svg, flags=re.S)
    svg = " ".join(svg.split())  # one line: markdown keeps an inline element in its paragraph
    label = html.escape(tex, quote=True)
    style = "display:block;margin:0.4em auto" if display else "vertical-align:middle"
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" style="{style}" ', 1)


def render_markdown_math(text: str) -> str:
    def one(m: re.Match) -> str:
        display = m.group(1) is not None
        tex = (m.group(1) if display else m.group(2)).strip()
        svg = tex_to_svg(tex, display)
        if svg is None:
            return f"<code class='tex'>{html.escape(tex)}</code>"
        return svg

    parts = _CODE.split(text)
    return "".join(p if i % 2 else _MATH.sub(one, p) for i, p in enumerate(parts))


def strip_mathjax(page: str) -> str:
    return _MATHJAX_TAGS.sub("", page)


class RenderMath(Preprocessor):
    """Draw the formulas of markdown cells as inline SVG (see the module docstring)."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown" and "$" in cell.source:
            cell.source = render_markdown_math(cell.source)
        return cell, resources
