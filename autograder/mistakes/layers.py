"""Known mistakes in dropout (``cs231n_lec7/layers.py``), and right dropout written differently.

Named by the properties in ``cs231n_lec7/checks/diagnose/layers.py``; the
visible checks also describe the symptom in their own message.
"""
from __future__ import annotations

import numpy as np

from autograder.mistakes import Mistake, Variant


def dropout_p_as_drop(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    rng = np.random.default_rng(dropout_param.get("seed"))
    if mode == "train":
        mask = (rng.random(x.shape) >= p) / (1 - p)
        return (x * mask).astype(x.dtype), (dropout_param, mask)
    return x.copy(), (dropout_param, None)


def dropout_not_inverted(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    rng = np.random.default_rng(dropout_param.get("seed"))
    if mode == "train":
        mask = (rng.random(x.shape) < p).astype(x.dtype)
        return x * mask, (dropout_param, mask)
    return x.copy(), (dropout_param, None)


def dropout_vanilla_test_scaling(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    rng = np.random.default_rng(dropout_param.get("seed"))
    if mode == "train":
        mask = (rng.random(x.shape) < p) / p
        return (x * mask).astype(x.dtype), (dropout_param, mask)
    return (x * p).astype(x.dtype), (dropout_param, None)


def dropout_at_test_time(x, dropout_param):
    p = dropout_param["p"]
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape) < p) / p
    return (x * mask).astype(x.dtype), (dropout_param, mask)


def dropout_seed_ignored(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    rng = np.random.default_rng()
    if mode == "train":
        mask = (rng.random(x.shape) < p) / p
        return (x * mask).astype(x.dtype), (dropout_param, mask)
    return x.copy(), (dropout_param, None)


def dropout_shared_mask(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    rng = np.random.default_rng(dropout_param.get("seed"))
    if mode == "train":
        mask = (rng.random(x.shape[1:]) < p) / p
        return (x * mask).astype(x.dtype), (dropout_param, np.broadcast_to(mask, x.shape).copy())
    return x.copy(), (dropout_param, None)


def dropout_backward_fresh_mask(dout, cache):
    dropout_param, _ = cache
    if dropout_param["mode"] == "train":
        p = dropout_param["p"]
        mask = (np.random.default_rng().random(dout.shape) < p) / p
        return dout * mask
    return dout


def dropout_backward_no_scale(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        return dout * (mask != 0)
    return dout


def dropout_one_coin_for_all(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    rng = np.random.default_rng(dropout_param.get("seed"))
    if mode == "train":
        mask = np.full(x.shape, 1.0 / p) if rng.random() < p else np.zeros(x.shape)
        return (x * mask).astype(x.dtype), (dropout_param, mask)
    return x.copy(), (dropout_param, None)


def dropout_one_coin_per_example(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    rng = np.random.default_rng(dropout_param.get("seed"))
    if mode == "train":
        keep = rng.random((x.shape[0],) + (1,) * (x.ndim - 1)) < p
        mask = np.broadcast_to(keep / p, x.shape).copy()
        return (x * mask).astype(x.dtype), (dropout_param, mask)
    return x.copy(), (dropout_param, None)


def dropout_gaussian_coins(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    rng = np.random.default_rng(dropout_param.get("seed"))
    if mode == "train":
        mask = (rng.standard_normal(x.shape) < p) / p
        return (x * mask).astype(x.dtype), (dropout_param, mask)
    return x.copy(), (dropout_param, None)


def dropout_gaussian_noise(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    rng = np.random.default_rng(dropout_param.get("seed"))
    if mode == "train":
        mask = rng.normal(1.0, np.sqrt((1 - p) / p), size=x.shape)
        return (x * mask).astype(x.dtype), (dropout_param, mask)
    return x.copy(), (dropout_param, None)


def dropout_mask_from_two_dims(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    rng = np.random.default_rng(dropout_param.get("seed"))
    if mode == "train":
        mask = (rng.random((x.shape[0], x.shape[1])) < p) / p
        return (x * mask).astype(x.dtype), (dropout_param, mask)
    return x.copy(), (dropout_param, None)


def dropout_2017_convention(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    if mode == "train":
        mask = (np.random.rand(*x.shape) >= p) / (1 - p)
        out = x * mask
    else:
        out = x
    return out.astype(x.dtype, copy=True), (dropout_param, mask)


def dropout_backward_mask_ignored(dout, cache):
    dropout_param, _ = cache
    if dropout_param["mode"] == "train":
        return dout / dropout_param["p"]
    return dout


# ----------------------------------------------- right, written otherwise
def dropout_binomial(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode != "train":
        return x.copy(), (dropout_param, None)
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = rng.binomial(1, p, size=x.shape) / p
    return (x * mask).astype(x.dtype), (dropout_param, mask)


def dropout_where(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    mask = None
    out = x.copy()
    if mode == "train":
        keep = np.random.default_rng(dropout_param.get("seed")).uniform(size=x.shape) < p
        out = np.where(keep, x / p, 0).astype(x.dtype)
        mask = keep.astype(x.dtype) / p
    return out, (dropout_param, mask)


def dropout_float64_promotion(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "train":
        mask = (np.random.default_rng(dropout_param.get("seed")).random(x.shape) < p) / p
        return x * mask, (dropout_param, mask)
    return x, (dropout_param, None)


def dropout_backward_where(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] != "train":
        return dout.copy()
    return np.where(mask != 0, dout * mask, 0.0).astype(dout.dtype)


def dropout_bool_mask_division(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test":
        return x.copy(), (dropout_param, None)
    keep = np.random.default_rng(dropout_param.get("seed")).random(size=x.shape) < p
    mask = keep / p
    return (x * keep / p).astype(x.dtype), (dropout_param, mask)


def dropout_p_as_drop_test_scaled(x, dropout_param):
    """p as drop probability and vanilla test-time scaling x * (1 - p), float64 result (no cast)."""
    p, mode = dropout_param["p"], dropout_param["mode"]
    mask = None
    if mode == "train":
        rng = np.random.default_rng(dropout_param.get("seed"))
        mask = (rng.random(x.shape) > p) / (1 - p)
        out = x * mask
    else:
        out = x * (1 - p)
    return out, (dropout_param, mask)


def dropout_gaussian_coins_p_as_drop(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    mask = None
    if mode == "train":
        rng = np.random.default_rng(dropout_param.get("seed"))
        mask = (rng.standard_normal(x.shape) > p) / (1 - p)
        return x * mask, (dropout_param, mask)
    return x, (dropout_param, mask)


def dropout_backward_mask_always(dout, cache):
    dropout_param, mask = cache
    return dout * mask


M = Mistake
MISTAKES = [
    M("layers.dropout_forward", "p used as drop probability",
      "In this assignment p is the probability of KEEPING a unit: mask = rng.random(x.shape) < p.",
      dropout_p_as_drop, detect="property"),
    M("layers.dropout_forward", "dropout not inverted",
      "Inverted dropout divides the kept units by p at train time, so test time needs no change.",
      dropout_not_inverted, detect="property"),
    M("layers.dropout_forward", "vanilla dropout's test-time scaling",
      "With inverted dropout the test-time forward pass is the identity; multiplying by p is vanilla dropout.",
      dropout_vanilla_test_scaling, detect="property"),
    M("layers.dropout_forward", "dropout applied at test time",
      "At test time every unit is kept: return x unchanged.", dropout_at_test_time, detect="property"),
    M("layers.dropout_forward", "seed ignored",
      "Draw the mask from np.random.default_rng(dropout_param['seed']) so a seed reproduces the mask.",
      dropout_seed_ignored, detect="property"),
    M("layers.dropout_forward", "one mask shared across the batch",
      "Draw one coin per element: the mask has the full shape of x.", dropout_shared_mask, detect="property"),
    M("layers.dropout_backward", "fresh mask in backward",
      "Reuse the mask saved in the cache by the forward pass; a new mask gives the gradient of another network.",
      dropout_backward_fresh_mask, detect="property"),
    M("layers.dropout_backward", "forgot 1/p in backward",
      "The gradient of x * mask / p is mask / p: keep the scaling in the backward pass too.",
      dropout_backward_no_scale, detect="property"),
    M("layers.dropout_forward", "one coin for the whole input", "one rng.random() for every unit.",
      dropout_one_coin_for_all, detect="property"),
    M("layers.dropout_forward", "one coin per example", "a coin per row.", dropout_one_coin_per_example,
      detect="property"),
    M("layers.dropout_forward", "Gaussian coins", "rng.standard_normal(x.shape) < p.", dropout_gaussian_coins,
      detect="property"),
    M("layers.dropout_forward", "Gaussian noise instead of 0/1 coins", "multiplies by N(1, (1-p)/p) noise.",
      dropout_gaussian_noise, detect="property"),
    M("layers.dropout_forward", "mask drawn for 2-D inputs only", "rng.random((x.shape[0], x.shape[1])).",
      dropout_mask_from_two_dims, detect="property"),
    M("layers.dropout_forward", "p used as drop probability",
      "the 2017 assignment's convention: mask = (np.random.rand(*x.shape) >= p) / (1 - p).",
      dropout_2017_convention, detect="property", slug="dropout_2017_convention"),
    M("layers.dropout_backward", "mask not applied in backward", "dx = dout / p.", dropout_backward_mask_ignored,
      detect="property"),
    M("layers.dropout_forward", "p used as drop probability", "(rng.random > p) / (1 - p); test: x * (1 - p).",
      dropout_p_as_drop_test_scaled, detect="property", also=("vanilla dropout's test-time scaling",),
      slug="dropout_p_as_drop_test_scaled"),
    M("layers.dropout_forward", "Gaussian coins", "(rng.standard_normal > p) / (1 - p).",
      dropout_gaussian_coins_p_as_drop, detect="property", also=("p used as drop probability",),
      slug="dropout_gaussian_coins_p_as_drop"),
    M("layers.dropout_backward", "backward ignores test mode", "dout * mask with mask = None at test time.",
      dropout_backward_mask_always, detect="property"),
]

V = Variant
CORRECT = [
    V("layers.dropout_forward", "rng.binomial coins", dropout_binomial),
    V("layers.dropout_forward", "np.where on a uniform draw, bool mask cached", dropout_where),
    V("layers.dropout_forward", "x * mask without a cast (float64 result)", dropout_float64_promotion,
      note="float64"),
    V("layers.dropout_backward", "np.where on the cached mask", dropout_backward_where),
    V("layers.dropout_forward", "x * keep / p with a boolean keep", dropout_bool_mask_division),
]
