"""Lay out an nbgrader course from the one source tree, and keep hidden tests out of feedback.

``python -m autograder.nbgrader_course build COURSE_DIR`` writes::

    COURSE_DIR/
      nbgrader_config.py        copy of the repository's (course id, exchange, timeouts,
                                exclude_overwriting, code stub, feedback preprocessors)
      README.md                 the commands below
      source/lec7/              nbgrader's "source" version of the one assignment
        NN_<topic>.ipynb        the source notebooks: solutions and hidden tests in place
        cs231n_lec7/            the STUDENT release of the package (stubs, visible checks,
                                expected values) from ``autograder.release`` -- never the
                                solution: ``nbgrader generate_assignment`` copies .py files
                                verbatim, and ``autograde`` copies source files over the
                                submission (except the package's modules, see the config)
        <other files>           anything else in notebooks/ (images a notebook shows)

Then, in COURSE_DIR (or in the repository: its nbgrader_config.py points here when
``LEC7_COURSE_DIR`` is set or the course is the default ``_build/nbgrader``)::

    nbgrader generate_assignment lec7      # release/lec7/: notebooks without solutions
    nbgrader autograde lec7                # submitted/<id>/lec7/ -> autograded/<id>/lec7/ (only the
                                           #   cells that can change a grade run: ExecuteGradedCells)
    python -m autograder.nbgrader_course grade-packages COURSE_DIR   # package scores: the sandbox's
    nbgrader generate_feedback lec7        # feedback/<id>/lec7/*.html, hidden tests removed
    nbgrader export                        # grades.csv
    python -m autograder.nbgrader_course verify-feedback COURSE_DIR

A submission folder ``submitted/<id>/lec7/`` holds the notebooks and the student's
``cs231n_lec7/`` beside them; the kernel runs in that folder, so ``import cs231n_lec7``
finds the student's package first (the current folder precedes the installed one).

What the hidden-test cells need: they call ``autograder.notebook.run_hidden``, which
must be importable in the kernel, i.e. this project installed (``pip install -e .``)
on the machine that runs ``nbgrader autograde``. It compares the student's package
with the instructor's solution, loaded from the installed tree under another name.
Nothing of ``autograder/`` is copied into the course, so it never reaches students;
a submitted folder named ``autograder`` is ignored (``CourseDirectory.ignore``) so it
cannot shadow the real one.

What the kernel-run cells can be trusted with, and what not: ``nbgrader autograde``
runs the student's notebooks -- and so the student's package -- in an ordinary
Jupyter kernel, with the instructor's rights, no sandbox, and the check cells in the
same process. A hostile package can replace ``check_exercise`` or ``run_hidden``
before they run (full marks on stubs), read the installed solution, or write any file
the instructor can, the gradebook included. So a check cell's score from the kernel
is only a preview. ``grade-packages`` (run after ``autograde``) grades each student's
``submitted/<id>/lec7/`` package with ``python -m autograder grade`` -- the sandboxed
worker, the judge's own checks and references -- and writes those scores into the
gradebook as the score of every check cell (``check_<module>_<function>``, nbgrader's
``manual_score``, which takes precedence over the kernel's ``auto_score``), and its
per-student ``results.json``/``feedback.md`` to ``COURSE_DIR/package_grades/``.
Each package is copied alone to a temporary folder before it is graded; under bubblewrap the
worker does not see the project, the home folder or /tmp, so keep the course in one of them (the
default ``_build/nbgrader`` is) and no worker sees another student's ``submitted/`` folder.
What the kernel run is still for: the notebooks' outputs and figures in the feedback,
and the short answers, which are graded by hand. Run ``autograde`` on a machine or
account you can throw away (a container): the kernel can do anything the account can.

Feedback: nbgrader's feedback HTML is rendered from the autograded notebooks, which
hold the hidden tests. :class:`HideHiddenTests` (listed in
``GenerateFeedback.preprocessors`` by nbgrader_config.py) removes every hidden-test
region and replaces ALL outputs of those cells (stdout, stderr, tracebacks, display
data) by one neutral note with the cell's score: a student's ``print`` inside a
function that a hidden test calls, or an error message quoting its arguments, would
otherwise reveal the hidden inputs. The visible checks of such a cell are the ones
the student runs in the released notebook, where their output is shown in full.
"""
from __future__ import annotations

import argparse
import glob
import os
import shutil
import sys
import tempfile

import nbformat
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from nbgrader.preprocessors import OverwriteCells as _NbgraderOverwriteCells

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASSIGNMENT = "lec7"
PACKAGE = "cs231n_lec7"
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
# What must never appear in a student's feedback.
HIDDEN_MARKERS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "run_hidden", "autograder.notebook")

README = """# nbgrader course for cs231n-lec7

Built by `python -m autograder.nbgrader_course build {course}` from the source tree.
Layout and rules: `autograder/nbgrader_course.py` in the project.

    cd {course}
    nbgrader generate_assignment lec7
    # put each student's work in submitted/<student_id>/lec7/ (notebooks + cs231n_lec7/)
    nbgrader autograde lec7
    # the package exercises' scores: from the sandboxed grader, not from the notebook kernel
    python -m autograder.nbgrader_course grade-packages {course}
    nbgrader generate_feedback lec7
    nbgrader export
    python -m autograder.nbgrader_course verify-feedback {course}
"""


class CourseError(Exception):
    """The course cannot be built; the message says why."""


# ------------------------------------------------------------------ feedback
def strip_hidden_region(source: str) -> tuple[str, bool]:
    """``source`` without its BEGIN/END HIDDEN TESTS regions; and whether one was found."""
    out, inside, found = [], False, False
    for line in source.split("\n"):
        if BEGIN_HIDDEN in line:
            inside, found = True, True
        elif END_HIDDEN in line:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out).rstrip("\n"), found


HIDDEN_OUTPUT_NOTE = "This cell ran hidden tests: its output is not shown in feedback."


def hidden_output_note(cell) -> str:
    """:data:`HIDDEN_OUTPUT_NOTE`, plus the cell's score when nbgrader's GetGrades has set it."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if meta.get("score") is None or meta.get("points") is None:
        return HIDDEN_OUTPUT_NOTE + "\n"
    return f"{HIDDEN_OUTPUT_NOTE} Score: {float(meta['score']):g} / {float(meta['points']):g}.\n"


def changes_a_grade(cell) -> bool:
    """True for the cells autograding must run: autograder and solution cells, and the setup cell.

    Every other code cell of the notebooks is a locked demonstration: nbgrader restores its
    source from the instructor's notebook, no score reads it, and no check cell depends on it
    (each check cell imports what it calls). Those cells hold nearly all of a notebook's
    running time.
    """
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if cell.cell_type != "code":
        return False
    return bool(meta.get("grade") or meta.get("solution") or not meta.get("locked")
                or meta.get("grade_id") == "setup")


class ExecuteGradedCells(Execute):
    """For autograding: nbgrader's Execute, running only the cells that can change a grade.

    One kernel per notebook as usual; the locked demonstration cells (see
    :func:`changes_a_grade`) are skipped and keep no output in the autograded
    notebook. Scores are the same as with every cell run; autograding one full
    submission takes a fraction of the time.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and not changes_a_grade(cell):
            cell.outputs = []
            return cell, resources
        return super().preprocess_cell(cell, resources, index)


class IgnoreReturnValues(NbGraderPreprocessor):
    """For autograding: a check cell's return value is not a score.

    nbgrader reads a number shown as a grade cell's result (``Out[n]: 3``) as
    partial credit. Our check cells pass by not raising, so the result is
    dropped from autograder cells before the grade is saved (a check that
    returns how many checks passed must not earn that many points).
    """

    def preprocess_cell(self, cell, resources, index):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            cell.outputs = [o for o in cell.get("outputs", []) if o.get("output_type") != "execute_result"]
        return cell, resources


class HideHiddenTests(NbGraderPreprocessor):
    """For feedback: drop hidden-test regions, and every output of their cells.

    A cell that held a hidden-test region keeps its visible source; its outputs
    (whatever the student's code printed while the hidden tests called it, a
    traceback quoting hidden values, display data) are replaced by
    :data:`HIDDEN_OUTPUT_NOTE` and the cell's score, which nbgrader's
    ``GetGrades`` (run before this) stores in the cell's metadata.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        cell.source, found = strip_hidden_region(cell.source)
        if found:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=hidden_output_note(cell))]
        return cell, resources


def released_source(source: str) -> str:
    """What nbgrader's ``ClearHiddenTests`` makes of a cell's ``source`` for the release."""
    from nbgrader.preprocessors import ClearHiddenTests

    cell = nbformat.v4.new_code_cell(source)
    ClearHiddenTests()._remove_hidden_test_region(cell)
    return cell.source


class OverwriteCells(_NbgraderOverwriteCells):
    """nbgrader's ``OverwriteCells`` without its false "checksum has changed" warnings.

    nbgrader stores a locked cell's checksum *before* it removes the hidden-test
    region for the release, so every check cell a student left untouched differs
    from the stored one by exactly that region: ``nbgrader autograde`` warned
    "Attribute 'checksum' for cell check_... has changed!" for each of them (24 per
    student with the eight notebooks), then put the stored source back. Here a cell
    whose source is the stored source minus its hidden tests -- the released cell --
    gets the stored source back silently; any other change to a locked cell is still
    reported and overwritten by nbgrader as before.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None and cell.cell_type == "code":
            try:
                stored = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
            except Exception:  # MissingEntry: nbgrader's own code below reports it
                stored = None
            if stored is not None and stored.locked and cell.source != stored.source \
                    and BEGIN_HIDDEN in stored.source and cell.source == released_source(stored.source):
                cell.source = stored.source
        return super().preprocess_cell(cell, resources, cell_index)


def feedback_leaks(folder: str) -> list[str]:
    """['file: marker'] for every feedback HTML file under ``folder`` that reveals a hidden test."""
    leaks = []
    for path in sorted(glob.glob(os.path.join(folder, "**", "*.html"), recursive=True)):
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        leaks += [f"{os.path.relpath(path, folder)}: {m}" for m in HIDDEN_MARKERS if m in text]
    return leaks


# --------------------------------------------------------------------- build
def source_notebooks(source_root: str = ROOT) -> list[str]:
    return sorted(glob.glob(os.path.join(source_root, "notebooks", "*.ipynb")))


def _check_notebook(path: str):
    """Refuse a notebook whose hidden tests nbgrader would mishandle."""
    import nbformat

    import copy

    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

    nb = nbformat.read(path, as_version=4)
    for n, cell in enumerate(nb.cells):
        # a dry run of nbgrader's own release step, so its errors name the cell
        for pre in (ClearSolutions(), ClearHiddenTests()):
            try:
                pre.preprocess_cell(copy.deepcopy(cell), {"language": "python"}, n)
            except RuntimeError as err:
                raise CourseError(f"{os.path.basename(path)} cell {n}: nbgrader cannot release it: {err} "
                                  f"(a line that mentions a marker counts as one)") from None
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if BEGIN_HIDDEN in cell.source and not meta.get("grade"):
            raise CourseError(f"{os.path.basename(path)} cell {n}: a hidden-test region outside an "
                              f"autograder cell (nbgrader metadata grade: true)")
        if cell.cell_type == "code" and meta.get("grade") and "run_hidden" in cell.source:
            _, found = strip_hidden_region(cell.source)
            if not found:
                raise CourseError(f"{os.path.basename(path)} cell {n}: run_hidden outside "
                                  f"### BEGIN HIDDEN TESTS ... ### END HIDDEN TESTS")


def build(course_dir: str, notebooks=None, force: bool = False, source_root: str = ROOT,
          assignment: str = ASSIGNMENT) -> str:
    """Write ``course_dir/source/<assignment>/`` and the course's nbgrader_config.py.

    notebooks: source notebooks to include (default: every ``notebooks/*.ipynb``).
    force: replace an existing ``source/<assignment>`` (submissions, autograded
    work and the gradebook are left alone).
    Returns the assignment's source folder.
    """
    from .release import make_release

    course_dir = os.path.abspath(course_dir)
    dest = os.path.join(course_dir, "source", assignment)
    if os.path.exists(dest) and not force:
        raise CourseError(f"{dest} exists (use --force to replace it)")
    notebooks = source_notebooks(source_root) if notebooks is None else [os.path.abspath(p) for p in notebooks]
    if not notebooks:
        raise CourseError(f"no notebooks to put in the course ({source_root}/notebooks/ has no .ipynb)")
    names = [os.path.basename(p) for p in notebooks]
    if len(set(names)) != len(names):
        raise CourseError("two notebooks share a file name")
    for path in notebooks:
        _check_notebook(path)

    staging = tempfile.mkdtemp(prefix="lec7-course-")
    try:
        release = os.path.join(staging, "release")
        make_release(release, notebooks=False, source_root=source_root)  # refuses if a solution line leaks
        src = os.path.join(staging, "source")
        shutil.copytree(os.path.join(release, PACKAGE), os.path.join(src, PACKAGE),
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for path in notebooks:
            shutil.copyfile(path, os.path.join(src, os.path.basename(path)))
        nb_dir = os.path.join(source_root, "notebooks")
        if os.path.isdir(nb_dir):
            for fname in sorted(os.listdir(nb_dir)):
                full = os.path.join(nb_dir, fname)
                if fname.startswith((".", "_")) or fname.endswith(".ipynb") or not os.path.isfile(full):
                    continue
                shutil.copyfile(full, os.path.join(src, fname))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        if os.path.exists(dest):
            shutil.rmtree(dest)
        shutil.copytree(src, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    shutil.copyfile(os.path.join(ROOT, "nbgrader_config.py"), os.path.join(course_dir, "nbgrader_config.py"))
    with open(os.path.join(course_dir, "README.md"), "w") as fh:
        fh.write(README.format(course=course_dir))
    return dest


# ------------------------------------------------------------ package scores
PACKAGE_GRADES = "package_grades"


def check_cell_exercises(config) -> dict:
    """{check cell grade_id: exercise id}: ``check_optim_adam`` grades ``optim.adam``."""
    return {"check_" + exercise.replace(".", "_"): exercise for exercise in config["exercises"]}


def _stage_submissions(course_dir: str, students, staging: str) -> list[str]:
    """Copy each student's ``submitted/<id>/<assignment>/`` to ``staging/<id>`` (links kept as links:
    the grader refuses them); a student without a submitted folder gets an empty one (graded as such)."""
    paths = []
    for student in students:
        src = os.path.join(course_dir, "submitted", student, ASSIGNMENT)
        dest = os.path.join(staging, student)
        if os.path.isdir(src) and not os.path.islink(src):
            shutil.copytree(src, dest, symlinks=True,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc"))
        else:
            os.makedirs(dest)
        paths.append(dest)
    return paths


def grade_packages(course_dir: str, jobs: int = 1, sandbox: str = "auto", progress: bool = True,
                   config=None) -> dict:
    """Grade every autograded student's package in the sandbox; write those scores into the gradebook.

    Returns ``{student: {grade_id: score}}`` of the check cells it set. Raises
    :class:`CourseError` when there is no gradebook or no autograded submission yet.
    """
    from nbgrader.api import Gradebook, MissingEntry

    from .grade import grade_batch, load_config

    course_dir = os.path.abspath(course_dir)
    config = config or load_config()
    db = os.path.join(course_dir, "gradebook.db")
    if not os.path.isfile(db):
        raise CourseError(f"{db} does not exist: run `nbgrader generate_assignment {ASSIGNMENT}` and "
                          f"`nbgrader autograde {ASSIGNMENT}` in {course_dir} first")
    with Gradebook("sqlite:///" + db) as gb:
        try:
            assignment = gb.find_assignment(ASSIGNMENT)
        except MissingEntry:
            raise CourseError(f"the gradebook has no assignment {ASSIGNMENT!r}: run "
                              f"`nbgrader generate_assignment {ASSIGNMENT}` first") from None
        students = sorted(sub.student.id for sub in assignment.submissions)
        cells = {nb.name: [cell.name for cell in nb.grade_cells] for nb in assignment.notebooks}
    if not students:
        raise CourseError(f"no autograded submission of {ASSIGNMENT}: run `nbgrader autograde {ASSIGNMENT}` first")
    by_cell = check_cell_exercises(config)
    targets = [(nb, cell, by_cell[cell]) for nb, names in sorted(cells.items()) for cell in names if cell in by_cell]
    if not targets:
        raise CourseError(f"no check cell of the notebooks names a configured exercise (expected grade ids "
                          f"like {next(iter(by_cell))})")
    out = os.path.join(course_dir, PACKAGE_GRADES)
    staging = tempfile.mkdtemp(prefix="lec7-packages-")
    try:
        paths = _stage_submissions(course_dir, students, staging)
        rows = {row["submission"]: row for row in grade_batch(paths, out, jobs=jobs, config=config,
                                                              mode=sandbox, progress=progress)}
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    written = {}
    with Gradebook("sqlite:///" + db) as gb:
        for student in students:
            row = rows[student]
            for nb_name, cell, exercise in targets:
                grade = gb.find_grade(cell, nb_name, ASSIGNMENT, student)
                points = float(config["exercises"][exercise]["points"])
                score = float(row.get(exercise) or 0.0) * float(grade.max_score) / points
                grade.manual_score = round(score, 6)
                grade.needs_manual_grade = False
                written.setdefault(student, {})[cell] = grade.manual_score
        gb.db.commit()
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.nbgrader_course",
                                     description="nbgrader course for cs231n-lec7 (see the module docstring)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="lay out COURSE_DIR/source/lec7 from the source tree")
    p.add_argument("course_dir", nargs="?", default=os.path.join(ROOT, "_build", "nbgrader"))
    p.add_argument("--notebook", action="append", default=None, metavar="PATH",
                   help="include only these notebooks (repeatable; default: notebooks/*.ipynb)")
    p.add_argument("--force", action="store_true", help="replace an existing source/lec7")
    p = sub.add_parser("grade-packages", help="after nbgrader autograde: grade each submitted package in the "
                                              "sandbox and write those scores into the gradebook")
    p.add_argument("course_dir")
    p.add_argument("--jobs", type=int, default=1, help="packages graded in parallel (default 1)")
    p.add_argument("--sandbox", choices=("auto", "bwrap", "subprocess"), default="auto")
    p.add_argument("--no-progress", action="store_true")
    p = sub.add_parser("verify-feedback", help="exit 1 if any feedback HTML reveals a hidden test")
    p.add_argument("course_dir")
    args = parser.parse_args(argv)
    if args.command == "grade-packages":
        if args.jobs < 1:
            parser.error(f"--jobs must be 1 or more, got {args.jobs}")
        try:
            written = grade_packages(args.course_dir, jobs=args.jobs, sandbox=args.sandbox,
                                     progress=not args.no_progress)
        except CourseError as err:
            print(f"nothing graded: {err}", file=sys.stderr)
            return 1
        cells = sum(len(v) for v in written.values())
        print(f"{len(written)} packages graded in the sandbox; {cells} check-cell scores written to the gradebook "
              f"(details: {os.path.join(os.path.abspath(args.course_dir), PACKAGE_GRADES)})")
        return 0
    if args.command == "build":
        try:
            dest = build(args.course_dir, notebooks=args.notebook, force=args.force)
        except CourseError as err:
            print(f"course not built: {err}", file=sys.stderr)
            return 1
        print(f"nbgrader course source written to {dest}")
        print(f"next: cd {os.path.abspath(args.course_dir)} && nbgrader generate_assignment {ASSIGNMENT}")
        return 0
    leaks = feedback_leaks(os.path.join(args.course_dir, "feedback"))
    for line in leaks:
        print(line)
    print("feedback reveals no hidden test" if not leaks else f"{len(leaks)} leaks in feedback")
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main())
