"""Known mistakes: wrong implementations that students really write, and right ones written differently.

One module per topic, parallel to ``autograder/hidden/`` and ``cs231n_lec7/checks/``
(``layers.py``, ``regularization.py``, ...; the update rules split along the
lecture's sections: ``optim_momentum.py``, ``optim_adaptive.py``). Each module lists

- ``MISTAKES``: :class:`Mistake` entries — an exercise, the ``title`` the grader
  names it by, an ``explanation`` in plain words and a wrong implementation
  ``fn`` with the exercise's signature, written the way students write it;
- ``CORRECT``: :class:`Variant` entries — right implementations that look
  different (other state handling, in-place-safe forms, float64 promotion,
  other algebra). They must keep full marks with no "Likely bug" line.

The functions are self-contained (only ``np`` and helpers of their own
module), so the test suite plants each one into a copy of the solution and
grades it with the real grader.

How a mistake gets named (``detect``):

- ``"property"``: the diagnosis library in ``cs231n_lec7/checks/diagnose/``
  measures properties of the student's function (no hidden input needed, so
  students see the same line locally);
- ``"match"``: the grader runs a fixed *probe* through the student's function
  and each wrong implementation; matching outputs (and not the reference's)
  name the mistake — one signal among others, for topics without properties;
- ``"check"``: randomness makes matching impossible, so a check recognises the
  symptom itself and its message contains ``title``.
"""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from typing import Callable

import numpy as np

from cs231n_lec7.checks.core import quiet_numerics


@dataclasses.dataclass(frozen=True)
class Mistake:
    exercise: str
    title: str
    explanation: str
    fn: Callable
    detect: str = "match"
    also: tuple = ()  # further titles the feedback must name (several bugs at once)
    slug: str = ""    # a name for the planted submission when a title repeats

    @property
    def titles(self) -> tuple:
        return (self.title, *self.also)

    @property
    def key(self) -> str:
        return self.slug or self.fn.__name__


@dataclasses.dataclass(frozen=True)
class Variant:
    """A right implementation written differently; ``note`` is a remark it may earn (e.g. float64)."""

    exercise: str
    name: str
    fn: Callable
    note: str = ""


MISTAKES: list = []
CORRECT: list = []
PROBES: dict = {}


def _same(a, b):
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x.shape != y.shape:
            return False
        if not np.allclose(x, y, rtol=1e-6, atol=1e-12, equal_nan=True):
            return False
    return True


def diagnose(exercise, student_fn, reference_fn):
    """Mistakes (by ``detect='match'``) whose outputs the student's function reproduces.

    ``student_fn`` may be remote; any exception from it means no diagnosis.
    """
    probe = PROBES.get(exercise)
    if probe is None:
        return []
    try:
        with quiet_numerics():
            got = probe(student_fn)
    except Exception:
        return []
    with quiet_numerics():
        if _same(got, probe(reference_fn)):
            return []
        found = []
        for mistake in MISTAKES:
            if mistake.exercise != exercise or mistake.detect != "match":
                continue
            try:
                if _same(got, probe(mistake.fn)):
                    found.append(mistake)
            except Exception:
                continue
    return found


def for_exercise(exercise):
    return [m for m in MISTAKES if m.exercise == exercise]


def _load_topics():
    """Collect ``MISTAKES``, ``CORRECT`` and ``PROBES`` of every topic module in this package."""
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        MISTAKES.extend(getattr(module, "MISTAKES", []))
        CORRECT.extend(getattr(module, "CORRECT", []))
        PROBES.update(getattr(module, "PROBES", {}))


_load_topics()
