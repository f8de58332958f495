"""scripts/render_walkthrough.py on the nbgrader fixture notebook (fast, always present)."""
from __future__ import annotations

import html
import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "nbgrader", "00_fixture.ipynb")


def test_render_fixture(tmp_path):
    out = tmp_path / "walkthrough"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "render_walkthrough.py"), "--out", str(out),
                           "--notebook", FIXTURE], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = (out / "00_fixture.html").read_text()
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "first_step_scale = 1 / (1 - 0.9 ** 1)" in text, "solutions are kept"
    assert re.search(r"all \d+ visible checks passed", page), "the notebook was executed"
    assert "loss after 200 Adam steps" in page
    for hidden in ("run_hidden", "BEGIN HIDDEN TESTS", "BEGIN SOLUTION"):
        assert hidden not in text, f"{hidden!r} should not be shown to readers"
    assert "jp-OutputArea-child" in page and "jp-RenderedText" in page
    assert "Traceback" not in text
    index = (out / "index.html").read_text()
    assert 'href="00_fixture.html"' in index and "Fixture: two graded exercises" in index
    # offline: MathJax from the copy beside the pages, no script or stylesheet from another host
    assert 'src="mathjax/MathJax.js?config=' in page
    assert (out / "mathjax" / "MathJax.js").is_file()
    assert (out / "mathjax" / "fonts" / "HTML-CSS" / "STIX-Web").is_dir(), "the fonts the pages ask for"
    remote = re.findall(r'<(?:script|link)[^>]*(?:src|href)="(?:https?:)?//[^"]*"', page)
    assert not remote, f"the page loads {remote} from the network"


def test_render_options(tmp_path):
    """--out is the documented spelling; the older positional folder still works; two folders are refused."""
    script = os.path.join(ROOT, "scripts", "render_walkthrough.py")
    run = lambda *args: subprocess.run([sys.executable, script, *args], capture_output=True, text=True,  # noqa: E731
                                       timeout=300, cwd=tmp_path)
    proc = run("--help")
    assert proc.returncode == 0 and "--out" in proc.stdout
    proc = run(str(tmp_path / "a"), "--out", str(tmp_path / "b"), "--notebook", FIXTURE)
    assert proc.returncode == 2 and "two output folders" in proc.stderr
    proc = run("--out", str(tmp_path / "c"), "--notebook", str(tmp_path / "missing.ipynb"))
    assert proc.returncode == 2 and "no such notebook" in proc.stderr and "missing.ipynb" in proc.stderr
    assert not (tmp_path / "c").exists()


def test_render_refuses_a_failing_notebook(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    bad = tmp_path / "bad.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("raise ValueError('broken walkthrough')")],
                                metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                         "language": "python"}}), str(bad))
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "render_walkthrough.py"),
                           str(tmp_path / "out"), "--notebook", str(bad)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode != 0 and "broken walkthrough" in proc.stdout + proc.stderr
