"""Clips from video files (mp4, avi, mov, webm, mkv, ...: whatever OpenCV decodes).

    source = VideoFiles("ucf101/", frames=16, size=64, channels=3, labels=True,
                        class_names_path="run/classes.json")
    ds = source.dataset(batch_size=16)   # ([16, 16, 64, 64, 3] in [-1, 1], int32 [16])

A folder is searched recursively, following symbolic links once (a video reached by
several routes is read once; a link loop is not followed); with ``labels=True`` the
first sub-folder below the root is the class (the UCF-101 layout
``root/<class>/<video>``). Every file is probed
when the source is built (opened, first frame decoded, frame count read from the
container, last frame decoded), so broken files are reported before training starts.
"""

from __future__ import annotations

import os

from keras_vgan.data.base import (
    VIDEO_EXTENSIONS,
    ClipSource,
    DataError,
    Item,
    ItemError,
    assign_labels,
    check_int,
    class_of,
    walk_folders,
)
from keras_vgan.video_io import VideoReader

# A file whose last frame does not decode is counted frame by frame; it is accepted
# (with that count) when at most this fraction of the container's count is missing,
# which covers containers whose frame count is an estimate from the duration.
_COUNT_TOLERANCE = 0.02


def find_videos(source, extensions=VIDEO_EXTENSIONS) -> tuple[list[str], str | None]:
    """Video paths of a folder (recursive, sorted) or a list of files.

    Args:
        source: a folder, a video file, or a list of video files.
        extensions: file name endings that count as videos (case-insensitive).

    Returns:
        ``(paths, root)``: ``root`` is the folder (None for a list of files).
    """
    exts = tuple(e.lower() for e in extensions)
    if isinstance(source, (str, os.PathLike)):
        source = os.fspath(source)
        if os.path.isdir(source):
            paths = []
            for folder, files in walk_folders(source):
                paths += [
                    os.path.join(folder, f)
                    for f in files
                    if f.lower().endswith(exts) and not f.startswith(".")
                ]
            return paths, source
        if not os.path.lexists(source):
            raise DataError(f"video path {source!r} does not exist")
        return [source], None
    paths = [os.fspath(p) for p in source]
    if not paths:
        raise DataError("the list of video files is empty")
    return paths, None


def _read_header(path: str) -> None:
    """Raises ``ItemError`` when the file cannot be read at all or is empty."""
    try:
        with open(path, "rb") as f:
            head = f.read(1)
    except OSError as e:
        raise ItemError("unreadable", f"cannot read the file ({e.strerror or e})") from None
    if not head:
        raise ItemError("empty", "empty file (0 bytes)")


def probe_video(path: str, *, min_size: int = 8, min_frames: int = 1) -> dict:
    """Opens a video and checks that its frames decode.

    Args:
        path: the file.
        min_size: smallest acceptable frame height and width.
        min_frames: fewest acceptable frames.

    Returns:
        ``{"frames", "height", "width", "fps"}``.

    Raises:
        ItemError: with a ``kind`` (``"unreadable"``, ``"empty"``, ``"not a video"``,
            ``"no frames"``, ``"too small"``, ``"too short"``, ``"truncated"``) and a
            reason.
    """
    _read_header(path)
    try:
        video = VideoReader(path)
    except OSError:
        raise ItemError(
            "not a video", "OpenCV cannot open it (not a video, corrupt, or unsupported codec)"
        ) from None
    try:
        count, fps = video.frame_count, video.fps
        frame = video.read()
        if frame is None:
            raise ItemError("no frames", "no decodable frames")
        height, width = frame.shape[:2]
        if min(height, width) < min_size:
            raise ItemError(
                "too small", f"frames are {width}x{height}, below the minimum {min_size}x{min_size}"
            )
        if count <= 0:  # no count in the container: count by decoding
            count = 1 + video.count_remaining()
        elif count > 1:
            video.seek(count - 1)
            if not video.grab():  # the last frame does not decode: count what does
                video.close()
                try:
                    video = VideoReader(path)
                    decoded = video.count_remaining()
                except OSError:  # it opened a moment ago
                    decoded = 0
                if decoded < count * (1 - _COUNT_TOLERANCE) - 1:
                    raise ItemError(
                        "truncated",
                        f"truncated or corrupt: the container says {count} frames, "
                        f"only {decoded} decode",
                    )
                count = decoded
        if count < min_frames:
            raise ItemError("too short", f"{count} frames, fewer than {min_frames}")
        return {"frames": count, "height": height, "width": width, "fps": fps}
    finally:
        video.close()


class VideoFiles(ClipSource):
    """Clips from a folder of videos (searched recursively) or a list of video files.

    Args:
        source: a folder, a video file, or a list of video files.
        frames: frames per clip.
        size: output ``height = width``, or ``(height, width)``.
        channels: 3 for RGB, 1 for grey.
        stride: take every ``stride``-th frame (temporal subsampling).
        start: ``"random"`` (a new random start per clip and epoch) or ``"even"``
            (``clips_per_video`` starts evenly spaced over the video, the same each epoch).
        clips_per_video: clips taken from each video per epoch.
        resize: ``"crop"`` (keep the aspect ratio, cut the centre) or ``"stretch"``.
        labels: yield ``(clip, label)``, the label the index of the video's class
            folder (``root/<class>/...``) in ``class_names``.
        class_names: a fixed class list (e.g. the training set's) instead of the
            sorted folder names found.
        class_names_path: with ``labels``, also write the class list there as JSON.
        extensions: file endings that count as videos.
        min_size: smallest acceptable frame side in pixels; smaller videos are skipped.
        probe_workers: threads probing files (default: 2 per CPU, at most 16).

    Raises:
        DataError: nothing found, or no file readable (each bad file is warned about).
    """

    item_word = "video"

    def __init__(
        self,
        source,
        *,
        frames: int = 16,
        size=64,
        channels: int = 3,
        stride: int = 1,
        start: str = "random",
        clips_per_video: int = 1,
        resize: str = "crop",
        labels: bool = False,
        class_names=None,
        class_names_path=None,
        extensions=VIDEO_EXTENSIONS,
        min_size: int = 8,
        probe_workers: int | None = None,
    ):
        super().__init__(
            frames=frames,
            size=size,
            channels=channels,
            stride=stride,
            start=start,
            clips_per_item=clips_per_video,
            resize=resize,
            labels=labels,
        )
        self.min_size = check_int("min_size", min_size, 1)
        paths, self.root = find_videos(source, extensions)
        where = repr(self.root) if self.root else f"the {len(paths)} given files"
        if not paths:
            raise DataError(f"no video files ({', '.join(extensions)}) found under {self.root!r}")
        if self.labels:
            classes = [
                (p, class_of(p, self.root) if self.root else os.path.basename(os.path.dirname(p)))
                for p in paths
            ]
            self.class_names, all_labels = assign_labels(classes, class_names, where)
            label_of = dict(zip(paths, all_labels, strict=True))
        else:
            label_of = {}

        def probe(path):
            info = probe_video(path, min_size=self.min_size)
            if info["frames"] < self.span:
                raise self._too_short(info["frames"])
            return Item(path, info["frames"], label_of.get(path, -1))

        self.items = self._probe_all(paths, probe, workers=probe_workers)
        self._finish(where, len(paths))
        if self.labels and class_names_path is not None:
            self.save_class_names(class_names_path)

    def clip_frames(self, item, start):
        try:
            video = VideoReader(item.payload or item.name)
        except OSError:
            raise ItemError("not a video", "OpenCV can no longer open it") from None
        with video:
            if start:
                video.seek(start)
            for t in range(self.frames):
                for _ in range(self.stride - 1 if t else 0):
                    if not video.grab():
                        raise ItemError(
                            "decode error", f"frame {start + t * self.stride} is missing"
                        )
                frame = video.read()
                if frame is None:
                    raise ItemError(
                        "decode error", f"frame {start + t * self.stride} does not decode"
                    )
                yield frame
