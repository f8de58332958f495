"""Properties of the update rules in ``cs231n_lec7/optim.py``, each probing one idea.

This module holds the shared probe problem and the properties of every rule;
``optim_momentum.py`` and ``optim_adaptive.py`` hold those of the lecture's two
sections (SGD+Momentum and Nesterov; AdaGrad, RMSProp and Adam).

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
    result = rule(W0.copy(), G.copy(), _fresh(exercise))
    if isinstance(result, tuple) and len(result) == 2 and not isinstance(result[1], dict):
        what = "None" if result[1] is None else f"a {type(result[1]).__name__}"
        return Finding("config not returned",
                       f"your rule returns {what} as its config: return the config dict itself, "
                       f"`return next_w, config`, so the next call continues from its state.")
    _, cfg = _call(rule, _fresh(exercise))
    missing = [k for k in STATE[exercise] if k not in cfg]
    if not missing:
        missing = _state_never_written(exercise, rule)
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


def _worker_error(err):
    return type(err).__name__.startswith("Worker")  # the grader's worker died or timed out: no evidence


def _state_never_written(exercise, rule):
    """State keys that come back exactly as they were given although the gradient was not zero."""
    given = {k: 0.5 + 0.1 * np.arange(12.0).reshape(SHAPE) for k in STATE[exercise] if k != "t"}
    _, cfg = _call(rule, _fresh(exercise, **{k: v.copy() for k, v in given.items()}))
    return [k for k, v in given.items() if k in cfg and np.shape(cfg[k]) == SHAPE
            and np.array_equal(np.asarray(cfg[k], dtype=np.float64), v)]


def _named(named):
    """A table entry (title, explanation[, fallback]) as a Finding; None for the right form."""
    if not named:
        return None
    return Finding(named[0], named[1], fallback=len(named) > 2 and named[2])


@prop(*ALL)
def calls_without_config_are_independent(exercise, fns):
    """Calls with config=None (or no config) are each a first step: the same input twice gives the same step.

    The repeated call is on a (1, 1) array, which broadcasts with state leaked from any earlier call: a
    result of another shape, or a different step, shows the leak whatever ran before.
    """
    rule = fns(exercise)
    w1, g1 = np.full((1, 1), 0.3), np.full((1, 1), -0.7)
    for how, call in (("config=None", lambda w, dw: rule(w, dw, None)), ("no config", lambda w, dw: rule(w, dw))):
        try:
            call(W0.copy(), G.copy())
        except Exception as err:  # config=None not handled, or state leaked by earlier calls
            if _worker_error(err):
                raise
        try:
            first = np.asarray(call(w1.copy(), g1.copy())[0], dtype=np.float64)
            again = np.asarray(call(w1.copy(), g1.copy())[0], dtype=np.float64)
        except Exception as err:
            if _worker_error(err):
                raise
            continue  # config=None not handled at all: named by defaults_from_none
        if first.shape != w1.shape or again.shape != w1.shape:
            leaked = f"returned shape {(first if first.shape != w1.shape else again).shape} for a (1, 1) w"
        elif np.all(np.isfinite(first)) and np.all(np.isfinite(again)) and \
                not np.allclose(again, first, rtol=1e-9, atol=0.0):
            leaked = "stepped differently from the same call just before"
        else:
            continue
        return Finding("state kept between calls in a shared default dict",
                       f"a call with {how} after another one {leaked}: the earlier call's state leaked into "
                       f"it. Use `if config is None: config = {{}}` (not `config={{}}` as the default "
                       f"argument, not a module-level dict) and copy the defaults into it.")
