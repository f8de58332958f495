"""Grading speed of this checkout beside an earlier commit, measured side by side in one run.

    python benchmarks/bench_versions.py [--base cccefe3] [--copies 20] [--repeat 3]

For each version: the solution package of that version copied ``--copies`` times, graded with
``python -m autograder grade ... --jobs 2`` (throughput), and one copy with ``--jobs 1`` (latency,
whole command). Runs alternate between the versions so that load on the machine hits both alike; the
ratios (this / base) are what to read. This checkout is measured twice: with every exercise of its
config.toml, and without the exercises the base does not have (the same work as the base, so the
ratio shows what the sandbox and the checks themselves cost).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def solution_copies(root, dest, n):
    paths = []
    for i in range(n):
        target = os.path.join(dest, f"s{i:03d}", "cs231n_lec7")
        shutil.copytree(os.path.join(root, "cs231n_lec7"), target, ignore=shutil.ignore_patterns("__pycache__"))
        paths.append(os.path.dirname(target))
    return paths


def timed(root, subs, out, jobs, config=None):
    cmd = [sys.executable, "-m", "autograder", "grade", *subs, "--out", out, "--jobs", str(jobs), "--no-progress"]
    if config:
        cmd += ["--config", config]
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"grading failed in {root}: {proc.stderr[-500:]}")
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="cccefe3", help="the earlier commit (default: cccefe3)")
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="lec7-bench-versions-")
    base = os.path.join(tmp, "base")
    subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", "-f", base, args.base], check=True,
                   capture_output=True)
    try:
        with open(os.path.join(base, "autograder", "config.toml"), "rb") as fh:
            base_exercises = set(tomllib.load(fh)["exercises"])
        with open(os.path.join(ROOT, "autograder", "config.toml")) as fh:
            text = fh.read()
        same_work = os.path.join(tmp, "same_work.toml")  # this config without the exercises the base lacks
        blocks = text.split("\n[exercises.")
        kept = [blocks[0]] + [b for b in blocks[1:] if b.split('"')[1] in base_exercises]
        with open(same_work, "w") as fh:
            fh.write("\n[exercises.".join(kept))
        versions = {"base": (base, None), "this": (ROOT, None), "this, base's exercises": (ROOT, same_work)}
        copies = {name: solution_copies(root, os.path.join(tmp, "subs", name.replace(" ", "_").replace(",", "")),
                                        args.copies) for name, (root, _) in versions.items()}
        latency = {name: [] for name in versions}
        throughput = {name: [] for name in versions}
        for _ in range(args.repeat):
            for name, (root, config) in versions.items():  # alternate: load hits every version alike
                out = os.path.join(tmp, "out")
                latency[name].append(timed(root, copies[name][:1], out, 1, config))
                seconds = timed(root, copies[name], out, 2, config)
                throughput[name].append(60.0 * args.copies / seconds)
        print(f"{'version':<26} {'1 submission, serial (s)':>25} {'submissions/min, --jobs 2':>27}")
        for name in versions:
            print(f"{name:<26} {statistics.median(latency[name]):>25.2f} {statistics.median(throughput[name]):>27.1f}")
        for name in ("this", "this, base's exercises"):
            lat = statistics.median(latency[name]) / statistics.median(latency["base"])
            thr = statistics.median(throughput["base"]) / statistics.median(throughput[name])
            print(f"ratio {name} / base: latency {lat:.2f}x, time per submission at --jobs 2 {thr:.2f}x")
    finally:
        subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", base], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
