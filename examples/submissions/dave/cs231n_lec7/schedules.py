"""Learning-rate schedules (lecture 7: "learning-rate decay").

Every schedule here is a pure function of the step, in the spirit of nanoGPT's
``get_lr(it)``::

    lr = schedule(step, initial_lr, ...hyper-parameters)

Inputs:
- step: The iteration (or epoch) counter t >= 0. Either a Python/numpy scalar
  (int or float; fractional epochs are fine) or a numpy array (or list) of
  such steps of any shape: the schedules are vectorized, so
  ``schedule(np.arange(1000), ...)`` gives the whole curve at once.
- initial_lr: alpha_0, the learning rate at t = 0.
- The schedule's own hyper-parameters (decay rate, k, ...).

Returns:
- lr: A Python ``float`` when ``step`` is a scalar; a float64 numpy array of the
  same shape as ``step`` when it is an array or a list.

Conventions the grader relies on:
- A negative (or non-finite) step raises ``ValueError`` (checked for you by
  ``_check_step``; your code receives ``t`` as a float64 array).
- Steps count from 0, and the learning rate at t = 0 is alpha_0 (after any
  warmup).
- Step decay is applied *at* multiples of ``decay_every``: steps
  0 .. decay_every-1 use alpha_0, steps decay_every .. 2*decay_every-1 use
  alpha_0 * decay_rate, and so on.

Notation follows the lecture: alpha_0 = initial learning rate, t = step,
k = decay constant.

``as_lr_schedule`` turns any schedule into the ``lr_schedule(it) -> lr``
callable that ``Solver`` accepts.
"""
import numpy as np


def _check_step(step, name="step"):
    """Validate ``step`` (scalar or array of steps >= 0); return it as a float64 array."""
    if type(step) is int and step >= 0:  # the common case (Solver's iteration counter), without NumPy's checks
        return np.array(float(step))
    try:
        t = np.asarray(step, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number or an array of numbers, got {type(step).__name__}") from None
    if not np.all(np.isfinite(t)):
        raise ValueError(f"{name} must be finite, got {step!r}")
    if np.any(t < 0):
        bad = t[t < 0].ravel()[0] if t.ndim else float(t)
        raise ValueError(f"{name} must be >= 0 (steps count from 0), got {bad:g}")
    return t


def _as_output(lr, step):
    """A float for a scalar ``step``; a float64 array of ``step``'s shape otherwise."""
    lr = np.asarray(lr, dtype=np.float64)
    if np.ndim(step) == 0:
        return float(lr)
    return np.broadcast_to(lr, np.shape(step)).copy()


def step_decay(step, initial_lr, decay_rate=0.1, decay_every=30):
    """Step decay: multiply the learning rate by ``decay_rate`` every ``decay_every`` steps.

    (The equations are yours to write: notebook 04_schedules, section "Step decay".)

    The lecture's ResNet recipe: lr 0.1, times 0.1 at epochs 30, 60 and 90.

    Inputs:
    - step: Scalar or array of steps t >= 0 (see the module docstring).
    - initial_lr: alpha_0, the learning rate for steps 0 .. decay_every-1.
    - decay_rate: Factor applied at every decay point (default 0.1).
    - decay_every: Positive number of steps between decays (default 30).

    Returns:
    - lr: float for a scalar step, else a float64 array of step's shape.
    """
    t = _check_step(step)
    if decay_every <= 0:
        raise ValueError(f"decay_every must be positive, got {decay_every}")
    # TODO: your code here (schedules.step_decay)
    raise NotImplementedError("schedules.step_decay: not implemented yet — write it here, see notebook 04_schedules, section \"Step decay\"")
    return _as_output(lr, step)


def exponential_decay(step, initial_lr, k):
    """Exponential decay: a constant factor exp(-k) per step.

    (The equations are yours to write: notebook 04_schedules, section "Exponential decay".)

    Inputs:
    - step: Scalar or array of steps t >= 0 (see the module docstring).
    - initial_lr: alpha_0.
    - k: Decay constant k >= 0; the learning rate halves every ln(2)/k steps.

    Returns:
    - lr: float for a scalar step, else a float64 array of step's shape.
    """
    t = _check_step(step)
    # TODO: your code here (schedules.exponential_decay)
    raise NotImplementedError("schedules.exponential_decay: not implemented yet — write it here, see notebook 04_schedules, section \"Exponential decay\"")
    return _as_output(lr, step)


def inverse_time_decay(step, initial_lr, k):
    """1/t decay: the learning rate falls like 1/t for large t.

    (The equations are yours to write: notebook 04_schedules, section "1/t decay".)

    Inputs:
    - step: Scalar or array of steps t >= 0 (see the module docstring).
    - initial_lr: alpha_0.
    - k: Decay constant k >= 0; the learning rate halves at t = 1/k.

    Returns:
    - lr: float for a scalar step, else a float64 array of step's shape.
    """
    t = _check_step(step)
    # TODO: your code here (schedules.inverse_time_decay)
    raise NotImplementedError("schedules.inverse_time_decay: not implemented yet — write it here, see notebook 04_schedules, section \"1/t decay\"")
    return _as_output(lr, step)


# ----------------------------------------------------------------------------
# Given (not exercises): cosine, warmup, and warmup + cosine as in nanoGPT.
# ----------------------------------------------------------------------------
def cosine_decay(step, initial_lr, total_steps, final_lr=0.0):
    """Cosine decay from alpha_0 to final_lr over ``total_steps``, then flat.

        alpha_t = final_lr + 0.5 (alpha_0 - final_lr) (1 + cos(pi t / T))   for t <= T
        alpha_t = final_lr                                                 for t > T

    Same curve as ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=T, eta_min=final_lr)``
    for t <= T.
    """
    t = _check_step(step)
    progress = np.minimum(t / total_steps, 1.0)
    lr = final_lr + 0.5 * (initial_lr - final_lr) * (1.0 + np.cos(np.pi * progress))
    return _as_output(lr, step)


def linear_warmup(step, warmup_steps, initial_lr):
    """Linear warmup: ramp from alpha_0 / (W + 1) up to alpha_0 over W = ``warmup_steps``.

        alpha_t = alpha_0 (t + 1) / (W + 1)   for t < W
        alpha_t = alpha_0                     for t >= W

    (nanoGPT's ramp: the first step already has a small non-zero rate.)
    """
    t = _check_step(step)
    lr = np.where(t < warmup_steps, initial_lr * (t + 1.0) / (warmup_steps + 1.0), initial_lr)
    return _as_output(lr, step)


def warmup_cosine(step, initial_lr, warmup_steps, total_steps, final_lr=0.0):
    """nanoGPT's ``get_lr``: 1) linear warmup, 2) cosine decay, 3) a floor.

    1) t < W:            linear_warmup(t, W, alpha_0)
    2) W <= t <= T:      cosine_decay(t - W, alpha_0, T - W, final_lr)
    3) t > T:            final_lr
    """
    t = _check_step(step)
    if not 0 <= warmup_steps < total_steps:
        raise ValueError(f"need 0 <= warmup_steps < total_steps, got {warmup_steps} and {total_steps}")
    warm = linear_warmup(t, warmup_steps, initial_lr)
    decay = cosine_decay(np.maximum(t - warmup_steps, 0.0), initial_lr, total_steps - warmup_steps, final_lr)
    return _as_output(np.where(t < warmup_steps, warm, decay), step)


def as_lr_schedule(schedule, **hyper):
    """Turn ``schedule(step, **hyper)`` into the ``lr_schedule(it) -> float`` that Solver takes.

    Example::

        lr_schedule = as_lr_schedule(step_decay, initial_lr=0.1, decay_rate=0.1, decay_every=300)
        solver = Solver(model, data, ..., lr_schedule=lr_schedule)
    """
    def lr_schedule(it):
        return float(schedule(it, **hyper))

    lr_schedule.__name__ = f"lr_schedule_{getattr(schedule, '__name__', 'schedule')}"
    lr_schedule.hyper = dict(hyper)
    return lr_schedule


def decay_points(lr_values, rtol=1e-12):
    """Indices t where the learning rate drops from one step to the next by more than rtol.

    Useful to mark "a decay happened here" on a loss curve: for step decay the
    points are the multiples of decay_every.
    """
    lr_values = np.asarray(lr_values, dtype=np.float64)
    drops = lr_values[1:] < lr_values[:-1] * (1.0 - rtol)
    return np.flatnonzero(drops) + 1
