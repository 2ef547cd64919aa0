"""Inverting real clips into a trained unconditional generator, and editing them.

    from keras_vgan import editing
    adapter = editing.adapter_for(gan, space="w+")          # a VideoGAN or its generator
    result = editing.invert(adapter, clips, steps=300)       # clips [B, T, H, W, C] in [-1, 1]
    result.codes                                             # {"content": ..., "motion": ...}
    donor = editing.invert(adapter, other_clips).codes
    video = adapter.render(editing.swap_content(result.codes, donor))   # their content, our motion
    longer = adapter.render(result.codes, frames=48)         # re-timed

**Projection** (``invert``) optimises a clip's codes with Adam under one ``tf.function``
(a cosine-decayed step size) against the clip: the pixel MSE, plus a perceptual term
(``perceptual_distance``: an LPIPS-like distance of unit-normalised feature maps of the
shipped offline video encoder, ``keras_vgan.metrics.offline``; its 3D convolutions see
motion as well as appearance), plus a small prior that keeps the codes where the
generator's own codes lie (``prior_penalty``: the squared distance in standard deviations
from their mean, per feature, estimated from the generator's own samples). The *content*
and the *motion* codes are separate variables, so the edits can exchange them.

**Families** declare how they are inverted with an adapter registered by generator class
(``register_adapter``; ``adapter_for`` finds it by the class of the model's EMA
generator). An adapter names its latent *spaces* and, for one space, maps a standard
normal ``z`` to the two code groups (``codes_from_z``) and renders any codes
(``render``):

* MoCoGAN (``MoCoGANGenerator``): ``"z"``: content ``z_C`` ``[B, content_dim]`` and the
  motion RNN's inputs (its initial state ``h0`` and per-frame innovations, ``[B, (T + 1)
  * motion_dim]``); ``"w"``: ``z_C`` and the RNN's outputs, the per-frame motion codes
  ``z_M`` ``[B, T, motion_dim]`` that the image generator reads (more freedom: every
  frame's code is free). Re-timing runs the GRU for another number of steps (from ``h0``
  in ``"z"``, from the last code in ``"w"``: ``MoCoGANGenerator.extend_motion``).
* StyleGAN-V (``StyleGANVGenerator``): the motion codes are always the anchor codes
  ``z_m`` ``[B, anchors, motion_dim]`` (the continuous-time embedding is computed from
  them, so a re-timed clip is the same codes rendered at other timestamps); the content
  is ``z_c`` in ``"z"``, the mapped style ``w_content`` ``[B, w_dim]`` in ``"w"``, and one
  content style per synthesis layer ``[B, num_styles, w_dim]`` in ``"w+"``.

An optional **encoder** (``InversionEncoder``, ``train_encoder``: trained on the
generator's own samples, ``z -> G(z) -> E -> z``) gives the starting codes.

**Edits** are pure functions of code dictionaries (``swap_content``, ``swap_motion``,
``interpolate``); rendering them (or the same codes at other timestamps or another frame
count, ``retime``) is the adapter's. Only unconditional use is the programs'; a
conditional model's ``labels`` pass through unchanged.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time

import keras
import numpy as np
import tensorflow as tf

from keras_vgan.layers.checks import check_positive
from keras_vgan.layers.dcgan import VideoEncoder
from keras_vgan.metrics import offline, reconstruction
from keras_vgan.models.mocogan import MoCoGANGenerator
from keras_vgan.models.stylegan_v import StyleGANVGenerator

PARTS = ("content", "motion")
EDITS = ("swap_content", "swap_motion", "interpolate", "retime")
STATS_SAMPLES = 256  # generator samples behind the prior's mean and spread
STATS_SEED = 0x45444954


def generator_of(model):
    """The generator a model samples with: a ``VideoGAN``'s EMA generator, or ``model``."""
    return getattr(model, "ema_generator", model)


# ================================================================ adapters
ADAPTERS = {}


def register_adapter(*generator_classes):
    """Class decorator: the adapter inverts generators of these classes (and subclasses)."""

    def register(adapter_cls):
        for cls in generator_classes:
            ADAPTERS[cls] = adapter_cls
        return adapter_cls

    return register


def adapter_for(model, space="z"):
    """The inversion adapter of ``model`` (a ``VideoGAN`` or a generator) in ``space``.

    Raises:
        ValueError: one line, for a generator no family adapter inverts or an unknown space.
    """
    generator = generator_of(model)
    for cls in type(generator).__mro__:
        if cls in ADAPTERS:
            return ADAPTERS[cls](generator, space)
    names = ", ".join(sorted(c.__name__ for c in ADAPTERS))
    raise ValueError(
        f"{type(generator).__name__} cannot be inverted: no inversion adapter for it "
        f"(invertible generators: {names})"
    )


class InversionAdapter:
    """How one family's generator is inverted: its code groups in one latent space.

    Subclasses set ``spaces`` and give ``codes_from_z`` and ``render``; a code dictionary
    holds a tensor per part of ``PARTS``, each with the batch first.

    Args:
        generator: the family's generator.
        space: one of the adapter's ``spaces``.
    """

    spaces = ("z",)

    def __init__(self, generator, space="z"):
        if space not in self.spaces:
            raise ValueError(
                f"space={space!r}: {type(generator).__name__} is inverted in "
                f"{', '.join(map(repr, self.spaces))}"
            )
        self.generator = generator
        self.space = space

    @property
    def frames(self):
        return self.generator.frames

    @property
    def clip_shape(self):
        """``(T, H, W, C)`` of the clips the generator renders by default."""
        g = self.generator
        return (g.frames, g.size, g.size, g.channels)

    @property
    def latent_dim(self):
        return self.generator.latent_dim

    def codes_from_z(self, z, labels=None, frames=None):
        """Standard normal ``z`` ``[B, latent_dim]`` -> ``{"content": .., "motion": ..}``."""
        raise NotImplementedError

    def render(self, codes, labels=None, frames=None, timestamps=None, motion_seed=0):
        """Codes -> clips ``[B, T, H, W, C]`` in [-1, 1] (``frames`` or ``timestamps``)."""
        raise NotImplementedError

    def random_codes(self, num, seed=0, labels=None, frames=None):
        """The codes of ``num`` standard normal latents drawn from ``seed``."""
        z = np.random.default_rng(seed).standard_normal((num, self.latent_dim))
        return self.codes_from_z(tf.constant(z, tf.float32), labels, frames)


@register_adapter(MoCoGANGenerator)
class MoCoGANAdapter(InversionAdapter):
    """MoCoGAN: content ``z_C``; motion the GRU's inputs (``"z"``) or outputs (``"w"``)."""

    spaces = ("z", "w")

    def codes_from_z(self, z, labels=None, frames=None):
        g = self.generator
        z = tf.convert_to_tensor(z, tf.float32)
        if self.space == "z":
            return {"content": z[:, : g.content_dim], "motion": z[:, g.content_dim :]}
        return {"content": z[:, : g.content_dim], "motion": g.motion_codes(z, frames=frames)}

    def render(self, codes, labels=None, frames=None, timestamps=None, motion_seed=0):
        if timestamps is not None:
            raise ValueError(
                "timestamps: MoCoGAN's motion is a recurrence over whole frames; re-time it "
                "with frames=N (the GRU run for N steps)"
            )
        g = self.generator
        if self.space == "z":
            z = tf.concat([codes["content"], codes["motion"]], axis=-1)
            return g(z, labels=labels, frames=frames, motion_seed=motion_seed)
        motion = codes["motion"]
        if frames is not None and frames != motion.shape[1]:
            motion = g.extend_motion(motion, frames, motion_seed=motion_seed)
        return g.render(codes["content"], motion, labels=labels)


@register_adapter(StyleGANVGenerator)
class StyleGANVAdapter(InversionAdapter):
    """StyleGAN-V: content ``z_c`` / ``w_content`` / per-layer styles; anchor motion codes."""

    spaces = ("z", "w", "w+")

    def codes_from_z(self, z, labels=None, frames=None):
        g = self.generator
        z = tf.convert_to_tensor(z, tf.float32)
        motion = g.anchor_codes(z)
        if self.space == "z":
            return {"content": z[:, : g.content_dim], "motion": motion}
        w = g.content_styles(z, labels)
        if self.space == "w+":
            w = tf.repeat(w[:, None], g.synthesis.num_styles, axis=1)
        return {"content": w, "motion": motion}

    def render(self, codes, labels=None, frames=None, timestamps=None, motion_seed=0):
        g = self.generator
        content = codes["content"]
        if self.space == "z":  # the mapping reads the first content_dim features only
            content = g.content_styles(content, labels)
        return g.render(content, codes["motion"], labels, frames, timestamps, motion_seed)


# ================================================================= losses
def _clips(x, name):
    """``x`` as float32 ``[B, T, H, W, C]`` in [-1, 1] (uint8 read as [0, 255])."""
    x = np.asarray(x)
    if x.ndim != 5:
        raise ValueError(f"{name} has shape {x.shape}; expected clips [B, T, H, W, C]")
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 127.5 - 1.0
    elif not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"{name} has dtype {x.dtype}; expected float in [-1, 1] or uint8")
    x = x.astype(np.float32)
    if not np.all(np.isfinite(x)) or np.abs(x).max(initial=0.0) > 1.0 + 1e-6:
        raise ValueError(f"{name} must be finite and in [-1, 1]")
    return x


def perceptual_distance(a, b, encoder=None, depth=3, eps=1e-8):
    """An LPIPS-like distance (Zhang et al. 2018) on the offline video encoder: ``[B]``.

    Both clips go through the first ``depth`` convolutions of the shipped
    ``OfflineVideoEncoder`` (grey, resized to its 32x32; ``offline.prepare_clips``); at
    every position of every map the feature vector is scaled to unit length and the
    squared distance of the two summed over channels (``2 - 2 cos``, in [0, 4]); that is
    averaged over positions and summed over the maps. Without LPIPS's learned channel
    weights: each map counts once.

    Args:
        a, b: clips ``[B, T, H, W, C]`` in [-1, 1] (tensors; differentiable).
        encoder: an ``OfflineVideoEncoder``; the shipped one by default.
        depth: how many of its convolutions (1 to 4).
    """
    encoder = encoder or offline.load_encoder()
    if not 1 <= int(depth) <= len(encoder.convs):
        raise ValueError(f"depth={depth!r} must be in [1, {len(encoder.convs)}]")
    frames = a.shape[1]
    x = tf.concat([a, b], axis=0)
    x = offline.prepare_clips(x, frames=frames, size=encoder.size)
    n = tf.shape(a)[0]
    total = 0.0
    for f in encoder.feature_maps(x, depth=int(depth)):
        f = f * tf.math.rsqrt(tf.reduce_sum(tf.square(f), axis=-1, keepdims=True) + eps)
        d = tf.reduce_sum(tf.square(f[:n] - f[n:]), axis=-1)  # [B, T', H', W']
        total += tf.reduce_mean(d, axis=[1, 2, 3])
    return total


@dataclasses.dataclass
class CodeStatistics:
    """Per-feature mean and standard deviation of each code part over generator samples."""

    mean: dict
    std: dict


def code_statistics(adapter, num=STATS_SAMPLES, seed=STATS_SEED, labels=None, frames=None):
    """The mean and spread of ``adapter``'s codes over ``num`` standard normal latents."""
    codes = adapter.random_codes(num, seed, labels, frames)
    mean = {k: tf.reduce_mean(v, axis=0) for k, v in codes.items()}
    std = {k: tf.maximum(tf.math.reduce_std(v, axis=0), 1e-3) for k, v in codes.items()}
    return CodeStatistics(mean, std)


def prior_penalty(codes, stats):
    """``[B]``: the mean over parts of the mean squared distance from the samples' mean,
    in standard deviations per feature (1 for a typical sample, 0 at the mean)."""
    terms = []
    for part, value in codes.items():
        u = (value - stats.mean[part]) / stats.std[part]
        terms.append(tf.reduce_mean(tf.reshape(tf.square(u), [tf.shape(u)[0], -1]), axis=-1))
    return tf.add_n(terms) / len(terms)


# ================================================================= encoder
@keras.saving.register_keras_serializable(package="keras_vgan")
class InversionEncoder(keras.Model):
    """Clips -> the latent ``z`` that renders them: a 3D-conv body and a linear head.

    The body is ``layers.dcgan.VideoEncoder`` (a discriminator body, layer norm); ``train_encoder``
    fits it to a generator's own samples. Its estimate is the starting point of an
    inversion (``invert(..., encoder=...)``).

    Args:
        latent_dim: size of ``z``.
        frames, size, channels: the clips it reads (``frames`` and ``size`` multiples of
            ``2**len(widths)``).
        widths: filters of the body's levels (each halves time and space).

    Call: ``[B, frames, size, size, channels]`` in [-1, 1] -> ``[B, latent_dim]``.
    """

    def __init__(self, latent_dim, frames, size, channels=1, widths=(16, 32, 64), **kwargs):
        super().__init__(**kwargs)
        widths = tuple(int(w) for w in widths)
        check_positive(latent_dim=latent_dim, frames=frames, size=size, channels=channels)
        levels = 2 ** len(widths)
        if frames % levels or size % levels:
            raise ValueError(
                f"frames={frames} and size={size} must be multiples of 2**len(widths)={levels}"
            )
        # === Config ===
        self.latent_dim = latent_dim
        self.frames = frames
        self.size = size
        self.channels = channels
        self.widths = widths
        # === Layers ===
        self.body = VideoEncoder(widths, norm="layer", name="body")
        self.head = keras.layers.Dense(latent_dim, name="head")
        self.build((None, frames, size, size, channels))

    def build(self, input_shape):
        shape = tuple(input_shape)
        self.body.build(shape)
        out = self.body.compute_output_shape(shape)
        self.head.build((None, int(np.prod(out[1:]))))
        self.built = True

    def call(self, videos, training=False):
        h = self.body(videos, training=training)
        return self.head(keras.ops.reshape(h, (keras.ops.shape(h)[0], -1)))

    def get_config(self):
        config = super().get_config()
        config.update(
            latent_dim=self.latent_dim,
            frames=self.frames,
            size=self.size,
            channels=self.channels,
            widths=list(self.widths),
        )
        return config


def encoder_widths(frames, size, width=16, max_levels=3):
    """Widths ``width, 2 width, ...``: as many levels (at most ``max_levels``) as
    ``frames`` and ``size`` can halve through."""
    levels = 0
    while levels < max_levels and frames % 2 ** (levels + 1) == 0 and size % 2 ** (levels + 1) == 0:
        levels += 1
    if not levels:
        raise ValueError(f"frames={frames} and size={size} must be even for an encoder")
    return tuple(width * 2**i for i in range(levels))


def train_encoder(model, steps=300, batch_size=16, learning_rate=1e-3, seed=0, encoder=None):
    """Fits an ``InversionEncoder`` to the generator's own samples: ``z -> G(z) -> E -> z``.

    Every step draws fresh ``z`` (stateless, from ``(seed, step)``), renders them with the
    generator (not trained) and moves the encoder toward ``z`` (mean squared error).

    Returns:
        ``(encoder, losses)``: the encoder and the loss of each step.
    """
    check_positive(steps=steps, batch_size=batch_size)
    generator = generator_of(model)
    t, h, _, c = (generator.frames, generator.size, generator.size, generator.channels)
    if encoder is None:
        encoder = InversionEncoder(
            generator.latent_dim, t, h, c, encoder_widths(t, h), name="inversion_encoder"
        )
    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build(encoder.trainable_variables)

    @tf.function
    def step(i):
        z = tf.random.stateless_normal((batch_size, generator.latent_dim), [seed, i])
        video = tf.stop_gradient(generator(z, training=False))
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(encoder(video, training=True) - z))
        grads = tape.gradient(loss, encoder.trainable_variables)
        optimizer.apply(grads, encoder.trainable_variables)
        return loss

    losses = [float(step(tf.constant(i, tf.int32))) for i in range(steps)]
    return encoder, losses


# ================================================================= inversion
@dataclasses.dataclass
class Inversion:
    """The result of ``invert``.

    Attributes:
        codes: the inverted codes, ``{"content": [B, ...], "motion": [B, ...]}`` (numpy).
        initial_codes: where the optimisation started.
        reconstruction: the clips the inverted codes render, ``[B, T, H, W, C]``.
        initial_reconstruction: the clips of the starting codes.
        scores: per clip (numpy ``[B]``) ``psnr`` and ``ssim`` (dB, and on [0, 1], means
            over frames; SSIM for frames >= 11 pixels) and ``mse`` (mean squared error
            on [-1, 1]) of the reconstruction, and ``initial_*`` of the start.
        losses: the mean objective of each step.
        cpu_seconds: process CPU time of the inversion, statistics included.
        space: the latent space.
    """

    codes: dict
    initial_codes: dict
    reconstruction: np.ndarray
    initial_reconstruction: np.ndarray
    scores: dict
    losses: list
    cpu_seconds: float
    space: str


def clip_scores(video, target):
    """``{"mse", "psnr", "ssim"}``: per clip numpy ``[B]``, means over frames."""
    video, target = np.asarray(video, np.float32), np.asarray(target, np.float32)
    out = {
        "mse": np.mean((video - target) ** 2, axis=(1, 2, 3, 4)),
        "psnr": np.asarray(reconstruction.per_frame_psnr(video, target)).mean(axis=1),
    }
    if min(video.shape[2:4]) >= reconstruction.SSIM_WINDOW:
        out["ssim"] = np.asarray(reconstruction.per_frame_ssim(video, target)).mean(axis=1)
    return out


def _numpy(codes):
    return {k: np.asarray(v, np.float32) for k, v in codes.items()}


def initial_codes(adapter, num, init="random", seed=0, encoder=None, clips=None, labels=None):
    """Starting codes: ``"random"`` (standard normal ``z`` from ``seed``), ``"mean"`` (the
    samples' mean codes), ``"encoder"`` (``encoder(clips)``) or a code dictionary."""
    frames = None if clips is None else clips.shape[1]
    if isinstance(init, dict):
        reference = adapter.random_codes(num, seed, labels, frames)
        _check_codes(reference, init, "init")
        return {k: tf.constant(np.asarray(init[k], np.float32)) for k in PARTS}
    if init == "random":
        return adapter.random_codes(num, seed, labels, frames)
    if init == "mean":
        stats = code_statistics(adapter, labels=labels, frames=frames)
        return {k: tf.repeat(v[None], num, axis=0) for k, v in stats.mean.items()}
    if init == "encoder":
        if encoder is None:
            raise ValueError("init='encoder' needs an encoder (train_encoder gives one)")
        reads = (encoder.frames, encoder.size, encoder.size, encoder.channels)
        if reads != tuple(clips.shape[1:]):
            raise ValueError(f"encoder reads clips {reads}, the clips are {tuple(clips.shape[1:])}")
        return adapter.codes_from_z(encoder(clips), labels, frames)
    raise ValueError(f"init={init!r} is not one of 'random', 'mean', 'encoder'")


def invert(
    adapter,
    clips,
    steps=200,
    learning_rate=0.1,
    perceptual_weight=0.1,
    prior_weight=1e-3,
    init="random",
    encoder=None,
    seed=0,
    labels=None,
    feature_encoder=None,
):
    """Projects clips into the generator's latent space by optimisation.

    Minimises, per clip, ``mean (G(codes) - clip)^2 + perceptual_weight *
    perceptual_distance + prior_weight * prior_penalty`` over its content and motion codes
    with Adam (step size ``learning_rate``, cosine-decayed to 0 over ``steps``), one
    ``tf.function`` step at a time; the clips are independent (the objective is summed).

    Args:
        adapter: ``adapter_for(model, space)``.
        clips: ``[B, T, H, W, C]`` in [-1, 1] (or uint8), the generator's ``H, W, C``; any
            ``T >= 1`` (the codes render ``T`` frames).
        steps: optimisation steps (0: the starting codes).
        learning_rate: Adam's step size, in standard deviations of the codes (the
            variables are the codes scaled by their spread over the generator's samples).
        init: ``"random"``, ``"mean"``, ``"encoder"`` or starting codes (see
            ``initial_codes``); with an ``encoder`` given, ``"encoder"`` is the default.
        encoder: an ``InversionEncoder`` of this generator (``train_encoder``).
        seed: the random starting codes.
        labels: class labels of a conditional model (held fixed).
        feature_encoder: the perceptual term's ``OfflineVideoEncoder`` (the shipped one).

    Returns:
        An ``Inversion``.

    Raises:
        ValueError: one line naming a bad argument.
    """
    clips = _clips(clips, "clips")
    _, _, h, w, c = clips.shape
    g_shape = adapter.clip_shape[1:]
    if (h, w, c) != g_shape:
        raise ValueError(
            f"clips are {h}x{w}x{c}; the generator renders {g_shape[0]}x{g_shape[1]}x"
            f"{g_shape[2]} frames (resize them first, e.g. editing.read_clip)"
        )
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise ValueError(f"steps={steps!r} must be an integer >= 0")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate={learning_rate!r} must be > 0")
    for name, value in (("perceptual_weight", perceptual_weight), ("prior_weight", prior_weight)):
        if not value >= 0:
            raise ValueError(f"{name}={value!r} must be >= 0")
    if encoder is not None and init == "random":
        init = "encoder"
    cpu0 = time.process_time()
    num, frames = clips.shape[0], clips.shape[1]
    target = tf.constant(clips)
    start = initial_codes(adapter, num, init, seed, encoder, target, labels)
    stats = code_statistics(adapter, labels=labels, frames=frames)
    # The variables are the codes in standard deviations from the samples' mean: one step
    # size then suits every part and space (a mapped style's spread is not a noise's).
    variables = {
        k: keras.Variable((np.asarray(v) - stats.mean[k]) / stats.std[k], name=k)
        for k, v in start.items()
    }
    if perceptual_weight:
        feature_encoder = feature_encoder or offline.load_encoder()

    def current():
        return {k: stats.mean[k] + stats.std[k] * v.value for k, v in variables.items()}

    def objective():
        codes = current()
        video = adapter.render(codes, labels, frames=frames)
        loss = tf.reduce_mean(tf.square(video - target), axis=[1, 2, 3, 4])
        if perceptual_weight:
            loss += perceptual_weight * perceptual_distance(video, target, feature_encoder)
        if prior_weight:
            loss += prior_weight * prior_penalty(codes, stats)
        return loss

    losses = []
    if steps:
        schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps)
        optimizer = keras.optimizers.Adam(schedule)
        trainable = list(variables.values())
        optimizer.build(trainable)

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                loss = objective()
                total = tf.reduce_sum(loss)  # clips are independent: each its own gradient
            optimizer.apply(tape.gradient(total, trainable), trainable)
            return tf.reduce_mean(loss)

        losses = [float(step()) for _ in range(steps)]
    codes = current()
    video = np.asarray(adapter.render(codes, labels, frames=frames))
    first = np.asarray(adapter.render(start, labels, frames=frames))
    scores = clip_scores(video, clips)
    scores.update({f"initial_{k}": v for k, v in clip_scores(first, clips).items()})
    return Inversion(
        codes=_numpy(codes),
        initial_codes=_numpy(start),
        reconstruction=video,
        initial_reconstruction=first,
        scores=scores,
        losses=losses,
        cpu_seconds=time.process_time() - cpu0,
        space=adapter.space,
    )


# =================================================================== edits
def _check_codes(codes, other, name="donor"):
    for part in PARTS:
        if part not in codes or part not in other:
            raise ValueError(f"codes must hold {', '.join(PARTS)}; got {sorted(codes)}")
        a, b = np.shape(codes[part]), np.shape(other[part])
        if a != b:
            raise ValueError(
                f"{name}'s {part} codes have shape {b}, the clip's {a}: invert both in the "
                "same space, with the same batch and frame count"
            )


def swap_content(codes, donor):
    """The clip's motion with ``donor``'s content (codes of the same shapes)."""
    _check_codes(codes, donor)
    return {"content": donor["content"], "motion": codes["motion"]}


def swap_motion(codes, donor):
    """The clip's content with ``donor``'s motion (codes of the same shapes)."""
    _check_codes(codes, donor)
    return {"content": codes["content"], "motion": donor["motion"]}


def interpolate(codes, other, alpha, parts=PARTS):
    """``(1 - alpha) codes + alpha other`` on ``parts`` (content, motion or both); the
    other parts stay ``codes``'."""
    _check_codes(codes, other, "other")
    bad = [p for p in parts if p not in PARTS]
    if bad or not parts:
        raise ValueError(f"parts={tuple(parts)!r} must be a non-empty subset of {PARTS}")
    if not (isinstance(alpha, (int, float)) and math.isfinite(alpha)):
        raise ValueError(f"alpha={alpha!r} must be a finite number")
    out = dict(codes)
    for p in parts:
        out[p] = (1.0 - alpha) * np.asarray(codes[p]) + alpha * np.asarray(other[p])
    return out


def retime(adapter, codes, frames=None, timestamps=None, labels=None, motion_seed=0):
    """The same codes rendered at another frame count or (StyleGAN-V) other timestamps."""
    if (frames is None) == (timestamps is None):
        raise ValueError("retime: give frames= or timestamps= (one of them)")
    if frames is not None:
        check_positive(frames=frames)
    return np.asarray(
        adapter.render(codes, labels, frames=frames, timestamps=timestamps, motion_seed=motion_seed)
    )


# ==================================================================== I/O
def read_clip(path, frames, size, channels):
    """A clip file -> float32 ``[frames, size, size, channels]`` in [-1, 1].

    ``path`` is a GIF, a video file OpenCV reads (mp4, avi, ...) or a folder of numbered
    frame images; its first ``frames`` frames are kept, converted to ``channels`` and
    resized (centre crop to a square, then area / bilinear) to ``size``.

    Raises:
        ValueError: one line naming the file and what was expected.
    """
    from keras_vgan import video_io
    from keras_vgan.data.base import IMAGE_EXTENSIONS, fit_frame, to_channels

    p = os.fspath(path)
    if not os.path.exists(p):
        raise ValueError(f"clip {p!r} does not exist")
    try:
        if os.path.isdir(p):
            import cv2

            from keras_vgan.data.frame_folders import list_frames

            files = list_frames(p, IMAGE_EXTENSIONS)[:frames]
            raw = [cv2.imread(f, cv2.IMREAD_COLOR) for f in files]
            if any(f is None for f in raw):
                raise ValueError(f"clip folder {p!r} holds an unreadable image")
            raw = [cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in raw]
        elif p.lower().endswith(".gif"):
            raw = list(video_io.read_gif(p, channels=3)[:frames])
        else:
            raw = list(video_io.read_video(p, max_frames=frames))
    except OSError as e:
        raise ValueError(str(e).splitlines()[0]) from None
    if len(raw) < frames:
        raise ValueError(
            f"clip {p!r} has {len(raw)} frames; the model renders {frames} "
            f"(give a clip of at least {frames} frames)"
        )
    out = [
        fit_frame(to_channels(f, channels, bgr=False), size, size, "crop").reshape(
            size, size, channels
        )
        for f in raw
    ]
    return np.stack(out).astype(np.float32) / 127.5 - 1.0
