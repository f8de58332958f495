"""Tests of cs231n_lec7/gradient_check.py: centered differences, in-place restore, rel_error.

Each check is also run on a planted wrong helper (a one-sided difference, a
helper that forgets to restore x) to show that it can fail.
"""
import numpy as np
import pytest

from cs231n_lec7.gradient_check import (eval_numerical_gradient, eval_numerical_gradient_array,
                                        grad_check_sparse, rel_error)

# Centered differences on a smooth function in float64 are accurate to O(h^2) ~ 1e-10;
# a one-sided difference is only O(h) ~ 1e-5.
CENTERED_TOL = 1e-8

# (name, f, analytic gradient)
SMOOTH_FUNCTIONS = [
    ("sum of cubes", lambda x: float(np.sum(x**3)), lambda x: 3 * x**2),
    ("sin + product", lambda x: float(np.sin(x).sum() + 0.5 * x.flat[0] * x.flat[1]),
     lambda x: np.cos(x) + 0.5 * np.r_[x.flat[1], x.flat[0], np.zeros(x.size - 2)].reshape(x.shape)),
    ("log-sum-exp", lambda x: float(np.log(np.exp(x).sum())), lambda x: np.exp(x) / np.exp(x).sum()),
]


def one_sided_gradient(f, x, verbose=True, h=1e-5):
    """PLANTED WRONG: forward differences (f(x+h) - f(x)) / h."""
    grad = np.zeros_like(x)
    fx = f(x)
    for ix in np.ndindex(*x.shape):
        old = x[ix]
        x[ix] = old + h
        grad[ix] = (f(x) - fx) / h
        x[ix] = old
    return grad


def forgetful_gradient(f, x, verbose=True, h=1e-5):
    """PLANTED WRONG: centered differences that leave x changed by -h."""
    grad = np.zeros_like(x)
    for ix in np.ndindex(*x.shape):
        old = x[ix]
        x[ix] = old + h
        fp = f(x)
        x[ix] = old - h
        grad[ix] = (fp - f(x)) / (2 * h)
    return grad


def centered_error(numerical_gradient, f, grad_f, seed=0):
    x = np.random.default_rng(seed).uniform(0.5, 1.5, size=(3, 4))
    return rel_error(numerical_gradient(f, x.copy(), verbose=False), grad_f(x))


@pytest.mark.parametrize("name,f,grad_f", SMOOTH_FUNCTIONS, ids=[s[0] for s in SMOOTH_FUNCTIONS])
def test_eval_numerical_gradient_matches_analytic(name, f, grad_f):
    """Centered differences agree with the analytic gradient to O(h^2); one-sided ones do not."""
    assert centered_error(eval_numerical_gradient, f, grad_f) < CENTERED_TOL
    assert centered_error(one_sided_gradient, f, grad_f) > CENTERED_TOL


def restores_x(numerical_gradient):
    x = np.random.default_rng(1).standard_normal((4, 3))
    before = x.copy()
    numerical_gradient(lambda z: float(np.sum(z**2)), x, verbose=False)
    return np.array_equal(x, before)


def test_eval_numerical_gradient_restores_x():
    """x is bit-for-bit unchanged afterwards; a helper that forgets to restore it is caught."""
    assert restores_x(eval_numerical_gradient)
    assert not restores_x(forgetful_gradient)


def test_restores_x_when_f_raises():
    """Even when f fails halfway, x is put back."""
    x = np.arange(4.0)
    calls = []

    def f(z):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return float(z.sum())

    with pytest.raises(RuntimeError):
        eval_numerical_gradient(f, x, verbose=False)
    assert np.array_equal(x, np.arange(4.0))


def test_works_through_a_closure():
    """f may ignore its argument and read x through a closure (CS231n's model.params idiom)."""
    params = {"W": np.random.default_rng(2).standard_normal((3, 2))}
    grad = eval_numerical_gradient(lambda _: float(np.sum(params["W"] ** 2)), params["W"], verbose=False)
    assert rel_error(grad, 2 * params["W"]) < CENTERED_TOL


def test_verbose_prints_to_stdout(capsys):
    """verbose=True prints one line per entry on stdout, nothing on stderr; verbose=False prints nothing."""
    x = np.zeros((2, 2))
    eval_numerical_gradient(lambda z: float(z.sum()), x, verbose=True)
    out, err = capsys.readouterr()
    assert len(out.strip().splitlines()) == 4 and err == ""
    eval_numerical_gradient(lambda z: float(z.sum()), x, verbose=False)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("bad, exc", [([1.0, 2.0], TypeError), (np.arange(3), TypeError)],
                         ids=["list", "int array"])
def test_rejects_inputs_it_cannot_perturb(bad, exc):
    """A list or an integer array cannot hold x + h in place: a clear error, not a silent zero gradient."""
    with pytest.raises(exc, match="x must be"):
        eval_numerical_gradient(lambda z: 0.0, bad, verbose=False)


def test_eval_numerical_gradient_array_is_a_backward_pass():
    """For f(x) = x**2 * c the backward pass of df is 2 x c df; a wrong upstream weighting is caught."""
    rng = np.random.default_rng(3)
    x, c, df = rng.standard_normal((3, 5)), rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    grad = eval_numerical_gradient_array(lambda z: z**2 * c, x, df)
    assert rel_error(grad, 2 * x * c * df) < CENTERED_TOL
    assert rel_error(grad, 2 * x * c) > 1e-2  # forgetting df is detectable


def test_eval_numerical_gradient_array_copies_views():
    """f may return a view of x (identity); the helper copies before x changes again."""
    x = np.random.default_rng(4).standard_normal(5)
    df = np.arange(5.0)
    assert rel_error(eval_numerical_gradient_array(lambda z: z, x, df), df) < CENTERED_TOL


def test_eval_numerical_gradient_array_shape_mismatch():
    """A df shaped unlike f(x) is a ValueError that says so."""
    with pytest.raises(ValueError, match="df must be shaped like the output"):
        eval_numerical_gradient_array(lambda z: z.sum(axis=0), np.ones((2, 3)), np.ones((2, 3)))


def test_grad_check_sparse_returns_errors_and_prints(capsys):
    """num_checks relative errors, tiny for the right gradient, one printed line each."""
    x = np.random.default_rng(5).standard_normal((10, 8))
    errors = grad_check_sparse(lambda z: float(np.sum(z**3)), x, 3 * x**2, num_checks=7, seed=0)
    assert len(errors) == 7 and max(errors) < CENTERED_TOL
    out, err = capsys.readouterr()
    assert len(out.strip().splitlines()) == 7 and "relative error" in out and err == ""


def test_grad_check_sparse_catches_a_wrong_gradient():
    """A gradient off by a factor 2 gives relative errors about 1/3."""
    x = np.random.default_rng(6).uniform(1, 2, size=(6, 6))
    errors = grad_check_sparse(lambda z: float(np.sum(z**3)), x, 6 * x**2, num_checks=5, seed=1)
    assert min(errors) > 0.3


def test_grad_check_sparse_seeded_and_leaves_global_rng_alone(capsys):
    """Same seed, same entries; a Generator works; numpy's global generator is untouched."""
    x = np.random.default_rng(7).standard_normal((20, 20))
    f, grad = (lambda z: float(np.sum(np.sin(z)))), np.cos(x) * 1.01  # slightly wrong: errors differ per entry
    state = np.random.get_state()[1].copy()
    a = grad_check_sparse(f, x, grad, num_checks=6, seed=11)
    b = grad_check_sparse(f, x, grad, num_checks=6, seed=np.random.default_rng(11))
    c = grad_check_sparse(f, x, grad, num_checks=6, seed=12)
    assert a == b and a != c
    assert np.array_equal(np.random.get_state()[1], state)


@pytest.mark.parametrize("x, y, expected", [
    (1.0, 1.0, 0.0),
    (1.0, 3.0, 0.5),                       # |1-3| / (1+3)
    (0.0, 0.0, 0.0),                       # 0/1e-8: no division by zero
    (1e-12, 0.0, 1e-4),                    # the 1e-8 floor
    ([1.0, 2.0], [1.0, 2.2], 0.2 / 4.2),   # the maximum over entries
    (np.ones((2, 2)), -np.ones((2, 2)), 1.0),
])
def test_rel_error_values(x, y, expected):
    """rel_error = max |x-y| / max(1e-8, |x|+|y|) on hand-computed cases."""
    assert rel_error(x, y) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_rel_error_takes_the_maximum_not_the_mean():
    """One bad entry among many good ones is reported, not averaged away."""
    a = np.ones(1000)
    b = a.copy()
    b[17] = 2.0
    assert rel_error(a, b) == pytest.approx(1 / 3)
    assert float(np.mean(np.abs(a - b) / (np.abs(a) + np.abs(b)))) < 1e-3  # what a mean would say


def test_check_library_numerical_gradients_batched_and_one_by_one_agree():
    """The checks' own centred differences: exact on a quadratic, identical batched or not."""
    from cs231n_lec7.checks.core import Context, LocalFunctions, numerical_gradient, numerical_gradient_of_calls

    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    x = np.array([0.3, -1.2])
    one_by_one = numerical_gradient(lambda z: float(0.5 * z @ A @ z), x)
    assert rel_error(one_by_one, A @ x) < 1e-9
    ctx = Context(LocalFunctions(overrides={"demo.quad": lambda z, M: float(0.5 * z @ M @ z)}))
    batched = numerical_gradient_of_calls(ctx, "demo.quad", lambda z: (z, A), lambda r: r, x)
    assert np.array_equal(batched, one_by_one)
    wrong = numerical_gradient_of_calls(ctx, "demo.quad", lambda z: (z, 2 * A), lambda r: r, x)
    assert rel_error(wrong, A @ x) > 0.1
