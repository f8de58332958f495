"""Graded batches written without grading: results.json and feedback.md as ``grade`` writes them.

For the class report's tests and benchmark. Each submission's outcome per check
is given (or drawn), and the files are produced by the grader's own writers
(``report.results_json``, ``report.feedback_md``) over the real registered
checks, so they have exactly the schema, names, tags and weights of a real run::

    from autograder.synthetic_batch import write_submission, random_batch
    write_submission(out, "ann", fractions={"optim.adam": 0.0},
                     diagnoses={"optim.adam": ["missing bias correction"]})
    random_batch(out, 1000, seed=0)     # a class of 1,000 with realistic mistakes
"""
from __future__ import annotations

import json
import os

import numpy as np

from . import mistakes, report
from .grade import GRADER_VERSION, checks_by_exercise, load_config

WRONG = ("{}: relative error 0.131 > tolerance 1e-07; worst at index (1, 2): expected -0.02881884, "
         "got -0.022140321")  # the default message of a failing check, as the checks word it
_MISTAKES = {}
for _m in mistakes.MISTAKES:
    _MISTAKES.setdefault(_m.exercise, []).append(_m)


def mistake(exercise, title):
    for m in _MISTAKES.get(exercise, []):
        if m.title == title:
            return m
    raise KeyError(f"{exercise} has no known mistake titled {title!r}")


def write_submission(out_dir, name, config=None, *, fractions=None, diagnoses=None, messages=None,
                     problem=None, sandbox="bwrap", restarts=0, restored=None, seconds=0.5, seed=None):
    """Write ``out_dir/name/results.json`` and ``feedback.md``; return the results dict.

    ``fractions``: {exercise: fraction of every one of its checks, or {check name: fraction}}
    (unlisted checks pass). ``diagnoses``: {exercise: [known mistake titles]}.
    ``messages``: {exercise: message of its failing checks} (default: a relative-error message).
    """
    config = config or load_config()
    seed = int(config["grading"]["seed"] if seed is None else seed)
    fractions, diagnoses, messages = fractions or {}, diagnoses or {}, messages or {}
    outcomes = []
    if not problem:
        for exercise, checks in checks_by_exercise(config).items():
            given = fractions.get(exercise, 1.0)
            for c in checks:
                f = float(given.get(c.name, 1.0) if isinstance(given, dict) else given)
                msg = "passed" if f >= 1.0 else messages.get(exercise, WRONG.format(c.name))
                outcomes.append({"check": c, "name": c.name, "exercise": exercise, "fraction": f, "message": msg,
                                 "status": "passed" if f >= 1.0 else "failed", "seed": seed})
    named = {ex: [{"title": t, "explanation": mistake(ex, t).explanation} for t in titles]
             for ex, titles in diagnoses.items() if titles}
    results = report.results_json(config, outcomes, named, seed=seed, problem=problem, sandbox_mode=sandbox,
                                  restarts=restarts, seconds=seconds, student_output="", hidden_output="",
                                  version=GRADER_VERSION)
    if restored:
        results["extra_data"]["grader_files_restored"] = list(restored)
    dest = os.path.join(out_dir, name)
    os.makedirs(dest, exist_ok=True)
    with open(os.path.join(dest, "results.json"), "w") as fh:
        json.dump(results, fh, indent=2)
    with open(os.path.join(dest, "feedback.md"), "w") as fh:
        fh.write(report.feedback_md(name, config, outcomes, named, results, problem))
    return results


def random_batch(out_dir, n, seed=0, config=None):
    """A class of ``n``: abilities vary, wrong exercises carry a known mistake of that exercise.

    About 1 % are not graded, 1 % hit a timeout, 1 % crash a worker, 5 % leave an
    exercise unimplemented. Returns the submission names.
    """
    config = config or load_config()
    rng = np.random.default_rng(seed)
    by_exercise = checks_by_exercise(config)
    exercises = list(by_exercise)
    hardness = rng.uniform(-1.0, 1.5, len(exercises))
    names = []
    for i in range(n):
        name = f"student{i:04d}"
        names.append(name)
        u = rng.random()
        if u < 0.01:
            write_submission(out_dir, name, config, problem="no cs231n_lec7/ folder found at the top of the "
                                                             "submission or one folder down", sandbox=None)
            continue
        ability = rng.normal(1.0, 1.0)
        fractions, diagnoses, messages = {}, {}, {}
        for k, exercise in enumerate(exercises):
            if rng.random() < 1.0 / (1.0 + np.exp(-(ability - hardness[k]) * 1.7)):
                continue
            checks = by_exercise[exercise]
            if rng.random() < 0.05:
                fractions[exercise], messages[exercise] = 0.0, "not implemented yet"
                continue
            fractions[exercise] = {c.name: (0.0 if rng.random() < 0.7 else float(rng.uniform(0.2, 0.99)))
                                   for c in checks}
            if all(f >= 1.0 for f in fractions[exercise].values()):
                fractions[exercise][checks[0].name] = 0.0
            known = _MISTAKES.get(exercise, [])
            if known and rng.random() < 0.7:
                m = known[int(rng.integers(len(known)))]
                if m.detect == "match":
                    diagnoses[exercise] = [m.title]
                else:
                    messages[exercise] = f"{exercise}: wrong values — {m.title}? {m.explanation}"
        if 0.01 <= u < 0.02:
            ex = exercises[int(rng.integers(len(exercises)))]
            fractions[ex], messages[ex] = 0.0, (f"time limit: the checks of {ex} did not finish within 10 s "
                                                f"(an infinite loop?)")
        elif 0.02 <= u < 0.03:
            ex = exercises[int(rng.integers(len(exercises)))]
            fractions[ex], messages[ex] = 0.0, (f"the worker exited with code 3 (did your code call exit() or "
                                                f"os._exit()?) while running {ex}")
        write_submission(out_dir, name, config, fractions=fractions, diagnoses=diagnoses, messages=messages,
                         restarts=int(0.01 <= u < 0.03), seconds=float(rng.uniform(0.3, 3.0)))
    return names
