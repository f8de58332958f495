"""Hidden checks for the learning-rate schedules (instructor only; never in the release).

Per schedule, with problems drawn from the grade seed:
- random non-default hyper-parameters and a random 2-D array of integer
  steps (for step decay including the steps just before, at and after decay
  points), against the live reference;
- scalar steps of several kinds (int, numpy int64, float) and fractional
  epochs, against the live reference;
- the defining property (the same function as the visible check) on a long
  run of consecutive steps with random hyper-parameters.
"""
from __future__ import annotations

import numpy as np

from cs231n_lec7.checks.core import STEP_TOL, as_array, assert_close, check, quiet_numerics
from cs231n_lec7.checks.schedules import HINTS, SCHEDULES, check_property, scalar_value

MAX_STEP = 2000


def random_hyper(name, rng):
    """Non-default hyper-parameters for ``name``, kept where relative errors stay meaningful.

    Over the steps drawn by ``random_steps`` the rate stays above ~1e-7, so the
    CS231n relative error (which turns absolute below 1e-8) still compares values.
    """
    initial_lr = float(10 ** rng.uniform(-3, 0))
    if name == "step_decay":
        return dict(initial_lr=initial_lr, decay_rate=float(rng.uniform(0.2, 0.9)),
                    decay_every=int(rng.integers(2, 50)))
    if name == "exponential_decay":
        return dict(initial_lr=initial_lr, k=float(10 ** rng.uniform(-4, np.log10(5.0 / MAX_STEP))))
    return dict(initial_lr=initial_lr, k=float(10 ** rng.uniform(-4, -0.5)))


def random_steps(name, rng, hyper):
    """A (4, 6) integer array of steps; step decay gets the steps around its first decay points."""
    if name == "step_decay":
        every = hyper["decay_every"]
        points = every * rng.integers(1, 5, size=8)
        steps = np.concatenate([points - 1, points, points + 1])
    else:
        steps = rng.integers(0, MAX_STEP, size=24)
    rng.shuffle(steps)
    return steps.reshape(4, 6)


def _register(name):
    exercise = f"schedules.{name}"

    @check(exercise, name=f"{name}: fresh hyper-parameters, 2-D step arrays", hidden=True, weight=2.0)
    def fresh(ctx):
        """Random hyper-parameters and steps from the grade seed vs the live reference."""
        for _ in range(3):
            hyper = random_hyper(name, ctx.rng)
            steps = random_steps(name, ctx.rng, hyper)
            with quiet_numerics():
                got = ctx.fn(exercise)(steps.copy(), **hyper)
                want = ctx.ref(exercise)(steps.copy(), **hyper)
            got = as_array(f"{name} on a (4, 6) array of steps", got, shape=steps.shape)
            assert_close(f"{name} on a (4, 6) array of steps", got, want, STEP_TOL, HINTS[name])

    @check(exercise, name=f"{name}: scalar steps (int, numpy int, float epochs)", hidden=True)
    def scalars(ctx):
        """Scalar steps of several types, including fractional epochs, vs the live reference."""
        hyper = random_hyper(name, ctx.rng)
        every = hyper.get("decay_every", 10)
        top = 4 * every if name == "step_decay" else MAX_STEP
        for t in (0, int(ctx.rng.integers(1, top)), np.int64(every), np.int64(2 * every - 1),
                  float(ctx.rng.uniform(0, top)), every + 0.5):
            with quiet_numerics():
                got = scalar_value(f"{name}({t!r}, ...)", ctx.fn(exercise)(t, **hyper))
                want = float(ctx.ref(exercise)(t, **hyper))
            assert_close(f"{name}({t!r}, ...)", np.array(got), np.array(want), STEP_TOL, HINTS[name])

    @check(exercise, name=f"{name}: defining property on a long run", hidden=True)
    def prop(ctx):
        """1000 consecutive steps with random hyper-parameters have the formula's defining property."""
        hyper = random_hyper(name, ctx.rng)
        steps = np.arange(1000)
        with quiet_numerics():
            got = ctx.fn(exercise)(steps.copy(), **hyper)
        got = as_array(f"{name}(np.arange(1000), ...)", got, shape=steps.shape)
        check_property(name, got, hyper)


for _name in SCHEDULES:
    _register(_name)
