"""Model ensembles and parameter averaging (lecture 7, "Model ensembles").

Two ways to average, two exercises:

1. **Average the predictions** of several models (a model ensemble), the
   lecture's "+~2 %" trick::

       probs = average_predictions(prob_list, weights=None)

   Inputs are **probabilities** (each row non-negative, summing to one), for
   example ``softmax(scores)`` of each model: averaging probabilities is what
   the ensemble's P(y | x) means. Averaging raw scores (logits) is a different
   model (a geometric-mean-like vote) and is rejected with a clear error.

2. **Average the parameters** of one model along its training run (Polyak
   averaging; in practice an exponential moving average, EMA)::

       avg_params = ema_update(avg_params, params, decay)

   ``avg_params`` and ``params`` are dicts ``{name: array}`` (a model's
   ``params``); the result is a NEW dict, and neither input is modified.

Initialisation convention (bias): start the average from a copy of the first
parameters, ``avg_params = init_average(params)``, not from zeros. From zeros
the average would be biased towards zero for ~1/(1 - decay) steps and need
Adam's bias correction 1 / (1 - decay^t); from a copy it needs none.

Given helpers (not graded): ``softmax``, ``ensemble_accuracy``,
``init_average``, ``polyak_average`` (the uniform running mean, decay = t/(t+1)),
``cyclic_cosine_lr`` (cosine annealing with warm restarts, for snapshot
ensembles, Huang et al. 2017, "Snapshot Ensembles: Train 1, get M for free"),
and ``snapshot_ensemble`` (one training run, a snapshot at the end of every
cycle).

Notation: M models, N examples, C classes; decay = beta in avg <- beta avg + (1 - beta) x.
"""
import numpy as np

from .schedules import cosine_decay


# --------------------------------------------------------------------------
# Given helpers
# --------------------------------------------------------------------------
def softmax(scores, axis=-1):
    """Numerically stable softmax of ``scores`` along ``axis``.

    Inputs:
    - scores: Array of class scores (logits), e.g. shape (N, C) or (M, N, C).

    Returns:
    - probs: Array of the same shape, non-negative, summing to one along ``axis``.
    """
    scores = np.asarray(scores, dtype=np.float64)
    shifted = scores - np.max(scores, axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return exp / np.sum(exp, axis=axis, keepdims=True)


def init_average(params):
    """A fresh average: a dict of copies of ``params`` (the convention of this module)."""
    return {name: np.array(value, copy=True) for name, value in params.items()}


def _check_param_dicts(avg_params, params):
    """Both dicts must hold the same keys and arrays of the same shapes."""
    if not isinstance(avg_params, dict) or not isinstance(params, dict):
        raise TypeError("ema_update: avg_params and params must be dicts {name: array}")
    if set(avg_params) != set(params):
        raise KeyError(f"ema_update: avg_params has keys {sorted(avg_params)} but params has "
                       f"{sorted(params)}; start the average with init_average(params)")
    for name in params:
        if np.shape(avg_params[name]) != np.shape(params[name]):
            raise ValueError(f"ema_update: {name!r} has shape {np.shape(avg_params[name])} in avg_params "
                             f"but {np.shape(params[name])} in params")


def _check_decay(decay):
    decay = float(decay)
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"decay must be in [0, 1], got {decay}")
    return decay


# --------------------------------------------------------------------------
# Exercise: Polyak averaging / EMA of the parameters
# --------------------------------------------------------------------------
def ema_update(avg_params, params, decay):
    """One step of the exponential moving average (EMA) of a model's parameters.

    For every key k of the dict, ``decay`` is the weight of the OLD average:
    decay = 0 just copies ``params``; decay = 1 never moves.

    (The equations are yours to write: notebook 06_ensembles, section "Polyak averaging and EMA".)
 Start the average with
    ``init_average(params)`` (a copy, so no bias correction is needed).

    Inputs:
    - avg_params: Dict {name: array}, the current average (not modified).
    - params: Dict {name: array} with the same keys and shapes, the current
      parameters (not modified).
    - decay: Scalar in [0, 1], the weight of the OLD average.

    Returns:
    - new_avg: A NEW dict with the same keys; ``new_avg[k]`` is a new array of
      the shape and dtype of ``avg_params[k]``.
    """
    _check_param_dicts(avg_params, params)
    decay = _check_decay(decay)
    new_avg = {}
    # TODO: your code here (averaging.ema_update)
    raise NotImplementedError("averaging.ema_update: not implemented yet — write it here, see notebook 06_ensembles, section \"Polyak averaging and EMA\"")
    return {name: np.asarray(new_avg[name]).astype(np.asarray(avg_params[name]).dtype, copy=False)
            for name in avg_params}


def polyak_average(param_list):
    """Uniform (Polyak-Juditsky) average of a list of parameter dicts, as a running mean.

        avg_t = avg_(t-1) + (x_t - avg_(t-1)) / t,  i.e. an EMA with decay = (t - 1) / t.

    Inputs:
    - param_list: List of T dicts {name: array} (e.g. the iterates of one run).

    Returns:
    - avg: Dict {name: array}, the mean of the T dicts (calls ``ema_update``).
    """
    if not param_list:
        raise ValueError("polyak_average: need at least one parameter dict")
    avg = init_average(param_list[0])
    for t, params in enumerate(param_list[1:], start=2):
        avg = ema_update(avg, params, (t - 1) / t)
    return avg


# --------------------------------------------------------------------------
# Exercise: model averaging of predictions
# --------------------------------------------------------------------------
def _as_prob_stack(prob_list):
    """(M, N, C) float64 array from a list of (N, C) probability arrays (validated)."""
    stack = np.array(prob_list, dtype=np.float64)  # a new array: the caller's arrays stay untouched
    if stack.ndim != 3:
        raise ValueError(f"average_predictions: expected M arrays of shape (N, C) (or one (M, N, C) array), "
                         f"got shape {stack.shape}")
    if stack.shape[0] == 0:
        raise ValueError("average_predictions: need at least one model")
    row_sums = stack.sum(axis=-1)
    if np.any(stack < -1e-12) or not np.allclose(row_sums, 1.0, atol=1e-6):
        raise ValueError("average_predictions takes PROBABILITIES (rows >= 0 summing to 1), got rows summing "
                         f"to {row_sums.min():.4g}..{row_sums.max():.4g}: apply softmax to the scores first")
    return stack


def _as_weights(weights, num_models):
    """(M,) float64 array of non-negative weights, not all zero; None means equal weights."""
    if weights is None:
        return np.ones(num_models)
    w = np.array(weights, dtype=np.float64).reshape(-1)
    if w.shape != (num_models,):
        raise ValueError(f"average_predictions: {num_models} models but {w.size} weights")
    if np.any(w < 0) or not np.sum(w) > 0:
        raise ValueError("average_predictions: weights must be non-negative and not all zero")
    return w


def average_predictions(prob_list, weights=None):
    """Model ensemble: the (weighted) average of the models' predicted probabilities.

    (The equations are yours to write: notebook 06_ensembles, section "Model ensembles".)

    The weights are normalised to sum to one, so only their ratios matter
    (weights = None gives every model the same weight, 1 / M).

    Inputs:
    - prob_list: List of M arrays of shape (N, C) (or one array (M, N, C)) of
      class PROBABILITIES (e.g. ``softmax(model.loss(X))``); not modified.
    - weights: Optional sequence of M non-negative weights.

    Returns:
    - probs: Array of shape (N, C), float64: the ensemble's probabilities
      (each row sums to one).
    """
    stack = _as_prob_stack(prob_list)
    w = _as_weights(weights, stack.shape[0])
    # TODO: your code here (averaging.average_predictions)
    raise NotImplementedError("averaging.average_predictions: not implemented yet — write it here, see notebook 06_ensembles, section \"Model ensembles\"")
    return probs


def ensemble_accuracy(prob_list, y, weights=None):
    """Accuracy of the ensemble's argmax prediction (uses ``average_predictions``).

    Inputs:
    - prob_list: M arrays (N, C) of probabilities; y: (N,) integer labels.

    Returns:
    - acc: Python float in [0, 1].
    """
    probs = average_predictions(prob_list, weights)
    return float(np.mean(np.argmax(probs, axis=1) == np.asarray(y)))


def accuracy_vs_members(prob_list, y):
    """Ensemble accuracy of the first m models, for m = 1..M (list of M floats)."""
    return [ensemble_accuracy(prob_list[:m], y) for m in range(1, len(prob_list) + 1)]


# --------------------------------------------------------------------------
# Snapshot ensembles: one run, cyclic cosine learning rate
# --------------------------------------------------------------------------
def cyclic_cosine_lr(it, period, lr_max, lr_min=0.0):
    """Cosine annealing with warm restarts (SGDR; snapshot ensembles, Huang et al. 2017).

        alpha(t) = lr_min + 0.5 (lr_max - lr_min) (1 + cos(pi (t mod P) / P))

    The rate restarts at lr_max every P = ``period`` iterations and falls to
    ~lr_min at the end of each cycle, where a snapshot is taken.

    Inputs:
    - it: Iteration t >= 0 (int or array of ints).
    - period: Cycle length P in iterations.
    - lr_max, lr_min: The rates at the start and (just before) the end of a cycle.

    Returns:
    - lr: float (or array shaped like ``it``).
    """
    if period < 1:
        raise ValueError(f"period must be >= 1, got {period}")
    t = np.asarray(it)
    lr = cosine_decay(np.mod(t, period), lr_max, period, lr_min)
    return float(lr) if t.ndim == 0 else np.asarray(lr)


def snapshot_ensemble(model, X, y, num_cycles, iters_per_cycle, lr_max, lr_min=0.0, batch_size=100,
                      update_rule="sgd_momentum", seed=0, ema_decay=None):
    """Train ``model`` once with a cyclic cosine rate; snapshot its params at every cycle's end.

    Inputs:
    - model: A model with ``params`` (dict) and ``loss(X, y) -> (loss, grads)``,
      e.g. ``FullyConnectedNet``; trained in place.
    - X, y: Training data, shapes (N, ...) and (N,).
    - num_cycles, iters_per_cycle: M cycles of P iterations (M * P in all).
    - lr_max, lr_min: The cyclic rate's range (``cyclic_cosine_lr``).
    - batch_size, update_rule, seed: As for ``transfer.train``.
    - ema_decay: If given, also keep an EMA of the parameters (``ema_update``)
      along the whole run.

    Returns a dict:
    - snapshots: List of M parameter dicts (copies), one per cycle end.
    - lr_history: (M * P,) array of the learning rates used.
    - loss_history: (M * P,) array of minibatch losses.
    - ema_params: The EMA dict (None unless ``ema_decay`` is given).
    """
    from .transfer import train  # the compact training loop shared with transfer learning

    snapshots = []
    state = {"ema": init_average(model.params) if ema_decay is not None else None}

    def on_step(it, params):
        if ema_decay is not None:
            state["ema"] = ema_update(state["ema"], params, ema_decay)
        if (it + 1) % iters_per_cycle == 0:
            snapshots.append(init_average(params))

    rates = cyclic_cosine_lr(np.arange(num_cycles * iters_per_cycle), iters_per_cycle, lr_max, lr_min)  # all at once
    history = train(model, X, y, num_iters=num_cycles * iters_per_cycle, batch_size=batch_size,
                    lr_schedule=rates.__getitem__, update_rule=update_rule, seed=seed, callback=on_step)
    return {"snapshots": snapshots, "lr_history": history["lr_history"],
            "loss_history": history["loss_history"], "ema_params": state["ema"]}
