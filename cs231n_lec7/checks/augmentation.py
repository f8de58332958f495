"""Visible checks for ``cs231n_lec7/augmentation.py``.

Augmentations are random, so most checks are structural and statistical:
the test images are *coordinate images* (channel 0 = row index, channel 1 =
column index), so every output pixel says where in the input it came from.
From that a check reads back whether an image was flipped, which window a
crop took and at what scale; frequencies must lie within ``SIGMAS`` binomial
standard deviations of their expected values. Color jitter with degenerate
factor ranges ``(f, f)`` is deterministic and compared with stored values.

The rng travels as an int seed (a Generator cannot reach the grader's
worker); the functions accept both. Every body takes its problem as
arguments so the hidden checks reuse it.
"""
from __future__ import annotations

import numpy as np

from .core import CheckFailure, as_array, assert_close, check, quiet_numerics, rel_error

FLIP, CROP, JITTER = "augmentation.horizontal_flip", "augmentation.random_crop", "augmentation.color_jitter"
SIGMAS = 5.0
JITTER_TOL = 1e-9   # float images; uint8 must match exactly (up to one unit, for float rounding)


def coordinate_images(n, h, w, dtype=np.uint8):
    """(n, h, w, 3) images: channel 0 = row, channel 1 = column, channel 2 = image index mod 7."""
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    img = np.stack([rows, cols, np.zeros_like(rows)], axis=-1)
    batch = np.repeat(img[None], n, axis=0)
    batch[..., 2] = (np.arange(n) % 7)[:, None, None]
    return batch.astype(dtype)


def _call(ctx, exercise, label, images, *args, **kwargs):
    copy = np.array(images, copy=True)
    with quiet_numerics():
        out = ctx.fn(exercise)(images, *args, **kwargs)
    if not np.array_equal(images, copy):
        raise CheckFailure(f"{label}: the function changed the input images — return a new array")
    return out


# --------------------------------------------------------------------------
# Horizontal flip
# --------------------------------------------------------------------------
def flip_deterministic(ctx, n, h, w, seed):
    """p = 1 flips every image along W, p = 0 flips none; shapes, dtypes, single images."""
    for dtype in (np.uint8, np.float64):
        batch = coordinate_images(n, h, w, dtype)
        if dtype == np.float64:
            batch = batch / 255.0
        out = as_array("horizontal_flip(p=1)", _call(ctx, FLIP, "horizontal_flip", batch, seed, p=1.0),
                       shape=batch.shape, dtype=batch.dtype)
        want = batch[:, :, ::-1, :]
        if not np.array_equal(out, want):
            if np.array_equal(out, batch[:, ::-1, :, :]):
                raise CheckFailure("horizontal_flip: with p=1 the images came back upside down — flipped "
                                   "vertically (along H, axis 1 of a batch); a horizontal flip reverses the "
                                   "columns (along W)")
            if np.array_equal(out, batch[..., ::-1]):
                raise CheckFailure("horizontal_flip: with p=1 the colour channels were reversed — flipped the "
                                   "colour channels (axis -1) instead of the columns (W)")
            if np.array_equal(out, batch):
                raise CheckFailure("horizontal_flip: with p=1 no image was flipped — p is the probability of "
                                   "FLIPPING")
            raise CheckFailure("horizontal_flip: with p=1 every image should be mirrored left-right "
                               "(images[:, :, ::-1, :] for a batch)")
        out0 = as_array("horizontal_flip(p=0)", _call(ctx, FLIP, "horizontal_flip", batch, seed, p=0.0),
                        shape=batch.shape, dtype=batch.dtype)
        if not np.array_equal(out0, batch):
            raise CheckFailure("horizontal_flip: with p=0 the images must come back unchanged")
    single = coordinate_images(1, h, w)[0]
    out = as_array("horizontal_flip of one (H, W, C) image, p=1",
                   _call(ctx, FLIP, "horizontal_flip", single, seed, p=1.0), shape=single.shape, dtype=np.uint8)
    if not np.array_equal(out, single[:, ::-1]):
        if np.array_equal(out, single[::-1]):
            raise CheckFailure("horizontal_flip: a single (H, W, C) image was flipped vertically — for one image "
                               "the columns are axis 1")
        raise CheckFailure("horizontal_flip: a single (H, W, C) image with p=1 should be image[:, ::-1, :]")


def flip_statistics(ctx, n, p, seed):
    """Each image flipped or not, one independent coin per image, flipped fraction ≈ p."""
    batch = coordinate_images(n, 2, 3)
    out = as_array("horizontal_flip", _call(ctx, FLIP, "horizontal_flip", batch, seed, p=p),
                   shape=batch.shape, dtype=np.uint8)
    flipped = np.all(out == batch[:, :, ::-1, :], axis=(1, 2, 3))
    same = np.all(out == batch, axis=(1, 2, 3))
    if not np.all(flipped | same):
        k = int(np.argmax(~(flipped | same)))
        if np.array_equal(out[k], batch[k, ::-1]):
            raise CheckFailure("horizontal_flip: an image came back upside down — flipped vertically; flip the "
                               "columns (W)")
        raise CheckFailure(f"horizontal_flip: image {k} is neither the original nor its mirror image")
    frac = float(np.mean(flipped))
    if 0 < p < 1 and (frac == 0.0 or frac == 1.0):
        raise CheckFailure(f"horizontal_flip: with p={p} the batch was flipped all or nothing — one coin for the "
                           f"whole batch; draw one coin per image")
    sigma = np.sqrt(p * (1 - p) / n)
    if abs(frac - p) > SIGMAS * sigma:
        if abs(frac - (1 - p)) <= SIGMAS * sigma:
            raise CheckFailure(f"horizontal_flip: flipped {frac:.3f} of the images with p={p} — p is the "
                               f"probability of FLIPPING, not of keeping")
        raise CheckFailure(f"horizontal_flip: flipped {frac:.3f} of the images with p={p}, expected "
                           f"{p:.3f} ± {SIGMAS * sigma:.3f}")


def seed_determinism(ctx, exercise, label, images, seed, **kwargs):
    """Same int seed → same output; the next seed → a different one (on a large enough batch)."""
    a = _call(ctx, exercise, label, images, seed, **kwargs) if exercise != CROP else None
    if exercise == CROP:
        size = kwargs.pop("size")
        a = _call(ctx, exercise, label, images, size, seed, **kwargs)
        b = _call(ctx, exercise, label, images, size, seed, **kwargs)
        c = _call(ctx, exercise, label, images, size, seed + 1, **kwargs)
    else:
        b = _call(ctx, exercise, label, images, seed, **kwargs)
        c = _call(ctx, exercise, label, images, seed + 1, **kwargs)
    if not np.array_equal(np.asarray(a), np.asarray(b)):
        raise CheckFailure(f"{label}: two calls with the same seed gave different results — seed ignored? Use "
                           f"rng = np.random.default_rng(rng) and draw everything from rng")
    if np.array_equal(np.asarray(a), np.asarray(c)):
        raise CheckFailure(f"{label}: different seeds gave identical results on a batch of {len(images)} images")


# --------------------------------------------------------------------------
# Random crop
# --------------------------------------------------------------------------
def _nearest_index(size_in, size_out):
    return np.minimum(((np.arange(size_out) + 0.5) * size_in / size_out).astype(int), size_in - 1)


def read_windows(coords, size_in, size_out):
    """(start, length) per row of ``coords`` (n, size_out), or (-1, -1) where no window fits.

    A row is a window when ``coords == start + nearest-resize indices`` of a window
    of that length lying inside ``0..size_in - 1``; the shortest such length wins.
    """
    coords = np.asarray(coords, dtype=np.int64).reshape(-1, size_out)
    starts = np.full(len(coords), -1, dtype=np.int64)
    lengths = np.full(len(coords), -1, dtype=np.int64)
    for length in range(1, size_in + 1):
        idx = _nearest_index(length, size_out)
        start = coords[:, 0] - idx[0]
        fits = (lengths < 0) & (start >= 0) & (start <= size_in - length)
        fits &= np.all(coords == start[:, None] + idx, axis=1)
        starts[fits], lengths[fits] = start[fits], length
    return starts, lengths


def read_crops(out, H, W, out_h, out_w, label):
    """[(top, ch, left, cw)] read from cropped coordinate images; fails if a crop is not a window.

    All crops are read at once; the first bad crop (in batch order) is reported.
    """
    rows, cols = out[:, :, :, 0].astype(np.int64), out[:, :, :, 1].astype(np.int64)
    aligned = np.all(rows == rows[:, :, :1], axis=(1, 2)) & np.all(cols == cols[:, :1, :], axis=(1, 2))
    top, ch = read_windows(rows[:, :, 0], H, out_h)
    left, cw = read_windows(cols[:, 0, :], W, out_w)
    inside = (ch > 0) & (cw > 0)
    one_image = np.all(out[:, :, :, 2] == out[:, :1, :1, 2], axis=(1, 2))
    bad = ~(aligned & inside & one_image)
    if bad.any():
        k = int(np.argmax(bad))
        if not aligned[k]:
            raise CheckFailure(f"{label}: crop {k} is not an axis-aligned window of its image (rows and columns "
                               f"got mixed up?)")
        if not inside[k]:
            span = (int(rows[k].min()), int(rows[k].max()), int(cols[k].min()), int(cols[k].max()))
            raise CheckFailure(
                f"{label}: crop {k} (rows {span[0]}..{span[1]}, columns {span[2]}..{span[3]} of a {H}x{W} image) "
                f"is not a window inside the image resized with resize_nearest — crop out of bounds? A window "
                f"of height ch fits at top rows 0..H-ch only (a window running past the edge is cut short)")
        raise CheckFailure(f"{label}: crop {k} mixes pixels of different images")
    return np.stack([top, ch, left, cw], axis=1)


def crop_positions(ctx, n, H, W, out_h, out_w, seed):
    """scale=(1, 1): windows of exactly `size`, top-left uniform over ALL valid positions."""
    batch = coordinate_images(n, H, W)
    out = as_array("random_crop", _call(ctx, CROP, "random_crop", batch, (out_h, out_w), seed),
                   shape=(n, out_h, out_w, 3), dtype=np.uint8)
    if not np.array_equal(out[:, :, :, 2], np.broadcast_to(batch[:, :1, :1, 2], out.shape[:3])):
        raise CheckFailure("random_crop: the crops are not in the order of the input images")
    win = read_crops(out, H, W, out_h, out_w, "random_crop")
    if np.any(win[:, 1] != out_h) or np.any(win[:, 3] != out_w):
        short = (win[:, 1] < out_h) & (win[:, 0] + win[:, 1] == H) | (win[:, 3] < out_w) & (win[:, 2] + win[:, 3] == W)
        if np.any(short):
            raise CheckFailure(f"random_crop: some windows were cut short at the image's far edge — crop out of "
                               f"bounds: a window of height ch fits at top rows 0..H-ch only (numpy slicing "
                               f"past the edge returns fewer rows)")
        raise CheckFailure(f"random_crop: with scale=(1, 1) the window should be exactly {out_h}x{out_w}, got "
                           f"e.g. {int(win[0, 1])}x{int(win[0, 3])}")
    for axis, name, positions in ((0, "top", H - out_h + 1), (2, "left", W - out_w + 1)):
        counts = np.bincount(win[:, axis], minlength=positions)
        q = 1.0 / positions
        sigma = np.sqrt(n * q * (1 - q))
        if counts[-1] == 0 and positions > 1:
            raise CheckFailure(f"random_crop: the {name} offset {positions - 1} (window touching the far edge) "
                               f"never occurred in {n} crops — crop off-by-one: draw the offset from "
                               f"0..{positions - 1} inclusive (rng.integers(0, H - ch + 1))")
        if np.any(np.abs(counts - n * q) > SIGMAS * sigma):
            raise CheckFailure(f"random_crop: {name} offsets are not uniform over 0..{positions - 1}: counts "
                               f"{counts.tolist()} for {n} crops (expected about {n * q:.0f} each)")
    if len({tuple(r) for r in win}) == 1:
        raise CheckFailure("random_crop: every image got the same window — one crop for the whole batch; draw "
                           "a window per image")


def crop_scales(ctx, n, H, W, out_size, scale, seed):
    """Windows of side round(s * out_size), s ~ U(scale), the same s for both sides."""
    batch = coordinate_images(n, H, W)
    out = as_array("random_crop", _call(ctx, CROP, "random_crop", batch, out_size, seed, scale=scale),
                   shape=(n, out_size, out_size, 3), dtype=np.uint8)
    win = read_crops(out, H, W, out_size, out_size, "random_crop")
    ch, cw = win[:, 1], win[:, 3]
    lo = max(1, int(np.floor(scale[0] * out_size)))
    hi = min(H, int(np.ceil(scale[1] * out_size)))
    if np.all(ch == out_size) and np.all(cw == out_size):
        raise CheckFailure(f"random_crop: with scale={scale} every window was {out_size}x{out_size} — scale "
                           f"ignored: the window side is round(s * size) with s ~ Uniform(scale)")
    if np.any(ch < lo) or np.any(ch > hi):
        raise CheckFailure(f"random_crop: window heights {int(ch.min())}..{int(ch.max())} fall outside "
                           f"{lo}..{hi} = round(scale * size) for scale={scale}")
    if np.any(np.abs(ch - cw) > 1):
        raise CheckFailure("random_crop: a square output got a non-square window — use the same s for both sides")
    quarter = (hi - lo) / 4.0
    if ch.min() > lo + quarter or ch.max() < hi - quarter:
        raise CheckFailure(f"random_crop: window sides {int(ch.min())}..{int(ch.max())} do not spread over "
                           f"{lo}..{hi} — draw s uniformly from scale=(min, max) for each image")
    mean_s = float(np.mean(ch)) / out_size
    want = 0.5 * (scale[0] + scale[1])
    sigma = (scale[1] - scale[0]) / np.sqrt(12 * n) + 0.5 / out_size  # + rounding
    if abs(mean_s - want) > SIGMAS * sigma:
        raise CheckFailure(f"random_crop: the mean window scale is {mean_s:.3f}, expected {want:.3f} for "
                           f"s ~ Uniform{tuple(scale)}")


def crop_single_and_float(ctx, seed):
    """One (H, W, C) float image in, one (out_h, out_w, C) float image out, values from the image."""
    img = coordinate_images(1, 9, 11, np.float64)[0] / 16.0
    out = as_array("random_crop of one float image", _call(ctx, CROP, "random_crop", img, (5, 6), seed),
                   shape=(5, 6, 3), dtype=np.float64)
    win = read_crops(np.rint(out[None] * 16).astype(np.int64), 9, 11, 5, 6, "random_crop (one image)")
    del win
    full = as_array("random_crop with size = image size", _call(ctx, CROP, "random_crop", img, (9, 11), seed),
                    shape=img.shape)
    if not np.array_equal(full, img):
        raise CheckFailure("random_crop: cropping a 9x11 image to 9x11 with scale=(1, 1) must return the image")


# --------------------------------------------------------------------------
# Color jitter
# --------------------------------------------------------------------------
def jitter_images():
    """A smooth colour gradient (uint8 and float) with saturated corners, so clipping matters."""
    h, w = 6, 7
    r, c = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing="ij")
    img = np.stack([r, c, 1 - 0.5 * (r + c)], axis=-1)
    batch = np.stack([img, img[::-1] * 0.8 + 0.1, np.clip(img * 1.3, 0, 1)])
    return (batch * 255).round().astype(np.uint8), batch


JITTER_CASES = {  # key -> (brightness, contrast, saturation) as fixed factors
    "b13": (1.3, 1.0, 1.0),
    "c06": (1.0, 0.6, 1.0),
    "s17": (1.0, 1.0, 1.7),
    "mix": (1.4, 1.5, 0.3),
    "dark": (0.5, 1.8, 1.2),
}


def jitter_call(ctx, images, factors, seed=0):
    kwargs = {k: (f, f) for k, f in zip(("brightness", "contrast", "saturation"), factors)}
    return _call(ctx, JITTER, "color_jitter", images, seed, **kwargs)


def _jitter_variants(images, factors, vmax):
    """Known wrong answers for hints: no clipping, contrast around zero."""
    x = images.astype(np.float64)
    fb, fc, fs = factors
    gray = (lambda im: im @ np.array([0.2989, 0.587, 0.114])[:, None])
    noclip = x * fb
    noclip = fc * noclip + (1 - fc) * gray(noclip).mean(axis=(1, 2, 3), keepdims=True)
    noclip = fs * noclip + (1 - fs) * gray(noclip)
    zero = np.clip(x * fb, 0, vmax)
    zero = np.clip(fc * zero, 0, vmax)
    zero = np.clip(fs * zero + (1 - fs) * gray(zero), 0, vmax)
    return noclip, zero


def jitter_fixed(ctx, key, uint8):
    """Fixed factors: equal to the stored result, clipped, dtype kept."""
    images8, imagesf = jitter_images()
    images = images8 if uint8 else imagesf
    factors = JITTER_CASES[key]
    vmax = 255.0 if uint8 else 1.0
    tag = f"color_jitter(brightness, contrast, saturation = {factors}, {'uint8' if uint8 else 'float'})"
    out = jitter_call(ctx, images, factors)
    out = as_array(tag, out, shape=images.shape)
    with quiet_numerics():
        if out.dtype != images.dtype:
            raise CheckFailure(f"{tag}: returned dtype {out.dtype} for {images.dtype} input — dtype not preserved: "
                               f"{'round and ' if uint8 else ''}cast back with .astype(images.dtype)")
        if np.any(out.astype(np.float64) < 0) or np.any(out.astype(np.float64) > vmax):
            raise CheckFailure(f"{tag}: values outside [0, {vmax:g}] — not clipped to the valid range")
        want = ctx.expected(f"augmentation/jitter/{key}/{'u8' if uint8 else 'f'}")
        got = out.astype(np.float64)
        tol = 1.0 if uint8 else JITTER_TOL
        if np.max(np.abs(got - want)) <= tol * (1 if uint8 else max(1.0, float(np.abs(want).max()))):
            return
        noclip, zero = _jitter_variants(images, factors, vmax)
        if uint8:
            noclip = np.rint(np.clip(noclip, 0, vmax))
        if np.max(np.abs(got - np.clip(noclip, 0, vmax))) <= tol + 1e-9:
            raise CheckFailure(f"{tag}: matches clipping only once at the end — not clipped to the valid range "
                               f"after each step (brightness, contrast, saturation each clip to [0, {vmax:g}])")
        if np.max(np.abs(got - (np.rint(zero) if uint8 else zero))) <= tol + 1e-9:
            raise CheckFailure(f"{tag}: contrast scaled the values around 0 — contrast around zero instead of "
                               f"around the image's mean gray: f_c * img + (1 - f_c) * mean(gray(img))")
        err = np.abs(got - want)
        saturated = (want <= 0) | (want >= vmax)
        if np.all(saturated[err > tol]):
            raise CheckFailure(f"{tag}: wrong values exactly where the result saturates (0 or {vmax:g}) — not "
                               f"clipped to the valid range (uint8 values wrap around: 256 becomes 0)")
        idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(err)), err.shape))
        raise CheckFailure(f"{tag}: worst at index {idx}: expected {want[idx]:.6g}, got {got[idx]:.6g} "
                           f"(order: brightness, contrast, saturation; clip after each)")


def jitter_single_and_identity(ctx):
    images8, imagesf = jitter_images()
    for img in (images8[0], imagesf[0]):
        out = as_array("color_jitter of one (H, W, 3) image with all factors 1", jitter_call(ctx, img, (1, 1, 1)),
                       shape=img.shape, dtype=img.dtype)
        if rel_error(out, img) > JITTER_TOL:
            raise CheckFailure("color_jitter: with all factors equal to 1 the image must come back unchanged")
    gray = imagesf[:, :, :, :1]
    out = as_array("color_jitter of a grayscale (N, H, W, 1) batch", jitter_call(ctx, gray, (1.2, 0.7, 1.5)),
                   shape=gray.shape, dtype=gray.dtype)
    assert_close("color_jitter of a grayscale batch", out, ctx.expected("augmentation/jitter/gray"), 1e-9)


def jitter_statistics(ctx, n, strength, seed):
    """Brightness factors: uniform on [1 - s, 1 + s], one per image."""
    level = 0.4
    images = np.full((n, 2, 2, 3), level)
    out = as_array("color_jitter", _call(ctx, JITTER, "color_jitter", images, seed, brightness=strength),
                   shape=images.shape, dtype=images.dtype)
    per_image = out.reshape(n, -1)
    if not np.allclose(per_image, per_image[:, :1]):
        raise CheckFailure("color_jitter: a constant gray image did not stay constant under brightness jitter")
    factors = per_image[:, 0] / level
    lo, hi = max(0.0, 1 - strength), 1 + strength
    if np.allclose(factors, factors[0]):
        raise CheckFailure("color_jitter: every image got the same brightness factor — one factor for the whole "
                           "batch; draw factors per image")
    if factors.min() < lo - 1e-9 or factors.max() > hi + 1e-9:
        raise CheckFailure(f"color_jitter: brightness factors range {factors.min():.3f}..{factors.max():.3f}, "
                           f"expected within [{lo:g}, {hi:g}] for brightness={strength}")
    mean_sigma = (hi - lo) / np.sqrt(12 * n)
    if abs(factors.mean() - 1.0) > SIGMAS * mean_sigma:
        raise CheckFailure(f"color_jitter: mean brightness factor {factors.mean():.3f}, expected 1 ± "
                           f"{SIGMAS * mean_sigma:.3f} (uniform on [{lo:g}, {hi:g}])")
    std_want = (hi - lo) / np.sqrt(12)
    if abs(factors.std() - std_want) > 0.25 * std_want:
        raise CheckFailure(f"color_jitter: brightness factors have std {factors.std():.3f}, a uniform "
                           f"[{lo:g}, {hi:g}] has {std_want:.3f}")


def make_expected(ref) -> dict:
    out = {}
    images8, imagesf = jitter_images()
    for key, factors in JITTER_CASES.items():
        kwargs = {k: (f, f) for k, f in zip(("brightness", "contrast", "saturation"), factors)}
        out[f"jitter/{key}/u8"] = ref(JITTER)(images8, 0, **kwargs).astype(np.float64)
        out[f"jitter/{key}/f"] = ref(JITTER)(imagesf, 0, **kwargs)
    out["jitter/gray"] = ref(JITTER)(imagesf[:, :, :, :1], 0, brightness=(1.2, 1.2), contrast=(0.7, 0.7),
                                     saturation=(1.5, 1.5))
    return out


# --------------------------------------------------------------------------
# Registration
# --------------------------------------------------------------------------
@check(FLIP, name="horizontal_flip: p=1 mirrors along W, p=0 is the identity")
def _(ctx):
    flip_deterministic(ctx, 4, 5, 6, seed=31)


@check(FLIP, name="horizontal_flip: one coin per image, flipped fraction p", weight=2.0)
def _(ctx):
    for p in (0.5, 0.2):
        flip_statistics(ctx, 2000, p, seed=32)


@check(FLIP, name="horizontal_flip: same seed same result")
def _(ctx):
    seed_determinism(ctx, FLIP, "horizontal_flip", coordinate_images(64, 2, 3), 33, p=0.5)


@check(CROP, name="random_crop: windows of `size` at uniform positions, both ends included", weight=2.0)
def _(ctx):
    crop_positions(ctx, 600, 12, 10, 8, 7, seed=41)


@check(CROP, name="random_crop: window side round(s * size) with s ~ Uniform(scale)", weight=2.0)
def _(ctx):
    crop_scales(ctx, 300, 24, 24, 8, (0.5, 2.0), seed=42)


@check(CROP, name="random_crop: one float image, and the full-size crop is the image")
def _(ctx):
    crop_single_and_float(ctx, seed=43)


@check(CROP, name="random_crop: same seed same crops")
def _(ctx):
    seed_determinism(ctx, CROP, "random_crop", coordinate_images(32, 12, 10), 44, size=(6, 6))


@check(JITTER, name="color_jitter: fixed factors on uint8 images (clipping, dtype)", weight=2.0)
def _(ctx):
    for key in JITTER_CASES:
        jitter_fixed(ctx, key, uint8=True)


@check(JITTER, name="color_jitter: fixed factors on float images")
def _(ctx):
    for key in JITTER_CASES:
        jitter_fixed(ctx, key, uint8=False)


@check(JITTER, name="color_jitter: factor 1 is the identity; single and grayscale images")
def _(ctx):
    jitter_single_and_identity(ctx)


@check(JITTER, name="color_jitter: factors uniform per image, same seed same result")
def _(ctx):
    jitter_statistics(ctx, 1000, 0.5, seed=51)
    seed_determinism(ctx, JITTER, "color_jitter", jitter_images()[1], 52, brightness=0.4, contrast=0.4,
                     saturation=0.4)
