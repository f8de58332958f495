"""Regularization beyond dropout (lecture 7, part 3): weight penalties, DropConnect,
stochastic depth, and fractional max pooling.

Weight penalties share one contract::

    loss, dW = penalty(W, reg, ...)

Inputs:
- W: A numpy array of any shape, the weights being penalised.
- reg: Scalar regularization strength (lambda), reg >= 0.

Returns:
- loss: A Python float, the penalty added to the data loss.
- dW: A numpy array of the same shape and dtype as W, the (sub)gradient of the
  penalty with respect to W.

Conventions the grader relies on (CS231n's ``FullyConnectedNet`` uses the first):
- L2:           R(W) = 0.5 * reg * sum(W**2),      dR/dW = reg * W
- L1:           R(W) = reg * sum(|W|),             dR/dW = reg * sign(W)   (0 where W == 0)
- Elastic net:  R(W) = reg * (l1_ratio * sum(|W|) + (1 - l1_ratio) * 0.5 * sum(W**2))
  This is scikit-learn's ElasticNet penalty with alpha = reg (scikit-learn also
  scales its data term by 1 / (2 n_samples)); l1_ratio = 1 is L1, 0 is L2.

Layers keep CS231n's forward/backward pairs (``out, cache = *_forward(...)``,
``grads = *_backward(dout, cache)``) and, like dropout in ``layers.py``, take a
``param`` dict with ``mode`` ('train' | 'test'), a KEEP / SURVIVAL probability
``p``, and an optional ``seed``: the same seed gives the same mask, drawn from
``np.random.default_rng(seed)`` (never the global generator).
"""
import numpy as np


# --------------------------------------------------------------------------
# Weight penalties
# --------------------------------------------------------------------------
def l2_penalty(W, reg):
    """L2 regularization (weight decay), CS231n's convention with the factor 0.5.

        R(W)  = 0.5 * reg * sum_ij W_ij^2
        dR/dW = reg * W

    The 0.5 makes the gradient exactly reg * W. Inputs and returns as in the
    module docstring: ``loss`` a float, ``dW`` an array shaped like W.
    """
    W = np.asarray(W)
    # TODO: your code here (regularization.l2_penalty)
    raise NotImplementedError("regularization.l2_penalty: not implemented yet — write it here, see notebook 07_regularization, section \"Weight penalties\"")
    return float(penalty_l2), np.asarray(grad_l2, dtype=W.dtype)


def l1_penalty(W, reg):
    """L1 regularization: pushes weights to exactly zero (sparse weights).

        R(W)  = reg * sum_ij |W_ij|
        dR/dW = reg * sign(W)        (a subgradient; 0 where W_ij == 0)

    Inputs and returns as in the module docstring.
    """
    W = np.asarray(W)
    # TODO: your code here (regularization.l1_penalty)
    raise NotImplementedError("regularization.l1_penalty: not implemented yet — write it here, see notebook 07_regularization, section \"Weight penalties\"")
    return float(penalty_l1), np.asarray(grad_l1, dtype=W.dtype)


def elastic_net_penalty(W, reg, l1_ratio=0.5):
    """Elastic net: a mix of L1 and L2 (scikit-learn's ElasticNet penalty form).

        R(W)  = reg * ( l1_ratio * sum|W|  +  (1 - l1_ratio) * 0.5 * sum W^2 )
        dR/dW = reg * ( l1_ratio * sign(W) +  (1 - l1_ratio) * W )

    l1_ratio = 1 gives ``l1_penalty(W, reg)``, l1_ratio = 0 gives
    ``l2_penalty(W, reg)``. Inputs as in the module docstring, plus:
    - l1_ratio: Scalar in [0, 1], the weight of the L1 part.
    """
    W = np.asarray(W)
    if not 0.0 <= l1_ratio <= 1.0:
        raise ValueError(f"l1_ratio must be in [0, 1], got {l1_ratio}")
    # TODO: your code here (regularization.elastic_net_penalty)
    raise NotImplementedError("regularization.elastic_net_penalty: not implemented yet — write it here, see notebook 07_regularization, section \"Weight penalties\"")
    return float(penalty_en), np.asarray(grad_en, dtype=W.dtype)


# --------------------------------------------------------------------------
# DropConnect
# --------------------------------------------------------------------------
def dropconnect_forward(x, w, b, param):
    """DropConnect affine layer: dropout applied to the WEIGHTS (Wan et al., 2013).

    Train mode draws one Bernoulli(p) mask M with the shape of w (p = probability
    of KEEPING a connection) for the whole mini-batch and uses inverted scaling
    (test mode: nothing to undo, as inverted dropout).

    (The equations are yours to write: notebook 08_augmentation_and_noise, section "DropConnect".)

    with x flattened to shape (N, D) first.

    Dropout zeroes whole activations (a row of w's effect for one example);
    DropConnect zeroes single connections w_ij. (The paper draws a mask per
    example and uses a Gaussian approximation at test time; one mask per
    mini-batch with inverted scaling is the common simplification.)

    Inputs:
    - x: Input data, of shape (N, d_1, ..., d_k): a mini-batch of N examples,
      each flattened to a row of D = d_1 * ... * d_k numbers, as CS231n's
      affine_forward does (a 2-D x of shape (N, D) is the case k = 1; a 4-D
      conv map (N, C, H, W) has D = C * H * W).
    - w: Weights, of shape (D, M).
    - b: Biases, of shape (M,). Biases are never dropped.
    - param: Dictionary with keys:
      - mode: 'train' or 'test'.
      - p: Probability of keeping each weight, 0 < p <= 1.
      - seed: Optional int; the mask comes from np.random.default_rng(seed).

    Returns a tuple of:
    - out: Output of shape (N, M), dtype of x.
    - cache: Whatever dropconnect_backward needs (keep the mask you used!).
    """
    p, mode = param["p"], param["mode"]
    if not 0.0 < p <= 1.0:
        raise ValueError(f"p is the probability of keeping a weight and must be in (0, 1], got {p}")
    rng = np.random.default_rng(param.get("seed"))
    # TODO: your code here (regularization.dropconnect_forward)
    raise NotImplementedError("regularization.dropconnect_forward: not implemented yet — write it here, see notebook 08_augmentation_and_noise, section \"DropConnect\"")
    return out.astype(x.dtype, copy=False), cache


def dropconnect_backward(dout, cache):
    """Backward pass of :func:`dropconnect_forward`.

    (The equations are yours to write: notebook 08_augmentation_and_noise, section "DropConnect".)

    with x flattened to shape (N, D) as in the forward pass; dx is reshaped
    back to x's own shape (N, d_1, ..., d_k).

    Use the mask saved by the forward pass: a fresh mask would be the gradient
    of a different network.

    Inputs:
    - dout: Upstream derivatives, of shape (N, M).
    - cache: The cache returned by dropconnect_forward.

    Returns a tuple of:
    - dx: Gradient with respect to x, of x's shape (N, d_1, ..., d_k).
    - dw: Gradient with respect to w, of shape (D, M).
    - db: Gradient with respect to b, of shape (M,).
    """
    # TODO: your code here (regularization.dropconnect_backward)
    raise NotImplementedError("regularization.dropconnect_backward: not implemented yet — write it here, see notebook 08_augmentation_and_noise, section \"DropConnect\"")
    return dx_dc, dw_dc, db_dc


# --------------------------------------------------------------------------
# Stochastic depth
# --------------------------------------------------------------------------
def stochastic_depth_forward(x, f, param):
    """A residual block with stochastic depth (Huang et al., 2016).

    The block computes y = x + F(x). To keep this checkable with plain arrays
    the branch is computed by the caller: ``f`` = F(x) is given. In training
    each EXAMPLE n keeps its branch with survival probability p (one coin per
    example, shared by all its features; the skip path x is never dropped).

    (The equations are yours to write: notebook 08_augmentation_and_noise, section "Stochastic depth".)

    The paper draws one coin per block per mini-batch (which is what saves
    compute: a dropped block is not evaluated). One coin per example, as
    torchvision's ``stochastic_depth(mode="row")`` and timm's DropPath do, has
    the same expectation -- hence the same test-time rule -- and less noisy
    gradients. Like the paper (and unlike inverted dropout) the train-time
    branch is NOT rescaled; test time multiplies by p instead.

    Inputs:
    - x: The block's input (the skip path), of shape (N, ...).
    - f: The residual branch's output F(x), same shape as x.
    - param: Dictionary with keys:
      - mode: 'train' or 'test'.
      - p: Survival probability of the branch, 0 < p <= 1.
      - seed: Optional int; the coins come from np.random.default_rng(seed).

    Returns a tuple of:
    - y: Output, same shape and dtype as x.
    - cache: What stochastic_depth_backward needs.
    """
    p, mode = param["p"], param["mode"]
    if not 0.0 < p <= 1.0:
        raise ValueError(f"p is the survival probability and must be in (0, 1], got {p}")
    if np.shape(f) != np.shape(x):
        raise ValueError(f"x and f must have the same shape, got {np.shape(x)} and {np.shape(f)}")
    rng = np.random.default_rng(param.get("seed"))
    # TODO: your code here (regularization.stochastic_depth_forward)
    raise NotImplementedError("regularization.stochastic_depth_forward: not implemented yet — write it here, see notebook 08_augmentation_and_noise, section \"Stochastic depth\"")
    return y.astype(x.dtype, copy=False), cache


def stochastic_depth_backward(dout, cache):
    """Backward pass of :func:`stochastic_depth_forward`.

    (The equations are yours to write: notebook 08_augmentation_and_noise, section "Stochastic depth".)

    The full dL/dx of the block is dx_skip plus whatever the branch
    back-propagates from df; a dropped block gets df = 0 for that example.

    Inputs:
    - dout: Upstream derivatives, shape of y.
    - cache: The cache returned by stochastic_depth_forward.

    Returns a tuple (dx_skip, df), both shaped like dout.
    """
    # TODO: your code here (regularization.stochastic_depth_backward)
    raise NotImplementedError("regularization.stochastic_depth_backward: not implemented yet — write it here, see notebook 08_augmentation_and_noise, section \"Stochastic depth\"")
    return dx_skip, df


# --------------------------------------------------------------------------
# Fractional max pooling (given, not graded)
# --------------------------------------------------------------------------
def fractional_pool_boundaries(size, ratio, u):
    """Pooling-region boundaries a_0 = 0 < a_1 < ... < a_K = size (Graham, 2014).

    The pseudo-random sequence a_i = ceil(ratio * (i + u)) - ceil(ratio * u),
    i = 0..K with K = floor(size / ratio), and the last boundary moved to
    ``size``. For 1 < ratio < 2 every region is 1 or 2 wide; u in [0, 1) shifts
    where the wide ones fall.

    Returns an int array of length K + 1.
    """
    if ratio < 1.0:
        raise ValueError(f"ratio must be >= 1, got {ratio}")
    k = int(np.floor(size / ratio))
    i = np.arange(k + 1)
    edges = np.ceil(ratio * (i + u)) - np.ceil(ratio * u)
    edges = np.minimum(edges.astype(int), size)
    edges[-1] = size
    return edges


def fractional_max_pool(x, ratio, rng=None, mode="train", num_samples=1):
    """Fractional max pooling (Graham, 2014): shrink H and W by a non-integer ``ratio``.

    Train mode draws random pooling regions -- one offset u ~ U[0, 1) per
    spatial axis per call -- and takes the max over each region. Test mode
    either uses the fixed regions of u = 0.5 (``num_samples=1``) or averages
    the outputs of ``num_samples`` random draws (the paper's "averaging over
    repeated tests", like a Monte-Carlo average over dropout masks).

    Inputs:
    - x: Input of shape (N, C, H, W).
    - ratio: Scalar >= 1, e.g. sqrt(2); output is (N, C, floor(H/ratio), floor(W/ratio)).
    - rng: np.random.Generator or int seed (train mode and averaged test mode).
    - mode: 'train' or 'test'.
    - num_samples: Test mode only, number of random region draws to average.

    Returns a tuple of:
    - out: Pooled output, dtype of x.
    - regions: (row_edges, col_edges) of the (last) draw, for plotting.
    """
    rng = np.random.default_rng(rng)
    N, C, H, W = x.shape

    def pool(u_rows, u_cols):
        rows = fractional_pool_boundaries(H, ratio, u_rows)
        cols = fractional_pool_boundaries(W, ratio, u_cols)
        out = np.empty((N, C, len(rows) - 1, len(cols) - 1), dtype=x.dtype)
        for i in range(len(rows) - 1):
            for j in range(len(cols) - 1):
                out[:, :, i, j] = x[:, :, rows[i]:rows[i + 1], cols[j]:cols[j + 1]].max(axis=(2, 3))
        return out, (rows, cols)

    if mode == "train":
        return pool(rng.random(), rng.random())
    if num_samples <= 1:
        return pool(0.5, 0.5)
    outs = []
    for _ in range(num_samples):
        out, regions = pool(rng.random(), rng.random())
        outs.append(out)
    return np.mean(outs, axis=0).astype(x.dtype), regions
