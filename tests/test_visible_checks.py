"""Run the visible checks on your cs231n_lec7 package.

    pytest tests/test_visible_checks.py              # everything
    pytest tests/test_visible_checks.py -k adam      # one exercise

These are the same checks as the notebooks' check cells and as the visible
part of the grader. Exercises you have not written yet fail with
"not implemented yet".
"""
import pytest

from cs231n_lec7.checks import visible_checks
from cs231n_lec7.checks.core import Context, LocalFunctions, quiet_numerics

CHECKS = visible_checks()


@pytest.mark.parametrize("check", CHECKS, ids=[c.name for c in CHECKS])
def test_visible_check(check):
    ctx = Context(LocalFunctions())
    with quiet_numerics():
        check.func(ctx)
