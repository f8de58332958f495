"""Output is inert: what a worker sends cannot forge or inject content into feedback.md, results.json
or grades.csv (autograder/inert.py), and the wire refuses what would bloat the judge."""
from __future__ import annotations

import csv
import io
import json
import re

import pytest

from autograder import inert
from autograder.sandbox import StudentError, _student_error


def fenced_body(lines):
    """The lines a CommonMark reader puts inside the block that starts at lines[0] (closing fence rules)."""
    opening = re.match(r"(`{3,}|~{3,})", lines[0]).group(1)
    body = []
    for line in lines[1:]:
        stripped = line.strip()
        if stripped and set(stripped) == {opening[0]} and len(stripped) >= len(opening):
            return body, True
        body.append(line)
    return body, False


@pytest.mark.parametrize("text", ["```", "````", "~~~~", "``````````", "a ``` b", "**Score: 999 / 137**"])
def test_a_code_block_holds_any_text(text):
    lines = ["before", text, "after"]
    block = inert.md_code_block(lines)
    body, closed = fenced_body(block)
    assert closed and body == lines


def test_a_naive_fence_would_be_broken():
    """Planted weakness: the old fixed ``` fence is closed by the student's own ```."""
    body, _ = fenced_body(["```", "```", "**Score: 999 / 137**", "```"])
    assert "**Score: 999 / 137**" not in body


def test_markdown_and_html_are_escaped_in_a_line():
    line = inert.md_text("**Score: 999** <script>alert(1)</script> [x](http://e) `c` # h | t")
    assert "<" not in line and "**" not in line and "](" not in line.replace("\\](", "")
    assert "&lt;script&gt;" in line and "\\*\\*Score: 999\\*\\*" in line


def test_control_characters_surrogates_and_length():
    text = inert.clip("a\x1b[31mb\u202ec\x00d\ud800e\r\nf" + "x" * 5000, 100)
    assert "\x1b" not in text and "\u202e" not in text and "\x00" not in text and "\r" not in text
    text.encode("utf-8")  # a lone surrogate would raise here
    assert len(text) < 150 and "more characters cut" in text
    assert inert.valid_text(b"caf\xe9".decode("utf-8", "surrogateescape")) == "caf\ufffd"


@pytest.mark.parametrize("cell", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=x", "|calc"])
def test_csv_cells_never_start_a_formula(cell):
    out = io.StringIO()
    csv.writer(out).writerow([inert.csv_cell(cell)])
    assert not re.match(r'^"?[=+\-@\t|]', out.getvalue())
    assert inert.csv_cell(3.5) == 3.5


@pytest.mark.parametrize("name, expected", [("grades.csv", "submission-grades.csv"), ("GRADES.CSV", "submission-GRADES.CSV"),
                                            ("report.html", "submission-report.html"), ("..", "submission-"),
                                            (".hidden", "submission-hidden"), ("a/b", "a_b"),
                                            ("x" * 300, "x" * 120), ("ok-name", "ok-name")])
def test_submission_names_are_safe_folder_names(name, expected):
    assert inert.safe_name(name) == expected


def test_a_worker_error_is_clipped_before_it_reaches_any_report():
    err = _student_error({"ok": False, "error": {"type": "B" * 2_000_000, "message": "m" * 2_000_000 + "\ud800",
                                                 "where": "w" * 10_000}})
    assert isinstance(err, StudentError)
    assert len(err.type_name) < 200 and len(err.message) < 1100 and len(err.where) < 300
    json.dumps(err.describe()).encode("utf-8")


def test_a_complex_result_fails_with_a_clear_message():
    """The imaginary part of a returned array was once dropped when compared: right real part,
    any imaginary part, full marks. Now a complex result fails, saying why."""
    import numpy as np

    from cs231n_lec7.checks.core import CheckFailure, as_array, assert_close, rel_error

    expected = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    forged = expected + 5j * np.ones_like(expected)
    with np.errstate(all="ignore"), __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("ignore")
        assert rel_error(forged, expected) == 0.0  # what the comparison alone would see
    for call in (lambda: as_array("next_w", forged), lambda: assert_close("next_w", forged, expected)):
        with pytest.raises(CheckFailure, match="complex numbers"):
            call()
    assert assert_close("next_w", expected.copy(), expected) == 0.0  # a real answer still passes


def test_bare_urls_in_student_text_are_not_clickable():
    """A message or print like "see https://evil.example" must not become a link in feedback.md;
    planted: the same text unbroken is linked by a renderer that links bare URLs (mistune's url plugin)."""
    mistune = pytest.importorskip("mistune")
    render = mistune.create_markdown(plugins=["url"])
    text = "grade fixed at https://evil.example/regrade?x=1, HTTP://EVIL.EXAMPLE and www.evil.example"
    assert "<a " in render(text)  # planted: the renderer does link bare URLs
    shown = inert.md_text(text)
    assert "<a " not in render(shown), render(shown)
    assert "://" not in shown and "www." not in shown.lower()
    assert "evil.example" in shown  # the text stays readable
    code = "\n".join(inert.md_code_block(["print('https://example.org')"]))
    assert "https://example.org" in code  # inside a code block a URL is never a link: left as printed
