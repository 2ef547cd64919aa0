"""SimVP and TAU: convolutional video predictors with a frames-as-channels translator.

* ``SimVPPredictor``: Gao et al., "SimVP: Simpler yet Better Video Prediction" (CVPR
  2022), with the gated spatiotemporal attention (gSTA) translator of SimVP v2 (Tan
  et al., "SimVP: Towards Simple yet Powerful Spatiotemporal Predictive Learning",
  2022).
* ``TAUPredictor``: Tan et al., "Temporal Attention Unit: Towards Efficient
  Spatiotemporal Predictive Learning" (CVPR 2023): the same encoder and decoder, the
  translator's blocks are temporal attention units (static attention from a
  depthwise and a dilated depthwise convolution, times a squeeze-and-excitation
  dynamic attention). TAU is trained with its differential divergence
  regularisation (``losses.differential_divergence``, the engine's ``dd_weight``).

Both are ``predictor(context [B, K, H, W, C], frames=None) -> [B, frames, H, W, C]``
in [-1, 1]:

1. the spatial encoder (``n_s`` 3x3 ``ConvSC`` layers: conv, GroupNorm(2), SiLU; every
   second one strided, so the frame shrinks by ``2**(n_s // 2)``) runs on every
   context frame with the frames folded into the batch;
2. the translator reads the K frames' features as the channels of one map (``K *
   hid_s``), runs ``n_t`` blocks (the first widens to ``hid_t``, the last narrows to
   ``N * hid_s``) and gives N frames of features;
3. the decoder mirrors the encoder (sub-pixel up-sampling) with a skip from the
   first encoder layer into its last layer (frame t of the context for output t
   when K = N, as in the paper; the last context frame's otherwise) and a 1x1
   read-out, bounded by a straight-through clip (``layers.bounded``).

Past the trained horizon the predictor runs again on the last K frames of context
and predictions (an autoregressive roll-out). Reference implementation (read, not
copied): OpenSTL (chengtan9907/OpenSTL, ``openstl/modules/simvp_modules.py``).
"""

import keras
from keras import ops

from keras_vgan import registry
from keras_vgan.layers.blocks import bounded
from keras_vgan.layers.checks import check_frame_size, check_positive
from keras_vgan.layers.patchgan import ClipDiscriminator
from keras_vgan.layers.predictors import PredictorBase, check_context_frames
from keras_vgan.models.common import prediction_family
from keras_vgan.motion.warp import backward_warp

TRANSLATORS = ("gsta", "tau")
HEADS = ("pixels", "flow")
MOTION_PRIORS = ("none", "spynet")


def _gelu(x):
    return keras.activations.gelu(x, approximate=True)


def _large_kernel(kernel_size, dilation):
    """The depthwise and dilated depthwise kernel sizes that cover ``kernel_size`` (OpenSTL)."""
    d_k = 2 * dilation - 1
    dd_k = kernel_size // dilation + ((kernel_size // dilation) % 2 - 1)
    return d_k, max(dd_k, 1)


@keras.saving.register_keras_serializable(package="keras_vgan")
class ConvSC(keras.layers.Layer):
    """SimVP's encoder / decoder layer: 3x3 conv, GroupNorm(2), SiLU.

    Args:
        filters: output channels (even: GroupNorm has two groups).
        sampling: ``"down"`` (stride 2), ``"up"`` (conv to ``4 * filters`` and
            depth-to-space x2, a sub-pixel up-sampling) or ``"none"``.
    """

    def __init__(self, filters, sampling="none", **kwargs):
        super().__init__(**kwargs)
        if sampling not in ("down", "up", "none"):
            raise ValueError(f"sampling={sampling!r} is not one of down, up, none")
        check_positive(filters=filters)
        self.filters = int(filters)
        self.sampling = sampling
        out = 4 * self.filters if sampling == "up" else self.filters
        self.conv = keras.layers.Conv2D(
            out, 3, strides=2 if sampling == "down" else 1, padding="same", name="conv"
        )
        self.norm = keras.layers.GroupNormalization(groups=2, epsilon=1e-5, name="norm")

    def build(self, input_shape):
        self.conv.build(input_shape)
        out = self.conv.compute_output_shape(input_shape)
        if self.sampling == "up":
            out = (out[0], None, None, self.filters)
        self.norm.build(out)

    def call(self, x):
        x = self.conv(x)
        if self.sampling == "up":
            x = ops.depth_to_space(x, 2)
        return ops.silu(self.norm(x))

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, sampling=self.sampling)
        return config


@keras.saving.register_keras_serializable(package="keras_vgan")
class TranslatorBlock(keras.layers.Layer):
    """One block of the translator on ``[B, h, w, dim]`` (frames as channels).

    ``x + s1 * attention(BN(x))``, then ``x + s2 * mlp(BN(x))`` (layer scales ``s``
    start at 0.01), then a 1x1 reduction to ``out_dim`` when it differs from ``dim``.

    * ``kind="gsta"`` (SimVP v2): gated large-kernel attention: ``proj_2(sigmoid(g) *
      f) + x`` with ``[f, g] = conv1x1(dilated_dw(dw(gelu(proj_1(x)))))``;
    * ``kind="tau"`` (TAU): ``proj_2(SE(x) * conv1x1(dilated_dw(dw(x))) * x) + x`` with
      ``x = gelu(proj_1(.))``: the static attention (depthwise + dilated depthwise)
      times the dynamic one (squeeze-and-excitation over the frames-as-channels),
      times the input.

    The MLP is ``fc2(gelu(dw3x3(fc1(x))))``, ``mlp_ratio * dim`` wide.

    Args:
        dim, out_dim: input and output channels.
        kind: ``"gsta"`` or ``"tau"``.
        kernel_size: the receptive field of the large-kernel attention (21 in the
            papers: a 5x5 depthwise and a 7x7 depthwise with dilation 3).
        mlp_ratio: MLP width / ``dim``.
        reduction: squeeze-and-excitation reduction of TAU (hidden ``max(dim //
            reduction, 4)``).
    """

    def __init__(
        self, dim, out_dim=None, kind="gsta", kernel_size=21, mlp_ratio=4.0, reduction=16,
        **kwargs,
    ):  # fmt: skip
        super().__init__(**kwargs)
        if kind not in TRANSLATORS:
            raise ValueError(f"kind={kind!r} is not one of {', '.join(TRANSLATORS)}")
        check_positive(dim=dim, kernel_size=kernel_size, reduction=reduction)
        if not mlp_ratio > 0:
            raise ValueError(f"mlp_ratio={mlp_ratio!r} must be > 0")
        self.dim = int(dim)
        self.out_dim = self.dim if out_dim is None else int(out_dim)
        self.kind = kind
        self.kernel_size = int(kernel_size)
        self.mlp_ratio = float(mlp_ratio)
        self.reduction = int(reduction)
        d, dilation = self.dim, 3
        d_k, dd_k = _large_kernel(self.kernel_size, dilation)
        dense = dict(kernel_initializer="glorot_uniform")
        self.norm1 = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name="norm1")
        self.proj_1 = keras.layers.Conv2D(d, 1, name="proj_1", **dense)
        self.conv0 = keras.layers.DepthwiseConv2D(d_k, padding="same", name="conv0")
        self.conv_spatial = keras.layers.DepthwiseConv2D(
            dd_k, padding="same", dilation_rate=dilation, name="conv_spatial"
        )
        gates = 2 * d if kind == "gsta" else d
        self.conv1 = keras.layers.Conv2D(gates, 1, name="conv1", **dense)
        if kind == "tau":
            hidden = max(d // self.reduction, 4)
            self.se_1 = keras.layers.Dense(hidden, use_bias=False, name="se_1")
            self.se_2 = keras.layers.Dense(d, use_bias=False, name="se_2")
        self.proj_2 = keras.layers.Conv2D(d, 1, name="proj_2", **dense)
        hidden = max(int(d * self.mlp_ratio), 1)
        self.norm2 = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name="norm2")
        self.fc1 = keras.layers.Conv2D(hidden, 1, name="fc1", **dense)
        self.dwconv = keras.layers.DepthwiseConv2D(3, padding="same", name="dwconv")
        self.fc2 = keras.layers.Conv2D(d, 1, name="fc2", **dense)
        self.reduce = (
            keras.layers.Conv2D(self.out_dim, 1, name="reduction", **dense)
            if self.out_dim != d
            else None
        )

    def build(self, input_shape):
        d, hidden = self.dim, max(int(self.dim * self.mlp_ratio), 1)
        shape = tuple(input_shape[:-1])
        for layer, width in (
            (self.norm1, d), (self.proj_1, d), (self.conv0, d), (self.conv_spatial, d),
            (self.conv1, d), (self.proj_2, d), (self.norm2, d), (self.fc1, d),
            (self.dwconv, hidden), (self.fc2, hidden),
        ):  # fmt: skip
            layer.build(shape + (width,))
        if self.kind == "tau":
            self.se_1.build((None, d))
            self.se_2.build((None, self.se_1.units))
        if self.reduce is not None:
            self.reduce.build(shape + (d,))
        init = keras.initializers.Constant(0.01)
        self.scale_1 = self.add_weight(shape=(d,), initializer=init, name="layer_scale_1")
        self.scale_2 = self.add_weight(shape=(d,), initializer=init, name="layer_scale_2")

    def _attention(self, x):
        shortcut = x
        x = _gelu(self.proj_1(x))
        static = self.conv_spatial(self.conv0(x))
        if self.kind == "gsta":
            f, g = ops.split(self.conv1(static), 2, axis=-1)
            x = ops.sigmoid(g) * f
        else:
            se = ops.mean(x, axis=(1, 2))
            se = ops.sigmoid(self.se_2(ops.relu(self.se_1(se))))
            x = se[:, None, None, :] * self.conv1(static) * x
        return self.proj_2(x) + shortcut

    def call(self, x, training=False):
        x = x + self.scale_1 * self._attention(self.norm1(x, training=training))
        h = self.fc1(self.norm2(x, training=training))
        x = x + self.scale_2 * self.fc2(_gelu(self.dwconv(h)))
        return x if self.reduce is None else self.reduce(x)

    def get_config(self):
        config = super().get_config()
        config.update(
            dim=self.dim,
            out_dim=self.out_dim,
            kind=self.kind,
            kernel_size=self.kernel_size,
            mlp_ratio=self.mlp_ratio,
            reduction=self.reduction,
        )
        return config


@keras.saving.register_keras_serializable(package="keras_vgan")
class SimVPPredictor(PredictorBase):
    """SimVP: spatial encoder, frames-as-channels translator, decoder (module docstring).

    Args:
        context_frames: K (the call's context must have K frames).
        target_frames: N, frames predicted per pass (the default call length).
        size, channels: the frame shape (``size`` a multiple of ``2**(n_s // 2)``).
        hid_s: channels of the spatial encoder and decoder (even).
        hid_t: channels inside the translator.
        n_s: encoder (and decoder) layers; every second one halves the frame size.
        n_t: translator blocks (at least 2: in -> hid_t ... hid_t -> N * hid_s).
        translator: ``"gsta"`` (SimVP v2) or ``"tau"`` (``TAUPredictor``).
        kernel_size, mlp_ratio: of the translator blocks (``TranslatorBlock``).
        head: ``"pixels"`` (the paper's: the read-out gives the frames) or ``"flow"``
            (``SimVPFlowPredictor``: the read-out gives a per-step motion field, a mask
            and pixels; each future frame is the last context frame warped along the
            chained motion, blended by the mask with the pixels).

    Call: ``(context [B, K, H, W, C], frames=None) -> [B, frames, H, W, C]`` in [-1, 1].
    """

    def __init__(
        self,
        context_frames=10,
        target_frames=10,
        size=64,
        channels=1,
        hid_s=16,
        hid_t=128,
        n_s=4,
        n_t=4,
        translator="gsta",
        kernel_size=21,
        mlp_ratio=4.0,
        head="pixels",
        motion_prior="none",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive(hid_s=hid_s, hid_t=hid_t, n_s=n_s)
        if head not in HEADS:
            raise ValueError(f"head={head!r} is not one of {', '.join(HEADS)}")
        if motion_prior not in MOTION_PRIORS:
            raise ValueError(
                f"motion_prior={motion_prior!r} is not one of {', '.join(MOTION_PRIORS)}"
            )
        if motion_prior != "none" and head != "flow":
            raise ValueError(f"motion_prior={motion_prior!r} needs head='flow'")
        if motion_prior != "none" and (int(context_frames) < 2 or int(size) % 4):
            raise ValueError(
                f"motion_prior={motion_prior!r} needs context_frames >= 2 and a size that is "
                f"a multiple of 4 (got {context_frames} and {size})"
            )
        if hid_s % 2:
            raise ValueError(f"hid_s={hid_s} must be even (GroupNorm with 2 groups)")
        if not isinstance(n_t, int) or n_t < 2:
            raise ValueError(f"n_t={n_t!r} must be an integer >= 2")
        if translator not in TRANSLATORS:
            raise ValueError(f"translator={translator!r} is not one of {', '.join(TRANSLATORS)}")
        self._check(context_frames, target_frames, size, channels, levels=n_s // 2)
        # === Config ===
        self.context_frames = int(context_frames)
        self.target_frames = int(target_frames)
        self.size = int(size)
        self.channels = int(channels)
        self.hid_s = int(hid_s)
        self.hid_t = int(hid_t)
        self.n_s = int(n_s)
        self.n_t = int(n_t)
        self.translator = translator
        self.kernel_size = int(kernel_size)
        self.mlp_ratio = float(mlp_ratio)
        self.head = head
        self.motion_prior = motion_prior
        # === Layers ===
        self.flow_net = None
        if motion_prior == "spynet":  # frozen: the shipped weights, saved with the model
            from keras_vgan.motion.spynet import spynet

            self.flow_net = spynet(pretrained=True)
            self.flow_net.trainable = False
        down = ["down" if i % 2 else "none" for i in range(self.n_s)]
        self.encoder = [ConvSC(hid_s, s, name=f"enc_{i}") for i, s in enumerate(down)]
        k, n = self.context_frames, self.target_frames
        dims = [k * hid_s] + [hid_t] * (self.n_t - 1) + [n * hid_s]
        self.blocks = [
            TranslatorBlock(
                dims[i],
                dims[i + 1],
                kind=translator,
                kernel_size=kernel_size,
                mlp_ratio=mlp_ratio,
                name=f"translator_{i}",
            )  # fmt: skip
            for i in range(self.n_t)
        ]
        up = ["up" if s == "down" else "none" for s in reversed(down)]
        self.decoder = [ConvSC(hid_s, s, name=f"dec_{i}") for i, s in enumerate(up)]
        # The read-out starts at the background level (-1) with small weights: most pixels
        # are background, and a noisy or grey start costs SSIM everywhere. The flow head's
        # extra channels (dx, dy, mask logit) start at 0: no motion, an even blend.
        extra = 3 if head == "flow" else 0
        self.readout = keras.layers.Conv2D(
            channels + extra,
            1,
            kernel_initializer=keras.initializers.RandomNormal(stddev=1e-3),
            bias_initializer=keras.initializers.Constant(
                [0.0] * extra + [-1.0] * channels if extra else -1.0
            ),
            name="readout",
        )
        self.build(None)

    def _predict(self, x, training=False):
        """One pass: ``[B, K, H, W, C]`` -> ``[B, N, H, W, C]``."""
        k, n, c = self.context_frames, self.target_frames, self.hid_s
        frames = ops.reshape(x, (-1, self.size, self.size, self.channels))
        h = frames
        for i, layer in enumerate(self.encoder):
            h = layer(h)
            if i == 0:
                skip = h
        s = h.shape[1]
        # [B*K, s, s, c] -> [B, s, s, K*c]: frame t's features are channels t*c ... t*c+c-1.
        z = ops.reshape(ops.transpose(ops.reshape(h, (-1, k, s, s, c)), (0, 2, 3, 1, 4)),
                        (-1, s, s, k * c))  # fmt: skip
        for block in self.blocks:
            z = block(z, training=training)
        z = ops.reshape(ops.transpose(ops.reshape(z, (-1, s, s, n, c)), (0, 3, 1, 2, 4)),
                        (-1, s, s, c))  # fmt: skip
        skip = ops.reshape(skip, (-1, k, self.size, self.size, c))
        skip = skip if k == n else ops.repeat(skip[:, -1:], n, axis=1)
        skip = ops.reshape(skip, (-1, self.size, self.size, c))
        for layer in self.decoder[:-1]:
            z = layer(z)
        y = self.readout(self.decoder[-1](z + skip))
        y = ops.reshape(y, (-1, n, self.size, self.size, y.shape[-1]))
        if self.head == "flow":
            y = self._warp_head(x[:, -2:], y)
        return bounded(y)

    def _warp_head(self, last, y):
        """``y [B, N, H, W, 3 + C]`` = per-step flow, mask logit, pixels -> the N frames
        (``last``: the last two context frames).

        ``f_j`` (channels 0-1, pixels) is the backward motion of step j: where a pixel of
        frame t+j was in frame t+j-1. The chained motion back to the last context frame is
        ``F_1 = f_1``, ``F_j(x) = f_j(x) + F_{j-1}(x + f_j(x))`` (composed, not summed, so a
        digit's flow is read where it was); frame t+j is ``m * warp(last, F_j) + (1 - m) *
        pixels``, ``m = sigmoid(mask)``. One bilinear sample from the real last frame per
        output frame: the strokes stay as sharp as the context's over the whole horizon,
        and each step's motion is a few pixels, where bilinear sampling has a gradient.
        With ``motion_prior="spynet"`` each step adds the last context step's motion,
        carried along with the pixels (constant velocity), and the read-out learns what
        differs from it (bounces, overlaps).
        """
        frames, chained, prior = [], None, self._motion_prior(last)
        for j in range(y.shape[1]):
            step = y[:, j, ..., :2]
            if prior is not None:  # constant velocity: the field moves along itself
                prior = _advect(prior)
                step = step + prior
            chained = step if chained is None else step + backward_warp(chained, step)
            warped = backward_warp(last[:, -1], chained)
            mask = ops.sigmoid(y[:, j, ..., 2:3])
            frames.append(mask * warped + (1.0 - mask) * y[:, j, ..., 3:])
        return ops.stack(frames, axis=1)

    def _motion_prior(self, last):
        """The backward motion of the last context step (frame t -> t-1, on frame t's grid,
        from the frozen flow network), or None."""
        if self.flow_net is None:
            return None
        pair = ops.stack([last[:, -1], last[:, -2]], axis=1)
        return ops.stop_gradient(ops.cast(self.flow_net(pair), last.dtype))

    def call(self, context, frames=None, training=False):
        self._check_context(context)
        self._check_context_length(context)
        frames = self._frames(frames)
        x = ops.cast(context, self.compute_dtype)
        return self._roll_out(x, frames, lambda x: self._predict(x, training=training))

    def get_config(self):
        config = super().get_config()
        config.update(
            self._base_config(),
            hid_s=self.hid_s,
            hid_t=self.hid_t,
            n_s=self.n_s,
            n_t=self.n_t,
            translator=self.translator,
            kernel_size=self.kernel_size,
            mlp_ratio=self.mlp_ratio,
            head=self.head,
            motion_prior=self.motion_prior,
        )
        return config


@keras.saving.register_keras_serializable(package="keras_vgan")
class SimVPFlowPredictor(SimVPPredictor):
    """SimVP with a motion read-out (``head="flow"``): frames warped from the last one.

    The encoder and translator are SimVP's; the 1x1 read-out gives, per future frame, a
    backward motion step ``(dx, dy)``, a mask logit and pixels. The motion steps are
    chained back to the last context frame, which is warped along them (bilinear,
    ``motion.warp.backward_warp``) and blended by the mask with the pixels, which draw
    what the warp cannot (a digit uncovered, a bounce's overlap). This is the
    transformation-based prediction of Finn et al. (CDNA, NeurIPS 2016) and Liu et al.
    (Deep Voxel Flow, ICCV 2017) on SimVP's backbone: moved pixels keep their shape, where
    a pixel read-out under L1 / L2 blurs what it is unsure of. Same arguments as
    ``SimVPPredictor``; ``head`` is ``"flow"``. ``motion_prior="none"`` (the default)
    starts every step's motion from rest; ``"spynet"`` starts it at the last context
    step's, measured by the package's frozen flow network (``motion.spynet``, the shipped
    weights) and carried along with the pixels: constant velocity, which the read-out
    corrects. At 900 CPU-s on 64x64 Moving MNIST (README, Prediction) the prior scored
    MSE 160.5 against 152.7 from rest (it costs ~10% of the steps, and the read-out
    learns to fade the warp either way), so it is an option, not the default.
    """

    def __init__(self, *args, head="flow", motion_prior="none", **kwargs):
        if head != "flow":
            raise ValueError(f"head={head!r}: a SimVPFlowPredictor's head is 'flow'")
        super().__init__(*args, head="flow", motion_prior=motion_prior, **kwargs)


@keras.saving.register_keras_serializable(package="keras_vgan")
class TAUPredictor(SimVPPredictor):
    """TAU (Tan et al., CVPR 2023): ``SimVPPredictor`` with temporal attention units.

    Same arguments as ``SimVPPredictor``; ``translator`` is ``"tau"``.
    """

    def __init__(self, *args, translator="tau", **kwargs):
        if translator != "tau":
            raise ValueError(f"translator={translator!r}: a TAUPredictor's translator is 'tau'")
        super().__init__(*args, translator="tau", **kwargs)


__all__ = ["ConvSC", "SimVPFlowPredictor", "SimVPPredictor", "TAUPredictor", "TranslatorBlock"]


def _advect(flow):
    """A backward motion field one step on: ``flow`` read where each pixel came from
    (two fixed-point passes of ``g = flow(x + g)``), so a digit keeps its velocity."""
    g = backward_warp(flow, flow)
    return backward_warp(flow, g)


# ============================================================ registration
def _check_config(config):
    """``depth`` encoder layers (every second one halves the size), ``width`` even."""
    if config.depth < 2:
        raise ValueError(f"depth={config.depth} must be >= 2 (the encoder's layers, n_s)")
    if config.width % 2:
        raise ValueError(f"width={config.width} must be even (hid_s; GroupNorm with 2 groups)")
    check_frame_size(config.size, config.depth // 2)
    check_context_frames(config)


def _networks(config, predictor):
    """The predictor (``hid_s = width``, ``n_s = n_t = depth``, ``hid_t = 8 width``; OpenSTL's
    Moving MNIST model is 64 / 4 / 8 / 512) and a clip discriminator."""
    clip = dict(size=config.size, channels=config.channels)
    k, n = config.context_frames, config.frames - config.context_frames
    w, d = config.width, config.depth
    generator = predictor(k, n, hid_s=w, hid_t=8 * w, n_s=d, n_t=d, name="generator", **clip)
    widths = tuple(int(w) * 2**i for i in range(max(d // 2, 1)))
    discriminator = ClipDiscriminator(
        frames=config.frames, widths=widths, norm=config.d_norm, name="discriminator", **clip
    )
    return generator, discriminator


_PREDICTION = prediction_family(_check_config)
registry.register(
    registry.ModelFamily(
        name="predict_simvp",
        build=lambda c: _networks(c, SimVPPredictor),
        generators=(SimVPPredictor,),
        **_PREDICTION,
    )
)
registry.register(
    registry.ModelFamily(
        name="predict_simvp_flow",
        build=lambda c: _networks(c, SimVPFlowPredictor),
        generators=(SimVPFlowPredictor,),
        **_PREDICTION,
    )
)
registry.register(
    registry.ModelFamily(
        name="predict_tau",
        build=lambda c: _networks(c, TAUPredictor),
        generators=(TAUPredictor,),
        **_PREDICTION,
    )
)
