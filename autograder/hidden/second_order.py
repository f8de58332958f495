"""Hidden checks for Newton's step and the L-BFGS two-loop recursion (instructor only).

newton_step:
- fresh random SPD Hessians (random N) and a non-symmetric Jacobian against
  the live reference;
- fresh ill-conditioned quadratics (condition number up to 1e6): one step
  lands on the minimizer known by construction;
- a stored 8-step Newton trajectory on Rosenbrock from (-1.2, 1)
  (``references/second_order.npz``); the judge computes f's derivatives.

lbfgs_two_loop:
- fresh random pairs (random N, m, noisy curvature) against the live
  reference and against the dense BFGS inverse-Hessian from the same pairs;
- fresh quadratics with N conjugate pairs: Newton's direction;
- a stored 15-iteration L-BFGS trajectory (m = 3, backtracking Armijo from
  step 1) on an ill-conditioned quadratic in R^10: the judge keeps the memory
  and does the line search; only the direction comes from the student, and
  its length (gamma) and sign both change the path.
"""
from __future__ import annotations

import os

import numpy as np

from cs231n_lec7.checks.core import (STEP_TOL, TRAJECTORY_TOL, as_array, assert_close,
                                     check, load_arrays, quiet_numerics)
from cs231n_lec7.checks.second_order import (
    DIRECTION_TOL,
    call_newton,
    call_two_loop,
    conjugate_pairs,
    curvature_pairs,
    dense_bfgs_direction,
    lbfgs_diagnosis,
    newton_diagnosis,
    quadratic_problem,
    spd_matrix,
)

from .optim import compare_trajectory

REFERENCES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "references",
                          "second_order.npz")
NEWTON_STEPS = 8
LBFGS_ITERS = 15
LBFGS_MEMORY = 3


# ---------------------------------------------------------------- problems
def rosenbrock_grad(x):
    """Gradient of f(x) = (1 - x0)^2 + 100 (x1 - x0^2)^2."""
    return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])


def rosenbrock_hessian(x):
    return np.array([[2 - 400 * (x[1] - 3 * x[0] ** 2), -400 * x[0]], [-400 * x[0], 200.0]])


def newton_trajectory(step_fn, x0=(-1.2, 1.0), num_steps=NEWTON_STEPS):
    xs = [np.array(x0, dtype=np.float64)]
    for k in range(num_steps):
        x = xs[-1]
        with quiet_numerics():
            nxt = step_fn(x.copy(), rosenbrock_grad(x), rosenbrock_hessian(x))
        xs.append(as_array(f"newton_step at Newton iteration {k + 1}", nxt, shape=(2,)))
    return np.array(xs)


def lbfgs_quadratic():
    rng = np.random.default_rng(2024)
    a = spd_matrix(rng, 10, 200.0)
    return a, rng.standard_normal(10), rng.standard_normal(10) * 2.0


def lbfgs_trajectory(two_loop, a, b, x0, num_iters=LBFGS_ITERS, m=LBFGS_MEMORY):
    """L-BFGS on 1/2 x^T A x - b^T x with a backtracking Armijo line search from step 1.

    Only the direction comes from ``two_loop``; the judge keeps the memory and
    searches along it. Starting at step 1 makes the direction's length matter (the
    initial scaling gamma), and Armijo makes its sign matter (an uphill direction
    only ever gets a vanishing step), so neither is hidden by the line search.
    """
    f = lambda v: 0.5 * float(v @ a @ v) - float(b @ v)
    x = x0.copy()
    s_list, y_list, xs = [], [], [x.copy()]
    for k in range(num_iters):
        g = a @ x - b
        with quiet_numerics():
            d = two_loop(g.copy(), [s.copy() for s in s_list], [y.copy() for y in y_list])
        d = as_array(f"lbfgs_two_loop at L-BFGS iteration {k + 1}", d, shape=x.shape)
        step, fx, slope = 1.0, f(x), float(g @ d)
        with quiet_numerics():
            while not f(x + step * d) <= fx + 1e-4 * step * slope and step > 1e-12:
                step *= 0.5
        s = step * d if step > 1e-12 else np.zeros_like(x)
        x = x + s
        xs.append(x.copy())
        if float(s @ (a @ s)) > 1e-14:
            s_list.append(s)
            y_list.append(a @ s)
            if len(s_list) > m:
                del s_list[0], y_list[0]
    return np.array(xs)


def make_references(ref) -> dict:
    a, b, x0 = lbfgs_quadratic()
    return {
        "newton/rosenbrock": newton_trajectory(ref("second_order.newton_step")),
        "lbfgs/A": a, "lbfgs/b": b, "lbfgs/x0": x0,
        "lbfgs/trajectory": lbfgs_trajectory(ref("second_order.lbfgs_two_loop"), a, b, x0),
    }


def load_references():
    return load_arrays(REFERENCES)


# ------------------------------------------------------------- newton_step
@check("second_order.newton_step", name="newton_step: fresh random SPD Hessians", hidden=True, weight=2.0)
def newton_fresh(ctx):
    """Random N, x, g and SPD H (then a non-symmetric Jacobian) from the grade seed vs the live reference."""
    for k in range(4):
        n = int(ctx.rng.integers(2, 30))
        h = spd_matrix(ctx.rng, n, float(10 ** ctx.rng.uniform(0, 3)))
        if k == 3:
            h = h + np.triu(ctx.rng.standard_normal((n, n)), 1)
        x, g = ctx.rng.standard_normal(n), ctx.rng.standard_normal(n)
        got = call_newton(ctx, x, g, h)
        with quiet_numerics():
            want = ctx.ref("second_order.newton_step")(x.copy(), g.copy(), h.copy())
        assert_close(f"newton_step with N = {n}", got, want, STEP_TOL, newton_diagnosis(x, g, h, got))


@check("second_order.newton_step", name="newton_step: ill-conditioned quadratics in one step", hidden=True)
def newton_ill_conditioned(ctx):
    """Condition numbers 1e2..1e6: one Newton step reaches the known minimizer."""
    for condition in (1e2, 1e4, 1e6):
        n = int(ctx.rng.integers(3, 20))
        a, b, x_star, x0 = quadratic_problem(ctx.rng, n, condition)
        got = call_newton(ctx, x0, a @ x0 - b, a)
        assert_close(f"newton_step on a quadratic with condition number {condition:g} (expected x*)", got,
                     x_star, 1e-5, newton_diagnosis(x0, a @ x0 - b, a, got))


@check("second_order.newton_step", name="newton_step: Newton's method on Rosenbrock", hidden=True)
def newton_rosenbrock(ctx):
    """8 Newton iterations on Rosenbrock from (-1.2, 1) follow the stored trajectory."""
    refs = load_references()
    got = newton_trajectory(ctx.fn("second_order.newton_step"))
    compare_trajectory("Newton's method on Rosenbrock", got, refs["newton/rosenbrock"])


# ----------------------------------------------------------- lbfgs_two_loop
@check("second_order.lbfgs_two_loop", name="lbfgs_two_loop: fresh random pairs", hidden=True, weight=2.0)
def lbfgs_fresh(ctx):
    """Random N, m and noisy pairs: matches the live reference and the dense BFGS matrix."""
    for _ in range(4):
        n = int(ctx.rng.integers(3, 30))
        m = int(ctx.rng.integers(1, 9))
        g, s_list, y_list = curvature_pairs(ctx.rng, n, m, noise=float(ctx.rng.uniform(0, 1)),
                                            condition=float(10 ** ctx.rng.uniform(0, 3)))
        got = call_two_loop(ctx, g, s_list, y_list, f"lbfgs_two_loop with N = {n}, m = {m}")
        with quiet_numerics():
            want = ctx.ref("second_order.lbfgs_two_loop")(g.copy(), list(s_list), list(y_list))
        hint = lbfgs_diagnosis(g, s_list, y_list, got)
        assert_close(f"lbfgs_two_loop with N = {n}, m = {m}", got, want, DIRECTION_TOL, hint)
        assert_close(f"lbfgs_two_loop with N = {n}, m = {m} vs dense BFGS", got,
                     dense_bfgs_direction(g, s_list, y_list), DIRECTION_TOL, hint)


@check("second_order.lbfgs_two_loop", name="lbfgs_two_loop: conjugate pairs of fresh quadratics", hidden=True)
def lbfgs_conjugate(ctx):
    """N conjugate pairs of a random quadratic: the direction is Newton's -A^{-1} g."""
    for _ in range(2):
        n = int(ctx.rng.integers(3, 12))
        a, s_list, y_list = conjugate_pairs(ctx.rng, n, float(10 ** ctx.rng.uniform(1, 3)))
        g = ctx.rng.standard_normal(n)
        got = call_two_loop(ctx, g, s_list, y_list)
        assert_close(f"lbfgs_two_loop with {n} conjugate pairs (expected -A^(-1) g)", got,
                     -np.linalg.solve(a, g), DIRECTION_TOL, lbfgs_diagnosis(g, s_list, y_list, got))


@check("second_order.lbfgs_two_loop", name="lbfgs_two_loop: L-BFGS trajectory on a quadratic", hidden=True)
def lbfgs_stored_trajectory(ctx):
    """15 L-BFGS iterations (m = 3, Armijo backtracking from step 1) follow the stored trajectory."""
    refs = load_references()
    got = lbfgs_trajectory(ctx.fn("second_order.lbfgs_two_loop"), refs["lbfgs/A"], refs["lbfgs/b"],
                           refs["lbfgs/x0"])
    compare_trajectory("L-BFGS (m = 3) on a quadratic", got, refs["lbfgs/trajectory"], TRAJECTORY_TOL)
