"""Data sets as tf.data pipelines of float32 clips ``[T, H, W, C]`` in [-1, 1].

The built-in sets need no download: ``moving_mnist`` (from 5,000 bundled MNIST digits)
and ``bouncing_shapes``. ``builtin_dataset(name, **kwargs)`` picks one by name.

Your own data goes through one clip pipeline (``sources.ClipSource``): ``VideoFiles``
(a folder or list of videos), ``FrameFolders`` (folders of numbered frames),
``MovingMNISTFile`` (``mnist_test_seq.npy``) and ``TFDSVideos`` (a prepared TFDS data
set); ``open_source(path_or_"tfds:NAME", ...)`` picks one from the path. Bad files are
skipped with one warning line each and counted; ``extract_frames`` and
``frames_to_video`` convert between videos and frame files.
"""

import tensorflow as tf

from keras_vgan.data.frame_folders import (
    FrameFolders,
    extract_frames,
    find_frame_folders,
    frames_to_video,
    list_frames,
    read_frames,
)
from keras_vgan.data.moving_mnist import MNIST_SPLITS, load_mnist_digits, moving_mnist
from keras_vgan.data.moving_mnist_file import MovingMNISTFile, load_moving_mnist_file
from keras_vgan.data.shapes import SHAPE_NAMES, bouncing_shapes
from keras_vgan.data.sources import (
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    ClipSource,
    DataError,
    open_source,
    source_kind,
    split_context_target,
)
from keras_vgan.data.tfds_source import TFDSVideos
from keras_vgan.data.video_files import VideoFiles, find_videos, probe_video

_BUILTIN = {"moving_mnist": moving_mnist, "shapes": bouncing_shapes}
BUILTIN_DATASETS = tuple(_BUILTIN)


def builtin_dataset(name: str, **kwargs) -> tf.data.Dataset:
    """Build a built-in data set by name.

    Args:
        name: one of ``BUILTIN_DATASETS``: ``"moving_mnist"`` or ``"shapes"``.
        **kwargs: keyword arguments of ``moving_mnist`` or ``bouncing_shapes``.

    Returns:
        The ``tf.data.Dataset``.
    """
    if name not in _BUILTIN:
        raise ValueError(f"unknown built-in data set {name!r}; expected one of {BUILTIN_DATASETS}")
    return _BUILTIN[name](**kwargs)


__all__ = [
    "BUILTIN_DATASETS",
    "IMAGE_EXTENSIONS",
    "MNIST_SPLITS",
    "SHAPE_NAMES",
    "VIDEO_EXTENSIONS",
    "ClipSource",
    "DataError",
    "FrameFolders",
    "MovingMNISTFile",
    "TFDSVideos",
    "VideoFiles",
    "bouncing_shapes",
    "builtin_dataset",
    "extract_frames",
    "find_frame_folders",
    "find_videos",
    "frames_to_video",
    "list_frames",
    "load_mnist_digits",
    "load_moving_mnist_file",
    "moving_mnist",
    "open_source",
    "probe_video",
    "read_frames",
    "source_kind",
    "split_context_target",
]
