"""Known mistakes in the learning-rate schedules (see ``autograder/mistakes/__init__.py``).

Each wrong implementation keeps the exercise's signature and the given
validation/return conventions (a float for a scalar step), so it differs from
the solution only in the formula.
"""
from __future__ import annotations

import numpy as np

from autograder.mistakes import Mistake


def _steps(step):
    return np.asarray(step, dtype=np.float64)


def _out(lr, step):
    lr = np.asarray(lr, dtype=np.float64)
    return float(lr) if np.ndim(step) == 0 else np.broadcast_to(lr, np.shape(step)).copy()


# ----------------------------------------------------------- step decay
def step_decay_off_by_one(step, initial_lr, decay_rate=0.1, decay_every=30):
    t = _steps(step)
    return _out(initial_lr * decay_rate ** np.floor((t + 1) / decay_every), step)


def step_decay_ceil(step, initial_lr, decay_rate=0.1, decay_every=30):
    t = _steps(step)
    return _out(initial_lr * decay_rate ** np.ceil(t / decay_every), step)


def step_decay_no_floor(step, initial_lr, decay_rate=0.1, decay_every=30):
    t = _steps(step)
    return _out(initial_lr * decay_rate ** (t / decay_every), step)


def step_decay_multiplied(step, initial_lr, decay_rate=0.1, decay_every=30):
    t = _steps(step)
    n = np.floor(t / decay_every)
    return _out(np.where(n > 0, initial_lr * decay_rate * n, initial_lr), step)


# ---------------------------------------------------- exponential decay
def exponential_decay_sign(step, initial_lr, k):
    t = _steps(step)
    return _out(initial_lr * np.exp(k * t), step)


def exponential_decay_linear(step, initial_lr, k):
    t = _steps(step)
    return _out(initial_lr * (1.0 - k * t), step)


def exponential_decay_power_of_k(step, initial_lr, k):
    t = _steps(step)
    return _out(initial_lr * k**t, step)


def exponential_decay_off_by_one(step, initial_lr, k):
    t = _steps(step)
    return _out(initial_lr * np.exp(-k * (t + 1)), step)


def exponential_decay_math_exp(step, initial_lr, k):
    import math
    return initial_lr * math.exp(-k * step)


# ------------------------------------------------------------ 1/t decay
def inverse_time_no_one(step, initial_lr, k):
    t = _steps(step)
    with np.errstate(divide="ignore"):
        return _out(initial_lr / (k * t), step)


def inverse_time_precedence(step, initial_lr, k):
    t = _steps(step)
    return _out(initial_lr / (1.0 + k) * t, step)


def inverse_time_precedence_plus(step, initial_lr, k):
    t = _steps(step)
    return _out(initial_lr / 1 + k * t, step)


def inverse_time_sqrt(step, initial_lr, k):
    t = _steps(step)
    return _out(initial_lr / np.sqrt(1.0 + k * t), step)


M = Mistake
MISTAKES = [
    M("schedules.step_decay", "step decay off by one",
      "The first decay must happen AT t = decay_every, not one step earlier: use floor(t / decay_every), "
      "not floor((t + 1) / decay_every).", step_decay_off_by_one),
    M("schedules.step_decay", "ceil instead of floor",
      "ceil(t / decay_every) decays right after step 0; steps 0..decay_every-1 must keep alpha_0: use floor.",
      step_decay_ceil),
    M("schedules.step_decay", "step decay without floor",
      "Without the floor, decay_rate ** (t / decay_every) is a smooth exponential decay, not steps.",
      step_decay_no_floor),
    M("schedules.step_decay", "decay_rate multiplied instead of raised to a power",
      "After n decay points the rate is alpha_0 * decay_rate ** n, not alpha_0 * decay_rate * n.",
      step_decay_multiplied),
    M("schedules.exponential_decay", "exp(+kt): the rate grows",
      "The exponent is negative: alpha_0 * exp(-k t). With exp(+k t) the learning rate explodes.",
      exponential_decay_sign),
    M("schedules.exponential_decay", "exp missing: linear decay",
      "alpha_0 * (1 - k t) is only the first-order approximation and turns negative; use alpha_0 * exp(-k t).",
      exponential_decay_linear),
    M("schedules.exponential_decay", "k used as the per-step factor",
      "k is the decay constant in the exponent: alpha_0 * exp(-k t), not alpha_0 * k ** t.",
      exponential_decay_power_of_k),
    M("schedules.exponential_decay", "exponent off by one: exp(-k (t + 1))",
      "At t = 0 the rate must be alpha_0: the exponent is -k t, not -k (t + 1).", exponential_decay_off_by_one),
    M("schedules.exponential_decay", "math.exp on an array of steps",
      "math.exp takes one number; np.exp works on arrays of steps too.", exponential_decay_math_exp,
      detect="check"),
    M("schedules.inverse_time_decay", "operator precedence: alpha_0/1 + k*t",
      "alpha_0 / 1 + k * t divides by 1 and then adds k t; put the whole denominator in parentheses: "
      "alpha_0 / (1 + k * t).", inverse_time_precedence_plus),
    M("schedules.inverse_time_decay", "1/(kt) without the 1 +",
      "alpha_0 / (k t) is infinite at t = 0; the schedule is alpha_0 / (1 + k t).", inverse_time_no_one),
    M("schedules.inverse_time_decay", "operator precedence: alpha_0/(1+k)*t",
      "alpha_0 / (1 + k) * t multiplies by t; put the whole denominator in parentheses: alpha_0 / (1 + k * t).",
      inverse_time_precedence),
    M("schedules.inverse_time_decay", "1/sqrt(t) instead of 1/t",
      "This is 1/sqrt(t) decay; the lecture's 1/t schedule is alpha_0 / (1 + k t) with no square root.",
      inverse_time_sqrt),
]


# ---------------------------------------------------------------- probes
def _probe_step_decay(fn):
    steps = np.arange(0, 50)
    return [np.asarray(fn(steps.copy(), 0.1, 0.5, 7), dtype=np.float64),
            np.asarray(fn(steps.copy(), 1.0, 0.3, 1), dtype=np.float64),
            np.asarray(fn(12, 0.2, 0.25, 6), dtype=np.float64)]


def _probe_decay_k(fn):
    steps = np.arange(0, 50)
    return [np.asarray(fn(steps.copy(), 0.1, 0.05), dtype=np.float64),
            np.asarray(fn(steps.copy(), 1.0, 0.5), dtype=np.float64),
            np.asarray(fn(3, 0.2, 0.1), dtype=np.float64)]


PROBES = {
    "schedules.step_decay": _probe_step_decay,
    "schedules.exponential_decay": _probe_decay_k,
    "schedules.inverse_time_decay": _probe_decay_k,
}
