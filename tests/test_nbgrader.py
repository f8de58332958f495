"""nbgrader end to end: build the course, release, two submissions, autograde, feedback, export.

The submissions use the small fixture notebook ``tests/fixtures/nbgrader/00_fixture.ipynb``
(the real notebooks' check-cell pattern, two exercises, one short code answer) so the
test runs in seconds; the real notebooks are executed by ``tests/test_notebooks.py``.
Set ``LEC7_NBGRADER_ALL=1`` to build the course from every ``notebooks/*.ipynb`` too
(release and feedback then cover them; the scores asserted are still the fixture's).

- alice: the solution package and the notebook executed with the answer filled in;
- bob: the release's stubs with a correct ``sgd_momentum`` planted, a tampered visible
  check that always passes, and a fake ``autograder/notebook.py`` whose ``run_hidden``
  does nothing. nbgrader must restore the checks and ignore the fake grader;
- carol: the solution package, except that when a hidden check calls them,
  ``sgd_momentum`` shows its inputs (stdout, display data) and ``adam`` prints them to
  stderr and raises an error quoting them. The autograded notebook holds all of it,
  the feedback none of it;
- dan: the release's stubs and a package ``__init__`` that replaces ``check_exercise``
  and ``run_hidden`` in the kernel (full marks in the kernel, no code of his own), and a
  locked check cell he edited.

After ``nbgrader autograde``, ``grade-packages`` grades the four packages in the sandbox
and writes those scores into the gradebook: dan's kernel marks are replaced by 0, carol's
adam (broken only inside the kernel's hidden checks) gets its sandbox score.
"""
from __future__ import annotations

import csv
import glob
import inspect
import json
import os
import shutil
import subprocess
import sys
import textwrap

import nbformat
import pytest

from autograder.nbgrader_course import HIDDEN_MARKERS, HIDDEN_OUTPUT_NOTE, HideHiddenTests, build, feedback_leaks

pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "nbgrader", "00_fixture.ipynb")
NB = "00_fixture"
POINTS = {"check_optim_sgd_momentum": 10, "check_optim_adam": 12, "check_first_step_scale": 2}
STUDENTS = ("alice", "bob", "carol", "dan")
# What carol's code shows of the hidden inputs; none of it may reach the feedback.
LEAKS = ("LEAK-STDOUT", "LEAK-STDERR", "LEAK-DISPLAY", "LEAK-TRACEBACK")
CAROL_OPTIM = """

import sys as _sys

_solution_sgd_momentum, _solution_adam = sgd_momentum, adam


def _called_by_hidden_check():
    frame = _sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "run_hidden":
            return True
        frame = frame.f_back
    return False


def sgd_momentum(w, dw, config=None):
    if _called_by_hidden_check():
        print("LEAK-STDOUT w =", w.ravel()[:3])
        from IPython.display import display
        display({"text/plain": f"LEAK-DISPLAY config = {config}"}, raw=True)
    return _solution_sgd_momentum(w, dw, config)


def adam(w, dw, config=None):
    if _called_by_hidden_check():  # stderr scores 0 in nbgrader, as the error does
        print("LEAK-STDERR dw =", dw.ravel()[:3], file=_sys.stderr)
        raise ValueError(f"LEAK-TRACEBACK w = {w.ravel()[:3]}")
    return _solution_adam(w, dw, config)
"""
# dan's package __init__: the kernel's checks pass whatever the package does.
DAN_INIT = """


def _pass_every_check():
    import cs231n_lec7.checks as checks
    checks.check_exercise = lambda *args, **kwargs: print("all visible checks passed")
    try:
        import autograder.notebook as notebook
        notebook.run_hidden = lambda *args, **kwargs: print("hidden checks passed")
    except ImportError:
        pass


_pass_every_check()
"""


def nbgrader(course, *args):
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    env.pop("LEC7_COURSE_DIR", None)
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def set_cell(path, grade_id, source):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = source
    nbformat.write(nb, path)


def execute(path):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": os.path.dirname(path)}}).execute()
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    course = str(tmp_path_factory.mktemp("course"))
    notebooks = [FIXTURE]
    if os.environ.get("LEC7_NBGRADER_ALL"):
        notebooks += sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))
    build(course, notebooks=notebooks)
    nbgrader(course, "generate_assignment", "lec7")
    release = os.path.join(course, "release", "lec7")

    # alice: solution package, answer filled in, notebook executed
    alice = os.path.join(course, "submitted", "alice", "lec7")
    shutil.copytree(release, alice)
    shutil.rmtree(os.path.join(alice, "cs231n_lec7"))
    shutil.copytree(os.path.join(ROOT, "cs231n_lec7"), os.path.join(alice, "cs231n_lec7"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    set_cell(os.path.join(alice, f"{NB}.ipynb"), "first_step_scale", "first_step_scale = 1 / (1 - 0.9)")
    execute(os.path.join(alice, f"{NB}.ipynb"))

    # bob: stubs + a correct sgd_momentum, a tampered check, a fake grader
    bob = os.path.join(course, "submitted", "bob", "lec7")
    shutil.copytree(release, bob)
    from cs231n_lec7 import optim

    with open(os.path.join(bob, "cs231n_lec7", "optim.py"), "a") as fh:
        fh.write("\n\n" + textwrap.dedent(inspect.getsource(optim.sgd_momentum)))
    with open(os.path.join(bob, "cs231n_lec7", "checks", "__init__.py"), "a") as fh:
        fh.write("\n\ndef check_exercise(exercise, verbose=True):\n    print('all passed')\n")
    os.makedirs(os.path.join(bob, "autograder"))
    for fname in ("__init__.py", "notebook.py"):
        with open(os.path.join(bob, "autograder", fname), "w") as fh:
            fh.write("def run_hidden(exercise, seed=None):\n    print('hidden checks passed')\n")

    # carol: the solution, leaking the hidden inputs when a hidden check calls it
    carol = os.path.join(course, "submitted", "carol", "lec7")
    shutil.copytree(release, carol)
    shutil.rmtree(os.path.join(carol, "cs231n_lec7"))
    shutil.copytree(os.path.join(ROOT, "cs231n_lec7"), os.path.join(carol, "cs231n_lec7"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    with open(os.path.join(carol, "cs231n_lec7", "optim.py"), "a") as fh:
        fh.write(CAROL_OPTIM)

    # dan: stubs, checks replaced in the kernel, one locked check cell edited
    dan = os.path.join(course, "submitted", "dan", "lec7")
    shutil.copytree(release, dan)
    with open(os.path.join(dan, "cs231n_lec7", "__init__.py"), "a") as fh:
        fh.write(DAN_INIT)
    set_cell(os.path.join(dan, f"{NB}.ipynb"), "check_optim_sgd_momentum", 'print("checked, trust me")')

    autograde = nbgrader(course, "autograde", "lec7")
    kernel = {s: cell_scores(course, s) for s in STUDENTS}
    graded = subprocess.run([sys.executable, "-m", "autograder.nbgrader_course", "grade-packages", course,
                             "--no-progress"], cwd=course, capture_output=True, text=True, timeout=600)
    assert graded.returncode == 0, graded.stdout[-3000:] + graded.stderr[-3000:]
    nbgrader(course, "generate_feedback", "lec7")
    nbgrader(course, "export")
    return {"course": course, "kernel": kernel, "autograde_log": autograde.stdout + autograde.stderr,
            "grade_packages": graded.stdout}


@pytest.fixture(scope="module")
def course(graded_course):
    return graded_course["course"]


def cell_scores(course, student):
    from nbgrader.api import Gradebook

    with Gradebook("sqlite:///" + os.path.join(course, "gradebook.db")) as gb:
        nb = gb.find_submission_notebook(NB, "lec7", student)
        return {g.name: g.score for g in nb.grades}


def test_release_has_stubs_and_no_hidden_tests(course):
    release = os.path.join(course, "release", "lec7")
    with open(os.path.join(release, "cs231n_lec7", "optim.py")) as fh:
        assert "### BEGIN SOLUTION" not in fh.read(), "the release package holds solutions"
    for path in glob.glob(os.path.join(release, "*.ipynb")):
        with open(path) as fh:
            text = fh.read()
        for marker in ("BEGIN HIDDEN TESTS", "run_hidden", "BEGIN SOLUTION"):
            assert marker not in text, f"{os.path.basename(path)} released with {marker!r}"


def test_full_and_partial_scores(course):
    alice, bob, carol, dan = (cell_scores(course, s) for s in STUDENTS)
    assert alice == POINTS, (f"alice (the solution) should earn every point: {alice}; a number shown as a "
                             f"check cell's result is read as partial credit by nbgrader")
    assert bob == {"check_optim_sgd_momentum": 10, "check_optim_adam": 0, "check_first_step_scale": 0}, bob
    assert carol == {"check_optim_sgd_momentum": 10, "check_optim_adam": 12, "check_first_step_scale": 0}, carol
    assert dan == {"check_optim_sgd_momentum": 0, "check_optim_adam": 0, "check_first_step_scale": 0}, dan


def test_package_scores_come_from_the_sandbox_not_the_kernel(graded_course):
    """The kernel was fooled (dan's patched checks, carol's kernel-only failure); the gradebook was not."""
    kernel = graded_course["kernel"]
    assert kernel["dan"]["check_optim_sgd_momentum"] == 10 and kernel["dan"]["check_optim_adam"] == 12, \
        f"dan's patched checks should have fooled the kernel (else this proves nothing): {kernel['dan']}"
    assert kernel["carol"]["check_optim_adam"] == 0, kernel["carol"]
    from nbgrader.api import Gradebook

    course = graded_course["course"]
    with Gradebook("sqlite:///" + os.path.join(course, "gradebook.db")) as gb:
        for student in STUDENTS:
            nb = gb.find_submission_notebook(NB, "lec7", student)
            for grade in nb.grades:
                if grade.name in ("check_optim_sgd_momentum", "check_optim_adam"):
                    assert grade.manual_score is not None and not grade.needs_manual_grade, (student, grade.name)
                else:
                    assert grade.manual_score is None, (student, grade.name)
    for student in STUDENTS:
        results = json.loads(open(os.path.join(course, "package_grades", student, "results.json")).read())
        adam = sum(t["score"] for t in results["tests"] if t["tags"][0] == "optim.adam")
        assert cell_scores(course, student)["check_optim_adam"] == pytest.approx(adam), student
    assert "4 packages graded in the sandbox" in graded_course["grade_packages"]


def checksum_warnings(log):
    """{student: [cell]} of nbgrader's "Attribute 'checksum' ... has changed" warnings in an autograde log."""
    found, student = {}, None
    for line in log.splitlines():
        if "submitted/" in line:
            student = line.split("submitted/", 1)[1].split("/", 1)[0]
        if "Attribute 'checksum' for cell" in line:
            found.setdefault(student, []).append(line.split("for cell ", 1)[1].split()[0])
    return found


def test_autograde_warns_only_about_a_changed_locked_cell(graded_course):
    """Untouched check cells differ from the stored ones by their hidden tests only: no warning;
    dan's edited check cell is still reported (and restored by nbgrader)."""
    warnings = checksum_warnings(graded_course["autograde_log"])
    assert warnings == {"dan": ["check_optim_sgd_momentum"]}, warnings
    with open(os.path.join(graded_course["course"], "autograded", "dan", "lec7", f"{NB}.ipynb")) as fh:
        assert "checked, trust me" not in fh.read()


def test_students_package_is_graded(course):
    # alice's full marks come from her package: the course's own copy is the stubbed release
    source_optim = os.path.join(course, "source", "lec7", "cs231n_lec7", "optim.py")
    with open(source_optim) as fh:
        assert "NotImplementedError" in fh.read()
    for student in ("alice", "bob"):
        with open(os.path.join(course, "submitted", student, "lec7", "cs231n_lec7", "optim.py")) as fh:
            submitted = fh.read()
        with open(os.path.join(course, "autograded", student, "lec7", "cs231n_lec7", "optim.py")) as fh:
            assert fh.read() == submitted, f"autograde replaced {student}'s optim.py"
    # bob's tampered check was restored from the release, and his fake grader ignored
    with open(os.path.join(course, "autograded", "bob", "lec7", "cs231n_lec7", "checks", "__init__.py")) as fh:
        assert "print('all passed')" not in fh.read()
    assert not os.path.exists(os.path.join(course, "autograded", "bob", "lec7", "autograder"))


def test_feedback_hides_hidden_tests(course):
    autograded = glob.glob(os.path.join(course, "autograded", "*", "lec7", f"{NB}.ipynb"))
    assert autograded and all("BEGIN HIDDEN TESTS" in open(p).read() for p in autograded), \
        "the autograded notebooks should hold the hidden tests (else this test proves nothing)"
    html = sorted(glob.glob(os.path.join(course, "feedback", "*", "lec7", "*.html")))
    assert {os.path.basename(os.path.dirname(os.path.dirname(p))) for p in html} == set(STUDENTS)
    assert feedback_leaks(os.path.join(course, "feedback")) == []
    for path in html:
        with open(path) as fh:
            text = fh.read()
        for marker in ("BEGIN HIDDEN TESTS", "run_hidden", "autograder/notebook.py"):
            assert marker not in text, f"{path} reveals {marker!r}"
    with open(os.path.join(course, "feedback", "bob", "lec7", f"{NB}.html")) as fh:
        text = fh.read()
    for score in ("Score: 10 / 10.", "Score: 0 / 12."):
        assert f"{HIDDEN_OUTPUT_NOTE} {score}" in text, f"bob's feedback should show {score!r} in the note"
    with open(os.path.join(course, "feedback", "dan", "lec7", f"{NB}.html")) as fh:
        assert f"{HIDDEN_OUTPUT_NOTE} Score: 0 / 12." in fh.read(), "dan's feedback shows the sandbox's score"
    assert "write your answer in this cell" in text, "outputs of cells without hidden tests are kept"


def test_feedback_shows_nothing_a_hidden_test_printed(course):
    with open(os.path.join(course, "autograded", "carol", "lec7", f"{NB}.ipynb")) as fh:
        autograded = fh.read()
    missing = [m for m in LEAKS if m not in autograded]
    assert not missing, f"carol's code should have shown {missing} in the hidden checks (else this proves nothing)"
    for path in glob.glob(os.path.join(course, "feedback", "*", "lec7", "*.html")):
        with open(path) as fh:
            text = fh.read()
        assert not [m for m in LEAKS if m in text], f"{path} shows what carol's code printed in the hidden checks"


@pytest.mark.parametrize("student", ["bob", "carol"])
def test_hide_hidden_tests_keeps_only_a_note_in_hidden_cells(course, student):
    nb = nbformat.read(os.path.join(course, "autograded", student, "lec7", f"{NB}.ipynb"), as_version=4)
    hidden = [i for i, c in enumerate(nb.cells) if "BEGIN HIDDEN TESTS" in c.source]
    assert hidden
    assert any(o.output_type == "error" for i in hidden for o in nb.cells[i].outputs), \
        f"{student}'s adam check should have failed"
    nb, _ = HideHiddenTests().preprocess(nb, {})
    text = json.dumps(nb)
    for marker in HIDDEN_MARKERS + LEAKS:
        assert marker not in text
    for i in hidden:  # no GetGrades here, so no score in the note
        assert [(o.output_type, o.text) for o in nb.cells[i].outputs] == [("stream", HIDDEN_OUTPUT_NOTE + "\n")]


def test_export_csv(course):
    with open(os.path.join(course, "grades.csv")) as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert float(rows["alice"]["score"]) == float(rows["alice"]["max_score"]) == sum(POINTS.values())
    assert float(rows["bob"]["score"]) == 10.0 and float(rows["carol"]["score"]) == 22.0
    assert float(rows["dan"]["score"]) == 0.0


class _StoredCell:
    """What nbgrader's gradebook returns for a source / graded cell (the attributes OverwriteCells reads)."""

    def __init__(self, source, checksum):
        self.source, self.checksum, self.locked, self.cell_type, self.max_score = source, checksum, True, "code", 10


class _Gradebook:
    def __init__(self, stored):
        self.stored = stored

    def find_source_cell(self, grade_id, notebook, assignment):
        return self.stored

    find_graded_cell = find_source_cell


@pytest.mark.parametrize("edited", [False, True], ids=["untouched", "edited"])
def test_overwrite_cells_warns_only_about_real_changes(edited, caplog):
    """Unit view of the autograde test above: nbgrader's own OverwriteCells warns about an untouched
    released check cell (the false alarm); ours does not, and both warn about an edited one."""
    from nbgrader.preprocessors import OverwriteCells as NbgraderOverwriteCells
    from nbgrader.utils import compute_checksum

    from autograder.nbgrader_course import OverwriteCells, released_source

    nb = nbformat.read(FIXTURE, as_version=4)
    source_cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "check_optim_adam")
    source_cell.metadata.nbgrader.update(points=10, locked=True)
    stored = _StoredCell(source_cell.source, compute_checksum(source_cell))
    warned = {}
    for name, cls in (("nbgrader", NbgraderOverwriteCells), ("ours", OverwriteCells)):
        cell = nbformat.from_dict(json.loads(json.dumps(source_cell)))
        cell.source = 'print("checked, trust me")' if edited else released_source(source_cell.source)
        pre = cls()
        pre.gradebook, pre.notebook_id, pre.assignment_id = _Gradebook(stored), NB, "lec7"
        caplog.clear()
        cell, _ = pre.preprocess_cell(cell, {}, 0)
        warned[name] = "Attribute 'checksum'" in caplog.text
        assert cell.source == stored.source, "the stored source (with the hidden tests) is what runs"
    assert warned == {"nbgrader": True, "ours": edited}, warned
