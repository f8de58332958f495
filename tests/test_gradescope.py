"""The Gradescope autograder zip: built, unpacked into a fake /autograder, run on submissions.

``AUTOGRADER_ROOT`` moves Gradescope's fixed layout into a temporary folder;
``LEC7_PYTHON`` stands for the venv that setup.sh would create (this project's
interpreter), and ``LEC7_OUT`` for /tmp/out.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tomllib
import zipfile

import pytest

from autograder.gradescope import NOTEBOOK_TOOLING, build_zip
from autograder.release import make_release

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def zip_path(tmp_path_factory):
    return build_zip(str(tmp_path_factory.mktemp("gs") / "autograder.zip"))


def implemented_points():
    """Points of the exercises with a module and checks in the source tree (all of them when complete)."""
    from autograder.grade import checks_by_exercise, load_config

    config = load_config()
    return {ex: config["exercises"][ex]["points"] for ex, checks in checks_by_exercise(config).items()
            if checks and os.path.exists(os.path.join(ROOT, "cs231n_lec7", ex.split(".")[0] + ".py"))}


def fake_autograder(tmp_path, zip_path, package_dir, seed=None):
    """/autograder laid out as Gradescope does, with ``package_dir`` as the submission."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / "source")
    for name in ("run_autograder", "setup.sh"):  # zipfile drops the mode bits
        (root / "source" / name).chmod(0o755)
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    shutil.copytree(package_dir, root / "submission" / "cs231n_lec7",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (root / "results").mkdir()
    if seed is not None:  # proves the zip's own config.toml is the one used
        config = root / "source" / "autograder" / "config.toml"
        text = config.read_text()
        config.write_text(text.replace("seed = ", f"seed = {seed}  # was: ", 1))
    return root


def run_autograder(root, tmp_path, python=sys.executable):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(AUTOGRADER_ROOT=str(root), LEC7_PYTHON=python, LEC7_OUT=str(tmp_path / "out"))
    proc = subprocess.run(["bash", str(root / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=300, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(root / "results" / "results.json") as fh:
        return json.load(fh), proc


def assert_gradescope_schema(results):
    assert isinstance(results["score"], (int, float))
    for test in results["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility", "tags"} <= set(test)
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
        assert test["status"] in ("passed", "failed")


def test_zip_contents(zip_path):
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        info = {i.filename: i for i in zf.infolist()}
        reqs = zf.read("requirements.txt").decode().split()
    for required in ("setup.sh", "run_autograder", "requirements.txt", "pyproject.toml",
                     "cs231n_lec7/optim.py", "autograder/__main__.py", "autograder/config.toml",
                     "autograder/hidden/optim.py", "cs231n_lec7/checks/expected/optim.npz"):
        assert required in names, f"{required} missing from the zip"
    assert any(n.startswith("autograder/references/") for n in names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    for script in ("setup.sh", "run_autograder"):
        assert stat.S_IMODE(info[script].external_attr >> 16) & 0o111, f"{script} is not executable"
    with zipfile.ZipFile(zip_path) as zf:
        assert "### BEGIN SOLUTION" in zf.read("cs231n_lec7/optim.py").decode(), "the judge needs the solution"
    assert any(r.startswith("numpy==") for r in reqs)
    assert not [r for r in reqs if r.split("==")[0].lower() in NOTEBOOK_TOOLING]


def test_scripts_parse(tmp_path, zip_path):
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(tmp_path)
    for script in ("setup.sh", "run_autograder"):
        proc = subprocess.run(["bash", "-n", str(tmp_path / script)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


def test_solution_gets_full_score(tmp_path, zip_path):
    root = fake_autograder(tmp_path, zip_path, os.path.join(ROOT, "cs231n_lec7"), seed=424242)
    results, proc = run_autograder(root, tmp_path)
    assert_gradescope_schema(results)
    assert results["extra_data"]["seed"] == 424242, "run_autograder did not use the zip's config.toml"
    points = implemented_points()
    assert results["score"] == pytest.approx(sum(points.values())), results["output"]
    for test in results["tests"]:
        if test["tags"][0] in points:
            assert test["status"] == "passed", test
    if len(points) == len(tomllib.load(open(os.path.join(ROOT, "autograder", "config.toml"), "rb"))["exercises"]):
        assert results["score"] == pytest.approx(results["extra_data"]["max_score"])


def test_stubs_get_a_low_score(tmp_path, zip_path):
    release = tmp_path / "release"
    make_release(str(release), notebooks=False)
    root = fake_autograder(tmp_path, zip_path, str(release / "cs231n_lec7"))
    results, _ = run_autograder(root, tmp_path)
    assert_gradescope_schema(results)
    assert results["score"] == 0.0
    assert results["tests"], "every exercise should still be listed"
    assert any("not implemented yet" in t["output"] for t in results["tests"] if t["visibility"] == "visible")


def test_grader_failure_still_writes_results(tmp_path, zip_path):
    root = fake_autograder(tmp_path, zip_path, os.path.join(ROOT, "cs231n_lec7"))
    results, _ = run_autograder(root, tmp_path, python="/bin/false")
    assert results["score"] == 0
    assert "autograder failed" in results["output"]
