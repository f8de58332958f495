"""Run the visible checks on your cs231n_lec7 package.

    pytest tests/test_visible_checks.py              # everything
    pytest tests/test_visible_checks.py -k adam      # one exercise

These are the same checks as the notebooks' check cells and as the visible
part of the grader. A failure prints what was expected, what came back and,
when the mistake is recognised, a "Likely bug — ..." line. Exercises you have
not written yet fail with "not implemented yet".
"""
import pytest

from cs231n_lec7.checks import failure_report, visible_checks
from cs231n_lec7.checks.core import CheckFailure, Context, ExpectedMissing, LocalFunctions, quiet_numerics

CHECKS = visible_checks()
SEEN = {}  # exercise -> likely bugs already explained in this run


@pytest.mark.parametrize("check", CHECKS, ids=[c.name for c in CHECKS])
def test_visible_check(check):
    fns = LocalFunctions()
    try:
        with quiet_numerics():
            check.func(Context(fns))
        return
    except (NotImplementedError, CheckFailure) as err:
        report = failure_report(check, err, fns, SEEN)
    except ExpectedMissing:
        raise
    except Exception as err:  # your code raised: the traceback shows where
        pytest.fail(failure_report(check, err, fns, SEEN))
    pytest.fail(report, pytrace=False)
