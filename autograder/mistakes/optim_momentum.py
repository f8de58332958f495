"""Known mistakes in SGD+Momentum and Nesterov (``cs231n_lec7/optim.py``), and right rules written differently.

Every function is a whole rule as a student might write it (its own defaults,
its own state handling): the lecture's formulas read the wrong way, the notes'
forms (the first momentum form, the look-ahead point, Nesterov without saving
v_prev), the 2017 assignment's state keys. They are named by the properties
in ``cs231n_lec7/checks/diagnose/optim*.py`` (``detect="property"``).
"""
from __future__ import annotations

import numpy as np

from autograder.mistakes import Mistake, Variant


def momentum_sign_flipped(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    return w - v, config


def momentum_velocity_not_stored(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config["momentum"] * np.zeros_like(w) - config["learning_rate"] * dw
    return w + v, config


def momentum_velocity_not_read(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = np.zeros_like(w)
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def momentum_first_form_state(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config["momentum"] * config.get("velocity", np.zeros_like(w)) + dw
    config["velocity"] = v
    return w - config["learning_rate"] * v, config


def momentum_hard_coded(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    v = 0.9 * config.get("velocity", np.zeros_like(w)) - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def momentum_dampened(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    rho = config["momentum"]
    v = rho * config.get("velocity", np.zeros_like(w)) - (1 - rho) * config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def momentum_lr_hard_coded(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("momentum", 0.9)
    v = config["momentum"] * config.get("velocity", np.zeros_like(w)) - 1e-2 * dw
    config["velocity"] = v
    return w + v, config


def momentum_wrong_default_lr(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("momentum", 0.9)
    v = config["momentum"] * config.get("velocity", np.zeros_like(w)) - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def momentum_no_defaults(w, dw, config=None):
    lr, rho = config["learning_rate"], config.get("momentum", 0.9)
    v = rho * config.get("velocity", np.zeros_like(w)) - lr * dw
    config["velocity"] = v
    return w + v, config


def momentum_old_state_key(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config["momentum"] * config.get("v", np.zeros_like(w)) - config["learning_rate"] * dw
    config["v"] = v
    return w + v, config


def nesterov_plain_momentum(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config["momentum"] * config.get("velocity", np.zeros_like(w)) - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def nesterov_v_prev_not_saved(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    rho = config["momentum"]
    v = config.get("velocity", np.zeros_like(w))
    v = rho * v - config["learning_rate"] * dw
    next_w = w - rho * v + (1 + rho) * v  # the correction should use the velocity before the update
    config["velocity"] = v
    return next_w, config


def nesterov_lookahead_sign(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v_prev = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v_prev - config["learning_rate"] * dw
    config["velocity"] = v
    return w + config["momentum"] * v_prev + (1 + config["momentum"]) * v, config


def nesterov_missing_one_plus_rho(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v_prev = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v_prev - config["learning_rate"] * dw
    config["velocity"] = v
    return w - config["momentum"] * v_prev + v, config


def nesterov_returns_lookahead_point(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config["momentum"] * config.get("velocity", np.zeros_like(w)) - config["learning_rate"] * dw
    config["velocity"] = v
    x = w + v
    return x + config["momentum"] * v, config


def nesterov_hard_coded(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    v_prev = config.get("velocity", np.zeros_like(w))
    v = 0.9 * v_prev - config["learning_rate"] * dw
    config["velocity"] = v
    return w - 0.9 * v_prev + 1.9 * v, config


def nesterov_uphill(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v_prev = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v_prev - config["learning_rate"] * dw
    config["velocity"] = v
    return w + config["momentum"] * v_prev - (1 + config["momentum"]) * v, config


def nesterov_wrong_default_lr(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("momentum", 0.9)
    v_prev = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v_prev - config["learning_rate"] * dw
    config["velocity"] = v
    return w - config["momentum"] * v_prev + (1 + config["momentum"]) * v, config


def nesterov_old_state_key(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v_prev = config.get("v", np.zeros_like(w))
    v = config["momentum"] * v_prev - config["learning_rate"] * dw
    config["v"] = v
    return w - config["momentum"] * v_prev + (1 + config["momentum"]) * v, config


def nesterov_lr_hard_coded(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("momentum", 0.9)
    v_prev = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v_prev - 1e-2 * dw
    config["velocity"] = v
    return w - config["momentum"] * v_prev + (1 + config["momentum"]) * v, config


# ----------------------------------------------- right, written otherwise
def momentum_setdefault_inplace_safe(w, dw, config=None):
    config = {} if config is None else config
    lr = config.setdefault("learning_rate", 1e-2)
    rho = config.setdefault("momentum", 0.9)
    v = np.array(config.get("velocity", np.zeros(w.shape, dtype=w.dtype)), copy=True)
    v *= rho
    v -= lr * dw
    config["velocity"] = v
    next_w = w.copy()
    next_w += v
    return next_w, config


def momentum_float64_promotion(w, dw, config=None):
    if config is None:
        config = {}
    lr = np.float64(config.get("learning_rate", 1e-2))
    rho = np.float64(config.get("momentum", 0.9))
    v = rho * config.get("velocity", np.zeros_like(w)) - lr * dw
    config["velocity"] = v
    return w + v, config


def nesterov_difference_form(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    rho = config["momentum"]
    v_prev = config.get("velocity", np.zeros_like(w))
    v = rho * v_prev - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v + rho * (v - v_prev), config


def momentum_new_config_dict(w, dw, config=None):
    config = dict(config or {})
    lr, rho = config.get("learning_rate", 1e-2), config.get("momentum", 0.9)
    velocity = rho * config.get("velocity", np.zeros_like(w)) - lr * dw
    config.update(learning_rate=lr, momentum=rho, velocity=velocity)
    return w + velocity, config


def nesterov_inplace_on_copies(w, dw, config=None):
    if config is None:
        config = {}
    lr = config.setdefault("learning_rate", 1e-2)
    mu = config.setdefault("momentum", 0.9)
    v_prev = np.copy(config.get("velocity", np.zeros_like(w)))
    v = v_prev * mu
    v -= lr * dw
    next_w = np.array(w, copy=True)
    next_w -= mu * v_prev
    next_w += (1 + mu) * v
    config["velocity"] = v
    return next_w, config


def momentum_config_not_returned(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config["momentum"] * config.get("velocity", np.zeros_like(w)) - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, None


def momentum_setdefault_not_written_back(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.setdefault("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    return w + v, config


def momentum_sign_and_dampened(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    mu = config["momentum"]
    v = mu * config.setdefault("velocity", np.zeros_like(w)) + (1 - mu) * config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def nesterov_sign_and_lr_hard_coded(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    mu = config["momentum"]
    v_prev = config.get("velocity", np.zeros_like(w))
    v = mu * v_prev - 1e-2 * dw
    config["velocity"] = v
    return w + mu * v_prev + (1 + mu) * v, config


M = Mistake
P = "property"
MISTAKES = [
    M("optim.sgd_momentum", "wrong momentum sign",
      "next_w = w - v: with v = rho*v - lr*dw the velocity already points downhill, so the update is w + v.",
      momentum_sign_flipped, P),
    M("optim.sgd_momentum", "velocity not stored in config",
      "Your rule behaves like plain SGD: the velocity is not read back from / stored in config['velocity'].",
      momentum_velocity_not_stored, P),
    M("optim.sgd_momentum", "velocity not read back from config",
      "The velocity is stored but every call starts again from zeros.", momentum_velocity_not_read, P),
    M("optim.sgd_momentum", "first momentum form stored",
      "The first form of the notes (v = rho*v + dw; w -= lr*v) stores a velocity in other units.",
      momentum_first_form_state, P),
    M("optim.sgd_momentum", "momentum hard-coded", "rho = 0.9 whatever config['momentum'] says.",
      momentum_hard_coded, P),
    M("optim.sgd_momentum", "velocity dampened by (1 - rho)",
      "v = rho*v - (1-rho)*lr*dw is an exponential average, not the lecture's momentum.", momentum_dampened, P),
    M("optim.sgd_momentum", "learning rate hard-coded", "lr = 1e-2 whatever config says.",
      momentum_lr_hard_coded, P),
    M("optim.sgd_momentum", "wrong default learning rate", "the default learning rate is 1e-2.",
      momentum_wrong_default_lr, P),
    M("optim.sgd_momentum", "config=None not handled", "config=None raises.", momentum_no_defaults, P),
    M("optim.sgd_momentum", "state stored under another key", "config['v'] instead of config['velocity'].",
      momentum_old_state_key, P),
    M("optim.nesterov_momentum", "plain momentum instead of Nesterov", "w + v is SGD+Momentum.",
      nesterov_plain_momentum, P),
    M("optim.nesterov_momentum", "plain momentum instead of Nesterov",
      "the correction uses the new v instead of v_prev (the notes' form without backing up v_prev).",
      nesterov_v_prev_not_saved, P, slug="nesterov_v_prev_not_saved"),
    M("optim.nesterov_momentum", "wrong sign of the look-ahead term", "-rho*v_prev, not +rho*v_prev.",
      nesterov_lookahead_sign, P),
    M("optim.nesterov_momentum", "missing (1 + rho) factor", "w - rho*v_prev + (1+rho)*v.",
      nesterov_missing_one_plus_rho, P),
    M("optim.nesterov_momentum", "look-ahead term -rho*v_prev missing", "returns x + rho*v, the look-ahead point.",
      nesterov_returns_lookahead_point, P),
    M("optim.nesterov_momentum", "momentum hard-coded", "rho = 0.9 whatever config says.", nesterov_hard_coded, P),
    M("optim.nesterov_momentum", "update goes uphill", "every sign flipped.", nesterov_uphill, P),
    M("optim.nesterov_momentum", "wrong default learning rate", "default 1e-3.", nesterov_wrong_default_lr, P),
    M("optim.nesterov_momentum", "state stored under another key", "config['v'].", nesterov_old_state_key, P),
    M("optim.nesterov_momentum", "learning rate hard-coded", "lr = 1e-2.", nesterov_lr_hard_coded, P),
    M("optim.sgd_momentum", "config not returned", "return next_w, None.", momentum_config_not_returned, P),
    M("optim.sgd_momentum", "velocity not stored in config",
      "v = config.setdefault('velocity', ...) and then v = ... is never written back.",
      momentum_setdefault_not_written_back, P, slug="momentum_setdefault_not_written_back"),
    M("optim.sgd_momentum", "wrong momentum sign", "v = rho*v + (1-rho)*lr*dw: sign and dampening.",
      momentum_sign_and_dampened, P, also=("velocity dampened by (1 - rho)",), slug="momentum_sign_and_dampened"),
    M("optim.nesterov_momentum", "wrong sign of the look-ahead term", "+rho*v_prev and lr = 1e-2 hard-coded.",
      nesterov_sign_and_lr_hard_coded, P, also=("learning rate hard-coded",),
      slug="nesterov_sign_and_lr_hard_coded"),
]

V = Variant
CORRECT = [
    V("optim.sgd_momentum", "setdefault, in-place updates on a copy", momentum_setdefault_inplace_safe),
    V("optim.sgd_momentum", "np.float64 hyper-parameters (float64 result)", momentum_float64_promotion,
      note="float64"),
    V("optim.nesterov_momentum", "w + v + rho*(v - v_prev)", nesterov_difference_form),
    V("optim.sgd_momentum", "a new config dict each call", momentum_new_config_dict),
    V("optim.nesterov_momentum", "in-place updates on copies", nesterov_inplace_on_copies),
]
