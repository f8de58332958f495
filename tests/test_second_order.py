"""Second-order methods: truth against scipy.optimize and scikit-learn, and checks that can fail.

- Newton on a quadratic converges in exactly one step; on Rosenbrock it reaches (1, 1);
- the two-loop direction equals -H g of dense BFGS built with the given ``bfgs_update``
  (and with the checks' independent product form); ``bfgs_update`` satisfies the secant equation;
- ``lbfgs``/``bfgs`` reach scipy's L-BFGS-B / BFGS minima on Rosenbrock and on softmax regression,
  whose optimum also matches scikit-learn's LogisticRegression; ``lbfgs`` reaches f < 1e-10 on
  Rosenbrock from several starts within about scipy's iteration and evaluation counts (the
  Armijo-only driver it replaced, planted, fails that); the line search meets the strong Wolfe
  conditions and falls back to backtracking when it cannot;
- the softmax-regression gradient passes a numerical gradient check;
- every known mistake, planted in place of the solution, fails the checks and is named;
- the reference passes every visible and hidden check for several grade seeds.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize, rosen, rosen_der, rosen_hess

from autograder.grade import all_checks
from autograder.mistakes import diagnose
from autograder.mistakes.second_order import MISTAKES
from cs231n_lec7 import second_order as so
from cs231n_lec7.checks.core import CheckFailure, Context, LocalFunctions, check_seed, numerical_gradient, quiet_numerics
from cs231n_lec7.checks.second_order import conjugate_pairs, curvature_pairs, dense_bfgs_direction, spd_matrix

EXERCISES = ("second_order.newton_step", "second_order.lbfgs_two_loop")


def rosen_fg(x):
    return float(rosen(x)), rosen_der(x)


def digits_problem(reg=1e-2, n=600):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X[:n] / 16.0
    return X, y[:n], reg


# ------------------------------------------------------------------ Newton
def test_newton_on_a_quadratic_converges_in_exactly_one_step():
    rng = np.random.default_rng(0)
    a = spd_matrix(rng, 20, 1e4)
    x_star = rng.standard_normal(20)
    b = a @ x_star
    hist = so.newton(lambda x: 0.5 * x @ a @ x - b @ x, lambda x: a @ x - b, lambda x: a,
                     rng.standard_normal(20) * 5, max_iter=10, tol=1e-8)
    assert len(hist["x"]) == 2                      # one step, then the gradient test stops it
    np.testing.assert_allclose(hist["x"][1], x_star, rtol=1e-8, atol=1e-8)


def test_newton_on_rosenbrock_reaches_the_minimum_like_scipy_newton_cg():
    hist = so.newton(rosen, rosen_der, rosen_hess, np.array([-1.2, 1.0]), max_iter=20)
    np.testing.assert_allclose(hist["x"][-1], [1.0, 1.0], atol=1e-10)
    res = minimize(rosen, [-1.2, 1.0], jac=rosen_der, hess=rosen_hess, method="Newton-CG", options={"xtol": 1e-12})
    np.testing.assert_allclose(hist["x"][-1], res.x, atol=1e-5)
    assert len(hist["x"]) - 1 < res.nit              # pure Newton needs no line search here


def test_newton_step_does_not_invert():
    import inspect

    assert "np.linalg.inv" not in inspect.getsource(so.newton_step)


# -------------------------------------------------------------- (L-)BFGS
def test_bfgs_update_secant_symmetry_and_product_form():
    rng = np.random.default_rng(1)
    g, s_list, y_list = curvature_pairs(rng, 8, 5, noise=0.3)
    h = np.eye(8) * float(s_list[-1] @ y_list[-1]) / float(y_list[-1] @ y_list[-1])
    for s, y in zip(s_list, y_list):
        h = so.bfgs_update(h, s, y)
        np.testing.assert_allclose(h @ y, s, rtol=1e-10, atol=1e-12)   # secant equation
        np.testing.assert_allclose(h, h.T, atol=1e-12)
        assert np.all(np.linalg.eigvalsh(h) > 0)
    np.testing.assert_allclose(-h @ g, dense_bfgs_direction(g, s_list, y_list), rtol=1e-9)
    np.testing.assert_allclose(so.lbfgs_two_loop(g, s_list, y_list), -h @ g, rtol=1e-9, atol=1e-12)


def test_two_loop_with_conjugate_pairs_is_newton_and_empty_memory_is_steepest_descent():
    rng = np.random.default_rng(2)
    a, s_list, y_list = conjugate_pairs(rng, 7)
    g = rng.standard_normal(7)
    np.testing.assert_allclose(so.lbfgs_two_loop(g, s_list, y_list), -np.linalg.solve(a, g), rtol=1e-8)
    np.testing.assert_array_equal(so.lbfgs_two_loop(g, [], []), -g)
    with pytest.raises(ValueError, match="curvature"):
        so.lbfgs_two_loop(g, [s_list[0]], [-y_list[0]])


@pytest.mark.parametrize("method,ours", [("L-BFGS-B", lambda fg, x0: so.lbfgs(fg, x0, m=10, max_iter=200)),
                                         ("BFGS", lambda fg, x0: so.bfgs(fg, x0, max_iter=200))])
def test_quasi_newton_on_rosenbrock_matches_scipy(method, ours):
    x0 = np.array([-1.2, 1.0, -0.5, 0.8])
    hist = ours(rosen_fg, x0)
    res = minimize(rosen, x0, jac=rosen_der, method=method)
    np.testing.assert_allclose(hist["x"][-1], res.x, atol=1e-4)
    assert hist["loss"][-1] < 1e-10
    assert np.all(np.diff(hist["loss"]) <= 1e-12)     # Armijo: the loss never goes up
    assert hist["failed_line_searches"] == 0


ROSENBROCK_STARTS = [(-1.2, 1.0), (2.0, 2.0), (-1.5, 2.0), (0.0, 0.0), (3.0, -3.0), (-1.2, 1.0, -0.5, 0.8)]


def iterations_to(hist, level):
    """First iteration whose loss is below ``level`` (None if never)."""
    below = np.flatnonzero(np.asarray(hist["loss"]) < level)
    return int(below[0]) if below.size else None


def lbfgs_vs_scipy(lbfgs, x0, level=1e-10):
    """'' when ``lbfgs`` (m = 10) reaches f < level within about scipy's L-BFGS-B iterations and
    evaluations on Rosenbrock from x0, else what went wrong."""
    x0 = np.array(x0, dtype=np.float64)
    res = minimize(rosen, x0, jac=rosen_der, method="L-BFGS-B",
                   options={"gtol": 1e-10, "ftol": 1e-15, "maxiter": 1000})
    assert res.fun < level                                  # the yardstick itself gets there
    hist = lbfgs(rosen_fg, x0, m=10, max_iter=200, tol=1e-10)
    it = iterations_to(hist, level)
    if it is None:
        return f"from {tuple(x0)}: f = {hist['loss'][-1]:.3g} after 200 iterations (scipy: {res.nit})"
    if it > 1.25 * res.nit + 5 or hist["num_evals"][it] > 1.5 * res.nfev + 5:
        return (f"from {tuple(x0)}: {it} iterations / {hist['num_evals'][it]} evaluations to f < {level:g}, "
                f"scipy L-BFGS-B {res.nit} / {res.nfev}")
    return ""


@pytest.mark.parametrize("x0", ROSENBROCK_STARTS, ids=str)
def test_lbfgs_reaches_rosenbrock_minimum_within_scipys_iteration_count(x0):
    assert lbfgs_vs_scipy(so.lbfgs, x0) == ""


def test_armijo_only_lbfgs_fails_the_scipy_comparison():
    """Backtracking to sufficient decrease only, no curvature condition: it crawls (f stuck near 3.5)."""
    armijo = lambda *args, **kw: so.lbfgs(*args, line_search="armijo", **kw)
    assert "after 200 iterations" in lbfgs_vs_scipy(armijo, (-1.2, 1.0))
    with pytest.raises(ValueError, match="line_search"):
        so.lbfgs(rosen_fg, np.zeros(2), line_search="wolf")


def test_lbfgs_with_small_memory_and_bfgs_also_converge_on_rosenbrock():
    x0 = np.array([-1.2, 1.0])
    for m in (1, 3):
        hist = so.lbfgs(rosen_fg, x0, m=m, max_iter=200, tol=1e-10)
        assert hist["loss"][-1] < 1e-10 and hist["rejected_pairs"] == 0 and hist["failed_line_searches"] == 0
    res = minimize(rosen, x0, jac=rosen_der, method="BFGS", options={"gtol": 1e-10})
    hist = so.bfgs(rosen_fg, x0, max_iter=200, tol=1e-10)
    assert iterations_to(hist, 1e-10) <= 1.25 * res.nit + 5


@pytest.mark.parametrize("seed", range(5))
def test_wolfe_line_search_meets_the_strong_wolfe_conditions(seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=4)
    f, g = rosen_fg(x)
    d = -g * rng.uniform(0.1, 3.0) + 0.1 * rng.standard_normal(4) * np.linalg.norm(g)
    if g @ d >= 0:
        d = -g
    calls = []
    counted = lambda p: calls.append(1) or rosen_fg(p)
    alpha, f_new, g_new, evals, ok = so.wolfe_line_search(counted, x, f, g, d)
    assert ok and evals == len(calls)
    assert f_new == rosen(x + alpha * d)
    assert f_new <= f + 1e-4 * alpha * (g @ d)                 # sufficient decrease
    assert abs(g_new @ d) <= 0.9 * abs(g @ d)                  # strong curvature condition
    s, y = alpha * d, g_new - g
    assert s @ y > 0                                           # hence a usable curvature pair


def test_wolfe_line_search_falls_back_to_backtracking_when_no_step_flattens_the_slope():
    """Along a ray where f keeps falling linearly, no step meets the curvature condition."""
    fg = lambda p: (float(-p[0]), np.array([-1.0, 0.0]))
    alpha, f_new, _, evals, ok = so.wolfe_line_search(fg, np.zeros(2), 0.0, np.array([-1.0, 0.0]),
                                                      np.array([1.0, 0.0]))
    assert not ok and alpha == 1.0 and f_new == -1.0 and evals > 1
    hist = so.lbfgs(fg, np.zeros(2), max_iter=3)
    assert hist["failed_line_searches"] == 3 and hist["rejected_pairs"] == 3   # y = 0: s^T y = 0 skipped


def test_lbfgs_on_softmax_regression_matches_scipy_and_sklearn():
    from sklearn.linear_model import LogisticRegression

    X, y, reg = digits_problem()
    fg, w0 = so.softmax_regression(X, y, 10, reg=reg)
    hist = so.lbfgs(fg, w0, m=10, max_iter=300, tol=1e-7)
    res = minimize(fg, w0, jac=True, method="L-BFGS-B", options={"maxiter": 1000, "gtol": 1e-9, "ftol": 1e-14})
    assert hist["loss"][-1] == pytest.approx(res.fun, rel=1e-7)
    # scikit-learn: C * sum(loss) + 1/2 ||W||^2 has the same minimizer as mean(loss) + reg/2 ||W||^2 for C = 1/(reg n)
    clf = LogisticRegression(C=1.0 / (reg * len(y)), tol=1e-10, max_iter=5000).fit(X, y)
    w_sk = np.concatenate([clf.coef_.T.ravel(), clf.intercept_])
    assert fg(w_sk)[0] == pytest.approx(hist["loss"][-1], rel=1e-6)


def test_softmax_regression_gradient_is_correct_and_minibatches_are_random():
    X, y, reg = digits_problem(n=60)
    fg, w0 = so.softmax_regression(X[:, :12], y, 10, reg=reg)
    w = np.random.default_rng(3).standard_normal(w0.size) * 0.1
    num = numerical_gradient(lambda v: fg(v)[0], w)
    np.testing.assert_allclose(fg(w)[1], num, rtol=1e-5, atol=1e-8)
    mb, _ = so.softmax_regression(X, y, 10, reg=reg, batch_size=10, seed=0)
    w_full = np.random.default_rng(4).standard_normal((64 + 1) * 10) * 0.1
    assert mb(w_full)[0] != mb(w_full)[0]


def test_lbfgs_with_minibatches_is_worse_than_full_batch():
    X, y, reg = digits_problem()
    full, w0 = so.softmax_regression(X, y, 10, reg=reg)
    mini, _ = so.softmax_regression(X, y, 10, reg=reg, batch_size=32, seed=0)
    f_star = minimize(full, w0, jac=True, method="L-BFGS-B", options={"gtol": 1e-9, "ftol": 1e-14}).fun
    h_full = so.lbfgs(full, w0, max_iter=60)
    h_mini = so.lbfgs(mini, w0, max_iter=60)
    assert h_full["loss"][-1] - f_star < 1e-5                  # full batch: at the optimum
    assert full(h_mini["x"][-1])[0] - f_star > 1e-2            # minibatch: far from it
    assert h_full["failed_line_searches"] == h_full["rejected_pairs"] == 0
    assert h_mini["failed_line_searches"] > 10 and h_mini["rejected_pairs"] > 0


def test_memory_and_time_helpers():
    assert so.hessian_bytes(1e6) == 8e12
    assert so.lbfgs_bytes(1e6, m=10) == 1.6e8
    assert so.format_bytes(8e12) == "7.28 TiB"
    assert so.time_solve(50, repeats=1) > 0
    assert so.extrapolate_cubic(100, 1e-3, 1000) == pytest.approx(1.0)


# ------------------------------------------------- checks catch wrong answers
def run_checks(exercise, fn, seed=0):
    ref = LocalFunctions()
    ctx_fn = LocalFunctions(overrides={exercise: fn})
    failures = {}
    for c in all_checks().values():
        if c.exercises[0] != exercise:
            continue
        try:
            with quiet_numerics():
                c.func(Context(ctx_fn, ref=ref, seed=check_seed(seed, c.name)))
        except CheckFailure as err:
            failures[c.name] = str(err)
    return failures


@pytest.mark.parametrize("exercise", EXERCISES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_passes_every_check(exercise, seed):
    assert run_checks(exercise, getattr(so, exercise.split(".")[1]), seed) == {}


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.title)
def test_planted_mistake_fails_the_checks_and_is_named(mistake):
    failures = run_checks(mistake.exercise, mistake.fn)
    visible = {c.name for c in all_checks().values() if c.exercises[0] == mistake.exercise and not c.hidden}
    assert failures.keys() & visible, "no visible check rejects this mistake"
    if mistake.detect == "match":
        found = [m.title for m in diagnose(mistake.exercise, mistake.fn, getattr(so, mistake.exercise[13:]))]
        assert found == [mistake.title]
        assert failures.keys() - visible, "no hidden check rejects this mistake"
    else:
        assert any(mistake.title in msg for msg in failures.values())


def test_at_least_two_mistakes_per_exercise():
    for exercise in EXERCISES:
        assert sum(m.exercise == exercise for m in MISTAKES) >= 2
