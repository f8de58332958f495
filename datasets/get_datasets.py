"""Download CIFAR-10 (python version) into this folder, once.

Usage::

    python datasets/get_datasets.py            # fetch + verify + extract, or do nothing if present
    python datasets/get_datasets.py --force    # download and extract again
    python datasets/get_datasets.py --dest DIR # put cifar-10-batches-py under DIR instead

What it does, in order:
1. If ``DEST/cifar-10-batches-py`` already holds every batch file, it says so
   and stops (unless ``--force``).
2. ``fetch``: downloads the tarball to ``DEST/cifar-10-python.tar.gz`` unless a
   cached copy with the right MD5 is already there; the download goes to a
   ``.part`` file that is renamed only once its MD5 checks out.
3. ``extract``: unpacks it safely (every member must be a plain file or folder
   inside DEST: no absolute paths, no ``..``, no links or devices; tarfile's
   ``filter='data'`` on top where Python has it) into a temporary folder, then
   moves ``cifar-10-batches-py`` into place, so an interrupted run never leaves
   a half-extracted dataset that looks complete.

Every failure (no network, bad checksum, unsafe archive) prints one sentence
to stderr and exits with status 1. The functions take a URL, paths and an MD5
so the tests can run them offline on a small fake tarball.
"""
import argparse
import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
TARBALL_NAME = "cifar-10-python.tar.gz"
DIRNAME = "cifar-10-batches-py"
BATCH_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
DEFAULT_DEST = Path(__file__).resolve().parent
TIMEOUT_SECONDS = 60


class DatasetError(RuntimeError):
    """A download or extraction problem; ``str(error)`` is one sentence for the user."""


class DownloadError(DatasetError):
    """The URL could not be read (no network, server down, bad URL)."""


class ChecksumError(DatasetError):
    """A file's MD5 differs from the expected one."""


class UnsafeArchiveError(DatasetError):
    """The tarball holds a member that would land outside the destination or is not a plain file."""


def md5sum(path, chunk_size=1 << 20):
    """The MD5 hex digest of the file at ``path`` (str)."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def missing_files(batches_dir):
    """Names in BATCH_FILES that are not files in ``batches_dir`` (list of str; empty = complete)."""
    batches_dir = Path(batches_dir)
    return [name for name in BATCH_FILES if not (batches_dir / name).is_file()]


def fetch(url, dest, md5, force=False, quiet=False):
    """Download ``url`` to the file ``dest`` and check its MD5, reusing a good cached copy.

    Inputs:
    - url: Any URL urllib can open (https://..., file:///...).
    - dest: Path of the file to write.
    - md5: Expected MD5 hex digest.
    - force: Download even if ``dest`` exists with the right MD5.
    - quiet: Print nothing.

    Returns a tuple (path, downloaded): the Path of the verified file and
    whether this call downloaded it (False when the cache was used).

    Raises DownloadError if the URL cannot be read and ChecksumError if the
    downloaded bytes have the wrong MD5 (the bad download is deleted).
    """
    dest = Path(dest)
    say = (lambda *a: None) if quiet else print
    if dest.is_file() and not force:
        if md5sum(dest) == md5:
            say(f"Using the cached {dest} (checksum OK).")
            return dest, False
        say(f"The cached {dest} has the wrong checksum; downloading it again.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    say(f"Downloading {url} ...")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response, open(part, "wb") as out:
            shutil.copyfileobj(response, out, length=1 << 20)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        part.unlink(missing_ok=True)
        reason = getattr(exc, "reason", None) or exc
        raise DownloadError(f"Could not download {url} ({reason}); check your network connection "
                            f"or download the file by hand to {dest}.") from None
    got = md5sum(part)
    if got != md5:
        part.unlink(missing_ok=True)
        raise ChecksumError(f"The file downloaded from {url} has MD5 {got}, not the expected {md5}, "
                            f"so it was deleted; try again, or check that the URL is right.")
    os.replace(part, dest)
    say(f"Saved {dest} (checksum OK).")
    return dest, True


def _check_member(member, dest):
    """Raise UnsafeArchiveError unless ``member`` is a plain file/folder that stays inside ``dest``."""
    name = member.name
    target = (dest / name).resolve()
    if (os.path.isabs(name) or ".." in Path(name).parts
            or (target != dest and dest not in target.parents)):
        raise UnsafeArchiveError(f"Refusing to extract the archive: member {name!r} would be written "
                                 f"outside {dest}.")
    if not (member.isfile() or member.isdir()):
        raise UnsafeArchiveError(f"Refusing to extract the archive: member {name!r} is a link or special "
                                 f"file, which a dataset tarball should not contain.")


def extract(tarball, dest_dir, dirname=DIRNAME, quiet=False):
    """Safely extract ``dirname`` from ``tarball`` into ``dest_dir``.

    Inputs:
    - tarball: Path of a .tar.gz whose members live under ``dirname/``.
    - dest_dir: Folder that will hold ``dirname`` (created if needed); an
      existing ``dest_dir/dirname`` is replaced.
    - dirname: Name of the folder inside the archive (default cifar-10-batches-py).
    - quiet: Print nothing.

    Returns the Path ``dest_dir/dirname``.

    Raises UnsafeArchiveError for path traversal, links or special files (before
    anything is written), DatasetError if the archive is unreadable or lacks
    ``dirname`` or any batch file.
    """
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / dirname
    with tempfile.TemporaryDirectory(dir=dest_dir, prefix=".extract-") as tmp:
        tmp = Path(tmp).resolve()
        try:
            with tarfile.open(tarball, "r:*") as tar:
                members = tar.getmembers()
                for member in members:
                    _check_member(member, tmp)
                if hasattr(tarfile, "data_filter"):
                    tar.extractall(tmp, members=members, filter="data")
                else:  # pragma: no cover - Python without PEP 706; members were checked above
                    tar.extractall(tmp, members=members)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise DatasetError(f"Could not read the archive {tarball} ({exc}); delete it and run this "
                               f"script again.") from None
        extracted = tmp / dirname
        missing = missing_files(extracted)
        if missing:
            raise DatasetError(f"The archive {tarball} has no {dirname}/{missing[0]}; delete it and run this "
                               f"script again.")
        if final.exists():
            shutil.rmtree(final)
        os.replace(extracted, final)
    if not quiet:
        print(f"Extracted {dirname} into {dest_dir}.")
    return final


def get_cifar10(dest=DEFAULT_DEST, force=False, url=CIFAR10_URL, md5=CIFAR10_MD5, quiet=False):
    """Make sure ``dest/cifar-10-batches-py`` is complete: fetch and extract only if needed.

    Inputs:
    - dest: Folder for the tarball and the extracted batches.
    - force: Download and extract again even if everything is present.
    - url, md5: Where to download from and the expected MD5.
    - quiet: Print nothing.

    Returns the Path of the batches folder.
    """
    dest = Path(dest)
    batches = dest / DIRNAME
    if not force and batches.is_dir() and not missing_files(batches):
        if not quiet:
            print(f"CIFAR-10 is already in {batches}; nothing to do (use --force to fetch it again).")
        return batches
    tarball, _ = fetch(url, dest / TARBALL_NAME, md5, force=force, quiet=quiet)
    return extract(tarball, dest, quiet=quiet)


def main(argv=None):
    """Command-line entry point; returns the exit status (0 = the dataset is in place)."""
    parser = argparse.ArgumentParser(description="Download CIFAR-10 (python version), verify its MD5, "
                                                 "and extract it; does nothing if it is already there.")
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST,
                        help="folder that will hold cifar-10-batches-py and the cached tarball "
                             "(default: this script's folder)")
    parser.add_argument("--force", action="store_true", help="download and extract again")
    parser.add_argument("--url", default=CIFAR10_URL, help="download from a mirror (same file, same MD5)")
    args = parser.parse_args(argv)
    try:
        get_cifar10(args.dest, force=args.force, url=args.url)
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
