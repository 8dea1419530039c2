"""Training-time augmentation: tf.data functions on one (H, W, 3) image or one batch.

`augment` is 1.0.x's (flips, a mild zoom, colour jitter); `rotate_and_cutout` and `cutmix` are
the regularisers of runs 4-8; `robust_augment` is model 2's, built on what the diagnosis of
the HAM10000-only model found (docs/model-runs.md): photos from other clinics differ in
resolution and sharpness, colour and framing, so training draws each of them over a range
that covers 200x150 thumbnails, dermatoscopes and phone photos.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def augment(image: tf.Tensor) -> tf.Tensor:
    """Dermoscopy has no up or left; colour and zoom vary between devices."""
    height, width = image.shape[0], image.shape[1]
    img = tf.cast(image, tf.float32)
    img = tf.image.random_flip_left_right(img)
    img = tf.image.random_flip_up_down(img)
    scale = tf.random.uniform([], 0.75, 1.0)
    h = scale
    w = scale * tf.random.uniform([], 0.9, 1.1)
    w = tf.minimum(w, 1.0)
    y0 = tf.random.uniform([], 0.0, 1.0 - h)
    x0 = tf.random.uniform([], 0.0, 1.0 - w)
    img = tf.image.crop_and_resize(img[None], [[y0, x0, y0 + h, x0 + w]], [0], [height, width])[0]
    img = tf.image.random_brightness(img, 20.0)
    img = tf.image.random_contrast(img, 0.8, 1.2)
    img = tf.image.random_saturation(img, 0.8, 1.2)
    img = tf.image.random_hue(img, 0.03)
    return tf.clip_by_value(img, 0.0, 255.0)


def rotate(image: tf.Tensor, angle: tf.Tensor | float) -> tf.Tensor:
    """Rotate an (H, W, 3) float image about its centre, reflecting at the edges."""
    height, width = image.shape[0], image.shape[1]
    angle = tf.cast(angle, tf.float32)
    cos, sin = tf.cos(angle), tf.sin(angle)
    cy, cx = (height - 1) / 2, (width - 1) / 2
    # Output pixel (x, y) samples input (a0 x + a1 y + a2, b0 x + b1 y + b2).
    transform = tf.stack(
        [cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy, 0.0, 0.0]
    )
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=image[None],
        transforms=transform[None],
        output_shape=[height, width],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="REFLECT",
    )[0]


def rotate_and_cutout(image: tf.Tensor) -> tf.Tensor:
    """Dermoscopy has no "up" at any angle: rotate freely, then hide a random square a quarter
    of the height across (filled with the image's mean colour) so no single region decides."""
    height, width = image.shape[0], image.shape[1]
    img = rotate(image, tf.random.uniform([], -np.pi, np.pi))
    side = height // 4
    y0 = tf.random.uniform([], 0, height - side, dtype=tf.int32)
    x0 = tf.random.uniform([], 0, width - side, dtype=tf.int32)
    rows = tf.range(height)[:, None]
    cols = tf.range(width)[None, :]
    hole = (rows >= y0) & (rows < y0 + side) & (cols >= x0) & (cols < x0 + side)
    return tf.where(hole[..., None], tf.reduce_mean(img, axis=[0, 1]), img)


def augment_strongly(image: tf.Tensor) -> tf.Tensor:
    return rotate_and_cutout(augment(image))


def cutmix(images: tf.Tensor, targets: tf.Tensor, rate: float) -> tuple[tf.Tensor, tf.Tensor]:
    """CutMix on one batch: each image, with probability `rate`, gets a box from the batch's
    image `shift` places on (one random shift per batch); its one-hot target becomes the
    area-weighted mix of the two. The box's side is sqrt(1 - lam) of the image's, with lam
    drawn uniform in [0, 1] (Beta(1, 1)) for each image."""
    n = tf.shape(images)[0]
    height, width = images.shape[1], images.shape[2]
    shift = tf.random.uniform([], 1, tf.maximum(n, 2), dtype=tf.int32)
    donor = tf.roll(tf.range(n), shift=-shift, axis=0)
    cut = tf.sqrt(1.0 - tf.random.uniform([n]))
    bh = tf.cast(tf.round(cut * height), tf.int32)
    bw = tf.cast(tf.round(cut * width), tf.int32)
    y0 = tf.cast(tf.random.uniform([n]) * tf.cast(height - bh + 1, tf.float32), tf.int32)
    x0 = tf.cast(tf.random.uniform([n]) * tf.cast(width - bw + 1, tf.float32), tf.int32)
    on = tf.random.uniform([n]) < rate
    bh, bw = tf.where(on, bh, 0), tf.where(on, bw, 0)
    rows = tf.range(height)[None, :, None]
    cols = tf.range(width)[None, None, :]
    box = (
        (rows >= y0[:, None, None])
        & (rows < (y0 + bh)[:, None, None])
        & (cols >= x0[:, None, None])
        & (cols < (x0 + bw)[:, None, None])
    )
    mixed = tf.where(box[..., None], tf.gather(images, donor), images)
    pasted = tf.cast(bh * bw, tf.float32) / float(height * width)
    mixed_targets = (1.0 - pasted)[:, None] * targets + pasted[:, None] * tf.gather(targets, donor)
    return mixed, mixed_targets


def random_gamma(img: tf.Tensor, low: float = 0.7, high: float = 1.5) -> tf.Tensor:
    """A random gamma on a 0..255 float image (exposure curves differ between cameras)."""
    gamma = tf.exp(tf.random.uniform([], np.log(low), np.log(high)))
    return 255.0 * tf.pow(tf.clip_by_value(img, 0.0, 255.0) / 255.0, gamma)


def random_resolution(img: tf.Tensor, low: float = 0.2, high: float = 0.9) -> tf.Tensor:
    """Down-sample by a random factor in [low, high] of the side and back up (bilinear): the
    blur of a small thumbnail or a cheap camera, so sharpness is no cue to the clinic."""
    height, width = img.shape[0], img.shape[1]
    f = tf.random.uniform([], low, high)
    small = tf.cast(
        tf.maximum(tf.round(f * tf.constant([height, width], tf.float32)), 8.0), tf.int32
    )
    down = tf.image.resize(img[None], small, method="area", antialias=True)
    return tf.image.resize(down, [height, width], method="bilinear")[0]


def random_frame(
    img: tf.Tensor, zoom_out_rate: float = 0.25, min_side: float = 0.6, max_out: float = 1.4
) -> tf.Tensor:
    """A random crop (side min_side..1 of the image, aspect 0.8..1.25), or with probability
    `zoom_out_rate` a zoom-out (side 1..max_out, the surround black, like a dermatoscope's
    vignette): the lesion's share of the frame differs between sources."""
    height, width = img.shape[0], img.shape[1]
    out = tf.random.uniform([]) < zoom_out_rate
    side = tf.where(out, tf.random.uniform([], 1.0, max_out), tf.random.uniform([], min_side, 1.0))
    aspect = tf.exp(tf.random.uniform([], np.log(0.8), np.log(1.25)))
    h = side * tf.sqrt(aspect)
    w = side / tf.sqrt(aspect)
    y0 = tf.random.uniform([], tf.minimum(0.0, 1.0 - h), tf.maximum(0.0, 1.0 - h) + 1e-6)
    x0 = tf.random.uniform([], tf.minimum(0.0, 1.0 - w), tf.maximum(0.0, 1.0 - w) + 1e-6)
    box = tf.stack([y0, x0, y0 + h, x0 + w])[None]
    return tf.image.crop_and_resize(img[None], box, [0], [height, width], extrapolation_value=0.0)[
        0
    ]


def robust_augment(image: tf.Tensor, resolution_rate: float = 0.5) -> tf.Tensor:
    """Model 2's augmentation: flips and a free rotation (dermoscopy has no up), framing,
    resolution (with probability `resolution_rate`), then brightness, contrast, saturation,
    hue and gamma, each over a range wider than the three training sources differ by."""
    img = tf.cast(image, tf.float32)
    img = tf.image.random_flip_left_right(img)
    img = tf.image.random_flip_up_down(img)
    img = rotate(img, tf.random.uniform([], -np.pi, np.pi))
    img = random_frame(img)
    img = tf.cond(
        tf.random.uniform([]) < resolution_rate, lambda: random_resolution(img), lambda: img
    )
    img = tf.image.random_brightness(img, 30.0)
    img = tf.image.random_contrast(img, 0.7, 1.3)
    img = tf.image.random_saturation(img, 0.7, 1.3)
    img = tf.image.random_hue(img, 0.05)
    img = random_gamma(img)
    return tf.clip_by_value(img, 0.0, 255.0)
