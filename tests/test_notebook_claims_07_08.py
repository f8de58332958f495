"""The claim checks of notebooks 07 and 08 reject a world in which the claim is false.

Each demonstration cell asserts what its text states ("claim: ..."). Running the source notebooks
(tests/test_notebooks.py) shows that the claims hold; here a notebook is cut down to its setup,
knobs and helpers plus the cells of one claim, a wrong ingredient is planted right after the knobs,
and the claim's cell must fail naming the claim:

- 07: batch norm that always uses its running averages (no batch noise in training);
- 08: augmentations that do nothing; DropConnect and stochastic depth whose test mode forgets the
  expectation (no scaling by p); a survival rule that ends at another p_L than the stated 0.5; linear
  residual blocks, for which the mean training output misses the test output only by Monte-Carlo noise.

The comparisons of 08's augmentation cell are checked one by one: ``run_claims(..., after_helpers=...)``
wraps the notebook's own ``fit`` so that the real runs come back with one planted change (e.g. the zoom
runs' validation accuracy two points higher), and that change alone must break the one claim about it.

07's rules cell is checked the same way: a wrapper of its ``fit`` moves one configuration's validation
accuracy (batch norm, dropout alone, both, or one keep probability) and that comparison alone must break.

The same cut-down notebooks without a plant run clean: the failures are the plants' doing.
"""
from __future__ import annotations

import os
import sys

import nbformat
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from render_walkthrough import run_notebook  # noqa: E402

pytestmark = pytest.mark.slow

PREAMBLE = ("setup", "knobs", "helpers")

BN_WITHOUT_BATCH_NOISE = """\
_batchnorm_forward = layers.batchnorm_forward
def _running_averages_only(x, gamma, beta, bn_param):
    return _batchnorm_forward(x, gamma, beta, {**bn_param, "mode": "test"})
layers.batchnorm_forward = _running_averages_only
"""
AUGMENTATION_DOES_NOTHING = "augmentation.augment_batch = lambda X, rng, **kwargs: X.copy()"
DROPCONNECT_UNSCALED_TEST = """\
_dropconnect_forward = regularization.dropconnect_forward
def _dropconnect_times_p(x, w, b, param):
    out, cache = _dropconnect_forward(x, w, b, param)
    return (out - b) * param["p"] + b if param["mode"] == "test" else out, cache
regularization.dropconnect_forward = _dropconnect_times_p
"""
STOCHASTIC_DEPTH_UNSCALED_TEST = """\
_stochastic_depth_forward = regularization.stochastic_depth_forward
def _full_branch_at_test(x, f, param):
    if param["mode"] == "test":
        return x + f, None
    return _stochastic_depth_forward(x, f, param)
regularization.stochastic_depth_forward = _full_branch_at_test
"""


def run_claims(name, plant, claim_cells, after_helpers=None):
    """Run notebooks/<name>: its setup, knobs, ``plant``, helpers, ``after_helpers`` (if given) and the cells
    ``claim_cells`` (grade_ids); return {grade_id: 'ename: evalue'} of the cells that raised."""
    nb = nbformat.read(os.path.join(ROOT, "notebooks", name), as_version=4)
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    missing = [g for g in (*PREAMBLE, *claim_cells) if g not in by_id]
    assert not missing, f"{name} has no cells {missing}"
    planted = nbformat.v4.new_code_cell(plant)
    planted.metadata["nbgrader"] = {"grade_id": "planted"}
    late = []
    if after_helpers is not None:
        late = [nbformat.v4.new_code_cell(after_helpers)]
        late[0].metadata["nbgrader"] = {"grade_id": "planted_after_helpers"}
    nb.cells = [by_id["setup"], by_id["knobs"], planted, by_id["helpers"], *late, *(by_id[g] for g in claim_cells)]
    executed, _ = run_notebook(nb, allow_errors=True, timeout=120)
    return {c.metadata.get("nbgrader", {}).get("grade_id"): f"{o.ename}: {o.evalue}"
            for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if o.output_type == "error"}


def test_07_batch_norm_without_batch_noise_breaks_the_scatter_claim():
    errors = run_claims("07_regularization.ipynb", BN_WITHOUT_BATCH_NOISE, ["batchnorm_noise"])
    assert errors == {"batchnorm_noise": "AssertionError: claim: in train mode the same image's scores scatter "
                                         "with the batch"}, errors


def test_07_unplanted_batch_norm_cell_is_clean():
    assert run_claims("07_regularization.ipynb", "pass", ["batchnorm_noise"]) == {}


def test_08_augmentation_that_does_nothing_breaks_the_shift_claim():
    errors = run_claims("08_augmentation_and_noise.ipynb", AUGMENTATION_DOES_NOTHING, ["aug_training"])
    assert list(errors) == ["aug_training"], errors
    assert errors["aug_training"].startswith("AssertionError: claim 'one-pixel shifts cost 16 points (val accuracy "
                                             "about 0.79, train about 0.82)' broke"), errors


@pytest.mark.parametrize("plant, cell, claim", [
    (DROPCONNECT_UNSCALED_TEST, "dropconnect_gradcheck", "claim 'in expectation train mode = test mode' broke"),
    (STOCHASTIC_DEPTH_UNSCALED_TEST, "sd_demo",
     "claim 'the test output is close to the mean train output, not equal' broke"),
], ids=["dropconnect", "stochastic_depth"])
def test_08_test_mode_without_the_expectation_breaks_the_claim(plant, cell, claim):
    errors = run_claims("08_augmentation_and_noise.ipynb", plant, [cell])
    assert list(errors) == [cell] and errors[cell].startswith(f"AssertionError: {claim}"), errors


def test_08_another_last_survival_probability_breaks_the_expected_depth_claim():
    """p_L = 0.25 gives an expected depth of L - (L+1)*3/8 (12.125 of 20), not the stated L - (L+1)/4 (14.75)."""
    errors = run_claims("08_augmentation_and_noise.ipynb", "SD_LAST_SURVIVAL = 0.25", ["sd_demo"])
    assert errors == {"sd_demo": "AssertionError: claim 'the expected depth is L - (L+1)/4 (14.75 of 20)' broke: "
                                 "12.12 of 20"}, errors


# The augmentation cell's real runs, each returned with one planted change by a wrapper of the notebook's `fit`
# (it knows a run's augmentation by looking it up in the cell's `augmentations`; no augmentation = plain).
FIT_WITH_A_PLANTED_CHANGE = """\
_fit = fit
def fit(model, data, epochs=EPOCHS, augment=None, seed=SEED, eval_from=0):
    history = _fit(model, data, epochs=epochs, augment=augment, seed=seed, eval_from=eval_from)
    name = next((n for n, f in globals().get("augmentations", {{}}).items() if f is augment), "plain")
    return planted_change(name, seed, history)
def planted_change(name, seed, history):
{body}
"""
ZOOM_BETTER = """\
    if name.startswith("zoom"):
        history["val_acc"] = [v + 0.02 for v in history["val_acc"]]
    return history"""
EVERY_RUN_TWO_POINTS_LOWER = """\
    history["val_acc"] = [v - 0.02 for v in history["val_acc"]]
    return history"""
ZOOM_FITS_THE_TRAINING_SET = """\
    if name.startswith("zoom"):
        history["train_acc"] = [1.0 for v in history["train_acc"]]
    return history"""
# The plain runs three points higher: the shifted runs' own accuracies still match the text, their cost does not.
PLAIN_THREE_POINTS_HIGHER = """\
    if name == "plain":
        history["val_acc"] = [v + 0.03 for v in history["val_acc"]]
    return history"""
SHIFTED_TRAINING_FLAT_IN_THE_SECOND_HALF = """\
    if name.startswith("shift") and seed == SEED:
        half = len(history["train_acc"]) // 2
        history["train_acc"] = history["train_acc"][:half] + [history["train_acc"][-1]] * (len(history["train_acc"]) - half)
    return history"""


@pytest.mark.parametrize("body, claim", [
    (SHIFTED_TRAINING_FLAT_IN_THE_SECOND_HALF,
     "seed 0: shifted training accuracy climbs from 0.665 at epoch 10 to about 0.81"),
    (ZOOM_BETTER, "zooming in costs 2.1 points beyond noise (0.924 against 0.945)"),
    (PLAIN_THREE_POINTS_HIGHER, "one-pixel shifts cost 16 points (val accuracy about 0.79, train about 0.82)"),
    (EVERY_RUN_TWO_POINTS_LOWER, "the plain net reaches about 0.945"),
    (ZOOM_FITS_THE_TRAINING_SET, "zooming in lowers the training accuracy to about 0.965 (plain 0.999)"),
], ids=["shift_flat", "zoom_better", "plain_higher", "all_lower", "zoom_fits"])
def test_08_each_augmentation_comparison_rejects_its_planted_change(body, claim):
    """Each change leaves the claims checked before it true (every run two points lower keeps the
    differences), so the cell must stop at exactly the claim the change falsifies."""
    errors = run_claims("08_augmentation_and_noise.ipynb", "pass", ["aug_training"],
                        after_helpers=FIT_WITH_A_PLANTED_CHANGE.format(body=body))
    assert list(errors) == ["aug_training"], errors
    assert errors["aug_training"].startswith(f"AssertionError: claim '{claim}' broke"), errors


def test_08_unchanged_fit_wrapper_is_clean():
    """The wrapper with no change passes the cell: the failures above are the changes' doing."""
    assert run_claims("08_augmentation_and_noise.ipynb", "pass", ["aug_training"],
                      after_helpers=FIT_WITH_A_PLANTED_CHANGE.format(body="    return history")) == {}


def test_08_unplanted_claim_cells_are_clean():
    cells = ["aug_training", "dropconnect_gradcheck", "sd_demo"]
    assert run_claims("08_augmentation_and_noise.ipynb", "pass", cells) == {}


def test_07_dropout_gap_numbers_are_those_of_keep_0_5():
    """The gap sentence quotes the seed-0 run at keep 0.5; another keep probability breaks it."""
    errors = run_claims("07_regularization.ipynb", "KEEP = 0.7", ["dropout_gap"])
    assert list(errors) == ["dropout_gap"] and "claim 'the gap shrinks (0.060 -> 0.046)" in errors["dropout_gap"], errors


def test_07_one_name_for_two_configurations_is_refused():
    """over_seeds reuses a name's runs, so a name given to another configuration must stop the notebook
    instead of silently returning the first configuration's runs."""
    errors = run_claims("07_regularization.ipynb", "SEEDS = [1]", [],
                        after_helpers="over_seeds('plain')\nover_seeds('plain', keep=1.0)\nover_seeds('plain', keep=0.5)")
    assert errors == {"planted_after_helpers": "AssertionError: over_seeds: 'plain' already names {'keep': 1.0, "
                                               "'normalization': None}, not {'keep': 0.5, 'normalization': None}: "
                                               "give this configuration another name"}, errors


# Monte-Carlo dropout whose masks are all the same one: its average never moves from the single mask's
# 0.900, so it cannot settle within one image of the scaled pass (0.947).
ONE_MASK_FOR_EVERY_SAMPLE = """\
_forward_scores = forward_scores
def forward_scores(model, X, mode="test", seed=None):
    return _forward_scores(model, X, mode=mode, seed=None if seed is None else SEED + 100)
"""


def test_07_monte_carlo_dropout_with_one_repeated_mask_breaks_the_settling_claim():
    errors = run_claims("07_regularization.ipynb", "pass", ["dropout_gap", "mc_dropout"],
                        after_helpers=ONE_MASK_FOR_EVERY_SAMPLE)
    assert list(errors) == ["mc_dropout"], errors
    assert errors["mc_dropout"].startswith("AssertionError: claim 'from K = 50 on, MC dropout settles within one "
                                           "image (0.3 points) of the single scaled pass' broke"), errors


# Dropout runs reported at 100 % training accuracy: dropout no longer lowers the training accuracy over
# the seeds, and only that claim of the rules cell depends on it before the smallest-p claim.
DROPOUT_FITS_THE_TRAINING_SET = """\
_fit = fit
def fit(model, data, **kwargs):
    history = _fit(model, data, **kwargs)
    if model.use_dropout:
        history["train_acc"] = [1.0 for _ in history["train_acc"]]
    return history
"""


def test_07_dropout_that_fits_the_training_set_breaks_the_lowered_training_accuracy_claim():
    errors = run_claims("07_regularization.ipynb", "pass", ["rules_runs"], after_helpers=DROPOUT_FITS_THE_TRAINING_SET)
    assert list(errors) == ["rules_runs"], errors
    assert errors["rules_runs"].startswith("AssertionError: claim 'over five seeds dropout lowers the training "
                                           "accuracy by about 0.7 points' broke"), errors


def test_07_unplanted_monte_carlo_and_rules_cells_are_clean():
    assert run_claims("07_regularization.ipynb", "pass", ["dropout_gap", "mc_dropout", "rules_runs"]) == {}


SHIFTED_TRAINING_FLAT_OVER_THE_LAST_EPOCHS = """\
    if name.startswith("shift"):
        history["train_acc"] = history["train_acc"][:-LAST] + [history["train_acc"][-1]] * LAST
    return history"""


def test_08_shifted_training_that_levels_off_breaks_the_keeps_climbing_claim():
    """Every seed's shifted training accuracy held at its last value over the last five epochs: seed 0's climb to
    about 0.81 and the cost claims still hold, but the seeds' mean no longer climbs from 0.769 to 0.822."""
    errors = run_claims("08_augmentation_and_noise.ipynb", "pass", ["aug_training"],
                        after_helpers=FIT_WITH_A_PLANTED_CHANGE.format(body=SHIFTED_TRAINING_FLAT_OVER_THE_LAST_EPOCHS))
    assert list(errors) == ["aug_training"], errors
    assert errors["aug_training"].startswith("AssertionError: claim 'averaged over the seeds, shifted training accuracy "
                                             "keeps climbing slowly, from 0.769 to 0.822 across the last five epochs' "
                                             "broke"), errors


def test_08_linear_blocks_break_the_nonlinear_gap_claim():
    """Linear residual blocks: the test-time rule is exact for the whole stack, the mean of the training outputs
    misses the test output only by Monte-Carlo noise, and 'more than 3 standard errors' must fail."""
    nb = nbformat.read(os.path.join(ROOT, "notebooks", "08_augmentation_and_noise.ipynb"), as_version=4)
    sd_demo = next(c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "sd_demo")
    nonlinear = "branch = np.maximum(x @ w1, 0) @ w2"
    assert nonlinear in sd_demo, "sd_demo: nothing to plant"
    linear = sd_demo.replace(nonlinear, "branch = (x @ w1) @ w2")
    errors = run_claims("08_augmentation_and_noise.ipynb", "pass", [], after_helpers=linear)
    assert list(errors) == ["planted_after_helpers"], errors
    assert errors["planted_after_helpers"].startswith(
        "AssertionError: claim 'not equal: the gap is more than 3 Monte-Carlo standard errors (the blocks are "
        "nonlinear)' broke"), errors


def test_07_08_predictions_are_asked_before_the_results_are_given():
    """'Predict before you run' is not followed, in the same cell, by what the runs show: that text comes in a
    locked markdown cell right after the runs' cell."""
    for name, runs_cell, results_cell in [("07_regularization.ipynb", "rules_runs", "md_rules_results"),
                                          ("08_augmentation_and_noise.ipynb", "aug_training", "md_aug_results")]:
        nb = nbformat.read(os.path.join(ROOT, "notebooks", name), as_version=4)
        ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells]
        assert not [c for c in nb.cells if "Predict before you run" in c.source and "What the runs show" in c.source], name
        assert ids.index(results_cell) == ids.index(runs_cell) + 1, name
        results = nb.cells[ids.index(results_cell)]
        assert results.cell_type == "markdown" and results.metadata["nbgrader"]["locked"], name
        assert results.source.startswith("### What the runs show"), name


def test_08_zoom_out_half_breaks_the_half_the_images_claim():
    """The old range (0.875, 1.125): without padding s > 1 changes nothing, a 7 x 7 crop on only ~25 % of draws."""
    errors = run_claims("08_augmentation_and_noise.ipynb", "DIGIT_ZOOM = (0.875, 1.125)", ["digit_flips"])
    assert list(errors) == ["digit_flips"], errors
    assert errors["digit_flips"].startswith("AssertionError: claim 'zoom in: a 7 x 7 crop on about half the images"), errors


# The rules cell's runs, each returned with one planted change by a wrapper of 07's `fit` (a run is known by its
# net: keep probability and normalization). Each change falsifies one comparison and leaves the earlier ones true.
FIT07_WITH_A_PLANTED_CHANGE = """\
_fit = fit
def fit(model, data, **kwargs):
    history = _fit(model, data, **kwargs)
    keep = model.dropout_param["p"] if model.use_dropout else 1.0
    return planted_change(keep, model.normalization, history)
def planted_change(keep, normalization, history):
    if ({condition}):
        history["val_acc"] = [v + ({shift}) for v in history["val_acc"]]
    return history
"""


@pytest.mark.parametrize("plant, condition, shift, claim", [
    ("pass", 'normalization == "batchnorm" and keep == 1.0', 0.015,
     "batch norm is about 2 points above plain (+1.8, interval [+1.0, +2.6]), outside the noise"),
    ("pass", "normalization is None and keep == 0.5", 0.008, "dropout alone is within noise of plain (-0.2 points)"),
    ("pass", 'normalization == "batchnorm" and keep == 0.5', -0.01,
     "adding dropout to batch norm: half a point lower, within noise but only just (interval [-1.03, +0.04] points)"),
    # a 0.15-point smaller cost keeps the verdict and "half a point" but moves the interval to [-0.88, +0.19]:
    # the interval as printed to two decimals in points no longer matches
    ("pass", 'normalization == "batchnorm" and keep == 0.5', 0.0015,
     "adding dropout to batch norm: half a point lower, within noise but only just (interval [-1.03, +0.04] points)"),
    ("KEEP_SWEEP = [0.25, 0.5, 0.75, 1.0]", "normalization is None and keep == 0.75", 0.01,
     "p = 0.5 is within about 0.2 points of no dropout (p = 1), neither better"),
    ("pass", "normalization is None and keep == 0.25", 0.015, "p = 0.25 is clearly worse (-1.8 points, beyond noise)"),
], ids=["bn_higher", "dropout_higher", "bn_dropout_lower", "bn_dropout_interval", "p075_better", "p025_closer"])
def test_07_each_rules_comparison_rejects_its_planted_change(plant, condition, shift, claim):
    errors = run_claims("07_regularization.ipynb", plant, ["rules_runs"],
                        after_helpers=FIT07_WITH_A_PLANTED_CHANGE.format(condition=condition, shift=shift))
    assert list(errors) == ["rules_runs"], errors
    assert errors["rules_runs"].startswith(f"AssertionError: claim '{claim}' broke"), errors


def test_08_digit_examples_are_scikit_learns_images():
    """digit_flips reads the digits from the bundled store: the same images scikit-learn's load_digits gives."""
    import numpy as np
    from sklearn.datasets import load_digits

    from cs231n_lec7.data import digits_arrays

    pixels, labels = digits_arrays()
    raw = load_digits()
    assert np.array_equal(pixels.reshape(-1, 8, 8), raw.images) and np.array_equal(labels, raw.target)
