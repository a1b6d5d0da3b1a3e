"""Late submissions, through nbgrader's own mechanism.

nbgrader reads a submission's time from ``submitted/<student>/<chapter>/timestamp.txt``
(written by ``collect``), the chapter's due date from the gradebook (``grade --due`` or
``nbgrader db assignment add CHAPTER --duedate=…``), and asks ``AssignLatePenalties``' plugin
for the penalty, which the gradebook stores beside the score. nbgrader ships ``none`` and
``zero``; :class:`PerDayPenalty` adds a percentage per started day.
"""
from __future__ import annotations

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float


class PerDayPenalty(LateSubmissionPlugin):
    """``percent_per_day`` of the notebook's score per started day (24 h) late, at most the score."""

    percent_per_day = Float(10.0, help="percent of the score lost per started day late").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float):
        if total_seconds_late <= 0:
            return None
        days = math.ceil(total_seconds_late / 86400)
        return min(score, score * self.percent_per_day / 100 * days)


def parse(policy: str) -> str:
    """Check a ``--late-penalty`` value (``none``, ``zero``, ``per-day:P``) and return it normalised."""
    policy = policy.strip().lower()
    if policy in ("none", "zero"):
        return policy
    if policy.startswith("per-day:"):
        try:
            p = float(policy.split(":", 1)[1])
        except ValueError:
            p = -1
        if 0 <= p <= 100:
            return f"per-day:{p:g}"
    raise ValueError(f"--late-penalty {policy!r}: expected none, zero or per-day:P with P a percentage 0-100")


def configure(cfg, policy: str) -> None:
    """Set nbgrader's late-penalty plugin for ``policy`` on a config object."""
    if policy.startswith("per-day:"):
        cfg.AssignLatePenalties.plugin_class = "autograder.late.PerDayPenalty"
        cfg.PerDayPenalty.percent_per_day = float(policy.split(":", 1)[1])
    else:
        cfg.AssignLatePenalties.plugin_class = "nbgrader.plugins.LateSubmissionPlugin"
        cfg.LateSubmissionPlugin.penalty_method = policy
