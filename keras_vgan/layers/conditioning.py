"""Class conditioning: label embeddings for generators, a projection head for discriminators.

Generators take the class as a learned embedding concatenated to their noise
(the conditional GAN of Mirza & Osindero 2014; MoCoGAN's categorical code).
Discriminators use the projection of Miyato & Koyama 2018, "cGANs with
Projection Discriminator": with ``phi(x)`` the discriminator's last features
summed over every position (global sum pooling), the logit is

    ``D(x, y) = psi(phi(x)) + <V[y], phi(x)>``

where ``psi`` is the unconditional head and ``V`` a learned class embedding
(``ProjectionHead`` computes the second term).
"""

import keras
from keras import ops

from keras_vgan.layers.blocks import dcgan_init


def check_num_classes(num_classes):
    """``num_classes`` as an int >= 0 (0 = unconditional); one-line ValueError otherwise."""
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 0:
        raise ValueError(f"num_classes={num_classes!r} must be an integer >= 0 (0 = unconditional)")
    return num_classes


def labels_vector(labels, name="labels"):
    """Int32 labels ``[B]`` from ``[B]`` or ``[B, 1]``; ValueError if None."""
    if labels is None:
        raise ValueError(
            f"this model is class-conditional (num_classes > 0): pass {name}= "
            "(int class ids [B]); for VideoGAN, build it with conditional=True"
        )
    return ops.reshape(ops.cast(labels, "int32"), (-1,))


def label_embedding(num_classes, dim, name="label_embedding"):
    """A learned class code for generators, N(0, 1)-initialised like the noise it joins."""
    return keras.layers.Embedding(
        num_classes,
        dim,
        embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0),
        name=name,
    )


@keras.saving.register_keras_serializable(package="keras_vgan")
class ProjectionHead(keras.layers.Layer):
    """The class term ``<V[y], sum_positions phi(x)>`` of a projection discriminator.

    Args:
        num_classes: number of classes (rows of ``V``).
        channels: width ``C`` of the features ``phi(x)``.
        spectral_norm: spectrally normalise ``V`` (Miyato & Koyama 2018 normalise
            every weight of their discriminators, the embedding included).

    Call: ``features`` ``[B, ..., C]`` (any rank >= 2) and int ``labels`` ``[B]``
    -> ``[B, 1]``.
    """

    def __init__(self, num_classes, channels, spectral_norm=False, **kwargs):
        super().__init__(**kwargs)
        # === Config ===
        self.num_classes = int(num_classes)
        self.channels = int(channels)
        self.spectral_norm = bool(spectral_norm)
        # === Layers ===
        # V as a bias-free dense layer on one-hot labels (V[y] = onehot(y) V): Keras'
        # SpectralNormalization passes no gradient to a wrapped Embedding (Keras 3.15).
        projection = keras.layers.Dense(
            self.channels,
            use_bias=False,
            kernel_initializer=dcgan_init(),
            name="projection",
        )
        if self.spectral_norm:
            projection = keras.layers.SpectralNormalization(projection, name="sn_projection")
        self.projection = projection

    def build(self, features_shape, labels_shape=None):
        self.projection.build((None, self.num_classes))

    def call(self, features, labels, training=False):
        # Global sum pooling: [B, ..., C] -> [B, C].
        pooled = ops.sum(ops.reshape(features, (ops.shape(features)[0], -1, self.channels)), axis=1)
        onehot = ops.one_hot(labels_vector(labels), self.num_classes, dtype=pooled.dtype)
        if self.spectral_norm:
            v = self.projection(onehot, training=training)
        else:
            v = self.projection(onehot)
        return ops.sum(ops.cast(v, pooled.dtype) * pooled, axis=-1, keepdims=True)

    def compute_output_shape(self, features_shape, labels_shape=None):
        return (features_shape[0], 1)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_classes=self.num_classes, channels=self.channels, spectral_norm=self.spectral_norm
        )
        return config
