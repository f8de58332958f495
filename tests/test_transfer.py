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
    assert model.source_classes == list(range(10))
    assert [model.params[f"W{i}"].shape for i in (1, 2, 3)] == [(64, 128), (128, 64), (64, 10)]
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
    images, source, target, test = transfer._digits_split()
    for c in range(10):
        assert not (set(source[c]) & set(target[c])) and not (set(source[c] ) & set(test[c]))
        assert not set(target[c]) & set(test[c])
    task = transfer.make_task("similar", per_digit=3, seed=1)
    assert task["X_train"].shape == (30, 64) and task["X_test"].shape == (500, 64)
    assert sorted(np.unique(task["y_train"])) == [0, 1, 2, 3, 4]
    assert task["X_train"].dtype == np.float32 and task["X_train"].min() >= -0.5 and task["X_train"].max() <= 0.5
    different = transfer.make_task("different", per_digit=3, seed=1)
    np.testing.assert_array_equal(different["y_train"], task["y_train"])
    np.testing.assert_allclose(different["X_train"].reshape(-1, 8, 8),
                               np.rot90(-task["X_train"].reshape(-1, 8, 8), axes=(1, 2)))
    with pytest.raises(ValueError, match="per_digit"):
        transfer.make_task("similar", per_digit=1000)
    with pytest.raises(ValueError, match="kind"):
        transfer.make_task("upside-down")


def test_features_and_frozen_training():
    model = transfer.load_pretrained()
    X = transfer.make_task("similar", 2)["X_train"]
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


def test_transfer_beats_scratch_on_small_similar_data():
    """The notebook's headline: with 2 images per digit, features from the zoo win clearly."""
    model = transfer.load_pretrained()
    task = transfer.make_task("similar", per_digit=2, seed=0)
    probe, _ = transfer.linear_probe(model, task, num_iters=200)
    scratch, _ = transfer.from_scratch(task, num_iters=200)
    assert probe > scratch + 0.05
