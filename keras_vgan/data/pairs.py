"""(inputs, targets) pairs for the conditional tasks, from the built-in data or your own.

Every task pairs an input clip with the clip the model must produce, both
float32 ``[B, T, H, W, C]`` in [-1, 1]:

==============  ================================  ==================================
task            inputs                            targets
==============  ================================  ==================================
prediction      the first ``context_frames``      the frames that follow
interpolation   every ``stride``-th frame         the whole clip (key frames included)
translation     Sobel edge maps of the clip       the clip (edges -> digits)
restoration     the clip degraded: ``x2``/``x4``  the clip
                (area down-sampling) or
                ``noise`` (Gaussian, std 0.2)
==============  ================================  ==================================

``make_pairs(task, clips, ...)`` turns any data set of batched clips (the built-in
Moving MNIST or shapes, a video folder, the Moving MNIST ``.npy`` file, TFDS) into
pairs; ``builtin_pairs`` and ``source_pairs`` do it for the built-in sets and for a
path. ``paired_folders(root)`` reads real pairs: ``root/inputs/`` and
``root/targets/`` hold videos (or frame folders) with the same relative names and
frame counts (e.g. ``inputs/a.mp4`` the edge maps or low-light version of
``targets/a.mp4``); clip ``i`` of both is cut at the same place.

Everything is deterministic: pairs of clip ``i`` depend on ``(seed, i)`` only (the
noise of a batch on its index), so a stream resumed with ``start_index`` continues
exactly.
"""

from __future__ import annotations

import os

import tensorflow as tf

from keras_vgan.data.base import DataError, check_int
from keras_vgan.data.builtin import builtin_dataset
from keras_vgan.data.dispatch import open_source, source_kind

TASKS = ("prediction", "interpolation", "translation", "restoration")
DEGRADATIONS = ("x2", "x4", "noise")
NOISE_STD = 0.2  # std of the denoising task's Gaussian noise, on the [-1, 1] scale
PAIRED_DIRS = ("inputs", "targets")


def _check_task(task):
    if task not in TASKS:
        raise ValueError(f"task={task!r} is not one of {', '.join(TASKS)}")
    return task


def _check_degrade(degrade):
    if degrade not in DEGRADATIONS:
        raise ValueError(f"degrade={degrade!r} is not one of {', '.join(DEGRADATIONS)}")
    return degrade


def degrade_scale(degrade):
    """The super-resolution factor of a degradation (1 for ``noise``)."""
    return {"x2": 2, "x4": 4, "noise": 1}[_check_degrade(degrade)]


# --------------------------------------------------------------------------- transforms


def key_frames(clips, stride):
    """Every ``stride``-th frame of ``[B, T, ...]`` clips (frame 0, s, 2s, ...)."""
    return clips[:, ::stride]


def edge_maps(clips):
    """Sobel edge magnitude of every frame, in [-1, 1]: ``[B, T, H, W, C]`` -> same shape.

    Computed on the [0, 1] scale, where a full step edge has magnitude 4 (the
    Sobel kernel's weights 1, 2, 1), and mapped to [-1, 1] as ``min(|g| / 4, 1)``.
    """
    shape = tf.shape(clips)
    frames = tf.reshape((clips + 1.0) / 2.0, tf.concat([[-1], shape[2:]], 0))
    g = tf.image.sobel_edges(frames)  # [N, H, W, C, 2]
    magnitude = tf.sqrt(tf.reduce_sum(tf.square(g), axis=-1) + 1e-12)
    return tf.reshape(tf.minimum(magnitude / 4.0, 1.0) * 2.0 - 1.0, shape)


def downsample(clips, factor):
    """Area (box) down-sampling of every frame by an integer ``factor``."""
    shape = tf.shape(clips)
    c = clips.shape[-1]
    frames = tf.reshape(clips, tf.concat([[-1], shape[2:]], 0))
    small = tf.nn.avg_pool2d(frames, factor, factor, "VALID")
    return tf.reshape(
        small, tf.stack([shape[0], shape[1], shape[2] // factor, shape[3] // factor, c])
    )


def degrade_clips(clips, degrade, seed):
    """The restoration task's input: ``x2``/``x4`` down-sampled or ``noise``-corrupted.

    Args:
        clips: ``[B, T, H, W, C]`` in [-1, 1].
        degrade: one of ``DEGRADATIONS``.
        seed: a stateless seed (shape ``[2]`` int) for the noise.
    """
    degrade = _check_degrade(degrade)
    if degrade == "noise":
        noise = tf.random.stateless_normal(tf.shape(clips), seed=seed, stddev=NOISE_STD)
        return tf.clip_by_value(clips + noise, -1.0, 1.0)
    return downsample(clips, degrade_scale(degrade))


def make_pairs(
    task,
    clips,
    *,
    context_frames=10,
    stride=None,
    degrade="x2",
    seed=0,
    start_batch=0,
):
    """Turns a data set of batched clips ``[B, T, H, W, C]`` into ``(inputs, targets)``.

    Args:
        task: one of ``TASKS``.
        clips: a ``tf.data.Dataset`` of batched clips (labels, if any, are dropped).
        context_frames: prediction: frames of context (the rest are targets).
        stride: interpolation: frames between key frames; None = endpoints only
            (``T - 1``). ``T - 1`` must be a multiple of it.
        degrade: restoration: one of ``DEGRADATIONS``.
        seed, start_batch: the noise of batch ``i`` is drawn from
            ``(seed, start_batch + i)`` (restoration with ``noise``).
    """
    _check_task(task)
    spec = clips.element_spec
    if isinstance(spec, tuple):  # (clips, labels)
        clips = clips.map(lambda x, _label: x)
        spec = clips.element_spec
    if spec.shape.rank != 5:
        raise ValueError(f"make_pairs needs batched clips [B, T, H, W, C], got {spec.shape}")
    frames = spec.shape[1]
    if task == "prediction":
        context_frames = check_int("context_frames", context_frames, 1)
        if frames is not None and context_frames >= frames:
            raise ValueError(
                f"context_frames={context_frames} must be < the clip's {frames} frames"
            )
        return clips.map(lambda x: (x[:, :context_frames], x[:, context_frames:]))
    if task == "interpolation":
        stride = frames - 1 if stride is None else check_int("stride", stride, 1)
        if frames is not None and (frames < 2 or (frames - 1) % stride):
            raise ValueError(
                f"stride={stride} must divide frames - 1 = {frames - 1} "
                "(key frames at 0, stride, ..., frames - 1)"
            )
        return clips.map(lambda x: (key_frames(x, stride), x))
    if task == "translation":
        return clips.map(lambda x: (edge_maps(x), x))
    _check_degrade(degrade)
    size = spec.shape[2]
    scale = degrade_scale(degrade)
    if size is not None and size % scale:
        raise ValueError(f"size={size} must be a multiple of the x{scale} degradation")
    base = tf.constant(int(seed), tf.int64)

    def restore_pair(i, x):
        key = tf.stack([base, tf.cast(i, tf.int64) + start_batch])
        return degrade_clips(x, degrade, key), x

    return clips.enumerate().map(restore_pair)


# --------------------------------------------------------------------------- data sets


def builtin_pairs(
    task,
    data="moving_mnist",
    *,
    frames=20,
    size=64,
    channels=1,
    batch_size=16,
    seed=0,
    split="train",
    num_clips=None,
    start_index=0,
    **pair_kwargs,
):
    """Pairs from a built-in data set (``"moving_mnist"`` or ``"shapes"``).

    Moving MNIST 10 -> 10 prediction: ``builtin_pairs("prediction", frames=20,
    context_frames=10)``. Held-out clips: another ``seed`` and ``split="test"``
    (Moving MNIST's 500 held-out digits).

    Args:
        task: one of ``TASKS``.
        data: the built-in data set.
        frames, size, channels: clip shape (Moving MNIST has 1 channel).
        batch_size, seed, num_clips, start_index: as for ``data.moving_mnist``.
        split: Moving MNIST's digit split (ignored for shapes).
        **pair_kwargs: ``context_frames``, ``stride``, ``degrade`` (``make_pairs``).
    """
    kwargs = dict(
        frames=frames,
        size=size,
        batch_size=batch_size,
        seed=seed,
        num_clips=num_clips,
        start_index=start_index,
        drop_remainder=num_clips is None,  # a finite (evaluation) set keeps every clip
    )
    if data == "moving_mnist":
        kwargs["split"] = split
    else:
        kwargs["channels"] = channels
    clips = builtin_dataset(data, **kwargs)
    return make_pairs(task, clips, seed=seed, start_batch=start_index // batch_size, **pair_kwargs)


def is_paired_folder(path):
    """True when ``path`` is a folder holding ``inputs/`` and ``targets/``."""
    path = os.path.expanduser(os.fspath(path))
    return all(os.path.isdir(os.path.join(path, d)) for d in PAIRED_DIRS)


def open_paired_folders(root, *, frames=16, size=64, channels=3, input_size=None,
                        input_channels=None, start="random", **kwargs):  # fmt: skip
    """The two sources of a paired folder, checked item by item.

    Returns:
        ``(inputs_source, targets_source)``.

    Raises:
        DataError: one line, when the folders do not hold the same items.
    """
    root = os.path.expanduser(os.fspath(root))
    if not is_paired_folder(root):
        raise DataError(
            f"{root!r} is not a folder of paired videos: it needs sub-folders "
            f"{PAIRED_DIRS[0]}/ and {PAIRED_DIRS[1]}/ with the same file names"
        )
    common = dict(frames=frames, start=start, **kwargs)
    src = open_source(
        os.path.join(root, PAIRED_DIRS[0]),
        size=input_size or size,
        channels=input_channels or channels,
        **common,
    )
    tgt = open_source(os.path.join(root, PAIRED_DIRS[1]), size=size, channels=channels, **common)

    def listing(source, folder):
        base = os.path.join(root, folder)
        return [(os.path.relpath(it.name, base), it.num_frames) for it in source.items]

    a, b = listing(src, PAIRED_DIRS[0]), listing(tgt, PAIRED_DIRS[1])
    if a != b:
        only = sorted(set(a) ^ set(b))
        raise DataError(
            f"{root!r}: inputs/ and targets/ must hold the same items with the same frame "
            f"counts; first difference: {only[0] if only else 'order'}"
        )
    return src, tgt


def paired_folders(root, *, batch_size=16, seed=0, start_index=0, shuffle=True,
                   repeat=True, **kwargs):  # fmt: skip
    """Pairs from ``root/inputs/`` and ``root/targets/`` (see the module docstring).

    Args:
        root: the folder.
        batch_size, seed, start_index, shuffle, repeat: as for ``ClipSource.dataset``.
        **kwargs: ``frames``, ``size``, ``channels``, ``input_size``,
            ``input_channels`` (for low-resolution or other-channel inputs),
            ``stride``, ``start``, ``resize`` of the two sources.

    Returns:
        A data set of ``(inputs, targets)`` batches.
    """
    src, tgt = open_paired_folders(root, **kwargs)
    return zip_sources(src, tgt, batch_size=batch_size, seed=seed, start_index=start_index,
                       shuffle=shuffle, repeat=repeat)  # fmt: skip


def zip_sources(src, tgt, *, batch_size=16, **opts):
    """``(inputs, targets)`` batches of two opened sources (``open_paired_folders``).

    ``**opts``: ``seed``, ``start_index``, ``shuffle``, ``repeat`` of ``ClipSource.dataset``.
    """
    # Same items, frame counts, seed and start index: the same (item, start) stream.
    both = tf.data.Dataset.zip(src.dataset(**opts), tgt.dataset(**opts))
    return both.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def source_pairs(task, data, *, frames=20, size=64, channels=1, batch_size=16, seed=0,
                 start_index=0, **pair_kwargs):  # fmt: skip
    """Pairs from a path: a paired folder as is, any other source through ``make_pairs``.

    ``data`` is a paired folder (``inputs/``, ``targets/``), the Moving MNIST ``.npy``
    file, a video or folder of videos, frame folders or ``tfds:NAME``
    (``keras_vgan.data.open_source``).
    """
    _check_task(task)
    if not str(data).startswith("tfds:") and is_paired_folder(data):
        extra = {}
        if task == "restoration":
            extra["input_size"] = size // degrade_scale(pair_kwargs.get("degrade", "x2"))
        return paired_folders(
            data,
            frames=frames,
            size=size,
            channels=channels,
            batch_size=batch_size,
            seed=seed,
            start_index=start_index,
            **extra,
        )
    source_kind(data)  # one-line DataError for a path that holds nothing usable
    source = open_source(data, frames=frames, size=size, channels=channels)
    clips = source.dataset(
        batch_size=batch_size, seed=seed, start_index=start_index, drop_remainder=True
    )
    return make_pairs(task, clips, seed=seed, start_batch=start_index // batch_size, **pair_kwargs)
