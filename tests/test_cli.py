"""``python -m autograder`` as a user meets it: help text, refusals of bad input, re-grading into a folder.

- ``--help`` is plain text (no reST markup) and names the nbgrader course commands;
- ``--jobs 0`` / ``--jobs -3`` / ``--jobs two`` and a submission path that does not exist are refused
  (exit 2, the problem named) before anything is graded or written;
- re-grading into an existing ``--out`` removes the result folders of submissions not in this batch
  (grades.csv and the class report describe one batch) and leaves other files alone;
- ``--sandbox subprocess`` chosen on purpose is reported as chosen, with a warning, never as
  "bubblewrap was not available";
- ``pack`` writes the same zip as the release's ``pack.py``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest

from autograder.__main__ import remove_stale_results, sandbox_warning
from autograder.plant import copy_solution

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cli(*args, cwd=ROOT, timeout=300):
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def test_help_is_plain_and_names_the_nbgrader_course_commands():
    proc = cli("--help")
    assert proc.returncode == 0
    assert "``" not in proc.stdout and "`" not in proc.stdout, proc.stdout
    for words in ("nbgrader_course build", "grade-packages", "pack", "grade", "release"):
        assert words in proc.stdout, words


@pytest.mark.parametrize("jobs", ["0", "-3", "two"])
def test_bad_jobs_are_refused(tmp_path, jobs):
    proc = cli("grade", os.path.join(ROOT, "examples", "submissions", "alice"), "--out", str(tmp_path / "out"),
               "--jobs", jobs)
    assert proc.returncode == 2 and "--jobs" in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()


def test_a_missing_submission_is_an_error_not_a_zero(tmp_path):
    proc = cli("grade", os.path.join(ROOT, "examples", "submissions", "alice"), str(tmp_path / "typo"),
               "--out", str(tmp_path / "out"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "no such submission" in proc.stderr and "typo" in proc.stderr
    assert not (tmp_path / "out").exists(), "nothing is graded when a path is wrong"


def test_regrading_removes_stale_result_folders(tmp_path):
    out = tmp_path / "out"
    for name in ("old_student", "kept"):
        (out / name).mkdir(parents=True)
        (out / name / "results.json").write_text("{}")
    (out / "notes").mkdir()
    (out / "notes" / "mine.txt").write_text("instructor's notes")
    (out / "report.html").write_text("<html></html>")
    assert remove_stale_results(str(out), {"kept", "new"}) == ["old_student"]
    assert not (out / "old_student").exists()
    assert (out / "kept" / "results.json").exists() and (out / "notes" / "mine.txt").exists()
    assert (out / "report.html").exists()
    assert remove_stale_results(str(tmp_path / "absent"), {"x"}) == []


@pytest.mark.slow
def test_subprocess_mode_chosen_on_purpose(tmp_path):
    """Regrade into an old --out in subprocess mode: the stale folder goes, the warning names the choice."""
    sub = copy_solution(str(tmp_path / "sub"))
    out = tmp_path / "out"
    (out / "gone").mkdir(parents=True)
    (out / "gone" / "results.json").write_text("{}")
    proc = cli("grade", sub, "--out", str(out), "--sandbox", "subprocess", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert "--sandbox subprocess was chosen" in proc.stderr and "without namespace isolation" in proc.stderr
    assert "removed 1 result folder" in proc.stderr and not (out / "gone").exists()
    results = json.loads((out / "sub" / "results.json").read_text())
    assert results["extra_data"]["sandbox"] == "subprocess"
    assert "bubblewrap was not available" not in results["output"]
    assert "subprocess mode" in results["output"]
    with open(out / "grades.csv") as fh:
        assert [line.split(",")[0] for line in fh.read().splitlines()[1:]] == ["sub"]


def test_sandbox_warnings():
    assert "chosen" in sandbox_warning("subprocess")
    assert sandbox_warning("bwrap") is None
    from autograder.sandbox import bwrap_available

    auto = sandbox_warning("auto")
    assert (auto is None) == bwrap_available()
    if auto:
        assert "bubblewrap is not available" in auto


def test_pack_command(tmp_path):
    work = tmp_path / "w"
    copy_solution(str(work))
    (work / "notebooks").mkdir()
    (work / "notebooks" / "a.ipynb").write_text("{}")
    (work / ".venv").mkdir()
    (work / ".venv" / "big").write_bytes(b"0" * 1000)
    proc = cli("pack", str(work), "--out", str(tmp_path / "s.zip"))
    assert proc.returncode == 0, proc.stderr
    names = zipfile.ZipFile(tmp_path / "s.zip").namelist()
    assert "notebooks/a.ipynb" in names and "cs231n_lec7/optim.py" in names
    assert all(n.startswith(("cs231n_lec7/", "notebooks/")) for n in names)
