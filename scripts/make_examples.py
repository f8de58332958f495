"""Rebuild examples/submissions/: realistic submissions for a dry run of the grader.

    python scripts/make_examples.py

- alice/        everything right (solution bodies, no markers, Adam written her own way)
- bob.zip       some wrong: Adam without bias correction, RMSProp decay swapped,
                dropout with p as the drop probability (zipped, package one folder down)
- carol/        broken: a syntax error in optim.py (layers and the rest still graded)
- dave/         unfinished: the student release with only the momentum exercises done
"""
import os
import re
import shutil
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from autograder.mistakes import MISTAKES  # noqa: E402
from autograder.plant import copy_solution, function_source, mistake_source, plant_function  # noqa: E402
from autograder.release import make_release  # noqa: E402

OUT = os.path.join(ROOT, "examples", "submissions")
MARKER_RE = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*\n", re.M)


def strip_markers(sub):
    pkg = os.path.join(sub, "cs231n_lec7")
    shutil.rmtree(os.path.join(pkg, "checks"), ignore_errors=True)
    shutil.rmtree(os.path.join(pkg, "model_zoo"), ignore_errors=True)
    shutil.rmtree(os.path.join(pkg, "bundled"), ignore_errors=True)  # the data store: the grader has its own
    for dirpath, _, files in os.walk(pkg):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(dirpath, f)
                with open(path) as fh:
                    text = fh.read()
                with open(path, "w") as fh:
                    fh.write(MARKER_RE.sub("", text))


def own_adam(w, dw, config=None):
    cfg = {} if config is None else config
    lr = cfg.setdefault("learning_rate", 1e-3)
    b1 = cfg.setdefault("beta1", 0.9)
    b2 = cfg.setdefault("beta2", 0.999)
    eps = cfg.setdefault("epsilon", 1e-8)
    t = cfg.get("t", 0) + 1
    m = b1 * cfg.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * cfg.get("v", np.zeros_like(w)) + (1 - b2) * np.square(dw)
    step = lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    cfg.update(m=m, v=v, t=t)
    return (w - step).astype(w.dtype), cfg


np = __import__("numpy")


def main():
    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    alice = copy_solution(os.path.join(OUT, "alice"))
    strip_markers(alice)
    plant_function(alice, "optim.adam", function_source(own_adam, "adam"))

    tmp = tempfile.mkdtemp()
    bob = copy_solution(os.path.join(tmp, "bob", "homework7"))
    strip_markers(bob)
    for title in ("missing bias correction", "RMSProp decay swapped", "p used as drop probability"):
        m = next(m for m in MISTAKES if m.title == title)
        plant_function(bob, m.exercise, mistake_source(m))
    with zipfile.ZipFile(os.path.join(OUT, "bob.zip"), "w", zipfile.ZIP_DEFLATED) as zf:
        for dirpath, _, files in os.walk(os.path.join(tmp, "bob")):
            for f in files:
                full = os.path.join(dirpath, f)
                zf.write(full, os.path.relpath(full, os.path.join(tmp, "bob")))

    carol = copy_solution(os.path.join(OUT, "carol"))
    strip_markers(carol)
    path = os.path.join(carol, "cs231n_lec7", "optim.py")
    with open(path) as fh:
        text = fh.read()
    with open(path, "w") as fh:
        fh.write(text.replace("v_prev = v\n", "v_prev = (v\n", 1))

    release = make_release(os.path.join(tmp, "release"), notebooks=False)
    dave = os.path.join(OUT, "dave")
    shutil.copytree(os.path.join(release, "cs231n_lec7"), os.path.join(dave, "cs231n_lec7"),
                    ignore=shutil.ignore_patterns("checks"))
    from cs231n_lec7 import optim

    for name in ("sgd_momentum", "nesterov_momentum"):
        plant_function(dave, f"optim.{name}", MARKER_RE.sub("", function_source(getattr(optim, name), name)),
            header="import numpy as np\nfrom cs231n_lec7.optim import _defaults\n")
    shutil.rmtree(tmp)
    print(f"wrote {', '.join(sorted(os.listdir(OUT)))} to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
