"""Datasets: the digits split, the sample photos, the CIFAR-10 loader and datasets/get_datasets.py (all offline)."""
import hashlib
import importlib.util
import io
import os
import pickle
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from cs231n_lec7 import data

REPO = Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------------------- digits
def test_digits_default_split_shapes_and_dtypes():
    """1197/300/300 split of all 1797 images, float32 X with 64 features, int64 y, class names 0..9."""
    d = data.get_digits_data()
    assert d["X_train"].shape == (1197, 64) and d["X_val"].shape == (300, 64) and d["X_test"].shape == (300, 64)
    assert [len(d[k]) for k in ("y_train", "y_val", "y_test")] == [1197, 300, 300]
    assert all(d[k].dtype == np.float32 for k in ("X_train", "X_val", "X_test", "mean_image"))
    assert all(d[k].dtype == np.int64 for k in ("y_train", "y_val", "y_test"))
    assert d["class_names"] == [str(k) for k in range(10)]
    assert d["mean_image"].shape == (64,)
    assert data.get_digits_data(dtype=np.float64)["X_train"].dtype == np.float64


def test_digits_splits_partition_the_whole_dataset():
    """Adding back the mean and undoing the /16 scaling recovers exactly the rows of load_digits, once each."""
    from sklearn.datasets import load_digits

    d = data.get_digits_data(dtype=np.float64)
    rows = np.concatenate([d[k] + d["mean_image"] for k in ("X_train", "X_val", "X_test")]) * 16
    labels = np.concatenate([d[k] for k in ("y_train", "y_val", "y_test")])
    raw = load_digits()
    ours = np.column_stack([np.round(rows), labels])
    theirs = np.column_stack([raw.data, raw.target])
    np.testing.assert_allclose(rows, np.round(rows), atol=1e-9)
    np.testing.assert_array_equal(ours[np.lexsort(ours.T)], theirs[np.lexsort(theirs.T)])


def test_digits_split_is_stratified():
    """Every split holds each class within one image of its share of the whole set."""
    from sklearn.datasets import load_digits

    share = np.bincount(load_digits().target) / 1797
    d = data.get_digits_data(num_train=500)
    for key, n in (("y_train", 500), ("y_val", 300), ("y_test", 300)):
        assert np.all(np.abs(np.bincount(d[key], minlength=10) - n * share) <= 1.0), key


def test_digits_split_is_reproducible_by_seed():
    """Same seed, same split; another seed, another split."""
    a, b, c = data.get_digits_data(seed=3), data.get_digits_data(seed=3), data.get_digits_data(seed=4)
    for key in ("X_train", "y_train", "X_val", "X_test"):
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["y_train"], c["y_train"])


def test_digits_mean_subtraction_uses_the_train_mean_only():
    """X_train has mean ~0; val/test are shifted by the same train mean (so their means are not exactly 0)."""
    d = data.get_digits_data(dtype=np.float64)
    raw = data.get_digits_data(dtype=np.float64, subtract_mean=False)
    assert np.abs(d["X_train"].mean(axis=0)).max() < 1e-12
    np.testing.assert_allclose(d["mean_image"], raw["X_train"].mean(axis=0))
    np.testing.assert_allclose(d["X_val"], raw["X_val"] - raw["X_train"].mean(axis=0))
    assert np.abs(d["X_val"].mean(axis=0)).max() > 1e-3  # a planted "each split's own mean" would give 0
    assert raw["X_train"].min() >= 0 and raw["X_train"].max() <= 1 and raw["X_train"].max() == 1
    assert np.all(raw["mean_image"] == 0)


def test_digits_unflattened_images():
    """flatten=False gives (N, 1, 8, 8) images and a (1, 8, 8) mean image."""
    d = data.get_digits_data(flatten=False)
    assert d["X_train"].shape == (1197, 1, 8, 8) and d["mean_image"].shape == (1, 8, 8)
    flat = data.get_digits_data()
    np.testing.assert_array_equal(d["X_train"].reshape(1197, 64), flat["X_train"])


def test_digits_rejects_impossible_sizes():
    """Sizes that do not fit in 1797 images get a message naming the argument."""
    with pytest.raises(ValueError, match="num_val"):
        data.get_digits_data(num_val=1000, num_test=1000)
    with pytest.raises(ValueError, match="num_train"):
        data.get_digits_data(num_train=5000)


# ----------------------------------------------------------------------------- photos
def test_sample_photos_are_uint8_rgb():
    """Two HxWx3 uint8 photos; size resizes (int = square, pair = (height, width)); copies are fresh."""
    photos = data.load_sample_photos()
    assert len(photos) == len(data.SAMPLE_PHOTO_NAMES) == 2
    for p in photos:
        assert p.dtype == np.uint8 and p.shape == (427, 640, 3)
        assert p.std() > 10  # real pictures, not blank arrays
    assert [p.shape for p in data.load_sample_photos(32)] == [(32, 32, 3)] * 2
    small = data.load_sample_photos((24, 40))
    assert [p.shape for p in small] == [(24, 40, 3)] * 2 and small[0].dtype == np.uint8
    photos[0][:] = 0
    assert data.load_sample_photos()[0].max() > 0


# ----------------------------------------------------------------------------- CIFAR-10 loader
def write_fake_cifar(folder, n_per_batch=20, seed=0):
    """Write data_batch_1..5 and test_batch in CIFAR-10's pickle format; return the raw (data, labels) per file."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    written = {}
    for name in data.CIFAR10_BATCH_FILES:
        raw = rng.integers(0, 256, size=(n_per_batch, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, size=n_per_batch)]
        batch = {b"batch_label": name.encode(), b"labels": labels, b"data": raw,
                 b"filenames": [f"img{i}.png".encode() for i in range(n_per_batch)]}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)
        written[name] = (raw, np.array(labels))
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": [c.encode() for c in data.CIFAR10_CLASSES]}, f, protocol=2)
    return written


@pytest.fixture
def fake_cifar(tmp_path):
    root = tmp_path / "datasets"
    return root, write_fake_cifar(root / "cifar-10-batches-py")


def test_load_cifar_batch_pixel_layout(fake_cifar):
    """Row = 1024 red, 1024 green, 1024 blue values, row-major: X[n, i, j, c] = data[n, c*1024 + 32*i + j]."""
    root, written = fake_cifar
    X, y = data.load_cifar_batch(root / "cifar-10-batches-py" / "data_batch_2")
    raw, labels = written["data_batch_2"]
    assert X.shape == (20, 32, 32, 3) and X.dtype == np.uint8 and y.dtype == np.int64
    np.testing.assert_array_equal(y, labels)
    n, i, j, c = 3, 5, 17, 2
    assert X[n, i, j, c] == raw[n, c * 1024 + 32 * i + j]
    np.testing.assert_array_equal(X[:, :, :, 0].reshape(20, 1024), raw[:, :1024])


def test_load_cifar10_splits_shapes_and_mean(fake_cifar):
    """CS231n's split: val follows the first num_training images; test from test_batch; train mean ~0."""
    root, written = fake_cifar
    d = data.load_cifar10(root, num_training=80, num_validation=20, num_test=10)
    assert d["X_train"].shape == (80, 3, 32, 32) and d["X_val"].shape == (20, 3, 32, 32)
    assert d["X_test"].shape == (10, 3, 32, 32) and d["mean_image"].shape == (3, 32, 32)
    assert d["X_train"].dtype == np.float32 and d["y_train"].dtype == np.int64
    all_labels = np.concatenate([written[f"data_batch_{i}"][1] for i in range(1, 6)])
    np.testing.assert_array_equal(d["y_train"], all_labels[:80])
    np.testing.assert_array_equal(d["y_val"], all_labels[80:100])
    np.testing.assert_array_equal(d["y_test"], written["test_batch"][1][:10])
    assert np.abs(d["X_train"].mean(axis=0)).max() < 1e-3
    raw_first = written["data_batch_1"][0][0].reshape(3, 32, 32).astype(np.float32)
    np.testing.assert_allclose(d["X_train"][0] + d["mean_image"], raw_first, atol=1e-3)  # 0..255, unscaled
    assert d["class_names"] == data.CIFAR10_CLASSES


def test_load_cifar10_channels_last_and_no_mean(fake_cifar):
    """channels_first=False keeps (N, 32, 32, 3); subtract_mean=False keeps raw pixel values."""
    root, written = fake_cifar
    d = data.load_cifar10(root, num_training=50, num_validation=10, num_test=5, channels_first=False,
                          subtract_mean=False, dtype=np.float64)
    assert d["X_train"].shape == (50, 32, 32, 3) and d["X_train"].dtype == np.float64
    X0, _ = data.load_cifar_batch(root / "cifar-10-batches-py" / "data_batch_1")
    np.testing.assert_array_equal(d["X_train"][:20], X0)
    assert np.all(d["mean_image"] == 0)


def test_load_cifar10_finds_the_folder_from_root_env_or_itself(fake_cifar, monkeypatch):
    """root may be the parent folder or cifar-10-batches-py itself; CS231N_LEC7_DATA sets the default."""
    root, _ = fake_cifar
    kwargs = dict(num_training=10, num_validation=10, num_test=10)
    a = data.load_cifar10(root / "cifar-10-batches-py", **kwargs)
    monkeypatch.setenv(data.DATA_ENV, str(root))
    b = data.load_cifar10(**kwargs)
    np.testing.assert_array_equal(a["X_train"], b["X_train"])
    assert data.default_cifar10_dir() == root


def _assert_one_sentence(message):
    assert "\n" not in message and "Traceback" not in message
    assert message.endswith(".") and ". " not in message, message


def test_missing_cifar_raises_one_clear_sentence(tmp_path, monkeypatch):
    """No dataset: DatasetMissingError (a FileNotFoundError) saying to run datasets/get_datasets.py."""
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(data.DatasetMissingError) as info:
        data.load_cifar10()
    assert isinstance(info.value, FileNotFoundError)
    message = str(info.value)
    assert "python datasets/get_datasets.py" in message and "cifar-10-batches-py" in message
    _assert_one_sentence(message)
    assert info.value.__cause__ is None


def test_incomplete_cifar_names_the_missing_file(fake_cifar):
    """With data_batch_3 deleted, the message names data_batch_3 and the script to run."""
    root, _ = fake_cifar
    (root / "cifar-10-batches-py" / "data_batch_3").unlink()
    with pytest.raises(data.DatasetMissingError, match="data_batch_3") as info:
        data.load_cifar10(root)
    assert "python datasets/get_datasets.py" in str(info.value)
    _assert_one_sentence(str(info.value))


def test_cifar_loader_rejects_bad_files_and_sizes(fake_cifar):
    """A non-CIFAR pickle or too many requested images give a ValueError saying so."""
    root, _ = fake_cifar
    with pytest.raises(ValueError, match="asked for"):
        data.load_cifar10(root, num_training=100, num_validation=1)
    with open(root / "cifar-10-batches-py" / "test_batch", "wb") as f:
        pickle.dump({b"data": np.zeros((3, 100), np.uint8), b"labels": [0, 1, 2]}, f)
    with pytest.raises(ValueError, match="not a CIFAR-10 python batch"):
        data.load_cifar10(root, num_training=10, num_validation=10, num_test=3)


# ----------------------------------------------------------------------------- datasets/get_datasets.py
@pytest.fixture(scope="module")
def gd():
    spec = importlib.util.spec_from_file_location("get_datasets", REPO / "datasets" / "get_datasets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_fake_tarball(path, extra_members=()):
    """A tiny cifar-10-python.tar.gz in CIFAR's layout; returns (path, md5)."""
    src = path.parent / "src"
    write_fake_cifar(src / "cifar-10-batches-py", n_per_batch=4)
    with tarfile.open(path, "w:gz") as tar:
        tar.add(src / "cifar-10-batches-py", arcname="cifar-10-batches-py")
        for info, payload in extra_members:
            tar.addfile(info, io.BytesIO(payload) if payload is not None else None)
    return path, hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def tarball(tmp_path):
    (tmp_path / "server").mkdir()
    return make_fake_tarball(tmp_path / "server" / "cifar-10-python.tar.gz")


@pytest.fixture
def count_downloads(gd, monkeypatch):
    calls = []
    real = gd.urllib.request.urlopen

    def counting(url, *args, **kwargs):
        calls.append(url)
        return real(url, *args, **kwargs)

    monkeypatch.setattr(gd.urllib.request, "urlopen", counting)
    return calls


def test_fetch_verifies_and_caches(gd, tarball, tmp_path, count_downloads):
    """First fetch downloads and verifies; the second uses the cache without opening the URL."""
    src, md5 = tarball
    dest = tmp_path / "dest" / "cifar.tar.gz"
    path, downloaded = gd.fetch(src.as_uri(), dest, md5, quiet=True)
    assert downloaded and path == dest and gd.md5sum(dest) == md5
    assert gd.fetch(src.as_uri(), dest, md5, quiet=True) == (dest, False)
    assert len(count_downloads) == 1
    assert gd.fetch(src.as_uri(), dest, md5, force=True, quiet=True)[1] and len(count_downloads) == 2


def test_fetch_rejects_a_checksum_mismatch(gd, tarball, tmp_path):
    """Wrong MD5: ChecksumError, and neither the file nor a .part file is left behind."""
    src, md5 = tarball
    dest = tmp_path / "dest" / "cifar.tar.gz"
    with pytest.raises(gd.ChecksumError, match="MD5") as info:
        gd.fetch(src.as_uri(), dest, "0" * 32, quiet=True)
    assert not dest.exists() and not list(dest.parent.iterdir())
    _assert_one_sentence(str(info.value))


def test_a_corrupted_cache_is_downloaded_again(gd, tarball, tmp_path, count_downloads):
    """A cached file with the wrong checksum is replaced by a fresh, verified download."""
    src, md5 = tarball
    dest = tmp_path / "cifar.tar.gz"
    dest.write_bytes(b"truncated")
    assert gd.fetch(src.as_uri(), dest, md5, quiet=True) == (dest, True)
    assert gd.md5sum(dest) == md5 and len(count_downloads) == 1


def test_get_cifar10_is_idempotent_and_loadable(gd, tarball, tmp_path, count_downloads, capsys):
    """Run 1 downloads and extracts; run 2 does nothing (no download, files untouched); the loader reads it."""
    src, md5 = tarball
    dest = tmp_path / "datasets"
    batches = gd.get_cifar10(dest, url=src.as_uri(), md5=md5)
    assert batches == dest / "cifar-10-batches-py" and gd.missing_files(batches) == []
    assert not [p for p in dest.iterdir() if p.name.startswith(".extract-")]
    mtimes = {p.name: p.stat().st_mtime_ns for p in batches.iterdir()}
    capsys.readouterr()
    assert gd.get_cifar10(dest, url=src.as_uri(), md5=md5) == batches
    assert "already" in capsys.readouterr().out
    assert len(count_downloads) == 1
    assert {p.name: p.stat().st_mtime_ns for p in batches.iterdir()} == mtimes
    d = data.load_cifar10(dest, num_training=16, num_validation=4, num_test=4)
    assert d["X_train"].shape == (16, 3, 32, 32)


def test_get_cifar10_reextracts_from_the_cached_tarball(gd, tarball, tmp_path, count_downloads):
    """If a batch file goes missing, the cached tarball is re-extracted without downloading again."""
    src, md5 = tarball
    dest = tmp_path / "datasets"
    gd.get_cifar10(dest, url=src.as_uri(), md5=md5, quiet=True)
    (dest / "cifar-10-batches-py" / "test_batch").unlink()
    gd.get_cifar10(dest, url=src.as_uri(), md5=md5, quiet=True)
    assert gd.missing_files(dest / "cifar-10-batches-py") == [] and len(count_downloads) == 1


def _member(name, kind=tarfile.REGTYPE, payload=b"x", linkname=""):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    info.size = len(payload) if kind == tarfile.REGTYPE else 0
    return info, payload if kind == tarfile.REGTYPE else None


@pytest.mark.parametrize("member", [
    _member("../evil.txt"),
    _member("cifar-10-batches-py/../../evil.txt"),
    _member("/tmp/evil-absolute.txt"),
    _member("cifar-10-batches-py/link", tarfile.SYMTYPE, linkname="/etc/passwd"),
], ids=["parent", "nested-parent", "absolute", "symlink"])
def test_extract_rejects_unsafe_members(gd, tmp_path, member):
    """Path traversal, absolute paths and links are refused before anything is written."""
    path, _ = make_fake_tarball(tmp_path / "bad.tar.gz", extra_members=[member])
    dest = tmp_path / "out"
    with pytest.raises(gd.UnsafeArchiveError, match="Refusing"):
        gd.extract(path, dest, quiet=True)
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/evil-absolute.txt").exists()
    assert not (dest / "cifar-10-batches-py").exists()


def test_extract_accepts_a_clean_archive_and_checks_completeness(gd, tarball, tmp_path):
    """A clean archive extracts; one lacking a batch file is reported by name."""
    src, _ = tarball
    assert gd.missing_files(gd.extract(src, tmp_path / "ok", quiet=True)) == []
    partial = tmp_path / "partial.tar.gz"
    with tarfile.open(partial, "w:gz") as tar:
        info, payload = _member("cifar-10-batches-py/data_batch_1")
        tar.addfile(info, io.BytesIO(payload))
    with pytest.raises(gd.DatasetError, match="data_batch_2"):
        gd.extract(partial, tmp_path / "partial", quiet=True)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/cifar-10-python.tar.gz", "file:///nonexistent/cifar.tar.gz"])
def test_offline_download_fails_with_one_sentence(gd, tmp_path, capsys, url):
    """No network: main() returns 1 and prints one 'error:' sentence to stderr, no traceback, no leftovers."""
    assert gd.main(["--dest", str(tmp_path), "--url", url]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: Could not download")
    _assert_one_sentence(err)
    assert list(tmp_path.iterdir()) == []


def test_script_exit_code_when_offline(tmp_path):
    """Run as a script: nonzero exit status and a one-line message."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    result = subprocess.run([sys.executable, str(REPO / "datasets" / "get_datasets.py"), "--dest", str(tmp_path),
                             "--url", "http://127.0.0.1:9/cifar-10-python.tar.gz"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


# --------------------------------------------------------------- the stored digits (no scikit-learn import)
def _live_split(num_val, num_test, num_train, seed):
    """get_digits_data's split as scikit-learn gives it, on the images themselves (the code before the store)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X, y = digits.data / 16.0, digits.target
    X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=num_test, stratify=y, random_state=seed)
    X_train, X_val, y_train, y_val = train_test_split(X_rest, y_rest, test_size=num_val, stratify=y_rest,
                                                      random_state=seed + 1)
    if num_train < len(y_train):
        X_train, _, y_train, _ = train_test_split(X_train, y_train, train_size=num_train, stratify=y_train,
                                                  random_state=seed + 2)
    return X_train, y_train, X_val, y_val, X_test, y_test


def _stored_keys():
    with np.load(data.DIGITS_STORE) as stored:
        return [k for k in stored.files if k.startswith("split_")]


def store_problems(path):
    """What in the store at ``path`` differs from scikit-learn (images, labels, or a split's rows)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    problems = []
    with np.load(path) as stored:
        if not (np.array_equal(stored["pixels"], digits.data) and np.array_equal(stored["target"], digits.target)):
            problems.append("images or labels")
        for key in (k for k in stored.files if k.startswith("split_")):
            num_val, num_test, num_train, seed = map(int, key.split("_")[1:])
            if not np.array_equal(stored[key], data.digits_split_indices(digits.target, num_val, num_test,
                                                                         num_train, seed)):
                problems.append(key)
    return problems


def test_the_stored_digits_are_scikit_learns():
    assert len(_stored_keys()) >= 10
    assert store_problems(data.DIGITS_STORE) == []


@pytest.mark.parametrize("sizes", [dict(seed=0), dict(num_train=400, seed=0), dict(seed=11),
                                   dict(num_val=200, num_test=600, num_train=200, seed=0)])
def test_stored_and_live_splits_give_the_arrays_scikit_learn_gives(sizes):
    full = {"num_val": 300, "num_test": 300, "num_train": None, "seed": 0, **sizes}
    got = data.get_digits_data(**sizes, subtract_mean=False, dtype=np.float64)
    num_train = full["num_train"] or 1797 - full["num_val"] - full["num_test"]
    want = _live_split(full["num_val"], full["num_test"], num_train, full["seed"])
    for name, array in zip(("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"), want):
        assert np.array_equal(got[name], array), name


def test_a_planted_wrong_store_is_caught_and_an_unstored_split_is_computed_live(tmp_path, monkeypatch):
    with np.load(data.DIGITS_STORE) as stored:
        arrays = {k: stored[k] for k in stored.files}
    key = data._split_key(300, 300, 1197, 0)
    arrays[key] = arrays[key][::-1].copy()            # a wrong order of the same rows
    del arrays[data._split_key(300, 300, 1197, 1)]    # seed 1 is not stored any more
    planted = tmp_path / "digits.npz"
    np.savez(planted, **arrays)
    monkeypatch.setattr(data, "DIGITS_STORE", planted)
    monkeypatch.setattr(data, "_DIGITS", {})
    X_train, y_train = _live_split(300, 300, 1197, 0)[:2]
    wrong = data.get_digits_data(seed=0, subtract_mean=False, dtype=np.float64)
    assert not np.array_equal(wrong["y_train"], y_train)
    assert store_problems(planted) == [key]
    live = data.get_digits_data(seed=1, subtract_mean=False, dtype=np.float64)
    assert np.array_equal(live["y_train"], _live_split(300, 300, 1197, 1)[1])


def test_a_missing_store_falls_back_to_scikit_learn(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "DIGITS_STORE", tmp_path / "absent.npz")
    monkeypatch.setattr(data, "_DIGITS", {})
    got = data.get_digits_data(seed=0, subtract_mean=False, dtype=np.float64)
    assert np.array_equal(got["X_train"], _live_split(300, 300, 1197, 0)[0])


def test_every_notebook_split_is_stored():
    """A notebook whose split knobs changed without re-running scripts/make_digits_store.py is caught here."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from make_digits_store import notebook_splits

    splits = notebook_splits()
    missing = [s for s in splits if data._split_key(*s) not in _stored_keys()]
    assert not missing, f"run python scripts/make_digits_store.py: splits {missing} are not stored"


def test_default_digits_load_without_importing_scikit_learn():
    code = ("import sys; from cs231n_lec7.data import get_digits_data; get_digits_data(seed=3); "
            "get_digits_data(num_train=400, seed=0); print(sorted(m for m in sys.modules if m.startswith('sklearn')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(Path(__file__).resolve().parents[1]))
    assert out.stdout.strip() == "[]"


def test_sample_photos_equal_scikit_learns_without_importing_it(monkeypatch):
    from sklearn.datasets import load_sample_images

    want = load_sample_images().images
    got = data.load_sample_photos()
    assert all(np.array_equal(a, b) for a, b in zip(got, want)) and len(got) == len(want) == 2
    code = "import sys; from cs231n_lec7.data import load_sample_photos; load_sample_photos(); " \
           "print(any(m.startswith('sklearn') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(Path(__file__).resolve().parents[1]))
    assert out.stdout.strip() == "False"
    import importlib.util
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)   # files not found: through scikit-learn
    assert all(np.array_equal(a, b) for a, b in zip(data.load_sample_photos(), want))


@pytest.mark.parametrize("damage", ["not_npz", "short_split", "no_target"])
def test_a_damaged_store_falls_back_to_scikit_learn(tmp_path, monkeypatch, damage):
    with np.load(data.DIGITS_STORE) as stored:
        arrays = {k: stored[k] for k in stored.files}
    planted = tmp_path / "digits.npz"
    if damage == "not_npz":
        planted.write_bytes(b"PK\x03\x04 not a zip archive")
    else:
        if damage == "short_split":
            key = data._split_key(300, 300, 1197, 0)
            arrays[key] = arrays[key][:100]
        else:
            del arrays["target"]
        np.savez(planted, **arrays)
    monkeypatch.setattr(data, "DIGITS_STORE", planted)
    monkeypatch.setattr(data, "_DIGITS", {})
    got = data.get_digits_data(seed=0, subtract_mean=False, dtype=np.float64)
    want = _live_split(300, 300, 1197, 0)
    assert np.array_equal(got["X_train"], want[0]) and np.array_equal(got["y_test"], want[5])
