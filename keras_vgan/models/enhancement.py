"""Video restoration: x2 / x4 super-resolution and denoising, and the 3D U-Net they share.

``VideoEnhancer`` follows the residual pattern of VSR networks (e.g. Kim et al.,
VDSR, CVPR 2016, in 3D): the degraded clip is bilinearly up-sampled to the output
size and a 3D U-Net over the whole clip (3D convolutions see neighbouring frames,
so detail lost in one frame can come from the next) adds the residual. Trained
with ``tasks.VideoTaskGAN(condition="none")`` next to a ``ClipDiscriminator``.

Call signature: ``generator(degraded [B, T, H/scale, W/scale, C]) -> [B, T, H, W, C]``.
"""

import keras
from keras import ops

from keras_vgan.models.frame_gan import check_positive
from keras_vgan.models.prediction import bounded, check_frame_size, leaky


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


@keras.saving.register_keras_serializable(package="keras_vgan")
class VideoEnhancer(keras.Model):
    """Super-resolution (``scale`` 2 or 4) or denoising (``scale`` 1) of whole clips.

    Args:
        frames: clip length it is built for (any length works at call).
        size: output frame height and width (a multiple of ``scale`` and of
            ``2**len(widths)``).
        channels: frame channels.
        scale: 1 (denoising), 2 or 4.
        widths: U-Net widths, finest first.

    Call: ``(degraded [B, T, size/scale, size/scale, C]) -> [B, T, size, size, C]`` in [-1, 1].
    """

    def __init__(self, frames=16, size=64, channels=1, scale=2, widths=(16, 32), **kwargs):
        super().__init__(**kwargs)
        widths = tuple(int(w) for w in widths)
        check_positive(frames=frames, channels=channels)
        if scale not in (1, 2, 4):
            raise ValueError(f"scale={scale!r} is not one of 1 (denoising), 2, 4")
        check_frame_size(size, len(widths))
        if size % scale:
            raise ValueError(f"size={size} must be a multiple of scale={scale}")
        # === Config ===
        self.frames = frames
        self.size = size
        self.channels = channels
        self.scale = scale
        self.widths = widths
        # === Layers ===
        self.unet = UNet3D(widths, out_channels=channels, name="unet")
        self.build(None)

    def build(self, input_shape):
        s = self.size // self.scale
        self.call(keras.KerasTensor((1, self.frames, s, s, self.channels)))
        self.built = True

    def upsample(self, x):
        """Bilinear up-sampling of every frame by ``scale``: the residual's base."""
        if self.scale == 1:
            return x
        t = x.shape[1]
        frames = ops.reshape(x, (-1,) + tuple(x.shape[2:]))
        up = ops.image.resize(frames, (self.size, self.size), interpolation="bilinear")
        return ops.reshape(up, (-1, t, self.size, self.size, self.channels))

    def call(self, degraded, training=False):
        want = self.size // self.scale
        shape = tuple(degraded.shape)
        if len(shape) != 5 or shape[2:] != (want, want, self.channels):
            raise ValueError(
                f"degraded clips have shape {shape}; expected [B, T, {want}, {want}, "
                f"{self.channels}] (size {self.size} / scale {self.scale})"
            )
        base = self.upsample(ops.cast(degraded, self.compute_dtype))
        return bounded(base + self.unet(base))

    def compute_output_spec(self, degraded, training=False):
        return keras.KerasTensor(
            (degraded.shape[0], degraded.shape[1], self.size, self.size, self.channels)
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            frames=self.frames,
            size=self.size,
            channels=self.channels,
            scale=self.scale,
            widths=list(self.widths),
        )
        return config
