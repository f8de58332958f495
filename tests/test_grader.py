"""The grader under attack: hostile, broken, wrong and honest submissions in one batch.

Every hostile submission breaks exactly one exercise (or one module); the test
asserts that exercise loses its points, every other exercise keeps full
marks, the report says what happened in one line, and the honest submission
graded in the same batch gets full marks.
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap
import uuid
import zipfile

import pytest

from autograder.grade import grade_batch, load_config
from autograder.plant import copy_solution, plant_function, replace_module
from autograder.sandbox import bwrap_available

from privileged import open_root_folders

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARKER = f"lec7_hostile_marker_{uuid.uuid4().hex[:12]}"  # this run's own: never another run's leftover
BWRAP = bwrap_available()
# Where "write_outside" tries to write. Without bubblewrap nothing stops it, so it writes nowhere:
# the test suite never leaves files outside its temporary folders.
OUTSIDE = (f"/tmp/{MARKER}", os.path.expanduser(f"~/{MARKER}"), os.path.join(ROOT, MARKER)) if BWRAP else ()


@pytest.fixture(scope="module", autouse=True)
def reachable_python():
    """As root the worker is an unprivileged uid: it must reach this Python (see privileged.py)."""
    open_root_folders()


def fast_config():
    config = load_config()
    config["limits"]["per_exercise_timeout_s"] = 4.0
    return config


def src(text):
    return textwrap.dedent(text).strip() + "\n"


# Each entry: name -> (exercise or module broken, how to build it, words expected in the report)
HOSTILE = {
    "infinite_loop": ("optim.adam", lambda s: plant_function(s, "optim.adam", src("""
        def adam(w, dw, config=None):
            while True:
                pass
        """)), "time limit"),
    "runaway_memory": ("optim.rmsprop", lambda s: plant_function(s, "optim.rmsprop", src("""
        def rmsprop(w, dw, config=None):
            hog = []
            while True:
                hog.append(np.ones(2**24))
        """)), ("MemoryError", "time limit")),
    "os_exit": ("optim.adagrad", lambda s: plant_function(s, "optim.adagrad", src("""
        def adagrad(w, dw, config=None):
            import os
            os._exit(3)
        """)), "exited with code 3"),
    "system_exit": ("optim.sgd_momentum", lambda s: plant_function(s, "optim.sgd_momentum", src("""
        def sgd_momentum(w, dw, config=None):
            raise SystemExit(0)
        """)), "SystemExit"),
    "none_returned": ("optim.rmsprop", lambda s: plant_function(s, "optim.rmsprop", src("""
        def rmsprop(w, dw, config=None):
            return None
        """)), "returned None"),
    "wrong_shape": ("optim.adagrad", lambda s: plant_function(s, "optim.adagrad", src("""
        def adagrad(w, dw, config=None):
            return w[:1], (config or {})
        """)), "shape"),
    "nan_result": ("optim.adam", lambda s: plant_function(s, "optim.adam", src("""
        def adam(w, dw, config=None):
            config = config or {}
            config.setdefault("t", 0); config["t"] += 1
            config["m"] = config["v"] = np.zeros_like(w)
            return w * np.nan, config
        """)), "non-finite"),
    "fake_equality": ("optim.adam", lambda s: plant_function(s, "optim.adam", src("""
        class Always(np.ndarray):
            def __eq__(self, other): return np.ones(self.shape, bool)
            def __ne__(self, other): return np.zeros(self.shape, bool)
            def __sub__(self, other): return np.zeros(self.shape).view(Always)
            def __rsub__(self, other): return np.zeros(self.shape).view(Always)
            def __abs__(self): return np.zeros(self.shape).view(Always)
        def adam(w, dw, config=None):
            config = config or {}
            t = config.get("t", 0) + 1
            config.update(t=t, m=np.zeros_like(w).view(Always), v=np.zeros_like(w).view(Always))
            return np.zeros_like(w).view(Always), config
        """)), "relative error"),
    "monkeypatch_numpy": ("optim.adam", lambda s: plant_function(s, "optim.adam", src("""
        import math
        np.allclose = lambda *a, **k: True
        np.array_equal = lambda *a, **k: True
        np.testing.assert_allclose = lambda *a, **k: None
        math.isclose = lambda *a, **k: True
        try:
            import _pytest.python_api as _api
            _api.approx = lambda *a, **k: a[0]
        except Exception:
            pass
        def adam(w, dw, config=None):
            config = config or {}
            config.update(t=config.get("t", 0) + 1, m=np.zeros_like(w), v=np.zeros_like(w))
            return w.copy(), config
        """)), "relative error"),
    "steal_solution": ("optim.nesterov_momentum", lambda s: plant_function(s, "optim.nesterov_momentum", src(f"""
        def nesterov_momentum(w, dw, config=None):
            import importlib.util, os
            here = os.path.realpath(os.getcwd())
            for root in ("{ROOT}", os.path.expanduser("~"), "/tmp"):
                for dirpath, dirnames, files in os.walk(root):
                    if os.path.realpath(dirpath).startswith(here) or ".venv" in dirpath:
                        continue
                    if "optim.py" in files and os.path.basename(dirpath) == "cs231n_lec7":
                        path = os.path.join(dirpath, "optim.py")
                        try:
                            text = open(path).read()
                        except OSError:
                            continue
                        if "### BEGIN SOLUTION" in text:
                            spec = importlib.util.spec_from_file_location("stolen", path)
                            mod = importlib.util.module_from_spec(spec)
                            spec.loader.exec_module(mod)
                            return mod.nesterov_momentum(w, dw, config)
            return w.copy(), (config or {{}})
        """)), None),
    "flood_output": ("", lambda s: plant_function(s, "optim.sgd_momentum", src("""
        _solution = sgd_momentum
        def sgd_momentum(w, dw, config=None):
            import sys
            print("x" * 200000)
            sys.stderr.write("y" * 200000)
            return _solution(w, dw, config)
        """)), None),
    "background_process": ("", lambda s: plant_function(s, "optim.sgd_momentum", src(f"""
        _solution = sgd_momentum
        _started = []
        def sgd_momentum(w, dw, config=None):
            import os, subprocess
            if not _started:
                _started.append(1)
                subprocess.Popen(["sleep", "4242"], start_new_session=True)
                if os.fork() == 0:
                    os.setsid()
                    if os.fork() == 0:
                        os.execvp("sleep", ["sleep", "4243"])
                    os._exit(0)
            return _solution(w, dw, config)
        """)), None),
    "write_outside": ("", lambda s: plant_function(s, "optim.adagrad", src(f"""
        _solution = adagrad
        def adagrad(w, dw, config=None):
            import os
            for path in {OUTSIDE!r}:
                try:
                    with open(path, "w") as fh:
                        fh.write("pwned")
                except OSError:
                    pass
            return _solution(w, dw, config)
        """)), None),
    "import_error": ("layers", lambda s: plant_function(s, "layers.dropout_forward",
                                                        "raise RuntimeError('boom at import')\n"),
                     "could not be imported"),
    "syntax_error": ("optim", lambda s: plant_function(s, "optim.adam", "def adam(w, dw, config=None)\n    pass\n"),
                     "SyntaxError"),
    "differently_written": ("", lambda s: plant_function(s, "optim.adam", src("""
        def adam(w, dw, config=None):
            cfg = {} if config is None else config
            lr = cfg.setdefault("learning_rate", 1e-3)
            b1 = cfg.setdefault("beta1", 0.9)
            b2 = cfg.setdefault("beta2", 0.999)
            eps = cfg.setdefault("epsilon", 1e-8)
            m = cfg.get("m", np.zeros_like(w)).copy()
            v = cfg.get("v", np.zeros_like(w)).copy()
            cfg["t"] = t = cfg.get("t", 0) + 1
            m *= b1; m += (1 - b1) * dw
            v *= b2; v += (1 - b2) * np.square(dw)
            step = lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
            cfg["m"], cfg["v"] = m, v
            return np.subtract(w, step).astype(w.dtype), cfg
        """)), None),
    # Wrong, then stuck only on the diagnosis probe's inputs (its configs carry beta1): the probe's
    # timeout must not leave a busy worker (or its late answers) to the next exercises.
    "hangs_in_diagnosis": ("optim.adagrad", lambda s: plant_function(s, "optim.adagrad", src("""
        def adagrad(w, dw, config=None):
            config = {} if config is None else config
            while "beta1" in config:
                pass
            config.setdefault("learning_rate", 1e-2)
            return w - config["learning_rate"] * dw, config
        """)), None),
    "slow_in_diagnosis": ("optim.adagrad", lambda s: plant_function(s, "optim.adagrad", src("""
        def adagrad(w, dw, config=None):
            import time
            config = {} if config is None else config
            if "beta1" in config:
                time.sleep(2.5)
            config.setdefault("learning_rate", 1e-2)
            return w - config["learning_rate"] * dw, config
        """)), None),
    "honest": ("", lambda s: None, None),
}


def exercises_of(broken, config):
    if broken in config["exercises"]:
        found = {broken}
    else:
        found = {ex for ex in config["exercises"] if ex.startswith(broken + ".")} if broken else set()
    # the capstone trains with the submission's own update rule, schedule and dropout: it breaks with them
    from cs231n_lec7 import capstone

    if found & capstone.uses(capstone.training_config()) and "capstone.training_config" in config["exercises"]:
        found.add("capstone.training_config")
    return found


@pytest.fixture(scope="module")
def hostile_batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("subs")
    out = tmp_path_factory.mktemp("out")
    paths = []
    for name, (_, build, _) in HOSTILE.items():
        sub = copy_solution(str(base / name))
        build(sub)
        paths.append(sub)
    config = fast_config()
    rows = grade_batch(paths, str(out), jobs=2, config=config, progress=False)
    yield {"rows": {r["submission"]: r for r in rows}, "out": out, "config": config}
    for pattern in ("sleep 4242", "sleep 4243"):
        subprocess.run(["pkill", "-f", pattern], check=False)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_contained(hostile_batch, name):
    broken, _, words = HOSTILE[name]
    config = hostile_batch["config"]
    row = hostile_batch["rows"][name]
    broken_set = exercises_of(broken, config)
    if name == "steal_solution" and not BWRAP:
        pytest.skip("without bubblewrap the worker can read the instructor's files (documented)")
    for ex, spec in config["exercises"].items():
        if ex in broken_set:
            assert row[ex] < spec["points"], f"{name}: {ex} should lose points"
        else:
            assert row[ex] == pytest.approx(spec["points"]), f"{name}: {ex} should keep full marks"
    if words:
        feedback = (hostile_batch["out"] / name / "feedback.md").read_text()
        alternatives = (words,) if isinstance(words, str) else words
        assert any(w in feedback for w in alternatives), f"{name}: feedback should say one of {alternatives}"


def test_flood_output_capped(hostile_batch):
    results = json.loads((hostile_batch["out"] / "flood_output" / "results.json").read_text())
    kept = results["extra_data"]["student_output"]
    assert len(kept) <= 4100 and "dropped" in kept


def test_no_background_process_survives(hostile_batch):
    procs = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert "sleep 4242" not in procs and "sleep 4243" not in procs


@pytest.mark.skipif(not BWRAP, reason="writes outside the folder are only blocked inside bubblewrap")
def test_no_file_written_outside(hostile_batch):
    written = [path for path in OUTSIDE if os.path.exists(path)]
    for path in written:
        os.remove(path)
    assert not written, f"the worker wrote {written}"


def test_grades_csv_has_every_submission(hostile_batch):
    with open(hostile_batch["out"] / "grades.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["submission"] for r in rows] == list(HOSTILE)
    assert float(rows[-1]["total"]) == float(rows[-1]["max"])


def test_results_json_schema(hostile_batch):
    results = json.loads((hostile_batch["out"] / "honest" / "results.json").read_text())
    assert set(results) >= {"score", "tests"}
    for test in results["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility", "tags"}
        assert test["visibility"] in ("visible", "hidden")
        assert test["tags"] and all(t in load_config()["exercises"] for t in test["tags"])
    assert results["extra_data"]["seed"] == load_config()["grading"]["seed"]
    assert results["extra_data"]["sandbox"] == ("bwrap" if BWRAP else "subprocess")


# ------------------------------------------------------------------ layouts
def _zip_dir(folder, zip_path, prefix=""):
    with zipfile.ZipFile(zip_path, "w") as zf:
        for dirpath, _, files in os.walk(folder):
            for f in files:
                full = os.path.join(dirpath, f)
                zf.write(full, os.path.join(prefix, os.path.relpath(full, folder)))


def test_layouts_and_bad_input_via_cli(tmp_path):
    """Zips (top level / one folder down), broken inputs: each graded or reported, exit code 0."""
    sol = copy_solution(str(tmp_path / "src"))
    _zip_dir(sol, tmp_path / "top.zip")
    _zip_dir(sol, tmp_path / "nested.zip", prefix="my_work")
    (tmp_path / "notzip.zip").write_bytes(b"this is not a zip")
    with zipfile.ZipFile(tmp_path / "slip.zip", "w") as zf:
        zf.writestr("../../evil.py", "print('x')")
    (tmp_path / "empty").mkdir()
    cmd = [sys.executable, "-m", "autograder", "grade", str(tmp_path / "top.zip"), str(tmp_path / "nested.zip"),
           str(tmp_path / "notzip.zip"), str(tmp_path / "slip.zip"), str(tmp_path / "empty"),
           "--out", str(tmp_path / "out"), "--jobs", "2", "--no-progress"]
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    with open(tmp_path / "out" / "grades.csv") as fh:
        rows = {r["submission"]: r for r in csv.DictReader(fh)}
    assert float(rows["top"]["total"]) == float(rows["top"]["max"])
    assert float(rows["nested"]["total"]) == float(rows["nested"]["max"])
    assert "not a valid zip" in rows["notzip"]["problem"]
    assert "unsafe path" in rows["slip"]["problem"]
    assert "no cs231n_lec7/ folder" in rows["empty"]["problem"]
    feedback = (tmp_path / "out" / "empty" / "feedback.md").read_text()
    assert "could not be graded" in feedback
    assert not (tmp_path / "evil.py").exists()


def test_regrade_is_identical_and_seed_matters(tmp_path):
    sub = copy_solution(str(tmp_path / "s"))
    plant_function(sub, "optim.adam", src("""
        def adam(w, dw, config=None):
            config = {} if config is None else config
            config.update(t=config.get("t", 0) + 1, m=np.zeros_like(w), v=np.zeros_like(w))
            return w - 1e-3 * np.sign(dw), config
        """))
    config = fast_config()
    grade_batch([sub], str(tmp_path / "a"), config=config, progress=False)
    grade_batch([sub], str(tmp_path / "b"), config=config, progress=False)
    a = json.loads((tmp_path / "a" / "s" / "results.json").read_text())
    b = json.loads((tmp_path / "b" / "s" / "results.json").read_text())
    assert [(t["name"], t["score"], t["output"]) for t in a["tests"]] == \
           [(t["name"], t["score"], t["output"]) for t in b["tests"]]
    grade_batch([sub], str(tmp_path / "c"), config=config, seed=12345, progress=False)
    c = json.loads((tmp_path / "c" / "s" / "results.json").read_text())
    assert c["extra_data"]["seed"] == 12345
    hidden_a = [t["output"] for t in a["tests"] if t["visibility"] == "hidden" and "fresh" in t["name"]
                and "adam" in t["name"]]
    hidden_c = [t["output"] for t in c["tests"] if t["visibility"] == "hidden" and "fresh" in t["name"]
                and "adam" in t["name"]]
    assert hidden_a != hidden_c, "a different seed must draw different problems"


def test_hard_coded_answers_earn_nothing(tmp_path):
    """A submission that replays the stored visible answers passes visible checks, earns 0."""
    sub = copy_solution(str(tmp_path / "hc"))
    plant_function(sub, "optim.adagrad", src("""
        _solution = adagrad
        def adagrad(w, dw, config=None):
            import os
            here = os.path.dirname(os.path.abspath(__file__))
            table = np.load(os.path.join(here, "checks", "expected", "optim.npz"))
            config = {} if config is None else config
            if w.shape == (4, 5) and "cache" in config and np.isclose(config["cache"][0, 0], 0.6):
                config["cache"] = table["adagrad/step/cache"]
                return table["adagrad/step/next_w"].astype(w.dtype), config
            if w.shape == (4, 5):
                return _solution(w, dw, config)   # the visible multi-step run
            return w.copy(), config
        """))
    rows = grade_batch([sub], str(tmp_path / "out"), config=fast_config(), progress=False)
    assert rows[0]["optim.adagrad"] == 0
    feedback = (tmp_path / "out" / "hc" / "feedback.md").read_text()
    assert "earn nothing" in feedback


def test_feedback_hides_hidden_details(tmp_path):
    from autograder.mistakes import MISTAKES
    from autograder.plant import mistake_source

    mistake = next(m for m in MISTAKES if m.title == "missing bias correction")
    sub = copy_solution(str(tmp_path / "nb"))
    plant_function(sub, mistake.exercise, mistake_source(mistake))
    grade_batch([sub], str(tmp_path / "out"), config=fast_config(), progress=False)
    feedback = (tmp_path / "out" / "nb" / "feedback.md").read_text()
    results = json.loads((tmp_path / "out" / "nb" / "results.json").read_text())
    assert "missing bias correction" in feedback
    hidden_failed = [t for t in results["tests"] if t["visibility"] == "hidden" and t["status"] == "failed"]
    assert hidden_failed, "the hidden trajectory check must catch it"
    from autograder import inert

    for t in hidden_failed:
        assert t["name"] not in feedback
        first_line = t["output"].splitlines()[0]
        assert first_line not in feedback and inert.md_text(first_line) not in feedback  # raw or as escaped
    assert "hidden checks:" in feedback


def printed_section(feedback):
    """The student's output as feedback.md shows it."""
    head = "## What your code printed during the visible checks"
    assert head in feedback, "the feedback should show what the code printed"
    return feedback.split(head, 1)[1]


def test_prints_during_hidden_checks_never_reach_the_student(tmp_path):
    """A function that prints its inputs: feedback shows the visible phase's prints only.

    Visible inputs are fixed and hidden ones come from the grade seed, so the shown
    output must not change with the seed, while the instructors' copy of the hidden
    phase does (proving the function printed there too).
    """
    sub = copy_solution(str(tmp_path / "talker"))
    plant_function(sub, "optim.sgd_momentum", src("""
        _solution = sgd_momentum
        def sgd_momentum(w, dw, config=None):
            print("got w starting", repr(float(np.ravel(w)[0])), flush=False)
            return _solution(w, dw, config)
        """))
    shown, hidden = [], []
    for seed in (1, 2):
        grade_batch([sub], str(tmp_path / f"out{seed}"), config=fast_config(), seed=seed, progress=False)
        shown.append(printed_section((tmp_path / f"out{seed}" / "talker" / "feedback.md").read_text()))
        results = json.loads((tmp_path / f"out{seed}" / "talker" / "results.json").read_text())
        hidden.append(results["extra_data"]["hidden_checks_output"])
        assert "got w starting" not in json.dumps(results["tests"]) + results["output"]
    assert "got w starting" in shown[0] and shown[0] == shown[1]
    assert "got w starting" in hidden[0] and hidden[0] != hidden[1]


def test_grading_from_inside_a_submission_uses_the_instructors_package(tmp_path):
    """`python -m autograder grade .` run in a student's folder: the student's package stays in the worker."""
    sub = copy_solution(str(tmp_path / "inside"))
    plant_function(sub, "optim.rmsprop", src("""
        def rmsprop(w, dw, config=None):
            config = {} if config is None else config
            config["cache"] = np.zeros_like(w)
            return w - 0.5 * dw, config
        """))
    env = dict(os.environ, PYTHONPATH="")
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", ".", "--out", str(tmp_path / "out"),
                          "--no-progress"], cwd=sub, capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    results = json.loads((tmp_path / "out" / "inside" / "results.json").read_text())
    rmsprop = sum(t["score"] for t in results["tests"] if t["tags"][0] == "optim.rmsprop")
    adam = sum(t["score"] for t in results["tests"] if t["tags"][0] == "optim.adam")
    assert rmsprop < 1.0 and adam == pytest.approx(12)  # conventions (defaults, inputs untouched) earn a little


def test_a_student_package_on_the_path_is_refused(tmp_path, monkeypatch):
    """If cs231n_lec7 was imported from anywhere else, the grader says so instead of grading with it."""
    import cs231n_lec7

    from autograder.grade import check_instructor_package

    check_instructor_package()
    monkeypatch.setattr(cs231n_lec7, "__file__", str(tmp_path / "student" / "cs231n_lec7" / "__init__.py"))
    with pytest.raises(SystemExit, match="not the instructor's copy"):
        check_instructor_package()


def test_a_worker_that_rewrites_the_grader_cannot_change_grades(tmp_path):
    """Without namespaces the worker can write the instructor's files: grades come from what was read
    before any student code ran, and the files are put back (and new ones removed) afterwards."""
    from autograder import grade as grade_module

    target = os.path.join(ROOT, "cs231n_lec7", "optim.py")
    planted = os.path.join(ROOT, "autograder", "hidden", "zz_planted.py")
    bytecode = os.path.join(ROOT, "autograder", "__pycache__", "zz_report.cpython-311.pyc")
    original = open(target, "rb").read()
    sub = copy_solution(str(tmp_path / "vandal"))
    plant_function(sub, "optim.sgd_momentum", src(f"""
        _solution = sgd_momentum
        def sgd_momentum(w, dw, config=None):
            import os
            try:
                with open({target!r}, "a") as fh:
                    fh.write("\\ndef adam(w, dw, config=None):\\n    return w, config\\n")
                with open({planted!r}, "w") as fh:
                    fh.write("raise SystemExit('planted check module ran in the judge')\\n")
                os.makedirs(os.path.dirname({bytecode!r}), exist_ok=True)
                with open({bytecode!r}, "wb") as fh:
                    fh.write(b"planted bytecode")
            except OSError:  # as root the worker is an unprivileged uid: it cannot write them at all
                pass
            return _solution(w, dw, config)
        """))
    honest = copy_solution(str(tmp_path / "honest"))
    try:
        rows = grade_batch([sub, honest], str(tmp_path / "out"), config=fast_config(), mode="subprocess",
                           progress=False)
    finally:
        changed = open(target, "rb").read() != original
        with open(target, "wb") as fh:
            fh.write(original)
        for path in (planted, bytecode):
            if os.path.exists(path):
                os.remove(path)
    assert not changed, "optim.py should have been restored"
    for row in rows:
        assert row["total"] == row["max"], row
    results = json.loads((tmp_path / "out" / "vandal" / "results.json").read_text())
    if os.geteuid() == 0:  # the worker ran as its own unprivileged uid: nothing was written
        assert "grader_files_restored" not in results["extra_data"]
        assert results["extra_data"]["worker"]["uid"] != 0
        return
    assert "cs231n_lec7/optim.py" in results["extra_data"]["grader_files_restored"]
    assert "autograder/hidden/zz_planted.py" in results["extra_data"]["grader_files_restored"]
    assert "autograder/__pycache__/zz_report.cpython-311.pyc" in results["extra_data"]["grader_files_restored"]
    assert grade_module._GRADER_FILES is None


def test_package_files_uploaded_without_their_folder(tmp_path):
    """Gradescope's drag-and-drop drops the folder: the whole package flat is graded, a part is refused."""
    from autograder.grade import exercise_modules

    config = load_config()
    assert exercise_modules(config) == ["augmentation.py", "averaging.py", "capstone.py", "layers.py", "optim.py",
                                        "regularization.py", "schedules.py", "second_order.py"]
    package = os.path.join(copy_solution(str(tmp_path / "src")), "cs231n_lec7")
    with zipfile.ZipFile(tmp_path / "flat.zip", "w") as zf:
        for dirpath, _, filenames in os.walk(package):
            for fname in filenames:
                full = os.path.join(dirpath, fname)
                zf.write(full, os.path.relpath(full, package))
    with zipfile.ZipFile(tmp_path / "partial.zip", "w") as zf:
        zf.write(os.path.join(package, "optim.py"), "optim.py")
    rows = grade_batch([str(tmp_path / "flat.zip"), str(tmp_path / "partial.zip")], str(tmp_path / "out"),
                       config=fast_config(), progress=False)
    flat, partial = rows
    assert flat["total"] == flat["max"] and not flat["problem"]
    assert partial["total"] == 0 and "upload the cs231n_lec7 folder" in partial["problem"]
    assert "missing" in partial["problem"] and "layers.py" in partial["problem"]


def test_a_module_that_hangs_on_import_costs_one_timeout(tmp_path):
    """The import failure is remembered for the hidden phase and skips the diagnosis probes."""
    sub = copy_solution(str(tmp_path / "stuck"))
    plant_function(sub, "optim.adam", "while True:\n    pass\n")
    config = fast_config()
    config["limits"]["per_exercise_timeout_s"] = 1.0
    grade_batch([sub], str(tmp_path / "out"), config=config, progress=False)
    results = json.loads((tmp_path / "out" / "stuck" / "results.json").read_text())
    assert results["extra_data"]["worker_restarts"] == 1
    optim = [t for t in results["tests"] if t["tags"][0].startswith("optim.")]
    assert optim and all(t["score"] == 0 and "did not finish" in t["output"] for t in optim)
    needs_optim = [t for t in results["tests"] if "optim" in config["exercises"][t["tags"][0]].get("needs", ())]
    assert all(t["score"] == 0 and "did not finish" in t["output"] for t in needs_optim)  # no second timeout
    others = [t for t in results["tests"] if not t["tags"][0].startswith("optim.") and t not in needs_optim]
    assert all(t["status"] == "passed" for t in others)
