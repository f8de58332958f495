"""Properties of AdaGrad, RMSProp and Adam (``cs231n_lec7/optim.py``).

Normalisation by the root, ε's placement and key, the cache update, Adam's counter, moments, bias
correction and numerator — each measured apart.
"""
from __future__ import annotations

import numpy as np

from . import Finding, NoEvidence, prop
from .optim import (ADAGRAD, ADAM, ADAPTIVE, BETA1, BETA2, DECAY, PROBE, RMSPROP, SHAPE, G, _call, _coef, _fresh,
                    _named, _near, _state)


@prop(*ADAPTIVE)
def step_ignores_gradient_scale(exercise, fns):
    """From fresh state, multiplying the gradient by 1000 leaves the step unchanged (ε negligible)."""
    rule = fns(exercise)
    step1, _ = _call(rule, _fresh(exercise))
    step2, _ = _call(rule, _fresh(exercise), dw=1000.0 * G)
    c = _coef(step2, step1)
    if _near(c, 1e-3, 0.05):
        return Finding("square root missing",
                       "your step shrinks 1000× when the gradient grows 1000×: divide by sqrt(cache) + eps, "
                       "not by cache + eps.")
    if _near(c, 1e3, 0.05):
        return Finding("gradient not normalised",
                       "your step grows with the gradient: an adaptive rule divides by the root of the "
                       "averaged squared gradients, so the step size does not depend on the gradient's scale.")


@prop(*ADAPTIVE)
def epsilon_outside_root(exercise, fns):
    """With tiny gradients the step scales as 1/ε (ε outside the root), not 1/√ε, and ε is read from config."""
    rule = fns(exercise)
    zeros = np.zeros(SHAPE)
    tiny = 1e-12 * G
    step1, cfg = _call(rule, _fresh(exercise, epsilon=1e-6), dw=tiny, w=zeros)
    step2, _ = _call(rule, _fresh(exercise, epsilon=1e-4), dw=tiny, w=zeros)
    if not np.any(step2):
        raise NoEvidence
    ratio = _coef(step1, step2)
    if _near(ratio, 10.0, 0.05):
        return Finding("epsilon inside the square root",
                       "with tiny gradients your step grows like 1/sqrt(eps): use sqrt(cache) + eps, not "
                       "sqrt(cache + eps) — the two differ by orders of magnitude there.")
    if _near(ratio, 1.0, 0.05):
        where = (f"it reads config[{k!r}]" for k in ("eps", "epsilon_", "delta") if k in cfg)
        return Finding("config['epsilon'] ignored",
                       f"changing config['epsilon'] does not change your step: {next(where, 'eps is hard-coded')}. "
                       f"Read config['epsilon'] (default 1e-8).")


def _cache_coefficients(exercise, rule):
    """(a, b) with new cache = a·cache + b·dw², measured with dw = 0 and with cache = 0."""
    cache0 = np.linspace(0.5, 1.5, 12).reshape(SHAPE)
    _, cfg_a = _call(rule, _fresh(exercise, cache=cache0.copy()), dw=np.zeros(SHAPE))
    _, cfg_b = _call(rule, _fresh(exercise, cache=np.zeros(SHAPE)))
    return _coef(_state(cfg_a, "cache"), cache0), _state(cfg_b, "cache")


CACHE_FORMS = {
    ADAGRAD: [
        ((1.0, 1.0), None),
        ((0.0, 1.0), ("AdaGrad without accumulation",
                      "cache = dw**2 forgets the past; AdaGrad sums: cache += dw**2 (that is why its steps "
                      "shrink over time).")),
    ],
    RMSPROP: [
        ((DECAY, 1.0 - DECAY), None),
        ((1.0, 1.0), ("RMSProp that is really AdaGrad",
                      "your cache only grows (cache += dw**2): RMSProp lets it leak, "
                      "cache = decay*cache + (1-decay)*dw**2.")),
        ((1.0 - DECAY, DECAY), ("RMSProp decay swapped",
                                "cache = decay*cache + (1-decay)*dw**2: the decay rate weighs the OLD cache, "
                                "not the new gradient.")),
        ((DECAY, 1.0), ("missing (1 - decay) factor",
                        "the new squared gradient is weighted by (1 - decay_rate): "
                        "cache = d*cache + (1-d)*dw**2.")),
        ((0.0, 1.0 - DECAY), ("cache not read back from config",
                              "your cache starts from zero at every call: start from config['cache'].", True)),
        ((0.0, 1.0), ("cache not read back from config",
                      "your cache starts from zero at every call: start from config['cache'].", True)),
    ],
}


@prop(ADAGRAD, RMSPROP)
def cache_update(exercise, fns):
    """The stored cache is a·cache + b·dw²; (a, b) names the rule (AdaGrad: 1, 1; RMSProp: d, 1 − d)."""
    rule = fns(exercise)
    a, new_cache = _cache_coefficients(exercise, rule)
    try:
        b = _coef(new_cache, G * G)
    except NoEvidence:
        for basis, what in ((G, "dw"), (np.abs(G), "|dw|")):
            try:
                _coef(new_cache, basis)
            except NoEvidence:
                continue
            return Finding(f"cache accumulates {what} instead of dw**2",
                           "the cache holds squared gradients: use dw * dw (or dw**2).")
        return None
    forms = CACHE_FORMS[exercise]
    for (want_a, want_b), named in forms:
        if _near(a, want_a) and _near(b, want_b):
            return _named(named)
    (right_a, right_b), _ = forms[0]
    return Finding("cache update wrong",
                   f"your new cache is {a:.3g}·cache + {b:.3g}·dw²; the formula gives "
                   f"{right_a:.3g}·cache + {right_b:.3g}·dw² here.", fallback=True)


# ----------------------------------------------------------------- Adam
def _first_step_uses(rule):
    """The t the bias correction of a first step from fresh state used (1 or 2), or None."""
    step, cfg = _call(rule, _fresh(ADAM))
    try:
        m, v = _state(cfg, "m"), _state(cfg, "v")
    except NoEvidence:
        return None
    if np.any(v <= 0) or np.any(m == 0):
        return None
    r = _coef(-step, PROBE[ADAM]["learning_rate"] * m / np.sqrt(v))
    for t in (1, 2):
        if _near(r, np.sqrt(1 - BETA2**t) / (1 - BETA1**t), 1e-3):
            return t
    return None


@prop(ADAM)
def adam_counter(exercise, fns):
    """t counts calls: 1 after the first call from a config without t, 6 after a call from t = 5."""
    rule = fns(exercise)
    _, cfg_fresh = _call(rule, _fresh(ADAM))
    _, cfg_five = _call(rule, _fresh(ADAM, m=np.zeros(SHAPE), v=np.zeros(SHAPE), t=5))
    if "t" not in cfg_fresh or "t" not in cfg_five:
        raise NoEvidence
    t_fresh, t_five = cfg_fresh["t"], cfg_five["t"]
    if t_five == 5 and t_fresh == 0:
        return Finding("t never incremented",
                       "config['t'] comes back unchanged: do t += 1 at every call (before using t), and store it.")
    if t_five == 5:
        return Finding("t never incremented",
                       f"after a call from t = 5, config['t'] is still 5: do t += 1 at every call and store it.")
    if t_fresh == 2 and t_five == 6:
        if _first_step_uses(rule) == 1:  # t defaults to 1 and is incremented after use
            return Finding("t incremented after use, starting at 1",
                           "your first step uses t = 1 (right) but stores t = 2, so a step from t = 5 uses t = 5 "
                           "and stores 6: the counter lags one step behind. Let a fresh config['t'] default to 0 "
                           "and increment it before use, so a step uses and stores the same t.")
        return Finding("t starts at 1",
                       "a fresh config['t'] must default to 0 (the first step then uses t = 1); starting at 1 "
                       "makes the first step use t = 2.")
    if t_five != 6:
        return Finding("step counter wrong",
                       f"after a call from t = 5, config['t'] should be 6, got {t_five!r}.", fallback=True)


@prop(ADAM)
def adam_moments(exercise, fns):
    """From known m, v the stored moments are β1·m + (1−β1)·dw and β2·v + (1−β2)·dw²."""
    rule = fns(exercise)
    m0 = 0.2 * np.cos(np.arange(12.0)).reshape(SHAPE)
    v0 = np.linspace(0.3, 0.9, 12).reshape(SHAPE)
    _, cfg = _call(rule, _fresh(ADAM, m=m0.copy(), v=v0.copy(), t=5))
    m, v = _state(cfg, "m"), _state(cfg, "v")

    def close(a, b):
        return np.allclose(a, b, rtol=1e-6, atol=1e-12)

    m_ok = close(m, BETA1 * m0 + (1 - BETA1) * G)
    v_ok = close(v, BETA2 * v0 + (1 - BETA2) * G * G)
    if m_ok and v_ok:
        return None
    if close(m, BETA2 * m0 + (1 - BETA2) * G) and close(v, BETA1 * v0 + (1 - BETA1) * G * G):
        return Finding("beta1 and beta2 swapped",
                       "beta1 (0.9) is for the first moment m, beta2 (0.999) for the second moment v.")
    found = []
    if m_ok:
        pass
    elif close(m, (1 - BETA1) * G):
        found.append(Finding("m not read back from config", "start from m = config['m'] at every call.",
                             fallback=True))
    elif close(m, BETA1 * m0 + G):
        found.append(Finding("missing (1 - beta1) factor", "m = beta1*m + (1-beta1)*dw.", fallback=True))
    else:
        found.append(Finding("first moment m wrong", "m = beta1*m + (1-beta1)*dw, the moving average of dw.",
                             fallback=True))
    if v_ok:
        pass
    elif close(v, BETA1 * v0 + (1 - BETA1) * G * G):
        found.append(Finding("beta1 used for v",
                             "the second moment decays with beta2: v = beta2*v + (1-beta2)*dw**2."))
    elif close(v, BETA2 * v0 + (1 - BETA2) * G):
        found.append(Finding("v averages dw instead of dw**2",
                             "the second moment is the moving average of the SQUARED gradient.", fallback=True))
    elif close(v, (1 - BETA2) * G * G):
        found.append(Finding("v not read back from config", "start from v = config['v'] at every call.",
                             fallback=True))
    else:
        found.append(Finding("second moment v wrong",
                             "v = beta2*v + (1-beta2)*dw**2, the moving average of dw**2.", fallback=True))
    return found


@prop(ADAM)
def adam_bias_correction(exercise, fns):
    """Given your own m and v after the first step, the step is α·m/(1−β1)/√(v/(1−β2)) (bias-corrected)."""
    rule = fns(exercise)
    lr = PROBE[ADAM]["learning_rate"]
    step, cfg = _call(rule, _fresh(ADAM))
    try:
        m, v = _state(cfg, "m"), _state(cfg, "v")
    except NoEvidence:  # state kept elsewhere: judge with the moments the formula gives
        m, v = (1 - BETA1) * G, (1 - BETA2) * G * G
    if not np.all(np.isfinite(step)):
        if cfg.get("t") == 1:
            return Finding("t incremented after use",
                           "increment t BEFORE using it in the bias correction: the first step uses t = 1 "
                           "(t = 0 divides by zero).")
        raise NoEvidence
    if np.any(v <= 0) or np.any(m == 0):
        raise NoEvidence
    r = _coef(-step, lr * m / np.sqrt(v))  # 1 without any correction

    def corr(t, m_corr=True, v_corr=True):
        return (1 / (1 - BETA1**t) if m_corr else 1.0) * (np.sqrt(1 - BETA2**t) if v_corr else 1.0)

    if _near(r, corr(1)):
        return None
    table = [
        (corr(1, False, False), "missing bias correction",
         "divide m by (1 - beta1**t) and v by (1 - beta2**t) before the update; without it the first steps "
         "are too large (with non-default betas (β1 = 0.7, β2 = 0.95) your first step is {:.2f}× the corrected one)."),
        (corr(1, True, False), "bias correction of v missing",
         "both moments need their correction: v_hat = v / (1 - beta2**t)."),
        (corr(1, False, True), "bias correction of m missing",
         "both moments need their correction: m_hat = m / (1 - beta1**t)."),
        (corr(2), "t starts at 1",
         "the first step from a fresh config used t = 2 in the bias correction: t starts at 0 and is "
         "incremented before use, so the first step uses t = 1."),
    ]
    for value, title, text in table:
        if _near(r, value, 1e-3):
            return Finding(title, text.format(value / corr(1)))
    return Finding("bias correction wrong",
                   f"given your m and v, the first step is {r / corr(1):.3g}× the bias-corrected one "
                   f"lr·m_hat/sqrt(v_hat) with t = 1.", fallback=True)


@prop(ADAM)
def adam_numerator(exercise, fns):
    """The step follows the first moment m_hat, not the raw gradient dw (they point opposite here)."""
    rule = fns(exercise)
    first, _ = _call(rule, _fresh(ADAM))
    if not np.all(first * G < 0):
        raise NoEvidence  # the direction is already wrong from fresh state (named elsewhere)
    m0 = -3.0 * G  # momentum opposite to this gradient: m_new still points like m0
    step, cfg = _call(rule, _fresh(ADAM, m=m0.copy(), v=G * G, t=5))
    if not np.allclose(_state(cfg, "m"), BETA1 * m0 + (1 - BETA1) * G, rtol=1e-6):
        raise NoEvidence  # m is not read back as given: the direction says nothing about the numerator
    if np.all(step * G < 0):
        return Finding("raw gradient in the numerator",
                       "the step is lr * m_hat / (sqrt(v_hat) + eps): the numerator is the first moment m_hat, "
                       "not dw.")


@prop(ADAM)
def adam_epsilon_on_v_hat(exercise, fns):
    """With tiny gradients from fresh state (t = 1) the step is lr·m_hat/ε: ε is added to √v_hat, not to √v."""
    rule = fns(exercise)
    lr, eps = PROBE[ADAM]["learning_rate"], 1e-4
    tiny = 1e-12 * G
    step, cfg = _call(rule, _fresh(ADAM, epsilon=eps), dw=tiny, w=np.zeros(SHAPE))
    if cfg.get("t") != 1:
        raise NoEvidence  # the counter is named elsewhere; t = 1 is what this probe assumes
    r = _coef(-step, lr * tiny / eps)  # 1 with ε on √v_hat (m_hat = dw at t = 1, √v_hat ≪ ε)
    if _near(r, np.sqrt(1 - BETA2), 1e-2):
        return Finding("ε added to √v instead of √v̂",
                       "the paper's folded form (α_t = α·√(1−β2^t)/(1−β1^t); w −= α_t·m/(√v + ε)) puts ε on √v; "
                       "the contract puts ε on √v̂: lr * m_hat / (sqrt(v_hat) + eps). The two differ only where "
                       "gradients are as small as ε.")
