"""Ungraded self-check questions that answer on the spot (ipywidgets; work in JupyterLab and Voila).

A chapter asks one with a call::

    selfcheck.ask("On the saddle, which optimizer escapes last at the default settings?", [
        ("SGD", False, "SGD escapes at step 49, before Adagrad."),
        ("Adagrad", True, "Right: step 86 — its steps only shrink."),
    ], predict="Move the explorer's surface to saddle first, then answer.")

Each option carries whether it is right and the explanation shown when it is chosen, so every
option teaches something. Nothing is graded or stored; the feedback is computed in the kernel,
so it works wherever widgets do (Voila included). :meth:`SelfCheck.choose` is the same action as
a click, for tests.
"""
from __future__ import annotations

import html
from typing import NamedTuple


class Option(NamedTuple):
    text: str
    correct: bool
    explanation: str


class SelfCheck:
    """One multiple-choice question with an explanation per option (HTML allowed in the texts)."""

    css_class = "dl-selfcheck"

    def __init__(self, question: str, options, predict: str | None = None) -> None:
        self.question = question
        self.predict = predict
        self.options = [Option(*o) for o in options]
        if len(self.options) < 2:
            raise ValueError(f"SelfCheck: a question needs at least two options, got {len(self.options)}")
        if not any(o.correct for o in self.options):
            raise ValueError(f"SelfCheck: no option of {question!r} is marked correct")
        self.chosen: int | None = None
        self._widget = None

    @property
    def letters(self) -> list[str]:
        return [chr(ord("A") + i) for i in range(len(self.options))]

    def feedback_html(self, i: int) -> str:
        o = self.options[i]
        mark, colour, word = ("✓", "#1a7f37", "Right.") if o.correct else ("✗", "#b00020", "Not quite.")
        return (f"<div class='dl-selfcheck-feedback-body' data-correct='{str(o.correct).lower()}' "
                f"style='border-left:4px solid {colour};padding:0.3em 0.6em;margin-top:0.3em'>"
                f"<b style='color:{colour}'>{mark} {self.letters[i]}: {word}</b> {o.explanation}</div>")

    def choose(self, i: int) -> str:
        """Choose option ``i`` (0-based) as a click would; returns the feedback's HTML."""
        if not 0 <= i < len(self.options):
            raise ValueError(f"SelfCheck.choose: option must be in 0..{len(self.options) - 1}, got {i}")
        self.chosen = i
        text = self.feedback_html(i)
        if self._widget is not None:
            self._feedback.value = text
            for k, b in enumerate(self._buttons):
                b.button_style = ("success" if self.options[k].correct else "danger") if k == i else ""
        return text

    @property
    def widget(self):
        if self._widget is None:
            import ipywidgets as W

            rows, self._buttons = [], []
            for k, (letter, o) in enumerate(zip(self.letters, self.options)):
                b = W.Button(description=letter, layout=W.Layout(width="2.6em", flex="0 0 auto"),
                             tooltip=f"choose {letter}")
                b.add_class("dl-selfcheck-option")
                b.on_click(lambda _b, k=k: self.choose(k))
                self._buttons.append(b)
                label = W.HTML(f"<span class='dl-selfcheck-text'>{o.text}</span>",
                               layout=W.Layout(flex="1 1 auto", width="auto"))
                rows.append(W.HBox([b, label], layout=W.Layout(align_items="center")))
            head = f"<b>Self-check.</b> {self.question}"
            if self.predict:
                head += f"<br><i>{self.predict}</i>"
            self._feedback = W.HTML("")
            self._feedback.add_class("dl-selfcheck-feedback")
            box = W.VBox([W.HTML(head), *rows, self._feedback],
                         layout=W.Layout(border="1px solid #ddd", padding="0.4em 0.8em", margin="0.5em 0"))
            box.add_class(self.css_class)
            self._widget = box
        return self._widget

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def __repr__(self) -> str:
        return f"<self-check: {html.unescape(self.question)[:60]}…>"


def ask(question: str, options, predict: str | None = None) -> SelfCheck:
    """A self-check question: ``options`` is a list of ``(text, correct, explanation)``."""
    return SelfCheck(question, options, predict=predict)
