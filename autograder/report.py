"""`python -m autograder report --root DIR --html OUT`: the class at a glance, one static page.

From the gradebook and the grading results: per chapter, each exercise's score distribution
(a small histogram), the tests that fail most often, the grading time per notebook, and the
flags. Plots are inline SVG drawn by matplotlib; the page loads nothing from anywhere, so it
opens offline and can be mailed or archived as it is.
"""
from __future__ import annotations

import html
import io
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path

from autograder.feedback import all_results
from autograder.grade import _atomic_write

_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:0.25em 0.6em;text-align:left}
th{background:#f3f3f3}.plots{display:flex;flex-wrap:wrap;gap:0.5em}.plots figure{margin:0}
figcaption{font-size:0.85em;text-align:center}h2{border-bottom:2px solid #ddd;padding-bottom:0.2em}"""


def _svg_hist(values: list[float], max_points: float, title: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2.8, 1.9), dpi=72)
    top = max(max_points, max(values, default=0.0), 1e-9)
    bins = min(10, max(2, int(round(top * 2)) if top <= 5 else 10))
    ax.hist(values, bins=bins, range=(0, top), color="#4a7ab5", edgecolor="white")
    ax.set_title(title, fontsize=8)
    ax.set_xlabel("points", fontsize=7)
    ax.set_ylabel("students", fontsize=7)
    ax.tick_params(labelsize=6)
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})  # the same class gives the same page
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]


def collect_stats(root: Path) -> dict:
    """chapter -> {exercise -> scores, failures Counter, seconds, max}; read from the gradebook."""
    from nbgrader.api import Gradebook

    root = Path(root).resolve()
    db = root / "gradebook.db"
    if not db.exists():
        raise FileNotFoundError(f"report: no gradebook at {db}; run `python -m autograder grade --root {root}` first")
    stats: dict = {}
    with Gradebook("sqlite:///" + str(db)) as gb:
        for a in sorted(gb.assignments, key=lambda a: a.name):
            ch = {"max": float(a.max_score), "exercises": defaultdict(list), "ex_max": {}, "failures": Counter(),
                  "totals": [], "seconds": [], "flags": Counter(), "submissions": 0}
            for sub in a.submissions:
                ch["submissions"] += 1
                ch["totals"].append(float(sub.score))
                for nb in sub.notebooks:
                    for g in nb.grades:
                        name = g.cell.name
                        ch["ex_max"][name] = float(g.max_score)
                        if g.score is not None:
                            ch["exercises"][name].append(float(g.score))
                        if g.cell_type == "code" and g.auto_score is not None and g.auto_score < g.max_score:
                            ch["failures"][name] += 1
            stats[a.name] = ch
    for r in all_results(root):
        if r.chapter in stats:
            if r.seconds:
                stats[r.chapter]["seconds"].append(float(r.seconds))
            for f in r.flags:
                stats[r.chapter]["flags"][f.partition(":")[0]] += 1
    return stats


def render(stats: dict, title: str = "Class report") -> str:
    e = html.escape
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{e(title)}</title>"
             f"<style>{_CSS}</style></head><body><h1>{e(title)}</h1>",
             "<table><tr><th>chapter</th><th>submissions</th><th>mean score</th><th>median</th><th>max points</th>"
             "<th>most common failing test</th><th>grading time per notebook (median / max s)</th></tr>"]
    for name, ch in stats.items():
        common = ch["failures"].most_common(1)
        fail = f"{e(common[0][0])} ({common[0][1]} of {ch['submissions']})" if common else "none"
        secs = (f"{statistics.median(ch['seconds']):.1f} / {max(ch['seconds']):.1f}" if ch["seconds"] else "–")
        mean = f"{statistics.mean(ch['totals']):.1f}" if ch["totals"] else "–"
        med = f"{statistics.median(ch['totals']):g}" if ch["totals"] else "–"
        parts.append(f"<tr><td><a href='#{e(name)}'>{e(name)}</a></td><td>{ch['submissions']}</td><td>{mean}</td>"
                     f"<td>{med}</td><td>{ch['max']:g}</td><td class='fail'>{fail}</td><td>{secs}</td></tr>")
    parts.append("</table>")
    for name, ch in stats.items():
        parts.append(f"<h2 id='{e(name)}'>{e(name)}</h2>")
        if ch["failures"]:
            parts.append("<p>Failing tests, most common first:</p><table><tr><th>test</th><th>submissions failing</th></tr>")
            parts += [f"<tr><td>{e(k)}</td><td>{v}</td></tr>" for k, v in ch["failures"].most_common()]
            parts.append("</table>")
        if ch["flags"]:
            parts.append("<p>Flags: " + ", ".join(f"{e(k)} × {v}" for k, v in sorted(ch["flags"].items())) + "</p>")
        parts.append("<div class='plots'>")
        parts.append(f"<figure>{_svg_hist(ch['totals'], ch['max'], 'chapter total')}"
                     f"<figcaption>{e(name)}: total</figcaption></figure>")
        for ex in sorted(ch["ex_max"]):
            parts.append(f"<figure>{_svg_hist(ch['exercises'].get(ex, []), ch['ex_max'][ex], ex)}"
                         f"<figcaption>{e(ex)}</figcaption></figure>")
        parts.append("</div>")
    parts.append("</body></html>\n")
    return "".join(parts)


def report(root: Path, out_html: Path, out=None, err=None) -> int:
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    try:
        stats = collect_stats(root)
    except FileNotFoundError as exc:
        print(exc, file=err)
        return 1
    _atomic_write(Path(out_html), render(stats, f"Class report: {Path(root).resolve().name}"))
    print(f"report: {len(stats)} chapters -> {out_html}", file=out)
    return 0
