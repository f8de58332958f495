"""Visible checks for the learning-rate schedules in ``cs231n_lec7/schedules.py``.

One table (``SCHEDULES``) describes the three graded schedules: their
hyper-parameters on the fixed problem and the property that pins the formula
down independently of stored numbers:

- step decay: constant between decay points, times decay_rate exactly at
  t = decay_every, 2 decay_every, ...;
- exponential decay: alpha_{t+1} / alpha_t = exp(-k) at every step;
- 1/t decay: 1 / alpha_t grows linearly, by k / alpha_0 per step.

Per schedule: values on a fixed vector of steps and on scalar steps (stored in
``expected/schedules.npz``), the array shape is kept, and the property holds.
"""
from __future__ import annotations

import numpy as np

from .core import STEP_TOL, CheckFailure, as_array, assert_close, check, quiet_numerics

SCHEDULES = {
    "step_decay": dict(hyper=dict(initial_lr=0.1, decay_rate=0.5, decay_every=10)),
    "exponential_decay": dict(hyper=dict(initial_lr=0.1, k=0.05)),
    "inverse_time_decay": dict(hyper=dict(initial_lr=0.1, k=0.2)),
}
FIXED_STEPS = np.arange(0, 61)
SCALAR_STEPS = (0, 1, 9, 10, 11, 30, 59)

HINTS = {  # what the result must satisfy, not the formula (that is the exercise: notebook 04)
    "step_decay": "steps 0..decay_every-1 keep alpha_0; the rate drops by decay_rate AT each multiple of "
                  "decay_every and stays constant in between",
    "exponential_decay": "alpha_0 at t = 0, then the rate falls by the same factor exp(-k) at every step",
    "inverse_time_decay": "alpha_0 at t = 0, half of it at t = 1/k: 1/alpha_t grows linearly in t",
}

MATH_ON_ARRAYS = "math.exp on an array of steps"


def scalar_value(label, got):
    """A scalar step must give a real number (float or numpy scalar); return it as float."""
    if isinstance(got, np.ndarray) and got.ndim == 0:
        got = got[()]
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.integer, np.floating)):
        raise CheckFailure(f"{label}: expected a float for a scalar step, got {type(got).__name__} "
                           f"{got!r} — keep the given `return _as_output(lr, step)`")
    return float(got)


def make_expected(ref) -> dict:
    out = {}
    for name, spec in SCHEDULES.items():
        fn = ref(f"schedules.{name}")
        out[f"{name}/fixed"] = np.asarray(fn(FIXED_STEPS.copy(), **spec["hyper"]))
        out[f"{name}/scalars"] = np.array([float(fn(int(t), **spec["hyper"])) for t in SCALAR_STEPS])
    return out


def check_property(name, lr, hyper, steps=None):
    """Fail with a message naming the likely mistake unless ``lr`` has the schedule's defining property.

    ``lr`` are the values at consecutive integer steps ``steps`` (default 0, 1, 2, ...).
    """
    lr = np.asarray(lr, dtype=np.float64).ravel()
    t = np.arange(lr.size, dtype=np.float64) if steps is None else np.asarray(steps, dtype=np.float64).ravel()
    a0 = hyper["initial_lr"]
    if not np.all(np.isfinite(lr)):
        bad = int(np.flatnonzero(~np.isfinite(lr))[0])
        raise CheckFailure(f"{name}: non-finite learning rate {lr[bad]} at step t = {t[bad]:g}"
                           + (" — dividing by k*t instead of (1 + k*t)?" if name == "inverse_time_decay" else ""))
    if t[0] == 0 and abs(lr[0] - a0) > 1e-12 * abs(a0):
        raise CheckFailure(f"{name}: at t = 0 the learning rate should be alpha_0 = {a0:g}, got {lr[0]:.8g} "
                           f"— {HINTS[name]}")
    if name == "step_decay":
        want = a0 * hyper["decay_rate"] ** np.floor(t / hyper["decay_every"])
        wrong = np.flatnonzero(np.abs(lr - want) > 1e-9 * np.abs(want))
        if wrong.size:
            i = int(wrong[0])
            k = int(np.floor(t[i] / hyper["decay_every"]))
            raise CheckFailure(
                f"{name}: at t = {t[i]:g} (decay_every = {hyper['decay_every']}) the rate should have been "
                f"multiplied by decay_rate {k} time(s): expected {want[i]:.8g}, got {lr[i]:.8g} — "
                + ("decay applied one step early (off by one in the floor)?"
                   if i + 1 < lr.size and abs(lr[i] - want[i + 1]) <= 1e-9 * abs(want[i + 1])
                   else HINTS[name]))
    elif name == "exponential_decay":
        with quiet_numerics():
            ratio = lr[1:] / lr[:-1]
        want = np.exp(-hyper["k"] * np.diff(t))
        i = int(np.argmax(np.abs(ratio - want)))
        if not np.abs(ratio[i] - want[i]) <= 1e-9 * want[i]:
            sign = " — exp(+k t) makes the rate grow" if ratio[i] > 1 else ""
            raise CheckFailure(f"{name}: alpha_(t+1) / alpha_t should be exp(-k) = {want[i]:.8g} at every "
                               f"step, got {ratio[i]:.8g} at t = {t[i]:g}{sign or ' — ' + HINTS[name]}")
    elif name == "inverse_time_decay":
        with quiet_numerics():
            inv = 1.0 / lr
        want = (1.0 + hyper["k"] * t) / a0
        i = int(np.argmax(np.abs(inv - want) / want))
        if not np.abs(inv[i] - want[i]) <= 1e-9 * want[i]:
            raise CheckFailure(f"{name}: 1 / alpha_t should grow linearly as (1 + k t) / alpha_0 = {want[i]:.8g} "
                               f"at t = {t[i]:g}, got {inv[i]:.8g} — {HINTS[name]}")


def curve_on_fixed_steps(ctx, exercise, name, hyper):
    """The student's schedule on steps 0..60 in one vectorized call, as an array of that shape.

    A TypeError there while a scalar step works is the math-module mistake, named in plain words.
    """
    with quiet_numerics():
        try:
            got = ctx.fn(exercise)(FIXED_STEPS.copy(), **hyper)
        except Exception as err:
            if getattr(err, "type_name", type(err).__name__) != "TypeError":
                raise
            scalar_value(f"{name}(1, ...)", ctx.fn(exercise)(1, **hyper))  # scalars work?
            raise CheckFailure(f"{name}: a scalar step works but an array of steps raised TypeError — "
                               f"{MATH_ON_ARRAYS}: the math module's functions take one number; use np.exp "
                               f"(NumPy's functions) so arrays of steps work") from None
    return as_array(f"{name}(np.arange(61), ...)", got, shape=FIXED_STEPS.shape)


def _register(name):
    exercise = f"schedules.{name}"
    spec = SCHEDULES[name]

    @check(exercise, name=f"{name}: values on a fixed vector of steps")
    def fixed(ctx):
        """The whole curve for steps 0..60 (one vectorized call) matches the stored values."""
        got = curve_on_fixed_steps(ctx, exercise, name, spec["hyper"])
        assert_close(f"{name}(np.arange(61), ...)", got, ctx.expected(f"schedules/{name}/fixed"), STEP_TOL,
                     HINTS[name])

    @check(exercise, name=f"{name}: scalar steps and 2-D arrays of steps")
    def scalars(ctx):
        """A scalar step gives a float; a (2, 3) array of steps gives a (2, 3) array."""
        want = ctx.expected(f"schedules/{name}/scalars")
        for t, w in zip(SCALAR_STEPS, want):
            with quiet_numerics():
                got = scalar_value(f"{name}({t}, ...)", ctx.fn(exercise)(t, **spec["hyper"]))
            assert_close(f"{name}({t}, ...)", np.array(got), np.array(w), STEP_TOL, HINTS[name])
        steps = np.array(SCALAR_STEPS[1:]).reshape(2, 3)
        with quiet_numerics():
            got = ctx.fn(exercise)(steps, **spec["hyper"])
        assert_close(f"{name} on a (2, 3) array of steps", got, want[1:].reshape(2, 3), STEP_TOL,
                     "the result must have the shape of step")

    @check(exercise, name=f"{name}: the defining property of the formula")
    def prop(ctx):
        """Independent of stored numbers: the shape of the curve identifies the formula."""
        got = curve_on_fixed_steps(ctx, exercise, name, spec["hyper"])
        check_property(name, got, spec["hyper"])


for _name in SCHEDULES:
    _register(_name)
