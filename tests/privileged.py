"""Helpers for tests that run the grader as root and as an unprivileged user.

As root the worker runs as an unprivileged uid, which must be able to reach the
Python that runs it. On a machine whose Python lives in a root-only folder (e.g.
pyenv under ``/root``, mode 0700) :func:`open_root_folders` gives this test
process (and only it: a private mount namespace) the view of a machine where
that folder is traversable: a tmpfs with mode 0755 over the folder, every entry
of the original bound back in place. Nothing on the machine changes.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
import tempfile

CLONE_NEWNS = 0x00020000
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
_done = False


def is_root():
    return os.geteuid() == 0


def blocked_folders(path):
    """Ancestors of ``path`` that other users cannot enter."""
    out, folder = [], os.path.dirname(os.path.realpath(path))
    while folder not in ("/", ""):
        if not os.stat(folder).st_mode & 0o001:
            out.append(folder)
        folder = os.path.dirname(folder)
    return out[::-1]


def _mount(libc, src, dst, fstype, flags, data):
    if libc.mount(src, dst, fstype, flags, data) != 0:
        raise OSError(ctypes.get_errno(), f"mount {src} on {dst}")


def open_root_folders():
    """Make the folders holding this Python traversable for this process and its children (root only)."""
    global _done
    if _done or not is_root():
        return _done
    blocked = blocked_folders(sys.executable) + blocked_folders(os.path.realpath(sys.executable))
    if not blocked:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
    _mount(libc, None, b"/", None, MS_REC | MS_PRIVATE, None)
    for folder in sorted(set(blocked), key=len):
        keep = os.path.join(tempfile.gettempdir(), "lec7-keep" + folder.replace(os.sep, "-"))  # one per folder
        os.makedirs(keep, mode=0o700, exist_ok=True)
        _mount(libc, folder.encode(), keep.encode(), None, MS_BIND | MS_REC, None)
        mode = oct(os.stat(keep).st_mode & 0o777 | 0o711)[2:]
        _mount(libc, b"tmpfs", folder.encode(), b"tmpfs", 0, f"mode={mode}".encode())
        for entry in os.listdir(keep):
            src, dst = os.path.join(keep, entry), os.path.join(folder, entry)
            if os.path.isdir(src) and not os.path.islink(src):
                os.mkdir(dst)
            elif os.path.islink(src):
                os.symlink(os.readlink(src), dst)
                continue
            else:
                open(dst, "w").close()
            _mount(libc, src.encode(), dst.encode(), None, MS_BIND | MS_REC, None)
    _done = True
    return True


def unprivileged_prefix():
    """A command prefix running as an unprivileged user (nobody), or None where that is impossible."""
    if not is_root() or not shutil.which("setpriv"):
        return None
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]


def traversable_tmpdir(prefix="lec7-test-"):
    """A fresh folder under /tmp that any uid may enter (mode 0711)."""
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o711)
    return path


def run(cmd, **kwargs):
    return subprocess.run(cmd, capture_output=True, text=True, **kwargs)
