"""Stored expected values and reference trajectories: equal to live recomputation, and to torch.

- ``autograder.references.verify()`` finds no difference between every stored ``.npz``
  (visible ``expected/`` and hidden ``references/``) and a live recomputation;
- the stored optimizer trajectories (``autograder/references/optim.npz``) and the visible
  five-step expectations equal torch.optim's on the same problems (skipped without torch);
- verify() can fail: a changed value, a dropped or extra key, a missing file, a reshaped
  value, each planted into a copy of the stored files, is reported;
- every registered check, visible and hidden, passes on the reference solution.
"""
from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from autograder import references
from autograder.grade import all_checks, load_config
from autograder.hidden import optim as hidden_optim
from cs231n_lec7.checks import optim as visible_optim
from cs231n_lec7.checks.core import CheckFailure, Context, LocalFunctions, check_seed, quiet_numerics, rel_error

GRADED_RULES = tuple(visible_optim.RULES)


def test_stored_values_equal_live_recomputation():
    problems = references.verify()
    assert problems == [], "run `python -m autograder references`:\n  " + "\n  ".join(problems)


def test_optim_and_dropout_are_covered():
    """The loops below iterate over what exists; these exercises must be among it."""
    stored = {os.path.basename(p) for p in references.compute()}
    assert {"optim.npz"} <= stored
    exercises = {e for c in all_checks().values() for e in c.exercises}
    for rule in GRADED_RULES:
        assert f"optim.{rule}" in exercises
    assert {"layers.dropout_forward", "layers.dropout_backward"} <= exercises


# ------------------------------------------------------------------ truth: torch.optim
def torch_optimizer(torch, rule, param, h):
    o = torch.optim
    if rule == "sgd_momentum":
        return o.SGD([param], lr=h["learning_rate"], momentum=h["momentum"], foreach=False)
    if rule == "nesterov_momentum":
        return o.SGD([param], lr=h["learning_rate"], momentum=h["momentum"], nesterov=True, foreach=False)
    if rule == "adagrad":
        return o.Adagrad([param], lr=h["learning_rate"], eps=h["epsilon"], initial_accumulator_value=0,
                         foreach=False)
    if rule == "rmsprop":
        return o.RMSprop([param], lr=h["learning_rate"], alpha=h["decay_rate"], eps=h["epsilon"], foreach=False)
    if rule == "adam":
        return o.Adam([param], lr=h["learning_rate"], betas=(h["beta1"], h["beta2"]), eps=h["epsilon"],
                      foreach=False)
    raise KeyError(rule)


DEFAULTS = {  # DESIGN.md's table
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "nesterov_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "adagrad": {"learning_rate": 1e-2, "epsilon": 1e-8},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
}


def torch_run(torch, rule, hyper, x0, gradient, num_steps):
    """Iterates of torch's optimizer from x0; ``gradient(x, k)`` gives the gradient at step k."""
    param = torch.nn.Parameter(torch.tensor(np.asarray(x0, dtype=np.float64)))
    opt = torch_optimizer(torch, rule, param, dict(DEFAULTS[rule], **hyper))
    xs = [param.detach().numpy().copy()]
    for k in range(num_steps):
        param.grad = torch.tensor(np.asarray(gradient(xs[-1], k), dtype=np.float64))
        opt.step()
        xs.append(param.detach().numpy().copy())
    return np.array(xs)


STORED = hidden_optim.REFERENCES


def load(path):
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


@pytest.mark.parametrize("rule", GRADED_RULES)
def test_stored_trajectory_equals_torch_optim(torch, rule):
    stored = load(STORED)
    a, b, x0 = stored["A"], stored["b"], stored["x0"]
    want = stored[f"{rule}/trajectory"]
    assert want.shape == (hidden_optim.NUM_STEPS + 1, x0.size)
    theirs = torch_run(torch, rule, hidden_optim.TRAJECTORY_HYPER[rule], x0, lambda x, k: a @ x - b,
                       hidden_optim.NUM_STEPS)
    assert np.abs(want[-1] - want[0]).max() > 1e-2, "the stored trajectory must move"
    assert rel_error(want, theirs) < 1e-10


@pytest.mark.parametrize("rule", GRADED_RULES)
def test_visible_five_step_expectations_equal_torch_optim(torch, rule):
    """expected/optim.npz's 5-step runs from config=None (defaults + learning rate) = torch's."""
    expected = load(os.path.join(os.path.dirname(visible_optim.__file__), "expected", "optim.npz"))
    grads = visible_optim.gradient_sequence(5)
    w0 = np.linspace(-0.5, 0.5, num=visible_optim.N * visible_optim.D).reshape(visible_optim.N, visible_optim.D)
    hyper = {"learning_rate": visible_optim.RULES[rule]["hyper"]["learning_rate"]}
    theirs = torch_run(torch, rule, hyper, w0, lambda x, k: grads[k], 5)
    assert rel_error(expected[f"{rule}/steps5/w"], theirs[-1]) < 1e-12


def test_stored_trajectory_comparison_can_fail(torch):
    """The torch comparison above rejects a trajectory made with another hyper-parameter."""
    stored = load(STORED)
    a, b, x0 = stored["A"], stored["b"], stored["x0"]
    hyper = dict(hidden_optim.TRAJECTORY_HYPER["adam"], beta2=0.999)
    theirs = torch_run(torch, "adam", hyper, x0, lambda x, k: a @ x - b, hidden_optim.NUM_STEPS)
    assert rel_error(stored["adam/trajectory"], theirs) > 1e-6


# ------------------------------------------------------------------ verify() can fail
@pytest.fixture
def stored_copy(tmp_path, monkeypatch):
    """Copies of every stored .npz under tmp_path; verify() is pointed at them (SOURCES patched).

    Returns {basename-without-folder-kind: path} keyed as 'expected/<topic>.npz' or
    'references/<topic>.npz'.
    """
    sources, copies = [], {}
    for package, func, folder in references.SOURCES:
        kind = os.path.basename(folder)
        dest = tmp_path / kind
        dest.mkdir()
        for fname in os.listdir(folder):
            if fname.endswith(".npz"):
                shutil.copyfile(os.path.join(folder, fname), dest / fname)
                copies[f"{kind}/{fname}"] = str(dest / fname)
        sources.append((package, func, str(dest)))
    monkeypatch.setattr(references, "SOURCES", tuple(sources))
    return copies


def rewrite(path, change):
    data = load(path)
    change(data)
    np.savez_compressed(path, **data)


def baseline_problems():
    """Problems verify() reports on the untouched stored files (expected: none)."""
    return set(references.verify())


def test_verify_detects_a_changed_value(stored_copy):
    before = baseline_problems()
    path = stored_copy["references/optim.npz"]

    def change(data):
        data["adam/trajectory"] = data["adam/trajectory"].copy()
        data["adam/trajectory"][17, 3] *= 1 + 1e-9

    rewrite(path, change)
    new = set(references.verify()) - before
    assert any(path in p and "adam/trajectory" in p for p in new), new


def test_verify_detects_a_changed_expected_value(stored_copy):
    before = baseline_problems()
    path = stored_copy["expected/optim.npz"]
    rewrite(path, lambda d: d.__setitem__("rmsprop/step/cache", d["rmsprop/step/cache"] + 1e-6))
    new = set(references.verify()) - before
    assert any(path in p and "rmsprop/step/cache" in p for p in new), new


def test_verify_detects_missing_and_extra_keys_and_files(stored_copy):
    before = baseline_problems()
    path = stored_copy["references/optim.npz"]
    rewrite(path, lambda d: d.pop("rmsprop/trajectory"))
    new = set(references.verify()) - before
    assert any(path in p and "keys differ" in p for p in new), new

    path2 = stored_copy["expected/optim.npz"]
    rewrite(path2, lambda d: d.__setitem__("stale/entry", np.zeros(3)))
    new = set(references.verify()) - before
    assert any(path2 in p and "keys differ" in p for p in new), new

    os.remove(path)
    new = set(references.verify()) - before
    assert any(path in p and "missing" in p for p in new), new


def test_verify_detects_a_reshaped_value(stored_copy):
    """A stored value of another shape must be reported even when it broadcasts to the live one."""
    before = baseline_problems()
    path = stored_copy["expected/optim.npz"]
    rewrite(path, lambda d: d.__setitem__("adam/step/t", np.full(3, d["adam/step/t"])))
    new = set(references.verify()) - before
    assert any(path in p and "adam/step/t" in p for p in new), new


# ------------------------------------------------------------------ the reference passes everything
CHECKS = list(all_checks().values())
SEED = load_config()["grading"]["seed"]


@pytest.mark.parametrize("check", CHECKS, ids=[c.name for c in CHECKS])
def test_reference_passes_every_check(check):
    ref = LocalFunctions()
    try:
        with quiet_numerics():
            check.func(Context(ref, ref=ref, seed=check_seed(SEED, check.name)))
    except CheckFailure as err:
        pytest.fail(f"{check.visibility} check {check.name!r} fails on the reference solution: {err}")


def test_expected_values_are_shared_read_once_and_handed_out_as_copies(tmp_path):
    """A check that writes into an expected array (or a mirrored argument) cannot corrupt the next check's."""
    from cs231n_lec7.checks.core import Context, ExpectedMissing

    path = tmp_path / "demo.npz"
    np.savez(path, a=np.arange(3.0))
    first = Context(None, expected_dir=str(tmp_path)).expected("demo/a")
    first[...] = -1.0
    assert np.array_equal(Context(None, expected_dir=str(tmp_path)).expected("demo/a"), np.arange(3.0))
    np.savez(path, a=np.arange(4.0))  # regenerated files are read again
    os.utime(path, ns=(1, 10**18))
    assert Context(None, expected_dir=str(tmp_path)).expected("demo/a").shape == (4,)
    with pytest.raises(ExpectedMissing, match="missing"):
        Context(None, expected_dir=str(tmp_path)).expected("nothere/a")
