"""Up- and down-sampling blocks shared by the 2D and 3D networks.

A block is convolution -> optional normalisation -> activation. One class
serves both ranks: ``rank=3`` works on videos ``[B, T, H, W, C]``, ``rank=2``
on images ``[B, H, W, C]``. ``down_block`` picks a discriminator level
(``LeakyDownBlock`` when not activation-normalised, else ``DownBlock``) and
``logit_head`` the convolution to logits; ``leaky`` and ``bounded`` are the
activations the task networks write as functions.

``SubpixelConv3DTranspose`` and ``SubpixelConv3D`` are Keras' 3D convolutions
(same weights, config and outputs up to float rounding) that compute a 4x4x4
stride-2 transposed convolution with few (<= 4) output channels as a
sub-pixel convolution: oneDNN's direct kernel for that case runs at 7-40
GFLOP/s on a 2-core AVX-512 CPU, 3-4x slower than the sub-pixel form (see
benchmarks/README.md). It concerns the generator's RGB/mask heads (forward)
and the input gradient of the discriminator's first layer.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_vgan.layers.checks import (  # noqa: F401 (norm names)
    D_NORMS,
    NORMS,
    check_norm,
    check_positive,
    check_upsample,
)

ACTIVATIONS = ("relu", "leaky_relu", "none")


def dcgan_init():
    """The DCGAN weight initialiser, N(0, 0.02) (Radford et al. 2016).

    A fresh instance per layer, created after the user's seed is set (a
    module-level instance would take its seed at import time).
    """
    return keras.initializers.RandomNormal(stddev=0.02)


def default_widths(width, depth, reverse=False):
    """Channel widths of a pyramid: ``width * 2**(depth-1) ... width`` (generator order)."""
    widths = tuple(int(width) * 2 ** (depth - 1 - i) for i in range(depth))
    return tuple(reversed(widths)) if reverse else widths


def leaky(x):
    """LeakyReLU(0.2) written as ``max(x, 0.2 x)``.

    TF's grappler remapper fails on the conv + BiasAdd + LeakyRelu fusion in these
    training graphs ("Mutation::Apply error", and the pass is then skipped for the
    whole step), so the networks never use Keras' LeakyReLU right after a biased conv.
    """
    return ops.maximum(x, 0.2 * x)


def bounded(x):
    """``clip(x, -1, 1)`` forward, identity gradient (straight-through).

    The task generators' output layer: targets are mostly background (-1), which drives
    a tanh output into saturation early, where the gradient vanishes and the few
    digit pixels are never learned; the straight-through clip keeps outputs in
    [-1, 1] and the gradient alive.
    """
    return x + ops.stop_gradient(ops.clip(x, -1.0, 1.0) - x)


def conv_levels(widths, prefix, transpose=False):
    """One 4x4 stride-2 ``Conv2D`` (or ``Conv2DTranspose``) per width, named ``{prefix}_{i}``.

    The levels of the task networks' 2D encoders and decoders (no norm, DCGAN init).
    """
    conv_cls = keras.layers.Conv2DTranspose if transpose else keras.layers.Conv2D
    return [
        conv_cls(
            w, 4, strides=2, padding="same", kernel_initializer=dcgan_init(), name=f"{prefix}_{i}"
        )
        for i, w in enumerate(widths)
    ]


def encode_levels(convs, x):
    """``leaky(conv(x))`` through ``convs`` in turn; the features of every level, finest first."""
    feats = []
    for conv in convs:
        x = leaky(conv(x))
        feats.append(x)
    return feats


def minibatch_stddev(x, group_size=4):
    """StyleGAN's minibatch standard deviation (Karras et al. 2018): ``x [N, H, W, C]``
    gains one channel holding, for each sample, the mean over features and positions of
    each feature's standard deviation across its group of ``group_size`` samples
    (samples ``n, n + N/G, n + 2N/G, ...``). The whole batch is one group when its size
    is unknown or not a multiple of ``group_size``. A discriminator that sees how much
    a batch varies can tell a generator that draws the same thing every time (mode
    collapse) from the data."""
    n, h, w, c = x.shape
    if n is None or n % group_size:
        std = ops.sqrt(ops.var(x, axis=0) + 1e-8)  # one group: [H, W, C]
        s = ops.mean(std)
        return ops.concatenate([x, ops.zeros_like(x[..., :1]) + s], axis=-1)
    y = ops.reshape(x, (group_size, -1, h, w, c))
    std = ops.sqrt(ops.var(y, axis=0) + 1e-8)  # [N/G, H, W, C]
    s = ops.tile(ops.mean(std, axis=(1, 2, 3)), (group_size,))  # sample n: group n mod N/G
    return ops.concatenate([x, ops.zeros_like(x[..., :1]) + s[:, None, None, None]], axis=-1)


def make_norm(norm, rank=3, name=None):
    """Returns a normalisation layer by name, or None for ``"none"``.

    ``"batch"`` is synchronised across replicas so that a step under
    MirroredStrategy with global batch B equals a one-device step with batch B
    (per-replica statistics would differ). ``"layer"`` normalises each sample
    over all of its non-batch axes (the choice for WGAN-GP critics, where batch
    statistics break the per-sample gradient penalty).
    """
    check_norm(norm)
    if norm == "batch":
        return keras.layers.BatchNormalization(synchronized=True, momentum=0.9, name=name)
    if norm == "layer":
        return keras.layers.LayerNormalization(axis=tuple(range(-(rank + 1), 0)), name=name)
    return None  # "none"


def _activation(name):
    if name == "relu":
        return keras.layers.ReLU()
    if name == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=0.2)
    if name == "none":
        return None
    raise ValueError(f"activation={name!r} is not one of {ACTIVATIONS}")


# ----------------------------------------------------- sub-pixel 3D transposed conv
# A transposed convolution with a 4-tap kernel, stride 2 and "same" padding
# (pad 1 before) writes input i into outputs 2i + k - 1, k = 0..3. Output 2m+p
# (parity p) therefore sums exactly two inputs per axis: x[m-1]*w[3] + x[m]*w[1]
# (p = 0) or x[m]*w[2] + x[m+1]*w[0] (p = 1). With the input padded by 1 on each
# side, both are a 2-tap *stride-1* window starting at m + p, so the 8 parities
# of a 3D output are one 2x2x2 VALID convolution with 8 x C_out channels,
# followed by interleaving. Same products as the direct op, summed in another
# order, and the number of multiplies only grows by (n+1)^3 / n^3 padding taps.
SUBPIXEL_MAX_CHANNELS = 4  # measured crossover (2-core AVX-512): 1-4 faster, 8 even, >= 16 slower


def _subpixel_taps():
    """``[8, 8]`` flat positions in a 4x4x4 kernel: tap ``t`` of parity ``p`` (both row-major 2x2x2).

    Per axis, tap ``t`` of parity ``p`` is kernel index ``3 - p - 2 t``.
    """
    taps = np.zeros((8, 8), np.int32)
    for t in range(8):
        for p in range(8):
            index = 0
            for shift in (2, 1, 0):
                index = index * 4 + 3 - ((p >> shift) & 1) - 2 * ((t >> shift) & 1)
            taps[t, p] = index
    return taps


def _subpixel_kernel(kernel):
    """``[4, 4, 4, C_out, C_in]`` transposed-conv kernel -> ``[2, 2, 2, C_in, 8 * C_out]``.

    Output channels are ordered ``(p_t, p_h, p_w, c_out)``. A gather and a 4D
    transpose (not an 8D one) so that TFLite conversion needs builtin ops only.
    """
    c_out, c_in = kernel.shape[3], kernel.shape[4]
    w = tf.gather(tf.reshape(kernel, [64, c_out, c_in]), _subpixel_taps())  # [t, p, o, i]
    w = tf.transpose(w, [0, 3, 1, 2])  # [t, i, p, o]
    return tf.reshape(w, [2, 2, 2, c_in, 8 * c_out])


def _interleave_index(n_t, n_h, n_w):
    """Where each output of the sub-pixel conv comes from, as a flat int32 index.

    Output ``(2 m + p)`` per axis is window ``m + p`` of parity ``p``: for the
    conv output viewed as ``[B, (n_t + 1) (n_h + 1) (n_w + 1) 8, C_out]``, entry
    ``i`` of the index is the row holding output ``i`` of ``[2 n_t, 2 n_h, 2 n_w]``
    in row-major order.
    """
    axes = []
    for n in (n_t, n_h, n_w):
        o = np.arange(2 * n)
        axes.append((o // 2 + o % 2, o % 2))  # (window, parity) of each output
    (wt, pt), (wh, ph), (ww, pw) = axes
    window = (wt[:, None, None] * (n_h + 1) + wh[None, :, None]) * (n_w + 1) + ww[None, None, :]
    parity = pt[:, None, None] * 4 + ph[None, :, None] * 2 + pw[None, None, :]
    return (window * 8 + parity).reshape(-1).astype(np.int32)


def _conv3d_transpose_x2_forward(x, kernel):
    n_t, n_h, n_w = x.shape[1:4]
    c_out = kernel.shape[3]
    y = tf.pad(x, [[0, 0], [1, 1], [1, 1], [1, 1], [0, 0]])
    y = tf.nn.conv3d(y, _subpixel_kernel(kernel), [1] * 5, "VALID")  # [B, n+1 (x3), 8 C_out]
    # Interleave the parities with one gather of C_out-wide rows: an exact copy,
    # about 3x faster than slicing/concatenating per axis for thin C_out.
    y = tf.reshape(y, [-1, (n_t + 1) * (n_h + 1) * (n_w + 1) * 8, c_out])
    y = tf.gather(y, _interleave_index(n_t, n_h, n_w), axis=1)
    return tf.reshape(y, [-1, 2 * n_t, 2 * n_h, 2 * n_w, c_out])


_STRIDES = [1, 2, 2, 2, 1]


@tf.custom_gradient
def conv3d_transpose_x2(x, kernel):
    """``tf.nn.conv3d_transpose`` (4x4x4 kernel, stride 2, "SAME") as a sub-pixel conv.

    Args:
        x: ``[B, T, H, W, C_in]`` with static ``T, H, W``.
        kernel: ``[4, 4, 4, C_out, C_in]`` (the Keras/TF transposed-conv layout).

    Returns:
        ``[B, 2T, 2H, 2W, C_out]``, equal to the direct op up to float rounding.
        The gradients are the ops TensorFlow registers for the direct op (a
        stride-2 convolution and a filter gradient), so training and
        higher-order gradients see the same maths.
    """
    y = _conv3d_transpose_x2_forward(x, kernel)

    def grad(dy):
        dx = tf.nn.conv3d(dy, kernel, _STRIDES, "SAME")
        dk = tf.raw_ops.Conv3DBackpropFilterV2(
            input=dy,
            filter_sizes=tf.shape(kernel),
            out_backprop=x,
            strides=_STRIDES,
            padding="SAME",
        )
        return dx, dk

    return y, grad


@tf.custom_gradient
def _conv3d_x2_thin_input(x, kernel):
    """``tf.nn.conv3d`` (4x4x4, stride 2, "SAME", even sizes) whose input gradient is sub-pixel."""
    y = tf.nn.conv3d(x, kernel, _STRIDES, "SAME")

    def grad(dy):
        # The input gradient of a strided conv is the transposed conv of dy.
        dx = conv3d_transpose_x2(dy, kernel)
        dk = tf.raw_ops.Conv3DBackpropFilterV2(
            input=x,
            filter_sizes=tf.shape(kernel),
            out_backprop=dy,
            strides=_STRIDES,
            padding="SAME",
        )
        return dx, dk

    return y, grad


# A coarse input (few positions, many channels: the first up block of a generator)
# makes TF's transposed-conv kernel slow (23 GFLOP/s at batch 1 for 2x4x4x512 -> 256);
# one matmul against the kernel as stored, then an overlap-add, runs near matmul speed.
# Matmul rows = B*T*H*W (B = 1 when the batch is not static, e.g. a serving graph).
# Measured (benchmarks/cpu_kernels.py, 512 -> 256 channels): AVX-512 batch 1, 32 rows
# 2.4x faster, 256 even; AVX2 (Zen 3) batch 1, 32 rows 1.9x, 64 rows 1.5x, 256 rows
# 0.7x; AVX2 batch 8 (training, forward + gradients), 64 rows 1.8x, 256 rows 0.7x.
# The rule by rows wins on both; by positions alone it cost training at batch 8.
MATMUL_MAX_ROWS = 64


def _fold_taps(v):
    """Overlap-add along one axis: ``[P, n, Q, 4 taps, R]`` -> ``[P, n, 2, Q, R]``.

    Output ``2m`` (parity 0) sums tap 1 of input ``m`` and tap 3 of input ``m - 1``;
    output ``2m + 1`` tap 2 of ``m`` and tap 0 of ``m + 1`` (zero beyond the ends).
    Ranks stay <= 5 so that LiteRT's builtin pad and slice take them.
    """
    n = v.shape[1]
    pad = [[0, 0]] * 4
    from_before = tf.pad(v[:, :, :, 3], [pad[0], [1, 0], *pad[2:]])[:, :n]  # input m - 1
    from_after = tf.pad(v[:, :, :, 0], [pad[0], [0, 1], *pad[2:]])[:, 1:]  # input m + 1
    even = v[:, :, :, 1] + from_before
    odd = v[:, :, :, 2] + from_after
    return tf.stack([even, odd], axis=2)


def conv3d_transpose_x2_matmul(x, kernel):
    """``tf.nn.conv3d_transpose`` (4x4x4 kernel, stride 2, "SAME") as a matmul + overlap-add.

    Every input position times the whole kernel is one ``[N, C_in] x [C_in, 64 C_out]``
    matmul (the kernel's own layout, transposed inside the matmul: no copy); the 4
    taps of each axis are then added into the outputs they reach, axis by axis:
    even output ``2m`` sums taps 1 (from ``m``) and 3 (from ``m - 1``), odd output
    ``2m + 1`` taps 2 (from ``m``) and 0 (from ``m + 1``) — see the sub-pixel note
    above. Plain differentiable ops, builtin in LiteRT and ONNX.

    Args:
        x: ``[B, T, H, W, C_in]`` with static ``T, H, W``.
        kernel: ``[4, 4, 4, C_out, C_in]`` (the Keras/TF transposed-conv layout).

    Returns:
        ``[B, 2T, 2H, 2W, C_out]``, equal to the direct op up to float rounding.
    """
    c_in, c_out = x.shape[-1], kernel.shape[3]
    t, h, w = x.shape[1:4]  # static
    # Row (b, t, h, w), column (k_t, k_h, k_w, c): every input position times the kernel.
    y = tf.matmul(
        tf.reshape(x, [-1, c_in]), tf.reshape(kernel, [64 * c_out, c_in]), transpose_b=True
    )
    y = _fold_taps(tf.reshape(y, [-1, t, h * w, 4, 16 * c_out]))  # [B, T, 2, H W, 16 C]
    y = _fold_taps(tf.reshape(y, [-1, h, w, 4, 4 * c_out]))  # [B 2T, H, 2, W, 4 C]
    y = _fold_taps(tf.reshape(y, [-1, w, 1, 4, c_out]))  # [B 2T 2H, W, 2, 1, C]
    return tf.reshape(y, [-1, 2 * t, 2 * h, 2 * w, c_out])


def _subpixel_geometry(layer):
    return (
        tuple(layer.kernel_size) == (4, 4, 4)
        and tuple(layer.strides) == (2, 2, 2)
        and layer.padding == "same"
        and layer.data_format == "channels_last"
        and tuple(layer.dilation_rate) == (1, 1, 1)
    )


@keras.saving.register_keras_serializable(package="keras_vgan")
class SubpixelConv3DTranspose(keras.layers.Conv3DTranspose):
    """``keras.layers.Conv3DTranspose`` computing thin 4x4x4 stride-2 outputs as a sub-pixel conv.

    Same constructor, weights and outputs (up to float rounding). With
    ``kernel_size=4, strides=2, padding="same"`` (channels last, no dilation or
    output padding) and ``filters <= SUBPIXEL_MAX_CHANNELS`` the forward pass
    is ``conv3d_transpose_x2``; with a coarse input (``B*T*H*W <=
    MATMUL_MAX_ROWS``, ``B`` = 1 if the batch is not static) it is
    ``conv3d_transpose_x2_matmul``; otherwise it is Keras' op.
    """

    def call(self, inputs):
        spatial = tuple(inputs.shape[1:4])
        if not (
            _subpixel_geometry(self)
            and self.output_padding is None
            and None not in spatial
            and (
                self.filters <= SUBPIXEL_MAX_CHANNELS
                or (inputs.shape[0] or 1) * int(np.prod(spatial)) <= MATMUL_MAX_ROWS
            )
        ):
            return super().call(inputs)
        kernel = ops.cast(self.kernel, self.compute_dtype)
        if self.filters <= SUBPIXEL_MAX_CHANNELS:
            outputs = conv3d_transpose_x2(inputs, kernel)
        else:
            outputs = conv3d_transpose_x2_matmul(inputs, kernel)
        if self.use_bias:
            outputs = ops.add(outputs, ops.reshape(self.bias, (1, 1, 1, 1, self.filters)))
        if self.activation is not None:
            return self.activation(outputs)
        return outputs


@keras.saving.register_keras_serializable(package="keras_vgan")
class SubpixelConv3D(keras.layers.Conv3D):
    """``keras.layers.Conv3D`` whose input gradient is sub-pixel when the input is thin.

    Same constructor, weights, outputs and gradients (up to float rounding).
    With ``kernel_size=4, strides=2, padding="same"`` (channels last, no
    dilation, one group), even spatial sizes and at most
    ``SUBPIXEL_MAX_CHANNELS`` input channels (a discriminator reading RGB or
    grey clips), the input gradient (a transposed conv to those few channels)
    is ``conv3d_transpose_x2``; the forward pass is Keras' op either way.
    """

    def convolution_op(self, inputs, kernel):
        shape = inputs.shape
        if not (
            _subpixel_geometry(self)
            and self.groups == 1
            and shape[-1] is not None
            and shape[-1] <= SUBPIXEL_MAX_CHANNELS
            and all(n is not None and n % 2 == 0 for n in shape[1:4])
        ):
            return super().convolution_op(inputs, kernel)
        return _conv3d_x2_thin_input(inputs, ops.cast(kernel, inputs.dtype))


RESIZE_KERNEL = 3
RESIZE_CONV = {2: keras.layers.Conv2D, 3: keras.layers.Conv3D}


@keras.saving.register_keras_serializable(package="keras_vgan")
class NearestUpsample(keras.layers.Layer):
    """Nearest-neighbour upsampling by ``factor`` along every spatial axis of a channels-last
    map (``[N, *spatial, C]``, any number of spatial axes).

    Keras' ``UpSampling2D`` / ``3D`` repeat with ``ops.repeat``, which TensorFlow traces
    with unknown spatial sizes, and LiteRT cannot convert the convolution that follows.
    Each axis here is copied by a concatenation and merged back by a reshape, so every
    size stays static in SavedModel, LiteRT and ONNX graphs.
    """

    def __init__(self, factor=2, **kwargs):
        super().__init__(**kwargs)
        check_positive(factor=factor)
        self.factor = int(factor)

    def call(self, x):
        for axis in range(1, len(x.shape) - 1):  # the spatial axes
            x = ops.expand_dims(x, axis + 1)
            x = ops.concatenate([x] * self.factor, axis=axis + 1)
            merged = x.shape[1:axis] + (x.shape[axis] * self.factor,) + x.shape[axis + 2 :]
            x = ops.reshape(x, (-1, *merged))
        return x

    def compute_output_shape(self, input_shape):
        spatial = tuple(None if n is None else n * self.factor for n in input_shape[1:-1])
        return (input_shape[0], *spatial, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(factor=self.factor)
        return config


class _ConvBlock(keras.layers.Layer):
    """Shared body of UpBlock and DownBlock."""

    transpose = False

    def __init__(
        self,
        filters,
        rank=3,
        kernel_size=4,
        strides=2,
        norm="batch",
        activation="relu",
        use_bias=None,
        upsample="transpose",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if rank not in (2, 3):
            raise ValueError(f"rank={rank!r} is not 2 or 3")
        self.upsample = check_upsample(upsample)
        # === Config ===
        self.filters = int(filters)
        self.rank = rank
        self.kernel_size = kernel_size
        self.strides = strides
        self.norm = norm
        self.activation = activation
        # A bias right before a normalisation layer is cancelled by its centring.
        self.use_bias = (norm == "none") if use_bias is None else bool(use_bias)
        # === Layers ===
        conv_cls = {
            (2, False): keras.layers.Conv2D,
            # Keras' layers; the sub-pixel variants only differ for thin channels.
            (3, False): SubpixelConv3D,
            (2, True): keras.layers.Conv2DTranspose,
            (3, True): SubpixelConv3DTranspose,
        }[(rank, self.transpose)]
        self.resize = None
        if self.transpose and upsample == "resize":
            self.resize = NearestUpsample(strides, name="resize")
            conv_cls, kernel_size, strides = RESIZE_CONV[rank], RESIZE_KERNEL, 1
        self.conv = conv_cls(
            self.filters,
            kernel_size,
            strides=strides,
            padding="same",
            use_bias=self.use_bias,
            kernel_initializer=dcgan_init(),
            name="conv",
        )
        self.norm_layer = make_norm(norm, rank=rank, name="norm")
        self.act = _activation(activation)

    def build(self, input_shape):
        if self.resize is not None:
            self.resize.build(input_shape)
            input_shape = self.resize.compute_output_shape(input_shape)
        self.conv.build(input_shape)
        out_shape = self.conv.compute_output_shape(input_shape)
        if self.norm_layer is not None:
            self.norm_layer.build(out_shape)

    def call(self, x, training=False):
        if self.resize is not None:
            x = self.resize(x)
        x = self.conv(x)
        if self.norm_layer is not None:
            x = self.norm_layer(x, training=training)
        if self.act is not None:
            x = self.act(x)
        return x

    def compute_output_shape(self, input_shape):
        if self.resize is not None:
            input_shape = self.resize.compute_output_shape(input_shape)
        return self.conv.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            rank=self.rank,
            upsample=self.upsample,
            kernel_size=self.kernel_size,
            strides=self.strides,
            norm=self.norm,
            activation=self.activation,
            use_bias=self.use_bias,
        )
        return config


@keras.saving.register_keras_serializable(package="keras_vgan")
class UpBlock(_ConvBlock):
    """Transposed convolution (x2 by default) -> norm -> activation.

    ``upsample="resize"``: nearest-neighbour x``strides`` and a 3-wide stride-1
    convolution in place of the transposed convolution (``layers.checks.UPSAMPLING``).
    """

    transpose = True


@keras.saving.register_keras_serializable(package="keras_vgan")
class DownBlock(_ConvBlock):
    """Strided convolution (/2 by default) -> norm -> activation."""

    transpose = False

    def __init__(self, filters, activation="leaky_relu", **kwargs):
        if kwargs.get("upsample", "transpose") != "transpose":
            raise ValueError(f"upsample={kwargs['upsample']!r}: a DownBlock does not upsample")
        super().__init__(filters, activation=activation, **kwargs)


@keras.saving.register_keras_serializable(package="keras_vgan")
class LeakyDownBlock(keras.layers.Layer):
    """Strided convolution (with bias, optionally spectrally normalised) -> LeakyReLU(0.2).

    The block of a discriminator level without activation normalisation;
    ``rank`` 2 (images) or 3 (clips).
    """

    def __init__(self, filters, rank=3, spectral_norm=False, kernel_size=4, strides=2, **kwargs):
        super().__init__(**kwargs)
        if rank not in (2, 3):
            raise ValueError(f"rank={rank!r} is not 2 or 3")
        # === Config ===
        self.filters = int(filters)
        self.rank = rank
        self.spectral_norm = bool(spectral_norm)
        self.kernel_size = kernel_size
        self.strides = strides
        # === Layers ===
        conv_cls = keras.layers.Conv2D if rank == 2 else SubpixelConv3D
        conv = conv_cls(
            self.filters,
            kernel_size,
            strides=strides,
            padding="same",
            kernel_initializer=dcgan_init(),
            name="conv",
        )
        self.conv = keras.layers.SpectralNormalization(conv, name="sn") if spectral_norm else conv

    def build(self, input_shape):
        self.conv.build(input_shape)

    def call(self, x, training=False):
        return leaky(self.conv(x, training=training))

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            rank=self.rank,
            spectral_norm=self.spectral_norm,
            kernel_size=self.kernel_size,
            strides=self.strides,
        )
        return config


def down_block(filters, rank, norm, first=False, strides=2, name=None):
    """A /2 block for a discriminator; the first block is never activation-normalised."""
    if norm == "spectral" or norm == "none" or first:
        return LeakyDownBlock(
            filters, rank=rank, spectral_norm=norm == "spectral", strides=strides, name=name
        )
    return DownBlock(filters, rank=rank, norm=norm, strides=strides, name=name)


def logit_head(kernel_size, rank, spectral, padding="valid"):
    """One convolution to one logit per position (spectrally normalised if ``spectral``).

    ``padding="valid"`` with the size of what is left of the pyramid gives one logit
    per sample; ``"same"`` (PatchGAN) one per patch.
    """
    conv_cls = keras.layers.Conv2D if rank == 2 else keras.layers.Conv3D
    head = conv_cls(1, kernel_size, padding=padding, kernel_initializer=dcgan_init(), name="head")
    return keras.layers.SpectralNormalization(head, name="sn_head") if spectral else head
