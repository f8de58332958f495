"""Render the notebooks, executed with the solutions in place, as HTML for self-study readers.

    python scripts/render_walkthrough.py OUT_DIR [--notebook notebooks/03_adaptive.ipynb ...]

Each source notebook is executed top to bottom (nbclient, the ``python3`` kernel of this
environment, working directory ``notebooks/``, the source tree's ``cs231n_lec7`` first on
the path) and written as ``OUT_DIR/<name>.html`` with nbconvert's HTMLExporter; an
``OUT_DIR/index.html`` links them in order. Hidden-test regions are removed first (they
are for grading, and need the instructor's ``autograder``); solution blocks are kept,
without their marker lines. A cell that raises stops the render, unless ``--allow-errors``.

``run_notebook`` is also used by tests/test_notebooks.py and benchmarks/bench_notebooks.py.
"""
from __future__ import annotations

import argparse
import glob
import html
import os
import re
import sys
import time

import nbformat

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = os.path.join(ROOT, "notebooks")
SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


def source_notebooks():
    return sorted(glob.glob(os.path.join(NOTEBOOKS, "*.ipynb")))


def kernel_env(package_root=ROOT):
    """The kernel's environment: ``package_root`` first on the path (its ``cs231n_lec7`` wins)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([package_root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.pop("MPLBACKEND", None)  # the kernel's inline backend, so figures become image/png outputs
    return env


def run_notebook(nb_or_path, cwd=NOTEBOOKS, allow_errors=False, timeout=120, package_root=ROOT):
    """Execute a notebook (node or path) in ``cwd``; return (executed notebook, seconds)."""
    from nbclient import NotebookClient

    nb = nbformat.read(nb_or_path, as_version=4) if isinstance(nb_or_path, str) else nb_or_path
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": cwd}})
    started = time.perf_counter()
    client.execute(env=kernel_env(package_root))
    return nb, time.perf_counter() - started


def for_readers(nb):
    """The notebook without hidden-test regions and without solution marker lines."""
    sys.path.insert(0, ROOT)
    from autograder.nbgrader_course import strip_hidden_region

    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source, _ = strip_hidden_region(cell.source)
        cell.source = "\n".join(line for line in source.split("\n") if not SOLUTION_MARKERS.match(line))
    return nb


def title_of(nb, fallback):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


INDEX = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>CS231n Lecture 7: Training Neural Networks II</title>
<style>body{{font-family:sans-serif;max-width:46em;margin:2em auto;line-height:1.5}}
td{{padding:.2em 1em .2em 0}}</style></head>
<body><h1>CS231n Lecture 7 — Training Neural Networks II</h1>
<p>The notebooks executed with the solutions in place, to read in order.</p>
<table>
{rows}
</table></body></html>
"""


def render(out_dir, notebooks=None, allow_errors=False, timeout=120):
    """Execute and render ``notebooks`` (default: all source notebooks); return [(name, title, seconds)]."""
    from nbconvert import HTMLExporter

    notebooks = source_notebooks() if notebooks is None else list(notebooks)
    os.makedirs(out_dir, exist_ok=True)
    exporter = HTMLExporter(template_name="lab")
    done = []
    for path in notebooks:
        name = os.path.splitext(os.path.basename(path))[0]
        nb = for_readers(nbformat.read(path, as_version=4))
        nb, seconds = run_notebook(nb, cwd=os.path.dirname(os.path.abspath(path)), allow_errors=allow_errors,
                                   timeout=timeout)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": name}})
        with open(os.path.join(out_dir, f"{name}.html"), "w", encoding="utf-8") as fh:
            fh.write(body)
        done.append((name, title_of(nb, name), seconds))
        print(f"{name}: {seconds:.1f} s")
    rows = "\n".join(f'<tr><td><a href="{html.escape(n)}.html">{html.escape(n)}</a></td>'
                     f'<td>{html.escape(t)}</td><td>{s:.1f} s</td></tr>' for n, t, s in done)
    with open(os.path.join(out_dir, "index.html"), "w", encoding="utf-8") as fh:
        fh.write(INDEX.format(rows=rows))
    return done


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--notebook", action="append", default=None, help="render only these (repeatable)")
    parser.add_argument("--allow-errors", action="store_true", help="render even when a cell raises")
    parser.add_argument("--timeout", type=int, default=120, help="seconds per cell")
    args = parser.parse_args(argv)
    notebooks = args.notebook or source_notebooks()
    if not notebooks:
        print("no notebooks to render in notebooks/", file=sys.stderr)
        return 1
    done = render(args.out_dir, notebooks, allow_errors=args.allow_errors, timeout=args.timeout)
    print(f"{len(done)} notebooks rendered; open {os.path.join(args.out_dir, 'index.html')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
