"""nbgrader preprocessors the course adds: a bounded Execute, and tracebacks trimmed for feedback.

``SandboxExecute`` runs the submission in the sandbox kernel with a per-cell timeout and a
per-notebook time budget; a kernel that dies (``os._exit``, the CPU or memory limit) or a
budget that runs out costs the cells still to come (they get an error output, so their tests
score 0) instead of the whole submission.

``TrimTracebacks`` runs in ``GenerateFeedback`` before ``ClearHiddenTests``: a test cell's error
becomes ``Name: message`` when it was raised by a visible line, and a plain "a hidden test
failed" when it was raised inside ``### BEGIN/END HIDDEN TESTS`` (or cannot be located), so
neither a hidden test's source nor its values reach the student.
"""
from __future__ import annotations

import re
import time

from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Integer

KERNEL_DIED = "KernelDied"
BUDGET_EXCEEDED = "NotebookTimeBudgetExceeded"
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
from dlcore.testing import INTEGRITY_MARK  # noqa: E402 - defined once, in the checking module
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_LINE = re.compile(r"Cell In\s*\[[^\]]*\],\s*line (\d+)")


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class SandboxExecute(Execute):
    """Execute with a per-notebook budget; a dead kernel or spent budget fails the remaining cells."""

    budget = Integer(300, help="Seconds of wall-clock time for the whole notebook.").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._deadline = time.monotonic() + self.budget
        self._stopped: NotebookNode | None = None
        return super().preprocess(nb, resources, km)

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        left = int(self._deadline - time.monotonic()) + 1
        return max(1, min(timeout, left)) if timeout else max(1, left)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._stopped is None and time.monotonic() > self._deadline:
            self._stopped = _error(BUDGET_EXCEEDED, f"the notebook used up its {self.budget} s time budget; "
                                   "this cell and the ones after it were not run")
        if self._stopped is not None:
            cell.outputs = [self._stopped]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._stopped = _error(KERNEL_DIED, "the kernel died (os._exit, a crash, or the memory/CPU "
                                   "limit); the cells after it were not run")
            cell.outputs = [_error(KERNEL_DIED, "the kernel died while running this cell")]
            return cell, resources


def hidden_line_range(source: str) -> set[int]:
    """1-based line numbers inside (and including) the hidden-test markers."""
    lines, inside, hidden = source.splitlines(), False, set()
    for i, line in enumerate(lines, start=1):
        if HIDDEN_BEGIN in line:
            inside = True
        if inside:
            hidden.add(i)
        if HIDDEN_END in line:
            inside = False
    return hidden


def failing_line(traceback: list[str]) -> int | None:
    """The line of the test cell itself (the outermost ``Cell In[..], line N`` frame)."""
    for entry in traceback:
        m = _CELL_LINE.search(_ANSI.sub("", entry))
        if m:
            return int(m.group(1))
    return None


def scrub(text: str) -> str:
    """Remove the hidden-test markers from output text (they would confuse ClearHiddenTests)."""
    return text.replace(HIDDEN_BEGIN, "[hidden-tests marker]").replace(HIDDEN_END, "[hidden-tests marker]")


class TrimTracebacks(NbGraderPreprocessor):
    """Reduce test-cell errors to their message; hide anything raised by a hidden test."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        meta = cell.metadata.get("nbgrader", {})
        is_test = bool(meta.get("grade")) and not meta.get("solution")
        hidden = hidden_line_range(cell.source) if is_test else set()
        points = meta.get("points")
        outputs, errored = [], False
        for out in cell.outputs:
            if out.get("output_type") == "error":
                ename, evalue = out.get("ename", "Error"), _ANSI.sub("", str(out.get("evalue", "")))
                if not is_test:
                    out["traceback"] = [scrub(_ANSI.sub("", t)) for t in out.get("traceback", [])]
                    out["evalue"] = scrub(evalue)
                    outputs.append(out)
                    continue
                if errored:
                    continue  # a cell stops at its first exception; later ones are nbgrader's copies
                errored = True
                line = failing_line(out.get("traceback", []))
                if ename in ("KeyboardInterrupt", "CellTimeoutError"):
                    outputs.append(_error("Timeout", "this cell did not finish within the time limit per cell "
                                          f"and was interrupted (0 of {points} points)"))
                elif evalue.startswith(INTEGRITY_MARK):
                    outputs.append(_error(ename, scrub(evalue)))
                elif hidden and (line is None or line in hidden):
                    outputs.append(_error("HiddenTestFailed", f"a hidden test of this cell failed "
                                          f"(0 of {points} points); the visible tests above passed"))
                else:
                    outputs.append(_error(ename, scrub(evalue)))
            elif is_test and hidden:
                continue  # prints from a test cell with hidden tests could show hidden inputs
            else:
                if "text" in out:
                    out["text"] = scrub(out["text"])
                outputs.append(out)
        cell.outputs = outputs
        return cell, resources
