"""Class-conditional VGAN: a label embedding for the generator, a projection discriminator.

The generator is ``VGANGenerator`` reading ``concat(z, E[y])`` with ``E`` a
learned class embedding (Mirza & Osindero 2014). The discriminator is
``VGANDiscriminator`` plus the class term of Miyato & Koyama 2018,
``<V[y], sum_positions phi(x)>`` on its last block's features (see
``keras_vgan.layers.conditioning``). Train them with
``VideoGAN(..., conditional=True)`` on ``(videos, labels)`` batches.
"""

import keras
from keras import ops

from keras_vgan.layers.conditioning import (
    ProjectionHead,
    check_num_classes,
    label_embedding,
    labels_vector,
)
from keras_vgan.models.frame_gan import check_positive
from keras_vgan.models.vgan import VGANDiscriminator, VGANGenerator


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
