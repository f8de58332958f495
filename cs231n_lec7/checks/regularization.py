"""Visible checks for ``cs231n_lec7/regularization.py``.

- Weight penalties (deterministic): loss and gradient on fixed inputs against
  stored values, the gradient against a numerical gradient of the student's
  own loss, special cases (elastic net at l1_ratio 0 and 1), dtype kept.
- DropConnect and stochastic depth (random): structural and statistical
  checks. The effective weight matrix of a DropConnect forward call is read
  back by least squares (out - b = x @ W_eff for a full-rank x), so the mask
  actually used can be compared with the gradients, whatever the student's
  random draws; the kept fraction must lie within ``SIGMAS`` binomial standard
  deviations of p. Stochastic depth's gate per example is read off as
  (y - x) / f.
- DropConnect takes x of any shape (N, d_1, ..., d_k), flattened to (N, D) as
  CS231n's affine_forward does: a 4-D x must give what its flattened rows give
  with the same seed, and dx comes back in x's shape (numerical gradient
  check on a small 4-D x).
- Backward checks judge the backward pass against the forward call that
  produced its cache. When the forward pass is not of the required form (its
  own checks say so), a backward check cannot judge and passes; a forward pass
  not written yet (NotImplementedError) fails it.

Every body takes its problem as arguments so the hidden checks reuse it.
"""
from __future__ import annotations

import numpy as np

from .core import (
    STEP_TOL,
    CheckFailure,
    as_array,
    assert_close,
    assert_dtype_kept,
    check,
    numerical_gradient_of_calls,
    quiet_numerics,
    rel_error,
)

L2, L1, EN = "regularization.l2_penalty", "regularization.l1_penalty", "regularization.elastic_net_penalty"
DC_FWD, DC_BWD = "regularization.dropconnect_forward", "regularization.dropconnect_backward"
SD_FWD, SD_BWD = "regularization.stochastic_depth_forward", "regularization.stochastic_depth_backward"
SIGMAS = 5.0          # statistical tolerance, in binomial standard deviations
RECOVER_TOL = 1e-8    # relative residual of the least-squares read-back of W_eff
GRAD_TOL = 1e-6       # backward vs. read-back / numerical gradients (float64)


# --------------------------------------------------------------------------
# Weight penalties
# --------------------------------------------------------------------------
def penalty_weights():
    """Fixed weights with both signs and exact zeros (L1's subgradient is 0 there)."""
    W = np.linspace(-1.3, 1.1, 24).reshape(4, 6)
    W[0, 0] = W[2, 3] = 0.0
    return W


def call_penalty(ctx, exercise, W, reg, *extra):
    label = exercise.rpartition(".")[2]
    W_copy = np.array(W, copy=True)
    with quiet_numerics():
        result = ctx.fn(exercise)(W, reg, *extra)
    loss, dW = penalty_pair(label, result, np.shape(W))
    if not np.array_equal(W, W_copy):
        raise CheckFailure(f"{label}: the function changed the array W it was given")
    return loss, dW


def penalty_pair(label, result, shape):
    """(loss as a float, dW) from what a penalty returned, failing clearly on anything else."""
    if not isinstance(result, tuple) or len(result) != 2:
        raise CheckFailure(f"{label}: expected a pair (loss, dW), got {type(result).__name__}")
    loss, dW = result
    if isinstance(loss, np.ndarray) and loss.size == 1:
        loss = loss.item()
    if not isinstance(loss, (float, int, np.floating, np.integer)) or isinstance(loss, bool):
        raise CheckFailure(f"{label}: loss should be a number (a float), got {type(loss).__name__}")
    return float(loss), as_array(f"{label}: dW", dW, shape=shape)


def _close(a, b, tol=STEP_TOL):
    return rel_error(a, b) <= tol


PENALTY_HINTS = {
    L2: [(2.0, 1.0, "the loss is twice the expected value — L2 without the 0.5: R = 0.5 * reg * sum(W**2)"),
         (1.0, 2.0, "dW is twice the expected value — with R = 0.5 * reg * sum(W**2) the gradient is reg * W, "
                    "not 2 * reg * W"),
         (2.0, 2.0, "loss and dW are both twice the expected values — L2 without the 0.5: this assignment "
                    "uses R = 0.5 * reg * sum(W**2), dR/dW = reg * W")],
}


def penalty_fixed(ctx, exercise, key, W, reg, *extra):
    """Loss and dW on fixed inputs equal the stored values, with hints for known slips."""
    label = exercise.rpartition(".")[2]
    loss, dW = call_penalty(ctx, exercise, W, reg, *extra)
    want_loss = float(ctx.expected(f"regularization/{key}/loss"))
    want_dW = ctx.expected(f"regularization/{key}/dW")
    for loss_factor, grad_factor, hint in PENALTY_HINTS.get(exercise, []):
        if _close(loss, loss_factor * want_loss) and _close(dW, grad_factor * want_dW) and \
                (loss_factor, grad_factor) != (1.0, 1.0):
            raise CheckFailure(f"{label}: {hint}")
    if exercise == L1 and _close(dW, reg * W) and not _close(dW, want_dW):
        raise CheckFailure(f"{label}: dW equals reg * W — L1 gradient using W instead of sign(W); "
                           f"the (sub)gradient of reg * |W| is reg * sign(W)")
    if exercise == EN and key.startswith("en"):
        swapped_loss = float(ctx.expected(f"regularization/{key}/swapped_loss"))
        if _close(loss, swapped_loss) and not _close(loss, want_loss):
            raise CheckFailure(f"{label}: the loss matches l1_ratio and 1 - l1_ratio exchanged — elastic-net "
                               f"mixing swapped: l1_ratio weighs the L1 part sum|W|")
    if abs(loss - want_loss) > STEP_TOL * max(1e-8, abs(loss) + abs(want_loss)):
        raise CheckFailure(f"{label}: loss should be {want_loss:.8g} for reg={reg}"
                           + (f", l1_ratio={extra[0]}" if extra else "") + f", got {loss:.8g}")
    assert_close(f"{label}: dW", dW, want_dW, STEP_TOL)


def penalty_gradient_check(ctx, exercise, W, reg, *extra):
    """dW agrees with a centred-difference gradient of the student's own loss (W away from 0)."""
    label = exercise.rpartition(".")[2]
    _, dW = call_penalty(ctx, exercise, W, reg, *extra)
    num = numerical_gradient_of_calls(ctx, exercise, lambda z: (z, reg, *extra),
                                      lambda r: penalty_pair(label, r, np.shape(W))[0], W)
    err = rel_error(dW, num)
    if err > GRAD_TOL:
        ratio = float(np.median(np.abs(dW) / np.maximum(np.abs(num), 1e-12)))
        extra_hint = f" (dW is about {ratio:.3g} × the numerical gradient)" if np.isfinite(ratio) else ""
        raise CheckFailure(f"{label}: dW does not match the numerical gradient of your loss: relative error "
                           f"{err:.3g} > {GRAD_TOL:.0e}{extra_hint} — loss and gradient must describe the same "
                           f"penalty")


def penalty_dtype(ctx, exercise, *extra):
    W = penalty_weights().astype(np.float32)
    label = exercise.rpartition(".")[2]
    _, dW = call_penalty(ctx, exercise, W, 0.3, *extra)
    as_array(f"{label}: dW for a float32 W", dW, shape=W.shape, dtype=np.float32)


def elastic_net_limits(ctx, W, reg):
    """l1_ratio = 1 is pure L1 and l1_ratio = 0 pure L2 (with the 0.5)."""
    for ratio, name, loss_want, grad_want in (
            (1.0, "L1", reg * np.sum(np.abs(W)), reg * np.sign(W)),
            (0.0, "L2", 0.5 * reg * np.sum(W * W), reg * W)):
        loss, dW = call_penalty(ctx, EN, W, reg, ratio)
        if not _close(loss, loss_want) or not _close(dW, grad_want):
            raise CheckFailure(
                f"elastic_net_penalty: with l1_ratio={ratio} the penalty should be pure {name} "
                f"(loss {loss_want:.6g}), got loss {loss:.6g}"
                + (" — elastic-net mixing swapped: l1_ratio weighs the L1 part" if
                   _close(loss, (reg * np.sum(np.abs(W)) if ratio == 0.0 else 0.5 * reg * np.sum(W * W)))
                   else ""))


PENALTY_CASES = {  # key -> (exercise, reg, extra args)
    "l2": (L2, 0.37, ()),
    "l1": (L1, 0.21, ()),
    "en_03": (EN, 0.45, (0.3,)),
    "en_08": (EN, 0.15, (0.8,)),
}


def make_expected(ref) -> dict:
    out = {}
    W = penalty_weights()
    for key, (exercise, reg, extra) in PENALTY_CASES.items():
        loss, dW = ref(exercise)(W, reg, *extra)
        out[f"{key}/loss"] = np.float64(loss)
        out[f"{key}/dW"] = dW
        if exercise == EN:
            out[f"{key}/swapped_loss"] = np.float64(ref(exercise)(W, reg, 1.0 - extra[0])[0])
    return out


def _register_penalty(key):
    exercise, reg, extra = PENALTY_CASES[key]
    label = exercise.rpartition(".")[2]
    suffix = f" (l1_ratio={extra[0]})" if extra else ""

    @check(exercise, name=f"{label}: loss and dW on fixed inputs{suffix}")
    def _(ctx):
        penalty_fixed(ctx, exercise, key, penalty_weights(), reg, *extra)

    if key in ("l2", "l1", "en_03"):
        @check(exercise, name=f"{label}: dW matches a numerical gradient of the loss")
        def _(ctx):
            W = penalty_weights()
            W = np.where(np.abs(W) < 0.05, 0.3, W)  # L1 has a kink at 0
            penalty_gradient_check(ctx, exercise, W, reg, *extra)

        @check(exercise, name=f"{label}: float32 stays float32, W untouched")
        def _(ctx):
            penalty_dtype(ctx, exercise, *extra)


for _key in PENALTY_CASES:
    _register_penalty(_key)


@check(EN, name="elastic_net_penalty: l1_ratio=1 is L1, l1_ratio=0 is L2")
def _(ctx):
    elastic_net_limits(ctx, penalty_weights(), 0.6)


# --------------------------------------------------------------------------
# DropConnect
# --------------------------------------------------------------------------
def dc_problem(n, d, m, seed):
    """x full rank (n >= d), weights bounded away from 0 (so W_eff / w reads the mask)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    w = rng.choice([-1.0, 1.0], size=(d, m)) * rng.uniform(0.5, 1.5, size=(d, m))
    b = rng.standard_normal(m)
    return x, w, b


def dc_problem_nd(shape, m, seed):
    """x of ``shape`` = (N, d_1, ..., d_k) and w of shape (D, m), D = d_1 * ... * d_k."""
    x_rows, w, b = dc_problem(shape[0], int(np.prod(shape[1:])), m, seed)
    return x_rows.reshape(shape), w, b


def layer_param(p, mode="train", seed=None):
    param = {"mode": mode, "p": p}
    if seed is not None:
        param["seed"] = seed
    return param


def dc_pair(result, shape):
    """(out, cache) from what dropconnect_forward returned, failing clearly on anything else."""
    if not isinstance(result, tuple) or len(result) != 2:
        raise CheckFailure(f"dropconnect_forward: expected a pair (out, cache), got {type(result).__name__}")
    return as_array("dropconnect_forward: out", result[0], shape=shape), result[1]


def dc_forward(ctx, x, w, b, p, mode="train", seed=None):
    with quiet_numerics():
        result = ctx.fn(DC_FWD)(x, w, b, layer_param(p, mode, seed))
    return dc_pair(result, (x.shape[0], w.shape[1]))


def read_effective_weights(x, b, out):
    """(W_eff, relative residual) with out - b = x @ W_eff by least squares."""
    with quiet_numerics():
        target = out.astype(np.float64) - b
        w_eff, *_ = np.linalg.lstsq(x, target, rcond=None)
        residual = np.linalg.norm(x @ w_eff - target) / max(np.linalg.norm(target), 1e-12)
    return w_eff, float(residual) if np.isfinite(residual) else np.inf


def dc_kept_fraction(ctx, n, d, m, p, seed):
    """One weight mask for the batch, entries in {0, 1/p}, kept fraction within 5 sigma of p."""
    x, w, b = dc_problem(n, d, m, seed)
    out, _ = dc_forward(ctx, x, w, b, p, "train", seed)
    w_eff, residual = read_effective_weights(x, b, out)
    if residual > RECOVER_TOL:
        raise CheckFailure(
            "dropconnect_forward: the output is not x @ (w * mask) + b for any one weight mask — masking "
            "activations instead of weights? DropConnect drops entries of w (mask shape = w.shape), "
            "shared by the whole mini-batch; dropout would drop entries of x")
    ratio = w_eff / w
    kept = np.abs(ratio) > 0.5  # kept weights have ratio 1/p >= 1, dropped ones 0
    n_w = ratio.size
    frac = float(np.mean(kept))
    sigma = np.sqrt(p * (1 - p) / n_w)
    if abs(frac - p) > SIGMAS * sigma:
        if abs(frac - (1 - p)) <= SIGMAS * sigma:
            raise CheckFailure(f"dropconnect_forward: kept {frac:.3f} of the weights with p={p}, expected about "
                               f"{p:.3f} — p used as drop probability? Here p is the probability of KEEPING")
        raise CheckFailure(f"dropconnect_forward: kept {frac:.3f} of the weights with p={p}, expected "
                           f"{p:.3f} ± {SIGMAS * sigma:.3f}")
    if kept.any():
        values = ratio[kept]
        if not np.allclose(values, 1.0 / p, rtol=1e-6):
            value = float(np.median(values))
            if np.isclose(value, 1.0):
                raise CheckFailure("dropconnect_forward: kept weights are used unscaled — not inverted: divide "
                                   f"the kept weights by p at train time (1/p = {1 / p:.4g}), so test time needs "
                                   "no change")
            if np.isclose(value, 1.0 / (1 - p)):
                raise CheckFailure(f"dropconnect_forward: kept weights are scaled by 1/(1-p) — p used as drop "
                                   f"probability? Scale by 1/p = {1 / p:.4g}")
            raise CheckFailure(f"dropconnect_forward: kept weights are scaled by {value:.4g}, expected "
                               f"1/p = {1 / p:.4g}")
        if np.any(np.abs(ratio[~kept]) > 1e-6):
            raise CheckFailure("dropconnect_forward: dropped weights should contribute exactly 0")
    if np.all(kept == kept[:, :1]):
        raise CheckFailure("dropconnect_forward: whole rows of w are kept or dropped together — that is "
                           "dropout on the inputs (masking activations instead of weights); draw one coin "
                           "per weight, with the shape of w")
    if np.all(kept == kept[:1, :]):
        raise CheckFailure("dropconnect_forward: whole columns of w are kept or dropped together — that is "
                           "dropout on the outputs (masking activations instead of weights); draw one coin "
                           "per weight, with the shape of w")


def dc_test_mode(ctx, n, d, m, p, seed):
    """Test mode is the plain affine layer x @ w + b."""
    x, w, b = dc_problem(n, d, m, seed)
    out, _ = dc_forward(ctx, x, w, b, p, "test", seed)
    want = x @ w + b
    if _close(out, want, 1e-9):
        return
    if _close(out, x @ (p * w) + b, 1e-9):
        raise CheckFailure("dropconnect_forward: test mode used w * p — vanilla dropout's test-time scaling; "
                           "with inverted scaling at train time, test mode is the plain affine layer")
    w_eff, residual = read_effective_weights(x, b, out)
    if residual < RECOVER_TOL and np.mean(np.abs(w_eff) < 1e-6) > 0.01:
        raise CheckFailure("dropconnect_forward: test mode dropped some weights — DropConnect applied at "
                           "test time; at test time every weight is kept")
    raise CheckFailure(f"dropconnect_forward: test mode should return x @ w + b; relative error "
                       f"{rel_error(out, want):.3g}")


def dc_seed(ctx, n, d, m, p, seed):
    """Same seed → same output; another seed → another mask."""
    x, w, b = dc_problem(n, d, m, seed)
    a, _ = dc_forward(ctx, x, w, b, p, "train", seed)
    again, _ = dc_forward(ctx, x, w, b, p, "train", seed)
    if not np.array_equal(a, again):
        raise CheckFailure("dropconnect_forward: two calls with the same param['seed'] gave different outputs "
                           "— seed ignored? Draw the mask from np.random.default_rng(param['seed'])")
    other, _ = dc_forward(ctx, x, w, b, p, "train", seed + 1)
    if np.array_equal(a, other):
        raise CheckFailure("dropconnect_forward: different seeds gave the same output — the mask must come "
                           "from the seed in param")


def dc_dtype(ctx, p, seed):
    x, w, b = (a.astype(np.float32) for a in dc_problem(6, 4, 5, seed))
    for mode in ("train", "test"):
        with quiet_numerics():
            result = ctx.fn(DC_FWD)(x, w, b, {"mode": mode, "p": p, "seed": seed})
        out = as_array(f"dropconnect_forward ({mode} mode): out for float32 inputs", result[0], shape=(6, 5))
        # DESIGN.md's dtype policy, as for dropout: a float64 result earns a note. Right values at float64
        # tolerance: out - b = x @ (w * M) with M in {0, 1/p} (train) or M = 1 (test).
        w_eff, residual = read_effective_weights(x.astype(np.float64), b.astype(np.float64), out)
        ratio = w_eff / w.astype(np.float64)
        want = np.where(np.abs(ratio) < 0.5, 0.0, 1.0 / p) if mode == "train" else np.ones_like(ratio)
        right = residual <= RECOVER_TOL and bool(np.allclose(ratio, want, rtol=1e-6, atol=1e-6))
        assert_dtype_kept(ctx, f"dropconnect_forward ({mode} mode): out for float32 inputs", out, np.float32,
                          right=right, name="out", source="x")


def _dc_backward(ctx, dout, cache, shapes):
    with quiet_numerics():
        result = ctx.fn(DC_BWD)(dout, cache)
    if not isinstance(result, tuple) or len(result) != 3:
        raise CheckFailure(f"dropconnect_backward: expected a tuple (dx, dw, db), got {type(result).__name__}")
    return tuple(as_array(f"dropconnect_backward: {name}", g, shape=s)
                 for name, g, s in zip(("dx", "dw", "db"), result, shapes))


def dc_backward_matches_forward(ctx, n, d, m, p, seed, mode="train"):
    """dx, dw, db use the very mask (read back from the output) of the forward call."""
    x, w, b = dc_problem(n, d, m, seed)
    out, cache = dc_forward(ctx, x, w, b, p, mode, seed)
    w_eff, residual = read_effective_weights(x, b, out)
    if residual > RECOVER_TOL:
        return  # the forward pass is not a DropConnect layer; its own checks say so
    dout = np.random.default_rng(seed + 7).standard_normal(out.shape)
    dx, dw, db = _dc_backward(ctx, dout, cache, (x.shape, w.shape, b.shape))
    scale = w_eff / w
    scale = np.where(np.abs(scale) < 1e-6, 0.0, scale)  # least squares leaves ~1e-14 for dropped weights
    w_eff = scale * w
    want_dw = (x.T @ dout) * scale
    tag = f"dropconnect_backward ({mode} mode)"
    assert_close(f"{tag}: db", db, dout.sum(axis=0), GRAD_TOL, "db = sum of dout over the batch")
    assert_close(f"{tag}: dx", dx, dout @ w_eff.T, GRAD_TOL, "dx = dout @ (w * mask / p).T with the forward's mask")
    if rel_error(dw, want_dw) <= GRAD_TOL:
        return
    if mode == "train":
        dropped = np.abs(scale) < 1e-6
        if rel_error(dw, (x.T @ dout) * (~dropped)) <= GRAD_TOL:
            raise CheckFailure(f"{tag}: dw = (x.T @ dout) * mask without 1/p — forgot 1/p in backward: the "
                               f"gradient of w * mask / p is mask / p")
        if rel_error(dw, x.T @ dout) <= GRAD_TOL:
            raise CheckFailure(f"{tag}: dw is not masked — dropped weights get no gradient: multiply by the "
                               f"forward's mask / p")
        if not np.array_equal(np.abs(dw) < 1e-12, dropped):
            raise CheckFailure(f"{tag}: dw is zero at other places than the weights the forward pass dropped — "
                               f"mask regenerated in backward? Reuse the mask saved in the cache")
    assert_close(f"{tag}: dw", dw, want_dw, GRAD_TOL, "dw = (x.T @ dout) * mask / p")


def dc_gradient_check(ctx, shape, m, p, seed):
    """Numerical gradients through the student's seeded forward pass vs dropconnect_backward.

    ``shape`` is x's shape (N, d_1, ..., d_k) with N > D = d_1 * ... * d_k, so
    that the read-back of W_eff tells a DropConnect layer from anything else;
    dx must come back in x's shape.
    """
    x, w, b = dc_problem_nd(shape, m, seed)
    x_rows = x.reshape(shape[0], -1)
    if x.ndim == 2:
        out, cache = dc_forward(ctx, x, w, b, p, "train", seed)
    else:
        out, cache = dc_forward_or_none(ctx, x, w, b, p, "train", seed)
        if out is None:
            return  # the forward pass fails on this x: its own 4-D check says so
    again, _ = dc_forward(ctx, x_rows, w, b, p, "train", seed)
    if not np.array_equal(out, again) or read_effective_weights(x_rows, b, out)[1] > RECOVER_TOL:
        return  # seed ignored, x not flattened row by row, or not a DropConnect layer: forward checks say so
    dout = np.random.default_rng(seed + 3).standard_normal(out.shape)
    dx, dw, db = _dc_backward(ctx, dout, cache, (x.shape, w.shape, b.shape))

    def args_with(which):
        def args_at(z):
            args = {"x": x, "w": w, "b": b, which: z}
            return args["x"], args["w"], args["b"], layer_param(p, "train", seed)
        return args_at

    def value_of(result):
        return float(np.sum(dc_pair(result, out.shape)[0] * dout))

    for name, got, at in (("dx", dx, x), ("dw", dw, w), ("db", db, b)):
        num = numerical_gradient_of_calls(ctx, DC_FWD, args_with(name[1:]), value_of, at)
        err = rel_error(got, num)
        if err > GRAD_TOL:
            raise CheckFailure(f"dropconnect_backward: {name} fails the numerical gradient check"
                               + (f" for x of shape {x.shape}" if x.ndim > 2 else "")
                               + f", relative error {err:.3g} > {GRAD_TOL:.0e}")


def dc_forward_or_none(ctx, x, w, b, p, mode, seed):
    """The forward call, or (None, None) when the student's forward pass fails on this x.

    For backward checks on non-2-D inputs: the forward's own check names that
    failure. A time limit or a dead worker is not the student's answer and still
    stops the exercise.
    """
    try:
        return dc_forward(ctx, x, w, b, p, mode, seed)
    except CheckFailure:
        return None, None
    except Exception as err:
        if type(err).__name__ in ("WorkerTimeout", "WorkerDied", "NotImplementedError") or \
                getattr(err, "type_name", "") == "NotImplementedError":
            raise  # not the student's answer, or nothing to judge yet: never a free pass
        return None, None


def dc_any_shape(ctx, shape, m, p, seed):
    """A 4-D x (N, C, H, W) is used as its N rows of D = C * H * W numbers, as CS231n's affine_forward does."""
    x, w, b = dc_problem_nd(shape, m, seed)
    x_rows = x.reshape(shape[0], -1)
    tag = f"dropconnect_forward on x of shape {shape} (w of shape {w.shape})"
    hint = "flatten each example first: x.reshape(x.shape[0], -1) @ w"
    out, _ = dc_forward(ctx, x, w, b, p, "test", seed)
    want = x_rows @ w + b
    if not _close(out, want, 1e-9):
        raise CheckFailure(f"{tag}, test mode: expected x.reshape(N, -1) @ w + b, relative error "
                           f"{rel_error(out, want):.3g} — {hint}, row by row in x's own (C-)order")
    out, _ = dc_forward(ctx, x, w, b, p, "train", seed)
    rows, _ = dc_forward(ctx, x_rows, w, b, p, "train", seed)
    if not np.array_equal(out, rows):
        raise CheckFailure(f"{tag}, train mode: the output differs from that of x.reshape(N, -1) with the same "
                           f"seed (relative error {rel_error(out, rows):.3g}) — {hint}, and draw the mask with "
                           f"w's shape whatever x's shape")
    if x.ndim > 2 and not np.array_equal(x, dc_problem_nd(shape, m, seed)[0]):
        raise CheckFailure(f"{tag}: the function changed the array x it was given")


@check(DC_FWD, name="dropconnect_forward: weight mask kept fraction and inverted scaling", weight=2.0)
def _(ctx):
    for p in (0.3, 0.75):
        dc_kept_fraction(ctx, 60, 30, 40, p, seed=11)


@check(DC_FWD, name="dropconnect_forward: test mode is the plain affine layer")
def _(ctx):
    dc_test_mode(ctx, 8, 5, 6, 0.6, seed=12)


@check(DC_FWD, name="dropconnect_forward: same seed same mask, new seed new mask")
def _(ctx):
    dc_seed(ctx, 8, 5, 6, 0.5, seed=13)


@check(DC_FWD, name="dropconnect_forward: float32 stays float32")
def _(ctx):
    dc_dtype(ctx, 0.7, seed=14)


@check(DC_FWD, name="dropconnect_forward: 4-D input (N, C, H, W) is flattened to (N, D)")
def _(ctx):
    dc_any_shape(ctx, (24, 2, 3, 3), 5, 0.6, seed=18)


@check(DC_BWD, name="dropconnect_backward: gradients use the forward's mask", weight=2.0)
def _(ctx):
    dc_backward_matches_forward(ctx, 20, 8, 7, 0.6, seed=15, mode="train")


@check(DC_BWD, name="dropconnect_backward: test mode gradients")
def _(ctx):
    dc_backward_matches_forward(ctx, 10, 4, 3, 0.6, seed=16, mode="test")


@check(DC_BWD, name="dropconnect_backward: numerical gradient check")
def _(ctx):
    dc_gradient_check(ctx, (4, 3), 5, 0.7, seed=17)


@check(DC_BWD, name="dropconnect_backward: 4-D input, dx in x's shape, numerical gradient check")
def _(ctx):
    dc_gradient_check(ctx, (8, 2, 1, 3), 4, 0.6, seed=19)


# --------------------------------------------------------------------------
# Stochastic depth
# --------------------------------------------------------------------------
def sd_problem(shape, seed):
    """x anything, f bounded away from 0 (so the gate reads off as (y - x) / f)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    f = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 1.5, size=shape)
    return x, f


def sd_pair(result, shape):
    """(y, cache) from what stochastic_depth_forward returned, failing clearly on anything else."""
    if not isinstance(result, tuple) or len(result) != 2:
        raise CheckFailure(f"stochastic_depth_forward: expected a pair (y, cache), got {type(result).__name__}")
    return as_array("stochastic_depth_forward: y", result[0], shape=shape), result[1]


def sd_forward(ctx, x, f, p, mode="train", seed=None):
    with quiet_numerics():
        result = ctx.fn(SD_FWD)(x, f, layer_param(p, mode, seed))
    return sd_pair(result, x.shape)


def read_gate(x, f, y):
    """(gate per example or None, elementwise gate) with y = x + gate * f."""
    with quiet_numerics():
        g = (y.astype(np.float64) - x) / f
    flat = g.reshape(g.shape[0], -1)
    if np.all(np.isfinite(flat)) and np.allclose(flat, flat[:, :1], rtol=1e-9, atol=1e-9):
        return flat[:, 0], g
    return None, g


def _skip_dropped(x, f, y):
    with quiet_numerics():
        h = ((y.astype(np.float64) - f) / x).reshape(x.shape[0], -1)
    return bool(np.all(np.isfinite(h)) and np.allclose(h, h[:, :1], atol=1e-9)
                and not np.allclose(h, 1.0, atol=1e-9))


def sd_survival(ctx, shape, p, seed):
    """One coin per example, branch kept unscaled, survival fraction within 5 sigma of p."""
    x, f = sd_problem(shape, seed)
    y, _ = sd_forward(ctx, x, f, p, "train", seed)
    gate, g = read_gate(x, f, y)
    if gate is None:
        if _skip_dropped(x, f, y):
            raise CheckFailure("stochastic_depth_forward: y = b * x + f — dropping the skip path instead of the "
                               "branch; the identity path is always kept: y = x + b * f")
        flat = g.reshape(g.shape[0], -1)
        if np.all(np.isfinite(flat)) and np.all(np.isclose(flat, 0) | np.isclose(flat, 1) | np.isclose(flat, 1 / p)):
            raise CheckFailure("stochastic_depth_forward: the features of one example got different coins — one "
                               "coin per example: all features of example n share b_n")
        raise CheckFailure("stochastic_depth_forward: y is not x + b_n * f_n with one gate b_n per example")
    n = gate.size
    frac = float(np.mean(np.abs(gate) > 1e-9))
    sigma = np.sqrt(p * (1 - p) / n)
    if p < 1 and np.all(np.isclose(gate, gate[0])):
        raise CheckFailure("stochastic_depth_forward: every example got the same coin — one coin for the whole "
                           "batch (the paper's per-mini-batch variant); this assignment draws one coin per example")
    if abs(frac - p) > SIGMAS * sigma:
        if abs(frac - (1 - p)) <= SIGMAS * sigma:
            raise CheckFailure(f"stochastic_depth_forward: the branch survived in {frac:.3f} of the examples "
                               f"with p={p} — p used as drop probability? p is the SURVIVAL probability")
        raise CheckFailure(f"stochastic_depth_forward: the branch survived in {frac:.3f} of the examples, "
                           f"expected {p:.3f} ± {SIGMAS * sigma:.3f}")
    values = gate[np.abs(gate) > 1e-9]
    if values.size and not np.allclose(values, 1.0, rtol=1e-9):
        if np.allclose(values, 1.0 / p, rtol=1e-6):
            raise CheckFailure("stochastic_depth_forward: surviving branches are scaled by 1/p — inverted "
                               "scaling; as in the paper, train time uses y = x + f unscaled and test time "
                               "multiplies by p")
        raise CheckFailure(f"stochastic_depth_forward: surviving branches are scaled by {float(np.median(values)):.4g}"
                           f", expected 1 (y = x + f)")


def sd_test_mode(ctx, shape, p, seed):
    """Test mode: y = x + p * f."""
    x, f = sd_problem(shape, seed)
    y, _ = sd_forward(ctx, x, f, p, "test", seed)
    want = x + p * f
    if _close(y, want, 1e-9):
        return
    if _close(y, x + f, 1e-9):
        raise CheckFailure("stochastic_depth_forward: test mode returned x + f — not scaled at test time: "
                           "the branch survived only with probability p in training, so test time uses "
                           "its expectation x + p * f")
    if _close(y, p * x + f, 1e-9) or _skip_dropped(x, f, y):
        raise CheckFailure("stochastic_depth_forward: test mode scaled x — dropping the skip path instead of "
                           "the branch; the identity path is never dropped or scaled: y = x + p * f")
    if _close(y, x + (1 - p) * f, 1e-9):
        raise CheckFailure("stochastic_depth_forward: test mode used (1 - p) * f — p used as drop probability? "
                           "p is the SURVIVAL probability: y = x + p * f")
    raise CheckFailure(f"stochastic_depth_forward: test mode should return x + p * f; relative error "
                       f"{rel_error(y, want):.3g}")


def sd_seed(ctx, shape, p, seed):
    x, f = sd_problem(shape, seed)
    a, _ = sd_forward(ctx, x, f, p, "train", seed)
    again, _ = sd_forward(ctx, x, f, p, "train", seed)
    if not np.array_equal(a, again):
        raise CheckFailure("stochastic_depth_forward: the same param['seed'] gave different outputs — seed "
                           "ignored? Draw the coins from np.random.default_rng(param['seed'])")
    other, _ = sd_forward(ctx, x, f, p, "train", seed + 1)
    if np.array_equal(a, other):
        raise CheckFailure("stochastic_depth_forward: different seeds gave the same coins")


def sd_dtype(ctx, p, seed):
    """float32 (N, C, H, W) in → float32 out (a float64 result with right values earns a note)."""
    x, f = (a.astype(np.float32) for a in sd_problem((6, 2, 3, 3), seed))
    for mode in ("train", "test"):
        with quiet_numerics():
            result = ctx.fn(SD_FWD)(x, f, {"mode": mode, "p": p, "seed": seed})
        y = as_array(f"stochastic_depth_forward ({mode} mode): y for float32 (N, C, H, W) inputs",
                     sd_pair(result, x.shape)[0])
        # Right values at float64 tolerance: gate = (y - x) / f is 0 or 1 per example (train), p (test).
        gate = (y.astype(np.float64) - x.astype(np.float64)) / f.astype(np.float64)
        per_example = gate.reshape(len(gate), -1)
        right = bool(np.allclose(per_example, per_example[:, :1], rtol=1e-6, atol=1e-6)) and (
            bool(np.all(np.isclose(per_example[:, 0], 0.0, atol=1e-6) | np.isclose(per_example[:, 0], 1.0)))
            if mode == "train" else bool(np.allclose(per_example, p, rtol=1e-6)))
        assert_dtype_kept(ctx, f"stochastic_depth_forward ({mode} mode): y for float32 (N, C, H, W) inputs",
                          y, np.float32, right=right, name="y", source="x")


def sd_backward_matches_forward(ctx, shape, p, seed, mode="train"):
    """dx_skip = dout and df = gate * dout with the forward call's gate."""
    x, f = sd_problem(shape, seed)
    y, cache = sd_forward(ctx, x, f, p, mode, seed)
    gate, _ = read_gate(x, f, y)
    if gate is None:
        return  # the forward pass is not x + gate * f; its own checks say so
    dout = np.random.default_rng(seed + 5).standard_normal(shape)
    with quiet_numerics():
        result = ctx.fn(SD_BWD)(dout, cache)
    tag = f"stochastic_depth_backward ({mode} mode)"
    if not isinstance(result, tuple) or len(result) != 2:
        raise CheckFailure(f"{tag}: expected a pair (dx_skip, df), got {type(result).__name__}")
    dx, df = (as_array(f"{tag}: {n}", r, shape=shape) for n, r in zip(("dx_skip", "df"), result))
    gate_b = gate.reshape((-1,) + (1,) * (len(shape) - 1))
    if not _close(dx, dout, GRAD_TOL):
        if _close(dx, gate_b * dout, GRAD_TOL):
            raise CheckFailure(f"{tag}: dx_skip was multiplied by the gate — gradient to the skip path masked; "
                               f"the identity path passes dout through unchanged")
        assert_close(f"{tag}: dx_skip", dx, dout, GRAD_TOL, "dx_skip = dout")
    if _close(df, gate_b * dout, GRAD_TOL):
        return
    if _close(df, dout, GRAD_TOL):
        if mode == "test":
            raise CheckFailure(f"{tag}: df = dout — test-time gradient not scaled by p: y = x + p * f, so "
                               f"df = p * dout")
        raise CheckFailure(f"{tag}: df = dout — branch gradient not gated: a dropped branch gets no gradient, "
                           f"df = b * dout")
    assert_close(f"{tag}: df", df, gate_b * dout, GRAD_TOL, "df = gate * dout with the forward's gate")


def sd_gradient_check(ctx, shape, p, seed):
    x, f = sd_problem(shape, seed)
    y, cache = sd_forward(ctx, x, f, p, "train", seed)
    again, _ = sd_forward(ctx, x, f, p, "train", seed)
    if not np.array_equal(y, again) or read_gate(x, f, y)[0] is None:
        return
    dout = np.random.default_rng(seed + 9).standard_normal(shape)
    with quiet_numerics():
        dx, df = ctx.fn(SD_BWD)(dout, cache)
    param = layer_param(p, "train", seed)

    def value_of(result):
        return float(np.sum(sd_pair(result, shape)[0] * dout))

    num_x = numerical_gradient_of_calls(ctx, SD_FWD, lambda z: (z, f, param), value_of, x)
    num_f = numerical_gradient_of_calls(ctx, SD_FWD, lambda z: (x, z, param), value_of, f)
    for name, got, num in (("dx_skip", dx, num_x), ("df", df, num_f)):
        err = rel_error(as_array(f"stochastic_depth_backward: {name}", got, shape=shape), num)
        if err > GRAD_TOL:
            raise CheckFailure(f"stochastic_depth_backward: {name} fails the numerical gradient check, "
                               f"relative error {err:.3g} > {GRAD_TOL:.0e}")


@check(SD_FWD, name="stochastic_depth_forward: one coin per example, survival fraction p", weight=2.0)
def _(ctx):
    for p in (0.5, 0.8):
        sd_survival(ctx, (2000, 3), p, seed=21)


@check(SD_FWD, name="stochastic_depth_forward: test mode is x + p * f")
def _(ctx):
    sd_test_mode(ctx, (7, 4), 0.7, seed=22)


@check(SD_FWD, name="stochastic_depth_forward: same seed same coins, new seed new coins")
def _(ctx):
    sd_seed(ctx, (50, 3), 0.5, seed=23)


@check(SD_FWD, name="stochastic_depth_forward: float32 and (N, C, H, W) inputs")
def _(ctx):
    sd_dtype(ctx, 0.6, seed=24)
    sd_survival(ctx, (400, 2, 3, 3), 0.6, seed=25)
    sd_test_mode(ctx, (5, 2, 3, 3), 0.6, seed=26)


@check(SD_BWD, name="stochastic_depth_backward: gradients use the forward's coins", weight=2.0)
def _(ctx):
    sd_backward_matches_forward(ctx, (40, 3), 0.5, seed=25, mode="train")


@check(SD_BWD, name="stochastic_depth_backward: test mode gradients")
def _(ctx):
    sd_backward_matches_forward(ctx, (6, 4), 0.7, seed=26, mode="test")


@check(SD_BWD, name="stochastic_depth_backward: numerical gradient check")
def _(ctx):
    sd_gradient_check(ctx, (5, 2), 0.6, seed=27)
