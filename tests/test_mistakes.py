"""The catalogue of known mistakes and right-but-different code, graded by the real grader.

Every :data:`autograder.mistakes.MISTAKES` entry is planted into a copy of the
solution and every :data:`autograder.mistakes.CORRECT` variant too; all are
graded in one batch with ``grade_batch`` (sandboxed workers, as ``python -m
autograder grade``). A wrong implementation must lose points on its own
exercise only and be named (each of its titles) in feedback.md; a right one
must keep full marks with no "Likely bug" line. The same diagnosis library,
run locally as in the notebook check cells, must name the same mistakes.
"""
from __future__ import annotations

import json

import pytest

from autograder.grade import grade_batch, load_config
from autograder.mistakes import CORRECT, MISTAKES
from autograder.plant import copy_solution, function_source, mistake_source, plant_function
from cs231n_lec7.checks import check_exercise, visible_checks
from cs231n_lec7.checks.core import CheckFailure, Context, LocalFunctions, quiet_numerics
from cs231n_lec7.checks.diagnose import diagnose

# A backward check has to run the student's own forward pass (the cache format is
# theirs), so a forward mistake may cost points there too. Listed, not hidden.
from cs231n_lec7 import capstone

# The capstone trains with the student's own update rule, schedule and dropout.
DEPENDS_ON = {"capstone.training_config": capstone.uses(capstone.training_config())}
PROPERTY = [m for m in MISTAKES if m.detect == "property"]


def _slug(m):
    return m.key


def _variant_slug(v):
    return "ok__" + v.fn.__name__


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    base = tmp_path_factory.mktemp("mistakes")
    config = load_config()
    config["limits"]["per_exercise_timeout_s"] = 5.0
    paths = []
    for m in MISTAKES:
        sub = copy_solution(str(base / _slug(m)))
        plant_function(sub, m.exercise, mistake_source(m))
        paths.append(sub)
    for v in CORRECT:
        sub = copy_solution(str(base / _variant_slug(v)))
        plant_function(sub, v.exercise, function_source(v.fn, v.exercise.rpartition(".")[2]))
        paths.append(sub)
    out = base / "out"
    rows = grade_batch(paths, str(out), jobs=2, config=config, progress=False)
    return {"rows": {r["submission"]: r for r in rows}, "out": out, "config": config}


def _results(planted, name):
    return json.loads((planted["out"] / name / "results.json").read_text())


def test_catalogue_is_large_and_keys_are_unique():
    assert len(MISTAKES) >= 100
    assert len({m.key for m in MISTAKES}) == len(MISTAKES)
    assert len({(m.exercise, m.title) for m in MISTAKES if not m.slug}) == len([m for m in MISTAKES if not m.slug])
    assert len(CORRECT) >= 10


@pytest.mark.parametrize("mistake", MISTAKES, ids=_slug)
def test_planted_mistake_is_caught_and_named(planted, mistake):
    row = planted["rows"][_slug(mistake)]
    config = planted["config"]
    assert not row["problem"], row["problem"]
    assert row[mistake.exercise] < config["exercises"][mistake.exercise]["points"], "the mistake earned full marks"
    for ex, spec in config["exercises"].items():
        if ex == mistake.exercise or mistake.exercise in DEPENDS_ON.get(ex, ()):
            continue
        assert row[ex] == pytest.approx(spec["points"]), f"{ex} lost points for a mistake in {mistake.exercise}"
    feedback = (planted["out"] / _slug(mistake) / "feedback.md").read_text()
    for title in mistake.titles:
        assert title in feedback, f"feedback does not name {title!r}"


@pytest.mark.parametrize("variant", CORRECT, ids=_variant_slug)
def test_right_but_different_code_keeps_full_marks_without_hints(planted, variant):
    row = planted["rows"][_variant_slug(variant)]
    for ex, spec in planted["config"]["exercises"].items():
        assert row[ex] == pytest.approx(spec["points"]), f"{ex} lost points"
    feedback = (planted["out"] / _variant_slug(variant) / "feedback.md").read_text()
    assert "Likely bug" not in feedback
    assert _results(planted, _variant_slug(variant))["extra_data"]["diagnoses"] == {}
    if variant.note == "float64":
        assert "Note — " in feedback and "float64" in feedback and "no points are lost" in feedback


def test_catalogue_figures(planted):
    """Fraction of wrong implementations named (target ≥ 90 %); hints on right code (target 0)."""
    named = sum(all(t in (planted["out"] / _slug(m) / "feedback.md").read_text() for t in m.titles)
                for m in MISTAKES)
    hints = sum((planted["out"] / _variant_slug(v) / "feedback.md").read_text().count("Likely bug")
                for v in CORRECT)
    print(f"\nnamed {named}/{len(MISTAKES)} = {named / len(MISTAKES):.1%}; "
          f"'Likely bug' lines on {len(CORRECT)} right variants: {hints}")
    assert named / len(MISTAKES) >= 0.9
    assert hints == 0


def test_credit_follows_properties(planted):
    """A missing bias correction keeps the share of its right moments, but loses most of the points."""
    points = planted["config"]["exercises"]["optim.adam"]["points"]
    score = planted["rows"]["adam_no_bias_correction"]["optim.adam"]
    assert 0 < score < 0.5 * points


# ------------------------------------------------------------ locally, as in the notebook
@pytest.mark.parametrize("mistake", PROPERTY, ids=_slug)
def test_diagnosis_library_names_it_without_hidden_inputs(mistake):
    """The properties, run on the function itself (no grader), name every title of the mistake."""
    found = [f.title for f in diagnose(mistake.exercise, LocalFunctions(overrides={mistake.exercise: mistake.fn}))]
    assert set(mistake.titles) <= set(found), found
    assert set(found) <= set(mistake.titles), f"also named {set(found) - set(mistake.titles)}"


@pytest.mark.parametrize("variant", CORRECT, ids=_variant_slug)
def test_diagnosis_library_is_silent_on_right_code(variant):
    """Run unconditionally (not only after a failed check), no property blames right code."""
    assert diagnose(variant.exercise, LocalFunctions(overrides={variant.exercise: variant.fn})) == []


def _fails_visibly(mistake):
    fns = LocalFunctions(overrides={mistake.exercise: mistake.fn})
    for c in visible_checks(mistake.exercise):
        try:
            with quiet_numerics():
                c.func(Context(fns))
        except (CheckFailure, Exception):
            return True
    return False


VISIBLY_WRONG = [m for m in PROPERTY if _fails_visibly(m)]


def test_every_named_mistake_fails_a_visible_check():
    """So the notebook's check cell shows its "Likely bug" line, without hidden inputs."""
    assert VISIBLY_WRONG == PROPERTY


@pytest.mark.parametrize("mistake", VISIBLY_WRONG, ids=_slug)
def test_notebook_check_cell_names_the_mistake(mistake, monkeypatch):
    """check_exercise (the notebook's check cell) shows the same "Likely bug — title" line."""
    import cs231n_lec7.checks as checks

    monkeypatch.setattr(checks, "LocalFunctions", lambda: LocalFunctions(overrides={mistake.exercise: mistake.fn}))
    with pytest.raises(CheckFailure) as err:
        check_exercise(mistake.exercise, verbose=False)
    for title in mistake.titles:
        assert f"Likely bug — {title}" in str(err.value)


def test_unfinished_exercise_gets_one_line(tmp_path):
    """An exercise left as its stub is one line in feedback.md, not one per check."""
    sub = copy_solution(str(tmp_path / "unfinished"))
    plant_function(sub, "optim.adam", "def adam(w, dw, config=None):\n"
                                      "    raise NotImplementedError('optim.adam: not implemented yet')\n")
    config = load_config()
    config["exercises"] = {ex: spec for ex, spec in config["exercises"].items() if ex.startswith("optim.")}
    grade_batch([sub], str(tmp_path / "out"), config=config, progress=False)
    feedback = (tmp_path / "out" / "unfinished" / "feedback.md").read_text()
    section = feedback.split("## Not implemented yet")[1].split("##")[0]
    assert [line for line in section.splitlines() if line.strip()] == ["- `optim.adam` — notebook 03_adaptive, “Adam”"]
    assert "## `optim.adam`" not in feedback and "Likely bug" not in feedback


def test_pytest_output_is_the_message_and_the_likely_bug(tmp_path, root, python_env):
    """`pytest -k adam` on a student's copy: a few lines per failure, the likely bug, no library source."""
    import shutil
    import subprocess
    import sys

    mistake = next(m for m in MISTAKES if m.key == "adam_no_bias_correction")
    sub = copy_solution(str(tmp_path / "student"))
    plant_function(sub, mistake.exercise, mistake_source(mistake))
    (tmp_path / "student" / "tests").mkdir()
    shutil.copyfile(f"{root}/tests/test_visible_checks.py", tmp_path / "student" / "tests" / "test_visible_checks.py")
    env = python_env(tmp_path / "student")
    for var in ("CI", "BUILD_NUMBER"):  # pytest prints whole messages in its summary under CI: a student's run
        env.pop(var, None)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_visible_checks.py", "-k", "adam"], cwd=tmp_path / "student",
                          env=env, capture_output=True, text=True, timeout=120)
    failures = proc.stdout.count("FAILED tests/")
    assert failures >= 2, proc.stdout
    assert proc.stdout.count("Likely bug — missing bias correction:") == 1, proc.stdout
    assert "Likely bug (explained above) — missing bias correction" in proc.stdout
    assert "def " not in proc.stdout and "core.py" not in proc.stdout, proc.stdout
    assert len(proc.stdout.splitlines()) <= 8 * failures, proc.stdout


# ------------------------------------------------------------ credit and wording on specific variants
def _feedback(planted, name):
    return (planted["out"] / name / "feedback.md").read_text()


def test_papers_folded_adam_loses_little_and_gets_no_state_hint(planted):
    """ε on √v instead of √v̂ matters only for tiny gradients: named, a small deduction, never the state hint."""
    points = planted["config"]["exercises"]["optim.adam"]["points"]
    assert planted["rows"]["adam_folded_paper_form"]["optim.adam"] >= 0.85 * points
    assert "read its state back" not in _feedback(planted, "adam_folded_paper_form")


def test_first_momentum_form_costs_only_the_state_share(planted):
    """Same path as the contract's form; only the stored velocity's convention differs."""
    points = planted["config"]["exercises"]["optim.sgd_momentum"]["points"]
    assert 0.6 * points <= planted["rows"]["momentum_first_form_state"]["optim.sgd_momentum"] < points
    assert "v_contract = -lr * v_yours" in _feedback(planted, "momentum_first_form_state")


def test_state_hint_only_with_evidence(planted):
    """The 'read its state back' hint never reaches right code."""
    for v in CORRECT:
        assert "read its state back" not in _feedback(planted, _variant_slug(v))


def test_dtype_note_only_when_values_are_right(planted):
    """A wrong dropout with a float64 result is not told its values are right; the fix names out and x."""
    wrong = _feedback(planted, "dropout_p_as_drop_test_scaled")
    assert "The values are right" not in wrong
    assert "next_w" not in wrong and "out.astype(x.dtype)" in wrong
    right = _feedback(planted, "ok__dropout_float64_promotion")
    assert "The values are right" in right and "out.astype(x.dtype)" in right


def test_likely_bugs_are_attached_to_the_checks_they_explain(planted):
    """A check comparing only the state does not carry a finding about the step (ε inside the root)."""
    tests = _results(planted, "adagrad_eps_inside_not_stored")["tests"]
    state_only = [t for t in tests if "state after" in t["name"] and t["status"] == "failed"]
    assert state_only
    for t in state_only:
        assert "state not stored in config" in t["output"]
        assert "epsilon inside the square root" not in t["output"]
    tiny = [t for t in tests if "tiny gradients" in t["name"] and t["status"] == "failed"]
    assert tiny and all("epsilon inside the square root" in t["output"] for t in tiny)


@pytest.mark.parametrize("key", ["adam_module_defaults", "adam_mutable_default_argument"])
def test_visible_check_rejects_state_shared_between_calls(key):
    """Two calls without a config must not share state; the check names the shared default dict."""
    mistake = next(m for m in MISTAKES if m.key == key)
    check = next(c for c in visible_checks("optim.adam") if c.name == "adam: config=None calls are independent")
    with pytest.raises(CheckFailure, match="state kept between calls in a shared default dict"):
        with quiet_numerics():
            check.func(Context(LocalFunctions(overrides={"optim.adam": mistake.fn})))
