"""The 3D PatchGAN that judges a whole clip: the discriminator of the task models.

The prediction, interpolation and restoration tasks train their generators
against a ``ClipDiscriminator`` over the output clip (for prediction the context
followed by the future); the translation discriminator uses one as its video head.
"""

import keras
from keras import ops

from keras_vgan.layers.blocks import down_block, logit_head
from keras_vgan.layers.checks import D_NORMS, check_frame_size, check_norm, check_positive


@keras.saving.register_keras_serializable(package="keras_vgan")
class ClipDiscriminator(keras.Model):
    """3D-convolutional PatchGAN over a whole clip: ``[B, T, H, W, C] -> [B, P]`` logits.

    Each level is a 4x4x4 convolution with stride 2 in space and, while at least
    4 frames are left, in time; a 3x3x3 convolution then gives one logit per
    space-time patch (Isola et al. 2017's PatchGAN, in 3D). The first level is
    never activation-normalised.

    Args:
        frames, size, channels: the clip shape it judges (``size`` a multiple of
            ``2**len(widths)``).
        widths: widths, finest first.
        norm: ``"spectral"`` (Miyato et al. 2018; the default), ``"batch"``,
            ``"layer"`` or ``"none"``.
    """

    def __init__(
        self, frames=20, size=64, channels=1, widths=(32, 64, 128), norm="spectral", **kwargs
    ):
        super().__init__(**kwargs)
        widths = tuple(int(w) for w in widths)
        check_positive(frames=frames, channels=channels)
        check_frame_size(size, len(widths))
        # === Config ===
        self.frames = frames
        self.size = size
        self.channels = channels
        self.widths = widths
        self.norm = check_norm(norm, D_NORMS)
        # === Layers ===
        self.blocks, t = [], frames
        for i, w in enumerate(widths):
            stride = (2 if t >= 4 else 1, 2, 2)
            t = -(-t // stride[0])
            block = down_block(w, 3, norm, first=i == 0, strides=stride, name=f"down_{i}")
            self.blocks.append(block)
        self.head = logit_head(3, rank=3, spectral=norm == "spectral", padding="same")
        self.build((None, frames, size, size, channels))

    def build(self, input_shape):
        self.call(keras.KerasTensor((1, self.frames, self.size, self.size, self.channels)))
        self.built = True

    def call(self, video, training=False):
        x = ops.cast(video, self.compute_dtype)
        for block in self.blocks:
            x = block(x, training=training)
        x = self.head(x, training=training)
        return ops.reshape(x, (ops.shape(x)[0], -1))

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
