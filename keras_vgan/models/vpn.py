"""Video Pixel Network (Kalchbrenner et al. 2017, "Video Pixel Networks"), at small scale.

VPN factorises the likelihood of a clip over its frames, and every frame over its
pixels in raster order::

    p(x) = prod_t prod_i p(x_t,i | x_<t, x_t,<i)

with a 256-way softmax per pixel (the uint8 value). Two networks:

* a **resolution-preserving causal encoder over time** gives every frame ``t`` a context
  ``c_t`` ``[H, W, F]`` computed from frames ``< t`` only: the input is shifted by one
  frame (frame 0 sees a blank frame), then a per-frame 3x3 convolution and
  ``blocks`` residual ``CausalTimeBlock`` s, each a 3x3 spatial convolution and a causal
  mix of frames ``t, t - d, t - 2d`` (``d`` doubling per block, so the receptive field
  covers ``1 + 2 * (2**blocks - 1)`` past frames). The paper runs a ConvLSTM over
  per-frame encodings; causal convolutions train every frame in parallel (a ConvLSTM
  steps through time one frame after another), export as plain ops, and are exactly
  causal by construction (a choice made on those grounds, not by an A/B here);
* a **pixel decoder** of masked 2D convolutions (PixelCNN, van den Oord et al. 2016): a
  mask-A convolution of the current frame (a pixel does not see itself), then ``blocks``
  gated residual blocks (``GatedPixelBlock``: a mask-B convolution, plus the context,
  through ``tanh * sigmoid``, as in Gated PixelCNN and the paper's multiplicative units),
  and a 1x1 head to 256 logits per pixel.

A class label (``num_classes > 0``) is a learned embedding added to every context.

Sampling (``VideoPixelNetwork.sample``) is frame by frame, pixel by pixel in raster order:
two nested ``tf.while_loop`` s of a fixed number of steps (frames x ``H * W``), so an
exported graph holds the whole loop; a step decodes only the band of rows the pixel
depends on (``decoder_reach``). Each pixel is drawn by inverting the CDF of its
(temperature-scaled, top-k filtered) softmax at a given uniform number, so a sample is a
pure function of its noise (``layers.sampling.sample_categorical``): the same in eager
code and in every export format, and served from standard normal noise like the other
families (``u = Phi(z)``).

The network computes logits only; the cross-entropy and its nats / bits figures are the
engine's (``keras_vgan.pixel_models.VideoPixelModel``).
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_vgan import registry
from keras_vgan.layers.checks import check_positive
from keras_vgan.layers.conditioning import check_num_classes, label_embedding, labels_vector
from keras_vgan.layers.predictors import prediction_baselines
from keras_vgan.layers.sampling import check_sampling, sample_categorical

LEVELS = 256  # uint8 pixel values: a 256-way softmax per pixel
MASK_TYPES = ("A", "B")


# ------------------------------------------------------------------ pixel values
def to_levels(clips):
    """Clips in [-1, 1] (``data`` gives ``p / 127.5 - 1`` of uint8 ``p``) -> int32 0..255,
    exactly ``p`` back (rounded: the float error of the data path is far below 0.5)."""
    v = tf.clip_by_value(tf.cast(clips, tf.float32), -1.0, 1.0)
    return tf.cast(tf.floor((v + 1.0) * 127.5 + 0.5), tf.int32)


def from_levels(levels):
    """int 0..255 -> float32 in [-1, 1] (the data path's ``p / 127.5 - 1``)."""
    return tf.cast(levels, tf.float32) * (2.0 / 255.0) - 1.0


# ------------------------------------------------------------------------ layers
def pixel_mask(kernel_size, mask_type):
    """The PixelCNN mask ``[k, k]`` of a ``k x k`` kernel (van den Oord et al. 2016):
    every row above the centre, and in the centre row the taps left of it (``"A"``, the
    first layer: a pixel does not see itself) or left of and at it (``"B"``)."""
    if mask_type not in MASK_TYPES:
        raise ValueError(f"mask_type={mask_type!r} is not one of {', '.join(MASK_TYPES)}")
    if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size={kernel_size!r} must be an odd positive integer")
    c = kernel_size // 2
    mask = np.zeros((kernel_size, kernel_size), np.float32)
    mask[:c] = 1.0
    mask[c, : c + (mask_type == "B")] = 1.0
    return mask


@keras.saving.register_keras_serializable(package="keras_vgan")
class MaskedConv2D(keras.layers.Conv2D):
    """A ``same``-padded square 2D convolution whose kernel is multiplied by a PixelCNN
    mask (``pixel_mask``): output ``(y, x)`` depends on inputs before it in raster order
    only (mask ``"A"``), or also on ``(y, x)`` itself (``"B"``).

    Args:
        filters: output channels.
        kernel_size: odd ``k`` (a ``k x k`` kernel).
        mask_type: ``"A"`` or ``"B"``.
        **kwargs: ``keras.layers.Conv2D``'s (``padding`` is ``"same"``).
    """

    def __init__(self, filters, kernel_size, mask_type="B", **kwargs):
        kwargs.pop("padding", None)
        kernel_size = kernel_size[0] if isinstance(kernel_size, (tuple, list)) else kernel_size
        self.mask_type = mask_type
        self._mask = pixel_mask(kernel_size, mask_type)[:, :, None, None]
        super().__init__(filters, kernel_size, padding="same", **kwargs)

    def convolution_op(self, inputs, kernel):
        # The static shape is restated: inside a sampling loop the product loses it, and
        # tf2onnx needs a convolution's kernel shape.
        masked = tf.ensure_shape(kernel * self._mask, kernel.shape)
        return super().convolution_op(inputs, masked)

    def get_config(self):
        config = super().get_config()
        config.update(mask_type=self.mask_type)
        return config


@keras.saving.register_keras_serializable(package="keras_vgan")
class GatedPixelBlock(keras.layers.Layer):
    """A gated residual block of the pixel decoder (Gated PixelCNN):
    ``h + W [tanh(a) * sigmoid(b)]``, ``[a, b] = maskB_conv(h) + V c`` with ``c`` the
    frame's context. Raster-causal in ``h`` (mask B); the context is of past frames.

    Args:
        filters: width of ``h``.
        kernel_size: odd size of the mask-B convolution.

    Call: ``h`` ``[B, H, W, filters]``, ``context`` ``[B, H, W, F]`` -> like ``h``.
    """

    def __init__(self, filters, kernel_size=3, **kwargs):
        super().__init__(**kwargs)
        check_positive(filters=filters)
        self.filters = filters
        self.kernel_size = kernel_size
        self.conv = MaskedConv2D(2 * filters, kernel_size, "B", name="masked_conv")
        self.condition = keras.layers.Dense(2 * filters, use_bias=False, name="condition")
        self.out = keras.layers.Dense(filters, name="out")

    def build(self, h_shape, context_shape=None):
        self.conv.build(h_shape)
        self.condition.build(context_shape if context_shape is not None else h_shape)
        self.out.build(tuple(h_shape[:-1]) + (self.filters,))
        self.built = True

    def call(self, h, context):
        z = self.conv(h) + self.condition(context)
        a, b = ops.split(z, 2, axis=-1)
        return h + self.out(ops.tanh(a) * ops.sigmoid(b))

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size)
        return config


@keras.saving.register_keras_serializable(package="keras_vgan")
class CausalTimeBlock(keras.layers.Layer):
    """A residual block of the causal encoder: a 3x3 convolution of every frame, then a
    mix of frames ``t, t - d, t - 2d`` (zeros before the first), so frame ``t``'s output
    depends on inputs at frames ``<= t`` only; resolution preserving.

    Args:
        filters: width in and out.
        dilation: ``d``, the step between the mixed frames.

    Call: ``[B, T, H, W, filters]`` -> the same shape (any ``T``).
    """

    TAPS = 3

    def __init__(self, filters, dilation=1, **kwargs):
        super().__init__(**kwargs)
        check_positive(filters=filters, dilation=dilation)
        self.filters = filters
        self.dilation = dilation
        self.spatial = keras.layers.Conv3D(filters, (1, 3, 3), padding="same", name="spatial")
        self.temporal = keras.layers.Dense(filters, name="temporal")

    def build(self, input_shape):
        self.spatial.build(input_shape)
        self.temporal.build(tuple(input_shape[:-1]) + (self.TAPS * self.filters,))
        self.built = True

    def call(self, x):
        h = ops.relu(self.spatial(x))
        t = ops.shape(h)[1]
        pad = (self.TAPS - 1) * self.dilation
        padded = ops.pad(h, [[0, 0], [pad, 0], [0, 0], [0, 0], [0, 0]])
        # Tap j is frame t - j * d: the padded clip from offset pad - j * d, length T.
        taps = [padded[:, pad - j * self.dilation : pad - j * self.dilation + t]
                for j in range(self.TAPS)]  # fmt: skip
        return x + ops.relu(self.temporal(ops.concatenate(taps, axis=-1)))

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, dilation=self.dilation)
        return config


# ----------------------------------------------------------------------- network
@keras.saving.register_keras_serializable(package="keras_vgan")
class VideoPixelNetwork(keras.Model):
    """A small Video Pixel Network: logits of every pixel's uint8 value (module docstring).

    Args:
        frames: frames of a training clip (``context_frames`` + the predicted ones).
        context_frames: ``K``, the frames a prediction is conditioned on (serving).
        size: frame height and width.
        channels: 1 (greyscale: one 256-way softmax per pixel).
        width: ``F``, the channels of the context and of the decoder.
        blocks: causal encoder blocks, and gated decoder blocks.
        first_kernel: odd size of the decoder's first (mask-A) convolution.
        num_classes: > 0: class-conditional (a label embedding added to the context).

    Call: clips ``[B, T, H, W, 1]`` in [-1, 1] (any ``T``; ``labels=`` ``[B]`` when
    conditional) -> logits ``[B, T, H, W, 256]`` of each pixel given the frames before it
    and the pixels before it in raster order.
    """

    def __init__(self, frames, context_frames, size, channels=1, width=32, blocks=3,
                 first_kernel=5, num_classes=0, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        check_positive(frames=frames, context_frames=context_frames, size=size, width=width,
                       blocks=blocks)  # fmt: skip
        if channels != 1:
            raise ValueError(f"channels={channels!r}: the VPN models greyscale frames (1)")
        if context_frames >= frames:
            raise ValueError(f"context_frames={context_frames} must be < frames={frames}")
        pixel_mask(first_kernel, "A")  # checks the kernel size
        self.frames = frames
        self.context_frames = context_frames
        self.size = size
        self.channels = channels
        self.width = width
        self.blocks = blocks
        self.first_kernel = first_kernel
        self.num_classes = check_num_classes(num_classes)
        self.encoder_in = keras.layers.Conv3D(width, (1, 3, 3), padding="same", name="encoder_in")
        self.encoder = [CausalTimeBlock(width, 2**i, name=f"encoder_{i}") for i in range(blocks)]
        self.embed = label_embedding(num_classes, width) if num_classes else None
        self.decoder_in = MaskedConv2D(width, first_kernel, "A", name="decoder_in")
        self.decoder_context = keras.layers.Dense(width, use_bias=False, name="decoder_context")
        self.decoder = [GatedPixelBlock(width, name=f"decoder_{i}") for i in range(blocks)]
        self.head_hidden = keras.layers.Dense(width, name="head_hidden")
        self.head = keras.layers.Dense(LEVELS, name="head")
        self.build_networks()

    # Serving facts (export.endpoints reads them).
    @property
    def target_frames(self):
        return self.frames - self.context_frames

    @property
    def serving_input_shape(self):
        return (self.context_frames, self.size, self.size, self.channels)

    @property
    def z_dim(self):
        """Noise of one frame: one number per pixel (the draw of its value)."""
        return self.size * self.size * self.channels

    def noise_steps(self, frames):
        """Noise rows of ``frames`` sampled frames: one per frame."""
        return int(frames)

    @property
    def decoder_reach(self):
        """Rows above a pixel that its logits depend on: each masked convolution of the
        decoder looks ``kernel // 2`` rows up, the 1x1 layers none. Sampling decodes that
        band only (with ``same`` padding, the band's top rows differ from the frame's,
        and the difference moves down a row per layer: the band's last row, the pixel's,
        is exact), ``reach + 1`` of ``size`` rows, the cost of a step shrinking alike."""
        return self.first_kernel // 2 + sum(block.kernel_size // 2 for block in self.decoder)

    def build_networks(self):
        """Builds every layer on a tiny clip (the weights exist before the first call)."""
        clip = tf.zeros((1, 2, self.size, self.size, self.channels))
        labels = tf.zeros((1,), tf.int32) if self.num_classes else None
        self(clip, labels=labels)

    def _check_clips(self, clips, name):
        shape = tuple(clips.shape)
        want = (self.size, self.size, self.channels)
        if len(shape) != 5 or tuple(shape[2:]) != want:
            raise ValueError(
                f"{name} has shape {shape}; expected [B, T, {self.size}, {self.size}, "
                f"{self.channels}]"
            )

    def _labels(self, labels):
        if not self.num_classes:
            return None
        return labels_vector(labels)

    def context(self, clips, labels=None):
        """The context ``[B, T, H, W, F]`` of every frame: frame ``t``'s from frames ``< t``."""
        x = tf.cast(clips, tf.float32)
        blank = -tf.ones_like(x[:, :1])  # frame 0 is predicted from a blank frame
        h = ops.relu(self.encoder_in(tf.concat([blank, x[:, :-1]], axis=1)))
        for block in self.encoder:
            h = block(h)
        if self.embed is not None:
            h = h + self.embed(self._labels(labels))[:, None, None, None, :]
        return h

    def decode(self, frames, context):
        """Logits ``[N, H, W, 256]`` of frames ``[N, H, W, 1]`` given their contexts."""
        h = self.decoder_in(tf.cast(frames, tf.float32)) + self.decoder_context(context)
        for block in self.decoder:
            h = block(h, context)
        return self.head(ops.relu(self.head_hidden(ops.relu(h))))

    def call(self, clips, labels=None, training=False):
        self._check_clips(clips, "clips")
        ctx = self.context(clips, labels)
        b, t = tf.shape(clips)[0], tf.shape(clips)[1]
        s, c = self.size, self.channels
        logits = self.decode(
            tf.reshape(clips, [b * t, s, s, c]), tf.reshape(ctx, [b * t, s, s, self.width])
        )
        return tf.reshape(logits, [b, t, s, s, LEVELS])

    def sample(self, context, uniforms, labels=None, temperature=1.0, top_k=0):
        """Frames after ``context``, drawn pixel by pixel at the given uniform numbers.

        Args:
            context: ``[B, K, H, W, 1]`` given frames (kept fixed), or None (``K = 0``:
                the first frame is drawn from the blank context).
            uniforms: ``[B, N, H * W]`` in [0, 1): the draw of each pixel of the ``N``
                frames to sample.
            labels: int ``[B]`` of a conditional network.
            temperature: divides the logits (0: the argmax).
            top_k: draw among the ``top_k`` most likely values (0: all; 1: the argmax).
            (``layers.sampling.sample_categorical``: Python numbers.)

        Returns:
            ``[B, N, H, W, 1]`` in [-1, 1] (quantised to the 256 levels).
        """
        uniforms = tf.cast(uniforms, tf.float32)
        s, c, hw = self.size, self.channels, self.size * self.size
        b, n = tf.shape(uniforms)[0], tf.shape(uniforms)[1]
        future = -tf.ones([b, n, s, s, c])
        if context is None:
            clip, k = future, 0
        else:
            self._check_clips(context, "context")
            clip, k = tf.concat([tf.cast(context, tf.float32), future], axis=1), context.shape[1]
        total = tf.shape(clip)[1]
        labels = self._labels(labels)
        reach = self.decoder_reach
        band = min(reach + 1, s)

        def frame_step(t, clip):
            ctx_t = tf.gather(self.context(clip, labels), k + t, axis=1)

            def pixel_step(i, frame):
                # Only the band of rows that pixel i's logits depend on is decoded.
                top = tf.clip_by_value(i // s - reach, 0, s - band)
                logits = self.decode(
                    tf.slice(frame, [0, top, 0, 0], [-1, band, s, c]),
                    tf.slice(ctx_t, [0, top, 0, 0], [-1, band, s, self.width]),
                )
                logits = tf.reshape(logits, [b, band * s, LEVELS])
                drawn = sample_categorical(
                    tf.gather(logits, i - top * s, axis=1), uniforms[:, t, i], top_k, temperature
                )
                at = tf.reshape(tf.range(hw) == i, [1, s, s, 1])  # pixel i alone
                return i + 1, tf.where(at, from_levels(drawn)[:, None, None, None], frame)

            _, frame = tf.while_loop(
                lambda i, _: i < hw, pixel_step, (tf.constant(0), -tf.ones([b, s, s, c]))
            )
            at = tf.reshape(tf.range(total) == k + t, [1, -1, 1, 1, 1])
            return t + 1, tf.where(at, frame[:, None], clip)

        _, clip = tf.while_loop(lambda t, _: t < n, frame_step, (tf.constant(0), clip))
        return clip[:, k:]

    def get_config(self):
        config = super().get_config()
        config.update(
            frames=self.frames,
            context_frames=self.context_frames,
            size=self.size,
            channels=self.channels,
            width=self.width,
            blocks=self.blocks,
            first_kernel=self.first_kernel,
            num_classes=self.num_classes,
        )
        return config


# -------------------------------------------------------------- registration
def check_config(config):
    """The VPN family's fields: greyscale, context frames, widths, sampling; one-line
    ValueError."""
    check_positive(size=config.size, width=config.width, depth=config.depth)
    check_sampling(config.top_k, config.temperature)
    if config.channels != 1:
        raise ValueError(f"channels={config.channels}: model='vpn' models greyscale frames (1)")
    if not 1 <= config.context_frames < config.frames:
        raise ValueError(
            f"context_frames={config.context_frames} must be in [1, frames={config.frames})"
        )
    if config.num_classes and config.data not in ("moving_mnist", "shapes"):
        raise ValueError(
            f"num_classes={config.num_classes}: model='vpn' takes labels from the built-in "
            f"data sets only, not data={config.data!r}"
        )


def build_networks(config):
    """``(VideoPixelNetwork, None)``: ``width`` channels, ``depth`` encoder and decoder blocks."""
    net = VideoPixelNetwork(
        frames=config.frames,
        context_frames=config.context_frames,
        size=config.size,
        channels=config.channels,
        width=config.width,
        blocks=config.depth,
        num_classes=config.num_classes,
        name="generator",
    )
    return net, None


def build_model(config, networks):
    """The compiled ``pixel_models.VideoPixelModel`` (imported here: models are leaves,
    the engine is above them)."""
    from keras_vgan.pixel_models import build_pixel_model

    return build_pixel_model(config, networks)


registry.register(
    registry.ModelFamily(
        name="vpn",
        build=build_networks,
        generators=(VideoPixelNetwork,),
        check=check_config,
        # Unconditional clips from noise and futures of context frames, as the VAEs serve.
        serving=registry.Serving("vae", "predict"),
        d_norms=("batch", "layer", "none", "spectral"),  # no discriminator: any value
        num_classes=True,
        task="prediction",
        condition="time",
        baselines=prediction_baselines,
        build_model=build_model,
    )
)
