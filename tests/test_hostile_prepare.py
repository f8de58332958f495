"""Copying a submission into its work folder: nobody else reads it meanwhile; a link is never graded.

- As root without bubblewrap several workers (each its own uid) run side by side and see the
  host's ``/tmp``: the work folder of the next submission must be closed to them from its first
  byte, not only once it is handed to its own worker.
- A submission path that is itself a symbolic link (``subs/eve -> the instructor's checkout``)
  is refused in one sentence, like a link anywhere inside the submission.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import zipfile

import pytest

from autograder import grade
from autograder.grade import SubmissionError, exercise_modules, load_config, prepare
from autograder.plant import copy_solution

from privileged import is_root, traversable_tmpdir

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = exercise_modules(load_config())


def readable_by_another_uid(folder, uid=1_900_000_999):
    """Files below ``folder`` that ``uid`` (not the owner, not root) can read: a forked spy looks."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.close(read)
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            found = []
            # what it can list, and the names it can guess (a folder of mode 0711 is not listed)
            guesses = [os.path.join(dirpath, name) for dirpath, _, filenames in os.walk(folder) for name in filenames]
            guesses += [os.path.join(folder, top, "cs231n_lec7", name) for top in ("sub", "_unpacked")
                        for name in os.listdir(os.path.join(ROOT, "cs231n_lec7"))]
            for path in sorted(set(guesses)):
                try:
                    with open(path, "rb") as fh:
                        fh.read(1)
                    found.append(os.path.relpath(path, folder))
                except OSError:
                    pass
            os.write(write, "\n".join(found).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        data = fh.read().decode()
    os.waitpid(pid, 0)
    return [line for line in data.splitlines() if line]


@pytest.fixture
def spied(monkeypatch, tmp_path, request):
    """Grade one submission with a spy of another uid looking into the work folder after every file
    copied and when the worker is about to start; returns what the spy could read, each time."""
    if not is_root():
        pytest.skip("needs root (another uid spies)")
    top = traversable_tmpdir()  # every folder above it can be entered by anyone, as /tmp
    request.addfinalizer(lambda: shutil.rmtree(top, ignore_errors=True))
    scratch = os.path.join(top, "tmp")
    os.mkdir(scratch)
    os.chmod(scratch, 0o1777)  # like /tmp: anyone lists it and may guess the names inside
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    sightings = []

    def spy():
        for entry in os.listdir(scratch):
            if entry.startswith("lec7-grade-"):
                sightings.append(readable_by_another_uid(os.path.join(scratch, entry)))

    real_copy = grade._copy_regular

    def copy_and_spy(src, dst, root):
        size = real_copy(src, dst, root)
        spy()
        return size

    class Stop(Exception):
        pass

    def start_and_spy(self):
        spy()
        raise Stop()

    monkeypatch.setattr(grade, "_copy_regular", copy_and_spy)
    monkeypatch.setattr(grade.Sandbox, "start", start_and_spy)
    sub = copy_solution(str(tmp_path / "victim"))

    def run(mode):
        with pytest.raises(Stop):
            grade.grade_one(sub, str(tmp_path / "out"), mode=mode)
        return sightings

    return run


@pytest.mark.parametrize("mode", ["subprocess", "bwrap"])
def test_no_other_uid_reads_a_submission_while_it_is_copied(spied, mode):
    sightings = spied(mode)
    assert len(sightings) > 10  # the spy looked after every file and before the worker started
    assert not any(sightings), [s for s in sightings if s][:1]


def test_the_spy_sees_a_folder_left_open(monkeypatch, spied):
    """Planted: the modes the work folder once had (0711 from the start, folders inside 0755)."""
    real_mkdir, real_mkdtemp = os.mkdir, tempfile.mkdtemp

    def open_mkdtemp(*args, **kwargs):
        path = real_mkdtemp(*args, **kwargs)
        os.chmod(path, 0o711)
        return path

    monkeypatch.setattr(grade.tempfile, "mkdtemp", open_mkdtemp)
    monkeypatch.setattr(grade.os, "mkdir", lambda path, mode=0o777: real_mkdir(path, 0o755))
    sightings = spied("subprocess")
    assert any("sub/cs231n_lec7/optim.py" in s for s in sightings), sightings[:3]


# ------------------------------------------------------------------ links
def _link(tmp_path, target, name="eve"):
    subs = tmp_path / "subs"
    subs.mkdir(exist_ok=True)
    os.symlink(target, subs / name)
    return str(subs / name)


@pytest.mark.parametrize("spelling", ["", "/", "/."])
def test_a_submission_path_that_is_a_link_to_the_solution_is_refused(tmp_path, spelling):
    path = _link(tmp_path, ROOT) + spelling
    os.makedirs(tmp_path / "work")
    with pytest.raises(SubmissionError, match="is a symbolic link") as err:
        prepare(path, str(tmp_path / "work"), 50, MODULES)
    assert "\n" not in str(err.value) and len(str(err.value)) < 200


def test_a_zip_path_that_is_a_link_is_refused(tmp_path):
    archive = tmp_path / "real.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in sorted(os.listdir(os.path.join(ROOT, "cs231n_lec7"))):
            if name.endswith(".py"):
                zf.write(os.path.join(ROOT, "cs231n_lec7", name), "cs231n_lec7/" + name)
    path = _link(tmp_path, archive, "eve.zip")
    os.makedirs(tmp_path / "work")
    with pytest.raises(SubmissionError, match="is a symbolic link"):
        prepare(path, str(tmp_path / "work"), 50, MODULES)
    os.makedirs(tmp_path / "work2")  # the archive itself is accepted: the refusal is about the link
    assert os.path.isdir(os.path.join(prepare(str(archive), str(tmp_path / "work2"), 50, MODULES), "cs231n_lec7"))


def test_the_same_folder_given_directly_is_graded(tmp_path):
    """Control: the refusal above is the link's, not the folder's."""
    sub = copy_solution(str(tmp_path / "alice"))
    os.makedirs(tmp_path / "work")
    out = prepare(sub, str(tmp_path / "work"), 50, MODULES)
    assert os.path.isfile(os.path.join(out, "cs231n_lec7", "optim.py"))


def test_a_package_reached_through_a_link_at_any_depth_is_refused(tmp_path):
    sub = copy_solution(str(tmp_path / "mallory"))
    nested = os.path.join(sub, "cs231n_lec7", "deep", "deeper")
    os.makedirs(nested)
    os.symlink(os.path.join(ROOT, "cs231n_lec7"), os.path.join(nested, "stolen"))
    os.makedirs(tmp_path / "work")
    with pytest.raises(SubmissionError, match="is a symbolic link"):
        prepare(sub, str(tmp_path / "work"), 50, MODULES)
    shutil.rmtree(tmp_path / "work")


def test_sockets_pipes_and_devices_in_a_package_are_skipped_unopened(tmp_path):
    import socket
    import stat

    sub = copy_solution(str(tmp_path / "odd"))
    package = os.path.join(sub, "cs231n_lec7")
    server = socket.socket(socket.AF_UNIX)
    server.bind(os.path.join(package, "notes.sock"))  # opening it as a file fails (ENXIO)
    os.mkfifo(os.path.join(package, "pipe.py"))        # reading it would wait for a writer
    special = ["notes.sock", "pipe.py"]
    if is_root():
        os.mknod(os.path.join(package, "tty.py"), 0o666 | stat.S_IFCHR, os.makedev(5, 0))  # /dev/tty
        special.append("tty.py")
    os.makedirs(tmp_path / "work")
    try:
        out = prepare(sub, str(tmp_path / "work"), 50, MODULES)
    finally:
        server.close()
    copied = os.listdir(os.path.join(out, "cs231n_lec7"))
    assert "optim.py" in copied and not set(special) & set(copied), copied
