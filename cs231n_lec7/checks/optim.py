"""Visible checks for the update rules in ``cs231n_lec7/optim.py``.

One table (``RULES``) describes every rule: its hyper-parameters, its state
keys and how its state starts. The checks below run over that table:

- one step on fixed inputs with non-trivial state (CS231n style);
- five steps from ``config=None``: the state must travel through ``config``;
- the arrays given to the rule are not modified, and float32 stays float32.

Expected values are stored in ``expected/optim.npz``.
"""
from __future__ import annotations

import numpy as np

from .core import (
    FLOAT32_TOL,
    STEP_TOL,
    CheckFailure,
    as_array,
    assert_close,
    assert_config_has,
    check,
    quiet_numerics,
    result_pair,
)

# rule -> (hyper-parameters used by the fixed-input step, state keys, notebook)
RULES = {
    "sgd_momentum": dict(hyper={"learning_rate": 1e-3}, state=("velocity",)),
    "nesterov_momentum": dict(hyper={"learning_rate": 1e-3}, state=("velocity",)),
    "adagrad": dict(hyper={"learning_rate": 1e-2}, state=("cache",)),
    "rmsprop": dict(hyper={"learning_rate": 1e-2}, state=("cache",)),
    "adam": dict(hyper={"learning_rate": 1e-2}, state=("m", "v", "t")),
}
N, D = 4, 5


def fixed_step_problem(rule: str):
    """CS231n-style fixed inputs: w, dw and a config with non-trivial state."""
    w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
    dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D)
    config = dict(RULES[rule]["hyper"])
    if rule in ("sgd_momentum", "nesterov_momentum"):
        config["velocity"] = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    elif rule in ("adagrad", "rmsprop"):
        config["cache"] = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    else:
        config["m"] = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
        config["v"] = np.linspace(0.7, 0.5, num=N * D).reshape(N, D)
        config["t"] = 5
    return w, dw, config


def gradient_sequence(num_steps: int = 5):
    """Fixed gradients for a short run from config=None."""
    base = np.linspace(-1.0, 1.0, num=N * D).reshape(N, D)
    return [np.cos(3.0 * (k + 1) * base) * (k + 1) for k in range(num_steps)]


def run_steps(rule_fn, rule: str, num_steps: int = 5):
    """Run ``num_steps`` updates from ``config=None`` (learning rate given)."""
    w = np.linspace(-0.5, 0.5, num=N * D).reshape(N, D)
    config = {"learning_rate": RULES[rule]["hyper"]["learning_rate"]}
    for k, dw in enumerate(gradient_sequence(num_steps)):
        w, config = result_pair(f"{rule} at step {k + 1}", rule_fn(w, dw, config))
        w = as_array(f"{rule}: next_w at step {k + 1}", w, shape=(N, D))
        assert_config_has(f"{rule} at step {k + 1}", config, RULES[rule]["state"])
    return w, config


def make_expected(ref) -> dict:
    """Expected values of every visible optim check, computed with ``ref``."""
    out = {}
    for rule, spec in RULES.items():
        w, dw, config = fixed_step_problem(rule)
        next_w, config = ref(f"optim.{rule}")(w, dw, config)
        out[f"{rule}/step/next_w"] = next_w
        for key in spec["state"]:
            out[f"{rule}/step/{key}"] = np.asarray(config[key])
        w, dw, _ = fixed_step_problem(rule)
        next_w, _ = ref(f"optim.{rule}")(w.astype(np.float32), dw.astype(np.float32), dict(spec["hyper"]))
        out[f"{rule}/step32/next_w"] = next_w
        w, config = run_steps(ref(f"optim.{rule}"), rule)
        out[f"{rule}/steps5/w"] = w
        for key in spec["state"]:
            out[f"{rule}/steps5/{key}"] = np.asarray(config[key])
    return out


STATE_HINTS = {
    "t": "t counts steps: increment it once per call, before using it",
    "velocity": "the velocity is v = rho * v - learning_rate * dw",
    "cache": "check how the cache accumulates squared gradients",
    "m": "m is the moving average of gradients",
    "v": "v is the moving average of squared gradients",
}


def _register(rule: str):
    exercise = f"optim.{rule}"
    spec = RULES[rule]

    @check(exercise, name=f"{rule}: one step on fixed inputs")
    def one_step(ctx):
        """One update from a config with non-trivial state matches the expected values."""
        w, dw, config = fixed_step_problem(rule)
        with quiet_numerics():
            next_w, config = result_pair(rule, ctx.fn(exercise)(w, dw, config))
        assert_close(f"{rule}: next_w", next_w, ctx.expected(f"optim/{rule}/step/next_w"), STEP_TOL)
        assert_config_has(rule, config, spec["state"])
        for key in spec["state"]:
            want = ctx.expected(f"optim/{rule}/step/{key}")
            if key == "t":
                if config["t"] != int(want):
                    raise CheckFailure(
                        f"{rule}: config['t'] should be {int(want)} after one step from t=5, "
                        f"got {config['t']!r} — {STATE_HINTS['t']}"
                    )
                continue
            assert_close(f"{rule}: config[{key!r}]", config[key], want, STEP_TOL, STATE_HINTS[key])

    @check(exercise, name=f"{rule}: state carried through config over 5 steps")
    def five_steps(ctx):
        """Five updates from config=None: state starts at zero and travels through config."""
        with quiet_numerics():
            w, config = run_steps(ctx.fn(exercise), rule)
        assert_close(f"{rule}: w after 5 steps", w, ctx.expected(f"optim/{rule}/steps5/w"), STEP_TOL,
                     "does your rule read its state back from config and store it again?")
        for key in spec["state"]:
            want = ctx.expected(f"optim/{rule}/steps5/{key}")
            if key == "t":
                if config["t"] != int(want):
                    raise CheckFailure(f"{rule}: config['t'] should be {int(want)} after 5 steps "
                                       f"from config=None, got {config['t']!r}")
                continue
            assert_close(f"{rule}: config[{key!r}] after 5 steps", config[key], want, STEP_TOL)

    @check(exercise, name=f"{rule}: float32 step, inputs untouched")
    def inputs_untouched(ctx):
        """The rule returns a new array, leaves w and dw alone, and keeps w's dtype."""
        w, dw, _ = fixed_step_problem(rule)
        w32, dw32 = w.astype(np.float32), dw.astype(np.float32)
        w_copy, dw_copy = w32.copy(), dw32.copy()
        with quiet_numerics():
            next_w, _ = result_pair(rule, ctx.fn(exercise)(w32, dw32, dict(spec["hyper"])))
        if not np.array_equal(w32, w_copy):
            raise CheckFailure(f"{rule}: the rule changed the array w it was given — "
                               f"compute next_w as a new array (avoid `w -= ...`)")
        if not np.array_equal(dw32, dw_copy):
            raise CheckFailure(f"{rule}: the rule changed the gradient array dw it was given")
        as_array(f"{rule}: next_w for a float32 w", next_w, shape=w32.shape, dtype=np.float32)
        assert_close(f"{rule}: next_w for a float32 w", next_w, ctx.expected(f"optim/{rule}/step32/next_w"),
                     FLOAT32_TOL)


for _rule in RULES:
    _register(_rule)
