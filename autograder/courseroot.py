"""A term's grading root as an nbgrader course directory: ``DIR/nbgrader_config.py``.

The course's configuration is the repository's ``nbgrader_config.py``; a grading root adds
only where this term's data lives. The same function serves the wrapper (``grade``,
``feedback``, ``export``) and the small config file written into the root, so that plain
nbgrader run there — ``cd DIR && jupyter lab`` (formgrader), ``cd DIR && nbgrader export`` —
sees exactly what the wrapper sees::

    DIR/nbgrader_config.py        loads <repo>/nbgrader_config.py, then configure(c, DIR, source)
    DIR/submitted/ autograded/ feedback/ gradebook.db
    DIR/.autograder/              the wrapper's own state (results, kernelspec, exchange)

The source stays in the repository (``solutions/``, given as an absolute path), never copied.
"""
from __future__ import annotations

import os
from pathlib import Path

from autograder.release import REPO

CONFIG_NAME = "nbgrader_config.py"
_MARK = "# written by `python -m autograder`"

TEMPLATE = '''{mark}: this term's grading root as an nbgrader course directory.
# The course's configuration is the repository's nbgrader_config.py; this adds where the term's data lives.
# Rewritten by `collect`, `grade` and `formgrader`; edit the repository's file instead.
import os
c = get_config()  # noqa: F821
load_subconfig({repo_config!r})  # noqa: F821
from autograder.courseroot import configure
configure(c, os.path.dirname(os.path.abspath(__file__)), {source!r})
'''


def configure(c, root, source=REPO / "solutions") -> None:
    """Point nbgrader's per-term steps at ``root``; the source notebooks stay at ``source``."""
    root = Path(root).resolve()
    cd = c.CourseDirectory
    cd.root = str(root)
    cd.source_directory = str(Path(source).resolve())
    cd.release_directory = str(root / ".autograder" / "release")
    cd.submitted_directory = "submitted"
    cd.autograded_directory = "autograded"
    cd.feedback_directory = "feedback"
    cd.db_url = "sqlite:///" + str(root / "gradebook.db")
    exchange = root / ".autograder" / "exchange"
    exchange.mkdir(parents=True, exist_ok=True)  # the Lab extensions log CRITICAL errors without it
    c.Exchange.root = str(exchange)
    # The grading pipeline reads the instructor's notebooks (trusted markdown, hidden tests) from
    # the source, also when formgrader's own "autograde" runs it.
    c.SanitizeNotebook.source_directory = cd.source_directory
    c.SandboxExecute.source_directory = cd.source_directory
    c.TrustedScore.source_directory = cd.source_directory
    c.ShowRubric.source_directory = cd.source_directory
    c.TrustedScore.cache_directory = str(root / ".autograder" / "trusted-lib")


def write_config(root, source=REPO / "solutions") -> Path | None:
    """Write (or refresh) ``root/nbgrader_config.py``; None when the instructor has a file of their own there.

    An own file (e.g. the hub's course root, whose config points formgrader at the hub's
    exchange) is left as it is: the wrapper never reads it (it configures itself in-process
    with :func:`configure`), so grading works the same either way.
    """
    root = Path(root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    path = root / CONFIG_NAME
    text = TEMPLATE.format(mark=_MARK, repo_config=str(REPO / CONFIG_NAME), source=str(Path(source).resolve()))
    if path.is_symlink():
        raise ValueError(f"{path} is a symbolic link; refusing to write through it")
    if path.exists():
        old = path.read_text(encoding="utf-8", errors="replace")
        if old == text:
            return path
        if not old.startswith(_MARK):
            return None
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
