"""Known mistakes in ``averaging.py`` (EMA of parameters, model averaging of predictions).

Wrong implementations with the exercises' signatures, self-contained (only
``np``), planted by the test suite into a copy of the solution. Matched by
probes (``PROBES``), except the in-place EMA, whose outputs are right: the
visible check "inputs untouched" names it (``detect="check"``).
"""
from __future__ import annotations

import numpy as np

from autograder.mistakes import Mistake


# ------------------------------------------------------------- ema_update
def ema_decay_swapped(avg_params, params, decay):
    return {k: (1.0 - decay) * avg_params[k] + decay * params[k] for k in avg_params}


def ema_in_place(avg_params, params, decay):
    for k in avg_params:
        avg_params[k] *= decay
        avg_params[k] += (1.0 - decay) * params[k]
    return avg_params


def ema_decay_hard_coded(avg_params, params, decay):
    return {k: 0.99 * avg_params[k] + 0.01 * params[k] for k in avg_params}


def ema_plain_mean(avg_params, params, decay):
    return {k: 0.5 * (avg_params[k] + params[k]) for k in avg_params}


# ---------------------------------------------------- average_predictions
def _stack(prob_list):
    return np.array(prob_list, dtype=np.float64)


def avg_weights_not_normalised(prob_list, weights=None):
    stack = _stack(prob_list)
    w = np.ones(stack.shape[0]) / stack.shape[0] if weights is None else np.asarray(weights, dtype=np.float64)
    return np.tensordot(w, stack, axes=(0, 0))


def avg_majority_vote(prob_list, weights=None):
    stack = _stack(prob_list)
    w = np.ones(stack.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    votes = np.zeros(stack.shape[1:])
    winners = np.argmax(stack, axis=-1)
    for m in range(stack.shape[0]):
        votes[np.arange(stack.shape[1]), winners[m]] += w[m]
    return votes / w.sum()


def avg_log_probabilities(prob_list, weights=None):
    stack = _stack(prob_list)
    w = np.ones(stack.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    logp = np.tensordot(w / w.sum(), np.log(stack), axes=(0, 0))
    e = np.exp(logp - logp.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def avg_weights_ignored(prob_list, weights=None):
    return _stack(prob_list).mean(axis=0)


M = Mistake
MISTAKES = [
    M("averaging.ema_update", "EMA decay weights swapped",
      "avg = decay * avg + (1 - decay) * params: the decay (e.g. 0.99) weighs the OLD average; with the weights "
      "swapped the 'average' is almost just the latest parameters.", ema_decay_swapped),
    M("averaging.ema_update", "EMA updated in place",
      "Your ema_update changes the arrays of the dict it was given (`avg[k] *= decay`, `+=`). The caller may "
      "still use them (e.g. the model's live parameters, or an earlier snapshot): build a new dict of new arrays.",
      ema_in_place, detect="check"),
    M("averaging.ema_update", "EMA decay hard-coded",
      "The decay 0.99 is hard-coded: use the `decay` argument so other values (and the running mean, decay = "
      "(t-1)/t) work.", ema_decay_hard_coded),
    M("averaging.ema_update", "plain mean of two instead of EMA",
      "(avg + params) / 2 ignores the decay: the new parameters must enter with weight (1 - decay).",
      ema_plain_mean),
    M("averaging.average_predictions", "weights not normalised",
      "sum_m w_m P_m is not a probability unless the weights sum to one: divide by sum(w) (only the ratios of "
      "the weights matter).", avg_weights_not_normalised),
    M("averaging.average_predictions", "majority vote instead of averaging probabilities",
      "You counted each model's argmax vote. A model ensemble averages the predicted probabilities, so a "
      "confident model counts more than a hesitant one.", avg_majority_vote),
    M("averaging.average_predictions", "averaged log-probabilities",
      "You averaged log-probabilities (or scores) and renormalised: that is a geometric mean, a different "
      "ensemble. Average the probabilities themselves.", avg_log_probabilities),
    M("averaging.average_predictions", "weights ignored",
      "Your average gives every model the same weight even when `weights` is given: use w_m / sum(w).",
      avg_weights_ignored),
]


def _ema_probe(fn):
    """EMA steps with default-like and unusual decays on a fixed two-key dict (inputs copied)."""
    avg = {"W": np.linspace(-1.0, 1.0, 6).reshape(2, 3), "b": np.array([0.5, -0.25])}
    params = {"W": np.cos(np.arange(6.0)).reshape(2, 3), "b": np.array([2.0, 1.0])}
    outputs = []
    for decay in (0.9, 0.5, 0.999, 0.0):
        got = fn({k: v.copy() for k, v in avg.items()}, {k: v.copy() for k, v in params.items()}, decay)
        outputs += [np.asarray(got[k], dtype=np.float64) for k in sorted(avg)]
    return outputs


def _avg_probe(fn):
    """Uniform, weighted and un-normalised-weight averages of three fixed models."""
    scores = np.stack([np.sin(np.arange(12.0).reshape(4, 3) * (m + 1)) * 3 for m in range(3)])
    probs = np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)
    outputs = []
    for weights in (None, np.array([1.0, 2.0, 1.0]), np.array([0.2, 0.1, 0.1]), np.array([5.0, 0.0, 1.0])):
        got = fn([p.copy() for p in probs], None if weights is None else weights.copy())
        outputs.append(np.asarray(got, dtype=np.float64))
    return outputs


PROBES = {"averaging.ema_update": _ema_probe, "averaging.average_predictions": _avg_probe}
