"""Visible checks of the capstone, ``capstone.training_config`` (notebook 10).

- the config: a dict with the documented keys, each of the right type and
  range, within the budget (one message per problem, naming the key);
- the graded run: ``capstone.train`` with your config, YOUR update rule,
  schedule and dropout, ``capstone.GRADED_SEED`` and the digits split; the
  validation accuracy earns a share of the points by :data:`ACCURACY_TIERS`, and
  the message names the known mistakes the run shows (a learning rate orders of
  magnitude off, dropout left on at test time, p used as the drop probability).
  It is the very run of the notebook's ``capstone.train(training_config())``;
- the same run shows none of those known mistakes (a good accuracy can hide one).

A hidden check scores the same trained model on the 300 held-out test images,
which nothing else uses: the honest number at the end, as the lecture
recommends (a config tuned to the validation images alone earns less there).

Why the whole run and not a short one: a few updates cannot tell a slow start
(small initial weights, large batches) from a learning rate that is far too
small, and the whole run costs at most ``capstone.MAX_UPDATES`` updates.
"""
from __future__ import annotations

import copy

from .. import capstone
from .core import CheckFailure, check

EXERCISE = "capstone.training_config"
# (validation accuracy reached, share of the run's points); the first tier met counts.
ACCURACY_TIERS = ((0.94, 1.0), (0.90, 0.75), (0.80, 0.5), (0.60, 0.25))
TARGET_ACCURACY = ACCURACY_TIERS[0][0]


def student_config(ctx):
    """The student's config, validated; CheckFailure with the problem otherwise."""
    config = ctx.fn(EXERCISE)()
    try:
        capstone.validate_config(config)
    except capstone.CapstoneError as err:
        raise CheckFailure(f"training_config(): {err}") from None
    return config


def run(ctx, config, **kwargs):
    """:func:`capstone.train` with the student's functions; its errors become a CheckFailure."""
    try:
        return capstone.train(config, functions=ctx.fn, **kwargs)
    except (capstone.CapstoneError, NotImplementedError) as err:  # the message names the function
        raise CheckFailure(str(err)) from None


_LAST_RUN = []  # [(functions, config, result or CheckFailure)]: the graded run, for the hidden check


def graded_run(ctx, config):
    """The graded run of ``config`` (seed GRADED_SEED) with ``ctx.fn``, trained once per submission.

    The hidden check evaluates the model this run trained; the run is kept with the very
    ``ctx.fn`` object (held, so no later object can take its identity) and a copy of the config.
    """
    for functions, cached_config, outcome in _LAST_RUN:
        if functions is ctx.fn and cached_config == config:
            if isinstance(outcome, CheckFailure):
                raise outcome
            return outcome
    try:
        outcome = run(ctx, config, seed=capstone.GRADED_SEED)
    except CheckFailure as err:
        outcome = err
    _LAST_RUN[:] = [(ctx.fn, copy.deepcopy(config), outcome)]
    if isinstance(outcome, CheckFailure):
        raise outcome
    return outcome


def accuracy_score(val_acc):
    """The share of points a validation accuracy earns (ACCURACY_TIERS)."""
    return next((share for floor, share in ACCURACY_TIERS if val_acc >= floor), 0.0)


def problems(result):
    """The known mistakes of a run, one line each ('' when none)."""
    return "".join(f"\n{title}: {why}" for title, why in capstone.diagnose(result))


def score_run(result, what):
    """Pass in the top tier; otherwise fail with the tier's share, the accuracy and the named mistakes."""
    score = accuracy_score(result["val_acc"])
    if score < 1.0:
        tiers = ", ".join(f"{floor:.0%}: {share:.0%}" for floor, share in ACCURACY_TIERS)
        lines = capstone.summary(result, timing=False, bullet="")
        raise CheckFailure(f"{what}: {lines}\n"
                           f"full marks from {TARGET_ACCURACY:.0%} (tiers {tiers})", score=score)


@check(EXERCISE, name="capstone: training_config() is a valid config within the budget")
def _(ctx):
    student_config(ctx)


@check(EXERCISE, name="capstone: the graded run, validation accuracy", weight=3.0)
def _(ctx):
    config = student_config(ctx)
    score_run(graded_run(ctx, config), "the graded run")


@check(EXERCISE, name="capstone: the graded run shows no known mistake")
def _(ctx):
    """A good accuracy can hide a piece that misbehaves (dropout keeping the wrong share, ...): name it."""
    result = graded_run(ctx, student_config(ctx))
    if capstone.diagnose(result):
        raise CheckFailure("the graded run shows:" + problems(result))
