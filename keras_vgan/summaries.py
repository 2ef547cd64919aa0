"""Animated video summaries for TensorBoard, and reading event files back.

`video_summary` writes a batch of clips as one animated GIF (the batch tiled in
a grid) in the layout `tf.summary.image` uses: a string tensor
`[width, height, encoded_image]` tagged with the image plugin's metadata.
TensorBoard's IMAGES dashboard hands the encoded bytes to the browser as they
are, and browsers animate GIFs.

The image-plugin metadata is built here from TensorFlow's own `SummaryMetadata`
proto, so writing needs no `tensorboard` package: the bytes are the ones
`tensorboard.plugins.image.metadata.create_summary_metadata` produces
(plugin "images", empty `ImagePluginData`, as `tf.summary.image` writes it).

Reading uses `tf.compat.v1.train.summary_iterator` over every
`events.out.tfevents.*` file under a log directory. Runs live in
subdirectories (Keras' TensorBoard callback writes `logdir/train` and
`logdir/validation` with the same tag names), so read-back keys are
`"<run>/<tag>"` for files in a subdirectory and plain `"<tag>"` for files
directly in `logdir`.
"""

from __future__ import annotations

import glob
import os

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import summary_pb2

from keras_vgan import video_io

__all__ = ["read_scalars", "read_video_summaries", "video_summary"]

IMAGE_PLUGIN_NAME = "images"
SCALAR_PLUGIN_NAME = "scalars"


def _image_metadata(display_name, description):
    """SummaryMetadata for the image plugin (ImagePluginData version 0)."""
    return summary_pb2.SummaryMetadata(
        display_name=display_name or "",
        summary_description=description or "",
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name=IMAGE_PLUGIN_NAME, content=b""
        ),
    )


def video_summary(name, videos, step, fps=8, max_outputs=None, description=None, cols=None):
    """Writes a batch of clips to the default summary writer as one animated GIF.

    The clips are tiled with `video_io.video_grid` (1-pixel black separators)
    and encoded with `video_io.encode_gif`. Runs eagerly only: the frames are
    pulled to numpy and encoded with Pillow. Nothing is encoded when no writer
    is active or recording is off.

    Args:
        name: summary tag.
        videos: `[B, T, H, W, C]` (or one clip `[T, H, W, C]`), float in
            [-1, 1] or uint8; numpy or eager tensor.
        step: int step; None uses `tf.summary.experimental.get_step()`.
        fps: GIF frame rate.
        max_outputs: tile only the first `max_outputs` clips (all if None).
        description: optional markdown shown in TensorBoard.
        cols: grid columns (default near-square).

    Returns:
        A bool tensor, as `tf.summary.write` returns: True if written.
    """
    if not tf.executing_eagerly():
        raise RuntimeError(
            f"video_summary({name!r}) runs eagerly only; call it outside tf.function"
        )
    if not bool(tf.summary.should_record_summaries()):
        return tf.constant(False)
    v = np.asarray(videos)
    if v.ndim == 4:
        v = v[None]
    v = video_io._as_batch(v, "videos")
    if max_outputs is not None:
        if int(max_outputs) < 1:
            raise ValueError(f"max_outputs is {max_outputs}; expected an integer >= 1 or None")
        v = v[: int(max_outputs)]
    grid = video_io.video_grid(video_io.to_uint8(v), cols=cols)  # [T, H', W', C]
    gif = video_io.encode_gif(grid, fps=fps)
    _, height, width, _ = grid.shape
    tensor = tf.constant([str(width).encode(), str(height).encode(), gif], dtype=tf.string)
    return tf.summary.write(
        tag=name, tensor=tensor, step=step, metadata=_image_metadata(name, description)
    )


# === Reading event files ===


def _event_files(logdir):
    logdir = os.fspath(logdir)
    if os.path.isfile(logdir):
        return [(logdir, "")]
    if not os.path.isdir(logdir):
        raise OSError(f"cannot read summaries: {logdir!r} is not a file or directory")
    paths = glob.glob(os.path.join(logdir, "**", "events.out.tfevents.*"), recursive=True)
    out = []
    for p in sorted(paths):
        run = os.path.relpath(os.path.dirname(p), logdir)
        out.append((p, "" if run == "." else run.replace(os.sep, "/")))
    return out


def _iter_values(logdir):
    """Yields (key, step, Summary.Value, plugin_name) for every value in every event file.

    The plugin name is remembered per tag and file, since writers may attach
    metadata to the first value of a tag only. A truncated final record (a
    writer still open or killed) ends that file quietly.
    """
    for path, run in _event_files(logdir):
        plugins = {}
        try:
            for event in tf.compat.v1.train.summary_iterator(path):
                for value in event.summary.value:
                    plugin = value.metadata.plugin_data.plugin_name
                    if plugin:
                        plugins[value.tag] = plugin
                    key = f"{run}/{value.tag}" if run else value.tag
                    yield key, int(event.step), value, plugins.get(value.tag, "")
        except tf.errors.DataLossError:
            continue


def _matches(key, tag):
    return tag is None or key == tag or key.rsplit("/", 1)[-1] == tag


def read_video_summaries(logdir, tag=None):
    """Reads the animated GIFs written by `video_summary` (or any GIF image summary).

    Args:
        logdir: a log directory (searched recursively) or one event file.
        tag: keep only this tag; matches the full key or the bare tag.

    Returns:
        A list of `(step, key, gif_bytes)` in file order, key as described in
        the module docstring.
    """
    out = []
    for key, step, value, plugin in _iter_values(logdir):
        if not _matches(key, tag):
            continue
        kind = value.WhichOneof("value")
        if kind == "tensor" and plugin == IMAGE_PLUGIN_NAME:
            encoded = list(value.tensor.string_val)[2:]  # [width, height, images...]
        elif kind == "image":
            encoded = [value.image.encoded_image_string]
        else:
            continue
        out.extend((step, key, e) for e in encoded if e[:6] in (b"GIF87a", b"GIF89a"))
    return out


def read_scalars(logdir):
    """Reads scalar summaries: legacy `simple_value`s and rank-0 numeric tensors.

    Tensor values count when tagged with the scalars plugin (what
    `tf.summary.scalar` and Keras' TensorBoard callback write) or when they carry
    no plugin at all.

    Args:
        logdir: a log directory (searched recursively) or one event file.

    Returns:
        A dict key -> list of `(step, float)` in file order, key as described in
        the module docstring (e.g. `"train/epoch_loss"` for Keras logs).
    """
    out = {}
    for key, step, value, plugin in _iter_values(logdir):
        kind = value.WhichOneof("value")
        if kind == "simple_value":
            x = float(value.simple_value)
        elif kind == "tensor" and plugin in (SCALAR_PLUGIN_NAME, ""):
            if value.tensor.tensor_shape.dim or value.tensor.dtype == tf.string.as_datatype_enum:
                continue
            arr = tf.make_ndarray(value.tensor)
            if arr.ndim != 0 or arr.dtype.kind not in "fiub":
                continue
            x = float(arr)
        else:
            continue
        out.setdefault(key, []).append((step, x))
    return out
