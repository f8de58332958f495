"""Hidden dropout checks: the visible checks' bodies on problems drawn from the grade seed."""
from __future__ import annotations

from cs231n_lec7.checks.core import check
from cs231n_lec7.checks import layers as visible

FWD, BWD = visible.FWD, visible.BWD


def _draw(ctx, big=False):
    rng = ctx.rng
    shape = (int(rng.integers(150, 300)), int(rng.integers(150, 300))) if big else \
        (int(rng.integers(4, 9)), int(rng.integers(4, 9)))
    p = float(rng.uniform(0.2, 0.95))
    seed = int(rng.integers(0, 2**31 - 1))
    return shape, p, seed


@check(FWD, name="dropout_forward: fresh p and shapes", hidden=True, weight=2.0)
def _(ctx):
    for _ in range(2):
        shape, p, seed = _draw(ctx, big=True)
        visible.kept_fraction(ctx, shape, p, seed)
        visible.per_element(ctx, shape, p, seed)


@check(FWD, name="dropout_forward: fresh 3-D and 4-D inputs", hidden=True)
def _(ctx):
    rng = ctx.rng
    p, seed = float(rng.uniform(0.3, 0.9)), int(rng.integers(0, 2**31 - 1))
    visible.kept_fraction(ctx, tuple(int(n) for n in rng.integers(10, 30, size=3)), p, seed)
    visible.any_shape(ctx, (int(rng.integers(8, 16)), 3, int(rng.integers(6, 10)), int(rng.integers(6, 10))),
                      p, seed)


@check(FWD, name="dropout_forward: fresh test-mode and seed checks", hidden=True)
def _(ctx):
    shape, p, seed = _draw(ctx)
    visible.test_mode_identity(ctx, shape, p, seed)
    visible.seed_determinism(ctx, shape, p, seed)


@check(BWD, name="dropout_backward: fresh mask reuse and gradient check", hidden=True, weight=2.0)
def _(ctx):
    shape, p, seed = _draw(ctx)
    visible.backward_reuses_mask(ctx, shape, p, seed)
    visible.gradient_check(ctx, shape, p, seed)
