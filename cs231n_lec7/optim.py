"""First-order update rules for training neural networks (lecture 7, part 1).

Every rule here has the same contract as CS231n's ``optim.py``::

    next_w, config = rule(w, dw, config=None)

Inputs:
- w: A numpy array of any shape holding the current weights.
- dw: A numpy array of the same shape as ``w``: the gradient of the loss with
  respect to ``w``.
- config: A dictionary of hyper-parameters (learning rate, momentum, ...) and of
  state (velocity, caches, step counter). Missing keys are filled with the
  defaults given in each docstring. ``None`` means "all defaults, fresh state".

Returns:
- next_w: The updated weights, a new array of the same shape and dtype as ``w``.
- config: The config dict to pass to the next call; it carries the rule's state
  (for example ``config['velocity']``) from one step to the next.

Conventions the grader relies on:
- A rule never modifies the arrays ``w`` and ``dw`` it was given; it returns a
  new ``next_w``.
- State arrays start as zeros of ``w``'s shape (and dtype).
- epsilon is always added *outside* the square root: ``sqrt(cache) + eps``.
- Adam increments ``t`` *before* using it, so the first step uses t = 1.

Notation follows the lecture: alpha = learning rate, rho = momentum,
beta1/beta2 = Adam's decay rates, eps = epsilon.
"""
import numpy as np


def _defaults(config, **defaults):
    """Return ``config`` (a new dict if None) with missing keys set to defaults."""
    if config is None:
        config = {}
    for key, value in defaults.items():
        config.setdefault(key, value)
    return config


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent (the worked example).

        w <- w - alpha * dw

    config format:
    - learning_rate: Scalar learning rate alpha (default 1e-2).
    """
    config = _defaults(config, learning_rate=1e-2)
    next_w = w - config["learning_rate"] * dw
    return next_w.astype(w.dtype, copy=False), config


def sgd_momentum(w, dw, config=None):
    """Stochastic gradient descent with momentum (the second form in the lecture notes).

    .. math-begin
        v <- rho * v - alpha * dw
        w <- w + v

    This is the second form in the lecture notes. The first form,
    ``v <- rho * v + dw; w <- w - alpha * v``, keeps a velocity scaled by
    1/alpha and traces exactly the same path while alpha is constant.
    .. math-end

    The velocity has the units of a step (it is added to w), not of a gradient.

    config format:
    - learning_rate: Scalar learning rate alpha (default 1e-2).
    - momentum: Scalar rho between 0 and 1 (default 0.9); rho = 0 is plain SGD.
    - velocity: State, a numpy array of the same shape as w holding a moving
      average of the gradients (starts at zeros).
    """
    config = _defaults(config, learning_rate=1e-2, momentum=0.9)
    v = config.get("velocity", np.zeros_like(w))
    ### BEGIN SOLUTION
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + v
    ### END SOLUTION
    config["velocity"] = v
    return next_w.astype(w.dtype, copy=False), config


def nesterov_momentum(w, dw, config=None):
    """Nesterov accelerated gradient, in the change-of-variables form.

    The look-ahead form evaluates the gradient at x + rho * v. With the change
    of variables x~ = x + rho * v we store and update x~ as ``w``, and ``dw``
    is the gradient at x~. The velocity is stored as in ``sgd_momentum``.

    .. math-begin
    The update becomes:

        v_prev <- v
        v      <- rho * v - alpha * dw
        w      <- w - rho * v_prev + (1 + rho) * v
    .. math-end

    config format:
    - learning_rate: Scalar learning rate alpha (default 1e-2).
    - momentum: Scalar rho between 0 and 1 (default 0.9).
    - velocity: State, a numpy array of the same shape as w (starts at zeros).
    """
    config = _defaults(config, learning_rate=1e-2, momentum=0.9)
    v = config.get("velocity", np.zeros_like(w))
    ### BEGIN SOLUTION
    v_prev = v
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w - config["momentum"] * v_prev + (1 + config["momentum"]) * v
    ### END SOLUTION
    config["velocity"] = v
    return next_w.astype(w.dtype, copy=False), config


def adagrad(w, dw, config=None):
    """AdaGrad: per-parameter step sizes from the sum of squared gradients.

    .. math-begin
        cache <- cache + dw**2
        w     <- w - alpha * dw / (sqrt(cache) + eps)

    Because ``cache`` only grows, the effective step size alpha/sqrt(cache)
    shrinks towards zero over a long run.
    .. math-end

    config format:
    - learning_rate: Scalar learning rate alpha (default 1e-2).
    - epsilon: Small scalar eps added outside the square root (default 1e-8).
    - cache: State, the running sum of squared gradients (starts at zeros).
    """
    config = _defaults(config, learning_rate=1e-2, epsilon=1e-8)
    cache = config.get("cache", np.zeros_like(w))
    ### BEGIN SOLUTION
    cache = cache + dw * dw
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    ### END SOLUTION
    config["cache"] = cache
    return next_w.astype(w.dtype, copy=False), config


def rmsprop(w, dw, config=None):
    """RMSProp: AdaGrad with a leaky (exponentially decaying) cache.

    .. math-begin
        cache <- d * cache + (1 - d) * dw**2
        w     <- w - alpha * dw / (sqrt(cache) + eps)
    .. math-end

    config format:
    - learning_rate: Scalar learning rate alpha (default 1e-2).
    - decay_rate: Scalar d between 0 and 1 (default 0.99), the weight on the
      old cache.
    - epsilon: Small scalar eps added outside the square root (default 1e-8).
    - cache: State, moving average of squared gradients (starts at zeros).
    """
    config = _defaults(config, learning_rate=1e-2, decay_rate=0.99, epsilon=1e-8)
    cache = config.get("cache", np.zeros_like(w))
    ### BEGIN SOLUTION
    d = config["decay_rate"]
    cache = d * cache + (1 - d) * dw * dw
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    ### END SOLUTION
    config["cache"] = cache
    return next_w.astype(w.dtype, copy=False), config


def adam(w, dw, config=None):
    """Adam: momentum (first moment) plus RMSProp (second moment), bias-corrected.

    The step counter t is incremented BEFORE it is used: the first step uses
    t = 1. m and v are the moving averages of dw and dw**2 (beta1, beta2 are
    their decay rates); the step uses their bias-corrected versions.

    .. math-begin
        t  <- t + 1                          (increment BEFORE use: first step t=1)
        m  <- beta1 * m + (1 - beta1) * dw
        v  <- beta2 * v + (1 - beta2) * dw**2
        m^ <- m / (1 - beta1**t)
        v^ <- v / (1 - beta2**t)
        w  <- w - alpha * m^ / (sqrt(v^) + eps)

    Without the bias correction, m and v start near zero, and because v is
    much closer to zero than m, the first steps are huge.
    .. math-end

    config format:
    - learning_rate: Scalar learning rate alpha (default 1e-3).
    - beta1: Decay rate for the first moment (default 0.9).
    - beta2: Decay rate for the second moment (default 0.999).
    - epsilon: Small scalar eps added outside the square root (default 1e-8).
    - m: State, moving average of gradients (starts at zeros).
    - v: State, moving average of squared gradients (starts at zeros).
    - t: State, the step counter (starts at 0).
    """
    config = _defaults(config, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8)
    m = config.get("m", np.zeros_like(w))
    v = config.get("v", np.zeros_like(w))
    t = config.get("t", 0)
    ### BEGIN SOLUTION
    b1, b2 = config["beta1"], config["beta2"]
    t = t + 1
    m = b1 * m + (1 - b1) * dw
    v = b2 * v + (1 - b2) * dw * dw
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    ### END SOLUTION
    config["m"], config["v"], config["t"] = m, v, t
    return next_w.astype(w.dtype, copy=False), config
