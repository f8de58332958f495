"""Minibatch training of classification models (CS231n's ``Solver``).

A Solver trains a model with the update rules of ``optim.py``::

    data = {'X_train': ..., 'y_train': ..., 'X_val': ..., 'y_val': ...}
    model = FullyConnectedNet([100, 100], input_dim=64, num_classes=10, seed=0)
    solver = Solver(model, data, update_rule='adam', optim_config={'learning_rate': 1e-3},
                    lr_decay=0.95, num_epochs=10, batch_size=100, print_every=100, seed=0)
    solver.train()
    # solver.model.params now holds the parameters with the best validation accuracy;
    # solver.loss_history, train_acc_history, val_acc_history, lr_history hold the run.

The model must provide:
- ``model.params``: a dict mapping parameter names to numpy arrays.
- ``model.loss(X, y=None)``: with y (shape (N,)) it returns ``(loss, grads)``
  where grads has the keys of params; without y (test time) it returns
  ``scores`` of shape (N, C).

The update rule is a name in ``cs231n_lec7.optim`` ('sgd', 'sgd_momentum',
'nesterov_momentum', 'adagrad', 'rmsprop', 'adam') or any callable with the
same contract ``next_w, config = rule(w, dw, config)``. Every parameter gets
its own deep copy of ``optim_config`` (so state such as Adam's m and v is never
shared between parameters).

Learning rate, one of two ways:
- ``lr_decay`` (CS231n): after each epoch, every parameter's
  ``config['learning_rate']`` is multiplied by lr_decay;
- ``lr_schedule(it) -> lr`` (e.g. from ``schedules.as_lr_schedule``): before
  each iteration ``it`` (counting from 0), every parameter's
  ``config['learning_rate']`` is set to ``lr_schedule(it)``. When a schedule is
  given, lr_decay is NOT applied (put any decay into the schedule).
``lr_history[it]`` is the learning rate iteration ``it`` used.

Randomness is explicit: ``seed`` (an int or a ``np.random.Generator``) drives
the minibatch sampling and the subsampling for accuracy checks, so two runs
with the same seed (and the same model initialization) have identical
histories. The global numpy generator is never touched. (A model's own
randomness, such as dropout masks, is the model's business.)
"""
import copy
import inspect
import os
import pickle

import numpy as np

from . import optim

DEFAULTS = {
    "update_rule": "sgd",
    "optim_config": None,
    "lr_decay": 1.0,
    "lr_schedule": None,
    "batch_size": 100,
    "num_epochs": 10,
    "num_train_samples": 1000,
    "num_val_samples": None,
    "checkpoint_name": None,
    "print_every": 10,
    "verbose": True,
    "progress": False,
    "seed": None,
}
DATA_KEYS = ("X_train", "y_train", "X_val", "y_val")


def update_rules():
    """Names of the update rules defined in ``cs231n_lec7.optim`` (sorted)."""
    return sorted(name for name, fn in vars(optim).items()
                  if inspect.isfunction(fn) and fn.__module__ == optim.__name__ and not name.startswith("_"))


def _resolve_update_rule(rule):
    """(callable, name) for an update rule given by name or as a callable."""
    if callable(rule):
        return rule, getattr(rule, "__qualname__", type(rule).__name__)
    valid = update_rules()
    if not isinstance(rule, str) or rule not in valid:
        raise ValueError(f"Solver: unknown update_rule {rule!r}; use one of {', '.join(valid)} "
                         f"(the functions in cs231n_lec7/optim.py), or pass a function "
                         f"next_w, config = rule(w, dw, config)")
    return getattr(optim, rule), rule


class Solver:
    """Trains a model with minibatch gradient descent and keeps the training history.

    After ``train()``:
    - loss_history: the minibatch loss of every iteration (list of floats).
    - lr_history: the learning rate every iteration used (list of floats; None
      for a callable rule whose config carries no 'learning_rate').
    - train_acc_history, val_acc_history: accuracies on (a subsample of) the
      training set and on the validation set, at the first iteration, at the end
      of every epoch and at the last iteration.
    - best_val_acc, best_params: the best validation accuracy and a copy of the
      parameters that achieved it; ``model.params`` is set to best_params at the
      end of train().
    """

    def __init__(self, model, data, **kwargs):
        """Construct a new Solver instance.

        Required arguments:
        - model: A model object conforming to the API described in the module docstring.
        - data: A dictionary of training and validation data containing:
          'X_train': Array, shape (N_train, d_1, ..., d_k) of training images
          'X_val': Array, shape (N_val, d_1, ..., d_k) of validation images
          'y_train': Array, shape (N_train,) of labels for training images
          'y_val': Array, shape (N_val,) of labels for validation images

        Optional arguments:
        - update_rule: A string giving the name of an update rule in optim.py,
          or a callable ``next_w, config = rule(w, dw, config)``. Default 'sgd'.
        - optim_config: A dictionary of hyperparameters that will be passed to
          the update rule (deep-copied for each parameter). Each update rule
          requires different hyperparameters (see optim.py) but all update
          rules take a 'learning_rate' parameter.
        - lr_decay: A scalar for learning rate decay; after each epoch the
          learning rate is multiplied by this value. Ignored when lr_schedule
          is given.
        - lr_schedule: None, or a function ``lr_schedule(it) -> learning rate``
          of the iteration number (from 0); it sets config['learning_rate'] of
          every parameter before each iteration.
        - batch_size: Size of minibatches used to compute loss and gradient
          during training.
        - num_epochs: The number of epochs to run for during training.
        - num_train_samples: Number of training samples used to check training
          accuracy; default is 1000; set to None to use the entire training set.
        - num_val_samples: Number of validation samples to use to check val
          accuracy; default is None, which uses the entire validation set.
        - checkpoint_name: If not None, then save model checkpoints here every
          epoch, to ``f"{checkpoint_name}_epoch_{epoch}.pkl"``.
        - print_every: Integer; training losses will be printed every
          print_every iterations.
        - verbose: Boolean; if set to false then no output will be printed
          during training.
        - progress: Boolean (default False); show a tqdm progress bar over the
          iterations.
        - seed: None, an int or a np.random.Generator for minibatch sampling
          and accuracy subsampling; an int makes runs reproducible.
        """
        unknown = sorted(set(kwargs) - set(DEFAULTS))
        if unknown:
            raise ValueError(f"Solver: unrecognized argument(s) {', '.join(unknown)}; "
                             f"valid ones are {', '.join(sorted(DEFAULTS))}")
        missing = [k for k in DATA_KEYS if k not in data]
        if missing:
            raise ValueError(f"Solver: data is missing {', '.join(missing)}; it must be a dict with keys "
                             f"{', '.join(DATA_KEYS)}")
        settings = {**DEFAULTS, **kwargs}

        self.model = model
        self.X_train, self.y_train = np.asarray(data["X_train"]), np.asarray(data["y_train"])
        self.X_val, self.y_val = np.asarray(data["X_val"]), np.asarray(data["y_val"])
        for split in ("train", "val"):
            X, y = getattr(self, f"X_{split}"), getattr(self, f"y_{split}")
            if len(X) != len(y):
                raise ValueError(f"Solver: X_{split} has {len(X)} examples but y_{split} has {len(y)} labels")
        if len(self.X_train) == 0:
            raise ValueError("Solver: X_train is empty")

        self.update_rule, self.update_rule_name = _resolve_update_rule(settings["update_rule"])
        self.optim_config = dict(settings["optim_config"] or {})
        self.lr_decay = settings["lr_decay"]
        self.lr_schedule = settings["lr_schedule"]
        if self.lr_schedule is not None and not callable(self.lr_schedule):
            raise ValueError(f"Solver: lr_schedule must be a function it -> learning rate, "
                             f"got {type(self.lr_schedule).__name__}")
        self.batch_size = int(settings["batch_size"])
        self.num_epochs = int(settings["num_epochs"])
        if self.batch_size <= 0 or self.num_epochs < 0:
            raise ValueError(f"Solver: need batch_size > 0 and num_epochs >= 0, got {self.batch_size} and "
                             f"{self.num_epochs}")
        self.num_train_samples = settings["num_train_samples"]
        self.num_val_samples = settings["num_val_samples"]
        self.checkpoint_name = settings["checkpoint_name"]
        self.print_every = max(int(settings["print_every"]), 1)
        self.verbose = bool(settings["verbose"])
        self.progress = bool(settings["progress"])
        self.rng = np.random.default_rng(settings["seed"])

        self._reset()

    def _reset(self):
        """Set up book-keeping variables for optimization. Don't call this manually."""
        self.epoch = 0
        self.best_val_acc = 0
        self.best_params = {}
        self.loss_history = []
        self.lr_history = []
        self.train_acc_history = []
        self.val_acc_history = []
        # A deep copy of optim_config for each parameter: no shared state arrays.
        self.optim_configs = {p: copy.deepcopy(self.optim_config) for p in self.model.params}

    def _learning_rate(self, it):
        """Apply lr_schedule(it) (when given) to every parameter's config; return the rate in use."""
        if self.lr_schedule is not None:
            lr = float(self.lr_schedule(it))
            if not np.isfinite(lr) or lr < 0:
                raise ValueError(f"Solver: lr_schedule({it}) returned {lr}; a learning rate must be finite and >= 0")
            for config in self.optim_configs.values():
                config["learning_rate"] = lr
            return lr
        return None

    def _step(self):
        """Make a single gradient update. This is called by train() and should not be called manually."""
        num_train = self.X_train.shape[0]
        # The draws of rng.choice(num_train, batch_size) (with replacement), without its overhead.
        batch_mask = self.rng.integers(0, num_train, self.batch_size)
        X_batch = self.X_train[batch_mask]
        y_batch = self.y_train[batch_mask]

        loss, grads = self.model.loss(X_batch, y_batch)
        self.loss_history.append(float(loss))

        for p, w in self.model.params.items():
            next_w, next_config = self.update_rule(w, grads[p], self.optim_configs[p])
            self.model.params[p] = next_w
            self.optim_configs[p] = next_config

    def _save_checkpoint(self):
        """Pickle the model and the run so far to f'{checkpoint_name}_epoch_{epoch}.pkl'."""
        if self.checkpoint_name is None:
            return
        checkpoint = {
            "model": self.model,
            "update_rule": self.update_rule_name,
            "lr_decay": self.lr_decay,
            "optim_config": self.optim_config,
            "optim_configs": self.optim_configs,
            "batch_size": self.batch_size,
            "num_train_samples": self.num_train_samples,
            "num_val_samples": self.num_val_samples,
            "epoch": self.epoch,
            "loss_history": self.loss_history,
            "lr_history": self.lr_history,
            "train_acc_history": self.train_acc_history,
            "val_acc_history": self.val_acc_history,
        }
        filename = f"{self.checkpoint_name}_epoch_{self.epoch}.pkl"
        if self.verbose:
            print(f'Saving checkpoint to "{filename}"')
        directory = os.path.dirname(filename)
        if directory:
            os.makedirs(directory, exist_ok=True)
        with open(filename, "wb") as f:
            pickle.dump(checkpoint, f)

    def check_accuracy(self, X, y, num_samples=None, batch_size=1000):
        """Check accuracy of the model on the provided data.

        Inputs:
        - X: Array of data, of shape (N, d_1, ..., d_k).
        - y: Array of labels, of shape (N,).
        - num_samples: If not None, subsample the data (without replacement,
          with the solver's generator) and only test the model on
          num_samples datapoints.
        - batch_size: Split X and y into batches of this size to avoid using
          too much memory.

        Returns:
        - acc: Scalar giving the fraction of instances that were correctly
          classified by the model.
        """
        N = X.shape[0]
        if num_samples is not None and N > num_samples:
            mask = self.rng.choice(N, num_samples, replace=False)
            N, X, y = num_samples, X[mask], y[mask]
        if N == 0:
            return 0.0
        y_pred = []
        for start in range(0, N, batch_size):
            scores = self.model.loss(X[start:start + batch_size])
            y_pred.append(np.argmax(scores, axis=1))
        return float(np.mean(np.concatenate(y_pred) == y))

    def train(self):
        """Run optimization to train the model; at the end, model.params = best_params."""
        num_train = self.X_train.shape[0]
        iterations_per_epoch = max(num_train // self.batch_size, 1)
        num_iterations = self.num_epochs * iterations_per_epoch

        iterations = range(num_iterations)
        say = print
        if self.progress:
            from tqdm.auto import tqdm

            iterations = tqdm(iterations, desc="training", unit="it")
            say = tqdm.write

        for t in iterations:
            lr = self._learning_rate(t)
            self._step()
            if lr is None:  # no schedule: the rate the rule used is in its config
                lr = next(iter(self.optim_configs.values()), {}).get("learning_rate")
            self.lr_history.append(None if lr is None else float(lr))

            if self.verbose and t % self.print_every == 0:
                say(f"(Iteration {t + 1} / {num_iterations}) loss: {self.loss_history[-1]:f}")

            # At the end of every epoch, increment the epoch counter and decay
            # the learning rate (unless a schedule sets it).
            epoch_end = (t + 1) % iterations_per_epoch == 0
            if epoch_end:
                self.epoch += 1
                if self.lr_schedule is None:
                    for config in self.optim_configs.values():
                        if "learning_rate" in config:
                            config["learning_rate"] *= self.lr_decay

            # Check train and val accuracy on the first iteration, the last
            # iteration, and at the end of each epoch.
            first_it = t == 0
            last_it = t == num_iterations - 1
            if first_it or last_it or epoch_end:
                train_acc = self.check_accuracy(self.X_train, self.y_train, num_samples=self.num_train_samples)
                val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
                self.train_acc_history.append(train_acc)
                self.val_acc_history.append(val_acc)
                self._save_checkpoint()

                if self.verbose:
                    say(f"(Epoch {self.epoch} / {self.num_epochs}) train acc: {train_acc:f}; val_acc: {val_acc:f}")

                # Keep track of the best model.
                if val_acc > self.best_val_acc or not self.best_params:
                    self.best_val_acc = val_acc
                    self.best_params = {k: v.copy() for k, v in self.model.params.items()}

        if self.progress:
            iterations.close()
        # At the end of training swap the best params into the model.
        if self.best_params:
            self.model.params = {k: v.copy() for k, v in self.best_params.items()}
