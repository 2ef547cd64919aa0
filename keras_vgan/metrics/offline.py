"""The offline video metric: a Moving MNIST video encoder shipped with the package.

FVD needs the I3D network, which is large and not always available; this
metric needs nothing outside the package. ``OfflineVideoEncoder`` is a small 3D-conv
network trained on the built-in Moving MNIST (``keras_vgan.data.moving_mnist``,
16 frames of 32x32, two digits) by ``python -m keras_vgan.metrics.train_offline_encoder``
to tell

* which digits a clip shows (softmax over 10 classes against the soft target
  "half on each digit"), and
* in which directions they move (8 bins of 45 degrees, one sigmoid per bin,
  the bins of both digits' initial directions set),

so its features depend on appearance *and* on motion: a clip whose frames are
shuffled in time or frozen lands far from real clips, which a per-frame image
metric cannot see. Its weights (``assets/offline_encoder.keras``, ~1.3 MB)
ship in the package.

Metrics on its features (``offline_metrics``):

* ``offline_fd``: the Fréchet distance (``keras_vgan.metrics.frechet``) of the
  128-dimensional penultimate-layer features (Heusel et al., 2017; the FVD
  recipe of Unterthiner et al., 2018, with this encoder in place of I3D);
* ``offline_kvd``: the kernel distance on the same features (KID/KVD, cubic
  polynomial kernel, unbiased; ``keras_vgan.metrics.kernel``);
* ``offline_is``: the Inception Score of the digit-class softmax (Salimans et
  al., 2016). A real two-digit clip puts about half its mass on each digit, so
  real data score at most 5 (= 10 classes / 2 per clip); a generator of one
  blurred digit-like blob scores near 1.

Clip format: ``[B, T, H, W, C]`` float in [-1, 1] (or uint8 in [0, 255]),
``T >= 16`` (the first 16 frames are used), any ``H, W >= 8`` (centre-cropped
to a square and resized bilinearly, with antialiasing, to 32x32: a 64x64
Moving MNIST clip becomes what the encoder was trained on), ``C`` 1 or 3 (RGB
is converted to luma, ITU-R BT.601). Anything else is refused with a one-line
``ValueError``. The numbers are comparable between models only under the same
protocol: the number of clips (they shrink as it grows) and the real clips.
The encoder knows Moving MNIST only: on other data (bouncing shapes, your
videos) its features are out of domain; use FVD there.
"""

import functools
import math
import os
from importlib import resources

import keras
import numpy as np
import tensorflow as tf

from keras_vgan.metrics.frechet import frechet_distance
from keras_vgan.metrics.inception import inception_score
from keras_vgan.metrics.kernel import kernel_distance

CLIP_FRAMES = 16
CLIP_SIZE = 32
NUM_CLASSES = 10
NUM_DIRECTIONS = 8
ENCODER_ASSET = "offline_encoder.keras"
PROTOCOL = (
    "offline Moving MNIST encoder (keras_vgan/metrics/assets/offline_encoder.keras): "
    "first 16 frames, 32x32 grey, penultimate 128-d features"
)


@keras.saving.register_keras_serializable(package="keras_vgan")
class OfflineVideoEncoder(keras.Model):
    """A small 3D-conv video classifier whose penultimate layer is the metric's embedding.

    ``[B, frames, size, size, channels]`` in [-1, 1] -> four 3x3x3 convolutions
    (the first halves space only, the others time and space; group norm, ReLU)
    -> mean over space, concatenated over the remaining time steps -> dense
    ``feature_dim`` (ReLU): the features -> two linear heads.

    Args:
        frames, size, channels: the clip format it takes.
        widths: filters of the four convolutions.
        feature_dim: size of the features (the embedding).
        num_classes: outputs of the digit-class head (softmax).
        num_directions: outputs of the motion-direction head (a sigmoid each).

    Returns (``call``):
        A dict: ``"features"`` ``[B, feature_dim]``, ``"class_logits"``
        ``[B, num_classes]``, ``"direction_logits"`` ``[B, num_directions]``.
    """

    def __init__(
        self,
        frames=CLIP_FRAMES,
        size=CLIP_SIZE,
        channels=1,
        widths=(16, 32, 64, 128),
        feature_dim=128,
        num_classes=NUM_CLASSES,
        num_directions=NUM_DIRECTIONS,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if frames % 8 or size % 16:
            raise ValueError(
                f"OfflineVideoEncoder needs frames a multiple of 8 and size of 16, got {frames}, {size}"
            )
        # === Config ===
        self.frames = int(frames)
        self.size = int(size)
        self.channels = int(channels)
        self.widths = tuple(int(w) for w in widths)
        self.feature_dim = int(feature_dim)
        self.num_classes = int(num_classes)
        self.num_directions = int(num_directions)
        # === Layers ===
        strides = ((1, 2, 2), 2, 2, 2)
        self.convs = [
            keras.layers.Conv3D(w, 3, strides=s, padding="same", use_bias=False, name=f"conv{i}")
            for i, (w, s) in enumerate(zip(self.widths, strides, strict=True))
        ]
        # Group norm, not batch norm: a clip's embedding must not depend on the batch
        # it is in, nor on running statistics (the same in training and in use).
        self.norms = [
            keras.layers.GroupNormalization(groups=min(8, w), name=f"gn{i}")
            for i, w in enumerate(self.widths)
        ]
        self.features = keras.layers.Dense(self.feature_dim, activation="relu", name="features")
        self.class_head = keras.layers.Dense(self.num_classes, name="class_logits")
        self.direction_head = keras.layers.Dense(self.num_directions, name="direction_logits")
        self.build((None, self.frames, self.size, self.size, self.channels))

    def build(self, input_shape):
        shape = tuple(input_shape)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            conv.build(shape)
            shape = conv.compute_output_shape(shape)
            norm.build(shape)
        flat = shape[1] * shape[-1]  # remaining time steps x channels
        self.features.build((None, flat))
        self.class_head.build((None, self.feature_dim))
        self.direction_head.build((None, self.feature_dim))
        self.built = True

    def feature_maps(self, videos, depth=None):
        """The activations after each of the first ``depth`` convolutions (all by default).

        Clips ``[B, T, H, W, C]`` of any ``T, H, W`` go through (the convolutions do not
        fix them); the editing's perceptual distance compares these maps
        (``keras_vgan.editing.perceptual_distance``).

        Returns:
            A list of ``[B, T_i, H_i, W_i, widths[i]]`` tensors.
        """
        x, maps = videos, []
        for conv, norm in list(zip(self.convs, self.norms, strict=True))[:depth]:
            x = keras.ops.relu(norm(conv(x)))
            maps.append(x)
        return maps

    def call(self, videos, training=False):
        x = self.feature_maps(videos)[-1]  # from [B, T, H, W, C]
        x = keras.ops.mean(x, axis=(2, 3))  # [B, T / 8, C]: time order kept
        x = keras.ops.reshape(x, (-1, x.shape[1] * x.shape[2]))
        features = self.features(x)
        return {
            "features": features,
            "class_logits": self.class_head(features),
            "direction_logits": self.direction_head(features),
        }

    def get_config(self):
        config = super().get_config()
        config.update(
            frames=self.frames,
            size=self.size,
            channels=self.channels,
            widths=list(self.widths),
            feature_dim=self.feature_dim,
            num_classes=self.num_classes,
            num_directions=self.num_directions,
        )
        return config


def direction_bins(directions, num_bins=NUM_DIRECTIONS):
    """Multi-hot ``[..., num_bins]`` of angles ``[..., D]`` (radians), bins centred on k*2pi/n."""
    width = 2.0 * math.pi / num_bins
    directions = tf.convert_to_tensor(directions, tf.float32)
    bins = tf.math.floormod(tf.floor(directions / width + 0.5), num_bins)
    onehot = tf.one_hot(tf.cast(bins, tf.int32), num_bins)  # [..., D, n]
    return tf.reduce_max(onehot, axis=-2)


def digit_targets(digits, num_classes=NUM_CLASSES):
    """Soft class targets ``[..., K]``: equal mass on each digit of the clip ([..., D] ints)."""
    return tf.reduce_mean(tf.one_hot(digits, num_classes), axis=-2)


def default_encoder_path():
    """Path of the shipped encoder (``keras_vgan/metrics/assets/offline_encoder.keras``)."""
    return str(resources.files("keras_vgan.metrics").joinpath("assets").joinpath(ENCODER_ASSET))


@functools.lru_cache(maxsize=4)
def load_encoder(path=None):
    """Loads (once per path) the encoder; the shipped one by default."""
    path = path or default_encoder_path()
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"offline encoder weights {path!r} not found; train them with "
            "python -m keras_vgan.metrics.train_offline_encoder"
        )
    encoder = keras.saving.load_model(path, compile=False)
    if not isinstance(encoder, OfflineVideoEncoder):
        raise ValueError(
            f"{path!r} holds a {type(encoder).__name__}, expected a OfflineVideoEncoder"
        )
    return encoder


def prepare_clips(videos, frames=CLIP_FRAMES, size=CLIP_SIZE):
    """Converts clips to the encoder's format: float32 ``[B, frames, size, size, 1]`` in [-1, 1].

    Args:
        videos: ``[B, T, H, W, C]``: float in [-1, 1], or uint8 in [0, 255];
            ``T >= frames`` (the first ``frames`` are kept), ``C`` 1 or 3.

    Raises:
        ValueError: one line naming the shape or dtype and what is expected.
    """
    if isinstance(videos, tf.data.Dataset):
        raise ValueError("videos must be an array [B, T, H, W, C], got a tf.data.Dataset")
    x = tf.convert_to_tensor(videos)
    if x.shape.rank != 5:
        raise ValueError(f"videos must be [B, T, H, W, C], got shape {tuple(x.shape)}")
    _, t, h, w, c = x.shape
    if t < frames:
        raise ValueError(
            f"videos have {t} frames; the offline encoder needs at least {frames} "
            f"(clips of shape [B, T>={frames}, H, W, C])"
        )
    if c not in (1, 3):
        raise ValueError(f"videos have {c} channels; the offline encoder takes 1 (grey) or 3 (RGB)")
    if min(h, w) < 8:
        raise ValueError(f"videos are {h}x{w} pixels; the offline encoder needs at least 8x8")
    if x.dtype == tf.uint8:
        x = tf.cast(x, tf.float32) / 127.5 - 1.0
    elif x.dtype.is_floating:
        x = tf.cast(x, tf.float32)
    else:
        raise ValueError(f"videos must be float in [-1, 1] or uint8, got dtype {x.dtype.name}")
    x = x[:, :frames]
    if c == 3:  # luma (ITU-R BT.601), the grey level an RGB frame would have
        x = tf.tensordot(x, tf.constant([0.299, 0.587, 0.114]), axes=[[4], [0]])[..., None]
    if h != w:  # centre-crop to a square, as the data sources do
        s = min(h, w)
        x = x[:, :, (h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
    if min(h, w) != size:
        b = tf.shape(x)[0]
        flat = tf.reshape(x, [-1, min(h, w), min(h, w), 1])
        flat = tf.image.resize(flat, (size, size), method="bilinear", antialias=True)
        x = tf.reshape(flat, [b, frames, size, size, 1])
    return tf.clip_by_value(x, -1.0, 1.0)


def embed(videos, encoder=None, batch_size=64):
    """Features and class probabilities of clips under the offline encoder.

    Args:
        videos: clips (see ``prepare_clips``) as an array, or an iterable of
            batches of clips.
        encoder: a ``OfflineVideoEncoder``; the shipped one by default.
        batch_size: clips per forward pass when ``videos`` is an array.

    Returns:
        ``(features, probs)``: float64 ``[N, feature_dim]`` and ``[N, num_classes]``.
    """
    encoder = encoder or load_encoder()
    if hasattr(videos, "shape"):
        videos = [videos[i : i + batch_size] for i in range(0, len(videos), batch_size)]
    feats, probs = [], []
    for batch in videos:
        x = prepare_clips(batch, encoder.frames, encoder.size)
        out = encoder(x, training=False)
        feats.append(out["features"].numpy())
        probs.append(tf.nn.softmax(out["class_logits"]).numpy())
    if not feats:
        raise ValueError("no clips to embed")
    return np.concatenate(feats).astype(np.float64), np.concatenate(probs).astype(np.float64)


def offline_metrics(real, fake, encoder=None, batch_size=64, is_splits=1):
    """Offline Fréchet distance, KVD and IS of ``fake`` clips against ``real`` clips.

    Args:
        real, fake: clips (see ``prepare_clips``), arrays or iterables of batches,
            or precomputed ``(features, probs)`` tuples from ``embed``.
        encoder: a ``OfflineVideoEncoder``; the shipped one by default.
        batch_size: clips per forward pass.
        is_splits: splits of the Inception Score.

    Returns:
        A dict: ``offline_fd``, ``offline_kvd`` (float) and ``offline_is``
        (the IS of ``fake``), plus ``num_real`` and ``num_fake``.
    """
    real_f, _ = real if isinstance(real, tuple) else embed(real, encoder, batch_size)
    fake_f, fake_p = fake if isinstance(fake, tuple) else embed(fake, encoder, batch_size)
    return {
        "offline_fd": frechet_distance(real_f, fake_f),
        "offline_kvd": kernel_distance(real_f, fake_f),
        "offline_is": inception_score(fake_p, splits=is_splits)[0],
        "num_real": len(real_f),
        "num_fake": len(fake_f),
    }
