"""Every integrity breach we know of, graded in one ``--jobs 2`` run beside honest submissions.

The batch runs twice where the machine allows: as root (how Gradescope, Docker and
CI run graders) and as an unprivileged user (``setpriv`` to nobody). Honest
submissions keep full marks; each hostile one gets its points taken or a
one-sentence refusal — never an internal grader error, never a lost batch.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile

import pytest

from autograder.grade import load_config
from autograder.plant import copy_solution, plant_function
from autograder.sandbox import bwrap_available

from privileged import is_root, open_root_folders, traversable_tmpdir, unprivileged_prefix

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOLUTION = os.path.join(ROOT, "cs231n_lec7")
BWRAP = bwrap_available()
MAX = float(sum(spec["points"] for spec in load_config()["exercises"].values()))  # every exercise


def src(text):
    return textwrap.dedent(text).strip() + "\n"


# ---------------------------------------------------------------- builders
def link_package(base, name, target):
    os.makedirs(os.path.join(base, name))
    os.symlink(target, os.path.join(base, name, "cs231n_lec7"))


def link_inside(base, name):
    sub = copy_solution(os.path.join(base, name))
    optim = os.path.join(sub, "cs231n_lec7", "optim.py")
    os.remove(optim)
    os.symlink(os.path.join(SOLUTION, "optim.py"), optim)


def link_one_down(base, name):
    os.makedirs(os.path.join(base, name))
    os.symlink(ROOT, os.path.join(base, name, "work"))  # work/cs231n_lec7 is the instructor's


def zip_with_link(base, name):
    with zipfile.ZipFile(os.path.join(base, name + ".zip"), "w") as zf:
        info = zipfile.ZipInfo("cs231n_lec7")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, SOLUTION)


def zip_long_member(base, name):
    with zipfile.ZipFile(os.path.join(base, name + ".zip"), "w") as zf:
        zf.writestr("cs231n_lec7/" + "a" * 300 + ".py", "x = 1\n")


def zip_file_folder_clash(base, name):
    with zipfile.ZipFile(os.path.join(base, name + ".zip"), "w") as zf:
        zf.writestr("cs231n_lec7", "a file where the folder goes\n")
        zf.writestr("cs231n_lec7/optim.py", "x = 1\n")


def fifo_inside(base, name):
    os.mkfifo(os.path.join(copy_solution(os.path.join(base, name)), "cs231n_lec7", "notes.py"))


def deep_folders(base, name):
    sub = copy_solution(os.path.join(base, name))
    os.makedirs(os.path.join(sub, "cs231n_lec7", *["d"] * 200))


def zip_deep(base, name):
    with zipfile.ZipFile(os.path.join(base, name + ".zip"), "w") as zf:
        zf.writestr("cs231n_lec7/" + "d/" * 1500 + "x.py", "x = 1\n")


def planted(exercise, source):
    def build(base, name):
        plant_function(copy_solution(os.path.join(base, name)), exercise, src(source))
    return build


def renamed(folder_name):
    def build(base, name):
        copy_solution(os.fsdecode(os.path.join(os.fsencode(base), folder_name)))
    return build


IN_PLACE = {
    "layers.dropout_backward": """
        def dropout_backward(dout, cache):
            dout[...] = 0
            return np.zeros_like(dout)
        """,
    "regularization.dropconnect_backward": """
        _real = dropconnect_backward
        def dropconnect_backward(dout, cache):
            dx, dw, db = _real(dout, cache)
            dout[...] = 0
            return np.zeros_like(dx), np.zeros_like(dw), np.zeros_like(db)
        """,
    "regularization.stochastic_depth_backward": """
        _real = stochastic_depth_backward
        def stochastic_depth_backward(dout, cache):
            grads = _real(dout, cache)
            dout[...] = 0
            return tuple(np.zeros_like(g) for g in grads) if isinstance(grads, tuple) else np.zeros_like(grads)
        """,
}

HOLD_SLOTS = """
    _solution = sgd_momentum
    _held = []
    def sgd_momentum(w, dw, config=None):
        import os, time
        if not _held:
            while len(_held) < 1000:
                try:
                    pid = os.fork()
                except OSError:
                    break
                if pid == 0:
                    time.sleep(60)
                    os._exit(0)
                _held.append(pid)
            print("HELD", len(_held), flush=True)
            time.sleep(2.0)
        return _solution(w, dw, config)
    """

FORGED_FRAME = """
    def adagrad(w, dw, config=None):
        import struct, sys
        frame = sys._getframe()
        while "proto_out" not in frame.f_locals:
            frame = frame.f_back
        out = frame.f_locals["proto_out"]
        header = b'{"ok": true, "result": null, "buffers": [3000000000]}'
        out.write(struct.pack(">I", len(header)) + header)
        out.write(b"\\0" * (1 << 20))
        out.flush()
        import time
        time.sleep(5)
    """

FILL_SCRATCH = """
    _solution = rmsprop
    _done = []
    def rmsprop(w, dw, config=None):
        import os
        if not _done:
            _done.append(1)
            written = {}
            for folder in ("/tmp", "/dev/shm", "."):
                total = 0
                try:
                    for i in range(256):
                        with open(os.path.join(folder, f"fill{i}"), "wb") as fh:
                            fh.write(b"x" * (1 << 20))
                        total += 1
                except OSError:
                    pass
                written[folder] = total
            print("WRITTEN", written, flush=True)
        return _solution(w, dw, config)
    """

HUGE_STRINGS = """
    class Boom(Exception):
        pass
    Boom.__name__ = "B" * 2_000_000
    def adam(w, dw, config=None):
        raise Boom("m" * 2_000_000)
    """

HUGE_RETURN = """
    def rmsprop(w, dw, config=None):
        return "s" * 2_000_000, {"note": "n" * 2_000_000}
    """

INJECTION = """
    _solution = sgd_momentum
    def sgd_momentum(w, dw, config=None):
        print("```\\n~~~\\n**Score: 999 / 137**\\n<script>alert(1)</script>\\n\\x1b[31mred\\x1b[0m\\u202eevil", flush=True)
        return _solution(w, dw, config)
    def nesterov_momentum(w, dw, config=None):
        raise ValueError("**Score: 999 / 137**\\n# Heading\\n<script>alert(2)</script>\\x1b[2J [link](http://x) \\ud800")
    """

KEY_ADDED = """
    _solution = adagrad
    def adagrad(w, dw, config=None):
        next_w, config = _solution(w, dw, config)
        config[1] = "a key that is not a string"
        config["__nd__"] = 0
        config["__handle__"] = 5
        return next_w, config
    """

STRANGE_ERRORS = """
    class Unprintable(Exception):
        def __str__(self):
            raise RuntimeError("no")
    def adagrad(w, dw, config=None):
        raise Unprintable()
    def rmsprop(w, dw, config=None):
        def deep(n):
            return [deep(n - 1)] if n else []
        return deep(100000), config
    """

KILL_ALL = """
    _solution = adam
    _done = []
    def adam(w, dw, config=None):
        import os, signal
        if not _done:
            _done.append(1)
            try:
                os.kill(-1, signal.SIGKILL)   # every process this uid may signal
            except OSError:
                pass
        return _solution(w, dw, config)
    """


SIGSTOP = """
    _solution = nesterov_momentum
    def nesterov_momentum(w, dw, config=None):
        import os, signal, time
        pid = os.fork()
        if pid == 0:
            os.setsid()
            if os.fork() == 0:   # a daemon stopping every process this uid may signal, over and over
                end = time.monotonic() + 60
                while time.monotonic() < end:
                    try:
                        os.kill(-1, signal.SIGSTOP)
                    except OSError:
                        pass
                os._exit(0)
            os._exit(0)
        os.waitpid(pid, 0)
        time.sleep(0.05)
        return _solution(w, dw, config)
    """

BUFFER_REFS = """
    def adagrad(w, dw, config=None):
        import json, struct, sys, time
        frame = sys._getframe()
        while "proto_out" not in frame.f_locals:
            frame = frame.f_back
        out = frame.f_locals["proto_out"]
        ref = {"__nd__": 0, "dtype": "<f8", "shape": [131072], "scalar": False}
        header = json.dumps({"ok": True, "result": {"__tuple__": [ref] * 1000}, "writeback": [],
                             "buffers": [1 << 20]}).encode()
        out.write(struct.pack(">I", len(header)) + header + b"\\0" * (1 << 20))
        out.flush()
        time.sleep(5)
    """


def planted_root(base):
    """A fresh folder under /var/tmp (outside the batch's folders) for copies of the solution."""
    return os.path.join("/var/tmp", os.path.basename(base) + "-planted")


def thief_paths(base):
    planted = planted_root(base)
    return {"world_readable_copy": os.path.join(planted, "copy", "cs231n_lec7", "optim.py"),
            "private_copy": os.path.join(planted, "private", "solution", "cs231n_lec7", "optim.py"),
            "other_parent_submission": os.path.join(planted, "elsewhere", "honest4", "cs231n_lec7", "optim.py"),
            "project": os.path.join(SOLUTION, "optim.py")}


def thief_source(base):
    return f"""
    _solution = sgd_momentum
    _seen = []
    def sgd_momentum(w, dw, config=None):
        import os
        if not _seen:
            _seen.append(1)
            paths = {thief_paths(base)!r}
            paths["own_copy"] = os.path.join(os.getcwd(), "cs231n_lec7", "optim.py")  # must be readable
            found = []
            for what, path in sorted(paths.items()):
                try:
                    with open(path) as fh:
                        fh.read()
                    found.append(what)
                except OSError:
                    pass
            try:  # the worker's root is read-only (in a user namespace the worker would own it)
                open("/lec7-planted", "w").close()
                found.append("root_writable")
            except OSError:
                pass
            print("THIEF", sorted(found), flush=True)
        return _solution(w, dw, config)
    """


def spy_source(base):
    return f"""
    _solution = sgd_momentum
    _seen = []
    def sgd_momentum(w, dw, config=None):
        import glob, os
        if not _seen:
            _seen.append(1)
            found = []
            patterns = ["{base}/subs/honest*/cs231n_lec7/optim.py", "{base}/tmp/lec7-grade-*/sub/cs231n_lec7/optim.py",
                        "{base}/out/*/results.json", "/proc/*/cwd/cs231n_lec7/optim.py"]
            for pattern in patterns:
                for path in glob.glob(pattern):
                    if os.path.realpath(path).startswith(os.path.realpath(os.getcwd())):
                        continue
                    try:
                        open(path).read()
                        found.append(path)
                    except OSError:
                        pass
            print("SPY", found, flush=True)
        return _solution(w, dw, config)
    """


def check_refused(*words):
    def check(row, results, feedback):
        assert row["total"] == 0 and results["extra_data"]["problem"], row
        assert "internal grader error" not in results["extra_data"]["problem"]
        assert any(w in results["extra_data"]["problem"] for w in words), results["extra_data"]["problem"]
        assert len(results["extra_data"]["problem"]) < 400 and "\n" not in results["extra_data"]["problem"]
    return check


def dependents(exercises):
    """Exercises whose checks call ``exercises`` (the capstone trains with the rule and dropout it uses)."""
    from cs231n_lec7 import capstone

    return {"capstone.training_config"} if set(exercises) & set(capstone.uses(capstone.training_config())) \
        else set()


def check_loses(*exercises):
    def check(row, results, feedback):
        assert not row["problem"], row
        for ex, points in row.items():
            if ex in ("submission", "total", "max", "problem") or ex in dependents(exercises):
                continue  # a dependent may lose points through the planted exercise, or not
            if ex in exercises:
                assert points < row_max(ex), (ex, row)
            else:
                assert points == pytest.approx(row_max(ex)), (ex, row)
    return check


def check_full(row, results, feedback):
    assert row["total"] == pytest.approx(MAX) and not row["problem"], row


def check_in_place(row, results, feedback):
    check_loses(*IN_PLACE)(row, results, feedback)


def check_frame(row, results, feedback):
    check_loses("optim.adagrad")(row, results, feedback)
    assert "too large" in feedback or "larger than" in feedback


def check_scratch(row, results, feedback):
    check_full(row, results, feedback)
    if results["extra_data"]["sandbox"] == "bwrap":
        printed = results["extra_data"]["student_output"]
        line = next(l for l in printed.splitlines() if l.startswith("WRITTEN"))
        written = eval(line.split(" ", 1)[1])  # noqa: S307 - a dict of ints printed by the test's own code
        assert written["/tmp"] <= 64 and written["/dev/shm"] <= 64 and written["."] == 0, written


def check_huge(row, results, feedback):
    check_loses("optim.adam", "optim.rmsprop")(row, results, feedback)
    assert len(json.dumps(results)) < 400_000 and len(feedback) < 100_000


def check_injection(row, results, feedback):
    check_loses("optim.nesterov_momentum")(row, results, feedback)
    outside_code, fence = [], None
    for line in feedback.splitlines():
        if fence is None and line.startswith("```"):
            fence = line.rstrip()
            continue
        if fence is not None:
            if line.rstrip() == fence:
                fence = None
            continue
        outside_code.append(line)
    text = "\n".join(outside_code)
    assert fence is None, "the printed output's code block must be closed by the grader's own fence"
    # the forged score is either inside the code block or escaped text in a list item, never bold markup
    assert text.count("**Score:") == 1 and "**Score: 999" not in text and "\\*\\*Score: 999" in text, text
    assert "<script>" not in text and "\n# Heading" not in text
    assert "\x1b" not in feedback and "\u202e" not in feedback
    assert "red" in feedback  # the text itself is kept, only its escape codes are gone
    json.dumps(results).encode("utf-8")


def check_key_added(row, results, feedback):
    assert not row["problem"] and "internal grader error" not in json.dumps(results)
    assert row["optim.adagrad"] <= row_max("optim.adagrad")


def check_strange(row, results, feedback):
    check_loses("optim.adagrad", "optim.rmsprop")(row, results, feedback)


def check_spy(row, results, feedback):
    check_full(row, results, feedback)
    printed = results["extra_data"]["student_output"]
    line = next(l for l in printed.splitlines() if l.startswith("SPY"))
    assert line == "SPY []", line


def check_sigstop(row, results, feedback):
    """A worker's daemon stopping every process of its uid costs it that exercise; the batch finishes
    (run_batch bounds its wall time) and every other exercise and submission is graded."""
    check_loses("optim.nesterov_momentum")(row, results, feedback)


def check_buffer_refs(row, results, feedback):
    check_loses("optim.adagrad")(row, results, feedback)
    assert "could not be read" in feedback


def check_thief(row, results, feedback):
    """With bubblewrap the worker's root holds only what it needs: no other copy of the solution
    (world-readable, the grading user's private one, another parent folder's submission, the
    project) is readable. Without bubblewrap as root, world-readable files are (documented), which
    shows the probe reads what it can."""
    check_full(row, results, feedback)
    line = next(l for l in results["extra_data"]["student_output"].splitlines() if l.startswith("THIEF"))
    found = eval(line.split(" ", 1)[1])  # noqa: S307 - a list of names printed by the test's own code
    if results["extra_data"]["sandbox"] == "bwrap":
        assert found == ["own_copy"], found
    else:  # the project is readable too when its files are not root-only (as in this checkout)
        assert {"own_copy", "world_readable_copy"} <= set(found), found
        assert not {"private_copy", "other_parent_submission", "root_writable"} & set(found), found


def check_hog(row, results, feedback):
    """It got at most its own `processes` slots (also as root, where RLIMIT_NPROC once did not apply);
    the honest submissions graded meanwhile keep full marks (check_full)."""
    assert not row["problem"]
    line = next(l for l in results["extra_data"]["student_output"].splitlines() if l.startswith("HELD "))
    assert 10 <= int(line.split()[1]) < 64, line


def check_renamed(expected):
    def check(row, results, feedback):
        check_full(row, results, feedback)
        assert row["submission"] == expected
    return check


_MAXES = {}


def row_max(exercise):
    if not _MAXES:
        from autograder.grade import load_config
        _MAXES.update({ex: float(spec["points"]) for ex, spec in load_config()["exercises"].items()})
    return _MAXES[exercise]


# name -> (builder(base, name), output folder name, check(row, results, feedback))
CASES = {
    "honest1": (renamed(b"honest1"), "honest1", check_full),
    "link_to_solution": (lambda b, n: link_package(b, n, SOLUTION), "link_to_solution",
                         check_refused("symbolic link")),
    "link_proc_cwd": (lambda b, n: link_package(b, n, "/proc/self/cwd/cs231n_lec7"), "link_proc_cwd",
                      check_refused("symbolic link")),
    "link_inside": (link_inside, "link_inside", check_refused("symbolic link")),
    "link_one_down": (link_one_down, "link_one_down", check_refused("symbolic link")),
    "zip_link": (zip_with_link, "zip_link", check_refused("symbolic link")),
    "zip_long_name": (zip_long_member, "zip_long_name", check_refused("longer than 255 bytes")),
    "zip_clash": (zip_file_folder_clash, "zip_clash", check_refused("both as a file and as a folder")),
    "zip_deep": (zip_deep, "zip_deep", check_refused("deep")),
    "deep_folders": (deep_folders, "deep_folders", check_refused("deep")),
    "fifo_inside": (fifo_inside, "fifo_inside", check_full),  # a pipe would hang a reader: skipped
    "hold_slots": (planted("optim.sgd_momentum", HOLD_SLOTS), "hold_slots", check_hog),
    "honest2": (renamed(b"honest2"), "honest2", check_full),
    "in_place": (None, "in_place", check_in_place),
    "forged_frame": (planted("optim.adagrad", FORGED_FRAME), "forged_frame", check_frame),
    "fill_scratch": (planted("optim.rmsprop", FILL_SCRATCH), "fill_scratch", check_scratch),
    "huge_strings": (None, "huge_strings", check_huge),
    "injection": (planted("optim.sgd_momentum", INJECTION), "injection", check_injection),
    "key_added": (planted("optim.adagrad", KEY_ADDED), "key_added", check_key_added),
    "strange_errors": (planted("optim.adagrad", STRANGE_ERRORS), "strange_errors", check_strange),
    "kill_all": (planted("optim.adam", KILL_ALL), "kill_all", check_full),
    "spy": (None, "spy", check_spy),
    "grades.csv": (renamed(b"grades.csv"), "submission-grades.csv", check_renamed("submission-grades.csv")),
    "non_utf8": (renamed(b"caf\xe9-\x1b[31m"), "caf_-_[31m", check_renamed("caf_-_[31m")),
    "formula": (renamed(b"=HYPERLINK(\"http:__x\")"), "=HYPERLINK(\"http:__x\")", check_full),
    "honest3": (renamed(b"honest3"), "honest3", check_full),
    "sigstop": (planted("optim.nesterov_momentum", SIGSTOP), "sigstop", check_sigstop),
    "buffer_refs": (planted("optim.adagrad", BUFFER_REFS), "buffer_refs", check_buffer_refs),
    "thief": (None, "thief", check_thief),
    "honest4": (None, "honest4", check_full),  # in another parent folder, outside the batch's folder
}


def build_batch(base):
    subs = os.path.join(base, "subs")
    os.makedirs(subs)
    paths = []
    for name, (build, _, _) in CASES.items():
        if name == "in_place":
            sub = copy_solution(os.path.join(subs, name))
            for exercise, source in IN_PLACE.items():
                plant_function(sub, exercise, src(source))
        elif name == "huge_strings":
            sub = copy_solution(os.path.join(subs, name))
            plant_function(sub, "optim.adam", src(HUGE_STRINGS))
            plant_function(sub, "optim.rmsprop", src(HUGE_RETURN))
        elif name == "spy":
            plant_function(copy_solution(os.path.join(subs, name)), "optim.sgd_momentum", src(spy_source(base)))
        elif name == "thief":
            plant_function(copy_solution(os.path.join(subs, name)), "optim.sgd_momentum", src(thief_source(base)))
        elif name == "honest4":
            paths.append(copy_solution(os.path.join(planted_root(base), "elsewhere", name)))
            continue
        else:
            build(subs, name)
        if name.startswith("zip"):
            paths.append(os.path.join(subs, name + ".zip"))
        elif name in ("grades.csv", "non_utf8", "formula"):
            folder = {"grades.csv": b"grades.csv", "non_utf8": b"caf\xe9-\x1b[31m",
                      "formula": b"=HYPERLINK(\"http:__x\")"}[name]
            paths.append(os.fsdecode(os.path.join(os.fsencode(subs), folder)))
        else:
            paths.append(os.path.join(subs, name))
    return paths


def plant_copies(base, sandbox):
    """Solved copies outside the batch: world-readable, and private to the grading user (nobody)."""
    planted = planted_root(base)
    os.makedirs(planted)
    os.chmod(planted, 0o755)
    copy_solution(os.path.join(planted, "copy"))
    private = copy_solution(os.path.join(planted, "private", "solution"))
    for dirpath, dirnames, filenames in os.walk(os.path.join(planted, "private")):
        for entry in dirnames + filenames + [""]:
            os.chown(os.path.join(dirpath, entry), 65534, 65534, follow_symlinks=False)
    os.chmod(os.path.join(planted, "private"), 0o700)
    os.makedirs(os.path.join(planted, "elsewhere"))
    # without bubblewrap submissions are kept root-only (setup.sh); with it, world-readable is fine
    os.chmod(os.path.join(planted, "elsewhere"), 0o700 if sandbox == "subprocess" else 0o755)
    return private


def run_batch(base, prefix=(), sandbox="auto"):
    plant_copies(base, sandbox)
    paths = build_batch(base)
    out = os.path.join(base, "out")
    if sandbox == "subprocess":  # as setup.sh / an instructor keeps them without bubblewrap: root-only
        os.chmod(os.path.join(base, "subs"), 0o700)
    else:
        os.makedirs(out)
    if prefix:
        for dirpath, dirnames, filenames in os.walk(base):
            for entry in dirnames + filenames + [""]:
                os.chown(os.path.join(dirpath, entry), 65534, 65534, follow_symlinks=False)
    # The batch's work folders go to a folder of its own (other graders on this machine use /tmp).
    os.makedirs(os.path.join(base, "tmp"))
    os.chmod(os.path.join(base, "tmp"), 0o1777)
    env = dict(os.environ, PYTHONPATH="", TMPDIR=os.path.join(base, "tmp"))
    config = os.path.join(base, "config.toml")
    with open(os.path.join(ROOT, "autograder", "config.toml")) as fh:
        text = fh.read().replace("per_exercise_timeout_s = 10.0", "per_exercise_timeout_s = 6.0")
    with open(config, "w") as fh:
        fh.write(text)
    # The largest resident size of the grader and its workers, printed by a wrapper that waited for them.
    measure = [sys.executable, "-c", "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
               "print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
               "sys.exit(code)"]
    cmd = [*prefix, *measure, sys.executable, "-m", "autograder", "grade", *paths, "--out", out, "--jobs", "2",
           "--no-progress", "--config", config, "--sandbox", sandbox]
    # A bound on the batch's wall time: a worker that stops the grader's helpers must not hang it.
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, env=env, timeout=1200)
    assert run.returncode == 0, run.stderr.decode(errors="replace")[-3000:]
    with open(os.path.join(out, "grades.csv"), encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return out, rows, run


USERS = [pytest.param("root", marks=pytest.mark.skipif(not is_root(), reason="needs root")),
         pytest.param("nobody", marks=pytest.mark.skipif(unprivileged_prefix() is None,
                                                          reason="needs root to become nobody"))]


@pytest.fixture(scope="module", params=["root", "root-without-bwrap", "nobody"] if is_root() else ["self"])
def batch(request):
    """root: bubblewrap + own uid; root-without-bwrap: the fallback (own uid, seccomp, root-only files);
    nobody: bubblewrap in a user namespace."""
    if request.param != "root-without-bwrap" and not BWRAP:
        pytest.skip("bubblewrap does not work here")
    open_root_folders()
    base = traversable_tmpdir("lec7-hostile-")
    prefix = unprivileged_prefix() if request.param == "nobody" else ()
    sandbox = "subprocess" if request.param == "root-without-bwrap" else "auto"
    try:
        out, rows, run = run_batch(base, prefix, sandbox)
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(planted_root(base), ignore_errors=True)
        raise
    yield {"out": out, "rows": rows, "user": request.param, "stderr": run.stderr}
    shutil.rmtree(base, ignore_errors=True)
    shutil.rmtree(planted_root(base), ignore_errors=True)


def _row(batch, folder):
    for row in batch["rows"]:
        if row["submission"] == folder:
            parsed = {k: (float(v) if k not in ("submission", "problem") else v) for k, v in row.items()}
            return parsed
    raise AssertionError(f"no row for {folder!r} in grades.csv: {[r['submission'] for r in batch['rows']]}")


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_case(batch, name):
    _, folder, check = CASES[name]
    if name == "formula":
        row = next(r for r in batch["rows"] if r["submission"].endswith('HYPERLINK("http:__x")'))
        assert row["submission"].startswith("'="), row["submission"]  # not a formula in a spreadsheet
        folder = row["submission"][1:]
    row = _row(batch, folder) if name != "formula" else \
        {k: (float(v) if k not in ("submission", "problem") else v) for k, v in row.items()}
    results = json.loads(open(os.path.join(batch["out"], folder, "results.json"), encoding="utf-8").read())
    feedback = open(os.path.join(batch["out"], folder, "feedback.md"), encoding="utf-8").read()
    check(row, results, feedback)


def test_batch_has_a_row_per_submission_and_no_internal_error(batch):
    assert len(batch["rows"]) == len(CASES)
    assert not any("internal grader error" in r["problem"] for r in batch["rows"])
    assert not os.path.exists(os.path.join(batch["out"], "grades.csv", "results.json"))


def test_grader_memory_stays_bounded(batch):
    """buffer_refs names one 1 MB buffer 1000 times: decoded once each, the grader stays small
    (1000 copies took it past 1 GB)."""
    line = next(l for l in batch["stderr"].decode(errors="replace").splitlines() if l.startswith("MAXRSS_KB"))
    assert int(line.split()[1]) < 600 * 1024, line


def test_nothing_left_running(batch):
    """No process of a worker uid (root run), no worker of nobody (unprivileged run) survives the batch
    (processes of this checkout's Python: other graders may run on this machine meanwhile)."""
    from autograder import privilege

    base = 1_900_000_000
    left = [pid for pid in privilege.process_table() if _uid_of(pid) is not None and ROOT in _cmdline(pid)
            and (base <= _uid_of(pid) < base + 1024 or (_uid_of(pid) == 65534 and "_worker.py" in _cmdline(pid)))]
    assert not left, [(pid, _cmdline(pid)) for pid in left]


def _uid_of(pid):
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_a_right_answer_computed_by_overwriting_an_input_is_not_accepted(tmp_path):
    """dx right, but dout overwritten with it: expected values come from the judge's dout (so the answer
    matches), and the check fails anyway, saying which argument was modified in place."""
    from autograder.grade import grade_batch, load_config

    open_root_folders()
    base = traversable_tmpdir()
    try:
        sub = copy_solution(os.path.join(base, "overwrite"))
        plant_function(sub, "layers.dropout_backward", src("""
            _real = dropout_backward
            def dropout_backward(dout, cache):
                dx = _real(dout, cache)
                dout[...] = dx
                return dx.copy()
            """))
        config = load_config()
        config["limits"]["per_exercise_timeout_s"] = 6.0
        rows = grade_batch([sub], os.path.join(base, "out"), config=config, progress=False)
        assert rows[0]["layers.dropout_backward"] < row_max("layers.dropout_backward")
        assert rows[0]["total"] == pytest.approx(MAX - row_max("layers.dropout_backward") + rows[0]["layers.dropout_backward"])
        feedback = open(os.path.join(base, "out", "overwrite", "feedback.md"), encoding="utf-8").read()
        assert "dout modified in place" in feedback
    finally:
        shutil.rmtree(base, ignore_errors=True)
