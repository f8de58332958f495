"""The same grader packaged as a Gradescope autograder: ``python -m autograder gradescope OUT.zip``.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once when
it builds the image, and ``/autograder/run_autograder`` for each submission (the
student's files are in ``/autograder/submission``; the score is read from
``/autograder/results/results.json``). The zip holds::

    setup.sh            installs bubblewrap (apt, where the image allows) and a Python >= 3.11
                        venv at /autograder/venv with requirements.txt; makes the instructor's
                        files (/autograder/source) readable by root only and the venv readable
                        by everyone, so a worker running as an unprivileged uid can start
                        Python and cannot read the solution
    run_autograder      copies the submission (links kept as links: the grader refuses them),
                        runs
                        ``python -m autograder grade <copy>/submission --out /tmp/out --jobs 1``
                        from /autograder/source and copies /tmp/out/submission/results.json
                        to /autograder/results/results.json (a results.json saying "not
                        graded" if the grader itself failed)
    requirements.txt    the grader's runtime dependencies, pinned to the versions it was
                        built and tested with (no notebook tooling)
    pyproject.toml
    cs231n_lec7/        the instructor's package: solutions, visible checks, expected values
    autograder/         the judge: hidden checks, references, config.toml (points, seed)

The judge imports ``autograder`` and ``cs231n_lec7`` from /autograder/source (the
working directory); the student's code runs only in the sandboxed worker, where
bubblewrap hides /autograder/source when it works in Gradescope's container (its
results then say ``"sandbox": "bwrap"``); otherwise the grader falls back to the
subprocess sandbox and says so in the results. Either way Gradescope runs the
grader as root, so the worker runs as an unprivileged uid of its own, with no
capability and a seccomp filter: without bubblewrap, what keeps it from the
solution is that setup.sh left /autograder/source readable by root only.

``AUTOGRADER_ROOT`` (default ``/autograder``) moves the whole layout (the tests use a
temporary folder); ``LEC7_PYTHON`` picks the interpreter, ``LEC7_OUT`` the output folder.
"""
from __future__ import annotations

import importlib.metadata
import os
import re
import stat
import tomllib
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Needed to write and run notebooks, not to grade: left out of the image.
NOTEBOOK_TOOLING = {"jupyterlab", "nbgrader", "nbclient", "nbconvert", "ipykernel", "ipywidgets"}
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints"}

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
export DEBIAN_FRONTEND=noninteractive

have_apt=0
if command -v apt-get >/dev/null 2>&1; then
    have_apt=1
    apt-get update -y || true
    # bubblewrap: the worker cannot see the solution, references or hidden checks.
    apt-get install -y --no-install-recommends bubblewrap \
        || echo "setup.sh: bubblewrap not installed; grading falls back to the subprocess sandbox"
fi

# A Python >= 3.11 (the grader reads config.toml with tomllib).
PY=""
for cand in python3.13 python3.12 python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        PY="$(command -v "$cand")"
        break
    fi
done
if [ -z "$PY" ] && [ "$have_apt" = 1 ]; then
    apt-get install -y --no-install-recommends python3.11 python3.11-venv
    PY="$(command -v python3.11)"
fi
if [ -z "$PY" ]; then
    echo "setup.sh: no Python >= 3.11 found and none could be installed" >&2
    exit 1
fi

if ! "$PY" -m venv "$ROOT/venv"; then
    minor="$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    [ "$have_apt" = 1 ] && apt-get install -y --no-install-recommends "python$minor-venv" python3-venv || true
    "$PY" -m venv "$ROOT/venv"
fi
"$ROOT/venv/bin/python" -m pip install --upgrade pip
"$ROOT/venv/bin/python" -m pip install -r "$SOURCE/requirements.txt"

# The worker runs as an unprivileged uid (the grader runs as root): it may read the venv and the
# Python it links to, never the instructor's files (solution, references, hidden checks, config).
if [ "$(id -u)" = 0 ]; then
    chown -R root:root "$SOURCE"
    chmod -R go-rwx "$SOURCE"
    chmod -R a+rX "$ROOT/venv"
    chmod go+x "$ROOT"
    command -v setpriv >/dev/null 2>&1 || { [ "$have_apt" = 1 ] && apt-get install -y util-linux || true; }
fi

cd "$SOURCE"
"$ROOT/venv/bin/python" -c "
from autograder.sandbox import bwrap_available
print('setup.sh: sandbox =', 'bwrap' if bwrap_available() else 'subprocess (bubblewrap unavailable here)')
"
"$ROOT/venv/bin/python" -m autograder references --check
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for each submission: the same grader as `python -m autograder grade`.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
RESULTS="$ROOT/results"
OUT="${LEC7_OUT:-/tmp/out}"
PY="${LEC7_PYTHON:-}"
if [ -z "$PY" ]; then
    if [ -x "$ROOT/venv/bin/python" ]; then PY="$ROOT/venv/bin/python"; else PY="python3"; fi
fi

mkdir -p "$RESULTS"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
# A private copy named "submission": the grader writes $OUT/submission/results.json.
# -P: symbolic links are copied as links (never followed); the grader refuses a submission holding one.
cp -RP "$ROOT/submission" "$STAGE/submission"
rm -rf "$OUT"
mkdir -p "$OUT" && chmod 700 "$OUT"

cd "$SOURCE"
"$PY" -m autograder grade "$STAGE/submission" --out "$OUT" --jobs 1 --no-progress \
    > "$STAGE/grader.log" 2>&1
status=$?
cat "$STAGE/grader.log"

if [ -f "$OUT/submission/results.json" ]; then
    cp "$OUT/submission/results.json" "$RESULTS/results.json"
    exit 0
fi
# The grader itself failed: say so in a valid results.json (score 0, instructors see the log).
"$PY" - "$RESULTS/results.json" "$STAGE/grader.log" "$status" <<'EOF' || \
    printf '%s\n' '{"score": 0, "output": "The autograder failed before grading; please tell your instructor.", "tests": []}' > "$RESULTS/results.json"
import json, sys
path, log, status = sys.argv[1], sys.argv[2], sys.argv[3]
with open(log, errors="replace") as fh:
    tail = fh.read()[-4000:]
json.dump({"score": 0.0,
           "output": "The autograder failed before grading your work; please tell your instructor.",
           "stdout_visibility": "hidden",
           "tests": [],
           "extra_data": {"problem": f"grader exited with status {status}", "log": tail}},
          open(path, "w"), indent=2)
EOF
exit 0
"""


def requirements(pyproject=os.path.join(ROOT, "pyproject.toml")) -> list[str]:
    """The project's runtime dependencies minus notebook tooling, pinned to the installed versions."""
    with open(pyproject, "rb") as fh:
        deps = tomllib.load(fh)["project"]["dependencies"]
    out = []
    for spec in deps:
        name = re.match(r"[A-Za-z0-9_.\-]+", spec).group(0)
        if name.lower() in NOTEBOOK_TOOLING:
            continue
        try:
            out.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            out.append(spec)
    return out


def _add_tree(zf, folder, arcname):
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        for fname in sorted(filenames):
            if fname.endswith((".pyc", ".pyo")):
                continue
            full = os.path.join(dirpath, fname)
            zf.write(full, os.path.join(arcname, os.path.relpath(full, folder)))


def _add_text(zf, name, text, executable=False):
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, text)


def build_zip(out: str, source_root: str = ROOT, verify: bool = True) -> str:
    """Write the Gradescope autograder zip to ``out``; return its path.

    verify: refuse to build when the stored expected values or references differ
    from a live recomputation with the solution (``python -m autograder references``).
    """
    if verify:
        from . import references

        problems = references.verify()
        if problems:
            raise SystemExit("stored references are stale, run `python -m autograder references`:\n  "
                             + "\n  ".join(problems[:10]))
    out = os.path.abspath(out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = out + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        _add_text(zf, "setup.sh", SETUP_SH, executable=True)
        _add_text(zf, "run_autograder", RUN_AUTOGRADER, executable=True)
        _add_text(zf, "requirements.txt", "\n".join(requirements(os.path.join(source_root, "pyproject.toml"))) + "\n")
        zf.write(os.path.join(source_root, "pyproject.toml"), "pyproject.toml")
        _add_tree(zf, os.path.join(source_root, "cs231n_lec7"), "cs231n_lec7")
        _add_tree(zf, os.path.join(source_root, "autograder"), "autograder")
    os.replace(tmp, out)
    return out
