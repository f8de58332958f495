"""Numerical gradients, to check the analytic ones (CS231n's ``gradient_check.py``).

Every helper estimates derivatives with the *centered* difference

    df/dx_i  ~  ( f(x + h e_i) - f(x - h e_i) ) / (2 h)

whose error is O(h^2) (a one-sided difference is only O(h)). The helpers
change ``x`` IN PLACE, one entry at a time, call ``f``, and put the entry back,
so ``x`` can be an array that ``f`` reads through a closure (for example
``model.params['W1']`` with ``f = lambda _: model.loss(X, y)[0]``). ``x`` is
exactly restored when they return, even if ``f`` raises.

Use float64 and h = 1e-5: in float32 the rounding error of f (about 1e-7 * |f|)
divided by 2h swamps the difference.

Compare with ``rel_error(x, y) = max_i |x_i - y_i| / max(1e-8, |x_i| + |y_i|)``.
Rules of thumb in float64 with h = 1e-5: below 1e-7 is right; around 1e-4 is
suspicious (unless f has kinks, such as ReLU's); above 1e-2 the gradient is wrong.

Output (``verbose=True`` and ``grad_check_sparse``) goes to stdout only.
"""
import numpy as np


def _writable_float_array(x, who):
    """Fail clearly unless ``x`` can hold x_i +- h in place."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{who}: x must be a numpy array (it is changed in place and restored), "
                        f"got {type(x).__name__}")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{who}: x must be a float array, got dtype {x.dtype} — an integer array cannot "
                        f"hold x + h; convert it with x.astype(np.float64)")
    if not x.flags.writeable:
        raise ValueError(f"{who}: x is read-only, but it is changed in place (and restored); pass a writable copy")


def eval_numerical_gradient(f, x, verbose=True, h=1e-5):
    """Numerical gradient of a scalar function ``f`` at ``x``, by centered differences.

    Inputs:
    - f: A function taking one argument (an array shaped like x) and returning
      a scalar. It may ignore its argument and read x through a closure: x is
      changed in place before each call.
    - x: A float numpy array of any shape, the point at which to evaluate the
      gradient. Restored exactly on return.
    - verbose: If True, print each index and its gradient entry (stdout).
    - h: The step size of the centered difference.

    Returns:
    - grad: A float64 numpy array of the same shape as x, grad[i] ~ df/dx[i].
    """
    _writable_float_array(x, "eval_numerical_gradient")
    grad = np.zeros(x.shape, dtype=np.float64)
    for ix in np.ndindex(*x.shape):
        old = x[ix]
        try:
            x[ix] = old + h
            fxph = float(f(x))  # f(x + h)
            x[ix] = old - h
            fxmh = float(f(x))  # f(x - h)
        finally:
            x[ix] = old
        grad[ix] = (fxph - fxmh) / (2 * h)
        if verbose:
            print(ix, grad[ix])
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Numerical gradient of sum(f(x) * df) at ``x``: the backward pass of f for upstream df.

    Inputs:
    - f: A function taking one argument (an array shaped like x) and returning
      a numpy array shaped like df; it may read x through a closure.
    - x: A float numpy array of any shape, the input. Restored exactly on return.
    - df: A numpy array shaped like f(x), the upstream gradient dL/df.
    - h: The step size of the centered difference.

    Returns:
    - grad: A float64 numpy array of the same shape as x,
      grad[i] ~ sum_j df[j] * d f(x)[j] / dx[i] (what a layer's backward returns as dx).
    """
    _writable_float_array(x, "eval_numerical_gradient_array")
    df = np.asarray(df)
    grad = np.zeros(x.shape, dtype=np.float64)
    for ix in np.ndindex(*x.shape):
        old = x[ix]
        try:
            x[ix] = old + h
            pos = np.array(f(x), dtype=np.float64)  # a copy: f may return a view of x
            x[ix] = old - h
            neg = np.array(f(x), dtype=np.float64)
        finally:
            x[ix] = old
        if pos.shape != df.shape:
            raise ValueError(f"eval_numerical_gradient_array: f(x) has shape {pos.shape} but df has shape "
                             f"{df.shape}; df must be shaped like the output of f")
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
    return grad


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, seed=None):
    """Compare ``analytic_grad`` with centered differences at a few random entries of ``x``.

    Checking every entry of a big weight matrix costs two calls of f per entry;
    a few random entries catch almost every bug at a fraction of the cost.

    Inputs:
    - f: A function of one argument (an array shaped like x) returning a scalar;
      it may read x through a closure.
    - x: A float numpy array of any shape. Restored exactly on return.
    - analytic_grad: A numpy array of the same shape as x, the gradient to check.
    - num_checks: How many random entries to check (drawn with replacement).
    - h: The step size of the centered difference.
    - seed: None, an int, or a ``np.random.Generator`` choosing the entries
      (the global numpy generator is never touched).

    Prints one line per entry (stdout): numerical value, analytic value and
    relative error.

    Returns:
    - errors: A list of num_checks floats, the relative errors
      |num - ana| / max(1e-8, |num| + |ana|) of the checked entries.
    """
    _writable_float_array(x, "grad_check_sparse")
    analytic_grad = np.asarray(analytic_grad)
    if analytic_grad.shape != x.shape:
        raise ValueError(f"grad_check_sparse: analytic_grad has shape {analytic_grad.shape} but x has shape "
                         f"{x.shape}; the gradient must be shaped like x")
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        old = x[ix]
        try:
            x[ix] = old + h
            fxph = float(f(x))
            x[ix] = old - h
            fxmh = float(f(x))
        finally:
            x[ix] = old
        grad_numerical = (fxph - fxmh) / (2 * h)
        grad_analytic = float(analytic_grad[ix])
        error = rel_error(grad_numerical, grad_analytic)
        errors.append(error)
        print(f"numerical: {grad_numerical:f} analytic: {grad_analytic:f}, relative error: {error:e}")
    return errors


def rel_error(x, y):
    """The largest elementwise relative error between two arrays (CS231n's definition).

        rel_error(x, y) = max_i |x_i - y_i| / max(1e-8, |x_i| + |y_i|)

    Inputs:
    - x, y: Numbers or numpy arrays of the same (or broadcastable) shape.

    Returns:
    - A Python float in [0, 1] (0 for empty arrays); computed in float64.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)), initial=0.0))
