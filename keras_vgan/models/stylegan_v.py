"""StyleGAN-V: a continuous-time video generator, Skorokhodov, Tulyakov & Elhoseiny (2022).

"StyleGAN-V: A Continuous Video Generator with the Price, Image Quality and Perks of
StyleGAN2", CVPR 2022. A clip is a StyleGAN2 image generator driven by a per-frame
style: a *content* code per clip and a *motion* embedding of the frame's time ``t``
(any real number >= 0, so a clip can be sampled at any timestamps):

* content: ``z_c`` (and the class embedding) -> mapping network (equalised dense
  layers, learning-rate multiplier 0.01) -> ``w_content``;
* motion: codes ``z_m`` placed at time anchors ``0, d, 2d, ...`` (``d`` the
  ``motion_z_distance``), a small 1D convolutional network without padding over
  them (so a code depends only on its neighbours: no drift for large ``t``), and
  the paper's *acyclic positional embedding*: sinusoids of ``t`` whose
  frequencies and phases are predicted from the left anchor's code, minus the
  same embedding interpolated between the two anchors around ``t``, plus learned
  "aligners" interpolated between them. The embedding is smooth in ``t`` and not
  periodic;
* per-frame style ``w(t) = MLP([w_content, motion(t)])``; frames fold into the batch
  and the 2D synthesis network (constant 4x4 input, modulated and demodulated
  3x3 convolutions, per-pixel noise maps with learned strengths, skip toRGB
  outputs summed across resolutions) renders each frame.

The discriminator judges ``K`` sparse frames of a clip (the paper: ``K = 3``): a
StyleGAN2 residual image encoder with a minibatch standard deviation layer gives
per-frame features, the ``K`` feature vectors are concatenated with a sinusoidal
embedding of the ``K - 1`` time differences between the frames, and an MLP head
scores the clip; class-conditional models add the projection term of Miyato &
Koyama (2018).

Noise layout: ``z = [z_c | z_m^(0) ... z_m^(A-1)]``: ``latent_dim = content_dim +
anchors * motion_dim`` where ``anchors`` covers timestamps up to ``max_time``.
Later timestamps draw the codes of the anchors beyond from ``motion_seed`` (one
draw for the batch: clip ``b`` gets row ``b``), as MoCoGAN's long clips do.

Departures from the paper, for small CPU runs: bilinear up/down-sampling in place
of the [1, 3, 3, 1] FIR filters; one style per frame for every layer (no style
mixing, no path-length penalty); the noise maps are StyleGAN2's ``const`` noise
(fixed per layer, the same in every frame: random per-frame noise makes videos
flicker, and StyleGAN-V turns it off); the per-frame style is mapped from
``[w_content, motion(t)]`` instead of the motion entering the constant input.
"""

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_vgan import registry
from keras_vgan.layers.blocks import minibatch_stddev
from keras_vgan.layers.checks import check_positive
from keras_vgan.layers.conditioning import (
    ProjectionHead,
    check_num_classes,
    label_embedding,
    labels_vector,
)

SQRT2 = math.sqrt(2.0)


def lrelu(x):
    """StyleGAN2's activation: leaky ReLU (0.2) with gain sqrt(2), keeping the variance."""
    return tf.nn.leaky_relu(x, 0.2) * SQRT2


def _power_of_two_levels(size, name="size"):
    """``log2(size / 4)``: the x2 levels between a 4x4 map and ``size``; one-line error."""
    if not isinstance(size, int) or isinstance(size, bool) or size < 4 or size & (size - 1):
        raise ValueError(f"{name}={size!r} must be a power of two >= 4 (4, 8, 16, 32, 64, ...)")
    return int(round(math.log2(size))) - 2


def style_widths(size, width, max_width):
    """Channels per resolution ``4, 8, ..., size``: ``width`` at ``size``, doubling
    towards 4x4, capped at ``max_width`` (StyleGAN2's channel schedule)."""
    levels = _power_of_two_levels(size)
    return tuple(min(int(width) * 2 ** (levels - i), int(max_width)) for i in range(levels + 1))


# ================================================================ equalised layers
@keras.saving.register_keras_serializable(package="keras_vgan")
class EqualizedDense(keras.layers.Layer):
    """A dense layer with StyleGAN's equalised learning rate.

    Weights are stored as ``N(0, 1) / lr_multiplier`` and scaled at run time by
    ``lr_multiplier / sqrt(fan_in)`` (Karras et al. 2018), so Adam's step size is
    the same for every layer; ``lr_multiplier`` < 1 slows a layer down (the
    mapping network's 0.01).

    Args:
        units: output features.
        lr_multiplier: learning-rate multiplier of the weights and the bias.
        bias_init: initial value of the bias (1 for style affines: styles start at 1).
        use_bias: add a bias.
        activation: None or ``"lrelu"`` (leaky ReLU with gain sqrt(2)).
    """

    def __init__(
        self, units, lr_multiplier=1.0, bias_init=0.0, use_bias=True, activation=None, **kwargs
    ):
        super().__init__(**kwargs)
        check_positive(units=units)
        if activation not in (None, "lrelu"):
            raise ValueError(f"activation={activation!r} is not one of None, 'lrelu'")
        # === Config ===
        self.units = units
        self.lr_multiplier = float(lr_multiplier)
        self.bias_init = float(bias_init)
        self.use_bias = bool(use_bias)
        self.activation = activation

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self.kernel = self.add_weight(
            shape=(fan_in, self.units),
            initializer=keras.initializers.RandomNormal(stddev=1.0 / self.lr_multiplier),
            name="kernel",
        )
        self.bias = (
            self.add_weight(
                shape=(self.units,),
                initializer=keras.initializers.Constant(self.bias_init / self.lr_multiplier),
                name="bias",
            )
            if self.use_bias
            else None
        )
        self.weight_gain = self.lr_multiplier / math.sqrt(fan_in)

    def call(self, x):
        y = ops.matmul(x, ops.cast(self.kernel, x.dtype) * self.weight_gain)
        if self.use_bias:
            y = y + ops.cast(self.bias, x.dtype) * self.lr_multiplier
        return lrelu(y) if self.activation == "lrelu" else y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            lr_multiplier=self.lr_multiplier,
            bias_init=self.bias_init,
            use_bias=self.use_bias,
            activation=self.activation,
        )
        return config


@keras.saving.register_keras_serializable(package="keras_vgan")
class EqualizedConv(keras.layers.Layer):
    """A 1D or 2D convolution (stride 1) with an equalised learning rate.

    Args:
        filters: output channels.
        kernel_size: window size.
        rank: 1 (sequences ``[B, L, C]``) or 2 (images ``[B, H, W, C]``).
        padding: ``"same"`` or ``"valid"``.
        lr_multiplier: learning-rate multiplier of the weights and the bias.
        use_bias: add a bias.
        activation: None or ``"lrelu"``.
    """

    def __init__(
        self,
        filters,
        kernel_size=3,
        rank=2,
        padding="same",
        lr_multiplier=1.0,
        use_bias=True,
        activation=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive(filters=filters, kernel_size=kernel_size)
        if rank not in (1, 2):
            raise ValueError(f"rank={rank!r} must be 1 or 2")
        if padding not in ("same", "valid"):
            raise ValueError(f"padding={padding!r} is not one of 'same', 'valid'")
        if activation not in (None, "lrelu"):
            raise ValueError(f"activation={activation!r} is not one of None, 'lrelu'")
        # === Config ===
        self.filters = filters
        self.kernel_size = kernel_size
        self.rank = rank
        self.padding = padding
        self.lr_multiplier = float(lr_multiplier)
        self.use_bias = bool(use_bias)
        self.activation = activation

    def build(self, input_shape):
        fan_in = int(input_shape[-1]) * self.kernel_size**self.rank
        shape = (self.kernel_size,) * self.rank + (int(input_shape[-1]), self.filters)
        self.kernel = self.add_weight(
            shape=shape,
            initializer=keras.initializers.RandomNormal(stddev=1.0 / self.lr_multiplier),
            name="kernel",
        )
        self.bias = (
            self.add_weight(shape=(self.filters,), initializer="zeros", name="bias")
            if self.use_bias
            else None
        )
        self.weight_gain = self.lr_multiplier / math.sqrt(fan_in)

    def call(self, x):
        kernel = ops.cast(self.kernel, x.dtype) * self.weight_gain
        y = ops.conv(x, kernel, padding=self.padding)
        if self.use_bias:
            y = y + ops.cast(self.bias, x.dtype) * self.lr_multiplier
        return lrelu(y) if self.activation == "lrelu" else y

    def compute_output_shape(self, input_shape):
        spatial = list(input_shape[1:-1])
        if self.padding == "valid":
            spatial = [None if s is None else s - self.kernel_size + 1 for s in spatial]
        return (input_shape[0], *spatial, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            rank=self.rank,
            padding=self.padding,
            lr_multiplier=self.lr_multiplier,
            use_bias=self.use_bias,
            activation=self.activation,
        )
        return config


# ================================================================= synthesis
def modulated_conv2d(x, kernel, styles, demodulate=True, eps=1e-8):
    """StyleGAN2's modulated convolution, in its "scale, convolve, rescale" form.

    The paper convolves sample ``b`` with its own kernel ``W'_b[k, i, o] = W[k, i, o]
    s_b[i]`` (demodulated: divided by ``sqrt(sum_{k, i} W'_b[k, i, o]^2 + eps)``), a
    grouped convolution. Because ``s_b`` scales input channels and the
    demodulation output channels, the same result comes from one ordinary
    convolution of ``x * s_b`` with ``W``, its output scaled by the demodulation
    coefficients ``d_b[o] = (sum_i s_b[i]^2 sum_k W[k, i, o]^2 + eps)^(-1/2)``:
    every runtime (LiteRT, ONNX) has that convolution.

    Args:
        x: ``[B, H, W, C_in]``.
        kernel: ``[k, k, C_in, C_out]`` (already scaled).
        styles: ``[B, C_in]`` per-sample input-channel scales.
        demodulate: divide by the output's expected standard deviation.
        eps: keeps the demodulation finite.

    Returns:
        ``[B, H, W, C_out]`` ("same" padding).
    """
    styles = ops.cast(styles, x.dtype)
    kernel = ops.cast(kernel, x.dtype)
    y = ops.conv(x * styles[:, None, None, :], kernel, padding="same")
    if demodulate:
        energy = ops.sum(ops.square(kernel), axis=(0, 1))  # [C_in, C_out]
        d = ops.rsqrt(ops.matmul(ops.square(styles), energy) + eps)  # [B, C_out]
        y = y * d[:, None, None, :]
    return y


@keras.saving.register_keras_serializable(package="keras_vgan")
class ModulatedConv2D(keras.layers.Layer):
    """A modulated 2D convolution with its style affine (``modulated_conv2d``).

    Args:
        filters: output channels.
        kernel_size: window (3 for synthesis layers, 1 for toRGB).
        demodulate: demodulate (synthesis layers) or not (toRGB).
        activation: ``"lrelu"`` adds the per-pixel noise map (learned strength,
            initially 0), the bias and the activation: a StyleGAN2 synthesis layer;
            None adds the bias only (toRGB).
        resolution: side of the (square) maps it runs on; the noise map's size.

    Call: ``x`` ``[B, H, W, C_in]`` and ``w`` ``[B, w_dim]`` -> ``[B, H, W, filters]``.
    """

    def __init__(
        self, filters, kernel_size=3, demodulate=True, activation="lrelu", resolution=4, **kwargs
    ):
        super().__init__(**kwargs)
        check_positive(filters=filters, kernel_size=kernel_size, resolution=resolution)
        if activation not in (None, "lrelu"):
            raise ValueError(f"activation={activation!r} is not one of None, 'lrelu'")
        # === Config ===
        self.filters = filters
        self.kernel_size = kernel_size
        self.demodulate = bool(demodulate)
        self.activation = activation
        self.resolution = resolution
        self.affine = None

    def build(self, x_shape, w_shape=None):
        c_in = int(x_shape[-1])
        self.affine = EqualizedDense(c_in, bias_init=1.0, name="affine")
        self.affine.build((None, int(w_shape[-1]) if w_shape is not None else None))
        k = self.kernel_size
        self.kernel = self.add_weight(
            shape=(k, k, c_in, self.filters),
            initializer=keras.initializers.RandomNormal(stddev=1.0),
            name="kernel",
        )
        self.weight_gain = 1.0 / math.sqrt(c_in * k * k)
        self.bias = self.add_weight(shape=(self.filters,), initializer="zeros", name="bias")
        if self.activation == "lrelu":
            r = self.resolution
            # StyleGAN2's "const" noise: a fixed per-pixel map (saved with the model).
            self.noise_map = self.add_weight(
                shape=(r, r, 1),
                initializer=keras.initializers.RandomNormal(stddev=1.0),
                trainable=False,
                name="noise_map",
            )
            self.noise_strength = self.add_weight(
                shape=(), initializer="zeros", name="noise_strength"
            )

    def call(self, x, w):
        styles = self.affine(w)
        if not self.demodulate:  # toRGB: StyleGAN2 scales the style instead of the weights
            styles = styles * self.weight_gain
            kernel = self.kernel
        else:
            kernel = self.kernel * self.weight_gain
        y = modulated_conv2d(x, kernel, styles, demodulate=self.demodulate)
        if self.activation == "lrelu":
            y = y + ops.cast(self.noise_map * self.noise_strength, y.dtype)
        y = y + ops.cast(self.bias, y.dtype)
        return lrelu(y) if self.activation == "lrelu" else y

    def compute_output_shape(self, x_shape, w_shape=None):
        return tuple(x_shape[:-1]) + (self.filters,)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            demodulate=self.demodulate,
            activation=self.activation,
            resolution=self.resolution,
        )
        return config


def upsample2x(x):
    """Bilinear x2 up-sampling of ``[B, H, W, C]`` (a builtin op of every runtime)."""
    h, w = x.shape[1], x.shape[2]
    return tf.image.resize(x, (2 * h, 2 * w), method="bilinear")


@keras.saving.register_keras_serializable(package="keras_vgan")
class SynthesisNetwork(keras.layers.Layer):
    """StyleGAN2's synthesis network with skip toRGB outputs.

    A learned constant 4x4 map, one modulated 3x3 layer at 4x4 and two per doubling
    of the resolution (after a bilinear x2 up-sampling); each resolution's toRGB
    (a modulated 1x1 convolution without demodulation) is added to the up-sampled
    image of the resolutions below (the "skip" architecture).

    Args:
        size: output side (a power of two >= 4).
        channels: output channels.
        widths: channels per resolution ``4, 8, ..., size`` (``style_widths``).

    Call: styles ``w`` ``[N, w_dim]`` -> images ``[N, size, size, channels]``
    (unbounded; the generator squashes them into [-1, 1]). ``w`` ``[N, num_styles,
    w_dim]`` gives every modulated layer its own style (StyleGAN's W+, in the order
    the layers run: each resolution's convolutions, then its toRGB), which the
    inversion of real clips optimises (``keras_vgan.editing``).
    """

    def __init__(self, size=64, channels=3, widths=(64, 64, 64, 32, 16), **kwargs):
        super().__init__(**kwargs)
        levels = _power_of_two_levels(size)
        widths = tuple(int(c) for c in widths)
        if len(widths) != levels + 1:
            raise ValueError(
                f"widths={widths} must give {levels + 1} channel counts (resolutions 4..{size})"
            )
        check_positive(channels=channels)
        # === Config ===
        self.size = size
        self.channels = channels
        self.widths = widths
        # === Layers ===
        self.convs = []
        self.to_rgbs = []
        for i, c in enumerate(widths):
            r = 4 * 2**i
            names = [f"conv{r}"] if i == 0 else [f"conv{r}_up", f"conv{r}"]
            self.convs.append([ModulatedConv2D(c, 3, resolution=r, name=name) for name in names])
            self.to_rgbs.append(
                ModulatedConv2D(channels, 1, demodulate=False, activation=None, name=f"torgb{r}")
            )

    def build(self, w_shape):
        w_shape = (w_shape[0], w_shape[-1])  # per-layer styles [N, L, w_dim] build the same
        self.const = self.add_weight(
            shape=(4, 4, self.widths[0]),
            initializer=keras.initializers.RandomNormal(stddev=1.0),
            name="const",
        )
        c_prev = self.widths[0]
        for i, c in enumerate(self.widths):
            r = 4 * 2**i
            for conv in self.convs[i]:
                conv.build((None, r, r, c_prev), w_shape)
                c_prev = c
            self.to_rgbs[i].build((None, r, r, c), w_shape)

    @property
    def num_styles(self):
        """How many modulated layers read a style (the W+ length)."""
        return sum(len(convs) + 1 for convs in self.convs)

    def call(self, w):
        n = ops.shape(w)[0]
        per_layer = len(w.shape) == 3
        if per_layer and w.shape[1] != self.num_styles:
            raise ValueError(
                f"w has shape {tuple(w.shape)}; per-layer styles are [N, num_styles="
                f"{self.num_styles}, w_dim]"
            )
        styles = iter(range(self.num_styles))

        def style():
            i = next(styles)
            return w[:, i] if per_layer else w

        x = ops.broadcast_to(ops.cast(self.const, w.dtype)[None], (n, 4, 4, self.widths[0]))
        image = None
        for i in range(len(self.widths)):
            if i:
                x = upsample2x(x)
            for conv in self.convs[i]:
                x = conv(x, style())
            rgb = self.to_rgbs[i](x, style())
            image = rgb if image is None else upsample2x(image) + rgb
        return image

    def compute_output_shape(self, w_shape):
        return (w_shape[0], self.size, self.size, self.channels)

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, channels=self.channels, widths=list(self.widths))
        return config


# ==================================================================== motion
def linspaced_frequencies(num, min_period, max_period):
    """Angular frequencies of periods ``min_period .. max_period`` (log-spaced), highest first."""
    periods = 2.0 ** np.linspace(np.log2(min_period), np.log2(max_period), num)
    return (2.0 * np.pi / periods)[::-1].astype("float32").copy()


def anchors_for(max_time, distance, kernel_size, layers=2):
    """Motion codes needed to cover timestamps in ``[0, max_time]``: the trajectory
    points ``floor(max_time / d) + 2`` plus what the unpadded convolutions eat."""
    return int(math.floor(max_time / distance)) + 2 + layers * (kernel_size - 1)


@keras.saving.register_keras_serializable(package="keras_vgan")
class MotionEncoder(keras.layers.Layer):
    """Motion codes at anchors -> the acyclic positional time embedding of any ``t``.

    A 1D convolutional network (two unpadded layers, learning-rate multiplier 0.01)
    maps the codes ``z_m`` at anchors ``0, d, 2d, ...`` (and the class code) to a
    trajectory ``u``. For time ``t`` with left anchor ``l = floor(t / d)``, the
    frequencies and phases of ``time_features`` sinusoids are predicted from
    ``u_l`` (periods ``tanh(A u_l) + 1``), and the embedding is

        ``e(t) = p(t) - lerp(p(l d), p((l + 1) d)) + lerp(a(u_l), a(u_{l+1}))``

    with ``p`` the sinusoids (sin and cos) and ``a`` learned aligners, the weights
    of both interpolations ``(t mod d) / d``: at the anchors the embedding is the
    aligner, between them the sinusoids add detail (the paper's Eq. 4-6).

    Args:
        motion_dim: size of the motion codes and the trajectory.
        time_features: number of sinusoids (the embedding has twice as many features).
        distance: ``d``, frames between anchors (``motion_z_distance``).
        kernel_size: window of the 1D convolutions.
        min_period, max_period: the sinusoids' base periods, in frames.
        lr_multiplier: learning-rate multiplier of the convolutions.

    Call: codes ``[B, A, motion_dim (+ class code)]`` and timestamps ``[B, T]`` ->
    ``[B, T, 2 * time_features]``.
    """

    def __init__(
        self,
        motion_dim=64,
        time_features=32,
        distance=16,
        kernel_size=3,
        min_period=2.0,
        max_period=64.0,
        lr_multiplier=0.01,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive(
            motion_dim=motion_dim,
            time_features=time_features,
            distance=distance,
            kernel_size=kernel_size,
        )
        if not 0 < float(min_period) <= float(max_period):
            raise ValueError(
                f"min_period={min_period!r}, max_period={max_period!r} must be 0 < min <= max"
            )
        # === Config ===
        self.motion_dim = motion_dim
        self.time_features = time_features
        self.distance = distance
        self.kernel_size = kernel_size
        self.min_period = float(min_period)
        self.max_period = float(max_period)
        self.lr_multiplier = float(lr_multiplier)
        freqs = linspaced_frequencies(time_features, self.min_period, self.max_period)
        self.freqs = freqs
        self.phase_scales = (self.max_period / (2.0 * np.pi / freqs)).astype("float32")
        # === Layers ===
        conv = dict(rank=1, padding="valid", lr_multiplier=lr_multiplier, activation="lrelu")
        self.conv1 = EqualizedConv(motion_dim, kernel_size, name="conv1", **conv)
        self.conv2 = EqualizedConv(motion_dim, kernel_size, name="conv2", **conv)
        # No biases: a bias would give every clip the same motion (mode collapse, paper).
        self.periods = EqualizedDense(time_features, use_bias=False, name="periods")
        self.phases = EqualizedDense(time_features, use_bias=False, name="phases")
        self.aligners = EqualizedDense(2 * time_features, use_bias=False, name="aligners")

    def build(self, codes_shape, t_shape=None):
        self.conv1.build(codes_shape)
        shape = (None, None, self.motion_dim)
        self.conv2.build(shape)
        for layer in (self.periods, self.phases, self.aligners):
            layer.build(shape)

    def trajectory(self, codes):
        """``[B, A, M]`` codes -> the trajectory ``u`` ``[B, A - 2 (k - 1), M]``."""
        return self.conv2(self.conv1(codes))

    def call(self, codes, t):
        u = self.trajectory(codes)
        length = u.shape[1] if u.shape[1] is not None else ops.shape(u)[1]
        t = ops.cast(t, u.dtype)
        d = float(self.distance)
        left = ops.floor(t / d)  # [B, T]
        weight = (t - left * d) / d
        # Neighbouring trajectory points by one-hot matmuls (portable to every runtime).
        steps = ops.cast(ops.arange(length), u.dtype)
        onehot_l = ops.cast(ops.equal(left[..., None], steps), u.dtype)  # [B, T, L]
        onehot_r = ops.cast(ops.equal(left[..., None] + 1.0, steps), u.dtype)
        u_l, u_r = ops.matmul(onehot_l, u), ops.matmul(onehot_r, u)  # [B, T, M]
        periods = ops.tanh(self.periods(u_l)) + 1.0
        phases = self.phases(u_l) * ops.cast(self.phase_scales, u.dtype)
        freqs = ops.cast(self.freqs, u.dtype) * periods

        def sinusoids(time):
            angle = freqs * time[..., None] + phases
            return ops.concatenate([ops.sin(angle), ops.cos(angle)], axis=-1)

        w = weight[..., None]
        remove = sinusoids(left * d) * (1.0 - w) + sinusoids((left + 1.0) * d) * w
        add = self.aligners(u_l) * (1.0 - w) + self.aligners(u_r) * w
        return sinusoids(t) - remove + add

    def compute_output_shape(self, codes_shape, t_shape=None):
        return (codes_shape[0], None if t_shape is None else t_shape[1], 2 * self.time_features)

    def get_config(self):
        config = super().get_config()
        config.update(
            motion_dim=self.motion_dim,
            time_features=self.time_features,
            distance=self.distance,
            kernel_size=self.kernel_size,
            min_period=self.min_period,
            max_period=self.max_period,
            lr_multiplier=self.lr_multiplier,
        )
        return config


# ================================================================= generator
@keras.saving.register_keras_serializable(package="keras_vgan")
class StyleGANVGenerator(keras.Model):
    """StyleGAN-V generator: content and motion codes -> frames at any timestamps.

    Args:
        content_dim: size of the content code ``z_c``.
        motion_dim: size of each motion code and of the trajectory.
        w_dim: size of the styles.
        frames: clip length ``call(z)`` gives (timestamps ``0 .. frames - 1``).
        size: frame side (a power of two >= 4).
        channels: output channels.
        widths: synthesis channels per resolution ``4 .. size`` (``style_widths``).
        mapping_layers: dense layers of the content mapping network.
        lr_multiplier: learning-rate multiplier of the mapping and motion networks.
        motion_z_distance: frames between motion anchors (``d``).
        motion_kernel: window of the motion network's 1D convolutions.
        time_features: sinusoids of the time embedding.
        max_time: the largest timestamp the noise ``z`` covers (default
            ``frames - 1``; a sparse-frame run passes its largest training distance).
        num_classes: > 0 adds a class embedding to the content and motion codes
            (``labels=``).
        embed_dim: size of the class embedding.

    Call: ``z`` ``[B, latent_dim]`` -> ``[B, frames, size, size, channels]`` in [-1, 1];
    ``frames=N`` gives timestamps ``0 .. N - 1``, ``timestamps=`` ``[B, T]`` (or
    ``[T]`` for every clip) float frame times >= 0 gives those frames.
    """

    def __init__(
        self,
        content_dim=64,
        motion_dim=64,
        w_dim=64,
        frames=16,
        size=64,
        channels=3,
        widths=(128, 128, 64, 32, 16),
        mapping_layers=2,
        lr_multiplier=0.01,
        motion_z_distance=16,
        motion_kernel=3,
        time_features=32,
        max_time=None,
        num_classes=0,
        embed_dim=32,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive(
            content_dim=content_dim,
            motion_dim=motion_dim,
            w_dim=w_dim,
            frames=frames,
            mapping_layers=mapping_layers,
            motion_z_distance=motion_z_distance,
            motion_kernel=motion_kernel,
            embed_dim=embed_dim,
        )
        max_time = frames - 1 if max_time is None else max_time
        if not isinstance(max_time, int) or isinstance(max_time, bool) or max_time < frames - 1:
            raise ValueError(f"max_time={max_time!r} must be an integer >= frames - 1")
        # === Config ===
        self.content_dim = content_dim
        self.motion_dim = motion_dim
        self.w_dim = w_dim
        self.frames = frames
        self.size = size
        self.channels = channels
        self.widths = tuple(int(c) for c in widths)
        self.mapping_layers = mapping_layers
        self.lr_multiplier = float(lr_multiplier)
        self.motion_z_distance = motion_z_distance
        self.motion_kernel = motion_kernel
        self.time_features = time_features
        self.max_time = max_time
        self.num_classes = check_num_classes(num_classes)
        self.embed_dim = embed_dim
        self.anchors = anchors_for(max_time, motion_z_distance, motion_kernel)
        self.latent_dim = content_dim + self.anchors * motion_dim
        # === Layers ===
        lr = dict(lr_multiplier=lr_multiplier, activation="lrelu")
        self.label_embedding = label_embedding(num_classes, embed_dim) if self.num_classes else None
        self.mapping = [
            EqualizedDense(w_dim, name=f"mapping{i}", **lr) for i in range(mapping_layers)
        ]
        self.motion = MotionEncoder(
            motion_dim,
            time_features,
            motion_z_distance,
            motion_kernel,
            max_period=4.0 * motion_z_distance,
            lr_multiplier=lr_multiplier,
            name="motion",
        )
        self.frame_mapping = [
            EqualizedDense(w_dim, name=f"frame_mapping{i}", **lr) for i in range(2)
        ]
        self.synthesis = SynthesisNetwork(size, channels, self.widths, name="synthesis")
        self.build((None, self.latent_dim))

    def build(self, input_shape):
        # One eager call on zeros creates every weight (the call uses TensorFlow ops,
        # which symbolic Keras tensors cannot go through).
        labels = tf.zeros((1,), "int32") if self.num_classes else None
        self.call(tf.zeros((1, self.latent_dim)), labels=labels)
        self.built = True

    # --------------------------------------------------------------- parts
    def _check_z(self, z):
        if z.shape.rank != 2 or (z.shape[-1] is not None and z.shape[-1] != self.latent_dim):
            raise ValueError(
                f"z has shape {tuple(z.shape)}; this StyleGAN-V generator takes [B, "
                f"latent_dim={self.latent_dim}] (content {self.content_dim} + {self.anchors} "
                f"anchors x motion {self.motion_dim})"
            )

    def _timestamps(self, z, frames, timestamps):
        """The timestamps ``[B, T]`` of a call and ``T_max`` (a Python int or None)."""
        if timestamps is None:
            frames = self.frames if frames is None else frames
            check_positive(frames=frames)
            t = tf.range(frames, dtype=z.dtype)[None]
            return tf.broadcast_to(t, tf.stack([tf.shape(z)[0], frames])), frames - 1
        if frames is not None:
            raise ValueError("pass frames= or timestamps=, not both")
        if not tf.is_tensor(timestamps):
            array = np.asarray(timestamps, "float32")
            if array.ndim not in (1, 2) or array.size == 0:
                raise ValueError(
                    f"timestamps has shape {array.shape}; expected [B, T] (or [T]) frame times"
                )
            if not np.all(np.isfinite(array)) or array.min() < 0:
                raise ValueError("timestamps must be finite frame times >= 0")
            max_t = int(math.ceil(float(array.max())))
            timestamps = array
        else:
            max_t = None
        t = tf.cast(timestamps, z.dtype)
        if t.shape.rank == 1:
            t = tf.broadcast_to(t[None], tf.stack([tf.shape(z)[0], tf.shape(t)[0]]))
        if t.shape.rank != 2:
            raise ValueError(f"timestamps has shape {tuple(t.shape)}; expected [B, T] frame times")
        b_t, b_z = t.shape[0], z.shape[0]
        if b_t is not None and b_z is not None and b_t != b_z:
            raise ValueError(f"timestamps has {b_t} rows for a batch of {b_z} latents z")
        return t, max_t

    def anchor_codes(self, z):
        """The motion codes ``z_m`` of ``z`` at the anchors: ``[B, anchors, motion_dim]``."""
        return tf.reshape(z[:, self.content_dim :], [-1, self.anchors, self.motion_dim])

    def _motion_codes(self, codes, t, max_t, motion_seed):
        """``[B, A', motion_dim]``: the anchor codes ``[B, anchors, motion_dim]`` and, for
        timestamps ``t`` beyond ``max_time``, more from ``motion_seed`` (``max_t``: their
        static maximum, if known)."""
        m = self.motion_dim
        if max_t is not None and max_t <= self.max_time:
            return codes
        if max_t is None:  # a graph input: as many codes as its largest timestamp needs
            last = tf.cast(tf.floor(tf.reduce_max(t) / self.motion_z_distance), tf.int32)
            extra = tf.maximum(last + 2 + 2 * (self.motion_kernel - 1) - self.anchors, 0)
        else:
            extra = anchors_for(max_t, self.motion_z_distance, self.motion_kernel) - self.anchors
        shape = tf.stack([tf.shape(codes)[0], extra, m])
        seed = [int(motion_seed), 0x53475631]
        more = tf.random.stateless_normal(shape, seed=seed, dtype=codes.dtype)
        return tf.concat([codes, more], axis=1)

    def content_styles(self, z, labels=None):
        """``w_content`` ``[B, w_dim]`` of ``z``'s content code (and class)."""
        x = z[:, : self.content_dim]
        x = x * tf.math.rsqrt(tf.reduce_mean(tf.square(x), axis=-1, keepdims=True) + 1e-8)
        if self.num_classes:
            y = tf.cast(self.label_embedding(labels_vector(labels)), x.dtype)
            y = y * tf.math.rsqrt(tf.reduce_mean(tf.square(y), axis=-1, keepdims=True) + 1e-8)
            x = tf.concat([x, y], axis=-1)
        for layer in self.mapping:
            x = layer(x)
        return x

    def time_embedding(self, z, labels=None, frames=None, timestamps=None, motion_seed=0):
        """The motion embedding ``[B, T, 2 * time_features]`` at the call's timestamps."""
        z = tf.cast(z, self.compute_dtype)
        t, max_t = self._timestamps(z, frames, timestamps)
        return self._embed_time(self.anchor_codes(z), labels, t, max_t, motion_seed)

    def _embed_time(self, codes, labels, t, max_t, motion_seed):
        codes = self._motion_codes(codes, t, max_t, motion_seed)
        if self.num_classes:
            y = tf.cast(self.label_embedding(labels_vector(labels)), codes.dtype)
            y = tf.broadcast_to(
                y[:, None], tf.stack([tf.shape(codes)[0], tf.shape(codes)[1], self.embed_dim])
            )
            codes = tf.concat([codes, y], axis=-1)
        return self.motion(codes, t)

    def render(
        self, w_content, motion_codes, labels=None, frames=None, timestamps=None, motion_seed=0
    ):
        """Frames from the content style and the motion codes (``call`` after the mapping).

        Args:
            w_content: ``[B, w_dim]`` (``content_styles``), or ``[B, num_styles, w_dim]``:
                one content style per synthesis layer (W+; each goes through the frame
                mapping with the frame's motion embedding).
            motion_codes: ``[B, anchors, motion_dim]`` (``anchor_codes``).
            labels, frames, timestamps, motion_seed: as in ``call``.

        Returns:
            ``[B, T, H, W, C]`` in [-1, 1]. Inversion and editing
            (``keras_vgan.editing``) optimise and swap these codes directly.
        """
        w_content = tf.cast(w_content, self.compute_dtype)
        codes = tf.cast(motion_codes, self.compute_dtype)
        if codes.shape.rank != 3 or codes.shape[1:] != (self.anchors, self.motion_dim):
            raise ValueError(
                f"motion_codes has shape {tuple(codes.shape)}; expected [B, anchors="
                f"{self.anchors}, motion_dim={self.motion_dim}]"
            )
        t, max_t = self._timestamps(codes, frames, timestamps)
        b, n = tf.shape(codes)[0], tf.shape(t)[1]
        motion = self._embed_time(codes, labels, t, max_t, motion_seed)  # [B, T, E]
        features = self.w_dim + 2 * self.time_features
        if w_content.shape.rank == 3:  # W+: [B, L, W] -> one style per frame and layer
            layers = self.synthesis.num_styles
            if w_content.shape[1] != layers:
                raise ValueError(
                    f"w_content has shape {tuple(w_content.shape)}; per-layer content styles "
                    f"are [B, num_styles={layers}, w_dim={self.w_dim}]"
                )
            shape = tf.stack([b, n, layers, self.w_dim])
            w = tf.concat(
                [
                    tf.broadcast_to(w_content[:, None], shape),
                    tf.broadcast_to(
                        motion[:, :, None],
                        tf.stack([b, n, layers, 2 * self.time_features]),
                    ),
                ],
                axis=-1,
            )
            w = tf.reshape(w, [-1, features])
            for layer in self.frame_mapping:
                w = layer(w)
            w = tf.reshape(w, [-1, layers, self.w_dim])  # frames fold into the batch
        else:
            w = tf.concat(
                [tf.broadcast_to(w_content[:, None], tf.stack([b, n, self.w_dim])), motion],
                axis=-1,
            )
            w = tf.reshape(w, [-1, features])  # frames fold into the batch
            for layer in self.frame_mapping:
                w = layer(w)
        images = self.synthesis(w)
        video = tf.reshape(images, tf.stack([-1, n, self.size, self.size, self.channels]))
        # tanh keeps clips in [-1, 1] (the toolkit's contract) with a gradient everywhere.
        return tf.tanh(video)

    def call(self, z, labels=None, training=False, frames=None, timestamps=None, motion_seed=0):
        z = tf.cast(z, self.compute_dtype)
        self._check_z(z)
        return self.render(
            self.content_styles(z, labels),
            self.anchor_codes(z),
            labels,
            frames=frames,
            timestamps=timestamps,
            motion_seed=motion_seed,
        )

    def compute_output_spec(
        self, z, labels=None, training=False, frames=None, timestamps=None, motion_seed=0
    ):
        if timestamps is not None:
            n = np.shape(timestamps)[-1] if not hasattr(timestamps, "shape") else None
            n = timestamps.shape[-1] if n is None else n
        else:
            n = self.frames if frames is None else frames
        return keras.KerasTensor((z.shape[0], n, self.size, self.size, self.channels))

    def get_config(self):
        config = super().get_config()
        config.update(
            content_dim=self.content_dim,
            motion_dim=self.motion_dim,
            w_dim=self.w_dim,
            frames=self.frames,
            size=self.size,
            channels=self.channels,
            widths=list(self.widths),
            mapping_layers=self.mapping_layers,
            lr_multiplier=self.lr_multiplier,
            motion_z_distance=self.motion_z_distance,
            motion_kernel=self.motion_kernel,
            time_features=self.time_features,
            max_time=self.max_time,
            num_classes=self.num_classes,
            embed_dim=self.embed_dim,
        )
        return config


# ============================================================= discriminator
def downsample2x(x):
    """2x2 average pooling of ``[B, H, W, C]``."""
    return tf.nn.avg_pool2d(x, 2, 2, "VALID")


@keras.saving.register_keras_serializable(package="keras_vgan")
class StyleGANVDiscriminator(keras.Model):
    """StyleGAN-V discriminator: ``K`` frames of a clip and their times -> one logit.

    Args:
        frames: ``K``, the frames per clip it judges (sparse frames; the paper's 3).
        size: frame side (a power of two >= 4).
        channels: input channels.
        widths: channels per resolution ``size, size / 2, ..., 4`` (finest first).
        mbstd_group: group size of the minibatch standard deviation.
        time_features: sinusoids of the time-difference embedding.
        max_distance: the longest time difference the embedding's periods cover.
        num_classes: > 0 adds the projection term (``labels=``).

    Call: clips ``[B, K, H, W, C]``, ``timestamps`` ``[B, K]`` (default ``0 .. K-1``)
    -> ``[B, 1]``.
    """

    def __init__(
        self,
        frames=3,
        size=64,
        channels=3,
        widths=(16, 32, 64, 128, 128),
        mbstd_group=4,
        time_features=16,
        max_distance=32,
        num_classes=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        levels = _power_of_two_levels(size)
        widths = tuple(int(c) for c in widths)
        if len(widths) != levels + 1:
            raise ValueError(
                f"widths={widths} must give {levels + 1} channel counts (resolutions {size}..4)"
            )
        check_positive(
            frames=frames,
            channels=channels,
            mbstd_group=mbstd_group,
            time_features=time_features,
            max_distance=max_distance,
        )
        # === Config ===
        self.frames = frames
        self.size = size
        self.channels = channels
        self.widths = widths
        self.mbstd_group = mbstd_group
        self.time_features = time_features
        self.max_distance = max_distance
        self.num_classes = check_num_classes(num_classes)
        self.freqs = linspaced_frequencies(time_features, 2.0, 4.0 * max_distance)
        # === Layers ===
        act = dict(activation="lrelu")
        self.from_rgb = EqualizedConv(widths[0], 1, name="from_rgb", **act)
        self.blocks = []
        for i in range(levels):
            r = size // 2**i
            c_in, c_out = widths[i], widths[i + 1]
            self.blocks.append(
                (
                    EqualizedConv(c_in, 3, name=f"b{r}_conv0", **act),
                    EqualizedConv(c_out, 3, name=f"b{r}_conv1", **act),
                    EqualizedConv(c_out, 1, use_bias=False, name=f"b{r}_skip"),
                )
            )
        c = widths[-1]
        self.epilogue_conv = EqualizedConv(c, 3, name="b4_conv", **act)
        self.frame_features = EqualizedDense(c, name="b4_fc", **act)
        self.time_embedding = EqualizedDense(c, name="time_fc", **act) if frames > 1 else None
        self.hidden = EqualizedDense(c, name="clip_fc", **act)
        self.out = EqualizedDense(1, name="out")
        self.projection = ProjectionHead(num_classes, c) if self.num_classes else None
        self.build((None, frames, size, size, channels))

    def build(self, input_shape):
        labels = tf.zeros((1,), "int32") if self.num_classes else None
        self.call(tf.zeros((1, self.frames, self.size, self.size, self.channels)), labels=labels)
        self.built = True

    def frame_encoder(self, x):
        """Frames ``[N, H, W, C]`` -> features ``[N, widths[-1]]`` (residual blocks, mbstd)."""
        x = self.from_rgb(x)
        for conv0, conv1, skip in self.blocks:
            y = skip(downsample2x(x))
            x = downsample2x(conv1(conv0(x)))
            x = (x + y) * (1.0 / SQRT2)
        x = minibatch_stddev(x, self.mbstd_group)
        x = self.epilogue_conv(x)
        return self.frame_features(tf.reshape(x, [-1, 16 * self.widths[-1]]))

    def call(self, video, labels=None, training=False, timestamps=None):
        video = tf.cast(video, self.compute_dtype)
        k = self.frames
        if video.shape.rank != 5 or video.shape[1] not in (None, k):
            raise ValueError(
                f"video has shape {tuple(video.shape)}; this discriminator judges "
                f"[B, frames={k}, H, W, C] clips"
            )
        # Frames fold into the batch as b * K + k; mbstd's groups then mix clips
        # (group members are N / G rows apart), not frames of one clip.
        x = tf.reshape(video, [-1, self.size, self.size, self.channels])
        h = self.frame_encoder(x)
        h = tf.reshape(h, [-1, k * self.widths[-1]])
        if self.time_embedding is not None:
            if timestamps is None:
                timestamps = tf.broadcast_to(
                    tf.range(k, dtype=h.dtype)[None], tf.stack([tf.shape(h)[0], k])
                )
            t = tf.cast(timestamps, h.dtype)
            diffs = t[:, 1:] - t[:, :-1]  # [B, K - 1]: what D knows of time
            angle = diffs[..., None] * tf.cast(self.freqs, h.dtype)
            emb = tf.concat([tf.sin(angle), tf.cos(angle)], axis=-1)
            emb = self.time_embedding(tf.reshape(emb, [-1, (k - 1) * 2 * self.time_features]))
            h = tf.concat([h, emb], axis=-1)
        h = self.hidden(h)
        logits = self.out(h)
        if self.num_classes:
            logits = logits + self.projection(h, labels) * (1.0 / math.sqrt(self.widths[-1]))
        return logits

    def compute_output_spec(self, video, labels=None, training=False, timestamps=None):
        return keras.KerasTensor((video.shape[0], 1))

    def get_config(self):
        config = super().get_config()
        config.update(
            frames=self.frames,
            size=self.size,
            channels=self.channels,
            widths=list(self.widths),
            mbstd_group=self.mbstd_group,
            time_features=self.time_features,
            max_distance=self.max_distance,
            num_classes=self.num_classes,
        )
        return config


# ============================================================ registration
MOTION_DIM = 32  # motion code size of a config run; latent_dim is the content code size
TIME_FEATURES = 16


def judged_frames(config):
    """``K``: the frames per clip the discriminator sees (all of them without sparse frames)."""
    return config.sparse_frames or config.frames


def build_networks(config):
    """StyleGAN-V's networks for a ``TrainConfig``."""
    window = config.data_frames()
    cond = dict(num_classes=config.num_classes) if config.num_classes else {}
    max_width = config.width * 2 ** (config.depth - 1)
    widths = style_widths(config.size, config.width, max_width)
    generator = StyleGANVGenerator(
        content_dim=config.latent_dim,
        motion_dim=MOTION_DIM,
        w_dim=max_width,
        frames=config.frames,
        size=config.size,
        channels=config.channels,
        widths=widths,
        motion_z_distance=max(4, window // 2),
        time_features=TIME_FEATURES,
        max_time=max(config.frames, window) - 1,
        name="generator",
        **cond,
    )
    discriminator = StyleGANVDiscriminator(
        frames=judged_frames(config),
        size=config.size,
        channels=config.channels,
        widths=tuple(reversed(widths)),
        time_features=TIME_FEATURES,
        max_distance=max(1, window - 1),
        name="discriminator",
        **cond,
    )
    return generator, discriminator


def check_config(config):
    """A power-of-two frame size; one-line ValueError naming the field."""
    _power_of_two_levels(config.size)
    check_positive(frames=config.frames, width=config.width, depth=config.depth)


registry.register(
    registry.ModelFamily(
        name="stylegan_v",
        build=build_networks,
        generators=(StyleGANVGenerator,),
        check=check_config,
        serving=registry.Serving("timed_noise"),
        d_norms=("none",),
        num_classes=True,
        timestamps=True,
    )
)
