"""Tests of cs231n_lec7/fc_net.py: parameters, seeding, gradient checks, modes, dtype, and torch agreement.

Each check is also run on a planted wrong model (a gradient without the L2
term, dropout without a seed) to show that it can fail.
"""
import numpy as np
import pytest

from cs231n_lec7.checks.core import GRAD_CHECK_TOL
from cs231n_lec7.fc_net import FullyConnectedNet
from cs231n_lec7.gradient_check import eval_numerical_gradient, rel_error

N, D, H, C = 5, 6, [7, 5], 4


def small_problem(seed=0, n=N):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, D)), rng.integers(C, size=n)


def small_net(seed=0, **kwargs):
    kwargs = {"hidden_dims": H, "input_dim": D, "num_classes": C, "weight_scale": 0.4, "dtype": np.float64,
              "seed": seed, **kwargs}
    return FullyConnectedNet(**kwargs)


class NoRegGradientNet(FullyConnectedNet):
    """PLANTED WRONG: adds the L2 penalty to the loss but forgets reg * W in the gradient."""

    def loss(self, X, y=None):
        result = super().loss(X, y)
        if y is None:
            return result
        loss, grads = result
        for i in range(1, self.num_layers + 1):
            grads[f"W{i}"] = grads[f"W{i}"] - self.reg * self.params[f"W{i}"]
        return loss, grads


# --------------------------------------------------------------------------
# Construction
# --------------------------------------------------------------------------
@pytest.mark.parametrize("hidden, normalization, expected", [
    ([], None, {"W1": (D, C), "b1": (C,)}),
    ([7, 5], None, {"W1": (D, 7), "b1": (7,), "W2": (7, 5), "b2": (5,), "W3": (5, C), "b3": (C,)}),
    ([7], "batchnorm", {"W1": (D, 7), "b1": (7,), "gamma1": (7,), "beta1": (7,), "W2": (7, C), "b2": (C,)}),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_parameter_names_shapes_dtypes(hidden, normalization, expected, dtype):
    """CS231n's parameter names and shapes; gamma = 1, beta = 0, b = 0; all in the model's dtype."""
    model = FullyConnectedNet(hidden, input_dim=D, num_classes=C, normalization=normalization, dtype=dtype, seed=0)
    assert {k: v.shape for k, v in model.params.items()} == expected
    assert all(v.dtype == dtype for v in model.params.values())
    for name, value in model.params.items():
        if name.startswith("gamma"):
            assert np.all(value == 1)
        elif name[0] in "b":  # b and beta
            assert np.all(value == 0)
    assert len(model.bn_params) == (len(hidden) if normalization else 0)


def test_weight_scale_is_the_std():
    """Weights are drawn from N(0, weight_scale^2)."""
    model = FullyConnectedNet([400], input_dim=300, num_classes=10, weight_scale=0.03, seed=1)
    assert model.params["W1"].std() == pytest.approx(0.03, rel=0.01)
    assert abs(model.params["W1"].mean()) < 0.001


def test_seed_reproducible_and_global_rng_untouched():
    """Same seed, same weights (in either dtype); different seeds differ; np.random's state is untouched."""
    state = np.random.get_state()[1].copy()
    a, b, c = small_net(seed=3), small_net(seed=3), small_net(seed=4)
    a32 = small_net(seed=3, dtype=np.float32)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert not np.array_equal(a.params["W1"], c.params["W1"])
    assert np.array_equal(a32.params["W2"], a.params["W2"].astype(np.float32))
    assert np.array_equal(np.random.get_state()[1], state)


def test_dropout_param_follows_cs231n():
    """dropout_param = {'mode', 'p': keep ratio} plus 'seed' when a seed is given; no dropout at keep 1."""
    assert small_net(seed=5, dropout_keep_ratio=0.6).dropout_param == {"mode": "train", "p": 0.6, "seed": 5}
    assert small_net(seed=None, dropout_keep_ratio=0.6).dropout_param == {"mode": "train", "p": 0.6}
    assert small_net(dropout_keep_ratio=1).use_dropout is False


@pytest.mark.parametrize("kwargs, match", [
    ({"normalization": "layernorm"}, "normalization must be one of"),
    ({"normalization": "BatchNorm"}, "normalization must be one of"),
    ({"dropout_keep_ratio": 0}, "KEEPING"),
    ({"dropout_keep_ratio": 1.2}, "KEEPING"),
    ({"reg": -1.0}, "reg must be >= 0"),
    ({"hidden_dims": [5, 0]}, "positive integers"),
])
def test_constructor_errors(kwargs, match):
    """Bad settings are a ValueError that names the setting."""
    with pytest.raises(ValueError, match=match):
        small_net(**kwargs)


# --------------------------------------------------------------------------
# Loss: value, regularization, gradient checks
# --------------------------------------------------------------------------
def test_initial_loss_is_log_c():
    """With tiny weights every class is equally likely: loss ~ ln(C)."""
    X, y = small_problem()
    model = small_net(weight_scale=1e-4)
    loss, _ = model.loss(X, y)
    assert loss == pytest.approx(np.log(C), abs=1e-3)


def test_l2_penalty_on_weights_only():
    """loss(reg) - loss(0) = 0.5 * reg * sum(W^2) over the W's; biases, gamma, beta are not penalised."""
    X, y = small_problem()
    reg = 0.7
    plain, penalised = small_net(normalization="batchnorm"), small_net(normalization="batchnorm", reg=reg)
    for model in (plain, penalised):  # nonzero biases and BN parameters, so a penalty on them would show
        for k in model.params:
            if not k.startswith("W"):
                model.params[k] = model.params[k] + 0.5
    diff = penalised.loss(X, y)[0] - plain.loss(X, y)[0]
    weights_only = 0.5 * reg * sum(np.sum(v**2) for k, v in plain.params.items() if k.startswith("W"))
    every_param = 0.5 * reg * sum(np.sum(v**2) for v in plain.params.values())
    assert diff == pytest.approx(weights_only, rel=1e-12)
    assert diff != pytest.approx(every_param, rel=1e-3)  # the check tells the two apart


def gradient_errors(model, X, y):
    """{param: error} analytic vs centered differences (float64, h=1e-5).

    A bias right before batch norm has a zero gradient (the normalization removes
    it); there the absolute error is reported, since a relative error would compare
    rounding noise with rounding noise.
    """
    _, grads = model.loss(X, y)
    errors = {}
    for name in model.params:
        numerical = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name], verbose=False)
        if np.max(np.abs(numerical)) < 1e-7:
            errors[name] = float(np.max(np.abs(grads[name] - numerical)))
        else:
            errors[name] = rel_error(grads[name], numerical)
    return errors


GRADIENT_CASES = {
    "two hidden layers": dict(),
    "no hidden layer": dict(hidden_dims=[]),
    "L2 regularization": dict(reg=0.5),
    "dropout (seeded)": dict(dropout_keep_ratio=0.6),
    "batchnorm": dict(normalization="batchnorm"),
    "batchnorm + dropout + L2": dict(normalization="batchnorm", dropout_keep_ratio=0.7, reg=0.3),
}


@pytest.mark.parametrize("name", GRADIENT_CASES)
def test_gradients_match_numerical(name):
    """Every parameter's gradient agrees with centered differences (float64, rel error < GRAD_CHECK_TOL)."""
    X, y = small_problem(seed=1)
    model = small_net(seed=2, **GRADIENT_CASES[name])
    errors = gradient_errors(model, X, y)
    assert set(errors) == set(model.params)
    assert max(errors.values()) < GRAD_CHECK_TOL, errors


def test_gradient_check_rejects_missing_reg_gradient():
    """A model whose grads forget reg * W fails the same check on exactly the W's."""
    X, y = small_problem(seed=1)
    model = NoRegGradientNet(H, input_dim=D, num_classes=C, reg=0.5, weight_scale=0.4, dtype=np.float64, seed=2)
    errors = gradient_errors(model, X, y)
    assert {k for k, e in errors.items() if e > GRAD_CHECK_TOL} == {"W1", "W2", "W3"}


def test_gradient_check_rejects_unseeded_dropout():
    """Without a seed every forward pass draws a new mask and the numerical gradient is meaningless."""
    X, y = small_problem(seed=1)
    model = small_net(seed=2, dropout_keep_ratio=0.6)
    model.dropout_param.pop("seed")
    assert max(gradient_errors(model, X, y).values()) > GRAD_CHECK_TOL


# --------------------------------------------------------------------------
# Modes and dtypes
# --------------------------------------------------------------------------
def test_no_labels_gives_test_mode_scores():
    """loss(X) returns (N, C) scores in test mode: dropout off (deterministic), the params' modes set."""
    X, _ = small_problem(seed=2, n=20)
    model = small_net(seed=None, dropout_keep_ratio=0.5, normalization="batchnorm")
    model.loss(X, np.zeros(20, dtype=int))  # one train step fills the running averages
    a, b = model.loss(X), model.loss(X)
    assert a.shape == (20, C) and np.array_equal(a, b)
    assert model.dropout_param["mode"] == "test" and all(p["mode"] == "test" for p in model.bn_params)
    model.loss(X, np.zeros(20, dtype=int))
    assert model.dropout_param["mode"] == "train" and all(p["mode"] == "train" for p in model.bn_params)


def test_batchnorm_test_mode_is_per_example():
    """At test time an example's scores do not depend on its batch (running averages, not batch statistics)."""
    X, y = small_problem(seed=3, n=16)
    model = small_net(normalization="batchnorm")
    model.loss(X, y)
    assert np.allclose(model.loss(X[:1]), model.loss(X)[:1])
    # Train mode does depend on the batch: the check can tell the two modes apart.
    for bn_param in model.bn_params:
        bn_param["mode"] = "train"
    one = model.loss(X[:2], y[:2])[0]
    many = model.loss(X, y)[0]
    assert one != pytest.approx(many)


@pytest.mark.parametrize("kwargs", [dict(), dict(normalization="batchnorm", dropout_keep_ratio=0.5, reg=0.1)],
                         ids=["plain", "batchnorm+dropout+reg"])
def test_float32_stays_float32(kwargs):
    """A float32 model fed float64 data computes in float32: scores, every gradient, the running averages."""
    X, y = small_problem(seed=4)
    model = small_net(dtype=np.float32, **kwargs)
    loss, grads = model.loss(X, y)
    assert isinstance(loss, float) and np.isfinite(loss)
    assert all(g.dtype == np.float32 for g in grads.values()), {k: g.dtype for k, g in grads.items()}
    assert model.loss(X).dtype == np.float32
    for bn_param in model.bn_params:
        assert bn_param["running_mean"].dtype == bn_param["running_var"].dtype == np.float32


def test_float32_and_float64_agree():
    """The float32 model computes the same function as the float64 one, to float32 precision."""
    X, y = small_problem(seed=5)
    l64, g64 = small_net(seed=6, reg=0.1).loss(X, y)
    l32, g32 = small_net(seed=6, reg=0.1, dtype=np.float32).loss(X, y)
    assert l32 == pytest.approx(l64, rel=1e-5)
    assert all(np.allclose(g32[k], g64[k], rtol=1e-3, atol=1e-5) for k in g64)


# --------------------------------------------------------------------------
# Cross-check against torch (skipped when torch is absent)
# --------------------------------------------------------------------------
@pytest.mark.parametrize("model_cls", [FullyConnectedNet, NoRegGradientNet], ids=["ours", "planted"])
@pytest.mark.parametrize("normalization", [None, "batchnorm"])
def test_matches_torch(model_cls, normalization):
    """Scores, loss and every gradient equal a torch nn.Sequential with the same weights (train mode, L2)."""
    torch = pytest.importorskip("torch")
    X, y = small_problem(seed=7, n=9)
    reg = 0.2
    model = model_cls(H, input_dim=D, num_classes=C, normalization=normalization, reg=reg, weight_scale=0.4,
                      dtype=np.float64, seed=8)
    for k in model.params:  # nonzero biases and BN parameters make the comparison sharper
        if not k.startswith("W"):
            model.params[k] = model.params[k] + np.random.default_rng(9).uniform(0.1, 0.5, model.params[k].shape)
    loss, grads = model.loss(X, y)

    modules, linears, norms = [], [], []
    dims = [D] + H + [C]
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:]), start=1):
        lin = torch.nn.Linear(a, b, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(model.params[f"W{i}"].T.copy()))
            lin.bias.copy_(torch.from_numpy(model.params[f"b{i}"]))
        modules.append(lin)
        linears.append(lin)
        if i < len(dims) - 1:
            if normalization:
                bn = torch.nn.BatchNorm1d(b, eps=1e-5, momentum=0.1, dtype=torch.float64)
                with torch.no_grad():
                    bn.weight.copy_(torch.from_numpy(model.params[f"gamma{i}"]))
                    bn.bias.copy_(torch.from_numpy(model.params[f"beta{i}"]))
                modules.append(bn)
                norms.append(bn)
            modules.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*modules).train()
    t_loss = torch.nn.functional.cross_entropy(net(torch.from_numpy(X)), torch.from_numpy(y))
    t_loss = t_loss + 0.5 * reg * sum((lin.weight**2).sum() for lin in linears)
    t_loss.backward()

    assert loss == pytest.approx(float(t_loss.detach()), rel=1e-12)
    if normalization is None:  # (with batch norm, test-time scores differ by design: torch's running_var is unbiased)
        with torch.no_grad():
            assert rel_error(model.loss(X), net.eval()(torch.from_numpy(X)).numpy()) < 1e-10
    theirs = {}
    for i, lin in enumerate(linears, start=1):
        theirs[f"W{i}"], theirs[f"b{i}"] = lin.weight.grad.numpy().T, lin.bias.grad.numpy()
    for i, bn in enumerate(norms, start=1):
        theirs[f"gamma{i}"], theirs[f"beta{i}"] = bn.weight.grad.numpy(), bn.bias.grad.numpy()
    errors = {k: rel_error(grads[k], theirs[k]) if np.abs(theirs[k]).max() > 1e-7
              else float(np.abs(grads[k] - theirs[k]).max()) for k in theirs}
    assert set(theirs) == set(grads)
    assert (max(errors.values()) < 1e-8) == (model_cls is FullyConnectedNet), errors
