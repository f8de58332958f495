"""Render the notebooks, executed with the solutions in place, as HTML for self-study readers.

    python scripts/render_walkthrough.py --out _build/walkthrough [--notebook notebooks/03_adaptive.ipynb ...]

Each source notebook is executed top to bottom (nbclient, the ``python3`` kernel of this
environment, working directory ``notebooks/``, the source tree's ``cs231n_lec7`` first on
the path) and written as ``OUT_DIR/<name>.html`` with nbconvert's HTMLExporter; an
``OUT_DIR/index.html`` links them in order. Hidden-test regions are removed first (they
are for grading, and need the instructor's ``autograder``); solution blocks are kept,
without their marker lines. A cell that raises stops the render, unless ``--allow-errors``.

Formulas render offline: MathJax is copied from the ``jupyter-server-mathjax`` package
(a dependency) into ``OUT_DIR/mathjax/`` and the pages load it from there, never from a CDN.

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
DEFAULT_OUT = os.path.join("_build", "walkthrough")
MATHJAX_DIR = "mathjax"
# MathJax 2 as jupyter-server-mathjax ships it: TeX input, HTML-CSS output; "Safe" as nbconvert uses.
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"
# nbconvert's "lab" page, minus require.js from a CDN (only widgets need it; these pages have none),
# plus MathJax told to use the STIX-Web fonts it ships (its default TeX fonts are not in the package).
TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}
{{ super() }}
<script type="text/x-mathjax-config">
MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null}});
</script>
{%- endblock html_head_js_mathjax -%}
"""


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


def copy_mathjax(out_dir):
    """Copy MathJax (from jupyter-server-mathjax) to ``out_dir/mathjax``; return the pages' URL for it."""
    import shutil

    try:
        import jupyter_server_mathjax
    except ImportError:
        raise SystemExit("jupyter-server-mathjax is not installed: pip install -e . (it is a dependency), "
                         "so that formulas render without a network") from None
    source = os.path.join(os.path.dirname(jupyter_server_mathjax.__file__), "static")
    if not os.path.isfile(os.path.join(source, "MathJax.js")):
        raise SystemExit(f"{source} holds no MathJax.js: reinstall jupyter-server-mathjax")
    target = os.path.join(out_dir, MATHJAX_DIR)
    if os.path.isdir(target):
        shutil.rmtree(target)
    shutil.copytree(source, target)
    return f"{MATHJAX_DIR}/MathJax.js?config={MATHJAX_CONFIG}"


RENDER_TIMEOUT_S = 600  # per cell: only an endless loop takes that long, even on a busy shared machine


def render(out_dir, notebooks=None, allow_errors=False, timeout=RENDER_TIMEOUT_S):
    """Execute and render ``notebooks`` (default: all source notebooks); return [(name, title, seconds)]."""
    from nbconvert import HTMLExporter

    notebooks = source_notebooks() if notebooks is None else list(notebooks)
    os.makedirs(out_dir, exist_ok=True)
    from jinja2 import DictLoader

    exporter = HTMLExporter(template_name="lab", template_file="walkthrough.html.j2",
                            extra_loaders=[DictLoader({"walkthrough.html.j2": TEMPLATE})],
                            mathjax_url=copy_mathjax(out_dir))
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
    parser.add_argument("--out", default=None, metavar="OUT_DIR",
                        help=f"folder for the HTML pages (default: {DEFAULT_OUT})")
    parser.add_argument("out_dir", nargs="?", default=None, help=argparse.SUPPRESS)  # older spelling
    parser.add_argument("--notebook", action="append", default=None, help="render only these (repeatable)")
    parser.add_argument("--allow-errors", action="store_true", help="render even when a cell raises")
    parser.add_argument("--timeout", type=int, default=RENDER_TIMEOUT_S,
                        help=f"seconds per cell before the render stops (default {RENDER_TIMEOUT_S})")
    args = parser.parse_args(argv)
    if args.out and args.out_dir and os.path.abspath(args.out) != os.path.abspath(args.out_dir):
        parser.error(f"two output folders given ({args.out_dir} and --out {args.out}): give one")
    out_dir = args.out or args.out_dir or DEFAULT_OUT
    notebooks = args.notebook or source_notebooks()
    if not notebooks:
        print("no notebooks to render in notebooks/", file=sys.stderr)
        return 1
    missing = [p for p in notebooks if not os.path.isfile(p)]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    done = render(out_dir, notebooks, allow_errors=args.allow_errors, timeout=args.timeout)
    print(f"{len(done)} notebooks rendered; open {os.path.join(out_dir, 'index.html')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
