"""TGAN: the temporal generative adversarial network of Saito, Matsumoto & Saito (2017).

"Temporal Generative Adversarial Nets with Singular Value Clipping", ICCV 2017.
The generator has two parts. A *temporal generator* turns one latent ``z0``
into ``T`` frame latents ``z1^1..z1^T`` with 1D transposed convolutions over
time (``Conv1DTranspose``, tanh at the end); an *image generator* renders
frame ``t`` from ``(z0, z1^t)`` with a 2D DCGAN decoder, all frames at once
with time folded into the batch. The discriminator is a 3D-convolutional
network over the whole clip. The paper's configuration is 16 frames of
64x64: ``z0`` of 100, four temporal layers 512-256-128-128 from one step to
16 frame latents of 100, image widths 512-256-128-64.

Differences from the paper, by design:

* The paper keeps its WGAN critic 1-Lipschitz with *singular value clipping*.
  Here the discriminator uses **spectral normalisation** instead
  (``norm="spectral"``, the default; ``keras.layers.SpectralNormalization``,
  Miyato et al. 2018), trained with the hinge loss; or WGAN-GP with
  ``norm="layer"`` (Gulrajani et al. 2017). Keras' layer divides each kernel
  by its largest singular value (one power iteration per training call) and
  stores the result, so like singular value clipping it acts as a projection
  of the weights after every update.
* The image generator reads ``concat(z0, z1^t)`` through one dense layer;
  the paper projects ``z0`` and ``z1^t`` separately and concatenates the two
  feature maps, which is the block-diagonal special case of it.
"""

import keras
from keras import ops

from keras_vgan.layers.blocks import dcgan_init, logit_head, make_norm
from keras_vgan.layers.checks import (
    D_NORMS,
    check_geometry,
    check_norm,
    check_positive,
    check_upsample,
)
from keras_vgan.layers.conditioning import (
    ProjectionHead,
    check_num_classes,
    label_embedding,
    labels_vector,
)
from keras_vgan.layers.dcgan import ImageDecoder, VideoEncoder
from keras_vgan.models.common import clip_keywords, register_noise_gan


@keras.saving.register_keras_serializable(package="keras_vgan")
class TemporalUpBlock(keras.layers.Layer):
    """``Conv1DTranspose`` (x2 over time) -> norm -> ReLU, on sequences ``[B, T, C]``."""

    def __init__(self, filters, norm="batch", **kwargs):
        super().__init__(**kwargs)
        # === Config ===
        self.filters = int(filters)
        self.norm = check_norm(norm)
        # === Layers ===
        self.conv = keras.layers.Conv1DTranspose(
            self.filters,
            4,
            strides=2,
            padding="same",
            use_bias=norm == "none",
            kernel_initializer=dcgan_init(),
            name="conv",
        )
        self.norm_layer = make_norm(norm, rank=1, name="norm")

    def build(self, input_shape):
        self.conv.build(input_shape)
        if self.norm_layer is not None:
            self.norm_layer.build(self.conv.compute_output_shape(input_shape))

    def call(self, x, training=False):
        x = self.conv(x)
        if self.norm_layer is not None:
            x = self.norm_layer(x, training=training)
        return ops.relu(x)

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, norm=self.norm)
        return config


@keras.saving.register_keras_serializable(package="keras_vgan")
class TGANGenerator(keras.Model):
    """TGAN generator: temporal generator (1D transposed convs) + per-frame image generator.

    Args:
        latent_dim: size of ``z0``, the clip latent.
        frames: clip length ``T`` (a multiple of ``2**len(temporal_widths)``).
        size: frame height and width (a multiple of ``2**len(widths)``).
        channels: output channels.
        widths: image generator widths, coarsest to finest (paper: 512-256-128-64).
        temporal_widths: temporal generator widths; the first is the width at
            ``T / 2**len(temporal_widths)`` steps, each further one follows an
            x2 up-sampling, and a last x2 layer outputs the frame latents
            (paper: 512-256-128-128 from one step to 16).
        frame_latent_dim: size of each frame latent ``z1^t`` (paper: 100).
        norm: ``"batch"`` (the paper), ``"layer"`` or ``"none"``.
        num_classes: > 0 makes it class-conditional (``call(z, labels=...)``):
            a learned class embedding is concatenated to ``z0``, so both the
            temporal and the image generator see the class.
        embed_dim: size of that embedding.
        upsample: the image generator's x2 levels, ``"transpose"`` or ``"resize"``
            (``layers.checks.UPSAMPLING``); the temporal generator keeps its
            transposed convolutions.

    Call maps ``z0`` ``[B, latent_dim]`` to ``[B, T, H, W, C]`` in [-1, 1].
    ``frame_latents(z)`` returns the temporal generator's ``[B, T, frame_latent_dim]``.
    """

    def __init__(
        self,
        latent_dim=100,
        frames=16,
        size=64,
        channels=3,
        widths=(512, 256, 128, 64),
        temporal_widths=(512, 256, 128, 128),
        frame_latent_dim=100,
        norm="batch",
        num_classes=0,
        embed_dim=32,
        upsample="transpose",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.upsample = check_upsample(upsample)
        temporal_widths = tuple(int(w) for w in temporal_widths)
        check_positive(
            latent_dim=latent_dim,
            frames=frames,
            frame_latent_dim=frame_latent_dim,
            embed_dim=embed_dim,
            temporal_depth=len(temporal_widths),
        )
        step = 2 ** len(temporal_widths)
        if frames % step:
            raise ValueError(
                f"frames={frames} cannot be produced by {len(temporal_widths)} temporal "
                f"x2 layers: it must be a multiple of {step}"
            )
        # === Config ===
        self.latent_dim = latent_dim
        self.frames = frames
        self.size = size
        self.channels = channels
        self.widths = tuple(int(w) for w in widths)
        self.temporal_widths = temporal_widths
        self.frame_latent_dim = frame_latent_dim
        self.norm = check_norm(norm)
        self.num_classes = check_num_classes(num_classes)
        self.embed_dim = embed_dim
        self.t0 = frames // step
        # === Temporal generator ===
        self.label_embedding = label_embedding(num_classes, embed_dim) if self.num_classes else None
        self.t_project = keras.layers.Dense(
            self.t0 * temporal_widths[0],
            use_bias=False,
            kernel_initializer=dcgan_init(),
            name="t_project",
        )
        self.t_norm = make_norm(norm, rank=1, name="t_norm")
        self.t_blocks = [TemporalUpBlock(w, norm=norm) for w in temporal_widths[1:]]
        self.t_out = keras.layers.Conv1DTranspose(
            frame_latent_dim,
            4,
            strides=2,
            padding="same",
            kernel_initializer=dcgan_init(),
            name="t_out",
        )
        # === Image generator ===
        self.decoder = ImageDecoder(size, channels, self.widths, norm, upsample, name="decoder")
        self.build((None, latent_dim))

    def build(self, input_shape):
        labels = keras.KerasTensor((1,), dtype="int32") if self.num_classes else None
        self.call(keras.KerasTensor((1, self.latent_dim)), labels=labels)
        self.built = True

    def _clip_code(self, z, labels):
        z = ops.cast(z, self.compute_dtype)
        if not self.num_classes:
            return z
        code = self.label_embedding(labels_vector(labels))
        return ops.concatenate([z, ops.cast(code, z.dtype)], axis=-1)  # [B, latent + E]

    def _temporal(self, z0, training):
        x = ops.reshape(self.t_project(z0), (-1, self.t0, self.temporal_widths[0]))
        if self.t_norm is not None:
            x = self.t_norm(x, training=training)
        x = ops.relu(x)
        for block in self.t_blocks:
            x = block(x, training=training)
        return ops.tanh(self.t_out(x))  # [B, T, frame_latent_dim]

    def frame_latents(self, z, labels=None, training=False):
        """The temporal generator's frame latents ``[B, T, frame_latent_dim]`` in [-1, 1]."""
        return self._temporal(self._clip_code(z, labels), training)

    def call(self, z, labels=None, training=False):
        z0 = self._clip_code(z, labels)
        z1 = self._temporal(z0, training)  # [B, T, d1]
        # Time folded into the batch: frame t of clip b is row b * T + t.
        z0_frames = ops.repeat(z0, self.frames, axis=0)  # [B * T, latent (+ E)]
        z1_frames = ops.reshape(z1, (-1, self.frame_latent_dim))  # [B * T, d1]
        images = self.decoder(ops.concatenate([z0_frames, z1_frames], axis=-1), training=training)
        return ops.reshape(images, (-1, self.frames, self.size, self.size, self.channels))

    def compute_output_spec(self, z, labels=None, training=False):
        return keras.KerasTensor((z.shape[0], self.frames, self.size, self.size, self.channels))

    def get_config(self):
        config = super().get_config()
        config.update(
            latent_dim=self.latent_dim,
            frames=self.frames,
            size=self.size,
            channels=self.channels,
            widths=list(self.widths),
            temporal_widths=list(self.temporal_widths),
            frame_latent_dim=self.frame_latent_dim,
            norm=self.norm,
            num_classes=self.num_classes,
            embed_dim=self.embed_dim,
            upsample=self.upsample,
        )
        return config


@keras.saving.register_keras_serializable(package="keras_vgan")
class TGANDiscriminator(keras.Model):
    """TGAN's 3D-convolutional video discriminator (critic).

    Args:
        frames, size, channels: the clip shape it judges (multiples of ``2**len(widths)``).
        widths: channel widths from the finest level to the coarsest (paper: 64-128-256-512).
        norm: ``"spectral"`` (default: spectral normalisation in place of the
            paper's singular value clipping, for the hinge loss), ``"layer"``
            (for WGAN-GP), ``"batch"`` or ``"none"``.
        num_classes: > 0 adds the projection term (Miyato & Koyama 2018):
            ``call(video, labels=...)``.

    Call maps ``[B, T, H, W, C]`` to logits ``[B, 1]``.
    """

    def __init__(
        self,
        frames=16,
        size=64,
        channels=3,
        widths=(64, 128, 256, 512),
        norm="spectral",
        num_classes=0,
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
        self.norm = check_norm(norm, D_NORMS)
        self.num_classes = check_num_classes(num_classes)
        d = 2 ** len(widths)
        spectral = norm == "spectral"
        # === Layers ===
        self.encoder = VideoEncoder(widths, norm, name="encoder")
        self.head = logit_head((frames // d, size // d, size // d), rank=3, spectral=spectral)
        self.projection = (
            ProjectionHead(num_classes, widths[-1], spectral_norm=spectral)
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
        h = self.encoder(ops.cast(video, self.compute_dtype), training=training)
        logits = ops.reshape(self.head(h, training=training), (-1, 1))
        if self.num_classes:
            logits = logits + self.projection(h, labels, training=training)
        return logits

    def compute_output_spec(self, video, labels=None, training=False):
        return keras.KerasTensor((video.shape[0], 1))

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
    """TGAN's networks for a ``TrainConfig``: a temporal generator of ``depth`` x2 layers
    over time, as wide as the image generator."""
    clip, cond = clip_keywords(config)
    generator = TGANGenerator(
        latent_dim=config.latent_dim,
        widths=config.generator_widths(),
        temporal_widths=config.generator_widths(),
        frame_latent_dim=config.latent_dim,
        norm=config.g_norm,
        upsample=config.g_upsample,
        name="generator",
        **clip,
        **cond,
    )
    discriminator = TGANDiscriminator(
        widths=config.widths(finest_first=True),
        norm=config.d_norm,
        num_classes=config.num_classes,
        name="discriminator",
        **clip,
    )
    return generator, discriminator


register_noise_gan("tgan", build_networks, (TGANGenerator,))
