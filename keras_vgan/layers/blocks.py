"""Up- and down-sampling blocks shared by the 2D and 3D networks.

A block is convolution -> optional normalisation -> activation. One class
serves both ranks: ``rank=3`` works on videos ``[B, T, H, W, C]``, ``rank=2``
on images ``[B, H, W, C]``.
"""

import keras

NORMS = ("batch", "layer", "none")
ACTIVATIONS = ("relu", "leaky_relu", "none")


def make_norm(norm, rank=3, name=None):
    """Returns a normalisation layer by name, or None for ``"none"``.

    ``"batch"`` is synchronised across replicas so that a step under
    MirroredStrategy with global batch B equals a one-device step with batch B
    (per-replica statistics would differ). ``"layer"`` normalises each sample
    over all of its non-batch axes (the choice for WGAN-GP critics, where batch
    statistics break the per-sample gradient penalty).
    """
    if norm == "batch":
        return keras.layers.BatchNormalization(synchronized=True, momentum=0.9, name=name)
    if norm == "layer":
        return keras.layers.LayerNormalization(axis=tuple(range(-(rank + 1), 0)), name=name)
    if norm == "none":
        return None
    raise ValueError(f"norm={norm!r} is not one of {NORMS}")


def _activation(name):
    if name == "relu":
        return keras.layers.ReLU()
    if name == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=0.2)
    if name == "none":
        return None
    raise ValueError(f"activation={name!r} is not one of {ACTIVATIONS}")


class _ConvBlock(keras.layers.Layer):
    """Shared body of UpBlock and DownBlock."""

    transpose = False

    def __init__(
        self,
        filters,
        rank=3,
        kernel_size=4,
        strides=2,
        norm="batch",
        activation="relu",
        use_bias=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if rank not in (2, 3):
            raise ValueError(f"rank={rank!r} is not 2 or 3")
        # === Config ===
        self.filters = int(filters)
        self.rank = rank
        self.kernel_size = kernel_size
        self.strides = strides
        self.norm = norm
        self.activation = activation
        # A bias right before a normalisation layer is cancelled by its centring.
        self.use_bias = (norm == "none") if use_bias is None else bool(use_bias)
        # === Layers ===
        conv_cls = {
            (2, False): keras.layers.Conv2D,
            (3, False): keras.layers.Conv3D,
            (2, True): keras.layers.Conv2DTranspose,
            (3, True): keras.layers.Conv3DTranspose,
        }[(rank, self.transpose)]
        self.conv = conv_cls(
            self.filters,
            kernel_size,
            strides=strides,
            padding="same",
            use_bias=self.use_bias,
            kernel_initializer=keras.initializers.RandomNormal(stddev=0.02),
            name="conv",
        )
        self.norm_layer = make_norm(norm, rank=rank, name="norm")
        self.act = _activation(activation)

    def build(self, input_shape):
        self.conv.build(input_shape)
        out_shape = self.conv.compute_output_shape(input_shape)
        if self.norm_layer is not None:
            self.norm_layer.build(out_shape)

    def call(self, x, training=False):
        x = self.conv(x)
        if self.norm_layer is not None:
            x = self.norm_layer(x, training=training)
        if self.act is not None:
            x = self.act(x)
        return x

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            rank=self.rank,
            kernel_size=self.kernel_size,
            strides=self.strides,
            norm=self.norm,
            activation=self.activation,
            use_bias=self.use_bias,
        )
        return config


@keras.saving.register_keras_serializable(package="keras_vgan")
class UpBlock(_ConvBlock):
    """Transposed convolution (x2 by default) -> norm -> activation."""

    transpose = True


@keras.saving.register_keras_serializable(package="keras_vgan")
class DownBlock(_ConvBlock):
    """Strided convolution (/2 by default) -> norm -> activation."""

    transpose = False

    def __init__(self, filters, activation="leaky_relu", **kwargs):
        super().__init__(filters, activation=activation, **kwargs)
