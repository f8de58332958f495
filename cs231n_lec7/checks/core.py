"""The check library: one set of checks for notebooks, pytest and the grader.

A *check* is a plain function ``check(ctx)`` that calls the student's code
through ``ctx.fn("module.function")`` and raises :class:`CheckFailure` with a
message written for the student when something is wrong. It is registered
with the :func:`check` decorator under the exercise ids it grades::

    @check("optim.adam", name="adam: one step from t=5")
    def _(ctx):
        next_w, config = ctx.fn("optim.adam")(w, dw, config)
        assert_close("next_w", next_w, ctx.expected("optim/adam_step/next_w"))

Where the student's functions come from is the context's business:

- in a student's checkout (notebook check cells, ``pytest``), ``ctx.fn``
  imports the ``cs231n_lec7`` package itself;
- under ``python -m autograder grade``, ``ctx.fn`` returns a proxy that runs
  the call in a sandboxed worker process and returns plain arrays.

Visible checks compare with stored expected values (``expected/*.npz``, made
by ``python -m autograder references``). Hidden checks live with the grader
and may also call the reference solution through ``ctx.ref``.

Every threshold is written once, here or next to the check that uses it.
"""
from __future__ import annotations

import contextlib
import dataclasses
import importlib
import os
import warnings
from typing import Callable

import numpy as np

PACKAGE = "cs231n_lec7"
EXPECTED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "expected")

# Thresholds (relative error as defined by gradient_check.rel_error).
STEP_TOL = 1e-7          # one update step in float64
TRAJECTORY_TOL = 1e-6    # many steps in float64
FLOAT32_TOL = 1e-5       # anything computed in float32
GRAD_CHECK_TOL = 1e-6    # analytic vs numerical gradient (float64, h=1e-5)


class CheckFailure(AssertionError):
    """A failed check. ``str(err)`` is what the student reads.

    score: partial credit in [0, 1] that the check still earns (default 0).
    """

    def __init__(self, message: str, score: float = 0.0):
        super().__init__(message)
        self.score = float(score)


class ExpectedMissing(RuntimeError):
    """Stored expected values are absent: regenerate them."""


@dataclasses.dataclass
class Check:
    """A registered check: ``func(ctx)`` grading the exercises ``exercises``."""

    name: str
    exercises: tuple
    func: Callable
    hidden: bool = False
    weight: float = 1.0

    @property
    def visibility(self) -> str:
        return "hidden" if self.hidden else "visible"


REGISTRY: dict[str, Check] = {}


def check(*exercises: str, name: str, hidden: bool = False, weight: float = 1.0):
    """Register ``func(ctx)`` as a check of ``exercises`` (ids like ``optim.adam``)."""
    if not exercises:
        raise ValueError("a check must name at least one exercise id")

    def register(func):
        if name in REGISTRY:
            raise ValueError(f"two checks are named {name!r}; names must be unique")
        REGISTRY[name] = Check(name, tuple(exercises), func, hidden, weight)
        return func

    return register


# --------------------------------------------------------------------------
# Contexts
# --------------------------------------------------------------------------
def rel_error(x, y) -> float:
    """max |x - y| / max(1e-8, |x| + |y|), the CS231n relative error."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)), initial=0.0))


class LocalFunctions:
    """Looks up ``module.function`` in an importable package (default: the student's)."""

    def __init__(self, package: str = PACKAGE, overrides: dict | None = None):
        self.package = package
        self.overrides = dict(overrides or {})

    def __call__(self, exercise: str) -> Callable:
        if exercise in self.overrides:
            return self.overrides[exercise]
        module_name, _, func_name = exercise.rpartition(".")
        module = importlib.import_module(f"{self.package}.{module_name}")
        try:
            return getattr(module, func_name)
        except AttributeError:
            raise CheckFailure(
                f"{self.package}/{module_name}.py has no function {func_name!r}: "
                f"did you rename or delete it?"
            ) from None


class Context:
    """What a check sees.

    fn(id):       the function under test (student's code, local or remote).
    ref(id):      the reference solution (only where it exists: grader, source tree).
    rng:          a numpy Generator seeded for this check (fresh problems).
    seed:         the integer seed behind ``rng`` (recorded in results).
    expected(k):  stored expected values for visible checks.
    note(text):   a remark that costs no points (e.g. a float64 result with right values).
    """

    def __init__(self, fn, ref=None, seed: int = 0, expected_dir: str = EXPECTED_DIR):
        self.fn = fn
        self.notes: list = []
        self._ref = ref
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        self.expected_dir = expected_dir
        self._expected_cache: dict = {}

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def ref(self, exercise: str) -> Callable:
        if self._ref is None:
            raise RuntimeError("this check needs the reference solution, which only the grader has")
        return self._ref(exercise)

    def expected(self, key: str) -> np.ndarray:
        """Stored value ``key`` = ``file/name...`` from ``expected/file.npz``."""
        file, _, name = key.partition("/")
        if file not in self._expected_cache:
            self._expected_cache[file] = _load_expected(os.path.join(self.expected_dir, f"{file}.npz"))
        try:
            return self._expected_cache[file][name].copy()
        except KeyError:
            raise ExpectedMissing(
                f"{file}.npz has no entry {name!r}: run `python -m autograder references`"
            ) from None


_ARRAY_FILES: dict = {}  # path -> (mtime, {name: array}), shared by every check in this process
_FROZEN = False


@contextlib.contextmanager
def frozen_array_files():
    """Inside: serve .npz files as first read, whatever happens to them on disk (the grader)."""
    global _FROZEN
    before, _FROZEN = _FROZEN, True
    try:
        yield
    finally:
        _FROZEN = before


def _load_expected(path: str) -> dict:
    """The arrays of one .npz, read once per process (re-read when the file changes, unless frozen).

    The dict is shared: callers copy what they hand out.
    """
    cached = _ARRAY_FILES.get(path)
    if cached is not None and _FROZEN:
        return cached[1]
    try:
        stamp = os.stat(path).st_mtime_ns
    except FileNotFoundError:
        raise ExpectedMissing(f"{path} is missing: run `python -m autograder references`") from None
    if cached is None or cached[0] != stamp:
        with np.load(path, allow_pickle=False) as data:
            cached = _ARRAY_FILES[path] = (stamp, {k: data[k] for k in data.files})
    return cached[1]


def load_arrays(path: str) -> dict:
    """A private copy of the arrays stored in the .npz file ``path`` (read through the shared cache)."""
    return {k: v.copy() for k, v in _load_expected(path).items()}


def check_seed(base_seed: int, name: str) -> int:
    """A stable per-check seed derived from a base seed and the check's name."""
    digest = 0
    for ch in name.encode():
        digest = (digest * 131 + ch) % (2**31 - 1)
    return int(np.random.SeedSequence([int(base_seed), digest]).generate_state(1)[0])


@contextlib.contextmanager
def quiet_numerics():
    """Silence numpy floating-point warnings (a stderr line zeroes an nbgrader cell)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# --------------------------------------------------------------------------
# Assertions that explain themselves
# --------------------------------------------------------------------------
def describe(x) -> str:
    """Short description of a value: type, shape, dtype."""
    if isinstance(x, np.ndarray):
        return f"array of shape {x.shape}, dtype {x.dtype}"
    if x is None:
        return "None"
    return f"{type(x).__name__}"


def preview(x, n: int = 4) -> str:
    a = np.asarray(x).ravel()
    head = np.array2string(a[:n], precision=6, separator=", ")
    return head[:-1] + (", ...]" if a.size > n else "]")


def as_array(label: str, got, shape=None, dtype=None) -> np.ndarray:
    """Check that ``got`` is an ndarray of the given shape/dtype, else fail clearly."""
    if got is None:
        raise CheckFailure(f"{label}: got None — did you forget a `return`, or leave the stub?")
    if not isinstance(got, np.ndarray) or type(got) is not np.ndarray:
        if isinstance(got, np.ndarray):
            raise CheckFailure(f"{label}: expected a plain numpy array, got a subclass {type(got).__name__}")
        raise CheckFailure(f"{label}: expected a numpy array, got {describe(got)}")
    if got.dtype.kind == "c":  # comparing it as real numbers would silently drop the imaginary part
        raise CheckFailure(f"{label}: got complex numbers (dtype {got.dtype}); the result must be real — "
                           f"a complex value usually comes from a power or root of a negative number")
    if shape is not None and got.shape != tuple(shape):
        raise CheckFailure(f"{label}: expected shape {tuple(shape)}, got shape {got.shape}")
    if dtype is not None and got.dtype != np.dtype(dtype):
        raise CheckFailure(f"{label}: expected dtype {np.dtype(dtype)}, got dtype {got.dtype}")
    return got


def assert_close(label: str, got, expected, tol: float = STEP_TOL, hint: str = "") -> float:
    """Fail unless ``got`` matches ``expected`` (shape, finiteness, rel_error <= tol).

    Returns the relative error. The message names shape, dtype, the error and
    the first differing entry.
    """
    expected = np.asarray(expected)
    got = as_array(label, got, shape=expected.shape)
    with quiet_numerics():
        bad_nan = ~np.isfinite(got) & np.isfinite(expected)
        if bad_nan.any():
            idx = tuple(int(i) for i in np.argwhere(bad_nan)[0])
            raise CheckFailure(
                f"{label}: got a non-finite value {got[idx]} at index {idx} where "
                f"{float(expected[idx]):.6g} was expected" + (f" — {hint}" if hint else "")
            )
        err = rel_error(got, expected)
    if not err <= tol:
        with quiet_numerics():
            diff = np.abs(got.astype(np.float64) - expected) / np.maximum(
                1e-8, np.abs(got.astype(np.float64)) + np.abs(expected))
        idx = tuple(int(i) for i in np.unravel_index(int(np.nanargmax(diff)), diff.shape)) if diff.size else ()
        raise CheckFailure(
            f"{label}: relative error {err:.3g} > tolerance {tol:.0e}; "
            f"worst at index {idx}: expected {float(expected[idx]):.8g}, got {float(got[idx]):.8g}"
            + (f" — {hint}" if hint else "")
        )
    return err


def assert_dtype_kept(ctx, label: str, got, dtype, *, right: bool, name: str = "next_w", source: str = "w") -> None:
    """The result keeps the input's ``dtype``; a float64 result for float32 input only earns a note.

    DESIGN.md's dtype policy: a promoted (float64) result loses no points here. The note says
    "the values are right" only when ``right`` (the caller compared them at float64 tolerance);
    wrong values are the value checks' business. ``name``/``source`` word the fix
    (``return out.astype(x.dtype)``).
    """
    got = as_array(label, got)
    if got.dtype == np.dtype(dtype):
        return
    if np.dtype(dtype) == np.float32 and got.dtype == np.float64:
        fix = f"return {name}.astype({source}.dtype)"
        if right:
            ctx.note(f"{label}: a float32 input gave a float64 result. The values are right, so no points are "
                     f"lost, but float32 in should give float32 out: a NumPy float64 scalar (np.sqrt or "
                     f"np.float64 of a Python number) or a float64 mask promotes the whole expression; {fix}.")
        else:
            ctx.note(f"{label}: a float32 input gave a float64 result; float32 in should give float32 out "
                     f"({fix}). This costs nothing here — the values are judged by the other checks.")
        return
    raise CheckFailure(f"{label}: expected dtype {np.dtype(dtype)}, got dtype {got.dtype}")


def assert_config_has(label: str, config, keys) -> dict:
    """The returned config must be a dict carrying the given state keys."""
    if not isinstance(config, dict):
        raise CheckFailure(f"{label}: expected the returned config to be a dict, got {describe(config)}")
    missing = [k for k in keys if k not in config]
    if missing:
        raise CheckFailure(
            f"{label}: the returned config has no {', '.join(repr(k) for k in missing)} — "
            f"store the state in config so the next call can use it"
        )
    return config


def result_pair(label: str, result):
    """Unpack ``(next_w, config)``, failing clearly on any other shape of return."""
    if result is None:
        raise CheckFailure(f"{label}: returned None — the rule must `return next_w, config`")
    if not isinstance(result, tuple) or len(result) != 2:
        raise CheckFailure(f"{label}: expected a pair (next_w, config), got {describe(result)}")
    return result


def perturbed_points(x: np.ndarray, h: float = 1e-5) -> list:
    """The points a centred difference evaluates: x + h·e_i, x − h·e_i for each entry i (copies)."""
    x = np.asarray(x, dtype=np.float64)
    points = []
    for i in np.ndindex(x.shape):
        for step in (h, -h):
            z = x.copy()
            z[i] += step
            points.append(z)
    return points


def centred_differences(values, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """∂f/∂x_i ≈ (f(x + h·e_i) − f(x − h·e_i)) / 2h from ``values`` = f at :func:`perturbed_points`."""
    values = np.asarray(values, dtype=np.float64).reshape(-1, 2)
    return ((values[:, 0] - values[:, 1]) / (2 * h)).reshape(np.shape(x))


def numerical_gradient(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Centred-difference gradient of a scalar function ``f`` at ``x`` (``x`` itself is not touched).

    The checks keep their own copy so that grading never depends on the
    student's ``gradient_check.py``.
    """
    return centred_differences([f(z) for z in perturbed_points(x, h)], x, h)


def call_many(ctx, exercise: str, arg_lists: list) -> list:
    """``[ctx.fn(exercise)(*args) for args in arg_lists]``; under the grader in one round trip.

    For evaluations only: changes a call makes to its arguments are not mirrored back.
    """
    with quiet_numerics():
        many = getattr(ctx.fn, "many", None)
        if many is not None:
            return many(exercise, arg_lists)
        func = ctx.fn(exercise)
        return [func(*args) for args in arg_lists]


def numerical_gradient_of_calls(ctx, exercise: str, args_at, value_of, x: np.ndarray, h: float = 1e-5):
    """:func:`numerical_gradient` of ``z -> value_of(ctx.fn(exercise)(*args_at(z)))``, calls batched."""
    results = call_many(ctx, exercise, [tuple(args_at(z)) for z in perturbed_points(x, h)])
    return centred_differences([value_of(r) for r in results], x, h)
