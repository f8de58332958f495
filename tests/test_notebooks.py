"""Every notebook runs: the source versions cleanly, the released versions only fail where unfinished.

- Source notebooks (solutions and hidden tests in place) are executed with nbclient,
  kernel ``python3`` of this environment, working directory ``notebooks/``, the source
  tree's package first on the path. Any error or any stderr output in a cell fails the
  test (a stderr line zeroes an nbgrader cell). Each notebook's time is recorded
  (``record_property``; also ``$LEC7_ARTIFACTS/notebook_times.json`` when set); the time targets are
  measured by ``benchmarks/bench_notebooks.py``, not asserted here (a shared CI machine
  is too noisy for a timed test). A cell running over 120 s fails the run.
- Released notebooks (``python -m autograder release``) are executed against the
  release's stubbed package with ``allow_errors=True``. Every error must be "unfinished
  work": ``NotImplementedError`` (a stub, or a cleared solution cell), a check failing
  with "not implemented yet", or a ``NameError`` for a name that an earlier failed cell
  would have defined (by its own code or by its solution in the source notebook). Every graded check cell (nbgrader ``grade: true``) must fail so.
"""
from __future__ import annotations

import ast
import json
import os
import re
import sys

import nbformat
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from render_walkthrough import run_notebook, source_notebooks  # noqa: E402

pytestmark = pytest.mark.slow

NOTEBOOKS = source_notebooks()
PARAMS = [pytest.param(p, id=os.path.basename(p)) for p in NOTEBOOKS] or [
    pytest.param(None, id="no-notebooks", marks=pytest.mark.skip(reason="notebooks/ has no .ipynb yet"))]
TIMES = os.path.join(os.environ.get("LEC7_ARTIFACTS") or "", "notebook_times.json")  # only when asked for
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def record_time(name, seconds):
    if not os.environ.get("LEC7_ARTIFACTS"):
        return  # tests write only in their own temporary folders; the times are in record_property
    os.makedirs(os.path.dirname(TIMES), exist_ok=True)
    try:
        with open(TIMES) as fh:
            times = json.load(fh)
    except (OSError, ValueError):
        times = {}
    times[name] = round(seconds, 2)
    with open(TIMES, "w") as fh:
        json.dump(times, fh, indent=2, sort_keys=True)


def cell_errors(nb):
    """[(index, cell, error output)] of code cells that raised."""
    return [(i, c, o) for i, c in enumerate(nb.cells) if c.cell_type == "code"
            for o in c.get("outputs", []) if o.output_type == "error"]


def describe(i, cell, output):
    first = cell.source.strip().splitlines()[:1]
    return f"cell {i} ({first[0][:60] if first else ''!r}): {output.ename}: {ANSI.sub('', output.evalue)[:300]}"


@pytest.mark.parametrize("path", PARAMS)
def test_source_notebook_runs_clean(path, record_property):
    nb, seconds = run_notebook(path, allow_errors=True, timeout=120)
    name = os.path.basename(path)
    record_property("seconds", round(seconds, 2))
    record_time(name, seconds)
    errors = [describe(*e) for e in cell_errors(nb)]
    assert not errors, f"{name} raised:\n  " + "\n  ".join(errors)
    stderr = [f"cell {i}: {o.text.strip()[:300]}" for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.get("outputs", []) if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, f"{name} wrote to stderr (zeroes an nbgrader cell):\n  " + "\n  ".join(stderr)


# ------------------------------------------------------------------ release
@pytest.fixture(scope="module")
def release(tmp_path_factory):
    from autograder.release import make_release

    out = tmp_path_factory.mktemp("release") / "lec7"
    make_release(str(out))
    return str(out)


def bound_names(source):
    """Names a cell binds (assignments, loops, defs, imports), IPython syntax allowed."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
    return names


def unfinished(output, earlier_failed_names):
    """True when an error only says that an exercise is not written yet."""
    if output.ename == "NotImplementedError":
        return True
    if output.ename == "CheckFailure" and "not implemented yet" in output.evalue:
        return True
    if output.ename == "NameError":
        m = re.search(r"name '(\w+)' is not defined", output.evalue)
        return bool(m and m.group(1) in earlier_failed_names)
    return False


def is_check_cell(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")


@pytest.mark.parametrize("path", PARAMS)
def test_released_notebook_fails_only_where_unfinished(path, release):
    name = os.path.basename(path)
    released = os.path.join(release, "notebooks", name)
    assert os.path.exists(released), f"{name} is missing from the release"
    nb, _ = run_notebook(released, cwd=os.path.dirname(released), allow_errors=True, timeout=120,
                         package_root=release)
    source = nbformat.read(path, as_version=4)
    assert len(source.cells) == len(nb.cells), f"released {name} has a different number of cells"
    failed_names, wrong, errored = set(), [], set()
    for i, cell, output in cell_errors(nb):
        if not unfinished(output, failed_names):
            wrong.append(describe(i, cell, output))
        # what the cell would have defined: its source version holds the solution
        failed_names |= bound_names(cell.source) | bound_names(source.cells[i].source)
        errored.add(i)
    assert not wrong, (f"released {name}: errors other than unfinished exercises (a stub the notebook "
                       f"needs, or a cell that depends on one in another way):\n  " + "\n  ".join(wrong))
    passing_checks = [f"cell {i}: {c.metadata['nbgrader'].get('grade_id')}" for i, c in enumerate(nb.cells)
                      if is_check_cell(c) and i not in errored]
    assert not passing_checks, (f"released {name}: check cells pass with the stubbed package (do they "
                                f"check anything?):\n  " + "\n  ".join(passing_checks))
