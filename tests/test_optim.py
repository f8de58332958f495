"""Update rules in ``cs231n_lec7/optim.py``: one table of all rules, truth from other libraries.

- every rule converges on an ill-conditioned parabola and makes progress on Rosenbrock
  (landscapes defined here, independent of the package);
- contract: DESIGN.md's defaults, state starting at zeros of w's shape, Adam's t starting
  at 0, inputs untouched, float32 kept (state too), ``config=None`` works;
- the lecture's equivalences: both momentum forms (same path at constant alpha, not when
  alpha changes), Nesterov look-ahead = change of variables, rho = 0 is SGD, RMSProp =
  Adam with beta1 = 0 and no bias correction, Adam's first step is ~alpha whatever the
  gradient scale (and without bias correction it is not);
- truth: torch.optim trajectories for every rule; scikit-learn's own SGD (momentum,
  Nesterov) and Adam optimizers where the formulas coincide;
- the checks can fail: every known optim mistake fails visible+hidden checks and is
  named by the grader's diagnosis; the reference passes every optim check.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from autograder.grade import all_checks, load_config
from autograder.mistakes import CORRECT, MISTAKES
from cs231n_lec7 import optim
from cs231n_lec7.checks.core import CheckFailure, Context, LocalFunctions, check_seed, quiet_numerics, rel_error
from cs231n_lec7.checks.diagnose import diagnose

# --------------------------------------------------------------------------- the table
# DESIGN.md's table, typed here as the truth the package must match.
DEFAULTS = {
    "sgd": {"learning_rate": 1e-2},
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "nesterov_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "adagrad": {"learning_rate": 1e-2, "epsilon": 1e-8},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
}
STATE = {
    "sgd": (),
    "sgd_momentum": ("velocity",),
    "nesterov_momentum": ("velocity",),
    "adagrad": ("cache",),
    "rmsprop": ("cache",),
    "adam": ("m", "v", "t"),
}
RULES = tuple(DEFAULTS)
GRADED = tuple(r for r in RULES if r != "sgd")  # sgd is the worked example


def first_state(rule, dw, h):
    """State after one step from zeros, in closed form (proves the state starts at zero)."""
    return {
        "sgd": lambda: {},
        "sgd_momentum": lambda: {"velocity": -h["learning_rate"] * dw},
        "nesterov_momentum": lambda: {"velocity": -h["learning_rate"] * dw},
        "adagrad": lambda: {"cache": dw * dw},
        "rmsprop": lambda: {"cache": (1 - h["decay_rate"]) * dw * dw},
        "adam": lambda: {"m": (1 - h["beta1"]) * dw, "v": (1 - h["beta2"]) * dw * dw, "t": 1},
    }[rule]()


# Landscapes (defined here on purpose: the package's own landscapes are not the truth).
KAPPA = 25.0
QUAD_A = np.diag([1.0, KAPPA])          # f = 0.5 x^T A x, condition number 25, minimum at 0


def parabola(x):
    return 0.5 * x @ QUAD_A @ x, QUAD_A @ x


def rosenbrock(x):
    """(1 - x)^2 + 100 (y - x^2)^2, minimum 0 at (1, 1)."""
    f = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
    g = np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])
    return f, g


# rule -> (hyper-parameters on the parabola, on Rosenbrock, number of steps)
LANDSCAPE_HYPER = {
    "sgd": ({"learning_rate": 0.03}, {"learning_rate": 1.5e-3}),
    "sgd_momentum": ({"learning_rate": 0.01, "momentum": 0.9}, {"learning_rate": 5e-4, "momentum": 0.9}),
    "nesterov_momentum": ({"learning_rate": 0.01, "momentum": 0.9}, {"learning_rate": 5e-4, "momentum": 0.9}),
    "adagrad": ({"learning_rate": 0.5}, {"learning_rate": 0.1}),
    "rmsprop": ({"learning_rate": 2e-3, "decay_rate": 0.9}, {"learning_rate": 2e-3, "decay_rate": 0.9}),
    "adam": ({"learning_rate": 0.05}, {"learning_rate": 0.01}),
}
LANDSCAPE_STEPS = 3000
X0_PARABOLA = np.array([-3.0, 1.0])
X0_ROSENBROCK = np.array([-1.5, 2.0])


def descend(rule_fn, landscape, x0, hyper, num_steps=LANDSCAPE_STEPS):
    x, config = x0.copy(), dict(hyper)
    with quiet_numerics():
        for _ in range(num_steps):
            x, config = rule_fn(x, landscape(x)[1], config)
    return x


def converged_on_parabola(x):
    """Within 1e-3 of the starting distance to the minimum (RMSProp keeps an ~alpha/2 oscillation)."""
    return bool(np.all(np.isfinite(x)) and np.linalg.norm(x) < 1e-3 * np.linalg.norm(X0_PARABOLA))


def progressed_on_rosenbrock(x):
    """f(x_T) < f(x_0) / 20 and at least half the way to the minimum (1, 1)."""
    start, end = np.linalg.norm(X0_ROSENBROCK - 1), np.linalg.norm(x - 1)
    return bool(np.all(np.isfinite(x)) and rosenbrock(x)[0] < rosenbrock(X0_ROSENBROCK)[0] / 20 and end < start / 2)


@pytest.mark.parametrize("rule", RULES)
def test_every_rule_converges_on_an_ill_conditioned_parabola(rule):
    x = descend(getattr(optim, rule), parabola, X0_PARABOLA, LANDSCAPE_HYPER[rule][0])
    assert converged_on_parabola(x), f"{rule} ended at {x}, f = {parabola(x)[0]:.3g}"


@pytest.mark.parametrize("rule", RULES)
def test_every_rule_makes_progress_on_rosenbrock(rule):
    x = descend(getattr(optim, rule), rosenbrock, X0_ROSENBROCK, LANDSCAPE_HYPER[rule][1])
    assert progressed_on_rosenbrock(x), f"{rule} ended at {x}, f = {rosenbrock(x)[0]:.3g}"


def test_landscape_criteria_reject_wrong_rules():
    """The two criteria above can fail: an ascending momentum and a sqrt-less AdaGrad are rejected."""
    wrong = {m.title: m.fn for m in MISTAKES}
    ascent = wrong["wrong momentum sign"]
    assert not converged_on_parabola(descend(ascent, parabola, X0_PARABOLA, LANDSCAPE_HYPER["sgd_momentum"][0]))
    assert not progressed_on_rosenbrock(descend(ascent, rosenbrock, X0_ROSENBROCK,
                                                LANDSCAPE_HYPER["sgd_momentum"][1], 200))
    no_sqrt = wrong["square root missing"]
    assert not converged_on_parabola(descend(no_sqrt, parabola, X0_PARABOLA, LANDSCAPE_HYPER["adagrad"][0]))


# --------------------------------------------------------------------------- contract
def problem(seed=0, shape=(3, 4), dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("rule", RULES)
def test_config_none_fills_the_design_defaults(rule):
    w, dw = problem()
    next_w, config = getattr(optim, rule)(w, dw, None)
    for key, value in DEFAULTS[rule].items():
        assert config[key] == value, f"{rule}: default {key} is {config[key]!r}, DESIGN.md says {value!r}"
    same, _ = getattr(optim, rule)(w, dw, dict(DEFAULTS[rule]))
    empty, _ = getattr(optim, rule)(w, dw, {})
    np.testing.assert_array_equal(next_w, same)
    np.testing.assert_array_equal(next_w, empty)
    other = dict(DEFAULTS[rule], learning_rate=DEFAULTS[rule]["learning_rate"] * 3)
    assert not np.allclose(getattr(optim, rule)(w, dw, other)[0], next_w), "learning_rate is ignored"


@pytest.mark.parametrize("rule", RULES)
def test_state_starts_as_zeros_of_ws_shape(rule):
    w, dw = problem(shape=(2, 3, 5))
    _, config = getattr(optim, rule)(w, dw, None)
    want = first_state(rule, dw, DEFAULTS[rule])
    assert set(want) == set(STATE[rule])
    for key, value in want.items():
        if key == "t":
            assert config["t"] == 1
            continue
        assert config[key].shape == w.shape, f"{rule}: {key} has shape {config[key].shape}"
        np.testing.assert_allclose(config[key], value, rtol=1e-15, atol=0)
    # explicit zero state gives the very same step
    zeros = dict(DEFAULTS[rule], **{k: (0 if k == "t" else np.zeros_like(w)) for k in STATE[rule]})
    a, cfg_a = getattr(optim, rule)(w, dw, None)
    b, cfg_b = getattr(optim, rule)(w, dw, zeros)
    np.testing.assert_array_equal(a, b)
    for key in STATE[rule]:
        np.testing.assert_array_equal(cfg_a[key], cfg_b[key])


def test_adam_t_starts_at_zero_and_is_incremented_before_use():
    w, dw = problem()
    _, config = optim.adam(w, dw, None)
    assert config["t"] == 1
    _, config = optim.adam(w, dw, config)
    assert config["t"] == 2
    # the first step used t = 1: m_hat = dw, v_hat = dw^2, so the step is lr * dw / (|dw| + eps)
    next_w, _ = optim.adam(w, dw, {"t": 0})
    np.testing.assert_allclose(w - next_w, 1e-3 * dw / (np.abs(dw) + 1e-8), rtol=1e-12)


@pytest.mark.parametrize("rule", RULES)
def test_inputs_are_never_modified(rule):
    w, dw = problem(seed=1)
    rng = np.random.default_rng(2)
    config = dict(DEFAULTS[rule])
    for key in STATE[rule]:
        config[key] = 3 if key == "t" else np.abs(rng.standard_normal(w.shape))
    copies = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in config.items()}
    w_copy, dw_copy = w.copy(), dw.copy()
    state_arrays = {k: v for k, v in config.items() if isinstance(v, np.ndarray)}
    next_w, _ = getattr(optim, rule)(w, dw, config)
    np.testing.assert_array_equal(w, w_copy)
    np.testing.assert_array_equal(dw, dw_copy)
    assert not np.shares_memory(next_w, w) and not np.shares_memory(next_w, dw)
    for key, array in state_arrays.items():  # the caller's state arrays are not changed in place
        np.testing.assert_array_equal(array, copies[key], err_msg=f"{rule} changed config[{key!r}] in place")


@pytest.mark.parametrize("rule", RULES)
def test_float32_stays_float32_with_its_state(rule):
    w, dw = problem(seed=3, dtype=np.float32)
    w64, config64 = w.astype(np.float64), None
    config = None
    for _ in range(3):
        w, config = getattr(optim, rule)(w, dw, config)
        w64, config64 = getattr(optim, rule)(w64, dw.astype(np.float64), config64)
        assert w.dtype == np.float32
        for key in STATE[rule]:
            if key != "t":
                assert config[key].dtype == np.float32, f"{rule}: state {key} is {config[key].dtype}"
    assert rel_error(w, w64) < 1e-5


# --------------------------------------------------------------------------- equivalences
def quadratic(seed, dim=5, kappa=20.0):
    """A random SPD quadratic f = 0.5 x^T A x - b^T x: (A, b, x0)."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    a = q @ np.diag(np.geomspace(1.0, kappa, dim)) @ q.T
    return a, rng.standard_normal(dim), rng.standard_normal(dim) * 2


def path(rule_fn, a, b, x0, hyper, num_steps=50, lr_at=None):
    """Iterates of ``rule_fn`` on a quadratic; ``lr_at(k)`` may change alpha mid-run."""
    x, config, xs = x0.copy(), dict(hyper), [x0.copy()]
    for k in range(num_steps):
        if lr_at is not None:
            config["learning_rate"] = lr_at(k)
        x, config = rule_fn(x, a @ x - b, config)
        xs.append(x)
    return np.array(xs)


def momentum_first_form(a, b, x0, rho, lr_at, num_steps=50):
    """The notes' first form: v = rho v + grad; x -= alpha v."""
    x, v, xs = x0.copy(), np.zeros_like(x0), [x0.copy()]
    for k in range(num_steps):
        v = rho * v + (a @ x - b)
        x = x - lr_at(k) * v
        xs.append(x)
    return np.array(xs)


def test_both_momentum_forms_trace_the_same_path_at_constant_alpha():
    a, b, x0 = quadratic(0)
    ours = path(optim.sgd_momentum, a, b, x0, {"learning_rate": 0.03, "momentum": 0.8})
    first = momentum_first_form(a, b, x0, 0.8, lambda k: 0.03)
    assert rel_error(ours, first) < 1e-12


def test_momentum_forms_differ_when_alpha_changes_mid_run():
    a, b, x0 = quadratic(0)
    lr_at = lambda k: 0.03 if k < 20 else 0.003  # noqa: E731  (a step decay at step 20)
    ours = path(optim.sgd_momentum, a, b, x0, {"momentum": 0.8}, lr_at=lr_at)
    first = momentum_first_form(a, b, x0, 0.8, lr_at)
    assert rel_error(ours[:21], first[:21]) < 1e-12, "identical up to the change"
    assert rel_error(ours[21:], first[21:]) > 1e-3, "after the change the first form rescales old velocity"


def test_nesterov_look_ahead_equals_the_change_of_variables():
    """x~ = x + rho v: optim.nesterov_momentum on x~ is the look-ahead form on x."""
    a, b, x0 = quadratic(1)
    rho, lr = 0.85, 0.02
    x, v = x0.copy(), np.zeros_like(x0)
    tilde = [x + rho * v]
    for _ in range(60):
        v = rho * v - lr * (a @ (x + rho * v) - b)   # gradient at the look-ahead point
        x = x + v
        tilde.append(x + rho * v)
    ours = path(optim.nesterov_momentum, a, b, x0, {"learning_rate": lr, "momentum": rho}, num_steps=60)
    assert rel_error(ours, np.array(tilde)) < 1e-12
    plain = path(optim.sgd_momentum, a, b, x0, {"learning_rate": lr, "momentum": rho}, num_steps=60)
    assert rel_error(plain, np.array(tilde)) > 1e-3, "the test tells Nesterov from plain momentum"


@pytest.mark.parametrize("rule", ["sgd_momentum", "nesterov_momentum"])
def test_momentum_zero_is_sgd(rule):
    a, b, x0 = quadratic(2)
    sgd = path(optim.sgd, a, b, x0, {"learning_rate": 0.04})
    ours = path(getattr(optim, rule), a, b, x0, {"learning_rate": 0.04, "momentum": 0.0})
    assert rel_error(ours, sgd) < 1e-14
    with_momentum = path(getattr(optim, rule), a, b, x0, {"learning_rate": 0.04, "momentum": 0.5})
    assert rel_error(with_momentum, sgd) > 1e-3


def adam_variant(w, dw, config, bias_correction=True):
    """Adam written here from the paper, with bias correction switchable."""
    b1, b2, eps, lr = config["beta1"], config["beta2"], config["epsilon"], config["learning_rate"]
    t = config.get("t", 0) + 1
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw * dw
    m_hat, v_hat = (m / (1 - b1**t), v / (1 - b2**t)) if bias_correction else (m, v)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), dict(config, m=m, v=v, t=t)


def test_adam_variant_with_bias_correction_is_optim_adam():
    a, b, x0 = quadratic(3)
    hyper = {"learning_rate": 0.05, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6}
    assert rel_error(path(adam_variant, a, b, x0, hyper), path(optim.adam, a, b, x0, hyper)) < 1e-12


def test_rmsprop_is_adam_with_beta1_zero_and_no_bias_correction():
    a, b, x0 = quadratic(3)
    rms = path(optim.rmsprop, a, b, x0, {"learning_rate": 0.02, "decay_rate": 0.9, "epsilon": 1e-7})
    hyper = {"learning_rate": 0.02, "beta1": 0.0, "beta2": 0.9, "epsilon": 1e-7}
    no_bias = path(lambda w, dw, c: adam_variant(w, dw, c, bias_correction=False), a, b, x0, hyper)
    assert rel_error(rms, no_bias) < 1e-14
    assert rel_error(rms, path(optim.adam, a, b, x0, hyper)) > 1e-3, "bias correction makes a difference"


@pytest.mark.parametrize("scale", [1e-6, 1e-3, 1.0, 1e3, 1e6])
def test_adams_first_step_is_alpha_per_coordinate_whatever_the_gradient_scale(scale):
    rng = np.random.default_rng(4)
    w = rng.standard_normal(50)
    dw = scale * rng.choice([-1.0, 1.0], 50) * rng.uniform(0.5, 2.0, 50)  # every coordinate ~ scale
    lr = 1e-3
    next_w, _ = optim.adam(w, dw, {"learning_rate": lr})
    step = np.abs(next_w - w) / lr
    assert np.all((step > 0.98) & (step <= 1.0 + 1e-9)), f"first step / lr in [{step.min():.4g}, {step.max():.4g}]"
    # without bias correction: lr * (1 - beta1) / sqrt(1 - beta2) ~ 3.16 lr -- the giant first step
    raw, _ = adam_variant(w, dw, dict(DEFAULTS["adam"], learning_rate=lr), bias_correction=False)
    raw_step = np.abs(raw - w) / lr
    assert np.all(raw_step > 1.5), "without bias correction the first step is not ~lr"
    if scale >= 1e-3:  # (at 1e-6 epsilon is comparable to sqrt(v) and shrinks the step a little)
        giant = (1 - 0.9) / math.sqrt(1 - 0.999)
        np.testing.assert_allclose(raw_step, giant, rtol=1e-3)


# --------------------------------------------------------------------------- truth: torch.optim
def torch_optimizer(torch, rule, params, h):
    o = torch.optim
    return {
        "sgd": lambda: o.SGD(params, lr=h["learning_rate"], foreach=False),
        # torch keeps buf = mu buf + g and steps -lr buf: the first form, v_ours = -lr buf
        "sgd_momentum": lambda: o.SGD(params, lr=h["learning_rate"], momentum=h["momentum"], foreach=False),
        # torch's Nesterov steps -lr (g + mu buf) at the stored point: our x~ form, no re-mapping needed
        "nesterov_momentum": lambda: o.SGD(params, lr=h["learning_rate"], momentum=h["momentum"],
                                           nesterov=True, foreach=False),
        # torch: sum += g^2; p -= lr g / (sqrt(sum) + eps): eps outside the root, as ours
        "adagrad": lambda: o.Adagrad(params, lr=h["learning_rate"], eps=h["epsilon"], lr_decay=0,
                                     initial_accumulator_value=0, foreach=False),
        "rmsprop": lambda: o.RMSprop(params, lr=h["learning_rate"], alpha=h["decay_rate"], eps=h["epsilon"],
                                     foreach=False),
        "adam": lambda: o.Adam(params, lr=h["learning_rate"], betas=(h["beta1"], h["beta2"]), eps=h["epsilon"],
                               foreach=False),
    }[rule]()


def torch_path(torch, rule, a, b, x0, hyper, num_steps=50, lr_at=None):
    param = torch.nn.Parameter(torch.tensor(x0, dtype=torch.float64))
    opt = torch_optimizer(torch, rule, [param], hyper)
    xs = [x0.copy()]
    for k in range(num_steps):
        if lr_at is not None:
            opt.param_groups[0]["lr"] = lr_at(k)
        x = param.detach().numpy().copy()
        param.grad = torch.tensor(a @ x - b, dtype=torch.float64)
        opt.step()
        xs.append(param.detach().numpy().copy())
    return np.array(xs)


def random_hyper(rule, rng):
    """Non-default hyper-parameters (epsilon large enough that its placement shows)."""
    lr = float(rng.uniform(0.005, 0.05))
    return {
        "sgd": {"learning_rate": lr},
        "sgd_momentum": {"learning_rate": lr, "momentum": float(rng.uniform(0.5, 0.95))},
        "nesterov_momentum": {"learning_rate": lr, "momentum": float(rng.uniform(0.5, 0.95))},
        "adagrad": {"learning_rate": lr * 10, "epsilon": float(10 ** rng.uniform(-6, -4))},
        "rmsprop": {"learning_rate": lr, "decay_rate": float(rng.uniform(0.8, 0.99)),
                    "epsilon": float(10 ** rng.uniform(-6, -4))},
        "adam": {"learning_rate": lr, "beta1": float(rng.uniform(0.5, 0.95)), "beta2": float(rng.uniform(0.9, 0.999)),
                 "epsilon": float(10 ** rng.uniform(-6, -4))},
    }[rule]


def torch_problem(rule, seed):
    rng = np.random.default_rng([seed, RULES.index(rule)])
    a, b, x0 = quadratic(int(rng.integers(2**31)), dim=int(rng.integers(3, 9)), kappa=float(rng.uniform(2, 10)))
    return a, b, x0, random_hyper(rule, rng)


TORCH_TOL = 1e-10


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("rule", RULES)
def test_trajectory_matches_torch_optim(torch, rule, seed):
    a, b, x0, hyper = torch_problem(rule, seed)
    ours = path(getattr(optim, rule), a, b, x0, hyper)
    theirs = torch_path(torch, rule, a, b, x0, hyper)
    assert np.abs(ours[-1] - ours[0]).max() > 1e-2, "the problem must move"
    assert rel_error(ours, theirs) < TORCH_TOL


OPTIM_MISTAKES = [m for m in MISTAKES if m.exercise.startswith("optim.")]


@pytest.mark.parametrize("mistake", OPTIM_MISTAKES, ids=lambda m: m.key)
def test_torch_comparison_rejects_planted_mistakes(torch, mistake):
    """The truth test above can fail: each wrong rule that departs from ours departs from torch too.

    Some mistakes trace the reference's path when every hyper-parameter is given
    (a wrong default, the first momentum form, state under another key): those
    must agree with torch as well.
    """
    rule = mistake.exercise.split(".")[1]
    a, b, x0, hyper = torch_problem(rule, 0)
    with quiet_numerics():
        try:
            wrong = path(mistake.fn, a, b, x0, hyper)
        except ValueError:  # e.g. state leaked from an earlier call with other shapes: departs from torch
            return
        same_as_ours = rel_error(wrong, path(getattr(optim, rule), a, b, x0, hyper)) < 1e-12
        err = rel_error(wrong, torch_path(torch, rule, a, b, x0, hyper))
    if same_as_ours:
        assert err < TORCH_TOL
    else:
        assert not err < 1e-6, f"{mistake.title!r} is indistinguishable from torch (error {err:.3g})"


def test_torch_momentum_is_the_first_form_when_alpha_changes(torch):
    """torch's SGD keeps v = mu v + g: it follows the first form, not ours, after a decay."""
    a, b, x0 = quadratic(0)
    lr_at = lambda k: 0.03 if k < 20 else 0.003  # noqa: E731
    theirs = torch_path(torch, "sgd_momentum", a, b, x0, {"learning_rate": 0.03, "momentum": 0.8}, lr_at=lr_at)
    assert rel_error(theirs, momentum_first_form(a, b, x0, 0.8, lr_at)) < 1e-12
    ours = path(optim.sgd_momentum, a, b, x0, {"momentum": 0.8}, lr_at=lr_at)
    assert rel_error(theirs[21:], ours[21:]) > 1e-3


# --------------------------------------------------------------------------- truth: scikit-learn
def sklearn_path(make, a, b, x0, num_steps=50, before_step=None):
    x = x0.copy()
    opt = make([x])
    xs = [x0.copy()]
    for k in range(num_steps):
        if before_step is not None:
            before_step(opt, k)
        opt.update_params([x], [a @ x - b])  # in place, x += update
        xs.append(x.copy())
    return np.array(xs)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_and_nesterov_match_sklearn_sgd_optimizer(nesterov):
    """sklearn: v = mu v - lr g; update v (or mu v - lr g with nesterov) -- our second form and x~ form."""
    from sklearn.neural_network._stochastic_optimizers import SGDOptimizer

    a, b, x0 = quadratic(4)
    lr, mu = 0.03, 0.7
    theirs = sklearn_path(lambda p: SGDOptimizer(p, learning_rate_init=lr, momentum=mu, nesterov=nesterov), a, b, x0)
    rule = optim.nesterov_momentum if nesterov else optim.sgd_momentum
    assert rel_error(path(rule, a, b, x0, {"learning_rate": lr, "momentum": mu}), theirs) < 1e-12
    other = optim.sgd_momentum if nesterov else optim.nesterov_momentum
    assert rel_error(path(other, a, b, x0, {"learning_rate": lr, "momentum": mu}), theirs) > 1e-3


def test_adam_matches_sklearn_adam_optimizer_where_epsilon_is_mapped():
    """sklearn folds the bias correction into the step: lr_t = lr sqrt(1-b2^t)/(1-b1^t), then
    -lr_t m / (sqrt(v) + eps). That equals ours with eps_sklearn = eps_ours * sqrt(1 - b2^t):
    exact agreement with that mapping (and with eps = 0), a visible difference without it."""
    from sklearn.neural_network._stochastic_optimizers import AdamOptimizer

    a, b, x0 = quadratic(5)
    a, b = a * 1e-5, b * 1e-5          # small gradients, so that epsilon's placement shows
    hyper = {"learning_rate": 0.01, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6}
    ours = path(optim.adam, a, b, x0, hyper)

    def make(eps):
        return lambda p: AdamOptimizer(p, learning_rate_init=0.01, beta_1=0.8, beta_2=0.99, epsilon=eps)

    def map_eps(opt, k):  # sklearn's step k+1 uses t = k+1
        opt.epsilon = hyper["epsilon"] * math.sqrt(1 - hyper["beta2"] ** (k + 1))

    assert rel_error(ours, sklearn_path(make(0.0), a, b, x0, before_step=map_eps)) < 1e-12
    unmapped = sklearn_path(make(hyper["epsilon"]), a, b, x0)
    assert rel_error(ours, unmapped) > 1e-4, "where epsilon enters matters for small gradients"
    no_eps = path(optim.adam, a, b, x0, dict(hyper, epsilon=0.0))
    assert rel_error(no_eps, sklearn_path(make(0.0), a, b, x0)) < 1e-12


# --------------------------------------------------------------------------- the checks can fail
GRADE_SEED = load_config()["grading"]["seed"]


def failing_checks(exercise, fn, seed=GRADE_SEED):
    """{check name: message} of the visible and hidden checks of ``exercise`` that ``fn`` fails."""
    ref = LocalFunctions()
    student = LocalFunctions(overrides={exercise: fn})
    failures = {}
    for c in all_checks().values():
        if exercise not in c.exercises:
            continue
        try:
            with quiet_numerics():
                c.func(Context(student, ref=ref, seed=check_seed(seed, c.name)))
        except CheckFailure as err:
            failures[c.name] = str(err)
        except Exception as err:  # the rule raised: under the grader this check fails too
            failures[c.name] = f"{type(err).__name__}: {err}"
    return failures


def checks_of(exercise, hidden):
    return {c.name for c in all_checks().values() if exercise in c.exercises and c.hidden == hidden}


@pytest.mark.parametrize("exercise", [f"optim.{r}" for r in GRADED])
def test_every_graded_rule_has_visible_and_hidden_checks(exercise):
    assert len(checks_of(exercise, hidden=False)) >= 3
    assert len(checks_of(exercise, hidden=True)) >= 2


@pytest.mark.parametrize("seed", [GRADE_SEED, 0, 1])
@pytest.mark.parametrize("exercise", [f"optim.{r}" for r in GRADED])
def test_reference_passes_every_optim_check(exercise, seed):
    assert failing_checks(exercise, getattr(optim, exercise.split(".")[1]), seed) == {}


# Mistakes the visible checks let through (none today: they include tiny gradients
# and non-default hyper-parameters, so a student sees every named mistake locally).
VISIBLE_BLIND = set()
# Mistakes in the defaults: the hidden checks always pass every hyper-parameter.
DEFAULTS_ONLY = {"wrong default learning rate", "config=None not handled", "wrong defaults for config=None",
                 "state kept between calls in a shared default dict"}


@pytest.mark.parametrize("mistake", OPTIM_MISTAKES, ids=lambda m: m.key)
def test_planted_optim_mistake_fails_the_checks_and_is_named(mistake):
    failures = failing_checks(mistake.exercise, mistake.fn)
    assert failures, f"no check rejects {mistake.title!r}"
    if mistake.title not in DEFAULTS_ONLY:
        assert failures.keys() & checks_of(mistake.exercise, hidden=True), "no hidden check rejects it"
    if mistake.title not in VISIBLE_BLIND:
        assert failures.keys() & checks_of(mistake.exercise, hidden=False), "no visible check rejects it"
    found = [f.title for f in diagnose(mistake.exercise, LocalFunctions(overrides={mistake.exercise: mistake.fn}))]
    assert set(found) == set(mistake.titles), f"diagnosed as {found}"


@pytest.mark.parametrize("variant", [v for v in CORRECT if v.exercise.startswith("optim.")], ids=lambda v: v.name)
def test_right_but_different_rule_passes_every_check(variant):
    assert failing_checks(variant.exercise, variant.fn) == {}


def test_diagnosis_is_silent_on_the_reference():
    for rule in GRADED:
        assert diagnose(f"optim.{rule}", LocalFunctions()) == []


def test_there_are_known_mistakes_for_every_graded_rule():
    for rule in GRADED:
        assert sum(m.exercise == f"optim.{rule}" for m in OPTIM_MISTAKES) >= 5, rule


EPS_RULES = ("adagrad", "rmsprop", "adam")
EPS_INSIDE_MISTAKES = [m for m in OPTIM_MISTAKES if m.title == "epsilon inside the square root"]


def tiny_check_failure(exercise, fn, seed=GRADE_SEED):
    """The message of ``exercise``'s hidden tiny-gradient check on ``fn`` ("" if it passes)."""
    rule = exercise.split(".")[1]
    (c,) = [c for c in all_checks().values() if c.name == f"{rule}: tiny gradients (epsilon placement)"]
    try:
        with quiet_numerics():
            c.func(Context(LocalFunctions(overrides={exercise: fn}), ref=LocalFunctions(),
                           seed=check_seed(seed, c.name)))
    except CheckFailure as err:
        return str(err)
    return ""


def test_every_epsilon_rule_has_an_eps_inside_mistake():
    assert sorted(m.exercise for m in EPS_INSIDE_MISTAKES) == sorted(f"optim.{r}" for r in EPS_RULES)


@pytest.mark.parametrize("mistake", EPS_INSIDE_MISTAKES, ids=lambda m: m.exercise)
def test_tiny_gradient_check_rejects_epsilon_inside_the_root(mistake):
    message = tiny_check_failure(mistake.exercise, mistake.fn)
    assert "expected" in message and "got" in message, message


@pytest.mark.parametrize("mistake", [m for m in OPTIM_MISTAKES if m.exercise.split(".")[1] in EPS_RULES],
                         ids=lambda m: m.key)
def test_hidden_messages_do_not_guess_at_epsilon(mistake):
    """A hard-coded epsilon or one under another key is not told "epsilon inside the square root"."""
    message = tiny_check_failure(mistake.exercise, mistake.fn)
    assert "inside" not in message and "likely bug" not in message.lower(), message
