"""The Gradescope path under attack: a submission holding links, and setup.sh's root-only source.

``run_autograder`` copies the submission keeping links as links and the grader
refuses them in one sentence; ``setup.sh`` (run as root) leaves the instructor's
files readable by root only and the venv readable by everyone.
"""
from __future__ import annotations

import os
import shutil
import stat
import subprocess

import pytest

from privileged import is_root, open_root_folders
from test_gradescope import fake_autograder, run_autograder, zip_path  # noqa: F401 - the fixture

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("where", ["package", "inside"])
def test_run_autograder_refuses_links(tmp_path, zip_path, where):  # noqa: F811
    open_root_folders()
    root = fake_autograder(tmp_path, zip_path, os.path.join(ROOT, "cs231n_lec7"))
    package = root / "submission" / "cs231n_lec7"
    if where == "package":
        shutil.rmtree(package)
        os.symlink(os.path.join(ROOT, "cs231n_lec7"), package)
    else:
        (package / "optim.py").unlink()
        os.symlink(os.path.join(ROOT, "cs231n_lec7", "optim.py"), package / "optim.py")
    results, _ = run_autograder(root, tmp_path)
    assert results["score"] == 0
    assert "symbolic link" in results["extra_data"]["problem"]


@pytest.mark.skipif(not is_root(), reason="setup.sh's permissions are set as root")
def test_setup_leaves_the_source_root_only_and_the_venv_readable(zip_path):  # noqa: F811
    """Only the permission block of setup.sh, run on a fake layout (no apt, no pip); nobody can read the
    solution after it, and could before it (so the check can fail)."""
    import pathlib

    from autograder.gradescope import SETUP_SH

    from privileged import traversable_tmpdir

    tmp_path = pathlib.Path(traversable_tmpdir())

    block = SETUP_SH[SETUP_SH.index("# The worker runs as an unprivileged uid"):SETUP_SH.index('cd "$SOURCE"')]
    root = fake_autograder(tmp_path, zip_path, os.path.join(ROOT, "cs231n_lec7"))
    (root / "venv" / "bin").mkdir(parents=True)
    (root / "venv" / "bin" / "python").write_text("")
    os.chmod(root / "venv" / "bin" / "python", 0o700)
    os.chmod(root, 0o755)
    solution = str(root / "source" / "cs231n_lec7" / "optim.py")
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", "cat", solution]
    assert subprocess.run(as_nobody, capture_output=True).returncode == 0  # readable before setup.sh
    script = f'set -e\nROOT={root}\nSOURCE={root}/source\nhave_apt=0\n{block}'
    run = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    for path in (root / "source", root / "source" / "autograder", root / "source" / "cs231n_lec7" / "optim.py"):
        assert not os.stat(path).st_mode & 0o077, path
    assert os.stat(root / "venv" / "bin" / "python").st_mode & 0o005 == 0o005
    assert os.stat(root).st_mode & stat.S_IXOTH
    assert subprocess.run(as_nobody, capture_output=True).returncode != 0
    shutil.rmtree(tmp_path, ignore_errors=True)
