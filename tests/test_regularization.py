"""Truth tests for ``cs231n_lec7/regularization.py`` and its checks.

- Penalties: the optimum of scikit-learn's Ridge, Lasso and ElasticNet
  satisfies the optimality condition written with OUR gradients (the formulas
  coincide up to sklearn's 1/(2 n_samples) data-term scaling); torch autograd
  agrees with dW.
- DropConnect and stochastic depth: backward passes agree with torch autograd
  through the same mask; Monte-Carlo averages of the train-mode output approach
  the test-mode output (inverted DropConnect: same expectation; stochastic
  depth: test mode IS the expectation).
- Fractional max pooling (given): regions tile the input, widths in {1, 2}.
- Every known mistake fails its exercise's checks (and is named), and nothing
  else: a check that cannot fail is a defect.
- DropConnect on 4-D inputs: torch agrees through the flattening; graded by the
  real grader, 2-D-only code loses exactly the 4-D checks and is named, the
  solution keeps full marks.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from cs231n_lec7 import regularization as R

torch = pytest.importorskip("torch")


def _data(n=60, d=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ np.where(rng.random(d) < 0.5, rng.standard_normal(d), 0.0) + 0.1 * rng.standard_normal(n)
    return X, y


def test_ridge_optimum_satisfies_our_l2_gradient():
    from sklearn.linear_model import Ridge
    X, y = _data()
    alpha = 3.0
    w = Ridge(alpha=alpha, fit_intercept=False).fit(X, y).coef_
    # Ridge minimises ||y - Xw||^2 + alpha ||w||^2 = 2 * (0.5 ||y - Xw||^2 + l2_penalty(w, alpha))
    grad = X.T @ (X @ w - y) + R.l2_penalty(w, alpha)[1]
    assert np.max(np.abs(grad)) < 1e-8
    assert R.l2_penalty(w, alpha)[0] == pytest.approx(0.5 * alpha * np.sum(w * w))


@pytest.mark.parametrize("l1_ratio", [1.0, 0.7, 0.3])
def test_elastic_net_optimum_satisfies_our_subgradient(l1_ratio):
    from sklearn.linear_model import ElasticNet, Lasso
    X, y = _data()
    n, alpha = len(y), 0.05
    model = (Lasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=100000) if l1_ratio == 1.0 else
             ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=False, tol=1e-12, max_iter=100000))
    w = model.fit(X, y).coef_
    data_grad = X.T @ (X @ w - y) / n
    _, dW = (R.l1_penalty(w, alpha) if l1_ratio == 1.0 else R.elastic_net_penalty(w, alpha, l1_ratio))
    nz = w != 0
    assert nz.any() and (~nz).any(), "the problem should have both zero and nonzero coefficients"
    assert np.max(np.abs(data_grad[nz] + dW[nz])) < 1e-6
    # at zero coefficients the subgradient interval [-alpha*l1_ratio, alpha*l1_ratio] must contain -data_grad
    assert np.all(np.abs(data_grad[~nz]) <= alpha * l1_ratio + 1e-8)


@pytest.mark.parametrize("name,args", [("l2_penalty", ()), ("l1_penalty", ()), ("elastic_net_penalty", (0.35,))])
def test_penalty_gradients_match_torch_autograd(name, args):
    W = np.random.default_rng(1).standard_normal((4, 5))
    reg = 0.7
    loss, dW = getattr(R, name)(W, reg, *args)
    t = torch.tensor(W, requires_grad=True)
    if name == "l2_penalty":
        tl = 0.5 * reg * (t * t).sum()
    elif name == "l1_penalty":
        tl = reg * t.abs().sum()
    else:
        r = args[0]
        tl = reg * (r * t.abs().sum() + (1 - r) * 0.5 * (t * t).sum())
    tl.backward()
    assert loss == pytest.approx(tl.item(), rel=1e-12)
    np.testing.assert_allclose(dW, t.grad.numpy(), rtol=1e-12)


def test_elastic_net_limits_are_l1_and_l2():
    W = np.linspace(-1, 1, 12).reshape(3, 4)
    for ratio, other in ((1.0, R.l1_penalty), (0.0, R.l2_penalty)):
        a, b = R.elastic_net_penalty(W, 0.4, ratio), other(W, 0.4)
        assert a[0] == pytest.approx(b[0]) and np.allclose(a[1], b[1])


@pytest.mark.parametrize("mode", ["train", "test"])
def test_dropconnect_backward_matches_torch(mode):
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((6, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    out, cache = R.dropconnect_forward(x, w, b, {"mode": mode, "p": 0.6, "seed": 5})
    mask = cache[2]
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tout = tx @ (tw * torch.tensor(mask)) + tb
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-12)
    dout = rng.standard_normal(out.shape)
    tout.backward(torch.tensor(dout))
    for got, t in zip(R.dropconnect_backward(dout, cache), (tx, tw, tb)):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape", [(5, 2, 3, 2), (4, 3, 5)])
def test_dropconnect_flattens_any_shape_like_torch(shape):
    """x of shape (N, d_1, ..., d_k) is used as x.reshape(N, -1); dx comes back in x's shape."""
    rng = np.random.default_rng(6)
    d = int(np.prod(shape[1:]))
    x, w, b = rng.standard_normal(shape), rng.standard_normal((d, 4)), rng.standard_normal(4)
    out, cache = R.dropconnect_forward(x, w, b, {"mode": "train", "p": 0.6, "seed": 8})
    mask = cache[2]
    assert out.shape == (shape[0], 4) and 0 < np.mean(mask == 0) < 1
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tout = tx.reshape(shape[0], -1) @ (tw * torch.tensor(mask)) + tb
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-12)
    same_rows = R.dropconnect_forward(x.reshape(shape[0], -1), w, b, {"mode": "train", "p": 0.6, "seed": 8})[0]
    np.testing.assert_array_equal(out, same_rows)
    dout = rng.standard_normal(out.shape)
    tout.backward(torch.tensor(dout))
    dx, dw, db = R.dropconnect_backward(dout, cache)
    assert dx.shape == shape
    for got, t in zip((dx, dw, db), (tx, tw, tb)):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_dropconnect_expectation_is_test_mode():
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((5, 6)), rng.standard_normal((6, 4)), rng.standard_normal(4)
    test = R.dropconnect_forward(x, w, b, {"mode": "test", "p": 0.5})[0]
    mean = np.mean([R.dropconnect_forward(x, w, b, {"mode": "train", "p": 0.5, "seed": s})[0]
                    for s in range(4000)], axis=0)
    assert np.max(np.abs(mean - test)) < 0.15 * np.max(np.abs(test))


def test_stochastic_depth_matches_torch_and_expectation():
    rng = np.random.default_rng(4)
    x, f = rng.standard_normal((50, 3, 2, 2)), rng.standard_normal((50, 3, 2, 2))
    y, cache = R.stochastic_depth_forward(x, f, {"mode": "train", "p": 0.7, "seed": 1})
    gate = cache
    tx, tf = torch.tensor(x, requires_grad=True), torch.tensor(f, requires_grad=True)
    ty = tx + torch.tensor(gate) * tf
    np.testing.assert_allclose(y, ty.detach().numpy())
    dout = rng.standard_normal(y.shape)
    ty.backward(torch.tensor(dout))
    dx, df = R.stochastic_depth_backward(dout, cache)
    np.testing.assert_allclose(dx, tx.grad.numpy())
    np.testing.assert_allclose(df, tf.grad.numpy())
    assert set(np.unique(gate)) <= {0.0, 1.0}
    test = R.stochastic_depth_forward(x, f, {"mode": "test", "p": 0.7})[0]
    mean = np.mean([R.stochastic_depth_forward(x, f, {"mode": "train", "p": 0.7, "seed": s})[0]
                    for s in range(3000)], axis=0)
    assert np.max(np.abs(mean - test)) < 0.1 * np.max(np.abs(f))


@pytest.mark.parametrize("ratio", [1.25, 1.5, np.sqrt(2)])
def test_fractional_max_pool_regions_tile_the_input(ratio):
    x = np.random.default_rng(5).standard_normal((2, 3, 13, 11))
    for seed in range(5):
        out, (rows, cols) = R.fractional_max_pool(x, ratio, seed, "train")
        assert out.shape == (2, 3, int(13 // ratio), int(11 // ratio))
        for edges, size in ((rows, 13), (cols, 11)):
            assert edges[0] == 0 and edges[-1] == size
            assert set(np.diff(edges)) <= {1, 2, 3}
            assert set(np.diff(edges)[:-1]) <= {1, 2}
        i, j = 1, 2
        np.testing.assert_array_equal(out[:, :, i, j], x[:, :, rows[i]:rows[i + 1], cols[j]:cols[j + 1]].max(axis=(2, 3)))
    a = R.fractional_max_pool(x, 1.5, 0, "test")[0]
    np.testing.assert_array_equal(a, R.fractional_max_pool(x, 1.5, 99, "test")[0])
    avg = R.fractional_max_pool(x, 1.5, 0, "test", num_samples=8)[0]
    assert avg.shape == a.shape


def test_rng_is_never_the_global_one():
    np.random.seed(0)
    state = np.random.get_state()[1].copy()
    x, w, b = np.ones((2, 3)), np.ones((3, 2)), np.zeros(2)
    R.dropconnect_forward(x, w, b, {"mode": "train", "p": 0.5, "seed": 1})
    R.stochastic_depth_forward(x, x, {"mode": "train", "p": 0.5, "seed": 1})
    assert np.array_equal(np.random.get_state()[1], state)


# ------------------------------------------------------ checks can fail
def _run_checks(module_prefix, overrides):
    from autograder.grade import all_checks
    from autograder.notebook import reference_functions
    from cs231n_lec7.checks.core import CheckFailure, Context, LocalFunctions, check_seed, quiet_numerics

    ref = reference_functions()
    failures = {}
    for c in all_checks().values():
        if not c.exercises[0].startswith(module_prefix):
            continue
        ctx = Context(LocalFunctions(overrides=overrides), ref=ref, seed=check_seed(7, c.name))
        try:
            with quiet_numerics():
                c.func(ctx)
        except CheckFailure as err:
            failures[c.name] = (c.exercises[0], str(err))
        except Exception as err:  # under the grader: the student's exception, reported as a failure
            failures[c.name] = (c.exercises[0], f"{type(err).__name__}: {err}")
    return failures


def _mistakes(prefix):
    from autograder.mistakes import MISTAKES
    return [m for m in MISTAKES if m.exercise.startswith(prefix)]


def test_solution_passes_every_check():
    assert _run_checks("regularization.", {}) == {}


@pytest.mark.parametrize("mistake", _mistakes("regularization."), ids=lambda m: f"{m.exercise}:{m.title}")
def test_mistake_fails_only_its_exercise_and_is_named(mistake):
    from autograder.mistakes import diagnose
    from autograder.notebook import reference_functions

    failures = _run_checks("regularization.", {mistake.exercise: mistake.fn})
    own = [msg for ex, msg in failures.values() if ex == mistake.exercise]
    assert own, "no check of its exercise failed"
    assert all(ex == mistake.exercise for ex, _ in failures.values()), failures
    if mistake.detect == "check":
        assert any(mistake.title in msg for msg in own), own
    elif mistake.detect == "property":
        from cs231n_lec7.checks.core import LocalFunctions
        from cs231n_lec7.checks.diagnose import diagnose as diagnose_properties

        found = diagnose_properties(mistake.exercise, LocalFunctions(overrides={mistake.exercise: mistake.fn}))
        assert mistake.title in [f.title for f in found], found
    else:
        ref = reference_functions()(mistake.exercise)
        assert mistake in diagnose(mistake.exercise, mistake.fn, ref)


# ------------------------------------------- DropConnect on 4-D inputs, graded for real
DC = ("regularization.dropconnect_forward", "regularization.dropconnect_backward")


def _four_d_checks(exercise):
    from autograder.grade import all_checks
    return {c.name for c in all_checks().values() if exercise in c.exercises and "4-D" in c.name}


def test_four_d_checks_exist_visible_and_hidden():
    from autograder.grade import all_checks
    for exercise in DC:
        kinds = {c.hidden for c in all_checks().values() if c.name in _four_d_checks(exercise)}
        assert kinds == {False, True}, exercise


def test_two_d_only_dropconnect_loses_the_four_d_checks_and_the_solution_keeps_full_marks(tmp_path):
    """Through grade_batch (sandboxed workers): each 2-D-only piece fails exactly its exercise's 4-D checks."""
    from autograder.grade import grade_batch, load_config
    from autograder.mistakes import MISTAKES
    from autograder.plant import copy_solution, mistake_source, plant_function

    planted = {"dropconnect_x_not_flattened": "forgot to flatten x",
               "dropconnect_backward_x_not_flattened": "forgot to flatten x in backward",
               "dropconnect_backward_dx_flat": "dx not reshaped to x's shape"}
    mistakes = {m.key: m for m in MISTAKES if m.key in planted}
    subs = [copy_solution(str(tmp_path / "in" / "solution"))]
    for key, m in mistakes.items():
        subs.append(copy_solution(str(tmp_path / "in" / key)))
        plant_function(subs[-1], m.exercise, mistake_source(m))
    config = load_config()
    config["exercises"] = {ex: spec for ex, spec in config["exercises"].items() if ex in DC}
    out = tmp_path / "out"
    rows = {r["submission"]: r for r in grade_batch(subs, str(out), jobs=2, config=config, progress=False)}
    for ex in DC:
        assert rows["solution"][ex] == pytest.approx(config["exercises"][ex]["points"])
    assert "Likely bug" not in (out / "solution" / "feedback.md").read_text()
    for key, title in planted.items():
        m = mistakes[key]
        assert m.title == title
        results = json.loads((out / key / "results.json").read_text())
        failed = {t["name"] for t in results["tests"] if t["score"] < t["max_score"]}
        assert failed == _four_d_checks(m.exercise), failed
        assert 0 < rows[key][m.exercise] < config["exercises"][m.exercise]["points"]
        other = next(ex for ex in DC if ex != m.exercise)
        assert rows[key][other] == pytest.approx(config["exercises"][other]["points"])
        feedback = (out / key / "feedback.md").read_text()
        assert f"Likely bug — {title}:" in feedback, feedback
        said = feedback.split(f"Likely bug — {title}:")[1].splitlines()[0]
        if key == "dropconnect_backward_dx_flat":
            assert "your dx has shape (6, 18)" in said and "(6, 2, 3, 3)" in said, said
        else:
            assert "raised ValueError" in said and "(6, 2, 3, 3)" in said, said
