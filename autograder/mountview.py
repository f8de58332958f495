"""A private mount view in which an unprivileged worker can reach a Python kept in a root-only folder.

As root without bubblewrap the worker runs as an unprivileged uid of its own
(see ``sandbox.py``). A Python installed under ``/root`` (pyenv; mode 0700) is
then out of its reach. Rather than run the worker as root, the worker's own
process (after ``fork``, before it drops to its uid) gets a private mount
namespace in which each root-only folder on the way to the Python is covered by
a small tmpfs (mode 0711) holding only the entries that lead to the Python,
bound back from the original. Nothing else in those folders becomes visible,
and nothing changes for the rest of the machine (the judge included).

Where mount namespaces are refused (e.g. Docker's default seccomp profile),
:func:`available` is False and the grader refuses with one sentence instead.
"""
from __future__ import annotations

import ctypes
import os
import subprocess
import sys

CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18
MNT_DETACH = 2


def root_only_steps(paths):
    """{folder: [entries]}: folders on the way to ``paths`` that other users cannot enter,
    each with the entries in it that lead to one of the paths (outermost folder first)."""
    steps = {}
    for path in paths:
        parts = os.path.abspath(path).split(os.sep)
        for i in range(2, len(parts)):
            folder = os.sep.join(parts[:i])
            try:
                blocked = not os.stat(folder).st_mode & 0o001
            except OSError:
                break
            if blocked:
                entries = steps.setdefault(folder, [])
                if parts[i] not in entries:
                    entries.append(parts[i])
    return dict(sorted(steps.items(), key=lambda item: (item[0].count(os.sep), item[0])))


def _mount(libc, src, dst, fstype, flags, data):
    if libc.mount(src, dst, fstype, flags, data) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {dst}: {os.strerror(err)}")


def open_view(steps, keep_root):
    """In the calling process (root): a private mount namespace where ``steps`` are traversable.

    ``keep_root``: an empty root-owned folder outside ``steps`` for the temporary binds.
    Runs in the worker's child between fork and exec; raises OSError when refused.
    """
    if any(os.path.join(keep_root, "").startswith(os.path.join(folder, "")) for folder in steps):
        raise OSError(f"{keep_root} lies in a folder the view covers")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"unshare(CLONE_NEWNS): {os.strerror(err)}")
    _mount(libc, None, b"/", None, MS_REC | MS_PRIVATE, None)
    n = 0
    for folder, entries in steps.items():
        kept = []
        for entry in entries:
            src = os.path.join(folder, entry)
            keep = os.path.join(keep_root, str(n))
            n += 1
            is_dir = os.path.isdir(src)
            os.makedirs(keep, exist_ok=True) if is_dir else open(keep, "a").close()  # kept across restarts
            _mount(libc, src.encode(), keep.encode(), None, MS_BIND | MS_REC, None)
            kept.append((entry, keep, is_dir))
        _mount(libc, b"tmpfs", folder.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, b"mode=0711,size=65536")
        for entry, keep, is_dir in kept:
            dst = os.path.join(folder, entry)
            os.mkdir(dst) if is_dir else open(dst, "w").close()
            _mount(libc, keep.encode(), dst.encode(), None, MS_BIND | MS_REC, None)
            libc.umount2(keep.encode(), MNT_DETACH)


_AVAILABLE = None


def available() -> bool:
    """True when this (root) process may give a child a private mount namespace."""
    global _AVAILABLE
    if _AVAILABLE is None:
        probe = "import ctypes, sys; sys.exit(ctypes.CDLL(None).unshare(0x00020000) != 0)"
        try:
            _AVAILABLE = os.geteuid() == 0 and subprocess.run(
                [sys.executable, "-S", "-c", probe], capture_output=True, timeout=20).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            _AVAILABLE = False
    return _AVAILABLE
