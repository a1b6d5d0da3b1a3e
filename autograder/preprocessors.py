"""nbgrader preprocessors the course adds: a bounded Execute, sanitising, and trimmed feedback.

``SandboxExecute`` runs the submission in the sandbox kernel with a per-cell timeout, a
per-notebook time budget and a cap on the bytes of output kept per cell and per notebook; a
kernel that dies (``os._exit``, the CPU or memory limit), a cell that ignores the interrupt
(it is killed), or a budget that runs out costs the cells still to come (they get an error
output, so their tests score 0), never the cells before. It runs only the cells a grade or
the student's feedback depends on — the chapter's setup cells, the student's cells and the
tests, up to the last test (:func:`autograder.trusted.graded_path`, the same cells trusted
scoring runs) — and leaves the chapter's demonstrations and explorers unrun: no grade reads
them, and they were half of a notebook's grading time. ``%matplotlib widget`` is dropped
there: the kernel's backend is matplotlib's inline one, so a figure the student's own code
draws shows in the feedback.

``SanitizeNotebook`` runs right after it: nothing a student wrote can be active when the
instructor opens the autograded notebook in formgrader or the student opens the feedback —
only plain text and validated PNG/JPEG outputs are kept, markdown that is not the
instructor's is rendered and then cleaned of every tag and attribute that can run code,
notebook and cell metadata are reset to the source's, and hidden-test lines are scrubbed from
every output.

``DropDuplicateIds`` replaces nbgrader's ``DeduplicateIds``: a copy-pasted graded cell loses
its nbgrader metadata entirely (nbgrader leaves an empty dict that later passes read as a cell
without a ``grade_id``, failing the whole notebook).

``TrimTracebacks`` runs in ``GenerateFeedback`` before ``ClearHiddenTests``: a test cell's error
becomes ``Name: message`` when it was raised by a visible line, and a plain "a hidden test
failed" when it was raised inside ``### BEGIN/END HIDDEN TESTS`` (or cannot be located), so
neither a hidden test's source nor its values reach the student.
"""
from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import sys
import time
from pathlib import Path

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import ClearSolutions, DeduplicateIds, Execute, NbGraderPreprocessor
from traitlets import Bool, Integer, Unicode

from dlcore.carry import is_carry_cell  # noqa: F401 - also the tests' name for it
from dlcore.testing import INTEGRITY_MARK  # defined once, in the checking module

KERNEL_DIED = "KernelDied"
KERNEL_STOPPED = "KernelStopped"
BUDGET_EXCEEDED = "NotebookTimeBudgetExceeded"
OUTPUT_LIMIT = "[output truncated: "
WIDGET_MAGIC = "%matplotlib widget"
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_LINE = re.compile(r"Cell In\s*\[[^\]]*\],\s*line (\d+)")


# Where one notebook's grading time went, in this process (autograder.grade resets and reads it;
# benchmarks/bench_grading.py prints it): seconds per stage.
STAGES: dict[str, float] = {}


def _stage(name: str, seconds: float) -> None:
    STAGES[name] = round(STAGES.get(name, 0.0) + seconds, 4)


def source_notebook(source_directory: str, resources) -> dict:
    """The instructor's notebook for this submission (parsed once per file version: five passes
    of the pipeline read it)."""
    info = (resources or {}).get("nbgrader", {})
    path = Path(source_directory) / info.get("assignment", "") / f"{info.get('notebook', '')}.ipynb"
    st = path.stat()
    return _parsed(str(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=16)
def _parsed(path: str, _mtime: int, _size: int) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def _out_bytes(msg: dict) -> int:
    content = msg.get("content", {})
    if "text" in content:
        return len(content["text"])
    if "data" in content:
        return sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in content["data"].values())
    if "traceback" in content:
        return sum(len(t) for t in content["traceback"]) + len(str(content.get("evalue", "")))
    return 0


class SandboxExecute(Execute):
    """Execute with a per-notebook budget and output caps; a dead, stuck or spent kernel fails
    only the remaining cells."""

    budget = Integer(300, help="Seconds of wall-clock time for the whole notebook.").tag(config=True)
    max_cell_output = Integer(256 * 1024, help="Bytes of output kept per cell; the rest is dropped "
                              "with a note.").tag(config=True)
    max_notebook_output = Integer(4 * 2**20, help="Bytes of output kept per notebook.").tag(config=True)
    graded_path_only = Bool(True, help="Run only the cells a grade or the student's feedback depends on "
                            "(setup, the student's cells, the tests); the chapter's demonstrations and "
                            "explorers stay unrun. Needs source_directory; without it every cell runs."
                            ).tag(config=True)
    source_directory = Unicode("", help="Folder of the instructor's notebooks (<source>/<assignment>/<nb>.ipynb)."
                               ).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        t0 = time.monotonic()
        try:
            return self._preprocess(nb, resources, km)
        finally:
            _stage("kernel", time.monotonic() - t0)

    def _preprocess(self, nb, resources=None, km=None):
        self._deadline = time.monotonic() + self.budget
        self._run: set[int] | None = None
        if self.graded_path_only and self.source_directory:
            from autograder.trusted import graded_path

            try:
                self._run = graded_path(nb, source_notebook(self.source_directory, resources))
            except (OSError, ValueError):
                self._run = None
        self._stopped: NotebookNode | None = None
        self._nb_bytes = 0
        self._cell_bytes: dict[int, int] = {}
        self._truncated: set[int] = set()
        return super().preprocess(nb, resources, km)

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        left = int(self._deadline - time.monotonic()) + 1
        return max(1, min(timeout, left)) if timeout else max(1, left)

    def output(self, outs, msg, display_id, cell_index):
        size = _out_bytes(msg)
        used = self._cell_bytes.get(cell_index, 0)
        if msg.get("msg_type") != "error" and (used + size > self.max_cell_output
                                               or self._nb_bytes + size > self.max_notebook_output):
            if cell_index not in self._truncated:
                self._truncated.add(cell_index)
                limit = "cell" if used + size > self.max_cell_output else "notebook"
                cap = self.max_cell_output if limit == "cell" else self.max_notebook_output
                outs.append(NotebookNode(output_type="stream", name="stdout",
                                         text=f"\n{OUTPUT_LIMIT}this {limit} printed more than {cap} bytes; "
                                              "the rest was dropped]\n"))
            return None
        self._cell_bytes[cell_index] = used + size
        self._nb_bytes += size
        return super().output(outs, msg, display_id, cell_index)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._run is not None and index not in self._run:
            # A demonstration or explorer of the chapter: no grade reads it, and a static feedback
            # page cannot show a widget anyway.
            cell.outputs = []
            cell.execution_count = None
            return cell, resources
        if self._run is not None and WIDGET_MAGIC in cell.source:
            shown = cell.source
            # The kernel's backend is already the inline one (a figure the student's code draws
            # shows in the feedback); the magic would import pyplot for nothing.
            cell.source = shown.replace(WIDGET_MAGIC, "")
            try:
                return self._run_cell(cell, resources, index)
            finally:
                cell.source = shown
        return self._run_cell(cell, resources, index)

    def _run_cell(self, cell, resources, index):
        t0 = time.monotonic()
        try:
            return self._run_cell_timed(cell, resources, index)
        finally:
            _stage("kernel_cells", time.monotonic() - t0)

    def _run_cell_timed(self, cell, resources, index):
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
            cell.outputs = [o for o in cell.outputs if o.get("output_type") != "error"]
            cell.outputs.append(_error(KERNEL_DIED, "the kernel died while running this cell"))
            return cell, resources
        except CellTimeoutError:
            # The interrupt did not stop it (SIGINT ignored, a long C call): kill the kernel; the
            # points of the cells before stay, the cells after cannot run without its state.
            self._kill_kernel()
            self._stopped = _error(KERNEL_STOPPED, "an earlier cell did not stop when interrupted; the "
                                   "kernel was stopped and this cell was not run")
            cell.outputs = [o for o in cell.outputs if o.get("output_type") != "error"]
            cell.outputs.append(_error("CellTimeoutError", "this cell did not finish within the time limit "
                                       "and did not stop when interrupted, so the kernel was stopped"))
            return cell, resources

    def _kill_kernel(self) -> None:
        from jupyter_core.utils import run_sync

        try:
            run_sync(self.km.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001 - already gone is fine
            pass


_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")
_CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
_SAFE_TAGS = ["a", "abbr", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4", "h5",
              "h6", "hr", "i", "li", "ol", "p", "pre", "span", "strong", "sub", "sup", "table", "tbody", "td",
              "th", "thead", "tr", "ul"]


def safe_image(data) -> bool:
    """A PNG/JPEG payload that is plain base64 (nothing that could leave an ``src`` attribute)."""
    if not isinstance(data, str) or not _BASE64.match(data):
        return False
    try:
        base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def safe_markdown(source: str) -> str:
    """Untrusted markdown as cleaned HTML on one line (one verbatim HTML block when re-rendered).

    Rendered with nbconvert's own markdown (math kept for MathJax), then every tag, attribute
    and URL scheme that can run code is removed (bleach); newlines become ``&#10;`` so the
    result cannot be split into markdown again.
    """
    import bleach
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    html = markdown2html_mistune(source)
    clean = bleach.clean(html, tags=_SAFE_TAGS, attributes={"a": ["href", "title"], "*": ["class"]},
                         protocols=["http", "https", "mailto"], strip=True)
    return '<div class="dlcourse-answer">' + clean.replace("\r", "").replace("\n", "&#10;") + "</div>"


class SanitizeNotebook(NbGraderPreprocessor):
    """Make an executed submission inert: see the module docstring."""

    source_directory = Unicode("", help="Folder of the instructor's notebooks (<source>/<assignment>/<nb>.ipynb); "
                               "its markdown is trusted and its hidden tests are scrubbed from outputs.").tag(config=True)

    def _source(self, resources) -> dict:
        info = resources.get("nbgrader", {})
        path = Path(self.source_directory) / info.get("assignment", "") / f"{info.get('notebook', '')}.ipynb"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"cells": [], "metadata": {}}

    def preprocess(self, nb, resources):
        from autograder.release import hidden_lines

        src = self._source(resources)
        self._hidden = sorted(hidden_lines(src), key=len, reverse=True)
        self._trusted = {"".join(c.get("source", "")) for c in src.get("cells", []) if c.get("cell_type") == "markdown"}
        meta = src.get("metadata", {})
        nb.metadata = NotebookNode({k: meta[k] for k in ("kernelspec", "language_info") if k in meta})
        seen_ids: set[str] = set()
        for i, cell in enumerate(nb.cells):
            if not _CELL_ID.match(str(cell.get("id", ""))) or cell.get("id") in seen_ids:
                cell["id"] = f"cell-{i}"
            seen_ids.add(cell["id"])
        return super().preprocess(nb, resources)

    def scrub(self, text: str) -> str:
        text = scrub(text)
        plain = _ANSI.sub("", text)  # tracebacks colour each token: match on the plain text
        if any(h in plain for h in self._hidden):
            text = "\n".join("[a line of a hidden test was removed]" if any(h in line for h in self._hidden)
                              else line for line in plain.split("\n"))
        return text

    def preprocess_cell(self, cell, resources, index):
        grader_meta = cell.metadata.get("nbgrader")
        cell.metadata = NotebookNode({"nbgrader": grader_meta} if grader_meta is not None else {})
        cell.pop("attachments", None)
        if cell.cell_type == "markdown":
            if cell.source not in self._trusted:
                cell.source = safe_markdown(cell.source)
        elif cell.cell_type == "raw":
            import html

            cell.source = html.escape(cell.source)
        elif cell.cell_type == "code":
            cell.outputs = [o for o in (self._output(o) for o in cell.get("outputs", [])) if o is not None]
        return cell, resources

    def _output(self, out):
        kind = out.get("output_type")
        if kind == "stream":
            return NotebookNode(output_type="stream", name=out.get("name", "stdout") if out.get("name") in
                                ("stdout", "stderr") else "stdout", text=self.scrub(str(out.get("text", ""))))
        if kind == "error":
            return NotebookNode(output_type="error", ename=self.scrub(str(out.get("ename", "Error"))),
                                evalue=self.scrub(str(out.get("evalue", ""))),
                                traceback=[self.scrub(str(t)) for t in out.get("traceback", [])])
        if kind in ("execute_result", "display_data"):
            data = out.get("data", {})
            keep = {}
            if isinstance(data.get("text/plain"), str):
                keep["text/plain"] = self.scrub(data["text/plain"])
            for mime in ("image/png", "image/jpeg"):
                if safe_image(data.get(mime)):
                    keep[mime] = data[mime]
            if not keep:
                return None
            node = NotebookNode(output_type=kind, data=NotebookNode(keep), metadata=NotebookNode())
            if kind == "execute_result":
                node["execution_count"] = out.get("execution_count") if isinstance(out.get("execution_count"), int) else None
            return node
        return None


class ClearSolutionsKeepCarry(ClearSolutions):
    """nbgrader's ``ClearSolutions``, except that a carry cell reaches the student as it is: its
    ``carry(...)`` call is the same for the instructor (it carries the model solutions of the
    chapters beside it) and for the student (it carries theirs); a stub would lose it."""

    def preprocess_cell(self, cell, resources, cell_index):
        if is_carry_cell(cell):
            return cell, resources
        return super().preprocess_cell(cell, resources, cell_index)


class DropDuplicateIds(DeduplicateIds):
    """nbgrader's DeduplicateIds (the last copy of a grade_id wins), with the earlier copies'
    nbgrader metadata removed rather than emptied."""

    def preprocess_cell(self, cell, resources, cell_index):
        meta = cell.metadata.get("nbgrader")
        if meta is not None and not meta.get("grade_id"):
            del cell.metadata["nbgrader"]  # an empty or id-less block (a paste gone wrong)
            return cell, resources
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.metadata.get("nbgrader") == {}:
            del cell.metadata["nbgrader"]
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
    """Reduce test-cell errors to their message; hide anything raised by a hidden test.

    Once a cell with hidden tests has run, the student's own code could have kept what it saw
    (the hidden inputs) and print it later: the feedback shows no output of a non-test cell
    after that point, only the test cells' verdicts.
    """

    _after_hidden = False

    def preprocess(self, nb, resources):
        self._after_hidden = False
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        meta = cell.metadata.get("nbgrader", {})
        is_test = bool(meta.get("grade")) and not meta.get("solution")
        hidden = hidden_line_range(cell.source) if is_test else set()
        if not is_test and self._after_hidden:
            if cell.outputs:
                cell.outputs = [NotebookNode(output_type="stream", name="stdout",
                                             text="[this cell's output is not shown in the feedback: it ran after "
                                                  "hidden tests]\n")]
            return cell, resources
        self._after_hidden = self._after_hidden or bool(hidden)
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


class TrustedScore(NbGraderPreprocessor):
    """Decide every test cell's points outside the student's process (:mod:`autograder.trusted`).

    Runs after the notebook was executed and sanitized, before ``SaveAutoGrades``. For each
    autograded test cell it puts the grader's verdict first among the cell's outputs: a line of
    text that says, for the student, what passed and what failed, then an ``execute_result``
    whose plain text is the points (nbgrader reads the first such output as the cell's score
    and stops there). What the student's own process printed follows, unchanged and no longer
    counted.
    """

    source_directory = Unicode("", help="Folder of the instructor's notebooks (<source>/<assignment>/<nb>.ipynb)."
                               ).tag(config=True)
    cache_directory = Unicode("", help="Where the sandbox's library (a dlcore without references) is built."
                              ).tag(config=True)
    timeout = Integer(30, help="Seconds the student's code may take per test cell.").tag(config=True)
    budget = Integer(300, help="Seconds the student's code may take over the whole notebook.").tag(config=True)
    report = Unicode("", help="A JSON file for the grader: verdicts, notes and flags.").tag(config=True)

    def _source_nb(self, resources) -> dict:
        return source_notebook(self.source_directory, resources)

    def _score(self, nb, source_nb):
        import os
        import tempfile

        from autograder.trusted import score_notebook

        kernel_runtime = os.environ.get("DLCOURSE_SANDBOX_RUNTIME")
        if kernel_runtime:
            # beside the kernel's folder, not in it: each sandbox sees only its own
            runtime = kernel_runtime.rstrip("/") + "-t"
            os.makedirs(runtime, mode=0o700, exist_ok=True)
        else:
            runtime = tempfile.mkdtemp(prefix="dlcourse-trusted-")
        status = os.environ.get("DLCOURSE_SANDBOX_STATUS")
        cache = self.cache_directory or os.path.join(tempfile.gettempdir(), "dlcourse-trusted-lib")
        t0 = time.monotonic()
        outcome = score_notebook(nb, source_nb, timeout=self.timeout, cache_root=Path(cache), runtime=runtime,
                                 status=(status + ".trusted") if status else None, budget=self.budget)
        return outcome, round(time.monotonic() - t0, 3)

    def preprocess(self, nb, resources):
        import os

        from autograder.trusted import plan

        source_nb = self._source_nb(resources)
        early = resources.pop(_EARLY, None)
        outcome = None
        if early is not None:
            thread, box, steps = early
            t0 = time.monotonic()
            thread.join()
            _stage("trusted_wait", time.monotonic() - t0)
            # Scored from the cells as they were before the kernel ran; the same cells still
            # (nothing after ClearHiddenTests changes a code cell's source or role), or again here.
            if "outcome" in box and plan(nb, source_nb) == steps:
                outcome, seconds = box["outcome"]
        if outcome is None:
            outcome, seconds = self._score(nb, source_nb)
            _stage("trusted_wait", seconds)
        _stage("trusted", seconds)
        self._verdicts = outcome.verdicts
        nb, resources = super().preprocess(nb, resources)
        report = self.report or os.environ.get("DLCOURSE_TRUSTED_REPORT", "")
        if os.environ.get("DLCOURSE_TRUSTED_TIMING"):
            print(f"trusted scoring: {seconds} s", file=sys.stderr)
        if report:
            data = {"verdicts": {k: {"points": v.points, "max_points": v.max_points, "message": v.message,
                                     "hidden": v.hidden, "flags": v.flags, "seconds": v.seconds,
                                     "parts": [[p[0], p[1], p[2], p[3]] for p in v.parts]}
                                 for k, v in outcome.verdicts.items()},
                    "notes": outcome.notes, "flags": outcome.flags(), "routes": outcome.routes,
                    "similar": outcome.similar, "seconds": seconds}
            Path(report).parent.mkdir(parents=True, exist_ok=True)
            Path(report).write_text(json.dumps(data, indent=1, sort_keys=True))
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        from autograder.trusted import is_test

        if not is_test(cell):
            return cell, resources
        gid = cell.metadata["nbgrader"].get("grade_id")
        points = float(cell.metadata["nbgrader"].get("points", 0))
        v = self._verdicts.get(gid)
        if v is None:
            from autograder.trusted import Verdict

            v = Verdict(gid, 0.0, points, "this test could not be run by the grader")
        cell.outputs = verdict_outputs(v) + [o for o in cell.outputs]
        return cell, resources



_EARLY = "dlcourse_trusted_early"


class TrustedScoreEarly(TrustedScore):
    """Start :class:`TrustedScore`'s work before the student's kernel runs, beside it.

    The grade does not depend on the kernel's run (only on the cells' sources, fixed by then), so
    the grader's scoring process runs while the kernel does — a notebook's two sandboxes overlap
    instead of taking turns, and each spends much of its time waiting. ``TrustedScore`` later
    takes the result if the cells it would score are still the same (it scores again otherwise).
    Same settings as ``TrustedScore`` (``c.TrustedScore.*`` configures both).
    """

    def preprocess(self, nb, resources):
        import copy
        import os
        import threading

        from autograder.trusted import plan

        # Side by side only where each sandbox has a uid of its own (bubblewrap, as root): an
        # ordinary grader's two sandboxes would share one process limit, and a student's fork
        # bomb in one would starve the other. There TrustedScore scores after the kernel, in turn.
        if os.geteuid() != 0 or os.environ.get("DLCOURSE_SANDBOX_MODE", "bwrap") != "bwrap":
            return nb, resources
        try:
            source_nb = self._source_nb(resources)
        except (OSError, ValueError):
            return nb, resources  # TrustedScore reports it
        frozen = copy.deepcopy(nb)
        box: dict = {}

        def work():
            try:
                box["outcome"] = self._score(frozen, source_nb)
            except BaseException as exc:  # noqa: BLE001 - TrustedScore scores again and raises it there
                box["error"] = exc

        thread = threading.Thread(target=work, name="trusted-score", daemon=True)
        thread.start()
        resources[_EARLY] = (thread, box, plan(frozen, source_nb))
        return nb, resources

def verdict_outputs(v) -> list[NotebookNode]:
    """The grader's verdict as the first outputs of a test cell (see :class:`TrustedScore`): a
    line of text for the student, then an ``execute_result`` whose text is the points, which
    nbgrader reads as the cell's score. Plain text only, like every other output."""
    lines = [f"Autograder: {v.points:g} of {v.max_points:g} points." + (f" {v.message}" if v.message else "")]
    for p in v.parts:
        lines.append(f"  {'✓' if p[3] else '✗'} {p[0]}: {p[1]:g} of {p[2]:g}" + ("" if p[3] else f" — {p[4]}"))
    lines.append("(Your functions were run again by the grader, in a fresh process, on its own cases, hidden ones "
                 "included; these points count, not what this cell printed in your notebook.)")
    text = NotebookNode(output_type="stream", name="stdout", text="\n".join(lines) + "\n")
    points = NotebookNode(output_type="execute_result", execution_count=None, metadata=NotebookNode(),
                          data=NotebookNode({"text/plain": f"{v.points:g}"}))
    return [text, points]
