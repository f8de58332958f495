"""Hidden capstone check: the graded run (``capstone.train`` on the digits, GRADED_SEED).

The judge runs the instructor's training loop, forward and backward passes and
accuracy on its own copy of the data; the student's code (in the worker) only
updates parameter arrays, computes learning rates and draws dropout masks (see
``cs231n_lec7/capstone.py``). The score is the validation accuracy's tier.
"""
from __future__ import annotations

from cs231n_lec7 import capstone
from cs231n_lec7.checks import capstone as visible
from cs231n_lec7.checks.core import CheckFailure, check


# Read the data (and import what training needs) when the grader loads its checks, before any
# submission's clock starts: the per-exercise time limit then measures training alone.
capstone.graded_data()
try:
    import threadpoolctl  # noqa: F401
except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
    pass


@check(visible.EXERCISE, name="capstone: graded run, validation accuracy", hidden=True, weight=4.0)
def _(ctx):
    config = visible.student_config(ctx)
    result = visible.run(ctx, config, seed=capstone.GRADED_SEED)
    score = visible.accuracy_score(result["val_acc"])
    if score < 1.0:
        tiers = ", ".join(f"{floor:.0%}: {share:.0%}" for floor, share in visible.ACCURACY_TIERS)
        raise CheckFailure(f"{capstone.summary(result, timing=False)}\n  target {visible.TARGET_ACCURACY:.0%} for full marks "
                           f"(tiers {tiers})", score=score)
