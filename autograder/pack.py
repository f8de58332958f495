"""Zip a student's work for submission: ``cs231n_lec7/`` and ``notebooks/*.ipynb``, nothing else.

    python pack.py [FOLDER] [--out submission.zip]        # in the student release
    python -m autograder pack [FOLDER] [--out ZIP]        # the same, from the instructor's tree

The zip holds only what is graded: the package (without ``__pycache__``, compiled
files or links) and the notebooks. A virtualenv, datasets, checkpoints or outputs in
the folder stay out, so the upload stays small (the grader refuses a zip that unpacks
to more than its size limit). This file uses the standard library only: the release
ships it as ``pack.py``.
"""
from __future__ import annotations

import argparse
import os
import sys
import zipfile

PACKAGE = "cs231n_lec7"
SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", ".git", ".venv", "venv", "env"}
SKIP_SUFFIXES = (".pyc", ".pyo", ".zip")
LIMIT_MB = 50  # the grader's default submission_mb (autograder/config.toml)


class PackError(Exception):
    """The folder cannot be packed; the message says why, in a student's terms."""


def files_to_pack(folder: str) -> list[str]:
    """Paths relative to ``folder`` of every file the submission needs, sorted."""
    if not os.path.isdir(os.path.join(folder, PACKAGE)) or os.path.islink(os.path.join(folder, PACKAGE)):
        raise PackError(f"no {PACKAGE}/ folder in {os.path.abspath(folder)}: run this in the folder of your "
                        f"release (the one holding {PACKAGE}/ and notebooks/)")
    found = []
    for top in (PACKAGE, "notebooks"):
        for dirpath, dirnames, filenames in os.walk(os.path.join(folder, top)):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS
                                 and not os.path.islink(os.path.join(dirpath, d)))
            for fname in sorted(filenames):
                full = os.path.join(dirpath, fname)
                if os.path.islink(full) or not os.path.isfile(full) or fname.endswith(SKIP_SUFFIXES):
                    continue
                if top == "notebooks" and not fname.endswith(".ipynb"):
                    continue
                found.append(os.path.relpath(full, folder))
    return sorted(found)


def pack(folder: str = ".", out: str | None = None) -> tuple[str, list[str]]:
    """Write the submission zip; return (its path, the files it holds)."""
    out = os.path.abspath(out or os.path.join(folder, "submission.zip"))
    files = files_to_pack(folder)
    tmp = out + ".part"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel in files:
            zf.write(os.path.join(folder, rel), rel.replace(os.sep, "/"))
    os.replace(tmp, out)
    return out, files


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="pack.py", description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=".", help="the release folder with your work (default: .)")
    parser.add_argument("--out", default=None, help="the zip to write (default: FOLDER/submission.zip)")
    args = parser.parse_args(argv)
    try:
        out, files = pack(args.folder, args.out)
    except PackError as err:
        print(f"nothing packed: {err}", file=sys.stderr)
        return 1
    size = os.path.getsize(out)
    notebooks = sum(f.endswith(".ipynb") for f in files)
    print(f"wrote {out}: {len(files)} files ({PACKAGE}/ and {notebooks} notebooks), {size / 1024:.0f} KB")
    if size > LIMIT_MB * 2**20:
        print(f"warning: {size / 2**20:.0f} MB is more than the grader's usual {LIMIT_MB} MB limit: remove large "
              f"files you added to {PACKAGE}/ or notebooks/ (data, saved outputs)", file=sys.stderr)
    print("upload this zip; nothing else from the folder is needed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
