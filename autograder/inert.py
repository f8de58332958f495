"""Make text that came from a student inert before it reaches results.json, feedback.md or grades.csv.

Everything a worker sends (exception names and messages, returned strings, what
the code printed) and every submission name passes through here:

- :func:`clip` — valid UTF-8 (lone surrogates and undecodable bytes replaced), no
  control characters but newline and tab (no ANSI escapes, no bidirectional
  overrides), at most ``limit`` characters;
- :func:`md_text` — for a line of Markdown: HTML and Markdown syntax escaped, so
  printed text cannot open a heading, a link, a table, a fence or a ``<script>``,
  and bare URLs broken (``http[:]//``, ``www[.]``) so none is clickable;
- :func:`md_code_block` — a fenced block whose fence is longer than any run of
  backticks (or tildes) inside it, so the text cannot close it;
- :func:`csv_cell` — a spreadsheet cell that cannot start a formula;
- :func:`safe_name` — a submission name usable as a folder of the output.
"""
from __future__ import annotations

import os
import re

MESSAGE_CHARS = 2000  # a check's message, an exception's message
NAME_CHARS = 120      # a submission's name, an exception's type name

# C0 controls but \t and \n, DEL, C1 controls, bidirectional overrides and isolates, BOM.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\ufeff]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~#])")
_FENCE_RUN = re.compile(r"`{3,}|~{3,}")
_URL_START = re.compile(r"://|\bwww\.", re.IGNORECASE)
# Names the grader writes next to the submissions' folders in the output.
RESERVED_NAMES = {"grades.csv", "grades.csv.tmp", "report.html", "report.json"}


def valid_text(value) -> str:
    """``value`` as a str that encodes to UTF-8 (lone surrogates become U+FFFD)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    text = value if isinstance(value, str) else str(value)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:  # undecodable bytes of a file name (surrogateescape) come back as those bytes
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # other lone surrogates
        raw = text.encode("utf-8", "replace")
    return raw.decode("utf-8", "replace")


def strip_control(text: str) -> str:
    """Drop control characters (ANSI escapes lose their ESC and become plain text); CR LF -> LF."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def clip(value, limit: int = MESSAGE_CHARS) -> str:
    """Valid UTF-8, no control characters, at most ``limit`` characters (plus a note of what was cut)."""
    text = strip_control(valid_text(value))
    if len(text) <= limit:
        return text
    return text[:limit] + f" [... {len(text) - limit} more characters cut]"


def unlinked(text: str) -> str:
    """Bare URLs broken so that no renderer makes them clickable: ``http[:]//x``, ``www[.]x``."""
    return _URL_START.sub(lambda m: m.group(0).replace("://", "[:]//").replace(".", "[.]"), text)


def md_text(value, limit: int = MESSAGE_CHARS) -> str:
    """Clipped text safe inside one line of Markdown (list item, heading, table cell): no markup,
    no HTML, no clickable bare URL."""
    text = unlinked(clip(value, limit)).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_lines(value, limit: int = MESSAGE_CHARS) -> list:
    """:func:`md_text` for each line of a multi-line message."""
    return [md_text(line, limit) for line in clip(value, limit).splitlines()]


def md_code_block(lines, info: str = "") -> list:
    """The Markdown lines of a fenced code block holding ``lines`` verbatim (control characters stripped)."""
    body = [clip(line) for line in lines]
    longest = max((len(m.group(0)) for line in body for m in _FENCE_RUN.finditer(line)), default=0)
    fence = "`" * max(3, longest + 1)
    # Tildes cannot close a backtick fence; a longer backtick run is what could, so the fence is longer.
    return [fence + info, *body, fence]


def csv_cell(value):
    """A grades.csv cell: numbers unchanged; text clipped and never read as a formula by a spreadsheet."""
    if isinstance(value, (int, float)) or value is None:
        return value
    text = clip(value).replace("\n", " ")
    if text[:1] in ("=", "+", "-", "@", "\t", "|", "%"):
        text = "'" + text
    return text


def safe_name(name: str) -> str:
    """A submission's name as a single, valid folder name of the output.

    Undecodable bytes and control characters become ``_``, path separators too,
    and names the grader itself writes in the output (``grades.csv``, ...) or that
    are empty, ``.``/``..`` or hidden get a ``submission-`` prefix. At most
    :data:`NAME_CHARS` characters, so the folder name fits any file system.
    """
    text = valid_text(name).replace("\ufffd", "_")
    text = _CONTROL.sub("_", text).replace(os.sep, "_").replace("/", "_").replace("\\", "_")
    text = re.sub(r"[\x00-\x1f]", "_", text).strip()
    if len(text.encode("utf-8")) > NAME_CHARS:
        text = text.encode("utf-8")[:NAME_CHARS].decode("utf-8", "ignore")
    if not text or text in (".", "..") or text.startswith(".") or text.lower() in RESERVED_NAMES:
        text = "submission-" + text.lstrip(".")
    return text
