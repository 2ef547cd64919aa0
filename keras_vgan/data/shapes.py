"""Bouncing coloured shapes generated on the fly: a small RGB video data set.

Each clip shows a few circles, squares and triangles, each in a random bright colour,
moving in straight lines and bouncing off the edges of a dark canvas. Shapes are drawn
from signed distances on a pixel grid with a one-pixel antialiased edge, later shapes
over earlier ones. Like ``moving_mnist``, clip ``i`` is a pure function of
``(seed, i)``.
"""

from __future__ import annotations

import math

import tensorflow as tf

from keras_vgan.data.moving_mnist import _check_int, _check_seed, _clip_seed, _clip_stream

SHAPE_NAMES = ("circle", "square", "triangle")  # label i is SHAPE_NAMES[i]

_PARAMS = 9  # random numbers per shape, see ``render``
_BACKGROUND_MAX = 0.12  # background channels are uniform in [0, this]
_SQUARE_HALF_SIDE = 0.8  # of the radius: a square about as heavy as the circle
_SQRT3_2 = math.sqrt(3.0) / 2.0


def _reflect(p: tf.Tensor, lo: tf.Tensor, hi: tf.Tensor) -> tf.Tensor:
    """Fold an unbounded straight-line position into [lo, hi] as if it bounced."""
    span = hi - lo
    q = tf.math.floormod(p - lo, 2.0 * span)
    return lo + span - tf.abs(q - span)


def bouncing_shapes(
    *,
    frames: int = 16,
    size: int = 64,
    num_shapes: int = 2,
    channels: int = 3,
    num_clips: int | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    drop_remainder: bool = True,
    return_labels: bool = False,
    start_index: int = 0,
    return_flow: bool = False,
) -> tf.data.Dataset:
    """Bouncing circles, squares and triangles in colour, generated on the fly.

    Each shape has a random type, a random bright colour (hue uniform, saturation in
    [0.6, 1], value in [0.75, 1]; with ``channels=1`` a grey level in [0.5, 1]), a random
    radius in [size / 10, size / 6], a random start and a random velocity (direction
    uniform, speed size / 40 .. size / 16 pixels per frame). Shapes bounce off the edges
    and are drawn in order over a dark background of random tint.

    Clip ``i`` is a pure function of ``(seed, i)``; ``start_index=k`` continues a stream
    at its clip ``k``.

    Args:
        frames: frames per clip, >= 1.
        size: canvas height and width in pixels, >= 16.
        num_shapes: shapes per clip, >= 1.
        channels: 3 for RGB, 1 for greyscale.
        num_clips: clips in the data set; None for an infinite stream.
        batch_size: if given, batch the clips (see ``drop_remainder``).
        seed: the seed of the stream.
        drop_remainder: drop a last incomplete batch.
        return_labels: also yield the type of the first shape (int32 scalar, an index
            into ``SHAPE_NAMES``).
        start_index: index of the first clip.
        return_flow: yield ``(clip, flow)`` instead, ``flow`` the exact forward optical
            flow, float32 ``[frames - 1, size, size, 2]`` ``(dx, dy)`` in pixels:
            ``flow[t]`` lives on frame ``t``'s grid and moves each pixel of the shape seen
            there (the one with the largest weight in the compositing) by that shape's
            motion to frame ``t + 1`` (sub-pixel; bounces included); 0 where the
            background has the largest weight. Not with ``return_labels``.

    Returns:
        A ``tf.data.Dataset`` of float32 clips ``[frames, size, size, channels]`` in
        [-1, 1], batched to ``[batch_size, frames, size, size, channels]`` if asked;
        elements are ``(clip, label)`` with ``return_labels=True``, ``(clip, flow)``
        with ``return_flow=True``.
    """
    if return_flow not in (True, False) or (return_flow and return_labels):
        raise ValueError(
            f"return_flow must be True or False and not with return_labels, got {return_flow!r}"
        )
    frames = _check_int("frames", frames, 1)
    size = _check_int("size", size, 16)
    num_shapes = _check_int("num_shapes", num_shapes, 1)
    if isinstance(channels, bool) or channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels!r}")
    num_clips = _check_int("num_clips", num_clips, 1, allow_none=True)
    batch_size = _check_int("batch_size", batch_size, 1, allow_none=True)
    seed = _check_seed(seed)
    start_index = _check_int("start_index", start_index, 0)

    min_radius, max_radius = size / 10.0, size / 6.0
    min_speed, max_speed = size / 40.0, size / 16.0
    # Shapes are drawn in a small window around their centre (the costly part), then
    # placed on the canvas with one-hot shift matmuls. The window reaches `reach` pixels
    # either side of the centre's pixel: the radius plus the antialiased edge.
    reach = math.ceil(max_radius + 1.5)
    window = 2 * reach + 1
    offsets = tf.range(window, dtype=tf.float32) + (0.5 - reach)  # pixel centre - centre pixel
    window_pixels = tf.range(window, dtype=tf.int32)
    t = tf.range(frames, dtype=tf.float32)

    def draw(index):
        return tf.random.stateless_uniform(
            [3 + num_shapes * _PARAMS], seed=_clip_seed(seed, index), dtype=tf.float32
        )

    def render(u):  # u: [B, 3 + S * P] -> clips [B, T, size, size, channels]
        background = u[:, :3] * _BACKGROUND_MAX  # [B, 3]
        p = tf.reshape(u[:, 3:], [-1, num_shapes, _PARAMS])  # [B, S, P]
        kind = tf.minimum(tf.cast(p[..., 0] * 3.0, tf.int32), 2)  # [B, S]
        hsv = tf.stack([p[..., 1], 0.6 + 0.4 * p[..., 2], 0.75 + 0.25 * p[..., 3]], axis=-1)
        radius = min_radius + (max_radius - min_radius) * p[..., 4]  # [B, S]
        lo, hi = radius, size - radius  # the range of a centre that keeps the shape inside
        start = lo[..., None] + (hi - lo)[..., None] * p[..., 5:7]  # [B, S, 2] (y, x)
        angle = 2.0 * math.pi * p[..., 7]
        speed = min_speed + (max_speed - min_speed) * p[..., 8]
        velocity = speed[..., None] * tf.stack([tf.sin(angle), tf.cos(angle)], axis=-1)
        path = start[:, :, None] + velocity[:, :, None] * t[:, None]  # [B, S, T, 2]
        centre = _reflect(path, lo[..., None, None], hi[..., None, None])

        cell = tf.floor(centre)
        frac = centre - cell  # [B, S, T, 2]: the centre inside its pixel
        r = radius[:, :, None, None, None]  # [B, S, 1, 1, 1]
        dy = offsets[:, None] - frac[..., 0, None, None]  # [B, S, T, window, 1]
        dx = offsets[None, :] - frac[..., 1, None, None]  # [B, S, T, 1, window]
        circle = tf.sqrt(dy * dy + dx * dx) - r
        square = tf.maximum(tf.abs(dy), tf.abs(dx)) - _SQUARE_HALF_SIDE * r
        # Upward equilateral triangle with circumradius r: three half-planes at r / 2.
        triangle = (
            tf.maximum(dy, tf.maximum(-0.5 * dy - _SQRT3_2 * dx, -0.5 * dy + _SQRT3_2 * dx))
            - 0.5 * r
        )
        k = kind[:, :, None, None, None]
        sdf = tf.where(k == 0, circle, tf.where(k == 1, square, triangle))
        alpha = tf.clip_by_value(0.5 - sdf, 0.0, 1.0)  # 1-pixel antialiased edge

        # Place each window: canvas = Sy^T @ alpha @ Sx with Sy[i, h] = (h == corner + i);
        # window pixels off the canvas get all-zero one-hot rows and vanish.
        corner = tf.cast(cell, tf.int32) - reach  # [B, S, T, 2]
        shift_y = tf.one_hot(corner[..., 0, None] + window_pixels, size)  # [B, S, T, win, H]
        shift_x = tf.one_hot(corner[..., 1, None] + window_pixels, size)  # [B, S, T, win, W]
        alpha = tf.matmul(shift_y, tf.matmul(alpha, shift_x), transpose_a=True)  # [B,S,T,H,W]

        # "Over" compositing in closed form: pixel = sum_k weight_k * colour_k over the
        # background and the shapes, weight_s = alpha_s * prod_{s' > s} (1 - alpha_s').
        if channels == 3:
            colour = tf.image.hsv_to_rgb(hsv)  # [B, S, 3]
        else:
            colour = hsv[..., 2:]  # the value channel as a grey level
            background = tf.reduce_mean(background, axis=-1, keepdims=True)
        colour = tf.concat([background[:, None], colour], axis=1) * 2.0 - 1.0  # [-1, 1]
        weights = []  # from the top shape down; `clear` is what the shapes above let through
        clear = None
        for s in reversed(range(num_shapes)):
            a = alpha[:, s]  # [B, T, H, W]
            weights.append(a if clear is None else a * clear)
            clear = 1.0 - a if clear is None else clear * (1.0 - a)
        weights.append(clear)  # the background's
        weights = tf.stack(weights[::-1], axis=1)  # [B, 1 + S, T, H, W]
        if return_flow:  # each pixel moves with the layer of the largest weight
            step = (centre[:, :, 1:] - centre[:, :, :-1])[..., ::-1]  # [B, S, T-1, 2] (dx, dy)
            step = tf.pad(step, [[0, 0], [1, 0], [0, 0], [0, 0]])  # the background's: 0
            seen = tf.one_hot(tf.argmax(weights[:, :, :-1], axis=1), num_shapes + 1, axis=1)
            flow = tf.einsum("bsthw,bstc->bthwc", seen, step)
        weights = tf.reshape(weights, [-1, num_shapes + 1, frames * size * size])
        image = tf.matmul(weights, colour, transpose_a=True)  # [B, T * H * W, C]
        image = tf.reshape(image, [-1, frames, size, size, channels])
        clips = tf.clip_by_value(image, -1.0, 1.0)  # the weights sum to 1 up to rounding
        if return_flow:
            return clips, flow
        if return_labels:
            return clips, kind[:, 0]
        return clips

    return _clip_stream(
        draw,
        render,
        num_clips=num_clips,
        start_index=start_index,
        batch_size=batch_size,
        drop_remainder=bool(drop_remainder),
    )
