"""Tests of cs231n_lec7/layers.py: gradient checks, batch norm's modes, dropout, and torch agreement.

Every check is also run on a planted wrong implementation (a backward pass
with a classic bug, dropout with p used as the drop probability, ...) to show
that the check can fail. Dropout's statistical and structural checks are the
check library's own (``cs231n_lec7.checks.layers``), so the tolerance (5
binomial standard deviations) is written once.
"""
import numpy as np
import pytest

from cs231n_lec7 import layers
from cs231n_lec7.checks import layers as dropout_checks
from cs231n_lec7.checks.core import GRAD_CHECK_TOL, CheckFailure, Context, LocalFunctions
from cs231n_lec7.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array, rel_error


# --------------------------------------------------------------------------
# Numerical gradient checks, one table for every layer
# --------------------------------------------------------------------------
def _away_from_zero(a, margin=0.05):
    """Push entries away from ReLU's kink, where centered differences are wrong."""
    return np.where(np.abs(a) < margin, np.sign(a + 1e-12) * margin, a)


def case_affine(rng):
    inputs = {"x": rng.standard_normal((4, 2, 3)), "w": rng.standard_normal((6, 5)), "b": rng.standard_normal(5)}
    return inputs, lambda x, w, b: layers.affine_forward(x, w, b), layers.affine_backward


def case_relu(rng):
    inputs = {"x": _away_from_zero(rng.standard_normal((5, 6)))}
    return inputs, lambda x: layers.relu_forward(x), lambda dout, cache: (layers.relu_backward(dout, cache),)


def case_affine_relu(rng):
    inputs = {"x": rng.standard_normal((4, 6)), "w": rng.standard_normal((6, 5)), "b": rng.standard_normal(5)}
    return inputs, layers.affine_relu_forward, layers.affine_relu_backward


def case_batchnorm_train(rng):
    inputs = {"x": 3 + 2 * rng.standard_normal((8, 5)), "gamma": rng.standard_normal(5),
              "beta": rng.standard_normal(5)}
    bn_param = {"mode": "train"}
    return (inputs, lambda x, gamma, beta: layers.batchnorm_forward(x, gamma, beta, bn_param),
            layers.batchnorm_backward)


def case_batchnorm_test(rng):
    inputs = {"x": rng.standard_normal((6, 4)), "gamma": rng.standard_normal(4), "beta": rng.standard_normal(4)}
    bn_param = {"mode": "test", "running_mean": rng.standard_normal(4), "running_var": rng.uniform(0.5, 2, 4)}
    return (inputs, lambda x, gamma, beta: layers.batchnorm_forward(x, gamma, beta, bn_param),
            layers.batchnorm_backward)


def case_affine_bn_relu(rng):
    inputs = {"x": rng.standard_normal((10, 6)), "w": rng.standard_normal((6, 5)), "b": rng.standard_normal(5),
              "gamma": rng.uniform(0.5, 1.5, 5), "beta": rng.standard_normal(5)}
    bn_param = {"mode": "train"}
    return (inputs, lambda x, w, b, gamma, beta: layers.affine_bn_relu_forward(x, w, b, gamma, beta, bn_param),
            layers.affine_bn_relu_backward)


def case_dropout(rng):
    inputs = {"x": rng.standard_normal((6, 7))}
    param = {"mode": "train", "p": 0.6, "seed": 123}
    return (inputs, lambda x: layers.dropout_forward(x, param),
            lambda dout, cache: (layers.dropout_backward(dout, cache),))


def case_dropout_test_mode(rng):
    inputs = {"x": rng.standard_normal((6, 7))}
    param = {"mode": "test", "p": 0.6}
    return (inputs, lambda x: layers.dropout_forward(x, param),
            lambda dout, cache: (layers.dropout_backward(dout, cache),))


LAYER_CASES = {
    "affine": case_affine,
    "relu": case_relu,
    "affine_relu": case_affine_relu,
    "batchnorm_train": case_batchnorm_train,
    "batchnorm_test": case_batchnorm_test,
    "affine_bn_relu": case_affine_bn_relu,
    "dropout_train_seeded": case_dropout,
    "dropout_test": case_dropout_test_mode,
}


def gradient_errors(case, backward=None, seed=0):
    """{input name: rel_error(analytic, numerical)} for one layer case (float64, h=1e-5).

    Where the true gradient is zero (an affine bias right before batch norm: the
    normalization removes it), a relative error compares rounding noise with
    rounding noise, so the absolute error is reported instead.
    """
    rng = np.random.default_rng(seed)
    inputs, forward, correct_backward = case(rng)
    backward = backward or correct_backward
    out, cache = forward(**inputs)
    dout = rng.standard_normal(out.shape)
    analytic = backward(dout, cache)
    errors = {}
    for name, grad in zip(inputs, analytic):
        numerical = eval_numerical_gradient_array(lambda _: forward(**inputs)[0], inputs[name], dout)
        if np.max(np.abs(numerical)) < 1e-7:
            errors[name] = float(np.max(np.abs(grad - numerical)))
        else:
            errors[name] = rel_error(grad, numerical)
    assert len(errors) == len(inputs), "the backward pass returned fewer gradients than the layer has inputs"
    return errors


@pytest.mark.parametrize("name", LAYER_CASES)
def test_layer_gradients(name):
    """Every gradient a layer returns agrees with centered differences (rel error < GRAD_CHECK_TOL)."""
    errors = gradient_errors(LAYER_CASES[name])
    assert max(errors.values()) < GRAD_CHECK_TOL, errors


def test_softmax_loss_gradient():
    """softmax_loss's dx agrees with the numerical gradient of its loss."""
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((7, 5)), rng.integers(5, size=7)
    _, dx = layers.softmax_loss(x, y)
    numerical = eval_numerical_gradient(lambda z: layers.softmax_loss(z, y)[0], x, verbose=False)
    assert rel_error(dx, numerical) < GRAD_CHECK_TOL


# Planted wrong backward passes: each must FAIL the gradient check above.
def affine_backward_db_mean(dout, cache):
    dx, dw, _ = layers.affine_backward(dout, cache)
    return dx, dw, dout.mean(axis=0)


def relu_backward_no_mask(dout, cache):
    return (dout.copy(),)


def batchnorm_backward_ignores_batch_stats(dout, cache):
    _, x_hat, gamma, inv_std = cache
    return gamma * inv_std * dout, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def dropout_backward_fresh_mask(dout, cache):
    param, _ = cache
    mask = (np.random.default_rng(param["seed"] + 1).random(dout.shape) < param["p"]) / param["p"]
    return (dout * mask,)


def dropout_backward_no_scale(dout, cache):
    _, mask = cache
    return (dout * (mask != 0),)


PLANTED_BACKWARDS = [
    ("affine", affine_backward_db_mean),
    ("relu", relu_backward_no_mask),
    ("batchnorm_train", batchnorm_backward_ignores_batch_stats),
    ("dropout_train_seeded", dropout_backward_fresh_mask),
    ("dropout_train_seeded", dropout_backward_no_scale),
]


@pytest.mark.parametrize("name,backward", PLANTED_BACKWARDS, ids=[b.__name__ for _, b in PLANTED_BACKWARDS])
def test_gradient_check_rejects_planted_backward(name, backward):
    """A backward pass with a classic bug fails the same gradient check."""
    errors = gradient_errors(LAYER_CASES[name], backward=backward)
    assert max(errors.values()) > GRAD_CHECK_TOL, errors


def test_softmax_gradient_check_rejects_missing_average():
    """A softmax dx that forgets the 1/N of the mean fails the gradient check."""
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((7, 5)), rng.integers(5, size=7)
    _, dx = layers.softmax_loss(x, y)
    numerical = eval_numerical_gradient(lambda z: layers.softmax_loss(z, y)[0], x, verbose=False)
    assert rel_error(dx * 7, numerical) > GRAD_CHECK_TOL


# --------------------------------------------------------------------------
# Affine, ReLU, softmax: shapes, dtypes, no mutation
# --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layers_keep_dtype_and_inputs(dtype):
    """float32 stays float32 through every forward and backward; no layer changes its inputs."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 2, 3)).astype(dtype)
    w, b = rng.standard_normal((6, 4)).astype(dtype), rng.standard_normal(4).astype(dtype)
    gamma, beta = np.ones(4, dtype), np.zeros(4, dtype)
    originals = [a.copy() for a in (x, w, b)]
    out, cache = layers.affine_bn_relu_forward(x, w, b, gamma, beta, {"mode": "train"})
    dout = rng.standard_normal(out.shape).astype(dtype)
    dout_before = dout.copy()
    grads = layers.affine_bn_relu_backward(dout, cache)
    loss, dscores = layers.softmax_loss(out, rng.integers(4, size=8))
    dmask = layers.dropout_forward(out, {"mode": "train", "p": 0.5, "seed": 0})[0]
    assert out.dtype == dscores.dtype == dmask.dtype == dtype
    assert all(g.dtype == dtype for g in grads), [g.dtype for g in grads]
    assert grads[0].shape == x.shape and isinstance(loss, float)
    assert all(np.array_equal(a, o) for a, o in zip((x, w, b), originals))
    assert np.array_equal(dout, dout_before)


def test_affine_forward_shape_error():
    """A weight matrix of the wrong height is a clear error."""
    with pytest.raises(ValueError, match="w must have shape"):
        layers.affine_forward(np.ones((2, 3, 4)), np.ones((3, 5)), np.zeros(5))


def test_affine_backward_can_skip_dx():
    """need_dx=False returns None for dx and the same dw, db."""
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    _, cache = layers.affine_forward(x, w, b)
    dout = rng.standard_normal((4, 2))
    full, skipped = layers.affine_backward(dout, cache), layers.affine_backward(dout, cache, need_dx=False)
    assert skipped[0] is None and np.array_equal(full[1], skipped[1]) and np.array_equal(full[2], skipped[2])


def test_softmax_loss_is_stable_and_calibrated():
    """Huge scores give a finite loss equal to the shifted one; zero scores give ln(C)."""
    y = np.array([0, 2, 1])
    x = np.random.default_rng(4).standard_normal((3, 4))
    loss, dx = layers.softmax_loss(x, y)
    big_loss, big_dx = layers.softmax_loss(x + 1e4, y)
    assert np.isfinite(big_loss) and big_loss == pytest.approx(loss, rel=1e-9)
    assert np.allclose(big_dx, dx, atol=1e-9)
    assert layers.softmax_loss(np.zeros((3, 4)), y)[0] == pytest.approx(np.log(4))
    assert np.allclose(dx.sum(axis=1), 0)  # each row of softmax - onehot sums to zero


@pytest.mark.parametrize("y, match", [
    (np.array([0, 1]), "one label per row"),
    (np.array([0.0, 1.0, 2.0]), "must be integers"),
    (np.array([0, 4, 1]), r"must lie in 0\.\.3"),
    (np.array([0, -1, 1]), r"must lie in 0\.\.3"),
])
def test_softmax_loss_label_errors(y, match):
    """Labels of the wrong shape, type or range are explained, not an IndexError."""
    with pytest.raises(ValueError, match=match):
        layers.softmax_loss(np.zeros((3, 4)), y)


# --------------------------------------------------------------------------
# Batch normalization: train statistics, running averages, test mode
# --------------------------------------------------------------------------
def test_batchnorm_train_normalizes_and_updates_running_stats():
    """Train mode: per-feature mean beta and std gamma; running averages follow the momentum formula."""
    rng = np.random.default_rng(5)
    x = 5 + 3 * rng.standard_normal((200, 4))
    gamma, beta = np.array([1.0, 2.0, 0.5, 3.0]), np.array([0.0, -1.0, 2.0, 0.5])
    bn_param = {"mode": "train", "momentum": 0.8}
    out, _ = layers.batchnorm_forward(x, gamma, beta, bn_param)
    assert np.allclose(out.mean(axis=0), beta, atol=1e-10)
    assert np.allclose(out.std(axis=0), gamma, rtol=1e-4)  # eps=1e-5 shrinks the std a hair
    assert np.allclose(bn_param["running_mean"], 0.2 * x.mean(axis=0))
    assert np.allclose(bn_param["running_var"], 0.2 * x.var(axis=0))  # biased variance, as CS231n


def batchnorm_test_uses_batch_stats(x, gamma, beta, bn_param):
    """PLANTED WRONG: test mode that normalizes with the test batch's own statistics."""
    return layers.batchnorm_forward(x, gamma, beta, dict(bn_param, mode="train"))


def uses_running_stats(batchnorm_forward):
    rng = np.random.default_rng(6)
    gamma, beta = rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    bn_param = {"mode": "train"}
    for _ in range(50):  # warm the running averages up on data with mean 2, var 9
        layers.batchnorm_forward(2 + 3 * rng.standard_normal((64, 3)), gamma, beta, bn_param)
    bn_param["mode"] = "test"
    x = 2 + 3 * rng.standard_normal((10, 3))
    out, _ = batchnorm_forward(x, gamma, beta, bn_param)
    want = gamma * (x - bn_param["running_mean"]) / np.sqrt(bn_param["running_var"] + 1e-5) + beta
    one, _ = batchnorm_forward(x[:1], gamma, beta, bn_param)
    return np.allclose(out, want) and np.allclose(one, out[:1])


def test_batchnorm_test_mode_uses_running_stats():
    """Test mode uses the running averages: the formula holds and an example's output ignores its batch."""
    assert uses_running_stats(layers.batchnorm_forward)
    with np.errstate(all="ignore"):  # the planted version divides by a zero batch variance for one row
        assert not uses_running_stats(batchnorm_test_uses_batch_stats)


def test_batchnorm_test_mode_leaves_running_stats_alone():
    """Test mode reads the running averages and does not update them."""
    bn_param = {"mode": "test", "running_mean": np.ones(2), "running_var": 4 * np.ones(2)}
    layers.batchnorm_forward(np.random.default_rng(7).standard_normal((5, 2)), np.ones(2), np.zeros(2), bn_param)
    assert np.array_equal(bn_param["running_mean"], np.ones(2))
    assert np.array_equal(bn_param["running_var"], 4 * np.ones(2))


def test_batchnorm_float32_running_stats():
    """float32 data keeps float32 running averages (no silent float64 state)."""
    bn_param = {"mode": "train"}
    x = np.random.default_rng(8).standard_normal((6, 3)).astype(np.float32)
    layers.batchnorm_forward(x, np.ones(3, np.float32), np.zeros(3, np.float32), bn_param)
    assert bn_param["running_mean"].dtype == bn_param["running_var"].dtype == np.float32


@pytest.mark.parametrize("bn_param", [{"mode": "eval"}, {}], ids=["eval", "no mode"])
def test_batchnorm_bad_mode(bn_param):
    """bn_param['mode'] must be 'train' or 'test'."""
    with pytest.raises(ValueError, match="'train' or 'test'"):
        layers.batchnorm_forward(np.ones((2, 2)), np.ones(2), np.zeros(2), bn_param)


# --------------------------------------------------------------------------
# Dropout: the check library's checks, on ours and on planted wrong versions
# --------------------------------------------------------------------------
FWD, BWD = dropout_checks.FWD, dropout_checks.BWD


def _planted_forward(mask_fn, test_fn=lambda x, p: x.copy(), cast=True):
    def forward(x, dropout_param):
        p, mode = dropout_param["p"], dropout_param["mode"]
        rng = np.random.default_rng(dropout_param.get("seed"))
        if mode == "train":
            mask = mask_fn(rng, x.shape, p)
            out = x * mask
            dtype = x.dtype if cast is True else cast
            return (out.astype(dtype) if cast else out), (dropout_param, mask)
        return test_fn(x, p), (dropout_param, None)
    return forward


PLANTED_FORWARDS = {
    "p used as drop probability": _planted_forward(lambda rng, s, p: (rng.random(s) >= p) / (1 - p)),
    "not inverted": _planted_forward(lambda rng, s, p: (rng.random(s) < p) * 1.0),
    "vanilla test-time scaling": _planted_forward(lambda rng, s, p: (rng.random(s) < p) / p,
                                                  test_fn=lambda x, p: x * p),
    "dropout at test time": _planted_forward(lambda rng, s, p: (rng.random(s) < p) / p,
                                             test_fn=lambda x, p: x * ((np.random.default_rng(0).random(x.shape)
                                                                        < p) / p)),
    "seed ignored": _planted_forward(lambda rng, s, p: (np.random.default_rng().random(s) < p) / p),
    "one mask for the batch": _planted_forward(lambda rng, s, p: np.broadcast_to(
        (rng.random(s[1:]) < p) / p, s)),
    "float64 output": _planted_forward(lambda rng, s, p: (rng.random(s) < p) / p, cast=False),
    "float16 output": _planted_forward(lambda rng, s, p: (rng.random(s) < p) / p, cast=np.float16),
    "mask from x.shape[0], x.shape[1]": _planted_forward(lambda rng, s, p: ((rng.random(s[:2]) < p) / p).reshape(
        s[:2] + (1,) * (len(s) - 2))),
}


def _fresh_mask_backward(dout, cache):
    param, _ = cache
    if param["mode"] == "train":
        return dout * ((np.random.default_rng().random(dout.shape) < param["p"]) / param["p"])
    return dout


PLANTED_BACKWARD_FNS = {
    "fresh mask in backward": _fresh_mask_backward,
    "forgot 1/p in backward": lambda dout, cache: dout * (cache[1] != 0) if cache[0]["mode"] == "train" else dout,
    "zero gradient at test time": lambda dout, cache: dout * cache[1] if cache[0]["mode"] == "train"
    else np.zeros_like(dout),
}

# (check body, its arguments, the planted mistake it must reject)
DROPOUT_CHECKS = [
    ("kept fraction ~ p", lambda ctx: dropout_checks.kept_fraction(ctx, (400, 250), 0.3, seed=1),
     FWD, "p used as drop probability"),
    ("kept units scaled by 1/p, mean kept", lambda ctx: dropout_checks.kept_fraction(ctx, (300, 200), 0.7, seed=2),
     FWD, "not inverted"),
    ("test mode identity", lambda ctx: dropout_checks.test_mode_identity(ctx, (50, 40), 0.5, seed=3),
     FWD, "vanilla test-time scaling"),
    ("test mode keeps every unit", lambda ctx: dropout_checks.test_mode_identity(ctx, (50, 40), 0.5, seed=3),
     FWD, "dropout at test time"),
    ("same seed same mask, new seed new mask",
     lambda ctx: dropout_checks.seed_determinism(ctx, (30, 40), 0.5, seed=4), FWD, "seed ignored"),
    ("one coin per element", lambda ctx: dropout_checks.per_element(ctx, (200, 100), 0.5, seed=5),
     FWD, "one mask for the batch"),
    ("float32 stays float32", lambda ctx: dropout_checks.dtype_kept(ctx, 0.7, seed=6), FWD, "float16 output"),
    ("4-D input, coin per element", lambda ctx: dropout_checks.any_shape(ctx, (16, 3, 8, 8), 0.6, seed=6), FWD,
     "mask from x.shape[0], x.shape[1]"),
    ("4-D input, not one mask for the batch",
     lambda ctx: dropout_checks.any_shape(ctx, (16, 3, 8, 8), 0.6, seed=6), FWD, "one mask for the batch"),
    ("backward reuses the forward mask",
     lambda ctx: dropout_checks.backward_reuses_mask(ctx, (30, 20), 0.6, seed=7), BWD, "fresh mask in backward"),
    ("backward keeps the 1/p", lambda ctx: dropout_checks.backward_reuses_mask(ctx, (30, 20), 0.6, seed=7),
     BWD, "forgot 1/p in backward"),
    ("backward test mode passes through",
     lambda ctx: dropout_checks.backward_test_mode(ctx, (10, 8), 0.6, seed=8), BWD, "zero gradient at test time"),
    ("numerical gradient check", lambda ctx: dropout_checks.gradient_check(ctx, (5, 6), 0.7, seed=9),
     BWD, "forgot 1/p in backward"),
]


@pytest.mark.parametrize("name,body,exercise,mistake", DROPOUT_CHECKS, ids=[c[0] for c in DROPOUT_CHECKS])
def test_dropout_check_passes_and_rejects_planted(name, body, exercise, mistake):
    """Our dropout passes the check; the planted mistake fails it with a CheckFailure."""
    body(Context(LocalFunctions()))
    planted = PLANTED_FORWARDS.get(mistake) or PLANTED_BACKWARD_FNS[mistake]
    with np.errstate(all="ignore"), pytest.raises(CheckFailure):
        body(Context(LocalFunctions(overrides={exercise: planted})))


def test_float64_dropout_with_right_values_only_earns_a_note():
    """DESIGN.md's dtype policy: float32 in, float64 out with right values passes with a note."""
    ctx = Context(LocalFunctions(overrides={FWD: PLANTED_FORWARDS["float64 output"]}))
    dropout_checks.dtype_kept(ctx, 0.7, seed=6)
    assert len(ctx.notes) == 1 and "float64" in ctx.notes[0]
    ours = Context(LocalFunctions())
    dropout_checks.dtype_kept(ours, 0.7, seed=6)
    assert ours.notes == []


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9, 1.0])
def test_dropout_kept_fraction_many_p(p):
    """Kept fraction within 5 binomial standard deviations of p; p = 1 keeps everything unscaled."""
    x = np.ones((300, 300))
    out, (_, mask) = layers.dropout_forward(x, {"mode": "train", "p": p, "seed": 10})
    frac = np.mean(out != 0)
    assert abs(frac - p) <= dropout_checks.SIGMAS * np.sqrt(p * (1 - p) / x.size) + 1e-12
    assert np.allclose(out[out != 0], 1 / p) and np.array_equal(out, mask)


def test_dropout_unseeded_is_random_and_leaves_global_rng_alone():
    """Without a seed two calls differ; numpy's global generator is never used or reseeded."""
    state = np.random.get_state()[1].copy()
    x = np.ones((50, 50))
    a, _ = layers.dropout_forward(x, {"mode": "train", "p": 0.5})
    b, _ = layers.dropout_forward(x, {"mode": "train", "p": 0.5})
    layers.dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 3})
    assert not np.array_equal(a, b)
    assert np.array_equal(np.random.get_state()[1], state)


@pytest.mark.parametrize("param, match", [
    ({"mode": "train", "p": 0.0}, r"KEEPING a unit and must be in \(0, 1\]"),
    ({"mode": "train", "p": 1.5}, r"must be in \(0, 1\]"),
    ({"mode": "train", "p": -0.2}, r"must be in \(0, 1\]"),
    ({"mode": "train", "p": float("nan")}, r"must be in \(0, 1\]"),
    ({"mode": "train", "p": "0.5"}, r"must be in \(0, 1\]"),
    ({"mode": "train"}, "has no 'p'"),
    ({"mode": "eval", "p": 0.5}, "'train' or 'test'"),
    ({"p": 0.5}, "'train' or 'test'"),
])
def test_dropout_param_errors(param, match):
    """A bad p or mode is a ValueError naming the problem, in forward and backward."""
    with pytest.raises(ValueError, match=match):
        layers.dropout_forward(np.ones((2, 2)), param)
    with pytest.raises(ValueError, match=match):
        layers.dropout_backward(np.ones((2, 2)), (param, None))


def test_dropout_cache_holds_param_and_mask():
    """cache = (dropout_param, mask); the mask is None in test mode."""
    param = {"mode": "train", "p": 0.5, "seed": 1}
    _, (cached_param, mask) = layers.dropout_forward(np.ones((3, 3)), param)
    assert cached_param is param and mask.shape == (3, 3)
    _, (_, test_mask) = layers.dropout_forward(np.ones((3, 3)), {"mode": "test", "p": 0.5})
    assert test_mask is None


# --------------------------------------------------------------------------
# Cross-check against torch.nn.functional (skipped when torch is absent)
# --------------------------------------------------------------------------
def _torch_grads(fn, *arrays):
    """Outputs of fn(*tensors) and the gradients of sum(out * dout) for random dout."""
    torch = pytest.importorskip("torch")
    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    dout = torch.tensor(np.random.default_rng(99).standard_normal(tuple(out.shape)))
    (out * dout).sum().backward()
    return out.detach().numpy(), dout.numpy(), [t.grad.numpy() for t in tensors]


def test_affine_relu_match_torch():
    """affine + relu forward and backward equal torch's linear + relu (torch's weight is our w.T)."""
    F = pytest.importorskip("torch.nn.functional")
    rng = np.random.default_rng(20)
    x, w, b = rng.standard_normal((5, 2, 4)), rng.standard_normal((8, 3)), rng.standard_normal(3)
    t_out, dout, (tdx, tdw, tdb) = _torch_grads(lambda x, w, b: F.relu(F.linear(x.reshape(5, -1), w.T, b)), x, w, b)
    out, cache = layers.affine_relu_forward(x, w, b)
    dx, dw, db = layers.affine_relu_backward(dout, cache)
    for ours, theirs in [(out, t_out), (dx, tdx), (dw, tdw), (db, tdb)]:
        assert rel_error(ours, theirs) < 1e-10


def softmax_loss_no_average(x, y):
    """PLANTED WRONG: dx of the summed (not averaged) loss."""
    loss, dx = layers.softmax_loss(x, y)
    return loss, dx * x.shape[0]


@pytest.mark.parametrize("softmax", [layers.softmax_loss, softmax_loss_no_average], ids=["ours", "planted"])
def test_softmax_loss_matches_torch_cross_entropy(softmax):
    """softmax_loss equals F.cross_entropy (mean reduction), loss and gradient; the planted one does not."""
    torch = pytest.importorskip("torch")
    F = pytest.importorskip("torch.nn.functional")
    rng = np.random.default_rng(21)
    x, y = 10 * rng.standard_normal((9, 6)), rng.integers(6, size=9)
    xt = torch.tensor(x, requires_grad=True)
    t_loss = F.cross_entropy(xt, torch.tensor(y))
    t_loss.backward()
    loss, dx = softmax(x, y)
    agree = abs(loss - float(t_loss.detach())) < 1e-10 and rel_error(dx, xt.grad.numpy()) < 1e-10
    assert agree == (softmax is layers.softmax_loss)


@pytest.mark.parametrize("backward", [layers.batchnorm_backward, batchnorm_backward_ignores_batch_stats],
                         ids=["ours", "planted"])
def test_batchnorm_train_matches_torch(backward):
    """Train-mode batch norm equals F.batch_norm(training=True): output, dx, dgamma, dbeta, running stats.

    torch's momentum is 1 - ours and its running_var uses the unbiased variance (N / (N-1) × ours).
    """
    torch = pytest.importorskip("torch")
    F = pytest.importorskip("torch.nn.functional")
    rng = np.random.default_rng(22)
    N, D = 12, 5
    x, gamma, beta = 1 + 2 * rng.standard_normal((N, D)), rng.uniform(0.5, 2, D), rng.standard_normal(D)
    rm, rv = rng.standard_normal(D), rng.uniform(0.5, 2, D)
    t_rm, t_rv = torch.tensor(rm), torch.tensor(rv)
    t_out, dout, (tdx, tdg, tdb) = _torch_grads(
        lambda x, g, b: F.batch_norm(x, t_rm, t_rv, g, b, training=True, momentum=0.1, eps=1e-5), x, gamma, beta)
    bn_param = {"mode": "train", "momentum": 0.9, "running_mean": rm.copy(), "running_var": rv.copy()}
    out, cache = layers.batchnorm_forward(x, gamma, beta, bn_param)
    dx, dgamma, dbeta = backward(dout, cache)
    assert rel_error(out, t_out) < 1e-10
    assert rel_error(bn_param["running_mean"], t_rm.numpy()) < 1e-10
    assert rel_error(0.9 * rv + 0.1 * x.var(axis=0, ddof=1), t_rv.numpy()) < 1e-10  # torch's convention
    agree = all(rel_error(a, b) < 1e-8 for a, b in [(dx, tdx), (dgamma, tdg), (dbeta, tdb)])
    assert agree == (backward is layers.batchnorm_backward)


def test_batchnorm_test_mode_matches_torch():
    """Test mode equals F.batch_norm(training=False) with the same running statistics."""
    torch = pytest.importorskip("torch")
    F = pytest.importorskip("torch.nn.functional")
    rng = np.random.default_rng(23)
    x, gamma, beta = rng.standard_normal((7, 4)), rng.uniform(0.5, 2, 4), rng.standard_normal(4)
    rm, rv = rng.standard_normal(4), rng.uniform(0.5, 2, 4)
    t_out, dout, (tdx, tdg, tdb) = _torch_grads(
        lambda x, g, b: F.batch_norm(x, torch.tensor(rm), torch.tensor(rv), g, b, training=False, eps=1e-5),
        x, gamma, beta)
    out, cache = layers.batchnorm_forward(x, gamma, beta, {"mode": "test", "running_mean": rm, "running_var": rv})
    for ours, theirs in zip((out, *layers.batchnorm_backward(dout, cache)), (t_out, tdx, tdg, tdb)):
        assert rel_error(ours, theirs) < 1e-10


def test_dropout_scaling_matches_torch():
    """Same convention as F.dropout(p=1-keep): kept units are scaled by 1/keep; eval mode is the identity."""
    torch = pytest.importorskip("torch")
    F = pytest.importorskip("torch.nn.functional")
    keep = 0.7
    x = np.ones((200, 200))
    ours, _ = layers.dropout_forward(x, {"mode": "train", "p": keep, "seed": 0})
    theirs = F.dropout(torch.tensor(x), p=1 - keep, training=True).numpy()
    assert np.allclose(np.unique(ours), np.unique(theirs))  # {0, 1/keep} in both
    tol = dropout_checks.SIGMAS * np.sqrt(keep * (1 - keep) / x.size)
    assert abs(np.mean(ours != 0) - keep) < tol and abs(np.mean(theirs != 0) - keep) < tol
    assert np.array_equal(F.dropout(torch.tensor(x), p=1 - keep, training=False).numpy(),
                          layers.dropout_forward(x, {"mode": "test", "p": keep})[0])
