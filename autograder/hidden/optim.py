"""Hidden checks for the update rules (instructor only; never in the release).

Per rule:
- a 40-step trajectory on a stored ill-conditioned quadratic with
  non-default hyper-parameters, against ``references/optim.npz``;
- fresh problems drawn from the grade seed (shape, w, dw, state and
  hyper-parameters random), compared with the reference solution live;
- where epsilon matters (AdaGrad, RMSProp, Adam): tiny gradients, ~1e-9.

A failed step is blamed on epsilon's placement only when the student's
``next_w`` matches the known "epsilon inside the square root" rule of
``autograder/mistakes.py`` run on the same inputs (and not the reference);
any other wrong answer gets the plain expected-vs-got message.
"""
from __future__ import annotations

import os

import numpy as np

from cs231n_lec7.checks.core import (
    STEP_TOL,
    TRAJECTORY_TOL,
    CheckFailure,
    as_array,
    assert_close,
    assert_config_has,
    check,
    load_arrays,
    quiet_numerics,
    rel_error,
    result_pair,
)
from cs231n_lec7.checks.optim import RULES

from ..mistakes import MISTAKES

REFERENCES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "references", "optim.npz")
NUM_STEPS = 40
EPS_INSIDE = "epsilon inside the square root"
# rule -> the known wrong rule sqrt(cache + eps) (AdaGrad, RMSProp, Adam)
EPS_INSIDE_VARIANTS = {m.exercise.split(".")[1]: m for m in MISTAKES if m.title == EPS_INSIDE}

# Non-default hyper-parameters for the stored trajectories.
TRAJECTORY_HYPER = {
    "sgd_momentum": {"learning_rate": 0.02, "momentum": 0.75},
    "nesterov_momentum": {"learning_rate": 0.02, "momentum": 0.8},
    "adagrad": {"learning_rate": 0.3, "epsilon": 1e-6},
    "rmsprop": {"learning_rate": 0.01, "decay_rate": 0.9, "epsilon": 1e-7},
    "adam": {"learning_rate": 0.05, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-7},
}


def quadratic_problem():
    """The stored problem: f(x) = 0.5 x^T A x - b^T x with condition number 50, x in R^6."""
    rng = np.random.default_rng(7)
    q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    a = q @ np.diag(np.geomspace(1.0, 50.0, 6)) @ q.T
    b = rng.standard_normal(6)
    x0 = rng.standard_normal(6) * 2.0
    return a, b, x0


def trajectory(rule_fn, rule, a, b, x0, num_steps=NUM_STEPS):
    """Iterates x_0..x_T of ``rule`` on the quadratic (gradient A x - b)."""
    x = x0.copy()
    config = dict(TRAJECTORY_HYPER[rule])
    xs = [x]
    for k in range(num_steps):
        x, config = result_pair(f"{rule} at step {k + 1}", rule_fn(x, a @ x - b, config))
        x = as_array(f"{rule}: next_w at step {k + 1}", x, shape=x0.shape)
        xs.append(x)
    return np.array(xs)


def make_references(ref) -> dict:
    a, b, x0 = quadratic_problem()
    out = {"A": a, "b": b, "x0": x0}
    for rule in RULES:
        out[f"{rule}/trajectory"] = trajectory(ref(f"optim.{rule}"), rule, a, b, x0)
    return out


def load_references():
    return load_arrays(REFERENCES)


def compare_trajectory(label, got, want, tol=TRAJECTORY_TOL):
    """Fail with the first step where ``got`` departs from ``want``."""
    for k in range(len(want)):
        with quiet_numerics():
            err = rel_error(got[k], want[k]) if np.all(np.isfinite(got[k])) else np.inf
        if not err <= tol:
            raise CheckFailure(
                f"{label}: the trajectory departs from the reference at step {k} "
                f"(relative error {err:.3g} > {tol:.0e}); expected x = {np.round(want[k][:3], 6)}..., "
                f"got {np.round(got[k][:3], 6)}...",
                score=max(0, k - 1) / (len(want) - 1) * 0.5,
            )


def random_state(rule, rng, shape, tiny=False):
    """A random non-default config with non-trivial state for ``rule``."""
    cfg = {}
    if rule in ("sgd_momentum", "nesterov_momentum"):
        cfg = {"learning_rate": float(rng.uniform(1e-3, 1e-1)), "momentum": float(rng.uniform(0.5, 0.99)),
               "velocity": rng.standard_normal(shape) * 0.1}
    elif rule == "adagrad":
        cfg = {"learning_rate": float(rng.uniform(1e-3, 1e-1)), "epsilon": float(10 ** rng.uniform(-8, -5)),
               "cache": rng.uniform(0.1, 2.0, shape)}
    elif rule == "rmsprop":
        cfg = {"learning_rate": float(rng.uniform(1e-3, 1e-1)), "decay_rate": float(rng.uniform(0.8, 0.95)),
               "epsilon": float(10 ** rng.uniform(-8, -5)), "cache": rng.uniform(0.1, 2.0, shape)}
    elif rule == "adam":
        cfg = {"learning_rate": float(rng.uniform(1e-3, 1e-1)), "beta1": float(rng.uniform(0.5, 0.85)),
               "beta2": float(rng.uniform(0.9, 0.99)), "epsilon": float(10 ** rng.uniform(-8, -5)),
               "m": rng.standard_normal(shape) * 0.1, "v": rng.uniform(0.01, 1.0, shape),
               "t": int(rng.integers(1, 20))}
    if tiny:  # fresh state, so the epsilon term is comparable to sqrt(cache)
        for key in RULES[rule]["state"]:
            cfg.pop(key, None)
        cfg["epsilon"] = 1e-8
    return cfg


def _copy_config(cfg):
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in cfg.items()}


def _close(got, want, tol=STEP_TOL) -> bool:
    """Whether ``got`` is an array of ``want``'s shape within ``tol`` (never raises)."""
    try:
        got = np.asarray(got, dtype=np.float64)
        with quiet_numerics():
            return got.shape == np.shape(want) and bool(np.all(np.isfinite(got))) and rel_error(got, want) <= tol
    except (TypeError, ValueError):
        return False


def run_fresh(ctx, rule, tiny=False, num_steps=3):
    """Fresh random problem: compare every step's w and state with the live reference."""
    exercise = f"optim.{rule}"
    rng = ctx.rng
    shape = (int(rng.integers(2, 7)), int(rng.integers(2, 7)))
    w = rng.standard_normal(shape)
    scale = 1e-9 if tiny else 1.0
    grads = [rng.standard_normal(shape) * scale for _ in range(num_steps)]
    cfg = random_state(rule, rng, shape, tiny)
    got_w, got_cfg = w.copy(), _copy_config(cfg)
    want_w, want_cfg = w.copy(), _copy_config(cfg)
    variant = EPS_INSIDE_VARIANTS.get(rule)
    var_w, var_cfg = w.copy(), _copy_config(cfg)
    for k, dw in enumerate(grads):
        with quiet_numerics():
            got_w, got_cfg = result_pair(f"{rule} at step {k + 1}", ctx.fn(exercise)(got_w, dw.copy(), got_cfg))
            want_w, want_cfg = ctx.ref(exercise)(want_w, dw.copy(), want_cfg)
            if variant is not None:
                var_w, var_cfg = variant.fn(var_w, dw.copy(), var_cfg)
        hint = ""
        if variant is not None and _close(got_w, var_w) and not _close(got_w, want_w):
            hint = f"likely bug: {variant.title}. {variant.explanation}"
        assert_close(f"{rule}: next_w at step {k + 1}", got_w, want_w, STEP_TOL, hint)
        assert_config_has(f"{rule} at step {k + 1}", got_cfg, RULES[rule]["state"])
        for key in RULES[rule]["state"]:
            if key == "t":
                if got_cfg["t"] != want_cfg["t"]:
                    raise CheckFailure(f"{rule}: config['t'] is {got_cfg['t']!r} after step {k + 1}, "
                                       f"expected {want_cfg['t']}")
                continue
            assert_close(f"{rule}: config[{key!r}] at step {k + 1}", got_cfg[key], want_cfg[key], STEP_TOL)
        got_cfg = {k2: got_cfg[k2] for k2 in got_cfg}  # keep the student's state for the next step


def _register(rule):
    exercise = f"optim.{rule}"

    @check(exercise, name=f"{rule}: {NUM_STEPS}-step trajectory, non-default hyper-parameters", hidden=True,
           weight=2.0)
    def stored_trajectory(ctx):
        """Matches the stored reference trajectory on an ill-conditioned quadratic."""
        refs = load_references()
        with quiet_numerics():
            got = trajectory(ctx.fn(exercise), rule, refs["A"], refs["b"], refs["x0"])
        compare_trajectory(rule, got, refs[f"{rule}/trajectory"])

    @check(exercise, name=f"{rule}: fresh random problems with state", hidden=True, weight=2.0)
    def fresh(ctx):
        """Random shapes, state and hyper-parameters from the grade seed; three steps."""
        for _ in range(3):
            run_fresh(ctx, rule)

    if rule in ("adagrad", "rmsprop", "adam"):
        @check(exercise, name=f"{rule}: tiny gradients (epsilon placement)", hidden=True)
        def tiny(ctx):
            """Gradients ~1e-9: only sqrt(cache) + eps (eps outside the root) passes."""
            run_fresh(ctx, rule, tiny=True)


for _rule in RULES:
    _register(_rule)
