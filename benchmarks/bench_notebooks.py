"""Time to execute each source notebook (solutions in place) and the total.

    python benchmarks/bench_notebooks.py [--notebook notebooks/03_adaptive.ipynb ...] [--json OUT]

Same execution as tests/test_notebooks.py (nbclient, kernel python3 of this environment,
working directory notebooks/). Targets: each notebook <= 40 s, all eight <= 3 min.
Exits 1 when a notebook raises or a target is missed.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from render_walkthrough import run_notebook, source_notebooks  # noqa: E402

PER_NOTEBOOK_S = 40.0
TOTAL_S = 180.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", action="append", default=None)
    parser.add_argument("--json", default=None, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    notebooks = args.notebook or source_notebooks()
    if not notebooks:
        print("no notebooks in notebooks/")
        return 1
    rows, ok = [], True
    for path in notebooks:
        nb, seconds = run_notebook(path, allow_errors=True)
        errors = sum(1 for c in nb.cells if c.cell_type == "code"
                     for o in c.get("outputs", []) if o.output_type == "error")
        status = "ok" if errors == 0 and seconds <= PER_NOTEBOOK_S else \
            (f"{errors} errors" if errors else "SLOW")
        ok = ok and status == "ok"
        rows.append((os.path.basename(path), seconds, status))
        print(f"  {rows[-1][0]:<32} {seconds:6.1f} s  {status}", flush=True)
    total = sum(r[1] for r in rows)
    width = max(len(r[0]) for r in rows) + 2
    print()
    print(f"{'notebook':<{width}} {'seconds':>8}  {'target':>7}  status")
    print("-" * (width + 28))
    for name, seconds, status in rows:
        print(f"{name:<{width}} {seconds:8.1f}  {PER_NOTEBOOK_S:7.0f}  {status}")
    print("-" * (width + 28))
    total_ok = total <= TOTAL_S
    print(f"{'total':<{width}} {total:8.1f}  {TOTAL_S:7.0f}  {'ok' if total_ok else 'SLOW'}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"notebooks": {n: round(s, 2) for n, s, _ in rows}, "total_s": round(total, 2)}, fh, indent=2)
    return 0 if ok and total_ok else 1


if __name__ == "__main__":
    sys.exit(main())
