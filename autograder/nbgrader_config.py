"""nbgrader configuration for the course (release from solutions/ to course/).

Per-term grading data (submissions, gradebook, feedback) never lives in the repository:
``python -m autograder grade --root DIR`` points those steps at DIR.
"""
import os

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

_here = os.path.dirname(os.path.abspath(__file__))
_repo = os.path.dirname(_here)

c.CourseDirectory.root = _repo
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "course"
c.CourseDirectory.course_id = "dl-fundamentals"
c.CourseDirectory.db_url = "sqlite:///" + os.environ.get(
    "DLCOURSE_RELEASE_DB", os.path.join(os.environ.get("TMPDIR", "/tmp"), "dlcourse-release.db")
)
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.Exchange.root = os.environ.get("DLCOURSE_EXCHANGE", os.path.join(os.environ.get("TMPDIR", "/tmp"), "dlcourse-exchange"))
c.Execute.timeout = 60
