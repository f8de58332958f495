"""Time to execute each source notebook (solutions in place), quiet and beside a CPU load.

    python benchmarks/bench_notebooks.py [--notebook notebooks/03_adaptive.ipynb ...]
                                         [--load-processes 2] [--no-load] [--repeat 2] [--json OUT]

Same execution as tests/test_notebooks.py (nbclient, kernel python3 of this environment,
working directory notebooks/). Each notebook runs twice, side by side: once quiet, then
again while ``--load-processes`` busy processes (default 2, one per core of a two-core
machine: a shared JupyterHub server or CI runner) multiply small matrices in a loop. The
slowdown ratio loaded / quiet is printed per notebook. With ``--repeat N`` (default 2) each
notebook runs N times quiet and N times loaded, alternating; the best (smallest) time of each
kind is reported, as ``timeit`` does: on a shared machine a slower run measures the neighbours,
not the notebook. Every run's time is printed too.

Targets: all notebooks together <= 40 s quiet; every notebook <= 2x slower under the load.
Exits 1 when a notebook raises or a target is missed.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from render_walkthrough import run_notebook, source_notebooks  # noqa: E402

TOTAL_QUIET_S = 40.0
MAX_SLOWDOWN = 2.0
# One busy process: single-threaded BLAS on small matrices, as another user's notebook would run.
LOAD_CODE = """
import numpy as np
a = np.random.default_rng(0).standard_normal((200, 200))
while True:
    a = np.tanh(a @ a.T / 200.0)
"""


class CpuLoad:
    """``n`` busy processes for the duration of a ``with`` block (killed, by their own ids, on exit)."""

    def __init__(self, n):
        self.n, self.procs = int(n), []

    def __enter__(self):
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.procs = [subprocess.Popen([sys.executable, "-c", LOAD_CODE], env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                      for _ in range(self.n)]
        time.sleep(0.5)  # let them start before timing
        return self

    def __exit__(self, *exc):
        for proc in self.procs:
            proc.kill()
        for proc in self.procs:
            proc.wait()
        self.procs = []


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_run(path):
    """(wall seconds, CPU seconds of the kernel, number of cells that raised).

    The kernel is a child process, reaped when the run ends, so its CPU time (user + system)
    is the growth of RUSAGE_CHILDREN: on a machine busy with other work it stays close to the
    quiet wall time, while the wall time grows.
    """
    cpu_before = _children_cpu()
    nb, seconds = run_notebook(path, allow_errors=True)
    cpu = _children_cpu() - cpu_before
    errors = sum(1 for c in nb.cells if c.cell_type == "code"
                 for o in c.get("outputs", []) if o.output_type == "error")
    return seconds, cpu, errors


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", action="append", default=None)
    parser.add_argument("--load-processes", type=int, default=2, help="busy processes of the loaded run")
    parser.add_argument("--no-load", action="store_true", help="quiet runs only")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each kind per notebook; the best is reported")
    parser.add_argument("--json", default=None, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if args.load_processes < 1:
        parser.error("--load-processes must be at least 1 (or use --no-load)")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    notebooks = args.notebook or source_notebooks()
    if not notebooks:
        print("no notebooks in notebooks/")
        return 1
    rows = []
    for path in notebooks:
        quiet_runs, cpu_runs, loaded_runs, errors = [], [], [], 0
        for _ in range(args.repeat):
            quiet, cpu, quiet_errors = timed_run(path)
            quiet_runs.append(quiet)
            cpu_runs.append(cpu)
            errors = max(errors, quiet_errors)
            if not args.no_load:
                with CpuLoad(args.load_processes):
                    loaded, _, loaded_errors = timed_run(path)
                loaded_runs.append(loaded)
                errors = max(errors, loaded_errors)
        quiet, cpu = min(quiet_runs), min(cpu_runs)
        loaded = min(loaded_runs) if loaded_runs else None
        rows.append({"name": os.path.basename(path), "quiet": quiet, "cpu": cpu, "loaded": loaded, "errors": errors,
                     "quiet_runs": quiet_runs, "loaded_runs": loaded_runs})
        runs = lambda ts: "/".join(f"{t:.1f}" for t in ts)  # noqa: E731
        ratio = f"  loaded {loaded:6.1f} s ({runs(loaded_runs)})  x{loaded / quiet:.2f}" if loaded is not None else ""
        print(f"  {rows[-1]['name']:<32} quiet {quiet:6.1f} s ({runs(quiet_runs)}; kernel CPU {cpu:5.1f} s){ratio}"
              + (f"  {errors} errors" if errors else ""), flush=True)

    width = max(len(r["name"]) for r in rows) + 2
    print()
    load_label = f"{args.load_processes} busy" if not args.no_load else "no load"
    print(f"best of {args.repeat} run{'s' if args.repeat > 1 else ''} of each kind per notebook")
    print(f"{'notebook':<{width}} {'quiet s':>8} {'CPU s':>6} {'loaded s':>9} {'ratio':>6}  status   "
          f"(load: {load_label}, cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.1f})")
    print("-" * (width + 47))
    ok = True
    for r in rows:
        ratio = r["loaded"] / r["quiet"] if r["loaded"] is not None else None
        status = f"{r['errors']} errors" if r["errors"] else ("SLOW" if ratio is not None and ratio > MAX_SLOWDOWN
                                                              else "ok")
        ok = ok and status == "ok"
        r["ratio"] = ratio
        loaded = f"{r['loaded']:9.1f}" if r["loaded"] is not None else f"{'-':>9}"
        ratio_s = f"{ratio:6.2f}" if ratio is not None else f"{'-':>6}"
        print(f"{r['name']:<{width}} {r['quiet']:8.1f} {r['cpu']:6.1f} {loaded} {ratio_s}  {status}")
    print("-" * (width + 47))
    total = sum(r["quiet"] for r in rows)
    total_cpu = sum(r["cpu"] for r in rows)
    total_ok = total <= TOTAL_QUIET_S
    loaded_total = sum(r["loaded"] for r in rows) if not args.no_load else None
    print(f"{'total':<{width}} {total:8.1f} {total_cpu:6.1f} " + (f"{loaded_total:9.1f} {loaded_total / total:6.2f}"
                                                                   if loaded_total else f"{'-':>9} {'-':>6}")
          + f"  {'ok' if total_ok else 'SLOW'}")
    print(f"targets: total quiet <= {TOTAL_QUIET_S:g} s; every ratio <= {MAX_SLOWDOWN:g}. The kernels' CPU time "
          f"does not grow with other work on the machine: on a busy machine it shows what the quiet time would be.")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"notebooks": {r["name"]: {"quiet_s": round(r["quiet"], 2), "kernel_cpu_s": round(r["cpu"], 2),
                                                 "loaded_s": None if r["loaded"] is None else round(r["loaded"], 2),
                                                 "ratio": None if r["ratio"] is None else round(r["ratio"], 3),
                                                 "quiet_runs_s": [round(t, 2) for t in r["quiet_runs"]],
                                                 "loaded_runs_s": [round(t, 2) for t in r["loaded_runs"]]}
                                     for r in rows},
                       "total_quiet_s": round(total, 2), "total_kernel_cpu_s": round(total_cpu, 2), "load_processes": 0 if args.no_load else args.load_processes,
                       "repeat": args.repeat},
                      fh, indent=2)
    return 0 if ok and total_ok else 1


if __name__ == "__main__":
    sys.exit(main())
