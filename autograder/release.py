"""Build the student release from the one source tree.

``python -m autograder release OUT`` writes:

- ``cs231n_lec7/``: every ``### BEGIN SOLUTION`` ... ``### END SOLUTION``
  block replaced by ``raise NotImplementedError("<id>: ... see notebook N,
  section S")`` (pointers from ``autograder/config.toml``); the visible
  checks and their stored expected values; sample images;
- ``notebooks/``: the source notebooks through nbgrader's own preprocessors
  (solutions cleared, hidden tests removed, outputs cleared, cells locked and
  checksummed), so they are nbgrader's "release" versions;
- ``tests/test_visible_checks.py``, ``datasets/``, a student ``pyproject.toml``
  (its ``dev`` extra: pytest only), ``README.md`` and ``pack.py`` (zips the
  package and notebooks for submission, nothing else).

Text between ``<!-- BEGIN INSTRUCTOR ONLY -->`` and ``<!-- END INSTRUCTOR ONLY -->``
in Markdown files and notebook markdown cells (e.g. commands that need the
instructor's scripts) is left out of the release.

Nothing instructor-only is copied (``autograder/``, hidden checks, references,
the instructor's tests). The release is built in a temporary folder and only
moved to OUT once a final scan finds no line of any solution block in any
released file; otherwise it is refused with the file and line named.
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
import tokenize

from .grade import load_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
NB_BEGIN_HIDDEN, NB_END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
DEF_RE = re.compile(r"^(\s*)def\s+([A-Za-z_]\w*)\s*\(")
TEXT_SUFFIXES = (".py", ".ipynb", ".md", ".toml", ".txt", ".cfg", ".yml", ".yaml", ".json")
INSTRUCTOR_ONLY = re.compile(r"<!--\s*BEGIN INSTRUCTOR ONLY\s*-->.*?<!--\s*END INSTRUCTOR ONLY\s*-->\n?", re.S)
STUDENT_DEV_EXTRA = 'dev = ["pytest>=8", "pytest-timeout>=2.3"]'


def strip_instructor_only(text):
    """``text`` without its ``<!-- BEGIN/END INSTRUCTOR ONLY -->`` regions (markers included)."""
    return INSTRUCTOR_ONLY.sub("", text)


COMPUTES = re.compile(r"(?<![=<>!])=(?!=)|^return\b")  # assignments and returns: lines that compute


def code_key(line):
    """``line`` without its comment and without any whitespace: ``a = b  # c`` -> ``a=b``."""
    text = line.strip()
    try:
        comments = [t for t in tokenize.generate_tokens(io.StringIO(text + "\n").readline)
                    if t.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError):
        comments = []
    if comments:
        text = text[: comments[0].start[1]]
    return "".join(text.split())


class ReleaseError(Exception):
    """The release cannot be written safely; the message says why."""


def solution_blocks(text, path="<text>"):
    """[(start, end, indent, [lines])] of the marker blocks in ``text`` (0-based, markers included)."""
    blocks, start, indent = [], None, ""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped == BEGIN:
            if start is not None:
                raise ReleaseError(f"{path}:{i + 1}: {BEGIN} inside another solution block")
            start, indent = i, line[: len(line) - len(line.lstrip())]
        elif stripped == END:
            if start is None:
                raise ReleaseError(f"{path}:{i + 1}: {END} without a matching {BEGIN}")
            blocks.append((start, i, indent, lines[start + 1: i]))
            start = None
    if start is not None:
        raise ReleaseError(f"{path}:{start + 1}: {BEGIN} is never closed by {END}")
    return blocks


def enclosing_function(lines, index):
    """Name of the innermost ``def`` enclosing line ``index``."""
    target_indent = len(lines[index]) - len(lines[index].lstrip())
    for j in range(index - 1, -1, -1):
        m = DEF_RE.match(lines[j])
        if m and len(m.group(1)) < target_indent:
            return m.group(2)
    return None


def stub_module(text, module, exercises, path):
    """``text`` with each solution block replaced by a NotImplementedError stub."""
    lines = text.splitlines()
    blocks = solution_blocks(text, path)
    out, last = [], 0
    for start, end, indent, _ in blocks:
        func = enclosing_function(lines, start)
        if func is None:
            raise ReleaseError(f"{path}:{start + 1}: a solution block outside any function")
        exercise = f"{module}.{func}"
        spec = exercises.get(exercise)
        if spec is None:
            raise ReleaseError(f"{path}:{start + 1}: solution block in {func}() but no [exercises.\"{exercise}\"] "
                               f"entry in autograder/config.toml")
        message = (f"{exercise}: not implemented yet — write it here, see notebook {spec['notebook']}, "
                   f"section \"{spec['section']}\"")
        out += lines[last:start]
        out.append(f"{indent}# TODO: your code here ({exercise})")
        out.append(f"{indent}raise NotImplementedError({json.dumps(message, ensure_ascii=False)})")
        last = end + 1
    out += lines[last:]
    return "\n".join(out) + "\n"


def _solution_lines(source_root):
    """{stripped solution line: 'file:line'} from package files and notebook solution regions."""
    found = {}
    pkg = os.path.join(source_root, "cs231n_lec7")
    for dirpath, _, files in os.walk(pkg):
        for fname in files:
            if fname.endswith(".py"):
                path = os.path.join(dirpath, fname)
                with open(path) as fh:
                    text = fh.read()
                for start, _, _, body in solution_blocks(text, path):
                    for k, line in enumerate(body):
                        key = line.strip()
                        if key and not key.startswith("#"):
                            where = f"{os.path.relpath(path, source_root)}:{start + k + 2}"
                            found.setdefault(key, where)
                            if COMPUTES.search(code_key(line)):
                                found.setdefault(("code", code_key(line)), where)
    nb_dir = os.path.join(source_root, "notebooks")
    for fname in sorted(os.listdir(nb_dir)) if os.path.isdir(nb_dir) else []:
        if not fname.endswith(".ipynb"):
            continue
        with open(os.path.join(nb_dir, fname)) as fh:
            nb = json.load(fh)
        for n, cell in enumerate(nb.get("cells", [])):
            source = "".join(cell.get("source", []))
            regions = []
            if cell.get("metadata", {}).get("nbgrader", {}).get("solution") and BEGIN not in source:
                if cell["cell_type"] == "code":
                    regions.append(source.splitlines())  # whole cell is the solution
            for marker_begin, marker_end in ((BEGIN, END), (NB_BEGIN_HIDDEN, NB_END_HIDDEN)):
                inside = False
                body = []
                for line in source.splitlines():
                    if line.strip() == marker_begin:
                        inside = True
                    elif line.strip() == marker_end:
                        inside = False
                        regions.append(body)
                        body = []
                    elif inside:
                        body.append(line)
            for body in regions:
                for line in body:
                    key = line.strip()
                    if key and not key.startswith("#") and len(key) > 3:
                        found.setdefault(key, f"notebooks/{fname} cell {n}")
    return found


def scan_for_solutions(release_root, solution_lines):
    """['file:line: text (from source)'] for every solution line found in the release."""
    leaks = []
    for dirpath, _, files in os.walk(release_root):
        for fname in files:
            if not fname.endswith(TEXT_SUFFIXES):
                continue
            path = os.path.join(dirpath, fname)
            with open(path, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
            if fname.endswith(".ipynb"):
                nb = json.loads(text)
                lines = [l for c in nb.get("cells", []) for l in "".join(c.get("source", [])).splitlines()]
            else:
                lines = text.splitlines()
            for i, line in enumerate(lines):
                key = line.strip()
                source = solution_lines.get(key) or solution_lines.get(("code", code_key(line)))
                if source:
                    leaks.append(f"{os.path.relpath(path, release_root)}:{i + 1}: {key!r} "
                                 f"(solution line from {source})")
    return leaks


def _copy_package(src, dst, exercises):
    for dirpath, dirnames, files in os.walk(src):
        dirnames[:] = [d for d in dirnames if d not in ("__pycache__",)]
        rel = os.path.relpath(dirpath, src)
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for fname in files:
            if fname.endswith((".pyc",)):
                continue
            s, d = os.path.join(dirpath, fname), os.path.join(dst, rel, fname)
            if fname.endswith(".py"):
                with open(s) as fh:
                    text = fh.read()
                module = os.path.splitext(os.path.join(rel, fname))[0].replace(os.sep, ".").lstrip("./")
                if BEGIN in text:
                    text = stub_module(text, module, exercises, os.path.relpath(s, ROOT))
                if MATH_BEGIN in text:
                    text = strip_math(text, module, exercises, os.path.relpath(s, ROOT))
                with open(d, "w") as fh:
                    fh.write(text)
            else:
                shutil.copyfile(s, d)


def _release_notebooks(src_dir, dst_dir):
    """nbgrader's release preprocessors applied to every source notebook."""
    import nbformat
    from nbgrader.preprocessors import (
        ClearHiddenTests,
        ClearMarkScheme,
        ClearOutput,
        ClearSolutions,
        ComputeChecksums,
        LockCells,
    )

    os.makedirs(dst_dir, exist_ok=True)
    for fname in sorted(os.listdir(src_dir)):
        src = os.path.join(src_dir, fname)
        if fname.startswith(".") or fname.startswith("_"):
            continue
        if not fname.endswith(".ipynb"):
            if os.path.isfile(src) and fname.endswith(".md"):
                with open(src, encoding="utf-8") as fh, \
                        open(os.path.join(dst_dir, fname), "w", encoding="utf-8") as out:
                    out.write(strip_instructor_only(fh.read()))
            elif os.path.isfile(src):
                shutil.copyfile(src, os.path.join(dst_dir, fname))
            continue
        nb = nbformat.read(src, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = strip_instructor_only(cell.source)
        resources = {}
        for pre in (ClearSolutions(), ClearHiddenTests(), ClearMarkScheme(), ClearOutput(),
                    LockCells(), ComputeChecksums()):
            nb, resources = pre.preprocess(nb, resources)
        nbformat.write(nb, os.path.join(dst_dir, fname))


def _student_pyproject(text):
    """The instructor's pyproject.toml for the release: no grader, and ``[dev]`` = what students run."""
    text = text.replace('include = ["cs231n_lec7*", "autograder*"]', 'include = ["cs231n_lec7*"]')
    text = re.sub(r'^autograder = \[.*\]\n', "", text, flags=re.M)
    text = re.sub(r'^dev = \[.*?\]\n', STUDENT_DEV_EXTRA + "\n", text, count=1, flags=re.M | re.S)
    return text


def make_release(out, force=False, notebooks=True, source_root=ROOT):
    config = load_config(os.path.join(source_root, "autograder", "config.toml"))
    exercises = config["exercises"]
    out = os.path.abspath(out)
    if os.path.exists(out) and os.listdir(out) and not force:
        raise ReleaseError(f"{out} exists and is not empty (use --force to replace it)")
    staging = tempfile.mkdtemp(prefix="lec7-release-")
    try:
        _copy_package(os.path.join(source_root, "cs231n_lec7"), os.path.join(staging, "cs231n_lec7"), exercises)
        nb_src = os.path.join(source_root, "notebooks")
        if notebooks and os.path.isdir(nb_src):
            _release_notebooks(nb_src, os.path.join(staging, "notebooks"))
        os.makedirs(os.path.join(staging, "tests"))
        shutil.copyfile(os.path.join(source_root, "tests", "test_visible_checks.py"),
                        os.path.join(staging, "tests", "test_visible_checks.py"))
        ds = os.path.join(source_root, "datasets")
        os.makedirs(os.path.join(staging, "datasets"))
        for fname in ("get_datasets.py", "README.md"):
            if os.path.exists(os.path.join(ds, fname)):
                shutil.copyfile(os.path.join(ds, fname), os.path.join(staging, "datasets", fname))
        with open(os.path.join(source_root, "pyproject.toml")) as fh:
            pyproject = _student_pyproject(fh.read())
        with open(os.path.join(staging, "pyproject.toml"), "w") as fh:
            fh.write(pyproject)
        for fname in ("environment.yml",):
            if os.path.exists(os.path.join(source_root, fname)):
                shutil.copyfile(os.path.join(source_root, fname), os.path.join(staging, fname))
        student_readme = os.path.join(source_root, "autograder", "STUDENT_README.md")
        if os.path.exists(student_readme):
            with open(student_readme, encoding="utf-8") as fh:
                text = strip_instructor_only(fh.read())
            with open(os.path.join(staging, "README.md"), "w", encoding="utf-8") as fh:
                fh.write(text)
        shutil.copyfile(os.path.join(source_root, "autograder", "pack.py"), os.path.join(staging, "pack.py"))

        leaks = scan_for_solutions(staging, _solution_lines(source_root))
        leaks += scan_for_math(staging, math_lines(source_root))
        if leaks:
            shown = "\n  ".join(leaks[:20])
            raise ReleaseError(f"{len(leaks)} solution line(s) or equation(s) would survive in the release:\n"
                               f"  {shown}")
        if os.path.exists(out):
            shutil.rmtree(out)
        shutil.copytree(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


# ----------------------------------------------------------------------------
# Stubs state the contract, notebooks teach the math
# ----------------------------------------------------------------------------
# In an exercise's docstring, the lines between ``.. math-begin`` and ``.. math-end``
# (each alone on its line) are the equations the student must find in the notebook.
# The source tree keeps them for self-study readers; the release replaces each block
# by one line pointing at the notebook section, and refuses a release in which a
# stripped equation survives anywhere in the package.
MATH_BEGIN, MATH_END = ".. math-begin", ".. math-end"


def math_blocks(text, path="<text>"):
    """[(start, end, indent, [lines])] of the math blocks in ``text`` (0-based, marker lines included)."""
    blocks, start, indent = [], None, ""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped == MATH_BEGIN:
            if start is not None:
                raise ReleaseError(f"{path}:{i + 1}: {MATH_BEGIN} inside another math block")
            start, indent = i, line[: len(line) - len(line.lstrip())]
        elif stripped == MATH_END:
            if start is None:
                raise ReleaseError(f"{path}:{i + 1}: {MATH_END} without a matching {MATH_BEGIN}")
            blocks.append((start, i, indent, lines[start + 1: i]))
            start = None
    if start is not None:
        raise ReleaseError(f"{path}:{start + 1}: {MATH_BEGIN} is never closed by {MATH_END}")
    return blocks


def strip_math(text, module, exercises, path):
    """``text`` with each math block replaced by a pointer to the exercise's notebook section."""
    lines = text.splitlines()
    out, last = [], 0
    for start, end, indent, _ in math_blocks(text, path):
        func = enclosing_function(lines, start)
        spec = exercises.get(f"{module}.{func}") if func else None
        if spec is None:
            raise ReleaseError(f"{path}:{start + 1}: a math block outside the docstring of an exercise "
                               f"listed in autograder/config.toml")
        out += lines[last:start]
        out.append(f"{indent}(The equations are yours to write: notebook {spec['notebook']}, "
                   f"section \"{spec['section']}\".)")
        last = end + 1
    out += lines[last:]
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def _math_key(line):
    """An equation line without whitespace: the same equation however it is spaced."""
    return "".join(line.split())


def math_lines(source_root):
    """{equation key: 'file:line'} of every line inside a math block of the source package."""
    found = {}
    pkg = os.path.join(source_root, "cs231n_lec7")
    for dirpath, _, files in os.walk(pkg):
        for fname in sorted(files):
            if not fname.endswith(".py"):
                continue
            path = os.path.join(dirpath, fname)
            with open(path) as fh:
                text = fh.read()
            for start, _, _, body in math_blocks(text, path):
                for k, line in enumerate(body):
                    key = _math_key(line)
                    if len(key) > 4:  # a blank or a lone bracket is no equation
                        found.setdefault(key, f"{os.path.relpath(path, source_root)}:{start + k + 2}")
    return found


def scan_for_math(release_root, equations):
    """['file:line: text (equation from source)'] for each stripped equation in the released package.

    An equation counts when its whitespace-free text occurs anywhere in a line's
    whitespace-free text (a hint that quotes it is a leak too). Notebooks are not
    scanned: they are where the math is taught.
    """
    leaks = []
    pkg = os.path.join(release_root, "cs231n_lec7")
    for dirpath, _, files in os.walk(pkg):
        for fname in sorted(files):
            if not fname.endswith(".py"):
                continue
            path = os.path.join(dirpath, fname)
            with open(path, encoding="utf-8", errors="replace") as fh:
                lines = fh.read().splitlines()
            for i, line in enumerate(lines):
                key = _math_key(line)
                if MATH_BEGIN in line or MATH_END in line:
                    leaks.append(f"{os.path.relpath(path, release_root)}:{i + 1}: a math marker survived")
                    continue
                for eq, source in equations.items():
                    if eq in key:
                        leaks.append(f"{os.path.relpath(path, release_root)}:{i + 1}: {line.strip()!r} "
                                     f"(equation from {source})")
                        break
    return leaks
