"""Hidden capstone check: the student's config retrained from a seed drawn from the grade seed.

The judge runs the instructor's training loop, forward and backward passes and
accuracy on its own copy of the data; the student's code (in the worker) only
updates parameter arrays, computes learning rates and draws dropout masks (see
``cs231n_lec7/capstone.py``). A config that reaches the target only for the
visible run's seed earns less here.
"""
from __future__ import annotations

import os

from cs231n_lec7 import capstone
from cs231n_lec7.checks import capstone as visible
from cs231n_lec7.checks.core import check, load_arrays

STORED_SPLIT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "references",
                            "capstone.npz")


def make_references(ref):
    """The graded digits split, stored so that the grader needs no scikit-learn import (~1 s)."""
    data = capstone.get_digits_data(seed=capstone.SPLIT_SEED)
    return {key: data[key] for key in capstone.GRADED_KEYS}


# Read the split (and import what training needs) when the grader loads its checks, before any
# submission's clock starts: the per-exercise time limit then measures training alone.
capstone.graded_data(load_arrays(STORED_SPLIT) if os.path.exists(STORED_SPLIT) else None)
try:
    import threadpoolctl  # noqa: F401
except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
    pass


@check(visible.EXERCISE, name="capstone: the same config from a fresh seed", hidden=True, weight=2.0)
def _(ctx):
    config = visible.student_config(ctx)
    seed = int(ctx.rng.integers(1, 2**31 - 1))
    visible.score_run(visible.run(ctx, config, seed=seed), f"a run from seed {seed}")
