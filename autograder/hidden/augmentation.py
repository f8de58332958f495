"""Hidden checks for ``augmentation.py``: fresh problems from the grade seed.

The visible checks' bodies on fresh image sizes, probabilities, scales and
seeds; color jitter with fresh fixed factors is compared with the live
reference solution.
"""
from __future__ import annotations

import numpy as np

from cs231n_lec7.checks import augmentation as visible
from cs231n_lec7.checks.core import CheckFailure, as_array, check


def _seed(ctx):
    return int(ctx.rng.integers(0, 2**31 - 2))


@check(visible.FLIP, name="horizontal_flip: fresh sizes, p and seeds", hidden=True, weight=2.0)
def _(ctx):
    rng = ctx.rng
    visible.flip_deterministic(ctx, int(rng.integers(2, 6)), int(rng.integers(2, 9)), int(rng.integers(2, 9)),
                               _seed(ctx))
    visible.flip_statistics(ctx, int(rng.integers(1500, 2500)), float(rng.uniform(0.15, 0.85)), _seed(ctx))


@check(visible.CROP, name="random_crop: fresh sizes, positions and scales", hidden=True, weight=2.0)
def _(ctx):
    rng = ctx.rng
    H, W = int(rng.integers(9, 15)), int(rng.integers(9, 15))
    out_h, out_w = H - int(rng.integers(2, 5)), W - int(rng.integers(2, 5))
    visible.crop_positions(ctx, 700, H, W, out_h, out_w, _seed(ctx))
    size = int(rng.integers(6, 10))
    lo = float(rng.uniform(0.4, 0.8))
    visible.crop_scales(ctx, 300, 3 * size, 3 * size, size, (lo, lo + float(rng.uniform(0.8, 1.5))), _seed(ctx))


@check(visible.JITTER, name="color_jitter: fresh fixed factors and images vs the reference", hidden=True,
       weight=2.0)
def _(ctx):
    rng = ctx.rng
    for dtype in (np.uint8, np.float64):
        shape = (int(rng.integers(2, 5)), int(rng.integers(3, 8)), int(rng.integers(3, 8)), 3)
        images = rng.uniform(0, 1, size=shape)
        if dtype == np.uint8:
            images = (images * 255).round().astype(np.uint8)
        factors = tuple(float(f) for f in rng.uniform(0.2, 1.9, size=3))
        kwargs = {k: (f, f) for k, f in zip(("brightness", "contrast", "saturation"), factors)}
        want = ctx.ref(visible.JITTER)(images, 0, **kwargs).astype(np.float64)
        got = as_array("color_jitter", visible.jitter_call(ctx, images, factors), shape=shape, dtype=images.dtype)
        tol = 1.0 if dtype == np.uint8 else 1e-9
        if np.max(np.abs(got.astype(np.float64) - want)) > tol:
            raise CheckFailure(f"color_jitter: wrong result for fresh factors on a {np.dtype(dtype).name} batch")
    visible.jitter_statistics(ctx, 800, float(rng.uniform(0.2, 0.8)), _seed(ctx))
