"""Visible checks for dropout in ``cs231n_lec7/layers.py``.

Dropout is random, so these checks are statistical and structural rather
than "equal to a stored array": the fraction of kept units is within five
binomial standard deviations of ``p`` (``p`` = probability of KEEPING a unit),
kept units are scaled by ``1/p`` (inverted dropout), test mode is the
identity, a seed fixes the mask, masks are per element (for 2-D and 4-D
inputs alike), float32 stays float32 (a float64 result only earns a note), and the backward
pass reuses the forward mask (also confirmed by a numerical gradient check).

Each check body takes its problem as arguments so the grader's hidden
checks run the same code on problems drawn from the grade seed.
"""
from __future__ import annotations

import numpy as np

from .core import (CheckFailure, as_array, assert_dtype_kept, check, numerical_gradient_of_calls, quiet_numerics,
                   rel_error)

FWD, BWD = "layers.dropout_forward", "layers.dropout_backward"
SIGMAS = 5.0  # statistical tolerance for kept fractions, in binomial standard deviations


def positive_input(shape, rng):
    """Strictly positive inputs, so the mask can be read off as out / x."""
    return 1.0 + rng.random(shape)


def dropout_param(p, mode="train", seed=None):
    param = {"mode": mode, "p": p}
    if seed is not None:
        param["seed"] = seed
    return param


def forward_pair(result, shape):
    """(out, cache) from what dropout_forward returned, failing clearly on anything else."""
    if not isinstance(result, tuple) or len(result) != 2:
        raise CheckFailure(f"dropout_forward: expected a pair (out, cache), got {type(result).__name__}")
    return as_array("dropout_forward: out", result[0], shape=shape), result[1]


def forward(ctx, x, p, mode="train", seed=None):
    with quiet_numerics():
        result = ctx.fn(FWD)(x, dropout_param(p, mode, seed))
    return forward_pair(result, x.shape)


def read_mask(out, x):
    return out / x


def kept_fraction(ctx, shape, p, seed):
    """Fraction of kept units within 5 sigma of p; kept units scaled by 1/p."""
    x = positive_input(shape, np.random.default_rng([seed, 99]))
    out, _ = forward(ctx, x, p, "train", seed)
    mask = read_mask(out, x)
    n = mask.size
    frac = float(np.mean(mask != 0))
    sigma = np.sqrt(p * (1 - p) / n)
    if abs(frac - p) > SIGMAS * sigma:
        if abs(frac - (1 - p)) <= SIGMAS * sigma:
            raise CheckFailure(
                f"dropout_forward: kept {frac:.3f} of the units with p={p}, expected about {p:.3f} — "
                f"p used as drop probability? Here p is the probability of KEEPING a unit"
            )
        raise CheckFailure(f"dropout_forward: kept {frac:.3f} of the units with p={p}, expected "
                           f"{p:.3f} ± {SIGMAS * sigma:.3f}")
    kept = mask[mask != 0]
    if kept.size and not np.allclose(kept, 1.0 / p, rtol=1e-5):
        value = float(np.median(kept))
        if np.isclose(value, 1.0):
            raise CheckFailure("dropout_forward: kept units are passed through unscaled — dropout not "
                               f"inverted: divide the kept units by p at train time (here 1/p = {1 / p:.4g})")
        if np.isclose(value, 1.0 / (1 - p)):
            raise CheckFailure(f"dropout_forward: kept units are scaled by 1/(1-p) = {value:.4g} — p used as "
                               f"drop probability? Scale by 1/p = {1 / p:.4g}")
        raise CheckFailure(f"dropout_forward: kept units are scaled by {value:.4g}, expected 1/p = {1 / p:.4g}")
    with quiet_numerics():
        mean_ratio = float(out.mean() / x.mean())
    if abs(mean_ratio - 1.0) > 0.1:
        raise CheckFailure(f"dropout_forward: the mean of the output is {mean_ratio:.3f} × the input's; "
                           f"inverted dropout keeps it ≈ 1")


def scaled_input_text(scale, p):
    """How a student wrote ``x * scale`` at test time, read from the measured scale (p = 0.5 is ambiguous)."""
    if np.isclose(scale, p) and not np.isclose(scale, 1 - p):
        return "x * p"
    if np.isclose(scale, 1 - p) and not np.isclose(scale, p):
        return "x * (1 - p)"
    return f"x * {scale:.3g}"


def test_mode_identity(ctx, shape, p, seed):
    """mode='test' returns the input unchanged (inverted dropout)."""
    x = positive_input(shape, np.random.default_rng([seed, 99]))
    out, _ = forward(ctx, x, p, "test", seed)
    if np.allclose(out, x):
        return
    scale = float(np.median(out / x))
    if np.allclose(out, x * scale) and 0.0 < scale < 1.0:
        raise CheckFailure(f"dropout_forward: test mode returned {scaled_input_text(scale, p)} — vanilla "
                           f"dropout's test-time scaling. With inverted dropout (scale by 1/p in training), test "
                           f"mode is the identity")
    if np.mean(out == 0) > 0.01:
        raise CheckFailure("dropout_forward: test mode zeroed some units — dropout applied at test time; "
                           "at test time every unit is kept and nothing is scaled")
    raise CheckFailure(f"dropout_forward: test mode should return x unchanged; max relative error "
                       f"{rel_error(out, x):.3g}")


def seed_determinism(ctx, shape, p, seed):
    """Same seed → same mask; different seeds → different masks."""
    x = positive_input(shape, np.random.default_rng([seed, 99]))
    a, _ = forward(ctx, x, p, "train", seed)
    b, _ = forward(ctx, x, p, "train", seed)
    if not np.array_equal(a, b):
        raise CheckFailure("dropout_forward: two calls with the same dropout_param['seed'] gave different "
                           "masks — seed ignored? Draw the mask from np.random.default_rng(seed)")
    c, _ = forward(ctx, x, p, "train", seed + 1)
    if np.array_equal(a, c):
        raise CheckFailure("dropout_forward: different seeds gave the same mask — the mask must come from "
                           "the seed in dropout_param")


def per_element(ctx, shape, p, seed):
    """Each element has its own coin: rows and columns of the mask differ."""
    x = positive_input(shape, np.random.default_rng([seed, 99]))
    out, _ = forward(ctx, x, p, "train", seed)
    kept = read_mask(out, x) != 0
    if np.all(kept == kept[0:1, :]):
        raise CheckFailure("dropout_forward: every example got the same mask — one mask shared across the "
                           "batch; draw a mask with the full shape of x")
    if np.all(kept == kept[:, 0:1]):
        raise CheckFailure("dropout_forward: each example keeps all or none of its units — draw one coin per "
                           "element, with the full shape of x")
    # Neighbouring elements must be uncorrelated (|corr| below 5 standard errors).
    a, b = kept[:, :-1].ravel().astype(float), kept[:, 1:].ravel().astype(float)
    with quiet_numerics():
        corr = np.corrcoef(a, b)[0, 1]
    if np.isfinite(corr) and abs(corr) > SIGMAS / np.sqrt(a.size):
        raise CheckFailure(f"dropout_forward: neighbouring units are correlated (corr {corr:.3f}); "
                           f"each unit needs its own independent coin")


def dtype_kept(ctx, p, seed):
    """float32 in → float32 out, in both modes (a float64 result with right values earns a note)."""
    x = positive_input((6, 7), np.random.default_rng([seed, 99])).astype(np.float32)
    for mode in ("train", "test"):
        out, _ = forward(ctx, x, p, mode, seed)
        # Right values at float64 tolerance: every unit 0 or x/p in training, x itself at test time.
        ratio = np.asarray(out, dtype=np.float64) / x.astype(np.float64)
        want = np.where(ratio == 0, 0.0, 1.0 / p) if mode == "train" else np.ones_like(ratio)
        right = bool(np.allclose(ratio, want, rtol=1e-7, atol=0.0))
        assert_dtype_kept(ctx, f"dropout_forward ({mode} mode): out", out, np.float32, right=right,
                          name="out", source="x")


def any_shape(ctx, shape, p, seed):
    """A 4-D input (N, C, H, W) gets one independent coin per element, like a 2-D one."""
    x = positive_input(shape, np.random.default_rng([seed, 99]))
    out, _ = forward(ctx, x, p, "train", seed)
    kept = read_mask(out, x) != 0
    n = kept.size
    frac = float(np.mean(kept))
    sigma = np.sqrt(p * (1 - p) / n)
    if abs(frac - p) > SIGMAS * sigma:
        raise CheckFailure(f"dropout_forward: on an input of shape {shape} you kept {frac:.3f} of the units, "
                           f"expected {p:.3f} ± {SIGMAS * sigma:.3f}")
    if np.all(kept == kept[:, :, :1, :1]):
        raise CheckFailure(f"dropout_forward: on an input of shape {shape} each channel keeps all or none of "
                           f"its pixels — draw one coin per element, rng.random(x.shape)")
    for axis in range(kept.ndim):
        if np.all(kept == kept.take([0], axis=axis)):
            raise CheckFailure(f"dropout_forward: on an input of shape {shape} the mask is the same along "
                               f"axis {axis} — draw one coin per element, rng.random(x.shape)")


def backward_reuses_mask(ctx, shape, p, seed):
    """dx = dout * mask / p, with the very mask of the forward pass."""
    rng = np.random.default_rng([seed, 99])
    x = positive_input(shape, rng)
    out, cache = forward(ctx, x, p, "train", seed)
    mask = read_mask(out, x)
    dout = rng.standard_normal(shape)
    with quiet_numerics():
        dx = as_array("dropout_backward: dx", ctx.fn(BWD)(dout, cache), shape=shape)
    want = dout * mask
    if np.allclose(dx, want):
        return
    if np.allclose(dx, dout * (mask != 0)):
        raise CheckFailure("dropout_backward: dx = dout * (mask != 0) — forgot 1/p in backward: the "
                           "gradient of x * mask / p is mask / p")
    if not np.array_equal(dx == 0, mask == 0):
        raise CheckFailure("dropout_backward: dx is zero at different places than the forward output — "
                           "fresh mask in backward? Reuse the mask stored in the cache by the forward pass")
    raise CheckFailure(f"dropout_backward: dx should be dout * mask / p; relative error {rel_error(dx, want):.3g}")


def backward_test_mode(ctx, shape, p, seed):
    """In test mode the gradient passes straight through."""
    rng = np.random.default_rng([seed, 99])
    x = positive_input(shape, rng)
    _, cache = forward(ctx, x, p, "test", seed)
    dout = rng.standard_normal(shape)
    with quiet_numerics():
        dx = as_array("dropout_backward (test mode): dx", ctx.fn(BWD)(dout, cache), shape=shape)
    if not np.allclose(dx, dout):
        raise CheckFailure("dropout_backward: in test mode dx should equal dout (the forward pass is the identity)")


def gradient_check(ctx, shape, p, seed):
    """Numerical gradient of a random projection of the output vs dropout_backward."""
    rng = np.random.default_rng([seed, 99])
    x = rng.standard_normal(shape)
    dout = rng.standard_normal(shape)
    out, cache = forward(ctx, x, p, "train", seed)
    with quiet_numerics():
        dx = as_array("dropout_backward: dx", ctx.fn(BWD)(dout, cache), shape=shape)
    again, _ = forward(ctx, x, p, "train", seed)
    if not np.array_equal(out, again):
        # The forward pass ignores the seed (its own check says so); a numerical gradient
        # is then meaningless, so judge the backward pass on the mask it was given.
        with quiet_numerics():
            mask = np.where(x != 0, out / np.where(x != 0, x, 1.0), 0.0)
        if rel_error(dx, dout * mask) > 1e-8:
            raise CheckFailure("dropout_backward: dx should be dout * mask / p with the forward pass's mask")
        return
    dx_num = numerical_gradient_of_calls(ctx, FWD, lambda z: (z, dropout_param(p, "train", seed)),
                                         lambda r: float(np.sum(forward_pair(r, shape)[0] * dout)), x)
    err = rel_error(dx, dx_num)
    if err > 1e-8:
        raise CheckFailure(f"dropout_backward: numerical gradient check failed, relative error {err:.3g} "
                           f"(should be < 1e-8)")


@check(FWD, name="dropout_forward: kept fraction and inverted scaling (p=0.3, 0.6, 0.9)", weight=2.0)
def _(ctx):
    for p in (0.3, 0.6, 0.9):
        kept_fraction(ctx, (400, 250), p, seed=123)


@check(FWD, name="dropout_forward: test mode is the identity")
def _(ctx):
    test_mode_identity(ctx, (50, 40), 0.5, seed=1)


@check(FWD, name="dropout_forward: same seed same mask, new seed new mask")
def _(ctx):
    seed_determinism(ctx, (30, 40), 0.5, seed=2)


@check(FWD, name="dropout_forward: one independent coin per element")
def _(ctx):
    per_element(ctx, (200, 100), 0.5, seed=3)


@check(FWD, name="dropout_forward: float32 stays float32", weight=0.5)
def _(ctx):
    dtype_kept(ctx, 0.7, seed=4)


@check(FWD, name="dropout_forward: 4-D input (N, C, H, W), one coin per element")
def _(ctx):
    any_shape(ctx, (16, 3, 8, 8), 0.6, seed=8)


@check(BWD, name="dropout_backward: reuses the forward mask", weight=2.0)
def _(ctx):
    backward_reuses_mask(ctx, (30, 20), 0.6, seed=5)


@check(BWD, name="dropout_backward: test mode passes the gradient through")
def _(ctx):
    backward_test_mode(ctx, (10, 8), 0.6, seed=6)


@check(BWD, name="dropout_backward: numerical gradient check")
def _(ctx):
    gradient_check(ctx, (5, 6), 0.7, seed=7)
