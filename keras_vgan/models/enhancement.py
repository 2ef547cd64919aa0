"""Video restoration: x2 / x4 super-resolution and denoising.

``VideoEnhancer`` follows the residual pattern of VSR networks (e.g. Kim et al.,
VDSR, CVPR 2016, in 3D): the degraded clip is bilinearly up-sampled to the output
size and a 3D U-Net over the whole clip (3D convolutions see neighbouring frames,
so detail lost in one frame can come from the next; ``keras_vgan.layers.UNet3D``)
adds the residual. Trained with ``tasks.VideoTaskGAN(condition="none")`` next to a
``ClipDiscriminator``.

Call signature: ``generator(degraded [B, T, H/scale, W/scale, C]) -> [B, T, H, W, C]``.
"""

import keras
from keras import ops

from keras_vgan import registry
from keras_vgan.data.pairs import degrade_scale
from keras_vgan.layers.blocks import bounded
from keras_vgan.layers.checks import D_NORMS, check_frame_size, check_positive
from keras_vgan.layers.patchgan import ClipDiscriminator
from keras_vgan.layers.unet import UNet3D


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

    @property
    def serving_input_shape(self):
        """``(T, H / scale, W / scale, C)`` of one degraded clip (for the export endpoints)."""
        s = self.size // self.scale
        return (self.frames, s, s, self.channels)

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


# ============================================================ registration
def _check_config(config):
    check_frame_size(config.size, config.depth)
    if config.size % degrade_scale(config.degrade):
        raise ValueError(f"size={config.size} must be a multiple of the {config.degrade} scale")


def build_networks(config):
    """An enhancer by the scale of ``degrade`` (1 for denoising) and a discriminator of
    the output clip alone."""
    widths = config.widths(finest_first=True)
    clip = dict(size=config.size, channels=config.channels)
    generator = VideoEnhancer(
        frames=config.frames,
        scale=degrade_scale(config.degrade),
        widths=widths,
        name="generator",
        **clip,
    )
    discriminator = ClipDiscriminator(
        frames=config.frames, widths=widths, norm=config.d_norm, name="discriminator", **clip
    )
    return generator, discriminator


def _bilinear(x, scale):
    """Every frame of ``x`` ``[B, T, h, w, C]`` up-sampled bilinearly by ``scale``."""
    x = ops.convert_to_tensor(x)
    _, t, h, w, c = x.shape
    frames = ops.image.resize(ops.reshape(x, (-1, h, w, c)), (h * scale, w * scale))
    return ops.reshape(frames, (-1, t, h * scale, w * scale, c))


def baselines(stride=None, scale=1):
    """``bilinear`` up-sampling by ``scale``; for denoising (``scale=1``) ``identity``,
    the noisy input itself."""
    if scale == 1:
        return {"identity": ops.convert_to_tensor}
    return {"bilinear": lambda x: _bilinear(x, scale)}


registry.register(
    registry.ModelFamily(
        name="enhance",
        build=build_networks,
        generators=(VideoEnhancer,),
        check=_check_config,
        serving=registry.Serving("frames", "enhance"),
        d_norms=D_NORMS,
        task="restoration",
        condition="none",
        baselines=baselines,
    )
)
