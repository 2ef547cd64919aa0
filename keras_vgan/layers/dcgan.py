"""The DCGAN bodies (Radford et al. 2016) the model families share.

``ImageDecoder`` (latent -> image) renders the frames of the frame GAN, TGAN and
MoCoGAN; ``ImageEncoder`` (image -> features) is the frame GAN's and MoCoGAN's
image discriminator body, ``VideoEncoder`` (clip -> features) TGAN's and
MoCoGAN's video discriminator body. Discriminator norms are those of
``make_norm`` plus ``"spectral"`` (spectral normalisation of every weight,
Miyato et al. 2018, with ``keras.layers.SpectralNormalization``, and no
activation normalisation).
"""

import keras
from keras import ops

from keras_vgan.layers.blocks import (
    RESIZE_CONV,
    RESIZE_KERNEL,
    NearestUpsample,
    UpBlock,
    dcgan_init,
    down_block,
    make_norm,
)
from keras_vgan.layers.checks import (
    D_NORMS,
    check_norm,
    check_positive,
    check_size,
    check_upsample,
)


@keras.saving.register_keras_serializable(package="keras_vgan")
class ImageDecoder(keras.layers.Layer):
    """The DCGAN generator body: latents ``[N, d]`` -> images ``[N, size, size, channels]`` in [-1, 1].

    Dense projection to ``size/2**depth`` squared x ``widths[0]``, then
    ``depth - 1`` UpBlocks and a final stride-2 transposed convolution with tanh
    (``depth = len(widths)``). ``upsample="resize"`` doubles the resolution by
    nearest-neighbour upsampling and a 3x3 convolution instead, in every level
    (``layers.checks.UPSAMPLING``).
    """

    def __init__(
        self,
        size=64,
        channels=3,
        widths=(512, 256, 128, 64),
        norm="batch",
        upsample="transpose",
        **kwargs,
    ):
        super().__init__(**kwargs)
        widths = tuple(int(w) for w in widths)
        check_size(size, len(widths))
        check_positive(channels=channels)
        # === Config ===
        self.size = size
        self.channels = channels
        self.widths = widths
        self.norm = check_norm(norm)
        self.upsample = check_upsample(upsample)
        self.s0 = size // 2 ** len(widths)
        # === Layers ===
        self.project = keras.layers.Dense(
            self.s0 * self.s0 * widths[0],
            use_bias=False,
            kernel_initializer=dcgan_init(),
            name="project",
        )
        self.project_norm = make_norm(norm, rank=2, name="project_norm")
        self.blocks = [UpBlock(w, rank=2, norm=norm, upsample=upsample) for w in widths[1:]]
        self.resize = NearestUpsample(2, name="resize") if upsample == "resize" else None
        # The last x2 level: a transposed convolution, or resize and a 3x3 convolution.
        conv_cls, kernel, stride = (
            (keras.layers.Conv2DTranspose, 4, 2)
            if self.resize is None
            else (RESIZE_CONV[2], RESIZE_KERNEL, 1)
        )
        self.to_image = conv_cls(
            channels,
            kernel,
            strides=stride,
            padding="same",
            kernel_initializer=dcgan_init(),
            name="to_image",
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
        if self.resize is not None:
            x = self.resize(x)
        return ops.tanh(self.to_image(x))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.size, self.size, self.channels)

    def get_config(self):
        config = super().get_config()
        config.update(
            size=self.size,
            channels=self.channels,
            widths=list(self.widths),
            norm=self.norm,
            upsample=self.upsample,
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
class VideoEncoder(PyramidEncoder):
    """3D-convolutional discriminator body: clips -> features ``[B, T/2**d, H/2**d, W/2**d, widths[-1]]``."""

    rank = 3
