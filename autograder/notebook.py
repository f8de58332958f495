"""Hidden checks inside a notebook, for ``nbgrader autograde`` on the instructor's machine.

A hidden-test region of a notebook's autograder cell reads::

    ### BEGIN HIDDEN TESTS
    from autograder.notebook import run_hidden
    run_hidden("optim.adam")
    ### END HIDDEN TESTS

``run_hidden`` runs the exercise's hidden checks (the same ones the grader
runs) on the package the kernel imports as ``cs231n_lec7`` — the student's —
comparing with the reference solution, which it loads from the instructor's
tree under another name so the two never mix. Problems are drawn from the
grade seed in ``config.toml``. It prints only to stdout and raises
``CheckFailure`` on the first failed check (nbgrader then scores the cell 0).
"""
from __future__ import annotations

import importlib.util
import os
import sys

REFERENCE_PACKAGE = "_lec7_reference"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def reference_functions():
    """The instructor's solution, imported as ``_lec7_reference`` (relative imports only)."""
    from cs231n_lec7.checks.core import LocalFunctions

    if REFERENCE_PACKAGE not in sys.modules:
        pkg_dir = os.path.join(ROOT, "cs231n_lec7")
        spec = importlib.util.spec_from_file_location(
            REFERENCE_PACKAGE, os.path.join(pkg_dir, "__init__.py"), submodule_search_locations=[pkg_dir])
        module = importlib.util.module_from_spec(spec)
        sys.modules[REFERENCE_PACKAGE] = module
        spec.loader.exec_module(module)
    return LocalFunctions(package=REFERENCE_PACKAGE)


def run_hidden(exercise: str, seed: int | None = None) -> None:
    """Run the hidden checks of ``exercise`` in this kernel (returns None: nbgrader reads return values)."""
    from cs231n_lec7.checks.core import CheckFailure, Context, LocalFunctions, check_seed, quiet_numerics

    from .grade import all_checks, load_config

    config = load_config()
    base = int(config["grading"]["seed"] if seed is None else seed)
    checks = [c for c in all_checks().values() if c.hidden and c.exercises[0] == exercise]
    if not checks:
        raise ValueError(f"no hidden checks for {exercise!r}")
    ref = reference_functions()
    for c in checks:
        ctx = Context(LocalFunctions(), ref=ref, seed=check_seed(base, c.name))
        try:
            with quiet_numerics():
                c.func(ctx)
        except NotImplementedError as err:
            raise CheckFailure(f"hidden check of {exercise} failed: not implemented yet ({err})") from None
        except CheckFailure:
            raise CheckFailure(f"a hidden check of {exercise} failed") from None
    print(f"{exercise}: {len(checks)} hidden checks passed")
