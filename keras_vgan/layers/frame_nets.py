"""Per-frame 2D networks on clips: a U-Net body and a PatchGAN that judges every frame.

Image-to-image models applied to video (CycleGAN / Recycle-GAN's generators and
predictors, vid2vid's frame discriminator) fold time into the batch and run a 2D
network on each frame. ``FrameUNet`` is the body (the 2D encoder / decoder levels of
``blocks.conv_levels`` with U-Net skips, as the translation generator's), and
``FramePatchGAN`` the discriminator (``blocks.down_block`` levels and a ``"same"``
``logit_head``: one logit per patch of every frame, Isola et al. 2017's PatchGAN).
"""

import keras
from keras import ops

from keras_vgan.layers.blocks import (
    conv_levels,
    dcgan_init,
    down_block,
    encode_levels,
    leaky,
    logit_head,
)
from keras_vgan.layers.checks import (
    D_NORMS,
    check_frame_size,
    check_norm,
    check_positive,
    check_widths,
)


@keras.saving.register_keras_serializable(package="keras_vgan")
class FrameUNet(keras.layers.Layer):
    """2D U-Net on images: ``[N, H, W, C_in] -> [N, H, W, out_channels]`` (linear output).

    Encoder: a 4x4 stride-2 convolution per width (leaky ReLU, no norm); decoder: the
    transposed convolutions back up, each joined to the encoder map of its size; at
    full resolution the input joins again (fine detail) before a 3x3 head.

    Args:
        widths: encoder widths, finest first; each level halves the frame size (the
            input's height and width must be multiples of ``2**len(widths)``).
        out_channels: channels of the output.
    """

    def __init__(self, widths=(16, 32), out_channels=1, **kwargs):
        super().__init__(**kwargs)
        self.widths = check_widths(widths)
        check_positive(out_channels=out_channels)
        self.out_channels = int(out_channels)
        self.encoder = conv_levels(self.widths, "enc")
        # Decoder level i (coarsest first) doubles the size; the last reaches full size.
        dec_widths = list(reversed(self.widths[:-1])) + [self.widths[0]]
        self.decoder = conv_levels(dec_widths, "dec", transpose=True)
        self.head = keras.layers.Conv2D(
            self.out_channels, 3, padding="same", kernel_initializer=dcgan_init(), name="head"
        )

    def build(self, input_shape):
        self.call(keras.KerasTensor(tuple(input_shape)))

    def call(self, x):
        feats = encode_levels(self.encoder, x)
        y = feats[-1]
        skips = list(reversed(feats[:-1]))
        for i, deconv in enumerate(self.decoder):
            y = leaky(deconv(y))
            if i < len(skips):
                y = ops.concatenate([y, skips[i]], axis=-1)
        return self.head(ops.concatenate([y, ops.cast(x, y.dtype)], axis=-1))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.out_channels,)

    def get_config(self):
        config = super().get_config()
        config.update(widths=list(self.widths), out_channels=self.out_channels)
        return config


@keras.saving.register_keras_serializable(package="keras_vgan")
class FramePatchGAN(keras.Model):
    """2D PatchGAN on every frame of a clip: ``[B, T, H, W, C] -> [B, T * P]`` logits.

    Time is folded into the batch, so each frame is judged alone (the image
    discriminator of CycleGAN / Recycle-GAN); ``P`` is the patches of one frame,
    ``(size / 2**len(widths))**2``.

    Args:
        size: frame height and width (a multiple of ``2**len(widths)``).
        channels: channels of the frames.
        widths: widths, finest first.
        norm: ``"spectral"`` (the default), ``"batch"``, ``"layer"`` or ``"none"``;
            the first level is never activation-normalised.
    """

    def __init__(self, size=32, channels=1, widths=(32, 64), norm="spectral", **kwargs):
        super().__init__(**kwargs)
        widths = check_widths(widths)
        check_positive(channels=channels)
        check_frame_size(size, len(widths))
        # === Config ===
        self.size = size
        self.channels = channels
        self.widths = widths
        self.norm = check_norm(norm, D_NORMS)
        # === Layers ===
        self.blocks = [
            down_block(w, 2, norm, first=i == 0, name=f"down_{i}") for i, w in enumerate(widths)
        ]
        self.head = logit_head(3, rank=2, spectral=norm == "spectral", padding="same")
        self.build(None)

    def build(self, input_shape):
        self.call(keras.KerasTensor((1, 1, self.size, self.size, self.channels)))
        self.built = True

    def call(self, video, training=False):
        shape = tuple(video.shape)
        want = (self.size, self.size, self.channels)
        if len(shape) != 5 or shape[2:] != want:
            raise ValueError(
                f"clips have shape {shape}; expected [B, T, {', '.join(map(str, want))}]"
            )
        x = ops.cast(video, self.compute_dtype)
        b = ops.shape(x)[0]
        x = ops.reshape(x, (-1,) + want)  # every frame judged alone
        for block in self.blocks:
            x = block(x, training=training)
        x = self.head(x, training=training)
        return ops.reshape(x, (b, -1))

    def get_config(self):
        config = super().get_config()
        config.update(
            size=self.size, channels=self.channels, widths=list(self.widths), norm=self.norm
        )
        return config
