"""Properties of the update rules in ``cs231n_lec7/optim.py``, each probing one idea.

Each property calls the rule on inputs of its own (non-default
hyper-parameters, so hard-coded values show), measures one number — a ratio
of two steps, a coefficient of the update — and compares it with what the
lecture's formula gives and with what each known mistake gives. Because the
number isolates one idea, a rule with two bugs is named twice, and a rule
with unusual but valid state handling is not blamed for it.
"""
from __future__ import annotations

import numpy as np

from . import Finding, NoEvidence, error_name, prop

MOMENTUM, NESTEROV = "optim.sgd_momentum", "optim.nesterov_momentum"
ADAGRAD, RMSPROP, ADAM = "optim.adagrad", "optim.rmsprop", "optim.adam"
ALL = (MOMENTUM, NESTEROV, ADAGRAD, RMSPROP, ADAM)
ADAPTIVE = (ADAGRAD, RMSPROP, ADAM)

DEFAULTS = {
    MOMENTUM: {"learning_rate": 1e-2, "momentum": 0.9},
    NESTEROV: {"learning_rate": 1e-2, "momentum": 0.9},
    ADAGRAD: {"learning_rate": 1e-2, "epsilon": 1e-8},
    RMSPROP: {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    ADAM: {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
}
STATE = {MOMENTUM: ("velocity",), NESTEROV: ("velocity",), ADAGRAD: ("cache",), RMSPROP: ("cache",),
         ADAM: ("m", "v", "t")}
# Probe hyper-parameters: not the defaults, so a hard-coded value shows.
RHO, DECAY, BETA1, BETA2 = 0.6, 0.8, 0.7, 0.95
PROBE = {
    MOMENTUM: {"learning_rate": 0.05, "momentum": RHO},
    NESTEROV: {"learning_rate": 0.05, "momentum": RHO},
    ADAGRAD: {"learning_rate": 0.05, "epsilon": 1e-8},
    RMSPROP: {"learning_rate": 0.05, "decay_rate": DECAY, "epsilon": 1e-8},
    ADAM: {"learning_rate": 0.01, "beta1": BETA1, "beta2": BETA2, "epsilon": 1e-8},
}
SHAPE = (3, 4)
W0 = np.linspace(-0.7, 0.9, 12).reshape(SHAPE)
G = (np.linspace(0.5, 2.0, 12) * np.where(np.arange(12) % 3 == 0, -1.0, 1.0)).reshape(SHAPE)
RTOL = 1e-3  # how close a measured coefficient must be to a hypothesis


def _name(exercise):
    return exercise.rpartition(".")[2]


def _call(rule, config, dw=G, w=W0):
    """(step = next_w − w, returned config) of one call; NoEvidence on anything odd."""
    result = rule(w.copy(), dw.copy(), config)
    if not isinstance(result, tuple) or len(result) != 2:
        raise NoEvidence
    next_w, cfg = result
    next_w = np.asarray(next_w, dtype=np.float64)
    if next_w.shape != w.shape:
        raise NoEvidence
    return next_w - w, cfg if isinstance(cfg, dict) else {}


def _fresh(exercise, **changes):
    cfg = dict(PROBE[exercise])
    cfg.update(changes)
    return cfg


def _coef(got, basis) -> float:
    """c with got = c·basis (least squares), or NoEvidence when got is not a multiple of basis."""
    got = np.asarray(got, dtype=np.float64)
    basis = np.asarray(basis, dtype=np.float64)
    if got.shape != basis.shape or not (np.all(np.isfinite(got)) and np.all(np.isfinite(basis))):
        raise NoEvidence
    den = float(np.sum(basis * basis))
    if den == 0.0:
        raise NoEvidence
    c = float(np.sum(got * basis)) / den
    scale = max(float(np.max(np.abs(got))), float(np.max(np.abs(c * basis))), 1e-300)
    if float(np.max(np.abs(got - c * basis))) > 1e-5 * scale:
        raise NoEvidence
    return c


def _near(x, y, rtol=RTOL):
    return abs(x - y) <= rtol * max(abs(x), abs(y), 1e-12)


def _state(cfg, key):
    if key not in cfg:
        raise NoEvidence
    value = np.asarray(cfg[key], dtype=np.float64)
    if value.shape != SHAPE:
        raise NoEvidence
    return value


UPHILL = {MOMENTUM: "wrong momentum sign"}


# ------------------------------------------------------------ every rule
@prop(*ALL)
def moves_downhill(exercise, fns):
    """From fresh state the first step moves against the gradient, in every coordinate."""
    rule = fns(exercise)
    step, _ = _call(rule, _fresh(exercise))
    if np.all(step * G > 0):
        return Finding(UPHILL.get(exercise, "update goes uphill"),
                       "from a fresh state your first step moves WITH the gradient (uphill): a rule "
                       "subtracts the scaled gradient — for momentum, v = rho*v - lr*dw and then w + v.")


@prop(*ALL)
def uses_learning_rate(exercise, fns):
    """Doubling config['learning_rate'] doubles the first step from fresh state."""
    rule = fns(exercise)
    lr = PROBE[exercise]["learning_rate"]
    step1, cfg = _call(rule, _fresh(exercise))
    step2, _ = _call(rule, _fresh(exercise, learning_rate=2 * lr))
    if not np.any(step1):
        raise NoEvidence
    c = _coef(step2, step1)
    if _near(c, 1.0):
        other = [k for k in ("lr", "alpha", "learning rate", "step_size") if k in cfg]
        where = (f"it reads config[{other[0]!r}]" if other else "the value is hard-coded")
        return Finding("learning rate hard-coded",
                       f"doubling config['learning_rate'] did not change your step: {where}. Read "
                       f"config['learning_rate'] (its default fills in when it is missing).")


@prop(*ALL)
def defaults_from_none(exercise, fns):
    """config=None behaves exactly like the documented defaults spelled out, over two steps."""
    rule = fns(exercise)
    explicit1, cfg = _call(rule, dict(DEFAULTS[exercise]))
    explicit2, _ = _call(rule, cfg, dw=-0.5 * G[::-1], w=W0 + explicit1)
    if not (np.all(np.isfinite(explicit1)) and np.all(np.isfinite(explicit2))):
        raise NoEvidence
    try:
        none1, cfg = _call(rule, None)
    except NoEvidence:
        raise
    except Exception as err:  # works with a config, fails without one
        return Finding("config=None not handled",
                       f"called with config=None your rule raised {error_name(err)}: start with "
                       f"`if config is None: config = {{}}` and fill the missing keys with their defaults "
                       f"({_defaults_text(exercise)}).")
    none2, _ = _call(rule, cfg, dw=-0.5 * G[::-1], w=W0 + none1)
    if np.allclose(none1, explicit1, rtol=1e-7, atol=0.0) and np.allclose(none2, explicit2, rtol=1e-7, atol=0.0):
        return None
    default_lr = DEFAULTS[exercise]["learning_rate"]
    stored = {k: cfg[k] for k in DEFAULTS[exercise] if isinstance(cfg.get(k), (int, float, np.floating))}
    wrong = {k: v for k, v in stored.items() if not np.isclose(v, DEFAULTS[exercise][k], rtol=1e-9, atol=0.0)}
    try:  # every step scaled alike: only the learning rate differs
        c1, c2 = _coef(none1, explicit1), _coef(none2, explicit2)
        lr_only = _near(c1, c2, 1e-6) and c1 > 0
    except NoEvidence:
        lr_only = False
    if (wrong and set(wrong) == {"learning_rate"}) or (not wrong and lr_only):
        value = wrong.get("learning_rate", c1 * default_lr if lr_only else None)
        return Finding("wrong default learning rate",
                       f"with config=None your rule steps with learning_rate = {value:.3g}; the documented "
                       f"default is {default_lr:g}.")
    if wrong:
        listed = ", ".join(f"{k} = {v:g} (documented {DEFAULTS[exercise][k]:g})" for k, v in wrong.items())
        return Finding("wrong defaults for config=None", f"with config=None your rule fills in {listed}.")
    return Finding("wrong defaults for config=None",
                   f"with config=None your rule does not step like the documented defaults "
                   f"({_defaults_text(exercise)}).", fallback=True)


def _defaults_text(exercise):
    return ", ".join(f"{k} = {v:g}" for k, v in DEFAULTS[exercise].items())


@prop(*ALL)
def state_in_config(exercise, fns):
    """After one step from a config without state, the returned config holds the state keys."""
    rule = fns(exercise)
    _, cfg = _call(rule, _fresh(exercise))
    missing = [k for k in STATE[exercise] if k not in cfg]
    if not missing:
        return None
    known = set(DEFAULTS[exercise]) | set(STATE[exercise])
    others = [k for k, v in cfg.items() if k not in known and (np.shape(v) == SHAPE or isinstance(v, int))]
    wanted = ", ".join(f"config[{k!r}]" for k in missing)
    if others:
        found = ", ".join(f"config[{k!r}]" for k in others)
        return Finding("state stored under another key",
                       f"your rule keeps its state in {found}, but the next call (and the grader) reads "
                       f"{wanted}: use the documented key names.")
    if missing == ["t"]:
        return Finding("t not stored in config",
                       "store the incremented step counter back in config['t'], or every step is "
                       "treated as the first.")
    if missing == ["velocity"]:
        return Finding("velocity not stored in config",
                       "your rule behaves like plain SGD: store the new velocity in config['velocity'] so "
                       "the next call continues from it.")
    return Finding("state not stored in config",
                   f"after a step the returned config has no {wanted}: store the state there so the "
                   f"next call continues from it.")


# ------------------------------------------------------- momentum rules
def _momentum_coefficients(exercise, rule):
    """(cv, cg): the step is cv·v_prev + cg·(−lr·dw), measured with dw = 0 and v_prev = 0."""
    lr = PROBE[exercise]["learning_rate"]
    v_prev = 0.3 * np.sin(np.arange(12.0) + 1.0).reshape(SHAPE)
    step_a, _ = _call(rule, _fresh(exercise, velocity=v_prev.copy()), dw=np.zeros(SHAPE))
    step_b, _ = _call(rule, _fresh(exercise, velocity=np.zeros(SHAPE)))
    return _coef(step_a, v_prev), _coef(step_b, -lr * G)


MOMENTUM_FORMS = {
    MOMENTUM: [
        ((RHO, 1.0), None),
        ((-RHO, -1.0), ("wrong momentum sign",
                        "next_w = w - v: with v = rho*v - lr*dw the velocity already points downhill, so "
                        "the update is w + v.")),
        ((RHO, 1.0 - RHO), ("velocity dampened by (1 - rho)",
                            "v = rho*v - (1-rho)*lr*dw is an exponential average; the lecture's momentum "
                            "adds the full gradient step: v = rho*v - lr*dw.")),
        ((0.9, 1.0), ("momentum hard-coded",
                      "your rule uses rho = 0.9 whatever config['momentum'] says: read config['momentum'].")),
        ((0.0, 1.0), ("velocity not read back from config",
                      "your step ignores the velocity passed in config['velocity'], so it is plain SGD: "
                      "start from v = config['velocity'].", True)),
        ((-0.05 * RHO, 1.0), ("first momentum form stored",
                              "you used the first form of the notes (v = rho*v + dw; w -= lr*v). It traces "
                              "the same path at constant lr, but this assignment stores the velocity of the "
                              "second form: v = rho*v - lr*dw; w += v.")),
    ],
    NESTEROV: [
        ((RHO**2, 1.0 + RHO), None),
        ((RHO, 1.0), ("plain momentum instead of Nesterov",
                      "your update is w + v (SGD+Momentum) — also what you get when the correction uses the "
                      "new v instead of v_prev. Save v_prev = v before updating v, then "
                      "w - rho*v_prev + (1+rho)*v.")),
        ((2 * RHO + RHO**2, 1.0 + RHO), ("wrong sign of the look-ahead term",
                                         "the look-ahead correction is -rho*v_prev, not +rho*v_prev.")),
        ((RHO + RHO**2, 1.0 + RHO), ("look-ahead term -rho*v_prev missing",
                                     "w + (1+rho)*v is the look-ahead point x + rho*v of plain momentum; "
                                     "the change of variables also subtracts rho*v_prev.")),
        ((0.0, 1.0), ("missing (1 + rho) factor",
                      "the new velocity enters with weight (1 + rho): w - rho*v_prev + (1+rho)*v.")),
        ((-RHO**2, -1.0 - RHO), ("update goes uphill",
                                 "every term has the wrong sign: w - rho*v_prev + (1+rho)*v with "
                                 "v = rho*v_prev - lr*dw.")),
        ((0.81, 1.9), ("momentum hard-coded",
                       "your rule uses rho = 0.9 whatever config['momentum'] says: read config['momentum'].")),
    ],
}


def _named(named):
    """A table entry (title, explanation[, fallback]) as a Finding; None for the right form."""
    if not named:
        return None
    return Finding(named[0], named[1], fallback=len(named) > 2 and named[2])


@prop(MOMENTUM, NESTEROV)
def momentum_coefficients(exercise, fns):
    """The step is a fixed combination cv·v_prev + cg·(−lr·dw); cv and cg name the form."""
    rule = fns(exercise)
    cv, cg = _momentum_coefficients(exercise, rule)
    forms = MOMENTUM_FORMS[exercise]
    for (want_v, want_g), named in forms:
        if _near(cv, want_v) and _near(cg, want_g):
            return _named(named)
    (right_v, right_g), _ = forms[0]
    found = []
    if not _near(cv, right_v):
        found.append(Finding("velocity term wrong",
                             f"with dw = 0 your step is {cv:.3g}·v_prev; the formula gives {right_v:.3g}·v_prev "
                             f"(rho = {RHO}).", fallback=True))
    if not _near(cg, right_g):
        found.append(Finding("gradient term wrong",
                             f"from v_prev = 0 your step is {cg:.3g}·(−lr·dw); the formula gives "
                             f"{right_g:.3g}·(−lr·dw) (rho = {RHO}).", fallback=True))
    return found


# ------------------------------------------------------- adaptive rules
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
        try:
            _coef(new_cache, G)
        except NoEvidence:
            return None
        return Finding("cache accumulates dw instead of dw**2",
                       "the cache holds squared gradients: use dw * dw (or dw**2).")
    forms = CACHE_FORMS[exercise]
    for (want_a, want_b), named in forms:
        if _near(a, want_a) and _near(b, want_b):
            return _named(named)
    (right_a, right_b), _ = forms[0]
    return Finding("cache update wrong",
                   f"your new cache is {a:.3g}·cache + {b:.3g}·dw²; the formula gives "
                   f"{right_a:.3g}·cache + {right_b:.3g}·dw² here.", fallback=True)


# ----------------------------------------------------------------- Adam
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
        found.append(Finding("m not read back from config", "start from m = config['m'] at every call.", fallback=True))
    elif close(m, BETA1 * m0 + G):
        found.append(Finding("missing (1 - beta1) factor", "m = beta1*m + (1-beta1)*dw.", fallback=True))
    else:
        found.append(Finding("first moment m wrong", "m = beta1*m + (1-beta1)*dw, the moving average of dw.", fallback=True))
    if v_ok:
        pass
    elif close(v, BETA1 * v0 + (1 - BETA1) * G * G):
        found.append(Finding("beta1 used for v",
                             "the second moment decays with beta2: v = beta2*v + (1-beta2)*dw**2."))
    elif close(v, BETA2 * v0 + (1 - BETA2) * G):
        found.append(Finding("v averages dw instead of dw**2",
                             "the second moment is the moving average of the SQUARED gradient.", fallback=True))
    elif close(v, (1 - BETA2) * G * G):
        found.append(Finding("v not read back from config", "start from v = config['v'] at every call.", fallback=True))
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
         "are too large (with beta1 = 0.7, beta2 = 0.95 your first step is {:.2f}× the corrected one)."),
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
