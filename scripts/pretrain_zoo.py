"""Regenerate the model zoo (``cs231n_lec7/model_zoo/``) and print the sha256.

    python scripts/pretrain_zoo.py            # rewrite the weights and SHA256SUMS
    python scripts/pretrain_zoo.py --check    # retrain into a temp folder, compare with the shipped file
    python scripts/pretrain_zoo.py --out DIR  # write somewhere else

The recipe (everything seeded; the same numpy and BLAS give the same bytes, another
BLAS build or CPU gives weights equal up to float32 rounding, which ``--check`` accepts):
FullyConnectedNet 64-128-64-5 in float32, He initialisation (seed 0), trained
on the source task ``transfer.source_task()`` (the digits 0-4 only, every non-test
image; the target tasks use the digits 5-9, classes the model never sees) with
SGD+momentum 0.9, batch 64, cosine decay from 0.1 to 0 over 1500 iterations,
L2 reg 1e-3, minibatch seed 0. ``cs231n_lec7.transfer.load_pretrained``
refuses a file whose sha256 differs from ``SHA256SUMS``.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from cs231n_lec7 import transfer  # noqa: E402
from cs231n_lec7.fc_net import FullyConnectedNet  # noqa: E402
from cs231n_lec7.schedules import as_lr_schedule, cosine_decay  # noqa: E402

NAME = "digits_mlp"
HIDDEN_DIMS = [128, 64]
NUM_ITERS = 1500
BATCH_SIZE = 64
LR, MOMENTUM, REG, SEED = 0.1, 0.9, 1e-3, 0


def pretrain():
    """Train the zoo model on the source task; return (model, source-task test accuracy)."""
    task = transfer.source_task()
    model = FullyConnectedNet(HIDDEN_DIMS, input_dim=64, num_classes=len(transfer.SOURCE_CLASSES), reg=REG,
                              weight_scale=np.sqrt(2.0 / 64), dtype=np.float32, seed=SEED)
    transfer.train(model, task["X_train"], task["y_train"], NUM_ITERS, batch_size=BATCH_SIZE,
                   lr_schedule=as_lr_schedule(cosine_decay, initial_lr=LR, total_steps=NUM_ITERS),
                   update_rule="sgd_momentum", optim_config={"momentum": MOMENTUM}, seed=SEED)
    return model, transfer.accuracy(model, task["X_test"], task["y_test"])


ROUNDING_TOL = 1e-5  # max |difference| of weights retrained with another BLAS (seen: 5e-7)


def max_weight_difference(path_a, path_b):
    """Largest absolute difference between the arrays of two zoo files (inf if their layouts differ)."""
    with np.load(path_a, allow_pickle=False) as a, np.load(path_b, allow_pickle=False) as b:
        if sorted(a.files) != sorted(b.files) or any(a[k].shape != b[k].shape for k in a.files):
            return float("inf")
        return max(float(np.max(np.abs(a[k].astype(np.float64) - b[k].astype(np.float64)), initial=0.0))
                   for k in a.files)


def write_zoo(out_dir):
    """Pretrain, write ``<out_dir>/digits_mlp.npz`` and ``SHA256SUMS``; return (sha256, accuracy, size)."""
    os.makedirs(out_dir, exist_ok=True)
    model, acc = pretrain()
    path = os.path.join(out_dir, f"{NAME}.npz")
    digest = transfer.save_weights(path, model.params, HIDDEN_DIMS, transfer.SOURCE_CLASSES)
    with open(os.path.join(out_dir, "SHA256SUMS"), "w") as fh:
        fh.write(f"{digest}  {NAME}.npz\n")
    return digest, acc, os.path.getsize(path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=transfer.ZOO_DIR, help="output folder (default: the package's zoo)")
    parser.add_argument("--check", action="store_true", help="regenerate in a temp folder and compare")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # one BLAS thread: fast for these small matrices, and the same bytes every time
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            digest, acc, size = write_zoo(tmp)
            worst = max_weight_difference(os.path.join(tmp, f"{NAME}.npz"),
                                          os.path.join(transfer.ZOO_DIR, f"{NAME}.npz"))
        shipped = transfer.recorded_checksums().get(f"{NAME}.npz")
        print(f"{NAME}.npz regenerated: sha256 {digest} ({size} bytes, source test accuracy {acc:.3f})")
        if shipped == digest:
            print("identical to the shipped file")
        elif worst <= ROUNDING_TOL:
            print(f"equal to the shipped weights up to float32 rounding (max difference {worst:.2g}): this "
                  f"machine's BLAS rounds differently from the one that made the shipped file")
        else:
            print(f"DIFFERENT from the shipped file (max weight difference {worst:.3g})")
        return 0 if worst <= ROUNDING_TOL else 1
    digest, acc, size = write_zoo(args.out)
    print(f"{NAME}.npz: sha256 {digest} ({size} bytes, source test accuracy {acc:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
