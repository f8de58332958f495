"""Visible checks for Newton's step and the L-BFGS two-loop recursion (``second_order.py``).

newton_step:
- one step on fixed inputs (stored in ``expected/second_order.npz``);
- on a quadratic, one step lands exactly on the minimum (known by construction);
- a non-symmetric Jacobian (Newton for g(x) = 0): solve with H, not H^T;
- the step solves H (x - x_new) = g, and the inputs are left alone.

lbfgs_two_loop:
- the direction for fixed pairs (stored);
- an independent derivation: the direction equals -H g where H is the dense
  BFGS inverse-Hessian built from the same pairs, starting at gamma I;
- with N A-conjugate pairs from a quadratic, the direction is Newton's -A^{-1} g;
- the gradient array is not modified.

The problem builders and the dense BFGS reference live here so the hidden
checks reuse them.
"""
from __future__ import annotations

import numpy as np

from .core import STEP_TOL, CheckFailure, as_array, assert_close, check, quiet_numerics

N_FIXED = 5
# Directions go through O(m) vector operations; allow a little more than one step's rounding.
DIRECTION_TOL = 1e-6
# Hints state conventions, not the equations (those are the exercise: notebook 05).
NEWTON_HINT = "solve the linear system with np.linalg.solve(hessian, grad) (never form the inverse), then step"
LBFGS_HINT = ("first loop newest -> oldest, scale by gamma from the newest pair, second loop oldest -> newest; "
              "the result is a DESCENT direction")


# ------------------------------------------------------------------ problems
def spd_matrix(rng, n, condition=10.0):
    """A random symmetric positive definite n x n matrix with the given condition number."""
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (q * np.geomspace(1.0, condition, n)) @ q.T


def newton_fixed_problem():
    """x, g, H (SPD) for the fixed one-step check."""
    rng = np.random.default_rng(231)
    h = spd_matrix(rng, N_FIXED, 20.0)
    return rng.standard_normal(N_FIXED), rng.standard_normal(N_FIXED), h


def jacobian_problem():
    """x, g, J with J clearly non-symmetric (Newton's method for a vector field g(x) = 0)."""
    rng = np.random.default_rng(7)
    j = np.eye(N_FIXED) * 3.0 + np.triu(rng.standard_normal((N_FIXED, N_FIXED)), 1) * 2.0
    return rng.standard_normal(N_FIXED), rng.standard_normal(N_FIXED), j


def quadratic_problem(rng, n, condition):
    """f(x) = 1/2 x^T A x - b^T x with its minimizer x* known by construction (b = A x*)."""
    a = spd_matrix(rng, n, condition)
    x_star = rng.standard_normal(n)
    return a, a @ x_star, x_star, rng.standard_normal(n) * 3.0


def curvature_pairs(rng, n, m, noise=0.0, condition=30.0):
    """g and m pairs (oldest -> newest) with y = A s (+ noise), all with s^T y > 0."""
    a = spd_matrix(rng, n, condition)
    s_list, y_list = [], []
    while len(s_list) < m:
        s = rng.standard_normal(n) * rng.uniform(0.1, 2.0)
        y = a @ s + noise * rng.standard_normal(n) * np.linalg.norm(a @ s) / np.sqrt(n)
        if s @ y > 1e-3 * np.linalg.norm(s) * np.linalg.norm(y):
            s_list.append(s)
            y_list.append(y)
    return rng.standard_normal(n), s_list, y_list


def lbfgs_fixed_problem():
    return curvature_pairs(np.random.default_rng(1234), 6, 3, noise=0.3)


def conjugate_pairs(rng, n, condition=50.0):
    """A quadratic's Hessian A and n A-conjugate pairs (s_i^T A s_j = 0, i != j), y_i = A s_i."""
    a = spd_matrix(rng, n, condition)
    w, v = np.linalg.eigh(a)
    a_inv_sqrt = (v * w**-0.5) @ v.T
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    s_list = [a_inv_sqrt @ q[:, i] for i in range(n)]
    return a, s_list, [a @ s for s in s_list]


def dense_bfgs_direction(grad, s_list, y_list):
    """-H g with H built densely by BFGS from H_0 = gamma I (gamma = s^T y / y^T y of the newest pair).

    Written in the product form H <- (I - rho s y^T) H (I - rho y s^T) + rho s s^T,
    independent of the two-loop recursion.
    """
    n = grad.size
    if not s_list:
        return -grad
    eye = np.eye(n)
    h = eye * float(s_list[-1] @ y_list[-1]) / float(y_list[-1] @ y_list[-1])
    for s, y in zip(s_list, y_list):
        rho = 1.0 / float(y @ s)
        h = (eye - rho * np.outer(s, y)) @ h @ (eye - rho * np.outer(y, s)) + rho * np.outer(s, s)
    return -h @ grad


def call_newton(ctx, x, g, h, label="newton_step"):
    with quiet_numerics():
        got = ctx.fn("second_order.newton_step")(x.copy(), g.copy(), h.copy())
    return as_array(label, got, shape=x.shape)


def call_two_loop(ctx, g, s_list, y_list, label="lbfgs_two_loop"):
    with quiet_numerics():
        got = ctx.fn("second_order.lbfgs_two_loop")(g.copy(), [s.copy() for s in s_list],
                                                    [y.copy() for y in y_list])
    return as_array(label, got, shape=g.shape)


def newton_diagnosis(x, g, h, got):
    """Plain-words guess at what a wrong Newton step did (empty when nothing matches)."""
    with quiet_numerics():
        p = np.linalg.solve(h, g)
        guesses = [
            (x + p, "the gradient sign is flipped: x - H^{-1} g, not x + H^{-1} g"),
            (x - h @ g, "multiplied by H instead of solving with it (H g is not H^{-1} g)"),
            (x - np.linalg.solve(h.T, g), "solved with H^T instead of H"),
            (x - g / np.diag(h), "used only the diagonal of H"),
            (x - g, "a gradient step, not a Newton step"),
        ]
    for candidate, words in guesses:
        if np.allclose(got, candidate, rtol=1e-9, atol=1e-12) and not np.allclose(candidate, x - p):
            return words
    return NEWTON_HINT


def lbfgs_diagnosis(g, s_list, y_list, got):
    want = dense_bfgs_direction(g, s_list, y_list)
    if np.allclose(got, -want, rtol=1e-8, atol=1e-12):
        return "the sign is flipped: return d = -r, a descent direction"
    if got.size and abs(float(got @ g)) > 0 and float(got @ g) > 0:
        return "not a descent direction (g^T d > 0): return -H g"
    return LBFGS_HINT


def make_expected(ref) -> dict:
    newton = ref("second_order.newton_step")
    two_loop = ref("second_order.lbfgs_two_loop")
    x, g, h = newton_fixed_problem()
    xj, gj, j = jacobian_problem()
    g2, s_list, y_list = lbfgs_fixed_problem()
    return {
        "newton/fixed": newton(x, g, h),
        "newton/jacobian": newton(xj, gj, j),
        "lbfgs/fixed": two_loop(g2, s_list, y_list),
    }


# ---------------------------------------------------------------- newton_step
@check("second_order.newton_step", name="newton_step: one step on fixed inputs")
def newton_fixed(ctx):
    """One Newton step with a fixed SPD Hessian matches the stored value."""
    x, g, h = newton_fixed_problem()
    got = call_newton(ctx, x, g, h)
    want = ctx.expected("second_order/newton/fixed")
    assert_close("newton_step: x_new", got, want, STEP_TOL, newton_diagnosis(x, g, h, got))


@check("second_order.newton_step", name="newton_step: one step to a quadratic's minimum")
def newton_quadratic(ctx):
    """On f = 1/2 x^T A x - b^T x (condition number 1e3), one step from anywhere lands on x* = A^{-1} b."""
    a, b, x_star, x0 = quadratic_problem(np.random.default_rng(5), 8, 1e3)
    got = call_newton(ctx, x0, a @ x0 - b, a)
    assert_close("newton_step from x0 on a quadratic (should be the minimizer x*)", got, x_star, 1e-6,
                 newton_diagnosis(x0, a @ x0 - b, a, got))


@check("second_order.newton_step", name="newton_step: non-symmetric Jacobian")
def newton_jacobian(ctx):
    """Newton for g(x) = 0 with a non-symmetric Jacobian J: x - J^{-1} g (solve with J, not J^T)."""
    x, g, j = jacobian_problem()
    got = call_newton(ctx, x, g, j)
    assert_close("newton_step with a non-symmetric Jacobian", got, ctx.expected("second_order/newton/jacobian"),
                 STEP_TOL, newton_diagnosis(x, g, j, got))


@check("second_order.newton_step", name="newton_step: solves H (x - x_new) = g, inputs untouched")
def newton_residual(ctx):
    """The step p = x - x_new satisfies H p = g; x, grad and hessian are not modified."""
    x, g, h = newton_fixed_problem()
    x_in, g_in, h_in = x.copy(), g.copy(), h.copy()
    with quiet_numerics():
        got = ctx.fn("second_order.newton_step")(x_in, g_in, h_in)
    got = as_array("newton_step", got, shape=x.shape)
    for label, before, after in (("x", x, x_in), ("grad", g, g_in), ("hessian", h, h_in)):
        if not np.array_equal(before, after):
            raise CheckFailure(f"newton_step changed the array {label} it was given — return a new x_new")
    residual = h @ (x - got) - g
    rel = float(np.linalg.norm(residual) / np.linalg.norm(g))
    if not rel <= 1e-8:
        raise CheckFailure(f"newton_step: the step p = x - x_new should solve H p = g, but ||H p - g|| / ||g|| = "
                           f"{rel:.3g} — {newton_diagnosis(x, g, h, got)}")


# ------------------------------------------------------------- lbfgs_two_loop
@check("second_order.lbfgs_two_loop", name="lbfgs_two_loop: direction for fixed pairs")
def lbfgs_fixed(ctx):
    """Three fixed (noisy) curvature pairs in R^6: the direction matches the stored value."""
    g, s_list, y_list = lbfgs_fixed_problem()
    got = call_two_loop(ctx, g, s_list, y_list)
    assert_close("lbfgs_two_loop: direction", got, ctx.expected("second_order/lbfgs/fixed"), DIRECTION_TOL,
                 lbfgs_diagnosis(g, s_list, y_list, got))


@check("second_order.lbfgs_two_loop", name="lbfgs_two_loop: equals -H g of dense BFGS from the same pairs")
def lbfgs_vs_dense(ctx):
    """For m = 1, 2, 4 pairs: the two loops give exactly the dense BFGS inverse-Hessian times -g."""
    rng = np.random.default_rng(99)
    for m in (1, 2, 4):
        g, s_list, y_list = curvature_pairs(rng, 7, m, noise=0.5)
        got = call_two_loop(ctx, g, s_list, y_list, f"lbfgs_two_loop with m = {m} pairs")
        want = dense_bfgs_direction(g, s_list, y_list)
        assert_close(f"lbfgs_two_loop with m = {m} pair(s) vs dense BFGS (H_0 = gamma I)", got, want,
                     DIRECTION_TOL, lbfgs_diagnosis(g, s_list, y_list, got))


@check("second_order.lbfgs_two_loop", name="lbfgs_two_loop: N conjugate pairs give Newton's direction")
def lbfgs_quadratic(ctx):
    """A quadratic in R^6 and 6 A-conjugate pairs y = A s: the direction is -A^{-1} g exactly."""
    rng = np.random.default_rng(3)
    a, s_list, y_list = conjugate_pairs(rng, 6)
    g = rng.standard_normal(6)
    got = call_two_loop(ctx, g, s_list, y_list)
    want = -np.linalg.solve(a, g)
    assert_close("lbfgs_two_loop with 6 conjugate pairs of a quadratic (expected -A^{-1} g)", got, want,
                 DIRECTION_TOL, lbfgs_diagnosis(g, s_list, y_list, got))


GRAD_MODIFIED = "grad modified in place"


@check("second_order.lbfgs_two_loop", name="lbfgs_two_loop: the gradient array is not modified")
def lbfgs_untouched(ctx):
    """The caller's grad must survive the call (q = grad.copy(), not q = grad)."""
    g, s_list, y_list = lbfgs_fixed_problem()
    g_in = g.copy()
    with quiet_numerics():
        got = ctx.fn("second_order.lbfgs_two_loop")(g_in, [s.copy() for s in s_list], [y.copy() for y in y_list])
    as_array("lbfgs_two_loop", got, shape=g.shape)
    if not np.array_equal(g_in, g):
        raise CheckFailure(f"lbfgs_two_loop: {GRAD_MODIFIED} — q = grad makes q another name for the caller's "
                           f"array, so q -= ... changes the gradient; start from a copy")
