"""Tests of cs231n_lec7/solver.py: learning, reproducibility, learning-rate control, update rules, checkpoints.

Each check is also shown to fail on a planted wrong answer (a zero learning
rate, an unseeded run, a config shared between parameters, ...).
"""
import pickle

import numpy as np
import pytest

from cs231n_lec7 import optim
from cs231n_lec7.fc_net import FullyConnectedNet
from cs231n_lec7.solver import Solver, update_rules

D, C, N_TRAIN, N_VAL, BATCH = 10, 4, 200, 80, 50
ITERS_PER_EPOCH = N_TRAIN // BATCH


@pytest.fixture(scope="module")
def data():
    """Four well-separated Gaussian blobs in 10-D (a linearly separable problem)."""
    rng = np.random.default_rng(0)
    centers = 4 * rng.standard_normal((C, D))

    def draw(n):
        y = rng.integers(C, size=n)
        return centers[y] + rng.standard_normal((n, D)), y

    X_train, y_train = draw(N_TRAIN)
    X_val, y_val = draw(N_VAL)
    return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}


def make_solver(data, model_seed=0, **kwargs):
    model = FullyConnectedNet([20], input_dim=D, num_classes=C, weight_scale=0.1, seed=model_seed,
                              dtype=kwargs.pop("dtype", np.float64))
    settings = dict(update_rule="adam", optim_config={"learning_rate": 1e-2}, batch_size=BATCH, num_epochs=5,
                    verbose=False, seed=0)
    settings.update(kwargs)
    return Solver(model, data, **settings)


def run(data, **kwargs):
    solver = make_solver(data, **kwargs)
    solver.train()
    return solver


# --------------------------------------------------------------------------
# It learns
# --------------------------------------------------------------------------
def test_trains_to_high_accuracy(data):
    """A small net reaches >= 95% training accuracy on separable data; the loss drops."""
    solver = run(data)
    assert solver.train_acc_history[-1] >= 0.95
    assert solver.best_val_acc >= 0.9
    assert np.mean(solver.loss_history[-4:]) < np.mean(solver.loss_history[:4]) / 3
    assert len(solver.loss_history) == 5 * ITERS_PER_EPOCH
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 1 + 5  # first iteration + each epoch


def test_accuracy_threshold_rejects_a_solver_that_does_not_learn(data):
    """With a zero learning rate the same threshold is missed (the check is not trivially met)."""
    solver = run(data, update_rule="sgd", optim_config={"learning_rate": 0.0})
    assert solver.train_acc_history[-1] < 0.95


@pytest.mark.parametrize("rule", update_rules())
def test_every_rule_of_optim_runs(data, rule):
    """Every update rule of optim.py trains by name and lowers the loss."""
    lr = {"sgd": 0.5, "sgd_momentum": 0.1, "nesterov_momentum": 0.1, "adagrad": 0.1, "rmsprop": 1e-2,
          "adam": 1e-2}[rule]
    solver = run(data, update_rule=rule, optim_config={"learning_rate": lr})
    assert solver.loss_history[-1] < solver.loss_history[0]


def test_float32_model_stays_float32(data):
    """Training a float32 model with Adam keeps every parameter float32."""
    solver = run(data, dtype=np.float32, num_epochs=1)
    assert all(p.dtype == np.float32 for p in solver.model.params.values())


def test_best_params_restored(data):
    """After train(), model.params are the best ones: the model's val accuracy is best_val_acc."""
    solver = run(data, num_epochs=3)
    assert solver.best_val_acc == max(solver.val_acc_history)
    assert solver.check_accuracy(data["X_val"], data["y_val"]) == solver.best_val_acc
    assert all(np.array_equal(solver.model.params[k], solver.best_params[k]) for k in solver.best_params)


# --------------------------------------------------------------------------
# Reproducibility
# --------------------------------------------------------------------------
def histories(solver):
    return (solver.loss_history, solver.train_acc_history, solver.val_acc_history, solver.lr_history)


def test_same_seed_same_run(data):
    """Two runs with the same seeds have identical histories and parameters; a Generator works as a seed."""
    a = run(data, seed=3, num_train_samples=50)
    b = run(data, seed=3, num_train_samples=50)
    c = run(data, seed=np.random.default_rng(3), num_train_samples=50)
    assert histories(a) == histories(b) == histories(c)
    assert all(np.array_equal(a.model.params[k], b.model.params[k]) for k in a.model.params)


def test_reproducibility_check_rejects_unseeded_runs(data):
    """Without a seed (or with another one) the minibatches differ and so do the histories."""
    assert histories(run(data, seed=None)) != histories(run(data, seed=None))
    assert histories(run(data, seed=3)) != histories(run(data, seed=4))


def test_solver_leaves_global_rng_alone(data):
    """Sampling uses the solver's own Generator; numpy's global state is untouched."""
    state = np.random.get_state()[1].copy()
    run(data, num_epochs=1, num_train_samples=50, num_val_samples=40)
    assert np.array_equal(np.random.get_state()[1], state)


# --------------------------------------------------------------------------
# Learning rate: lr_decay and lr_schedule
# --------------------------------------------------------------------------
def test_lr_decay_per_epoch(data):
    """Without a schedule the rate is multiplied by lr_decay after each epoch; lr_history shows it."""
    solver = run(data, update_rule="sgd", optim_config={"learning_rate": 0.1}, lr_decay=0.5, num_epochs=3)
    expected = [0.1 * 0.5 ** (t // ITERS_PER_EPOCH) for t in range(3 * ITERS_PER_EPOCH)]
    assert solver.lr_history == pytest.approx(expected, rel=1e-12)


def test_lr_history_records_the_rules_default(data):
    """With no learning_rate in optim_config, lr_history shows the rule's default (Adam: 1e-3)."""
    solver = run(data, optim_config={}, num_epochs=1)
    assert solver.lr_history == [1e-3] * ITERS_PER_EPOCH


def test_lr_schedule_respected(data):
    """lr_history equals the schedule at every iteration; lr_decay is not applied on top of it."""
    def schedule(it):
        return 0.05 * 0.9**it

    solver = run(data, lr_schedule=schedule, lr_decay=0.1, num_epochs=3)
    n = 3 * ITERS_PER_EPOCH
    assert solver.lr_history == [schedule(t) for t in range(n)]
    assert all(cfg["learning_rate"] == schedule(n - 1) for cfg in solver.optim_configs.values())


def test_lr_schedule_is_applied_not_just_recorded(data):
    """A schedule of zeros freezes the parameters (plain SGD); a schedule that was only logged would not."""
    solver = make_solver(data, update_rule="sgd", optim_config={"learning_rate": 1.0},
                         lr_schedule=lambda it: 0.0, num_epochs=1)
    before = {k: v.copy() for k, v in solver.model.params.items()}
    solver.train()
    assert all(np.array_equal(before[k], solver.model.params[k]) for k in before)
    moved = run(data, update_rule="sgd", optim_config={"learning_rate": 1.0}, lr_schedule=lambda it: 0.1,
                num_epochs=1)
    assert not all(np.array_equal(before[k], moved.model.params[k]) for k in before)


@pytest.mark.parametrize("schedule", [lambda it: -1.0, lambda it: float("nan")], ids=["negative", "nan"])
def test_lr_schedule_bad_values(data, schedule):
    """A schedule returning a negative or non-finite rate is a clear error."""
    with pytest.raises(ValueError, match="must be finite and >= 0"):
        run(data, lr_schedule=schedule)


# --------------------------------------------------------------------------
# Update rules given as callables; one config per parameter
# --------------------------------------------------------------------------
def counting_sgd(w, dw, config=None):
    """Plain SGD that counts its calls and logs them in its config (to expose shared configs)."""
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config["calls"] = config.get("calls", 0) + 1
    config["log"].append(config["calls"])
    return w - config["learning_rate"] * dw, config


def test_callable_update_rule_and_one_config_per_parameter(data):
    """A callable rule works; each parameter has its own deep copy of optim_config; the caller's dict is untouched."""
    optim_config = {"learning_rate": 0.5, "log": []}
    solver = run(data, update_rule=counting_sgd, optim_config=optim_config, num_epochs=2)
    n = 2 * ITERS_PER_EPOCH
    configs = list(solver.optim_configs.values())
    assert len(configs) == len(solver.model.params)
    assert all(cfg["calls"] == n and cfg["log"] == list(range(1, n + 1)) for cfg in configs)
    assert optim_config == {"learning_rate": 0.5, "log": []}
    assert solver.train_acc_history[-1] >= 0.9


def test_shared_config_would_be_detected(data):
    """PLANTED: configs shared between parameters make the per-parameter call counts wrong."""
    solver = make_solver(data, update_rule=counting_sgd, optim_config={"learning_rate": 0.5, "log": []},
                         num_epochs=1)
    shared = solver.optim_configs["W1"]
    solver.optim_configs = {k: shared for k in solver.optim_configs}
    solver.train()
    assert shared["calls"] != ITERS_PER_EPOCH


def test_state_is_not_shared_between_parameters(data):
    """Adam's m and v are separate arrays for every parameter."""
    solver = run(data, num_epochs=1)
    ms = [id(cfg["m"]) for cfg in solver.optim_configs.values()]
    assert len(set(ms)) == len(ms)
    assert all(cfg["t"] == ITERS_PER_EPOCH for cfg in solver.optim_configs.values())


# --------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------
def test_checkpoint_written_and_loadable(data, tmp_path):
    """One pickle per epoch; the last one holds the model and the run, and the model still predicts."""
    name = str(tmp_path / "ckpts" / "net")
    solver = run(data, num_epochs=2, checkpoint_name=name)
    files = sorted(p.name for p in (tmp_path / "ckpts").iterdir())
    assert files == ["net_epoch_0.pkl", "net_epoch_1.pkl", "net_epoch_2.pkl"]  # epoch 0 is the first iteration
    with open(tmp_path / "ckpts" / "net_epoch_2.pkl", "rb") as f:
        checkpoint = pickle.load(f)
    assert checkpoint["epoch"] == 2 and checkpoint["update_rule"] == "adam"
    assert checkpoint["loss_history"] == solver.loss_history
    assert checkpoint["val_acc_history"] == solver.val_acc_history
    assert len(checkpoint["lr_history"]) == 2 * ITERS_PER_EPOCH
    assert checkpoint["model"].loss(data["X_val"]).shape == (N_VAL, C)


def test_checkpoint_with_callable_rule(data, tmp_path):
    """A lambda update rule (not picklable) is recorded by name; the checkpoint still pickles."""
    run(data, num_epochs=1, update_rule=lambda w, dw, config: optim.sgd(w, dw, config),
        checkpoint_name=str(tmp_path / "lam"))
    with open(tmp_path / "lam_epoch_1.pkl", "rb") as f:
        assert "lambda" in pickle.load(f)["update_rule"]


# --------------------------------------------------------------------------
# Errors and output
# --------------------------------------------------------------------------
def test_unknown_rule_lists_valid_ones(data):
    """A misspelled rule name is a ValueError that lists every rule in optim.py."""
    with pytest.raises(ValueError, match="unknown update_rule 'adamw'") as err:
        make_solver(data, update_rule="adamw")
    assert all(name in str(err.value) for name in ("sgd", "sgd_momentum", "nesterov_momentum", "adagrad",
                                                    "rmsprop", "adam"))
    assert "_defaults" not in str(err.value)


def test_unknown_kwargs_named(data):
    """Unrecognized keyword arguments are named in the error (a typo is not silently ignored)."""
    with pytest.raises(ValueError, match="learning_rate, num_epoch"):
        make_solver(data, num_epoch=3, learning_rate=0.1)


def test_missing_data_key(data):
    """data without X_val is an error naming the missing key."""
    partial = {k: v for k, v in data.items() if k != "X_val"}
    with pytest.raises(ValueError, match="missing X_val"):
        make_solver(partial)


def test_verbose_output_and_progress_bar(data, capsys):
    """verbose prints iterations and epochs on stdout; progress=True adds a tqdm bar (stderr), off by default."""
    run(data, num_epochs=1, verbose=True, print_every=2)
    out, err = capsys.readouterr()
    assert f"(Iteration 1 / {ITERS_PER_EPOCH}) loss:" in out and "(Epoch 1 / 1) train acc:" in out
    assert err == ""
    run(data, num_epochs=1, verbose=True, progress=True)
    out, err = capsys.readouterr()
    assert "(Epoch 1 / 1)" in out and "training" in err and "it" in err


@pytest.mark.parametrize("n, batch, seed", [(1197, 25, 0), (1197, 200, 3), (20, 100, 7), (5, 1, 11)])
def test_minibatch_draws_are_rng_choices(n, batch, seed):
    """Solver and transfer.train draw with rng.integers(0, n, batch): the very draws of rng.choice(n, batch)."""
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    for _ in range(3):
        assert np.array_equal(a.integers(0, n, batch), b.choice(n, batch))
