"""nbgrader configuration for the course: the one file both nbgrader and ``python -m autograder`` read.

It sits at the repository root, nbgrader's convention, so plain nbgrader works from here
(``nbgrader generate_assignment ch01_objective_functions`` writes ``course/`` from
``solutions/``; ``nbgrader validate``, ``nbgrader db``, …).

Per-term grading data (submissions, gradebook, feedback) never lives in the repository: a
grading root ``DIR`` gets its own small ``DIR/nbgrader_config.py`` (written by
``python -m autograder collect|grade|formgrader --root DIR``) that loads this file and points
the per-term steps at ``DIR`` (:mod:`autograder.courseroot`); so ``cd DIR && jupyter lab``
(formgrader) and ``cd DIR && nbgrader …`` see the same course. The grading wrapper adds its
per-run settings (sandbox kernel, timeouts) on top.
"""
import os

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearHiddenTests, ClearMarkScheme,
                                    ClearOutput, ComputeChecksums, GetGrades, IgnorePattern, IncludeHeaderFooter,
                                    InstantiateTests, LimitOutput, LockCells, OverwriteCells, OverwriteKernelspec,
                                    SaveAutoGrades, SaveCells)

from autograder.mathsvg import RenderMath
from autograder.rubric import RubricFeedback, ShowRubric
from autograder.preprocessors import (ClearSolutionsKeepCarry, DropDuplicateIds, SandboxExecute, SanitizeNotebook,
                                      TrimTracebacks, TrustedScore, TrustedScoreEarly)

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

_repo = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.root = _repo
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "course"
c.CourseDirectory.course_id = "dl-fundamentals"
c.CourseDirectory.db_url = "sqlite:///" + os.environ.get(
    "DLCOURSE_RELEASE_DB", os.path.join(os.environ.get("TMPDIR", "/tmp"), "dlcourse-release.db")
)
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# nbgrader's release steps, with ClearSolutions keeping a carry cell's `carry(...)` call (the
# capstone's: it fills itself with the student's own functions from their other chapters).
c.GenerateAssignment.preprocessors = [IncludeHeaderFooter, InstantiateTests, LockCells, ClearSolutionsKeepCarry,
                                      ClearOutput, CheckCellMetadata, ComputeChecksums, SaveCells, ClearHiddenTests,
                                      ClearMarkScheme, ComputeChecksums, CheckCellMetadata]
c.Exchange.root = os.environ.get("DLCOURSE_EXCHANGE", os.path.join(os.environ.get("TMPDIR", "/tmp"), "dlcourse-exchange"))
os.makedirs(c.Exchange.root, exist_ok=True)  # nbgrader's Lab extensions log CRITICAL errors without it
c.Execute.timeout = 60

# Grading: copy-pasted graded cells de-duplicated, deleted or edited test cells restored from the
# source, a per-notebook time budget, output caps and dead/stuck-kernel handling (SandboxExecute),
# every output and answer made inert and free of hidden-test text (SanitizeNotebook) before
# anything is saved, and feedback that never shows hidden tests.
c.Autograde.sanitize_preprocessors = [ClearOutput, DropDuplicateIds, OverwriteKernelspec, OverwriteCells,
                                      CheckCellMetadata]
# The student's process never sees the hidden tests (ClearHiddenTests before it runs), and no test
# cell's points come from it: TrustedScore runs the tests, hidden ones included, in the grader's
# own process against the student's functions in a fresh sandbox (autograder/trusted.py), and puts
# its verdict first among each test cell's outputs, where SaveAutoGrades reads the score. That
# scoring starts before the kernel runs and runs beside it (TrustedScoreEarly): no grade depends
# on the kernel's run, so the two sandboxes overlap instead of taking turns (as root with
# bubblewrap, where each has a uid of its own; otherwise they take turns).
c.Autograde.autograde_preprocessors = [ClearHiddenTests, TrustedScoreEarly, SandboxExecute, SanitizeNotebook,
                                       IgnorePattern, ClearMetadataPreprocessor, LimitOutput, TrustedScore, ShowRubric,
                                       SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
c.TrustedScore.source_directory = os.path.join(_repo, "solutions")
# The student's kernel runs only what a grade or the feedback depends on (setup, the student's
# cells, the tests): the chapter's demonstrations and explorers stay unrun while grading.
c.SandboxExecute.source_directory = os.path.join(_repo, "solutions")
# Each written answer's rubric (lines R1, R2, …) follows it in formgrader; the grader cites the
# lines that apply in the comment ("R1 R2=0.5") and the feedback marks them (autograder/rubric.py).
c.ShowRubric.source_directory = os.path.join(_repo, "solutions")
c.OverwriteCells.add_missing_cells = True
# Formulas are drawn as inline SVG at feedback time (autograder.mathsvg): the page needs no MathJax CDN.
# MathJax for the formgrader from the instructor's own server (jupyter-server-mathjax), not a CDN:
# autograder/templates/base/mathjax.html.j2 overrides nbconvert's macro; nbgrader's templates follow.
from nbgrader.server_extensions.formgrader.handlers import template_path as _nbgrader_templates  # noqa: E402

c.HTMLExporter.extra_template_basedirs = [os.path.join(_repo, "autograder", "templates"), _nbgrader_templates]
c.GenerateFeedback.preprocessors = [TrimTracebacks, ClearHiddenTests, GetGrades, RubricFeedback, RenderMath,
                                    CSSHTMLHeaderPreprocessor]
