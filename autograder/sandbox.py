"""Start, talk to and kill one sandboxed worker process.

Isolation, strongest first (``Sandbox.mode`` says which one ran):

- ``bwrap``: Debian's bubblewrap. Read-only root; a tmpfs over ``/tmp``, over
  the project (solution, references, hidden checks), the output folder, the
  home folder and the submissions' folders; only this submission's work folder
  is bound in, writable. ``--unshare-all`` (no network, own PID namespace),
  ``--die-with-parent``, ``--new-session``. The Python install and its
  site-packages are bound back read-only so numpy imports.
- ``subprocess``: where bubblewrap is missing or does not work. The same
  resource limits, scrubbed environment, private work folder and process-tree
  kill, but the worker *can* read any file the grader's user can read
  (including the reference solution). Results say so.

Both modes: RLIMIT_CPU, RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_NPROC (not enforced
for root), a new session, stdout/stderr captured up to a cap, a wall-clock
deadline on every call, and after the worker ends every process left behind
(even ones that started their own session) is killed: the grader makes itself
a child subreaper, so orphans are re-parented to it and swept.
"""
from __future__ import annotations

import ctypes
import os
import resource
import shutil
import signal
import select
import subprocess
import sys
import sysconfig
import threading
import time

from . import worker as wire

WORKER_FILE = os.path.abspath(wire.__file__)
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN_VAR = "LEC7_WORKER_TOKEN"


class WorkerTimeout(Exception):
    """The worker did not answer before the deadline."""


class WorkerDied(Exception):
    """The worker process ended (crash, os._exit, limit exceeded)."""


class StudentError(Exception):
    """The student's code raised an exception inside the worker."""

    def __init__(self, type_name, message, where):
        super().__init__(f"{type_name}: {message}")
        self.type_name, self.message, self.where = type_name, message, where

    def describe(self):
        where = f" (at {self.where})" if self.where else ""
        return f"your code raised {self.type_name}: {self.message}{where}"


_subreaper_set = False


def become_subreaper():
    """Orphans of our workers get re-parented to us, so we can sweep them."""
    global _subreaper_set
    if _subreaper_set or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_CHILD_SUBREAPER = 36
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        _subreaper_set = True
    except OSError:
        pass


def _processes_with_token(token):
    """PIDs whose environment carries our worker token (catches escaped sessions)."""
    pids = []
    needle = f"{TOKEN_VAR}={token}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                if needle in fh.read().split(b"\0"):
                    pids.append(int(entry))
        except OSError:
            continue
    return pids


def _reap_children():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def bwrap_available() -> bool:
    """True when bubblewrap exists and can start a sandbox on this machine."""
    exe = shutil.which("bwrap")
    if not exe:
        return False
    try:
        probe = subprocess.run([exe, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent",
                                "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def python_paths():
    """Folders the worker's Python needs: prefixes and site-packages."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        paths.add(sysconfig.get_paths()[key])
    return sorted(p for p in paths if p and os.path.isdir(p))


def site_dirs():
    return sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})


class Limits:
    def __init__(self, cpu_time_s=60, memory_mb=2048, file_size_mb=16, processes=64, output_kb=64):
        self.cpu_time_s, self.memory_mb = int(cpu_time_s), int(memory_mb)
        self.file_size_mb, self.processes, self.output_kb = int(file_size_mb), int(processes), int(output_kb)

    @classmethod
    def from_config(cls, cfg):
        keys = ("cpu_time_s", "memory_mb", "file_size_mb", "processes", "output_kb")
        return cls(**{k: cfg[k] for k in keys if k in cfg})

    def apply(self):  # runs in the child before exec
        os.setsid()
        resource.setrlimit(resource.RLIMIT_CPU, (self.cpu_time_s, self.cpu_time_s + 1))
        mem = self.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        size = self.file_size_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        resource.setrlimit(resource.RLIMIT_NPROC, (self.processes, self.processes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class Sandbox:
    """One worker for one submission folder ``workdir`` (holding ``cs231n_lec7/``).

    ``hide``: extra folders the worker must not see (output dir, submissions).
    ``mode``: 'bwrap', 'subprocess' or 'auto' (bwrap when it works).
    """

    _bwrap_ok = None

    def __init__(self, workdir, limits: Limits | None = None, hide=(), mode="auto"):
        self.workdir = os.path.abspath(workdir)
        self.limits = limits or Limits()
        self.hide = [os.path.abspath(h) for h in hide]
        if mode == "auto":
            if Sandbox._bwrap_ok is None:
                Sandbox._bwrap_ok = bwrap_available()
            mode = "bwrap" if Sandbox._bwrap_ok else "subprocess"
        self.mode = mode
        self.proc = None
        self.token = None
        self._output = bytearray()  # the first output_kb of everything the workers printed
        self._stream_total = 0       # bytes printed in all (kept or not), across restarts
        self._lock = threading.Lock()
        self._marker, self._marker_at = None, None
        self._marker_seen = threading.Event()
        self._boundary, self._boundary_skip = None, 0
        self._drain = None
        self.restarts = 0
        self._started = False
        become_subreaper()

    # ----------------------------------------------------------- process
    def _command(self):
        inner_dir = "/tmp/submission" if self.mode == "bwrap" else self.workdir
        py = [sys.executable, "-S", "-B", os.path.join(inner_dir, "_worker.py"), *site_dirs()]
        if self.mode != "bwrap":
            return py, self.workdir
        cmd = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
        needed = python_paths()
        for n in sorted({os.path.realpath(n) for n in needed} | {os.path.abspath(n) for n in needed}):
            if n.startswith("/tmp" + os.sep):  # a Python installed under /tmp stays usable
                cmd += ["--ro-bind", n, n]
        hidden = [PROJECT_ROOT, os.path.expanduser("~"), *self.hide]
        import tempfile

        tmp = os.path.realpath(tempfile.gettempdir())
        if tmp != "/tmp":
            hidden.append(tmp)
        needed_real = sorted({os.path.realpath(n) for n in needed} | {os.path.abspath(n) for n in needed})
        for h in sorted({os.path.realpath(h) for h in hidden if h and os.path.isdir(h)}):
            if h == "/" or any(h == n or h.startswith(n + os.sep) for n in needed_real):
                continue  # never hide the Python install itself
            cmd += ["--tmpfs", h]
            for n in needed_real:
                if n.startswith(h + os.sep):
                    cmd += ["--ro-bind", n, n]
        cmd += ["--bind", self.workdir, "/tmp/submission", "--chdir", "/tmp/submission",
                "--unshare-all", "--die-with-parent", "--new-session", "--"]
        return cmd + py, self.workdir

    def start(self):
        self._started = True
        shutil.copyfile(WORKER_FILE, os.path.join(self.workdir, "_worker.py"))
        self.token = os.urandom(8).hex()
        env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
               "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg", TOKEN_VAR: self.token}
        cmd, cwd = self._command()
        self._inbox = bytearray()  # bytes read ahead from the worker's answers
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, preexec_fn=self.limits.apply, bufsize=0)
        os.set_blocking(self.proc.stdin.fileno(), False)  # writes honour the deadline too (see _write_all)
        self._drain = threading.Thread(target=self._drain_output, args=(self.proc.stderr,), daemon=True)
        self._drain.start()

    def _drain_output(self, stream):
        cap = self.limits.output_kb * 1024
        tail = b""  # the end of the previous chunk, for a marker split across two reads
        while True:
            chunk = stream.read(65536)
            if not chunk:
                return
            with self._lock:
                if self._marker is not None and self._marker_at is None:
                    at = (tail + chunk).find(self._marker)
                    if at >= 0:
                        self._marker_at = self._stream_total - len(tail) + at
                        self._marker_seen.set()
                room = cap - len(self._output)
                if room > 0:
                    self._output += chunk[:room]
                self._stream_total += len(chunk)
                tail = (tail + chunk)[-64:]

    def _text(self, start, end):
        kept = bytes(self._output[start:end]).decode("utf-8", "replace")
        dropped = max(0, end - max(start, len(self._output)))
        return kept + (f"\n[... {dropped} more bytes of output dropped]" if dropped else "")

    def mark_output(self, wait=1.0):
        """Split the student's output here: what was printed so far vs. what comes later.

        The worker flushes and prints a random marker; the judge waits for it (at
        most ``wait`` s) before it sends anything else. Whatever was read before
        that moment was printed before any later request reached the worker, so
        it cannot quote a later request's inputs, whatever the student's code does.
        """
        marker = f"\n[lec7 {os.urandom(8).hex()}]\n".encode()
        with self._lock:
            self._marker, self._marker_at = marker, None
            self._marker_seen.clear()
        try:
            self.request({"op": "mark", "text": marker.decode()}, timeout=wait)
            self._marker_seen.wait(wait)
        except (WorkerTimeout, WorkerDied):
            pass
        with self._lock:
            if self._marker_at is not None:
                self._boundary, self._boundary_skip = self._marker_at, len(marker)
            else:  # no marker (worker dead or tampered with): cut at what has been read
                self._boundary, self._boundary_skip = self._stream_total, 0
            self._marker = None

    @property
    def output(self) -> str:
        """Everything the student's code printed (first ``output_kb``)."""
        with self._lock:
            return self._text(0, self._stream_total)

    @property
    def output_before_mark(self) -> str:
        """What was printed before :meth:`mark_output` (all of it if never marked)."""
        with self._lock:
            end = self._stream_total if self._boundary is None else self._boundary
            return self._text(0, end)

    @property
    def output_after_mark(self) -> str:
        with self._lock:
            if self._boundary is None:
                return ""
            return self._text(min(self._boundary + self._boundary_skip, self._stream_total), self._stream_total)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """Kill the worker, its process group and anything it left behind."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        for attempt in range(3):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            for pid in _processes_with_token(self.token):
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                continue
            if not _processes_with_token(self.token):
                break
            time.sleep(0.05)
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        if self._drain is not None:
            self._drain.join(timeout=1)
        _reap_children()

    def restart(self):
        self.stop()
        self.restarts += 1
        self.start()

    # -------------------------------------------------------------- calls
    def _read_exact(self, n, deadline):
        """``n`` bytes from the worker; reads ahead (one frame usually arrives in one read)."""
        fd = self.proc.stdout.fileno()
        inbox = self._inbox
        while len(inbox) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerTimeout()
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                raise WorkerTimeout()
            chunk = os.read(fd, min(max(n - len(inbox), 1 << 16), 1 << 20))
            if not chunk:
                raise WorkerDied(self._death_reason())
            inbox += chunk
        data = bytes(inbox[:n])
        del inbox[:n]
        return data

    def _death_reason(self):
        proc = self.proc
        code = None
        if proc is not None:
            try:
                code = proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                code = None
        if code is None:
            return "the worker closed its channel"
        if code < 0:
            sig = signal.Signals(-code).name
            why = {"SIGXCPU": "CPU time limit exceeded", "SIGXFSZ": "file size limit exceeded",
                   "SIGKILL": "killed (memory or time limit)", "SIGSEGV": "crashed (segmentation fault)"}
            return f"the worker died: {why.get(sig, sig)}"
        return f"the worker exited with code {code} (did your code call exit() or os._exit()?)"

    def _write_all(self, data, deadline):
        fd = self.proc.stdin.fileno()
        view = memoryview(data)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerTimeout()
            _, ready, _ = select.select([], [fd], [], remaining)
            if not ready:
                raise WorkerTimeout()
            try:
                view = view[os.write(fd, view[:1 << 16]):]
            except BlockingIOError:
                continue

    def request(self, header, buffers=(), timeout=10.0):
        """Send one request and wait for its answer.

        A worker that misses the deadline or sends a garbled answer is killed at
        once: an answer arriving late (or the rest of a garbled one) would
        otherwise be taken for the answer to the next request. The next request
        starts a fresh worker (counted in ``restarts``).
        """
        if not self.alive():
            if self.proc is not None:
                raise WorkerDied(self._death_reason())
            if self._started:
                self.restarts += 1
            self.start()
        deadline = time.monotonic() + timeout
        try:
            return self._exchange(header, buffers, deadline)
        except (WorkerTimeout, WorkerDied):
            self.stop()  # a late or garbled answer must never be read as the next one's
            raise

    def _exchange(self, header, buffers, deadline):
        try:
            self._write_all(wire.frame_bytes(header, list(buffers)), deadline)
        except (BrokenPipeError, OSError):
            raise WorkerDied(self._death_reason()) from None
        (n,) = wire._HEADER.unpack(self._read_exact(wire._HEADER.size, deadline))
        if n > wire.MAX_FRAME:
            raise WorkerDied("the worker sent a malformed answer")
        try:
            answer = __import__("json").loads(self._read_exact(n, deadline))
            if not isinstance(answer, dict):
                raise ValueError("not an object")
            sizes = [int(s) for s in answer.pop("buffers", [])]
        except (ValueError, TypeError, RecursionError):
            raise WorkerDied("the worker sent a malformed answer") from None
        if sum(sizes) > wire.MAX_FRAME:
            raise WorkerDied("the worker sent an answer that is too large")
        return answer, [self._read_exact(s, deadline) for s in sizes]

    def call(self, fn, args, kwargs, timeout):
        """Call ``fn`` ('module.function') in the worker; mirror in-place changes to args."""
        header, buffers = call_request(fn, args, kwargs)
        answer, out = self.request(header, buffers, timeout)
        if not answer.get("ok"):
            raise _student_error(answer)
        try:
            result = wire.decode(answer["result"], out)
            for index, value in answer.get("writeback", []):
                _mirror(args[int(index)], wire.decode(value, out))
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise StudentError("BadReturnValue", f"the value returned could not be read ({exc})", "") from None
        return result

    def call_many(self, fn, arg_lists, timeout):
        """``[fn(*args) for args in arg_lists]`` in the worker, in one round trip (no writeback)."""
        buffers = []
        header = {"op": "many", "fn": fn, "arg_lists": wire.encode([list(a) for a in arg_lists], buffers)}
        answer, out = self.request(header, buffers, timeout)
        if not answer.get("ok"):
            raise _student_error(answer)
        try:
            results = wire.decode(answer["results"], out)
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise StudentError("BadReturnValue", f"the value returned could not be read ({exc})", "") from None
        if not isinstance(results, list) or len(results) != len(arg_lists):
            raise StudentError("BadReturnValue", "the worker answered the wrong number of results", "")
        return results


def call_request(fn, args, kwargs=None):
    """(header, buffers) of a ``call`` request: ``fn`` ('module.function') on ``args``, ``kwargs``."""
    buffers = []
    header = {"op": "call", "fn": fn, "args": wire.encode(list(args), buffers),
              "kwargs": wire.encode(dict(kwargs or {}), buffers)}
    return header, buffers


def error_fields(answer) -> dict:
    """The ``error`` object of an answer, or {} when a forged answer carries something else."""
    err = answer.get("error")
    return err if isinstance(err, dict) else {}


def _student_error(answer):
    err = error_fields(answer)
    return StudentError(str(err.get("type", "Error")), str(err.get("message", "")), str(err.get("where", "")))


def _mirror(original, new):
    """Reflect a worker-side in-place change of an argument into the judge's object."""
    import numpy as np

    if isinstance(original, np.ndarray) and isinstance(new, np.ndarray):
        if new.shape == original.shape and not np.array_equal(new, original, equal_nan=True):
            original[...] = new.astype(original.dtype, copy=False)
    elif isinstance(original, dict) and isinstance(new, dict):
        original.clear()
        original.update(new)


class RemoteFunctions:
    """``ctx.fn`` for the grader: each call runs in the sandboxed worker."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.deadline = None  # monotonic time by which the current exercise must finish

    def __call__(self, exercise):
        def remote(*args, **kwargs):
            return self.sandbox.call(exercise, args, kwargs, self._remaining())

        remote.__name__ = exercise
        return remote

    def _remaining(self):
        remaining = 10.0 if self.deadline is None else self.deadline - time.monotonic()
        if remaining <= 0:
            raise WorkerTimeout()
        return remaining

    def many(self, exercise, arg_lists):
        """Results of ``exercise`` on each argument list, computed in the worker in one round trip."""
        return self.sandbox.call_many(exercise, arg_lists, self._remaining())
