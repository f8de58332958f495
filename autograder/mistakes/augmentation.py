"""Known mistakes in ``augmentation.py``: random, so the checks name the symptom (``detect="check"``).

Each wrong implementation is self-contained (numpy only, helpers defined
here), with the exercise's signature.
"""
from __future__ import annotations

import numpy as np

from autograder.mistakes import Mistake


def _mk_batch(images):
    images = np.asarray(images)
    return (images[None], True) if images.ndim == 3 else (images, False)


def _mk_nearest(image, size):
    h, w = image.shape[:2]
    rows = np.minimum(((np.arange(size[0]) + 0.5) * h / size[0]).astype(int), h - 1)
    cols = np.minimum(((np.arange(size[1]) + 0.5) * w / size[1]).astype(int), w - 1)
    return image[rows][:, cols]


# ------------------------------------------------------------------ flip
def flip_vertical(images, rng, p=0.5):
    rng = np.random.default_rng(rng)
    batch, single = _mk_batch(images)
    coins = rng.random(batch.shape[0]) < p
    out = np.where(coins[:, None, None, None], batch[:, ::-1], batch)
    return out[0] if single else out


def flip_whole_batch(images, rng, p=0.5):
    rng = np.random.default_rng(rng)
    batch, single = _mk_batch(images)
    out = batch[:, :, ::-1].copy() if rng.random() < p else batch.copy()
    return out[0] if single else out


def flip_channels(images, rng, p=0.5):
    rng = np.random.default_rng(rng)
    batch, single = _mk_batch(images)
    coins = rng.random(batch.shape[0]) < p
    out = np.where(coins[:, None, None, None], batch[..., ::-1], batch)
    return out[0] if single else out


# ------------------------------------------------------------------ crop
def _crop(images, size, rng, scale, extra, use_scale=True):
    rng = np.random.default_rng(rng)
    batch, single = _mk_batch(images)
    out_h, out_w = (size, size) if np.isscalar(size) else size
    N, H, W, C = batch.shape
    out = np.empty((N, out_h, out_w, C), dtype=batch.dtype)
    for n in range(N):
        s = rng.uniform(scale[0], scale[1]) if use_scale else 1.0
        ch = min(H, max(1, int(round(s * out_h))))
        cw = min(W, max(1, int(round(s * out_w))))
        top = rng.integers(0, H - ch + extra)
        left = rng.integers(0, W - cw + extra)
        out[n] = _mk_nearest(batch[n, top:top + ch, left:left + cw], (out_h, out_w))
    return out[0] if single else out


def crop_off_by_one(images, size, rng, scale=(1.0, 1.0)):
    return _crop(images, size, rng, scale, extra=0)


def crop_out_of_bounds(images, size, rng, scale=(1.0, 1.0)):
    return _crop(images, size, rng, scale, extra=2)


def crop_scale_ignored(images, size, rng, scale=(1.0, 1.0)):
    return _crop(images, size, rng, scale, extra=1, use_scale=False)


# ---------------------------------------------------------------- jitter
def _jitter(images, rng, brightness, contrast, saturation, clip=True, cast=True, around_mean=True):
    rng = np.random.default_rng(rng)
    batch, single = _mk_batch(images)
    vmax = 255.0 if np.issubdtype(batch.dtype, np.integer) else 1.0

    def rng_of(v):
        return (max(0.0, 1 - v), 1 + v) if np.isscalar(v) else (float(v[0]), float(v[1]))

    n = batch.shape[0]
    fb, fc, fs = (rng.uniform(*rng_of(v), size=n).reshape(-1, 1, 1, 1) for v in (brightness, contrast, saturation))

    def gray(im):
        return im @ np.array([0.2989, 0.587, 0.114])[:, None] if im.shape[-1] == 3 else im

    def c(im):
        return np.clip(im, 0, vmax) if clip else im

    x = c(batch.astype(np.float64) * fb)
    mean = gray(x).mean(axis=(1, 2, 3), keepdims=True) if around_mean else 0.0
    x = c(fc * x + (1 - fc) * mean)
    x = c(fs * x + (1 - fs) * gray(x))
    if cast:
        with np.errstate(all="ignore"):
            x = (np.rint(x) if vmax == 255.0 else x).astype(batch.dtype)
    return x[0] if single else x


def jitter_not_clipped(images, rng, brightness=0.0, contrast=0.0, saturation=0.0):
    return _jitter(images, rng, brightness, contrast, saturation, clip=False)


def jitter_dtype_changed(images, rng, brightness=0.0, contrast=0.0, saturation=0.0):
    return _jitter(images, rng, brightness, contrast, saturation, cast=False)


def jitter_contrast_around_zero(images, rng, brightness=0.0, contrast=0.0, saturation=0.0):
    return _jitter(images, rng, brightness, contrast, saturation, around_mean=False)


M = Mistake
MISTAKES = [
    M("augmentation.horizontal_flip", "flipped vertically",
      "A horizontal flip reverses the columns (the W axis: images[:, :, ::-1] for a batch, image[:, ::-1] for "
      "one image); upside-down photos are rarely plausible training data.", flip_vertical, detect="check"),
    M("augmentation.horizontal_flip", "one coin for the whole batch",
      "Draw one coin per image (rng.random(N) < p), not one for the batch.", flip_whole_batch, detect="check"),
    M("augmentation.horizontal_flip", "flipped the colour channels",
      "The last axis holds the colour channels; reversing it turns RGB into BGR instead of mirroring.",
      flip_channels, detect="check"),
    M("augmentation.random_crop", "crop off-by-one",
      "The top offset of a window of height ch takes the H - ch + 1 values 0..H-ch: rng.integers(0, H - ch + 1) "
      "(the upper bound of rng.integers is excluded).", crop_off_by_one, detect="check"),
    M("augmentation.random_crop", "crop out of bounds",
      "Offsets beyond H - ch make the window run past the edge; numpy silently cuts it short.",
      crop_out_of_bounds, detect="check"),
    M("augmentation.random_crop", "scale ignored",
      "Draw s ~ Uniform(scale) per image; the window is round(s * size) before resizing back to size.",
      crop_scale_ignored, detect="check"),
    M("augmentation.color_jitter", "not clipped to the valid range",
      "Clip to [0, 255] (uint8) or [0, 1] (float) after each step; uint8 values otherwise wrap around.",
      jitter_not_clipped, detect="check"),
    M("augmentation.color_jitter", "dtype not preserved",
      "Return the input's dtype: round and cast back with .astype(images.dtype) for uint8.",
      jitter_dtype_changed, detect="check"),
    M("augmentation.color_jitter", "contrast around zero",
      "Contrast scales the distance from the image's mean gray: f_c * img + (1 - f_c) * mean(gray(img)).",
      jitter_contrast_around_zero, detect="check"),
]
