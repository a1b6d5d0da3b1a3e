"""Plausible wrong implementations of every graded exercise, one module per chapter.

Each module defines ``MISTAKES = {"chNN-<name>-impl": {"<mistake>": (source, expected_points)}}``:
the source of a solution cell that makes a mistake real students make (a sign error, the mean
over the wrong axis, an unstable formula, a shortcut that passes the visible cases, …) and the
points the grader must give it (0, or the points of the parts it does not break).
``tests/test_mistakes.py`` proves the grader gives exactly that, and the model solution full marks.
Write a mistake from the exercise's text, not from its hidden test.
"""
