"""Data sets as tf.data pipelines of float32 clips ``[T, H, W, C]`` in [-1, 1].

The built-in sets need no download: ``moving_mnist`` (from 5,000 bundled MNIST digits)
and ``bouncing_shapes``. ``builtin_dataset(name, **kwargs)`` picks one by name.

Your own data goes through one clip pipeline (``base.ClipSource``): ``VideoFiles``
(a folder or list of videos), ``FrameFolders`` (folders of numbered frames),
``MovingMNISTFile`` (``mnist_test_seq.npy``) and ``TFDSVideos`` (a prepared TFDS data
set); ``open_source(path_or_"tfds:NAME", ...)`` (``dispatch``) picks one from the path.
Bad files are skipped with one warning line each and counted; folder walks follow
symbolic links once. ``extract_frames`` and ``frames_to_video`` convert between videos
and frame files.

Modules: ``base`` (``ClipSource``, checks, frame fitting, folder walks), one module per
source, ``dispatch`` (by path or name), ``builtin``, ``pairs`` (task pairs), ``sparse``
(K frames of each clip and their timestamps, for continuous-time models).
"""

from keras_vgan.data.base import (
    IMAGE_EXTENSIONS,
    RESIZE_MODES,
    START_MODES,
    VIDEO_EXTENSIONS,
    ClipSource,
    DataError,
    split_context_target,
    walk_folders,
)
from keras_vgan.data.builtin import BUILTIN_DATASETS, builtin_dataset
from keras_vgan.data.dispatch import open_source, source_kind
from keras_vgan.data.frame_folders import (
    FrameFolders,
    extract_frames,
    find_frame_folders,
    frames_to_video,
    list_frames,
    read_frame_files,
)
from keras_vgan.data.moving_mnist import MNIST_SPLITS, load_mnist_digits, moving_mnist
from keras_vgan.data.moving_mnist_file import MovingMNISTFile, load_moving_mnist_file
from keras_vgan.data.shapes import SHAPE_NAMES, bouncing_shapes
from keras_vgan.data.sparse import sparse_frames
from keras_vgan.data.tfds_source import TFDSVideos
from keras_vgan.data.video_files import VideoFiles, find_videos, probe_video

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
    "RESIZE_MODES",
    "START_MODES",
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
    "read_frame_files",
    "source_kind",
    "sparse_frames",
    "split_context_target",
    "walk_folders",
]
