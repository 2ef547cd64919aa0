"""Frame interpolation: key frames ``stride`` apart -> the whole clip between them.

``FrameInterpolator`` starts from the linear blend of neighbouring key frames (the
classic baseline) and a 3D U-Net (``keras_vgan.layers.UNet3D``) over the whole clip,
which also reads each frame's position between its key frames, adds the residual
that turns a cross-fade into motion; the key frames themselves are copied into the
output unchanged. Trained with ``tasks.VideoTaskGAN(condition="none")``: the
discriminator judges the full clip, key frames included (a temporal
discriminator, as in the adversarial interpolation of Wen et al. 2019).

Call signature: ``generator(keys [B, K, H, W, C]) -> [B, (K - 1) * stride + 1, H, W, C]``.
"""

import keras
import numpy as np
from keras import ops

from keras_vgan import registry
from keras_vgan.layers.blocks import bounded
from keras_vgan.layers.checks import D_NORMS, check_frame_size, check_positive
from keras_vgan.layers.patchgan import ClipDiscriminator
from keras_vgan.layers.unet import UNet3D


def _blend_weights(key_frames, stride):
    """``[T, K]`` weights of the linear blend, and ``[T]`` positions in (0, 1) between keys."""
    t = (key_frames - 1) * stride + 1
    w = np.zeros((t, key_frames), np.float32)
    phase = np.zeros((t,), np.float32)
    for i in range(t):
        k, r = divmod(i, stride)
        if k == key_frames - 1:
            w[i, k] = 1.0
            continue
        a = r / stride
        w[i, k], w[i, k + 1] = 1.0 - a, a
        phase[i] = a
    return w, phase


def linear_blend(keys, stride):
    """Cross-fades key frames ``[B, K, H, W, C]`` ``stride`` apart: ``[B, (K-1)s+1, H, W, C]``."""
    keys = ops.convert_to_tensor(keys)
    w, _ = _blend_weights(keys.shape[1], int(stride))
    return mix_frames(w, keys)


def mix_frames(w, clips):
    """``out[:, t] = sum_k w[t, k] clips[:, k]``: ``[T, K]`` x ``[B, K, H, W, C]`` -> ``[B, T, ...]``.

    A transpose and a matmul rather than an einsum: LiteRT's einsum lowering leaves a
    batch dimension of -1 in a tensor's static shape and the file then fails to load.
    """
    x = ops.transpose(clips, (0, 2, 3, 4, 1))  # [B, H, W, C, K]
    x = ops.matmul(x, ops.transpose(ops.cast(w, clips.dtype)))  # [B, H, W, C, T]
    return ops.transpose(x, (0, 4, 1, 2, 3))


@keras.saving.register_keras_serializable(package="keras_vgan")
class FrameInterpolator(keras.Model):
    """Linear blend + 3D U-Net residual; key frames kept exactly.

    Args:
        key_frames: K (2 = the first and last frame only).
        stride: frames from one key frame to the next.
        size, channels: the frame shape (``size`` a multiple of ``2**len(widths)``).
        widths: U-Net widths, finest first.

    Call: ``(keys [B, K, H, W, C]) -> [B, (K - 1) * stride + 1, H, W, C]`` in [-1, 1].
    """

    def __init__(self, key_frames=2, stride=8, size=64, channels=1, widths=(16, 32), **kwargs):
        super().__init__(**kwargs)
        widths = tuple(int(w) for w in widths)
        check_positive(stride=stride, channels=channels)
        if not isinstance(key_frames, int) or key_frames < 2:
            raise ValueError(f"key_frames={key_frames!r} must be an integer >= 2")
        check_frame_size(size, len(widths))
        # === Config ===
        self.key_frames = key_frames
        self.stride = stride
        self.size = size
        self.channels = channels
        self.widths = widths
        self.frames = (key_frames - 1) * stride + 1
        w, phase = _blend_weights(key_frames, stride)
        self._blend_w = w
        self._phase = phase
        self._is_key = (np.arange(self.frames) % stride == 0).astype(np.float32)
        # === Layers ===
        self.unet = UNet3D(widths, out_channels=channels, name="unet")
        self.build(None)

    def build(self, input_shape):
        self.call(keras.KerasTensor((1, self.key_frames, self.size, self.size, self.channels)))
        self.built = True

    def call(self, keys, training=False):
        shape = tuple(keys.shape)
        want = (self.key_frames, self.size, self.size, self.channels)
        if len(shape) != 5 or shape[1:] != want:
            raise ValueError(
                f"key frames have shape {shape}; expected [B, {', '.join(map(str, want))}]"
            )
        x = ops.cast(keys, self.compute_dtype)
        blend = mix_frames(self._blend_w, x)
        # Each frame's position between its key frames, as an extra input channel.
        phase = ops.cast(ops.reshape(self._phase, (1, -1, 1, 1, 1)), x.dtype)
        phase = phase * ops.ones_like(blend[..., :1])
        out = bounded(blend + self.unet(ops.concatenate([blend, phase], axis=-1)))
        is_key = ops.cast(ops.reshape(self._is_key, (1, -1, 1, 1, 1)), x.dtype)
        return is_key * blend + (1.0 - is_key) * out  # key frames pass through unchanged

    @property
    def serving_input_shape(self):
        """``(K, H, W, C)`` of one clip of key frames (for the export endpoints)."""
        return (self.key_frames, self.size, self.size, self.channels)

    def compute_output_spec(self, keys, training=False):
        return keras.KerasTensor((keys.shape[0], self.frames, self.size, self.size, self.channels))

    def get_config(self):
        config = super().get_config()
        config.update(
            key_frames=self.key_frames,
            stride=self.stride,
            size=self.size,
            channels=self.channels,
            widths=list(self.widths),
        )
        return config


# ============================================================ registration
def _check_config(config):
    check_frame_size(config.size, config.depth)
    if config.key_stride < 0 or config.frames < 2:
        raise ValueError(f"key_stride={config.key_stride} must be >= 0 and frames >= 2")
    stride = config.key_stride or config.frames - 1
    if (config.frames - 1) % stride:
        raise ValueError(
            f"key_stride={stride} must divide frames - 1 = {config.frames - 1} "
            "(key frames at 0, key_stride, ..., frames - 1)"
        )


def build_networks(config):
    """An interpolator of the key frames ``key_stride`` apart (first and last when 0) and
    a discriminator of the output clip alone (it holds the key frames)."""
    widths = config.widths(finest_first=True)
    clip = dict(size=config.size, channels=config.channels)
    stride = config.key_stride or config.frames - 1
    generator = FrameInterpolator(
        (config.frames - 1) // stride + 1, stride, widths=widths, name="generator", **clip
    )
    discriminator = ClipDiscriminator(
        frames=config.frames, widths=widths, norm=config.d_norm, name="discriminator", **clip
    )
    return generator, discriminator


registry.register(
    registry.ModelFamily(
        name="interpolate",
        build=build_networks,
        generators=(FrameInterpolator,),
        check=_check_config,
        serving=registry.Serving("frames", "interpolate"),
        d_norms=D_NORMS,
        task="interpolation",
        condition="none",
        baselines=lambda stride=None, scale=1: {"linear_blend": lambda x: linear_blend(x, stride)},
    )
)
