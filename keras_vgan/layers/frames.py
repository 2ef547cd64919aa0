"""Judging single frames of a clip: the frame sampler and the dual discriminator.

A video discriminator built only from 3D convolutions (VGAN's, TGAN's) gives the
generator a weak signal about what one frame should look like: at a small
budget both lose to a frame-independent GAN whose discriminator sees frames
(``benchmarks/quality_comparison.py``). MoCoGAN (Tulyakov et al. 2018) pairs its
video discriminator with an image discriminator on sampled frames; DVD-GAN
(Clark, Donahue & Simonyan 2019) makes this split its design, a *spatial*
discriminator on ``k`` random frames per clip (``k = 8`` of 48) next to the
*temporal* one. ``DualDiscriminator`` adds that spatial discriminator to any
video discriminator (``TrainConfig.d_frames``): its output gains a ``"frames"``
head of ``[B, k]`` logits, which the engine's losses and penalties take as one
more head (``engine.logit_heads``).
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_vgan.layers.blocks import logit_head
from keras_vgan.layers.checks import D_NORMS, check_norm, check_size
from keras_vgan.layers.dcgan import ImageEncoder


def sample_frames(video, k, seed, calls, training):
    """``k`` frames of each clip ``[B, T, H, W, C]`` -> ``[B, k, H, W, C]``.

    In training, ``k`` frame indices per clip drawn uniformly (with repetition) by a
    stateless draw keyed on ``(seed, calls)``; ``calls`` (an int64 variable the caller
    owns and checkpoints) is advanced, so a resumed run draws the same frames. Outside
    training, ``k`` evenly spaced frames. ``k == T`` returns the clip.
    """
    frames = video.shape[1]
    if k == frames:
        return video
    if training:
        key = tf.stack([tf.constant(int(seed), tf.int64), tf.convert_to_tensor(calls)])
        calls.assign_add(1)
        shape = tf.stack([tf.shape(video)[0], k])
        index = tf.random.stateless_uniform(
            shape, seed=key, minval=0, maxval=frames, dtype=tf.int32
        )
        return tf.gather(video, index, axis=1, batch_dims=1)
    index = np.round(np.linspace(0, frames - 1, k)).astype("int32")
    return ops.take(video, index, axis=1)


def frame_sampler_calls(layer):
    """The int64 draw counter ``sample_frames`` advances, as a weight of ``layer``."""
    return layer.add_weight(
        shape=(),
        initializer="zeros",
        dtype="int64",
        trainable=False,
        aggregation="only_first_replica",
        name="frame_sampler_calls",
    )


@keras.saving.register_keras_serializable(package="keras_vgan")
class DualDiscriminator(keras.Model):
    """A video discriminator plus a frame discriminator on ``k`` sampled frames (DVD-GAN).

    Args:
        discriminator: the video discriminator; called with the clip and any keyword
            (``labels=`` of a conditional model). Its output (a tensor, or a dict of
            heads) is kept as it is, under ``"video"`` if it is a tensor.
        frames: clip length ``T``.
        size: frame height and width (a multiple of ``2**len(widths)``).
        channels: clip channels.
        widths: the frame discriminator's widths, finest first (a DCGAN
            ``ImageEncoder`` and a one-logit head).
        norm: the frame discriminator's norm (``D_NORMS``).
        image_frames: ``k``, the frames per clip it judges (1 <= k <= T - skip).
        seed: seed of the frame draws.
        skip: the first ``skip`` frames are never judged (a predictor's context, which
            is real in both views of ``tasks.VideoTaskGAN``'s ``"time"`` condition).

    Call: ``(clips [B, T, H, W, C], **kwargs) -> {**heads, "frames": [B, k]}``.
    """

    def __init__(
        self,
        discriminator,
        frames=16,
        size=64,
        channels=1,
        widths=(64, 128, 256),
        norm="batch",
        image_frames=4,
        seed=0,
        skip=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        widths = tuple(int(w) for w in widths)
        check_size(size, len(widths))
        if not isinstance(skip, int) or not 0 <= skip < frames:
            raise ValueError(f"skip={skip!r} must be in [0, frames={frames})")
        if not isinstance(image_frames, int) or not 1 <= image_frames <= frames - skip:
            raise ValueError(
                f"image_frames={image_frames!r} must be in [1, frames - skip = {frames - skip}]"
            )
        # === Config ===
        self.discriminator = discriminator
        self.frames = frames
        self.size = size
        self.channels = channels
        self.widths = widths
        self.norm = check_norm(norm, D_NORMS)
        self.image_frames = image_frames
        self.seed = int(seed)
        self.skip = skip
        # === Layers ===
        s = size // 2 ** len(widths)
        self.image_encoder = ImageEncoder(widths, norm, name="frame_encoder")
        self.image_head = logit_head((s, s), rank=2, spectral=norm == "spectral")
        self.sampler_calls = frame_sampler_calls(self)
        self.build((None, frames, size, size, channels))

    def build(self, input_shape):
        x = keras.KerasTensor((1, self.frames, self.size, self.size, self.channels))
        self._frame_logits(x, training=False)
        self.built = True

    def _frame_logits(self, video, training):
        judged = video[:, self.skip :]
        chosen = sample_frames(judged, self.image_frames, self.seed, self.sampler_calls, training)
        x = ops.reshape(chosen, (-1, self.size, self.size, self.channels))  # time into batch
        h = self.image_encoder(x, training=training)
        return ops.reshape(self.image_head(h, training=training), (-1, self.image_frames))

    def call(self, video, training=False, **kwargs):
        video = ops.convert_to_tensor(video)
        out = self.discriminator(video, training=training, **kwargs)
        heads = dict(out) if isinstance(out, dict) else {"video": out}
        if "frames" in heads:
            raise ValueError("the video discriminator already has a 'frames' head")
        heads["frames"] = self._frame_logits(ops.cast(video, self.compute_dtype), training)
        return heads

    def get_config(self):
        config = super().get_config()
        config.update(
            discriminator=keras.saving.serialize_keras_object(self.discriminator),
            frames=self.frames,
            size=self.size,
            channels=self.channels,
            widths=list(self.widths),
            norm=self.norm,
            image_frames=self.image_frames,
            seed=self.seed,
            skip=self.skip,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        return cls(**config)
