"""Known mistakes: wrong implementations that students really write.

Each :class:`Mistake` names an exercise, a short ``title`` (what the grader
says), an ``explanation`` in plain words, and a wrong implementation
``fn`` with the exercise's signature. The functions are self-contained
(only ``np``), so the test suite can plant each one into a copy of the
solution and prove the grader catches and names it.

Two ways a mistake is recognised:

- ``detect="match"``: the grader runs a fixed *probe* (a few calls on fixed
  inputs, default and non-default hyper-parameters, tiny gradients) through
  the student's function and through each wrong implementation; a student
  whose outputs match a wrong implementation (and not the reference) is told
  that mistake's explanation.
- ``detect="check"``: randomness makes matching impossible (dropout), so the
  visible checks recognise the symptom themselves and their message contains
  ``title``.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from cs231n_lec7.checks.core import quiet_numerics


@dataclasses.dataclass(frozen=True)
class Mistake:
    exercise: str
    title: str
    explanation: str
    fn: Callable
    detect: str = "match"


def _cfg(config, **defaults):
    config = {} if config is None else config
    for k, v in defaults.items():
        config.setdefault(k, v)
    return config


# ------------------------------------------------------------- momentum
def momentum_sign_flipped(w, dw, config=None):
    config = _cfg(config, learning_rate=1e-2, momentum=0.9)
    v = config["momentum"] * config.get("velocity", np.zeros_like(w)) - config["learning_rate"] * dw
    config["velocity"] = v
    return w - v, config


def momentum_velocity_not_stored(w, dw, config=None):
    config = _cfg(config, learning_rate=1e-2, momentum=0.9)
    v = config["momentum"] * np.zeros_like(w) - config["learning_rate"] * dw
    return w + v, config


def momentum_first_form_state(w, dw, config=None):
    config = _cfg(config, learning_rate=1e-2, momentum=0.9)
    v = config["momentum"] * config.get("velocity", np.zeros_like(w)) + dw
    config["velocity"] = v
    return w - config["learning_rate"] * v, config


def momentum_hard_coded(w, dw, config=None):
    config = _cfg(config, learning_rate=1e-2, momentum=0.9)
    v = 0.9 * config.get("velocity", np.zeros_like(w)) - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def nesterov_plain_momentum(w, dw, config=None):
    config = _cfg(config, learning_rate=1e-2, momentum=0.9)
    v = config["momentum"] * config.get("velocity", np.zeros_like(w)) - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def nesterov_lookahead_sign(w, dw, config=None):
    config = _cfg(config, learning_rate=1e-2, momentum=0.9)
    v_prev = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v_prev - config["learning_rate"] * dw
    config["velocity"] = v
    return w + config["momentum"] * v_prev + (1 + config["momentum"]) * v, config


def nesterov_missing_one_plus_rho(w, dw, config=None):
    config = _cfg(config, learning_rate=1e-2, momentum=0.9)
    v_prev = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v_prev - config["learning_rate"] * dw
    config["velocity"] = v
    return w - config["momentum"] * v_prev + v, config


# -------------------------------------------------------------- adagrad
def adagrad_no_accumulation(w, dw, config=None):
    config = _cfg(config, learning_rate=1e-2, epsilon=1e-8)
    cache = dw * dw
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config


def adagrad_eps_inside_sqrt(w, dw, config=None):
    config = _cfg(config, learning_rate=1e-2, epsilon=1e-8)
    cache = config.get("cache", np.zeros_like(w)) + dw * dw
    config["cache"] = cache
    return w - config["learning_rate"] * dw / np.sqrt(cache + config["epsilon"]), config


def adagrad_no_sqrt(w, dw, config=None):
    config = _cfg(config, learning_rate=1e-2, epsilon=1e-8)
    cache = config.get("cache", np.zeros_like(w)) + dw * dw
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (cache + config["epsilon"]), config


# -------------------------------------------------------------- rmsprop
def rmsprop_decay_swapped(w, dw, config=None):
    config = _cfg(config, learning_rate=1e-2, decay_rate=0.99, epsilon=1e-8)
    d = config["decay_rate"]
    cache = (1 - d) * config.get("cache", np.zeros_like(w)) + d * dw * dw
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config


def rmsprop_eps_inside_sqrt(w, dw, config=None):
    config = _cfg(config, learning_rate=1e-2, decay_rate=0.99, epsilon=1e-8)
    d = config["decay_rate"]
    cache = d * config.get("cache", np.zeros_like(w)) + (1 - d) * dw * dw
    config["cache"] = cache
    return w - config["learning_rate"] * dw / np.sqrt(cache + config["epsilon"]), config


def rmsprop_missing_one_minus_decay(w, dw, config=None):
    config = _cfg(config, learning_rate=1e-2, decay_rate=0.99, epsilon=1e-8)
    d = config["decay_rate"]
    cache = d * config.get("cache", np.zeros_like(w)) + dw * dw
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config


# ----------------------------------------------------------------- adam
def _adam(w, dw, config, bias=True, t_after=False, eps_inside=False, swap=False, store_t=True,
          correct_v=True):
    config = _cfg(config, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8)
    b1, b2 = config["beta1"], config["beta2"]
    if swap:
        b1, b2 = b2, b1
    m = config.get("m", np.zeros_like(w))
    v = config.get("v", np.zeros_like(w))
    t = config.get("t", 0)
    t_used = t if t_after else t + 1
    m = b1 * m + (1 - b1) * dw
    v = b2 * v + (1 - b2) * dw * dw
    m_hat = m / (1 - b1**t_used) if bias else m
    v_hat = v / (1 - b2**t_used) if (bias and correct_v) else v
    denom = np.sqrt(v_hat + config["epsilon"]) if eps_inside else np.sqrt(v_hat) + config["epsilon"]
    next_w = w - config["learning_rate"] * m_hat / denom
    config["m"], config["v"] = m, v
    if store_t:
        config["t"] = t + 1
    else:
        config["t"] = t
    return next_w, config


def adam_no_bias_correction(w, dw, config=None):
    return _adam(w, dw, config, bias=False)


def adam_t_after_use(w, dw, config=None):
    return _adam(w, dw, config, t_after=True)


def adam_eps_inside_sqrt(w, dw, config=None):
    return _adam(w, dw, config, eps_inside=True)


def adam_betas_swapped(w, dw, config=None):
    return _adam(w, dw, config, swap=True)


def adam_t_not_stored(w, dw, config=None):
    return _adam(w, dw, config, store_t=False)


def adam_only_m_corrected(w, dw, config=None):
    return _adam(w, dw, config, correct_v=False)


# -------------------------------------------------------------- dropout
def dropout_p_as_drop(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    rng = np.random.default_rng(dropout_param.get("seed"))
    if mode == "train":
        mask = (rng.random(x.shape) >= p) / (1 - p)
        return (x * mask).astype(x.dtype), (dropout_param, mask)
    return x.copy(), (dropout_param, None)


def dropout_not_inverted(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    rng = np.random.default_rng(dropout_param.get("seed"))
    if mode == "train":
        mask = (rng.random(x.shape) < p).astype(x.dtype)
        return x * mask, (dropout_param, mask)
    return x.copy(), (dropout_param, None)


def dropout_vanilla_test_scaling(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    rng = np.random.default_rng(dropout_param.get("seed"))
    if mode == "train":
        mask = (rng.random(x.shape) < p) / p
        return (x * mask).astype(x.dtype), (dropout_param, mask)
    return (x * p).astype(x.dtype), (dropout_param, None)


def dropout_at_test_time(x, dropout_param):
    p = dropout_param["p"]
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape) < p) / p
    return (x * mask).astype(x.dtype), (dropout_param, mask)


def dropout_seed_ignored(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    rng = np.random.default_rng()
    if mode == "train":
        mask = (rng.random(x.shape) < p) / p
        return (x * mask).astype(x.dtype), (dropout_param, mask)
    return x.copy(), (dropout_param, None)


def dropout_shared_mask(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    rng = np.random.default_rng(dropout_param.get("seed"))
    if mode == "train":
        mask = (rng.random(x.shape[1:]) < p) / p
        return (x * mask).astype(x.dtype), (dropout_param, np.broadcast_to(mask, x.shape).copy())
    return x.copy(), (dropout_param, None)


def dropout_backward_fresh_mask(dout, cache):
    dropout_param, _ = cache
    if dropout_param["mode"] == "train":
        p = dropout_param["p"]
        mask = (np.random.default_rng().random(dout.shape) < p) / p
        return dout * mask
    return dout


def dropout_backward_no_scale(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        return dout * (mask != 0)
    return dout


M = Mistake
MISTAKES = [
    M("optim.sgd_momentum", "wrong momentum sign",
      "next_w = w - v: with v = rho*v - lr*dw the velocity already points downhill, so the update is w + v.",
      momentum_sign_flipped),
    M("optim.sgd_momentum", "velocity not stored in config",
      "Your rule behaves like plain SGD: the velocity is not read back from / stored in config['velocity'].",
      momentum_velocity_not_stored),
    M("optim.sgd_momentum", "first momentum form stored",
      "You used the first form of the notes (v = rho*v + dw; w -= lr*v). It traces the same path at constant "
      "lr, but this assignment stores the velocity of the second form: v = rho*v - lr*dw; w += v.",
      momentum_first_form_state),
    M("optim.sgd_momentum", "momentum hard-coded",
      "The momentum 0.9 is hard-coded: read config['momentum'] so non-default values work.",
      momentum_hard_coded),
    M("optim.nesterov_momentum", "plain momentum instead of Nesterov",
      "This is SGD+Momentum (w + v). Nesterov in the change of variables is w - rho*v_prev + (1+rho)*v.",
      nesterov_plain_momentum),
    M("optim.nesterov_momentum", "wrong sign of the look-ahead term",
      "The look-ahead correction is -rho*v_prev, not +rho*v_prev.", nesterov_lookahead_sign),
    M("optim.nesterov_momentum", "missing (1 + rho) factor",
      "The new velocity enters with weight (1 + rho): w - rho*v_prev + (1+rho)*v.", nesterov_missing_one_plus_rho),
    M("optim.adagrad", "AdaGrad without accumulation",
      "cache = dw**2 forgets the past; AdaGrad sums: cache += dw**2 (that is why its steps shrink over time).",
      adagrad_no_accumulation),
    M("optim.adagrad", "epsilon inside the square root",
      "Use sqrt(cache) + eps, not sqrt(cache + eps): with tiny gradients the two differ by orders of magnitude.",
      adagrad_eps_inside_sqrt),
    M("optim.adagrad", "square root missing",
      "Divide by sqrt(cache) + eps, not by cache + eps.", adagrad_no_sqrt),
    M("optim.rmsprop", "RMSProp decay swapped",
      "cache = decay*cache + (1-decay)*dw**2: the decay rate weighs the OLD cache, not the new gradient.",
      rmsprop_decay_swapped),
    M("optim.rmsprop", "epsilon inside the square root",
      "Use sqrt(cache) + eps, not sqrt(cache + eps).", rmsprop_eps_inside_sqrt),
    M("optim.rmsprop", "missing (1 - decay) factor",
      "The new squared gradient is weighted by (1 - decay_rate): cache = d*cache + (1-d)*dw**2.",
      rmsprop_missing_one_minus_decay),
    M("optim.adam", "missing bias correction",
      "Divide m by (1 - beta1**t) and v by (1 - beta2**t) before the update; without it the first steps "
      "are far too large.", adam_no_bias_correction),
    M("optim.adam", "t incremented after use",
      "Increment t BEFORE using it in the bias correction: the first step uses t = 1 (t = 0 divides by zero).",
      adam_t_after_use),
    M("optim.adam", "epsilon inside the square root",
      "Use sqrt(v_hat) + eps, not sqrt(v_hat + eps).", adam_eps_inside_sqrt),
    M("optim.adam", "beta1 and beta2 swapped",
      "beta1 (0.9) is for the first moment m, beta2 (0.999) for the second moment v.", adam_betas_swapped),
    M("optim.adam", "t not stored in config",
      "Store the incremented step counter back in config['t'], or every step is treated as the first.",
      adam_t_not_stored),
    M("optim.adam", "bias correction of v missing",
      "Both moments need their correction: v_hat = v / (1 - beta2**t).", adam_only_m_corrected),
    M("layers.dropout_forward", "p used as drop probability",
      "In this assignment p is the probability of KEEPING a unit: mask = rng.random(x.shape) < p.",
      dropout_p_as_drop, detect="check"),
    M("layers.dropout_forward", "dropout not inverted",
      "Inverted dropout divides the kept units by p at train time, so test time needs no change.",
      dropout_not_inverted, detect="check"),
    M("layers.dropout_forward", "vanilla dropout's test-time scaling",
      "With inverted dropout the test-time forward pass is the identity; multiplying by p is vanilla dropout.",
      dropout_vanilla_test_scaling, detect="check"),
    M("layers.dropout_forward", "dropout applied at test time",
      "At test time every unit is kept: return x unchanged.", dropout_at_test_time, detect="check"),
    M("layers.dropout_forward", "seed ignored",
      "Draw the mask from np.random.default_rng(dropout_param['seed']) so a seed reproduces the mask.",
      dropout_seed_ignored, detect="check"),
    M("layers.dropout_forward", "one mask shared across the batch",
      "Draw one coin per element: the mask has the full shape of x.", dropout_shared_mask, detect="check"),
    M("layers.dropout_backward", "fresh mask in backward",
      "Reuse the mask saved in the cache by the forward pass; a new mask gives the gradient of another network.",
      dropout_backward_fresh_mask, detect="check"),
    M("layers.dropout_backward", "forgot 1/p in backward",
      "The gradient of x * mask / p is mask / p: keep the scaling in the backward pass too.",
      dropout_backward_no_scale, detect="check"),
]


# ---------------------------------------------------------------- probes
def _optim_probe(fn):
    """Fixed calls covering defaults, non-default hyper-parameters, state and tiny gradients."""
    shape = (3, 4)
    w0 = np.linspace(-0.7, 0.9, 12).reshape(shape)
    grads = [np.sin(np.arange(12.0) * (k + 1)).reshape(shape) * (k + 1) for k in range(3)]
    outputs = []

    def record(w, config):
        outputs.append(np.asarray(w, dtype=np.float64))
        for key in ("velocity", "cache", "m", "v", "t"):
            if isinstance(config, dict) and key in config:
                outputs.append(np.asarray(config[key], dtype=np.float64))

    for hyper in ({"learning_rate": 0.05},
                  {"learning_rate": 0.03, "momentum": 0.6, "decay_rate": 0.8, "beta1": 0.7, "beta2": 0.95},
                  {"learning_rate": 0.03, "momentum": 0.6, "decay_rate": 0.8, "beta1": 0.7, "beta2": 0.95,
                   "m": w0 * 0.1, "v": np.abs(w0), "t": 5, "cache": np.abs(w0), "velocity": w0 * 0.2}):
        w, config = w0.copy(), {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in hyper.items()}
        for dw in grads:
            w, config = fn(w, dw.copy(), config)
            record(w, config)
    w, config = w0.copy(), {"learning_rate": 0.01}
    for dw in grads[:2]:  # tiny gradients: epsilon placement
        w, config = fn(w, dw * 1e-9, config)
        record(w, config)
    return outputs


PROBES = {f"optim.{rule}": _optim_probe
          for rule in ("sgd_momentum", "nesterov_momentum", "adagrad", "rmsprop", "adam")}


def _same(a, b):
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x.shape != y.shape:
            return False
        if not np.allclose(x, y, rtol=1e-6, atol=1e-12, equal_nan=True):
            return False
    return True


def diagnose(exercise, student_fn, reference_fn):
    """Mistakes (by ``detect='match'``) whose outputs the student's function reproduces.

    ``student_fn`` may be remote; any exception from it means no diagnosis.
    """
    probe = PROBES.get(exercise)
    if probe is None:
        return []
    try:
        with quiet_numerics():
            got = probe(student_fn)
    except Exception:
        return []
    with quiet_numerics():
        if _same(got, probe(reference_fn)):
            return []
        found = []
        for mistake in MISTAKES:
            if mistake.exercise != exercise or mistake.detect != "match":
                continue
            try:
                if _same(got, probe(mistake.fn)):
                    found.append(mistake)
            except Exception:
                continue
    return found


def for_exercise(exercise):
    return [m for m in MISTAKES if m.exercise == exercise]


def _load_topic_mistakes():
    """Add the mistakes and probes of every ``autograder/mistakes_<topic>.py``."""
    import importlib
    import pkgutil

    package = importlib.import_module("autograder")
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("mistakes_"):
            module = importlib.import_module(f"autograder.{info.name}")
            MISTAKES.extend(getattr(module, "MISTAKES", []))
            PROBES.update(getattr(module, "PROBES", {}))


_load_topic_mistakes()
