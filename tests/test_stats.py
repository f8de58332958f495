"""cs231n_lec7.stats: the written-out t quantiles are scipy's, and the intervals are the textbook's."""
import numpy as np
import pytest
from scipy import stats as scipy_stats

from cs231n_lec7 import stats


@pytest.mark.parametrize("df", range(1, 31))
def test_table_is_scipys_quantile(df):
    assert stats.T_975[df] == pytest.approx(scipy_stats.t.ppf(0.975, df), rel=1e-12)
    assert stats.t_quantile(df) == stats.T_975[df]


def test_a_wrong_table_entry_is_caught(monkeypatch):
    """The check above fails for a planted entry off in the third decimal (1.96, the normal quantile, for df 30)."""
    monkeypatch.setitem(stats.T_975, 30, 1.959963984540054)
    assert stats.t_quantile(30) != pytest.approx(scipy_stats.t.ppf(0.975, 30), rel=1e-12)


@pytest.mark.parametrize("df,q", [(31, 0.975), (100, 0.975), (4, 0.95), (9, 0.995)])
def test_outside_the_table_scipy_answers(df, q):
    assert stats.t_quantile(df, q) == pytest.approx(scipy_stats.t.ppf(q, df), rel=1e-12)


def test_mean_interval_matches_scipys_t_interval():
    values = np.array([1.2, -0.4, 2.9, 0.7, 1.5])
    mean, low, high = stats.mean_interval(values)
    ref_low, ref_high = scipy_stats.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=scipy_stats.sem(values))
    assert mean == pytest.approx(values.mean())
    assert (low, high) == pytest.approx((ref_low, ref_high), rel=1e-12)
    low90, high90 = stats.mean_interval(values, level=0.9)[1:]
    assert low < low90 < mean < high90 < high
    assert stats.interval_half_width(values) == pytest.approx((high - low) / 2, rel=1e-12)


@pytest.mark.parametrize("bad,match", [(0, "positive integer"), (2.5, "positive integer"), (True, "positive integer"),
                                       (-3, "positive integer")])
def test_bad_degrees_of_freedom_are_named(bad, match):
    with pytest.raises(ValueError, match=match):
        stats.t_quantile(bad)


@pytest.mark.parametrize("values,match", [([1.0], "at least two"), ([1.0, np.nan], "finite"), ([], "at least two")])
def test_bad_values_are_named(values, match):
    with pytest.raises(ValueError, match=match):
        stats.mean_interval(values)
    with pytest.raises(ValueError, match=match):
        stats.interval_half_width(values)


def test_bad_level_is_named():
    with pytest.raises(ValueError, match="level"):
        stats.mean_interval([1.0, 2.0], level=95)
    with pytest.raises(ValueError, match="q must"):
        stats.t_quantile(4, 1.5)
