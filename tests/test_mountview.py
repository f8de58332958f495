"""The private mount view that lets an unprivileged worker reach a Python kept in a root-only folder."""
from __future__ import annotations

import os
import subprocess
import shutil
import sys
import tempfile

import pytest

from autograder import mountview

ROOT = os.geteuid() == 0


def test_root_only_steps_lists_each_closed_folder_with_the_entries_that_lead_on(tmp_path):
    (tmp_path / "closed" / "py" / "lib").mkdir(parents=True)
    (tmp_path / "closed" / "other").mkdir()
    os.chmod(tmp_path / "closed", 0o700)
    os.chmod(tmp_path, 0o755)
    steps = mountview.root_only_steps([tmp_path / "closed" / "py" / "lib"])
    assert steps.get(str(tmp_path / "closed")) == ["py"]
    assert all(not os.stat(folder).st_mode & 0o001 for folder in steps)
    assert list(steps) == sorted(steps, key=lambda f: f.count(os.sep)), "outermost folder first"
    assert mountview.root_only_steps(["/usr/bin/env"]) == {}


READ = """
import os, sys
target, secret, folder = sys.argv[1:4]
def can_read(path):
    try:
        open(path).read()
        return True
    except OSError:
        return False
def listing(path):
    try:
        return sorted(os.listdir(path))
    except OSError:
        return "unlistable"
print(can_read(target), can_read(secret), listing(folder))
"""


def _read_as_nobody(target, secret, folder, steps, keep_root):
    def child():
        if steps:
            mountview.open_view(steps, keep_root)
        os.setgroups([])
        os.setresgid(65534, 65534, 65534)
        os.setresuid(65534, 65534, 65534)

    out = subprocess.run(["/usr/bin/python3", "-S", "-c", READ, target, secret, folder], capture_output=True,
                         text=True, preexec_fn=child, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.split(None, 2)


@pytest.mark.skipif(not ROOT or not os.path.exists("/usr/bin/python3"), reason="needs root and /usr/bin/python3")
def test_the_view_opens_only_the_way_to_the_python(tmp_path):
    if not mountview.available():
        pytest.skip("mount namespaces are refused here")
    closed = tmp_path / "closed"
    (closed / "py").mkdir(parents=True)
    (closed / "py" / "lib.txt").write_text("stdlib")
    (closed / "solution.py").write_text("secret")
    os.chmod(closed / "solution.py", 0o644)  # readable once its folder can be entered: must stay unseen
    os.chmod(closed, 0o700)
    keep = tempfile.mkdtemp(prefix="lec7-view-test-")  # outside every folder the view covers
    target = str(closed / "py" / "lib.txt")
    steps = mountview.root_only_steps([target])
    assert str(closed) in steps

    # without the view the worker cannot reach its Python (what the grader refused before)
    reached, secret, _ = _read_as_nobody(target, str(closed / "solution.py"), str(closed), {}, keep)
    assert reached == "False" and secret == "False"
    reached, secret, listing = _read_as_nobody(target, str(closed / "solution.py"), str(closed), steps, keep)
    assert reached == "True", "the view must open the way to the Python"
    assert secret == "False", "nothing else of the closed folder may become readable"
    assert listing.strip() == "unlistable", "the covering folder (mode 0711) can be passed, not listed"
    assert oct(os.stat(closed).st_mode & 0o777) == "0o700", "the machine's own view is unchanged"
    shutil.rmtree(keep, ignore_errors=True)


@pytest.mark.skipif(not ROOT, reason="needs root")
def test_preflight_refuses_only_where_no_view_can_open_the_python(tmp_path, monkeypatch):
    from autograder import sandbox

    hidden = tmp_path / "private"
    (hidden / "bin").mkdir(parents=True)
    os.chmod(hidden, 0o700)
    (hidden / "bin" / "python").write_text("")
    monkeypatch.setattr(sys, "executable", str(hidden / "bin" / "python"))
    monkeypatch.setattr(mountview, "_AVAILABLE", False)
    with pytest.raises(SystemExit, match="cannot grade without bubblewrap as root.*cannot enter"):
        sandbox.preflight("subprocess")
    monkeypatch.setattr(mountview, "_AVAILABLE", True)
    assert sandbox.preflight("subprocess") == "subprocess"
