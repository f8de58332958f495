"""nbgrader configuration for the cs231n-lec7 course (one assignment, ``lec7``).

Lay the course out first, then run nbgrader from this folder or from the course folder::

    python -m autograder.nbgrader_course build _build/nbgrader   # source/lec7/ from the one source tree
    nbgrader generate_assignment lec7                             # release/lec7/: what students get
    # students' work goes to submitted/<student_id>/lec7/ (nbgrader collect, or by hand)
    nbgrader autograde lec7                                       # runs student code: use a throwaway machine
    python -m autograder.nbgrader_course grade-packages _build/nbgrader   # package scores from the sandbox
    nbgrader generate_feedback lec7                               # hidden tests stripped, see below
    nbgrader export                                               # grades.csv

The check cells' scores from ``autograde`` come from the student's own kernel, where the
student's package can patch the checks; ``grade-packages`` replaces them in the gradebook with
the sandboxed grader's (see ``autograder/nbgrader_course.py``).

Which folder is the course: the folder of this file when it holds ``source/`` (the
copy that ``build`` writes into the course folder), else ``$LEC7_COURSE_DIR``, else
``_build/nbgrader`` beside this file (gitignored). The layout is documented in
``autograder/nbgrader_course.py``.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.isdir(os.path.join(HERE, "source")):
    COURSE_DIR = HERE
else:
    COURSE_DIR = os.path.abspath(os.environ.get("LEC7_COURSE_DIR") or os.path.join(HERE, "_build", "nbgrader"))
ASSIGNMENT = "lec7"
PACKAGE = "cs231n_lec7"

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

# -- the course -------------------------------------------------------------
c.CourseDirectory.course_id = "cs231n-lec7"
c.CourseDirectory.root = COURSE_DIR
# Files never copied between source / submitted / autograded / feedback folders.
# "autograder" and "_lec7_reference": a submission must not shadow the instructor's
# `autograder` package (the hidden tests import `autograder.notebook.run_hidden`).
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
                            "autograder", "_lec7_reference*", "*.egg-info"]
# The exchange (nbgrader release_assignment / collect) lives under the course, not
# in /usr/local/share/nbgrader/exchange.
c.Exchange.root = os.path.join(COURSE_DIR, "exchange")

# -- releasing --------------------------------------------------------------
# What a code solution cell becomes in the student's notebook.
c.ClearSolutions.code_stub = {
    "python": '# YOUR CODE HERE\nraise NotImplementedError("write your answer in this cell, then run it")'
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# -- autograding --------------------------------------------------------------
# nbgrader's sanitizing steps, with its OverwriteCells replaced by ours: nbgrader's warns
# "Attribute 'checksum' for cell ... has changed!" for every check cell with hidden tests
# even when the student did not touch it (the stored checksum includes the hidden tests,
# the released cell does not). Ours is silent for exactly that difference and still warns
# about (and undoes) any other change to a locked cell.
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "autograder.nbgrader_course.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Seconds per cell. Every notebook runs in well under a minute in total; a cell that
# takes two minutes is an infinite loop.
c.Execute.timeout = 120
c.ExecutePreprocessor.timeout = 120
c.Execute.interrupt_on_timeout = True
# nbgrader's own list, with two changes. ExecuteGradedCells instead of Execute: only
# autograder, solution and setup cells run (the locked demonstration cells change no
# grade and hold nearly all the running time; they keep no output). IgnoreReturnValues
# right after execution: a number shown as a check cell's result would otherwise be
# taken as partial credit.
c.Autograde.autograde_preprocessors = [
    "autograder.nbgrader_course.ExecuteGradedCells",
    "autograder.nbgrader_course.IgnoreReturnValues",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# The package students edit is what gets graded: autograde copies the source
# folder's files over the submission unless listed here. Every module of the
# package is the student's; the visible checks (checks/, expected values) are
# restored from the release so a tampered check cannot pass a wrong answer.
_package = os.path.join(COURSE_DIR, "source", ASSIGNMENT, PACKAGE)
_students_files = []
for _dirpath, _dirnames, _filenames in os.walk(_package):
    _dirnames[:] = [d for d in _dirnames if d not in ("checks", "__pycache__")]
    for _fname in _filenames:
        if _fname.endswith(".py"):
            _rel = os.path.relpath(os.path.join(_dirpath, _fname), os.path.join(COURSE_DIR, "source", ASSIGNMENT))
            _students_files.append(_rel)
c.Autograde.exclude_overwriting = {ASSIGNMENT: sorted(_students_files)}

# -- feedback ---------------------------------------------------------------
# nbgrader's feedback HTML would show the hidden-test regions of the autograded
# notebooks and everything their cells printed (the student's own prints of hidden
# inputs, tracebacks). This preprocessor removes the regions and replaces those
# cells' outputs by a note with the cell's score; it runs after GetGrades so the
# scores are still read from the gradebook.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograder.nbgrader_course.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
