"""Properties of dropout (``cs231n_lec7/layers.py``), each probing one idea.

Inputs are strictly positive, so the mask can be read off as ``out / x``.
Statistical properties use many units, so five binomial standard deviations
separate the right answer from every named mistake.
"""
from __future__ import annotations

import math

import numpy as np

from . import Finding, NoEvidence, prop

FWD, BWD = "layers.dropout_forward", "layers.dropout_backward"
SIGMAS = 5.0


def _x(shape, seed=0):
    return 1.0 + np.random.default_rng([seed, 7]).random(shape)


def _forward(fns, x, p, mode="train", seed=11):
    result = fns(FWD)(x.copy(), {"mode": mode, "p": p, "seed": seed})
    if not isinstance(result, tuple) or len(result) != 2:
        raise NoEvidence
    out = np.asarray(result[0], dtype=np.float64)
    if out.shape != x.shape:
        raise NoEvidence
    return out, result[1]


def _mask(fns, shape, p, seed=11):
    x = _x(shape, seed)
    out, cache = _forward(fns, x, p, seed=seed)
    return out / x, cache


def _phi(z):
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def _binary(mask):
    """Whether the mask takes at most two values (0 and one scale)."""
    return len(np.unique(np.round(mask, 9))) <= 2


@prop(FWD)
def keeps_fraction_p(exercise, fns):
    """A fraction ≈ p of the units is kept (p is the probability of KEEPING a unit)."""
    found = []
    for p in (0.3, 0.6):
        mask, _ = _mask(fns, (200, 100), p)
        n = mask.size
        frac = float(np.mean(mask != 0))
        tol = SIGMAS * math.sqrt(p * (1 - p) / n)
        if abs(frac - p) <= tol:
            continue
        kept = mask != 0
        if not np.all(kept) and (np.all(kept == kept[:1]) or np.all(kept == kept[:, :1])):
            break  # coins shared along an axis: the fraction's spread is not binomial (named elsewhere)
        if abs(frac - (1 - p)) <= tol:
            found.append(Finding("p used as drop probability",
                                 f"with p = {p} you kept {frac:.3f} of the units. Since 2018 p is the "
                                 f"probability of KEEPING a unit: mask = rng.random(x.shape) < p."))
        elif abs(frac - (1 - _phi(p))) <= tol:
            found.append(Finding("Gaussian coins",
                                 f"with p = {p} you kept {frac:.3f} of the units, as many as a standard normal "
                                 f"number falls above p: draw uniform numbers (rng.random), not normal ones."))
        elif abs(frac - _phi(p)) <= tol:
            found.append(Finding("Gaussian coins",
                                 f"with p = {p} you kept {frac:.3f} of the units, as many as a standard normal "
                                 f"number falls below p: draw uniform numbers (rng.random), not normal ones."))
        elif frac == 1.0 and len(np.unique(np.round(mask, 9))) > 10:
            found.append(Finding("Gaussian noise instead of 0/1 coins",
                                 "no unit was dropped and the mask takes many values: dropout multiplies by a "
                                 "Bernoulli(p) coin (0 or 1/p), not by Gaussian noise."))
        break
    return found


@prop(FWD)
def scales_kept_units(exercise, fns):
    """Kept units are multiplied by exactly 1/p (inverted dropout)."""
    p = 0.6
    mask, _ = _mask(fns, (60, 50), p)
    kept = mask[mask != 0]
    if kept.size == 0 or np.allclose(kept, 1 / p, rtol=1e-5):
        return None
    value = float(np.median(kept))
    if np.isclose(value, 1.0):
        return Finding("dropout not inverted",
                       "kept units pass through unscaled: inverted dropout divides them by p at train time, so "
                       "test time needs no change.")
    if np.isclose(value, 1 / (1 - p)):
        return Finding("p used as drop probability",
                       "kept units are scaled by 1/(1-p): p is the probability of KEEPING a unit, scale by 1/p.")


@prop(FWD)
def test_mode_is_identity(exercise, fns):
    """mode='test' returns x unchanged: nothing to undo after inverted dropout."""
    x = _x((40, 30))
    out, _ = _forward(fns, x, 0.7, mode="test")
    if np.allclose(out, x):
        return None
    for scale, text in ((0.7, "x * p"), (0.3, "x * (1 - p)")):
        if np.allclose(out, scale * x):
            return Finding("vanilla dropout's test-time scaling",
                           f"test mode returned {text} (p = 0.7). With inverted dropout (1/p at train time) test "
                           f"mode is the identity; scaling at test time is vanilla dropout.")
    if np.mean(out == 0) > 0.01:
        return Finding("dropout applied at test time", "at test time every unit is kept: return x unchanged.")


@prop(FWD)
def seed_fixes_mask(exercise, fns):
    """The same dropout_param['seed'] gives the same mask twice."""
    a, _ = _mask(fns, (30, 40), 0.5, seed=5)
    b, _ = _mask(fns, (30, 40), 0.5, seed=5)
    if not np.array_equal(a, b):
        return Finding("seed ignored",
                       "two calls with the same seed gave different masks: draw the coins from "
                       "np.random.default_rng(dropout_param['seed']).")


@prop(FWD)
def one_coin_per_element(exercise, fns):
    """Each element of a 2-D input has its own coin (not one per row, column or call)."""
    mask = _mask(fns, (200, 100), 0.5)[0]
    if not _binary(mask):
        raise NoEvidence
    kept = mask != 0
    if np.all(kept) or not np.any(kept):
        return Finding("one coin for the whole input",
                       "all units were kept or all dropped together: draw one coin per element, "
                       "rng.random(x.shape) < p.")
    if np.all(kept == kept[:, :1]):
        return Finding("one coin per example",
                       "each example keeps all or none of its units: draw one coin per element, with the full "
                       "shape of x.")
    if np.all(kept == kept[:1, :]):
        return Finding("one mask shared across the batch",
                       "every example got the same mask: draw one coin per element, with the full shape of x.")


@prop(FWD)
def any_shape(exercise, fns):
    """A 4-D input (N, C, H, W) gets one coin per element too, like a 2-D one."""
    flat, _ = _mask(fns, (20, 10), 0.5)  # 2-D works, one coin per element: else 4-D teaches nothing new
    kept2 = flat != 0
    if not _binary(flat) or np.all(kept2 == kept2[:, :1]) or np.all(kept2 == kept2[:1, :]):
        raise NoEvidence
    try:
        mask, _ = _mask(fns, (20, 3, 6, 5), 0.5)
    except NoEvidence:
        raise
    except Exception:
        return Finding("mask drawn for 2-D inputs only",
                       "your dropout fails on a 4-D input (N, C, H, W): draw the mask with the full shape of x "
                       "(rng.random(x.shape)), not from x.shape[0] and x.shape[1].")
    kept = mask != 0
    if np.all(kept == kept[:, :, :1, :1]):
        return Finding("mask drawn for 2-D inputs only",
                       "on a 4-D input every channel keeps all or none of its pixels: draw one coin per element, "
                       "rng.random(x.shape), not from x.shape[0] and x.shape[1].")


@prop(BWD)
def backward_uses_forward_mask(exercise, fns):
    """dx = dout * mask with the very mask (1/p where kept) of the forward pass."""
    p = 0.6
    mask, cache = _mask(fns, (30, 20), p)
    dout = np.random.default_rng(3).standard_normal(mask.shape)
    dx = np.asarray(fns(BWD)(dout.copy(), cache), dtype=np.float64)
    if dx.shape != dout.shape or np.allclose(dx, dout * mask):
        return None
    if np.allclose(dx, dout * (mask != 0)):
        return Finding("forgot 1/p in backward",
                       "the gradient of x * mask / p is mask / p: keep the scaling in the backward pass too.")
    if np.allclose(dx, dout) or np.allclose(dx, dout / p):
        return Finding("mask not applied in backward",
                       "dropped units get no gradient: dx = dout * mask, with the mask saved by the forward pass.")
    if not np.array_equal(dx == 0, mask == 0):
        return Finding("fresh mask in backward",
                       "reuse the mask saved in the cache by the forward pass; a new mask gives the gradient of "
                       "another network.")


@prop(BWD)
def backward_in_test_mode(exercise, fns):
    """After a test-mode forward pass (every unit kept, nothing scaled) the backward pass gives dx = dout."""
    x = _x((20, 10))
    _, cache = _forward(fns, x, 0.6, mode="test")
    dout = np.random.default_rng(5).standard_normal(x.shape)
    try:
        dx = np.asarray(fns(BWD)(dout.copy(), cache), dtype=np.float64)
    except Exception as err:
        if type(err).__name__.startswith("Worker"):
            raise
        return Finding("backward ignores test mode",
                       "after a test-mode forward pass your backward raised an error: at test time no mask was "
                       "drawn, so check dropout_param['mode'] and return dout unchanged.")
    if dx.shape == dout.shape and not np.allclose(dx, dout):
        return Finding("backward ignores test mode",
                       "after a test-mode forward pass every unit was kept unscaled, so dx = dout.")
