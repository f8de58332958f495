"""A fully connected network of any depth (CS231n's ``FullyConnectedNet``).

A model here has the contract that ``Solver`` relies on:

- ``model.params``: a dict mapping parameter names ('W1', 'b1', ...) to numpy
  arrays; the optimizer replaces its entries after each step.
- ``model.loss(X, y=None)``:
  - X: A numpy array of input data of shape (N, d_1, ..., d_k).
  - y: None, or an integer array of labels of shape (N,), y[i] in 0..C-1.
  - With y None (test mode: dropout off, batch norm uses its running
    averages) it returns ``scores``, an array of shape (N, C).
  - With y given (train mode) it returns ``(loss, grads)``: the loss as a
    Python float and a dict with the same keys as ``params`` mapping each to
    the gradient of the loss with respect to it (same shape and dtype).

The architecture, for L = len(hidden_dims) + 1 layers::

    {affine - [batch norm] - relu - [dropout]} x (L - 1) - affine - softmax

The loss is the softmax (cross-entropy) loss plus the L2 penalty
0.5 * reg * sum(W**2) over the weight matrices only (not biases, not batch
norm's gamma and beta), so grads['Wi'] includes reg * Wi.

Everything is computed in ``dtype``: float32 for speed (inputs are cast on
the way in), float64 for gradient checks.
"""
import numpy as np

from .layers import (affine_backward, affine_forward, batchnorm_backward, batchnorm_forward,
                     dropout_backward, dropout_forward, relu_backward, relu_forward, softmax_loss)

NORMALIZATIONS = (None, "batchnorm")


class FullyConnectedNet:
    """A multi-layer fully connected network with ReLUs, optional dropout and batch norm.

    Parameters (in ``self.params``), for i = 1 .. L:
    - 'Wi': weights of layer i, of shape (fan_in, fan_out), drawn from
      N(0, weight_scale**2).
    - 'bi': biases of layer i, of shape (fan_out,), zeros.
    - 'gammai', 'betai' for the L - 1 hidden layers when
      normalization == 'batchnorm': ones and zeros of shape (fan_out,).
    """

    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10, dropout_keep_ratio=1,
                 normalization=None, reg=0.0, weight_scale=1e-2, dtype=np.float32, seed=None):
        """Initialize a new FullyConnectedNet.

        Inputs:
        - hidden_dims: A list of integers giving the size of each hidden layer.
        - input_dim: An integer giving the size of the input (D = d_1 * ... * d_k).
        - num_classes: An integer giving the number of classes C to classify.
        - dropout_keep_ratio: Scalar between 0 and 1 giving the probability of
          KEEPING a unit in dropout. If dropout_keep_ratio=1 then the network
          does not use dropout at all.
        - normalization: None (no normalization) or 'batchnorm'.
        - reg: Scalar giving the L2 regularization strength.
        - weight_scale: Scalar giving the standard deviation for random
          initialization of the weights.
        - dtype: A numpy datatype object; all computations are performed in
          this datatype. float32 is faster but less accurate, so use float64
          for numeric gradient checking.
        - seed: None, or an integer. When given, it seeds the weight
          initialization (through a ``np.random.Generator``) AND it is passed
          to the dropout layers, which then use the same mask on every forward
          pass — what a gradient check needs, as in CS231n. To train with fresh
          dropout masks at every step, leave seed None (or set
          ``model.dropout_param.pop('seed')`` after construction).
        """
        hidden_dims = [int(h) for h in hidden_dims]
        if any(h <= 0 for h in hidden_dims) or int(input_dim) <= 0 or int(num_classes) <= 0:
            raise ValueError(f"FullyConnectedNet: layer sizes must be positive integers, got hidden_dims="
                             f"{hidden_dims}, input_dim={input_dim}, num_classes={num_classes}")
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"FullyConnectedNet: normalization must be one of {NORMALIZATIONS}, "
                             f"got {normalization!r}")
        if not 0 < dropout_keep_ratio <= 1:
            raise ValueError(f"FullyConnectedNet: dropout_keep_ratio is the probability of KEEPING a unit "
                             f"and must be in (0, 1]; got {dropout_keep_ratio!r}")
        if reg < 0:
            raise ValueError(f"FullyConnectedNet: reg must be >= 0, got {reg!r}")

        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = np.dtype(dtype)
        self.params = {}

        # Draw in float64 and cast, so models that differ only in dtype start alike.
        rng = np.random.default_rng(seed)
        dims = [int(input_dim)] + hidden_dims + [int(num_classes)]
        for i, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:]), start=1):
            self.params[f"W{i}"] = (weight_scale * rng.standard_normal((fan_in, fan_out))).astype(self.dtype)
            self.params[f"b{i}"] = np.zeros(fan_out, dtype=self.dtype)
            if normalization == "batchnorm" and i < self.num_layers:
                self.params[f"gamma{i}"] = np.ones(fan_out, dtype=self.dtype)
                self.params[f"beta{i}"] = np.zeros(fan_out, dtype=self.dtype)

        # One dropout_param shared by every dropout layer; one bn_param per batch-norm
        # layer (each keeps its own running averages). loss() sets their modes.
        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": dropout_keep_ratio}
            if seed is not None:
                self.dropout_param["seed"] = seed
        self.bn_params = []
        if normalization == "batchnorm":
            self.bn_params = [{"mode": "train"} for _ in range(self.num_layers - 1)]

    def loss(self, X, y=None):
        """Compute the loss and gradient for the fully connected net (or the scores).

        Inputs:
        - X: Array of input data of shape (N, d_1, ..., d_k), cast to ``self.dtype``.
        - y: Array of labels, of shape (N,). y[i] gives the label for X[i].

        Returns:
        If y is None, then run a test-time forward pass of the model and return:
        - scores: Array of shape (N, C) giving classification scores, where
          scores[i, c] is the classification score for X[i] and class c.

        If y is not None, then run a training-time forward and backward pass
        and return a tuple of:
        - loss: Scalar value giving the loss (data loss + L2 penalty).
        - grads: Dictionary with the same keys as self.params, mapping
          parameter names to gradients of the loss with respect to those
          parameters.
        """
        X = np.asarray(X).astype(self.dtype, copy=False)
        mode = "test" if y is None else "train"
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        for bn_param in self.bn_params:
            bn_param["mode"] = mode

        # Forward: {affine - [batch norm] - relu - [dropout]} x (L - 1) - affine.
        h, caches = X, []
        for i in range(1, self.num_layers):
            h, fc_cache = affine_forward(h, self.params[f"W{i}"], self.params[f"b{i}"])
            bn_cache = dropout_cache = None
            if self.normalization == "batchnorm":
                h, bn_cache = batchnorm_forward(h, self.params[f"gamma{i}"], self.params[f"beta{i}"],
                                                self.bn_params[i - 1])
            h, relu_cache = relu_forward(h)
            if self.use_dropout:
                h, dropout_cache = dropout_forward(h, self.dropout_param)
            caches.append((fc_cache, bn_cache, relu_cache, dropout_cache))
        L = self.num_layers
        scores, last_cache = affine_forward(h, self.params[f"W{L}"], self.params[f"b{L}"])
        if y is None:
            return scores

        # Backward, from the loss down to the first layer.
        loss, dscores = softmax_loss(scores, y)
        grads = {}
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, last_cache, need_dx=L > 1)
        for i in range(L - 1, 0, -1):
            fc_cache, bn_cache, relu_cache, dropout_cache = caches[i - 1]
            if self.use_dropout:
                dh = dropout_backward(dh, dropout_cache)
            dh = relu_backward(dh, relu_cache)
            if self.normalization == "batchnorm":
                dh, grads[f"gamma{i}"], grads[f"beta{i}"] = batchnorm_backward(dh, bn_cache)
            # The first layer needs no gradient for the data X.
            dh, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(dh, fc_cache, need_dx=i > 1)

        # L2 penalty 0.5 * reg * sum(W**2) on the weights only.
        if self.reg:
            for i in range(1, L + 1):
                W = self.params[f"W{i}"]
                flat = W.ravel()
                loss += 0.5 * self.reg * float(np.dot(flat, flat))
                grads[f"W{i}"] += self.reg * W
        return loss, grads
