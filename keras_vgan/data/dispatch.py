"""Which source a path or name opens: ``source_kind``, ``open_source``.

``--data`` of the programs goes through here: ``tfds:NAME`` (``TFDSVideos``), a
``.npy`` file (``MovingMNISTFile``), a video file or a folder holding videos
(``VideoFiles``), or a folder of frame folders (``FrameFolders``). The base class
(``keras_vgan.data.base``) knows none of them; this module knows them all.
"""

from __future__ import annotations

import os

from keras_vgan.data.base import (
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    DataError,
    walk_folders,
)
from keras_vgan.data.frame_folders import FrameFolders
from keras_vgan.data.moving_mnist_file import MovingMNISTFile
from keras_vgan.data.tfds_source import TFDS_PREFIX, TFDSVideos
from keras_vgan.data.video_files import VideoFiles


def source_kind(spec) -> str:
    """What ``open_source`` would build for ``spec``: ``"tfds"``, ``"npy"``, ``"video"``
    (one file), ``"videos"`` (a folder of videos) or ``"frames"`` (frame folders).

    Raises:
        DataError: one line, for a path that does not exist or holds nothing usable.
    """
    if isinstance(spec, str) and spec.startswith(TFDS_PREFIX):
        if not spec[len(TFDS_PREFIX) :]:
            raise DataError(f"data {spec!r} names no TFDS data set (expected tfds:NAME)")
        return "tfds"
    path = os.path.expanduser(os.fspath(spec))
    if not os.path.exists(path):
        raise DataError(f"data path {path!r} does not exist")
    if os.path.isfile(path):
        lower = path.lower()
        if lower.endswith(".npy"):
            return "npy"
        if lower.endswith(VIDEO_EXTENSIONS):
            return "video"
        raise DataError(
            f"data file {path!r} is neither a .npy array nor a video "
            f"({', '.join(VIDEO_EXTENSIONS)})"
        )
    if not os.path.isdir(path):
        raise DataError(f"data path {path!r} is neither a file nor a folder")
    images = False
    for _, files in walk_folders(path, warn=False):  # the source warns when it walks
        lower = [f.lower() for f in files if not f.startswith(".")]
        if any(f.endswith(VIDEO_EXTENSIONS) for f in lower):
            return "videos"
        images = images or any(f.endswith(IMAGE_EXTENSIONS) for f in lower)
    if images:
        return "frames"
    raise DataError(
        f"data folder {path!r} holds no videos ({', '.join(VIDEO_EXTENSIONS)}) "
        "and no folders of image frames"
    )


def open_source(spec, **kwargs):
    """Builds the source for a path or name, as ``python -m training --data`` does.

    ``spec`` is ``tfds:NAME`` (``TFDSVideos``; its data dir from ``data_dir=`` or
    ``$TFDS_DATA_DIR``), a ``.npy`` file (``MovingMNISTFile``), a video file or a
    folder holding videos (``VideoFiles``), or a folder of frame folders
    (``FrameFolders``).

    Args:
        spec: the path or ``tfds:NAME``.
        **kwargs: arguments of that source (``frames``, ``size``, ``channels``,
            ``stride``, ``start``, ``resize``, ``labels``, ...).
    """
    kind = source_kind(spec)
    if kind == "tfds":
        return TFDSVideos(spec[len(TFDS_PREFIX) :], **kwargs)
    path = os.path.expanduser(os.fspath(spec))
    if kind == "npy":
        if kwargs.pop("labels", False):
            raise DataError(f"{path!r} is a Moving MNIST array: it has no class labels")
        return MovingMNISTFile(path, **kwargs)
    if kind == "frames":
        return FrameFolders(path, **kwargs)
    return VideoFiles(path, **kwargs)
