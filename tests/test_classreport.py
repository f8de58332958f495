"""The class report: its counts equal counts made independently from the results.json files.

Batches are planted two ways: written directly with known outcomes and mistakes
(``autograder.synthetic_batch``, the grader's own writers over the real checks),
and graded for real from copies of the solution with wrong implementations
planted (``autograder.plant``), including a timeout, a crashing worker and a
submission that cannot be graded. Malformed and hostile results.json files must
end up under incidents, never crash the report, and never reach the page unescaped.
"""
from __future__ import annotations

import collections
import json
import os
import shutil
import statistics
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
import scipy.stats

from autograder import classreport, mistakes
from autograder.classreport import build_report, write_report
from autograder.grade import checks_by_exercise, load_config
from autograder.plant import copy_solution, mistake_source, plant_function
from autograder.synthetic_batch import mistake, random_batch, write_submission

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = load_config()
CHECKS = checks_by_exercise(CONFIG)


# ------------------------------------------------------- independent count
def independent_counts(grades_dir):
    """DESIGN.md's report.json keys, recomputed from the files with nothing from classreport."""
    everything = []
    for dirpath, _, files in os.walk(grades_dir):
        if "results.json" in files:
            with open(os.path.join(dirpath, "results.json")) as fh:
                everything.append(json.load(fh))
    graded = [d for d in everything if not d["extra_data"]["problem"]]
    out = {"submissions": len(everything), "graded": len(graded), "exercises": {}}
    exercises = sorted({t["tags"][0] for d in everything for t in d["tests"]})
    for ex in exercises:
        scores = [sum(t["score"] for t in d["tests"] if t["tags"][0] == ex) for d in graded]
        top = max(sum(t["max_score"] for t in d["tests"] if t["tags"][0] == ex) for d in everything)
        named = collections.Counter()
        for d in graded:
            named.update({m["title"] for m in d["extra_data"]["diagnoses"].get(ex, [])})
        out["exercises"][ex] = {
            "max": top, "mean": float(np.mean(scores)) if scores else None,
            "median": float(np.median(scores)) if scores else None,
            "full_marks": sum(abs(s - top) < 1e-3 for s in scores), "zero": sum(s < 1e-3 for s in scores),
            "mistakes": dict(named)}
    return out


def mismatches(report, expected):
    """Every way ``report`` disagrees with ``expected`` (empty when they agree)."""
    bad = [f"{k}: {report.get(k)} != {expected[k]}" for k in ("submissions", "graded")
           if report.get(k) != expected[k]]
    if set(report["exercises"]) != set(expected["exercises"]):
        bad.append(f"exercises {sorted(report['exercises'])} != {sorted(expected['exercises'])}")
    for ex, want in expected["exercises"].items():
        got = report["exercises"].get(ex, {})
        for key in ("max", "mean", "median"):
            if want[key] is None:
                if got.get(key) is not None:
                    bad.append(f"{ex} {key}: {got.get(key)} != None")
            elif got.get(key) is None or abs(got[key] - want[key]) > 1e-3:
                bad.append(f"{ex} {key}: {got.get(key)} != {want[key]}")
        for key in ("full_marks", "zero", "mistakes"):
            if got.get(key) != want[key]:
                bad.append(f"{ex} {key}: {got.get(key)} != {want[key]}")
    return bad


# ------------------------------------------------------------- planted batch
PLANTED = {  # name -> keyword arguments of write_submission
    "ann": {},
    "ben": dict(fractions={"optim.adam": 0.0}, diagnoses={"optim.adam": ["missing bias correction"]}),
    "cat": dict(fractions={"optim.adam": 0.0, "optim.rmsprop": 0.0},
                diagnoses={"optim.adam": ["missing bias correction"], "optim.rmsprop": ["RMSProp decay swapped"]}),
    "dan": dict(fractions={"optim.adam": 0.5},
                diagnoses={"optim.adam": ["missing bias correction", "epsilon inside the square root"]}),
    "eve": dict(fractions={"regularization.dropconnect_forward": 0.0},
                messages={"regularization.dropconnect_forward": "dropconnect_forward: kept 0.700 of the weights "
                                                    "with p=0.3 — p used as drop probability? Here p is the "
                                                    "probability of "
                                                    "KEEPING a unit"}),
    "fay": dict(problem="the zip contains an unsafe path '../x'", sandbox=None),
    "gus": dict(fractions={"optim.adagrad": 0.0}, restarts=1,
                messages={"optim.adagrad": "time limit: the checks of optim.adagrad did not finish within 10 s "
                                           "(an infinite loop?)"}),
    "hal": dict(fractions={"second_order.newton_step": 0.0}, restarts=1,
                messages={"second_order.newton_step": "the worker died: crashed (segmentation fault) while "
                                                      "running second_order.newton_step"}),
    "ivy": dict(restored=["autograder/config.toml"], sandbox="subprocess"),
    "joe": dict(fractions={ex: 0.0 for ex in CONFIG["exercises"]},
                messages={ex: "not implemented yet" for ex in CONFIG["exercises"]}),
    "kim": dict(fractions={"optim.adam": {CHECKS["optim.adam"][0].name: 0.0}}),
    "lea": dict(fractions={"optim.sgd_momentum": 0.0},
                messages={"optim.sgd_momentum": "passes the visible checks but none of the fresh problems: the "
                                                 "visible inputs are fixed, so answers that only work on them earn "
                                                 "nothing"}),
}


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    out = tmp_path_factory.mktemp("planted")
    for name, kwargs in PLANTED.items():
        write_submission(str(out), name, CONFIG, **kwargs)
    html_path, json_path = write_report(str(out))
    with open(json_path) as fh:
        return str(out), json.load(fh), open(html_path, encoding="utf-8").read()


def test_counts_equal_an_independent_count(planted):
    out, report, _ = planted
    assert mismatches(report, independent_counts(out)) == []


def test_a_wrong_count_is_caught(planted):
    """The comparison itself rejects a report off by one anywhere it looks."""
    out, report, _ = planted
    expected = independent_counts(out)
    for path in (("exercises", "optim.adam", "mistakes", "missing bias correction"),
                 ("exercises", "optim.adam", "zero"), ("exercises", "optim.rmsprop", "full_marks"),
                 ("submissions",)):
        tampered = json.loads(json.dumps(report))
        node = tampered
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] += 1
        assert mismatches(tampered, expected), path
    counted_ungraded = json.loads(json.dumps(report))
    counted_ungraded["exercises"]["optim.adam"]["zero"] += report["not_graded"]
    assert mismatches(counted_ungraded, expected)


def test_planted_mistakes_are_counted_per_submission(planted):
    _, report, _ = planted
    adam = report["exercises"]["optim.adam"]
    assert adam["mistakes"] == {"missing bias correction": 3, "epsilon inside the square root": 1}
    assert list(adam["mistakes"]) == ["missing bias correction", "epsilon inside the square root"]  # ranked
    assert report["exercises"]["optim.rmsprop"]["mistakes"] == {"RMSProp decay swapped": 1}
    assert report["exercises"]["regularization.dropconnect_forward"]["mistakes_seen_by_checks"] == \
        {"p used as drop probability": 1}
    assert report["exercises"]["optim.sgd_momentum"]["not_attempted"] == 1  # joe
    assert report["submissions"] == len(PLANTED) and report["graded"] == len(PLANTED) - 1
    top = report["reteach"][0]
    assert (top["title"], top["exercise"], top["count"]) == ("missing bias correction", "optim.adam", 3)
    assert top["notebook"] == CONFIG["exercises"]["optim.adam"]["notebook"]
    assert top["section"] == CONFIG["exercises"]["optim.adam"]["section"]
    assert top["explanation"] == mistake("optim.adam", "missing bias correction").explanation
    assert adam["full_marks"] == len(PLANTED) - len({"fay", "ben", "cat", "dan", "kim", "joe"})
    assert report["exercises"]["optim.sgd_momentum"]["zero"] == len({"joe", "lea"})
    sections = {(r["notebook"], r["section"]): r for r in report["sections"]}
    adam_section = sections[("03_adaptive", "Adam")]
    assert adam_section["submissions"] == len({"ben", "cat", "dan"})
    assert adam_section["top_mistakes"] == ["missing bias correction", "epsilon inside the square root"]
    assert sections[("08_augmentation_and_noise", "DropConnect")]["submissions"] == 1  # eve, named by a check
    assert sections[("03_adaptive", "RMSProp")]["submissions"] == 1
    assert report["sections"][0]["section"] == "Adam"  # ranked first
    assert adam["zero"] == len({"ben", "cat", "joe"})


def test_incidents_name_what_happened(planted):
    _, report, html = planted
    kinds = {i["submission"]: i["kinds"] for i in report["incidents"]}
    assert kinds["fay"] == ["not graded"]
    assert kinds["gus"] == ["timeout", "worker restarts"]
    assert kinds["hal"] == ["worker crash", "worker restarts"]
    assert set(kinds["ivy"]) == {"grader files restored", "sandbox mode"}
    assert kinds["lea"] == ["hard-coded answers?"]
    assert not {"ann", "ben", "cat", "dan", "eve", "joe", "kim"} & set(kinds)
    links = {i["submission"]: i["feedback"] for i in report["incidents"]}
    assert links["fay"] == "fay/feedback.md"
    assert 'href="./fay/feedback.md"' in html
    assert "1 submission(s) were graded without namespace isolation" in html
    assert report["run"]["sandbox"] == {"bwrap": len(PLANTED) - 2, "subprocess": 1, "unknown": 1}


def test_item_statistics_against_scipy(tmp_path):
    """Discrimination = point-biserial correlation with the rest score; flags for the planted checks."""
    adam = [c.name for c in CHECKS["optim.adam"]]
    ema = [c.name for c in CHECKS["averaging.ema_update"]]
    rng = np.random.default_rng(3)
    strong = []
    for i in range(30):
        good = i % 2 == 0
        strong.append(good)
        fractions = {"optim.adam": {adam[0]: 0.0},  # everyone fails this one
                     "averaging.ema_update": {ema[0]: 0.0 if good else 1.0},  # the strong fail it
                     "optim.rmsprop": 1.0 if good else 0.0,
                     "optim.adagrad": float(rng.uniform(0, 0.99)) if rng.random() < 0.5 else 1.0}
        write_submission(str(tmp_path), f"s{i:02d}", CONFIG, fractions=fractions)
    report = build_report(str(tmp_path))
    rows = {r["check"]: r for r in report["checks"]}
    assert rows[adam[0]]["flags"] == ["nearly everyone fails"] and rows[adam[0]]["pass_rate"] == 0.0
    assert "negative discrimination" in rows[ema[0]]["flags"]
    assert "nearly no one fails" in rows[adam[1]]["flags"]
    totals, frac = [], {}
    for i in range(30):
        with open(tmp_path / f"s{i:02d}" / "results.json") as fh:
            d = json.load(fh)
        totals.append(d["score"])
        for t in d["tests"]:
            frac.setdefault(t["name"], []).append((t["score"] / t["max_score"], t["score"]))
    for name in (ema[0], CHECKS["optim.adagrad"][0].name, CHECKS["optim.rmsprop"][0].name):
        x = np.array([f for f, _ in frac[name]])
        rest = np.array(totals) - np.array([s for _, s in frac[name]])
        r = scipy.stats.pearsonr(x, rest)[0]
        assert rows[name]["discrimination"] == pytest.approx(r, abs=1e-3), name
        if set(x) <= {0.0, 1.0}:
            assert rows[name]["discrimination"] == pytest.approx(scipy.stats.pointbiserialr(x, rest)[0], abs=1e-3)
        assert rows[name]["difficulty"] == pytest.approx(x.mean(), abs=1e-4)
    assert rows[CHECKS["optim.rmsprop"][0].name]["discrimination"] > 0.5


def test_batch_of_one(tmp_path):
    write_submission(str(tmp_path), "solo", CONFIG, fractions={"optim.adam": 0.0},
                     diagnoses={"optim.adam": ["missing bias correction"]})
    html_path, json_path = write_report(str(tmp_path))
    report = json.load(open(json_path))
    assert report["submissions"] == 1 and report["incidents"] == []
    assert report["exercises"]["optim.adam"]["mistakes"] == {"missing bias correction": 1}
    assert all(r["flags"] == [] and r["discrimination"] is None for r in report["checks"])
    assert mismatches(report, independent_counts(str(tmp_path))) == []
    assert "<img src=\"data:image/png;base64," in open(html_path).read()


def test_nothing_graded(tmp_path):
    for name in ("a", "b"):
        write_submission(str(tmp_path), name, CONFIG, problem="the zip contains an unsafe path", sandbox=None)
    html_path, json_path = write_report(str(tmp_path))
    report = json.load(open(json_path))
    assert (report["submissions"], report["graded"], report["not_graded"]) == (2, 0, 2)
    assert report["incident_counts"] == {"not graded": 2} and report["checks"] == []
    assert report["exercises"]["optim.adam"]["max"] == CONFIG["exercises"]["optim.adam"]["points"]
    assert report["exercises"]["optim.adam"]["mean"] is None
    assert "no graded submission" in open(html_path).read()


def test_empty_folder_and_missing_folder(tmp_path):
    report = build_report(str(tmp_path))
    assert report["submissions"] == 0 and report["exercises"] == {}
    write_report(str(tmp_path))  # an empty batch still renders
    with pytest.raises(FileNotFoundError, match="not a folder"):
        build_report(str(tmp_path / "nope"))


# --------------------------------------------------------- hostile and broken
HOSTILE = '<img src="http://127.0.0.1:9/x.png" onerror="alert(1)"><script>alert(2)</script>'


def test_malformed_results_are_incidents_not_crashes(tmp_path):
    write_submission(str(tmp_path), "fine", CONFIG, fractions={"optim.adam": 0.0},
                     diagnoses={"optim.adam": ["missing bias correction"]})
    good = json.load(open(tmp_path / "fine" / "results.json"))
    broken = {
        "not_json": b"{ this is not json",
        "truncated": json.dumps(good).encode()[:500],
        "a_list": b"[1, 2, 3]",
        "no_tests": json.dumps({"score": 3}).encode(),
        "string_score": json.dumps({**good, "tests": [{**good["tests"][0], "score": "ten"}]}).encode(),
        "nan_score": json.dumps({**good, "score": float("nan")}).encode(),
        "inf_score": json.dumps({**good, "score": 12345.5}).encode().replace(b"12345.5", b"1e999"),
        "deep": b"[" * 100000 + b"]" * 100000,
        "latin1": "{\"score\": \"\xe9\"}".encode("latin-1"),
        "test_not_object": json.dumps({**good, "tests": ["x"]}).encode(),
        "too_many_tests": json.dumps({**good, "tests": good["tests"] * 40}).encode(),
    }
    for name, data in broken.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_bytes(data)
    (tmp_path / "fifo").mkdir()
    os.mkfifo(tmp_path / "fifo" / "results.json")  # opening it for reading must not block the report
    (tmp_path / "linked").mkdir()
    os.symlink(tmp_path / "fine" / "results.json", tmp_path / "linked" / "results.json")
    odd = json.loads(json.dumps(good))  # readable, but its extra parts are garbage
    odd["extra_data"]["diagnoses"] = {"optim.adam": ["not an object", {"title": 5}], "x": 3}
    odd["extra_data"]["worker_restarts"] = "many"
    odd["tests"] += [{**good["tests"][0], "name": f"made-up {k}", "tags": [f"made.up{k}"]} for k in range(60)]
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "results.json").write_text(json.dumps(odd))
    html_path, json_path = write_report(str(tmp_path))
    report = json.load(open(json_path))
    by_name = {i["submission"]: i for i in report["incidents"]}
    for name in [*broken, "linked", "fifo"]:
        assert by_name[name]["kinds"] == ["unreadable results.json"], name
        assert by_name[name]["details"][0], name
    assert "symbolic link" in by_name["linked"]["details"][0]
    assert "not a regular file" in by_name["fifo"]["details"][0]
    assert "NaN" in by_name["nan_score"]["details"][0]
    assert "not a finite number" in by_name["inf_score"]["details"][0]
    assert "nested too deeply" in by_name["deep"]["details"][0]
    assert by_name["odd"]["kinds"] == ["partly unreadable results.json"]
    assert "fine" not in by_name
    assert f"{len(good['tests']) * 40} tests" in by_name["too_many_tests"]["details"][0]
    made_up = [ex for ex in report["exercises"] if ex.startswith("made.up")]
    assert len(made_up) == classreport.MAX_UNKNOWN_EXERCISES and report["unknown_exercises_dropped"] == 10
    assert report["submissions"] == 2 and report["unreadable"] == len(broken) + 2
    assert report["exercises"]["optim.adam"]["mistakes"] == {"missing bias correction": 1}  # odd's are garbage


def test_student_text_is_escaped(tmp_path):
    name = 'x"><b>bold</b>'
    write_submission(str(tmp_path), name, CONFIG, problem=HOSTILE, sandbox=None)
    write_submission(str(tmp_path), "ok", CONFIG, fractions={"optim.adam": 0.0},
                     messages={"optim.adam": "time limit: " + HOSTILE})
    data = json.load(open(tmp_path / "ok" / "results.json"))
    data["extra_data"]["diagnoses"] = {"optim.adam": [{"title": "$\\frac{1}{0}$ " + HOSTILE, "explanation": HOSTILE}]}
    (tmp_path / "ok" / "results.json").write_text(json.dumps(data))
    html_path, _ = write_report(str(tmp_path))
    page = open(html_path, encoding="utf-8").read()
    assert "<script>" not in page and "<img src=\"http" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    assert 'href="./x%22%3E%3Cb%3Ebold%3C/b%3E/feedback.md"' in page


# --------------------------------------------------------- graded for real
def _zip(folder, path):
    with zipfile.ZipFile(path, "w") as zf:
        for dirpath, _, files in os.walk(folder):
            for f in files:
                full = os.path.join(dirpath, f)
                zf.write(full, os.path.relpath(full, folder))


def planted_plan(n, seed=0):
    """{submission: [Mistake, ...]}: three known mistakes of three different exercises each."""
    rng = np.random.default_rng(seed)
    plan = {}
    for i in range(n):
        chosen = {}
        for k in rng.permutation(len(mistakes.MISTAKES)):
            m = mistakes.MISTAKES[k]
            chosen.setdefault(m.exercise, m)
            if len(chosen) == 3:
                break
        plan[f"p{i:02d}"] = list(chosen.values())
    return plan


@pytest.mark.slow
def test_real_batch_through_the_command_line(tmp_path):
    """grade --report on the examples plus planted mistakes, a hang, a crash and a broken zip."""
    subs = [os.path.join(ROOT, "examples", "submissions", n) for n in sorted(os.listdir(
        os.path.join(ROOT, "examples", "submissions")))]
    plan = planted_plan(8)
    for name, wrong in plan.items():
        sub = copy_solution(str(tmp_path / "in" / name))
        for m in wrong:
            plant_function(sub, m.exercise, mistake_source(m))
        subs.append(sub)
    hang = copy_solution(str(tmp_path / "in" / "p_hang"))
    plant_function(hang, "optim.adagrad", "def adagrad(w, dw, config=None):\n    while True:\n        pass\n")
    crash = copy_solution(str(tmp_path / "in" / "p_crash"))
    plant_function(crash, "schedules.step_decay", textwrap.dedent("""
        def step_decay(*args, **kwargs):
            import os
            os._exit(3)
        """))
    (tmp_path / "in" / "p_broken.zip").write_bytes(b"not a zip")
    subs += [hang, crash, str(tmp_path / "in" / "p_broken.zip")]
    config = tmp_path / "config.toml"
    text = open(os.path.join(ROOT, "autograder", "config.toml")).read()
    config.write_text(text.replace("per_exercise_timeout_s = 10.0", "per_exercise_timeout_s = 3.0"))
    out = tmp_path / "grades"
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", *subs, "--out", str(out), "--jobs", "2",
                           "--no-progress", "--config", str(config), "--report"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert f"class report: {out / 'report.html'}" in proc.stdout
    report = json.load(open(out / "report.json"))
    assert mismatches(report, independent_counts(str(out))) == []
    kinds = {i["submission"]: i["kinds"] for i in report["incidents"]}
    assert "timeout" in kinds["p_hang"]
    assert "worker crash" in kinds["p_crash"]
    assert kinds["p_broken"] == ["not graded"]
    assert not set(plan) & set(kinds) and "alice" not in kinds
    # Every planted mistake is named, as often as it was planted: the planted part of the batch alone.
    only = tmp_path / "planted_only"
    for name in plan:
        shutil.copytree(out / name, only / name)
    named = collections.Counter({(r["exercise"], r["title"]): r["count"] for r in build_report(str(only))["reteach"]})
    assert named == collections.Counter((m.exercise, title) for wrong in plan.values() for m in wrong
                                        for title in (m.title, *m.also))  # a planted pair names both
    # the same files through `report`: the same numbers
    proc = subprocess.run([sys.executable, "-m", "autograder", "report", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "report.html" in proc.stdout, proc.stderr
    again = json.load(open(out / "report.json"))
    assert again["exercises"] == report["exercises"] and again["incidents"] == report["incidents"]


def test_report_command_refuses_a_missing_folder(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "autograder", "report", str(tmp_path / "nope")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "not a folder" in proc.stderr


def test_thousand_submissions_counts(tmp_path):
    """The benchmark's batch: counts still equal the independent count."""
    random_batch(str(tmp_path), 200, seed=5)
    report = build_report(str(tmp_path))
    assert mismatches(report, independent_counts(str(tmp_path))) == []
    assert report["not_graded"] == sum(i["kinds"] == ["not graded"] for i in report["incidents"])
    assert statistics.fmean(r["count"] for r in report["reteach"]) > 1
