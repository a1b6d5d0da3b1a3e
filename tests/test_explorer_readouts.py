"""Every explorer's read-out is for people: labelled rows, formatted numbers, no raw ``name = value``,
and every control's label sized to its text (the browser test checks the pixels)."""
import re

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from dlcore.explorers import EXPLORERS, get_factory  # noqa: E402
from dlcore.explorers.base import fmt  # noqa: E402


@pytest.mark.parametrize("chapter", list(EXPLORERS))
def test_read_out_is_labelled_rows_not_raw_name_value_pairs(chapter):
    e = get_factory(chapter)()
    e.widget
    html = e.readout.value
    assert "dl-row" in html and "dl-label" in html
    visible = re.sub(r"<span class='dl-num'[^>]*></span>", "", html)
    assert not re.search(r"\b[a-zA-Z]+_[a-zA-Z_0-9]+ = ", visible), visible[:400]   # no dmse_dw = …
    assert not re.search(r"\d\.\d{5,}", visible), visible[:400]                      # a few significant figures
    assert "e-0" not in visible and "e+0" not in visible                             # 1.3·10⁻⁵, not 1.3e-05
    for name in e.numbers:                                                           # the API keeps every number
        assert f"data-name='{name}'" in html


@pytest.mark.parametrize("chapter", list(EXPLORERS))
def test_no_control_label_has_a_fixed_width_that_cuts_it(chapter):
    e = get_factory(chapter)()
    e.widget
    for name, w in e.controls.items():
        style = getattr(w, "style", None)
        if style is not None and hasattr(style, "description_width"):
            assert style.description_width == "initial", (chapter, name, w.description)


def test_fmt_gives_a_few_significant_figures_and_true_minus_signs():
    assert fmt(-0.05610781449624657) == "−0.0561"
    assert fmt(1.856133144415106e-06) == "1.86·10⁻⁶"
    assert fmt(39) == "39" and fmt(0.5) == "0.5" and fmt(float("nan")) == "—"


def test_re_running_every_explorer_leaves_no_pyplot_figures_and_no_warning():
    """Re-running all cells in one kernel must not pile figures up in pyplot ("More than 20 figures")."""
    import subprocess
    import sys

    code = """
import warnings, matplotlib
matplotlib.use("module://ipympl.backend_nbagg")
import matplotlib.pyplot as plt
from dlcore.explorers import EXPLORERS, get_factory
from dlcore.explorers import ch06
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for _ in range(3):
        for ch in EXPLORERS:
            e = get_factory(ch)()
            e.widget
        ch06.plot_histories({"a": ch06.cached_history(ch06.load_overfitting_sweep(), 100, 0.0, 0.0)})
assert type(e.fig.canvas).__name__ == "Canvas" and e.fig.canvas.manager is not None
print(len(plt.get_fignums()), sum("figures have been opened" in str(w.message) for w in caught))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-2:] == ["0", "0"]


@pytest.mark.parametrize("chapter", list(EXPLORERS))
def test_buttons_take_the_width_of_their_label(chapter):
    """ipywidgets' default button is 148 px wide: "recompute this setting live" was cut (browser test)."""
    e = get_factory(chapter)()
    e.widget
    for name, w in e.controls.items():
        if type(w).__name__ == "Button":
            assert w.layout.width == "auto", (chapter, name)


@pytest.mark.parametrize("chapter", list(EXPLORERS))
def test_the_read_out_shown_is_the_one_of_the_current_state(chapter):
    """ch07 once built its rows after rendering them: the page showed the previous setting's rows."""
    e = get_factory(chapter)()
    e.widget
    for name, w in e.controls.items():
        kind = type(w).__name__
        if kind in ("IntSlider", "FloatSlider") and name in e.params:
            value = w.max if e.params[name] != w.max else w.min
            e.update(**{name: type(e.params[name])(value)})
            assert e.readout.value == e._readout_html(), (chapter, name)
            break


def _visible_readout_problems(html: str) -> list[str]:
    visible = re.sub(r"<span class='dl-num'[^>]*></span>", "", html)
    text = re.sub(r"<[^>]+>", " ", visible)
    problems = []
    if re.search(r"\b[a-zA-Z]+_[a-zA-Z_0-9]+\s*[=:]\s*[-−\d]", text):
        problems.append("raw name = value")
    for number in re.findall(r"\d+\.\d+", text):              # a few significant figures: 0.00433, not 0.004329
        if len(number.replace(".", "").lstrip("0")) > 4:
            problems.append(f"too many digits: {number}")
    if re.search(r"\de[-+]\d", text):
        problems.append("e-notation")
    if re.search(r"np\.(float|int)\d*\(|array\(", text):
        problems.append("a numpy repr")
    return problems


@pytest.mark.parametrize("chapter", list(EXPLORERS))
def test_read_out_stays_readable_at_every_slider_end_and_option(chapter):
    """Not only the default: every slider at its ends and every option of every dropdown."""
    e = get_factory(chapter)()
    e.widget
    seen = 0
    for name, w in e.controls.items():
        if name not in e.params or type(w).__name__ in ("Textarea", "Text", "Button"):
            continue
        kind = type(w).__name__
        if kind in ("IntSlider", "FloatSlider"):
            values = [w.min, w.max]
        elif kind == "FloatLogSlider":
            values = [w.base ** w.min, w.base ** w.max]
        elif kind in ("Dropdown", "ToggleButtons", "RadioButtons"):
            values = [v if not isinstance(v, tuple) else v[1] for v in w.options]
        elif kind in ("Checkbox", "ToggleButton"):
            values = [not w.value]
        else:
            continue
        default = e.params[name]
        for value in values:
            if isinstance(default, (int, float)) and not isinstance(default, bool):
                value = type(default)(value)
            e.update(**{name: value})
            assert e.readout.value == e._readout_html()
            problems = _visible_readout_problems(e.readout.value)
            assert not problems, (chapter, name, value, problems, re.sub(r"<[^>]+>", " ", e.readout.value)[:600])
            seen += 1
        e.update(**{name: default})
    assert seen >= 3, (chapter, seen)


def test_no_module_or_chapter_makes_figures_through_pyplot():
    """pyplot keeps every figure it made: a re-run of the cells would warn "More than 20 figures"."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    sources = [*sorted((root / "dlcore").rglob("*.py")), *sorted((root / "chapters").glob("ch*.py"))]
    assert len(sources) > 20
    using = [p.relative_to(root).as_posix() for p in sources
             if re.search(r"^\s*(import matplotlib\.pyplot|from matplotlib import pyplot|from matplotlib\.pyplot import)"
                          r"|\bplt\.(figure|subplots|show)\(", p.read_text(encoding="utf-8"), flags=re.M)]
    assert not using, using


def test_chapter_8_says_error_term_not_residual():
    """残差 is the error term δ; "residual" is what ResNets add. Only the sentence saying so may use the word."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    texts = {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in
             [root / "chapters" / "ch08_cnn_backprop.py", root / "dlcore" / "chapters" / "ch08.py",
              root / "dlcore" / "explorers" / "ch08.py", root / "dlcore" / "explorers" / "__init__.py",
              root / "README.md"]}
    for name, text in texts.items():
        for line in text.splitlines():
            if re.search(r"residual", line, flags=re.I):
                assert "not the \"residual\" of a ResNet" in line, (name, line)
    assert "error term δ" in EXPLORERS["ch08_cnn_backprop"][2]
    assert "残差" in texts["chapters/ch08_cnn_backprop.py"]


@pytest.mark.parametrize("chapter", list(EXPLORERS))
def test_every_legend_entry_of_an_explorer_has_data_behind_it(chapter):
    """ch05's "with your BN" and ch06's "recomputed live" once stood in the legend with nothing drawn."""
    e = get_factory(chapter)()
    checked = 0
    for ax in e.fig.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        entries = {t.get_text() for t in legend.get_texts()}
        for line in ax.get_lines():
            if line.get_label() in entries:
                assert len(line.get_xdata()) > 0, (chapter, line.get_label())
                checked += 1
    if chapter in ("ch05_batch_norm", "ch06_overfitting"):        # the two that had an empty entry
        assert checked >= 2, (chapter, checked)


def test_a_text_box_sits_in_a_full_width_row_of_its_own():
    """ch07's custom-kernel box had flex-basis 100 % but max-width 520 px, so it wrapped in beside the
    seed slider (the browser test measures the rows); its wrapper now spans the row."""
    import ipywidgets as W

    e = get_factory("ch07_cnn_layers")()
    row = e.widget.children[1]
    boxes = [c for c in row.children if isinstance(c, W.Box) and any(isinstance(k, W.Textarea) for k in c.children)]
    assert len(boxes) == 1 and boxes[0].layout.flex == "1 0 100%" and boxes[0].layout.width == "100%"
    assert not [c for c in row.children if isinstance(c, W.Textarea)]     # never a bare text box in the row
