"""VGAN: the two-stream video generator of Vondrick, Pirsiavash & Torralba (2016).

"Generating Videos with Scene Dynamics", NeurIPS 2016. The generator splits a
clip into a moving foreground, rendered by 3D transposed convolutions together
with a soft mask, and a static background, rendered by 2D transposed
convolutions. The video is ``m * f + (1 - m) * b``. The discriminator is a
3D-convolutional network over the whole clip. The paper's configuration is 32
frames of 64x64x3 with generator widths 512-256-128-64 (``width=64, depth=4``).

The mask sparsity term (an L1 prior on ``m``) is a loss: the generator only
exposes the mask and the engine weighs it (``VideoGAN.compile(mask_l1=...)``).

The class-conditional VGAN is ``VGANGenerator`` reading ``concat(z, E[y])``
with ``E`` a learned class embedding (Mirza & Osindero 2014) and
``VGANDiscriminator`` plus the class term of Miyato & Koyama 2018,
``<V[y], sum_positions phi(x)>`` on its last block's features (see
``keras_vgan.layers.conditioning``). Train them with
``VideoGAN(..., conditional=True)`` on ``(videos, labels)`` batches.
"""

import keras
from keras import ops

from keras_vgan.layers.blocks import (
    DownBlock,
    SubpixelConv3DTranspose,
    UpBlock,
    dcgan_init,
    logit_head,
    make_norm,
)
from keras_vgan.layers.checks import NORMS, check_geometry, check_positive
from keras_vgan.layers.conditioning import (
    ProjectionHead,
    check_num_classes,
    label_embedding,
    labels_vector,
)
from keras_vgan.models.common import clip_keywords, register_noise_gan


@keras.saving.register_keras_serializable(package="keras_vgan")
class VGANGenerator(keras.Model):
    """Two-stream VGAN generator.

    Args:
        latent_dim: size of the noise vector ``z``.
        frames: clip length ``T`` (a multiple of ``2**len(widths)``).
        size: frame height and width ``H = W`` (a multiple of ``2**len(widths)``).
        channels: output channels ``C`` (1 grayscale, 3 RGB).
        widths: channel widths from the coarsest level to the finest; the
            paper uses ``(512, 256, 128, 64)``.
        norm: ``"batch"``, ``"layer"`` or ``"none"``.

    Call returns a dict: ``video`` ``[B, T, H, W, C]`` in [-1, 1], ``mask``
    ``[B, T, H, W, 1]`` in [0, 1], ``foreground`` like ``video`` and
    ``background`` ``[B, H, W, C]``.
    """

    def __init__(
        self,
        latent_dim=100,
        frames=32,
        size=64,
        channels=3,
        widths=(512, 256, 128, 64),
        norm="batch",
        **kwargs,
    ):
        super().__init__(**kwargs)
        widths = tuple(int(w) for w in widths)
        check_geometry(frames, size, len(widths), channels)
        # === Config ===
        self.latent_dim = int(latent_dim)
        self.frames = frames
        self.size = size
        self.channels = channels
        self.widths = widths
        self.norm = norm
        depth = len(widths)
        self.t0 = frames // 2**depth
        self.s0 = size // 2**depth
        # === Foreground stream (3D) ===
        self.fg_project = keras.layers.Dense(
            self.t0 * self.s0 * self.s0 * widths[0], use_bias=False, kernel_initializer=dcgan_init()
        )
        self.fg_norm = make_norm(norm, rank=3)
        self.fg_blocks = [UpBlock(w, rank=3, norm=norm) for w in widths[1:]]
        # Keras' Conv3DTranspose with a faster CPU path for thin (<= 4 channel)
        # outputs; same weights and outputs (see keras_vgan/layers/blocks.py).
        self.fg_video = SubpixelConv3DTranspose(
            channels, 4, strides=2, padding="same", kernel_initializer=dcgan_init(), name="fg_video"
        )
        self.fg_mask = SubpixelConv3DTranspose(
            1, 4, strides=2, padding="same", kernel_initializer=dcgan_init(), name="fg_mask"
        )
        # === Background stream (2D) ===
        self.bg_project = keras.layers.Dense(
            self.s0 * self.s0 * widths[0], use_bias=False, kernel_initializer=dcgan_init()
        )
        self.bg_norm = make_norm(norm, rank=2)
        self.bg_blocks = [UpBlock(w, rank=2, norm=norm) for w in widths[1:]]
        self.bg_image = keras.layers.Conv2DTranspose(
            channels, 4, strides=2, padding="same", kernel_initializer=dcgan_init(), name="bg_image"
        )
        # The input shape is known: build now so an unbuilt model never saves without weights.
        self.build((None, self.latent_dim))

    def build(self, input_shape):
        z = keras.KerasTensor((1, self.latent_dim))
        self.call(z)  # builds every sub-layer symbolically
        self.built = True

    def call(self, z, training=False):
        z = ops.cast(z, self.compute_dtype)
        # Foreground: z -> [B, T/2^d, S/2^d, S/2^d, w0] -> ... -> [B, T, S, S, C] + mask.
        f = self.fg_project(z)
        f = ops.reshape(f, (-1, self.t0, self.s0, self.s0, self.widths[0]))
        if self.fg_norm is not None:
            f = self.fg_norm(f, training=training)
        f = ops.relu(f)
        for block in self.fg_blocks:
            f = block(f, training=training)
        foreground = ops.tanh(self.fg_video(f))
        mask = ops.sigmoid(self.fg_mask(f))
        # Background: z -> [B, S/2^d, S/2^d, w0] -> ... -> [B, S, S, C], one image per clip.
        b = self.bg_project(z)
        b = ops.reshape(b, (-1, self.s0, self.s0, self.widths[0]))
        if self.bg_norm is not None:
            b = self.bg_norm(b, training=training)
        b = ops.relu(b)
        for block in self.bg_blocks:
            b = block(b, training=training)
        background = ops.tanh(self.bg_image(b))
        video = mask * foreground + (1.0 - mask) * background[:, None]
        return {"video": video, "mask": mask, "foreground": foreground, "background": background}

    def compute_output_spec(self, z, training=False):
        b = z.shape[0]
        video = keras.KerasTensor((b, self.frames, self.size, self.size, self.channels))
        return {
            "video": video,
            "mask": keras.KerasTensor((b, self.frames, self.size, self.size, 1)),
            "foreground": video,
            "background": keras.KerasTensor((b, self.size, self.size, self.channels)),
        }

    def get_config(self):
        config = super().get_config()
        config.update(
            latent_dim=self.latent_dim,
            frames=self.frames,
            size=self.size,
            channels=self.channels,
            widths=list(self.widths),
            norm=self.norm,
        )
        return config


@keras.saving.register_keras_serializable(package="keras_vgan")
class VGANDiscriminator(keras.Model):
    """3D-convolutional video discriminator of VGAN.

    Args:
        frames, size, channels: the clip shape it judges.
        widths: channel widths from the finest level to the coarsest; the paper
            uses ``(64, 128, 256, 512)``.
        norm: ``"batch"`` (the paper), ``"layer"`` (for WGAN-GP / R1) or ``"none"``.
            The first block is never normalised (DCGAN convention).

    Call maps ``[B, T, H, W, C]`` to logits ``[B, 1]``.
    """

    def __init__(
        self,
        frames=32,
        size=64,
        channels=3,
        widths=(64, 128, 256, 512),
        norm="batch",
        **kwargs,
    ):
        super().__init__(**kwargs)
        widths = tuple(int(w) for w in widths)
        check_geometry(frames, size, len(widths), channels)
        # === Config ===
        self.frames = frames
        self.size = size
        self.channels = channels
        self.widths = widths
        self.norm = norm
        depth = len(widths)
        # === Layers ===
        self.blocks = [
            DownBlock(w, rank=3, norm="none" if i == 0 else norm) for i, w in enumerate(widths)
        ]
        # One valid convolution over what is left (T/2^d x S/2^d x S/2^d) -> one logit.
        d = 2**depth
        self.head = logit_head((frames // d, size // d, size // d), rank=3, spectral=False)
        self.build((None, frames, size, size, channels))

    def build(self, input_shape):
        self.call(keras.KerasTensor((1, self.frames, self.size, self.size, self.channels)))
        self.built = True

    def call(self, video, training=False):
        x = ops.cast(video, self.compute_dtype)
        for block in self.blocks:
            x = block(x, training=training)
        return ops.reshape(self.head(x), (-1, 1))

    def compute_output_spec(self, video, training=False):
        return keras.KerasTensor((video.shape[0], 1))

    def get_config(self):
        config = super().get_config()
        config.update(
            frames=self.frames,
            size=self.size,
            channels=self.channels,
            widths=list(self.widths),
            norm=self.norm,
        )
        return config


def _require_classes(num_classes):
    if check_num_classes(num_classes) < 1:
        raise ValueError(f"num_classes={num_classes!r} must be >= 1 for a conditional model")
    return num_classes


@keras.saving.register_keras_serializable(package="keras_vgan")
class ConditionalVGANGenerator(keras.Model):
    """VGAN generator conditioned on a class label.

    Args:
        num_classes: number of classes.
        latent_dim: size of the noise ``z`` (the class embedding comes on top).
        frames, size, channels, widths, norm: as ``VGANGenerator``.
        embed_dim: size of the class embedding.

    Call ``(z [B, latent_dim], labels=[B])`` returns ``VGANGenerator``'s dict
    (``video``, ``mask``, ``foreground``, ``background``).
    """

    def __init__(
        self,
        num_classes,
        latent_dim=100,
        frames=32,
        size=64,
        channels=3,
        widths=(512, 256, 128, 64),
        norm="batch",
        embed_dim=32,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive(latent_dim=latent_dim, embed_dim=embed_dim)
        # === Config ===
        self.num_classes = _require_classes(num_classes)
        self.latent_dim = latent_dim
        self.frames = frames
        self.size = size
        self.channels = channels
        self.widths = tuple(int(w) for w in widths)
        self.norm = norm
        self.embed_dim = embed_dim
        # === Layers ===
        self.label_embedding = label_embedding(num_classes, embed_dim)
        self.vgan = VGANGenerator(
            latent_dim + embed_dim, frames, size, channels, self.widths, norm, name="vgan"
        )
        self.build((None, latent_dim))

    def build(self, input_shape):
        labels = keras.KerasTensor((1,), dtype="int32")
        self.call(keras.KerasTensor((1, self.latent_dim)), labels=labels)
        self.built = True

    def call(self, z, labels=None, training=False):
        z = ops.cast(z, self.compute_dtype)
        code = ops.cast(self.label_embedding(labels_vector(labels)), z.dtype)
        return self.vgan(ops.concatenate([z, code], axis=-1), training=training)

    def compute_output_spec(self, z, labels=None, training=False):
        return self.vgan.compute_output_spec(
            keras.KerasTensor((z.shape[0], self.latent_dim + self.embed_dim))
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            num_classes=self.num_classes,
            latent_dim=self.latent_dim,
            frames=self.frames,
            size=self.size,
            channels=self.channels,
            widths=list(self.widths),
            norm=self.norm,
            embed_dim=self.embed_dim,
        )
        return config


@keras.saving.register_keras_serializable(package="keras_vgan")
class ConditionalVGANDiscriminator(keras.Model):
    """VGAN's 3D-conv discriminator with a projection class term.

    Args:
        num_classes: number of classes.
        frames, size, channels, widths, norm: as ``VGANDiscriminator``.

    Call ``(video [B, T, H, W, C], labels=[B])`` returns logits ``[B, 1]``:
    VGAN's logit plus ``<V[y], sum_positions phi(x)>``.
    """

    def __init__(
        self,
        num_classes,
        frames=32,
        size=64,
        channels=3,
        widths=(64, 128, 256, 512),
        norm="batch",
        **kwargs,
    ):
        super().__init__(**kwargs)
        # === Config ===
        self.num_classes = _require_classes(num_classes)
        self.frames = frames
        self.size = size
        self.channels = channels
        self.widths = tuple(int(w) for w in widths)
        self.norm = norm
        # === Layers ===
        self.vgan = VGANDiscriminator(frames, size, channels, self.widths, norm, name="vgan")
        self.projection = ProjectionHead(num_classes, self.widths[-1])
        self.build((None, frames, size, size, channels))

    def build(self, input_shape):
        video = keras.KerasTensor((1, self.frames, self.size, self.size, self.channels))
        self.call(video, labels=keras.KerasTensor((1,), dtype="int32"))
        self.built = True

    def call(self, video, labels=None, training=False):
        # VGANDiscriminator's own blocks and head, with the features kept for the projection.
        x = ops.cast(video, self.compute_dtype)
        for block in self.vgan.blocks:
            x = block(x, training=training)
        logits = ops.reshape(self.vgan.head(x), (-1, 1))
        return logits + self.projection(x, labels)

    def compute_output_spec(self, video, labels=None, training=False):
        return keras.KerasTensor((video.shape[0], 1))

    def get_config(self):
        config = super().get_config()
        config.update(
            num_classes=self.num_classes,
            frames=self.frames,
            size=self.size,
            channels=self.channels,
            widths=list(self.widths),
            norm=self.norm,
        )
        return config


# ============================================================ registration
def build_networks(config):
    """VGAN's networks for a ``TrainConfig``: the conditional pair when ``num_classes > 0``."""
    clip, cond = clip_keywords(config)
    clip.update(cond)
    if config.num_classes:
        g_cls, d_cls = ConditionalVGANGenerator, ConditionalVGANDiscriminator
    else:
        g_cls, d_cls = VGANGenerator, VGANDiscriminator
    generator = g_cls(
        latent_dim=config.latent_dim,
        widths=config.generator_widths(),
        norm=config.g_norm,
        name="generator",
        **clip,
    )
    discriminator = d_cls(
        widths=config.widths(finest_first=True), norm=config.d_norm, name="discriminator", **clip
    )
    return generator, discriminator


register_noise_gan(
    "vgan",
    build_networks,
    (VGANGenerator, ConditionalVGANGenerator),
    d_norms=NORMS,
    generator_options=("g_width",),  # its 3D foreground stream has no resize variant
)  # batch statistics, layer norm or none; no spectral norm
