"""Every known mistake, planted into a copy of the solution and graded in one batch.

For each :data:`autograder.mistakes.MISTAKES` entry the planted submission must
lose points on its own exercise, keep full marks everywhere else, and its
feedback must name the mistake (its title) in plain words.
"""
from __future__ import annotations

import os

import pytest

from autograder.grade import grade_batch, load_config
from autograder.mistakes import MISTAKES
from autograder.plant import copy_solution, mistake_source, plant_function
from cs231n_lec7 import capstone

# A backward check has to run the student's own forward pass (the cache format is
# theirs), so a forward mistake may cost points there too. Listed, not hidden.
# The capstone trains with the student's own update rule, schedule and dropout.
DEPENDS_ON = {"capstone.training_config": capstone.uses(capstone.training_config())}


def _slug(m):
    return f"{m.exercise}__{m.title}".replace(" ", "_").replace("/", "_").replace("(", "").replace(")", "")


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    base = tmp_path_factory.mktemp("mistakes")
    config = load_config()
    config["limits"]["per_exercise_timeout_s"] = 5.0
    paths = []
    for m in MISTAKES:
        sub = copy_solution(str(base / _slug(m)))
        plant_function(sub, m.exercise, mistake_source(m))
        paths.append(sub)
    out = base / "out"
    rows = grade_batch(paths, str(out), jobs=2, config=config, progress=False)
    return {"rows": {r["submission"]: r for r in rows}, "out": out, "config": config}


def test_there_are_at_least_fifteen_named_mistakes():
    assert len(MISTAKES) >= 15
    assert len({(m.exercise, m.title) for m in MISTAKES}) == len(MISTAKES)


@pytest.mark.parametrize("mistake", MISTAKES, ids=_slug)
def test_planted_mistake_is_caught_and_named(planted, mistake):
    row = planted["rows"][_slug(mistake)]
    config = planted["config"]
    assert not row["problem"], row["problem"]
    assert row[mistake.exercise] < config["exercises"][mistake.exercise]["points"], "the mistake earned full marks"
    for ex, spec in config["exercises"].items():
        if ex == mistake.exercise or mistake.exercise in DEPENDS_ON.get(ex, ()):
            continue
        assert row[ex] == pytest.approx(spec["points"]), f"{ex} lost points for a mistake in {mistake.exercise}"
    feedback = (planted["out"] / _slug(mistake) / "feedback.md").read_text()
    assert mistake.title in feedback, f"feedback does not name {mistake.title!r}"
