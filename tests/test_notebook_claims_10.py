"""Notebook 10's stated claims are asserted by its own cells, and those asserts reject planted wrong runs.

Same style as tests/test_notebook_claims.py: run a few cells of the source notebook in this process
(magics dropped, figures closed), then one claim cell with something planted wrong, and expect that
cell's assert to fail with the claim it states. The unplanted cells passing is covered by
tests/test_notebooks.py, which runs the notebook top to bottom.
"""
from __future__ import annotations

import types

import numpy as np
import pytest

from test_notebook_claims import code_cells, run, run_planted_cell

NB = "10_capstone.ipynb"


@pytest.fixture(scope="module")
def cells():
    return code_cells(NB)


def test_10_split_claim_rejects_a_split_of_other_sizes(cells):
    """The '1197 / 300 / 300 images of 64 pixels' sentence fails on a split without the test images."""
    ns = run(cells, ["setup", "knobs"], {})
    real = ns["capstone"]
    ns["capstone"] = types.SimpleNamespace(**{**vars(real), "graded_data": lambda: {
        **real.graded_data(), "X_test": real.graded_data()["X_test"][:200]}})
    with pytest.raises(AssertionError, match="claim '1197 training, 300 validation and 300 test images"):
        run(cells, ["budget"], ns)


def test_10_baseline_claims_reject_a_baseline_that_learns(cells):
    """With a learning rate 100x larger the baseline leaves 2.303: the '2.303 -> 2.301' sentence fails."""
    ns = run(cells, ["setup", "knobs"], {})
    ns["UNTUNED"] = {**ns["UNTUNED"], "optim_config": {"learning_rate": 1.0}}
    with pytest.raises(AssertionError, match="claim '110 updates, the loss went from ln 10 = 2.303 to 2.301' broke"):
        run(cells, ["baseline"], ns)


def test_10_baseline_accuracy_claim_rejects_chance(cells):
    """A baseline at chance (10 %) is not the 'about 31 %, well above chance' the text states."""
    ns = run(cells, ["setup", "knobs"], {})
    real_train = ns["capstone"].train
    ns["capstone"] = types.SimpleNamespace(**{**vars(ns["capstone"]), "train": lambda *a, **k: {
        **real_train(*a, **k), "val_acc": 0.10}})
    with pytest.raises(AssertionError, match="claim 'about 31 % validation accuracy"):
        run(cells, ["baseline"], ns)


def test_10_sweep_claims_reject_momentum_without_momentum(cells, monkeypatch):
    """If sgd_momentum ignored its velocity (plain SGD), the sweep's stated accuracies break."""
    from cs231n_lec7 import optim
    ns = run(cells, ["setup", "knobs"], {})
    monkeypatch.setattr(optim, "sgd_momentum", lambda w, dw, config=None: (
        optim.sgd(w, dw, config)[0], {**(config or {}), "velocity": np.zeros_like(w)}))
    with pytest.raises(AssertionError, match="claim 'sgd_momentum reaches about"):
        run(cells, ["sweep"], ns)


def test_10_sweep_claim_rejects_adam_without_bias_correction(cells, monkeypatch):
    """Adam without bias correction (giant first steps) does not keep 'a good rate spanning two decades'."""
    from cs231n_lec7 import optim
    real_adam = optim.adam

    def no_correction(w, dw, config=None):
        config = dict(config or {})
        config.setdefault("beta1", 0.9), config.setdefault("beta2", 0.999), config.setdefault("epsilon", 1e-8)
        m = config.get("m", np.zeros_like(w)) * config["beta1"] + (1 - config["beta1"]) * dw
        v = config.get("v", np.zeros_like(w)) * config["beta2"] + (1 - config["beta2"]) * dw * dw
        config.update(m=m, v=v, t=config.get("t", 0) + 1)
        return w - config.get("learning_rate", 1e-3) * m / (np.sqrt(v) + config["epsilon"]), config

    monkeypatch.setattr(optim, "adam", no_correction)
    ns = run(cells, ["setup", "knobs"], {})
    with pytest.raises(AssertionError, match="claim"):
        run(cells, ["sweep"], ns)
    assert real_adam is not no_correction


def test_10_model_answer_claims_are_skipped_for_another_config(cells):
    """A student's own config is not held to the model answer's numbers (the digest does not match)."""
    ns = run(cells, ["setup", "knobs"], {})
    yours = ns["capstone"].validate_config(ns["capstone"].training_config())
    assert ns["is_model_answer"](yours)
    assert not ns["is_model_answer"]({**yours, "reg": 0.0})


@pytest.fixture(scope="module")
def after_yours(cells):
    """The namespace after section 4 (your config trained), with the solution's config in place."""
    ns = run(cells, ["setup", "knobs", "budget", "baseline"], {})
    run(cells, ["yours"], ns)
    return ns


def test_10_ablation_claims_reject_a_weight_scale_variant_that_changes_nothing(cells, after_yours):
    """If the 'weights N(0, 0.01^2)' variant kept 0.05, it would cost nothing: 'about 2 points' fails."""
    with pytest.raises(AssertionError, match="claim 'N\\(0, 0.01\\^2\\) costs about 2 points' broke"):
        run_planted_cell(cells, "ablation", '"weight_scale": 1e-2}', '"weight_scale": yours["weight_scale"]}',
                         dict(after_yours))


def test_10_ablation_claims_reject_dropout_that_matters(cells, after_yours):
    """If 'no dropout' changed the run a lot (here: keep 0.2 instead of none), 'within half a point' fails."""
    with pytest.raises(AssertionError, match="claim 'dropout, L2 and the schedule each within half a point' broke"):
        run_planted_cell(cells, "ablation", '"dropout_keep_ratio": 1.0}', '"dropout_keep_ratio": 0.2}', dict(after_yours))


def test_10_yours_claim_rejects_another_accuracy(cells, after_yours):
    """The model answer's 'about 97 %' fails when the solution config's run ends elsewhere."""
    ns = dict(after_yours)
    real_train = ns["capstone"].train
    ns["capstone"] = types.SimpleNamespace(**{**vars(ns["capstone"]), "train": lambda *a, **k: {
        **real_train(*a, **k), "val_acc": 0.95}})
    with pytest.raises(AssertionError, match="claim 'about 97 % validation accuracy, train about 98 %' broke"):
        run(cells, ["yours"], ns)


def test_10_dropout_claim_rejects_a_bug_that_scales_instead_of_sampling(cells, after_yours):
    """A 'left on' variant that only multiplies by p/p (the identity) would not be lower: the claim fails."""
    with pytest.raises(AssertionError, match="claim"):
        run_planted_cell(cells, "dropout_demo", "mask = (rng.random(x.shape) < p) / p", "mask = np.ones(x.shape)",
                         dict(after_yours))


def test_10_dropout_spread_claim_rejects_evaluations_that_barely_differ(cells, after_yours):
    """'from about 92 % to 96 % over 20 evaluations' fails when the buggy net keeps 95 % of its units
    (keep 0.95 masks at test time: each evaluation close to the right net, the low end far above 92 %)."""
    with pytest.raises(AssertionError, match="claim '(over 20 evaluations|about 96 %)"):
        run_planted_cell(cells, "dropout_demo", "mask = (rng.random(x.shape) < p) / p",
                         "mask = (rng.random(x.shape) < p) / p if seed is not None else (rng.random(x.shape) < 0.95) / 0.95",
                         dict(after_yours))


def test_10_sweep_claim_rejects_a_diagnose_that_stays_silent_on_a_jumpy_good_run(cells, after_yours):
    """'at lr 1 Adam scores 95 % and diagnose still warns': a diagnose that drops its warning for any run
    above 90 % breaks it (the runs at chance keep theirs, so the earlier claims of the cell still hold)."""
    ns = dict(after_yours)
    real = ns["capstone"]
    def silent_when_good(result):
        found = real.diagnose(result)
        return [] if result["val_acc"] > 0.9 else found
    ns["capstone"] = types.SimpleNamespace(**{**vars(real), "diagnose": silent_when_good})
    with pytest.raises(AssertionError, match="claim 'at lr 1 Adam scores 95 % and diagnose still warns"):
        run(cells, ["sweep"], ns)
