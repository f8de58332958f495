"""Shared pytest fixtures (kept small; each one says what it gives and who uses it).

- ``root``       : the source tree's top folder (str).
- ``torch``      : the torch module, or the test is skipped cleanly when torch is absent
                   (truth tests against ``torch.optim``; torch is optional, pinned to 2.13.0).
- ``release``    : one student release built with ``make_release(..., notebooks=False)``
                   for the whole session (a str path; read-only — copy it before changing it).
- ``python_env`` : ``python_env(pythonpath)`` -> an environment for a subprocess that imports
                   from ``pythonpath`` first (a release, an install target) and writes no bytecode.
"""
from __future__ import annotations

import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="session")
def root():
    """The source tree's top folder."""
    return ROOT


@pytest.fixture
def torch():
    """The torch module; skips the test when torch is not installed."""
    return pytest.importorskip("torch")


@pytest.fixture(scope="session")
def release(tmp_path_factory):
    """A student release without notebooks, built once per session (do not modify it)."""
    from autograder.release import make_release

    out = tmp_path_factory.mktemp("release") / "rel"
    return make_release(str(out), notebooks=False)


@pytest.fixture(scope="session")
def python_env():
    """Factory: environment for a subprocess importing from ``pythonpath`` before anything else."""

    def make(pythonpath):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYTEST"))}
        env["PYTHONPATH"] = str(pythonpath)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    return make
