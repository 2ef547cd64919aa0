"""Frame-independent DCGAN baseline.

The baseline is a DCGAN (Radford et al. 2016) that knows nothing about time:
the generator renders each of the ``T`` frames from its own independent
latent (time folded into the batch) and stacks them into a clip; the
discriminator judges single frames (time folded into the batch again). It
exists to show what temporal modelling buys: its frames are plausible images
but consecutive frames are unrelated.

Its halves are the 2D DCGAN bodies of ``keras_vgan.layers.dcgan``
(``ImageDecoder`` renders each frame, ``ImageEncoder`` reads it), which TGAN
and MoCoGAN share. Discriminator norms are those of ``layers.make_norm`` plus
``"spectral"`` (spectral normalisation of every weight, Miyato et al. 2018).
"""

import keras
from keras import ops

from keras_vgan.layers.blocks import logit_head
from keras_vgan.layers.checks import (
    D_NORMS,
    check_norm,
    check_positive,
    check_size,
    check_upsample,
)
from keras_vgan.layers.conditioning import (
    ProjectionHead,
    check_num_classes,
    label_embedding,
    labels_vector,
)
from keras_vgan.layers.dcgan import ImageDecoder, ImageEncoder
from keras_vgan.models.common import clip_keywords, register_noise_gan


@keras.saving.register_keras_serializable(package="keras_vgan")
class FrameGenerator(keras.Model):
    """Frame-independent DCGAN generator: ``T`` independent latents -> ``T`` images -> a clip.

    Args:
        frame_latent_dim: noise size per frame; the generator's ``latent_dim``
            is ``frames * frame_latent_dim`` (``z`` holds the ``T`` per-frame
            latents one after the other, so a normal ``z`` is ``T`` independent
            normal latents).
        frames: clip length ``T`` (any positive integer).
        size: frame height and width (a multiple of ``2**len(widths)``).
        channels: output channels.
        widths: channel widths from the coarsest level to the finest.
        norm: ``"batch"``, ``"layer"`` or ``"none"``.
        num_classes: > 0 makes it class-conditional: ``call(z, labels=...)``
            and a learned class embedding joins every frame's latent.
        embed_dim: size of that embedding.
        upsample: the image generator's x2 levels, ``"transpose"`` or ``"resize"``
            (``layers.checks.UPSAMPLING``).

    Call maps ``z`` ``[B, frames * frame_latent_dim]`` to ``[B, T, H, W, C]`` in [-1, 1].
    """

    def __init__(
        self,
        frame_latent_dim=100,
        frames=16,
        size=64,
        channels=3,
        widths=(512, 256, 128, 64),
        norm="batch",
        num_classes=0,
        embed_dim=32,
        upsample="transpose",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive(frame_latent_dim=frame_latent_dim, frames=frames, embed_dim=embed_dim)
        self.upsample = check_upsample(upsample)
        # === Config ===
        self.frame_latent_dim = frame_latent_dim
        self.frames = frames
        self.size = size
        self.channels = channels
        self.widths = tuple(int(w) for w in widths)
        self.norm = norm
        self.num_classes = check_num_classes(num_classes)
        self.embed_dim = embed_dim
        self.latent_dim = frames * frame_latent_dim
        # === Layers ===
        self.decoder = ImageDecoder(size, channels, self.widths, norm, upsample, name="decoder")
        self.label_embedding = label_embedding(num_classes, embed_dim) if self.num_classes else None
        self.build((None, self.latent_dim))

    def build(self, input_shape):
        labels = keras.KerasTensor((1,), dtype="int32") if self.num_classes else None
        self.call(keras.KerasTensor((1, self.latent_dim)), labels=labels)
        self.built = True

    def call(self, z, labels=None, training=False):
        z = ops.cast(z, self.compute_dtype)
        # [B, T * d] -> [B * T, d]: clip b, frame t is row b * T + t.
        per_frame = ops.reshape(z, (-1, self.frame_latent_dim))
        if self.num_classes:
            code = self.label_embedding(labels_vector(labels))  # [B, E]
            code = ops.repeat(ops.cast(code, per_frame.dtype), self.frames, axis=0)  # [B * T, E]
            per_frame = ops.concatenate([per_frame, code], axis=-1)
        images = self.decoder(per_frame, training=training)  # [B * T, H, W, C]
        return ops.reshape(images, (-1, self.frames, self.size, self.size, self.channels))

    def compute_output_spec(self, z, labels=None, training=False):
        return keras.KerasTensor((z.shape[0], self.frames, self.size, self.size, self.channels))

    def get_config(self):
        config = super().get_config()
        config.update(
            frame_latent_dim=self.frame_latent_dim,
            frames=self.frames,
            size=self.size,
            channels=self.channels,
            widths=list(self.widths),
            norm=self.norm,
            num_classes=self.num_classes,
            embed_dim=self.embed_dim,
            upsample=self.upsample,
        )
        return config


@keras.saving.register_keras_serializable(package="keras_vgan")
class FrameDiscriminator(keras.Model):
    """DCGAN image discriminator applied to every frame of a clip independently.

    Args:
        frames, size, channels: the clip shape it judges.
        widths: channel widths from the finest level to the coarsest.
        norm: ``"batch"``, ``"layer"``, ``"none"`` or ``"spectral"``.
        num_classes: > 0 adds the projection term (Miyato & Koyama 2018) with
            the clip's label on every frame: ``call(video, labels=...)``.

    Call maps ``[B, T, H, W, C]`` to per-frame logits ``[B, T]``. The engine's
    losses are means, so each frame is one judged sample; its penalties
    (gradient penalty, R1) take the gradient of the per-clip score, the mean
    of the ``T`` frame logits (see ``VideoGAN``).
    """

    def __init__(
        self,
        frames=16,
        size=64,
        channels=3,
        widths=(64, 128, 256, 512),
        norm="batch",
        num_classes=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        widths = tuple(int(w) for w in widths)
        check_positive(frames=frames, channels=channels)
        check_size(size, len(widths))
        # === Config ===
        self.frames = frames
        self.size = size
        self.channels = channels
        self.widths = widths
        self.norm = check_norm(norm, D_NORMS)
        self.num_classes = check_num_classes(num_classes)
        s = size // 2 ** len(widths)
        # === Layers ===
        self.encoder = ImageEncoder(widths, norm, name="encoder")
        self.head = logit_head((s, s), rank=2, spectral=norm == "spectral")
        self.projection = (
            ProjectionHead(num_classes, widths[-1], spectral_norm=norm == "spectral")
            if self.num_classes
            else None
        )
        self.build((None, frames, size, size, channels))

    def build(self, input_shape):
        labels = keras.KerasTensor((1,), dtype="int32") if self.num_classes else None
        video = keras.KerasTensor((1, self.frames, self.size, self.size, self.channels))
        self.call(video, labels=labels)
        self.built = True

    def call(self, video, labels=None, training=False):
        x = ops.cast(video, self.compute_dtype)
        x = ops.reshape(x, (-1, self.size, self.size, self.channels))  # [B * T, H, W, C]
        h = self.encoder(x, training=training)
        logits = ops.reshape(self.head(h, training=training), (-1, 1))  # [B * T, 1]
        if self.num_classes:
            frame_labels = ops.repeat(labels_vector(labels), self.frames, axis=0)
            logits = logits + self.projection(h, frame_labels, training=training)
        return ops.reshape(logits, (-1, self.frames))

    def compute_output_spec(self, video, labels=None, training=False):
        return keras.KerasTensor((video.shape[0], self.frames))

    def get_config(self):
        config = super().get_config()
        config.update(
            frames=self.frames,
            size=self.size,
            channels=self.channels,
            widths=list(self.widths),
            norm=self.norm,
            num_classes=self.num_classes,
        )
        return config


# ============================================================ registration
def build_networks(config):
    """The frame-independent baseline's networks for a ``TrainConfig``."""
    clip, cond = clip_keywords(config)
    generator = FrameGenerator(
        frame_latent_dim=config.latent_dim,
        widths=config.generator_widths(),
        norm=config.g_norm,
        upsample=config.g_upsample,
        name="generator",
        **clip,
        **cond,
    )
    discriminator = FrameDiscriminator(
        widths=config.widths(finest_first=True),
        norm=config.d_norm,
        num_classes=config.num_classes,
        name="discriminator",
        **clip,
    )
    return generator, discriminator


register_noise_gan("frame_gan", build_networks, (FrameGenerator,))
