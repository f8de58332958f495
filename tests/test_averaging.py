"""averaging.py: the two exercises against independent implementations, the checks against
planted mistakes, and the given helpers (softmax, cyclic cosine rate, snapshot ensembles).

Independent truths: torch.optim.swa_utils (EMA and the uniform SWA/Polyak mean, when torch is
installed) and scikit-learn's soft-voting ensemble.
"""
from __future__ import annotations

import numpy as np
import pytest

from autograder import mistakes
from autograder.mistakes.averaging import MISTAKES
from cs231n_lec7 import averaging
from cs231n_lec7.checks.core import CheckFailure, Context, LocalFunctions, check_seed
from cs231n_lec7.fc_net import FullyConnectedNet

try:
    import torch  # noqa: F811
except ImportError:  # torch is optional
    torch = None


def params(rng, scale=1.0):
    return {"W1": rng.standard_normal((5, 4)) * scale, "b1": rng.standard_normal(4) * scale,
            "W2": rng.standard_normal((4, 3)) * scale}


# ----------------------------------------------------------------- ema_update
def test_ema_update_formula_new_dict_inputs_untouched():
    rng = np.random.default_rng(0)
    avg, cur = params(rng), params(rng)
    avg0, cur0 = averaging.init_average(avg), averaging.init_average(cur)
    out = averaging.ema_update(avg, cur, 0.9)
    assert out is not avg and set(out) == set(avg)
    for k in avg:
        np.testing.assert_allclose(out[k], 0.9 * avg0[k] + 0.1 * cur0[k], rtol=1e-15)
        np.testing.assert_array_equal(avg[k], avg0[k])
        np.testing.assert_array_equal(cur[k], cur0[k])
        assert out[k] is not avg[k] and out[k] is not cur[k]


def test_ema_update_keeps_float32_and_rejects_mismatched_keys():
    rng = np.random.default_rng(1)
    avg = {k: v.astype(np.float32) for k, v in params(rng).items()}
    out = averaging.ema_update(avg, {k: v + 1 for k, v in avg.items()}, 0.5)
    assert all(v.dtype == np.float32 for v in out.values())
    with pytest.raises(KeyError, match="init_average"):
        averaging.ema_update(avg, {"W1": avg["W1"]}, 0.5)
    with pytest.raises(ValueError, match="decay"):
        averaging.ema_update(avg, avg, 1.5)


@pytest.mark.skipif(torch is None, reason="torch not installed")
def test_ema_matches_torch_swa_utils():
    """torch's EMA averaging function (AveragedModel's multi-avg EMA), step by step."""
    from torch.optim.swa_utils import get_ema_avg_fn

    rng = np.random.default_rng(2)
    iterates = [params(rng) for _ in range(30)]
    ema_fn = get_ema_avg_fn(decay=0.97)
    avg = averaging.init_average(iterates[0])
    t_avg = {k: torch.tensor(v) for k, v in iterates[0].items()}
    for n, p in enumerate(iterates[1:], start=1):
        avg = averaging.ema_update(avg, p, 0.97)
        t_avg = {k: ema_fn(t_avg[k], torch.tensor(p[k]), torch.tensor(n)) for k in p}
    for k in avg:
        np.testing.assert_allclose(avg[k], t_avg[k].numpy(), rtol=1e-12)


@pytest.mark.skipif(torch is None, reason="torch not installed")
def test_polyak_average_matches_torch_averaged_model():
    """polyak_average (the running mean through ema_update) = torch's AveragedModel default (SWA mean)."""
    from torch.optim.swa_utils import AveragedModel

    rng = np.random.default_rng(3)
    net = torch.nn.Linear(4, 3).double()
    swa = AveragedModel(net)
    iterates = []
    for _ in range(12):
        with torch.no_grad():
            net.weight.copy_(torch.tensor(rng.standard_normal((3, 4))))
            net.bias.copy_(torch.tensor(rng.standard_normal(3)))
        swa.update_parameters(net)
        iterates.append({"W": net.weight.detach().numpy().copy(), "b": net.bias.detach().numpy().copy()})
    ours = averaging.polyak_average(iterates)
    np.testing.assert_allclose(ours["W"], swa.module.weight.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours["b"], swa.module.bias.detach().numpy(), rtol=1e-12)


# -------------------------------------------------------- average_predictions
def test_average_predictions_matches_sklearn_soft_voting():
    from sklearn.datasets import load_digits
    from sklearn.ensemble import VotingClassifier
    from sklearn.linear_model import LogisticRegression

    X, y = load_digits(return_X_y=True)
    X = X[:400] / 16.0
    estimators = [(f"lr{c}", LogisticRegression(C=c, max_iter=300)) for c in (0.01, 0.1, 1.0)]
    weights = [1.0, 2.5, 0.5]
    vote = VotingClassifier(estimators, voting="soft", weights=weights).fit(X[:300], y[:300])
    probs = [est.predict_proba(X[300:]) for est in vote.estimators_]
    np.testing.assert_allclose(averaging.average_predictions(probs, weights), vote.predict_proba(X[300:]),
                               rtol=1e-12)
    uniform = VotingClassifier(estimators, voting="soft").fit(X[:300], y[:300])
    np.testing.assert_allclose(averaging.average_predictions([e.predict_proba(X[300:]) for e in uniform.estimators_]),
                               uniform.predict_proba(X[300:]), rtol=1e-12)


def test_average_predictions_rejects_scores_and_bad_weights():
    scores = np.random.default_rng(4).standard_normal((3, 5, 4))
    with pytest.raises(ValueError, match="softmax"):
        averaging.average_predictions(scores)
    probs = averaging.softmax(scores)
    with pytest.raises(ValueError, match="weights"):
        averaging.average_predictions(probs, [1.0, 2.0])
    with pytest.raises(ValueError, match="non-negative"):
        averaging.average_predictions(probs, [1.0, -1.0, 1.0])
    acc = averaging.ensemble_accuracy(probs, np.argmax(probs.mean(axis=0), axis=1))
    assert acc == 1.0


def test_softmax_is_stable_and_normalised():
    p = averaging.softmax(np.array([[1000.0, 1000.0, -1000.0]]))
    np.testing.assert_allclose(p, [[0.5, 0.5, 0.0]])


# ------------------------------------------------------- checks vs mistakes
def _run_checks(exercise, fn):
    from autograder.grade import all_checks

    failures = []
    for c in all_checks().values():
        if c.exercises[0] != exercise:
            continue
        try:
            c.func(Context(fn, ref=LocalFunctions(), seed=check_seed(7, c.name)))
        except CheckFailure as err:
            failures.append(str(err))
    return failures


@pytest.mark.parametrize("exercise", ["averaging.ema_update", "averaging.average_predictions"])
def test_reference_passes_every_check(exercise):
    assert _run_checks(exercise, LocalFunctions()) == []


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.title)
def test_each_mistake_fails_a_check_and_is_named(mistake):
    """Planted locally (no sandbox): some check fails, and the grader can name the mistake."""
    failures = _run_checks(mistake.exercise, LocalFunctions(overrides={mistake.exercise: mistake.fn}))
    assert failures, f"{mistake.title!r} passes every check"
    if mistake.detect == "check":
        assert any(mistake.title in f for f in failures)
    else:
        ref = LocalFunctions()(mistake.exercise)
        assert mistake in mistakes.diagnose(mistake.exercise, mistake.fn, ref)


def test_at_least_two_mistakes_per_exercise():
    for exercise in ("averaging.ema_update", "averaging.average_predictions"):
        assert sum(m.exercise == exercise for m in MISTAKES) >= 2


def test_stored_references_are_current():
    from autograder.references import verify

    problems = [p for p in verify() if "averaging" in p]
    assert problems == []


# ------------------------------------------------- snapshot ensembles, schedule
def test_cyclic_cosine_lr_restarts():
    lr = averaging.cyclic_cosine_lr(np.arange(30), period=10, lr_max=0.1, lr_min=0.001)
    np.testing.assert_allclose(lr[[0, 10, 20]], 0.1)
    assert np.all(np.diff(lr[:10]) < 0) and lr[9] < 0.005
    assert isinstance(averaging.cyclic_cosine_lr(3, 10, 0.1), float)
    with pytest.raises(ValueError):
        averaging.cyclic_cosine_lr(0, 0, 0.1)


@pytest.mark.skipif(torch is None, reason="torch not installed")
def test_cyclic_cosine_lr_matches_torch_warm_restarts():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=7, eta_min=0.002)
    want = []
    for _ in range(21):
        want.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    got = averaging.cyclic_cosine_lr(np.arange(21), period=7, lr_max=0.1, lr_min=0.002)
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_snapshot_ensemble_collects_copies_deterministically():
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((60, 6)), rng.integers(0, 3, 60)

    def run():
        model = FullyConnectedNet([8], input_dim=6, num_classes=3, weight_scale=0.1, seed=0)
        return model, averaging.snapshot_ensemble(model, X, y, num_cycles=3, iters_per_cycle=5, lr_max=0.1,
                                                  batch_size=20, seed=1, ema_decay=0.9)

    model, out = run()
    _, again = run()
    assert len(out["snapshots"]) == 3 and out["lr_history"].shape == (15,)
    for k in model.params:  # the last snapshot is the final model, but a copy
        np.testing.assert_array_equal(out["snapshots"][-1][k], model.params[k])
        assert out["snapshots"][-1][k] is not model.params[k]
        np.testing.assert_array_equal(out["snapshots"][0][k], again["snapshots"][0][k])
    assert not np.array_equal(out["snapshots"][0]["W1"], out["snapshots"][1]["W1"])
    assert set(out["ema_params"]) == set(model.params)
