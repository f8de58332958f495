"""The class report in a real browser: it opens offline, its figures show, nothing scrolls sideways.

Debian's Chromium (``/usr/bin/chromium``) driven by Python playwright opens
``report.html`` from disk. Every request the page makes is routed through the
test: anything but a ``file:`` or ``data:`` URL fails the test (and is aborted).
The batch holds hostile text (an ``<img>`` pointing at the network, a
``<script>``) in places a results.json can carry it: the page must show it as
text, never load or run it. A screenshot is saved to ``artifacts/``.

Install the browser with ``apt-get install -y chromium``; the test is skipped without it.
"""
from __future__ import annotations

import json
import os
import urllib.parse

import pytest

from autograder.classreport import write_report
from autograder.grade import load_config
from autograder.synthetic_batch import random_batch, write_submission

pytestmark = [pytest.mark.browser]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run"]
ARTIFACTS = os.path.join(ROOT, "artifacts")
HOSTILE = '<img src="http://127.0.0.1:9/pixel.png"><script>alert("x")</script>'

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent (apt-get install -y chromium)")
    if sync_playwright is None:
        pytest.skip("Python playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield b
        finally:
            b.close()


def make_batch(folder, n):
    config = load_config()
    if n > 1:
        random_batch(str(folder), n - 2, seed=11, config=config)
        write_submission(str(folder), "hostile", config, problem=HOSTILE, sandbox=None)
        write_submission(str(folder), "hung", config, fractions={"optim.adam": 0.0}, restarts=1,
                         messages={"optim.adam": "time limit: " + HOSTILE})
    else:
        write_submission(str(folder), "solo", config, fractions={"optim.adam": 0.0},
                         diagnoses={"optim.adam": ["missing bias correction"]})
    return write_report(str(folder))[0]


def open_report(browser, html_path, width):
    """Load the page; return (page, off-limits requests, console errors, dialogs)."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    outside, errors, dialogs = [], [], []

    def route(r):
        url = r.request.url
        if url.startswith(("file:", "data:")):
            r.continue_()
        else:
            outside.append(url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto("file://" + os.path.abspath(html_path), wait_until="load")
    return page, outside, errors, dialogs


@pytest.mark.parametrize("n", [1, 60])
def test_report_renders_offline_with_visible_figures(browser, tmp_path, n):
    html_path = make_batch(tmp_path / "grades", n)
    page, outside, errors, dialogs = open_report(browser, html_path, 900)
    try:
        images = page.locator("figure img")
        count = images.count()
        assert count >= 2, "expected the total-score histogram and one per exercise"
        state = page.evaluate("""() => [...document.querySelectorAll('figure img')].map(img => ({
            complete: img.complete, natural: img.naturalWidth, width: img.getBoundingClientRect().width,
            height: img.getBoundingClientRect().height, alt: img.alt,
            src: img.getAttribute('src').slice(0, 22)}))""")
        for k, img in enumerate(state):
            assert img["complete"] and img["natural"] > 0, f"figure {k} did not decode: {img}"
            assert img["width"] > 100 and img["height"] > 50, f"figure {k} is not shown at a readable size: {img}"
            assert img["src"] == "data:image/png;base64,", img
            assert len(img["alt"]) > 20, f"figure {k} has no useful alt text"
        for k in (0, count - 1):
            images.nth(k).scroll_into_view_if_needed()
            assert images.nth(k).is_visible()
        # every figure has a table view next to it, and the page runs no script at all
        assert page.locator("figure + details table").count() == count
        assert page.evaluate("document.scripts.length") == 0
        with open(os.path.join(os.path.dirname(html_path), "report.json")) as fh:
            report = json.load(fh)
        first = page.locator("#reteach table").last.locator("tbody tr").first.inner_text()
        assert report["reteach"][0]["title"] in first and str(report["reteach"][0]["count"]) in first
        links = page.eval_on_selector_all("#incidents a", "as => as.map(a => a.href)")
        assert len(links) == len(report["incidents"])
        for href in links:  # relative links that resolve to the submission's feedback.md
            path = urllib.parse.unquote(urllib.parse.urlparse(href).path)
            assert path.endswith("/feedback.md") and os.path.isfile(path), href
        if n > 1:
            assert {"hostile", "hung"} <= {i["submission"] for i in report["incidents"]} and len(links) >= 2
            assert page.get_by_text('<script>alert("x")</script>').count() >= 1  # shown as text
        os.makedirs(ARTIFACTS, exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=os.path.join(ARTIFACTS, f"browser_report_{n}.png"))
    finally:
        page.close()
    assert outside == [], f"the report made network requests: {outside}"
    assert dialogs == [], f"the report ran script: {dialogs}"
    assert errors == [], f"console errors: {errors}"


@pytest.mark.parametrize("width", [900, 420])
def test_no_sideways_scrolling(browser, tmp_path, width):
    html_path = make_batch(tmp_path / "grades", 60)
    page, outside, _, _ = open_report(browser, html_path, width)
    try:
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")  # tables too
        scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        too_wide = page.evaluate(f"""[...document.querySelectorAll('table, figure img')]
            .filter(e => e.getBoundingClientRect().right > {width} + 1).length""")
    finally:
        page.close()
    assert scroll <= client, f"at {width} px the page is {scroll} px wide: it scrolls sideways"
    assert too_wide == 0
    assert outside == []


def test_the_route_catches_a_network_request(browser, tmp_path):
    """The request check is live: a page that loads a remote image is caught."""
    page_path = tmp_path / "leak.html"
    page_path.write_text('<!DOCTYPE html><img src="http://127.0.0.1:9/pixel.png" alt="x">')
    page, outside, _, _ = open_report(browser, page_path, 600)
    page.close()
    assert outside == ["http://127.0.0.1:9/pixel.png"]
