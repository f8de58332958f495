"""The capstone (``cs231n_lec7/capstone.py``): config checks, the training engine, scoring, grading.

- the engine's training pass is FullyConnectedNet's (same loss and gradients, with and without
  dropout), so "trains FullyConnectedNet" is literal;
- a bad config is refused with a message naming the key (a table of wrong configs);
- the solution reaches the target on the graded run; untuned plain SGD falls clearly short;
- known mistakes (learning rate far too large / too small, dropout left on at test time, p taken
  as the drop probability) are planted through ``LocalFunctions`` overrides and named;
- a student's function that is missing, raises or returns the wrong shape gets a clear message;
- the time budget stops a run with a clear message; runs are deterministic per seed;
- through the grader: the solution earns every capstone point; untuned SGD with a ``train`` that
  lies about its accuracy earns a clear part only (the judge computes the accuracy itself).
"""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from cs231n_lec7 import capstone
from cs231n_lec7.checks import capstone as checks
from cs231n_lec7.checks.core import REGISTRY, CheckFailure, Context, LocalFunctions
from cs231n_lec7.data import get_digits_data
from cs231n_lec7.fc_net import FullyConnectedNet
from cs231n_lec7.layers import dropout_forward

UNTUNED_SGD = {"update_rule": "sgd", "optim_config": {}, "hidden_dims": [100], "batch_size": 100,
               "num_epochs": 10}
QUICK = {"update_rule": "adam", "optim_config": {"learning_rate": 5e-3}, "hidden_dims": [32],
         "weight_scale": 5e-2, "batch_size": 200, "num_epochs": 4}


@pytest.fixture(scope="module")
def data():
    return get_digits_data(seed=capstone.SPLIT_SEED)


def ctx_with(**overrides):
    return Context(LocalFunctions(overrides=overrides))


# ------------------------------------------------------------------ the engine is FullyConnectedNet's
@pytest.mark.parametrize("keep", [1.0, 0.6])
def test_training_pass_equals_fully_connected_net(keep):
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((20, 64)).astype(np.float32), rng.integers(0, 10, 20)
    model = FullyConnectedNet([16], input_dim=64, num_classes=10, dropout_keep_ratio=keep, reg=0.05,
                              weight_scale=0.1, dtype=np.float64, seed=7)
    loss, grads = model.loss(X, y)
    masks = None
    if keep < 1:  # the net's dropout uses seed 7 on its (20, 16) activations: the same mask
        masks = [dropout_forward(np.ones((20, 16)), {"mode": "train", "p": keep, "seed": 7})[0]]
    loss2, grads2 = capstone._loss_and_grads(model.params, X.astype(np.float64), y, masks, 0.05, 2)
    assert loss2 == pytest.approx(loss, rel=1e-12)
    for name in grads:
        np.testing.assert_allclose(grads2[name], grads[name], rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ the config
BAD_CONFIGS = [
    (None, "returned None"),
    ([("update_rule", "adam")], "must return a dict"),
    ({**UNTUNED_SGD, "learning_rate": 1e-3}, "put it inside optim_config"),
    ({**UNTUNED_SGD, "epochs": 3}, "did you mean 'num_epochs'"),
    ({k: v for k, v in UNTUNED_SGD.items() if k != "num_epochs"}, "'num_epochs'"),
    ({**UNTUNED_SGD, "update_rule": "Adam"}, "update_rule must be one of"),
    ({**UNTUNED_SGD, "optim_config": {"lr": 1e-3}}, "did you mean 'learning_rate'"),
    ({**UNTUNED_SGD, "update_rule": "sgd", "optim_config": {"momentum": 0.9}}, "unknown key 'momentum'"),
    ({**UNTUNED_SGD, "update_rule": "adam", "optim_config": {"m": 0.0}}, "the rule's state"),
    ({**UNTUNED_SGD, "optim_config": {"learning_rate": -1e-3}}, "learning_rate"),
    ({**UNTUNED_SGD, "optim_config": {"learning_rate": float("nan")}}, "finite"),
    ({**UNTUNED_SGD, "hidden_dims": 100}, "list of layer sizes"),
    ({**UNTUNED_SGD, "hidden_dims": [100, 0]}, "hidden_dims[1]"),
    ({**UNTUNED_SGD, "hidden_dims": [8] * 5}, "1 to 4"),
    ({**UNTUNED_SGD, "batch_size": True}, "batch_size must be an integer"),
    ({**UNTUNED_SGD, "batch_size": 50.0}, "batch_size must be an integer"),
    ({**UNTUNED_SGD, "dropout_keep_ratio": 0.0}, "KEEPING"),
    ({**UNTUNED_SGD, "reg": "1e-3"}, "reg must be a number"),
    ({**UNTUNED_SGD, "lr_schedule": "cosine"}, "lr_schedule must be one of"),
    ({**UNTUNED_SGD, "lr_schedule": "exponential_decay"}, "needs 'k'"),
    ({**UNTUNED_SGD, "lr_schedule": "step_decay", "schedule_config": {"decay_every": 0}}, "decay_every"),
    ({**UNTUNED_SGD, "batch_size": 10, "num_epochs": 20}, "budget"),
    ({**UNTUNED_SGD, "hidden_dims": [1024], "num_epochs": 10}, "budget"),
]


@pytest.mark.parametrize("config, words", BAD_CONFIGS, ids=[w for _, w in BAD_CONFIGS])
def test_a_bad_config_is_refused_naming_the_problem(config, words):
    with pytest.raises(capstone.CapstoneError, match=None) as err:
        capstone.validate_config(config)
    assert words in str(err.value), str(err.value)
    with pytest.raises(CheckFailure, match="training_config"):  # the visible check says the same
        checks.student_config(ctx_with(**{checks.EXERCISE: lambda: config}))


def test_defaults_are_filled_in_and_the_solution_is_valid():
    config = capstone.validate_config(UNTUNED_SGD)
    assert config["optim_config"]["learning_rate"] == 1e-2 and config["dropout_keep_ratio"] == 1.0
    assert capstone.validate_config({**UNTUNED_SGD, "update_rule": "adam"})["optim_config"]["learning_rate"] == 1e-3
    capstone.validate_config(capstone.training_config())


# ------------------------------------------------------------------ solution vs untuned SGD
def test_solution_reaches_the_target_and_untuned_sgd_falls_clearly_short(data):
    solution = capstone.train(capstone.training_config(), data=data)
    untuned = capstone.train(UNTUNED_SGD, data=data)
    assert solution["val_acc"] >= checks.TARGET_ACCURACY, capstone.summary(solution)
    assert checks.accuracy_score(solution["val_acc"]) == 1.0
    assert untuned["val_acc"] < checks.ACCURACY_TIERS[-1][0], capstone.summary(untuned)
    assert checks.accuracy_score(untuned["val_acc"]) == 0.0
    assert capstone.diagnose(solution) == []
    assert [t for t, _ in capstone.diagnose(untuned)] == [capstone.LR_TOO_SMALL]


def test_accuracy_tiers_are_monotone():
    floors = [f for f, _ in checks.ACCURACY_TIERS]
    shares = [s for _, s in checks.ACCURACY_TIERS]
    assert floors == sorted(floors, reverse=True) and shares == sorted(shares, reverse=True)
    assert checks.accuracy_score(1.0) == 1.0 and checks.accuracy_score(0.0) == 0.0
    assert checks.accuracy_score(0.92) == 0.75


def test_runs_are_deterministic_per_seed(data):
    config = {**QUICK, "dropout_keep_ratio": 0.7}
    a, b = capstone.train(config, data=data), capstone.train(config, data=data)
    c = capstone.train(config, data=data, seed=1)
    np.testing.assert_array_equal(a["loss_history"], b["loss_history"])
    assert a["val_acc"] == b["val_acc"]
    assert not np.array_equal(a["loss_history"], c["loss_history"])


# ------------------------------------------------------------------ known mistakes, planted
def dropout_on_at_test(x, dropout_param):
    mask = (np.random.default_rng(dropout_param.get("seed")).random(x.shape) < dropout_param["p"])
    mask = mask / dropout_param["p"]
    return (x * mask).astype(x.dtype), (dropout_param, mask)


def dropout_p_drops(x, dropout_param):
    p = 1 - dropout_param["p"]
    if dropout_param["mode"] == "test":
        return x.copy(), (dropout_param, None)
    mask = (np.random.default_rng(dropout_param.get("seed")).random(x.shape) < p) / p
    return (x * mask).astype(x.dtype), (dropout_param, mask)


GRADED_RUN = "capstone: the graded run, validation accuracy"


@pytest.mark.parametrize("config, overrides, title", [
    ({**QUICK, "optim_config": {"learning_rate": 1.0}}, {}, capstone.LR_TOO_LARGE),
    ({**QUICK, "optim_config": {"learning_rate": 1e-7}}, {}, capstone.LR_TOO_SMALL),
    ({**QUICK, "dropout_keep_ratio": 0.5}, {"layers.dropout_forward": dropout_on_at_test},
     capstone.DROPOUT_AT_TEST),
    ({**QUICK, "dropout_keep_ratio": 0.8}, {"layers.dropout_forward": dropout_p_drops}, capstone.KEEP_AS_DROP),
], ids=["lr-too-large", "lr-too-small", "dropout-at-test", "p-drops"])
def test_known_mistakes_are_named_by_the_graded_run(config, overrides, title):
    ctx = ctx_with(**{checks.EXERCISE: lambda: config}, **overrides)
    with pytest.raises(CheckFailure) as err:
        REGISTRY[GRADED_RUN].func(ctx)
    assert title in str(err.value), str(err.value)
    assert 0 <= err.value.score < 1
    fixed = {**config, "optim_config": QUICK["optim_config"]} if not overrides else config
    try:  # without the mistake, the same run does not name it
        REGISTRY[GRADED_RUN].func(ctx_with(**{checks.EXERCISE: lambda: fixed}))
    except CheckFailure as err_fixed:
        assert title not in str(err_fixed), str(err_fixed)


def test_dropout_left_on_at_test_time_costs_accuracy(data):
    config = {**QUICK, "hidden_dims": [64], "dropout_keep_ratio": 0.3, "num_epochs": 8}
    right = capstone.train(config, data=data)
    wrong = capstone.train(config, data=data, functions=LocalFunctions(
        overrides={"layers.dropout_forward": dropout_on_at_test}))
    assert not right["test_mode_changes"] and wrong["test_mode_changes"]
    assert wrong["val_acc"] < right["val_acc"] - 0.05
    assert wrong["val_acc_identity"] == pytest.approx(right["val_acc"], abs=0.02)


# ------------------------------------------------------------------ student code that fails
def not_implemented(*args):
    raise NotImplementedError("optim.adam: not implemented yet")


def wrong_shape(w, dw, config=None):
    return w.ravel(), config or {}


def raises(step, initial_lr, k):
    raise ZeroDivisionError("division by zero")


@pytest.mark.parametrize("config, overrides, words", [
    (QUICK, {"optim.adam": wrong_shape}, "expected an array of shape (64, 32)"),
    ({**QUICK, "lr_schedule": "exponential_decay", "schedule_config": {"k": 1e-3}},
     {"schedules.exponential_decay": raises}, "schedules.exponential_decay failed"),
    ({**QUICK, "dropout_keep_ratio": 0.5}, {"layers.dropout_forward": lambda x, p: x}, "pair (out, cache)"),
], ids=["wrong-shape", "raises", "not-a-pair"])
def test_student_functions_that_fail_get_a_clear_message(config, overrides, words, data):
    with pytest.raises(capstone.CapstoneError) as err:
        capstone.train(config, data=data, functions=LocalFunctions(overrides=overrides))
    assert words in str(err.value), str(err.value)


def test_a_rule_not_implemented_yet_is_unfinished_work_not_a_bug(data):
    with pytest.raises(NotImplementedError, match="optim.adam is not implemented yet, and your config uses it"):
        capstone.train(QUICK, data=data, functions=LocalFunctions(overrides={"optim.adam": not_implemented}))
    ctx = ctx_with(**{checks.EXERCISE: lambda: QUICK, "optim.adam": not_implemented})
    with pytest.raises(CheckFailure, match="not implemented yet"):
        REGISTRY[GRADED_RUN].func(ctx)


def test_time_budget_stops_the_run_with_a_clear_message(data):
    with pytest.raises(capstone.CapstoneError, match="time budget: the run stopped after 1 of"):
        capstone.train(QUICK, data=data, time_budget_s=0.0)


def test_schedules_set_the_learning_rate_of_every_update(data):
    config = {**QUICK, "lr_schedule": "step_decay", "schedule_config": {"decay_rate": 0.5, "decay_every": 6}}
    lrs = capstone.train(config, data=data)["lr_history"]
    assert lrs[0] == lrs[5] == 5e-3 and lrs[6] == lrs[11] == 2.5e-3 and len(lrs) == 4 * 5
    cosine = capstone.train({**QUICK, "lr_schedule": "cosine_decay"}, data=data)["lr_history"]
    assert cosine[0] == 5e-3 and cosine[-1] < 1e-4 and np.all(np.diff(cosine) <= 0)


# ------------------------------------------------------------------ through the grader
def test_grader_solution_full_marks_untuned_sgd_with_a_lying_train_clearly_partial(tmp_path):
    from autograder.grade import grade_batch, load_config
    from autograder.plant import copy_solution, plant_function

    config = load_config()
    config["exercises"] = {checks.EXERCISE: config["exercises"][checks.EXERCISE]}
    solution = copy_solution(str(tmp_path / "subs" / "solution"))
    cheat = copy_solution(str(tmp_path / "subs" / "untuned"))
    plant_function(cheat, checks.EXERCISE, f"def training_config():\n    return {UNTUNED_SGD!r}\n")
    plant_function(cheat, "capstone.train",  # the judge never calls the submission's own train()
                   "def train(config, *args, **kwargs):\n    return {'val_acc': 1.0, 'train_acc': 1.0}\n")
    out = tmp_path / "out"
    grade_batch([solution, cheat], str(out), config=config, progress=False)
    scores = {}
    for name in ("solution", "untuned"):
        with open(out / name / "results.json") as fh:
            results = json.load(fh)
        scores[name] = results["score"] / sum(t["max_score"] for t in results["tests"])
        assert all(checks.EXERCISE in t["tags"] for t in results["tests"])
    assert scores["solution"] == pytest.approx(1.0), scores
    assert 0.0 < scores["untuned"] <= 0.35, scores  # only the valid config earns (1 of 7 weights)
    with open(out / "untuned" / "feedback.md") as fh:
        assert capstone.LR_TOO_SMALL in fh.read()


def test_uses_names_the_student_functions_a_config_calls():
    assert capstone.uses(UNTUNED_SGD) == {"optim.sgd"}
    assert capstone.uses(capstone.training_config()) == {"optim.adam", "schedules.cosine_decay",
                                                          "layers.dropout_forward"}


def test_the_graders_own_errors_pass_through_untouched(data):
    """A worker timeout or death is the grader's business (restart, one message), not a student error."""
    class WorkerTimeout(Exception):
        pass

    def hangs(*args):
        raise WorkerTimeout()

    with pytest.raises(WorkerTimeout):
        capstone.train(QUICK, data=data, functions=LocalFunctions(overrides={"optim.adam": hangs}))


def test_the_hidden_check_scores_the_graded_model_without_retraining():
    """The hidden check evaluates the model of the visible graded run on the test split (kept per ctx.fn)."""
    import autograder.hidden.capstone  # noqa: F401  (registers the hidden check)

    calls = []

    def counting_adam(w, dw, config=None):
        calls.append(1)
        return capstone_optim_adam(w, dw, config)

    from cs231n_lec7.optim import adam as capstone_optim_adam

    hidden = next(c for c in REGISTRY.values() if c.hidden and c.exercises[0] == checks.EXERCISE)
    ctx = ctx_with(**{checks.EXERCISE: capstone.training_config, "optim.adam": counting_adam})
    REGISTRY[GRADED_RUN].func(ctx)
    trained = len(calls)
    assert trained == 4 * capstone.num_updates(capstone.validate_config(capstone.training_config()))
    hidden.func(ctx)  # passes: the solution's test accuracy is in the top tier
    assert len(calls) == trained, "the hidden check retrained instead of scoring the graded model"
    hidden.func(ctx_with(**{checks.EXERCISE: capstone.training_config, "optim.adam": counting_adam}))
    assert len(calls) == 2 * trained, "another submission's functions must not reuse the cached model"


def test_a_mistake_hidden_by_a_good_accuracy_is_still_named():
    """p taken as the drop probability with keep 0.8 keeps 20 %: the net still learns the digits well."""
    ctx = ctx_with(**{checks.EXERCISE: capstone.training_config, "layers.dropout_forward": dropout_p_drops})
    REGISTRY[GRADED_RUN].func(ctx)  # the accuracy is in the top tier
    with pytest.raises(CheckFailure, match=capstone.KEEP_AS_DROP):
        REGISTRY["capstone: the graded run shows no known mistake"].func(ctx)
    REGISTRY["capstone: the graded run shows no known mistake"].func(ctx_with(
        **{checks.EXERCISE: capstone.training_config}))  # the solution shows none
