"""Transfer learning with a tiny model zoo (lecture 7, "Transfer learning").

The recipe of the lecture, scaled down to scikit-learn's bundled 8x8 digits
(offline):

1. A network **pretrained** on a source task ships with the package
   (``model_zoo/``): ``load_pretrained('digits_mlp')`` is a
   ``FullyConnectedNet`` 64-128-64-5 trained on the digits 0-4 only
   (``SOURCE_CLASSES``; regenerate it with ``python scripts/pretrain_zoo.py``:
   bit for bit with the same BLAS, up to float32 rounding with another). Every
   load verifies the file's sha256 against ``model_zoo/SHA256SUMS`` and raises
   ``ChecksumError`` on a mismatch.
2. **Target tasks** (``make_task``): a genuinely NEW task -- five classes,
   the digits 5-9 (``TARGET_CLASSES``, one class each), which the pretrained
   network never saw in any form, so its own last layer is useless there and
   no "zero-shot" answer exists -- ``'similar'`` (plain digits, like the
   source images) or ``'different'`` (inverted and rotated by 90 degrees: a
   new input distribution), with ``per_digit`` training images per digit and a
   fixed test set of 250 images (50 per digit).
3. Three **strategies**:
   - ``linear_probe``: freeze the whole backbone, extract features (the
     penultimate layer, or an earlier one) and train only a new last layer
     (softmax regression on the features) -- for small, similar data;
   - ``fine_tune``: copy the backbone, put a new last layer on top and train
     everything, the pretrained layers with a smaller learning rate
     (``lr_mult``; 0 freezes a layer) -- for larger data;
   - ``from_scratch``: the same architecture from a random initialisation.

The split (``_digits_split``, seeded): per digit, ``TEST_PER_DIGIT`` test
images, and the rest for training. Source and target classes are disjoint, so
no image can be in both tasks, and each task may use ALL the non-test images of
its digits: the source task trains on every non-test image of 0-4 (about 650,
more than a half would give: better features), and a target task draws its
``per_digit`` images from every non-test image of 5-9 (up to 124 per digit,
so 600-image target sets exist).

``train`` is the compact training loop the strategies (and snapshot ensembles
in ``averaging.py``) share: CS231n's ``Solver._step`` plus a learning-rate
schedule ``lr_schedule(it)``, a per-parameter learning-rate multiplier, and a
``callback(it, params)`` after each step. Randomness is explicit (``seed``).

Preprocessing, fixed for the zoo and every task: pixels / 16 - 0.5 (in
[-0.5, 0.5]), flattened to 64 features.
"""
import functools
import hashlib
import os

import numpy as np

from . import optim
from .data import digits_arrays
from .fc_net import FullyConnectedNet
from .layers import affine_forward, relu_forward

ZOO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model_zoo")
CHECKSUM_FILE = os.path.join(ZOO_DIR, "SHA256SUMS")
#: name -> what the model is. The recipe that made it: scripts/pretrain_zoo.py.
ZOO = {
    "digits_mlp": "FullyConnectedNet 64-128-64-5 (ReLU), float32, trained on the digits 0-4 only "
                  "(every non-test image; SGD+momentum, cosine decay, 1500 iterations, seed 0)",
}
#: The digits the zoo model was trained on (its label k = digit SOURCE_CLASSES[k]).
SOURCE_CLASSES = (0, 1, 2, 3, 4)
#: The target task's classes, disjoint from the source's: target label k = digit TARGET_CLASSES[k].
TARGET_CLASSES = (5, 6, 7, 8, 9)
TEST_PER_DIGIT = 50
SPLIT_SEED = 0
TASK_KINDS = ("similar", "different")


class ChecksumError(RuntimeError):
    """A model-zoo file does not match its recorded sha256."""


# --------------------------------------------------------------------------
# Data: the source task and the target tasks
# --------------------------------------------------------------------------
def preprocess(images):
    """Raw digits (N, 8, 8) or (N, 64) with pixels 0..16 -> (N, 64) float32 in [-0.5, 0.5]."""
    images = np.asarray(images, dtype=np.float64)
    return (images.reshape(len(images), -1) / 16.0 - 0.5).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _digits_split():
    """Raw images and a fixed split per digit: TEST_PER_DIGIT test images and the rest for training
    (the source task uses the rest of 0-4, the target tasks that of 5-9: disjoint classes)."""
    pixels, labels = digits_arrays()
    images = pixels.reshape(-1, 8, 8)
    rng = np.random.default_rng(SPLIT_SEED)
    rest, test = {}, {}
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(labels == c))
        test[c], rest[c] = idx[:TEST_PER_DIGIT], idx[TEST_PER_DIGIT:]
    images.setflags(write=False)
    return images, rest, test


def _transform(images, kind):
    """'similar': unchanged; 'different': inverted (16 - x) and rotated by 90 degrees."""
    if kind == "similar":
        return images
    if kind == "different":
        return np.rot90(16.0 - images, k=1, axes=(1, 2))
    raise ValueError(f"task kind must be one of {TASK_KINDS}, got {kind!r}")


def _gather(images, index, classes, per_digit, kind):
    """X (preprocessed) and y = k for digit classes[k], taking ``per_digit`` images of every digit."""
    parts, labels = [], []
    for k, digit in enumerate(classes):
        chosen = index[digit] if per_digit is None else index[digit][:per_digit]
        parts.append(chosen)
        labels.append(np.full(len(chosen), k, dtype=np.int64))
    return preprocess(_transform(images[np.concatenate(parts)], kind)), np.concatenate(labels)


def source_task():
    """The pretraining task: the digits 0-4 (every non-test image), labels 0-4.

    Returns a dict X_train (N, 64) float32, y_train (N,), X_test (250, 64), y_test.
    """
    images, rest, test = _digits_split()
    X_train, y_train = _gather(images, rest, SOURCE_CLASSES, None, "similar")
    X_test, y_test = _gather(images, test, SOURCE_CLASSES, None, "similar")
    return {"X_train": X_train, "y_train": y_train, "X_test": X_test, "y_test": y_test}


def make_task(kind="similar", per_digit=5, seed=0):
    """A target task: NEW classes, the digits 5-9 (label k = digit TARGET_CLASSES[k]), which the
    pretrained model never saw.

    Inputs:
    - kind: 'similar' (plain digits, like the source task's images) or
      'different' (inverted and rotated by 90 degrees: another input distribution).
    - per_digit: Training images per digit (1 .. 124), so 5 * per_digit in all;
      the test set is always the same 50 images per digit (250 in all).
    - seed: Which training images are drawn.

    Returns a dict X_train (5 * per_digit, 64) float32, y_train in 0..4, X_test (250, 64), y_test, kind.
    """
    images, rest, test = _digits_split()
    available = min(len(rest[c]) for c in TARGET_CLASSES)
    if not 1 <= per_digit <= available:
        raise ValueError(f"per_digit must be between 1 and {available}, got {per_digit}")
    rng = np.random.default_rng(seed)
    drawn = {c: rng.permutation(rest[c]) for c in TARGET_CLASSES}
    X_train, y_train = _gather(images, drawn, TARGET_CLASSES, per_digit, kind)
    X_test, y_test = _gather(images, test, TARGET_CLASSES, None, kind)
    return {"X_train": X_train, "y_train": y_train, "X_test": X_test, "y_test": y_test, "kind": kind}


# --------------------------------------------------------------------------
# The model zoo
# --------------------------------------------------------------------------
def sha256_file(path):
    """Hex sha256 of a file's bytes (what ``sha256sum`` prints)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def recorded_checksums(path=CHECKSUM_FILE):
    """{file name: sha256} from a ``sha256sum``-format file."""
    sums = {}
    with open(path) as fh:
        for line in fh:
            if line.strip():
                digest, name = line.split()
                sums[name.lstrip("*")] = digest
    return sums


def save_weights(path, params, hidden_dims, classes):
    """Write a zoo file (np.savez, reproducible bytes); return its sha256."""
    arrays = {k: np.asarray(params[k]) for k in sorted(params)}
    arrays["hidden_dims"] = np.asarray(hidden_dims, dtype=np.int64)
    arrays["classes"] = np.asarray(classes, dtype=np.int64)
    np.savez(path, **arrays)
    return sha256_file(path)


def load_pretrained(name="digits_mlp", verify=True, zoo_dir=ZOO_DIR):
    """A pretrained ``FullyConnectedNet`` from the model zoo (checksum verified).

    Inputs:
    - name: A key of ``ZOO``.
    - verify: Check the file's sha256 against ``SHA256SUMS`` (default True).

    Returns:
    - model: FullyConnectedNet with the stored params (float32); ``model.zoo_name``
      and ``model.source_classes`` tell where it comes from.

    Raises ``ChecksumError`` if the file was changed (re-run scripts/pretrain_zoo.py).
    """
    if name not in ZOO:
        raise KeyError(f"no model {name!r} in the zoo; available: {', '.join(ZOO)}")
    fname = f"{name}.npz"
    path = os.path.join(zoo_dir, fname)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} is missing: run `python scripts/pretrain_zoo.py`")
    if verify:
        want = recorded_checksums(os.path.join(zoo_dir, "SHA256SUMS")).get(fname)
        got = sha256_file(path)
        if want != got:
            raise ChecksumError(f"{fname}: sha256 {got} does not match the recorded {want} in "
                                f"model_zoo/SHA256SUMS — the file was changed or corrupted; restore it "
                                f"(git checkout) or regenerate it with `python scripts/pretrain_zoo.py`")
    with np.load(path, allow_pickle=False) as data:
        stored = {k: data[k] for k in data.files}
    hidden_dims = [int(h) for h in stored.pop("hidden_dims")]
    classes = [int(c) for c in stored.pop("classes")]
    model = FullyConnectedNet(hidden_dims, input_dim=stored["W1"].shape[0], num_classes=len(classes),
                              dtype=stored["W1"].dtype, seed=0)
    if set(model.params) != set(stored):
        raise ValueError(f"{fname}: stored keys {sorted(stored)} do not fit the architecture {hidden_dims}")
    model.params = stored
    model.zoo_name, model.source_classes = name, classes
    return model


# --------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------
def train(model, X, y, num_iters, batch_size=100, learning_rate=1e-2, lr_schedule=None,
          update_rule="sgd_momentum", optim_config=None, lr_mult=None, seed=0, callback=None):
    """Minibatch training of ``model`` in place (CS231n's Solver step, with extras).

    Inputs:
    - model: ``params`` dict and ``loss(X, y) -> (loss, grads)``.
    - X, y: Training data (N, ...) and labels (N,).
    - num_iters: Number of minibatch steps.
    - batch_size: Minibatch size (sampled with replacement, as in Solver).
    - learning_rate: The constant rate, unless ``lr_schedule(it) -> lr`` is given.
    - update_rule: A name in ``optim`` or a rule ``next_w, config = rule(w, dw, config)``.
    - optim_config: Other hyper-parameters (e.g. momentum), copied per parameter.
    - lr_mult: Optional {param name: multiplier}; parameter p uses lr * lr_mult[p]
      (default 1). A multiplier of 0 freezes p (no update at all).
    - seed: Seeds the minibatch sampling.
    - callback: Optional ``callback(it, params)`` after each step.

    Returns a dict: loss_history (num_iters,), lr_history (num_iters,).
    """
    rule = getattr(optim, update_rule) if isinstance(update_rule, str) else update_rule
    rng = np.random.default_rng(seed)
    mult = {p: 1.0 for p in model.params}
    mult.update(lr_mult or {})
    configs = {p: dict(optim_config or {}) for p in model.params}
    losses, rates = np.zeros(num_iters), np.zeros(num_iters)
    for it in range(num_iters):
        lr = float(lr_schedule(it)) if lr_schedule is not None else float(learning_rate)
        batch = rng.integers(0, len(y), batch_size)   # the draws of rng.choice(len(y), batch_size), faster
        loss, grads = model.loss(X[batch], y[batch])
        for p, w in model.params.items():
            if mult[p] == 0:
                continue
            configs[p]["learning_rate"] = lr * mult[p]
            model.params[p], configs[p] = rule(w, grads[p], configs[p])
        losses[it], rates[it] = loss, lr
        if callback is not None:
            callback(it, model.params)
    return {"loss_history": losses, "lr_history": rates}


def accuracy(model, X, y):
    """Fraction of ``X`` that ``model`` classifies as ``y``."""
    return float(np.mean(np.argmax(model.loss(X), axis=1) == y))


def extract_features(model, X, num_layers=None):
    """The backbone's output: X through the first ``num_layers`` affine-ReLU blocks.

    Inputs:
    - model: A FullyConnectedNet without batch norm (e.g. from the zoo).
    - X: (N, D) inputs.
    - num_layers: Hidden layers to apply; None means all (the penultimate
      layer's activations), 0 the raw input.

    Returns:
    - features: (N, F) array.
    """
    hidden = model.num_layers - 1
    num_layers = hidden if num_layers is None else int(num_layers)
    if not 0 <= num_layers <= hidden:
        raise ValueError(f"num_layers must be between 0 and {hidden}, got {num_layers}")
    h = np.asarray(X).astype(model.dtype, copy=False)
    for i in range(1, num_layers + 1):
        h, _ = affine_forward(h, model.params[f"W{i}"], model.params[f"b{i}"])
        h, _ = relu_forward(h)
    return h


def linear_probe(model, task, num_layers=None, num_iters=300, learning_rate=0.1, reg=1e-3, seed=0):
    """Freeze the backbone; train only a new last layer (softmax regression on its features).

    Returns (test accuracy, the trained linear classifier).
    """
    F_train = extract_features(model, task["X_train"], num_layers)
    F_test = extract_features(model, task["X_test"], num_layers)
    num_classes = int(task["y_test"].max()) + 1
    head = FullyConnectedNet([], input_dim=F_train.shape[1], num_classes=num_classes, reg=reg,
                             weight_scale=1e-2, seed=seed)
    train(head, F_train, task["y_train"], num_iters, batch_size=min(100, len(task["y_train"])),
          learning_rate=learning_rate, optim_config={"momentum": 0.9}, seed=seed)
    return accuracy(head, F_test, task["y_test"]), head


def new_head(model, num_classes, seed=0, weight_scale=1e-2):
    """A copy of ``model`` whose last layer is replaced by a fresh one for ``num_classes``."""
    hidden_dims = [model.params[f"W{i}"].shape[1] for i in range(1, model.num_layers)]
    net = FullyConnectedNet(hidden_dims, input_dim=model.params["W1"].shape[0], num_classes=num_classes,
                            reg=model.reg, weight_scale=weight_scale, dtype=model.dtype, seed=seed)
    L = model.num_layers
    for key, value in model.params.items():
        if key not in (f"W{L}", f"b{L}"):
            net.params[key] = value.copy()
    return net


def fine_tune(model, task, backbone_lr_mult=0.1, frozen_layers=0, num_iters=400, learning_rate=0.05,
              reg=1e-3, seed=0):
    """Fine-tune a pretrained ``model`` on ``task``: new last layer, backbone at a smaller rate.

    Inputs:
    - backbone_lr_mult: Learning-rate multiplier of the pretrained layers
      (the new last layer uses 1).
    - frozen_layers: The first ``frozen_layers`` layers are frozen (multiplier 0).

    Returns (test accuracy, the fine-tuned model).
    """
    num_classes = int(task["y_test"].max()) + 1
    net = new_head(model, num_classes, seed=seed)
    net.reg = reg
    L = net.num_layers
    lr_mult = {}
    for i in range(1, L):
        m = 0.0 if i <= frozen_layers else backbone_lr_mult
        lr_mult[f"W{i}"] = lr_mult[f"b{i}"] = m
    train(net, task["X_train"], task["y_train"], num_iters, batch_size=min(100, len(task["y_train"])),
          learning_rate=learning_rate, optim_config={"momentum": 0.9}, lr_mult=lr_mult, seed=seed)
    return accuracy(net, task["X_test"], task["y_test"]), net


def from_scratch(task, hidden_dims=(128, 64), num_iters=400, learning_rate=0.05, reg=1e-3, seed=0):
    """The same architecture trained on the target task only, from a random initialisation.

    Returns (test accuracy, the model).
    """
    num_classes = int(task["y_test"].max()) + 1
    net = FullyConnectedNet(list(hidden_dims), input_dim=task["X_train"].shape[1], num_classes=num_classes,
                            reg=reg, weight_scale=np.sqrt(2.0 / task["X_train"].shape[1]), seed=seed)
    train(net, task["X_train"], task["y_train"], num_iters, batch_size=min(100, len(task["y_train"])),
          learning_rate=learning_rate, optim_config={"momentum": 0.9}, seed=seed)
    return accuracy(net, task["X_test"], task["y_test"]), net


STRATEGIES = {
    "linear probe (frozen backbone)": lambda model, task, seed, num_iters: linear_probe(
        model, task, num_iters=num_iters, seed=seed)[0],
    "fine-tune all (backbone lr x0.1)": lambda model, task, seed, num_iters: fine_tune(
        model, task, num_iters=num_iters, seed=seed)[0],
    "from scratch": lambda model, task, seed, num_iters: from_scratch(task, num_iters=num_iters, seed=seed)[0],
}


def compare_strategies(model, kinds=TASK_KINDS, sizes=(1, 3, 10, 60), seeds=(0, 1), num_iters=200,
                       strategies=None):
    """Test accuracy of every strategy, task kind and training-set size, averaged over seeds.

    Inputs:
    - model: The pretrained model (``load_pretrained()``).
    - kinds: Task kinds ('similar', 'different'); sizes: training images per digit.
    - seeds: Each seed draws another training set and initialisation; accuracies are averaged.
    - num_iters: Training iterations of every strategy.
    - strategies: {name: run(model, task, seed, num_iters) -> accuracy} (default ``STRATEGIES``).

    Returns {kind: {strategy: (len(sizes),) array of mean test accuracies}}.
    """
    strategies = STRATEGIES if strategies is None else strategies
    results = {}
    for kind in kinds:
        results[kind] = {}
        for name, run in strategies.items():
            accs = [[run(model, make_task(kind, n, seed=s), s, num_iters) for s in seeds] for n in sizes]
            results[kind][name] = np.mean(accs, axis=1)
    return results
