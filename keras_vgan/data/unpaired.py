"""Two unpaired video domains: restyled built-in clips, or two folders of videos.

Unpaired translation (Recycle-GAN, ``keras_vgan.unpaired``) learns from clips of a
domain A and clips of a domain B that show *different* content: batches are
``(clips_a, clips_b)``, the two drawn independently.

* Built-in data (``moving_mnist``, ``shapes``): domain A is the data set itself;
  domain B is the same generator drawn from another seed (``domain_b_seed``: other
  digits or shapes, other positions and motions) and then restyled by ``restyle``
  with a ``domain_b`` style (``STYLES``, joined by ``+`` to chain them, e.g.
  ``"thick+colour"``), implemented with OpenCV and NumPy.
* Data on disk: domain A is ``--data``, domain B ``--data-b`` (each a video folder,
  frame folders, ... through ``dispatch.open_source``); B's clips are shuffled with
  another seed, so two runs over the same folder still pair different clips.

Every stream is a pure function of ``(seed, start_index)`` as the single-domain
streams are, so a resumed run continues both domains where they were.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import tensorflow as tf

from keras_vgan.data.base import DataError
from keras_vgan.data.builtin import builtin_dataset
from keras_vgan.data.dispatch import open_source

# Styles of the built-in domain B: what each does to a clip of domain A.
STYLES = {
    "invert": "dark strokes on a white background (255 - x)",
    "thick": "strokes thickened by a grey-level dilation (elliptic kernel, 3 px up to 32 px frames)",
    "colour": "amber strokes on a navy background (luma blended between two RGB colours)",
}
# The RGB ends of the "colour" style: background (x = 0) and stroke (x = 255).
COLOUR_BACKGROUND = np.array([20.0, 30.0, 90.0], np.float32)
COLOUR_STROKE = np.array([255.0, 190.0, 40.0], np.float32)
DOMAIN_B_SEED_OFFSET = 1_000_003  # domain B's built-in stream: seed + this (independent draws)
BUILTIN = ("moving_mnist", "shapes")


def parse_style(style, name="domain_b"):
    """The tuple of ``STYLES`` names in ``style`` (``"thick+colour"``); one-line ValueError."""
    if not isinstance(style, str) or not style.strip():
        raise ValueError(f"{name}={style!r} must name a style: {', '.join(STYLES)} (join with +)")
    parts = tuple(p.strip() for p in style.split("+"))
    bad = [p for p in parts if p not in STYLES]
    if bad:
        raise ValueError(
            f"{name}={style!r}: {bad[0]!r} is not one of {', '.join(STYLES)} (join with +)"
        )
    if "colour" in parts[:-1]:
        raise ValueError(f"{name}={style!r}: 'colour' makes RGB frames, so it must come last")
    return parts


def style_channels(style, channels):
    """Channels of domain B's clips: 3 once ``"colour"`` is applied, else ``channels``."""
    return 3 if "colour" in parse_style(style) else int(channels)


def dilation_kernel(size):
    """The elliptic structuring element of ``"thick"`` for frames of ``size`` pixels."""
    k = 2 * max(1, round(size / 32)) + 1  # 3 px at 16-32 px frames, 5 at 64
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))


def _to_uint8(clips):
    x = np.asarray(clips)
    if x.dtype == np.uint8:
        return x
    return np.clip(np.round((x.astype(np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def restyle(clips, style):
    """Domain A clips -> domain B clips in ``style`` (``STYLES``, chained with ``+``).

    Deterministic (no randomness): the same clip always gives the same restyled clip.

    Args:
        clips: ``[..., H, W, C]`` frames (a clip ``[T, H, W, C]`` or a batch ``[B, T, H,
            W, C]``), float in [-1, 1] or uint8, ``C`` 1 or 3.
        style: e.g. ``"thick"``, ``"invert"``, ``"thick+colour"``.

    Returns:
        float32 clips in [-1, 1] of the same shape, with 3 channels after ``"colour"``.
    """
    parts = parse_style(style, "style")
    x = _to_uint8(clips)
    if x.ndim < 3 or x.shape[-1] not in (1, 3):
        raise ValueError(f"clips have shape {x.shape}; expected [..., H, W, C] with C 1 or 3")
    lead, (h, w, c) = x.shape[:-3], x.shape[-3:]
    frames = x.reshape((-1, h, w, c))
    for part in parts:
        if part == "invert":
            frames = 255 - frames
        elif part == "thick":
            kernel = dilation_kernel(min(h, w))
            dilated = [cv2.dilate(f, kernel) for f in frames]
            frames = np.stack(dilated).reshape(frames.shape)
        else:  # colour: the frame's luma blends the two colours
            grey = frames.astype(np.float32)
            if grey.shape[-1] == 3:
                grey = grey @ np.array([0.299, 0.587, 0.114], np.float32)[:, None]
            a = grey / 255.0
            rgb = COLOUR_BACKGROUND + a * (COLOUR_STROKE - COLOUR_BACKGROUND)
            frames = np.clip(np.round(rgb), 0, 255).astype(np.uint8)
    out = frames.reshape(lead + frames.shape[1:])
    return out.astype(np.float32) * (2.0 / 255.0) - 1.0


def restyle_dataset(dataset, style, channels):
    """``restyle`` mapped over a ``tf.data`` stream of clips (``[..., H, W, C]`` each)."""

    def apply(x):
        y = tf.numpy_function(lambda v: restyle(v, style), [x], tf.float32, stateful=False)
        return tf.ensure_shape(y, x.shape[:-1].concatenate([channels]))

    return dataset.map(apply, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def domain_b_seed(seed):
    """The seed of domain B's built-in stream: independent of domain A's ``seed``."""
    return int(seed) + DOMAIN_B_SEED_OFFSET


def _builtin(name, *, frames, size, channels, batch_size, seed, start_index, num_clips,
             split, drop_remainder):  # fmt: skip
    kwargs = dict(
        frames=frames,
        size=size,
        batch_size=batch_size,
        seed=seed,
        start_index=start_index,
        num_clips=num_clips,
        drop_remainder=drop_remainder,
    )
    if name == "moving_mnist":
        kwargs["split"] = split
    else:
        kwargs["channels"] = channels
    return builtin_dataset(name, **kwargs)


def _from_source(source, *, batch_size, seed, start_index, num_clips, drop_remainder):
    ds = source.dataset(
        batch_size=batch_size, seed=seed, start_index=start_index, drop_remainder=drop_remainder
    )
    return ds.take(math.ceil(num_clips / batch_size)) if num_clips else ds


def open_domains(data, data_b="", **options):
    """Opens (and so probes) the sources of both domains; ``(source_a, source_b)``.

    A built-in ``data`` gives ``source_a = None``; an empty ``data_b`` gives
    ``source_b = None`` (domain B is then ``data`` restyled, which needs built-in data).

    Args:
        data: ``--data``: a built-in name or a path (``dispatch.open_source``).
        data_b: ``--data-b``: a path, or "" for the built-in restyled domain.
        **options: the sources' clip options (``frames``, ``size``, ``channels``, ...).

    Raises:
        DataError: one line naming ``data`` or ``data_b``.
    """
    if data not in BUILTIN and not data_b:
        raise DataError(
            f"data={data!r} is a path: unpaired training needs domain B as well "
            "(--data-b, a folder of videos or frame folders)"
        )
    source_a = None if data in BUILTIN else open_source(data, **options)
    source_b = None
    if data_b:
        try:
            source_b = open_source(data_b, **options)
        except DataError as e:
            raise DataError(f"data_b={data_b!r}: {e}") from None
    return source_a, source_b


def unpaired_dataset(data, *, style="thick", source_a=None, source_b=None, frames=16,
                     size=32, channels=1, batch_size=8, seed=0, start_index=0, num_clips=None,
                     split="train", drop_remainder=True):  # fmt: skip
    """Batches ``(clips_a [b, T, H, W, C_a], clips_b [b, T, H, W, C_b])`` of two domains.

    The two domains are drawn independently (module docstring): domain A from
    ``source_a`` (or built-in ``data`` with ``seed``), domain B from ``source_b`` (with
    another shuffling seed) or, without it, built-in ``data`` drawn with
    ``domain_b_seed(seed)`` and restyled in ``style``.

    Args:
        data: the built-in name (for the built-in domains) or the path of ``source_a``.
        style: domain B's style when it is built in (``restyle``).
        source_a, source_b: opened sources (``open_domains``), or None (built in).
        frames, size, channels: the clips (``channels`` of domain A; B's follows the style).
        batch_size: clips per domain per batch.
        seed: the draw of domain A (B's is derived from it).
        start_index: skip this many clips of each domain (resume).
        num_clips: a finite number of clips per domain; None for an infinite stream.
        split: built-in Moving MNIST digits: ``"train"`` or ``"test"`` (held out).
        drop_remainder: drop a last incomplete batch.
    """
    common = dict(
        batch_size=batch_size,
        start_index=start_index,
        num_clips=num_clips,
        drop_remainder=drop_remainder,
    )
    clip = dict(frames=frames, size=size, channels=channels, split=split)
    if source_a is None:
        if data not in BUILTIN:
            raise ValueError(f"data={data!r} is not built in: open it with open_domains")
        a = _builtin(data, seed=seed, **clip, **common)
    else:
        a = _from_source(source_a, seed=seed, **common)
    if source_b is None:
        if data not in BUILTIN:
            raise ValueError(f"data={data!r} is a path: domain B needs a source (data_b)")
        b = _builtin(data, seed=domain_b_seed(seed), **clip, **common)
        b = restyle_dataset(b, style, style_channels(style, channels))
    else:
        b = _from_source(source_b, seed=domain_b_seed(seed), **common)
    return tf.data.Dataset.zip((a, b)).prefetch(tf.data.AUTOTUNE)
