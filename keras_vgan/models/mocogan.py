"""MoCoGAN: motion and content decomposed, Tulyakov, Liu, Yang & Kautz (2018).

"MoCoGAN: Decomposing Motion and Content for Video Generation", CVPR 2018.
A clip is a trajectory in latent space: a *content* code ``z_C`` fixed over
the clip, an optional *categorical* (action) code ``z_A`` also fixed, and a
*motion* code ``z_M^(k)`` per frame, the output of a recurrent cell (GRU)
driven by i.i.d. noise ``eps^(k)`` from a random initial state ``h^(0)``.
Frame ``k`` is rendered from ``[z_C, z_A, z_M^(k)]`` by a 2D DCGAN image
generator (time folded into the batch). Two discriminators judge the result:
an image discriminator ``D_I`` on single frames and a video discriminator
``D_V`` (3D convolutions) on clips; ``MoCoGANDiscriminator`` returns both
logits as a dict and the engine sums the two adversarial losses. The paper
uses ``dim z_C = 50``, ``dim z_M = 10`` and 64x64 frames.

Noise layout: ``z = [z_C | h^(0) | eps^(1) ... eps^(T)]``, so
``latent_dim = content_dim + (frames + 1) * motion_dim`` and a standard
normal ``z`` is exactly the paper's noise. Because the GRU is causal, clips of
other lengths come from the same ``z``: ``call(z, frames=N)`` (or
``VideoGAN.generate(z, frames=N)``, the EMA generator) with ``N < T`` returns
the first ``N`` frames of the training-length clip, and with ``N > T`` draws
the innovations of steps ``T+1..N`` from ``motion_seed`` (a draw for the
whole batch: clip ``b`` gets row ``b``).

The categorical code is the class label (``num_classes > 0``, with
``VideoGAN(conditional=True)``): a learned embedding of the label, the
paper's one-hot code followed by a linear layer. The paper also trains it
without labels with an InfoGAN-style mutual-information loss; that loss is
not implemented (labels are required when ``num_classes > 0``). The video
discriminator then adds the projection term of Miyato & Koyama (2018) in
place of the paper's auxiliary classifier.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_vgan.layers.blocks import logit_head, minibatch_stddev
from keras_vgan.layers.checks import (
    D_NORMS,
    check_geometry,
    check_norm,
    check_positive,
    check_size,
    check_upsample,
)
from keras_vgan.layers.conditioning import (
    ProjectionHead,
    check_num_classes,
    label_embedding,
    labels_vector,
)
from keras_vgan.layers.dcgan import ImageDecoder, ImageEncoder, VideoEncoder
from keras_vgan.layers.frames import frame_sampler_calls, sample_frames
from keras_vgan.models.common import clip_keywords, register_noise_gan
from keras_vgan.motion.warp import composite_layers


@keras.saving.register_keras_serializable(package="keras_vgan")
class MoCoGANGenerator(keras.Model):
    """MoCoGAN generator: content code + GRU motion codes -> per-frame DCGAN image generator.

    Args:
        content_dim: size of the content code ``z_C`` (paper: 50).
        motion_dim: size of the motion code, the GRU state and its input
            noise (paper: 10).
        frames: training clip length ``T``.
        size: frame height and width (a multiple of ``2**len(widths)``).
        channels: output channels.
        widths: image generator widths, coarsest to finest.
        norm: ``"batch"``, ``"layer"`` or ``"none"`` (image generator).
        num_classes: > 0 adds the categorical code from ``labels=``.
        embed_dim: size of the categorical code's embedding.
        upsample: how the image generator doubles its resolution: ``"transpose"``
            (DCGAN's transposed convolutions) or ``"resize"`` (nearest x2 and a 3x3
            convolution; ``layers.checks.UPSAMPLING``).

    Call maps ``z`` ``[B, latent_dim]`` (layout in the module docstring) to
    ``[B, frames, H, W, C]`` in [-1, 1]; ``frames=N`` samples ``N`` frames
    (``motion_seed`` is used only for ``N > T``).
    """

    def __init__(
        self,
        content_dim=50,
        motion_dim=10,
        frames=16,
        size=64,
        channels=3,
        widths=(512, 256, 128, 64),
        norm="batch",
        num_classes=0,
        embed_dim=32,
        upsample="transpose",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive(
            content_dim=content_dim, motion_dim=motion_dim, frames=frames, embed_dim=embed_dim
        )
        self.upsample = check_upsample(upsample)
        # === Config ===
        self.content_dim = content_dim
        self.motion_dim = motion_dim
        self.frames = frames
        self.size = size
        self.channels = channels
        self.widths = tuple(int(w) for w in widths)
        self.norm = check_norm(norm)
        self.num_classes = check_num_classes(num_classes)
        self.embed_dim = embed_dim
        self.latent_dim = content_dim + (frames + 1) * motion_dim
        # === Layers ===
        self.label_embedding = label_embedding(num_classes, embed_dim) if self.num_classes else None
        self.gru = keras.layers.GRU(motion_dim, return_sequences=True, name="motion_gru")
        self._make_renderer()
        self.build((None, self.latent_dim))

    def _make_renderer(self):
        """The layers that turn the codes into frames (``render``): the image generator."""
        self.decoder = ImageDecoder(
            self.size, self.channels, self.widths, self.norm, self.upsample, name="decoder"
        )

    def build(self, input_shape):
        labels = keras.KerasTensor((1,), dtype="int32") if self.num_classes else None
        self.call(keras.KerasTensor((1, self.latent_dim)), labels=labels)
        self.built = True

    def _split(self, z, frames, motion_seed):
        """``z`` -> content ``[B, C]``, ``h0`` ``[B, M]``, innovations ``[B, frames, M]``."""
        if z.shape[-1] is not None and z.shape[-1] != self.latent_dim:
            raise ValueError(
                f"z has {z.shape[-1]} features; this MoCoGAN generator takes "
                f"latent_dim={self.latent_dim} (content {self.content_dim} + "
                f"({self.frames} + 1) x motion {self.motion_dim})"
            )
        c, m = self.content_dim, self.motion_dim
        content, h0 = z[:, :c], z[:, c : c + m]
        eps = ops.reshape(z[:, c + m :], (-1, self.frames, m))
        if frames < self.frames:
            eps = eps[:, :frames]
        elif frames > self.frames:
            shape = tf.stack([tf.shape(z)[0], frames - self.frames, m])
            seed = [int(motion_seed), 0x6D6F636F]
            extra = tf.random.stateless_normal(shape, seed=seed, dtype=z.dtype)
            eps = ops.concatenate([eps, extra], axis=1)
        return content, h0, eps

    def motion_codes(self, z, frames=None, motion_seed=0, training=False):
        """The GRU's motion codes ``z_M`` ``[B, frames, motion_dim]``."""
        frames = self._frames(frames)
        _, h0, eps = self._split(ops.cast(z, self.compute_dtype), frames, motion_seed)
        return self.gru(eps, initial_state=h0, training=training)

    def _frames(self, frames):
        frames = self.frames if frames is None else frames
        check_positive(frames=frames)
        return frames

    def extend_motion(self, motion, frames, motion_seed=0, training=False):
        """Motion codes ``[B, T', M]`` cut or continued to ``[B, frames, M]``.

        A GRU's output is its state, so the last code is where the recurrence stands:
        the steps after it run the GRU from there on innovations drawn from
        ``motion_seed`` (as ``call`` draws the steps beyond ``T``). Editing uses this
        to re-time inverted motion codes (``keras_vgan.editing``).
        """
        check_positive(frames=frames)
        motion = ops.cast(motion, self.compute_dtype)
        have = motion.shape[1]
        if frames <= have:
            return motion[:, :frames]
        shape = tf.stack([tf.shape(motion)[0], frames - have, self.motion_dim])
        seed = [int(motion_seed), 0x6D6F636F]
        eps = tf.random.stateless_normal(shape, seed=seed, dtype=motion.dtype)
        more = self.gru(eps, initial_state=motion[:, -1], training=training)
        return ops.concatenate([motion, more], axis=1)

    def render(self, content, motion, labels=None, training=False):
        """Frames from the codes the image generator reads (``call`` without the GRU).

        Args:
            content: ``z_C`` ``[B, content_dim]``, fixed over the clip.
            motion: ``z_M`` ``[B, N, motion_dim]``, one code per frame (the GRU's outputs,
                ``motion_codes``).
            labels: the class of each clip (``num_classes > 0``).

        Returns:
            ``[B, N, H, W, C]`` in [-1, 1]. Inversion and editing
            (``keras_vgan.editing``) optimise and swap these codes directly.
        """
        motion = ops.cast(motion, self.compute_dtype)
        frames = motion.shape[1]
        code = self._clip_code(content, labels)
        # Fixed codes repeated per frame; time folded into the batch (row b * N + k).
        per_frame = ops.concatenate(
            [ops.repeat(code, frames, axis=0), ops.reshape(motion, (-1, self.motion_dim))],
            axis=-1,
        )
        images = self.decoder(per_frame, training=training)
        return ops.reshape(images, (-1, frames, self.size, self.size, self.channels))

    def _clip_code(self, content, labels):
        """``[z_C, z_A]``: the content code and the class embedding, fixed over the clip."""
        content = ops.cast(content, self.compute_dtype)
        if not self.num_classes:
            return content
        category = self.label_embedding(labels_vector(labels))
        return ops.concatenate([content, ops.cast(category, content.dtype)], axis=-1)

    def call(self, z, labels=None, training=False, frames=None, motion_seed=0):
        frames = self._frames(frames)
        z = ops.cast(z, self.compute_dtype)
        content, h0, eps = self._split(z, frames, motion_seed)
        motion = self.gru(eps, initial_state=h0, training=training)  # [B, N, M]
        return self.render(content, motion, labels, training=training)

    def compute_output_spec(self, z, labels=None, training=False, frames=None, motion_seed=0):
        frames = self._frames(frames)
        return keras.KerasTensor((z.shape[0], frames, self.size, self.size, self.channels))

    def get_config(self):
        config = super().get_config()
        config.update(
            content_dim=self.content_dim,
            motion_dim=self.motion_dim,
            frames=self.frames,
            size=self.size,
            channels=self.channels,
            widths=list(self.widths),
            norm=self.norm,
            num_classes=self.num_classes,
            embed_dim=self.embed_dim,
            upsample=self.upsample,
        )
        return config


EDGE = 2  # pixels over which a layer's opacity fades out at the canvas border


def edge_window(size, edge=EDGE):
    """``[size, size, 1]`` float32: 1 inside, rising linearly from 1 / (edge + 1) in the
    outermost pixel to 1 at ``edge`` pixels in (a constant of the graph)."""
    d = np.minimum(np.arange(size), np.arange(size)[::-1]).astype("float32")
    ramp = np.minimum((d + 1.0) / (edge + 1.0), 1.0)
    return np.minimum(ramp[:, None], ramp[None, :])[..., None]


@keras.saving.register_keras_serializable(package="keras_vgan")
class LayeredMoCoGANGenerator(MoCoGANGenerator):
    """MoCoGAN's codes rendered as moving layers: one image per clip, motion by translation.

    The content (and class) code is decoded once per clip, by the same DCGAN image
    generator, into a static background and ``sprites`` layers, each a full-canvas
    image with an alpha channel. The GRU's motion code of frame ``k`` is mapped (a small
    MLP that also sees the content code) to one 2D translation per layer, bounded by
    ``max_shift`` pixels; frame ``k`` is the background with the translated layers
    alpha-composited over it, back to front (spatial transformers, Jaderberg et al.
    2015, restricted to translations; the foreground/background split of VGAN,
    Vondrick et al. 2016). The generator renders one image per clip instead of one per
    frame, and what is drawn is carried along unchanged, so a digit that is readable
    in one frame stays readable in all of them. The bias suits data made of objects
    that move over a static background (Moving MNIST, bouncing shapes); objects that
    change shape, appear or turn (human motion, sky time-lapses) need MoCoGAN, whose
    frames are drawn independently from their codes.

    With ``sprite_size`` set, each layer is instead a small sprite, drawn centred at
    ``sprite_size`` x ``sprite_size`` by one image generator shared by all layers (each
    from its own code, a linear map of the clip's code) and placed on the canvas by its
    translation; the background keeps its own full-canvas generator. An object is then
    learnt once, at its own scale and centred, wherever it moves (the sprites of
    Eslami et al. 2016's AIR and of layered "sprite" video models), and every layer's
    drawing trains the one generator.

    Args:
        sprites: moving layers per clip (2: Moving MNIST's two digits).
        max_shift: largest translation of a layer, in pixels (default ``size / 2``).
        hidden: width of the motion MLP.
        sprite_size: ``None`` (full-canvas layers) or the side of the sprites, a
            multiple of ``2**len(widths)`` no larger than ``size``.
        sprite_widths: the sprite generator's widths, coarsest to finest (as many as
            ``widths``). Default: ``widths`` times ``size / sprite_size``, so that a
            sprite costs about what a full-canvas layer of ``widths`` would (a quarter
            of the pixels at twice the width for half-size sprites).
        The rest as ``MoCoGANGenerator`` (whose noise layout, ``frames=N`` and
        ``render(content, motion)`` it keeps).
    """

    def __init__(
        self, sprites=2, max_shift=None, hidden=64, sprite_size=None, sprite_widths=None, **kwargs
    ):
        check_positive(sprites=sprites, hidden=hidden)
        self.sprites = int(sprites)
        self.hidden = int(hidden)
        size = kwargs.get("size", 64)
        widths = kwargs.get("widths", (512, 256, 128, 64))  # MoCoGANGenerator's default
        if sprite_size is not None:
            check_size(sprite_size, len(widths), "sprite_size")
            if sprite_size > size or (size - sprite_size) % 2:
                raise ValueError(
                    f"sprite_size={sprite_size} must be at most size={size} and differ from "
                    "it by an even number of pixels (a sprite is centred on the canvas)"
                )
            sprite_size = int(sprite_size)
            if sprite_widths is None:
                sprite_widths = [int(w * size / sprite_size) for w in widths]
            sprite_widths = tuple(int(w) for w in sprite_widths)
            if len(sprite_widths) != len(widths):
                raise ValueError(
                    f"sprite_widths={list(sprite_widths)} must have one width per level of "
                    f"widths={list(widths)}"
                )
            check_positive(**{f"sprite_widths[{i}]": w for i, w in enumerate(sprite_widths)})
        elif sprite_widths is not None:
            raise ValueError("sprite_widths is given but sprite_size is not: set both")
        self.sprite_size = sprite_size
        self.sprite_widths = sprite_widths
        max_shift = size / 2 if max_shift is None else max_shift
        if isinstance(max_shift, bool) or not isinstance(max_shift, (int, float)) or max_shift <= 0:
            raise ValueError(f"max_shift={max_shift!r} must be a positive number of pixels")
        self.max_shift = float(max_shift)
        super().__init__(**kwargs)

    def _make_renderer(self):
        c = self.channels
        if self.sprite_size is None:
            # Background (C) + per layer colour (C) and alpha (1), from one image generator.
            self.decoder = ImageDecoder(
                self.size,
                c + self.sprites * (c + 1),
                self.widths,
                self.norm,
                self.upsample,
                name="decoder",
            )
        else:
            self.decoder = ImageDecoder(
                self.size, c, self.widths, self.norm, self.upsample, name="decoder"
            )
            self.sprite_codes = keras.layers.Dense(
                self.sprites * self.content_dim, name="sprite_codes"
            )
            self.sprite_decoder = ImageDecoder(
                self.sprite_size,
                c + 1,
                self.sprite_widths,
                self.norm,
                self.upsample,
                name="sprite_decoder",
            )
        self.trajectory_hidden = keras.layers.Dense(
            self.hidden, activation="relu", name="trajectory_hidden"
        )
        # Starts still: every layer at rest until training moves it.
        self.trajectory = keras.layers.Dense(
            2 * self.sprites, kernel_initializer="zeros", name="trajectory"
        )

    def shifts(self, content, motion, labels=None, training=False):
        """Translations ``[B, N, sprites, 2]`` ``(dx, dy)`` in pixels of each layer per frame."""
        return self._shifts(self._clip_code(content, labels), motion, training)

    def layers_of(self, content, labels=None, training=False):
        """``(background [B, H, W, C], colour [B, L, H, W, C], alpha [B, L, H, W, 1])``.

        A layer's alpha fades to 0 over its outermost ``EDGE`` pixels, so that a moved
        layer has no visible border.
        """
        return self._draw_layers(self._clip_code(content, labels), training)

    def render(self, content, motion, labels=None, training=False):
        code = self._clip_code(content, labels)  # the class embedding once for both parts
        background, colour, alpha = self._draw_layers(code, training)
        return composite_layers(background, colour, alpha, self._shifts(code, motion, training))

    def _shifts(self, code, motion, training):
        motion = ops.cast(motion, self.compute_dtype)
        frames = motion.shape[1]
        per_frame = ops.concatenate(
            [ops.repeat(code[:, None], frames, axis=1), motion], axis=-1
        )  # [B, N, code + M]
        h = self.trajectory_hidden(per_frame, training=training)
        shift = ops.tanh(self.trajectory(h, training=training)) * self.max_shift
        return ops.reshape(shift, (-1, frames, self.sprites, 2))

    def _draw_layers(self, code, training):
        c, s, n = self.channels, self.size, self.sprites
        canvas = self.decoder(code, training=training)
        # Splits rather than slices: a strided slice's gradient scatters into zeros.
        if self.sprite_size is None:
            background, layers = ops.split(canvas, [c], axis=-1)
            layers = ops.reshape(layers, (-1, s, s, n, c + 1))
            layers = ops.transpose(layers, (0, 3, 1, 2, 4))  # [B, L, H, W, C + 1]
            window = ops.convert_to_tensor(edge_window(s), layers.dtype)  # [H, W, 1]
            colour, alpha = ops.split(layers, [c], axis=-1)
            return background, colour, 0.5 * (alpha + 1.0) * window
        p = self.sprite_size
        codes = ops.reshape(self.sprite_codes(code), (-1, self.content_dim))  # row b * L + l
        sprite = self.sprite_decoder(codes, training=training)  # [B * L, p, p, C + 1]
        window = ops.convert_to_tensor(edge_window(p), sprite.dtype)
        colour, alpha = ops.split(sprite, [c], axis=-1)
        alpha = 0.5 * (alpha + 1.0) * window
        # Centred on the canvas, transparent (alpha 0) around it.
        pad = (s - p) // 2
        sprite = ops.pad(
            ops.concatenate([colour, alpha], axis=-1),
            ((0, 0), (pad, pad), (pad, pad), (0, 0)),
        )
        colour, alpha = ops.split(ops.reshape(sprite, (-1, n, s, s, c + 1)), [c], axis=-1)
        return canvas, colour, alpha

    def get_config(self):
        config = super().get_config()
        config.update(
            sprites=self.sprites,
            max_shift=self.max_shift,
            hidden=self.hidden,
            sprite_size=self.sprite_size,
            sprite_widths=None if self.sprite_widths is None else list(self.sprite_widths),
        )
        return config


def space_mean_pool(video, k):
    """``[B, T, H, W, C]`` -> ``[B, T, H / k, W / k, C]``: the mean of each k x k block.

    ``average_pool`` with a (1, k, k) window, as two reshapes and means: their gradient is a
    broadcast, a fifth of the time of ``AvgPool3DGrad`` on a CPU (measured at 16 clips of
    16 x 32 x 32). ``H`` and ``W`` must be static multiples of ``k``.
    """
    t, h, w, c = video.shape[1:]
    x = ops.mean(ops.reshape(video, (-1, h // k, k, w // k, k * c)), axis=2)
    x = ops.mean(ops.reshape(x, (-1, h // k, w // k, k, c)), axis=3)
    return ops.reshape(x, (-1, t, h // k, w // k, c))


@keras.saving.register_keras_serializable(package="keras_vgan")
class MoCoGANDiscriminator(keras.Model):
    """MoCoGAN's two discriminators: ``D_I`` on frames and ``D_V`` on clips.

    Args:
        frames, size, channels: the clip shape it judges (``frames`` and
            ``size`` multiples of ``2**len(video_widths)``).
        image_widths: ``D_I`` widths, finest to coarsest.
        video_widths: ``D_V`` widths, finest to coarsest.
        norm: ``"batch"``, ``"layer"``, ``"none"`` or ``"spectral"`` (both).
        num_classes: > 0 adds the projection term to ``D_V``:
            ``call(video, labels=...)``.
        image_frames: frames per clip ``D_I`` judges; 0 (default) = all of
            them. With ``0 < k < frames``, training calls pick ``k`` frames per
            clip at random (with replacement) and other calls ``k`` evenly
            spaced frames. The draw is stateless from ``(seed, n)`` with ``n``
            a saved counter of training calls, so it is reproducible and a
            reloaded or resumed model continues the same draws (under a
            distribution strategy every replica uses the same seed).
        seed: seed of that frame sampling.
        mbstd_group: > 0 gives ``D_I`` StyleGAN's minibatch standard deviation over
            groups of that many frames of different clips (``layers.blocks
            .minibatch_stddev``, before its head), so that it can see a generator
            that draws the same thing in every clip; 0 (default): off.
        video_downsample: ``D_V`` judges clips average-pooled by this factor in
            space (DVD-GAN's temporal discriminator, Clark et al. 2019, k = 2):
            ``D_I`` judges the detail, ``D_V`` the motion, at a fraction of the cost
            of its 3D convolutions. 1 (default): full resolution.

    Call maps ``[B, T, H, W, C]`` to ``{"image": [B, k], "video": [B, 1]}``.
    """

    def __init__(
        self,
        frames=16,
        size=64,
        channels=3,
        image_widths=(64, 128, 256, 512),
        video_widths=(64, 128, 256, 512),
        norm="batch",
        num_classes=0,
        image_frames=0,
        seed=0,
        mbstd_group=0,
        video_downsample=1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(mbstd_group, int) or isinstance(mbstd_group, bool) or mbstd_group < 0:
            raise ValueError(f"mbstd_group={mbstd_group!r} must be 0 (off) or a group size")
        self.mbstd_group = mbstd_group
        check_positive(video_downsample=video_downsample)
        if size % video_downsample:
            raise ValueError(f"video_downsample={video_downsample} must divide size={size}")
        self.video_downsample = video_downsample
        image_widths = tuple(int(w) for w in image_widths)
        video_widths = tuple(int(w) for w in video_widths)
        check_geometry(frames, size // video_downsample, len(video_widths), channels)
        check_size(size, len(image_widths))
        if not isinstance(image_frames, int) or not 0 <= image_frames <= frames:
            raise ValueError(f"image_frames={image_frames!r} must be in [0, frames={frames}]")
        # === Config ===
        self.frames = frames
        self.size = size
        self.channels = channels
        self.image_widths = image_widths
        self.video_widths = video_widths
        self.norm = check_norm(norm, D_NORMS)
        self.num_classes = check_num_classes(num_classes)
        self.image_frames = image_frames
        self.seed = int(seed)
        spectral = norm == "spectral"
        si = size // 2 ** len(image_widths)
        dv = 2 ** len(video_widths)
        # === Image discriminator D_I ===
        self.image_encoder = ImageEncoder(image_widths, norm, name="image_encoder")
        self.image_head = logit_head((si, si), rank=2, spectral=spectral)
        # === Video discriminator D_V ===
        self.video_encoder = VideoEncoder(video_widths, norm, name="video_encoder")
        sv = size // video_downsample // dv
        self.video_head = logit_head((frames // dv, sv, sv), 3, spectral)
        self.projection = (
            ProjectionHead(num_classes, video_widths[-1], spectral_norm=spectral)
            if self.num_classes
            else None
        )
        # === Randomness ===
        self.sampler_calls = frame_sampler_calls(self)
        self.build((None, frames, size, size, channels))

    def build(self, input_shape):
        labels = keras.KerasTensor((1,), dtype="int32") if self.num_classes else None
        video = keras.KerasTensor((1, self.frames, self.size, self.size, self.channels))
        self.call(video, labels=labels)
        self.built = True

    @property
    def judged_frames(self):
        """``k``: how many frames per clip ``D_I`` judges."""
        return self.image_frames or self.frames

    def _sample_frames(self, video, training):
        return sample_frames(video, self.judged_frames, self.seed, self.sampler_calls, training)

    def call(self, video, labels=None, training=False):
        video = ops.cast(video, self.compute_dtype)
        # D_I: k frames per clip, folded into the batch -> one logit per frame.
        frames = self._sample_frames(video, training)
        x = ops.reshape(frames, (-1, self.size, self.size, self.channels))
        h = self.image_encoder(x, training=training)
        if self.mbstd_group:
            h = minibatch_stddev(h, self.mbstd_group)
        image = ops.reshape(self.image_head(h, training=training), (-1, self.judged_frames))
        # D_V: the whole clip (average-pooled in space by video_downsample).
        k = self.video_downsample
        if k > 1:
            video = space_mean_pool(video, k)
        v = self.video_encoder(video, training=training)
        logits = ops.reshape(self.video_head(v, training=training), (-1, 1))
        if self.num_classes:
            logits = logits + self.projection(v, labels, training=training)
        return {"image": image, "video": logits}

    def compute_output_spec(self, video, labels=None, training=False):
        b = video.shape[0]
        return {
            "image": keras.KerasTensor((b, self.judged_frames)),
            "video": keras.KerasTensor((b, 1)),
        }

    def get_config(self):
        config = super().get_config()
        config.update(
            frames=self.frames,
            size=self.size,
            channels=self.channels,
            image_widths=list(self.image_widths),
            video_widths=list(self.video_widths),
            norm=self.norm,
            num_classes=self.num_classes,
            image_frames=self.image_frames,
            mbstd_group=self.mbstd_group,
            video_downsample=self.video_downsample,
            seed=self.seed,
        )
        return config


# ============================================================ registration
MOTION_DIM = 10  # the paper's motion code size; a config's latent_dim is its content code size


def build_networks(config, generator_class=None, image_frames=0, **generator_options):
    """MoCoGAN's networks for a ``TrainConfig``: image and video discriminators
    (``D_I`` on ``image_frames`` frames per clip, 0 = all)."""
    clip, cond = clip_keywords(config)
    generator = (generator_class or MoCoGANGenerator)(
        **generator_options,
        content_dim=config.latent_dim,
        motion_dim=MOTION_DIM,
        widths=config.generator_widths(),
        norm=config.g_norm,
        upsample=config.g_upsample,
        name="generator",
        **clip,
        **cond,
    )
    d_widths = config.widths(finest_first=True)
    discriminator = MoCoGANDiscriminator(
        image_widths=d_widths,
        video_widths=d_widths,
        norm=config.d_norm,
        num_classes=config.num_classes,
        image_frames=min(config.d_image_frames or image_frames, config.frames),
        mbstd_group=config.d_mbstd,
        video_downsample=config.d_video_downsample,
        name="discriminator",
        **clip,
    )
    return generator, discriminator


LAYERED_IMAGE_FRAMES = 4  # D_I of the layered MoCoGAN: its frames are moves of one image


def build_layered_networks(config):
    """The layered MoCoGAN's networks: ``LayeredMoCoGANGenerator`` (two sprites), MoCoGAN's
    video discriminator and its image discriminator on 4 sampled frames per clip (every
    frame is the same layers moved, so more frames judge the same drawing again); the
    config's ``sprite_size`` (0: full-canvas layers) sets the generator's sprites."""
    return build_networks(
        config,
        LayeredMoCoGANGenerator,
        image_frames=LAYERED_IMAGE_FRAMES,
        sprite_size=config.sprite_size or None,
    )


register_noise_gan("mocogan", build_networks, (MoCoGANGenerator,))
register_noise_gan("mocogan_layers", build_layered_networks, (LayeredMoCoGANGenerator,))
