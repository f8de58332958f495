"""Properties of SGD+Momentum and Nesterov (``cs231n_lec7/optim.py``).

Both updates are linear in (v_prev, dw): measuring the two coefficients names the form.
"""
from __future__ import annotations

import numpy as np

from . import Finding, prop
from .optim import DEFAULTS, MOMENTUM, NESTEROV, PROBE, UPHILL, RHO, SHAPE, G, _call, _coef, _fresh, _named, _near


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
                              "you used the first form of the notes (v = rho*v + dw; w -= lr*v). Your path "
                              "is the same (at constant lr), only the stored quantity differs: this "
                              "assignment stores the second form's velocity, v_contract = -lr * v_yours "
                              "(v = rho*v - lr*dw; w += v), so only the state checks cost points.")),
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


@prop(MOMENTUM, NESTEROV)
def momentum_coefficients(exercise, fns):
    """The step is a fixed combination cv·v_prev + cg·(−lr·dw); cv and cg name the form."""
    rule = fns(exercise)
    cv, cg = _momentum_coefficients(exercise, rule)
    forms = MOMENTUM_FORMS[exercise]
    for (want_v, want_g), named in forms:
        if _near(cv, want_v) and _near(cg, want_g):
            return _named(named)
    # Two bugs at once: a known form whose gradient term also has the wrong sign and/or a hard-coded
    # learning rate (the latter is named by uses_learning_rate).
    lr_scale = DEFAULTS[exercise]["learning_rate"] / PROBE[exercise]["learning_rate"]
    for (want_v, want_g), named in forms:
        for sign in (1.0, -1.0):
            for scale in (1.0, lr_scale):
                if (sign, scale) != (1.0, 1.0) and _near(cv, want_v) and _near(cg, sign * scale * want_g):
                    found = [f for f in [_named(named)] if f]
                    if sign < 0:
                        found.append(Finding(UPHILL.get(exercise, "update goes uphill"),
                                             "the gradient term has the wrong sign: v = rho*v - lr*dw "
                                             "(minus), so the velocity points downhill."))
                    return found
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
