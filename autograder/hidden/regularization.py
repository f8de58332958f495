"""Hidden checks for ``regularization.py``: fresh problems from the grade seed.

Penalties are compared with the live reference on random shapes, strengths and
l1_ratios (float64 and float32); the DropConnect and stochastic-depth bodies
of the visible checks run on fresh shapes (DropConnect also on fresh 3-D and
4-D inputs), keep/survival probabilities and seeds. Nothing is stored (``make_references`` is not needed).
"""
from __future__ import annotations

import numpy as np

from cs231n_lec7.checks import regularization as visible
from cs231n_lec7.checks.core import FLOAT32_TOL, STEP_TOL, CheckFailure, assert_close, check

L2, L1, EN = visible.L2, visible.L1, visible.EN


def _weights(rng, zeros=True):
    shape = tuple(int(s) for s in rng.integers(2, 7, size=int(rng.integers(1, 4))))
    W = rng.standard_normal(shape) * float(rng.uniform(0.1, 3.0))
    if zeros:
        W.ravel()[rng.integers(0, W.size)] = 0.0
    return W


def _fresh_penalty(ctx, exercise, with_ratio):
    rng = ctx.rng
    for trial in range(3):
        W = _weights(rng)
        reg = float(10 ** rng.uniform(-3, 0.5))
        extra = (float(rng.uniform(0.05, 0.95)),) if with_ratio else ()
        dtype = np.float32 if trial == 2 else np.float64
        W = W.astype(dtype)
        want_loss, want_dW = ctx.ref(exercise)(W, reg, *extra)
        loss, dW = visible.call_penalty(ctx, exercise, W, reg, *extra)
        tol = FLOAT32_TOL if dtype == np.float32 else STEP_TOL
        label = exercise.rpartition(".")[2]
        if abs(loss - want_loss) > tol * max(1e-8, abs(loss) + abs(want_loss)):
            raise CheckFailure(f"{label}: wrong loss on a fresh problem (shape {W.shape}, reg={reg:.3g})")
        assert_close(f"{label}: dW on a fresh problem", dW, want_dW, tol)
    W = _weights(rng, zeros=False)
    W = np.where(np.abs(W) < 0.05, 0.2, W)
    visible.penalty_gradient_check(ctx, exercise, W, float(rng.uniform(0.1, 2.0)), *extra)


@check(L2, name="l2_penalty: fresh problems and gradient check", hidden=True)
def _(ctx):
    _fresh_penalty(ctx, L2, False)


@check(L1, name="l1_penalty: fresh problems and gradient check", hidden=True)
def _(ctx):
    _fresh_penalty(ctx, L1, False)


@check(EN, name="elastic_net_penalty: fresh problems and gradient check", hidden=True)
def _(ctx):
    _fresh_penalty(ctx, EN, True)
    visible.elastic_net_limits(ctx, _weights(ctx.rng), float(ctx.rng.uniform(0.1, 2.0)))


def _draw(ctx, lo=0.2, hi=0.9):
    return float(ctx.rng.uniform(lo, hi)), int(ctx.rng.integers(0, 2**31 - 2))


@check(visible.DC_FWD, name="dropconnect_forward: fresh p, shapes and seeds", hidden=True, weight=2.0)
def _(ctx):
    p, seed = _draw(ctx)
    d, m = int(ctx.rng.integers(25, 40)), int(ctx.rng.integers(25, 40))
    visible.dc_kept_fraction(ctx, 2 * d, d, m, p, seed)
    visible.dc_test_mode(ctx, int(ctx.rng.integers(3, 9)), 4, 5, p, seed)
    visible.dc_seed(ctx, 6, 5, 7, p, seed)


@check(visible.DC_BWD, name="dropconnect_backward: fresh mask reuse and gradient check", hidden=True, weight=2.0)
def _(ctx):
    p, seed = _draw(ctx)
    n, d, m = int(ctx.rng.integers(10, 20)), int(ctx.rng.integers(3, 8)), int(ctx.rng.integers(3, 8))
    visible.dc_backward_matches_forward(ctx, n, d, m, p, seed, "train")
    visible.dc_backward_matches_forward(ctx, n, d, m, p, seed, "test")
    visible.dc_gradient_check(ctx, (4, 3), 3, p, seed)


def _conv_shape(ctx, d_max=12):
    """(N, C, H, W) or (N, C, L), D = C * H * W <= d_max, N > D: a small fresh non-2-D input shape."""
    while True:
        dims = [int(d) for d in ctx.rng.integers(1, 4, size=int(ctx.rng.integers(2, 4)))]
        if 2 <= np.prod(dims) <= d_max:
            return (int(np.prod(dims)) + int(ctx.rng.integers(1, 4)), *dims)


@check(visible.DC_FWD, name="dropconnect_forward: fresh 3-D and 4-D inputs", hidden=True)
def _(ctx):
    p, seed = _draw(ctx)
    visible.dc_any_shape(ctx, _conv_shape(ctx, 27), int(ctx.rng.integers(3, 7)), p, seed)


@check(visible.DC_BWD, name="dropconnect_backward: fresh 3-D and 4-D inputs, dx shape and gradient check",
       hidden=True)
def _(ctx):
    p, seed = _draw(ctx)
    visible.dc_gradient_check(ctx, _conv_shape(ctx), int(ctx.rng.integers(2, 5)), p, seed)


@check(visible.SD_FWD, name="stochastic_depth_forward: fresh p, shapes and seeds", hidden=True, weight=2.0)
def _(ctx):
    p, seed = _draw(ctx, 0.3, 0.9)
    visible.sd_survival(ctx, (int(ctx.rng.integers(1500, 2500)), 2, 2), p, seed)
    visible.sd_test_mode(ctx, (int(ctx.rng.integers(3, 9)), 3, 2), p, seed)
    visible.sd_seed(ctx, (60, 2), p, seed)


@check(visible.SD_BWD, name="stochastic_depth_backward: fresh coins and gradient check", hidden=True, weight=2.0)
def _(ctx):
    p, seed = _draw(ctx, 0.3, 0.9)
    shape = (int(ctx.rng.integers(20, 40)), int(ctx.rng.integers(2, 5)))
    visible.sd_backward_matches_forward(ctx, shape, p, seed, "train")
    visible.sd_backward_matches_forward(ctx, shape, p, seed, "test")
    visible.sd_gradient_check(ctx, (4, 2), p, seed)
