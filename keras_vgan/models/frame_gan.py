"""Frame-independent DCGAN baseline, and the 2D DCGAN bodies other families reuse.

The baseline is a DCGAN (Radford et al. 2016) that knows nothing about time:
the generator renders each of the ``T`` frames from its own independent
latent (time folded into the batch) and stacks them into a clip; the
discriminator judges single frames (time folded into the batch again). It
exists to show what temporal modelling buys: its frames are plausible images
but consecutive frames are unrelated.

``ImageDecoder`` (latent -> image) and ``ImageEncoder`` (image -> features)
are the 2D DCGAN halves; TGAN and MoCoGAN render their frames with
``ImageDecoder`` and MoCoGAN's image discriminator is an ``ImageEncoder``.
Discriminator norms are those of ``layers.make_norm`` plus ``"spectral"``
(spectral normalisation of every weight, Miyato et al. 2018, with
``keras.layers.SpectralNormalization``, and no activation normalisation).
"""

import keras
from keras import ops

from keras_vgan.layers import DownBlock, SubpixelConv3D, UpBlock, make_norm
from keras_vgan.layers.blocks import NORMS
from keras_vgan.layers.conditioning import (
    ProjectionHead,
    check_num_classes,
    label_embedding,
    labels_vector,
)

D_NORMS = NORMS + ("spectral",)


def _init():
    return keras.initializers.RandomNormal(stddev=0.02)


def check_norm(norm, allowed=NORMS, name="norm"):
    if norm not in allowed:
        raise ValueError(f"{name}={norm!r} is not one of {', '.join(allowed)}")
    return norm


def check_positive(**values):
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name}={value!r} must be a positive integer")


def check_size(size, depth):
    """``size`` must be a multiple of ``2**depth`` (a depth-level x2 pyramid)."""
    check_positive(size=size, depth=depth)
    if size % 2**depth:
        raise ValueError(
            f"size={size} cannot be produced by a depth-{depth} network: "
            f"it must be a multiple of 2**depth={2**depth}"
        )


@keras.saving.register_keras_serializable(package="keras_vgan")
class LeakyDownBlock(keras.layers.Layer):
    """Strided convolution (with bias, optionally spectrally normalised) -> LeakyReLU(0.2).

    The block of a discriminator level without activation normalisation;
    ``rank`` 2 (images) or 3 (clips).
    """

    def __init__(self, filters, rank=3, spectral_norm=False, kernel_size=4, strides=2, **kwargs):
        super().__init__(**kwargs)
        if rank not in (2, 3):
            raise ValueError(f"rank={rank!r} is not 2 or 3")
        # === Config ===
        self.filters = int(filters)
        self.rank = rank
        self.spectral_norm = bool(spectral_norm)
        self.kernel_size = kernel_size
        self.strides = strides
        # === Layers ===
        conv_cls = keras.layers.Conv2D if rank == 2 else SubpixelConv3D
        conv = conv_cls(
            self.filters,
            kernel_size,
            strides=strides,
            padding="same",
            kernel_initializer=_init(),
            name="conv",
        )
        self.conv = keras.layers.SpectralNormalization(conv, name="sn") if spectral_norm else conv

    def build(self, input_shape):
        self.conv.build(input_shape)

    def call(self, x, training=False):
        x = self.conv(x, training=training)
        # LeakyReLU(0.2) written as max(x, 0.2 x): TF's grappler remapper fails on the
        # conv + BiasAdd + LeakyRelu fusion in these training graphs ("Mutation::Apply
        # error", and the pass is then skipped for the whole step).
        return ops.maximum(x, 0.2 * x)

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            rank=self.rank,
            spectral_norm=self.spectral_norm,
            kernel_size=self.kernel_size,
            strides=self.strides,
        )
        return config


def down_block(filters, rank, norm, first=False, strides=2, name=None):
    """A /2 block for a discriminator; the first block is never activation-normalised."""
    if norm == "spectral" or norm == "none" or first:
        return LeakyDownBlock(
            filters, rank=rank, spectral_norm=norm == "spectral", strides=strides, name=name
        )
    return DownBlock(filters, rank=rank, norm=norm, strides=strides, name=name)


def logit_head(kernel_size, rank, spectral):
    """One VALID convolution over what is left of the pyramid -> one logit."""
    conv_cls = keras.layers.Conv2D if rank == 2 else keras.layers.Conv3D
    head = conv_cls(1, kernel_size, padding="valid", kernel_initializer=_init(), name="head")
    return keras.layers.SpectralNormalization(head, name="sn_head") if spectral else head


@keras.saving.register_keras_serializable(package="keras_vgan")
class ImageDecoder(keras.layers.Layer):
    """The DCGAN generator body: latents ``[N, d]`` -> images ``[N, size, size, channels]`` in [-1, 1].

    Dense projection to ``size/2**depth`` squared x ``widths[0]``, then
    ``depth - 1`` UpBlocks and a final stride-2 transposed convolution with tanh
    (``depth = len(widths)``).
    """

    def __init__(self, size=64, channels=3, widths=(512, 256, 128, 64), norm="batch", **kwargs):
        super().__init__(**kwargs)
        widths = tuple(int(w) for w in widths)
        check_size(size, len(widths))
        check_positive(channels=channels)
        # === Config ===
        self.size = size
        self.channels = channels
        self.widths = widths
        self.norm = check_norm(norm)
        self.s0 = size // 2 ** len(widths)
        # === Layers ===
        self.project = keras.layers.Dense(
            self.s0 * self.s0 * widths[0],
            use_bias=False,
            kernel_initializer=_init(),
            name="project",
        )
        self.project_norm = make_norm(norm, rank=2, name="project_norm")
        self.blocks = [UpBlock(w, rank=2, norm=norm) for w in widths[1:]]
        self.to_image = keras.layers.Conv2DTranspose(
            channels, 4, strides=2, padding="same", kernel_initializer=_init(), name="to_image"
        )

    def build(self, input_shape):
        self.call(keras.KerasTensor(tuple(input_shape)))

    def call(self, z, training=False):
        x = ops.reshape(self.project(z), (-1, self.s0, self.s0, self.widths[0]))
        if self.project_norm is not None:
            x = self.project_norm(x, training=training)
        x = ops.relu(x)
        for block in self.blocks:
            x = block(x, training=training)
        return ops.tanh(self.to_image(x))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.size, self.size, self.channels)

    def get_config(self):
        config = super().get_config()
        config.update(
            size=self.size, channels=self.channels, widths=list(self.widths), norm=self.norm
        )
        return config


class PyramidEncoder(keras.layers.Layer):
    """A discriminator body: ``len(widths)`` /2 levels of ``down_block``, rank ``rank``.

    Maps ``[N, *spatial, C]`` to ``[N, *(spatial / 2**len(widths)), widths[-1]]``;
    ``ImageEncoder`` (rank 2) and ``VideoEncoder`` (rank 3) are its two forms.
    """

    rank = 2

    def __init__(self, widths=(64, 128, 256, 512), norm="batch", **kwargs):
        super().__init__(**kwargs)
        # === Config ===
        self.widths = tuple(int(w) for w in widths)
        self.norm = check_norm(norm, D_NORMS)
        # === Layers ===
        self.blocks = [
            down_block(w, rank=self.rank, norm=norm, first=i == 0)
            for i, w in enumerate(self.widths)
        ]

    def build(self, input_shape):
        self.call(keras.KerasTensor(tuple(input_shape)))

    def call(self, x, training=False):
        for block in self.blocks:
            x = block(x, training=training)
        return x

    def compute_output_shape(self, input_shape):
        d = 2 ** len(self.widths)
        spatial = tuple(n // d for n in input_shape[1 : 1 + self.rank])
        return (input_shape[0], *spatial, self.widths[-1])

    def get_config(self):
        config = super().get_config()
        config.update(widths=list(self.widths), norm=self.norm)
        return config


@keras.saving.register_keras_serializable(package="keras_vgan")
class ImageEncoder(PyramidEncoder):
    """The DCGAN discriminator body: images ``[N, H, W, C]`` -> features ``[N, H/2**d, W/2**d, widths[-1]]``."""

    rank = 2


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
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive(frame_latent_dim=frame_latent_dim, frames=frames, embed_dim=embed_dim)
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
        self.decoder = ImageDecoder(size, channels, self.widths, norm, name="decoder")
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
