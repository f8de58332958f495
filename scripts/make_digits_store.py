"""Write ``cs231n_lec7/bundled/digits.npz``: scikit-learn's digits and the splits the course uses.

    python scripts/make_digits_store.py

``get_digits_data`` reads the images and, for a stored split, its row indices from this file
instead of importing scikit-learn (about 0.7 s in every notebook that trains on digits); any other
split is computed live with scikit-learn. Stored: the default sizes (300 validation, 300 test, the
rest for training) for seeds 0..9, and every ``get_digits_data(...)`` call of the notebooks with
their knob values. tests/test_data.py checks the file against scikit-learn and that every notebook's
call is stored: re-run this script after changing a notebook's split knobs.
"""
from __future__ import annotations

import ast
import glob
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from cs231n_lec7 import data  # noqa: E402

DEFAULT_SEEDS = range(10)


def _calls_in(source):
    """The keyword-argument expressions of every get_digits_data(...) call in ``source``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "get_digits_data":
            yield node


def notebook_splits(notebooks_dir=os.path.join(ROOT, "notebooks")):
    """{(num_val, num_test, num_train, seed)} of the notebooks' get_digits_data calls, knobs evaluated.

    A notebook's knobs cell (nbgrader grade_id "knobs") holds plain assignments; the call's
    arguments are evaluated in that namespace.
    """
    import matplotlib

    matplotlib.use("Agg")  # the setup cells import pyplot
    import nbformat

    splits = set()
    for path in sorted(glob.glob(os.path.join(notebooks_dir, "*.ipynb"))):
        nb = nbformat.read(path, as_version=4)
        cells = {c.metadata.get("nbgrader", {}).get("grade_id"): "\n".join(
            line for line in c.source.splitlines() if not line.lstrip().startswith(("%", "!")))
            for c in nb.cells if c.cell_type == "code"}
        calls = [call for source in cells.values() for call in _calls_in(source)]
        if not calls:
            continue
        namespace = {}
        for grade_id in ("setup", "knobs"):  # the imports the knobs may use, then the knobs
            exec(compile(cells.get(grade_id, ""), f"{os.path.basename(path)}:{grade_id}", "exec"), namespace)
        for call in calls:
            kwargs = {kw.arg: eval(compile(ast.Expression(kw.value), path, "eval"), namespace)
                      for kw in call.keywords}
            splits.add(split_of(**kwargs))
    return splits


def split_of(num_val=300, num_test=300, num_train=None, seed=0, **_):
    total = 1797
    return (num_val, num_test, total - num_val - num_test if num_train is None else num_train, int(seed))


def wanted_splits():
    return sorted({split_of(seed=s) for s in DEFAULT_SEEDS} | notebook_splits(), key=str)


def main():
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = digits.data.astype(np.uint8)
    assert np.array_equal(pixels, digits.data), "the digits' pixels are integers 0..16"
    arrays = {"pixels": pixels, "target": digits.target.astype(np.uint8)}
    for num_val, num_test, num_train, seed in wanted_splits():
        indices = data.digits_split_indices(digits.target, num_val, num_test, num_train, seed)
        arrays[data._split_key(num_val, num_test, num_train, seed)] = indices.astype(np.int16)
    os.makedirs(os.path.dirname(data.DIGITS_STORE), exist_ok=True)
    np.savez_compressed(data.DIGITS_STORE, **arrays)
    print(f"wrote {data.DIGITS_STORE} ({os.path.getsize(data.DIGITS_STORE) / 1024:.0f} KB): "
          f"{len(arrays) - 2} splits")


if __name__ == "__main__":
    main()
