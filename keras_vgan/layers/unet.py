"""The 3D U-Net of the restoration and interpolation generators.

It halves space (never time) at each level, so every output frame sees its
neighbours through the 3D convolutions; ``VideoEnhancer`` and
``FrameInterpolator`` add its output as a residual to an up-sampled or blended clip.
"""

import keras
from keras import ops

from keras_vgan.layers.blocks import leaky


@keras.saving.register_keras_serializable(package="keras_vgan")
class UNet3D(keras.layers.Layer):
    """3D U-Net halving space (never time) at each level: ``[B, T, H, W, Cin] -> [B, T, H, W, out]``.

    Encoder: a (3, 4, 4) convolution with stride (1, 2, 2) per width; decoder:
    the transposed convolutions back, each joined to the encoder map of its size;
    a final 3x3x3 convolution gives ``out_channels`` (linear).
    """

    def __init__(self, widths=(16, 32), out_channels=1, **kwargs):
        super().__init__(**kwargs)
        self.widths = tuple(int(w) for w in widths)
        self.out_channels = int(out_channels)
        # One initialiser shared by every level (unlike blocks.dcgan_init, a fresh one per
        # layer): an unseeded instance repeats its draw, and trained runs started so.
        init = keras.initializers.RandomNormal(stddev=0.02)
        self.down = [
            keras.layers.Conv3D(w, (3, 4, 4), strides=(1, 2, 2), padding="same",
                                kernel_initializer=init, name=f"down_{i}")
            for i, w in enumerate(self.widths)
        ]  # fmt: skip
        self.up = [
            keras.layers.Conv3DTranspose(w, (3, 4, 4), strides=(1, 2, 2), padding="same",
                                         kernel_initializer=init, name=f"up_{i}")
            for i, w in enumerate(reversed(self.widths))
        ]  # fmt: skip
        self.head = keras.layers.Conv3D(self.out_channels, 3, padding="same", name="head")

    def build(self, input_shape):
        self.call(keras.KerasTensor(tuple(input_shape)))

    def call(self, x):
        skips = [x]
        for conv in self.down:
            x = leaky(conv(x))
            skips.append(x)
        skips.pop()
        for deconv in self.up:
            x = ops.concatenate([leaky(deconv(x)), skips.pop()], axis=-1)
        return self.head(x)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.out_channels,)

    def get_config(self):
        config = super().get_config()
        config.update(widths=list(self.widths), out_channels=self.out_channels)
        return config
