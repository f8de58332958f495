"""Capstone: train your best model with your own pieces (notebook 10).

The exercise is one function, ``training_config() -> dict``: your choices for
training a ``FullyConnectedNet`` on the digits. Everything else here is given:
:func:`train` trains that network with YOUR update rule (``optim.py``), YOUR
learning-rate schedule (``schedules.py``) and YOUR dropout (``layers.py``), and
reports the validation accuracy. The grader runs the very same :func:`train`
(same split, same seed), so the number you see in the notebook is the number
that is graded.

The config (a flat dict; missing optional keys take the defaults shown)::

    {
        "update_rule": "adam",        # sgd | sgd_momentum | nesterov_momentum | adagrad | rmsprop | adam
        "optim_config": {"learning_rate": 1e-3},   # the rule's HYPER-parameters only (no state)
        "lr_schedule": "constant",    # constant | step_decay | exponential_decay | inverse_time_decay
                                      # | cosine_decay; steps count updates (minibatches), from 0
        "schedule_config": {},        # the schedule's other arguments, e.g. {"k": 1e-3} or
                                      # {"decay_rate": 0.5, "decay_every": 100}; cosine_decay gets
                                      # total_steps = all updates (only final_lr is yours)
        "hidden_dims": [100],         # sizes of the hidden layers (1 to 4 layers)
        "weight_scale": 1e-2,         # std of the initial weights
        "dropout_keep_ratio": 1.0,    # probability of KEEPING a unit; 1.0 = no dropout
        "reg": 0.0,                   # L2 strength: loss + 0.5 * reg * sum(W**2)
        "batch_size": 100,
        "num_epochs": 10,
    }

``update_rule``, ``optim_config``, ``hidden_dims``, ``batch_size`` and
``num_epochs`` are required. The learning rate of the schedule at step 0 is
``optim_config["learning_rate"]`` (the rule's default when absent).

Budget (checked before training, the same for everyone): at most
``MAX_UPDATES`` updates (``num_epochs * (num_train // batch_size)``) and
``num_epochs * num_parameters <= MAX_EPOCH_PARAMETERS``; the graded run also
stops with a clear message past ``TIME_BUDGET_S`` seconds of wall clock.

How the graded run trusts nothing it cannot check: the training loop, the
forward and backward passes, the data and the accuracy are the instructor's;
your functions are called only for what they are (an update of one parameter
array, a schedule's values, a dropout mask), and each answer is checked for
shape and finiteness before it is used.
"""
import difflib
import math
import numbers
import time

import numpy as np

from .data import get_digits_data
from .fc_net import FullyConnectedNet
from .layers import affine_backward, affine_forward, relu_backward, relu_forward, softmax_loss

RULES = {  # rule -> the hyper-parameters optim_config may set (see optim.py)
    "sgd": ("learning_rate",),
    "sgd_momentum": ("learning_rate", "momentum"),
    "nesterov_momentum": ("learning_rate", "momentum"),
    "adagrad": ("learning_rate", "epsilon"),
    "rmsprop": ("learning_rate", "decay_rate", "epsilon"),
    "adam": ("learning_rate", "beta1", "beta2", "epsilon"),
}
DEFAULT_LR = {"adam": 1e-3}  # every other rule defaults to 1e-2 (optim.py)
SCHEDULES = {  # schedule -> (required arguments, optional arguments) of schedule_config
    "constant": ((), ()),
    "step_decay": ((), ("decay_rate", "decay_every")),
    "exponential_decay": (("k",), ()),
    "inverse_time_decay": (("k",), ()),
    "cosine_decay": ((), ("final_lr",)),
}
REQUIRED = ("update_rule", "optim_config", "hidden_dims", "batch_size", "num_epochs")
DEFAULTS = {"lr_schedule": "constant", "schedule_config": {}, "weight_scale": 1e-2,
            "dropout_keep_ratio": 1.0, "reg": 0.0}
KEYS = REQUIRED + tuple(DEFAULTS)

SPLIT_SEED = 0          # get_digits_data(seed=0): 1197 train, 300 val, 300 test images
GRADED_SEED = 0         # initialization, minibatch order and dropout seeds of the graded run
MAX_HIDDEN_LAYERS = 4
MAX_UPDATES = 600         # one round trip to the worker each: about 1 s on a quiet machine
MAX_EPOCH_PARAMETERS = 600_000   # e.g. 30 epochs of hidden_dims=[256] (19 210 parameters) fit
TIME_BUDGET_S = 6.0

_INFRASTRUCTURE = ("WorkerTimeout", "WorkerDied")  # the grader's own errors pass through untouched


class CapstoneError(ValueError):
    """A config or a training run that cannot be used; the message speaks to the student."""


def training_config():
    """Your choices for training FullyConnectedNet on the digits (the keys: module docstring).

    Returns:
    - config: a dict with at least update_rule, optim_config, hidden_dims,
      batch_size and num_epochs; optional lr_schedule, schedule_config,
      weight_scale, dropout_keep_ratio and reg. Notebook 09 explains every knob.
    """
    config = None
    config = dict(
        update_rule="adam",                     # adaptive steps: little tuning needed
        optim_config=dict(learning_rate=5e-3),
        lr_schedule="cosine_decay",             # large steps first, small ones to settle
        hidden_dims=[128],
        weight_scale=5e-2,
        dropout_keep_ratio=0.8,                 # a little dropout and L2 against overfitting
        reg=1e-3,
        batch_size=200,                         # few, larger steps: cheap to train
        num_epochs=25)
    return config


# ----------------------------------------------------------------------------
# The config: validation with messages for a student
# ----------------------------------------------------------------------------
def _real(name, value, low=None, high=None, low_open=False, high_open=False):
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise CapstoneError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise CapstoneError(f"{name} must be finite, got {value}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        lo = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
        hi = "" if high is None else f"{high:g}" + (")" if high_open else "]")
        raise CapstoneError(f"{name} must lie in {lo or '(-inf'}, {hi or 'inf)'}; got {value:g}")
    return value


def _integer(name, value, low, high):
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise CapstoneError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if not low <= value <= high:
        raise CapstoneError(f"{name} must be between {low} and {high}, got {value}")
    return value


ALIASES = {"lr": "learning_rate", "rule": "update_rule", "optimizer": "update_rule", "epochs": "num_epochs",
           "hidden": "hidden_dims", "keep_prob": "dropout_keep_ratio", "p": "dropout_keep_ratio",
           "dropout": "dropout_keep_ratio", "l2": "reg", "weight_decay": "reg", "schedule": "lr_schedule",
           "rho": "momentum", "decay": "decay_rate", "eps": "epsilon"}


def _unknown_keys(where, keys, allowed):
    hyper = {k for names in RULES.values() for k in names}
    for key in keys:
        if key in allowed:
            continue
        close = [ALIASES[key]] if ALIASES.get(key) in allowed else difflib.get_close_matches(str(key), allowed, n=1)
        if close:
            hint = f" — did you mean {close[0]!r}?"
        elif where == "the config" and key in hyper:
            hint = f" — {key} is a hyper-parameter of the update rule: put it inside optim_config"
        else:
            hint = f"; allowed: {', '.join(allowed) or 'none'}"
        raise CapstoneError(f"{where} has an unknown key {key!r}{hint}")


def _hyper(where, given, allowed):
    if not isinstance(given, dict):
        raise CapstoneError(f"{where} must be a dict, got {type(given).__name__}")
    _unknown_keys(where, list(given), list(allowed))
    return dict(given)


def validate_config(config, num_train=1197, input_dim=64, num_classes=10, enforce_budget=True):
    """A checked, complete copy of ``config`` (defaults filled in); CapstoneError names any problem.

    ``enforce_budget=False`` skips the budget (for the ungraded CIFAR-10 extension only).
    """
    if config is None:
        raise CapstoneError("training_config() returned None — did you forget `return config`?")
    if not isinstance(config, dict):
        raise CapstoneError(f"training_config() must return a dict, got {type(config).__name__}")
    _unknown_keys("the config", list(config), list(KEYS))
    missing = [k for k in REQUIRED if k not in config]
    if missing:
        raise CapstoneError(f"the config has no {', '.join(repr(k) for k in missing)} (required keys: "
                            f"{', '.join(REQUIRED)})")
    out = {**DEFAULTS, **config}

    rule = out["update_rule"]
    if rule not in RULES:
        raise CapstoneError(f"update_rule must be one of {', '.join(RULES)}; got {rule!r}")
    state = {"velocity", "cache", "m", "v", "t"} & set(out["optim_config"] if isinstance(out["optim_config"],
                                                                                        dict) else ())
    if state:
        raise CapstoneError(f"optim_config holds hyper-parameters only; {', '.join(sorted(state))} is the "
                            f"rule's state, which it creates itself")
    optim_config = _hyper(f"optim_config (for {rule})", out["optim_config"], RULES[rule])
    optim_config.setdefault("learning_rate", DEFAULT_LR.get(rule, 1e-2))
    optim_config["learning_rate"] = _real("optim_config['learning_rate']", optim_config["learning_rate"],
                                          0, 1000, low_open=True)
    for key in ("momentum", "decay_rate", "beta1", "beta2"):
        if key in optim_config:
            optim_config[key] = _real(f"optim_config[{key!r}]", optim_config[key], 0, 1, high_open=True)
    if "epsilon" in optim_config:
        optim_config["epsilon"] = _real("optim_config['epsilon']", optim_config["epsilon"], 0, 1,
                                        low_open=True)
    out["optim_config"] = optim_config

    schedule = out["lr_schedule"]
    if schedule is None:
        schedule = out["lr_schedule"] = "constant"
    if schedule not in SCHEDULES:
        raise CapstoneError(f"lr_schedule must be one of {', '.join(SCHEDULES)}; got {schedule!r}")
    required, optional = SCHEDULES[schedule]
    schedule_config = _hyper(f"schedule_config (for {schedule})", out["schedule_config"] or {},
                             required + optional)
    for key in required:
        if key not in schedule_config:
            raise CapstoneError(f"schedule_config (for {schedule}) needs {key!r}")
    for key, value in schedule_config.items():
        if key == "decay_every":
            schedule_config[key] = _integer("schedule_config['decay_every']", value, 1, MAX_UPDATES)
        elif key == "decay_rate":
            schedule_config[key] = _real("schedule_config['decay_rate']", value, 0, 1, low_open=True)
        else:
            schedule_config[key] = _real(f"schedule_config[{key!r}]", value, 0)
    out["schedule_config"] = schedule_config

    dims = out["hidden_dims"]
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, bool):
        raise CapstoneError(f"hidden_dims must be a list of layer sizes, e.g. [{dims}], not a number")
    if not isinstance(dims, (list, tuple)) or not 1 <= len(dims) <= MAX_HIDDEN_LAYERS:
        raise CapstoneError(f"hidden_dims must be a list of 1 to {MAX_HIDDEN_LAYERS} layer sizes, got {dims!r}")
    out["hidden_dims"] = [_integer(f"hidden_dims[{i}]", h, 1, 1024) for i, h in enumerate(dims)]
    out["weight_scale"] = _real("weight_scale", out["weight_scale"], 0, 1, low_open=True)
    out["dropout_keep_ratio"] = _real("dropout_keep_ratio (the probability of KEEPING a unit)",
                                      out["dropout_keep_ratio"], 0, 1, low_open=True)
    out["reg"] = _real("reg", out["reg"], 0, 1)
    out["batch_size"] = _integer("batch_size", out["batch_size"], 10, num_train)
    out["num_epochs"] = _integer("num_epochs", out["num_epochs"], 1, 200)

    updates = num_updates(out, num_train)
    if enforce_budget and updates > MAX_UPDATES:
        raise CapstoneError(f"budget: {out['num_epochs']} epochs of batch_size {out['batch_size']} make "
                            f"{updates} updates, more than the {MAX_UPDATES} allowed — fewer epochs or "
                            f"larger batches")
    params = num_parameters(out["hidden_dims"], input_dim, num_classes)
    if enforce_budget and out["num_epochs"] * params > MAX_EPOCH_PARAMETERS:
        raise CapstoneError(f"budget: num_epochs * parameters = {out['num_epochs']} * {params} = "
                            f"{out['num_epochs'] * params}, more than {MAX_EPOCH_PARAMETERS} — fewer "
                            f"epochs or smaller hidden_dims")
    return out


def uses(config):
    """The exercise ids of yours that training with ``config`` calls (besides the given ``optim.sgd``)."""
    config = validate_config(config, enforce_budget=False)
    used = {f"optim.{config['update_rule']}"}
    if config["lr_schedule"] != "constant":
        used.add(f"schedules.{config['lr_schedule']}")
    if config["dropout_keep_ratio"] < 1:
        used.add("layers.dropout_forward")
    return used


def num_parameters(hidden_dims, input_dim=64, num_classes=10):
    """Weights and biases of a FullyConnectedNet with these layer sizes."""
    dims = [input_dim, *hidden_dims, num_classes]
    return sum(a * b + b for a, b in zip(dims[:-1], dims[1:]))


def num_updates(config, num_train=1197):
    """Minibatch updates of a run: num_epochs * (num_train // batch_size), at least one per epoch."""
    return config["num_epochs"] * max(num_train // config["batch_size"], 1)


# ----------------------------------------------------------------------------
# Training with the student's functions (given)
# ----------------------------------------------------------------------------
_GRADED_DATA = {}
GRADED_KEYS = ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")


def graded_data(stored=None):
    """The digits split of the graded run, read once per process (the arrays are read-only).

    ``stored``: the same arrays read from a file (the grader's copy, equal to a live
    ``get_digits_data(seed=SPLIT_SEED)`` as its tests check), to skip importing scikit-learn.
    """
    if not _GRADED_DATA:
        data = stored if stored is not None else get_digits_data(seed=SPLIT_SEED)
        for key in GRADED_KEYS:
            array = np.array(data[key])
            array.setflags(write=False)
            _GRADED_DATA[key] = array
    return dict(_GRADED_DATA)


class _Student:
    """Calls the student's functions through ``functions`` (a ``ctx.fn``); one clear error per failure."""

    def __init__(self, functions):
        if functions is None:
            from .checks.core import LocalFunctions

            functions = LocalFunctions()
        self.functions = functions

    def many(self, exercise, arg_lists, what):
        try:
            many = getattr(self.functions, "many", None)
            if many is not None:
                return many(exercise, arg_lists)
            func = self.functions(exercise)
            return [func(*args) for args in arg_lists]
        except Exception as exc:
            if type(exc).__name__ in _INFRASTRUCTURE:
                raise
            kind = getattr(exc, "type_name", type(exc).__name__)
            if kind == "NotImplementedError":  # unfinished work, not a bug: say so the usual way
                raise NotImplementedError(f"{exercise} is not implemented yet, and your config uses it "
                                          f"({what}) — implement it, or choose another option") from None
            detail = exc.describe() if hasattr(exc, "describe") else f"your code raised {kind}: {exc}"
            raise CapstoneError(f"{exercise} failed while {what}: {detail}") from None


def _array(exercise, what, value, shape):
    if not isinstance(value, np.ndarray) or value.shape != tuple(shape):
        got = f"shape {value.shape}" if isinstance(value, np.ndarray) else type(value).__name__
        raise CapstoneError(f"{exercise} returned {got} while {what}; expected an array of shape {tuple(shape)}")
    return value


def learning_rates(student, config, steps):
    """The learning rate of every update, from the student's schedule (one call for all steps)."""
    lr0 = config["optim_config"]["learning_rate"]
    name = config["lr_schedule"]
    if name == "constant":
        return np.full(steps, lr0)
    hyper = dict(config["schedule_config"])
    if name == "cosine_decay":
        hyper["total_steps"] = steps
    args = (np.arange(steps), lr0, *_ordered(name, hyper))  # positional: the grader's batch call has no kwargs
    [values] = student.many(f"schedules.{name}", [args], "computing the learning rates")
    values = np.asarray(_array(f"schedules.{name}", "computing the learning rates", values, (steps,)),
                        dtype=np.float64)
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise CapstoneError(f"schedules.{name} gave a learning rate that is negative or not finite "
                            f"(min {np.nanmin(values):g}) — check the formula")
    return values


def _ordered(name, hyper):
    """Positional arguments after (step, initial_lr), in the schedule's signature order."""
    order = {"step_decay": ("decay_rate", "decay_every"), "exponential_decay": ("k",),
             "inverse_time_decay": ("k",), "cosine_decay": ("total_steps", "final_lr")}[name]
    defaults = {"decay_rate": 0.1, "decay_every": 30, "final_lr": 0.0}
    return tuple(hyper.get(k, defaults.get(k)) for k in order)


def dropout_masks(student, keep, shapes, seeds):
    """The student's train-mode dropout applied to ones: the multiplier of each unit (mask / p)."""
    args = [(np.ones(shape, dtype=np.float32), {"mode": "train", "p": keep, "seed": int(s)})
            for shape, s in zip(shapes, seeds)]
    results = student.many("layers.dropout_forward", args, "drawing dropout masks (train mode)")
    masks = []
    for result, shape in zip(results, shapes):
        if not isinstance(result, tuple) or len(result) != 2:
            raise CapstoneError("layers.dropout_forward must return a pair (out, cache)")
        out = np.asarray(_array("layers.dropout_forward", "drawing dropout masks", result[0], shape),
                         dtype=np.float32)
        if not np.all(np.isfinite(out)):
            raise CapstoneError("layers.dropout_forward returned non-finite values in train mode")
        masks.append(out)
    return masks


def _loss_and_grads(params, X, y, masks, reg, num_layers):
    """FullyConnectedNet's training pass, {affine - relu - [dropout]} x (L-1) - affine - softmax,
    with the dropout multipliers given (``masks[i]`` for hidden layer i+1, or None)."""
    h, caches = X, []
    for i in range(1, num_layers):
        h, fc_cache = affine_forward(h, params[f"W{i}"], params[f"b{i}"])
        h, relu_cache = relu_forward(h)
        if masks is not None:
            h = h * masks[i - 1]
        caches.append((fc_cache, relu_cache))
    L = num_layers
    scores, last = affine_forward(h, params[f"W{L}"], params[f"b{L}"])
    loss, dscores = softmax_loss(scores, y)
    grads = {}
    dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, last, need_dx=L > 1)
    for i in range(L - 1, 0, -1):
        fc_cache, relu_cache = caches[i - 1]
        if masks is not None:
            dh = dh * masks[i - 1]
        dh = relu_backward(dh, relu_cache)
        dh, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(dh, fc_cache, need_dx=i > 1)
    for i in range(1, L + 1):
        W = params[f"W{i}"]
        loss += 0.5 * reg * float(np.sum(W.astype(np.float64) ** 2))
        grads[f"W{i}"] = grads[f"W{i}"] + W.dtype.type(reg) * W
    return loss, grads


def _hidden_then_scores(params, X, num_layers, test_dropout=None):
    """Test-time scores; ``test_dropout(i, h)`` (if given) is applied after hidden layer i's ReLU."""
    h = X
    for i in range(1, num_layers):
        h = relu_forward(affine_forward(h, params[f"W{i}"], params[f"b{i}"])[0])[0]
        if test_dropout is not None:
            h = test_dropout(i, h)
    L = num_layers
    return affine_forward(h, params[f"W{L}"], params[f"b{L}"])[0]


def evaluate(params, X, y, keep, functions=None):
    """Accuracy of a trained net on (X, y), the student's dropout in test mode after each hidden layer.

    Returns a dict: acc; acc_identity (test-time dropout as the identity, computed here);
    test_mode_changes (True when the student's test-mode dropout changed the activations).
    """
    student = functions if isinstance(functions, _Student) else _Student(functions)
    X = np.asarray(X, dtype=np.float32).reshape(len(X), -1)
    num_layers = sum(1 for name in params if name.startswith("W"))
    changed = False

    def student_test_dropout(i, h):
        nonlocal changed
        [result] = student.many("layers.dropout_forward", [(h, {"mode": "test", "p": keep})],
                                "applying dropout in test mode")
        if not isinstance(result, tuple) or len(result) != 2:
            raise CapstoneError("layers.dropout_forward must return a pair (out, cache)")
        out = np.asarray(_array("layers.dropout_forward", "applying dropout in test mode", result[0], h.shape),
                         dtype=np.float32)
        changed = changed or not np.allclose(out, h, rtol=1e-5, atol=1e-6)
        return out

    with np.errstate(all="ignore"):
        identity = _accuracy(_hidden_then_scores(params, X, num_layers), y)
        acc = identity if keep >= 1 else _accuracy(_hidden_then_scores(params, X, num_layers, student_test_dropout), y)
    return {"acc": acc, "acc_identity": identity, "test_mode_changes": changed}


def _accuracy(scores, y):
    with np.errstate(invalid="ignore"):
        return float(np.mean(np.argmax(np.nan_to_num(scores, nan=-np.inf), axis=1) == y))


def train(config, functions=None, seed=GRADED_SEED, data=None, num_epochs=None,
          time_budget_s=TIME_BUDGET_S, progress=False, enforce_budget=True):
    """Train FullyConnectedNet as ``config`` says, with the student's functions; return what happened.

    Inputs:
    - config: what ``training_config()`` returns (checked by :func:`validate_config`).
    - functions: where the student's functions come from (``ctx.fn`` of the
      checks); default: your ``cs231n_lec7`` package.
    - seed: initialization, minibatch order and dropout seeds (the graded run
      uses GRADED_SEED).
    - data: a dict with X_train, y_train, X_val, y_val (default: the digits
      split of the grader, ``get_digits_data(seed=SPLIT_SEED)``).
    - num_epochs: train for this many epochs instead (a short run).
    - time_budget_s: stop with CapstoneError once training took longer.
    - progress: show a progress bar over the updates.
    - enforce_budget: False lifts the update/parameter budget (the ungraded
      CIFAR-10 extension; the grader always enforces it).

    Returns a dict: config (validated), val_acc, train_acc, loss_history,
    lr_history, updates, seconds, params (the final weights), diverged_at (first update whose loss or
    weights were not finite, else None), kept_fraction (share of units your
    dropout kept in training, None without dropout), test_mode_changes (True
    when your dropout changed activations in test mode), val_acc_identity
    (accuracy with test-time dropout as the identity).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return _train(config, functions, seed, data, num_epochs, time_budget_s, progress, enforce_budget)
    with threadpool_limits(limits=1):  # one BLAS thread: fastest for these small matrices, same bytes each run
        return _train(config, functions, seed, data, num_epochs, time_budget_s, progress, enforce_budget)


def _train(config, functions, seed, data, num_epochs, time_budget_s, progress, enforce_budget):
    data = data if data is not None else graded_data()
    X, y = np.asarray(data["X_train"], dtype=np.float32), np.asarray(data["y_train"])
    X_val, y_val = np.asarray(data["X_val"], dtype=np.float32), np.asarray(data["y_val"])
    X, X_val = X.reshape(len(X), -1), X_val.reshape(len(X_val), -1)
    num_classes = int(max(y.max(), y_val.max())) + 1
    config = validate_config(config, len(X), X.shape[1], num_classes, enforce_budget)
    student = _Student(functions)
    started = time.perf_counter()
    rng = np.random.default_rng(seed)

    epochs = config["num_epochs"] if num_epochs is None else int(num_epochs)
    batch = config["batch_size"]
    per_epoch = max(len(X) // batch, 1)
    steps = epochs * per_epoch
    keep, dims = config["dropout_keep_ratio"], config["hidden_dims"]
    model = FullyConnectedNet(dims, input_dim=X.shape[1], num_classes=num_classes,
                              weight_scale=config["weight_scale"], dtype=np.float32, seed=seed)
    params, L = model.params, model.num_layers
    rule = f"optim.{config['update_rule']}"
    configs = {name: dict(config["optim_config"]) for name in params}
    lrs = learning_rates(student, config, steps)

    losses, kept, diverged_at = [], [], None
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc="training", unit="update")
    for epoch in range(epochs):
        order = rng.permutation(len(X))
        masks = None
        if keep < 1:
            seeds = rng.integers(0, 2**31 - 1, size=len(dims))
            masks = dropout_masks(student, keep, [(per_epoch * batch, h) for h in dims], seeds)
            kept.append(np.mean([np.mean(m != 0) for m in masks]))
        for it in range(per_epoch):
            t = epoch * per_epoch + it
            rows = order[(it * batch) % len(X):][:batch]
            step_masks = None if masks is None else [m[it * batch:(it + 1) * batch][:len(rows)] for m in masks]
            with np.errstate(all="ignore"):
                loss, grads = _loss_and_grads(params, X[rows], y[rows], step_masks, config["reg"], L)
            losses.append(loss)
            for name in params:
                configs[name]["learning_rate"] = float(lrs[t])
            names = list(params)
            results = student.many(rule, [(params[n], grads[n], configs[n]) for n in names],
                                   f"updating the weights (update {t + 1})")
            for n, result in zip(names, results):
                if not isinstance(result, tuple) or len(result) != 2 or not isinstance(result[1], dict):
                    raise CapstoneError(f"{rule} must return a pair (next_w, config); got "
                                        f"{type(result).__name__} at update {t + 1}")
                next_w = _array(rule, f"updating {n} (update {t + 1})", result[0], params[n].shape)
                params[n] = np.asarray(next_w, dtype=np.float32)
                configs[n] = result[1]
            if diverged_at is None and (not math.isfinite(loss) or
                                        not all(np.all(np.isfinite(p)) for p in params.values())):
                diverged_at = t + 1
            if bar is not None:
                bar.update(1)
            if time.perf_counter() - started > time_budget_s:
                if bar is not None:
                    bar.close()
                raise CapstoneError(f"time budget: the run stopped after {t + 1} of {steps} updates, past the "
                                    f"{time_budget_s:g} s budget — fewer epochs, larger batches or smaller "
                                    f"hidden_dims (or a slow update rule)")
            if diverged_at is not None:
                break
        if diverged_at is not None:
            break
    if bar is not None:
        bar.close()

    val = evaluate(params, X_val, y_val, keep if diverged_at is None else 1.0, student)
    with np.errstate(all="ignore"):
        train_acc = _accuracy(_hidden_then_scores(params, X, L), y)
    return {
        "config": config, "val_acc": val["acc"], "train_acc": train_acc,
        "val_acc_identity": val["acc_identity"], "loss_history": np.asarray(losses, dtype=np.float64),
        "lr_history": lrs[:len(losses)], "updates": len(losses), "planned_updates": steps,
        "seconds": time.perf_counter() - started, "diverged_at": diverged_at, "params": params,
        "kept_fraction": float(np.mean(kept)) if kept else None, "test_mode_changes": val["test_mode_changes"],
    }


# ----------------------------------------------------------------------------
# What a run says about the choices (used by the checks and the notebook)
# ----------------------------------------------------------------------------
LR_TOO_LARGE = "learning rate too large"
LR_TOO_SMALL = "learning rate too small"
DROPOUT_AT_TEST = "dropout left on at test time"
KEEP_AS_DROP = "p used as the probability of dropping"
MIN_LOSS_DROP = 0.10     # a run whose loss fell by less than 10 % barely trained


def diagnose(result):
    """[(title, explanation)] of the known mistakes a run of :func:`train` shows (empty when none)."""
    found = []
    cfg, losses = result["config"], result["loss_history"]
    rule, lr = cfg["update_rule"], cfg["optim_config"]["learning_rate"]
    if result["diverged_at"] is not None:
        found.append((LR_TOO_LARGE, f"the loss or the weights stopped being finite at update "
                                    f"{result['diverged_at']}: a learning rate of {lr:g} is probably orders of "
                                    f"magnitude too large for {rule} (the lecture's starting points: Adam 1e-3, "
                                    f"SGD+momentum 1e-2 to 1e-1)"))
    elif len(losses) > 1:
        tail = float(np.mean(losses[-max(len(losses) // 10, 1):]))
        peak = float(np.max(losses))
        if tail > 1.5 * losses[0] or peak > 5 * losses[0]:
            found.append((LR_TOO_LARGE, f"the loss jumped from {losses[0]:.3f} to {peak:.3g} (ending at "
                                        f"{tail:.3f}): a learning rate of {lr:g} is probably orders of magnitude "
                                        f"too large for {rule}"))
        elif tail > (1 - MIN_LOSS_DROP) * losses[0]:
            found.append((LR_TOO_SMALL, f"the loss barely moved ({losses[0]:.3f} -> {tail:.3f}): a learning rate "
                                        f"of {lr:g} is probably orders of magnitude too small for {rule} "
                                        f"(or the schedule decays it too fast)"))
    keep, kept = cfg["dropout_keep_ratio"], result["kept_fraction"]
    if kept is not None and abs(kept - keep) > 0.05:
        if abs(kept - (1 - keep)) < 0.05:
            found.append((KEEP_AS_DROP, f"your dropout kept {kept:.0%} of the units with p = {keep:g}: p is the "
                                        f"probability of KEEPING a unit"))
        else:
            found.append((KEEP_AS_DROP, f"your dropout kept {kept:.0%} of the units with p = {keep:g}; it should "
                                        f"keep about {keep:.0%}"))
    if result["test_mode_changes"]:
        found.append((DROPOUT_AT_TEST, f"in test mode your dropout_forward changed the activations (validation "
                                       f"accuracy {result['val_acc']:.1%}, {result['val_acc_identity']:.1%} with "
                                       f"the identity): inverted dropout does nothing at test time"))
    return found


def summary(result, timing=True, bullet="- "):
    """A few lines on a run: accuracies, updates, time (unless ``timing`` is False), known mistakes."""
    took = f" in {result['seconds']:.2f} s" if timing else ""
    lines = [f"validation accuracy {result['val_acc']:.1%} (train {result['train_acc']:.1%}) after "
             f"{result['updates']} updates{took}"]
    lines += [f"{bullet}{title}: {why}" for title, why in diagnose(result)]
    return "\n".join(lines)
