"""The clip pipeline every data source on disk shares: ``ClipSource`` and its helpers.

A *source* is a list of items (a video file, a folder of numbered frames, one sequence
of an array file), each with a frame count and an optional class label. Items are
probed when the source is built: unreadable ones are skipped with one warning line that
names the item and the reason, and counted (``skipped``, ``skip_counts``); a source with
nothing readable raises ``DataError``. ``ClipSource.dataset`` turns the items into a
``tf.data`` pipeline of float32 clips ``[T, H, W, C]`` in [-1, 1]:

    epoch e -> (item, start) pairs: ``clips_per_item`` per item, starts drawn from
               ``(seed, e)`` (or evenly spaced), order shuffled from ``(seed, e)``
            -> decode in parallel (``tf.numpy_function`` calling OpenCV / NumPy; the
               GIL is released while frames decode)
            -> drop clips whose item failed while decoding (warned and counted once)
            -> [cache uint8 clips] -> [batch] -> float32 in [-1, 1] -> prefetch

The (item, start) stream is a pure function of ``(seed, epoch)``, so ``start_index=k``
continues a stream exactly at its clip ``k`` as long as the files are unchanged and no
item fails after the probe (a file that fails later drops its clips from then on).
A streamed source (``TFDSVideos``) replaces the first two steps by its own stream of
encoded clips; everything from the decoded frames on is shared: one channel conversion
and one resize and crop (``fit_frame``) for every source.

Folder walks (``walk_folders``) follow symbolic links once: a folder or file reached by
several routes is read once, and a link that leads back to a folder above it (a loop)
is not followed, with one warning line.

This module imports none of its subclasses; ``keras_vgan.data.dispatch`` picks one
from a path or name.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import json
import logging
import numbers
import os
import stat
import threading

import numpy as np
import tensorflow as tf

from keras_vgan.video_io import quiet_opencv

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".webm", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
START_MODES = ("random", "even")
RESIZE_MODES = ("crop", "stretch")

logger = logging.getLogger("keras_vgan.data")


class DataError(ValueError):
    """Data that cannot be used: a missing path, nothing readable, a malformed array."""


class ItemError(Exception):
    """An item that cannot be used; ``kind`` is a short category used for counting."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class Item:
    """One readable item of a source."""

    name: str  # what warnings call it: a path, or "file.npy[123]"
    num_frames: int
    label: int = -1
    payload: object = None  # what the reader needs (e.g. the sorted frame paths)


@dataclasses.dataclass(frozen=True)
class Skipped:
    """An item left out, and why."""

    name: str
    kind: str
    reason: str


# --------------------------------------------------------------------------- checks


def check_int(name: str, value, minimum: int) -> int:
    """``value`` as an int >= ``minimum``; one-line ValueError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def check_frame_size(size) -> tuple[int, int]:
    """A frame size (an int, or ``(height, width)``) -> ``(height, width)``."""
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = (size, size)
    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in size)
        or min(size) < 1
    ):
        raise ValueError(f"size must be an int >= 1 or (height, width), got {size!r}")
    return int(size[0]), int(size[1])


def check_choice(name: str, value, allowed) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def check_channels(channels) -> int:
    if isinstance(channels, bool) or channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels!r}")
    return int(channels)


# --------------------------------------------------------------------------- frames


def fit_frame(frame: np.ndarray, height: int, width: int, resize: str) -> np.ndarray:
    """Resizes one frame ``[h, w]`` or ``[h, w, c]`` to ``height x width``.

    ``"crop"`` keeps the aspect ratio: the largest centred box of the target aspect is
    cut out, then resized; ``"stretch"`` resizes the whole frame. Area interpolation
    when shrinking (no aliasing), bilinear when enlarging.
    """
    import cv2

    h, w = frame.shape[:2]
    if resize == "crop" and h * width != w * height:
        if w * height > h * width:  # too wide: cut the sides
            cw = max(1, round(h * width / height))
            x0 = (w - cw) // 2
            frame = frame[:, x0 : x0 + cw]
        else:  # too tall: cut top and bottom
            ch = max(1, round(w * height / width))
            y0 = (h - ch) // 2
            frame = frame[y0 : y0 + ch]
        h, w = frame.shape[:2]
    if (h, w) != (height, width):
        shrink = h >= height and w >= width
        frame = cv2.resize(
            frame, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        )
    return frame


def to_channels(frame: np.ndarray, channels: int, bgr: bool = True) -> np.ndarray:
    """A decoded frame (``[h, w]`` grey, ``[h, w, 3]`` BGR or RGB, ``[h, w, 4]``) ->
    ``[h, w, channels]`` (grey or RGB)."""
    import cv2

    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[..., 0]
    if frame.ndim == 3 and frame.shape[2] == 4:
        frame = frame[..., :3]
    if frame.ndim == 2:
        return frame[..., None] if channels == 1 else np.repeat(frame[..., None], 3, axis=-1)
    if channels == 1:
        code = cv2.COLOR_BGR2GRAY if bgr else cv2.COLOR_RGB2GRAY
        return cv2.cvtColor(frame, code)[..., None]
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) if bgr else frame


def frame_to_uint8(image, what: str) -> np.ndarray:
    """A decoded image (``cv2.imread`` / ``cv2.imdecode``) -> uint8 (16-bit scaled down).

    Raises:
        ItemError: ``"unreadable image"`` for nothing decoded or another depth.
    """
    if image is None or image.size == 0:
        raise ItemError("unreadable image", f"{what} cannot be read")
    if image.dtype == np.uint16:  # 16-bit PNG / TIFF
        return (image // 257).astype(np.uint8)
    if image.dtype != np.uint8:
        raise ItemError("unreadable image", f"{what} is not 8 or 16 bit")
    return image


def decode_frame(encoded: bytes, what: str = "frame") -> np.ndarray:
    """An encoded image (PNG, JPEG, ...) -> the decoded frame, as OpenCV gives it (BGR
    or grey), uint8."""
    import cv2

    buffer = np.frombuffer(encoded, np.uint8)
    image = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED) if buffer.size else None
    return frame_to_uint8(image, what)


# --------------------------------------------------------------------------- pipeline


def split_context_target(dataset: tf.data.Dataset, context_frames: int = 10) -> tf.data.Dataset:
    """Splits each clip (or batch of clips) in time: ``clip -> (context, target)``.

    The conventional Moving MNIST prediction task uses 10 context and 10 target frames
    of the 20-frame sequences. Works on unbatched ``[T, ...]`` and batched
    ``[B, T, ...]`` elements.
    """
    context_frames = check_int("context_frames", context_frames, 1)
    rank = dataset.element_spec.shape.rank
    frames = dataset.element_spec.shape[rank - 4]
    if frames is not None and not context_frames < frames:
        raise ValueError(f"context_frames={context_frames} must be < the clip's {frames} frames")
    if rank == 4:
        return dataset.map(lambda c: (c[:context_frames], c[context_frames:]))
    return dataset.map(lambda c: (c[:, :context_frames], c[:, context_frames:]))


class ClipSource:
    """Items with frame counts -> a ``tf.data`` pipeline of clips (see the module doc).

    Subclasses list and probe their items and yield the raw frames of a clip
    (``clip_frames``); this class samples, decodes in parallel, converts channels,
    resizes and crops, handles failures, shuffles, caches and batches. A streamed
    source (no random access to its items) overrides ``_uint8_clips`` instead and
    keeps the rest.

    Attributes:
        items: the readable items, in a fixed (sorted) order.
        skipped: a ``Skipped(name, kind, reason)`` per item left out, at the probe or
            while decoding.
        class_names: the sorted class names when the source has labels, else None.
    """

    item_word = "item"  # what messages call an item
    frames_are_bgr = True  # raw frames come from OpenCV (BGR) rather than RGB
    shuffle_buffer = 4096  # default buffer of the shuffle after a cache

    def __init__(
        self,
        *,
        frames: int = 16,
        size=64,
        channels: int = 3,
        stride: int = 1,
        start: str = "random",
        clips_per_item: int = 1,
        resize: str = "crop",
        labels: bool = False,
    ):
        self.frames = check_int("frames", frames, 1)
        self.height, self.width = check_frame_size(size)
        self.channels = check_channels(channels)
        self.stride = check_int("stride", stride, 1)
        self.start = check_choice("start", start, START_MODES)
        self.clips_per_item = check_int("clips_per_item", clips_per_item, 1)
        self.resize = check_choice("resize", resize, RESIZE_MODES)
        self.labels = bool(labels)
        self.items: list[Item] = []
        self.skipped: list[Skipped] = []
        self.class_names: list[str] | None = None
        self._failed: set = set()
        self._lock = threading.Lock()

    # === what subclasses provide ===

    def clip_frames(self, item: Item, start: int):
        """Yields the raw frames of the clip of ``item`` that starts at frame ``start``
        (``frames`` of them, ``stride`` apart); raises ``ItemError`` when one cannot be
        read."""
        raise NotImplementedError

    # === shared ===

    @property
    def span(self) -> int:
        """Frames of an item that one clip covers: ``(frames - 1) * stride + 1``."""
        return (self.frames - 1) * self.stride + 1

    @property
    def skip_counts(self) -> dict[str, int]:
        """How many items were skipped, per reason kind (e.g. ``{"truncated": 1}``)."""
        with self._lock:
            return dict(collections.Counter(s.kind for s in self.skipped))

    @property
    def num_skipped(self) -> int:
        with self._lock:
            return len(self.skipped)

    @property
    def num_items(self) -> int:
        """Items that can give clips (those that fail while decoding included)."""
        return len(self.items)

    def _skip(self, name: str, kind: str, reason: str) -> None:
        with self._lock:
            self.skipped.append(Skipped(name, kind, reason))
        logger.warning("keras_vgan.data: skipping %s %r: %s", self.item_word, name, reason)

    def _probe_all(self, candidates, probe, *, workers: int | None = None) -> list:
        """Runs ``probe(candidate)`` over all candidates in threads, in order; skips (and
        warns about) the ones that raise ``ItemError``. Returns the results kept."""
        workers = workers or min(16, (os.cpu_count() or 1) * 2)
        kept = []
        with quiet_opencv(), concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(probe, c) for c in candidates]
            for candidate, future in zip(candidates, futures, strict=True):
                try:
                    kept.append(future.result())
                except ItemError as e:
                    self._skip(str(candidate), e.kind, e.reason)
        return kept

    def _too_short(self, num_frames: int) -> ItemError:
        return ItemError(
            "too short",
            f"{num_frames} frame{'s' * (num_frames != 1)}, shorter than one clip "
            f"({self.frames} frames at stride {self.stride} need {self.span})",
        )

    def _finish(self, description: str, num_candidates: int) -> None:
        """Raises ``DataError`` when no item is readable."""
        if not self.items:
            counts = ", ".join(f"{n} {k}" for k, n in sorted(self.skip_counts.items()))
            raise DataError(
                f"no readable {self.item_word}s in {description}: all {num_candidates} "
                f"skipped ({counts}; see the warnings above)"
            )

    def save_class_names(self, path) -> str:
        """Writes the class list as a JSON list of names (index = label); returns path."""
        if self.class_names is None:
            raise ValueError("this source has no class labels (build it with labels=True)")
        path = os.fspath(path)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        tmp = f"{path}.partial"
        with open(tmp, "w") as f:
            json.dump(self.class_names, f, indent=1)
        os.replace(tmp, path)
        return path

    @property
    def clips_per_epoch(self) -> int:
        return len(self.items) * self.clips_per_item

    def _even_starts(self) -> np.ndarray:
        """int64 [items * clips_per_item]: evenly spaced starts, first and last included."""
        out = []
        for item in self.items:
            room = item.num_frames - self.span
            if self.clips_per_item == 1:
                out.append([room // 2])
            else:
                out.append(np.round(np.linspace(0, room, self.clips_per_item)).astype(np.int64))
        return np.concatenate(out).astype(np.int64)

    def _fit_clip(self, frames) -> np.ndarray:
        """Raw frames (an iterable of decoded images) -> uint8 ``[T, H, W, C]``: the
        one channel conversion and resize of every source."""
        clip = np.zeros((self.frames, self.height, self.width, self.channels), np.uint8)
        t = -1
        for t, frame in enumerate(frames):
            if t >= self.frames:
                break
            frame = to_channels(frame, self.channels, bgr=self.frames_are_bgr)
            frame = fit_frame(frame, self.height, self.width, self.resize)
            clip[t] = frame.reshape(self.height, self.width, self.channels)
        if t + 1 < self.frames:
            raise ItemError("decode error", f"only {t + 1} of {self.frames} frames read")
        return clip

    def _empty_clip(self) -> np.ndarray:
        return np.zeros((self.frames, self.height, self.width, self.channels), np.uint8)

    def _drop(self, key, name: str, error: Exception, start: int):
        """Records that item ``key`` failed while decoding (one warning line the first
        time); raises ``DataError`` once every item has failed. Returns the
        ``numpy_function`` result of a dropped clip."""
        kind = error.kind if isinstance(error, ItemError) else "decode error"
        reason = (
            error.reason if isinstance(error, ItemError) else f"{type(error).__name__}: {error}"
        )
        with self._lock:
            first = key not in self._failed
            self._failed.add(key)
            nothing_left = len(self._failed) >= self.num_items
        if first:
            where = f" (while decoding clip at frame {start})" if kind != "too short" else ""
            self._skip(name, kind, f"{reason}{where}")
        if nothing_left:
            raise DataError(
                f"every {self.item_word} of this source failed while decoding "
                f"({self.num_items} of them; see the warnings above)"
            ) from None
        return self._empty_clip(), np.bool_(False)

    def _decode(self, index, start):
        """numpy_function body: (item index, start) -> (uint8 clip, ok)."""
        index, start = int(index), int(start)
        if index in self._failed:
            return self._empty_clip(), np.bool_(False)
        item = self.items[index]
        try:
            return self._fit_clip(self.clip_frames(item, start)), np.bool_(True)
        except Exception as e:  # noqa: BLE001 - any failure drops the item, loudly
            return self._drop(index, item.name, e, start)

    def _uint8_clips(
        self, *, seed, shuffle, epochs, start_index, cache, shuffle_buffer, num_parallel_calls,
        deterministic,
    ) -> tf.data.Dataset:  # fmt: skip
        """The unbatched ``(uint8 clip [T, H, W, C], int32 label)`` stream, from clip
        ``start_index`` on (see ``dataset``)."""
        if not self.items:
            raise DataError(f"this source has no readable {self.item_word}s")
        per_epoch = self.clips_per_epoch
        item_of = np.repeat(np.arange(len(self.items), dtype=np.int64), self.clips_per_item)
        room = np.array([it.num_frames - self.span + 1 for it in self.items], np.int64)[item_of]
        even = self._even_starts()
        label_table = tf.constant([it.label for it in self.items], tf.int32)

        def epoch_pairs(epoch):
            key = tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64) * 2])
            if self.start == "random":
                u = tf.random.stateless_uniform([per_epoch], seed=key, dtype=tf.float64)
                starts = tf.cast(tf.floor(u * tf.cast(room, tf.float64)), tf.int64)
                starts = tf.minimum(starts, room - 1)
            else:
                starts = tf.constant(even)
            items = tf.constant(item_of)
            if shuffle:
                order = tf.argsort(tf.random.stateless_uniform([per_epoch], seed=key + [0, 1]))
                items, starts = tf.gather(items, order), tf.gather(starts, order)
            return tf.data.Dataset.from_tensor_slices((items, starts))

        shape = [self.frames, self.height, self.width, self.channels]

        def decode(index, start):
            clip, ok = tf.numpy_function(
                self._decode, [index, start], [tf.uint8, tf.bool], name="decode_clip"
            )
            clip.set_shape(shape)
            ok.set_shape([])
            return clip, ok, tf.gather(label_table, index)

        cached = cache is not False and cache is not None
        if cached:
            pairs = epoch_pairs(0)
        elif epochs is None:
            pairs = tf.data.Dataset.counter(start_index // per_epoch).flat_map(epoch_pairs)
        else:
            first = min(start_index // per_epoch, epochs)
            pairs = tf.data.Dataset.range(first, epochs).flat_map(epoch_pairs)
        ds = pairs if cached else pairs.skip(start_index % per_epoch)
        ds = ds.map(decode, num_parallel_calls=num_parallel_calls, deterministic=deterministic)
        ds = ds.filter(lambda clip, ok, label: ok)
        ds = ds.map(lambda clip, ok, label: (clip, label))
        if cached:
            ds = ds.cache("" if cache is True else os.fspath(cache))
            if shuffle:
                ds = ds.shuffle(min(shuffle_buffer, per_epoch), seed=seed)
            ds = ds.repeat(epochs).skip(start_index)
        return ds

    def dataset(
        self,
        *,
        batch_size: int | None = None,
        shuffle: bool = True,
        repeat=True,
        seed: int = 0,
        cache=False,
        shuffle_buffer: int | None = None,
        start_index: int = 0,
        drop_remainder: bool = True,
        context_frames: int | None = None,
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic: bool = True,
    ) -> tf.data.Dataset:
        """The clips as a ``tf.data.Dataset``.

        Args:
            batch_size: if given, batch the clips (see ``drop_remainder``).
            shuffle: shuffle the order of (item, start) pairs across all items and their
                clips, anew each epoch from ``(seed, epoch)``.
            repeat: True for an infinite stream, False for one epoch, or an int number
                of epochs. An epoch is ``clips_per_item`` clips of every item.
            seed: seeds the random starts and the order.
            cache: False; True to keep the decoded clips of the first epoch in memory;
                or a file prefix to cache them on disk. Later epochs reuse those clips
                (with ``start="random"``: the same starts), reshuffled through a
                ``shuffle_buffer``-clip buffer.
            shuffle_buffer: buffer of the post-cache shuffle (default: the class's
                ``shuffle_buffer``, 4096 clips).
            start_index: skip this many clips (resume a stream exactly; see module doc).
            drop_remainder: drop a last incomplete batch.
            context_frames: if given, elements are ``(context, target)`` split in time
                (frames ``[:context_frames]`` and the rest), e.g. 10 for Moving MNIST.
            num_parallel_calls: parallel decoders (default: tuned by tf.data).
            deterministic: keep the order independent of decoding speed.

        Returns:
            float32 clips ``[T, H, W, C]`` in [-1, 1] (``[B, T, H, W, C]`` batched);
            ``(clip, label)`` with int32 labels when the source has ``labels=True``.
        """
        seed = int(seed)
        start_index = check_int("start_index", start_index, 0)
        if batch_size is not None:
            batch_size = check_int("batch_size", batch_size, 1)
        if repeat is True:
            epochs = None
        elif repeat is False:
            epochs = 1
        else:
            epochs = check_int("repeat", repeat, 1)
        if context_frames is not None:
            if self.labels:
                raise ValueError("context_frames cannot be combined with labels=True")
            context_frames = check_int("context_frames", context_frames, 1)
            if context_frames >= self.frames:
                raise ValueError(f"context_frames={context_frames} must be < frames={self.frames}")
        if shuffle_buffer is None:
            shuffle_buffer = self.shuffle_buffer
        shuffle_buffer = check_int("shuffle_buffer", shuffle_buffer, 1)

        ds = self._uint8_clips(
            seed=seed,
            shuffle=shuffle,
            epochs=epochs,
            start_index=start_index,
            cache=cache,
            shuffle_buffer=shuffle_buffer,
            num_parallel_calls=num_parallel_calls,
            deterministic=deterministic,
        )
        if batch_size is not None:
            ds = ds.batch(batch_size, drop_remainder=drop_remainder)

        def to_float(clip, label):
            clip = tf.cast(clip, tf.float32) * (2.0 / 255.0) - 1.0  # uint8 -> [-1, 1]
            if context_frames is not None:
                t = clip.shape.rank - 4  # the time axis
                context = clip[:, :context_frames] if t else clip[:context_frames]
                target = clip[:, context_frames:] if t else clip[context_frames:]
                return context, target
            return (clip, label) if self.labels else clip

        ds = ds.map(to_float, num_parallel_calls=tf.data.AUTOTUNE)
        return ds.prefetch(tf.data.AUTOTUNE)

    def __repr__(self):
        return (
            f"{type(self).__name__}({len(self.items)} {self.item_word}s, "
            f"{self.num_skipped} skipped, clips {self.frames}x{self.height}x{self.width}"
            f"x{self.channels}, stride {self.stride})"
        )


def natural_key(text: str):
    """Sort key that orders embedded numbers by value: ``f2 < f10``."""
    import re

    return [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", text)]


def class_of(path: str, root: str) -> str | None:
    """The class of ``path`` under ``root``: the first folder below the root, or None
    when the path lies directly in the root."""
    rel = os.path.relpath(path, root)
    parts = rel.split(os.sep)
    return parts[0] if len(parts) > 1 else None


def assign_labels(names_and_classes, class_names=None, root_description="the root"):
    """Class names (sorted, or the given list) and a label per entry.

    Args:
        names_and_classes: ``[(name, class or None), ...]``.
        class_names: a fixed class list (e.g. the training set's), or None.

    Returns:
        ``(class_names, labels)``.
    """
    for name, cls in names_and_classes:
        if cls is None:
            raise DataError(
                f"labels=True needs one sub-folder per class (root/<class>/...); "
                f"{name!r} lies directly in {root_description}"
            )
    found = sorted({cls for _, cls in names_and_classes})
    if class_names is None:
        class_names = found
    else:
        class_names = [str(c) for c in class_names]
        unknown = sorted(set(found) - set(class_names))
        if unknown:
            raise DataError(f"class folders {unknown} are not in the given class_names")
    index = {c: i for i, c in enumerate(class_names)}
    return class_names, [index[cls] for _, cls in names_and_classes]


# --------------------------------------------------------------------------- folder walks

_warned_loops: set[str] = set()
_warned_lock = threading.Lock()


def _identity(path) -> tuple[int, int] | None:
    """``(st_dev, st_ino)`` of what ``path`` leads to (links followed), or None."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _direct_tree(root: str) -> tuple[set, set]:
    """The identities of the folders and files reached from ``root`` without a link."""
    folders, files = {_identity(root)}, set()
    stack = [root]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                entries = list(it)
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_symlink():
                    continue
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            ident = (st.st_dev, st.st_ino)
            if stat.S_ISDIR(st.st_mode):
                if ident not in folders:  # (a bind mount can lead back)
                    folders.add(ident)
                    stack.append(entry.path)
            else:
                files.add(ident)
    return folders, files


def _warn_loop(link: str, target: str, warn: bool) -> None:
    key = os.path.abspath(link)
    with _warned_lock:
        first = warn and key not in _warned_loops
        if first:
            _warned_loops.add(key)
    if first:
        logger.warning(
            "keras_vgan.data: not following %r: it leads back to %r, a folder above it "
            "(a symlink loop)",
            link,
            target,
        )


def walk_folders(root, *, sort_key=None, warn: bool = True):
    """Walks ``root`` top-down, like ``os.walk(root, followlinks=True)``, but reaches
    every folder and every file once.

    Symbolic links are followed, except a link to a folder that also lies in the tree
    without a link (it is walked there) or one already walked, and a link to a folder
    above it (a loop: one warning line per loop and process). A file (a device and
    inode) reached by several routes is listed once, at its route without a link when
    it has one, else at the first; a link that leads nowhere is listed (its reader
    reports it).

    Args:
        root: the folder.
        sort_key: sort key of folder and file names (default: plain string order).
        warn: log the loop warnings (False for quick checks that walk again later).

    Yields:
        ``(folder, file_names)`` per folder, sub-folders in ``sort_key`` order after
        their parent: the names (sorted) of the files listed in ``folder``.
    """
    root = os.fspath(root)
    root_id = _identity(root)
    if root_id is None:
        return
    key = sort_key or (lambda name: name)
    direct_folders, direct_files = _direct_tree(root)
    seen_folders, seen_files = {root_id}, set()
    stack = [(root, ((root_id, root),), False)]  # (folder, route from the root, via a link)
    while stack:
        folder, route, via_link = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: key(e.name))
        except OSError:
            continue  # as os.walk: an unreadable folder holds nothing
        names, subfolders = [], []
        for entry in entries:
            try:
                linked = via_link or entry.is_symlink()
                is_folder = entry.is_dir()
            except OSError:
                linked, is_folder = True, False
            ident = _identity(entry.path)
            if is_folder:
                if ident is None:
                    continue  # gone since it was listed
                above = next((path for i, path in route if i == ident), None)
                if above is not None:
                    _warn_loop(entry.path, above, warn)
                elif ident in seen_folders or (linked and ident in direct_folders):
                    continue  # walked (or to be walked) by another route
                else:
                    seen_folders.add(ident)
                    subfolders.append((entry.path, (*route, (ident, entry.path)), linked))
                continue
            if ident is not None:
                if (linked and ident in direct_files) or ident in seen_files:
                    continue  # listed at another route
                seen_files.add(ident)
            names.append(entry.name)
        yield folder, names
        stack.extend(reversed(subfolders))
