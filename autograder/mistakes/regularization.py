"""Known mistakes in ``regularization.py`` (penalties, DropConnect, stochastic depth).

Penalties are deterministic: recognised by a probe (``detect="match"``).
DropConnect and stochastic depth are random: the checks name the symptom
(``detect="check"``). Forward mistakes keep the solution's cache format and
store what they really used, so the solution's backward pass stays the exact
gradient of the wrong forward wherever that is possible. Apart from the
2-D-only ones, DropConnect mistakes flatten x as the solution does, so each
holds one bug.
"""
from __future__ import annotations

import numpy as np

from autograder.mistakes import Mistake, Variant


# ------------------------------------------------------------ penalties
def l2_without_half(W, reg):
    return float(reg * np.sum(W * W)), 2 * reg * W


def l2_gradient_doubled(W, reg):
    return float(0.5 * reg * np.sum(W * W)), 2 * reg * W


def l1_gradient_uses_w(W, reg):
    return float(reg * np.sum(np.abs(W))), reg * W


def l1_sign_at_zero(W, reg):
    return float(reg * np.sum(np.abs(W))), reg * np.where(W >= 0, 1.0, -1.0)


def elastic_net_swapped(W, reg, l1_ratio=0.5):
    r = 1.0 - l1_ratio
    return (float(reg * (r * np.sum(np.abs(W)) + (1 - r) * 0.5 * np.sum(W * W))),
            reg * (r * np.sign(W) + (1 - r) * W))


def elastic_net_without_half(W, reg, l1_ratio=0.5):
    return (float(reg * (l1_ratio * np.sum(np.abs(W)) + (1 - l1_ratio) * np.sum(W * W))),
            reg * (l1_ratio * np.sign(W) + (1 - l1_ratio) * 2 * W))


# ----------------------------------------------------------- DropConnect
def dropconnect_masks_activations(x, w, b, param):
    p, mode = param["p"], param["mode"]
    rng = np.random.default_rng(param.get("seed"))
    x_rows = x.reshape(x.shape[0], -1)
    if mode == "train":
        x_dropped = x_rows * (rng.random(x_rows.shape) < p) / p
        return (x_dropped @ w + b).astype(x.dtype), (x_dropped.reshape(x.shape), w, np.ones(w.shape))
    return (x_rows @ w + b).astype(x.dtype), (x, w, np.ones(w.shape))


def dropconnect_not_inverted(x, w, b, param):
    p, mode = param["p"], param["mode"]
    rng = np.random.default_rng(param.get("seed"))
    mask = (rng.random(w.shape) < p).astype(float) if mode == "train" else np.ones(w.shape)
    return (x.reshape(x.shape[0], -1) @ (w * mask) + b).astype(x.dtype), (x, w * mask, mask)


def dropconnect_p_as_drop(x, w, b, param):
    p, mode = param["p"], param["mode"]
    rng = np.random.default_rng(param.get("seed"))
    mask = (rng.random(w.shape) >= p) / (1 - p) if mode == "train" else np.ones(w.shape)
    return (x.reshape(x.shape[0], -1) @ (w * mask) + b).astype(x.dtype), (x, w * mask, mask)


def dropconnect_x_not_flattened(x, w, b, param):
    """The 2-D layer: x @ w works for x of shape (N, D) only."""
    p, mode = param["p"], param["mode"]
    rng = np.random.default_rng(param.get("seed"))
    mask = (rng.random(w.shape) < p) / p if mode == "train" else np.ones(w.shape)
    return (x @ (w * mask) + b).astype(x.dtype), (x, w * mask, mask)


def dropconnect_backward_fresh_mask(dout, cache):
    x, w_eff, mask = cache
    kept = mask != 0
    p = float(np.mean(kept)) if kept.any() else 1.0
    fresh = (np.random.default_rng().random(mask.shape) < p) / p if not np.all(mask == 1) else mask
    x_rows = x.reshape(x.shape[0], -1)
    return (dout @ w_eff.T).reshape(x.shape), (x_rows.T @ dout) * fresh, dout.sum(axis=0)


def dropconnect_backward_no_scale(dout, cache):
    x, w_eff, mask = cache
    x_rows = x.reshape(x.shape[0], -1)
    return (dout @ w_eff.T).reshape(x.shape), (x_rows.T @ dout) * (mask != 0), dout.sum(axis=0)


def dropconnect_backward_x_not_flattened(dout, cache):
    """The 2-D backward pass: x.T @ dout is (D, M) for x of shape (N, D) only."""
    x, w_eff, mask = cache
    return dout @ w_eff.T, (x.T @ dout) * mask, dout.sum(axis=0)


def dropconnect_backward_dx_flat(dout, cache):
    x, w_eff, mask = cache
    x_rows = x.reshape(x.shape[0], -1)
    return dout @ w_eff.T, (x_rows.T @ dout) * mask, dout.sum(axis=0)


def dropconnect_rows_by_w(x, w, b, param):
    """Right: rows flattened with -1 in the first place, np.dot, the mask built with np.where."""
    p, mode = param["p"], param["mode"]
    rng = np.random.default_rng(param.get("seed"))
    scale = np.where(rng.random(w.shape) < p, 1.0 / p, 0.0) if mode == "train" else np.ones_like(w)
    w_used = w * scale
    out = np.dot(x.reshape(-1, w.shape[0]), w_used) + b
    return out.astype(x.dtype), (x, w_used, scale)


# -------------------------------------------------------- stochastic depth
def _gate_shape(x):
    return (x.shape[0],) + (1,) * (x.ndim - 1)


def sd_not_scaled_at_test(x, f, param):
    p, mode = param["p"], param["mode"]
    rng = np.random.default_rng(param.get("seed"))
    gate = (rng.random(x.shape[0]) < p).astype(float) if mode == "train" else np.ones(x.shape[0])
    gate = gate.reshape(_gate_shape(x))
    return (x + gate * f).astype(x.dtype), gate


def sd_drops_skip(x, f, param):
    p, mode = param["p"], param["mode"]
    rng = np.random.default_rng(param.get("seed"))
    gate = (rng.random(x.shape[0]) < p).astype(float) if mode == "train" else np.full(x.shape[0], p)
    gate = gate.reshape(_gate_shape(x))
    return (gate * x + f).astype(x.dtype), gate


def sd_one_coin_per_batch(x, f, param):
    p, mode = param["p"], param["mode"]
    rng = np.random.default_rng(param.get("seed"))
    coin = float(rng.random() < p) if mode == "train" else p
    gate = np.full(_gate_shape(x), coin)
    return (x + gate * f).astype(x.dtype), gate


def sd_coins_for_2d(x, f, param):
    p, mode = param["p"], param["mode"]
    rng = np.random.default_rng(param.get("seed"))
    gate = (rng.random(x.shape[0]) < p).astype(float) if mode == "train" else np.full(x.shape[0], p)
    return (x + gate[:, None] * f).astype(x.dtype), gate[:, None]


def sd_backward_skip_masked(dout, cache):
    return cache * dout, cache * dout


def sd_backward_branch_not_gated(dout, cache):
    return dout.copy(), dout.copy()


def sd_backward_test_not_scaled(dout, cache):
    return dout.copy(), (cache > 0) * dout


M = Mistake
MISTAKES = [
    M("regularization.l2_penalty", "L2 without the 0.5",
      "This assignment's L2 is R = 0.5 * reg * sum(W**2) (as CS231n's FullyConnectedNet), so dR/dW = reg * W; "
      "you computed reg * sum(W**2) and 2 * reg * W.", l2_without_half),
    M("regularization.l2_penalty", "L2 gradient 2 * reg * W",
      "With the 0.5 in the loss, the gradient is reg * W, not 2 * reg * W: loss and gradient disagree.",
      l2_gradient_doubled),
    M("regularization.l1_penalty", "L1 gradient using W instead of sign(W)",
      "The (sub)gradient of reg * |W| is reg * sign(W): every nonzero weight gets pushed by the same amount.",
      l1_gradient_uses_w),
    M("regularization.l1_penalty", "L1 subgradient at 0 not 0",
      "np.sign(0) = 0: at W = 0 use the subgradient 0 (np.where(W >= 0, 1, -1) pushes zero weights away).",
      l1_sign_at_zero),
    M("regularization.elastic_net_penalty", "elastic-net mixing swapped",
      "l1_ratio weighs the L1 part: reg * (l1_ratio * sum|W| + (1 - l1_ratio) * 0.5 * sum W**2).",
      elastic_net_swapped),
    M("regularization.elastic_net_penalty", "elastic net without the 0.5 on the L2 part",
      "The L2 part of the elastic net is 0.5 * sum(W**2), so l1_ratio = 0 gives exactly l2_penalty.",
      elastic_net_without_half),
    M("regularization.dropconnect_forward", "masking activations instead of weights",
      "DropConnect drops weights: the mask has w's shape and multiplies w, not x (that would be dropout).",
      dropconnect_masks_activations, detect="check"),
    M("regularization.dropconnect_forward", "not inverted",
      "Divide the kept weights by p at train time (inverted scaling), so test time is the plain affine layer.",
      dropconnect_not_inverted, detect="check"),
    M("regularization.dropconnect_forward", "p used as drop probability",
      "p is the probability of KEEPING a weight: mask = rng.random(w.shape) < p.", dropconnect_p_as_drop,
      detect="check"),
    M("regularization.dropconnect_forward", "forgot to flatten x",
      "x may have any shape (N, d_1, ..., d_k): flatten each example to a row first, "
      "x.reshape(x.shape[0], -1) @ w, as CS231n's affine_forward does.", dropconnect_x_not_flattened,
      detect="property"),
    M("regularization.dropconnect_backward", "forgot to flatten x in backward",
      "Flatten the cached x to (N, D) before x.T @ dout, and reshape dx back to x's shape.",
      dropconnect_backward_x_not_flattened, detect="property"),
    M("regularization.dropconnect_backward", "dx not reshaped to x's shape",
      "dx must have x's shape (N, d_1, ..., d_k): return dx.reshape(x.shape).", dropconnect_backward_dx_flat,
      detect="property"),
    M("regularization.dropconnect_backward", "mask regenerated in backward",
      "Use the mask saved in the cache by the forward pass; a new mask is the gradient of another network.",
      dropconnect_backward_fresh_mask, detect="check"),
    M("regularization.dropconnect_backward", "forgot 1/p in backward",
      "The forward pass used w * mask / p, so dw = (x.T @ dout) * mask / p.", dropconnect_backward_no_scale,
      detect="check"),
    M("regularization.stochastic_depth_forward", "not scaled at test time",
      "At test time the block outputs its expectation x + p * f: in training the branch only survived with "
      "probability p.", sd_not_scaled_at_test, detect="check"),
    M("regularization.stochastic_depth_forward", "dropping the skip path instead of the branch",
      "Stochastic depth drops the residual branch f; the identity (skip) path x is always kept: y = x + b * f.",
      sd_drops_skip, detect="check"),
    M("regularization.stochastic_depth_forward", "one coin for the whole batch",
      "This assignment draws one coin per example (shape (N,), broadcast over the features); the paper's "
      "one-coin-per-mini-batch variant has the same expectation but is not what is asked.",
      sd_one_coin_per_batch, detect="check"),
    M("regularization.stochastic_depth_forward", "coins shaped for 2-D inputs",
      "Shape the coins (N,) + (1,) * (x.ndim - 1) so they broadcast over every feature of a 4-D input.",
      sd_coins_for_2d, detect="property"),
    M("regularization.stochastic_depth_backward", "gradient to the skip path masked",
      "The skip path is the identity: dx_skip = dout, whatever the coin.", sd_backward_skip_masked,
      detect="check"),
    M("regularization.stochastic_depth_backward", "branch gradient not gated",
      "df = gate * dout: a dropped branch gets no gradient (df = 0 for that example).",
      sd_backward_branch_not_gated, detect="check"),
    M("regularization.stochastic_depth_backward", "test-time gradient not scaled by p",
      "At test time y = x + p * f, so df = p * dout: use the gate stored by the forward pass, not (gate > 0).",
      sd_backward_test_not_scaled, detect="check"),
]


def dropconnect_binomial(x, w, b, param):
    """rng.binomial coins: right values, but an int mask / p is float64, so a float32 x gives float64 out."""
    p, mode = param["p"], param["mode"]
    if mode == "train":
        mask = np.random.default_rng(param.get("seed")).binomial(1, p, size=w.shape) / p
    else:
        mask = np.ones(w.shape)
    w_dropped = w * mask
    return x.reshape(len(x), -1).dot(w_dropped) + b, (x, w_dropped, mask)


CORRECT = [
    Variant("regularization.dropconnect_forward", "rows by w.shape[0], np.dot, boolean mask",
            dropconnect_rows_by_w),
    Variant("regularization.dropconnect_forward", "rng.binomial mask (float64 result)", dropconnect_binomial,
            note="float64"),
]


# ---------------------------------------------------------------- probes
def _penalty_probe(fn, with_ratio=False):
    W = np.linspace(-1.2, 0.9, 15).reshape(3, 5)
    W[1, 2] = 0.0
    outputs = []
    for reg in (0.3, 1.7):
        for ratio in ((0.25, 0.9) if with_ratio else (None,)):
            loss, dW = fn(W, reg) if ratio is None else fn(W, reg, ratio)
            outputs += [np.asarray(float(loss)), np.asarray(dW, dtype=np.float64)]
    return outputs


def _elastic_probe(fn):
    return _penalty_probe(fn, with_ratio=True)


PROBES = {
    "regularization.l2_penalty": _penalty_probe,
    "regularization.l1_penalty": _penalty_probe,
    "regularization.elastic_net_penalty": _elastic_probe,
}
