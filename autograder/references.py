"""Stored expected values and reference trajectories: make them, and verify them.

``python -m autograder references`` recomputes, with the reference solution
in the source tree:

- ``cs231n_lec7/checks/expected/<topic>.npz`` from each visible check
  module's ``make_expected(ref)`` (shipped to students: visible checks need
  them since the release has no solution);
- ``autograder/references/<topic>.npz`` from each hidden check module's
  ``make_references(ref)`` (instructor only).

``verify()`` recomputes everything live and reports any stored value that
differs (the test suite calls it).
"""
from __future__ import annotations

import importlib
import os
import pkgutil

import numpy as np

from cs231n_lec7.checks.core import EXPECTED_DIR, LocalFunctions

REFERENCES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "references")
SOURCES = (("cs231n_lec7.checks", "make_expected", EXPECTED_DIR),
           ("autograder.hidden", "make_references", REFERENCES_DIR))


def _producers():
    for package_name, func_name, folder in SOURCES:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package_name}.{info.name}")
            if hasattr(module, func_name):
                yield os.path.join(folder, f"{info.name}.npz"), getattr(module, func_name)


def compute(ref=None):
    """{path: {key: array}} recomputed live with the reference solution."""
    ref = ref or LocalFunctions()
    return {path: {k: np.asarray(v) for k, v in produce(ref).items()} for path, produce in _producers()}


def write(ref=None, verbose=True):
    for path, values in compute(ref).items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        np.savez_compressed(path, **values)
        if verbose:
            print(f"wrote {os.path.relpath(path)} ({len(values)} arrays)")


def verify(ref=None, rtol=1e-12):
    """List of human-readable differences between stored and live values (empty = all equal)."""
    problems = []
    for path, values in compute(ref).items():
        if not os.path.exists(path):
            problems.append(f"{path} is missing")
            continue
        with np.load(path, allow_pickle=False) as stored:
            if set(stored.files) != set(values):
                problems.append(f"{path}: stored keys differ from live keys")
            for key, value in values.items():
                if key not in stored.files:
                    continue
                old = stored[key]
                if old.shape != value.shape:
                    problems.append(f"{path}: {key} has shape {old.shape}, live recomputation {value.shape}")
                elif not np.allclose(old, value, rtol=rtol, atol=0, equal_nan=True):
                    problems.append(f"{path}: {key} differs from live recomputation")
    return problems
