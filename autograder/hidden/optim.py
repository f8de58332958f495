"""Hidden checks for the update rules (instructor only; never in the release).

Per rule:
- a 40-step trajectory on a stored ill-conditioned quadratic with
  non-default hyper-parameters, against ``references/optim.npz``;
- fresh problems drawn from the grade seed (shape, w, dw, state and
  hyper-parameters random), compared with the reference solution live;
- where epsilon matters (AdaGrad, RMSProp, Adam): tiny gradients, ~1e-9.

- the state after single steps from random state, checked apart from
  ``next_w`` (a rule whose moments and counter are right keeps that share).

Messages say what was expected and what came back; naming the likely bug is
the diagnosis library's job (``cs231n_lec7/checks/diagnose/``), from
measured properties rather than from these hidden inputs.
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
from cs231n_lec7.checks.optim import RULES, state_mismatches, step_tol

REFERENCES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "references", "optim.npz")
NUM_STEPS = 40

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
    if tiny:  # fresh state, so the epsilon term is comparable to sqrt(cache); not the default epsilon
        for key in RULES[rule]["state"]:
            cfg.pop(key, None)
        cfg["epsilon"] = float(10 ** rng.uniform(-7.5, -6.5))
    return cfg


def _copy_config(cfg):
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in cfg.items()}


def _problem(ctx, rule, tiny=False, num_steps=3):
    """A fresh random problem from the grade seed: w, gradients, a config with state."""
    rng = ctx.rng
    shape = (int(rng.integers(2, 7)), int(rng.integers(2, 7)))
    w = rng.standard_normal(shape)
    scale = 1e-9 if tiny else 1.0
    grads = [rng.standard_normal(shape) * scale for _ in range(num_steps)]
    return w, grads, random_state(rule, rng, shape, tiny)


def run_fresh(ctx, rule, tiny=False, num_steps=3):
    """Fresh random problem: every step's next_w against the live reference (the state travels)."""
    exercise = f"optim.{rule}"
    w, grads, cfg = _problem(ctx, rule, tiny, num_steps)
    if rule in ("sgd_momentum", "nesterov_momentum"):
        # From fresh state: next_w is judged apart from the stored velocity's convention (the notes' first
        # form, v = rho*v + dw; w -= lr*v, traces the same path); "state after single steps" judges the velocity.
        cfg.pop("velocity")
    got_w, got_cfg = w.copy(), _copy_config(cfg)
    want_w, want_cfg = w.copy(), _copy_config(cfg)
    # ε-scale: a few times how far the reference itself moves when ε doubles. Adam's ordinary-gradient steps may differ
    # by that much (where ε sits relative to the bias correction); the tiny-gradient run judges ε exactly.
    eps_scale = not tiny and rule == "adam"
    if eps_scale:
        shifted_w, shifted_cfg = w.copy(), dict(_copy_config(cfg), epsilon=2 * cfg["epsilon"])
    for k, dw in enumerate(grads):
        with quiet_numerics():
            got_w, got_cfg = result_pair(f"{rule} at step {k + 1}", ctx.fn(exercise)(got_w, dw.copy(), got_cfg))
            want_w, want_cfg = ctx.ref(exercise)(want_w, dw.copy(), want_cfg)
            tol = STEP_TOL
            if eps_scale:
                shifted_w, shifted_cfg = ctx.ref(exercise)(shifted_w, dw.copy(), shifted_cfg)
                tol = max(step_tol(rule), 3.0 * rel_error(shifted_w, want_w))
        assert_close(f"{rule}: next_w at step {k + 1}", got_w, want_w, tol)
        assert_config_has(f"{rule} at step {k + 1}", got_cfg, RULES[rule]["state"])


def fresh_state(ctx, rule):
    """Single steps from random state: the stored state against the reference's, key by key."""
    exercise = f"optim.{rule}"
    wrong, total = [], 0
    for _ in range(3):
        w, (dw,), cfg = _problem(ctx, rule, num_steps=1)
        with quiet_numerics():
            _, got_cfg = result_pair(rule, ctx.fn(exercise)(w.copy(), dw.copy(), _copy_config(cfg)))
            _, want_cfg = ctx.ref(exercise)(w.copy(), dw.copy(), _copy_config(cfg))
        if not isinstance(got_cfg, dict):
            raise CheckFailure(f"{rule}: expected the returned config to be a dict")
        wrong += state_mismatches(rule, got_cfg, want_cfg, when="after a step from random state")
        total += len(RULES[rule]["state"])
    if wrong:
        more = f"\n(and {len(wrong) - 3} more)" if len(wrong) > 3 else ""
        raise CheckFailure(f"{rule}: " + "\n".join(wrong[:3]) + more, score=1.0 - len(wrong) / total)


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

    @check(exercise, name=f"{rule}: state after single steps from random state", hidden=True)
    def state(ctx):
        """The stored state (velocity, cache, moments, counter) on fresh problems, apart from next_w."""
        fresh_state(ctx, rule)

    if rule in ("adagrad", "rmsprop", "adam"):
        @check(exercise, name=f"{rule}: tiny gradients (epsilon placement)", hidden=True)
        def tiny(ctx):
            """Gradients ~1e-9: only sqrt(cache) + eps (eps outside the root) passes."""
            run_fresh(ctx, rule, tiny=True)


for _rule in RULES:
    _register(_rule)
