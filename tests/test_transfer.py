"""transfer.py and the model zoo: checksum on load, deterministic regeneration, tasks, strategies."""
from __future__ import annotations

import os
import shutil
import sys

import numpy as np
import pytest

from cs231n_lec7 import transfer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME = "digits_mlp"


def test_zoo_is_small_and_loads_with_checksum():
    path = os.path.join(transfer.ZOO_DIR, f"{NAME}.npz")
    assert os.path.getsize(path) < 1_000_000
    assert transfer.recorded_checksums()[f"{NAME}.npz"] == transfer.sha256_file(path)
    model = transfer.load_pretrained(NAME)
    assert model.source_classes == [0, 1, 2, 3, 4] == list(transfer.SOURCE_CLASSES)
    assert [model.params[f"W{i}"].shape for i in (1, 2, 3)] == [(64, 128), (128, 64), (64, 5)]
    task = transfer.source_task()
    assert transfer.accuracy(model, task["X_test"], task["y_test"]) > 0.9


def test_tampered_zoo_file_is_refused(tmp_path):
    zoo = tmp_path / "zoo"
    shutil.copytree(transfer.ZOO_DIR, zoo)
    data = bytearray((zoo / f"{NAME}.npz").read_bytes())
    data[-200] ^= 0xFF
    (zoo / f"{NAME}.npz").write_bytes(bytes(data))
    with pytest.raises(transfer.ChecksumError, match="pretrain_zoo.py"):
        transfer.load_pretrained(NAME, zoo_dir=str(zoo))
    with pytest.raises(KeyError, match="available"):
        transfer.load_pretrained("resnet152")


def _pretrain_zoo():
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    try:
        import pretrain_zoo
    finally:
        sys.path.pop(0)
    return pretrain_zoo


def test_zoo_regenerates_deterministically_and_matches_the_shipped_weights(tmp_path):
    """Same machine: the same bytes twice. Shipped file: equal up to float32 rounding (BLAS builds differ)."""
    from threadpoolctl import threadpool_limits

    pretrain_zoo = _pretrain_zoo()
    with threadpool_limits(1):  # as the script runs
        digest, acc, size = pretrain_zoo.write_zoo(str(tmp_path / "a"))
        again, _, _ = pretrain_zoo.write_zoo(str(tmp_path / "b"))
    assert digest == again, "pretraining is not deterministic: two runs gave different weights"
    shipped = os.path.join(transfer.ZOO_DIR, f"{NAME}.npz")
    worst = pretrain_zoo.max_weight_difference(str(tmp_path / "a" / f"{NAME}.npz"), shipped)
    assert worst <= pretrain_zoo.ROUNDING_TOL, \
        f"scripts/pretrain_zoo.py no longer reproduces the shipped weights (max difference {worst:.3g}): " \
        f"did layers/fc_net/optim change?"
    assert acc > 0.9


def test_weight_comparison_rejects_retrained_or_reshaped_weights(tmp_path):
    """The rounding tolerance is far below what a changed recipe does to the weights."""
    pretrain_zoo = _pretrain_zoo()
    shipped = os.path.join(transfer.ZOO_DIR, f"{NAME}.npz")
    with np.load(shipped, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    nudged = dict(arrays, W2=arrays["W2"] + np.float32(1e-3))
    np.savez(tmp_path / "nudged.npz", **nudged)
    assert pretrain_zoo.max_weight_difference(str(tmp_path / "nudged.npz"), shipped) > pretrain_zoo.ROUNDING_TOL
    np.savez(tmp_path / "reshaped.npz", **dict(arrays, b1=arrays["b1"][:-1]))
    assert pretrain_zoo.max_weight_difference(str(tmp_path / "reshaped.npz"), shipped) == float("inf")


def test_tasks_are_disjoint_and_labelled():
    """Source digits 0-4, target digits 5-9: no class and no image shared; test images never trained on."""
    from cs231n_lec7.data import digits_arrays

    assert not set(transfer.SOURCE_CLASSES) & set(transfer.TARGET_CLASSES)
    assert sorted(transfer.SOURCE_CLASSES + transfer.TARGET_CLASSES) == list(range(10))
    images, rest, test = transfer._digits_split()
    _, digit_of = digits_arrays()
    for c in range(10):
        assert len(test[c]) == transfer.TEST_PER_DIGIT and not set(rest[c]) & set(test[c])
        assert np.all(digit_of[rest[c]] == c) and np.all(digit_of[test[c]] == c)
    source = transfer.source_task()
    assert len(source["y_train"]) == sum(len(rest[c]) for c in transfer.SOURCE_CLASSES)
    assert source["X_test"].shape == (250, 64) and sorted(np.unique(source["y_train"])) == [0, 1, 2, 3, 4]
    task = transfer.make_task("similar", per_digit=3, seed=1)
    assert task["X_train"].shape == (15, 64) and task["X_test"].shape == (250, 64)
    assert sorted(np.unique(task["y_train"])) == [0, 1, 2, 3, 4]
    assert task["X_train"].dtype == np.float32 and task["X_train"].min() >= -0.5 and task["X_train"].max() <= 0.5
    # every target image is one of the digits 5-9, with label k for digit TARGET_CLASSES[k]
    pool = {c: transfer.preprocess(images[rest[c]]) for c in transfer.TARGET_CLASSES}
    for x, k in zip(task["X_train"], task["y_train"]):
        assert np.any(np.all(pool[transfer.TARGET_CLASSES[k]] == x, axis=1))
    assert not np.any([np.all(transfer.preprocess(images[rest[c]]) == x, axis=1).any()
                       for x in task["X_train"] for c in transfer.SOURCE_CLASSES])
    different = transfer.make_task("different", per_digit=3, seed=1)
    np.testing.assert_array_equal(different["y_train"], task["y_train"])
    np.testing.assert_allclose(different["X_train"].reshape(-1, 8, 8),
                               np.rot90(-task["X_train"].reshape(-1, 8, 8), axes=(1, 2)))
    assert transfer.make_task("similar", per_digit=124)["X_train"].shape == (620, 64)
    with pytest.raises(ValueError, match="per_digit"):
        transfer.make_task("similar", per_digit=125)
    with pytest.raises(ValueError, match="kind"):
        transfer.make_task("upside-down")


def test_features_and_frozen_training():
    model = transfer.load_pretrained()
    X = transfer.make_task("similar", 4)["X_train"]
    np.testing.assert_array_equal(transfer.extract_features(model, X, 0), X)
    assert transfer.extract_features(model, X).shape == (20, 64)
    assert transfer.extract_features(model, X, 1).shape == (20, 128)
    before = {k: v.copy() for k, v in model.params.items()}
    task = transfer.make_task("similar", 3)
    _, tuned = transfer.fine_tune(model, task, frozen_layers=1, num_iters=20)
    for k, v in before.items():  # the zoo model itself is untouched
        np.testing.assert_array_equal(model.params[k], v)
    np.testing.assert_array_equal(tuned.params["W1"], before["W1"])  # frozen: lr multiplier 0
    assert not np.array_equal(tuned.params["W2"], before["W2"])
    assert tuned.params["W3"].shape == (64, 5)


def test_top_features_of_other_classes_lose_to_scratch_and_earlier_stages_do_better():
    """The notebook's headline: features of a net trained on 0-4 are a poor start for 5-9 (negative transfer);
    the earlier, more generic layer transfers better than the top one. 4 images per digit, 3 seeds."""
    model = transfer.load_pretrained()
    top, early, scratch = [], [], []
    for seed in range(3):
        task = transfer.make_task("similar", per_digit=4, seed=seed)
        top.append(transfer.linear_probe(model, task, num_iters=100, seed=seed)[0])
        early.append(transfer.linear_probe(model, task, num_layers=1, num_iters=100, seed=seed)[0])
        scratch.append(transfer.from_scratch(task, num_iters=100, seed=seed)[0])
    assert np.mean(scratch) > np.mean(top) + 0.1
    assert np.mean(early) > np.mean(top) + 0.1
