"""Moving MNIST generated on the fly from the bundled MNIST digits.

Follows the original Moving MNIST procedure of Srivastava, Mansimov and Salakhutdinov,
"Unsupervised Learning of Video Representations using LSTMs" (ICML 2015): each digit
starts at a uniform random position, moves in a uniform random direction with a fixed
step of 0.1 of the free range per frame, bounces off the canvas edges, and digits are
combined by pixel-wise maximum.

Nothing is downloaded: the digits are 5,000 real MNIST digits shipped with the package
(see ``assets/README.md``). Every clip is a pure function of ``(seed, clip index)``, so
a stream is reproducible, independent of batching and resumable with ``start_index``.
"""

from __future__ import annotations

import functools
import io
import math
import numbers
from collections.abc import Callable
from importlib import resources

import numpy as np
import tensorflow as tf

MNIST_SPLITS = ("train", "test", "all")

_DIGIT_SIZE = 28
_PER_CLASS_TRAIN = 450  # of the 500 digits per class; the last 50 are the test split
_STEP_LENGTH = 0.1  # fraction of the free range travelled per frame (Srivastava et al.)
_STANDARD_SIZE = 64  # canvas the 28x28 digits were designed for
_RENDER_CHUNK = 16  # clips rendered together when the data set is not batched


# --------------------------------------------------------------------------- validation


def _check_int(name: str, value, minimum: int | None = None, *, allow_none: bool = False):
    """Return ``value`` as an int, or raise a one-line ValueError naming the argument."""
    if value is None and allow_none:
        return None
    expected = "an int" if minimum is None else f"an int >= {minimum}"
    if allow_none:
        expected += " or None"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return int(value)


def _check_seed(seed) -> int:
    seed = _check_int("seed", seed)
    if not -(2**63) <= seed < 2**63:
        raise ValueError(f"seed must be an int in [-2**63, 2**63), got {seed!r}")
    return seed


def _clip_stream(
    draw: Callable[[tf.Tensor], tf.Tensor],
    render: Callable[[tf.Tensor], object],
    *,
    num_clips: int | None,
    start_index: int,
    batch_size: int | None,
    drop_remainder: bool,
) -> tf.data.Dataset:
    """Clip indices -> random draws (per clip) -> rendered clips (per chunk) -> prefetch.

    ``draw`` maps one clip index to that clip's random numbers (stateless, seeded by the
    index), and ``render`` maps a chunk of draws to a chunk of clips elementwise, so clip
    ``i`` depends on ``i`` alone while the costly rendering is vectorised over a batch.
    """
    if num_clips is None:
        indices = tf.data.Dataset.counter(start_index, dtype=tf.int64)
    else:
        indices = tf.data.Dataset.range(start_index, start_index + num_clips, dtype=tf.int64)
    ds = indices.map(draw, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if batch_size is None:
        ds = ds.batch(_RENDER_CHUNK)
    else:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    ds = ds.map(render, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if batch_size is None:
        ds = ds.unbatch()
    return ds.prefetch(tf.data.AUTOTUNE)


def _clip_seed(seed: int, index: tf.Tensor) -> tf.Tensor:
    """The stateless seed of clip ``index``: a distinct Philox key per (seed, index)."""
    return tf.stack([tf.constant(seed, tf.int64), tf.cast(index, tf.int64)])


# --------------------------------------------------------------------------- digits


@functools.lru_cache(maxsize=1)
def _load_npz() -> tuple[np.ndarray, np.ndarray]:
    ref = resources.files("keras_vgan.data").joinpath("assets").joinpath("mnist_5k.npz")
    with np.load(io.BytesIO(ref.read_bytes())) as npz:
        return npz["images"], npz["labels"]


@functools.cache
def load_mnist_digits(split: str = "all") -> tuple[np.ndarray, np.ndarray]:
    """Load the bundled MNIST digits (5,000 real digits, 500 per class).

    Args:
        split: ``"train"`` (the first 450 digits of each class, 4,500 in all),
            ``"test"`` (the last 50 of each class, 500 in all) or ``"all"``.

    Returns:
        ``(images, labels)``: uint8 ``[N, 28, 28]`` with 0 background and 255 ink, and
        uint8 ``[N]`` class labels. The arrays are cached and read-only.
    """
    if split not in MNIST_SPLITS:
        raise ValueError(f"split must be one of {MNIST_SPLITS}, got {split!r}")
    images, labels = _load_npz()
    if split != "all":
        keep = []
        for cls in range(10):
            members = np.flatnonzero(labels == cls)
            keep.append(
                members[:_PER_CLASS_TRAIN] if split == "train" else members[_PER_CLASS_TRAIN:]
            )
        order = np.concatenate(keep)
        images, labels = images[order], labels[order]
    images, labels = np.array(images, np.uint8), np.array(labels, np.uint8)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def _digit_size(size: int) -> int:
    return int(round(_DIGIT_SIZE * size / _STANDARD_SIZE))


def _digit_bank(images: np.ndarray, digit_size: int) -> np.ndarray:
    """Resize the digits once to ``digit_size`` and add a zero row below each.

    Rendering points canvas rows that a digit does not cover at that zero row.
    """
    bank = images
    if digit_size != _DIGIT_SIZE:
        resized = tf.image.resize(
            images[..., None].astype(np.float32), (digit_size, digit_size), antialias=True
        )
        bank = np.clip(np.round(resized.numpy()[..., 0]), 0, 255).astype(np.uint8)
    return np.pad(bank, ((0, 0), (0, 1), (0, 0)))  # [N, d + 1, d]


# --------------------------------------------------------------------------- motion


def bounce_positions(start: tf.Tensor, velocity: tf.Tensor, frames: int) -> tf.Tensor:
    """Positions in [0, 1] after each of ``frames`` steps, bouncing as in the original code.

    The original generator steps ``x += v`` and, when ``x`` leaves [0, 1], clamps it to the
    wall and negates ``v``; the first recorded frame is after the first step. This is the
    same walk in closed form, so all frames are computed at once: the first wall is hit
    after ``k0 = max(1, ceil(d / |v|))`` steps (``d`` the distance to it), and from then on
    the walk is periodic with ``k = ceil(1 / |v|)`` steps from wall to wall.

    Args:
        start: float64 ``[...]`` start positions in [0, 1].
        velocity: float64 ``[...]`` steps per frame, same shape.
        frames: number of frames.

    Returns:
        float64 ``[frames, ...]`` positions in [0, 1].
    """
    t = tf.reshape(tf.range(1, frames + 1, dtype=tf.float64), [frames] + [1] * start.shape.rank)
    forward = velocity > 0
    speed = tf.maximum(tf.abs(velocity), 1e-9)  # a zero velocity never reaches a wall
    to_wall = tf.where(forward, 1.0 - start, start)
    k0 = tf.maximum(tf.math.ceil(to_wall / speed), 1.0)
    k = tf.math.ceil(1.0 / speed)
    phase = tf.math.floormod(t - k0, 2.0 * k)  # steps since the first bounce, mod a period
    from_wall = tf.where(phase <= k, tf.minimum(phase * speed, 1.0), 1.0 - (phase - k) * speed)
    bounced = tf.where(forward, 1.0 - from_wall, from_wall)
    return tf.where(t < k0, start + velocity * t, bounced)


def _digit_flow(canvas: tf.Tensor, corner: tf.Tensor) -> tf.Tensor:
    """Exact forward flow ``[B, T - 1, H, W, 2]`` ``(dx, dy)`` of rendered digits.

    Args:
        canvas: float32 ``[B, D, T, H, W]``, each digit alone (0 off its ink).
        corner: int32 ``[B, D, T, 2]`` ``(y, x)`` top-left pixels.
    """
    step = tf.cast(corner[:, :, 1:] - corner[:, :, :-1], tf.float32)[..., ::-1]  # (dx, dy)
    ink = canvas[:, :, :-1]  # [B, D, T - 1, H, W]: each digit in frame t
    seen = tf.one_hot(tf.argmax(ink, axis=1), tf.shape(ink)[1], axis=1)  # the max's digit
    seen *= tf.cast(ink > 0, tf.float32)  # background: no digit
    return tf.einsum("bdthw,bdtc->bthwc", seen, step)


# --------------------------------------------------------------------------- dataset


def moving_mnist(
    *,
    frames: int = 20,
    size: int = 64,
    num_digits: int = 2,
    num_clips: int | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    split: str = "train",
    drop_remainder: bool = True,
    return_labels: bool = False,
    start_index: int = 0,
    return_flow: bool = False,
) -> tf.data.Dataset:
    """Moving MNIST clips generated on the fly (Srivastava et al., 2015).

    On a ``size x size`` black canvas, ``num_digits`` digits drawn at random from the
    split each start at a random position and move in a random direction (angle uniform
    in [0, 2 pi)) at 0.1 of the free range (``size - digit``) per frame, bouncing off the
    edges; overlapping digits are combined by pixel-wise maximum. For ``size != 64`` the
    28x28 digits are resized by ``size / 64``.

    Clip ``i`` is a pure function of ``(seed, i)``: the stream does not depend on batching
    or parallelism, and ``start_index=k`` continues a stream at its clip ``k``.

    Args:
        frames: frames per clip, >= 1.
        size: canvas height and width in pixels, >= 16.
        num_digits: digits per clip, >= 1.
        num_clips: clips in the data set; None for an infinite stream.
        batch_size: if given, batch the clips (see ``drop_remainder``).
        seed: the seed of the stream.
        split: which digits to use: ``"train"``, ``"test"`` or ``"all"``
            (see ``load_mnist_digits``).
        drop_remainder: drop a last incomplete batch.
        return_labels: also yield the class of the first digit (int32 scalar); or
            ``"all"``: a dict with ``"digits"`` (int32 ``[num_digits]``, the class of
            each digit) and ``"directions"`` (float32 ``[num_digits]``, each digit's
            initial direction of motion in radians, [0, 2 pi): it moves by
            ``(dy, dx) = 0.1 * (sin, cos)`` of the free range per frame until it
            first bounces).
        start_index: index of the first clip.
        return_flow: yield ``(clip, flow)`` instead, ``flow`` the exact forward optical
            flow, float32 ``[frames - 1, size, size, 2]`` ``(dx, dy)`` in pixels:
            ``flow[t]`` lives on frame ``t``'s grid and moves each ink pixel of the digit
            seen there (the brightest, where digits overlap) to where it is in frame
            ``t + 1``, so frame ``t + 1`` sampled at ``x + flow[t](x)`` is frame ``t`` on
            those pixels; 0 on the background. Not with ``return_labels``.

    Returns:
        A ``tf.data.Dataset`` of float32 clips ``[frames, size, size, 1]`` in [-1, 1]
        (background -1), batched to ``[batch_size, frames, size, size, 1]`` if asked;
        elements are ``(clip, label)`` with ``return_labels=True`` (or ``"all"``),
        ``(clip, flow)`` with ``return_flow=True``.
    """
    if return_labels not in (True, False, "all"):
        raise ValueError(f"return_labels must be True, False or 'all', got {return_labels!r}")
    if return_flow not in (True, False) or (return_flow and return_labels):
        raise ValueError(
            f"return_flow must be True or False and not with return_labels, got {return_flow!r}"
        )
    frames = _check_int("frames", frames, 1)
    size = _check_int("size", size, 16)
    num_digits = _check_int("num_digits", num_digits, 1)
    num_clips = _check_int("num_clips", num_clips, 1, allow_none=True)
    batch_size = _check_int("batch_size", batch_size, 1, allow_none=True)
    seed = _check_seed(seed)
    start_index = _check_int("start_index", start_index, 0)
    digit_size = _digit_size(size)
    if not 0 < digit_size < size:
        raise ValueError(
            f"size must leave room to move a {digit_size}x{digit_size} digit, got {size}"
        )
    images, labels = load_mnist_digits(split)

    bank = tf.constant(_digit_bank(images, digit_size))  # uint8 [N, d + 1, d]
    bank_labels = tf.constant(labels.astype(np.int32))
    num_images = len(images)
    free = size - digit_size  # the range of a digit's top-left corner
    pixels = tf.range(size, dtype=tf.int32)
    digit_pixels = tf.range(digit_size, dtype=tf.int32)

    def draw(index):
        # Per digit: which image, start y, start x, direction.
        return tf.random.stateless_uniform(
            [num_digits, 4], seed=_clip_seed(seed, index), dtype=tf.float64
        )

    def render(u):  # u: [B, D, 4] -> clips [B, T, size, size, 1]
        which = tf.minimum(tf.cast(u[..., 0] * num_images, tf.int32), num_images - 1)
        theta = 2.0 * math.pi * u[..., 3]
        velocity = _STEP_LENGTH * tf.stack([tf.sin(theta), tf.cos(theta)], axis=-1)  # (y, x)
        pos = bounce_positions(u[..., 1:3], velocity, frames)  # [T, B, D, 2] in [0, 1]
        corner = tf.cast(tf.floor(pos * free), tf.int32)  # top-left pixel, as the original
        corner = tf.transpose(corner, [1, 2, 0, 3])[..., None]  # [B, D, T, 2, 1]
        # Background 0, ink in (0, 2]: the max over digits then maps to [-1, 1] by -1.
        digits = tf.cast(tf.gather(bank, which), tf.float32) * (2.0 / 255.0)  # [B, D, d+1, d]
        # Horizontal placement as a matmul with one-hot shifts: shift[k, w] = (w == x + k).
        shift_x = tf.one_hot(corner[:, :, :, 1] + digit_pixels, size)  # [B, D, T, d, size]
        rows = tf.matmul(digits[:, :, None], shift_x)  # [B, D, T, d + 1, size]
        # Vertical placement as a row gather; rows outside the digit read the zero row.
        src = pixels - corner[:, :, :, 0]  # [B, D, T, size]
        src = tf.where((src >= 0) & (src < digit_size), src, digit_size)
        canvas = tf.gather(rows, src, axis=3, batch_dims=3)  # [B, D, T, size, size]
        clips = tf.reduce_max(canvas, axis=1) - 1.0  # digits combined by maximum
        clips = tf.reshape(clips, [-1, frames, size, size, 1])
        if return_flow:
            return clips, _digit_flow(canvas, corner[..., 0])
        if return_labels == "all":
            directions = tf.cast(theta, tf.float32)
            return clips, {"digits": tf.gather(bank_labels, which), "directions": directions}
        if return_labels:
            return clips, tf.gather(bank_labels, which[:, 0])
        return clips

    return _clip_stream(
        draw,
        render,
        num_clips=num_clips,
        start_index=start_index,
        batch_size=batch_size,
        drop_remainder=bool(drop_remainder),
    )
