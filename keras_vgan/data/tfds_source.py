"""Clips from a TensorFlow Datasets video data set that is already prepared.

    source = TFDSVideos("moving_mnist", data_dir="~/tensorflow_datasets", frames=16, size=64)
    ds = source.dataset(batch_size=16)

Nothing is downloaded unless ``download=True``: a data set that is not prepared in the
data dir (default: ``$TFDS_DATA_DIR`` or ``~/tensorflow_datasets``) raises a one-line
``DataError`` that says how to prepare it. The video feature is found by type (e.g.
``image_sequence`` for ``moving_mnist``, ``video`` for ``ucf101``); its frames are
stored as encoded images and only the frames of each clip are decoded.
"""

from __future__ import annotations

import threading

import numpy as np
import tensorflow as tf

from keras_vgan.data.sources import (
    RESIZE_MODES,
    START_MODES,
    DataError,
    check_channels,
    check_choice,
    check_int,
    check_size,
)


def _tfds():
    import tensorflow_datasets as tfds

    return tfds


def tfds_builder(name: str, data_dir=None, download: bool = False):
    """The prepared builder of a TFDS data set; one-line ``DataError`` otherwise."""
    from absl import logging as absl_logging

    tfds = _tfds()
    verbosity = absl_logging.get_verbosity()
    absl_logging.set_verbosity(absl_logging.ERROR)  # TFDS logs about folders it lacks
    try:
        builder = tfds.builder(name, data_dir=data_dir)
        prepared = builder.is_prepared()
    except Exception as e:  # noqa: BLE001 - TFDS raises several types, with long messages
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DataError(f"unknown TFDS data set {name!r} ({first})") from None
    finally:
        absl_logging.set_verbosity(verbosity)
    if not prepared:
        if not download:
            root = str(builder.data_dir_root)
            raise DataError(
                f"TFDS data set {name!r} is not prepared in {root!r}; prepare it with "
                f"`tfds build {name} --data_dir {root}` (or pass download=True)"
            )
        builder.download_and_prepare()
    return builder


def _fit_clip(clip, height, width, resize):
    """uint8 ``[T, h, w, C]`` -> float32 ``[T, height, width, C]`` in [0, 255]."""
    if resize == "crop":
        shape = tf.shape(clip)
        h, w = tf.cast(shape[1], tf.float64), tf.cast(shape[2], tf.float64)
        crop_h = tf.cast(tf.minimum(h, tf.round(w * height / width)), tf.int32)
        crop_w = tf.cast(tf.minimum(w, tf.round(h * width / height)), tf.int32)
        clip = tf.image.crop_to_bounding_box(
            clip, (shape[1] - crop_h) // 2, (shape[2] - crop_w) // 2, crop_h, crop_w
        )
    return tf.image.resize(clip, (height, width), method="bilinear", antialias=True)


class TFDSVideos:
    """Clips from a prepared TFDS video data set.

    Args:
        name: the TFDS name (with a config or version if needed: ``"ucf101/ucf101_1"``).
        data_dir: the TFDS data dir (None: TFDS's default).
        split: the split (default: ``"train"`` when there is one, else the first).
        download: prepare the data set if it is not (TFDS downloads it).
        frames, size, channels, stride, start, resize: as for ``VideoFiles``.
        labels: yield ``(clip, label)`` from the data set's ``ClassLabel`` feature.
        video_key, label_key: feature names, when the search by type is ambiguous.

    Attributes:
        class_names: the label names (with ``labels=True``).
        skipped: ``[(element index, reason), ...]``: videos shorter than one clip,
            dropped with a warning line each.
    """

    def __init__(
        self,
        name: str,
        *,
        data_dir=None,
        split: str | None = None,
        download: bool = False,
        frames: int = 16,
        size=64,
        channels: int = 3,
        stride: int = 1,
        start: str = "random",
        resize: str = "crop",
        labels: bool = False,
        video_key: str | None = None,
        label_key: str | None = None,
    ):
        tfds = _tfds()
        self.name = name
        self.frames = check_int("frames", frames, 1)
        self.height, self.width = check_size(size)
        self.channels = check_channels(channels)
        self.stride = check_int("stride", stride, 1)
        self.start = check_choice("start", start, START_MODES)
        self.resize = check_choice("resize", resize, RESIZE_MODES)
        self.labels = bool(labels)
        self.builder = tfds_builder(name, data_dir, download)
        info = self.builder.info
        splits = list(info.splits)
        self.split = split or ("train" if "train" in splits else splits[0])
        if self.split not in splits:
            raise DataError(f"TFDS data set {name!r} has no split {self.split!r}; it has {splits}")
        self.num_examples = info.splits[self.split].num_examples
        features = info.features
        videos = [k for k, f in features.items() if isinstance(f, tfds.features.Video)]
        self.video_key = video_key or (videos[0] if len(videos) == 1 else None)
        if self.video_key not in features:
            raise DataError(
                f"TFDS data set {name!r}: pass video_key=, one of {sorted(features)} "
                f"(video features found: {videos})"
            )
        self.source_channels = int(features[self.video_key].shape[-1] or 3)
        self.class_names = None
        if self.labels:
            classes = [k for k, f in features.items() if isinstance(f, tfds.features.ClassLabel)]
            self.label_key = label_key or ("label" if "label" in classes else None)
            if self.label_key is None and len(classes) == 1:
                self.label_key = classes[0]
            if self.label_key not in classes:
                raise DataError(
                    f"TFDS data set {name!r} has no class label to use (ClassLabel "
                    f"features: {classes}); pass label_key= or labels=False"
                )
            self.class_names = list(features[self.label_key].names)
        self.skipped: list[tuple[int, str]] = []
        self._warned: set[int] = set()
        self._lock = threading.Lock()

    @property
    def span(self) -> int:
        return (self.frames - 1) * self.stride + 1

    @property
    def skip_counts(self) -> dict[str, int]:
        with self._lock:
            return {"too short": len(self.skipped)} if self.skipped else {}

    def _long_enough(self, index, length):
        if length >= self.span:
            return np.bool_(True)
        index = int(index) % max(1, self.num_examples)
        with self._lock:
            first = index not in self._warned
            self._warned.add(index)
            if first:
                reason = (
                    f"{length} frames, shorter than one clip ({self.frames} frames at stride "
                    f"{self.stride} need {self.span})"
                )
                self.skipped.append((index, reason))
        if first:
            from keras_vgan.data.sources import logger

            logger.warning(
                "keras_vgan.data: skipping %s[%s] element %d: %s",
                self.name,
                self.split,
                index,
                reason,
            )
        return np.bool_(False)

    def dataset(
        self,
        *,
        batch_size: int | None = None,
        shuffle: bool = True,
        repeat=True,
        seed: int = 0,
        cache=False,
        shuffle_buffer: int = 1024,
        start_index: int = 0,
        drop_remainder: bool = True,
        context_frames: int | None = None,
    ) -> tf.data.Dataset:
        """The clips as a ``tf.data.Dataset``; arguments as ``ClipSource.dataset``.

        Order: TFDS file shuffling and a ``shuffle_buffer``-element buffer, both seeded
        by ``seed``; ``start_index`` skips that many clips of the resulting stream.
        """
        tfds = _tfds()
        seed = int(seed)
        epochs = (
            None if repeat is True else 1 if repeat is False else check_int("repeat", repeat, 1)
        )
        if context_frames is not None:
            context_frames = check_int("context_frames", context_frames, 1)
            if self.labels or context_frames >= self.frames:
                raise ValueError(
                    f"context_frames={context_frames} needs labels=False and < frames={self.frames}"
                )
        ds = self.builder.as_dataset(
            split=self.split,
            shuffle_files=shuffle,
            decoders={self.video_key: tfds.decode.SkipDecoding()},
            read_config=tfds.ReadConfig(shuffle_seed=seed, try_autocache=False),
        )
        key, label_key = self.video_key, getattr(self, "label_key", None)
        ds = ds.map(lambda ex: (ex[key], ex[label_key] if self.labels else tf.constant(-1)))
        if cache is not False and cache is not None:
            ds = ds.cache("" if cache is True else str(cache))
        if shuffle:
            ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        ds = ds.repeat(epochs).skip(start_index).enumerate(start_index)

        def keep(index, element):
            ok = tf.numpy_function(
                self._long_enough, [index, tf.shape(element[0])[0]], tf.bool, stateful=True
            )
            ok.set_shape([])
            return ok

        span, stride, c = self.span, self.stride, self.source_channels

        def decode(index, element):
            encoded, label = element  # encoded: string [N], one image per frame
            n = tf.shape(encoded)[0]
            if self.start == "random":
                u = tf.random.stateless_uniform(
                    [], seed=tf.stack([tf.constant(seed, tf.int64), index]), dtype=tf.float64
                )
                first = tf.cast(tf.floor(u * tf.cast(n - span + 1, tf.float64)), tf.int32)
                first = tf.minimum(first, n - span)
            else:
                first = (n - span) // 2
            window = encoded[first : first + span : stride]
            clip = tf.map_fn(
                lambda b: tf.io.decode_image(b, channels=c, expand_animations=False),
                window,
                fn_output_signature=tf.TensorSpec([None, None, c], tf.uint8),
            )
            if self.channels == 1 and c == 3:
                clip = tf.image.rgb_to_grayscale(clip)
            elif self.channels == 3 and c == 1:
                clip = tf.image.grayscale_to_rgb(clip)
            clip = _fit_clip(clip, self.height, self.width, self.resize)
            clip = tf.clip_by_value(clip * (2.0 / 255.0) - 1.0, -1.0, 1.0)
            clip = tf.ensure_shape(clip, [self.frames, self.height, self.width, self.channels])
            if context_frames is not None:
                return clip[:context_frames], clip[context_frames:]
            return (clip, tf.cast(label, tf.int32)) if self.labels else clip

        ds = ds.filter(keep).map(decode, num_parallel_calls=tf.data.AUTOTUNE)
        if batch_size is not None:
            ds = ds.batch(check_int("batch_size", batch_size, 1), drop_remainder=drop_remainder)
        return ds.prefetch(tf.data.AUTOTUNE)

    def __repr__(self):
        return f"TFDSVideos({self.name!r}, split={self.split!r}, {self.num_examples} examples)"
