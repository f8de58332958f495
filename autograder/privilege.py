"""What a worker may not do, whoever starts the grader: ids, capabilities, system calls, leftovers.

- :func:`seccomp_program` — a seccomp BPF filter (the raw ``struct sock_filter``
  array that ``bwrap --seccomp FD`` and ``prctl(PR_SET_SECCOMP)`` take) that makes
  the system calls able to undo a sandbox fail with EPERM: mount and umount,
  pivot_root, chroot, unshare, setns, the newer mount API (``open_tree``,
  ``fsopen``..., ``statmount``, ``listmount``, ``open_tree_attr``), clone with namespace flags, ptrace,
  process_vm_*, keyctl, bpf, perf_event_open, userfaultfd, io_uring, module
  and kexec loading, reboot, ... ``clone3`` answers ENOSYS (its flags cannot be
  inspected; the C library falls back to ``clone``). Other architectures' system
  calls (i386 and x32 on x86_64) kill the process. x86_64 and aarch64 only;
  elsewhere no filter is installed and the results say so.
- :class:`WorkerIds` — when the grader runs as root, each worker gets its own
  unprivileged uid/gid from a range (``limits.worker_uid_base``): RLIMIT_NPROC
  then counts that worker's processes alone, one worker cannot signal, trace or
  read another, and everything the uid left behind is found by its owner.
  A lock file per id (``flock``) keeps concurrent graders apart.
- :func:`kill_uid` — kill every process of one uid (from root, through ``/proc`` and pidfds).
- :func:`descendants` / :func:`sweep_tree` — the process-tree sweep used when
  the grader is not root: every process below the worker, and every orphan
  re-parented to the grader (a child subreaper) since the worker started,
  whatever its environment or session.
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import platform
import signal
import stat
import struct
import time

# ------------------------------------------------------------------ seccomp
DENIED = ("mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "ptrace", "process_vm_readv",
          "process_vm_writev", "kcmp", "keyctl", "add_key", "request_key", "bpf", "perf_event_open",
          "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "open_tree", "move_mount",
          "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "name_to_handle_at", "open_by_handle_at",
          "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot", "swapon",
          "swapoff", "syslog", "acct", "quotactl", "sethostname", "setdomainname", "settimeofday",
          "clock_settime", "clock_adjtime", "adjtimex", "vhangup", "statmount", "listmount", "open_tree_attr")
SYSCALLS = {
    "x86_64": dict(
        arch=0xC000003E, x32=True, clone=56, clone3=435,
        mount=165, umount2=166, pivot_root=155, chroot=161, unshare=272, setns=308, ptrace=101,
        process_vm_readv=310, process_vm_writev=311, kcmp=312, keyctl=250, add_key=248, request_key=249,
        bpf=321, perf_event_open=298, userfaultfd=323, io_uring_setup=425, io_uring_enter=426,
        io_uring_register=427, open_tree=428, move_mount=429, fsopen=430, fsconfig=431, fsmount=432,
        fspick=433, mount_setattr=442, name_to_handle_at=303, open_by_handle_at=304, init_module=175,
        finit_module=313, delete_module=176, kexec_load=246, kexec_file_load=320, reboot=169, swapon=167,
        swapoff=168, syslog=103, acct=163, quotactl=179, sethostname=170, setdomainname=171,
        settimeofday=164, clock_settime=227, clock_adjtime=305, adjtimex=159, vhangup=153,
        statmount=457, listmount=458, open_tree_attr=467),
    "aarch64": dict(
        arch=0xC00000B7, x32=False, clone=220, clone3=435,
        mount=40, umount2=39, pivot_root=41, chroot=51, unshare=97, setns=268, ptrace=117,
        process_vm_readv=270, process_vm_writev=271, kcmp=272, keyctl=219, add_key=217, request_key=218,
        bpf=280, perf_event_open=241, userfaultfd=282, io_uring_setup=425, io_uring_enter=426,
        io_uring_register=427, open_tree=428, move_mount=429, fsopen=430, fsconfig=431, fsmount=432,
        fspick=433, mount_setattr=442, name_to_handle_at=264, open_by_handle_at=265, init_module=105,
        finit_module=273, delete_module=106, kexec_load=104, kexec_file_load=294, reboot=142, swapon=224,
        swapoff=225, syslog=116, acct=89, quotactl=60, sethostname=161, setdomainname=162,
        settimeofday=170, clock_settime=112, clock_adjtime=266, adjtimex=171, vhangup=58,
        statmount=457, listmount=458, open_tree_attr=467),
}
CLONE_NAMESPACES = 0x7E020000  # CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
_LD_W_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_ALLOW, _KILL_PROCESS = 0x7FFF0000, 0x80000000
_ERRNO = 0x00050000
EPERM, ENOSYS = 1, 38


def _insn(code, jt, jf, k):
    return struct.pack("=HBBI", code, jt, jf, k)


def seccomp_program(machine=None):
    """The filter as bytes (``struct sock_filter[]``), or None on an architecture without a table."""
    table = SYSCALLS.get(machine or platform.machine())
    if table is None:
        return None
    deny = _ERRNO | EPERM
    prog = [_insn(_LD_W_ABS, 0, 0, 4),                    # A = seccomp_data.arch
            _insn(_JEQ, 1, 0, table["arch"]),
            _insn(_RET, 0, 0, _KILL_PROCESS),             # another ABI (i386 on x86_64): kill
            _insn(_LD_W_ABS, 0, 0, 0)]                    # A = seccomp_data.nr
    if table["x32"]:
        prog += [_insn(_JGE, 0, 1, 0x40000000), _insn(_RET, 0, 0, deny)]
    for name in DENIED:
        prog += [_insn(_JEQ, 0, 1, table[name]), _insn(_RET, 0, 0, deny)]
    prog += [_insn(_JEQ, 0, 1, table["clone3"]), _insn(_RET, 0, 0, _ERRNO | ENOSYS),
             _insn(_JEQ, 0, 3, table["clone"]),
             _insn(_LD_W_ABS, 0, 0, 16),                  # low half of args[0] (flags), little endian
             _insn(_JSET, 0, 1, CLONE_NAMESPACES),
             _insn(_RET, 0, 0, deny),
             _insn(_RET, 0, 0, _ALLOW)]
    return b"".join(prog)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install_seccomp(program):
    """Install ``program`` on the calling process (no_new_privs first). Raises OSError on failure."""
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    buf = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")


def drop_bounding_set():
    """Empty the capability bounding set (root only; later execs can never gain a capability)."""
    libc = ctypes.CDLL(None, use_errno=True)
    PR_CAPBSET_DROP = 24
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == 22:  # EINVAL: past the last
            break


def program_fd(program):
    """A readable file descriptor holding ``program`` (for ``bwrap --seccomp FD``); the caller closes it."""
    fd = os.memfd_create("lec7-seccomp", 0)
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


# ------------------------------------------------------------- worker ids
def is_root():
    return os.geteuid() == 0


class WorkerIds:
    """Unprivileged uids (gid = uid) lent to workers, one at a time each, across processes (flock)."""

    def __init__(self, base=1_900_000_000, count=1024, lock_dir="/run/lec7-worker-ids"):
        self.base, self.count, self.lock_dir = int(base), int(count), lock_dir
        self._held = {}  # uid -> lock fd

    def _dir(self):
        for folder in (self.lock_dir, os.path.join("/tmp", "lec7-worker-ids-root")):
            try:
                os.makedirs(folder, mode=0o700, exist_ok=True)
                info = os.lstat(folder)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode) and info.st_uid == 0 and not info.st_mode & 0o077:
                return folder
        raise OSError("no root-only folder for the worker id locks (/run or /tmp)")

    def acquire(self):
        """A free uid: its lock is held until :meth:`release`; its leftover processes are killed first."""
        folder = self._dir()
        start = (os.getpid() * 7) % self.count  # parallel graders start their search at different ids
        for i in range(self.count):
            uid = self.base + (start + i) % self.count
            fd = os.open(os.path.join(folder, str(uid)), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self._held[uid] = fd
            kill_uid(uid)
            return uid
        raise OSError(f"all {self.count} worker ids from {self.base} are in use")

    def release(self, uid):
        kill_uid(uid)
        fd = self._held.pop(uid, None)
        if fd is not None:
            os.close(fd)


def processes_of(uid):
    """PIDs whose real uid is ``uid``."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    pids.append(int(entry))
            except OSError:
                continue
    return pids


def kill_uid(uid, rounds=200):
    """SIGKILL every process of ``uid`` from here (root), never waiting on anything that uid runs.

    Each round lists the processes whose ``/proc`` entry belongs to ``uid`` and sends each one
    SIGKILL through a pidfd (a pid reused in between is never hit); a stopped process dies too.
    Rounds repeat until none is left: a fork loop is outrun (RLIMIT_NPROC bounds it, and a process
    with a pending SIGKILL cannot fork). Nothing here forks or blocks, so a worker that stops
    every process it may signal (``kill(-1, SIGSTOP)``) cannot stall the grader.
    """
    if not is_root():
        return
    for i in range(rounds):
        pids = [pid for pid in processes_of(uid) if _state(pid) not in ("Z", "X", None)]  # zombies: dead
        if not pids:
            return
        for pid in pids:
            _kill_if_owned(pid, uid)
        if i:
            time.sleep(0.005)


def _state(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0].decode()
    except (OSError, IndexError):
        return None


def _kill_if_owned(pid, uid):
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError) as err:  # no pidfds (Linux < 5.3): the pid, checked just before
        if getattr(err, "errno", errno.ENOSYS) == errno.ENOSYS:
            try:
                if os.stat(f"/proc/{pid}").st_uid == uid:
                    os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        return
    try:
        if os.stat(f"/proc/{pid}").st_uid == uid:  # the pidfd's process, checked after it was opened
            signal.pidfd_send_signal(fd, signal.SIGKILL)
    except OSError:
        pass
    finally:
        os.close(fd)


def chown_tree(path, uid):
    """Give ``path`` and everything below it to ``uid`` (never following links)."""
    for dirpath, dirnames, filenames in os.walk(path):
        os.chown(dirpath, uid, uid, follow_symlinks=False)
        for name in filenames + dirnames:
            os.chown(os.path.join(dirpath, name), uid, uid, follow_symlinks=False)


def remove_files_of(uid, folders=("/tmp", "/var/tmp", "/dev/shm")):
    """Delete what ``uid`` left at the top of the world-writable folders (subprocess mode as root)."""
    import shutil

    removed = []
    for folder in folders:
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        for entry in entries:
            path = os.path.join(folder, entry)
            try:
                if os.lstat(path).st_uid != uid:
                    continue
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.unlink(path)
                removed.append(path)
            except OSError:
                continue
    return removed


# ------------------------------------------------------------ tree sweep
def _stat_fields(pid):
    with open(f"/proc/{pid}/stat", "rb") as fh:
        data = fh.read()
    rest = data[data.rindex(b")") + 2:].split()
    return int(rest[1]), int(rest[19])  # ppid, starttime (clock ticks since boot)


def process_table():
    """{pid: (ppid, starttime)} of every process we can see."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                table[int(entry)] = _stat_fields(entry)
            except (OSError, ValueError, IndexError):
                continue
    return table


def start_time(pid):
    try:
        return _stat_fields(pid)[1]
    except (OSError, ValueError, IndexError):
        return None


def descendants(root_pid, since, table=None):
    """Processes below ``root_pid``, plus orphans re-parented to us that started at or after ``since``."""
    table = process_table() if table is None else table
    me = os.getpid()
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = set(), [root_pid]
    todo += [pid for pid in children.get(me, []) if since is not None and table[pid][1] >= since
             and pid != root_pid]
    while todo:
        pid = todo.pop()
        for child in children.get(pid, []):
            if child not in found:
                found.add(child)
                todo.append(child)
        if pid != root_pid:
            found.add(pid)
    found.discard(me)
    return found


def sweep_tree(root_pid, since, keep=(), rounds=50):
    """SIGKILL :func:`descendants` until none is left (a fork loop is outrun by repetition)."""
    for _ in range(rounds):
        pids = descendants(root_pid, since) - set(keep)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        while True:  # reap the orphans that are our children now
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        time.sleep(0.01)
