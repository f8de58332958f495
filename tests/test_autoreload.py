"""Students edit cs231n_lec7/*.py and re-run a cell: every notebook reloads exactly the files they edit.

The setup cells use ``%autoreload 1`` with ``%aimport`` of the modules that hold exercises
(autograder/config.toml): ``%autoreload 2`` would check every loaded module (scipy, matplotlib,
...) before each cell, ~10-20 ms a cell. One kernel run checks that an edit to a listed file
reaches a name imported with ``from cs231n_lec7 import ...`` before the next cell.
"""
from __future__ import annotations

import os
import shutil
import sys
import time
import tomllib

import nbformat
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from render_walkthrough import kernel_env, source_notebooks  # noqa: E402

AIMPORT = "%aimport "


def edited_modules():
    with open(os.path.join(ROOT, "autograder", "config.toml"), "rb") as fh:
        exercises = tomllib.load(fh)["exercises"]
    return sorted({f"cs231n_lec7.{name.split('.')[0]}" for name in exercises})


def setup_cell(path):
    nb = nbformat.read(path, as_version=4)
    return next(c.source for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("path", source_notebooks(), ids=os.path.basename)
def test_setup_cell_reloads_exactly_the_files_students_edit(path):
    lines = setup_cell(path).splitlines()
    assert "%load_ext autoreload" in lines and "%autoreload 1" in lines, "setup cell: %autoreload 1 expected"
    assert "%autoreload 2" not in lines
    listed = [line[len(AIMPORT):].split("#")[0] for line in lines if line.startswith(AIMPORT)]
    assert len(listed) == 1, "one %aimport line"
    assert sorted(m.strip() for m in listed[0].split(",")) == edited_modules()


def test_an_edit_to_optim_reaches_the_next_cell(tmp_path):
    from nbclient import NotebookClient

    pkg = tmp_path / "cs231n_lec7"
    shutil.copytree(os.path.join(ROOT, "cs231n_lec7"), pkg, ignore=shutil.ignore_patterns("__pycache__"))
    probe = "print('SGD', optim.sgd(np.ones(1), np.ones(1), {'learning_rate': 1.0})[0][0])"
    cells = [setup_cell(source_notebooks()[1]), probe, "pass", probe]   # notebook 02 imports optim by name
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    with client.setup_kernel(env=kernel_env(str(tmp_path))):
        for index in range(2):
            client.execute_cell(nb.cells[index], index)
        optim_py = pkg / "optim.py"
        text = optim_py.read_text()
        marker = '    """Vanilla stochastic gradient descent'
        assert marker in text
        edited = text.replace(marker, '    return w + 41.0, config\n' + marker, 1)
        time.sleep(1.1)   # a new mtime on file systems with one-second resolution
        optim_py.write_text(edited)
        for index in range(2, 4):
            client.execute_cell(nb.cells[index], index)
    before = "".join(o.get("text", "") for o in nb.cells[1].outputs)
    after = "".join(o.get("text", "") for o in nb.cells[3].outputs)
    assert before.strip() == "SGD 0.0" and after.strip() == "SGD 42.0", (before, after)
