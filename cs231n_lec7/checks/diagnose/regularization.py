"""Properties of stochastic depth (``cs231n_lec7/regularization.py``) that need no hidden input."""
from __future__ import annotations

import numpy as np

from . import Finding, NoEvidence, prop

SD_FWD = "regularization.stochastic_depth_forward"


def _forward(fns, shape, p=0.5, seed=3):
    rng = np.random.default_rng(seed)
    x, f = rng.standard_normal(shape), 1.0 + rng.random(shape)
    result = fns(SD_FWD)(x, f, {"mode": "train", "p": p, "seed": seed})
    if not isinstance(result, tuple) or len(result) != 2 or np.shape(result[0]) != shape:
        raise NoEvidence
    return x, f, np.asarray(result[0], dtype=np.float64)


@prop(SD_FWD)
def coins_for_any_shape(exercise, fns):
    """Inputs of shape (N, C, H, W) get one coin per example, broadcast over C, H, W, as (N, D) ones do."""
    _forward(fns, (40, 6))  # works on 2-D: otherwise 4-D teaches nothing new
    try:
        _forward(fns, (8, 2, 3, 3))
    except NoEvidence:
        raise
    except Exception:
        return Finding("coins shaped for 2-D inputs",
                       "your block fails on a 4-D input (N, C, H, W): shape the coins (N,) + (1,) * (x.ndim - 1) "
                       "so they broadcast over all features, not gate[:, None].")
