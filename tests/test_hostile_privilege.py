"""The worker holds no privilege, whoever starts the grader.

The escape that once worked as root — unmount the tmpfs hiding the instructor's
files, remount / read-write, read the solution, write on the host, trace or
join another process — is run by a planted submission, as root with
bubblewrap, as root with bubblewrap refused (the subprocess fallback with
root-only instructor files, as Gradescope's ``setup.sh`` leaves them), and as
an unprivileged user; every step must fail while honest submissions graded in
the same ``--jobs 2`` run keep full marks.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import stat
import subprocess
import sys
import textwrap

import pytest

from autograder import privilege
from autograder.plant import copy_solution, plant_function
from autograder.sandbox import bwrap_available

from privileged import is_root, open_root_folders, traversable_tmpdir, unprivileged_prefix

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BWRAP = bwrap_available()


@pytest.fixture(scope="module", autouse=True)
def reachable_python():
    open_root_folders()


# ------------------------------------------------------------------ seccomp
def test_seccomp_numbers_match_libseccomp():
    """Our syscall tables agree with libseccomp's (Debian's python3-seccomp) for both architectures."""
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        seccomp = pytest.importorskip("seccomp")
    finally:
        sys.path.remove("/usr/lib/python3/dist-packages")
    for machine, arch in (("x86_64", seccomp.Arch.X86_64), ("aarch64", seccomp.Arch.AARCH64)):
        table = privilege.SYSCALLS[machine]
        checked = 0
        for name in (*privilege.DENIED, "clone", "clone3"):
            number = seccomp.resolve_syscall(arch, name)
            if number < 0 and table[name] >= 457:  # a call newer than this libseccomp (2.5 stops at 450)
                continue
            assert number == table[name], (machine, name)
            checked += 1
        assert checked >= len(privilege.DENIED) - 3, (machine, checked)


FILTER_PROBE = textwrap.dedent("""
    import ctypes, json, os, sys
    sys.path.insert(0, {root!r})
    from autograder import privilege
    libc = ctypes.CDLL(None, use_errno=True)
    if {install}:
        privilege.install_seccomp(privilege.seccomp_program())
    out = {{}}
    for name, call in [("unshare", lambda: libc.unshare(0x10000000)),
                       ("mount", lambda: libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)),
                       ("umount2", lambda: libc.umount2(b"/proc", 2)),
                       ("ptrace", lambda: libc.ptrace(16, 1, 0, 0)),
                       ("keyctl", lambda: libc.syscall(250 if os.uname().machine == "x86_64" else 219, 0, 0)),
                       ("statmount", lambda: libc.syscall(457, 0, 0, 0, 0)),
                       ("listmount", lambda: libc.syscall(458, 0, 0, 0, 0))]:
        ctypes.set_errno(0)
        rc = call()
        out[name] = ctypes.get_errno() if rc == -1 else 0
    pid = os.fork()  # a plain fork (clone without namespace flags) still works
    if pid == 0:
        os._exit(7)
    out["fork"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    out["read"] = len(open("/etc/hostname").read()) >= 0
    print(json.dumps(out))
""")


@pytest.mark.skipif(platform.machine() not in privilege.SYSCALLS, reason="no syscall table for this machine")
def test_seccomp_filter_refuses_the_escape_calls_and_allows_the_rest():
    """With the filter the calls fail with EPERM; a planted wrong filter (none) lets unshare through."""
    def probe(install):
        run = subprocess.run([sys.executable, "-c", FILTER_PROBE.format(root=ROOT, install=install)],
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)

    filtered = probe(True)
    assert all(filtered[name] == 1 for name in ("unshare", "mount", "umount2", "ptrace", "keyctl", "statmount",
                                                 "listmount")), filtered
    assert filtered["fork"] == 7 and filtered["read"]
    unfiltered = probe(False)  # the kernel answers these bad arguments otherwise (EFAULT, EINVAL, or ENOSYS
    assert unfiltered["statmount"] != 1 and unfiltered["listmount"] != 1, unfiltered  # on an older kernel)
    if is_root():  # without the filter root can unshare: the probe is able to tell the difference
        assert unfiltered["unshare"] == 0


# ------------------------------------------------------------- the escape
def escape_source(solution_file, host_file, hidden_dir):
    """sgd_momentum that tries every way out, prints what happened as JSON, then answers correctly."""
    return textwrap.dedent(f"""
        _solution = sgd_momentum
        def sgd_momentum(w, dw, config=None):
            import ctypes, json, os, subprocess
            libc = ctypes.CDLL(None, use_errno=True)
            report = {{}}
            status = open("/proc/self/status").read().splitlines()
            for key in ("Uid", "CapEff", "CapPrm", "CapBnd", "NoNewPrivs", "Seccomp"):
                report[key] = [l.split(":", 1)[1].split() for l in status if l.startswith(key + ":")][0]
            def attempt(name, call):
                ctypes.set_errno(0)
                rc = call()
                report[name] = "ok" if rc == 0 else os.strerror(ctypes.get_errno())
            attempt("umount_hidden", lambda: libc.umount2({hidden_dir!r}.encode(), 2))
            attempt("remount_root_rw", lambda: libc.mount(None, b"/", None, 32, None))
            attempt("unshare_user_mount", lambda: libc.unshare(0x10000000 | 0x20000))
            attempt("ptrace_pid1", lambda: libc.ptrace(16, 1, 0, 0))
            attempt("setuid_root", lambda: libc.setuid(0))
            for name, cmd in (("umount_cmd", ["umount", "-l", {hidden_dir!r}]),
                              ("unshare_cmd", ["unshare", "-Urm", "true"])):
                try:
                    report[name] = subprocess.run(cmd, capture_output=True, timeout=5).returncode
                except Exception as err:
                    report[name] = type(err).__name__
            try:
                report["read_solution"] = "### BEGIN SOLUTION" in open({solution_file!r}).read()
            except OSError as err:
                report["read_solution"] = err.strerror
            try:
                with open({host_file!r}, "w") as fh:
                    fh.write("escaped")
                report["write_host"] = "wrote"
            except OSError as err:
                report["write_host"] = err.strerror
            print("ESCAPE-REPORT " + json.dumps(report), flush=True)
            return _solution(w, dw, config)
        """)


def instructor_copy(dest):
    """The project as Gradescope's setup.sh leaves it: instructor folders root-only (0700)."""
    os.makedirs(dest, exist_ok=True)
    os.chmod(dest, 0o711)
    for name in ("cs231n_lec7", "autograder"):
        shutil.copytree(os.path.join(ROOT, name), os.path.join(dest, name),
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        os.chmod(os.path.join(dest, name), 0o700)
    shutil.copy(os.path.join(ROOT, "pyproject.toml"), dest)
    return dest


def read_report(out, name):
    results = json.loads(open(os.path.join(out, name, "results.json")).read())
    text = results["extra_data"]["student_output"] + results["extra_data"]["hidden_checks_output"]
    line = next(l for l in text.splitlines() if l.startswith("ESCAPE-REPORT "))
    return json.loads(line.split(" ", 1)[1]), results


def assert_contained(report, results, host_file):
    assert report["Uid"][0] != "0" and results["extra_data"]["worker"]["uid"] != 0, report
    for caps in ("CapEff", "CapPrm", "CapBnd"):
        assert int(report[caps][0], 16) == 0, report
    assert report["NoNewPrivs"] == ["1"], report
    if platform.machine() in privilege.SYSCALLS:
        assert report["Seccomp"] == ["2"], report
    for step in ("umount_hidden", "remount_root_rw", "unshare_user_mount", "ptrace_pid1", "setuid_root"):
        assert report[step] != "ok", (step, report)
    assert report["umount_cmd"] != 0 and report["unshare_cmd"] != 0, report
    assert report["read_solution"] is not True, report
    assert report["write_host"] != "wrote" and not os.path.exists(host_file), report


def grade_cli(project, subs, out, extra_env=None, sandbox="auto", prefix=(), timeout=900):
    env = dict(os.environ, PYTHONPATH="", **(extra_env or {}))
    cmd = [*prefix, sys.executable, "-m", "autograder", "grade", *subs, "--out", out, "--jobs", "2",
           "--no-progress", "--sandbox", sandbox]
    run = subprocess.run(cmd, cwd=project, capture_output=True, text=True, env=env, timeout=timeout)
    assert run.returncode == 0, run.stdout + run.stderr
    return run


def fake_refusing_bwrap(folder):
    """A ``bwrap`` that refuses to start, as in Docker's and Gradescope's containers."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "bwrap")
    with open(path, "w") as fh:
        fh.write("#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n")
    os.chmod(path, 0o755)
    return folder


ROOT_CASES = [pytest.param("bwrap", marks=pytest.mark.skipif(not BWRAP, reason="bubblewrap does not work here")),
              "refused"]


@pytest.mark.skipif(not is_root(), reason="the escape as root needs root")
@pytest.mark.parametrize("case", ROOT_CASES)
def test_escape_as_root_fails(case):
    """As root: the planted escape fails at every step, honest submissions in the same run keep full marks."""
    base = traversable_tmpdir()
    try:
        project = instructor_copy(os.path.join(base, "project"))
        host_file = os.path.join(base, "escaped-marker")
        subs = []
        for name in ("escape", "honest1", "honest2"):
            sub = copy_solution(os.path.join(base, "subs", name))
            if name == "escape":
                plant_function(sub, "optim.sgd_momentum",
                               escape_source(os.path.join(project, "cs231n_lec7", "optim.py"), host_file, project))
            subs.append(sub)
        out = os.path.join(base, "out")
        env = {}
        if case == "refused":
            env["PATH"] = fake_refusing_bwrap(os.path.join(base, "bin")) + os.pathsep + os.environ["PATH"]
        grade_cli(project, subs, out, env)
        report, results = read_report(out, "escape")
        assert results["extra_data"]["sandbox"] == ("bwrap" if case == "bwrap" else "subprocess")
        assert_contained(report, results, host_file)
        assert results["score"] == pytest.approx(results["extra_data"]["max_score"])  # it answered correctly
        for name in ("honest1", "honest2"):
            honest = json.loads(open(os.path.join(out, name, "results.json")).read())
            assert honest["score"] == pytest.approx(honest["extra_data"]["max_score"])
            assert honest["extra_data"]["worker"]["uid"] not in (0, results["extra_data"]["worker"]["uid"])
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.skipif(unprivileged_prefix() is None or not BWRAP, reason="needs root to become nobody, and bwrap")
def test_escape_as_an_unprivileged_user_fails():
    """The grader run as nobody: the worker is in a user namespace with nothing held, the escape fails."""
    base = traversable_tmpdir()
    try:
        host_file = os.path.join(base, "escaped-marker")
        subs_dir = os.path.join(base, "subs")
        subs = []
        for name in ("escape", "honest"):
            sub = copy_solution(os.path.join(subs_dir, name))
            if name == "escape":
                plant_function(sub, "optim.sgd_momentum",
                               escape_source(os.path.join(ROOT, "cs231n_lec7", "optim.py"), host_file, ROOT))
            subs.append(sub)
        out = os.path.join(base, "out")
        os.makedirs(out)
        for path in (base, out):
            os.chown(path, 65534, 65534)
        grade_cli(ROOT, subs, out, prefix=unprivileged_prefix())
        report, results = read_report(out, "escape")
        assert results["extra_data"]["sandbox"] == "bwrap" and results["extra_data"]["worker"]["user_namespace"]
        report["Uid"] = ["65534"]  # uid 65534 inside its namespace is the (unprivileged) grader's uid
        assert_contained(report, results, host_file)
        assert report["read_solution"] is not True
        honest = json.loads(open(os.path.join(out, "honest", "results.json")).read())
        assert honest["score"] == pytest.approx(honest["extra_data"]["max_score"])
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.skipif(not is_root(), reason="needs root")
def test_refused_bubblewrap_with_readable_instructor_files_is_caught_by_the_escape_test():
    """Planted weakness: the same escape against instructor files left world-readable reads the solution —
    the test above would fail if setup.sh's root-only permissions were missing."""
    base = traversable_tmpdir()
    try:
        project = instructor_copy(os.path.join(base, "project"))
        for name in ("cs231n_lec7", "autograder"):
            os.chmod(os.path.join(project, name), 0o755)
        sub = copy_solution(os.path.join(base, "subs", "escape"))
        plant_function(sub, "optim.sgd_momentum", escape_source(os.path.join(project, "cs231n_lec7", "optim.py"),
                                                                os.path.join(base, "m"), project))
        out = os.path.join(base, "out")
        grade_cli(project, [sub], out, sandbox="subprocess")
        report, _ = read_report(out, "escape")
        assert report["read_solution"] is True
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.skipif(not is_root(), reason="needs root")
def test_root_without_bubblewrap_refuses_a_python_other_users_cannot_reach(tmp_path, monkeypatch):
    """Rather than run the worker as root, the grader stops with one sentence (pyenv under /root, 0700)
    where no private mount view can open the way (tests/test_mountview.py: where one can)."""
    from autograder import mountview, sandbox

    monkeypatch.setattr(mountview, "_AVAILABLE", False)

    def check(executable):
        saved = sys.executable
        sys.executable = executable
        try:
            sandbox.preflight("subprocess")
        finally:
            sys.executable = saved

    hidden = tmp_path / "private"
    (hidden / "bin").mkdir(parents=True)
    os.chmod(hidden, 0o700)
    (hidden / "bin" / "python").write_text("")
    with pytest.raises(SystemExit, match="cannot grade without bubblewrap as root.*cannot enter"):
        check(str(hidden / "bin" / "python"))
    check(sys.executable)  # reachable (see privileged.open_root_folders): no refusal


STATUS_DRIVER = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {root!r})
    import numpy as np
    import autograder.sandbox
    from autograder.sandbox import Limits, RemoteFunctions, Sandbox
    if {no_namespaces}:
        autograder.sandbox._UNSHARE_OK = False
    sandbox = Sandbox({sub!r}, Limits(), mode="subprocess")
    _, report = RemoteFunctions(sandbox)("optim.sgd_momentum")(np.ones(2), np.ones(2), {{}})
    sandbox.close()
    print(json.dumps(dict(report, privileges=sandbox.privileges)))
""")

STATUS_SOURCE = textwrap.dedent("""
    def sgd_momentum(w, dw, config=None):
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines() if ":" in l)
        ctypes.set_errno(0)
        rc = libc.unshare(0x10000000)
        return w, {"seccomp": status["Seccomp"].strip(), "nnp": status["NoNewPrivs"].strip(),
                   "unshare": rc, "errno": ctypes.get_errno()}
""")


@pytest.mark.skipif(unprivileged_prefix() is None or platform.machine() not in privilege.SYSCALLS,
                    reason="needs root to become nobody, and a syscall table")
@pytest.mark.parametrize("no_namespaces", [False, True], ids=["with-unshare", "without-namespaces"])
def test_an_unprivileged_grader_without_bubblewrap_still_filters_system_calls(no_namespaces):
    base = traversable_tmpdir()
    try:
        sub = copy_solution(os.path.join(base, "sub"))
        plant_function(sub, "optim.sgd_momentum", STATUS_SOURCE)
        for dirpath, dirnames, filenames in os.walk(base):
            for entry in dirnames + filenames + [""]:
                os.chown(os.path.join(dirpath, entry), 65534, 65534)
        run = subprocess.run([*unprivileged_prefix(), sys.executable, "-c",
                              STATUS_DRIVER.format(root=ROOT, sub=sub, no_namespaces=no_namespaces)],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        report = json.loads(run.stdout.strip().splitlines()[-1])
        assert report["seccomp"] == "2" and report["nnp"] == "1", report
        assert report["unshare"] == -1 and report["errno"] == 1, report
        assert report["privileges"]["seccomp"] and report["privileges"]["user_namespace"] is not no_namespaces
    finally:
        shutil.rmtree(base, ignore_errors=True)
