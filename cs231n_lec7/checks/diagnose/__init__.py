"""Diagnosis by properties: name the likely bug from what a function does.

A *property* is a small function ``prop(fn) -> list[Finding]`` that probes one
idea in isolation ("Adam's first step from fresh state has size ≈ α whatever
the gradient scale") on inputs of its own, so that other bugs or unusual state
handling do not hide it. It returns a :class:`Finding` only when its evidence
shows a specific mistake, and nothing when the property holds or when it
cannot tell (the function raised, returned something strange, ...). Several
bugs give several findings.

The same library runs in the notebook check cells, in ``pytest`` and in the
grader (where ``fn`` forwards each call to the sandboxed worker), so a
student sees the same "Likely bug — ..." line locally as in feedback.md.
No property needs hidden inputs.
"""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from typing import Callable

from ..core import quiet_numerics


@dataclasses.dataclass(frozen=True)
class Finding:
    """A named mistake (``kind='bug'``) or a remark that costs nothing (``kind='note'``)."""

    title: str
    explanation: str
    probe: str = ""
    kind: str = "bug"
    fallback: bool = False  # a measured symptom without a name: shown only when nothing is named

    def line(self) -> str:
        lead = "Likely bug" if self.kind == "bug" else "Note"
        return f"{lead} — {self.title}: {self.explanation}"

    def as_dict(self) -> dict:
        return {"title": self.title, "explanation": self.explanation, "probe": self.probe, "kind": self.kind}


class NoEvidence(Exception):
    """A property cannot tell (odd return value, missing state): it stays silent."""


def error_name(err: Exception) -> str:
    """The type of an exception raised by the student's code (also when it comes back from the worker)."""
    return getattr(err, "type_name", None) or type(err).__name__


PROPERTIES: dict[str, list[Callable]] = {}


def prop(*exercises: str):
    """Register ``func(exercise, fns) -> list[Finding] | Finding | None`` as a property of ``exercises``.

    ``fns("module.function")`` returns the function under test (``ctx.fn`` of the checks).
    """
    def register(func):
        for exercise in exercises:
            PROPERTIES.setdefault(exercise, []).append(func)
        return func

    return register


_LOADED = False


def _load():
    global _LOADED
    if not _LOADED:
        for info in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{info.name}")
        _LOADED = True


def properties(exercise: str) -> list[Callable]:
    _load()
    return list(PROPERTIES.get(exercise, []))


def diagnose(exercise: str, fns: Callable, stop: Callable[[], bool] = lambda: False) -> list[Finding]:
    """Every finding of ``exercise``'s properties (each title once, in property order).

    ``fns`` looks functions up by exercise id: ``LocalFunctions()`` in a student's
    checkout, the grader's remote proxy under ``grade``.

    Any exception raised while a property runs (the student's code failing, a
    worker timeout) silences that property only; ``stop()`` (the grader: "the
    worker is gone") ends the diagnosis and discards the findings of the
    property during which it became true. Fallback findings (a measured
    symptom that may follow from a named bug) are kept only when no property
    names a mistake.
    """
    found, titles = [], set()
    for func in properties(exercise):
        if stop():
            break
        try:
            with quiet_numerics():
                result = func(exercise, fns)
        except Exception:
            continue
        if stop():  # the worker died or timed out meanwhile: what the property saw is no evidence
            break
        for finding in [] if result is None else [result] if isinstance(result, Finding) else result:
            if finding.title not in titles:
                titles.add(finding.title)
                found.append(dataclasses.replace(finding, probe=finding.probe or func.__name__))
    named = [f for f in found if not f.fallback]
    return named or found


# Which checks a finding explains, by what its property measured. A finding about the step alone (ε, bias
# correction, learning rate, ...) does not explain a check that compares only the stored state or the inputs;
# one about calls with config=None explains only the checks that make such calls. Anything else (state,
# masks, coefficients that shape both the step and the state) explains every failing check.
STEP_ONLY = {"moves_downhill", "uses_learning_rate", "step_ignores_gradient_scale", "epsilon_outside_root",
             "adam_bias_correction", "adam_numerator", "adam_epsilon_on_v_hat"}
NONE_CALLS_ONLY = {"defaults_from_none"}
NOT_STEP_CHECKS = ("state after", "inputs untouched", "calls are independent")


def relevant(probe: str, check_name: str) -> bool:
    """Whether the finding of property ``probe`` bears on what the check ``check_name`` compares."""
    name = check_name.lower()
    if probe in NONE_CALLS_ONLY:
        return "config=none" in name
    if probe in STEP_ONLY:
        return not any(part in name for part in NOT_STEP_CHECKS)
    return True
