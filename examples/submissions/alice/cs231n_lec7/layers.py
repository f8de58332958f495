"""Layers with hand-written forward and backward passes (CS231n's ``layers.py``).

Every layer here is a pair with the same contract::

    out, cache = layer_forward(x, ...)
    dx, (dparams...) = layer_backward(dout, cache)

Forward inputs:
- x: A numpy array of inputs (shapes in each docstring; N = batch size).
- The layer's parameters and, for layers that behave differently in training
  and at test time, a ``*_param`` dict with ``mode`` = 'train' | 'test'.

Forward returns:
- out: A numpy array, the output, with the dtype of x (float32 stays float32).
- cache: Whatever the backward pass needs (treat it as opaque).

Backward inputs:
- dout: A numpy array shaped like ``out``: the upstream gradient dL/dout.
- cache: The cache from the matching forward call.

Backward returns:
- dx (and one gradient per parameter): arrays shaped like the corresponding
  forward input, in the dtype of dout.

No layer changes the arrays it is given (x, parameters, dout); layers that
keep state (batch norm's running averages) store it in their ``*_param`` dict.

Randomness is explicit: dropout draws its mask from
``np.random.default_rng(dropout_param['seed'])`` when a seed is given (the same
seed gives the same mask) and from a fresh ``np.random.default_rng()``
otherwise. Nothing here touches numpy's global generator.

Dropout's forward and backward bodies are the exercises ``layers.dropout_forward``
and ``layers.dropout_backward`` (notebook 07, section "Dropout"); the other
layers are given.
"""
import numpy as np


# --------------------------------------------------------------------------
# Affine (fully connected) and ReLU
# --------------------------------------------------------------------------
def affine_forward(x, w, b):
    """Affine (fully connected) layer: out = x.reshape(N, D) @ w + b.

    Inputs:
    - x: A numpy array of shape (N, d_1, ..., d_k); each example is flattened
      to a row of D = d_1 * ... * d_k entries.
    - w: A numpy array of weights, of shape (D, M).
    - b: A numpy array of biases, of shape (M,).

    Returns a tuple of:
    - out: output, of shape (N, M).
    - cache: (x, w, b).
    """
    x2 = x.reshape(x.shape[0], -1)
    if x2.shape[1] != w.shape[0]:
        raise ValueError(f"affine_forward: each example has {x2.shape[1]} entries but w has {w.shape[0]} "
                         f"rows; w must have shape (D, M) with D = {x2.shape[1]}")
    out = x2 @ w
    out += b
    return out, (x, w, b)


def affine_backward(dout, cache, need_dx=True):
    """Backward pass of the affine layer.

    Inputs:
    - dout: Upstream derivative, of shape (N, M).
    - cache: (x, w, b) from ``affine_forward``.
    - need_dx: If False, skip dx and return None in its place. The first layer
      of a network needs no gradient for its input data (torch skips it too),
      and that product is the most expensive one of the backward pass.

    Returns a tuple of:
    - dx: Gradient with respect to x, of shape (N, d_1, ..., d_k) (or None).
    - dw: Gradient with respect to w, of shape (D, M).
    - db: Gradient with respect to b, of shape (M,).
    """
    x, w, _ = cache
    x2 = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape) if need_dx else None
    dw = x2.T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    """Rectified linear unit: out = max(x, 0), elementwise.

    Inputs:
    - x: A numpy array of any shape.

    Returns a tuple of:
    - out: output, of the same shape and dtype as x.
    - cache: out (its positive entries are where the gradient flows).
    """
    out = np.maximum(x, 0)
    return out, out


def relu_backward(dout, cache):
    """Backward pass of the ReLU: dx = dout where the input was positive, 0 elsewhere.

    Inputs:
    - dout: Upstream derivatives, of any shape.
    - cache: The ReLU output from ``relu_forward``, of the same shape as dout.

    Returns:
    - dx: Gradient with respect to x, of the same shape as dout.
    """
    out = cache
    return np.where(out > 0, dout, 0).astype(dout.dtype, copy=False)


def affine_relu_forward(x, w, b):
    """Affine layer followed by a ReLU (a convenience "sandwich" layer).

    Inputs:
    - x: Input to the affine layer, of shape (N, d_1, ..., d_k).
    - w, b: Weights (D, M) and biases (M,) of the affine layer.

    Returns a tuple of:
    - out: Output of the ReLU, of shape (N, M).
    - cache: Object to give to ``affine_relu_backward``.
    """
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout, cache):
    """Backward pass of ``affine_relu_forward``.

    Inputs:
    - dout: Upstream derivatives, of shape (N, M).
    - cache: From ``affine_relu_forward``.

    Returns a tuple of:
    - dx: (N, d_1, ..., d_k), dw: (D, M), db: (M,).
    """
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return affine_backward(da, fc_cache)


# --------------------------------------------------------------------------
# Loss
# --------------------------------------------------------------------------
def softmax_loss(x, y):
    """Softmax (cross-entropy) loss averaged over the batch, and its gradient.

        L = -(1/N) * sum_i log( exp(x[i, y_i]) / sum_j exp(x[i, j]) )

    Computed stably: the row maximum is subtracted before exponentiating
    (this changes nothing mathematically, and exp never overflows).

    Inputs:
    - x: Input data, of shape (N, C), where x[i, j] is the score for the jth
      class of the ith input.
    - y: Vector of labels, of shape (N,), integers with 0 <= y[i] < C.

    Returns a tuple of:
    - loss: A Python float.
    - dx: Gradient of the loss with respect to x, of shape (N, C), dtype of x.
    """
    y = np.asarray(y)
    N, C = x.shape
    if y.shape != (N,):
        raise ValueError(f"softmax_loss: y should hold one label per row of x, shape ({N},); got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"softmax_loss: labels y must be integers (class indices), got dtype {y.dtype}")
    if N and (y.min() < 0 or y.max() >= C):
        raise ValueError(f"softmax_loss: labels must lie in 0..{C - 1} (x has {C} columns), "
                         f"got labels from {y.min()} to {y.max()}")
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(N)
    loss = -float(log_probs[rows, y].mean(dtype=np.float64))
    dx = np.exp(log_probs)
    dx[rows, y] -= 1
    dx /= N
    return loss, dx


# --------------------------------------------------------------------------
# Batch normalization
# --------------------------------------------------------------------------
def _bn_settings(bn_param, who):
    """(mode, eps, momentum) from ``bn_param``, with a clear error for a bad dict or mode."""
    if not isinstance(bn_param, dict):
        raise TypeError(f"{who}: bn_param must be a dict with at least a 'mode' key, got {type(bn_param).__name__}")
    mode = bn_param.get("mode")
    if mode not in ("train", "test"):
        raise ValueError(f"{who}: bn_param['mode'] must be 'train' or 'test', got {mode!r}")
    return mode, bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization over the batch dimension, then a learned scale and shift.

    Train mode normalizes each feature with the mean and (biased) variance of
    the minibatch and updates exponential running averages of both:

        mu, var      = mean(x, axis=0), var(x, axis=0)
        x_hat        = (x - mu) / sqrt(var + eps)
        out          = gamma * x_hat + beta
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var  = momentum * running_var  + (1 - momentum) * var

    Test mode uses the running averages instead of the batch statistics, so a
    test example's output does not depend on the rest of its batch:

        out = gamma * (x - running_mean) / sqrt(running_var + eps) + beta

    (torch's ``BatchNorm1d(momentum=0.1)`` uses the same averaging with
    torch_momentum = 1 - momentum, but an unbiased variance for running_var.)

    Inputs:
    - x: Data of shape (N, D).
    - gamma: Scale parameter of shape (D,).
    - beta: Shift parameter of shape (D,).
    - bn_param: Dictionary with the following keys:
      - mode: 'train' or 'test'; required.
      - eps: Constant for numeric stability (default 1e-5).
      - momentum: Constant for the running averages (default 0.9).
      - running_mean: Array of shape (D,), the running mean (zeros if absent).
      - running_var: Array of shape (D,), the running variance (zeros if absent).
      In train mode the updated running_mean and running_var are stored back
      into bn_param.

    Returns a tuple of:
    - out: Output of shape (N, D), dtype of x.
    - cache: Values needed by ``batchnorm_backward``.
    """
    mode, eps, momentum = _bn_settings(bn_param, "batchnorm_forward")
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    if mode == "train":
        mu = x.mean(axis=0)
        xc = x - mu
        var = np.mean(xc * xc, axis=0)
        inv_std = 1.0 / np.sqrt(var + eps)
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    else:
        xc = x - running_mean
        inv_std = 1.0 / np.sqrt(running_var + eps)
    x_hat = xc * inv_std
    out = gamma * x_hat + beta
    bn_param["running_mean"] = running_mean.astype(x.dtype, copy=False)
    bn_param["running_var"] = running_var.astype(x.dtype, copy=False)
    return out.astype(x.dtype, copy=False), (mode, x_hat, gamma, inv_std)


def batchnorm_backward(dout, cache):
    """Backward pass of batch normalization (the simplified closed form).

    In train mode mu and var depend on every example of the batch, which gives

        dbeta  = sum_i dout_i
        dgamma = sum_i dout_i * x_hat_i
        dx     = (gamma * inv_std / N) * (N * dout - dbeta - x_hat * dgamma)

    with inv_std = 1 / sqrt(var + eps). In test mode the statistics are
    constants and dx = gamma * inv_std * dout.

    Inputs:
    - dout: Upstream derivatives, of shape (N, D).
    - cache: From ``batchnorm_forward``.

    Returns a tuple of:
    - dx: Gradient with respect to x, of shape (N, D).
    - dgamma: Gradient with respect to gamma, of shape (D,).
    - dbeta: Gradient with respect to beta, of shape (D,).
    """
    mode, x_hat, gamma, inv_std = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    if mode == "train":
        N = dout.shape[0]
        dx = (gamma * inv_std / N) * (N * dout - dbeta - x_hat * dgamma)
    else:
        dx = (gamma * inv_std) * dout
    return dx.astype(dout.dtype, copy=False), dgamma, dbeta


def affine_bn_relu_forward(x, w, b, gamma, beta, bn_param):
    """Affine layer, batch normalization, then ReLU (a convenience "sandwich" layer).

    Inputs:
    - x: Input of shape (N, d_1, ..., d_k); w: (D, M); b: (M,).
    - gamma, beta: Batch-norm scale and shift, of shape (M,).
    - bn_param: Batch-norm parameter dict (see ``batchnorm_forward``).

    Returns a tuple of:
    - out: Output of shape (N, M).
    - cache: Object to give to ``affine_bn_relu_backward``.
    """
    a, fc_cache = affine_forward(x, w, b)
    an, bn_cache = batchnorm_forward(a, gamma, beta, bn_param)
    out, relu_cache = relu_forward(an)
    return out, (fc_cache, bn_cache, relu_cache)


def affine_bn_relu_backward(dout, cache):
    """Backward pass of ``affine_bn_relu_forward``.

    Returns a tuple of:
    - dx: (N, d_1, ..., d_k), dw: (D, M), db: (M,), dgamma: (M,), dbeta: (M,).
    """
    fc_cache, bn_cache, relu_cache = cache
    dan = relu_backward(dout, relu_cache)
    da, dgamma, dbeta = batchnorm_backward(dan, bn_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    return dx, dw, db, dgamma, dbeta


# --------------------------------------------------------------------------
# Dropout (the exercise)
# --------------------------------------------------------------------------
def _dropout_settings(dropout_param, who):
    """(p, mode, seed) from ``dropout_param``, with a clear error for each bad value."""
    if not isinstance(dropout_param, dict):
        raise TypeError(f"{who}: dropout_param must be a dict with keys 'p' and 'mode', "
                        f"got {type(dropout_param).__name__}")
    if "p" not in dropout_param:
        raise ValueError(f"{who}: dropout_param has no 'p' (the probability of KEEPING a unit)")
    p = dropout_param["p"]
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0 < p <= 1:
        raise ValueError(f"{who}: dropout_param['p'] is the probability of KEEPING a unit and must be in "
                         f"(0, 1]; got {p!r}")
    mode = dropout_param.get("mode")
    if mode not in ("train", "test"):
        raise ValueError(f"{who}: dropout_param['mode'] must be 'train' or 'test', got {mode!r}")
    return float(p), mode, dropout_param.get("seed")


def dropout_forward(x, dropout_param):
    """Forward pass of (inverted) dropout.

    During training each unit is kept with probability p and zeroed otherwise;
    every unit has its own independent coin. This layer is INVERTED dropout:
    test mode returns the input unchanged.

    .. math-begin
    Two ways to make the expected output at test time match the training one:

    - vanilla dropout: train with out = x * keep, and multiply by p at test time;
    - inverted dropout (this layer): train with out = x * keep / p, so the
      expected output equals x, and test time is the identity — nothing to
      change in the deployed network.
    .. math-end

    In train mode, draw the coins from ``np.random.default_rng(seed)`` (seed
    may be None): one uniform number per element of x, kept where it is below
    p. The mask is 1/p where kept and 0 where dropped, and out = x * mask.

    Inputs:
    - x: Input data, a numpy array of any shape.
    - dropout_param: A dictionary with the following keys:
      - p: Dropout parameter. We KEEP each neuron output with probability p
        (0 < p <= 1; p = 1 keeps everything).
      - mode: 'test' or 'train'. If the mode is train, then perform dropout;
        if the mode is test, then just return the input.
      - seed: Optional seed for the random number generator. Passing a seed
        makes this function deterministic (the same seed gives the same mask),
        which is needed for gradient checking but not in real networks.
        Without a seed, the mask comes from a fresh ``np.random.default_rng()``.
        Never call ``np.random.seed``.

    Returns a tuple of:
    - out: Array of the same shape and dtype as x.
    - cache: A tuple (dropout_param, mask). In training mode, mask is the
      dropout mask (1/p where kept, 0 where dropped) used to multiply the
      input; in test mode, mask is None.
    """
    p, mode, seed = _dropout_settings(dropout_param, "dropout_forward")
    mask = None
    out = None
    if mode == "test":  # inverted dropout: nothing to undo at test time
        return x.copy(), (dropout_param, None)
    keep_rng = np.random.default_rng(seed)
    mask = (keep_rng.random(x.shape) < p) / p  # 1/p where kept, 0 where dropped
    out = x * mask
    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)
    return out, cache


def dropout_backward(dout, cache):
    """Backward pass of (inverted) dropout.

    Use the very mask the forward pass drew, taken from the cache — never a
    new one.

    .. math-begin
    The forward pass multiplied x by a fixed mask, so the gradient flows
    through the same mask: dx = dout * mask in train mode, and
    dx = dout in test mode.
    .. math-end

    Inputs:
    - dout: Upstream derivatives, of any shape.
    - cache: (dropout_param, mask) from ``dropout_forward``.

    Returns:
    - dx: Gradient with respect to x, of the same shape and dtype as dout.
    """
    dropout_param, mask = cache
    _, mode, _ = _dropout_settings(dropout_param, "dropout_backward")
    dx = None
    dx = dout * mask if mode == "train" else dout
    return np.asarray(dx).astype(dout.dtype, copy=False)
