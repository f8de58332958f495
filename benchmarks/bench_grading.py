"""Grading speed: our grader serial and in parallel, beside nbgrader autograde, in one run.

    python benchmarks/bench_grading.py [--copies 100] [--jobs 2] [--repeat 3] [--no-nbgrader]

1. Latency: ``python -m autograder grade <one solution submission> --jobs 1``, wall clock of
   the whole command (interpreter start included), median of ``--repeat`` runs; also the
   grader's own per-submission time (results.json ``execution_time``).
2. Throughput: the solution copied ``--copies`` times, ``python -m autograder grade ...
   --jobs 2`` with its progress bar; submissions per minute.
3. nbgrader: the course built from notebooks/ (or the test fixture notebook when there
   are none), ``nbgrader autograde lec7`` for one submission (the solution package and
   the released notebooks), wall clock of the command, with the seconds spent on each
   notebook (kernel start and the cells that can change a grade: autograder, solution
   and setup cells -- see ``autograder.nbgrader_course.ExecuteGradedCells``).
Targets: <= 2 s per submission serial, >= 60 submissions per minute with 2 jobs,
nbgrader autograde of one full submission <= 60 s.
Exits 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "nbgrader", "00_fixture.ipynb")
LATENCY_TARGET_S = 2.0
THROUGHPUT_TARGET = 60.0  # submissions per minute with 2 jobs
NBGRADER_TARGET_S = 60.0  # nbgrader autograde of one submission, every notebook


def copy_solution(dest):
    shutil.copytree(os.path.join(ROOT, "cs231n_lec7"), os.path.join(dest, "cs231n_lec7"),
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def grade(paths, out, jobs, progress=False):
    cmd = [sys.executable, "-m", "autograder", "grade", *paths, "--out", out, "--jobs", str(jobs)]
    if not progress:
        cmd.append("--no-progress")
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=None if progress else subprocess.PIPE,
                          text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"grade failed: {proc.stdout}\n{proc.stderr}")
    return seconds


def nbgrader_autograde(work):
    from autograder.nbgrader_course import CourseError, _check_notebook, build

    notebooks = []
    for path in sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb"))):
        try:
            _check_notebook(path)
            notebooks.append(path)
        except CourseError as err:
            print(f"  left out of the nbgrader course: {err}", flush=True)
    notebooks = notebooks or [FIXTURE]
    course = os.path.join(work, "course")
    build(course, notebooks=notebooks)
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    env.pop("LEC7_COURSE_DIR", None)

    def nbgrader(*args):
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"nbgrader {args[0]} failed:\n{proc.stderr[-3000:]}")
        return time.perf_counter() - started

    nbgrader("generate_assignment", "lec7")
    sub = os.path.join(course, "submitted", "alice", "lec7")
    shutil.copytree(os.path.join(course, "release", "lec7"), sub)
    shutil.rmtree(os.path.join(sub, "cs231n_lec7"))
    copy_solution(sub)
    # autograde with its log streamed: "Autograding <notebook>" starts a notebook's kernel and cells
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "nbgrader", "autograde", "lec7", "--student", "alice",
                             "--log-level=INFO"], cwd=course, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    per_notebook, current, log = {}, None, []
    for line in proc.stderr:
        log.append(line)
        now = time.perf_counter() - started
        if "Autograding " in line or ("Converting notebook" in line and "/submitted/" in line):
            if current is not None:
                per_notebook[current[0]] = now - current[1]
            current = (os.path.basename(line.strip().split()[-1]), now) if "Autograding " in line else None
    proc.wait()
    seconds = time.perf_counter() - started
    if current is not None:
        per_notebook[current[0]] = seconds - current[1]
    if proc.returncode != 0:
        raise SystemExit("nbgrader autograde failed:\n" + "".join(log)[-3000:])
    return seconds, [os.path.basename(n) for n in notebooks], per_notebook


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-nbgrader", action="store_true")
    parser.add_argument("--json", default=None, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    work = tempfile.mkdtemp(prefix="lec7-bench-")
    try:
        one = os.path.join(work, "one", "solution")
        copy_solution(one)
        latencies = [grade([one], os.path.join(work, f"out1_{i}"), 1) for i in range(args.repeat)]
        latency = statistics.median(latencies)
        with open(os.path.join(work, "out1_0", "solution", "results.json")) as fh:
            results = json.load(fh)
        inner = results["execution_time"]
        sandbox = results["extra_data"]["sandbox"]

        subs = os.path.join(work, "many")
        paths = []
        for i in range(args.copies):
            paths.append(os.path.join(subs, f"student{i:03d}"))
            copy_solution(paths[-1])
        print(f"grading {args.copies} submissions with --jobs {args.jobs}:", flush=True)
        batch = grade(paths, os.path.join(work, "out2"), args.jobs, progress=True)
        per_minute = args.copies / batch * 60

        nb_seconds, nb_names, nb_per_notebook = (None, [], {})
        if not args.no_nbgrader:
            print("nbgrader autograde, one submission ...", flush=True)
            nb_seconds, nb_names, nb_per_notebook = nbgrader_autograde(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ok_latency = latency <= LATENCY_TARGET_S
    ok_throughput = per_minute >= THROUGHPUT_TARGET
    rows = [
        ("grade, 1 submission, serial (CLI wall, median)", f"{latency:.2f} s", f"<= {LATENCY_TARGET_S:g} s",
         "ok" if ok_latency else "MISSED"),
        ("  of which grading itself (results.json)", f"{inner:.2f} s", "", ""),
        (f"grade, {args.copies} submissions, --jobs {args.jobs} (wall)", f"{batch:.1f} s", "", ""),
        ("  throughput", f"{per_minute:.0f} subs/min", f">= {THROUGHPUT_TARGET:g}/min",
         "ok" if ok_throughput else "MISSED"),
    ]
    ok_nbgrader = nb_seconds is None or nb_seconds <= NBGRADER_TARGET_S
    if nb_seconds is not None:
        rows += [
            (f"nbgrader autograde, 1 submission ({len(nb_names)} notebooks)", f"{nb_seconds:.1f} s",
             f"<= {NBGRADER_TARGET_S:g} s", "ok" if ok_nbgrader else "MISSED"),
            *[(f"  {name}", f"{sec:.1f} s", "", "") for name, sec in nb_per_notebook.items()],
            ("  ratio nbgrader / our grader (serial, CLI)", f"{nb_seconds / latency:.0f}x", "", ""),
            ("  ratio nbgrader / our grader (per submission, 2 jobs)",
             f"{nb_seconds / (batch / args.copies):.0f}x", "", ""),
        ]
    width = max(len(r[0]) for r in rows) + 2
    print()
    print(f"sandbox: {sandbox}; cores: {os.cpu_count()}" + (f"; nbgrader notebooks: {', '.join(nb_names)}"
                                                            if nb_names else ""))
    print(f"{'measure':<{width}} {'value':>14}  {'target':>12}  status")
    print("-" * (width + 40))
    for name, value, target, status in rows:
        print(f"{name:<{width}} {value:>14}  {target:>12}  {status}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"latency_s": latency, "grading_s": inner, "batch_s": batch, "copies": args.copies,
                       "jobs": args.jobs, "per_minute": per_minute, "nbgrader_autograde_s": nb_seconds,
                       "nbgrader_per_notebook_s": nb_per_notebook, "nbgrader_notebooks": nb_names, "sandbox": sandbox}, fh, indent=2)
    return 0 if ok_latency and ok_throughput and ok_nbgrader else 1


if __name__ == "__main__":
    sys.exit(main())
