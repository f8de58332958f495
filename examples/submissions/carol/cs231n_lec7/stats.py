"""Intervals for "mean over a few seeds" claims, as the notebooks state them.

A rule of thumb measured over n seeds is reported as mean ± a 95 % interval of the
mean, ``mean ± t(n - 1) * sd / sqrt(n)``, with Student's t quantile t(df) =
``scipy.stats.t.ppf(0.975, df)``. The quantiles for 1 to 30 degrees of freedom are
written out below (the table of every statistics textbook; tests/test_stats.py
checks them against scipy): importing scipy's statistics costs a notebook more
time than all its arithmetic. Other levels or degrees of freedom go to scipy.
"""
import numpy as np

#: Student's t 97.5 % quantile by degrees of freedom: scipy.special.stdtrit(df, 0.975).
T_975 = {
    1: 12.706204736174694, 2: 4.302652729749462, 3: 3.1824463052837078, 4: 2.7764451051977934,
    5: 2.5705818356363146, 6: 2.4469118511449786, 7: 2.364624251592784, 8: 2.306004135204166,
    9: 2.262157162798205, 10: 2.228138851986274, 11: 2.200985160091639, 12: 2.1788128296672284,
    13: 2.1603686564627913, 14: 2.144786687917804, 15: 2.131449545559776, 16: 2.1199052992212546,
    17: 2.1098155778333156, 18: 2.1009220402410382, 19: 2.0930240544083087, 20: 2.085963447265864,
    21: 2.0796138447276795, 22: 2.0738730679040254, 23: 2.0686576104190486, 24: 2.0638985616280245,
    25: 2.0595385527532972, 26: 2.0555294386428735, 27: 2.0518305164802846, 28: 2.0484071417952454,
    29: 2.045229642132703, 30: 2.0422724563012378,
}


def t_quantile(df, q=0.975):
    """Student's t quantile: the x with P(T <= x) = q for T with ``df`` degrees of freedom.

    Inputs:
    - df: Degrees of freedom, a positive integer (n - 1 for a mean of n values).
    - q: Probability in (0, 1); 0.975 gives the half-width factor of a 95 % interval.
    """
    if isinstance(df, bool) or not isinstance(df, (int, np.integer)) or df < 1:
        raise ValueError(f"t_quantile: df must be a positive integer (n - 1 for n values), got {df!r}")
    if not 0.0 < q < 1.0:
        raise ValueError(f"t_quantile: q must lie strictly between 0 and 1, got {q!r}")
    if q == 0.975 and int(df) in T_975:
        return T_975[int(df)]
    from scipy.special import stdtrit  # the same function as scipy.stats.t.ppf(q, df), lighter to import

    return float(stdtrit(int(df), q))


def _checked_values(values, level, who):
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size < 2:
        raise ValueError(f"{who}: needs at least two values (one per seed), got {values.size}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{who}: the values must be finite numbers")
    if not 0.0 < level < 1.0:
        raise ValueError(f"{who}: level must lie strictly between 0 and 1, got {level!r}")
    return values


def interval_half_width(values, level=0.95):
    """Half the width of the Student's t interval of the mean of ``values``: t(n - 1) * sd / sqrt(n).

    Inputs as :func:`mean_interval`; the interval is mean ± this number.
    """
    values = _checked_values(values, level, "interval_half_width")
    return t_quantile(values.size - 1, 0.5 + level / 2) * float(values.std(ddof=1)) / np.sqrt(values.size)


def mean_interval(values, level=0.95):
    """(mean, low, high): the mean of ``values`` and its Student's t interval at ``level``.

    Inputs:
    - values: At least two numbers (e.g. one accuracy difference per seed).
    - level: Coverage of the interval, 0.95 by default.

    Returns three floats; low < mean < high unless every value is the same.
    """
    values = _checked_values(values, level, "mean_interval")
    mean = float(values.mean())
    half = interval_half_width(values, level)
    return mean, mean - half, mean + half
