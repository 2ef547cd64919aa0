"""Video prediction: K context frames -> the next N frames, and the clip discriminator.

Two generators, both ``generator(context, frames=None) -> [B, frames, H, W, C]``
(``frames`` defaults to the trained horizon ``target_frames``; more frames roll the
model out autoregressively on its own predictions):

* ``ConvLSTMPredictor``: the recurrent predictor of Shi et al., "Convolutional LSTM
  Network: A Machine Learning Approach for Precipitation Nowcasting" (NeurIPS 2015)
  in an encoder - ConvLSTM - decoder form: each frame is encoded by strided 2D
  convolutions, a stack of ConvLSTM cells runs over time, and a 2D decoder (with
  skips from the current frame's encoder features) renders the next frame. It
  reads the context, then feeds its own predictions back in.
* ``Conv3DPredictor``: a 3D-convolutional encoder-decoder: 3D convolutions
  (stride 1 in time, 2 in space) encode the context, a translator folds time into
  channels (as in SimVP, Gao et al. CVPR 2022) and maps K frames of features to N,
  and 3D transposed convolutions decode them, with skips from the last context
  frame's features. Beyond N frames it predicts again from the last K frames.

Both are trained against ``keras_vgan.layers.ClipDiscriminator``, the 3D PatchGAN
the task models share, over the context followed by the future.

``copy_last_frame`` is the baseline every predictor must beat.
"""

import keras
from keras import ops

from keras_vgan import registry
from keras_vgan.layers.blocks import bounded, conv_levels, dcgan_init, encode_levels, leaky
from keras_vgan.layers.checks import check_frame_size, check_positive
from keras_vgan.layers.patchgan import ClipDiscriminator
from keras_vgan.layers.predictors import (
    PredictorBase,
    check_context_frames,
    copy_last_frame,
)
from keras_vgan.models.common import prediction_family


@keras.saving.register_keras_serializable(package="keras_vgan")
class ConvLSTMCell(keras.layers.Layer):
    """One ConvLSTM step (Shi et al. 2015, without peepholes).

    ``[i, f, o, g] = conv([x_t, h_{t-1}])``; ``c_t = sigmoid(f) c_{t-1} +
    sigmoid(i) tanh(g)``; ``h_t = sigmoid(o) tanh(c_t)``. The forget gate's bias
    starts at 1 (Jozefowicz et al. 2015).

    Call: ``cell(x, (h, c)) -> (h, c)`` on ``[B, H, W, *]`` maps.
    """

    def __init__(self, filters, kernel_size=3, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        f = self.filters
        bias = [0.0] * f + [1.0] * f + [0.0] * (2 * f)
        self.conv = keras.layers.Conv2D(
            4 * f,
            self.kernel_size,
            padding="same",
            kernel_initializer="glorot_uniform",
            bias_initializer=keras.initializers.Constant(bias),
            name="gates",
        )

    def build(self, input_shape):
        shape = tuple(input_shape[:-1]) + (input_shape[-1] + self.filters,)
        self.conv.build(shape)

    def call(self, x, state):
        h, c = state
        gates = self.conv(ops.concatenate([x, h], axis=-1))
        i, f, o, g = ops.split(gates, 4, axis=-1)
        c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
        h = ops.sigmoid(o) * ops.tanh(c)
        return h, c

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size)
        return config


def _start_at_background(layer):
    """The output layer's bias starts at the background level (-1) rather than grey (0):
    most target pixels are background, and a grey start costs SSIM everywhere."""
    layer.bias_initializer = keras.initializers.Constant(-1.0)


class _Predictor(PredictorBase):
    """The predictors of this file: ``PredictorBase`` with encoder ``widths``."""

    def _base_config(self):
        return dict(super()._base_config(), widths=list(self.widths))


@keras.saving.register_keras_serializable(package="keras_vgan")
class ConvLSTMPredictor(_Predictor):
    """Encoder - ConvLSTM - decoder video predictor (Shi et al. 2015).

    Args:
        context_frames: K, the context length it is built for (any K works at call).
        target_frames: N, the default number of predicted frames.
        size: frame height and width (a multiple of ``2**len(widths)``).
        channels: frame channels.
        widths: encoder widths, finest first; each level halves the frame size.
        hidden: filters of each stacked ConvLSTM cell.
        kernel_size: the cells' kernel size.

    Call: ``(context [B, K, H, W, C], frames=None) -> [B, frames, H, W, C]`` in [-1, 1].
    """

    def __init__(
        self,
        context_frames=10,
        target_frames=10,
        size=64,
        channels=1,
        widths=(16, 32),
        hidden=(64,),
        kernel_size=3,
        **kwargs,
    ):
        super().__init__(**kwargs)
        widths = tuple(int(w) for w in widths)
        hidden = tuple(int(h) for h in hidden)
        self._check(context_frames, target_frames, size, channels, widths)
        if not hidden:
            raise ValueError("hidden must name at least one ConvLSTM layer, e.g. (64,)")
        # === Config ===
        self.context_frames = context_frames
        self.target_frames = target_frames
        self.size = size
        self.channels = channels
        self.widths = widths
        self.hidden = hidden
        self.kernel_size = int(kernel_size)
        # === Layers ===
        self.encoder = conv_levels(widths, "enc")
        self.cells = [
            ConvLSTMCell(h, self.kernel_size, name=f"convlstm_{i}") for i, h in enumerate(hidden)
        ]
        # Decoder level i (coarsest first) upsamples to encoder level len-2-i's size.
        out_widths = list(reversed(widths[:-1])) + [channels]
        self.decoder = conv_levels(out_widths, "dec", transpose=True)
        _start_at_background(self.decoder[-1])
        self.build(None)

    def _encode(self, frame):
        """``[N, H, W, C]`` -> features of every level, finest first."""
        return encode_levels(self.encoder, frame)

    def _decode(self, h, feats):
        """Top ConvLSTM state + the input frame's features -> the next frame."""
        x = ops.concatenate([h, feats[-1]], axis=-1)
        skips = list(reversed(feats[:-1]))
        for i, deconv in enumerate(self.decoder):
            x = deconv(x)
            if i < len(skips):
                x = ops.concatenate([leaky(x), skips[i]], axis=-1)
        return bounded(x)

    def call(self, context, frames=None, training=False):
        self._check_context(context)
        frames = self._frames(frames)
        x = ops.cast(context, self.compute_dtype)
        k = x.shape[1]
        b = ops.shape(x)[0]
        s = self.size // 2 ** len(self.widths)
        # The context is encoded in one batch (time folded into batch).
        ctx_feats = self._encode(ops.reshape(x, (-1, self.size, self.size, self.channels)))
        ctx_feats = [ops.reshape(f, (b, k) + tuple(f.shape[1:])) for f in ctx_feats]
        states = [(ops.zeros((b, s, s, h), self.compute_dtype),) * 2 for h in self.hidden]
        outputs = []
        for t in range(k + frames - 1):
            feats = [f[:, t] for f in ctx_feats] if t < k else self._encode(outputs[-1])
            inp = feats[-1]
            new_states = []
            for cell, state in zip(self.cells, states, strict=True):
                hc = cell(inp, state)
                new_states.append(hc)
                inp = hc[0]
            states = new_states
            if t >= k - 1:  # step t predicts frame t + 1
                outputs.append(self._decode(inp, feats))
        return ops.stack(outputs, axis=1)

    def get_config(self):
        config = super().get_config()
        config.update(self._base_config(), hidden=list(self.hidden), kernel_size=self.kernel_size)
        return config


@keras.saving.register_keras_serializable(package="keras_vgan")
class Conv3DPredictor(_Predictor):
    """3D-convolutional encoder-decoder video predictor.

    Args:
        context_frames: K (the call's context must have K frames).
        target_frames: N, frames predicted per pass (the default call length).
        size, channels: the frame shape (``size`` a multiple of ``2**len(widths)``).
        widths: encoder widths, finest first; each level halves the frame size.
        translator_width: features per frame inside the time-folding translator.
        translator_layers: 3x3 convolutions in the translator.

    Call: ``(context [B, K, H, W, C], frames=None) -> [B, frames, H, W, C]`` in [-1, 1].
    """

    def __init__(
        self,
        context_frames=10,
        target_frames=10,
        size=64,
        channels=1,
        widths=(16, 32, 64),
        translator_width=32,
        translator_layers=3,
        **kwargs,
    ):
        super().__init__(**kwargs)
        widths = tuple(int(w) for w in widths)
        self._check(context_frames, target_frames, size, channels, widths)
        check_positive(translator_width=translator_width, translator_layers=translator_layers)
        # === Config ===
        self.context_frames = context_frames
        self.target_frames = target_frames
        self.size = size
        self.channels = channels
        self.widths = widths
        self.translator_width = translator_width
        self.translator_layers = translator_layers
        # === Layers ===
        self.encoder = [
            keras.layers.Conv3D(
                w,
                (3, 4, 4),
                strides=(1, 2, 2),
                padding="same",
                kernel_initializer=dcgan_init(),
                name=f"enc_{i}",
            )
            for i, w in enumerate(widths)
        ]
        n, tw = target_frames, translator_width
        self.translator = [
            keras.layers.Conv2D(
                (n if i == translator_layers - 1 else context_frames) * tw,
                3,
                padding="same",
                kernel_initializer="glorot_uniform",
                name=f"translator_{i}",
            )
            for i in range(translator_layers)
        ]
        self.translator_in = keras.layers.Conv3D(
            tw, 1, kernel_initializer="glorot_uniform", name="translator_in"
        )
        self.translator_out = keras.layers.Conv3D(
            widths[-1], 1, kernel_initializer="glorot_uniform", name="translator_out"
        )
        out_widths = list(reversed(widths[:-1])) + [channels]
        self.decoder = [
            keras.layers.Conv3DTranspose(
                w,
                (3, 4, 4),
                strides=(1, 2, 2),
                padding="same",
                kernel_initializer=dcgan_init(),
                name=f"dec_{i}",
            )
            for i, w in enumerate(out_widths)
        ]
        _start_at_background(self.decoder[-1])
        self.build(None)

    def _predict(self, x):
        """One pass: ``[B, K, H, W, C]`` -> ``[B, N, H, W, C]``."""
        feats = encode_levels(self.encoder, x)
        x = feats[-1]
        k, n = self.context_frames, self.target_frames
        _, _, s, _, _ = x.shape
        # Fold time into channels: [B, K, s, s, c] -> [B, s, s, K*tw] -> [B, s, s, N*tw].
        y = leaky(self.translator_in(x))
        y = ops.reshape(ops.transpose(y, (0, 2, 3, 1, 4)), (-1, s, s, k * self.translator_width))
        for i, conv in enumerate(self.translator):
            y = conv(y)
            if i < len(self.translator) - 1:
                y = leaky(y)
        y = ops.reshape(y, (-1, s, s, n, self.translator_width))
        y = leaky(self.translator_out(ops.transpose(y, (0, 3, 1, 2, 4))))
        # Skips: the last context frame's features at every level, repeated over N frames.
        y = y + ops.repeat(feats[-1][:, -1:], n, axis=1)
        skips = list(reversed(feats[:-1]))
        for i, deconv in enumerate(self.decoder):
            y = deconv(y)
            if i < len(skips):
                y = ops.concatenate([leaky(y), ops.repeat(skips[i][:, -1:], n, axis=1)], axis=-1)
        return bounded(y)

    def call(self, context, frames=None, training=False):
        self._check_context(context)
        self._check_context_length(context)
        frames = self._frames(frames)
        # Past the trained horizon: predict again from the last K frames.
        return self._roll_out(ops.cast(context, self.compute_dtype), frames, self._predict)

    def get_config(self):
        config = super().get_config()
        config.update(
            self._base_config(),
            translator_width=self.translator_width,
            translator_layers=self.translator_layers,
        )
        return config


__all__ = [
    "ConvLSTMCell",
    "ConvLSTMPredictor",
    "Conv3DPredictor",
    "copy_last_frame",
]


# ============================================================ registration
def _check_config(config):
    check_frame_size(config.size, config.depth)
    check_context_frames(config)


def _networks(config, predictor, **options):
    """A predictor of ``context_frames`` -> the rest of the clip, and a discriminator of
    context + prediction: the whole clip."""
    widths = config.widths(finest_first=True)
    clip = dict(size=config.size, channels=config.channels)
    k, n = config.context_frames, config.frames - config.context_frames
    generator = predictor(k, n, widths=widths, name="generator", **clip, **options)
    discriminator = ClipDiscriminator(
        frames=config.frames, widths=widths, norm=config.d_norm, name="discriminator", **clip
    )
    return generator, discriminator


_PREDICTION = prediction_family(_check_config)
registry.register(
    registry.ModelFamily(
        name="predict_convlstm",
        build=lambda c: _networks(c, ConvLSTMPredictor, hidden=(c.widths()[0],)),  # coarsest
        generators=(ConvLSTMPredictor,),
        **_PREDICTION,
    )
)
registry.register(
    registry.ModelFamily(
        name="predict_conv3d",
        build=lambda c: _networks(c, Conv3DPredictor, translator_width=c.width),
        generators=(Conv3DPredictor,),
        **_PREDICTION,
    )
)
