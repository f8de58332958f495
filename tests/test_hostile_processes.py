"""Subprocess mode kills everything a worker started — without relying on its environment.

A double-forked ``setsid`` process that replaced its environment with an empty
one (so no token finds it) must not outlive the worker: as root the worker's
own uid is swept (``kill(-1)`` as that uid); as another user the process tree
below the worker and every orphan re-parented to the grader (a child
subreaper) since the worker started.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

from autograder.plant import copy_solution, plant_function

from privileged import is_root, open_root_folders, traversable_tmpdir, unprivileged_prefix

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DAEMON = textwrap.dedent("""
    _solution = sgd_momentum
    def sgd_momentum(w, dw, config=None):
        import os
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execve("/bin/sleep", ["sleep", "{seconds}"], {{}})
            os._exit(0)
        os.wait()
        return _solution(w, dw, config)
    """)

DRIVER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    import numpy as np
    import autograder.sandbox
    from autograder.sandbox import Limits, RemoteFunctions, Sandbox
    if {no_namespaces}:  # as where user namespaces are refused: the process-tree sweep alone
        autograder.sandbox._UNSHARE_OK = False
    sandbox = Sandbox({sub!r}, Limits(), mode="subprocess")
    RemoteFunctions(sandbox)("optim.sgd_momentum")(np.ones(2), np.ones(2), {{}})
    time.sleep(0.3)
    sandbox.close()
    print("closed")
    time.sleep(0.5)
""")


def alive(seconds):
    procs = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return f"sleep {seconds}" in procs


@pytest.fixture
def daemon_submission():
    open_root_folders()
    base = traversable_tmpdir()
    seconds = 4200 + os.getpid() % 97  # unique to this run
    sub = copy_solution(os.path.join(base, "sub"))
    plant_function(sub, "optim.sgd_momentum", DAEMON.format(seconds=seconds))
    yield base, sub, seconds
    subprocess.run(["pkill", "-x", "-f", f"sleep {seconds}"], check=False)  # only if a test failed
    shutil.rmtree(base, ignore_errors=True)


NOBODY = pytest.mark.skipif(unprivileged_prefix() is None, reason="needs root to become nobody")
USERS = [pytest.param("self", id="as-this-user"),
         pytest.param("nobody", id="as-nobody", marks=NOBODY),
         pytest.param("nobody-no-namespaces", id="as-nobody-without-namespaces", marks=NOBODY)]


@pytest.mark.parametrize("user", USERS)
def test_an_escaped_daemon_with_an_empty_environment_dies_with_its_worker(daemon_submission, user):
    base, sub, seconds = daemon_submission
    prefix = unprivileged_prefix() if user.startswith("nobody") else []
    if prefix:
        for dirpath, dirnames, filenames in os.walk(base):
            for entry in dirnames + filenames + [""]:
                os.chown(os.path.join(dirpath, entry), 65534, 65534)
    code = DRIVER.format(root=ROOT, sub=sub, no_namespaces=user == "nobody-no-namespaces")
    run = subprocess.run([*prefix, sys.executable, "-c", code],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "closed" in run.stdout, run.stderr
    time.sleep(0.3)
    assert not alive(seconds), "the daemon outlived its worker"


def test_the_daemon_does_outlive_a_plain_process_group_kill(daemon_submission):
    """Planted weakness: killing only the worker's process group (the old way) leaves the daemon running,
    so the test above does detect a missing sweep."""
    base, sub, seconds = daemon_submission
    code = DRIVER.format(root=ROOT, sub=sub, no_namespaces=True).replace(
        "sandbox.close()", "import os, signal; os.killpg(sandbox.proc.pid, signal.SIGKILL); sandbox.proc.wait()")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    time.sleep(0.3)
    assert alive(seconds)


STOPPER = textwrap.dedent("""
    import os, signal, time
    for _ in range(8):          # a few processes (stopped soon)
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
    if os.fork() == 0:          # a daemon stopping every other process this uid may signal, over and over
        end = time.monotonic() + 60
        while time.monotonic() < end:
            try:
                os.kill(-1, signal.SIGSTOP)
            except OSError:
                pass
        os._exit(0)
    time.sleep(60)
    """)


@pytest.mark.skipif(not is_root(), reason="needs root (worker uids)")
def test_a_worker_stopping_every_process_of_its_uid_cannot_stall_the_sweep():
    """kill(-1, SIGSTOP) in a loop once caught the grader's helper that became the uid to kill it,
    and the grader waited for that helper forever; the sweep now works from root and never waits."""
    import threading

    from autograder import privilege

    open_root_folders()
    ids = privilege.WorkerIds()
    uid = ids.acquire()

    def become():
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)

    proc = subprocess.Popen([sys.executable, "-S", "-c", STOPPER], preexec_fn=become, cwd="/")
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _states(uid).count("T") < 8:
            time.sleep(0.05)
        states = _states(uid)
        assert states.count("T") >= 8 and "R" in states, states  # the daemon runs, the others are stopped
        sweep = threading.Thread(target=privilege.kill_uid, args=(uid,), daemon=True)
        started = time.monotonic()
        sweep.start()
        sweep.join(30)
        assert not sweep.is_alive(), "kill_uid is stuck"
        assert time.monotonic() - started < 10
        assert [s for s in _states(uid) if s != "Z"] == []  # zombies are dead, waiting for their parent
    finally:
        ids.release(uid)
        proc.wait(timeout=10)


def _states(uid):
    from autograder import privilege

    out = []
    for pid in privilege.processes_of(uid):
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                out.append(fh.read().rsplit(b")", 1)[1].split()[0].decode())
        except OSError:
            continue
    return out


@pytest.mark.skipif(not is_root(), reason="needs root (worker uids)")
def test_the_sweep_works_without_pidfds(monkeypatch):
    """On a kernel without pidfd_open (before 5.3) the sweep signals the pid it just checked."""
    from autograder import privilege

    open_root_folders()

    def no_pidfd(pid):
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(os, "pidfd_open", no_pidfd)
    ids = privilege.WorkerIds()
    uid = ids.acquire()

    def become():
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)

    proc = subprocess.Popen(["/bin/sleep", "60"], preexec_fn=become)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not privilege.processes_of(uid):
            time.sleep(0.05)
        assert privilege.processes_of(uid)
        privilege.kill_uid(uid)
        assert proc.wait(timeout=10) == -9
    finally:
        ids.release(uid)
