"""Visible checks for ``cs231n_lec7/averaging.py``: EMA of parameters and model averaging.

ema_update (avg <- decay * avg + (1 - decay) * params, a new dict):
- one step on a fixed two-layer parameter dict (stored expected values);
- ten steps from init_average along fixed iterates (stored);
- the end points decay = 0 (copy of params) and decay = 1 (the old average);
- a new dict with the same keys, inputs untouched, float32 stays float32.

average_predictions (weighted mean of probabilities, weights normalised):
- fixed probabilities, equal and unequal weights (stored);
- weights scaled by a constant give the same result, rows sum to one;
- a list and an (M, N, C) array give the same result; inputs untouched.

Expected values are stored in ``expected/averaging.npz``.
"""
from __future__ import annotations

import numpy as np

from .core import STEP_TOL, TRAJECTORY_TOL, CheckFailure, as_array, assert_close, check, quiet_numerics

EMA = "averaging.ema_update"
AVG = "averaging.average_predictions"
FIXED_DECAY = 0.9
EMA_STEPS = 10
EMA_HINT = "avg <- decay * avg + (1 - decay) * params: decay weighs the OLD average"
AVG_HINT = "average the probabilities with weights w_m / sum(w): sum_m w_m P_m / sum_m w_m"

# Titles of known mistakes that these checks recognise by their symptom
# (autograder/mistakes/averaging.py refers to them; keep them in sync).
IN_PLACE = "EMA updated in place"
NOT_NORMALISED = "weights not normalised"


# ------------------------------------------------------------ fixed problems
def fixed_params(scale=1.0, shift=0.0, dtype=np.float64):
    """A two-layer net's parameters (W1 (3, 4), b1 (4,), W2 (4, 2), b2 (2,)), deterministic."""
    def grid(shape, a, b):
        n = int(np.prod(shape))
        return (np.linspace(a, b, n).reshape(shape) * scale + shift).astype(dtype)

    return {"W1": grid((3, 4), -0.5, 0.7), "b1": grid((4,), 0.1, 0.4),
            "W2": grid((4, 2), 0.9, -0.3), "b2": grid((2,), -0.2, 0.05)}


def fixed_iterates(num_steps=EMA_STEPS):
    """Parameters along a fake training run: a drift plus an oscillation (deterministic)."""
    return [{k: v + 0.3 * np.sin(1.7 * t + np.arange(v.size).reshape(v.shape)) for k, v in
             fixed_params(scale=1.0 + 0.1 * t, shift=0.05 * t).items()} for t in range(num_steps + 1)]


def copy_dict(d):
    return {k: np.array(v, copy=True) for k, v in d.items()}


def ema_run(ema_fn, iterates, decay):
    """EMA from a copy of the first iterate along the rest; returns the list of averages."""
    avg = copy_dict(iterates[0])
    out = [avg]
    for params in iterates[1:]:
        avg = ema_fn(avg, copy_dict(params), decay)
        out.append(avg)
    return out


def fixed_probs():
    """Three models' probabilities for five examples and four classes, deterministic."""
    scores = np.stack([np.cos(np.arange(20.0).reshape(5, 4) * (m + 1) * 0.7) * (m + 2) for m in range(3)])
    scores -= scores.max(axis=-1, keepdims=True)
    e = np.exp(scores)
    return e / e.sum(axis=-1, keepdims=True)


FIXED_WEIGHTS = np.array([1.0, 3.0, 0.5])


def make_expected(ref) -> dict:
    out = {}
    avg, params = fixed_params(), fixed_params(scale=-0.5, shift=0.3)
    step = ref(EMA)(copy_dict(avg), copy_dict(params), FIXED_DECAY)
    for k, v in step.items():
        out[f"ema/step/{k}"] = v
    for k, v in ema_run(ref(EMA), fixed_iterates(), 0.8)[-1].items():
        out[f"ema/steps{EMA_STEPS}/{k}"] = v
    probs = fixed_probs()
    out["avg/uniform"] = ref(AVG)(list(probs.copy()))
    out["avg/weighted"] = ref(AVG)(list(probs.copy()), FIXED_WEIGHTS.copy())
    return out


# ------------------------------------------------------------ shared helpers
def result_dict(label, got, keys):
    """The result must be a dict with exactly ``keys``; return it."""
    if got is None:
        raise CheckFailure(f"{label}: got None — did you forget `return new_avg`, or leave the stub?")
    if not isinstance(got, dict):
        raise CheckFailure(f"{label}: expected a dict {{name: array}}, got {type(got).__name__}")
    if set(got) != set(keys):
        raise CheckFailure(f"{label}: expected the keys {sorted(keys)}, got {sorted(got)} — "
                           f"the average has one entry per parameter")
    return got


def compare_dicts(label, got, want, tol=STEP_TOL, hint=EMA_HINT):
    result_dict(label, got, want.keys())
    for k in want:
        assert_close(f"{label}[{k!r}]", got[k], want[k], tol, hint)


def assert_untouched(label, original, after, title):
    """Fail, naming ``title``, when a dict of arrays given to the student was changed."""
    if set(after) != set(original):
        raise CheckFailure(f"{label}: {title} — the dict you were given gained or lost keys")
    for k in original:
        if not np.array_equal(np.asarray(after[k]), original[k]):
            raise CheckFailure(f"{label}: {title} — the array {k!r} you were given was changed; build a NEW "
                               f"dict of NEW arrays (avoid `avg[k] *= ...` or `+=`)")


def prob_rows_sum_to_one(label, probs):
    sums = probs.sum(axis=-1)
    if not np.allclose(sums, 1.0, atol=1e-9):
        raise CheckFailure(f"{label}: the rows should sum to 1, got sums {np.round(sums[:3], 6)}... — "
                           f"{NOT_NORMALISED}? divide by the sum of the weights")


# ------------------------------------------------------------ ema_update
@check(EMA, name="ema_update: one step on fixed parameters")
def _(ctx):
    """One EMA step with decay 0.9 on a fixed two-layer parameter dict."""
    avg, params = fixed_params(), fixed_params(scale=-0.5, shift=0.3)
    with quiet_numerics():
        got = ctx.fn(EMA)(avg, params, FIXED_DECAY)
    want = {n: ctx.expected(f"averaging/ema/step/{n}") for n in avg}
    compare_dicts("ema_update(avg, params, 0.9)", got, want)


@check(EMA, name=f"ema_update: {EMA_STEPS} steps from a copy of the first parameters")
def _(ctx):
    """An EMA (decay 0.8) along ten fixed iterates, started from a copy of the first."""
    with quiet_numerics():
        averages = ema_run(ctx.fn(EMA), fixed_iterates(), 0.8)
    want = {k: ctx.expected(f"averaging/ema/steps{EMA_STEPS}/{k}") for k in fixed_params()}
    compare_dicts(f"the average after {EMA_STEPS} steps", averages[-1], want, TRAJECTORY_TOL,
                  "does each step use the average returned by the previous one?")


@check(EMA, name="ema_update: decay = 0 copies params, decay = 1 keeps the average")
def _(ctx):
    """The end points of the formula pin down which term the decay weighs."""
    avg, params = fixed_params(), fixed_params(scale=2.0, shift=-1.0)
    with quiet_numerics():
        zero = ctx.fn(EMA)(copy_dict(avg), copy_dict(params), 0.0)
        one = ctx.fn(EMA)(copy_dict(avg), copy_dict(params), 1.0)
    compare_dicts("ema_update(avg, params, decay=0)", zero, params,
                  hint="with decay = 0 the average forgets everything and becomes params — decay weights swapped?")
    compare_dicts("ema_update(avg, params, decay=1)", one, avg,
                  hint="with decay = 1 the average never moves — decay weights swapped?")


@check(EMA, name="ema_update: a new dict, inputs untouched, float32 kept")
def _(ctx):
    """Neither input dict nor its arrays change; the result keeps the keys and float32."""
    avg, params = fixed_params(dtype=np.float32), fixed_params(scale=-0.5, shift=0.3, dtype=np.float32)
    avg_copy, params_copy = copy_dict(avg), copy_dict(params)
    with quiet_numerics():
        got = ctx.fn(EMA)(avg, params, FIXED_DECAY)
    assert_untouched("ema_update: avg_params", avg_copy, avg, IN_PLACE)
    assert_untouched("ema_update: params", params_copy, params, IN_PLACE)
    result_dict("ema_update(float32 dicts)", got, avg_copy.keys())
    for k in avg_copy:
        as_array(f"ema_update(float32 dicts)[{k!r}]", got[k], shape=avg_copy[k].shape, dtype=np.float32)


# ------------------------------------------------------------ average_predictions
def _probs_result(label, got, shape):
    got = as_array(label, got, shape=shape)
    if got.dtype.kind != "f":
        raise CheckFailure(f"{label}: expected float probabilities, got dtype {got.dtype} — argmax votes "
                           f"instead of averaged probabilities?")
    return got


@check(AVG, name="average_predictions: equal and unequal weights on fixed probabilities")
def _(ctx):
    """Three models, five examples, four classes: uniform and weighted averages."""
    probs = fixed_probs()
    with quiet_numerics():
        uniform = ctx.fn(AVG)(list(probs.copy()))
        weighted = ctx.fn(AVG)(list(probs.copy()), FIXED_WEIGHTS.copy())
    uniform = _probs_result("average_predictions(probs)", uniform, probs.shape[1:])
    assert_close("average_predictions(probs)", uniform, ctx.expected("averaging/avg/uniform"), STEP_TOL,
                 "with weights=None every model counts 1/M: the mean over axis 0 (the models)")
    weighted = _probs_result("average_predictions(probs, weights=[1, 3, 0.5])", weighted, probs.shape[1:])
    prob_rows_sum_to_one("average_predictions(probs, weights=[1, 3, 0.5])", weighted)
    assert_close("average_predictions(probs, weights=[1, 3, 0.5])", weighted,
                 ctx.expected("averaging/avg/weighted"), STEP_TOL, AVG_HINT)


@check(AVG, name="average_predictions: only the ratios of the weights matter")
def _(ctx):
    """Weights times 7 give the same probabilities; one-hot weights pick one model."""
    probs = fixed_probs()
    with quiet_numerics():
        base = ctx.fn(AVG)(list(probs.copy()), FIXED_WEIGHTS.copy())
        scaled = ctx.fn(AVG)(list(probs.copy()), FIXED_WEIGHTS * 7.0)
        pick = ctx.fn(AVG)(list(probs.copy()), np.array([0.0, 2.0, 0.0]))
    base = _probs_result("average_predictions(probs, w)", base, probs.shape[1:])
    scaled = _probs_result("average_predictions(probs, 7 * w)", scaled, probs.shape[1:])
    prob_rows_sum_to_one("average_predictions(probs, 7 * w)", scaled)
    assert_close("average_predictions(probs, 7 * w) vs (probs, w)", scaled, base, STEP_TOL,
                 f"{NOT_NORMALISED}? divide by the sum of the weights")
    assert_close("average_predictions(probs, weights=[0, 2, 0])", pick, probs[1], STEP_TOL,
                 "all the weight on model 1 must return model 1's probabilities")


@check(AVG, name="average_predictions: list or (M, N, C) array, inputs untouched")
def _(ctx):
    """An (M, N, C) array gives what a list of M arrays gives; neither is modified."""
    probs = fixed_probs()
    as_list = [p.copy() for p in probs]
    as_stack = probs.copy()
    with quiet_numerics():
        from_list = ctx.fn(AVG)(as_list, FIXED_WEIGHTS.copy())
        from_stack = ctx.fn(AVG)(as_stack, FIXED_WEIGHTS.copy())
    for m in range(len(probs)):
        if not np.array_equal(as_list[m], probs[m]):
            raise CheckFailure(f"average_predictions: the probabilities of model {m} you were given were changed")
    if not np.array_equal(as_stack, probs):
        raise CheckFailure("average_predictions: the (M, N, C) array you were given was changed")
    from_list = _probs_result("average_predictions(list of arrays, w)", from_list, probs.shape[1:])
    assert_close("average_predictions((M, N, C) array, w)", from_stack, from_list, STEP_TOL,
                 "average over axis 0, the models")
