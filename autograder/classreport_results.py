"""Read a batch's results.json files for the class report, trusting none of them.

A results.json is written by the grader, but the report must survive any file
found under the grades folder: not JSON, not the schema, non-finite numbers,
deep nesting, huge, not UTF-8, a symbolic link. :func:`load_results` turns a
usable file into a :class:`Submission` (every string cut to a bounded length;
parts outside the schema ignored and noted) or raises :class:`Malformed` with
one line saying why.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import stat

MAX_RESULTS_BYTES = 32 * 2**20   # a results.json larger than this is not read
MAX_TESTS = 5000                 # tests in one results.json (the grader writes ~130)
TEXT_CHARS = 2000                # of any one string kept from a results.json


class Malformed(Exception):
    """A results.json that cannot be used; the message says why, in one line."""


@dataclasses.dataclass(slots=True)
class Test:
    name: str
    exercise: str
    score: float
    max_score: float
    passed: bool
    visibility: str
    output: str          # of a failed test ('' for a passed one)
    low: str             # the same, lower-cased


@dataclasses.dataclass
class Submission:
    name: str
    folder: str                    # relative to GRADES_DIR, '/'-separated
    score: float
    tests: list
    problem: str
    sandbox: str
    restarts: int
    version: str
    seed: object
    diagnoses: dict                # exercise -> [(title, explanation)]
    restored: list
    seconds: float
    written: float                 # mtime of results.json
    notes: list                    # parts of the file that were unreadable and ignored
    by_exercise: dict = dataclasses.field(default_factory=dict)  # exercise -> its tests

    def __post_init__(self):
        for t in self.tests:
            self.by_exercise.setdefault(t.exercise, []).append(t)


# ------------------------------------------------------------------ reading
def text_of(value, limit=TEXT_CHARS):
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return text if len(text) <= limit else text[:limit] + " [...]"


def _number(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise Malformed(f"{what} is not a finite number ({text_of(repr(value), 60)})")
    return float(value)


def _reject_constant(name):
    raise Malformed(f"the file contains {name}, which is not a number")


def load_results(path, name, folder):
    """Read one results.json into a :class:`Submission`; raise :class:`Malformed` if it cannot be used."""
    if os.path.islink(path):
        raise Malformed("results.json is a symbolic link; it was not followed")
    try:
        # O_NONBLOCK: a FIFO named results.json must not hang the report; O_NOFOLLOW: no late symlink
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise Malformed("results.json is not a regular file")
            if st.st_size > MAX_RESULTS_BYTES:
                raise Malformed(f"results.json is {st.st_size // 2**20} MB, more than the "
                                f"{MAX_RESULTS_BYTES // 2**20} MB a grader ever writes")
            raw = fh.read(MAX_RESULTS_BYTES + 1)
        if len(raw) > MAX_RESULTS_BYTES:
            raise Malformed(f"results.json is larger than the {MAX_RESULTS_BYTES // 2**20} MB a grader ever writes")
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        written = st.st_mtime
    except Malformed:
        raise
    except OSError as err:
        raise Malformed(f"results.json could not be read ({err.strerror or err})") from None
    except UnicodeDecodeError:
        raise Malformed("results.json is not UTF-8 text") from None
    except RecursionError:
        raise Malformed("results.json is nested too deeply") from None
    except ValueError as err:
        raise Malformed(f"results.json is not valid JSON ({text_of(str(err), 120)})") from None
    if not isinstance(data, dict):
        raise Malformed("results.json does not hold an object")
    tests_in = data.get("tests")
    if not isinstance(tests_in, list):
        raise Malformed("results.json has no list of tests")
    if len(tests_in) > MAX_TESTS:
        raise Malformed(f"results.json lists {len(tests_in)} tests, more than the {MAX_TESTS} a grader ever writes")
    notes = []
    tests = []
    for i, t in enumerate(tests_in, 1):
        if not isinstance(t, dict):
            raise Malformed(f"test {i} is not an object")
        score = _number(t.get("score"), f"test {i}'s score")
        max_score = _number(t.get("max_score", 0.0), f"test {i}'s max_score")
        tags = t.get("tags")
        exercise = tags[0] if isinstance(tags, list) and tags and isinstance(tags[0], str) else ""
        if not exercise:
            notes.append(f"test {i} has no exercise tag")
        status = t.get("status")
        passed = status == "passed" if isinstance(status, str) else score >= max_score > 0
        output = "" if passed else text_of(t.get("output"))  # only failures carry what the report looks for
        tests.append(Test(text_of(t.get("name"), 300) or f"test {i}", text_of(exercise, 200), score, max_score,
                          passed, text_of(t.get("visibility"), 20) or "visible", output, output.lower()))
    score = _number(data.get("score", sum(t.score for t in tests)), "the total score")
    extra = data.get("extra_data")
    if not isinstance(extra, dict):
        if extra is not None:
            notes.append("extra_data is not an object")
        extra = {}
    diagnoses = {}
    raw = extra.get("diagnoses") or {}
    if isinstance(raw, dict):
        for ex, found in raw.items():
            items = found if isinstance(found, list) else []
            pairs = [(text_of(d.get("title"), 300), text_of(d.get("explanation")))
                     for d in items if isinstance(d, dict) and isinstance(d.get("title"), str) and d["title"]]
            if len(pairs) != len(found if isinstance(found, list) else [None]):
                notes.append(f"diagnoses of {text_of(ex, 100)} partly unreadable")
            if pairs:
                diagnoses[text_of(ex, 200)] = pairs
    else:
        notes.append("diagnoses is not an object")
    restored = extra.get("grader_files_restored") or []
    restored = [text_of(p, 300) for p in restored] if isinstance(restored, list) else [text_of(restored, 300)]
    restarts = extra.get("worker_restarts", 0)
    restarts = int(restarts) if isinstance(restarts, (int, float)) and not isinstance(restarts, bool) \
        and math.isfinite(restarts) else 0
    seconds = data.get("execution_time", 0.0)
    seconds = float(seconds) if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) \
        and math.isfinite(seconds) else 0.0
    seed = extra.get("seed")
    return Submission(name=name, folder=folder, score=score, tests=tests, problem=text_of(extra.get("problem")),
                      sandbox=text_of(extra.get("sandbox"), 40), restarts=max(restarts, 0),
                      version=text_of(extra.get("grader_version"), 40),
                      seed=seed if isinstance(seed, int) and not isinstance(seed, bool)
                      else text_of(seed, 40) or None,
                      diagnoses=diagnoses, restored=restored, seconds=seconds, written=written, notes=notes)


def find_results(grades_dir):
    """Paths of every ``results.json`` under ``grades_dir`` (no symbolic folder followed), sorted."""
    found = []
    for dirpath, dirnames, filenames in os.walk(grades_dir):
        dirnames.sort()
        if "results.json" in filenames:
            found.append(os.path.join(dirpath, "results.json"))
    return sorted(found)


def read_batch(grades_dir):
    """(submissions, unreadable): unreadable = [(name, folder, why)]."""
    submissions, unreadable = [], []
    root = os.path.abspath(grades_dir)
    for path in find_results(root):
        folder = os.path.relpath(os.path.dirname(path), root).replace(os.sep, "/")
        name = os.path.basename(root) if folder == "." else folder
        try:
            submissions.append(load_results(path, name, folder))
        except Malformed as err:
            unreadable.append((name, folder, str(err)))
    return submissions, unreadable
