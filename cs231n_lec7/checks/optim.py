"""Visible checks for the update rules in ``cs231n_lec7/optim.py``.

One table (``RULES``) describes every rule: its hyper-parameters, its state
keys and how its state starts. The checks below run over that table:

- one step on fixed inputs with non-trivial state (CS231n style), its
  ``next_w`` and its state (key by key) checked apart, so a rule whose
  moments or counter are right keeps that share;
- five steps from a config without state: the state must travel through ``config``;
- ``config=None`` behaves like the documented defaults;
- AdaGrad, RMSProp, Adam: gradients ~1e-9 with a non-default epsilon, where
  epsilon's placement (outside the root) and its key matter;
- the arrays given to the rule are not modified; a float32 step has the right
  values (a float64 result only earns a note, DESIGN.md's dtype policy).

Failed checks do not guess at the cause: the properties in ``diagnose/optim.py``
name the likely bug from measured evidence.

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
    assert_dtype_kept,
    check,
    describe,
    quiet_numerics,
    rel_error,
    result_pair,
)

# rule -> (hyper-parameters used by the fixed-input step: not the defaults, so a hard-coded value shows;
#          state keys)
RULES = {
    "sgd_momentum": dict(hyper={"learning_rate": 1e-3, "momentum": 0.8}, state=("velocity",)),
    "nesterov_momentum": dict(hyper={"learning_rate": 1e-3, "momentum": 0.8}, state=("velocity",)),
    "adagrad": dict(hyper={"learning_rate": 2e-2}, state=("cache",)),
    "rmsprop": dict(hyper={"learning_rate": 2e-2}, state=("cache",)),
    "adam": dict(hyper={"learning_rate": 1e-2}, state=("m", "v", "t")),
}
N, D = 4, 5
# Adam's ordinary-gradient steps are compared at 1e-6: where ε sits relative to the bias correction (the
# paper's folded form adds ε to √v, not √v̂) moves a step by about ε/√v̂ ≈ 1e-8/1e-2 there, a right rule
# written the paper's way. ε's placement is judged where it matters, by the tiny-gradient checks.
EPS_SCALE_TOL = 1e-6


STATE_EVIDENCE = 1e-3  # a step this far off is no rounding or ε effect


def step_tol(rule: str) -> float:
    """Tolerance of next_w for gradients of ordinary size (not the tiny-gradient checks)."""
    return EPS_SCALE_TOL if rule == "adam" else STEP_TOL


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


TINY_EPSILON = 1e-7  # not the default, so a hard-coded epsilon shows
ADAPTIVE = ("adagrad", "rmsprop", "adam")


def tiny_problem(rule: str):
    """Gradients ~1e-9 from fresh state: sqrt(cache) and epsilon are of the same size."""
    w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
    dw = np.linspace(-3.0, 2.0, num=N * D).reshape(N, D) * 1e-9
    return w, dw, {"learning_rate": RULES[rule]["hyper"]["learning_rate"], "epsilon": TINY_EPSILON}


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
        if rule in ADAPTIVE:
            out[f"{rule}/tiny/next_w"] = ref(f"optim.{rule}")(*tiny_problem(rule))[0]
        w, config = run_steps(ref(f"optim.{rule}"), rule)
        out[f"{rule}/steps5/w"] = w
        for k in range(1, 6):
            out[f"{rule}/steps5/w{k}"] = run_steps(ref(f"optim.{rule}"), rule, num_steps=k)[0]
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
DEFAULTS = {
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "nesterov_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "adagrad": {"learning_rate": 1e-2, "epsilon": 1e-8},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
}


SHARED_DEFAULTS = "state kept between calls in a shared default dict"


def shared_defaults_message(rule, how, what):
    return (f"{rule}: a call with {how} after another one {what} — {SHARED_DEFAULTS}: the earlier call's "
            f"state leaked into it. Use `if config is None: config = {{}}` (never `config={{}}` as the default "
            f"argument, never a module-level dict) and copy the defaults into it")


def _raised_by_the_rule(err) -> bool:
    """An error of the student's rule itself (not a check failure, a stub, or the grader's worker)."""
    name = getattr(err, "type_name", type(err).__name__)
    return not (isinstance(err, CheckFailure) or name == "NotImplementedError" or name.startswith("Worker")
                or type(err).__name__.startswith("Worker"))


def one_step_right(ctx, rule) -> bool:
    """Whether one step from the fixed state gives the expected next_w and state."""
    w, dw, config = fixed_step_problem(rule)
    try:
        with quiet_numerics():
            next_w, config = result_pair(rule, ctx.fn(f"optim.{rule}")(w, dw, config))
            if rel_error(next_w, ctx.expected(f"optim/{rule}/step/next_w")) > step_tol(rule):
                return False
        want = {key: ctx.expected(f"optim/{rule}/step/{key}") for key in RULES[rule]["state"]}
        return isinstance(config, dict) and not state_mismatches(rule, config, want)
    except CheckFailure:
        return False


def state_mismatches(rule, config, want_state, tol=STEP_TOL, when="after one step") -> list:
    """Messages for each state key of ``config`` that differs from ``want_state`` (dict key -> value)."""
    wrong = []
    for key in RULES[rule]["state"]:
        want = want_state[key]
        if key not in config:
            wrong.append(f"config has no {key!r} {when} — store the state in config so the next call can use it")
        elif key == "t":
            if isinstance(config["t"], bool) or not isinstance(config["t"], (int, np.integer, float, np.floating)) \
                    or config["t"] != int(want):
                wrong.append(f"config['t'] should be {int(want)} {when}, got {config['t']!r} — {STATE_HINTS['t']}")
        else:
            try:
                assert_close(f"config[{key!r}] {when}", config[key], want, tol, STATE_HINTS[key])
            except CheckFailure as err:
                wrong.append(str(err))
    return wrong


def fail_state(rule, wrong, num_keys, kept=0.0):
    """Raise for wrong state keys; ``kept`` of the check was earned before, each right key keeps its share."""
    if wrong:
        raise CheckFailure(f"{rule}: " + "\n".join(wrong), score=kept + (1.0 - kept) * (1.0 - len(wrong) / num_keys))


def _register(rule: str):
    exercise = f"optim.{rule}"
    spec = RULES[rule]

    @check(exercise, name=f"{rule}: next_w after one step on fixed inputs")
    def one_step(ctx):
        """One update from a config with non-trivial state gives the expected next_w."""
        w, dw, config = fixed_step_problem(rule)
        with quiet_numerics():
            next_w, _ = result_pair(rule, ctx.fn(exercise)(w, dw, config))
        assert_close(f"{rule}: next_w", next_w, ctx.expected(f"optim/{rule}/step/next_w"), step_tol(rule))

    @check(exercise, name=f"{rule}: state after one step on fixed inputs")
    def one_step_state(ctx):
        """The state the rule stores (velocity, cache, moments, counter) after one step, key by key."""
        w, dw, config = fixed_step_problem(rule)
        with quiet_numerics():
            _, config = result_pair(rule, ctx.fn(exercise)(w, dw, config))
        if not isinstance(config, dict):
            raise CheckFailure(f"{rule}: expected the returned config to be a dict, got {describe(config)}")
        want = {key: ctx.expected(f"optim/{rule}/step/{key}") for key in spec["state"]}
        when = "after one step from t=5" if rule == "adam" else "after one step"
        fail_state(rule, state_mismatches(rule, config, want, when=when), len(spec["state"]))

    @check(exercise, name=f"{rule}: state carried through config over 5 steps")
    def five_steps(ctx):
        """Five updates from a config without state: state starts at zero and travels through config."""
        fn = ctx.fn(exercise)
        w = np.linspace(-0.5, 0.5, num=N * D).reshape(N, D)
        config = {"learning_rate": spec["hyper"]["learning_rate"]}
        with quiet_numerics():
            for k, dw in enumerate(gradient_sequence()):
                w, config = result_pair(f"{rule} at step {k + 1}", fn(w, dw, config))
                w = as_array(f"{rule}: next_w at step {k + 1}", w, shape=(N, D))
                assert_config_has(f"{rule} at step {k + 1}", config, spec["state"])
                want = ctx.expected(f"optim/{rule}/steps5/w{k + 1}")
                err = rel_error(w, want)
                if not err <= step_tol(rule):
                    break
        hint = ""
        # Single steps are right, consecutive ones far off (not by a rounding- or ε-sized amount): the state
        # does not travel. Only then is the state named.
        if k > 0 and err > STATE_EVIDENCE and one_step_right(ctx, rule):
            hint = (f"the first step and a single step from given state are right, but step {k + 1} is not: "
                    f"does your rule read its state back from config and store it again?")
        assert_close(f"{rule}: w after step {k + 1} of 5", w, want, step_tol(rule), hint)
        want_state = {key: ctx.expected(f"optim/{rule}/steps5/{key}") for key in spec["state"]}
        # The path (every w) was right: half the check; the stored state earns the other half.
        fail_state(rule, state_mismatches(rule, config, want_state, when="after 5 steps from config=None"),
                   len(spec["state"]), kept=0.5)

    if rule in ADAPTIVE:
        @check(exercise, name=f"{rule}: tiny gradients on fixed inputs (epsilon placement)", weight=0.5)
        def tiny(ctx):
            """Gradients ~1e-9 and epsilon = 1e-7: only sqrt(cache) + epsilon, epsilon read from config, passes."""
            w, dw, config = tiny_problem(rule)
            with quiet_numerics():
                next_w, _ = result_pair(rule, ctx.fn(exercise)(w, dw, config))
            assert_close(f"{rule}: next_w for gradients ~1e-9 and epsilon = {TINY_EPSILON:g}", next_w,
                         ctx.expected(f"optim/{rule}/tiny/next_w"), STEP_TOL)

    if rule in ADAPTIVE:
        @check(exercise, name=f"{rule}: tiny gradients, the step follows config['epsilon']", weight=0.5)
        def tiny_epsilon_scaling(ctx):
            """Gradients ~1e-12, where ε dominates √v: 100× the ε gives a 100× smaller step (ε outside the root)."""
            fn = ctx.fn(exercise)
            w, dw, config = tiny_problem(rule)
            steps = []
            for eps in (1e-6, 1e-4):
                with quiet_numerics():
                    next_w, _ = result_pair(rule, fn(w.copy(), dw * 1e-3, dict(config, epsilon=eps)))
                steps.append(as_array(f"{rule}: next_w", next_w, shape=w.shape).astype(np.float64) - w)
            with quiet_numerics():
                ratio = float(np.linalg.norm(steps[0]) / np.linalg.norm(steps[1]))
            if not abs(ratio - 100.0) <= 5.0:
                why = (" — config['epsilon'] ignored (hard-coded, or read from another key)" if abs(ratio - 1) < 0.05
                       else " — epsilon inside the square root gives 10×" if abs(ratio - 10) < 0.5 else "")
                raise CheckFailure(f"{rule}: with gradients ~1e-12, epsilon = 1e-6 should give a step 100× that of "
                                   f"epsilon = 1e-4 (the step is about lr * dw / eps there), got {ratio:.3g}×{why}")

    @check(exercise, name=f"{rule}: defaults from config=None", weight=0.5)
    def defaults(ctx):
        """config=None steps exactly like the documented defaults spelled out."""
        w, dw, _ = fixed_step_problem(rule)
        fn = ctx.fn(exercise)
        with quiet_numerics():
            explicit, _ = result_pair(rule, fn(w.copy(), dw.copy(), dict(DEFAULTS[rule])))
            from_none, _ = result_pair(f"{rule} with config=None", fn(w.copy(), dw.copy(), None))
        documented = ", ".join(f"{k}={v:g}" for k, v in DEFAULTS[rule].items())
        assert_close(f"{rule}: next_w with config=None", from_none, as_array(f"{rule}: next_w", explicit,
                                                                              shape=w.shape), STEP_TOL,
                     f"with config=None a rule uses the documented defaults ({documented})")

    @check(exercise, name=f"{rule}: config=None calls are independent", weight=0.5)
    def independent_calls(ctx):
        """Calls with config=None (or no config) are each a first step, whatever was called before.

        The repeated call is on a (1, 1) array, which broadcasts with state leaked from any earlier call.
        A rule whose every call with config=None raises is left to the defaults check.
        """
        fn = ctx.fn(exercise)
        w, dw = fixed_step_problem(rule)[:2]
        w1, dw1 = np.full((1, 1), 0.3), np.full((1, 1), -0.7)
        for how, call in (("config=None", lambda w, dw: fn(w, dw, None)), ("no config", lambda w, dw: fn(w, dw))):
            with quiet_numerics():
                try:
                    call(w.copy(), dw.copy())  # may fail on state leaked by earlier calls: the next ones show it
                except Exception as err:
                    if not _raised_by_the_rule(err):
                        raise
                try:
                    first, _ = result_pair(f"{rule} with {how}", call(w1.copy(), dw1.copy()))
                    again, _ = result_pair(f"{rule} with {how}", call(w1.copy(), dw1.copy()))
                except Exception as err:
                    if not _raised_by_the_rule(err):
                        raise
                    continue
            first, again = np.asarray(first), np.asarray(again)
            if first.shape != w1.shape or again.shape != w1.shape:
                shape = (first if first.shape != w1.shape else again).shape
                raise CheckFailure(shared_defaults_message(rule, how, f"returned shape {shape} for a (1, 1) w"))
            if np.all(np.isfinite(first)) and not rel_error(again, first) <= STEP_TOL:
                raise CheckFailure(shared_defaults_message(rule, how, "stepped differently from the same call "
                                                                      "just before"))

    @check(exercise, name=f"{rule}: inputs untouched", weight=0.5)
    def inputs_untouched(ctx):
        """The rule returns a new array and leaves the arrays w and dw it was given alone."""
        w, dw, _ = fixed_step_problem(rule)
        w32, dw32 = w.astype(np.float32), dw.astype(np.float32)
        w_copy, dw_copy = w32.copy(), dw32.copy()
        with quiet_numerics():
            result_pair(rule, ctx.fn(exercise)(w32, dw32, dict(spec["hyper"])))
        if not np.array_equal(w32, w_copy):
            raise CheckFailure(f"{rule}: the rule changed the array w it was given — "
                               f"compute next_w as a new array (avoid `w -= ...`)")
        if not np.array_equal(dw32, dw_copy):
            raise CheckFailure(f"{rule}: the rule changed the gradient array dw it was given")

    @check(exercise, name=f"{rule}: float32 step", weight=0.5)
    def float32_step(ctx):
        """A float32 step has the right values; float32 should stay float32 (float64 only earns a note)."""
        w, dw, _ = fixed_step_problem(rule)
        w32, dw32 = w.astype(np.float32), dw.astype(np.float32)
        with quiet_numerics():
            next_w, _ = result_pair(rule, ctx.fn(exercise)(w32, dw32, dict(spec["hyper"])))
        assert_close(f"{rule}: next_w for a float32 w", next_w, ctx.expected(f"optim/{rule}/step32/next_w"),
                     FLOAT32_TOL)
        assert_dtype_kept(ctx, f"{rule}: next_w for a float32 w", next_w, np.float32, right=True)  # compared above


for _rule in RULES:
    _register(_rule)
