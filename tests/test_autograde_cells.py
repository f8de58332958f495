"""nbgrader autograde runs only the cells that can change a grade (autograder, solution, setup cells)."""
from __future__ import annotations

import nbformat
import pytest

from autograder.nbgrader_course import ExecuteGradedCells, changes_a_grade

pytestmark = pytest.mark.slow


def cell(kind, source, grade_id, grade=False, solution=False, locked=True):
    meta = {"nbgrader": {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
                         "solution": solution, "task": False}}
    if grade:
        meta["nbgrader"]["points"] = 1
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    return make(source, metadata=meta)


def notebook():
    return nbformat.v4.new_notebook(cells=[
        cell("code", "SETUP = 1", "setup"),
        cell("code", "DEMO = 1\nraise RuntimeError('a slow demonstration')", "demo"),
        cell("markdown", "Your answer", "answer", grade=True, solution=True, locked=False),
        cell("code", "ANSWER = 41 + SETUP", "solution_code", solution=True, locked=False),
        cell("code", "assert ANSWER == 42 and 'DEMO' not in globals()\nprint('checked')", "check", grade=True),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


def test_which_cells_change_a_grade():
    nb = notebook()
    assert [changes_a_grade(c) for c in nb.cells] == [True, False, False, True, True]


def run(preprocessor, nb):
    preprocessor.preprocess(nb, {"metadata": {"path": "."}})
    return {c.metadata["nbgrader"]["grade_id"]: c.get("outputs", []) for c in nb.cells if c.cell_type == "code"}


def test_autograde_skips_locked_demonstrations_and_grades_the_same():
    outputs = run(ExecuteGradedCells(timeout=60), notebook())
    assert outputs["demo"] == [], "a locked demonstration cell must not run under autograde"
    check = outputs["check"]
    assert [o.output_type for o in check] == ["stream"] and "checked" in check[0].text, check


def test_plain_execute_would_run_the_demonstration():
    """The contrast: nbgrader's own Execute runs every cell (the demo raises, and the check sees DEMO)."""
    from nbgrader.preprocessors import Execute

    outputs = run(Execute(timeout=60), notebook())
    assert any(o.output_type == "error" for o in outputs["demo"])
    assert any(o.output_type == "error" for o in outputs["check"])
