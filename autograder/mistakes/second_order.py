"""Known mistakes in Newton's step and the L-BFGS two-loop recursion (see ``autograder/mistakes/__init__.py``)."""
from __future__ import annotations

import numpy as np

from autograder.mistakes import Mistake


# ---------------------------------------------------------- newton_step
def newton_sign_flipped(x, grad, hessian):
    return np.asarray(x, dtype=np.float64) + np.linalg.solve(hessian, grad)


def newton_times_hessian(x, grad, hessian):
    return np.asarray(x, dtype=np.float64) - np.asarray(hessian) @ np.asarray(grad)


def newton_transposed_solve(x, grad, hessian):
    return np.asarray(x, dtype=np.float64) - np.linalg.solve(np.asarray(hessian).T, grad)


def newton_diagonal_only(x, grad, hessian):
    return np.asarray(x, dtype=np.float64) - np.asarray(grad) / np.diag(hessian)


# ------------------------------------------------------- lbfgs_two_loop
def _two_loop(grad, s_list, y_list, rho_fn, order="right", scaling="newest", copy=True, sign=-1.0):
    """The two-loop recursion with one deliberate deviation, chosen by the keyword arguments."""
    q = np.array(grad, dtype=np.float64) if copy else grad
    if not len(s_list):
        return -np.array(grad, dtype=np.float64)
    s_list = [np.asarray(s, dtype=np.float64) for s in s_list]
    y_list = [np.asarray(y, dtype=np.float64) for y in y_list]
    m = len(s_list)
    rhos = [rho_fn(s, y) for s, y in zip(s_list, y_list)]
    first = range(m - 1, -1, -1) if order == "right" else range(m)
    second = range(m) if order == "right" else range(m - 1, -1, -1)
    alphas = [0.0] * m
    for i in first:
        alphas[i] = rhos[i] * float(s_list[i] @ q)
        q -= alphas[i] * y_list[i]
    if scaling == "newest":
        gamma = float(s_list[-1] @ y_list[-1]) / float(y_list[-1] @ y_list[-1])
    elif scaling == "oldest":
        gamma = float(s_list[0] @ y_list[0]) / float(y_list[0] @ y_list[0])
    else:
        gamma = 1.0
    r = gamma * q
    for i in second:
        beta = rhos[i] * float(y_list[i] @ r)
        r = r + (alphas[i] - beta) * s_list[i]
    return sign * r


def lbfgs_rho_not_inverted(grad, s_list, y_list):
    return _two_loop(grad, s_list, y_list, lambda s, y: float(s @ y))


def lbfgs_wrong_loop_order(grad, s_list, y_list):
    return _two_loop(grad, s_list, y_list, lambda s, y: 1.0 / float(y @ s), order="swapped")


def lbfgs_no_initial_scaling(grad, s_list, y_list):
    return _two_loop(grad, s_list, y_list, lambda s, y: 1.0 / float(y @ s), scaling="none")


def lbfgs_gamma_from_oldest(grad, s_list, y_list):
    return _two_loop(grad, s_list, y_list, lambda s, y: 1.0 / float(y @ s), scaling="oldest")


def lbfgs_sign_flipped(grad, s_list, y_list):
    return _two_loop(grad, s_list, y_list, lambda s, y: 1.0 / float(y @ s), sign=1.0)


def lbfgs_grad_modified(grad, s_list, y_list):
    return _two_loop(grad, s_list, y_list, lambda s, y: 1.0 / float(y @ s), copy=False)


M = Mistake
MISTAKES = [
    M("second_order.newton_step", "Newton step with the gradient sign flipped",
      "x + H^{-1} g climbs: the Newton step goes to x - H^{-1} g.", newton_sign_flipped),
    M("second_order.newton_step", "H used instead of its inverse",
      "x - H g multiplies by the Hessian; Newton's step divides by it: solve H p = g, then x - p.",
      newton_times_hessian),
    M("second_order.newton_step", "solved with the transpose",
      "np.linalg.solve(hessian.T, grad) is only right for a symmetric H; for a Jacobian solve with H itself.",
      newton_transposed_solve),
    M("second_order.newton_step", "only the Hessian's diagonal used",
      "g / diag(H) ignores the off-diagonal curvature (a diagonal preconditioner, not Newton): solve the full "
      "system H p = g.", newton_diagonal_only),
    M("second_order.lbfgs_two_loop", "rho = s^T y instead of 1/(y^T s)",
      "rho_i is the reciprocal of the curvature: rho_i = 1 / (y_i^T s_i).", lbfgs_rho_not_inverted),
    M("second_order.lbfgs_two_loop", "loops in the wrong order",
      "The first loop runs newest -> oldest (s_list[-1] first), the second oldest -> newest.",
      lbfgs_wrong_loop_order),
    M("second_order.lbfgs_two_loop", "missing initial scaling gamma",
      "Between the loops multiply by gamma = s^T y / y^T y (newest pair): H_0 = gamma I gives steps of the "
      "right size, so the line search accepts step 1.", lbfgs_no_initial_scaling),
    M("second_order.lbfgs_two_loop", "gamma from the oldest pair",
      "gamma = s^T y / y^T y uses the NEWEST pair (s_list[-1], y_list[-1]): the latest curvature estimate.",
      lbfgs_gamma_from_oldest),
    M("second_order.lbfgs_two_loop", "direction sign flipped",
      "Return the descent direction d = -H g (minus the result of the second loop).", lbfgs_sign_flipped),
    M("second_order.lbfgs_two_loop", "grad modified in place",
      "q = grad makes q another name for the caller's gradient, and q -= ... overwrites it: start from "
      "q = grad.copy().", lbfgs_grad_modified, detect="check"),
]


# ---------------------------------------------------------------- probes
def _probe_newton(fn):
    rng = np.random.default_rng(11)
    n = 4
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    spd = (q * np.array([1.0, 3.0, 10.0, 40.0])) @ q.T
    jac = np.eye(n) * 2.0 + np.triu(rng.standard_normal((n, n)), 1)
    x, g = rng.standard_normal(n), rng.standard_normal(n)
    return [np.asarray(fn(x.copy(), g.copy(), spd.copy()), dtype=np.float64),
            np.asarray(fn(x.copy(), g.copy(), jac.copy()), dtype=np.float64)]


def _probe_two_loop(fn):
    rng = np.random.default_rng(12)
    n = 5
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    a = (q * np.geomspace(1.0, 30.0, n)) @ q.T
    s_list = [rng.standard_normal(n) for _ in range(3)]
    y_list = [a @ s + 0.1 * rng.standard_normal(n) for s in s_list]
    g = rng.standard_normal(n)
    return [np.asarray(fn(g.copy(), [s.copy() for s in s_list[:k]], [y.copy() for y in y_list[:k]]),
                       dtype=np.float64) for k in (1, 3)]


PROBES = {
    "second_order.newton_step": _probe_newton,
    "second_order.lbfgs_two_loop": _probe_two_loop,
}
