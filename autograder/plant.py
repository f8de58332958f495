"""Make test submissions from the solution: plant a wrong or hostile function into a copy.

Used by the test suite (every known mistake is planted and graded) and to
rebuild ``examples/submissions/``::

    from autograder.plant import copy_solution, plant_function, mistake_source
    sub = copy_solution(tmp / "alice")                   # tmp/alice/cs231n_lec7/...
    plant_function(sub, "optim.adam", mistake_source(m))  # appended; later def wins

A planted function is appended to the end of its module, so it replaces the
original definition at import time while the rest of the module stays intact.
"""
from __future__ import annotations

import inspect
import os
import re
import shutil
import textwrap

SOURCE_PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "cs231n_lec7")


def copy_solution(dest, package_dir=SOURCE_PACKAGE):
    """Copy the solution package to ``dest/cs231n_lec7``; return ``dest``."""
    os.makedirs(dest, exist_ok=True)
    shutil.copytree(package_dir, os.path.join(dest, "cs231n_lec7"),
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def function_source(fn, new_name):
    """Source of ``fn`` renamed to ``new_name``, preceded by the module-level helpers it calls."""
    module = inspect.getmodule(fn)
    seen, parts = set(), []

    def collect(f):
        for name in f.__code__.co_names:
            obj = getattr(module, name, None)
            if inspect.isfunction(obj) and obj.__module__ == module.__name__ and name not in seen:
                seen.add(name)
                collect(obj)
                parts.append(textwrap.dedent(inspect.getsource(obj)))

    collect(fn)
    main = textwrap.dedent(inspect.getsource(fn))
    main = re.sub(r"^def\s+\w+\s*\(", f"def {new_name}(", main, count=1, flags=re.M)
    return "\n\n".join(parts + [main])


def mistake_source(mistake):
    """Source planting a :class:`autograder.mistakes.Mistake` under its exercise's name."""
    return function_source(mistake.fn, mistake.exercise.rpartition(".")[2])


def plant_function(submission, exercise, source, header="import numpy as np\n"):
    """Append ``source`` (defining the exercise's function) to its module in ``submission``."""
    module = exercise.rpartition(".")[0]
    path = os.path.join(submission, "cs231n_lec7", f"{module}.py")
    with open(path, "a") as fh:
        fh.write(f"\n\n# ---- planted: {exercise} ----\n{header}\n{source}\n")
    return path


def replace_module(submission, module, text):
    """Overwrite a whole module of ``submission`` with ``text``."""
    path = os.path.join(submission, "cs231n_lec7", f"{module}.py")
    with open(path, "w") as fh:
        fh.write(text)
    return path
