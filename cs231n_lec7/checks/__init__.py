"""Visible checks of the exercises, runnable from a notebook or with pytest.

In a notebook, right after an exercise::

    from cs231n_lec7.checks import check_exercise
    check_exercise("optim.adam")

prints one line per check and raises :class:`CheckFailure` on the first
failure, with a message saying what was expected and what came back and —
when the diagnosis library (``checks/diagnose/``) recognises it — a
"Likely bug — ..." line, the same one the grader writes in feedback.md.

From a terminal: ``pytest tests/test_visible_checks.py -k adam``.
"""
from __future__ import annotations

import importlib
import pkgutil

from .core import REGISTRY, Check, CheckFailure, Context, ExpectedMissing, LocalFunctions, quiet_numerics

__all__ = ["check_exercise", "failure_report", "load_checks", "visible_checks", "CheckFailure", "REGISTRY"]


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


def failure_report(check: Check, err: Exception, fns, seen: dict | None = None) -> str:
    """What a student reads when ``check`` failed with ``err``: the message and the likely bugs.

    ``seen`` (exercise -> titles already shown) shortens the likely bugs of
    later failures of the same exercise to their titles.
    """
    from .diagnose import diagnose

    if isinstance(err, NotImplementedError):
        return f"{check.name}: not implemented yet (NotImplementedError: {err})"
    message = str(err) if isinstance(err, CheckFailure) else f"your code raised {type(err).__name__}: {err}"
    lines = [f"{check.name}: FAILED", f"  {message}"]
    exercise = check.exercises[0]
    if seen is not None and exercise in seen:
        if seen[exercise]:
            lines.append(f"  Likely bug (explained above) — {'; '.join(seen[exercise])}")
        return "\n".join(lines)
    findings = [f for f in diagnose(exercise, fns) if f.kind == "bug"]
    if seen is not None:
        seen[exercise] = [f.title for f in findings]
    lines += [f"  {finding.line()}" for finding in findings]
    return "\n".join(lines)


def check_exercise(exercise: str, verbose: bool = True) -> None:
    """Run the visible checks of ``exercise`` on your package; raise on the first failure.

    Returns None (a returned number would be read by nbgrader as partial credit).
    """
    checks = visible_checks(exercise)
    if not checks:
        known = sorted({e for c in visible_checks() for e in c.exercises})
        raise ValueError(f"no checks for {exercise!r}; known exercises: {', '.join(known)}")
    fns = LocalFunctions()
    notes = []
    for c in checks:
        ctx = Context(fns)
        try:
            with quiet_numerics():
                c.func(ctx)
        except (NotImplementedError, CheckFailure) as err:
            raise CheckFailure(failure_report(c, err, fns)) from None
        except ExpectedMissing:
            raise
        except Exception as err:  # the student's code raised: keep its traceback, add the diagnosis
            raise CheckFailure(failure_report(c, err, fns)) from err
        notes += [n for n in ctx.notes if n not in notes]
        if verbose:
            print(f"  passed  {c.name}")
    if verbose:
        print(f"{exercise}: all {len(checks)} visible checks passed")
        for note in notes:
            print(f"  Note — {note}")
