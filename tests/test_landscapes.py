"""Synthetic loss surfaces: derivatives, the facts the notebooks teach with them, and run_optimizer."""
import numpy as np
import pytest
from scipy.optimize import approx_fprime, rosen, rosen_der, rosen_hess

from cs231n_lec7 import landscapes as L
from cs231n_lec7 import optim


def _small_data(seed=0, n=60, d=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, X @ rng.standard_normal(d) + 0.3 * rng.standard_normal(n)


def _landscapes():
    X, y = _small_data()
    return {
        "quadratic-2d": L.Quadratic(50, rotation=0.4, center=[1.0, -2.0]),
        "quadratic-5d": L.Quadratic(1e3, dim=5, rotation=3, center=np.arange(5.0), scale=0.5),
        "rosenbrock-2d": L.Rosenbrock(),
        "rosenbrock-4d": L.Rosenbrock(a=1.0, b=10.0, dim=4),
        "saddle-2d": L.Saddle(),
        "saddle-4d": L.Saddle(dim=4, num_descent=2, quartic=0.1),
        "least-squares": L.LeastSquares(X, y, reg=0.1),
        "logistic": L.LogisticRegression(X, (y > 0).astype(float), reg=0.01),
    }


LANDSCAPES = _landscapes()


def numerical_grad(f, x, h=1e-5):
    """Central differences of a scalar function f at x (dim,)."""
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def numerical_hessian(grad, x, h=1e-5):
    """Central differences of a gradient function at x (dim,): column i = d grad / d x_i."""
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        cols.append((grad(x + e) - grad(x - e)) / (2 * h))
    return np.array(cols).T


def rel_error(a, b):
    return np.max(np.abs(a - b)) / max(1e-8, np.max(np.abs(a) + np.abs(b)))


def _points(landscape, n=3, seed=1):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, size=(n, landscape.dim))


@pytest.mark.parametrize("name", list(LANDSCAPES))
def test_gradient_matches_central_differences(name):
    """grad(x) agrees with central differences of value(x) at random points."""
    land = LANDSCAPES[name]
    for x in _points(land):
        assert rel_error(land.grad(x), numerical_grad(land.value, x)) < 1e-6, name


@pytest.mark.parametrize("name", list(LANDSCAPES))
def test_hessian_matches_differences_of_gradient(name):
    """hessian(x) is symmetric and agrees with central differences of grad(x)."""
    land = LANDSCAPES[name]
    for x in _points(land):
        H = land.hessian(x)
        assert H.shape == (land.dim, land.dim)
        np.testing.assert_allclose(H, H.T, atol=1e-12)
        assert rel_error(H, numerical_hessian(land.grad, x)) < 1e-6, name


@pytest.mark.parametrize("name", list(LANDSCAPES))
def test_batches_of_points_agree_with_single_points(name):
    """value/grad on an (n, dim) batch equal n single-point calls."""
    land = LANDSCAPES[name]
    P = _points(land, n=4)
    np.testing.assert_allclose(land.value(P), [land.value(p) for p in P], rtol=1e-12)
    np.testing.assert_allclose(land.grad(P), [land.grad(p) for p in P], rtol=1e-12, atol=1e-12)
    assert isinstance(land.value(P[0]), float)
    f, g = land.value_and_grad(P[0])
    assert f == land.value(P[0]) and np.array_equal(g, land.grad(P[0]))


@pytest.mark.parametrize("name", list(LANDSCAPES))
def test_minimum_is_a_critical_point_with_the_stated_value(name):
    """Where the minimum is known, the gradient vanishes there and the Hessian is positive definite."""
    land = LANDSCAPES[name]
    if land.minimum is None:
        pytest.skip("minimum not known in closed form")
    assert np.abs(land.grad(land.minimum)).max() < 1e-8
    assert np.isclose(land.value(land.minimum), land.minimum_value, atol=1e-12)
    assert np.linalg.eigvalsh(land.hessian(land.minimum)).min() > 0


def test_gradient_check_rejects_a_planted_wrong_gradient():
    """The derivative check above fails for a Rosenbrock whose gradient forgets the chain rule."""
    class WrongRosenbrock(L.Rosenbrock):
        def _grad(self, P):
            G = super()._grad(P)
            G[:, 0] += 4.0 * self.b * P[:, 0] * (P[:, 1] - P[:, 0] ** 2)  # drop the -4b x (y - x^2) term
            return G

    land, x = WrongRosenbrock(), np.array([0.3, -0.7])
    assert rel_error(land.grad(x), numerical_grad(land.value, x)) > 1e-3


def test_grad_agrees_with_scipy_approx_fprime_and_rosen():
    """Independent references: scipy's approx_fprime, and scipy.optimize.rosen/_der/_hess."""
    land = LANDSCAPES["quadratic-5d"]
    x = _points(land)[0]
    np.testing.assert_allclose(land.grad(x), approx_fprime(x, land.value, 1e-7), rtol=1e-4, atol=1e-4)
    rng = np.random.default_rng(0)
    for dim in (2, 3, 6):
        x, land = rng.uniform(-2, 2, dim), L.Rosenbrock(dim=dim)
        assert np.isclose(land.value(x), rosen(x))
        np.testing.assert_allclose(land.grad(x), rosen_der(x), rtol=1e-12)
        np.testing.assert_allclose(land.hessian(x), rosen_hess(x), rtol=1e-12)


@pytest.mark.parametrize("kappa,dim,rotation", [(10, 2, None), (100, 2, 0.7), (1e4, 2, -1.2),
                                                (500, 6, 0), (7, 3, np.random.default_rng(5))])
def test_quadratic_has_the_requested_condition_number_and_minimum(kappa, dim, rotation):
    """cond(A) (numpy's own) is kappa, lambda_min = scale, the minimum is the center."""
    center = np.linspace(-1, 1, dim)
    q = L.Quadratic(kappa, dim=dim, rotation=rotation, center=center, scale=0.3)
    assert np.isclose(np.linalg.cond(q.A), kappa, rtol=1e-8)
    assert np.isclose(q.condition_number, kappa, rtol=1e-12)
    np.testing.assert_allclose(np.linalg.eigvalsh(q.A), q.eigenvalues, rtol=1e-9)
    assert np.isclose(q.lambda_min, 0.3) and np.isclose(q.lambda_max, 0.3 * kappa)
    np.testing.assert_array_equal(q.minimum, center)
    assert q.value(center) == 0.0
    assert q.value(center + 0.1) > 0


def test_quadratic_2d_rotation_angle_is_the_shallow_axis():
    """In 2-D, rotation=theta points the shallow eigenvector (lambda_min) at angle theta."""
    theta = 0.6
    q = L.Quadratic(20, rotation=theta)
    u = np.array([np.cos(theta), np.sin(theta)])
    np.testing.assert_allclose(q.grad(u), q.lambda_min * u, atol=1e-12)
    np.testing.assert_allclose(q.grad([-u[1], u[0]]), q.lambda_max * np.array([-u[1], u[0]]), atol=1e-12)
    np.testing.assert_allclose(L.Quadratic(20).A, np.diag([1.0, 20.0]))  # default: shallow x, steep y


def test_quadratic_random_rotation_is_reproducible_by_seed():
    """The same seed gives the same matrix; a different seed a different one."""
    a, b, c = (L.Quadratic(100, dim=4, rotation=s).A for s in (1, 1, 2))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_quadratic_rejects_bad_arguments():
    """Messages say what is wrong."""
    with pytest.raises(ValueError, match="condition_number"):
        L.Quadratic(0.5)
    with pytest.raises(ValueError, match="scale"):
        L.Quadratic(10, scale=0)
    with pytest.raises(TypeError, match="rotation"):
        L.Quadratic(10, dim=3, rotation=0.5)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        L.Quadratic(10).value(np.zeros(3))


def _gd_converges(landscape, lr, num_steps=400):
    """Plain gradient descent (optim.sgd through run_optimizer) from a generic start reaches the minimum."""
    x0 = landscape.minimum + np.linspace(1.0, 2.0, landscape.dim)
    path = L.run_optimizer(optim.sgd, landscape, x0, num_steps, {"learning_rate": lr})
    final = path[-1]
    return bool(np.all(np.isfinite(final)) and np.linalg.norm(final - landscape.minimum) < 1e-6)


def _stability_threshold_is_right(landscape, threshold):
    """GD converges 5 % below the claimed threshold and diverges 5 % above it."""
    return _gd_converges(landscape, 0.95 * threshold) and not _gd_converges(landscape, 1.05 * threshold)


@pytest.mark.parametrize("q", [L.Quadratic(10, rotation=0.3), L.Quadratic(30, dim=5, rotation=4, scale=2.0)])
def test_max_stable_lr_separates_convergence_from_divergence(q):
    """lr just below 2/lambda_max converges, just above diverges; 1/lambda_max and 2/lambda_min fail this."""
    assert np.isclose(q.max_stable_lr, 2.0 / np.linalg.eigvalsh(q.A).max())
    assert _stability_threshold_is_right(q, q.max_stable_lr)
    assert not _stability_threshold_is_right(q, 1.0 / q.lambda_max)   # planted: too cautious
    assert not _stability_threshold_is_right(q, 2.0 / q.lambda_min)   # planted: wrong eigenvalue


def test_optimal_lr_beats_nearby_learning_rates():
    """2/(lambda_min + lambda_max) leaves a smaller error after 50 steps than 0.8x or 1.2x of it."""
    q = L.Quadratic(20, rotation=0.2)
    err = {s: np.linalg.norm(L.run_optimizer("sgd", q, [1.0, 1.0], 50, {"learning_rate": s * q.optimal_lr})[-1])
           for s in (0.8, 1.0, 1.2)}
    assert err[1.0] < err[0.8] and err[1.0] < err[1.2]


def test_saddle_traps_gradient_descent_on_the_ridge_and_noise_escapes():
    """From (1, 0) plain GD converges to the saddle; with gradient noise it reaches a minimum (f = -1)."""
    s = L.Saddle()
    assert np.array_equal(s.grad(s.saddle_point), np.zeros(2))
    assert sorted(np.linalg.eigvalsh(s.hessian(s.saddle_point))) == [-2.0, 2.0]
    clean = L.run_optimizer("sgd", s, [1.0, 0.0], 300, {"learning_rate": 0.05})
    assert np.linalg.norm(clean[-1]) < 1e-6 and np.isclose(s.value(clean[-1]), 0.0)
    noisy = L.run_optimizer("sgd", L.NoisyGradient(s, 0.01, seed=0), [1.0, 0.0], 300, {"learning_rate": 0.05})
    assert s.value(noisy[-1]) < -0.99
    assert np.isclose(abs(noisy[-1][1]), np.sqrt(2), atol=0.05)
    assert L.Saddle(quartic=0).minimum is None


def test_fraction_of_minima_falls_with_dimension():
    """The fraction of random critical points that are minima is 1/2 in 1-D and falls fast with dim."""
    fractions = [L.fraction_of_minima(d, n_samples=20000, seed=d) for d in (1, 2, 3, 4, 6)]
    assert abs(fractions[0] - 0.5) < 0.015
    assert all(a > b for a, b in zip(fractions, fractions[1:])), fractions
    assert fractions[-1] < 2.0 ** -6  # faster than independent coin flips per eigenvalue
    assert L.fraction_of_minima(3, 5000, seed=7) == L.fraction_of_minima(3, 5000, seed=7)


def test_fraction_of_minima_uses_all_eigenvalues():
    """2x2 GOE: P(both eigenvalues > 0) = (2 - sqrt 2)/4; a planted 'positive diagonal' test gives 1/4."""
    expected = (2 - np.sqrt(2)) / 4
    assert abs(L.fraction_of_minima(2, n_samples=40000, seed=0) - expected) < 0.01
    H = L.random_critical_point_hessian(2, seed=0, size=40000)
    planted = np.mean(np.all(np.diagonal(H, axis1=1, axis2=2) > 0, axis=1))
    assert abs(planted - expected) > 0.05
    np.testing.assert_array_equal(H, np.swapaxes(H, 1, 2))


def test_noisy_gradient_is_unbiased_with_the_stated_std():
    """Mean of many noisy gradients = true gradient; per-coordinate std = noise_std / sqrt(batch_size)."""
    q = L.Quadratic(10, rotation=0.3)
    noisy = L.NoisyGradient(q, noise_std=0.5, seed=0)
    x = np.array([0.7, -0.2])
    G = np.array([noisy.grad(x) for _ in range(20000)])
    np.testing.assert_allclose(G.mean(axis=0), q.grad(x), atol=0.02)
    np.testing.assert_allclose(G.std(axis=0), 0.5, rtol=0.03)
    G16 = np.array([noisy.grad(x, batch_size=16) for _ in range(20000)])
    np.testing.assert_allclose(G16.std(axis=0), 0.5 / 4, rtol=0.03)
    assert noisy.value(x) == q.value(x) and np.array_equal(noisy.hessian(x), q.hessian(x))
    a = L.NoisyGradient(q, 0.5, seed=3).grad(x)
    assert np.array_equal(a, L.NoisyGradient(q, 0.5, seed=3).grad(x))


def test_minibatch_gradients_are_unbiased_and_exact_at_full_batch():
    """Minibatch gradients average to the full gradient; batch_size = N gives it exactly."""
    land = LANDSCAPES["logistic"]
    w = np.array([0.3, -0.1, 0.2, 0.5])
    rng = np.random.default_rng(0)
    mean = np.mean([land.grad(w, batch_size=5, rng=rng) for _ in range(8000)], axis=0)
    np.testing.assert_allclose(mean, land.grad(w), atol=0.01)
    np.testing.assert_allclose(land.grad(w, batch_size=land.num_examples), land.grad(w), atol=1e-12)
    np.testing.assert_allclose(land.per_example_grads(w).mean(axis=0), land.grad(w), atol=1e-12)
    with pytest.raises(ValueError, match="batch_size"):
        land.grad(w, batch_size=0)


def test_minibatch_noise_falls_like_one_over_sqrt_batch_on_digits():
    """On real data (digits), measured noise matches (s^2/B)(N-B)/(N-1) and halves when B quadruples."""
    land = L.digits_regression("least_squares", reg=1e-3, seed=0)
    assert land.dim == 65 and land.num_examples == 1197
    w = land.minimum + 0.05
    batch_sizes = np.array([1, 4, 16, 64])
    measured = L.minibatch_gradient_noise(land, w, batch_sizes, num_draws=400, seed=0)
    expected = land.expected_minibatch_noise(w, batch_sizes)
    np.testing.assert_allclose(measured, expected, rtol=0.12)
    ratios = measured[:-1] / measured[1:]
    np.testing.assert_allclose(ratios, 2.0, rtol=0.2)
    assert np.all(np.abs(ratios - 4.0) > 1.0)  # a planted 1/B law would quadruple the ratio
    assert land.expected_minibatch_noise(w, land.num_examples) == 0.0


def test_value_grid_matches_value():
    """value_grid(X, Y)[i, j] = value([X[i, j], Y[i, j]]); it refuses non-2-D landscapes."""
    land = LANDSCAPES["rosenbrock-2d"]
    X, Y = np.meshgrid(np.linspace(-2, 2, 7), np.linspace(-1, 3, 5))
    Z = land.value_grid(X, Y)
    assert Z.shape == X.shape
    assert np.isclose(Z[2, 3], land.value([X[2, 3], Y[2, 3]]))
    with pytest.raises(ValueError, match="2-D"):
        LANDSCAPES["rosenbrock-4d"].value_grid(X, Y)


def test_run_optimizer_follows_the_closed_form_gradient_descent_path():
    """With optim.sgd on a quadratic, row t equals (I - lr A)^t x0 exactly; config is not mutated."""
    q = L.Quadratic(10, rotation=0.5)
    x0, lr, T = np.array([1.0, -2.0]), 0.05, 30
    config = {"learning_rate": lr}
    path = L.run_optimizer(optim.sgd, q, x0, T, config)
    assert path.shape == (T + 1, 2) and path.dtype == np.float64
    M = np.eye(2) - lr * q.A
    expected = [np.linalg.matrix_power(M, t) @ x0 for t in range(T + 1)]
    np.testing.assert_allclose(path, expected, atol=1e-12)
    assert config == {"learning_rate": lr}
    np.testing.assert_array_equal(L.run_optimizer("sgd", q, x0, T, config), path)


def test_run_optimizer_keeps_state_between_steps():
    """Momentum's velocity is carried between steps (two steps differ from two fresh ones), not into the caller's dict."""
    q = L.Quadratic(10)
    config = {"learning_rate": 0.1, "momentum": 0.9}
    path = L.run_optimizer(optim.sgd_momentum, q, [1.0, 1.0], 2, config)
    assert "velocity" not in config  # the caller's dict never receives the state
    np.testing.assert_array_equal(L.run_optimizer(optim.sgd_momentum, q, [1.0, 1.0], 2, config), path)
    w1, _ = optim.sgd_momentum(np.array([1.0, 1.0]), q.grad([1.0, 1.0]), {"learning_rate": 0.1, "momentum": 0.9})
    fresh, _ = optim.sgd_momentum(w1, q.grad(w1), {"learning_rate": 0.1, "momentum": 0.9})
    np.testing.assert_allclose(path[1], w1)
    assert not np.allclose(path[2], fresh)


def test_run_optimizer_pads_with_nan_after_divergence():
    """A diverging run stops at the first non-finite iterate; later rows are NaN, earlier rows finite."""
    q = L.Quadratic(10)
    path = L.run_optimizer("sgd", q, [1.0, 1.0], 2000, {"learning_rate": 10 * q.max_stable_lr})
    finite = np.all(np.isfinite(path), axis=1)
    assert path.shape == (2001, 2)
    assert finite[0] and not finite[-1]
    k = np.argmin(finite)
    assert finite[:k].all() and not finite[k:].any()
    with pytest.raises(ValueError, match="no update rule"):
        L.run_optimizer("sgdd", q, [1.0, 1.0], 5)


def test_run_optimizer_passes_minibatch_arguments():
    """grad_kwargs reaches landscape.grad: SGD on minibatches of least squares approaches the minimum."""
    land = LANDSCAPES["least-squares"]
    path = L.run_optimizer("sgd", land, np.zeros(land.dim), 500, {"learning_rate": 0.05},
                           grad_kwargs={"batch_size": 8})
    assert np.linalg.norm(path[-1] - land.minimum) < 0.2
    assert not np.allclose(path[1], -0.05 * land.grad(np.zeros(land.dim)))  # a minibatch step, not full


def test_run_optimizer_tracks_nesterov_velocity_and_recovers_the_look_ahead_iterates():
    """track='velocity' records v after every step; x~ - rho v is the look-ahead form's x, step for step."""
    q = L.Quadratic(30, rotation=0.4)
    rho, lr, x0 = 0.9, 0.02, np.array([-2.0, 1.5])
    tilde, velocity = L.run_optimizer(optim.nesterov_momentum, q, x0, 40, {"learning_rate": lr, "momentum": rho},
                                      track="velocity")
    assert tilde.shape == velocity.shape == (41, 2)
    np.testing.assert_array_equal(velocity[0], 0.0)
    x, v, xs = x0.copy(), np.zeros(2), [x0.copy()]
    for _ in range(40):                          # the look-ahead form, written out
        v = rho * v - lr * q.grad(x + rho * v)
        x = x + v
        xs.append(x)
    np.testing.assert_allclose(tilde - rho * velocity, np.array(xs), atol=1e-12)
    assert np.abs(tilde - np.array(xs)).max() > 1e-3, "x~ and x differ: plotting x~ as x would be wrong"
    # the path alone (no track) is unchanged
    np.testing.assert_array_equal(L.run_optimizer(optim.nesterov_momentum, q, x0, 40,
                                                  {"learning_rate": lr, "momentum": rho}), tilde)
    with pytest.raises(KeyError, match="velocity"):
        L.run_optimizer(optim.sgd, q, x0, 3, {"learning_rate": lr}, track="velocity")
