"""Datasets for the notebooks (not graded; no exercise lives here).

Every classification loader returns CS231n's dict format::

    data = loader(...)
    data['X_train'], data['y_train']   # training split
    data['X_val'],   data['y_val']     # validation split (model selection)
    data['X_test'],  data['y_test']    # test split (report once, at the end)
    data['mean_image']                 # the TRAIN mean that was subtracted (zeros if not)
    data['class_names']                # list of str, class_names[k] names label k

Conventions:
- X arrays have the requested float ``dtype``; y arrays are int64 labels in
  ``0 .. len(class_names) - 1``.
- Mean subtraction always uses the mean of the *training* split only, applied
  to all three splits (the validation and test sets must not leak into
  preprocessing). ``mean_image`` has the shape of one example.
- Randomness is explicit: the digits split depends only on ``seed``.

Loaders:
- :func:`get_digits_data` -- scikit-learn's bundled 8x8 digits (1797 images,
  works offline). The notebooks' default dataset.
- :func:`load_sample_photos` -- scikit-learn's two bundled RGB photos, for the
  data-augmentation demos.
- :func:`load_cifar10` / :func:`load_cifar_batch` -- CIFAR-10 from the python
  pickles, for users with a network; fetch them with
  ``python datasets/get_datasets.py``. A missing dataset raises
  :class:`DatasetMissingError` whose message says what to run.

scikit-learn and PIL are imported inside the functions that need them, so
importing this module is fast.
"""
import os
import pickle
from pathlib import Path

import numpy as np

__all__ = [
    "DIGITS_CLASSES", "CIFAR10_CLASSES", "CIFAR10_BATCH_FILES", "SAMPLE_PHOTO_NAMES", "DATA_ENV",
    "DatasetMissingError", "get_digits_data", "load_sample_photos", "default_cifar10_dir",
    "load_cifar_batch", "load_cifar10",
]

DIGITS_CLASSES = [str(k) for k in range(10)]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck"]
#: The files ``load_cifar10`` needs inside ``cifar-10-batches-py``.
CIFAR10_BATCH_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
#: Names of the photos :func:`load_sample_photos` returns, in order.
SAMPLE_PHOTO_NAMES = ["china.jpg", "flower.jpg"]
#: Environment variable overriding where CIFAR-10 is looked for.
DATA_ENV = "CS231N_LEC7_DATA"
_CIFAR_DIRNAME = "cifar-10-batches-py"
_FETCH_COMMAND = "python datasets/get_datasets.py"


class DatasetMissingError(FileNotFoundError):
    """A dataset is not on disk; the message says, in one sentence, how to get it."""


def _seed_int(seed):
    """An int seed for scikit-learn from an int or a ``np.random.Generator``."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**31 - 1))
    if seed is None or isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int or a np.random.Generator, got {seed!r}")
    return int(seed)


def _split_dict(X_train, y_train, X_val, y_val, X_test, y_test, subtract_mean, dtype, class_names):
    """CS231n's dict, converted to ``dtype`` and centered with the train mean."""
    if subtract_mean and len(X_train):
        mean_image = np.mean(X_train, axis=0, dtype=np.float64).astype(dtype)
    else:
        mean_image = np.zeros(np.shape(X_train)[1:], dtype=dtype)

    def centered(X):
        X = np.array(X, dtype=dtype)  # a fresh array, never a view of the caller's
        X -= mean_image
        return X

    return {
        "X_train": centered(X_train), "y_train": np.asarray(y_train, dtype=np.int64),
        "X_val": centered(X_val), "y_val": np.asarray(y_val, dtype=np.int64),
        "X_test": centered(X_test), "y_test": np.asarray(y_test, dtype=np.int64),
        "mean_image": mean_image, "class_names": list(class_names),
    }


# The digits without importing scikit-learn (about 0.7 s per notebook): its 1797 images and, for the
# splits the package and the notebooks use, the row indices its stratified splits give. The store is
# written by ``scripts/make_digits_store.py`` and checked against scikit-learn in tests/test_data.py;
# any other split is computed live, with the same result as ever.
DIGITS_STORE = Path(__file__).resolve().parent / "bundled" / "digits.npz"
_DIGITS = {}


def _split_key(num_val, num_test, num_train, state):
    return f"split_{num_val}_{num_test}_{num_train}_{state}"


def _stored_digits():
    """{key: indices} of the stored splits, plus "pixels" and "target"; {} when the file is missing."""
    if "store" not in _DIGITS:
        try:
            with np.load(DIGITS_STORE) as stored:
                _DIGITS["store"] = {name: stored[name] for name in stored.files}
        except Exception:  # missing, truncated or not an .npz: every split is computed live instead
            _DIGITS["store"] = {}
    return _DIGITS["store"]


def digits_arrays():
    """(pixels, labels): scikit-learn's 1797 digits as ``load_digits()`` gives them.

    pixels: float64 (1797, 64), values 0..16; labels: int64 (1797,). Read from the bundled copy
    when it is there (no scikit-learn import), else from scikit-learn. Fresh arrays on every call.
    """
    store = _stored_digits()
    pixels, target = store.get("pixels"), store.get("target")
    if pixels is not None and target is not None and pixels.shape == (len(target), 64):
        return pixels.astype(np.float64), target.astype(np.int64)
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.data, digits.target


def digits_split_indices(y, num_val, num_test, num_train, state):
    """Row indices (train, then val, then test) of scikit-learn's stratified splits of the digits.

    The same calls as always: the test split first (``random_state=state``), the validation split of
    the rest (``state + 1``), then a stratified subset of ``num_train`` training images (``state + 2``)
    when fewer than all are asked for.
    """
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(y))
    rest, test, y_rest, _ = train_test_split(rows, y, test_size=num_test, stratify=y, random_state=state)
    train, val, y_train, _ = train_test_split(rest, y_rest, test_size=num_val, stratify=y_rest,
                                              random_state=state + 1)
    if num_train < len(train):
        train, _, _, _ = train_test_split(train, y_train, train_size=num_train, stratify=y_train,
                                          random_state=state + 2)
    return np.concatenate([train, val, test])


def get_digits_data(num_val=300, num_test=300, num_train=None, seed=0, subtract_mean=True,
                    dtype=np.float32, flatten=True):
    """Load scikit-learn's 8x8 digits as stratified train / val / test splits.

    Pixels (0..16 in the raw data) are scaled to [0, 1]; then, if
    ``subtract_mean``, the training mean image is subtracted from every split.
    Each split holds every class in (close to) the proportions of the whole set.

    Inputs:
    - num_val: Number of validation images (default 300).
    - num_test: Number of test images (default 300).
    - num_train: Number of training images, or None (default) for all the
      rest: 1797 - 300 - 300 = 1197 with the defaults. A smaller number gives a
      stratified subset (handy for overfitting demos).
    - seed: int or np.random.Generator; the same seed gives the same split.
    - subtract_mean: Subtract the training mean image (default True).
    - dtype: Float dtype of the X arrays (default np.float32).
    - flatten: If True (default) X has shape (N, 64); if False (N, 1, 8, 8).

    Returns:
    A dict with X_train (N_train, D), y_train (N_train,), X_val, y_val, X_test,
    y_test, mean_image (D,) -- or (1, 8, 8) when not flattened -- and
    class_names ['0', ..., '9']. y arrays are int64.
    """
    state = _seed_int(seed)
    pixels, y = digits_arrays()
    X = pixels / 16.0
    n = len(y)
    num_rest = n - num_val - num_test
    if min(num_val, num_test) < 10 or num_rest < 10:
        raise ValueError(f"get_digits_data: the digits set has {n} images; num_val={num_val} and "
                         f"num_test={num_test} must each be at least 10 and leave at least 10 for training")
    if num_train is None:
        num_train = num_rest
    if not 10 <= num_train <= num_rest:
        raise ValueError(f"get_digits_data: num_train must be between 10 and {num_rest} "
                         f"(what num_val={num_val} and num_test={num_test} leave), got {num_train}")
    key = _split_key(num_val, num_test, num_train, state)
    indices = _stored_digits().get(key)
    if indices is None or indices.shape != (num_train + num_val + num_test,):
        indices = digits_split_indices(y, num_val, num_test, num_train, state)
    train, val, test = np.split(indices, [num_train, num_train + num_val])
    X_train, y_train, X_val, y_val, X_test, y_test = X[train], y[train], X[val], y[val], X[test], y[test]
    if not flatten:
        X_train, X_val, X_test = (a.reshape(-1, 1, 8, 8) for a in (X_train, X_val, X_test))
    return _split_dict(X_train, y_train, X_val, y_val, X_test, y_test, subtract_mean, dtype, DIGITS_CLASSES)


def _sample_photos():
    """scikit-learn's photos in SAMPLE_PHOTO_NAMES order: its JPEG files read with PIL, as
    ``load_sample_images`` reads them, without importing scikit-learn (~0.7 s); else through it."""
    import importlib.util

    spec = importlib.util.find_spec("sklearn")   # finds the installed package without importing it
    folder = Path(spec.origin).parent / "datasets" / "images" if spec is not None and spec.origin else None
    paths = [folder / name for name in SAMPLE_PHOTO_NAMES] if folder is not None else []
    if paths and all(path.is_file() for path in paths):
        from PIL import Image

        photos = []
        for path in paths:
            with Image.open(path) as image:
                photos.append(np.asarray(image))
        return photos
    from sklearn.datasets import load_sample_images

    return load_sample_images().images


def load_sample_photos(size=None):
    """Load scikit-learn's two bundled RGB photos (china.jpg, flower.jpg).

    Inputs:
    - size: None (default) to keep the original 427 x 640; an int S to resize
      to S x S; or a pair (height, width) -- numpy's order, not PIL's.

    Returns:
    A list of 2 numpy arrays of shape (H, W, 3) and dtype uint8 (RGB), in the
    order of ``SAMPLE_PHOTO_NAMES``. Each call returns fresh copies.
    """
    photos = [np.array(img, dtype=np.uint8) for img in _sample_photos()]
    if size is None:
        return photos
    height, width = (size, size) if np.isscalar(size) else tuple(size)
    height, width = int(height), int(width)
    if height < 1 or width < 1:
        raise ValueError(f"load_sample_photos: size must be positive, got {size!r}")
    from PIL import Image

    return [np.asarray(Image.fromarray(p).resize((width, height), Image.BILINEAR), dtype=np.uint8).copy()
            for p in photos]


def default_cifar10_dir():
    """Where :func:`load_cifar10` looks when no ``root`` is given.

    Returns:
    A ``pathlib.Path``: the environment variable ``CS231N_LEC7_DATA`` if set,
    else the repository's ``datasets/`` folder (next to the package). Either
    may be the folder that holds ``cifar-10-batches-py`` or that folder itself.
    """
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parent.parent / "datasets"


def _resolve_cifar_dir(root):
    """The folder that should hold the batch files: ``root`` or ``root/cifar-10-batches-py``."""
    root = Path(default_cifar10_dir() if root is None else root).expanduser()
    if root.name != _CIFAR_DIRNAME and not (root / CIFAR10_BATCH_FILES[0]).is_file():
        return root / _CIFAR_DIRNAME
    return root


def load_cifar_batch(path):
    """Load one CIFAR-10 python batch (a pickled dict with b'data' and b'labels').

    Inputs:
    - path: Path of a batch file such as ``.../cifar-10-batches-py/data_batch_1``.

    Returns a tuple (X, y):
    - X: uint8 array of shape (N, 32, 32, 3), channels last (as CS231n's loader).
    - y: int64 array of shape (N,), labels in 0..9.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetMissingError(f"CIFAR-10 batch {path} does not exist; run `{_FETCH_COMMAND}` to download "
                                  f"CIFAR-10 (or pass the right root).")
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    if not isinstance(batch, dict):
        raise ValueError(f"{path} is not a CIFAR-10 python batch (expected a pickled dict)")
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    if "data" not in batch or "labels" not in batch:
        raise ValueError(f"{path} is not a CIFAR-10 python batch (no 'data'/'labels' entries)")
    data = np.asarray(batch["data"])
    labels = np.asarray(batch["labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise ValueError(f"{path} is not a CIFAR-10 python batch: data has shape {data.shape} "
                         f"(expected (N, 3072)) and {len(labels)} labels")
    X = data.astype(np.uint8, copy=False).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(X), labels


def load_cifar10(root=None, num_training=49000, num_validation=1000, num_test=1000, subtract_mean=True,
                 channels_first=True, dtype=np.float32):
    """Load CIFAR-10 into CS231n's train / val / test dict (as CS231n's ``get_CIFAR10_data``).

    The validation set is the ``num_validation`` training images that follow
    the first ``num_training`` (so the default uses all 50000); the test set is
    the first ``num_test`` of ``test_batch``. Pixel values stay in 0..255 (as in
    CS231n); ``subtract_mean`` subtracts the mean training image.

    Inputs:
    - root: Folder holding ``cifar-10-batches-py`` (or that folder itself).
      Default: ``$CS231N_LEC7_DATA`` if set, else the repository's ``datasets/``.
    - num_training, num_validation, num_test: Split sizes.
    - subtract_mean: Subtract the training mean image (default True).
    - channels_first: If True (default) X has shape (N, 3, 32, 32), else
      (N, 32, 32, 3).
    - dtype: Float dtype of the X arrays (default np.float32).

    Returns:
    A dict with X_train, y_train, X_val, y_val, X_test, y_test, mean_image (the
    shape of one image) and class_names (CIFAR10_CLASSES).

    Raises DatasetMissingError (a FileNotFoundError) if any of the six batch
    files is missing.
    """
    folder = _resolve_cifar_dir(root)
    missing = [name for name in CIFAR10_BATCH_FILES if not (folder / name).is_file()]
    if missing:
        what = "is not" if len(missing) == len(CIFAR10_BATCH_FILES) else f"is incomplete (no {missing[0]})"
        raise DatasetMissingError(f"CIFAR-10 {what} in {folder}: run `{_FETCH_COMMAND}` to download it, "
                                  f"or set {DATA_ENV} to the folder that holds {_CIFAR_DIRNAME}.")
    parts = [load_cifar_batch(folder / name) for name in CIFAR10_BATCH_FILES[:-1]]
    X_all = np.concatenate([X for X, _ in parts])
    y_all = np.concatenate([y for _, y in parts])
    X_te, y_te = load_cifar_batch(folder / "test_batch")
    if num_training + num_validation > len(y_all) or num_test > len(y_te) or min(
            num_training, num_validation, num_test) < 0:
        raise ValueError(f"load_cifar10: asked for {num_training} training + {num_validation} validation "
                         f"images out of {len(y_all)} and {num_test} test images out of {len(y_te)}")
    X_train, y_train = X_all[:num_training], y_all[:num_training]
    X_val = X_all[num_training:num_training + num_validation]
    y_val = y_all[num_training:num_training + num_validation]
    X_test, y_test = X_te[:num_test], y_te[:num_test]
    if channels_first:
        X_train, X_val, X_test = (a.transpose(0, 3, 1, 2) for a in (X_train, X_val, X_test))
    return _split_dict(X_train, y_train, X_val, y_val, X_test, y_test, subtract_mean, dtype, CIFAR10_CLASSES)
