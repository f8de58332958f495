"""JupyterLab in a real browser: open a notebook, Run All Cells, see figures and no errors.

Starts ``jupyter lab`` (``--allow-root --no-browser``, a random token, a free port, root
folder = a temporary copy of ``notebooks/``) and drives Debian's Chromium through
Python playwright (``executable_path=/usr/bin/chromium``; playwright's own browser
download is not used). Opens ``01_sgd_problems.ipynb`` (else the first notebook, or
``$LEC7_BROWSER_NOTEBOOK``), runs Run → Run All Cells, waits until every code cell has
run and the kernel is idle, then asserts that figures were rendered (``<img>`` with
image/png data in output areas) and that no output is an error or stderr. A screenshot
is saved to the test's temporary folder (or ``$LEC7_ARTIFACTS/browser_<notebook>.png`` when set).

The walkthrough test renders a notebook with formulas through ``scripts/render_walkthrough.py``
and opens the page from disk with every request that is not a local file refused (the
network "off"): each formula must be typeset by MathJax (the local copy), none left as ``$…$``.

Install the browser with ``apt-get install -y chromium``; the test is skipped without it.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = os.environ.get("LEC7_ARTIFACTS")  # keep screenshots there; else in the test's tmp folder
RUN_TIMEOUT_S = 240

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None


def pick_notebook():
    chosen = os.environ.get("LEC7_BROWSER_NOTEBOOK")
    if chosen:
        return os.path.abspath(chosen)
    preferred = os.path.join(ROOT, "notebooks", "01_sgd_problems.ipynb")
    if os.path.exists(preferred):
        return preferred
    found = sorted(f for f in os.listdir(os.path.join(ROOT, "notebooks")) if f.endswith(".ipynb")) \
        if os.path.isdir(os.path.join(ROOT, "notebooks")) else []
    return os.path.join(ROOT, "notebooks", found[0]) if found else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def jupyterlab(tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent (apt-get install -y chromium)")
    if sync_playwright is None:
        pytest.skip("Python playwright is not installed (pip install playwright)")
    notebook = pick_notebook()
    if notebook is None:
        pytest.skip("notebooks/ has no .ipynb yet")
    root = tmp_path / "notebooks"
    if os.path.isdir(os.path.join(ROOT, "notebooks")):
        shutil.copytree(os.path.join(ROOT, "notebooks"), root,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    root.mkdir(exist_ok=True)
    shutil.copy(notebook, root / os.path.basename(notebook))
    # Render every cell (no windowing), so the page holds all outputs; no news or update pop-ups.
    settings = tmp_path / "settings"
    (settings / "@jupyterlab" / "notebook-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none"}))
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    token, port = os.urandom(12).hex(), free_port()
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
               PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
    env.pop("MPLBACKEND", None)
    log = open(tmp_path / "jupyterlab.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "jupyter", "lab", "--allow-root", "--no-browser",
                             f"--ServerApp.token={token}", f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1",
                             f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
                             "--LabApp.news_url=None"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("JupyterLab did not start:\n" + (tmp_path / "jupyterlab.log").read_text()[-3000:])
                time.sleep(0.3)
        yield {"base": base, "token": token, "name": os.path.basename(notebook)}
    finally:
        proc.terminate()  # the server shuts its kernels down
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


FORMULAS = [
    "Momentum: $v_{t+1} = \\rho v_t + \\nabla f(x_t)$, then $x_{t+1} = x_t - \\alpha v_{t+1}$.",
    "$$\\hat m_t = \\frac{m_t}{1 - \\beta_1^t}, \\qquad \\hat v_t = \\frac{v_t}{1 - \\beta_2^t}$$",
    "Adam's step: $x_{t+1} = x_t - \\alpha \\hat m_t / (\\sqrt{\\hat v_t} + \\varepsilon)$.",
]


def test_walkthrough_formulas_render_offline(tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent (apt-get install -y chromium)")
    if sync_playwright is None:
        pytest.skip("Python playwright is not installed (pip install playwright)")
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    from render_walkthrough import render

    source = tmp_path / "formulas.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell("# Formulas\n\n" + "\n\n".join(FORMULAS)),
                                       new_code_cell("print('done')")],
                                metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                         "language": "python"}}), str(source))
    out = tmp_path / "walkthrough"
    render(str(out), [str(source)])
    expected = sum(f.count("$$") // 2 + (f.count("$") - f.count("$$") * 2) // 2 for f in FORMULAS)
    shot = tmp_path / "walkthrough.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page()
            refused = []

            def offline(route):
                if route.request.url.startswith("file://"):
                    route.continue_()
                else:
                    refused.append(route.request.url)
                    route.abort("internetdisconnected")

            page.route("**/*", offline)
            page.goto((out / "formulas.html").as_uri())
            try:
                page.wait_for_function("window.MathJax && MathJax.Hub && MathJax.Hub.queue && "
                                       "MathJax.Hub.queue.pending === 0 && "
                                       "document.querySelectorAll('.MathJax').length > 0", timeout=30_000)
            except Exception:  # playwright's TimeoutError: the asserts below say what is missing
                pass
            typeset = page.locator(".jp-MarkdownOutput .MathJax").count()
            text = page.inner_text(".jp-MarkdownOutput")
            errors = page.locator(".MathJax_Error, merror").count()
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    assert not refused, f"the walkthrough page asked the network for {refused}"
    assert typeset == expected, f"{typeset} of {expected} formulas typeset (screenshot {shot})"
    assert "$" not in text and "\\frac" not in text, f"raw TeX left on the page: {text[:300]!r}"
    assert errors == 0, f"MathJax reported {errors} errors (screenshot {shot})"


def test_run_all_cells_renders_figures(jupyterlab, tmp_path):
    name = jupyterlab["name"]
    folder = ARTIFACTS or str(tmp_path)
    os.makedirs(folder, exist_ok=True)
    shot = os.path.join(folder, f"browser_{os.path.splitext(name)[0]}.png")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{jupyterlab['base']}/lab/tree/{name}?token={jupyterlab['token']}")
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
            # the kernel is up when the status bar says "| Idle" (the toolbar says idle too early)
            page.wait_for_function("document.querySelector('.jp-StatusBar-Item, #jp-main-statusbar') && "
                                   "document.body.innerText.includes('| Idle')", timeout=90_000)
            code_cells = page.locator(".jp-NotebookPanel .jp-CodeCell").count()
            prompt_sel = ".jp-NotebookPanel .jp-CodeCell .jp-InputPrompt"
            for attempt in range(3):  # Run All sent before the kernel's channel is open is lost: retry
                page.click("li.lm-MenuBar-item:has-text('Run')")
                page.click("li.lm-Menu-item:has-text('Run All Cells')")
                try:
                    page.wait_for_function(
                        f"[...document.querySelectorAll('{prompt_sel}')].some("
                        f"p => /\\[(\\*|\\d+)\\]/.test(p.innerText))", timeout=15_000)
                    break
                except Exception:
                    page.wait_for_timeout(1000)
            deadline = time.monotonic() + RUN_TIMEOUT_S
            done = False
            while time.monotonic() < deadline:
                prompts = page.locator(prompt_sel).all_inner_texts()
                ran = [p for p in prompts if p.strip() not in ("[ ]:", "[*]:", "")]
                busy = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count() == 0
                if len(ran) == code_cells and not busy:
                    done = True
                    break
                if page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count():
                    break  # an error stops Run All: no point waiting
                time.sleep(0.5)
            page.wait_for_timeout(500)  # let the last outputs paint
            first_figure = page.locator(".jp-OutputArea-output img[src^='data:image/png']").first
            if first_figure.count():
                first_figure.scroll_into_view_if_needed()  # the notebook scrolls inside its panel
            page.screenshot(path=shot)
            errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            error_texts = [t[:400] for t in errors.all_inner_texts()]
            figures = page.locator(".jp-OutputArea-output img[src^='data:image/png']").count()
        finally:
            browser.close()
    assert not error_texts, f"{name}: error or stderr outputs in the browser (screenshot {shot}):\n" + \
        "\n---\n".join(error_texts)
    assert done, f"{name}: Run All Cells did not finish within {RUN_TIMEOUT_S} s (screenshot {shot})"
    assert figures >= 1, f"{name}: no rendered figure (img with image/png) after Run All (screenshot {shot})"
