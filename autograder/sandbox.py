"""Start, talk to and kill one sandboxed worker process.

Isolation, strongest first (``Sandbox.mode`` says which one ran):

- ``bwrap``: Debian's bubblewrap. The worker's root is an empty read-only
  tmpfs holding an allow-list, read-only: the system folders (``/usr``, the
  merged-``/usr`` links), a few files of ``/etc``, exactly the folders of the
  Python installation, the submission's package and the worker script; fresh
  ``/dev`` and ``/proc``; size-limited tmpfs over ``/tmp`` and ``/dev/shm``
  (the only writable places: ``scratch_mb`` each). Nothing else of the machine
  (the project, other submissions, the output, any other copy of the solution)
  exists inside. ``--unshare-all`` (no network,
  own PID namespace), ``--die-with-parent``, ``--new-session``, every
  capability dropped and the seccomp filter of :mod:`autograder.privilege`.
  As root, bubblewrap sets up the mounts and ``setpriv`` then starts the
  worker as an unprivileged uid of its own (:class:`privilege.WorkerIds`), no
  capabilities, ``no_new_privs``; as another user bubblewrap maps it into a user
  namespace (uid 65534 inside). The Python install is bound back read-only.
- ``subprocess``: where bubblewrap is missing or does not work. As root the
  worker still runs as its own unprivileged uid with the seccomp filter (so
  files only root may read stay unreadable, and RLIMIT_NPROC counts that worker
  alone); as another user it runs as that user and *can* read whatever the user
  can (including the reference solution), under the seccomp filter it installs
  itself, in its own user and PID namespace where ``unshare`` works. Results say so.

Both modes: RLIMIT_CPU, RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_NPROC (per worker: its
own uid as root, its own user namespace otherwise; not set when neither
exists), a new session, stdout/stderr captured up to a cap, a wall-clock
deadline on every call, and after the worker ends every process it started is
killed: its PID namespace (bwrap), every process of its uid (root), or the
process tree below it plus every orphan re-parented to the grader (a child
subreaper) since it started — none of which relies on the environment.
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
import weakref

from . import inert, mountview, privilege
from . import worker as wire

WORKER_FILE = os.path.abspath(wire.__file__)
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN_VAR = "LEC7_WORKER_TOKEN"
SETPRIV = shutil.which("setpriv") or "/usr/bin/setpriv"


MAX_ANSWER_HEADER = 2 * 2**20  # bytes of JSON in one answer (arrays travel as buffers, capped by answer_mb)


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
    """True when bubblewrap exists and starts a sandbox here with every option the worker's uses.

    The probe runs ``true`` the way a worker is started (sized tmpfs, ``--perms``, ``--chmod``,
    ``--remount-ro``, the namespaces, the capability drop, the seccomp filter and, as root,
    ``setpriv`` to an unprivileged uid): an older bubblewrap that lacks an option, or a container
    that refuses namespaces, falls back to the subprocess sandbox instead of failing every worker.
    """
    exe = shutil.which("bwrap")
    if not exe:
        return False
    cmd = [exe, *system_binds(), "--dev", "/dev", "--proc", "/proc", "--size", str(2**20), "--perms", "1777",
           "--tmpfs", "/tmp", *python_binds(), "--dir", "/tmp/.lec7", "--chmod", "0755", "/tmp/.lec7",
           "--remount-ro", "/dev", "--remount-ro", "/",
           "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
           "--die-with-parent", "--new-session"]
    fd = privilege.program_fd(_SECCOMP) if _SECCOMP is not None else None
    if fd is not None:
        cmd += ["--seccomp", str(fd)]
    if privilege.is_root():
        cmd += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP",
                "--", SETPRIV, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--no-new-privs", "--", "true"]
    else:
        cmd += ["--unshare-user", "--uid", "65534", "--gid", "65534", "--disable-userns", "--cap-drop", "ALL",
                "--", "true"]
    try:
        probe = subprocess.run(cmd, capture_output=True, timeout=10, pass_fds=() if fd is None else (fd,))
    except (OSError, subprocess.TimeoutExpired):
        return False
    finally:
        if fd is not None:
            os.close(fd)
    return probe.returncode == 0


_UNSHARE_OK = None


def unshare_available() -> bool:
    """True when util-linux ``unshare`` can give a worker its own user and PID namespace (not as root)."""
    global _UNSHARE_OK
    if _UNSHARE_OK is None:
        exe = shutil.which("unshare")
        try:
            _UNSHARE_OK = bool(exe) and subprocess.run(
                [exe, "--user", "--pid", "--fork", "--kill-child", "true"], capture_output=True,
                timeout=10).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            _UNSHARE_OK = False
    return _UNSHARE_OK


def python_paths():
    """Folders the worker's Python needs: prefixes and site-packages."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        paths.add(sysconfig.get_paths()[key])
    return sorted(p for p in paths if p and os.path.isdir(p))


def _check_reachable(workdir, python):
    """As root without namespaces the worker runs as an unprivileged uid: it must reach its Python."""
    for path in (os.path.dirname(workdir), *([os.path.realpath(python)] if python else [])):
        folder = path if os.path.isdir(path) else os.path.dirname(path)
        while folder not in ("/", ""):
            if not os.stat(folder).st_mode & 0o001:
                raise SandboxError(f"the worker runs as an unprivileged user, which cannot enter {folder} "
                                   f"(needed for {path}): install Python outside root-only folders "
                                   f"(e.g. a venv under /opt) or grade with bubblewrap")
            folder = os.path.dirname(folder)


# What the worker's root holds besides Python: the system's programs and libraries, and the few
# files of /etc that the dynamic loader, the C library and numpy/scipy read.
SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group", "nsswitch.conf",
             "alternatives", "hosts", "gai.conf")


def _parents(path):
    out, folder = [], os.path.dirname(path)
    while folder not in ("/", ""):
        out.append(folder)
        folder = os.path.dirname(folder)
    return out[::-1]


def system_binds():
    """bubblewrap options that put the system folders (merged-/usr links kept as links) and the
    needed files of /etc into the worker's empty root, read-only."""
    cmd = []
    for folder in SYSTEM_FOLDERS:
        if os.path.islink(folder):
            cmd += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            cmd += ["--ro-bind", folder, folder]
    cmd += ["--perms", "0755", "--dir", "/etc"]
    for name in ETC_FILES:
        path = os.path.join("/etc", name)
        if os.path.lexists(path):
            cmd += ["--ro-bind-try", path, path]
    return cmd


def python_binds():
    """bubblewrap options binding exactly the folders of :func:`python_paths` read-only (never their
    parents: those are made empty and traversable), each under its own name and its real path."""
    folders = sorted({os.path.realpath(n) for n in python_paths()} | {os.path.abspath(n) for n in python_paths()})
    system = [f for f in SYSTEM_FOLDERS if os.path.isdir(f)] + ["/etc", "/dev", "/proc"]
    covered, cmd, made = [], [], set()
    for folder in folders:  # sorted: a folder comes before what lies inside it
        if any(folder == c or folder.startswith(c + os.sep) for c in covered + system):
            continue
        covered.append(folder)
        for parent in _parents(folder):
            if parent not in made and not any(parent == c or parent.startswith(c + os.sep) for c in system):
                made.add(parent)
                cmd += ["--perms", "0755", "--dir", parent]
        cmd += ["--ro-bind", folder, folder]
    return cmd


def preflight(mode="auto"):
    """Refuse early (one sentence for the instructor) when workers could not start as promised here."""
    if mode == "auto":
        if Sandbox._bwrap_ok is None:
            Sandbox._bwrap_ok = bwrap_available()
        mode = "bwrap" if Sandbox._bwrap_ok else "subprocess"
    if mode == "bwrap" and privilege.is_root() and not os.access(SETPRIV, os.X_OK):
        raise SystemExit(f"cannot start workers as their own uid: {SETPRIV} is missing (install util-linux)")
    if mode == "subprocess" and privilege.is_root():
        import tempfile

        try:
            _check_reachable(os.path.join(tempfile.gettempdir(), "x", "sub"), None)
            _python_view()
        except SandboxError as err:
            raise SystemExit(f"cannot grade without bubblewrap as root: {err}") from None
    return mode


def _python_view():
    """Root-only folders the worker's Python lies in ({folder: entries}); refuses where no view can open them."""
    steps = mountview.root_only_steps([sys.executable, os.path.realpath(sys.executable), *python_paths(),
                                       *site_dirs()])
    if steps and not mountview.available():
        folder = next(iter(steps))
        raise SandboxError(f"the worker runs as an unprivileged user, which cannot enter {folder} (needed for "
                           f"{os.path.realpath(sys.executable)}), and this machine refuses the private mount view "
                           f"that would open it: install Python outside root-only folders (e.g. a venv under "
                           f"/opt) or grade with bubblewrap")
    return steps


def site_dirs():
    return sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})


class Limits:
    def __init__(self, cpu_time_s=60, memory_mb=2048, file_size_mb=16, processes=64, output_kb=64,
                 scratch_mb=64, answer_mb=64, worker_uid_base=1_900_000_000):
        self.cpu_time_s, self.memory_mb = int(cpu_time_s), int(memory_mb)
        self.file_size_mb, self.processes, self.output_kb = int(file_size_mb), int(processes), int(output_kb)
        self.scratch_mb, self.answer_mb, self.worker_uid_base = int(scratch_mb), int(answer_mb), int(worker_uid_base)

    @classmethod
    def from_config(cls, cfg):
        keys = ("cpu_time_s", "memory_mb", "file_size_mb", "processes", "output_kb", "scratch_mb", "answer_mb",
                "worker_uid_base")
        return cls(**{k: cfg[k] for k in keys if k in cfg})

    def apply(self, nproc=True):  # runs in the child before exec
        os.setsid()
        resource.setrlimit(resource.RLIMIT_CPU, (self.cpu_time_s, self.cpu_time_s + 1))
        mem = self.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        size = self.file_size_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        if nproc:
            resource.setrlimit(resource.RLIMIT_NPROC, (self.processes, self.processes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


_SECCOMP = privilege.seccomp_program()
_WORKER_IDS = None


def worker_ids(base):
    global _WORKER_IDS
    if _WORKER_IDS is None or _WORKER_IDS.base != base:
        _WORKER_IDS = privilege.WorkerIds(base)
    return _WORKER_IDS


class SandboxError(Exception):
    """The sandbox cannot be set up as promised on this machine (said to the instructor)."""


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
        self.uid = None            # the worker's own uid when the grader runs as root
        self._since = None         # start time (clock ticks) of the current worker, for the tree sweep
        self._script_dir = None    # a folder the worker may read but not write, holding _worker.py
        self._view = {}            # root-only folders to open in the worker's mount view (see mountview.py)
        self._output = bytearray()  # the first output_kb of everything the workers printed
        self._stream_total = 0       # bytes printed in all (kept or not), across restarts
        self._lock = threading.Lock()
        self._marker, self._marker_at = None, None
        self._marker_seen = threading.Event()
        self._boundary, self._boundary_skip = None, 0
        self._drain = None
        self.restarts = 0
        self._started = False
        self.changed_inputs = []   # (function, argument index) of array arguments a call changed in place
        become_subreaper()

    # ----------------------------------------------------------- process
    @property
    def privileges(self) -> dict:
        """What the worker runs as (for results.json): uid, seccomp, user namespace."""
        return {"uid": self.uid if self.uid is not None else os.geteuid(),
                "seccomp": _SECCOMP is not None and (self.mode == "bwrap" or self.uid is not None
                                                     or self._worker_seccomp()),
                "user_namespace": self._own_namespace(),
                "processes_per_worker": self.uid is not None or self._own_namespace()}

    def _worker_seccomp(self):
        """True when the worker installs the filter itself (another user, no bubblewrap)."""
        return _SECCOMP is not None and self.mode != "bwrap" and self.uid is None and not privilege.is_root()

    def _python(self, seccomp_fd=None):
        script = os.path.join("/tmp/.lec7" if self.mode == "bwrap" else self._script_dir, "_worker.py")
        nproc = [f"--nproc={self.limits.processes}"] if self._own_namespace() else []
        seccomp = [f"--seccomp-fd={seccomp_fd}"] if self._worker_seccomp() and seccomp_fd is not None else []
        return [sys.executable, "-S", "-B", script, *nproc, *seccomp, *site_dirs()]

    def _own_namespace(self):
        """True when the worker gets a user namespace of its own (bwrap, or unshare as another user)."""
        if self.uid is not None or privilege.is_root():
            return False
        return self.mode == "bwrap" or unshare_available()

    def _command(self, seccomp_fd):
        py = self._python(seccomp_fd)
        if self.mode != "bwrap":
            if self._own_namespace():  # own user + PID namespace: per-worker NPROC, all killed with it
                return [shutil.which("unshare"), "--user", "--pid", "--fork", "--kill-child", "--"] + py, \
                    self.workdir
            return py, self.workdir
        scratch = str(self.limits.scratch_mb * 2**20)
        # The worker's root is an empty tmpfs holding only what it needs (an allow-list, never "/"
        # minus a few folders): any other copy of the solution on the machine is simply absent.
        cmd = ["bwrap", *system_binds(), "--dev", "/dev", "--proc", "/proc",
               "--size", scratch, "--perms", "1777", "--tmpfs", "/tmp",
               "--size", scratch, "--perms", "1777", "--tmpfs", "/dev/shm"]
        binds = python_binds()
        cmd += binds
        # Folders the worker must never see that happen to lie inside a bound folder (the project,
        # the output, the submissions, the home folder: e.g. under /usr/local): an empty tmpfs each.
        bound = [binds[i + 1] for i, o in enumerate(binds) if o == "--ro-bind"] + \
            [f for f in SYSTEM_FOLDERS if os.path.isdir(f) and not os.path.islink(f)]
        needed = [os.path.realpath(n) for n in python_paths()]
        for h in sorted({os.path.realpath(h) for h in [PROJECT_ROOT, os.path.expanduser("~"), *self.hide]
                         if h and os.path.isdir(h)}):
            if any(h.startswith(b + os.sep) for b in bound) and \
                    not any(n == h or n.startswith(h + os.sep) or h.startswith(n + os.sep) for n in needed):
                cmd += ["--size", "65536", "--tmpfs", h, "--remount-ro", h]
        cmd += ["--ro-bind", self.workdir, "/tmp/submission",
                "--ro-bind", os.path.join(self._script_dir, "_worker.py"), "/tmp/.lec7/_worker.py",
                "--chmod", "0755", "/tmp/.lec7",
                "--remount-ro", "/dev", "--remount-ro", "/", "--chdir", "/tmp/submission",
                "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "--die-with-parent", "--new-session"]
        if seccomp_fd is not None:
            cmd += ["--seccomp", str(seccomp_fd)]
        if self.uid is None:  # another user: a user namespace, nothing held inside it
            cmd += ["--unshare-user", "--uid", "65534", "--gid", "65534", "--disable-userns", "--cap-drop", "ALL"]
            return cmd + ["--"] + py, self.workdir
        # root: bubblewrap mounts, then setpriv becomes the worker's own uid and drops everything
        cmd += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP",
                "--", SETPRIV, f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
        return cmd + py, self.workdir

    def _prepare_files(self):
        """Once per sandbox: the worker script in a folder the worker cannot write; as root, its uid."""
        import tempfile

        if self._script_dir is None:
            self._script_dir = tempfile.mkdtemp(prefix="lec7-worker-")
            weakref.finalize(self, shutil.rmtree, self._script_dir, True)  # also when close() is never called
            os.chmod(self._script_dir, 0o755)
            target = os.path.join(self._script_dir, "_worker.py")
            shutil.copyfile(WORKER_FILE, target)
            os.chmod(target, 0o644)
        if privilege.is_root() and self.uid is None:
            self.uid = worker_ids(self.limits.worker_uid_base).acquire()
            if self.mode != "bwrap":
                privilege.chown_tree(self.workdir, self.uid)
                os.chmod(self.workdir, 0o700)
                _check_reachable(self.workdir, None)
                self._view = _python_view()  # Python in a root-only folder: opened in the worker's own view

    def _preexec(self):
        limits, uid, seccomp, mode = self.limits, self.uid, _SECCOMP, self.mode
        view, keep_root = self._view, self._script_dir

        def apply():  # in the child, before exec
            # NPROC: per uid as root; in bwrap as another user the worker sets it inside its user namespace
            limits.apply(nproc=uid is not None)
            if mode == "bwrap":
                return
            if uid is not None:
                if view:
                    mountview.open_view(view, keep_root)
                privilege.drop_bounding_set()
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                if seccomp is not None:
                    privilege.install_seccomp(seccomp)

        return apply

    def start(self):
        self._started = True
        self._prepare_files()
        self.token = os.urandom(8).hex()
        env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
               "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg", TOKEN_VAR: self.token}
        seccomp_fd = None
        if _SECCOMP is not None and (self.mode == "bwrap" or self._worker_seccomp()):
            seccomp_fd = privilege.program_fd(_SECCOMP)
        try:
            cmd, cwd = self._command(seccomp_fd)
            self._inbox = bytearray()  # bytes read ahead from the worker's answers
            self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, preexec_fn=self._preexec(), bufsize=0,
                                         pass_fds=() if seccomp_fd is None else (seccomp_fd,))
        finally:
            if seccomp_fd is not None:
                os.close(seccomp_fd)
        self._since = privilege.start_time(self.proc.pid)
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
        """Kill the worker and everything it started (see the module docstring)."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        below = set() if self.uid is not None else privilege.descendants(proc.pid, self._since)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for pid in below:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            proc.kill()
            proc.wait(timeout=5)
        except (subprocess.TimeoutExpired, OSError):
            pass
        if self.uid is not None:
            privilege.kill_uid(self.uid)
        else:
            privilege.sweep_tree(proc.pid, self._since)
            for pid in _processes_with_token(self.token):
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        if self._drain is not None:
            self._drain.join(timeout=1)
        _reap_children()

    def close(self):
        """:meth:`stop`, then give back the worker's uid and remove what it left in shared folders."""
        self.stop()
        if self.uid is not None:
            if self.mode != "bwrap":
                privilege.remove_files_of(self.uid)
            worker_ids(self.limits.worker_uid_base).release(self.uid)
            self.uid = None
        if self._script_dir is not None:
            shutil.rmtree(self._script_dir, ignore_errors=True)
            self._script_dir = None

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
        if n > MAX_ANSWER_HEADER:
            raise WorkerDied("the worker sent an answer that is too large")
        try:
            answer = __import__("json").loads(self._read_exact(n, deadline))
            if not isinstance(answer, dict):
                raise ValueError("not an object")
            sizes = [int(s) for s in answer.pop("buffers", [])]
        except (ValueError, TypeError, RecursionError, AttributeError):
            raise WorkerDied("the worker sent a malformed answer") from None
        if any(s < 0 for s in sizes) or sum(sizes) > self.limits.answer_mb * 2**20:
            raise WorkerDied(f"the worker sent an answer larger than {self.limits.answer_mb} MB")
        return answer, [self._read_exact(s, deadline) for s in sizes]

    def call(self, fn, args, kwargs, timeout):
        """Call ``fn`` ('module.function') in the worker.

        Dict arguments take the state the call left in them (``config`` carries
        state, as in CS231n). Array arguments are never overwritten: the judge's
        arrays keep their values, so expected values computed from them are
        computed from the judge's own copies; an array the call changed in place is
        recorded in :attr:`changed_inputs` (the grader fails that check).
        """
        header, buffers = call_request(fn, args, kwargs)
        answer, out = self.request(header, buffers, timeout)
        if not answer.get("ok"):
            raise _student_error(answer)
        try:
            used = set()  # one buffer, one array: the decoded values never exceed the answer's bytes
            result = wire.decode(answer["result"], out, used=used)
            for index, value in answer.get("writeback", []):
                index = int(index)
                if not 0 <= index < len(args):
                    raise IndexError("writeback of an argument that was not given")
                if _mirror(args[index], wire.decode(value, out, used=used)):
                    self.changed_inputs.append((fn, index))
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
            self.stop()  # a forged answer: whatever the worker writes next must not answer the next request
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
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
            self.stop()
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
    """The StudentError of an error answer, every field clipped (a worker may send megabytes)."""
    err = error_fields(answer)
    return StudentError(inert.clip(err.get("type", "Error"), inert.NAME_CHARS),
                        inert.clip(err.get("message", ""), 1000), inert.clip(err.get("where", ""), 200))


def _mirror(original, new):
    """Apply a worker-side change of a dict argument to the judge's dict; True if an array was changed.

    Arrays are compared, never written: the judge's inputs stay as the judge made them.
    """
    import numpy as np

    if isinstance(original, np.ndarray):
        return not (isinstance(new, np.ndarray) and new.shape == original.shape and new.dtype == original.dtype
                    and np.array_equal(new, original, equal_nan=True))
    if isinstance(original, dict) and isinstance(new, dict):
        original.clear()
        original.update(new)
    return False


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
