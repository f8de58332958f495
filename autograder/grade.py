"""Grade submissions: the judge side.

For each submission (a folder or a .zip holding ``cs231n_lec7/`` at its top or
one folder down) the judge copies the package into a private work folder,
starts a sandboxed worker there (see ``sandbox.py``) and runs every check
(visible and hidden) with ``ctx.fn`` forwarding calls to the worker. The judge
never imports the student's code; it only compares plain arrays that come
back. It writes ``OUT/<name>/results.json`` (Gradescope's schema),
``OUT/<name>/feedback.md`` and, for the batch, ``OUT/grades.csv``.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import stat
import sys
import tempfile
import time
import tomllib
import traceback
import zipfile
from concurrent.futures import ProcessPoolExecutor, as_completed

from cs231n_lec7.checks import load_checks
from cs231n_lec7.checks.core import (EXPECTED_DIR, CheckFailure, Context, ExpectedMissing,
                                     LocalFunctions, check_seed, frozen_array_files, load_arrays)
from cs231n_lec7.checks.diagnose import diagnose

from . import inert, mistakes, report
from .sandbox import (Limits, RemoteFunctions, Sandbox, StudentError, WorkerDied, WorkerTimeout, error_fields,
                      preflight)

CONFIG_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "config.toml")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCES_DIR = os.path.join(ROOT, "autograder", "references")
PACKAGE = "cs231n_lec7"
GRADER_VERSION = "1.0"


class SubmissionError(Exception):
    """The submission cannot be graded at all (layout, size, zip)."""


def load_config(path=None) -> dict:
    with open(path or CONFIG_PATH, "rb") as fh:
        config = tomllib.load(fh)
    for ex, spec in config.get("exercises", {}).items():
        if "points" not in spec:
            raise ValueError(f"{path or CONFIG_PATH}: exercise {ex!r} has no points")
    return config


_CHECKS = None


def all_checks():
    """Every registered check, visible and hidden (their modules are imported once per process)."""
    global _CHECKS
    if _CHECKS is None:
        _CHECKS = dict(load_checks("cs231n_lec7.checks", "autograder.hidden"))
    return _CHECKS


def preload(config):
    """Read everything the judge trusts before any student code runs.

    The reference solution's modules, every check module and every stored .npz
    are loaded now and (inside :func:`frozen_array_files`) served from memory: a worker
    that rewrites them on disk (possible in ``subprocess`` mode) cannot change
    this batch's grades. :class:`GraderFiles` then undoes such changes.
    """
    checks_by_exercise(config)
    ref = LocalFunctions()
    for exercise in config["exercises"]:
        ref(exercise)
    for folder in (EXPECTED_DIR, REFERENCES_DIR):
        for entry in sorted(os.listdir(folder)):
            if entry.endswith(".npz"):
                load_arrays(os.path.join(folder, entry))


class GraderFiles:
    """A snapshot of the instructor's files (``cs231n_lec7/``, ``autograder/``).

    :meth:`restore` puts back any file changed or deleted since the snapshot and
    removes files that appeared, returning their paths (relative to the project).
    """

    def __init__(self, roots=(os.path.join(ROOT, "cs231n_lec7"), os.path.join(ROOT, "autograder"))):
        self.roots = tuple(roots)
        self.files = {path: self._read(path) for path in self._walk()}

    def _walk(self):
        for root in self.roots:
            for dirpath, dirnames, filenames in os.walk(root):  # __pycache__ too: planted bytecode
                for fname in filenames:
                    yield os.path.join(dirpath, fname)

    @staticmethod
    def _read(path):
        try:
            with open(path, "rb") as fh:
                return fh.read()
        except OSError:
            return None

    def restore(self) -> list:
        changed = []
        for path, data in self.files.items():
            if data is not None and self._read(path) != data:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as fh:
                    fh.write(data)
                changed.append(path)
        for path in self._walk():
            if path not in self.files:
                os.remove(path)
                changed.append(path)
        return sorted(os.path.relpath(p, ROOT) for p in changed)


_GRADER_FILES = None  # set by grade_batch: checked after each submission graded without namespaces


def checks_by_exercise(config):
    """{exercise: [checks]} for the configured exercises, in config order."""
    registry = all_checks()
    out = {}
    for exercise in config["exercises"]:
        out[exercise] = [c for c in registry.values() if c.exercises[0] == exercise]
    unchecked = [ex for ex, checks in out.items() if not checks]
    if unchecked:
        raise ValueError(f"config.toml lists {', '.join(unchecked)} but no check grades it: "
                         f"write its checks or remove it from config.toml")
    return out


# ------------------------------------------------------------ submissions
MAX_FILES = 10_000  # files (or zip members) in one submission
MAX_DEPTH = 32      # folders nested in one submission


def submission_name(path):
    """The output folder's name for ``path``: the folder or zip name without extension, made safe
    (see :func:`inert.safe_name`: never ``grades.csv``, always valid UTF-8, at most 120 bytes)."""
    base = os.path.basename(os.path.abspath(path))  # "." and "sub/" name the folder itself
    return inert.safe_name(base[:-4] if base.lower().endswith(".zip") else base)


def _shown(name):
    """A file name as one short, printable, quoted phrase for a student."""
    return repr(inert.clip(name, 80))


def _safe_extract(zip_path, dest, max_bytes):
    try:
        zf = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile:
        raise SubmissionError(f"{os.path.basename(zip_path)} is not a valid zip file") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_FILES:
            raise SubmissionError(f"the zip holds {len(infos)} entries, more than the {MAX_FILES} allowed")
        total = sum(info.file_size for info in infos)
        if total > max_bytes:
            raise SubmissionError(f"the zip unpacks to {total // 2**20} MB, more than the {max_bytes // 2**20} MB limit: zip only cs231n_lec7/ and your notebooks, leave out .venv/ and data (python pack.py does)")
        root = os.path.realpath(dest)
        for info in infos:
            kind = (info.external_attr >> 16) & 0o170000
            if kind == 0o120000:
                raise SubmissionError(f"the zip contains a symbolic link {_shown(info.filename)}: "
                                      f"zip the files themselves")
            target = os.path.realpath(os.path.join(dest, info.filename))
            if not target.startswith(root + os.sep) and target != root:
                raise SubmissionError(f"the zip contains an unsafe path {_shown(info.filename)}")
            if info.filename.count("/") > MAX_DEPTH:
                raise SubmissionError(f"the zip nests folders more than {MAX_DEPTH} deep")
            if any(len(part.encode("utf-8", "surrogateescape")) > 255 for part in info.filename.split("/")):
                raise SubmissionError(f"the zip contains a name longer than 255 bytes "
                                      f"({_shown(info.filename)}), which no file system accepts")
            try:
                if info.is_dir():
                    os.makedirs(target, exist_ok=True)
                    continue
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with zf.open(info) as src, open(target, "xb") as dst:
                    shutil.copyfileobj(src, dst)
            except (FileExistsError, NotADirectoryError, IsADirectoryError):
                raise SubmissionError(f"the zip holds {_shown(info.filename)} twice, or both as a file and "
                                      f"as a folder: keep one") from None
            except (OSError, zipfile.BadZipFile, EOFError, RuntimeError, NotImplementedError) as err:
                raise SubmissionError(f"the zip member {_shown(info.filename)} could not be unpacked "
                                      f"({type(err).__name__})") from None


def exercise_modules(config):
    """The package's files that hold exercises (``optim.py``, ...): a submission must have them all."""
    return sorted({exercise.rpartition(".")[0] + ".py" for exercise in config["exercises"]})


def _refuse_link(path, root):
    if os.path.islink(path):
        raise SubmissionError(f"{_shown(os.path.relpath(path, root))} is a symbolic link; submit the folder "
                              f"itself (links are never followed)")


def _real_dir(path, root):
    """True if ``path`` is a directory that is not a link (a link there refuses the submission)."""
    _refuse_link(path, root)
    return os.path.isdir(path)


def find_package(root, modules):
    """The folder ``cs231n_lec7`` at ``root`` or one level down (ignoring __MACOSX).

    The package must be a real folder inside the submission: a symbolic link to it
    (or to the folder holding it) refuses the submission.
    """
    direct = os.path.join(root, PACKAGE)
    if _real_dir(direct, root):
        return direct
    found = []
    for entry in sorted(os.listdir(root)):
        if entry.startswith((".", "__MACOSX")):
            continue
        candidate = os.path.join(root, entry, PACKAGE)
        if os.path.lexists(candidate) and _real_dir(os.path.join(root, entry), root) and \
                _real_dir(candidate, root):
            found.append(candidate)
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise SubmissionError(f"the submission holds {len(found)} copies of {PACKAGE}/; keep exactly one")
    # The package's files uploaded without their folder (Gradescope's drag-and-drop does that).
    flat = sorted(f for f in os.listdir(root) if f in modules)
    if flat and os.path.isfile(os.path.join(root, "__init__.py")) and len(flat) == len(modules):
        for f in [*flat, "__init__.py"]:
            _refuse_link(os.path.join(root, f), root)
        return root
    if flat:
        missing = sorted(set(modules) - set(flat) | ({"__init__.py"} - set(os.listdir(root))))
        raise SubmissionError(f"found {', '.join(flat)} but no {PACKAGE}/ folder, and not the whole package "
                              f"(missing {', '.join(missing)}): upload the {PACKAGE} folder, or every file "
                              f"in it")
    raise SubmissionError(f"no {PACKAGE}/ folder found at the top of the submission or one folder down")


def prepare(path, workdir, max_mb, modules):
    """Copy the submission's package into ``workdir/cs231n_lec7`` (only regular files, size-capped)."""
    max_bytes = int(max_mb * 2**20)
    staging = os.path.join(workdir, "_unpacked")
    # Both folders exist, owner-only, before any byte is copied: another worker's uid can never
    # read this submission's code, even while the copy is still owned by root.
    os.mkdir(staging, 0o700)
    os.mkdir(os.path.join(workdir, "sub"), 0o700)
    if os.path.islink(os.path.abspath(path)):
        raise SubmissionError(f"{inert.clip(os.path.basename(os.path.abspath(path)), 80)!r} is a symbolic link; "
                              f"submit the folder or zip itself (links are never followed)")
    if os.path.isfile(path) and path.lower().endswith(".zip"):
        _safe_extract(path, staging, max_bytes)
        root = staging
    elif os.path.isdir(path):
        root = os.path.abspath(path)
    else:
        raise SubmissionError(f"{inert.clip(path, 200)} is neither a folder nor a .zip file")
    package = find_package(root, modules)
    real_root = os.path.realpath(root)
    if not os.path.realpath(package).startswith(real_root + os.sep) and os.path.realpath(package) != real_root:
        raise SubmissionError(f"{PACKAGE}/ is not inside the submission")
    dest = os.path.join(workdir, "sub", PACKAGE)
    total, count = 0, 0
    for dirpath, dirnames, filenames in os.walk(package, followlinks=False):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        rel = os.path.relpath(dirpath, package)
        if rel.count(os.sep) >= MAX_DEPTH:
            raise SubmissionError(f"the package nests folders more than {MAX_DEPTH} deep")
        for d in dirnames:
            _refuse_link(os.path.join(dirpath, d), root)
        os.makedirs(os.path.join(dest, rel), exist_ok=True)
        for fname in filenames:
            count += 1
            if count > MAX_FILES:
                raise SubmissionError(f"the package holds more than {MAX_FILES} files")
            total += _copy_regular(os.path.join(dirpath, fname), os.path.join(dest, rel, fname), root)
            if total > max_bytes:
                raise SubmissionError(f"the package is larger than the {max_mb} MB limit")
    shutil.rmtree(staging, ignore_errors=True)
    return os.path.join(workdir, "sub")


def _copy_regular(src, dst, root):
    """Copy one regular file without following a link (a link refuses the submission); its size.

    Other special files (pipes, sockets, devices) are skipped without being opened: opening or
    reading them could hang, fail, or act on a device.
    """
    _refuse_link(src, root)
    try:
        if not stat.S_ISREG(os.lstat(src).st_mode):
            return 0
    except OSError:
        pass  # reported by the open below
    try:
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as err:
        if os.path.islink(src):
            _refuse_link(src, root)
        raise SubmissionError(f"{_shown(os.path.relpath(src, root))} could not be read ({err.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return 0
        try:
            with open(dst, "xb") as out:
                shutil.copyfileobj(fh, out)
        except OSError as err:
            raise SubmissionError(f"{_shown(os.path.relpath(src, root))} could not be copied "
                                  f"({err.strerror})") from None
    return info.st_size


# ---------------------------------------------------------------- grading
def _outcome(name, exercise, check, fraction, message, status=None, seed=None):
    return {"check": check, "name": name, "exercise": exercise, "fraction": fraction, "message": inert.clip(message),
            "status": status or ("passed" if fraction >= 1.0 else "failed"), "seed": seed}


def run_checks(sandbox, config, seed, ref=None):
    """Run every configured exercise's checks through ``sandbox``. Returns (outcomes, diagnoses).

    Two phases: the visible checks of every exercise, then — after
    ``sandbox.mark_output()`` — the hidden checks and the diagnosis probes. What
    the student's code prints in the first phase may be shown to the student;
    in the second it could quote hidden inputs, so it is for instructors only.
    Each exercise has ``per_exercise_timeout_s`` per phase; an exercise stopped
    by a timeout or a dead worker in the first phase is not run again.
    """
    limits = config.get("limits", {})
    timeout = float(limits.get("per_exercise_timeout_s", 10.0))
    fn = RemoteFunctions(sandbox)
    ref = ref or LocalFunctions()
    by_exercise = checks_by_exercise(config)
    results = {exercise: [] for exercise in by_exercise}
    stopped = {}  # exercise -> why its remaining checks were not run
    import_errors = {}  # module -> '' or why it cannot be imported (kept for both phases)
    for hidden in (False, True):
        if hidden:
            sandbox.mark_output()
        for exercise, checks in by_exercise.items():
            checks = [c for c in checks if c.hidden == hidden]
            if checks:
                _run_exercise(sandbox, fn, ref, exercise, checks, seed, timeout, import_errors, stopped,
                              results[exercise], config["exercises"][exercise].get("needs", ()))
    outcomes, diagnoses = [], {}
    for exercise, mine in results.items():
        _gate_hard_coded(mine, exercise)
        outcomes += mine
        if exercise not in stopped and not all(o["fraction"] >= 1.0 for o in mine):
            found = _diagnose(sandbox, fn, ref, exercise, timeout)
            if found:
                diagnoses[exercise] = found
    return outcomes, diagnoses


def _diagnose(sandbox, fn, ref, exercise, timeout):
    """Likely bugs of ``exercise``: measured properties first, then exact matches with known mistakes.

    Each is a dict with ``title``, ``explanation``, ``kind`` ('bug') and ``probe`` (what found it).
    Notes that cost nothing (a float64 result) stay with their check's outcome (``notes``).
    """
    fn.deadline = time.monotonic() + timeout
    found = [f.as_dict() for f in diagnose(exercise, fn, stop=lambda: not sandbox.alive())]
    if sandbox.alive():
        try:
            matched = mistakes.diagnose(exercise, fn(exercise), ref(exercise))
        except Exception:
            matched = []
        titles = {d["title"] for d in found}
        found += [{"title": m.title, "explanation": m.explanation, "kind": "bug", "probe": "known mistake"}
                  for m in matched if m.title not in titles]
    if not sandbox.alive():
        sandbox.restart()
    return found


def _run_exercise(sandbox, fn, ref, exercise, checks, seed, timeout, import_errors, stopped, outcomes,
                  needs=()):
    """Run ``checks`` of one exercise, appending to ``outcomes``; record a stop in ``stopped``.

    ``needs``: other modules the exercise's checks call (config.toml); one that cannot be imported
    stops the exercise too, without a second timeout.
    """
    for module in (exercise.rpartition(".")[0], *needs):
        if module not in import_errors:
            import_errors[module] = _import_module(sandbox, module, timeout)
        if import_errors[module]:
            stopped[exercise] = import_errors[module]  # nothing to diagnose either
            for c in checks:
                outcomes.append(_outcome(c.name, exercise, c, 0.0, import_errors[module], "error"))
            return
    fn.deadline = time.monotonic() + timeout
    for c in checks:
        s = check_seed(seed, c.name)
        if exercise in stopped:
            outcomes.append(_outcome(c.name, exercise, c, 0.0, stopped[exercise], "error", s))
            continue
        sandbox.changed_inputs.clear()
        _run_check(sandbox, fn, ref, exercise, c, s, timeout, stopped, outcomes)
        if sandbox.changed_inputs and outcomes and outcomes[-1]["fraction"] > 0:
            outcomes[-1].update(fraction=0.0, status="failed",
                                message=_changed_inputs_message(ref, sandbox.changed_inputs))


def _changed_inputs_message(ref, changed):
    """One line naming the array arguments a call changed in place (expected values never use them)."""
    import inspect

    fn_name, index = changed[0]
    try:
        params = list(inspect.signature(ref(fn_name)).parameters)
        arg = params[index]
    except (Exception, IndexError):
        arg = f"argument {index + 1}"
    short = fn_name.rpartition(".")[2]
    return (f"{short}: {arg} modified in place — the function changed the array {arg} it was given "
            f"(e.g. `{arg} -= ...` or `{arg}[...] = 0`); compute a new array instead. Results computed from "
            f"inputs you changed are not accepted")


def _run_check(sandbox, fn, ref, exercise, c, s, timeout, stopped, outcomes):
    """Run one check, appending its outcome."""
    ctx = Context(fn, ref=ref, seed=s)
    try:
        c.func(ctx)
        outcomes.append(_outcome(c.name, exercise, c, 1.0, "passed", seed=s))
        outcomes[-1]["notes"] = list(ctx.notes)
    except CheckFailure as err:
        outcomes.append(_outcome(c.name, exercise, c, min(max(err.score, 0.0), 0.99), str(err), seed=s))
    except StudentError as err:
        msg = ("not implemented yet" if err.type_name == "NotImplementedError"
               else err.describe())
        outcomes.append(_outcome(c.name, exercise, c, 0.0, msg, seed=s))
    except WorkerTimeout:
        stopped[exercise] = (f"time limit: the checks of {exercise} did not finish within {timeout:g} s "
                             f"(an infinite loop?)")
        outcomes.append(_outcome(c.name, exercise, c, 0.0, stopped[exercise], "error", s))
        sandbox.restart()
    except WorkerDied as err:
        stopped[exercise] = f"{err} while running {exercise}"
        outcomes.append(_outcome(c.name, exercise, c, 0.0, stopped[exercise], "error", s))
        sandbox.restart()
    except ExpectedMissing:
        raise
    except Exception as err:  # a strange value made the comparison itself fail
        outcomes.append(_outcome(c.name, exercise, c, 0.0,
                                 f"the returned values could not be checked ({type(err).__name__}: "
                                 f"{err})", seed=s))


def _gate_hard_coded(mine, exercise):
    """Visible checks use fixed inputs, so a table of their answers would pass them.

    When every visible check of an exercise passes but not one hidden check (fresh
    problems from the grade seed) does, the visible checks earn nothing either.
    """
    visible = [o for o in mine if not o["check"].hidden]
    hidden = [o for o in mine if o["check"].hidden]
    if hidden and visible and all(o["fraction"] >= 1.0 for o in visible) and \
            all(o["fraction"] == 0.0 for o in hidden):
        for o in visible:
            o["fraction"], o["status"] = 0.0, "failed"
            o["message"] = ("passes the visible checks but none of the fresh problems: the visible "
                            "inputs are fixed, so answers that only work on them earn nothing")


def _import_module(sandbox, module, timeout):
    """'' if ``cs231n_lec7.<module>`` imports in the worker, else one clear line."""
    try:
        answer, _ = sandbox.request({"op": "import", "module": module}, timeout=timeout)
    except WorkerTimeout:
        sandbox.restart()
        return f"importing {PACKAGE}/{module}.py did not finish within {timeout:g} s"
    except WorkerDied as err:
        sandbox.restart()
        return f"importing {PACKAGE}/{module}.py killed the worker: {err}"
    if answer.get("ok"):
        return ""
    err = error_fields(answer)
    where = f" (at {err.get('where')})" if err.get("where") else ""
    return inert.clip(f"{PACKAGE}/{module}.py could not be imported: {inert.clip(err.get('type'), 100)}: "
                      f"{inert.clip(err.get('message'), 1000)}{inert.clip(where, 240)}")


def unique_names(paths):
    """An output folder name per submission: :func:`submission_name`, with ``-2``, ``-3``... on a clash."""
    names, taken = [], set()
    for p in paths:
        name = submission_name(p)
        base, k = name, 1
        while name.lower() in taken:
            k += 1
            name = f"{base}-{k}"
        taken.add(name.lower())
        names.append(name)
    return names


def grade_one(path, out_dir, config=None, seed=None, mode="auto", hide=(), name=None):
    """Grade one submission; write its results.json and feedback.md; return a summary row."""
    config = config or load_config()
    seed = int(config["grading"]["seed"] if seed is None else seed)
    name = name or submission_name(path)
    dest = os.path.join(out_dir, name)
    os.makedirs(dest, exist_ok=True)
    started = time.monotonic()
    limits = config.get("limits", {})
    workdir = tempfile.mkdtemp(prefix="lec7-grade-")  # 0700: nobody else enters while it is filled
    sandbox = None
    outcomes, diagnoses, problem, output, hidden_output = [], {}, None, "", ""
    try:
        subdir = prepare(path, workdir, limits.get("submission_mb", 50), exercise_modules(config))
        hidden_dirs = [os.path.abspath(out_dir), os.path.dirname(os.path.abspath(path)), *hide]
        sandbox = Sandbox(subdir, Limits.from_config(limits), hide=hidden_dirs, mode=mode)
        if sandbox.mode == "bwrap":
            os.chmod(subdir, 0o755)  # bound read-only into the worker's own root; the 0700 folder above stays shut
        else:
            os.chmod(workdir, 0o711)  # as root the worker's uid passes through to sub/, which becomes its alone
        sandbox.start()
        outcomes, diagnoses = run_checks(sandbox, config, seed)
    except SubmissionError as err:
        problem = str(err)
    finally:
        if sandbox is not None:
            worker_info = sandbox.privileges
            sandbox.close()
            output, hidden_output = sandbox.output_before_mark, sandbox.output_after_mark
        shutil.rmtree(workdir, ignore_errors=True)
    restored = []
    if sandbox is not None and sandbox.mode != "bwrap" and _GRADER_FILES is not None:
        restored = _GRADER_FILES.restore()
        if restored:
            print(f"warning: grader files changed while {name} was graded; restored: {', '.join(restored)}",
                  file=sys.stderr)
    results = report.results_json(config, outcomes, diagnoses, seed=seed, problem=problem,
                                  sandbox_mode=sandbox.mode if sandbox else None,
                                  restarts=sandbox.restarts if sandbox else 0,
                                  seconds=time.monotonic() - started, student_output=output,
                                  hidden_output=hidden_output, version=GRADER_VERSION)
    if restored:
        results["extra_data"]["grader_files_restored"] = restored
    if sandbox is not None:
        results["extra_data"]["worker"] = worker_info
    with open(os.path.join(dest, "results.json"), "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=2)
    with open(os.path.join(dest, "feedback.md"), "w", encoding="utf-8") as fh:
        fh.write(report.feedback_md(name, config, outcomes, diagnoses, results, problem))
    return report.grade_row(name, config, results)


def _not_graded(name, out_dir, config, seed, problem, detail=None):
    """results.json and feedback.md for a submission the grader could not finish; its row."""
    dest = os.path.join(out_dir, name)
    os.makedirs(dest, exist_ok=True)
    results = report.results_json(config, [], {}, seed=seed, problem=problem, sandbox_mode=None, restarts=0,
                                  seconds=0.0, student_output="", hidden_output="", version=GRADER_VERSION)
    with open(os.path.join(dest, "results.json"), "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=2)
    with open(os.path.join(dest, "feedback.md"), "w", encoding="utf-8") as fh:
        fh.write(report.feedback_md(name, config, [], {}, results, problem))
    if detail:
        with open(os.path.join(dest, "grader_error.txt"), "w", encoding="utf-8", errors="replace") as fh:
            fh.write(detail)
    return report.grade_row(name, config, results)


def _grade_safely(path, out_dir, config, seed, mode, name=None):
    name = name or submission_name(path)
    try:
        return grade_one(path, out_dir, config, seed, mode, name=name)
    except Exception:  # a grader bug must not stop the batch: record it for this one submission
        return _not_graded(name, out_dir, config, seed,
                           "internal grader error (see grader_error.txt); this submission needs a re-grade",
                           traceback.format_exc(limit=5))


def check_instructor_package():
    """Refuse to grade when ``cs231n_lec7`` was imported from anywhere but next to ``autograder/``."""
    import cs231n_lec7

    here = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    found = os.path.dirname(os.path.dirname(os.path.realpath(cs231n_lec7.__file__)))
    if found != here:
        raise SystemExit(f"the grader imported cs231n_lec7 from {found}, not the instructor's copy in {here} "
                         f"(a submission on sys.path or PYTHONPATH?); run the grader from its own folder")


def grade_batch(paths, out_dir, jobs=1, config=None, seed=None, mode="auto", progress=True):
    """Grade many submissions (``jobs`` in parallel); write grades.csv; return the rows."""
    global _GRADER_FILES
    check_instructor_package()
    preflight(mode)
    config = config or load_config()
    seed = int(config["grading"]["seed"] if seed is None else seed)
    created = not os.path.isdir(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    if created and os.geteuid() == 0:  # workers run as other uids: they must not read other students' results
        os.chmod(out_dir, 0o700)
    names = unique_names(paths)
    with frozen_array_files():
        preload(config)
        _GRADER_FILES = GraderFiles()
        try:
            rows = _grade_all(paths, names, out_dir, jobs, config, seed, mode, progress)
            late = _GRADER_FILES.restore()  # e.g. a worker's leftover process wrote after its check
            if late:
                print(f"warning: grader files changed during the batch; restored: {', '.join(late)}",
                      file=sys.stderr)
        finally:
            _GRADER_FILES = None
    order = {n: i for i, n in enumerate(names)}
    rows.sort(key=lambda r: order.get(r["submission"], 0))
    report.write_grades_csv(os.path.join(out_dir, "grades.csv"), config, rows)
    return rows


def _grade_all(paths, names, out_dir, jobs, config, seed, mode, progress):
    from tqdm import tqdm

    rows = []
    bar = tqdm(total=len(paths), desc="grading", unit="sub", disable=not progress)
    if jobs <= 1:
        for p, name in zip(paths, names):
            rows.append(_grade_safely(p, out_dir, config, seed, mode, name))
            bar.update(1)
    else:
        # fork: the pool inherits what preload() read and the GraderFiles snapshot.
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = {pool.submit(_grade_safely, p, out_dir, config, seed, mode, name): name
                       for p, name in zip(paths, names)}
            for future in as_completed(futures):
                try:
                    rows.append(future.result())
                except Exception as err:  # the pool process itself died
                    rows.append(_not_graded(futures[future], out_dir, config, seed,
                                            f"grader process failed ({type(err).__name__}: {err}); this "
                                            f"submission needs a re-grade"))
                bar.update(1)
    bar.close()
    return rows
