"""Frames on disk: a folder of numbered images per clip, and video <-> frame files.

    FrameFolders("kth_frames/", frames=16, size=64, channels=1).dataset(batch_size=16)
    extract_frames("walk.mp4", "walk/")          # walk/frame_000000.png, ...
    frames_to_video("walk/", "walk.gif", fps=8)  # and back (.gif, or .mp4/.avi/.mov/.mkv)

A *frame folder* is any folder that directly holds image files (png, jpg, bmp, webp,
tif); its frames are ordered by the numbers in their names (``f2`` before ``f10``).
Folders are found recursively, following symbolic links once (a folder reached by
several routes is read once; a link loop is not followed); with ``labels=True`` the
first sub-folder below the root is the class (``root/<class>/<clip>/<frames>``).
"""

from __future__ import annotations

import os

import numpy as np

from keras_vgan import video_io
from keras_vgan.data.base import (
    IMAGE_EXTENSIONS,
    RESIZE_MODES,
    ClipSource,
    DataError,
    Item,
    ItemError,
    assign_labels,
    check_channels,
    check_choice,
    check_frame_size,
    check_int,
    class_of,
    fit_frame,
    frame_to_uint8,
    natural_key,
    to_channels,
    walk_folders,
)
from keras_vgan.video_io import VideoReader


def list_frames(folder, extensions=IMAGE_EXTENSIONS) -> list[str]:
    """The image files directly in ``folder``, in natural (numeric) order."""
    exts = tuple(e.lower() for e in extensions)
    names = [
        n
        for n in os.listdir(folder)
        if n.lower().endswith(exts)
        and not n.startswith(".")
        and os.path.isfile(os.path.join(folder, n))
    ]
    return [os.path.join(folder, n) for n in sorted(names, key=natural_key)]


def find_frame_folders(root, extensions=IMAGE_EXTENSIONS) -> list[tuple[str, list[str]]]:
    """``[(folder, frame paths), ...]`` for every folder under ``root`` (itself
    included) that directly holds images, sorted by folder."""
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise DataError(f"frame folder root {root!r} is not a folder")
    found = []
    for folder, _ in walk_folders(root, sort_key=natural_key):
        frames = list_frames(folder, extensions)
        if frames:
            found.append((folder, frames))
    return found


def _imread(path: str, what: str = "frame"):
    import cv2

    # cv2.imread does not raise: it returns None for a missing, unreadable or broken file.
    return frame_to_uint8(
        cv2.imread(path, cv2.IMREAD_UNCHANGED), f"{what} {os.path.basename(path)!r}"
    )


class FrameFolders(ClipSource):
    """Clips from folders of numbered frames, one folder per video.

    Args:
        root: a folder; every folder under it (itself included) that directly holds
            images is one video.
        frames, size, channels, stride, start, resize, labels, class_names,
        class_names_path, min_size, probe_workers: as for ``VideoFiles``.
        clips_per_folder: clips taken from each folder per epoch.
        extensions: file endings that count as frames.

    Raises:
        DataError: no frame folders, or none readable (each bad one is warned about).
    """

    item_word = "frame folder"

    def __init__(
        self,
        root,
        *,
        frames: int = 16,
        size=64,
        channels: int = 3,
        stride: int = 1,
        start: str = "random",
        clips_per_folder: int = 1,
        resize: str = "crop",
        labels: bool = False,
        class_names=None,
        class_names_path=None,
        extensions=IMAGE_EXTENSIONS,
        min_size: int = 8,
        probe_workers: int | None = None,
    ):
        super().__init__(
            frames=frames,
            size=size,
            channels=channels,
            stride=stride,
            start=start,
            clips_per_item=clips_per_folder,
            resize=resize,
            labels=labels,
        )
        self.min_size = check_int("min_size", min_size, 1)
        self.root = os.fspath(root)
        folders = find_frame_folders(self.root, extensions)
        if not folders:
            raise DataError(
                f"no frame folders (images: {', '.join(extensions)}) found under {self.root!r}"
            )
        if self.labels:
            classes = [(f, class_of(f, self.root)) for f, _ in folders]
            self.class_names, all_labels = assign_labels(classes, class_names, repr(self.root))
        else:
            all_labels = [-1] * len(folders)
        label_of = {f: label for (f, _), label in zip(folders, all_labels, strict=True)}
        frames_of = dict(folders)

        def probe(folder):
            paths = frames_of[folder]
            first = _imread(paths[0], "first frame")
            h, w = first.shape[:2]
            if min(h, w) < self.min_size:
                raise ItemError(
                    "too small",
                    f"frames are {w}x{h}, below the minimum {self.min_size}x{self.min_size}",
                )
            if len(paths) < self.span:
                raise self._too_short(len(paths))
            _imread(paths[-1], "last frame")
            return Item(folder, len(paths), label_of[folder], tuple(paths))

        self.items = self._probe_all([f for f, _ in folders], probe, workers=probe_workers)
        self._finish(repr(self.root), len(folders))
        if self.labels and class_names_path is not None:
            self.save_class_names(class_names_path)

    def clip_frames(self, item, start):
        for t in range(self.frames):
            yield _imread(item.payload[start + t * self.stride])


# --------------------------------------------------------------------------- conversion


def extract_frames(
    video,
    out_dir,
    *,
    every: int = 1,
    start: int = 0,
    max_frames: int | None = None,
    size=None,
    resize: str = "crop",
    channels: int = 3,
    pattern: str = "frame_{:06d}.png",
) -> list[str]:
    """Writes a video's frames as PNG files (streaming: the video is never all in memory).

    Args:
        video: a video file OpenCV reads.
        out_dir: folder for the frames (created).
        every: keep every ``every``-th frame.
        start: first frame to keep.
        max_frames: stop after writing this many.
        size: resize to ``size`` (an int or ``(height, width)``); None keeps the size.
        resize: ``"crop"`` (keep aspect, cut the centre) or ``"stretch"``.
        channels: 3 for RGB, 1 for grey.
        pattern: file name pattern, formatted with the source frame index.

    Returns:
        The written paths, in order.

    Raises:
        OSError: the video cannot be opened.
        ValueError: bad arguments, or no frame could be decoded.
    """
    every = check_int("every", every, 1)
    start = check_int("start", start, 0)
    if max_frames is not None:
        max_frames = check_int("max_frames", max_frames, 1)
    channels = check_channels(channels)
    check_choice("resize", resize, RESIZE_MODES)
    hw = None if size is None else check_frame_size(size)
    try:
        pattern.format(0)
    except (IndexError, KeyError, ValueError) as e:
        raise ValueError(f"pattern {pattern!r} must hold one {{}} field for the index") from e
    path = os.fspath(video)
    if not os.path.isfile(path):
        raise OSError(f"cannot read video {path!r}: no such file")
    written = []
    with VideoReader(path) as video:  # OSError: it cannot be opened
        for k, frame in enumerate(video.frames(start=start, stride=every, count=max_frames)):
            frame = to_channels(frame, channels)
            if hw is not None:
                frame = fit_frame(frame, hw[0], hw[1], resize)
            out = os.path.join(os.fspath(out_dir), pattern.format(start + k * every))
            written.append(video_io.write_png(out, frame))
    if not written:
        raise ValueError(f"video {path!r} has no decodable frames from frame {start}")
    return written


def read_frame_files(frames) -> np.ndarray:
    """Reads image files (a folder, in natural order, or a list) into uint8
    ``[T, H, W, C]``: C = 1 when every frame is grey, else 3 (RGB)."""
    from PIL import Image

    if isinstance(frames, (str, os.PathLike)):
        folder = os.fspath(frames)
        if not os.path.isdir(folder):
            raise OSError(f"frame folder {folder!r} does not exist")
        frames = list_frames(folder)
        if not frames:
            raise ValueError(f"no image files in {folder!r}")
    paths = [os.fspath(p) for p in frames]
    if not paths:
        raise ValueError("no frames given")
    images = []
    for p in paths:
        try:
            with Image.open(p) as im:
                im.load()
                images.append(
                    im.convert("L") if im.mode in ("L", "I;16", "I") else im.convert("RGB")
                )
        except OSError as e:
            raise OSError(f"cannot read frame {p!r}: {e}") from e
    size = images[0].size
    for p, im in zip(paths, images, strict=True):
        if im.size != size:
            raise ValueError(
                f"frame {p!r} is {im.size[0]}x{im.size[1]}; the first frame is {size[0]}x{size[1]}"
            )
    grey = all(im.mode == "L" for im in images)
    arrays = [np.asarray(im if grey else im.convert("RGB")) for im in images]
    video = np.stack(arrays)
    return video[..., None] if grey else video


def frames_to_video(frames, out_path, *, fps: float = 8) -> str:
    """Writes image files (a folder, in natural order, or a list) as a video.

    ``.gif`` is written with Pillow (``video_io.write_gif``); other endings (``.mp4``,
    ``.avi``, ``.mov``, ``.mkv``) as MPEG-4 with OpenCV (``video_io.write_mp4``).

    Returns:
        ``out_path``.
    """
    video = read_frame_files(frames)
    out_path = os.fspath(out_path)
    if out_path.lower().endswith(".gif"):
        return video_io.write_gif(out_path, video, fps=fps)
    return video_io.write_mp4(out_path, video, fps=fps)
