"""Visible checks of the exercises, runnable from a notebook or with pytest.

In a notebook, right after an exercise::

    from cs231n_lec7.checks import check_exercise
    check_exercise("optim.adam")

prints one line per check and raises :class:`CheckFailure` (with a message
saying what was expected and what came back) on the first failure.

From a terminal: ``pytest tests/test_visible_checks.py -k adam``.
"""
from __future__ import annotations

import importlib
import pkgutil

from .core import REGISTRY, Check, CheckFailure, Context, LocalFunctions, quiet_numerics

__all__ = ["check_exercise", "load_checks", "visible_checks", "CheckFailure", "REGISTRY"]


def load_checks(*packages: str) -> dict[str, Check]:
    """Import every check module of ``packages`` (default: this one); return the registry."""
    for package_name in packages or (__name__,):
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__):
            if info.name != "core" and not info.name.startswith("_"):
                importlib.import_module(f"{package_name}.{info.name}")
    return REGISTRY


def visible_checks(exercise: str | None = None) -> list[Check]:
    """The visible checks (of one exercise id, or all), in registration order."""
    load_checks()
    return [c for c in REGISTRY.values()
            if not c.hidden and (exercise is None or exercise in c.exercises)]


def check_exercise(exercise: str, verbose: bool = True) -> None:
    """Run the visible checks of ``exercise`` on your package; raise on the first failure.

    Returns None (a returned number would be read by nbgrader as partial credit).
    """
    checks = visible_checks(exercise)
    if not checks:
        known = sorted({e for c in visible_checks() for e in c.exercises})
        raise ValueError(f"no checks for {exercise!r}; known exercises: {', '.join(known)}")
    ctx = Context(LocalFunctions())
    for c in checks:
        try:
            with quiet_numerics():
                c.func(ctx)
        except NotImplementedError as err:
            raise CheckFailure(f"{c.name}: not implemented yet ({err})") from None
        except CheckFailure as err:
            raise CheckFailure(f"{c.name}: FAILED\n  {err}") from None
        if verbose:
            print(f"  passed  {c.name}")
    if verbose:
        print(f"{exercise}: all {len(checks)} visible checks passed")
