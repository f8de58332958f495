"""Class report: what a whole batch got right and wrong, for the instructor.

``python -m autograder report GRADES_DIR`` reads every ``results.json`` under
``GRADES_DIR`` (the ``--out`` of ``grade``) and writes ``GRADES_DIR/report.json``
and ``GRADES_DIR/report.html`` (one self-contained file; see
``classreport_html.py``; the files are read by ``classreport_results.py``).
report.json holds, besides DESIGN.md's fixed keys
(``submissions``; per exercise ``max``, ``mean``, ``median``, ``full_marks``,
``zero``, ``mistakes``):

- ``graded`` / ``not_graded``: statistics are over the graded submissions; one
  that could not be graded (``extra_data.problem``) tells nothing about what
  its author knows, and is listed under ``incidents`` instead;
- ``total``: the batch's score distribution; per exercise a ``histogram``,
  ``not_attempted`` (every check said "not implemented yet"), the notebook
  ``section`` to re-teach, ``explanations`` of each mistake, and
  ``mistakes_seen_by_checks`` (mistakes that randomness keeps the probe from
  matching — dropout, augmentation — are named in the check's own message);
- ``reteach``: every named mistake of the batch, most frequent first; ``sections``:
  the notebook sections ranked by how many submissions made a named mistake there;
- ``checks``: item statistics — difficulty (mean fraction of the check's points
  earned), pass rate, discrimination (corrected item–total correlation: the
  Pearson correlation between the check's fraction and the total score
  *without* that check; for a pass/fail check this is the point-biserial
  correlation) and flags;
- ``incidents``: submissions needing a human look (not graded, timeouts,
  worker crashes and restarts, grader files restored, a sandbox mode unlike
  the batch's, answers hard-coded for the visible inputs, unreadable
  results.json), each with the relative path of its ``feedback.md``;
- ``run``: grader versions, seeds, sandbox modes, when the results were
  written, grading time.

A results.json that cannot be read (not JSON, not the schema, too large, a
symbolic link) never stops the report: it is listed under ``incidents`` and
left out of every statistic.
"""
from __future__ import annotations

import datetime
import json
import os
import statistics
import tempfile
import tomllib

import numpy as np

from .classreport_results import Malformed, Submission, load_results, read_batch, text_of  # noqa: F401

CONFIG_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "config.toml")
FULL_TOL = 1e-4                  # points: rounding of per-test scores to 6 digits
NEARLY_ALL_FAIL = 0.10           # pass rate at or below: "nearly everyone fails"
NEARLY_NONE_FAIL = 0.95          # pass rate at or above: "nearly no one fails"
NEGATIVE_DISCRIMINATION = -0.2   # below: passing goes with lower totals
MIN_FOR_FLAGS = 5                # graded submissions needed before a check is flagged
MIN_FOR_DISCRIMINATION = 10      # ... before a negative discrimination is flagged
MAX_UNKNOWN_EXERCISES = 50       # exercises not in config.toml kept (a hostile file could name thousands)
MAX_CHECKS = 2000                # distinct checks in the item statistics (the grader has ~130)

# Phrases the judge writes (grade.py, sandbox.py) that mark an incident in a test's output.
TIMEOUT_PHRASES = ("time limit:", "did not finish within")
CRASH_PHRASES = ("the worker died", "the worker exited with code", "the worker closed its channel",
                 "the worker sent a malformed answer", "the worker sent an answer that is too large",
                 "killed the worker")
HARD_CODED_PHRASE = "passes the visible checks but none of the fresh problems"
NOT_IMPLEMENTED = "not implemented yet"
GRADER_ERROR_PHRASES = ("internal grader error", "grader process failed")


# --------------------------------------------------------------- statistics
def load_exercise_info(config_path=None):
    """{exercise: {"points", "notebook", "section"}} from config.toml, in its order ({} if unreadable)."""
    try:
        with open(config_path or CONFIG_PATH, "rb") as fh:
            exercises = tomllib.load(fh).get("exercises", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return {ex: spec for ex, spec in exercises.items() if isinstance(spec, dict)}


def check_detected_titles():
    """{exercise: {title: explanation}} of mistakes that checks name in their own messages."""
    try:
        from . import mistakes
    except Exception:  # the report must work without the grader's check library
        return {}
    out = {}
    for m in mistakes.MISTAKES:
        if m.detect == "check":
            out.setdefault(m.exercise, {})[m.title] = m.explanation
    return out


def _r(x, digits=4):
    return None if x is None else round(float(x), digits)


def histogram(values, top, bins=None):
    """Counts of ``values`` in equal bins over [0, top] (the last bin closed)."""
    top = float(top) if top and top > 0 else max([1.0, *values])
    bins = bins or 10
    counts, edges = np.histogram(np.clip(values, 0.0, top), bins=bins, range=(0.0, top))
    return {"edges": [_r(e) for e in edges], "counts": [int(c) for c in counts]}


def summary(values, top):
    values = [float(v) for v in values]
    return {"max": _r(top), "mean": _r(statistics.fmean(values)) if values else None,
            "median": _r(statistics.median(values)) if values else None,
            "full_marks": sum(v >= top - FULL_TOL for v in values) if top > 0 else 0,
            "zero": sum(v <= FULL_TOL for v in values)}


def exercise_order(submissions, info):
    """Exercises in config.toml's order, then unknown ones (at most MAX_UNKNOWN_EXERCISES); (kept, dropped)."""
    seen = {t.exercise for s in submissions for t in s.tests if t.exercise}
    unknown = sorted(seen - set(info))
    return [ex for ex in info if ex in seen] + unknown[:MAX_UNKNOWN_EXERCISES], \
        len(unknown[MAX_UNKNOWN_EXERCISES:])


def _mode(values, default=0.0):
    return statistics.mode(values) if values else default


def exercise_stats(graded, exercises, info, check_titles, named_by=None):
    """Per exercise: DESIGN.md's numbers and more. ``named_by`` (a list, one set per graded
    submission) receives the exercises in which that submission made a named mistake."""
    out = {}
    named_by = named_by if named_by is not None else [set() for _ in graded]
    for ex in exercises:
        scores, maxima, mistakes, seen_by_checks, explanations, not_attempted = [], [], {}, {}, {}, 0
        for s, named in zip(graded, named_by):
            mine = s.by_exercise.get(ex)
            if not mine:
                continue
            scores.append(sum(t.score for t in mine))
            maxima.append(round(sum(t.max_score for t in mine), 6))
            if all(t.output.strip() == NOT_IMPLEMENTED for t in mine):
                not_attempted += 1
            for title, explanation in dict(s.diagnoses.get(ex, [])).items():
                mistakes[title] = mistakes.get(title, 0) + 1
                named.add(ex)
                explanations.setdefault(title, explanation)
            failed_text = "\n".join(t.low for t in mine if not t.passed) if check_titles.get(ex) else ""
            for title, explanation in check_titles.get(ex, {}).items():
                if title.lower() in failed_text:
                    seen_by_checks[title] = seen_by_checks.get(title, 0) + 1
                    named.add(ex)
                    explanations.setdefault(title, explanation)
        top = _mode(maxima, float(info.get(ex, {}).get("points", 0.0)))
        stats = summary(scores, top)
        spec = info.get(ex, {})
        stats.update({
            "mistakes": dict(sorted(mistakes.items(), key=lambda kv: (-kv[1], kv[0]))),
            "mistakes_seen_by_checks": dict(sorted(seen_by_checks.items(), key=lambda kv: (-kv[1], kv[0]))),
            "explanations": explanations,
            "graded": len(scores), "not_attempted": not_attempted,
            "notebook": text_of(spec.get("notebook"), 100), "section": text_of(spec.get("section"), 200),
            "histogram": histogram(scores, top),
        })
        if len(set(maxima)) > 1:
            stats["mixed_max"] = sorted(set(maxima))
        out[ex] = stats
    return out


def reteach_list(exercises, n_graded):
    rows = []
    for ex, stats in exercises.items():
        for source, counts in (("diagnosis", stats["mistakes"]), ("check", stats["mistakes_seen_by_checks"])):
            for title, count in counts.items():
                rows.append({"exercise": ex, "title": title, "count": count,
                             "share": _r(count / n_graded if n_graded else 0.0),
                             "explanation": stats["explanations"].get(title, ""), "source": source,
                             "notebook": stats["notebook"], "section": stats["section"]})
    rows.sort(key=lambda r: (-r["count"], r["exercise"], r["title"]))
    return rows


def section_list(exercises, named_by, n_graded):
    """Notebook sections by how many graded submissions made a named mistake in one of their exercises."""
    sections = {}
    for ex, stats in exercises.items():
        key = (stats["notebook"], stats["section"])
        sections.setdefault(key, []).append(ex)
    rows = []
    for (notebook, section), members in sections.items():
        count = sum(1 for named in named_by if named & set(members))
        mistakes = sorted(((c, t) for ex in members for src in ("mistakes", "mistakes_seen_by_checks")
                           for t, c in exercises[ex][src].items()), key=lambda ct: (-ct[0], ct[1]))
        rows.append({"notebook": notebook, "section": section, "exercises": members, "submissions": count,
                     "share": _r(count / n_graded if n_graded else 0.0),
                     "top_mistakes": [t for _, t in mistakes[:3]]})
    rows.sort(key=lambda r: (-r["submissions"], r["notebook"], r["section"]))
    return rows


def item_statistics(graded, exercises):
    """Difficulty, pass rate and corrected item–total correlation of every check (at most MAX_CHECKS)."""
    keys, index, wanted = [], {}, set(exercises)
    for s in graded:
        for t in s.tests:
            if (t.exercise, t.name) not in index and t.max_score > 0 and t.exercise in wanted \
                    and len(keys) < MAX_CHECKS:
                index[(t.exercise, t.name)] = len(keys)
                keys.append((t.exercise, t.name, t.visibility, t.max_score))
    n = len(graded)
    frac = np.full((n, len(keys)), np.nan)
    points = np.zeros((n, len(keys)))
    passed = np.full((n, len(keys)), np.nan)
    totals = np.array([sum(t.score for t in s.tests) for s in graded], dtype=float)
    for i, s in enumerate(graded):
        for t in s.tests:
            j = index.get((t.exercise, t.name))
            if j is not None and t.max_score > 0:
                frac[i, j] = min(max(t.score / t.max_score, 0.0), 1.0)
                points[i, j] = t.score
                passed[i, j] = float(t.passed)
    order = {ex: k for k, ex in enumerate(exercises)}
    rows = []
    for j, (ex, name, visibility, max_score) in enumerate(keys):
        have = ~np.isnan(frac[:, j])
        x, rest = frac[have, j], totals[have] - points[have, j]
        disc = None
        if len(x) >= 3 and x.std() > 0 and rest.std() > 0:
            disc = float(np.corrcoef(x, rest)[0, 1])
        pass_rate = float(np.nanmean(passed[:, j])) if have.any() else None
        flags = []
        if len(x) >= MIN_FOR_FLAGS and pass_rate is not None:
            if pass_rate <= NEARLY_ALL_FAIL:
                flags.append("nearly everyone fails")
            elif pass_rate >= NEARLY_NONE_FAIL:
                flags.append("nearly no one fails")
        if len(x) >= MIN_FOR_DISCRIMINATION and disc is not None and disc < NEGATIVE_DISCRIMINATION:
            flags.append("negative discrimination")
        rows.append({"check": name, "exercise": ex, "visibility": visibility, "max": _r(max_score),
                     "n": int(have.sum()), "difficulty": _r(x.mean()) if len(x) else None,
                     "pass_rate": _r(pass_rate), "discrimination": _r(disc), "flags": flags})
    rows.sort(key=lambda r: (order.get(r["exercise"], len(order)), r["exercise"]))
    return rows


def _first_line_with(tests, phrases):
    for t in tests:
        if t.passed:  # the judge's incident messages are on failed tests only
            continue
        for phrase in phrases:
            if phrase in t.low:
                line = next((ln for ln in t.output.splitlines() if phrase in ln.lower()), t.output)
                return t.exercise, line.strip()
    return None


def incidents_of(submissions, unreadable, grades_dir):
    """Submissions that need a human look, each with what happened and its feedback.md (relative)."""
    modes = [s.sandbox for s in submissions if s.sandbox]
    usual = _mode(modes, "") if modes else ""
    out = []

    def feedback(folder):
        rel = "feedback.md" if folder == "." else f"{folder}/feedback.md"
        return rel if os.path.isfile(os.path.join(grades_dir, rel)) else None

    for name, folder, why in unreadable:
        out.append({"submission": name, "kinds": ["unreadable results.json"], "details": [why],
                    "feedback": feedback(folder)})
    for s in submissions:
        kinds, details = [], []
        if s.problem:
            grader_fault = any(p in s.problem.lower() for p in GRADER_ERROR_PHRASES)
            kinds.append("grader error" if grader_fault else "not graded")
            details.append(s.problem)
        else:
            for kind, phrases in (("timeout", TIMEOUT_PHRASES), ("worker crash", CRASH_PHRASES),
                                  ("hard-coded answers?", (HARD_CODED_PHRASE,))):
                hits = [hit for tests in s.by_exercise.values() if (hit := _first_line_with(tests, phrases))]
                if hits:
                    kinds.append(kind)
                    details += [f"{ex}: {line}" for ex, line in hits]
            if s.restarts:
                kinds.append("worker restarts")
                details.append(f"the worker was restarted {s.restarts} time(s)")
        if s.restored:
            kinds.append("grader files restored")
            details.append("changed grader files were restored: " + ", ".join(s.restored[:10]) +
                           (f" and {len(s.restored) - 10} more" if len(s.restored) > 10 else ""))
        if s.sandbox and usual and s.sandbox != usual:
            kinds.append("sandbox mode")
            details.append(f"graded in {s.sandbox} mode; most of the batch in {usual} mode")
        if s.notes:
            kinds.append("partly unreadable results.json")
            details += s.notes[:5]
        if kinds:
            out.append({"submission": s.name, "kinds": kinds, "details": details, "feedback": feedback(s.folder)})
    out.sort(key=lambda r: r["submission"])
    return out


def _counts(values):
    out = {}
    for v in values:
        key = "unknown" if v in (None, "") else str(v)
        out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def _iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).isoformat(timespec="seconds")


def build_report(grades_dir, config_path=None):
    """The report's content (report.json) for the results under ``grades_dir``."""
    if not os.path.isdir(grades_dir):
        raise FileNotFoundError(f"{grades_dir} is not a folder: give the --out folder of `grade`")
    submissions, unreadable = read_batch(grades_dir)
    info = load_exercise_info(config_path)
    graded = [s for s in submissions if not s.problem]
    exercises, dropped = exercise_order(submissions, info)
    named_by = [set() for _ in graded]
    ex_stats = exercise_stats(graded, exercises, info, check_detected_titles(), named_by)
    maxima = [round(sum(t.max_score for t in s.tests), 6) for s in graded]
    top = _mode(maxima, sum(float(spec.get("points", 0)) for spec in info.values()))
    total = summary([s.score for s in graded], top)
    total["histogram"] = histogram([s.score for s in graded], top, bins=20 if top >= 20 else None)
    incidents = incidents_of(submissions, unreadable, grades_dir)
    kinds = {}
    for inc in incidents:
        for k in inc["kinds"]:
            kinds[k] = kinds.get(k, 0) + 1
    written = [s.written for s in submissions]
    seconds = [s.seconds for s in submissions]
    return {
        "submissions": len(submissions),
        "graded": len(graded),
        "not_graded": len(submissions) - len(graded),
        "unreadable": len(unreadable),
        "exercises": ex_stats,
        "total": total,
        "reteach": reteach_list(ex_stats, len(graded)),
        "sections": section_list(ex_stats, named_by, len(graded)),
        "checks": item_statistics(graded, exercises),
        "unknown_exercises_dropped": dropped,
        "incidents": incidents,
        "incident_counts": dict(sorted(kinds.items())),
        "run": {
            "grader_version": _counts(s.version for s in submissions),
            "seed": _counts(s.seed for s in submissions),
            "sandbox": _counts(s.sandbox for s in submissions),
            "graded_from": _iso(min(written)) if written else None,
            "graded_to": _iso(max(written)) if written else None,
            "report_written": _iso(datetime.datetime.now(datetime.timezone.utc).timestamp()),
            "grading_seconds_total": _r(sum(seconds), 2),
            "grading_seconds_median": _r(statistics.median(seconds), 3) if seconds else None,
            "grading_seconds_max": _r(max(seconds), 3) if seconds else None,
            "results_found": len(submissions) + len(unreadable),
        },
        "thresholds": {"nearly_everyone_fails": NEARLY_ALL_FAIL, "nearly_no_one_fails": NEARLY_NONE_FAIL,
                       "negative_discrimination": NEGATIVE_DISCRIMINATION, "min_for_flags": MIN_FOR_FLAGS,
                       "min_for_discrimination": MIN_FOR_DISCRIMINATION},
    }


def write_report(grades_dir, config_path=None):
    """Write ``report.json`` and ``report.html`` into ``grades_dir``; return their paths."""
    from .classreport_html import render_html

    report = build_report(grades_dir, config_path)
    json_path = os.path.join(grades_dir, "report.json")
    html_path = os.path.join(grades_dir, "report.html")
    for path, text in ((json_path, json.dumps(report, indent=1)), (html_path, render_html(report))):
        # a fresh temporary file (never a name someone could have planted a link at), then an atomic rename
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=grades_dir, prefix=".report-",
                                         delete=False) as fh:
            fh.write(text)
        os.chmod(fh.name, 0o644)
        os.replace(fh.name, path)
    return html_path, json_path
