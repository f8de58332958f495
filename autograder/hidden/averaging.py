"""Hidden checks for ``averaging.py`` (instructor only; never in the release).

ema_update:
- fresh random parameter dicts (random key names, count and shapes) and a
  random non-default decay from the grade seed, against the live reference;
  the inputs must stay untouched;
- a 200-step EMA (decay 0.95) along a stored noisy trajectory of iterates,
  compared at several steps with ``references/averaging.npz``;
- ``polyak_average`` built on the student's ``ema_update`` is the plain mean
  (decay (t - 1) / t must work for every t).

average_predictions:
- fresh random probabilities (random M, N, C), random un-normalised weights
  and weights=None, against the live reference;
- an ensemble of one model returns that model; weights with zeros ignore models.
"""
from __future__ import annotations

import os

import numpy as np

from cs231n_lec7.checks.averaging import (
    AVG,
    AVG_HINT,
    EMA,
    EMA_HINT,
    IN_PLACE,
    _probs_result,
    assert_untouched,
    compare_dicts,
    copy_dict,
    prob_rows_sum_to_one,
)
from cs231n_lec7.checks.core import (STEP_TOL, TRAJECTORY_TOL, CheckFailure, assert_close,
                                     check, load_arrays, quiet_numerics)

REFERENCES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "references",
                          "averaging.npz")
TRAJ_STEPS = 200
TRAJ_DECAY = 0.95
TRAJ_SAVED = (1, 2, 10, 50, 199, 200)


def stored_iterates():
    """A noisy 'SGD run': iterates x_t = x* + drift / (t+1) + noise, for W (4, 3) and b (3,)."""
    rng = np.random.default_rng(20261123)
    target = {"W": rng.standard_normal((4, 3)), "b": rng.standard_normal(3)}
    return [{k: v + 2.0 * np.cos(v) / (t + 1) + 0.3 * rng.standard_normal(v.shape) for k, v in target.items()}
            for t in range(TRAJ_STEPS + 1)]


def ema_trajectory(ema_fn, iterates, decay):
    avg = copy_dict(iterates[0])
    saved = {}
    for t, params in enumerate(iterates[1:], start=1):
        avg = ema_fn(avg, copy_dict(params), decay)
        if t in TRAJ_SAVED:
            saved[t] = {k: np.asarray(v) for k, v in avg.items()}
    return saved


def make_references(ref) -> dict:
    out = {}
    for t, avg in ema_trajectory(ref(EMA), stored_iterates(), TRAJ_DECAY).items():
        for k, v in avg.items():
            out[f"ema/{t}/{k}"] = v
    return out


def load_references():
    return load_arrays(REFERENCES)


def random_params(rng):
    names = ["W1", "b1", "W2", "b2", "gamma1", "beta1", "W3"]
    num = int(rng.integers(1, len(names) + 1))
    keys = list(rng.choice(names, size=num, replace=False))
    return {str(k): rng.standard_normal(tuple(int(s) for s in rng.integers(1, 6, size=rng.integers(1, 3))))
            for k in keys}


@check(EMA, name="ema_update: fresh random dicts and decays", hidden=True, weight=2.0)
def _(ctx):
    """Random keys, shapes and a random decay in (0.5, 0.999) vs the live reference."""
    for _ in range(4):
        avg = random_params(ctx.rng)
        params = {k: ctx.rng.standard_normal(v.shape) for k, v in avg.items()}
        decay = float(ctx.rng.uniform(0.5, 0.999))
        avg_copy, params_copy = copy_dict(avg), copy_dict(params)
        with quiet_numerics():
            got = ctx.fn(EMA)(avg, params, decay)
            want = ctx.ref(EMA)(copy_dict(avg_copy), copy_dict(params_copy), decay)
        assert_untouched("ema_update: avg_params", avg_copy, avg, IN_PLACE)
        assert_untouched("ema_update: params", params_copy, params, IN_PLACE)
        compare_dicts(f"ema_update(avg, params, decay={decay:.4f})", got, want, STEP_TOL, EMA_HINT)


@check(EMA, name=f"ema_update: {TRAJ_STEPS}-step EMA along a stored trajectory", hidden=True, weight=2.0)
def _(ctx):
    """decay 0.95 over 200 noisy iterates matches the stored averages at several steps."""
    refs = load_references()
    with quiet_numerics():
        got = ema_trajectory(ctx.fn(EMA), stored_iterates(), TRAJ_DECAY)
    for t in TRAJ_SAVED:
        want = {k.rpartition("/")[2]: v for k, v in refs.items() if k.startswith(f"ema/{t}/")}
        compare_dicts(f"the EMA after {t} steps", got[t], want, TRAJECTORY_TOL, EMA_HINT)


@check(EMA, name="ema_update: the uniform Polyak average as a running mean", hidden=True)
def _(ctx):
    """With decay (t - 1) / t at step t the EMA is the plain mean of the iterates."""
    iterates = [{"W": ctx.rng.standard_normal((3, 2)), "b": ctx.rng.standard_normal(2)} for _ in range(12)]
    avg = copy_dict(iterates[0])
    with quiet_numerics():
        for t, params in enumerate(iterates[1:], start=2):
            avg = ctx.fn(EMA)(avg, copy_dict(params), (t - 1) / t)
    want = {k: np.mean([p[k] for p in iterates], axis=0) for k in iterates[0]}
    compare_dicts("the running mean of 12 iterates", avg, want, TRAJECTORY_TOL, EMA_HINT)


@check(AVG, name="average_predictions: fresh random ensembles and weights", hidden=True, weight=2.0)
def _(ctx):
    """Random M, N, C; weights=None and random un-normalised weights, vs the live reference."""
    for trial in range(4):
        M, N, C = (int(v) for v in ctx.rng.integers((1, 2, 2), (7, 30, 12)))
        scores = ctx.rng.standard_normal((M, N, C)) * ctx.rng.uniform(0.5, 4.0)
        probs = np.exp(scores - scores.max(axis=-1, keepdims=True))
        probs /= probs.sum(axis=-1, keepdims=True)
        weights = None if trial == 0 else ctx.rng.uniform(0.1, 5.0, size=M)
        with quiet_numerics():
            got = ctx.fn(AVG)([p.copy() for p in probs], None if weights is None else weights.copy())
            want = ctx.ref(AVG)([p.copy() for p in probs], None if weights is None else weights.copy())
        label = f"average_predictions(M={M}, N={N}, C={C}, weights={'None' if weights is None else 'random'})"
        got = _probs_result(label, got, (N, C))
        prob_rows_sum_to_one(label, got)
        assert_close(label, got, want, STEP_TOL, AVG_HINT)


@check(AVG, name="average_predictions: one model, and zero weights", hidden=True)
def _(ctx):
    """One model returns itself; a zero weight removes a model from the average."""
    scores = ctx.rng.standard_normal((3, 8, 5))
    probs = np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)
    with quiet_numerics():
        single = ctx.fn(AVG)([probs[0].copy()])
        dropped = ctx.fn(AVG)([p.copy() for p in probs], np.array([2.0, 0.0, 2.0]))
    single = _probs_result("average_predictions([P])", single, (8, 5))
    assert_close("average_predictions([P])", single, probs[0], STEP_TOL, "an ensemble of one model is that model")
    dropped = _probs_result("average_predictions(P, weights=[2, 0, 2])", dropped, (8, 5))
    want = 0.5 * (probs[0] + probs[2])
    if not np.allclose(dropped, want, rtol=1e-7, atol=1e-12):
        raise CheckFailure("average_predictions(P, weights=[2, 0, 2]) should be the mean of models 0 and 2 — "
                           + AVG_HINT)
