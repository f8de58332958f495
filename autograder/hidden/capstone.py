"""Hidden capstone check: the graded model on the held-out test split.

The judge runs the instructor's training loop, forward and backward passes and
accuracy on its own copy of the data; the student's code (in the worker) only
updates parameter arrays, computes learning rates and draws dropout masks (see
``cs231n_lec7/capstone.py``). The model trained by the visible graded run (kept,
not retrained) is scored on the 300 test images, which the student's choices
were never tuned on; its tiers are the validation tiers.
"""
from __future__ import annotations

import os

from cs231n_lec7 import capstone
from cs231n_lec7.checks import capstone as visible
from cs231n_lec7.checks.core import CheckFailure, check, load_arrays

STORED_SPLIT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "references",
                            "capstone.npz")


def make_references(ref):
    """The graded digits split, stored so that the grader needs no scikit-learn import (~1 s)."""
    data = capstone.get_digits_data(seed=capstone.SPLIT_SEED)
    return {key: data[key] for key in capstone.GRADED_KEYS}


# Read the split (and import what training needs) when the grader loads its checks, before any
# submission's clock starts: the per-exercise time limit then measures training alone.
_stored = load_arrays(STORED_SPLIT) if os.path.exists(STORED_SPLIT) else {}
capstone.graded_data(_stored if set(capstone.GRADED_KEYS) <= set(_stored) else None)
try:
    import threadpoolctl  # noqa: F401
except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
    pass


@check(visible.EXERCISE, name="capstone: your graded model on the held-out test images", hidden=True,
       weight=2.0)
def _(ctx):
    config = visible.student_config(ctx)
    graded = visible.graded_run(ctx, config)
    data = capstone.graded_data()
    test = capstone.evaluate(graded["params"], data["X_test"], data["y_test"],
                             graded["config"]["dropout_keep_ratio"], ctx.fn)
    score = visible.accuracy_score(test["acc"])
    if score < 1.0:
        raise CheckFailure(f"test accuracy {test['acc']:.1%} on {len(data['y_test'])} held-out images "
                           f"(validation {graded['val_acc']:.1%}); full marks from {visible.TARGET_ACCURACY:.0%}",
                           score=score)
