"""Visible checks of the capstone, ``capstone.training_config`` (notebook 09).

- the config: a dict with the documented keys, each of the right type and
  range, within the budget (one message per problem, naming the key);
- a short run: two epochs of training with your config and YOUR update rule,
  schedule and dropout; the loss must stay finite and fall, and the known
  mistakes the run shows (learning rate orders of magnitude off, dropout left
  on at test time, p used as the drop probability) are named.

The graded run (a hidden check) trains for all of ``num_epochs`` with
``capstone.GRADED_SEED`` on the same split, and scores the validation
accuracy with :data:`ACCURACY_TIERS` — run ``capstone.train(training_config())``
in the notebook to see the very number that is graded.
"""
from __future__ import annotations

from .. import capstone
from .core import CheckFailure, check

EXERCISE = "capstone.training_config"
SHORT_EPOCHS = 2
# (validation accuracy reached, share of the graded run's points); the first met tier counts.
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
    """:func:`capstone.train` with the student's functions; a CapstoneError becomes a CheckFailure."""
    try:
        return capstone.train(config, functions=ctx.fn, **kwargs)
    except (capstone.CapstoneError, NotImplementedError) as err:  # the message names the function
        raise CheckFailure(str(err)) from None


def accuracy_score(val_acc):
    """The share of points a validation accuracy earns (ACCURACY_TIERS)."""
    return next((share for floor, share in ACCURACY_TIERS if val_acc >= floor), 0.0)


def problems(result):
    """The known mistakes of a run, as one line each ('' when none)."""
    return "".join(f"\n{title}: {why}" for title, why in capstone.diagnose(result))


@check(EXERCISE, name="capstone: training_config() is a valid config within the budget")
def _(ctx):
    student_config(ctx)


@check(EXERCISE, name="capstone: a short run with your config trains")
def _(ctx):
    config = student_config(ctx)
    result = run(ctx, config, num_epochs=min(SHORT_EPOCHS, capstone.validate_config(config)["num_epochs"]))
    found = capstone.diagnose(result)
    if found:
        losses = result["loss_history"]
        raise CheckFailure(f"in a {result['updates']}-update run (loss {losses[0]:.3f} -> {losses[-1]:.3f}) "
                           f"your setup shows:" + problems(result))
