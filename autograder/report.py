"""Turn check outcomes into results.json (Gradescope), feedback.md and grades.csv.

Scoring: each exercise's points (``config.toml``) are shared by its checks
in proportion to their weights; a check earns its share times the fraction
it passed (partial credit). Hidden checks count like any other but their
messages go only to ``visibility: hidden`` tests (instructors see them in
Gradescope); ``feedback.md`` says only how many hidden checks passed.
"""
from __future__ import annotations

import csv
import os

from cs231n_lec7.checks.diagnose import relevant

from . import inert


def _round(x, digits=6):
    return round(float(x), digits)


def exercise_scores(config, results):
    scores = {ex: 0.0 for ex in config["exercises"]}
    for test in results.get("tests", []):
        for tag in test.get("tags", [])[:1]:
            if tag in scores:
                scores[tag] += test["score"]
    return scores


OUTPUT_CHARS = 4000  # of the student's output kept in results.json


def first_chars(text, limit=OUTPUT_CHARS):
    text = inert.strip_control(inert.valid_text(text))
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit} more characters dropped]"


def results_json(config, outcomes, diagnoses, *, seed, problem, sandbox_mode, restarts, seconds,
                 student_output, hidden_output, version):
    """Gradescope's results.json.

    ``student_output``: what the student's code printed during the visible checks
    (shown in feedback). ``hidden_output``: what it printed while hidden checks
    called it — it may quote hidden inputs, so it only goes to ``extra_data``,
    which Gradescope shows to instructors, never into a test or ``output``.
    """
    exercises = config["exercises"]
    tests = []
    if problem:
        for ex, spec in exercises.items():
            tests.append({"name": f"{ex}: not graded", "score": 0.0, "max_score": float(spec["points"]),
                          "status": "failed", "output": problem, "visibility": "visible", "tags": [ex]})
    else:
        weights = {}
        for o in outcomes:
            weights[o["exercise"]] = weights.get(o["exercise"], 0.0) + o["check"].weight
        for o in outcomes:
            ex, c = o["exercise"], o["check"]
            max_score = exercises[ex]["points"] * c.weight / weights[ex]
            output = inert.clip(o["message"])
            if o["fraction"] < 1.0 and ex in diagnoses:  # only those bearing on what this check compares
                output += "".join(f"\nLikely bug — {d['title']}: {d['explanation']}" for d in diagnoses[ex]
                                  if relevant(d.get("probe", ""), o["name"]))
            output += "".join(f"\nNote — {n}" for n in o.get("notes", ()))
            tests.append({"name": o["name"], "score": _round(max_score * o["fraction"]),
                          "max_score": _round(max_score), "status": "passed" if o["fraction"] >= 1.0 else "failed",
                          "output": output, "visibility": "hidden" if c.hidden else "visible",
                          "tags": list(c.exercises)})
    total = _round(sum(t["score"] for t in tests))
    max_total = _round(sum(spec["points"] for spec in exercises.values()))
    summary = f"Score {total:g} / {max_total:g}."
    if problem:
        summary += f" This submission could not be graded: {inert.clip(problem)}"
    if sandbox_mode == "subprocess":
        summary += " (Graded in subprocess mode, without namespace isolation.)"
    return {
        "score": total,
        "output": summary,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "execution_time": _round(seconds),
        "tests": tests,
        "extra_data": {
            "max_score": max_total,
            "seed": int(seed),
            "sandbox": sandbox_mode,
            "worker_restarts": int(restarts),
            "grader_version": version,
            "problem": inert.clip(problem) if problem else problem,
            "diagnoses": diagnoses,
            "student_output": first_chars(student_output),
            "hidden_checks_output": first_chars(hidden_output),
        },
    }


def feedback_md(name, config, outcomes, diagnoses, results, problem):
    lines = [f"# Feedback for {inert.md_text(name)}", ""]
    max_total = results["extra_data"]["max_score"]
    lines.append(f"**Score: {results['score']:g} / {max_total:g}**")
    lines.append("")
    if problem:
        lines += [f"This submission could not be graded: {inert.md_text(problem)}", ""]
        return "\n".join(lines) + "\n"
    scores = exercise_scores(config, results)
    lines += ["| exercise | score | points | notebook |", "|---|---|---|---|"]
    for ex, spec in config["exercises"].items():
        lines.append(f"| `{ex}` | {scores[ex]:.4g} | {spec['points']} | {spec.get('notebook', '')} |")
    lines.append("")
    unfinished = [ex for ex in config["exercises"]
                  if {o["message"] for o in outcomes if o["exercise"] == ex} == {"not implemented yet"}]
    if unfinished:
        lines += ["## Not implemented yet", ""]
        for ex in unfinished:
            spec = config["exercises"][ex]
            where = (f" — notebook {spec['notebook']}, “{spec.get('section', '')}”"
                     if spec.get("notebook") else "")
            lines.append(f"- `{ex}`{where}")
        lines.append("")
    for ex, spec in config["exercises"].items():
        mine = [o for o in outcomes if o["exercise"] == ex]
        if ex in unfinished:
            continue
        visible = [o for o in mine if not o["check"].hidden]
        hidden = [o for o in mine if o["check"].hidden]
        notes = list(dict.fromkeys(n for o in mine for n in o.get("notes", ())))
        if all(o["fraction"] >= 1.0 for o in mine):
            if notes:
                lines += [f"## `{ex}`", "", *(f"- Note — {n}" for n in notes), ""]
            continue
        lines.append(f"## `{ex}`")
        lines.append("")
        messages = {o["message"] for o in mine}
        if all(o["status"] == "error" for o in mine) and len(messages) == 1:
            lines += [f"- not graded: {inert.md_text(messages.pop())}", ""]
            continue
        for o in visible:
            mark = "passed" if o["fraction"] >= 1.0 else "FAILED"
            lines.append(f"- {mark}: {o['name']}")
            if o["fraction"] < 1.0:
                lines += [f"  - {line}" for line in inert.md_lines(o["message"])]
        if hidden:
            passed = sum(o["fraction"] >= 1.0 for o in hidden)
            lines.append(f"- hidden checks: {passed} of {len(hidden)} passed (their inputs are not shown)")
        for d in diagnoses.get(ex, []):
            lines.append(f"- **Likely bug — {d['title']}:** {d['explanation']}")
        lines += [f"- Note — {n}" for n in notes]
        lines.append("")
    if all(o["fraction"] >= 1.0 for o in outcomes):
        lines += ["Every check passed.", ""]
    output = results["extra_data"].get("student_output", "").strip()
    if output:
        lines += ["## What your code printed during the visible checks (first lines)", "",
                  *inert.md_code_block(output.splitlines()[:20]), ""]
    return "\n".join(lines) + "\n"


def grade_row(name, config, results):
    row = {"submission": name}
    row.update({ex: _round(v, 3) for ex, v in exercise_scores(config, results).items()})
    row["total"] = _round(results.get("score", 0.0), 3)
    row["max"] = _round(sum(spec["points"] for spec in config["exercises"].values()))
    row["problem"] = (results.get("extra_data") or {}).get("problem") or ""
    return row


def write_grades_csv(path, config, rows):
    fields = ["submission", *config["exercises"], "total", "max", "problem"]
    tmp = path + ".tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: inert.csv_cell(row.get(k, "")) for k in fields})
    os.replace(tmp, path)
