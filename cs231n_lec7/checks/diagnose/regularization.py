"""Properties of DropConnect and stochastic depth (``cs231n_lec7/regularization.py``) that need no hidden input."""
from __future__ import annotations

import numpy as np

from . import Finding, NoEvidence, error_name, prop

DC_FWD, DC_BWD = "regularization.dropconnect_forward", "regularization.dropconnect_backward"
SD_FWD = "regularization.stochastic_depth_forward"
CONV_SHAPE, M = (6, 2, 3, 3), 5  # a 4-D x (N, C, H, W) and the layer's width; D = C * H * W = 18
FLATTEN = "x.reshape(x.shape[0], -1)"


def _dc_problem(seed=4):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(CONV_SHAPE)
    w = rng.standard_normal((int(np.prod(CONV_SHAPE[1:])), M))
    return x, w, rng.standard_normal(M)


def _dc_forward(fns, x, w, b):
    result = fns(DC_FWD)(x, w, b, {"mode": "train", "p": 0.5, "seed": 3})
    if not isinstance(result, tuple) or len(result) != 2:
        raise NoEvidence
    return result


def _dc_works_on_rows(fns, x, w, b):
    """The layer works on the flattened (N, D) x: else a 4-D input teaches nothing new."""
    out, cache = _dc_forward(fns, x.reshape(x.shape[0], -1), w, b)
    if np.shape(out) != (x.shape[0], w.shape[1]):
        raise NoEvidence
    return cache


@prop(DC_FWD)
def dropconnect_flattens_x(exercise, fns):
    """A 4-D x (N, C, H, W) is used as N rows of D = C * H * W numbers, as CS231n's affine_forward does."""
    x, w, b = _dc_problem()
    _dc_works_on_rows(fns, x, w, b)
    try:
        out, _ = _dc_forward(fns, x, w, b)
    except NoEvidence:
        raise
    except Exception as err:
        return Finding("forgot to flatten x",
                       f"on a 4-D x of shape {x.shape} with w of shape {w.shape} your forward pass raised "
                       f"{error_name(err)}: x @ w pairs the last axis of x ({x.shape[-1]} numbers) with the "
                       f"{w.shape[0]} rows of w. Flatten each example first, {FLATTEN} @ w, as CS231n's "
                       f"affine_forward does.")
    if np.shape(out) != (x.shape[0], w.shape[1]):
        return Finding("forgot to flatten x",
                       f"on a 4-D x of shape {x.shape} with w of shape {w.shape} your forward pass returned out "
                       f"of shape {np.shape(out)} instead of (N, M) = {(x.shape[0], w.shape[1])}. Flatten each "
                       f"example first, {FLATTEN} @ w, as CS231n's affine_forward does.")


@prop(DC_BWD)
def dropconnect_dx_has_x_shape(exercise, fns):
    """Given the cache of a 4-D x, the backward pass returns dx in x's own shape (N, C, H, W)."""
    x, w, b = _dc_problem()
    dout = np.random.default_rng(5).standard_normal((x.shape[0], w.shape[1]))
    rows = fns(DC_BWD)(dout, _dc_works_on_rows(fns, x, w, b))  # 2-D works: else 4-D teaches nothing new
    if not isinstance(rows, tuple) or len(rows) != 3 or np.shape(rows[0]) != (x.shape[0], w.shape[0]):
        raise NoEvidence
    out, cache = _dc_forward(fns, x, w, b)  # the forward pass must work on 4-D (its own property says so)
    if np.shape(out) != (x.shape[0], w.shape[1]):
        raise NoEvidence
    try:
        result = fns(DC_BWD)(dout, cache)
    except Exception as err:
        return Finding("forgot to flatten x in backward",
                       f"given the cache of a 4-D x of shape {x.shape} your backward pass raised {error_name(err)}: "
                       f"x.T @ dout needs x as N rows of D = {w.shape[0]} numbers. Flatten it first, {FLATTEN}, "
                       f"and reshape dx back to x.shape.")
    if not isinstance(result, tuple) or len(result) != 3:
        raise NoEvidence
    dx, dw = np.shape(result[0]), np.shape(result[1])
    if dw != w.shape:
        return Finding("forgot to flatten x in backward",
                       f"given the cache of a 4-D x of shape {x.shape} your dw has shape {dw} instead of w's shape "
                       f"{w.shape}: x.T @ dout needs x as N rows of D = {w.shape[0]} numbers; flatten it first, "
                       f"{FLATTEN}.")
    if dx != x.shape:
        what = "one row of D numbers per example" if dx == (x.shape[0], w.shape[0]) else "not x's shape"
        return Finding("dx not reshaped to x's shape",
                       f"for a 4-D x of shape {x.shape} your dx has shape {dx} ({what}): return "
                       f"dx.reshape(x.shape), keeping x (or its shape) in the cache.")


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
