"""Known mistakes in AdaGrad, RMSProp and Adam (``cs231n_lec7/optim.py``), and right rules written differently.

Every function is a whole rule as a student might write it (its own defaults,
its own state handling): the lecture's formulas read the wrong way, the 2017
assignment's conventions (``t`` starting at 1, old state keys, ``eps`` for
``epsilon``) and what real submissions do. They are named by the properties in
``cs231n_lec7/checks/diagnose/optim*.py`` (``detect="property"``).
"""
from __future__ import annotations

import numpy as np

from autograder.mistakes import Mistake, Variant


def adagrad_no_accumulation(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    cache = dw * dw
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config


def adagrad_eps_inside_sqrt(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w)) + dw * dw
    config["cache"] = cache
    return w - config["learning_rate"] * dw / np.sqrt(cache + config["epsilon"]), config


def adagrad_no_sqrt(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w)) + dw * dw
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (cache + config["epsilon"]), config


def adagrad_eps_hard_coded(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    cache = config.get("cache", np.zeros_like(w)) + dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + 1e-7), config


def adagrad_eps_key(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("eps", 1e-8)
    cache = config.get("cache", np.zeros_like(w)) + dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["eps"]), config


def adagrad_no_defaults(w, dw, config=None):
    cache = config.get("cache", np.zeros_like(w)) + dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config.get("epsilon", 1e-8)), config


def rmsprop_decay_swapped(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    d = config["decay_rate"]
    cache = (1 - d) * config.get("cache", np.zeros_like(w)) + d * dw * dw
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config


def rmsprop_eps_inside_sqrt(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    d = config["decay_rate"]
    cache = d * config.get("cache", np.zeros_like(w)) + (1 - d) * dw * dw
    config["cache"] = cache
    return w - config["learning_rate"] * dw / np.sqrt(cache + config["epsilon"]), config


def rmsprop_missing_one_minus_decay(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    d = config["decay_rate"]
    cache = d * config.get("cache", np.zeros_like(w)) + dw * dw
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config


def rmsprop_no_sqrt(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    d = config["decay_rate"]
    cache = d * config.get("cache", np.zeros_like(w)) + (1 - d) * dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (cache + config["epsilon"]), config


def rmsprop_is_adagrad(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w))
    cache += dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config


def rmsprop_lr_hard_coded(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    d = config["decay_rate"]
    cache = d * config.get("cache", np.zeros_like(w)) + (1 - d) * dw**2
    config["cache"] = cache
    return w - 1e-2 * dw / (np.sqrt(cache) + config["epsilon"]), config


def rmsprop_old_state_key(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    d = config["decay_rate"]
    grad_squared = d * config.get("grad_squared", np.zeros_like(w)) + (1 - d) * dw * dw
    config["grad_squared"] = grad_squared
    return w - config["learning_rate"] * dw / (np.sqrt(grad_squared) + config["epsilon"]), config


def rmsprop_eps_get_key(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    d = config["decay_rate"]
    cache = d * config.get("cache", np.zeros_like(w)) + (1 - d) * dw * dw
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config.get("eps", 1e-8)), config


def _adam(w, dw, config, bias=True, t_after=False, eps_inside=False, swap=False, store_t=True,
          correct_v=True, t0=0, increment=True, v_beta1=False, raw_numerator=False, eps=None, lr_default=1e-3):
    if config is None:
        config = {}
    config.setdefault("learning_rate", lr_default)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    b1, b2 = config["beta1"], config["beta2"]
    if swap:
        b1, b2 = b2, b1
    m = config.get("m", np.zeros_like(w))
    v = config.get("v", np.zeros_like(w))
    t = config.get("t", t0)
    t_used = t if t_after else t + 1
    m = b1 * m + (1 - b1) * dw
    v = (b1 if v_beta1 else b2) * v + (1 - (b1 if v_beta1 else b2)) * dw * dw
    m_hat = m / (1 - b1**t_used) if bias else m
    v_hat = v / (1 - b2**t_used) if (bias and correct_v) else v
    e = config["epsilon"] if eps is None else eps
    denom = np.sqrt(v_hat + e) if eps_inside else np.sqrt(v_hat) + e
    next_w = w - config["learning_rate"] * (dw if raw_numerator else m_hat) / denom
    config["m"], config["v"] = m, v
    if store_t:
        config["t"] = t + 1 if increment else t
    return next_w, config


def adam_no_bias_correction(w, dw, config=None):
    return _adam(w, dw, config, bias=False)


def adam_no_bias_correction_t_untouched(w, dw, config=None):
    if config is None:
        config = {}
    lr = config.get("learning_rate", 1e-3)
    beta1, beta2 = config.get("beta1", 0.9), config.get("beta2", 0.999)
    eps = config.get("epsilon", 1e-8)
    config["m"] = beta1 * config.get("m", np.zeros_like(w)) + (1 - beta1) * dw
    config["v"] = beta2 * config.get("v", np.zeros_like(w)) + (1 - beta2) * (dw**2)
    next_w = w - lr * config["m"] / (np.sqrt(config["v"]) + eps)
    return next_w, config


def adam_t_after_use(w, dw, config=None):
    return _adam(w, dw, config, t_after=True)


def adam_eps_inside_sqrt(w, dw, config=None):
    return _adam(w, dw, config, eps_inside=True)


def adam_betas_swapped(w, dw, config=None):
    return _adam(w, dw, config, swap=True)


def adam_t_not_stored(w, dw, config=None):
    return _adam(w, dw, config, store_t=False)


def adam_only_m_corrected(w, dw, config=None):
    return _adam(w, dw, config, correct_v=False)


def adam_t_starts_at_one(w, dw, config=None):
    return _adam(w, dw, config, t0=1)


def adam_t_never_incremented(w, dw, config=None):
    return _adam(w, dw, config, increment=False)


def adam_beta1_for_v(w, dw, config=None):
    return _adam(w, dw, config, v_beta1=True)


def adam_raw_gradient_numerator(w, dw, config=None):
    return _adam(w, dw, config, raw_numerator=True)


def adam_eps_hard_coded(w, dw, config=None):
    return _adam(w, dw, config, eps=1e-7)


def adam_wrong_default_lr(w, dw, config=None):
    return _adam(w, dw, config, lr_default=1e-2)


def adam_no_correction_and_eps_inside(w, dw, config=None):
    return _adam(w, dw, config, bias=False, eps_inside=True)


def adam_old_state_keys(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    b1, b2 = config["beta1"], config["beta2"]
    t = config.get("t", 0) + 1
    mt = b1 * config.get("mt", np.zeros_like(w)) + (1 - b1) * dw
    vt = b2 * config.get("vt", np.zeros_like(w)) + (1 - b2) * dw**2
    next_w = w - config["learning_rate"] * (mt / (1 - b1**t)) / (np.sqrt(vt / (1 - b2**t)) + config["epsilon"])
    config["mt"], config["vt"], config["t"] = mt, vt, t
    return next_w, config


def adagrad_uphill(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w)) + dw**2
    config["cache"] = cache
    return w + config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config


def adagrad_old_state_key(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    grad_squared = config.get("grad_squared", np.zeros_like(w)) + dw * dw
    config["grad_squared"] = grad_squared
    return w - config["learning_rate"] * dw / (np.sqrt(grad_squared) + config["epsilon"]), config


def adagrad_lr_hard_coded(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w)) + dw**2
    config["cache"] = cache
    return w - 0.01 * dw / (np.sqrt(cache) + config["epsilon"]), config


def rmsprop_uphill(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    d = config["decay_rate"]
    cache = d * config.get("cache", np.zeros_like(w)) + (1 - d) * dw**2
    config["cache"] = cache
    return w + config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config


def rmsprop_wrong_default_decay(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.9)
    config.setdefault("epsilon", 1e-8)
    d = config["decay_rate"]
    cache = d * config.get("cache", np.zeros_like(w)) + (1 - d) * dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config


def adam_uphill(w, dw, config=None):
    next_w, config = _adam(w, dw, config)
    return 2 * w - next_w, config


def adam_lr_hard_coded(w, dw, config=None):
    lr = 1e-3 if config is None else config.pop("learning_rate", 1e-3)
    next_w, config = _adam(w, dw, config)
    scale = 1e-3 / config["learning_rate"]
    config["learning_rate"] = lr
    return w + (next_w - w) * scale, config


def adam_no_sqrt(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    b1, b2 = config["beta1"], config["beta2"]
    t = config.get("t", 0) + 1
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
    next_w = w - config["learning_rate"] * (m / (1 - b1**t)) / (v / (1 - b2**t) + config["epsilon"])
    config["m"], config["v"], config["t"] = m, v, t
    return next_w, config


# ----------------------------------------------- right, written otherwise
def adagrad_inplace_on_copy(w, dw, config=None):
    if config is None:
        config = {}
    lr = config.setdefault("learning_rate", 1e-2)
    eps = config.setdefault("epsilon", 1e-8)
    cache = config.get("cache")
    cache = np.zeros_like(w) if cache is None else cache.copy()
    cache += np.square(dw)
    config["cache"] = cache
    return w - dw / (np.sqrt(cache) + eps) * lr, config


def rmsprop_leaky_form(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w))
    cache = cache + (1 - config["decay_rate"]) * (dw**2 - cache)
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config


def adam_sqrt_of_correction(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    lr, b1, b2, eps = config["learning_rate"], config["beta1"], config["beta2"], config["epsilon"]
    t = config.get("t", 0) + 1
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
    next_w = w - lr / (1 - b1**t) * m / (np.sqrt(v) / np.sqrt(1 - b2**t) + eps)
    config.update(m=m, v=v, t=t)
    return next_w, config


def adam_state_setdefault(w, dw, config=None):
    config = config if config is not None else {}
    for key, value in (("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)):
        config.setdefault(key, value)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    config["t"] += 1
    config["m"] = config["beta1"] * config["m"] + (1 - config["beta1"]) * dw
    config["v"] = config["beta2"] * config["v"] + (1 - config["beta2"]) * (dw * dw)
    m_hat = config["m"] / (1 - config["beta1"] ** config["t"])
    v_hat = config["v"] / (1 - config["beta2"] ** config["t"])
    return w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"]), config


def adagrad_out_argument(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    cache = np.array(config.get("cache", np.zeros(w.shape, dtype=w.dtype)))
    np.add(cache, dw * dw, out=cache)
    config["cache"] = cache
    step = np.divide(dw, np.sqrt(cache) + config["epsilon"])
    return (w - config["learning_rate"] * step).astype(w.dtype), config


def rmsprop_float64_decay(w, dw, config=None):
    if config is None:
        config = {}
    lr = config.get("learning_rate", 1e-2)
    decay = np.float64(config.get("decay_rate", 0.99))
    eps = config.get("epsilon", 1e-8)
    cache = decay * config.get("cache", np.zeros_like(w)) + (1.0 - decay) * np.square(dw)
    config.update(learning_rate=lr, decay_rate=float(decay), epsilon=eps, cache=cache)
    return w - lr * dw / (np.sqrt(cache) + eps), config


def adam_inplace_on_copies_numpy_t(w, dw, config=None):
    if config is None:
        config = {}
    for key, value in {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}.items():
        config.setdefault(key, value)
    b1, b2 = config["beta1"], config["beta2"]
    m = config.get("m", np.zeros_like(w)).copy()
    v = config.get("v", np.zeros_like(w)).copy()
    t = np.int64(config.get("t", 0)) + 1
    m *= b1
    m += (1 - b1) * dw
    v *= b2
    v += (1 - b2) * dw**2
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    config["m"], config["v"], config["t"] = m, v, int(t)
    return (w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])).astype(w.dtype), config


def adam_float_counter(w, dw, config=None):
    config = {} if config is None else config
    lr, b1 = config.get("learning_rate", 1e-3), config.get("beta1", 0.9)
    b2, eps = config.get("beta2", 0.999), config.get("epsilon", 1e-8)
    t = float(config.get("t", 0)) + 1.0
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * np.square(dw)
    step = lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    config.update(learning_rate=lr, beta1=b1, beta2=b2, epsilon=eps, m=m, v=v, t=t)
    return w - step, config


def adagrad_eps_inside_not_stored(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w)) + dw * dw
    return w - config["learning_rate"] * dw / np.sqrt(cache + config["epsilon"]), config


def adagrad_abs_gradient(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w)) + np.abs(dw)
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config


def adam_folded_paper_form(w, dw, config=None):
    """Kingma & Ba's efficient form: right, except that ε sits on √v (ε̂ = ε·√(1−β2^t))."""
    if config is None:
        config = {}
    for key, value in (("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)):
        config.setdefault(key, value)
    m = config.get("m", np.zeros_like(w))
    v = config.get("v", np.zeros_like(w))
    t = config.get("t", 0) + 1
    b1, b2, lr, eps = config["beta1"], config["beta2"], config["learning_rate"], config["epsilon"]
    m = b1 * m + (1 - b1) * dw
    v = b2 * v + (1 - b2) * (dw**2)
    lr_t = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
    config["m"], config["v"], config["t"] = m, v, t
    return w - lr_t * m / (np.sqrt(v) + eps), config


def _adam_module_defaults(store={"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "t": 0}):
    return store  # one dict for the whole module, like ADAM_DEFAULTS = {...} at the top of optim.py


def adam_module_defaults(w, dw, config=None):
    if config is None:
        config = _adam_module_defaults()
    for key, value in _adam_module_defaults().items():
        config.setdefault(key, value)
    m = config.get("m", np.zeros_like(w))
    v = config.get("v", np.zeros_like(w))
    t = config["t"] + 1
    b1, b2 = config["beta1"], config["beta2"]
    m = b1 * m + (1 - b1) * dw
    v = b2 * v + (1 - b2) * dw**2
    next_w = w - config["learning_rate"] * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + config["epsilon"])
    config["m"], config["v"], config["t"] = m, v, t
    return next_w, config


def adam_mutable_default_argument(w, dw, config={}):
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    m = config.get("m", np.zeros_like(w))
    v = config.get("v", np.zeros_like(w))
    t = config.get("t", 0) + 1
    b1, b2 = config["beta1"], config["beta2"]
    m = b1 * m + (1 - b1) * dw
    v = b2 * v + (1 - b2) * dw**2
    next_w = w - config["learning_rate"] * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + config["epsilon"])
    config["m"], config["v"], config["t"] = m, v, t
    return next_w, config


def adam_t_after_use_from_one(w, dw, config=None):
    if config is None:
        config = {}
    for key, value in (("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)):
        config.setdefault(key, value)
    m = config.get("m", np.zeros_like(w))
    v = config.get("v", np.zeros_like(w))
    t = config.get("t", 1)
    b1, b2, lr, eps = config["beta1"], config["beta2"], config["learning_rate"], config["epsilon"]
    m = b1 * m + (1 - b1) * dw
    v = b2 * v + (1 - b2) * (dw**2)
    next_w = w - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    t += 1
    config["m"], config["v"], config["t"] = m, v, t
    return next_w, config


M = Mistake
P = "property"
MISTAKES = [
    M("optim.adagrad", "AdaGrad without accumulation", "cache = dw**2 forgets the past.",
      adagrad_no_accumulation, P),
    M("optim.adagrad", "epsilon inside the square root", "sqrt(cache + eps).", adagrad_eps_inside_sqrt, P),
    M("optim.adagrad", "square root missing", "divides by cache + eps.", adagrad_no_sqrt, P),
    M("optim.adagrad", "config['epsilon'] ignored", "eps = 1e-7 hard-coded.", adagrad_eps_hard_coded, P),
    M("optim.adagrad", "config['epsilon'] ignored", "eps read from config['eps'].", adagrad_eps_key, P,
      slug="adagrad_eps_key"),
    M("optim.adagrad", "config=None not handled", "config=None raises.", adagrad_no_defaults, P),
    M("optim.rmsprop", "RMSProp decay swapped", "(1-d)*cache + d*dw**2.", rmsprop_decay_swapped, P),
    M("optim.rmsprop", "epsilon inside the square root", "sqrt(cache + eps).", rmsprop_eps_inside_sqrt, P),
    M("optim.rmsprop", "missing (1 - decay) factor", "d*cache + dw**2.", rmsprop_missing_one_minus_decay, P),
    M("optim.rmsprop", "square root missing", "divides by cache + eps.", rmsprop_no_sqrt, P),
    M("optim.rmsprop", "RMSProp that is really AdaGrad", "cache += dw**2.", rmsprop_is_adagrad, P),
    M("optim.rmsprop", "learning rate hard-coded", "lr = 1e-2 whatever config says.", rmsprop_lr_hard_coded, P),
    M("optim.rmsprop", "state stored under another key", "config['grad_squared'] instead of config['cache'].",
      rmsprop_old_state_key, P),
    M("optim.rmsprop", "config['epsilon'] ignored", "config.get('eps', 1e-8).", rmsprop_eps_get_key, P),
    M("optim.adam", "missing bias correction", "m and v used without their correction.",
      adam_no_bias_correction, P),
    M("optim.adam", "missing bias correction", "no correction, and t never touched (not stored either).",
      adam_no_bias_correction_t_untouched, P, also=("t not stored in config",),
      slug="adam_no_bias_correction_t_untouched"),
    M("optim.adam", "t incremented after use", "t = 0 in the first correction.", adam_t_after_use, P),
    M("optim.adam", "epsilon inside the square root", "sqrt(v_hat + eps).", adam_eps_inside_sqrt, P),
    M("optim.adam", "beta1 and beta2 swapped", "m with beta2, v with beta1.", adam_betas_swapped, P),
    M("optim.adam", "t not stored in config", "the counter is not stored.", adam_t_not_stored, P),
    M("optim.adam", "bias correction of v missing", "only m is corrected.", adam_only_m_corrected, P),
    M("optim.adam", "t starts at 1", "config.get('t', 1), the 2017 skeleton's default.", adam_t_starts_at_one, P),
    M("optim.adam", "t never incremented", "the stored t never changes.", adam_t_never_incremented, P),
    M("optim.adam", "beta1 used for v", "v = beta1*v + (1-beta1)*dw**2.", adam_beta1_for_v, P),
    M("optim.adam", "raw gradient in the numerator", "lr * dw / (sqrt(v_hat) + eps).",
      adam_raw_gradient_numerator, P),
    M("optim.adam", "config['epsilon'] ignored", "eps = 1e-7 hard-coded.", adam_eps_hard_coded, P),
    M("optim.adam", "wrong default learning rate", "default lr 1e-2 instead of 1e-3.", adam_wrong_default_lr, P),
    M("optim.adam", "missing bias correction", "two bugs at once: no correction and eps inside the root.",
      adam_no_correction_and_eps_inside, P, also=("epsilon inside the square root",),
      slug="adam_no_correction_and_eps_inside"),
    M("optim.adam", "state stored under another key", "config['mt'], config['vt'] instead of m and v.",
      adam_old_state_keys, P),
    M("optim.adagrad", "update goes uphill", "w + lr*dw/(...).", adagrad_uphill, P),
    M("optim.adagrad", "state stored under another key", "config['grad_squared'].", adagrad_old_state_key, P),
    M("optim.adagrad", "learning rate hard-coded", "lr = 0.01.", adagrad_lr_hard_coded, P),
    M("optim.rmsprop", "update goes uphill", "w + lr*dw/(...).", rmsprop_uphill, P),
    M("optim.rmsprop", "wrong defaults for config=None", "default decay_rate 0.9.", rmsprop_wrong_default_decay, P),
    M("optim.adam", "update goes uphill", "w + lr*m_hat/(...).", adam_uphill, P),
    M("optim.adam", "learning rate hard-coded", "lr = 1e-3 whatever config says.", adam_lr_hard_coded, P),
    M("optim.adam", "square root missing", "m_hat / (v_hat + eps).", adam_no_sqrt, P),
    M("optim.adagrad", "state not stored in config", "sqrt(cache + eps), and the cache is never stored.",
      adagrad_eps_inside_not_stored, P, also=("epsilon inside the square root",),
      slug="adagrad_eps_inside_not_stored"),
    M("optim.adagrad", "cache accumulates |dw| instead of dw**2", "cache += np.abs(dw).", adagrad_abs_gradient, P),
    M("optim.adam", "ε added to √v instead of √v̂",
      "the paper's folded form: right except where gradients are as small as ε (a small deduction).",
      adam_folded_paper_form, P),
    M("optim.adam", "state kept between calls in a shared default dict",
      "config = ADAM_DEFAULTS (a module-level dict) when config is None, then stores m, v, t in it.",
      adam_module_defaults, P),
    M("optim.adam", "state kept between calls in a shared default dict", "def adam(w, dw, config={}); None not handled.",
      adam_mutable_default_argument, P, also=("config=None not handled",), slug="adam_mutable_default_argument"),
    M("optim.adam", "t incremented after use, starting at 1", "config.get('t', 1); uses t, then t += 1.",
      adam_t_after_use_from_one, P),
]

V = Variant
CORRECT = [
    V("optim.adagrad", "in-place cache on a copy, other algebra", adagrad_inplace_on_copy),
    V("optim.rmsprop", "leaky form cache += (1-d)*(dw**2 - cache)", rmsprop_leaky_form),
    V("optim.adam", "lr/(1-b1**t) * m / (sqrt(v)/sqrt(1-b2**t) + eps)", adam_sqrt_of_correction, note="float64"),
    V("optim.adam", "state through config.setdefault", adam_state_setdefault),
    V("optim.adagrad", "np.add(..., out=) on a copy, float32 state", adagrad_out_argument),
    V("optim.rmsprop", "np.float64 decay rate (float64 result)", rmsprop_float64_decay, note="float64"),
    V("optim.adam", "in-place moments on copies, numpy counter", adam_inplace_on_copies_numpy_t),
    V("optim.adam", "counter kept as a float", adam_float_counter),
]
