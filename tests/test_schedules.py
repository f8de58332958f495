"""Learning-rate schedules: truth against torch.optim.lr_scheduler, conventions, checks that can fail.

- step/exponential/cosine against torch's StepLR, ExponentialLR, CosineAnnealingLR
  (skipped without torch), 1/t against LambdaLR;
- vectorized calls agree with scalar calls; scalars give floats; negative steps raise;
- warmup + cosine has nanoGPT's three phases; ``as_lr_schedule`` and ``decay_points``;
- every known mistake, planted in place of the solution, fails the checks and is named;
- the reference passes every visible and hidden check for several grade seeds.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from autograder.grade import all_checks
from autograder.mistakes import diagnose
from autograder.mistakes.schedules import MISTAKES
from cs231n_lec7 import schedules
from cs231n_lec7.checks.core import CheckFailure, Context, LocalFunctions, check_seed, quiet_numerics

EXERCISES = ("schedules.step_decay", "schedules.exponential_decay", "schedules.inverse_time_decay")
STEPS = 120


def torch_lrs(make_scheduler, initial_lr, num_steps=STEPS):
    """Learning rates torch's scheduler gives at steps 0..num_steps-1."""
    torch = pytest.importorskip("torch")
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=initial_lr)
    sched = make_scheduler(torch.optim.lr_scheduler, opt)
    lrs = []
    for _ in range(num_steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(lrs)


# ------------------------------------------------------------ truth: torch
def test_step_decay_matches_torch_steplr():
    want = torch_lrs(lambda s, o: s.StepLR(o, step_size=30, gamma=0.1), 0.1)
    got = schedules.step_decay(np.arange(STEPS), 0.1, decay_rate=0.1, decay_every=30)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_exponential_decay_matches_torch_exponentiallr():
    k = 0.03
    want = torch_lrs(lambda s, o: s.ExponentialLR(o, gamma=math.exp(-k)), 0.5)
    np.testing.assert_allclose(schedules.exponential_decay(np.arange(STEPS), 0.5, k), want, rtol=1e-10)


def test_inverse_time_decay_matches_torch_lambdalr():
    k = 0.2
    want = torch_lrs(lambda s, o: s.LambdaLR(o, lambda t: 1.0 / (1.0 + k * t)), 0.3)
    np.testing.assert_allclose(schedules.inverse_time_decay(np.arange(STEPS), 0.3, k), want, rtol=1e-12)


def test_cosine_decay_matches_torch_cosineannealinglr():
    total, final = 100, 1e-3
    want = torch_lrs(lambda s, o: s.CosineAnnealingLR(o, T_max=total, eta_min=final), 0.1, total + 1)
    got = schedules.cosine_decay(np.arange(total + 1), 0.1, total, final_lr=final)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


# --------------------------------------------------------------- conventions
@pytest.mark.parametrize("name,hyper", [
    ("step_decay", dict(initial_lr=0.1, decay_rate=0.5, decay_every=7)),
    ("exponential_decay", dict(initial_lr=0.1, k=0.1)),
    ("inverse_time_decay", dict(initial_lr=0.1, k=0.1)),
    ("cosine_decay", dict(initial_lr=0.1, total_steps=40)),
    ("linear_warmup", dict(initial_lr=0.1, warmup_steps=10)),
    ("warmup_cosine", dict(initial_lr=0.1, warmup_steps=5, total_steps=40, final_lr=0.01)),
])
def test_vectorized_equals_scalar_calls_and_negative_steps_raise(name, hyper):
    fn = getattr(schedules, name)
    steps = np.arange(50)
    vec = fn(steps, **hyper)
    assert isinstance(vec, np.ndarray) and vec.shape == steps.shape and vec.dtype == np.float64
    scal = [fn(int(t), **hyper) for t in steps]
    assert all(type(v) is float for v in scal)
    np.testing.assert_array_equal(vec, scal)
    assert fn(list(steps[:3]), **hyper).shape == (3,)
    assert fn(steps.reshape(5, 10), **hyper).shape == (5, 10)
    with pytest.raises(ValueError, match=">= 0"):
        fn(-1, **hyper)
    with pytest.raises(ValueError, match=">= 0"):
        fn(np.array([0, 3, -2]), **hyper)


def test_warmup_cosine_has_nanogpt_phases():
    lr = schedules.warmup_cosine(np.arange(120), 1.0, warmup_steps=10, total_steps=100, final_lr=0.1)
    assert np.all(np.diff(lr[:11]) > 0)                    # 1) warmup rises
    assert lr[10] == pytest.approx(1.0)                    # peak at the end of warmup
    assert np.all(np.diff(lr[10:101]) < 0)                 # 2) cosine decays
    assert lr[100] == pytest.approx(0.1)
    assert np.all(lr[100:] == pytest.approx(0.1))          # 3) floor


def test_as_lr_schedule_and_decay_points():
    sched = schedules.as_lr_schedule(schedules.step_decay, initial_lr=0.1, decay_rate=0.1, decay_every=25)
    lrs = [sched(it) for it in range(100)]
    assert all(type(v) is float for v in lrs)
    np.testing.assert_array_equal(schedules.decay_points(lrs), [25, 50, 75])


# ------------------------------------------------- checks catch wrong answers
def run_checks(exercise, fn, seed=0):
    """Names of the failing checks of ``exercise`` (visible and hidden) and their messages."""
    ref = LocalFunctions()
    ctx_fn = LocalFunctions(overrides={exercise: fn})
    failures = {}
    for c in all_checks().values():
        if c.exercises[0] != exercise:
            continue
        try:
            with quiet_numerics():
                c.func(Context(ctx_fn, ref=ref, seed=check_seed(seed, c.name)))
        except CheckFailure as err:
            failures[c.name] = str(err)
        except Exception as err:  # the student's code raised: in the grader the check fails with it
            failures[c.name] = f"{type(err).__name__}: {err}"
    return failures


@pytest.mark.parametrize("exercise", EXERCISES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_passes_every_check(exercise, seed):
    assert run_checks(exercise, getattr(schedules, exercise.split(".")[1]), seed) == {}


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.title)
def test_planted_mistake_fails_visible_and_hidden_checks_and_is_named(mistake):
    failures = run_checks(mistake.exercise, mistake.fn)
    visible = {c.name for c in all_checks().values() if c.exercises[0] == mistake.exercise and not c.hidden}
    assert failures.keys() & visible, "no visible check rejects this mistake"
    assert failures.keys() - visible, "no hidden check rejects this mistake"
    if mistake.detect == "check":  # named by the failing check's own message
        assert any(mistake.title in msg for msg in failures.values()), failures
        return
    found = [m.title for m in diagnose(mistake.exercise, mistake.fn, getattr(schedules, mistake.exercise[10:]))]
    assert found == [mistake.title]


def test_at_least_two_mistakes_per_exercise():
    for exercise in EXERCISES:
        assert sum(m.exercise == exercise for m in MISTAKES) >= 2
