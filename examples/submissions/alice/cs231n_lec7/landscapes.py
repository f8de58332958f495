"""Synthetic and data-based loss surfaces for optimizer experiments (lecture 7, part 1).

Every landscape is an object with one contract::

    f = landscape.value(x)        # x: (dim,) -> float;   x: (n, dim) -> (n,) array
    g = landscape.grad(x)         # x: (dim,) -> (dim,);  x: (n, dim) -> (n, dim)
    H = landscape.hessian(x)      # x: (dim,) -> (dim, dim)
    f, g = landscape.value_and_grad(x)   # the f_and_grad(x) of second_order
    Z = landscape.value_grid(X, Y)       # 2-D landscapes: Z[i, j] = f([X[i, j], Y[i, j]])

and the attributes ``dim``, ``name``, ``minimum`` (the argmin as a (dim,)
array, or None when it is not known in closed form) and ``minimum_value``.
Points are float64; a landscape never modifies the arrays it is given.

The landscapes answer the lecture's "problems with SGD":
- :class:`Quadratic` -- high condition number: gradient descent zig-zags along
  the steep axis and crawls along the shallow one; ``max_stable_lr = 2/lambda_max``.
- :class:`Rosenbrock` -- a curved, narrow valley.
- :class:`Saddle` and :func:`fraction_of_minima` -- saddle points: plain
  gradient descent started on the ridge stalls at the saddle, and a random
  critical point in high dimension is almost never a minimum.
- :class:`NoisyGradient`, :class:`LeastSquares`, :class:`LogisticRegression`
  and :func:`minibatch_gradient_noise` -- minibatch gradients are noisy; the
  noise shrinks like 1/sqrt(batch size).

:func:`run_optimizer` runs any update rule of :mod:`cs231n_lec7.optim`
(``next_w, config = rule(w, dw, config)``) on a landscape and returns the path.

Randomness is explicit: every random thing takes a ``seed`` (an int or a
``np.random.Generator``).
"""
import numpy as np

__all__ = [
    "Landscape", "Quadratic", "Rosenbrock", "Saddle", "NoisyGradient", "LeastSquares",
    "LogisticRegression", "digits_regression", "random_critical_point_hessian", "fraction_of_minima",
    "minibatch_gradient_noise", "run_optimizer",
]


class Landscape:
    """Base class: subclasses define ``_value(P)``, ``_grad(P)`` on a batch P of shape (n, dim),
    and ``hessian(x)`` at one point."""

    name = "landscape"
    dim = None
    minimum = None
    minimum_value = None

    # -- batch-aware wrappers -------------------------------------------------
    def _points(self, x, method):
        """(P, single): x as a float64 (n, dim) array and whether x was one point."""
        P = np.asarray(x, dtype=np.float64)
        if P.ndim == 1 and P.shape[0] == self.dim:
            return P[None, :], True
        if P.ndim == 2 and P.shape[1] == self.dim:
            return P, False
        raise ValueError(f"{type(self).__name__}.{method}: x should have shape ({self.dim},) for one point "
                         f"or (n, {self.dim}) for n points, got shape {P.shape}")

    def value(self, x):
        """Loss at x. Inputs: x of shape (dim,) or (n, dim). Returns a float, or an (n,) array."""
        P, single = self._points(x, "value")
        out = self._value(P)
        return float(out[0]) if single else out

    def grad(self, x):
        """Gradient at x. Inputs: x of shape (dim,) or (n, dim). Returns an array of x's shape."""
        P, single = self._points(x, "grad")
        out = self._grad(P)
        return out[0] if single else out

    def hessian(self, x):
        """Hessian at one point. Inputs: x of shape (dim,). Returns a symmetric (dim, dim) array."""
        P, single = self._points(x, "hessian")
        if not single:
            raise ValueError(f"{type(self).__name__}.hessian: give one point of shape ({self.dim},), "
                             f"got shape {P.shape}")
        return self._hessian(P[0])

    def value_and_grad(self, x):
        """(value(x), grad(x)) for one point x of shape (dim,): ``second_order``'s f_and_grad."""
        return self.value(x), self.grad(x)

    def value_grid(self, X, Y):
        """Values on a 2-D grid for contour plots (2-D landscapes only).

        Inputs: X, Y of the same shape (e.g. from np.meshgrid).
        Returns Z of that shape with Z[i, j] = value([X[i, j], Y[i, j]]).
        """
        if self.dim != 2:
            raise ValueError(f"{self.name}: value_grid needs a 2-D landscape, this one has dim={self.dim}")
        X, Y = np.broadcast_arrays(np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64))
        return self._value(np.stack([X.ravel(), Y.ravel()], axis=1)).reshape(X.shape)

    def __repr__(self):
        return f"{type(self).__name__}(dim={self.dim})"


def _generator(seed):
    """A np.random.Generator from an int seed or a Generator (returned as is)."""
    if seed is None:
        raise TypeError("pass an int seed or a np.random.Generator (randomness here is always explicit)")
    return np.random.default_rng(seed)


def _random_orthogonal(dim, seed):
    """A Haar-random (dim, dim) orthogonal matrix (QR of a Gaussian matrix, signs fixed)."""
    G = _generator(seed).standard_normal((dim, dim))
    Q, R = np.linalg.qr(G)
    return Q * np.sign(np.diag(R))


def _rotation_matrix(rotation, dim):
    """Columns = eigenvectors of a Quadratic (see Quadratic's docstring for ``rotation``)."""
    if rotation is None:
        return np.eye(dim)
    if isinstance(rotation, np.ndarray) and rotation.ndim == 2:
        V = np.asarray(rotation, dtype=np.float64)
        if V.shape != (dim, dim) or not np.allclose(V.T @ V, np.eye(dim), atol=1e-8):
            raise ValueError(f"Quadratic: a rotation matrix must be orthogonal of shape ({dim}, {dim})")
        return V.copy()
    if dim == 2 and np.isscalar(rotation) and not isinstance(rotation, (bool, np.bool_)):
        c, s = np.cos(float(rotation)), np.sin(float(rotation))
        return np.array([[c, -s], [s, c]])
    if isinstance(rotation, (int, np.integer, np.random.Generator)) and not isinstance(rotation, bool):
        return _random_orthogonal(dim, rotation)
    raise TypeError(f"Quadratic: rotation must be None, an angle in radians (dim=2), an int seed or a "
                    f"np.random.Generator (random rotation), or an orthogonal matrix; got {rotation!r}")


class Quadratic(Landscape):
    """An ill-conditioned bowl: f(x) = 1/2 (x - c)^T A (x - c), with A = V diag(lambda) V^T.

    The eigenvalues of A are spread geometrically from ``scale`` to
    ``scale * condition_number``: in 2-D they are (scale, scale * kappa); in n-D
    they are ``scale * np.geomspace(1, kappa, dim)``, ascending. The columns of V
    are the eigenvectors (``eigenvectors[:, 0]`` is the shallowest direction).

    Gradient descent x <- x - alpha * grad f(x) multiplies the error along
    eigenvector i by (1 - alpha * lambda_i) each step, so it converges iff
    alpha < 2 / lambda_max (``max_stable_lr``); the slowest direction then
    shrinks by (1 - alpha * lambda_min), which is why a large condition number
    kappa = lambda_max / lambda_min makes it crawl.

    Inputs:
    - condition_number: kappa >= 1 (default 10). Must be 1 when dim == 1.
    - dim: Number of dimensions (default 2).
    - rotation: Orientation of the eigenvectors.
      None (default): axis-aligned, V = I (in 2-D: shallow along x, steep along y).
      A number, dim == 2 only: the angle in radians of the shallow axis from the x-axis.
      An int seed or np.random.Generator (dim > 2; or a Generator in 2-D): a random orthogonal V.
      An orthogonal (dim, dim) array: V itself.
    - center: The minimum c, shape (dim,) (default: the origin).
    - scale: lambda_min (default 1.0).

    Attributes: A (dim, dim), eigenvalues (dim,), eigenvectors (dim, dim),
    center, minimum (= center), minimum_value (= 0), condition_number,
    lambda_min, lambda_max, max_stable_lr (= 2 / lambda_max) and optimal_lr
    (= 2 / (lambda_min + lambda_max), the best constant step for gradient descent).
    """

    def __init__(self, condition_number=10.0, dim=2, rotation=None, center=None, scale=1.0):
        kappa, dim, scale = float(condition_number), int(dim), float(scale)
        if not np.isfinite(kappa) or kappa < 1:
            raise ValueError(f"Quadratic: condition_number must be a finite number >= 1, got {condition_number}")
        if dim < 1 or (dim == 1 and kappa != 1):
            raise ValueError(f"Quadratic: dim must be >= 2 for a condition number > 1 (got dim={dim})")
        if not scale > 0:
            raise ValueError(f"Quadratic: scale (the smallest eigenvalue) must be > 0, got {scale}")
        self.dim = dim
        self.eigenvalues = scale * np.geomspace(1.0, kappa, dim)
        self.eigenvalues[-1] = scale * kappa
        self.eigenvectors = _rotation_matrix(rotation, dim)
        A = (self.eigenvectors * self.eigenvalues) @ self.eigenvectors.T
        self.A = 0.5 * (A + A.T)
        self.center = np.zeros(dim) if center is None else np.array(center, dtype=np.float64).reshape(dim)
        self.minimum = self.center.copy()
        self.minimum_value = 0.0
        self._args = (kappa, dim, rotation, scale)
        self.name = f"quadratic (kappa={kappa:g})"

    condition_number = property(lambda self: float(self.eigenvalues[-1] / self.eigenvalues[0]),
                                doc="kappa = lambda_max / lambda_min")
    lambda_min = property(lambda self: float(self.eigenvalues[0]), doc="smallest eigenvalue of A")
    lambda_max = property(lambda self: float(self.eigenvalues[-1]), doc="largest eigenvalue of A")
    max_stable_lr = property(lambda self: 2.0 / self.lambda_max,
                             doc="2 / lambda_max: gradient descent diverges for any larger learning rate")
    optimal_lr = property(lambda self: 2.0 / (self.lambda_min + self.lambda_max),
                          doc="2 / (lambda_min + lambda_max): the fastest constant step for gradient descent")

    def _value(self, P):
        D = P - self.center
        return 0.5 * np.einsum("ni,ij,nj->n", D, self.A, D)

    def _grad(self, P):
        return (P - self.center) @ self.A

    def _hessian(self, x):
        return self.A.copy()

    def __repr__(self):
        kappa, dim, rotation, scale = self._args
        return f"Quadratic(condition_number={kappa:g}, dim={dim}, rotation={rotation!r}, scale={scale:g})"


class Rosenbrock(Landscape):
    """Rosenbrock's banana valley, in 2-D or its n-D chain generalisation.

        f(x) = sum_{i=0}^{dim-2} [ b (x_{i+1} - x_i^2)^2 + (a - x_i)^2 ]

    In 2-D: f(x, y) = (a - x)^2 + b (y - x^2)^2, global minimum (a, a^2) with
    f = 0. For dim > 2 the global minimum is (1, ..., 1) when a = 1 (and the
    origin when a = 0); for other a it is not known in closed form (minimum is
    None). With a = 1, b = 100 this equals ``scipy.optimize.rosen``.

    Inputs:
    - a: Default 1.0.  - b: Default 100.0 (the valley's steepness).  - dim: Default 2.
    """

    def __init__(self, a=1.0, b=100.0, dim=2):
        self.a, self.b, self.dim = float(a), float(b), int(dim)
        if self.dim < 2:
            raise ValueError(f"Rosenbrock: dim must be >= 2, got {dim}")
        if self.dim == 2:
            self.minimum = np.array([self.a, self.a ** 2])
        elif self.a in (0.0, 1.0):
            self.minimum = np.full(self.dim, self.a)
        self.minimum_value = 0.0 if self.minimum is not None else None
        self.name = "Rosenbrock" if self.dim == 2 else f"Rosenbrock ({self.dim}-D)"

    def _value(self, P):
        x, x_next = P[:, :-1], P[:, 1:]
        return np.sum(self.b * (x_next - x ** 2) ** 2 + (self.a - x) ** 2, axis=1)

    def _grad(self, P):
        x, x_next = P[:, :-1], P[:, 1:]
        inner = x_next - x ** 2
        G = np.zeros_like(P)
        G[:, :-1] += -4.0 * self.b * x * inner - 2.0 * (self.a - x)
        G[:, 1:] += 2.0 * self.b * inner
        return G

    def _hessian(self, x):
        H = np.zeros((self.dim, self.dim))
        i = np.arange(self.dim - 1)
        H[i, i] += 12.0 * self.b * x[:-1] ** 2 - 4.0 * self.b * x[1:] + 2.0
        H[i + 1, i + 1] += 2.0 * self.b
        H[i, i + 1] = H[i + 1, i] = -4.0 * self.b * x[:-1]
        return H

    def __repr__(self):
        return f"Rosenbrock(a={self.a:g}, b={self.b:g}, dim={self.dim})"


class Saddle(Landscape):
    """A saddle point at the origin, made bounded below by a small quartic.

    The first ``dim - num_descent`` coordinates (u) curve up, the last
    ``num_descent`` coordinates (v) curve down near the origin:

        f(x) = sum_u u^2 + sum_v ( -v^2 + quartic * v^4 )

    In 2-D with the defaults: f(x, y) = x^2 - y^2 + y^4 / 4. The origin is a
    saddle point (gradient 0, Hessian diag(2, -2)); the two global minima are
    (0, +sqrt(2)) and (0, -sqrt(2)) with f = -1. In general, each v_i has minima
    at +-1/sqrt(2 * quartic), giving 2^num_descent global minima with
    f = -num_descent / (4 * quartic). ``quartic=0`` gives the unbounded pure
    saddle x^2 - y^2 (then ``minimum`` is None).

    Gradient descent started on the ridge (v = 0) never leaves it: the v-part of
    the gradient is exactly 0 there, so it converges to the saddle. Any noise
    (or a start slightly off the ridge) lets it escape to a minimum.

    Inputs:
    - dim: Default 2.  - num_descent: How many directions curve down (default 1).
    - quartic: q >= 0 (default 0.25).

    Attributes: saddle_point (the origin), minimum (the minimum with every v_i
    > 0), minimum_value, num_descent, quartic.
    """

    def __init__(self, dim=2, num_descent=1, quartic=0.25):
        self.dim, self.num_descent, self.quartic = int(dim), int(num_descent), float(quartic)
        if not 1 <= self.num_descent <= self.dim:
            raise ValueError(f"Saddle: num_descent must be between 1 and dim={dim}, got {num_descent}")
        if self.quartic < 0:
            raise ValueError(f"Saddle: quartic must be >= 0 (0 = unbounded saddle), got {quartic}")
        self._up = self.dim - self.num_descent
        self.saddle_point = np.zeros(self.dim)
        if self.quartic > 0:
            self.minimum = np.zeros(self.dim)
            self.minimum[self._up:] = 1.0 / np.sqrt(2.0 * self.quartic)
            self.minimum_value = -self.num_descent / (4.0 * self.quartic)
        self.name = "saddle" if self.dim == 2 else f"saddle ({self.dim}-D, {self.num_descent} down)"

    def _value(self, P):
        U, V = P[:, :self._up], P[:, self._up:]
        return np.sum(U ** 2, axis=1) + np.sum(-V ** 2 + self.quartic * V ** 4, axis=1)

    def _grad(self, P):
        U, V = P[:, :self._up], P[:, self._up:]
        return np.concatenate([2.0 * U, -2.0 * V + 4.0 * self.quartic * V ** 3], axis=1)

    def _hessian(self, x):
        curvature = np.full(self.dim, 2.0)
        curvature[self._up:] = -2.0 + 12.0 * self.quartic * x[self._up:] ** 2
        return np.diag(curvature)

    def __repr__(self):
        return f"Saddle(dim={self.dim}, num_descent={self.num_descent}, quartic={self.quartic:g})"


def random_critical_point_hessian(dim, seed=0, size=None):
    """Random symmetric "Hessians at a critical point" from the Gaussian Orthogonal Ensemble.

        H = (G + G^T) / 2,  G with i.i.d. standard normal entries

    A critical point is a minimum only if all dim eigenvalues of H are
    positive; a maximum if all are negative; a saddle otherwise.

    Inputs:
    - dim: Size of the matrices.
    - seed: int or np.random.Generator.
    - size: None for one matrix, or an int n for a stack of n.

    Returns an array of shape (dim, dim), or (size, dim, dim).
    """
    rng = _generator(seed)
    G = rng.standard_normal((1 if size is None else int(size), int(dim), int(dim)))
    H = 0.5 * (G + np.swapaxes(G, 1, 2))
    return H[0] if size is None else H


def fraction_of_minima(dim, n_samples=10000, seed=0, chunk_size=4096):
    """Fraction of random critical points (GOE Hessians) that are local minima.

    If each eigenvalue's sign were an independent coin flip the fraction would
    be 2^-dim; eigenvalues of random matrices repel each other, so it falls even
    faster (roughly like exp(-c * dim^2)): in high dimension almost every
    critical point is a saddle. (dim=1: 1/2; dim=2: (2 - sqrt(2))/4 ~ 0.146.)

    Inputs:
    - dim: Dimension of the Hessians.
    - n_samples: Number of random Hessians (default 10000).
    - seed: int or np.random.Generator.
    - chunk_size: Hessians drawn per batch (bounds memory).

    Returns a float: the fraction of samples whose eigenvalues are all > 0.
    """
    rng = _generator(seed)
    n_samples = int(n_samples)
    if n_samples < 1 or int(dim) < 1:
        raise ValueError(f"fraction_of_minima: need dim >= 1 and n_samples >= 1, got {dim}, {n_samples}")
    count, done = 0, 0
    while done < n_samples:
        n = min(chunk_size, n_samples - done)
        eig = np.linalg.eigvalsh(random_critical_point_hessian(dim, rng, size=n))
        count += int(np.sum(eig[:, 0] > 0))  # eigvalsh sorts ascending: the smallest is first
        done += n
    return count / n_samples


class NoisyGradient(Landscape):
    """A landscape whose gradient carries Gaussian noise, like a minibatch gradient.

        grad(x, batch_size=B) = true_grad(x) + (noise_std / sqrt(B)) * z,  z ~ N(0, I)

    ``noise_std`` is the noise of a one-example gradient (B = 1, the default);
    averaging B independent examples divides it by sqrt(B). ``value`` and
    ``hessian`` are the wrapped landscape's, noise-free.

    Inputs:
    - landscape: Any landscape.
    - noise_std: Standard deviation of the noise in each coordinate (default 1.0).
    - seed: int or np.random.Generator for the noise (default 0).

    Attributes: landscape, noise_std, dim, minimum, minimum_value, name.
    """

    def __init__(self, landscape, noise_std=1.0, seed=0):
        if noise_std < 0:
            raise ValueError(f"NoisyGradient: noise_std must be >= 0, got {noise_std}")
        self.landscape, self.noise_std = landscape, float(noise_std)
        self.rng = _generator(seed)
        self.dim = landscape.dim
        self.minimum, self.minimum_value = landscape.minimum, landscape.minimum_value
        self.name = f"{landscape.name} + noise {self.noise_std:g}"

    def value(self, x):
        """The wrapped landscape's value (no noise). x: (dim,) or (n, dim)."""
        return self.landscape.value(x)

    def value_grid(self, X, Y):
        """The wrapped landscape's values on a grid (no noise)."""
        return self.landscape.value_grid(X, Y)

    def hessian(self, x):
        """The wrapped landscape's Hessian (no noise). x: (dim,)."""
        return self.landscape.hessian(x)

    def true_grad(self, x):
        """The noise-free gradient. x: (dim,) or (n, dim); returns x's shape."""
        return self.landscape.grad(x)

    def grad(self, x, batch_size=None, rng=None):
        """Noisy gradient (each call draws fresh noise).

        Inputs:
        - x: (dim,) or (n, dim).
        - batch_size: None or 1 for the one-example noise level; B for noise_std / sqrt(B).
        - rng: Optional np.random.Generator to use instead of the wrapper's own.

        Returns an array of x's shape.
        """
        g = np.asarray(self.landscape.grad(x), dtype=np.float64)
        std = self.noise_std / np.sqrt(1.0 if batch_size is None else float(batch_size))
        return g + std * (self.rng if rng is None else rng).standard_normal(g.shape)

    def value_and_grad(self, x):
        """(value(x), noisy grad(x)) for one point x of shape (dim,)."""
        return self.value(x), self.grad(x)

    def __repr__(self):
        return f"NoisyGradient({self.landscape!r}, noise_std={self.noise_std:g})"


class _LinearModel(Landscape):
    """Average loss of a linear model on data, plus L2: f(w) = mean_i l(x_i^T w, y_i) + reg/2 ||w||^2.

    Subclasses give the per-example loss l(z, y) and its first two derivatives in z.
    """

    def __init__(self, X, y, reg=0.0, seed=0):
        self.X = np.array(X, dtype=np.float64)
        self.y = np.array(y, dtype=np.float64).reshape(-1)
        if self.X.ndim != 2 or len(self.X) != len(self.y) or len(self.y) == 0:
            raise ValueError(f"{type(self).__name__}: X must be (N, D) and y (N,), got {np.shape(X)} "
                             f"and {np.shape(y)}")
        self.reg = float(reg)
        self.num_examples, self.dim = self.X.shape
        self.rng = _generator(seed)

    def _indices(self, batch_size, rng):
        if batch_size is None:
            return slice(None)
        batch_size = int(batch_size)
        if not 1 <= batch_size <= self.num_examples:
            raise ValueError(f"{type(self).__name__}.grad: batch_size must be between 1 and "
                             f"{self.num_examples}, got {batch_size}")
        return (self.rng if rng is None else rng).choice(self.num_examples, size=batch_size, replace=False)

    def _value(self, P):
        Z = self.X @ P.T  # (N, n)
        return np.mean(self._loss(Z, self.y[:, None]), axis=0) + 0.5 * self.reg * np.sum(P * P, axis=1)

    def grad(self, x, batch_size=None, rng=None):
        """Full-batch or minibatch gradient.

        Inputs:
        - x: Weights, (dim,) or (n, dim) (all n points use the same minibatch).
        - batch_size: None (default) for the exact full-batch gradient; B for
          the gradient on B examples drawn without replacement.
        - rng: Optional np.random.Generator for the draw (default: the landscape's own).

        Returns an array of x's shape.
        """
        P, single = self._points(x, "grad")
        idx = self._indices(batch_size, rng)
        Xb, yb = self.X[idx], self.y[idx]
        R = self._dloss(Xb @ P.T, yb[:, None])  # (B, n)
        G = (Xb.T @ R).T / len(yb) + self.reg * P
        return G[0] if single else G

    def _grad(self, P):
        return self.grad(P)

    def _hessian(self, w):
        h = self._d2loss(self.X @ w, self.y)
        return (self.X.T * h) @ self.X / self.num_examples + self.reg * np.eye(self.dim)

    def per_example_grads(self, w):
        """Gradients of the individual terms l(x_i^T w, y_i) + reg/2 ||w||^2.

        Inputs: w of shape (dim,). Returns an (N, dim) array whose mean is grad(w).
        """
        w = np.asarray(w, dtype=np.float64)
        return self.X * self._dloss(self.X @ w, self.y)[:, None] + self.reg * w

    def expected_minibatch_noise(self, w, batch_size):
        """Exact RMS size of the minibatch noise, sqrt(E ||g_B - g||^2), at w.

        For B examples drawn without replacement from N, with per-example
        gradient spread s^2 = mean_i ||g_i - g||^2:

            E ||g_B - g||^2 = (s^2 / B) * (N - B) / (N - 1)

        i.e. the noise falls like 1/sqrt(B) while B << N, and is 0 at B = N.

        Inputs: w (dim,); batch_size B (int, or an array of ints).
        Returns a float (or an array of the shape of batch_size).
        """
        G = self.per_example_grads(w)
        spread = np.mean(np.sum((G - G.mean(axis=0)) ** 2, axis=1))
        B, N = np.asarray(batch_size, dtype=np.float64), self.num_examples
        out = np.sqrt(spread / B * (N - B) / max(N - 1, 1))
        return float(out) if out.ndim == 0 else out

    def __repr__(self):
        return f"{type(self).__name__}(N={self.num_examples}, dim={self.dim}, reg={self.reg:g})"


class LeastSquares(_LinearModel):
    """Linear regression on data: f(w) = 1/(2N) ||X w - y||^2 + reg/2 ||w||^2.

    grad f = X^T (X w - y) / N + reg w;  Hessian = X^T X / N + reg I (constant).
    ``grad(w, batch_size=B)`` gives true minibatch gradients.

    Inputs:
    - X: (N, D) data; append a column of ones yourself if you want a bias.
    - y: (N,) targets.
    - reg: L2 strength (default 0).
    - seed: int or np.random.Generator for the minibatch draws (default 0).

    Attributes: X, y, reg, num_examples, dim, minimum (the least-squares
    solution; the minimum-norm one if several), minimum_value.
    """

    name = "least squares"

    def __init__(self, X, y, reg=0.0, seed=0):
        super().__init__(X, y, reg, seed)
        H = self.X.T @ self.X / self.num_examples + self.reg * np.eye(self.dim)
        self.minimum = np.linalg.lstsq(H, self.X.T @ self.y / self.num_examples, rcond=None)[0]
        self.minimum_value = self.value(self.minimum)

    @staticmethod
    def _loss(z, y):
        return 0.5 * (z - y) ** 2

    @staticmethod
    def _dloss(z, y):
        return z - y

    @staticmethod
    def _d2loss(z, y):
        return np.ones_like(z)


class LogisticRegression(_LinearModel):
    """Binary logistic regression on data, labels y in {0, 1}:

        f(w) = mean_i [ log(1 + exp(z_i)) - y_i z_i ] + reg/2 ||w||^2,   z_i = x_i^T w

    grad f = X^T (sigmoid(z) - y) / N + reg w;
    Hessian = X^T diag(sigmoid(z) (1 - sigmoid(z))) X / N + reg I.
    ``grad(w, batch_size=B)`` gives true minibatch gradients. The minimum has
    no closed form (``minimum`` is None); ``second_order.newton`` finds it.

    Inputs: X (N, D), y (N,) in {0, 1}, reg (default 0), seed (int or Generator).
    """

    name = "logistic regression"

    def __init__(self, X, y, reg=0.0, seed=0):
        super().__init__(X, y, reg, seed)
        if not np.all((self.y == 0) | (self.y == 1)):
            raise ValueError("LogisticRegression: labels y must be 0 or 1")

    @staticmethod
    def _loss(z, y):
        return np.logaddexp(0.0, z) - y * z

    @staticmethod
    def _dloss(z, y):
        return 0.5 * (1.0 + np.tanh(0.5 * z)) - y  # sigmoid(z) - y, overflow-free

    @staticmethod
    def _d2loss(z, y):
        s = 0.5 * (1.0 + np.tanh(0.5 * z))
        return s * (1.0 - s)


def digits_regression(loss="least_squares", reg=1e-3, seed=0):
    """A real-data landscape: a linear model on the digits training split (1197 x 64, plus a bias).

    Features are ``data.get_digits_data(seed=seed)['X_train']`` (pixels in
    [0, 1], train mean subtracted) with a column of ones appended, so dim = 65.
    - loss='least_squares': predict the digit's value 0..9 (LeastSquares).
    - loss='logistic': classify odd (1) vs even (0) digits (LogisticRegression).

    Inputs: loss, reg (L2 strength, default 1e-3), seed (split and minibatches).
    Returns a LeastSquares or LogisticRegression landscape.
    """
    from cs231n_lec7.data import get_digits_data

    digits = get_digits_data(seed=seed, dtype=np.float64)
    X = np.hstack([digits["X_train"], np.ones((len(digits["X_train"]), 1))])
    labels = digits["y_train"]
    if loss == "least_squares":
        return LeastSquares(X, labels.astype(np.float64), reg=reg, seed=seed)
    if loss == "logistic":
        return LogisticRegression(X, (labels % 2).astype(np.float64), reg=reg, seed=seed)
    raise ValueError(f"digits_regression: loss must be 'least_squares' or 'logistic', got {loss!r}")


def minibatch_gradient_noise(landscape, x, batch_sizes, num_draws=200, seed=0):
    """Measure how noisy minibatch gradients are, for each batch size.

    For each B, draws ``num_draws`` gradients ``landscape.grad(x, batch_size=B,
    rng=rng)`` and returns the root-mean-square distance to the full gradient
    ``landscape.grad(x)`` (``true_grad`` for a NoisyGradient).

    Inputs:
    - landscape: A LeastSquares, LogisticRegression or NoisyGradient (anything
      whose grad takes ``batch_size`` and ``rng``).
    - x: (dim,) point.
    - batch_sizes: Sequence of ints.
    - num_draws: Minibatches per batch size (default 200).
    - seed: int or np.random.Generator.

    Returns a float64 array of shape (len(batch_sizes),): sqrt(mean ||g_B - g||^2).
    """
    rng = _generator(seed)
    x = np.asarray(x, dtype=np.float64)
    full = landscape.true_grad(x) if hasattr(landscape, "true_grad") else landscape.grad(x)
    out = []
    for B in batch_sizes:
        sq = [np.sum((landscape.grad(x, batch_size=int(B), rng=rng) - full) ** 2) for _ in range(num_draws)]
        out.append(np.sqrt(np.mean(sq)))
    return np.array(out)


def run_optimizer(rule, landscape, x0, num_steps, config=None, grad_kwargs=None, track=None):
    """Run an update rule on a landscape and return the path.

    Each step computes ``dw = landscape.grad(w, **grad_kwargs)`` and calls
    ``w, config = rule(w, dw, config)`` (the contract of cs231n_lec7.optim).

    If an iterate (or a gradient) stops being finite -- the optimizer diverged
    -- the run stops there: the remaining rows are NaN, so the path always has
    num_steps + 1 rows (plotting skips NaN rows). ``np.isfinite(path).all(1)``
    tells which steps are real.

    Inputs:
    - rule: A function of cs231n_lec7.optim (e.g. optim.adam) or its name ('adam').
    - landscape: Any landscape (anything with ``grad(x)`` and ``dim``).
    - x0: Start, shape (dim,).
    - num_steps: Number of updates T.
    - config: Hyper-parameters (e.g. {'learning_rate': 1e-2}). The dict is
      copied, so the caller's dict never receives the rule's state and can be
      reused for another run.
    - grad_kwargs: Extra keyword arguments for ``landscape.grad`` (e.g.
      {'batch_size': 32} on a LeastSquares).
    - track: Optional name of a state array in ``config`` (e.g. 'velocity') to
      record after every step. Nesterov's rule stores x~ = x + rho v, so its
      iterate x is ``path - rho * states`` (row 0 of ``states`` is zeros).

    Returns a float64 array of shape (num_steps + 1, dim): row t is the point
    after t updates (row 0 = x0). With ``track``: (path, states), both of that shape.
    """
    if isinstance(rule, str):
        from cs231n_lec7 import optim

        if not callable(getattr(optim, rule, None)):
            raise ValueError(f"run_optimizer: cs231n_lec7.optim has no update rule named {rule!r}")
        rule = getattr(optim, rule)
    num_steps = int(num_steps)
    w = np.array(x0, dtype=np.float64).reshape(-1)
    if w.shape != (landscape.dim,):
        raise ValueError(f"run_optimizer: x0 should have shape ({landscape.dim},), got {np.shape(x0)}")
    config = dict(config or {})
    grad_kwargs = dict(grad_kwargs or {})
    path = np.full((num_steps + 1, w.size), np.nan)
    path[0] = w
    states = np.full_like(path, np.nan) if track is not None else None
    if states is not None:
        states[0] = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, num_steps + 1):
            dw = np.asarray(landscape.grad(w, **grad_kwargs), dtype=np.float64)
            if not np.all(np.isfinite(dw)):
                break
            w, config = rule(w, dw, config)
            w = np.array(w, dtype=np.float64).reshape(-1)
            if not np.all(np.isfinite(w)):
                break
            path[t] = w
            if states is not None:
                if track not in config:
                    raise KeyError(f"run_optimizer: the rule keeps no {track!r} in its config "
                                   f"(it keeps {sorted(config)})")
                states[t] = np.asarray(config[track], dtype=np.float64).reshape(-1)
    return path if states is None else (path, states)
