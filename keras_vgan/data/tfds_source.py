"""Clips from a TensorFlow Datasets video data set that is already prepared.

    source = TFDSVideos("ucf101", data_dir="~/tensorflow_datasets", frames=16, size=64,
                        labels=True)
    ds = source.dataset(batch_size=16)   # ([16, 16, 64, 64, 3] in [-1, 1], int32 [16])

Nothing is downloaded unless ``download=True``: a data set that is not prepared in the
data dir (default: ``$TFDS_DATA_DIR``, else TFDS's ``~/tensorflow_datasets``) raises a
one-line ``DataError`` that says how to prepare it. A data set prepared on disk is found
there by name even when its builder code is not importable (e.g. one built by your own
``GeneratorBasedBuilder``): ``python -m training --data tfds:NAME`` with
``TFDS_DATA_DIR`` set to its data dir. The video feature is found by type (e.g.
``image_sequence`` for ``moving_mnist``, ``video`` for ``ucf101``); its frames are
stored as encoded images and only the frames of each clip are decoded.

``TFDSVideos`` is a ``ClipSource``: the frames of a clip go through the same channel
conversion and resize and crop as video files; elements shorter than one clip, or whose
frames do not decode, are skipped with one warning line each and recorded in
``skipped``; ``labels=True`` reads the ``ClassLabel`` feature, and
``save_class_names`` writes its names. TFDS files are read in order (no random access),
so the element stream, not a list of probed items, drives the pipeline: one clip per
element and epoch.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from keras_vgan.data.base import ClipSource, DataError, decode_frame

TFDS_PREFIX = "tfds:"  # --data tfds:NAME


def _tfds():
    import tensorflow_datasets as tfds

    return tfds


def tfds_builder(name: str, data_dir=None, download: bool = False):
    """The prepared builder of a TFDS data set; one-line ``DataError`` otherwise.

    ``data_dir`` None: ``$TFDS_DATA_DIR`` when it is set, else TFDS's default.
    """
    from absl import logging as absl_logging

    tfds = _tfds()
    if data_dir is None:
        data_dir = os.environ.get("TFDS_DATA_DIR") or None
    if data_dir is not None:
        data_dir = os.path.expanduser(os.fspath(data_dir))
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


class TFDSVideos(ClipSource):
    """Clips from a prepared TFDS video data set.

    Args:
        name: the TFDS name (with a config or version if needed: ``"ucf101/ucf101_1"``).
        data_dir: the TFDS data dir (None: ``$TFDS_DATA_DIR``, else TFDS's default).
        split: the split (default: ``"train"`` when there is one, else the first).
        download: prepare the data set if it is not (TFDS downloads it).
        frames, size, channels, stride, start, resize: as for ``VideoFiles``; with
            ``start="even"`` the clip is the middle of the element.
        labels: yield ``(clip, label)`` from the data set's ``ClassLabel`` feature.
        class_names_path: with ``labels``, also write the class names there as JSON.
        video_key, label_key: feature names, when the search by type is ambiguous.

    Attributes:
        class_names: the label names (with ``labels=True``).
        skipped: a ``Skipped(name, kind, reason)`` per element left out (shorter than
            one clip, or frames that do not decode), named by its TFDS id.
        num_examples: elements in the split.
    """

    item_word = "TFDS element"
    shuffle_buffer = 1024  # elements are whole encoded videos

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
        class_names_path=None,
        video_key: str | None = None,
        label_key: str | None = None,
    ):
        super().__init__(
            frames=frames,
            size=size,
            channels=channels,
            stride=stride,
            start=start,
            resize=resize,
            labels=labels,
        )
        tfds = _tfds()
        self.name = name
        self.builder = tfds_builder(name, data_dir, download)
        info = self.builder.info
        splits = list(info.splits)
        if not splits:
            raise DataError(f"TFDS data set {name!r} has no splits")
        self.split = split or ("train" if "train" in splits else splits[0])
        if self.split not in splits:
            raise DataError(f"TFDS data set {name!r} has no split {self.split!r}; it has {splits}")
        self.num_examples = int(info.splits[self.split].num_examples)
        if self.num_examples < 1:
            raise DataError(f"TFDS data set {name!r} has no elements in split {self.split!r}")
        features = info.features
        videos = [k for k, f in features.items() if isinstance(f, tfds.features.Video)]
        self.video_key = video_key or (videos[0] if len(videos) == 1 else None)
        if self.video_key not in features:
            raise DataError(
                f"TFDS data set {name!r}: pass video_key=, one of {sorted(features)} "
                f"(video features found: {videos})"
            )
        self.label_key = None
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
            self.class_names = [str(n) for n in features[self.label_key].names]
            if class_names_path is not None:
                self.save_class_names(class_names_path)

    @property
    def num_items(self) -> int:
        return self.num_examples

    @property
    def clips_per_epoch(self) -> int:
        return self.num_examples

    def _decode_element(self, tfds_id, window, length, first):
        """numpy_function body: (TFDS id, encoded frames of the clip, the element's
        frame count, the clip's first frame) -> (uint8 clip, ok)."""
        key = tfds_id.decode("utf-8", "replace") if isinstance(tfds_id, bytes) else str(tfds_id)
        if key in self._failed:
            return self._empty_clip(), np.bool_(False)
        try:
            if int(length) < self.span:
                raise self._too_short(int(length))
            frames = (decode_frame(bytes(b), f"frame {first + t * self.stride}")
                      for t, b in enumerate(window))  # fmt: skip
            return self._fit_clip(frames), np.bool_(True)
        except Exception as e:  # noqa: BLE001 - any failure drops the element, loudly
            return self._drop(key, key, e, int(first))

    def _uint8_clips(
        self, *, seed, shuffle, epochs, start_index, cache, shuffle_buffer, num_parallel_calls,
        deterministic,
    ) -> tf.data.Dataset:  # fmt: skip
        """Order: TFDS file shuffling and a ``shuffle_buffer``-element buffer, both seeded
        by ``seed``; ``start_index`` skips that many elements of the resulting stream.
        Element ``k`` of the stream starts its clip at a frame drawn from ``(seed, k)``."""
        tfds = _tfds()
        ds = self.builder.as_dataset(
            split=self.split,
            shuffle_files=shuffle,
            decoders={self.video_key: tfds.decode.SkipDecoding()},
            read_config=tfds.ReadConfig(shuffle_seed=seed, try_autocache=False, add_tfds_id=True),
        )
        video_key, label_key = self.video_key, self.label_key

        def select(ex):
            label = tf.cast(ex[label_key], tf.int32) if label_key else tf.constant(-1, tf.int32)
            return ex["tfds_id"], ex[video_key], label

        ds = ds.map(select)
        if cache is not False and cache is not None:
            ds = ds.cache("" if cache is True else os.fspath(cache))
        if shuffle:
            ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        ds = ds.repeat(epochs).skip(start_index).enumerate(start_index)
        span, stride = self.span, self.stride
        shape = [self.frames, self.height, self.width, self.channels]

        def decode(index, element):
            tfds_id, encoded, label = element  # encoded: string [N], one image per frame
            n = tf.shape(encoded)[0]
            if self.start == "random":
                u = tf.random.stateless_uniform(
                    [], seed=tf.stack([tf.constant(seed, tf.int64), index]), dtype=tf.float64
                )
                first = tf.cast(tf.floor(u * tf.cast(n - span + 1, tf.float64)), tf.int32)
                first = tf.maximum(tf.minimum(first, n - span), 0)
            else:
                first = tf.maximum((n - span) // 2, 0)
            window = encoded[first : first + span : stride]
            clip, ok = tf.numpy_function(
                self._decode_element,
                [tfds_id, window, n, first],
                [tf.uint8, tf.bool],
                name="decode_tfds_clip",
            )
            clip.set_shape(shape)
            ok.set_shape([])
            return clip, ok, label

        ds = ds.map(decode, num_parallel_calls=num_parallel_calls, deterministic=deterministic)
        ds = ds.filter(lambda clip, ok, label: ok)
        return ds.map(lambda clip, ok, label: (clip, label))

    def __repr__(self):
        return f"TFDSVideos({self.name!r}, split={self.split!r}, {self.num_examples} examples)"
