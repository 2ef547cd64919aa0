"""Video-to-video translation (vid2vid style): a paired source clip -> the target clip.

Wang et al., "Video-to-Video Synthesis" (NeurIPS 2018) generate frame ``t`` from
the source frame and the frames already generated, and judge the result with an
image discriminator (per frame, conditioned on the source) and a video
discriminator (on several consecutive frames). This module follows that pattern
at a small scale:

* ``TranslationGenerator``: a recurrent per-frame 2D U-Net. A source encoder
  reads every source frame at once (time folded into the batch); step ``t``
  encodes the previous *output* frame ``y_{t-1}`` with a second encoder (zeros
  before the first frame), adds its features to those of ``x_t`` level by level
  (as vid2vid's sequential generator sums its two encoders), and decodes with
  U-Net skips, the source and previous frames joining again at full resolution::

      y_t = clip(D(E_x(x_t) + E_y(y_{t-1}), x_t, y_{t-1}), -1, 1),   y_{-1} = 0

  Frame ``t`` therefore depends on source frames ``0..t`` only (causal), and on
  earlier ones only through the frames it already produced.
* ``TranslationDiscriminator``: a 2D PatchGAN (Isola et al., CVPR 2017) on each
  frame of the *view* (source and output joined along channels, the
  ``condition="channels"`` view of ``tasks.VideoTaskGAN``) and a 3D
  ``ClipDiscriminator`` on the whole view; it returns ``{"frame": ..., "video":
  ...}`` logits, whose losses the engine sums.

Trained with ``tasks.VideoTaskGAN(condition="channels")`` with an L1 term and the
temporal-consistency term ``temporal_weight`` (frame differences must match the
target's).

Call signature: ``generator(source [B, T, H, W, C_in]) -> [B, T, H, W, C_out]``.
"""

import keras
from keras import ops

from keras_vgan import registry
from keras_vgan.layers.blocks import (
    bounded,
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
from keras_vgan.layers.patchgan import ClipDiscriminator


@keras.saving.register_keras_serializable(package="keras_vgan")
class TranslationGenerator(keras.Model):
    """Recurrent per-frame U-Net: frame ``t`` from source frame ``t`` and output frame ``t-1``.

    Args:
        frames: clip length it is built for (any length works at call).
        size: frame height and width (a multiple of ``2**len(widths)``).
        in_channels: channels of the source frames.
        channels: channels of the output frames.
        widths: encoder widths, finest first; each level halves the frame size.

    Call: ``(source [B, T, size, size, in_channels]) -> [B, T, size, size, channels]``
    in [-1, 1].
    """

    def __init__(self, frames=8, size=64, in_channels=1, channels=1, widths=(16, 32, 64),
                 **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        widths = tuple(int(w) for w in widths)
        check_positive(frames=frames, in_channels=in_channels, channels=channels)
        check_frame_size(size, len(check_widths(widths)))
        # === Config ===
        self.frames = frames
        self.size = size
        self.in_channels = in_channels
        self.channels = channels
        self.widths = widths
        # === Layers ===
        self.source_encoder = conv_levels(widths, "src")
        self.previous_encoder = conv_levels(widths, "prev")
        # Decoder level i (coarsest first) doubles the size; the last reaches full size.
        dec_widths = list(reversed(widths[:-1])) + [widths[0]]
        self.decoder = conv_levels(dec_widths, "dec", transpose=True)
        self.head = keras.layers.Conv2D(
            channels, 3, padding="same", kernel_initializer=dcgan_init(), name="head"
        )
        self.build(None)

    @property
    def serving_input_shape(self):
        """``(T, H, W, C_in)`` of one source clip (for the export endpoints)."""
        return (self.frames, self.size, self.size, self.in_channels)

    def build(self, input_shape):
        self.call(keras.KerasTensor((1,) + self.serving_input_shape))
        self.built = True

    def _step(self, source_feats, source, previous):
        """One output frame ``[B, H, W, C]`` from the source frame's features and ``y_{t-1}``."""
        prev_feats = encode_levels(self.previous_encoder, previous)
        feats = [s + p for s, p in zip(source_feats, prev_feats, strict=True)]
        x = feats[-1]
        skips = list(reversed(feats[:-1]))
        for i, deconv in enumerate(self.decoder):
            x = leaky(deconv(x))
            if i < len(skips):
                x = ops.concatenate([x, skips[i]], axis=-1)
        x = ops.concatenate([x, source, previous], axis=-1)  # full-resolution detail
        return bounded(self.head(x))

    def call(self, source, training=False):
        shape = tuple(source.shape)
        want = (self.size, self.size, self.in_channels)
        if len(shape) != 5 or shape[2:] != want or shape[1] is None:
            raise ValueError(
                f"source clips have shape {shape}; expected [B, T, {', '.join(map(str, want))}] "
                "with a known T"
            )
        x = ops.cast(source, self.compute_dtype)
        b, t = ops.shape(x)[0], shape[1]
        # Source features of every frame in one pass: time folded into the batch.
        folded = encode_levels(self.source_encoder, ops.reshape(x, (-1,) + want))
        folded = [ops.reshape(f, (b, t) + tuple(f.shape[1:])) for f in folded]
        previous = ops.zeros((b, self.size, self.size, self.channels), self.compute_dtype)
        outputs = []
        for i in range(t):
            previous = self._step([f[:, i] for f in folded], x[:, i], previous)
            outputs.append(previous)
        return ops.stack(outputs, axis=1)  # [B, T, H, W, C_out]

    def compute_output_spec(self, source, training=False):
        return keras.KerasTensor(
            (source.shape[0], source.shape[1], self.size, self.size, self.channels)
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            frames=self.frames,
            size=self.size,
            in_channels=self.in_channels,
            channels=self.channels,
            widths=list(self.widths),
        )
        return config


@keras.saving.register_keras_serializable(package="keras_vgan")
class TranslationDiscriminator(keras.Model):
    """Frame (2D, per frame) and video (3D) PatchGANs on the source + output view.

    The input is the ``condition="channels"`` view of ``tasks.VideoTaskGAN``:
    ``[B, T, H, W, in_channels + channels]``, the source frame next to the frame
    judged, so both heads judge the output *given* its source.

    Args:
        frames, size: the clip shape it judges (``size`` a multiple of ``2**len(widths)``).
        in_channels, channels: source and output channels.
        widths: widths of both heads, finest first.
        norm: ``"spectral"`` (the default), ``"batch"``, ``"layer"`` or ``"none"``.

    Call: ``(view) -> {"frame": [B, T * P_2d], "video": [B, P_3d]}`` logits.
    """

    def __init__(self, frames=8, size=64, in_channels=1, channels=1, widths=(32, 64, 128),
                 norm="spectral", **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        widths = tuple(int(w) for w in widths)
        check_positive(frames=frames, in_channels=in_channels, channels=channels)
        check_frame_size(size, len(widths))
        # === Config ===
        self.frames = frames
        self.size = size
        self.in_channels = in_channels
        self.channels = channels
        self.widths = widths
        self.norm = check_norm(norm, D_NORMS)
        view = in_channels + channels
        # === Layers ===
        self.frame_blocks = [
            down_block(w, 2, norm, first=i == 0, name=f"frame_{i}") for i, w in enumerate(widths)
        ]
        self.frame_head = logit_head(3, rank=2, spectral=norm == "spectral", padding="same")
        self.video = ClipDiscriminator(frames, size, view, widths, norm=norm, name="video")
        self.build(None)

    def build(self, input_shape):
        view = self.in_channels + self.channels
        self.call(keras.KerasTensor((1, self.frames, self.size, self.size, view)))
        self.built = True

    def call(self, view, training=False):
        shape = tuple(view.shape)
        want = (self.size, self.size, self.in_channels + self.channels)
        if len(shape) != 5 or shape[2:] != want:
            raise ValueError(
                f"views have shape {shape}; expected [B, T, {', '.join(map(str, want))}] "
                "(source and clip joined along channels)"
            )
        x = ops.cast(view, self.compute_dtype)
        b = ops.shape(x)[0]
        f = ops.reshape(x, (-1,) + want)  # every frame judged alone: time folded into batch
        for block in self.frame_blocks:
            f = block(f, training=training)
        f = self.frame_head(f, training=training)
        return {"frame": ops.reshape(f, (b, -1)), "video": self.video(x, training=training)}

    def get_config(self):
        config = super().get_config()
        config.update(
            frames=self.frames,
            size=self.size,
            in_channels=self.in_channels,
            channels=self.channels,
            widths=list(self.widths),
            norm=self.norm,
        )
        return config


__all__ = ["TranslationDiscriminator", "TranslationGenerator"]


# ============================================================ registration
def build_networks(config):
    """A translator of source clips with the clip's channels (paired folders and built-in
    pairs give those) and frame + video discriminators of (source, output) pairs."""
    widths = config.widths(finest_first=True)
    pair = dict(size=config.size, in_channels=config.channels, channels=config.channels)
    generator = TranslationGenerator(config.frames, widths=widths, name="generator", **pair)
    discriminator = TranslationDiscriminator(
        config.frames, widths=widths, norm=config.d_norm, name="discriminator", **pair
    )
    return generator, discriminator


registry.register(
    registry.ModelFamily(
        name="translate",
        build=build_networks,
        generators=(TranslationGenerator,),
        check=lambda c: check_frame_size(c.size, c.depth),
        serving=registry.Serving("frames", "translate"),
        d_norms=D_NORMS,
        task="translation",
        condition="channels",  # D judges (source, output) pairs
        # The source clip itself, as if it were the target.
        baselines=lambda stride=None, scale=1: {"identity": ops.convert_to_tensor},
    )
)
