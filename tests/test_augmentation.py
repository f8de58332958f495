"""Truth tests for ``cs231n_lec7/augmentation.py`` and its checks.

- PIL as the independent library: mirror = ``Image.transpose(FLIP_LEFT_RIGHT)``,
  nearest resizing = ``Image.resize(NEAREST)``, brightness / contrast /
  saturation = ``ImageEnhance.Brightness / Contrast / Color`` (PIL rounds its
  gray mean and intermediate values differently: agreement within 2 levels).
- Determinism, dtype and range preservation, inputs untouched, no global rng.
- ``augment_batch`` (given): layouts, shapes, and that shifts keep digits digits.
- Every known mistake fails its exercise's checks (and is named), and nothing else.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from cs231n_lec7 import augmentation as A


def _photo(h=20, w=24, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=(h // 4 + 1, w // 4 + 1, 3))
    return np.kron(base, np.ones((4, 4, 1)))[:h, :w].astype(np.uint8)


def test_flip_matches_pil():
    img = _photo()
    want = np.asarray(Image.fromarray(img).transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    np.testing.assert_array_equal(A.horizontal_flip(img, 0, p=1.0), want)


@pytest.mark.parametrize("size_in,size_out", [(20, 7), (24, 9), (20, 31), (24, 17), (20, 5)])
def test_resize_nearest_matches_pil(size_in, size_out):
    """Same source pixel as PIL's NEAREST, except at exact ties ((k + 0.5) * h / out an integer)."""
    img = np.tile(np.arange(size_in, dtype=np.uint8)[None, :, None], (size_in, 1, 1))
    ours = A.resize_nearest(img, (size_out, size_out))[0, :, 0].astype(int)
    theirs = np.asarray(Image.fromarray(img[:, :, 0]).resize((size_out, size_out), Image.Resampling.NEAREST))[0]
    centre = (np.arange(size_out) + 0.5) * size_in / size_out
    tie = np.isclose(centre, np.round(centre))
    np.testing.assert_array_equal(ours[~tie], theirs[~tie].astype(int))
    assert np.all(np.abs(ours[tie] - theirs[tie].astype(int)) <= 1)


@pytest.mark.parametrize("which,enhancer", [("brightness", ImageEnhance.Brightness),
                                            ("contrast", ImageEnhance.Contrast),
                                            ("saturation", ImageEnhance.Color)])
@pytest.mark.parametrize("factor", [0.4, 0.8, 1.3, 1.9])
def test_single_jitters_match_pil(which, enhancer, factor):
    img = _photo()
    ours = A.color_jitter(img, 0, **{which: (factor, factor)}).astype(int)
    theirs = np.asarray(enhancer(Image.fromarray(img)).enhance(factor)).astype(int)
    assert np.max(np.abs(ours - theirs)) <= 2


def test_jitter_float_equals_uint8_before_rounding():
    img = _photo()
    f = A.color_jitter(img / 255.0, 3, (1.2, 1.2), (0.7, 0.7), (1.4, 1.4))
    u = A.color_jitter(img, 3, (1.2, 1.2), (0.7, 0.7), (1.4, 1.4))
    assert np.max(np.abs(f * 255 - u)) <= 0.5 + 1e-9
    assert f.dtype == np.float64 and u.dtype == np.uint8 and f.min() >= 0 and f.max() <= 1


@pytest.mark.parametrize("fn,kwargs", [(A.horizontal_flip, {"p": 0.5}),
                                       (A.color_jitter, {"brightness": 0.5, "contrast": 0.5, "saturation": 0.5})])
def test_generator_and_int_seed_agree_and_input_untouched(fn, kwargs):
    batch = np.stack([_photo(seed=s) for s in range(6)])
    copy = batch.copy()
    a = fn(batch, 11, **kwargs)
    b = fn(batch, np.random.default_rng(11), **kwargs)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(batch, copy)


def test_random_crop_generator_seed_and_untouched():
    batch = np.stack([_photo(seed=s) for s in range(6)])
    copy = batch.copy()
    a = A.random_crop(batch, (10, 12), 5, scale=(0.7, 1.3))
    b = A.random_crop(batch, (10, 12), np.random.default_rng(5), scale=(0.7, 1.3))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(batch, copy)
    assert a.shape == (6, 10, 12, 3) and a.dtype == np.uint8


def test_no_global_rng():
    np.random.seed(0)
    state = np.random.get_state()[1].copy()
    img = _photo()
    A.horizontal_flip(img, 1)
    A.random_crop(img, 8, 1, scale=(0.5, 1.5))
    A.color_jitter(img, 1, 0.3, 0.3, 0.3)
    assert np.array_equal(np.random.get_state()[1], state)


def test_augment_batch_layouts_and_shifts():
    rng = np.random.default_rng(0)
    X = rng.random((10, 1, 8, 8))
    out = A.augment_batch(X, 3, pad=1)
    assert out.shape == X.shape and out.dtype == X.dtype
    np.testing.assert_array_equal(out, A.augment_batch(X, 3, pad=1))
    # a pad-1 shift moves each image by at most one pixel: some 7x7 block is unchanged
    for n in range(10):
        assert any(np.array_equal(out[n, 0, max(0, -dy):8 - max(0, dy), max(0, -dx):8 - max(0, dx)],
                                  X[n, 0, max(0, dy):8 - max(0, -dy), max(0, dx):8 - max(0, -dx)])
                   for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    Z = rng.standard_normal((4, 3, 6, 6))  # standardised data, channels first, with jitter
    out = A.augment_batch(Z, 1, flip_p=0.5, brightness=0.3, contrast=0.3, saturation=0.3)
    assert out.shape == Z.shape and np.isfinite(out).all()
    assert out.min() >= Z.min() - 1e-9 and out.max() <= Z.max() + 1e-9
    assert A.augment_batch(Z.transpose(0, 2, 3, 1), 1, pad=2, channels_first=False).shape == (4, 6, 6, 3)


# ------------------------------------------------------ checks can fail
def _run_checks(module_prefix, overrides):
    from autograder.grade import all_checks
    from autograder.notebook import reference_functions
    from cs231n_lec7.checks.core import CheckFailure, Context, LocalFunctions, check_seed, quiet_numerics

    ref = reference_functions()
    failures = {}
    for c in all_checks().values():
        if not c.exercises[0].startswith(module_prefix):
            continue
        ctx = Context(LocalFunctions(overrides=overrides), ref=ref, seed=check_seed(7, c.name))
        try:
            with quiet_numerics():
                c.func(ctx)
        except CheckFailure as err:
            failures[c.name] = (c.exercises[0], str(err))
        except Exception as err:  # under the grader: the student's exception, reported as a failure
            failures[c.name] = (c.exercises[0], f"{type(err).__name__}: {err}")
    return failures


def _mistakes(prefix):
    from autograder.mistakes import MISTAKES
    return [m for m in MISTAKES if m.exercise.startswith(prefix)]


def test_solution_passes_every_check():
    assert _run_checks("augmentation.", {}) == {}


@pytest.mark.parametrize("mistake", _mistakes("augmentation."), ids=lambda m: f"{m.exercise}:{m.title}")
def test_mistake_fails_only_its_exercise_and_is_named(mistake):
    failures = _run_checks("augmentation.", {mistake.exercise: mistake.fn})
    own = [msg for ex, msg in failures.values() if ex == mistake.exercise]
    assert own, "no check of its exercise failed"
    assert all(ex == mistake.exercise for ex, _ in failures.values()), failures
    assert any(mistake.title in msg for msg in own), own
