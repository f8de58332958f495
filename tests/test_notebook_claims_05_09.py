"""The claim checks of notebooks 05, 06 and 09 reject a world in which the claim is false.

Each notebook asserts the numbers and comparisons its text states ("claim '...' broke"). Running the
source notebooks (tests/test_notebooks.py) shows that the claims hold; here a wrong ingredient is
planted in a cell right after the knobs, the notebook runs up to the cell that checks the claim, and
that cell must fail naming the claim:

- 05: L-BFGS with a line search that checks sufficient decrease only (the curvature condition gone);
- 06: an "ensemble" whose accuracy is its first member's instead of the average's;
- 09: a "pretrained" network that is only randomly initialised.
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


def run_planted(name, plant, last_cell):
    """Run notebooks/<name> with ``plant`` after the knobs, up to and including ``last_cell`` (a grade_id);
    return {grade_id: 'ename: evalue'} of the cells that raised."""
    nb = nbformat.read(os.path.join(ROOT, "notebooks", name), as_version=4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    nb.cells = nb.cells[: ids.index(last_cell) + 1]
    nb.cells.insert(ids.index("knobs") + 1, nbformat.v4.new_code_cell(plant))
    nb.cells[ids.index("knobs") + 1].metadata["nbgrader"] = {"grade_id": "planted"}
    executed, _ = run_notebook(nb, allow_errors=True, timeout=120)
    return {c.metadata.get("nbgrader", {}).get("grade_id"): f"{o.ename}: {o.evalue}"
            for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if o.output_type == "error"}


def test_05_armijo_only_line_search_breaks_the_quasi_newton_claims():
    plant = ("second_order.wolfe_line_search = (lambda f_and_grad, x, f, g, d, first_step=1.0:\n"
             "    second_order.backtracking(f_and_grad, x, f, g, d))")
    errors = run_planted("05_second_order.ipynb", plant, "lbfgs_rosen")
    assert set(errors) <= {"bfgs_rosen", "lbfgs_rosen"} and errors, errors
    assert all(e.startswith("AssertionError: claim '") and "broke" in e for e in errors.values()), errors


def test_05_unplanted_run_up_to_the_quasi_newton_figure_is_clean():
    """The same truncated run without the plant passes: the failure above is the plant's doing."""
    assert run_planted("05_second_order.ipynb", "pass", "lbfgs_rosen") == {}


def test_06_first_member_instead_of_the_average_breaks_the_ensemble_claim():
    plant = ("averaging.ensemble_accuracy = lambda prob_list, y, weights=None: float(\n"
             "    np.mean(np.argmax(np.asarray(prob_list)[0], axis=1) == y))")
    errors = run_planted("06_ensembles.ipynb", plant, "measure_gain")
    assert list(errors) == ["measure_gain"], errors
    assert "claim 'the ensemble beats its average member in every trial' broke" in errors["measure_gain"]


def test_09_random_backbone_breaks_the_frozen_features_claim():
    plant = ("from cs231n_lec7.fc_net import FullyConnectedNet\n"
             "transfer.load_pretrained = lambda name='digits_mlp', **kw: FullyConnectedNet(\n"
             "    [128, 64], input_dim=64, num_classes=10, weight_scale=0.1, dtype=np.float32, seed=0)")
    errors = run_planted("09_transfer_learning.ipynb", plant, "freeze_small")
    assert list(errors) == ["freeze_small"], errors
    assert "claim 'frozen features beat training from scratch by 10+ points on 20 images' broke" in errors["freeze_small"]


def test_09_backbone_rate_that_changes_nothing_breaks_the_within_noise_claim():
    """If x1 trained exactly like x0.1, the 20-similar-images difference and its interval would be 0."""
    plant = ("_fine_tune = transfer.fine_tune\n"
             "transfer.fine_tune = lambda *a, backbone_lr_mult=0.1, **kw: _fine_tune(*a, backbone_lr_mult=0.1, **kw)")
    errors = run_planted("09_transfer_learning.ipynb", plant, "finetune_large")
    assert list(errors) == ["finetune_large"], errors
    assert "claim 'with 20 similar images x0.1 is ahead by 1.3 points" in errors["finetune_large"], errors


def test_09_backbone_rate_that_matters_only_on_similar_images_breaks_the_different_data_claims():
    """If the backbone rate changed nothing on the different images, x0.1 could not cost three points there
    (the similar-image claims before it still hold)."""
    plant = ("_fine_tune = transfer.fine_tune\n"
             "transfer.fine_tune = lambda model, task, backbone_lr_mult=0.1, **kw: _fine_tune(\n"
             "    model, task, backbone_lr_mult=0.1 if task['kind'] == 'different' else backbone_lr_mult, **kw)")
    errors = run_planted("09_transfer_learning.ipynb", plant, "finetune_large")
    assert list(errors) == ["finetune_large"], errors
    assert "claim 'with 600 different images the smaller rate costs about three points, in every seed' broke" \
        in errors["finetune_large"], errors


def test_09_from_scratch_on_a_smaller_budget_at_600_images_breaks_the_advantage_curve():
    """Comparisons need equal budgets: from scratch given a third of the iterations on the largest set makes
    the pretrained start look far better there than the ~1.5 points the text states."""
    plant = ("_from_scratch = transfer.from_scratch\n"
             "transfer.from_scratch = lambda task, num_iters=400, **kw: _from_scratch(\n"
             "    task, num_iters=num_iters // 3 if len(task['y_train']) >= 600 else num_iters, **kw)")
    errors = run_planted("09_transfer_learning.ipynb", plant, "compare_sizes")
    assert "compare_sizes" in errors and set(errors) <= {"finetune_large", "compare_sizes"}, errors
    assert "claim 'similar data: the less data, the larger the advantage (10+ points -> ~1.5)' broke" \
        in errors["compare_sizes"], errors


def test_09_top_layers_fine_tuned_on_half_the_budget_break_the_quoted_accuracy():
    """The model answer quotes ~0.88 for fine-tuning the top layers on 600 different images; the same option
    trained for half the iterations there lands far from it (the table's other claims still hold)."""
    plant = ("_fine_tune = transfer.fine_tune\n"
             "def _half_budget(model, task, frozen_layers=0, num_iters=400, **kw):\n"
             "    short = frozen_layers == 1 and task['kind'] == 'different' and len(task['y_train']) >= 600\n"
             "    return _fine_tune(model, task, frozen_layers=frozen_layers, num_iters=num_iters // 2 if short else num_iters, **kw)\n"
             "transfer.fine_tune = _half_budget")
    errors = run_planted("09_transfer_learning.ipynb", plant, "measure_table")
    assert list(errors) == ["measure_table"], errors
    assert errors["measure_table"].startswith(
        "AssertionError: the answer's '~0.88' for fine-tune top layers (large, different) broke"), errors


def test_09_unplanted_run_up_to_the_table_is_clean():
    """The same truncated run without a plant passes: the failures above are the plants' doing."""
    assert run_planted("09_transfer_learning.ipynb", "pass", "measure_table") == {}
