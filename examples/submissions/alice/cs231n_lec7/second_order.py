"""Second-order optimization: Newton's method, BFGS and L-BFGS (lecture 7).

First-order methods use the gradient g = grad f(x) only. Second-order methods
build a quadratic model of f around x from the gradient *and* the Hessian
H = grad^2 f(x):

    f(x + p) ~ f(x) + g^T p + 1/2 p^T H p,   minimized at p = -H^{-1} g.

Conventions used throughout:
- x, g, s, y are 1-D float arrays of length N (N = number of parameters);
  H and its inverse approximations are (N, N) arrays.
- A curvature pair is (s_i, y_i) = (x_{i+1} - x_i, g_{i+1} - g_i). For a
  quadratic with Hessian A, y_i = A s_i exactly. Pairs need s^T y > 0 (the
  curvature condition) for the inverse-Hessian approximations to stay positive
  definite.
- L-BFGS memory lists ``s_list``, ``y_list`` are ordered **oldest -> newest**:
  ``s_list[-1], y_list[-1]`` is the most recent pair.
- Functions never modify the arrays they were given.

Why this is "bad for deep learning": H has N^2 entries (``hessian_bytes``),
solving with it costs O(N^3) (``time_solve``), and N is in the millions.
L-BFGS keeps only m pairs (O(mN) memory, ``lbfgs_bytes``) but needs accurate,
full-batch gradients: with minibatches, y_i mixes curvature with sampling noise.

Exercises: ``newton_step`` and ``lbfgs_two_loop``. Given: ``bfgs_update``,
the drivers ``newton``, ``bfgs``, ``lbfgs`` (with a strong-Wolfe line search,
``wolfe_line_search``), a softmax-regression objective, and memory/time helpers.
"""
import time

import numpy as np


def _vector(name, a):
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {a.shape}")
    return a


# ----------------------------------------------------------------------------
# Exercise 1: Newton's step
# ----------------------------------------------------------------------------
def newton_step(x, grad, hessian):
    """One Newton step: jump to the minimum of the local quadratic model.

    .. math-begin
        x_new = x - H^{-1} g
    .. math-end

    Compute H^{-1} g by *solving* the linear system H p = g
    (``np.linalg.solve``), never by forming the inverse: solving is cheaper
    and more accurate. No learning rate, no hyper-parameters. On a quadratic
    f(x) = 1/2 x^T A x - b^T x one step lands exactly on the minimum A^{-1} b.

    The same step is Newton's method for solving g(x) = 0, where ``hessian``
    is the Jacobian of g; it then need not be symmetric, so solve with H
    itself (not with H^T).

    Inputs:
    - x: Array of shape (N,), the current point.
    - grad: Array of shape (N,), g = grad f(x).
    - hessian: Array of shape (N, N), H = grad^2 f(x) (invertible).

    Returns:
    - x_new: Array of shape (N,), a new array.
    """
    x, grad = _vector("x", x), _vector("grad", grad)
    hessian = np.asarray(hessian, dtype=np.float64)
    if hessian.shape != (x.size, x.size) or grad.shape != x.shape:
        raise ValueError(f"newton_step: x {x.shape}, grad {grad.shape} and hessian {hessian.shape} "
                         f"do not fit (need (N,), (N,), (N, N))")
    newton_direction = np.linalg.solve(hessian, grad)
    x_new = x - newton_direction
    return x_new


# ----------------------------------------------------------------------------
# Given: BFGS's inverse-Hessian update
# ----------------------------------------------------------------------------
def bfgs_update(H_inv, s, y):
    """BFGS update of an inverse-Hessian approximation from one curvature pair.

        rho   = 1 / (y^T s)
        H_new = (I - rho s y^T) H (I - rho y s^T) + rho s s^T

    H_new satisfies the secant equation H_new y = s and stays symmetric
    positive definite when H is and y^T s > 0. O(N^2) memory and time.
    """
    s, y = _vector("s", s), _vector("y", y)
    rho = 1.0 / float(y @ s)
    Hy = H_inv @ y
    # Expanded form of (I - rho s y^T) H (I - rho y s^T) + rho s s^T (H symmetric).
    return (H_inv - rho * (np.outer(s, Hy) + np.outer(Hy, s))
            + (rho * rho * float(y @ Hy) + rho) * np.outer(s, s))


# ----------------------------------------------------------------------------
# Exercise 2: L-BFGS two-loop recursion
# ----------------------------------------------------------------------------
def _check_pairs(grad, s_list, y_list):
    grad = _vector("grad", grad)
    if len(s_list) != len(y_list):
        raise ValueError(f"s_list and y_list must have the same length, got {len(s_list)} and {len(y_list)}")
    S = [_vector("s", s) for s in s_list]
    Y = [_vector("y", y) for y in y_list]
    for i, (s, y) in enumerate(zip(S, Y)):
        if s.shape != grad.shape or y.shape != grad.shape:
            raise ValueError(f"pair {i}: s {s.shape} and y {y.shape} must have grad's shape {grad.shape}")
        if not float(s @ y) > 0:
            raise ValueError(f"pair {i}: curvature condition s^T y > 0 fails (s^T y = {float(s @ y):.3g}); "
                             f"drop such pairs before calling lbfgs_two_loop")
    return grad, S, Y


def lbfgs_two_loop(grad, s_list, y_list):
    """L-BFGS search direction d = -H_k g by the two-loop recursion.

    H_k is the BFGS inverse-Hessian approximation obtained by applying
    ``bfgs_update`` for the stored pairs, oldest first, to the initial matrix
    H_0 = gamma I with

        gamma = s^T y / y^T y        (newest pair: s_list[-1], y_list[-1])

    — without ever forming a matrix: O(mN) time and memory for m pairs.

    .. math-begin
    With rho_i = 1 / (y_i^T s_i):

        q = g
        for i = newest .. oldest:   a_i = rho_i s_i^T q;   q = q - a_i y_i
        r = gamma q
        for i = oldest .. newest:   b = rho_i y_i^T r;     r = r + (a_i - b) s_i
        d = -r
    .. math-end

    Inputs:
    - grad: Array of shape (N,), the gradient g at the current point (do not
      modify it: copy before updating q in place).
    - s_list: List of m arrays of shape (N,), steps s_i, ordered oldest -> newest.
    - y_list: List of m arrays of shape (N,), gradient changes y_i, same order.
      Every pair satisfies s_i^T y_i > 0. With m = 0 the direction is -g.

    Returns:
    - direction: Array of shape (N,), d = -H_k g (a descent direction).
    """
    grad, s_list, y_list = _check_pairs(grad, s_list, y_list)
    if not s_list:
        return -grad  # H_0 = I: steepest descent
    rhos = [1.0 / float(y @ s) for s, y in zip(s_list, y_list)]
    q = grad.copy()
    alphas = [0.0] * len(s_list)
    for i in reversed(range(len(s_list))):
        alphas[i] = rhos[i] * float(s_list[i] @ q)
        q -= alphas[i] * y_list[i]
    gamma = float(s_list[-1] @ y_list[-1]) / float(y_list[-1] @ y_list[-1])
    r = gamma * q
    for i in range(len(s_list)):
        beta = rhos[i] * float(y_list[i] @ r)
        r += (alphas[i] - beta) * s_list[i]
    direction = -r
    return direction


# ----------------------------------------------------------------------------
# Given: drivers that return histories
# ----------------------------------------------------------------------------
def _history():
    return {"x": [], "loss": [], "grad_norm": [], "num_evals": []}


def _record(hist, x, f, g, num_evals):
    hist["x"].append(np.array(x, dtype=np.float64))
    hist["loss"].append(float(f))
    hist["grad_norm"].append(float(np.linalg.norm(g)))
    hist["num_evals"].append(int(num_evals))


def _finish(hist):
    hist["x"] = np.array(hist["x"])
    for key in ("loss", "grad_norm", "num_evals"):
        hist[key] = np.array(hist[key])
    return hist


def newton(f, grad, hess, x0, max_iter=20, tol=1e-10, step=None):
    """Newton's method: x_{k+1} = newton_step(x_k, grad(x_k), hess(x_k)).

    Inputs:
    - f, grad, hess: Callables of x giving the value, gradient (N,) and Hessian (N, N).
    - x0: Starting point, shape (N,).
    - max_iter: Maximum number of Newton steps.
    - tol: Stop when ||grad|| <= tol.
    - step: Optional override of the step function (default: ``newton_step``).

    Returns a history dict of arrays: x (K+1, N), loss, grad_norm, num_evals
    (cumulative number of (f, grad, hess) evaluations).
    """
    step = step or newton_step
    x = np.array(x0, dtype=np.float64)
    hist = _history()
    g = grad(x)
    _record(hist, x, f(x), g, 1)
    for k in range(max_iter):
        if np.linalg.norm(g) <= tol:
            break
        x = step(x, g, hess(x))
        g = grad(x)
        _record(hist, x, f(x), g, k + 2)
    return _finish(hist)


def backtracking(f_and_grad, x, f, g, d, alpha=1.0, c1=1e-4, shrink=0.5, max_backtracks=30):
    """Backtracking Armijo line search along a descent direction d (the fallback of ``wolfe_line_search``).

    Shrinks alpha until f(x + alpha d) <= f(x) + c1 alpha g^T d (sufficient decrease).

    Returns (alpha, f_new, g_new, num_evals, ok); ok is False when no alpha
    passed within ``max_backtracks`` halvings (then the last trial is returned).
    """
    slope = float(g @ d)
    evals = 0
    for _ in range(max_backtracks):
        f_new, g_new = f_and_grad(x + alpha * d)
        evals += 1
        if np.isfinite(f_new) and f_new <= f + c1 * alpha * slope:
            return alpha, f_new, g_new, evals, True
        alpha *= shrink
    return alpha / shrink, f_new, g_new, evals, False


def wolfe_line_search(f_and_grad, x, f, g, d, c1=1e-4, c2=0.9, first_step=1.0, max_iter=20):
    """A step length alpha along the descent direction d that satisfies the strong Wolfe conditions.

        f(x + alpha d)        <= f(x) + c1 alpha g^T d      (sufficient decrease, "Armijo")
        |grad f(x + alpha d)^T d| <= c2 |g^T d|             (curvature: the slope has flattened)

    with 0 < c1 < c2 < 1 (1e-4 and 0.9, Nocedal & Wright's values for quasi-Newton methods).
    The search is scipy's ``scipy.optimize.line_search`` (bracketing, then "zoom" by cubic
    interpolation, Nocedal & Wright Algorithms 3.5-3.6), trying ``first_step`` first. The
    curvature condition is what quasi-Newton methods need: it guarantees
    s^T y = alpha (g_new - g)^T d >= alpha (1 - c2) |g^T d| > 0, so every accepted step gives a
    curvature pair that keeps the inverse-Hessian approximation positive definite.

    Inputs:
    - f_and_grad: Callable x -> (loss, gradient). Each trial point costs one call.
    - x, f, g: The current point, its loss and gradient (shape (N,)).
    - d: A descent direction (g^T d < 0), shape (N,).

    Returns (alpha, f_new, g_new, num_evals, ok). When no step satisfies both conditions
    (ok = False; e.g. a noisy, minibatch loss), the step comes from ``backtracking``
    (sufficient decrease only, or its last trial if even that fails).
    """
    import warnings

    from scipy.optimize import line_search
    try:
        from scipy.optimize._linesearch import LineSearchWarning
    except ImportError:  # pragma: no cover - a scipy that moved its private module: silence all warnings
        LineSearchWarning = Warning

    cache = {}

    def evaluate(point):
        key = point.tobytes()
        if key not in cache:  # scipy asks for f and grad separately: one call of f_and_grad serves both
            cache[key] = f_and_grad(point)
        return cache[key]

    slope = float(g @ d)
    with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", LineSearchWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        # old_old_fval chosen so that scipy's first trial is min(1, first_step) (its initial-step rule)
        alpha = line_search(lambda p: evaluate(p)[0], lambda p: evaluate(p)[1], x, d, gfk=g, old_fval=f,
                            old_old_fval=f - first_step * slope / 2.02, c1=c1, c2=c2, maxiter=max_iter)[0]
    if alpha is not None:
        f_new, g_new = evaluate(x + alpha * d)
        if (np.isfinite(f_new) and f_new <= f + c1 * alpha * slope
                and abs(float(g_new @ d)) <= c2 * abs(slope)):
            return float(alpha), float(f_new), g_new, len(cache), True
    alpha, f_new, g_new, evals, _ = backtracking(f_and_grad, x, f, g, d, alpha=min(1.0, first_step), c1=c1)
    return alpha, f_new, g_new, len(cache) + evals, False


def _quasi_newton(f_and_grad, x0, direction_fn, remember, forget, max_iter, tol, curvature_eps,
                  line_search="wolfe"):
    """Shared loop of ``bfgs`` and ``lbfgs``: direction, strong-Wolfe line search, curvature pair.

    Rules, in order, at every iteration:
    1. Stop when ||g|| <= tol.
    2. d = direction_fn(g). If d is not a descent direction (g^T d >= 0), forget the memory
       (``resets``) and use d = -g.
    3. Line search (``wolfe_line_search``): step 1 first (gamma gives it the right length); with an
       empty memory, a first trial step of length 1 (alpha = 1 / ||g||, as scipy does), since -g
       carries no scale.
       If the strong Wolfe conditions cannot be met (``failed_line_searches``), the step is the
       backtracking one and the memory is forgotten: its model of the curvature was wrong.
    4. Curvature pair (s, y) = (alpha d, g_new - g): stored only if s^T y > curvature_eps ||s|| ||y||
       (the curvature condition, with a margin for rounding); otherwise skipped (``rejected_pairs``)
       and the older pairs kept. After a successful Wolfe search the condition always holds.

    ``line_search="armijo"`` replaces step 3 by ``backtracking`` (sufficient decrease only) — to
    show what goes wrong without the curvature condition: backtracking can only shorten a step,
    so once the memory proposes tiny steps, every one of them is accepted and the run crawls.
    """
    if line_search not in ("wolfe", "armijo"):
        raise ValueError(f"line_search must be 'wolfe' or 'armijo', got {line_search!r}")
    x = np.array(x0, dtype=np.float64)
    f, g = f_and_grad(x)
    evals = 1
    hist = _history()
    hist.update(rejected_pairs=0, failed_line_searches=0, resets=0)
    _record(hist, x, f, g, evals)
    empty = True
    for _ in range(max_iter):
        if np.linalg.norm(g) <= tol:
            break
        d = direction_fn(g)
        if not float(g @ d) < 0:  # not a descent direction: forget the curvature, use -g
            forget()
            empty = True
            hist["resets"] += 1
            d = -g
        first_step = min(1.0, 1.0 / np.linalg.norm(d)) if empty else 1.0
        if line_search == "wolfe":
            alpha, f_new, g_new, n, ok = wolfe_line_search(f_and_grad, x, f, g, d, first_step=first_step)
        else:
            alpha, f_new, g_new, n, ok = backtracking(f_and_grad, x, f, g, d)
        evals += n
        if not ok:
            hist["failed_line_searches"] += 1
            forget()
            empty = True
        s, y = alpha * d, g_new - g
        if float(s @ y) > curvature_eps * np.linalg.norm(s) * np.linalg.norm(y):
            remember(s, y)
            empty = False
        else:
            hist["rejected_pairs"] += 1
        x, f, g = x + s, f_new, g_new
        _record(hist, x, f, g, evals)
    return _finish(hist)


def lbfgs(f_and_grad, x0, m=10, max_iter=100, tol=1e-6, curvature_eps=1e-10, two_loop=None,
          line_search="wolfe"):
    """L-BFGS with a strong-Wolfe line search (step 1 tried first).

    Keeps the last ``m`` curvature pairs (oldest -> newest) and takes the
    direction from ``lbfgs_two_loop`` (H_0 = gamma I, gamma = s^T y / y^T y of
    the newest pair). The line search (``wolfe_line_search``) enforces the
    strong Wolfe conditions, which guarantee s^T y > 0; a pair is stored only if
    s^T y > curvature_eps ||s|| ||y|| and skipped otherwise; a failed line
    search or a non-descent direction clears the memory (all three counted in
    the history). The rules in full: ``_quasi_newton``.

    Inputs:
    - f_and_grad: Callable x -> (loss, gradient of shape (N,)). It may be
      stochastic (a fresh minibatch per call) — that is how the notebook shows
      L-BFGS breaking with minibatches.
    - x0: Starting point, shape (N,).
    - m: Memory size (number of pairs kept).
    - max_iter, tol: At most max_iter iterations; stop when ||g|| <= tol.
    - two_loop: Optional override of the direction function (default ``lbfgs_two_loop``).
    - line_search: 'wolfe' (default) or 'armijo' (backtracking only, for comparison).

    Returns a history dict: x (K+1, N), loss, grad_norm, num_evals (cumulative
    calls of f_and_grad), and counters rejected_pairs, failed_line_searches, resets.
    """
    two_loop = two_loop or lbfgs_two_loop
    S, Y = [], []

    def remember(s, y):
        S.append(s)
        Y.append(y)
        if len(S) > m:
            del S[0], Y[0]

    def forget():
        S.clear()
        Y.clear()

    return _quasi_newton(f_and_grad, x0, lambda g: two_loop(g, list(S), list(Y)), remember, forget,
                         max_iter, tol, curvature_eps, line_search)


def bfgs(f_and_grad, x0, max_iter=100, tol=1e-6, curvature_eps=1e-10):
    """BFGS with the dense inverse-Hessian approximation (``bfgs_update``), O(N^2) memory.

    The first pair rescales H_0 = I to gamma I (gamma = s^T y / y^T y) before
    the update, as L-BFGS does. Same line search and history as ``lbfgs``.
    """
    n = np.size(x0)
    state = {"H": np.eye(n), "fresh": True}

    def remember(s, y):
        if state["fresh"]:
            state["H"] = np.eye(n) * float(s @ y) / float(y @ y)
            state["fresh"] = False
        state["H"] = bfgs_update(state["H"], s, y)

    def forget():
        state["H"], state["fresh"] = np.eye(n), True

    return _quasi_newton(f_and_grad, x0, lambda g: -state["H"] @ g, remember, forget, max_iter, tol,
                         curvature_eps)


def first_order(f_and_grad, x0, rule, config=None, num_iters=100):
    """Run an update rule of ``optim`` (e.g. ``optim.adam``) on f; same history as ``lbfgs``."""
    x = np.array(x0, dtype=np.float64)
    config = dict(config or {})
    hist = _history()
    f, g = f_and_grad(x)
    _record(hist, x, f, g, 1)
    for k in range(num_iters):
        x, config = rule(x, g, config)
        f, g = f_and_grad(x)
        _record(hist, x, f, g, k + 2)
    return _finish(hist)


# ----------------------------------------------------------------------------
# Given: an objective for the notebook — softmax (multinomial logistic) regression
# ----------------------------------------------------------------------------
def softmax_regression(X, y, num_classes, reg=1e-3, batch_size=None, seed=None):
    """f_and_grad(w) for softmax regression with L2 penalty, parameters flattened.

        loss(W, b) = mean_i -log softmax(X_i W + b)[y_i] + reg/2 ||W||^2

    Inputs:
    - X: (num_examples, D) features; y: (num_examples,) integer labels.
    - num_classes: C. The parameter vector has (D + 1) * C entries (W then b).
    - reg: L2 strength on W.
    - batch_size: None for the full batch (deterministic); an int for a fresh
      random minibatch at every call (stochastic, from ``seed``).

    Returns (f_and_grad, w0): the callable w -> (loss, grad) and a zero start.
    """
    # Imported here so that grading newton_step / lbfgs_two_loop never depends on layers.py.
    from .layers import softmax_loss

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    n, dim = X.shape
    rng = np.random.default_rng(seed)

    def f_and_grad(w):
        W, b = w[: dim * num_classes].reshape(dim, num_classes), w[dim * num_classes:]
        idx = slice(None) if batch_size is None else rng.choice(n, size=batch_size, replace=False)
        Xb, yb = X[idx], y[idx]
        data_loss, dscores = softmax_loss(Xb @ W + b, yb)
        loss = data_loss + 0.5 * reg * float(np.sum(W * W))
        dW = Xb.T @ dscores + reg * W
        return float(loss), np.concatenate([dW.ravel(), dscores.sum(axis=0)])

    return f_and_grad, np.zeros((dim + 1) * num_classes)


# ----------------------------------------------------------------------------
# Given: making O(N^2) memory and O(N^3) time concrete
# ----------------------------------------------------------------------------
def hessian_bytes(num_params, dtype=np.float64):
    """Bytes to store a dense N x N Hessian: N^2 * itemsize (8 bytes in float64)."""
    return float(num_params) ** 2 * np.dtype(dtype).itemsize


def lbfgs_bytes(num_params, m=10, dtype=np.float64):
    """Bytes for L-BFGS's memory: 2 m vectors of length N."""
    return 2.0 * m * float(num_params) * np.dtype(dtype).itemsize


def format_bytes(num_bytes):
    """Human-readable size: '7.45 GiB'."""
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    value = float(num_bytes)
    for unit in units:
        if value < 1024 or unit == units[-1]:
            return f"{value:.3g} {unit}"
        value /= 1024


def time_solve(n, seed=0, repeats=3, threads=1):
    """Best-of-``repeats`` seconds for np.linalg.solve with an n x n SPD matrix.

    ``threads`` limits the BLAS threads (via threadpoolctl, when installed) so the
    measurement shows the O(N^3) arithmetic rather than thread scheduling on a busy
    machine; None uses whatever BLAS is configured with.
    """
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n))
    a = a @ a.T / n + np.eye(n)
    b = rng.standard_normal(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        threads = None
    best = np.inf
    for _ in range(repeats):
        limit = threadpool_limits(limits=threads) if threads is not None else None
        try:
            start = time.perf_counter()
            np.linalg.solve(a, b)
            best = min(best, time.perf_counter() - start)
        finally:
            if limit is not None:
                limit.restore_original_limits()
    return best


def extrapolate_cubic(n_measured, seconds, n):
    """Extrapolate a solve time measured at ``n_measured`` to ``n`` with O(N^3) scaling."""
    return float(seconds) * (float(n) / float(n_measured)) ** 3
