"""Class report speed: ``python -m autograder report`` on batches of 1, 100 and 1,000, in one run.

    python benchmarks/bench_report.py [--sizes 1 100 1000] [--repeat 3]

Each batch is written by ``autograder.synthetic_batch.random_batch`` (the grader's own
writers over the real checks: results.json files of real size and schema, realistic
mistakes, ~1 % not graded, ~1 % timeouts, ~1 % crashes). Timed: the whole command
``python -m autograder report DIR`` (interpreter start included), median of ``--repeat``
runs, and its CPU time (wall time on a busy machine is mostly waiting for a core);
for the largest batch also the two halves in-process (reading + statistics,
HTML with figures). Target: <= 10 s for 1,000 submissions. Exits 1 when it is missed.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
TARGET_S = 10.0
TARGET_N = 1000


def timed_command(folder, repeat):
    """Median wall-clock and CPU seconds (user + system) of the whole command."""
    times, cpu = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "autograder", "report", folder], cwd=ROOT,
                              capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if proc.returncode != 0:
            raise SystemExit(f"report failed:\n{proc.stdout}\n{proc.stderr}")
    return statistics.median(times), statistics.median(cpu)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 100, TARGET_N])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from autograder.classreport import build_report
    from autograder.classreport_html import render_html
    from autograder.synthetic_batch import random_batch

    rows = []
    with tempfile.TemporaryDirectory(prefix="lec7-bench-report-") as tmp:
        for n in args.sizes:
            folder = os.path.join(tmp, f"batch{n}")
            random_batch(folder, n, seed=n)
            size_mb = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(folder)
                          for f in fs if f == "results.json") / 2**20
            seconds, cpu = timed_command(folder, args.repeat)
            rows.append((n, size_mb, seconds))
            print(f"{n:5d} submissions ({size_mb:6.1f} MB of results.json): report in {seconds:6.2f} s wall, "
                  f"{cpu:5.2f} s CPU (medians of {args.repeat}; wall = {seconds / TARGET_S:.2f} of the "
                  f"{TARGET_S:g} s budget)", flush=True)
        n, _, _ = rows[-1]
        folder = os.path.join(tmp, f"batch{n}")
        started = time.perf_counter()
        report = build_report(folder)
        read_s = time.perf_counter() - started
        started = time.perf_counter()
        page = render_html(report)
        html_s = time.perf_counter() - started
        print(f"in-process for {n}: reading + statistics {read_s:.2f} s, HTML with "
              f"{page.count('<figure>')} figures {html_s:.2f} s ({len(page) / 2**20:.2f} MB page)")
    if len(rows) > 1:
        (n0, _, t0), (n1, _, t1) = rows[-2], rows[-1]
        print(f"scaling: {n1 / n0:g}x the submissions took {t1 / t0:.2f}x the time")
    big = [s for n, _, s in rows if n >= TARGET_N]
    if big and max(big) > TARGET_S:
        print(f"MISSED: {TARGET_N} submissions took {max(big):.2f} s > {TARGET_S:g} s")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
