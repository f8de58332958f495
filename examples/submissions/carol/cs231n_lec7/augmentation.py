"""Data augmentation (lecture 7, part 3): random flips, crops and scales, color jitter.

Image layout: channels LAST, always with an explicit channel axis.
- one image:   (H, W, C)   -- ndim 3 (grayscale has C = 1, color C = 3);
- a batch:     (N, H, W, C) -- ndim 4; every image gets its own random draw.
The output has the layout (and, for flips and jitter, the shape) of the input.
(CS231n's conv batches are (N, C, H, W): ``augment_batch`` converts.)

Values and dtypes: uint8 images hold 0..255, float images 0..1. Every
function returns a NEW array of the input's dtype, with values in that range,
and never modifies its input.

Randomness: every function takes ``rng``, either a ``np.random.Generator`` or
an int seed (``np.random.default_rng(rng)`` accepts both), and is deterministic
given it. None of them touches numpy's global generator.
"""
import numpy as np

GRAY_WEIGHTS = np.array([0.2989, 0.587, 0.114])  # luma of R, G, B (as torchvision)


def _as_batch(images):
    """(batch (N, H, W, C), was_single) from an image (H, W, C) or a batch (N, H, W, C)."""
    images = np.asarray(images)
    if images.ndim == 3:
        return images[None], True
    if images.ndim == 4:
        return images, False
    raise ValueError(f"expected an image (H, W, C) or a batch (N, H, W, C), got shape {images.shape}")


def _restore(batch, was_single):
    return batch[0] if was_single else batch


def value_max(dtype):
    """Largest valid value of an image dtype: 255 for integers, 1.0 for floats."""
    return 255.0 if np.issubdtype(np.dtype(dtype), np.integer) else 1.0


def resize_nearest(image, size):
    """Nearest-neighbour resize of one image (h, w, C) to size = (out_h, out_w).

    Output pixel (r, c) takes input pixel (floor((r + 0.5) * h / out_h),
    floor((c + 0.5) * w / out_w)): the input pixel whose cell contains the
    output pixel's centre. Keeps the dtype.
    """
    h, w = image.shape[:2]
    out_h, out_w = size
    if (out_h, out_w) == (h, w):
        return image.copy()  # every pixel maps to itself
    rows = np.minimum(((np.arange(out_h) + 0.5) * h / out_h).astype(int), h - 1)
    cols = np.minimum(((np.arange(out_w) + 0.5) * w / out_w).astype(int), w - 1)
    return image[rows][:, cols]


def _size_pair(size):
    return (int(size), int(size)) if np.isscalar(size) else (int(size[0]), int(size[1]))


def _factor_range(value, name):
    """A jitter strength -> (lo, hi) of its uniform factor (torchvision's convention).

    A number s >= 0 means factors in [max(0, 1 - s), 1 + s]; a pair (lo, hi) is
    used as given, so (f, f) fixes the factor to f.
    """
    if np.isscalar(value):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
        return max(0.0, 1.0 - float(value)), 1.0 + float(value)
    lo, hi = float(value[0]), float(value[1])
    if not 0.0 <= lo <= hi:
        raise ValueError(f"{name} range must satisfy 0 <= lo <= hi, got {value}")
    return lo, hi


# --------------------------------------------------------------------------
# Exercises
# --------------------------------------------------------------------------
def horizontal_flip(images, rng, p=0.5):
    """Flip each image left-right (along W) with probability p.

    Horizontal flips mirror a photo of a cat into another plausible photo of a
    cat; vertical flips (along H) usually do not -- and neither do flips of
    digits or text.

    Inputs:
    - images: One image (H, W, C) or a batch (N, H, W, C), uint8 or float.
    - rng: np.random.Generator or int seed.
    - p: Probability of flipping each image (one independent coin per image).

    Returns a new array of the same shape and dtype.
    """
    rng = np.random.default_rng(rng)
    batch, was_single = _as_batch(images)
    flip_coins = rng.random(batch.shape[0]) < p
    flipped_batch = np.where(flip_coins[:, None, None, None], batch[:, :, ::-1, :], batch)
    return _restore(np.array(flipped_batch, dtype=batch.dtype), was_single)


def random_crop(images, size, rng, scale=(1.0, 1.0)):
    """Random crops and scales: a random window of each image, resized to ``size``.

    For each image independently:
    1. draw a scale s ~ Uniform(scale[0], scale[1]);
    2. the window is (ch, cw) = (min(H, max(1, round(s * out_h))),
       min(W, max(1, round(s * out_w)))) pixels -- s < 1 zooms in, s > 1 out;
    3. draw its top-left corner (i, j) uniformly among ALL positions where it
       fits: i in {0, ..., H - ch}, j in {0, ..., W - cw} (both ends included);
    4. resize the window image[i:i+ch, j:j+cw] to (out_h, out_w) with the
       given :func:`resize_nearest`.

    scale=(1, 1) is a plain random crop of ``size`` (CIFAR's pad-and-crop, the
    224 x 224 crops of AlexNet). ResNet's recipe -- resize so the short side is
    L in [256, 480], then crop 224 -- is s = short_side / L here.

    Inputs:
    - images: One image (H, W, C) or a batch (N, H, W, C), uint8 or float.
    - size: Output size, an int or a pair (out_h, out_w).
    - rng: np.random.Generator or int seed.
    - scale: Pair (min, max) of the window's side relative to ``size``.

    Returns an array (out_h, out_w, C) or (N, out_h, out_w, C), input's dtype.
    """
    rng = np.random.default_rng(rng)
    batch, was_single = _as_batch(images)
    out_h, out_w = _size_pair(size)
    N, H, W, C = batch.shape
    crops = np.empty((N, out_h, out_w, C), dtype=batch.dtype)
    for img_index in range(N):
        s = rng.uniform(scale[0], scale[1])
        ch = min(H, max(1, int(round(s * out_h))))
        cw = min(W, max(1, int(round(s * out_w))))
        top = rng.integers(0, H - ch + 1)
        left = rng.integers(0, W - cw + 1)
        window = batch[img_index, top:top + ch, left:left + cw]
        crops[img_index] = resize_nearest(window, (out_h, out_w))
    return _restore(crops, was_single)


def color_jitter(images, rng, brightness=0.0, contrast=0.0, saturation=0.0):
    """Randomly change brightness, contrast and saturation (in this fixed order).

    Each strength gives a uniform factor range (a number s: [max(0, 1-s), 1+s];
    a pair (lo, hi): as given; (f, f) fixes the factor). Per image draw
    factors f_b, f_c, f_s, work in float64 on values in [0, vmax] (vmax = 255
    for uint8, 1 for float; :func:`value_max`), and CLIP to [0, vmax] after
    each step, as torchvision does:

        brightness:  img <- clip(f_b * img)
        contrast:    img <- clip(f_c * img + (1 - f_c) * mean(gray(img)))   (one mean per image)
        saturation:  img <- clip(f_s * img + (1 - f_s) * gray(img))         (gray per pixel)

    where gray(img) = 0.2989 R + 0.587 G + 0.114 B (``GRAY_WEIGHTS``; for C = 1
    the image itself). Finally round to the nearest integer for uint8 and cast
    back to the input's dtype.

    Inputs:
    - images: One image (H, W, C) or a batch (N, H, W, C), C in {1, 3}, uint8 or float.
    - rng: np.random.Generator or int seed.
    - brightness, contrast, saturation: strengths (number or (lo, hi) pair).

    Returns a new array of the same shape and dtype.
    """
    rng = np.random.default_rng(rng)
    batch, was_single = _as_batch(images)
    ranges = [_factor_range(v, k) for k, v in
              (("brightness", brightness), ("contrast", contrast), ("saturation", saturation))]
    vmax = value_max(batch.dtype)
    if batch.shape[-1] not in (1, 3):
        raise ValueError(f"color_jitter needs C = 1 or 3 channels, got {batch.shape[-1]}")
    n_images = batch.shape[0]
    fb, fc, fs = (rng.uniform(lo, hi, size=n_images).reshape(-1, 1, 1, 1) for lo, hi in ranges)
    luma = (lambda im: im @ GRAY_WEIGHTS[:, None]) if batch.shape[-1] == 3 else (lambda im: im)
    jittered = np.clip(batch.astype(np.float64) * fb, 0.0, vmax)
    gray_mean = luma(jittered).mean(axis=(1, 2, 3), keepdims=True)
    jittered = np.clip(fc * jittered + (1.0 - fc) * gray_mean, 0.0, vmax)
    jittered = np.clip(fs * jittered + (1.0 - fs) * luma(jittered), 0.0, vmax)
    if np.issubdtype(batch.dtype, np.integer):
        jittered = np.rint(jittered)
    jittered = jittered.astype(batch.dtype)
    return _restore(jittered, was_single)


# --------------------------------------------------------------------------
# Given: augmentation of a training batch
# --------------------------------------------------------------------------
def augment_batch(X, rng, flip_p=0.0, pad=0, scale=(1.0, 1.0), brightness=0.0, contrast=0.0,
                  saturation=0.0, channels_first=True):
    """Augment a training batch with the three exercises above (used by the training loops).

    Steps (each skipped when off): horizontal flip with probability ``flip_p``;
    zero-pad by ``pad`` pixels on each side, then :func:`random_crop` back to
    the original size with ``scale`` (a random shift of up to ``pad`` pixels,
    plus zoom when scale != (1, 1)); :func:`color_jitter`.

    Inputs:
    - X: A float batch, (N, C, H, W) if ``channels_first`` (CS231n's layout,
      e.g. ``get_digits_data(flatten=False)``) else (N, H, W, C).
    - rng: np.random.Generator or int seed.

    Returns the augmented batch in X's layout and dtype.

    Careful: flipping digits changes their meaning (a mirrored 3 is no digit),
    so use shifts and crops, not flips, on digits.
    """
    rng = np.random.default_rng(rng)
    batch = np.transpose(X, (0, 2, 3, 1)) if channels_first else np.asarray(X)
    H, W = batch.shape[1:3]
    if flip_p > 0:
        batch = horizontal_flip(batch, rng, p=flip_p)
    if pad > 0 or tuple(scale) != (1.0, 1.0):
        padded = np.pad(batch, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
        batch = random_crop(padded, (H, W), rng, scale=scale)
    if any(np.any(np.asarray(s) != d) for s, d in ((brightness, 0.0), (contrast, 0.0), (saturation, 0.0))):
        vmax = value_max(batch.dtype)
        lo, hi = float(np.min(batch)), float(np.max(batch))
        if lo < 0 or hi > vmax:  # standardised data: jitter in [0, 1] and map back
            unit = (batch - lo) / max(hi - lo, 1e-12)
            batch = color_jitter(unit, rng, brightness, contrast, saturation) * (hi - lo) + lo
        else:
            batch = color_jitter(batch, rng, brightness, contrast, saturation)
    batch = np.asarray(batch, dtype=np.asarray(X).dtype)
    return np.transpose(batch, (0, 3, 1, 2)) if channels_first else batch
