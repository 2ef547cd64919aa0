"""The video tokenizer: a VQ-VAE over clips, with an EMA codebook and dead-code restarts.

``VQVAE`` (van den Oord et al., "Neural Discrete Representation Learning", 2017, in
the 3D-convolutional form of VideoGPT, Yan et al. 2021) maps a clip ``[B, T, H, W, C]``
in [-1, 1] to a grid of integer codes ``[B, t, h, w]`` and back:

1. the encoder: a 3x3x3 stem, one strided convolution per entry of ``widths`` (each
   halves the frame; the first ``log2(temporal_stride)`` of them halve time too, so
   the default ``widths=(16, 32)`` and ``temporal_stride=2`` give ``t, h, w = T/2,
   H/4, W/4``), ``res_blocks`` residual blocks (ReLU, 3x3x3, ReLU, 1x1x1: the
   paper's) and a 1x1x1 projection to ``embed_dim``;
2. the ``VectorQuantizer``: each ``embed_dim`` vector is replaced by its nearest
   codebook entry (squared Euclidean distance), the gradient passed straight through
   (``z + stop_gradient(e - z)``); the commitment loss ``mean ||z - sg(e)||^2`` keeps
   the encoder near its codes;
3. the decoder mirrors the encoder (transposed convolutions) and ends in a
   straight-through clip to [-1, 1] (``layers.bounded``).

The codebook is not trained by gradients: after each step the engine
(``keras_vgan.tokenizer.VideoTokenizer``) calls ``VectorQuantizer.update``, the
paper's appendix A.1 EMA (decay ``decay``, Laplace smoothing ``epsilon`` of the
counts, as Sonnet's ``VectorQuantizerEMA``), and every code that no encoder output of
the last ``dead_code_steps`` steps picked is restarted at an encoder output of the
batch (Dhariwal et al., Jukebox, 2020), drawn with probability proportional to its
squared distance to its code (k-means++ seeding: where the codebook fits worst). The idle counters start at
``dead_code_steps``, so the first update also sets every unused code of the random
initial codebook to a vector of the data.

The interface the token models code against:

* ``encode(video) -> int32 codes [B, t, h, w]`` and ``decode(codes) -> video
  [B, T, H, W, C]`` in [-1, 1]; ``codebook_size``; ``token_shape(frames, size) ->
  (t, h, w)``. The network is fully convolutional: clips of any ``frames`` divisible
  by ``temporal_stride`` and ``size`` divisible by ``2**len(widths)`` encode (a
  tokenizer trained on 16 frames tokenizes the 20 frames of a 10 -> 10 prediction
  clip as ``t = 10``).
* ``load_tokenizer(path)``: the trained ``VQVAE`` of a run directory of ``python -m
  training`` (its EMA copy) or of a ``.keras`` file.
"""

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_vgan import registry
from keras_vgan.layers.blocks import bounded
from keras_vgan.layers.checks import check_frame_size, check_positive, check_widths


# ------------------------------------------------------------- distribution
def _replica_sum(x):
    """``x`` summed over the replicas in sync (itself outside a multi-replica strategy):
    the codebook statistics of the global batch, identical on every replica."""
    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return x
    return ctx.all_reduce(tf.distribute.ReduceOp.SUM, x)


def _replica_concat(x):
    """Every replica's ``x`` joined along axis 0 in replica order: the rows of the global
    batch (replica ``r`` holds rows ``[r b, (r + 1) b)``), identical on every replica."""
    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return x
    return ctx.all_gather(x, axis=0)


def code_perplexity(counts):
    """``exp(H(p))`` of the code frequencies ``p = counts / sum(counts)`` (``[K]``): 1
    when one code is used, ``K`` when all are used equally."""
    counts = tf.cast(counts, tf.float32)
    p = counts / tf.maximum(tf.reduce_sum(counts), 1e-12)
    return tf.exp(-tf.reduce_sum(tf.math.xlogy(p, p)))


# ---------------------------------------------------------------- quantizer
@keras.saving.register_keras_serializable(package="keras_vgan")
class VectorQuantizer(keras.layers.Layer):
    """Nearest-code quantisation of ``[..., embed_dim]`` vectors with an EMA codebook.

    ``call(z)`` returns ``(quantized, codes)``: ``quantized`` is the nearest codebook
    entry of each vector with the straight-through gradient (identity to ``z``),
    ``codes`` its int32 index ``[...]``. The codebook and its EMA statistics are
    non-trainable weights, changed only by ``update`` (see the module docstring).

    Args:
        codebook_size: ``K``, the number of codes (>= 2).
        embed_dim: ``D``, the size of a code vector.
        decay: decay of the codebook's moving averages, in [0, 1).
        epsilon: Laplace smoothing of the code counts (> 0).
        dead_code_steps: a code no vector picked in this many consecutive updates is
            restarted at an encoder output of the batch.
    """

    def __init__(self, codebook_size=512, embed_dim=64, decay=0.99, epsilon=1e-5,
                 dead_code_steps=100, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        check_positive(embed_dim=embed_dim, dead_code_steps=dead_code_steps)
        if isinstance(codebook_size, bool) or not isinstance(codebook_size, int):
            raise ValueError(f"codebook_size={codebook_size!r} must be an integer >= 2")
        if codebook_size < 2:
            raise ValueError(f"codebook_size={codebook_size!r} must be an integer >= 2")
        if not 0.0 <= float(decay) < 1.0:
            raise ValueError(f"decay={decay!r} must be in [0, 1)")
        if not float(epsilon) > 0:
            raise ValueError(f"epsilon={epsilon!r} must be > 0")
        self.codebook_size = codebook_size
        self.embed_dim = embed_dim
        self.decay = float(decay)
        self.epsilon = float(epsilon)
        self.dead_code_steps = dead_code_steps

    def build(self, input_shape=None):
        k, d = self.codebook_size, self.embed_dim
        # Every replica computes the same update from the global statistics
        # (_replica_sum): the first replica's assignment is the value.
        common = dict(trainable=False, aggregation="only_first_replica")
        self.codebook = self.add_weight(
            shape=(k, d),
            initializer=keras.initializers.RandomUniform(-1.0 / k, 1.0 / k),
            name="codebook",
            **common,
        )
        self.ema_counts = self.add_weight(shape=(k,), initializer="zeros", name="ema_counts",
                                          **common)  # fmt: skip
        self.ema_sums = self.add_weight(shape=(k, d), initializer="zeros", name="ema_sums",
                                        **common)  # fmt: skip
        # Updates since each code was last picked; starting at dead_code_steps makes the
        # first update restart every code the first batch does not use.
        self.idle_steps = self.add_weight(
            shape=(k,),
            initializer=keras.initializers.Constant(float(self.dead_code_steps)),
            name="idle_steps",
            **common,
        )
        self.built = True

    def _check(self, z):
        if z.shape[-1] != self.embed_dim:
            raise ValueError(
                f"latents have shape {tuple(z.shape)}; expected [..., embed_dim={self.embed_dim}]"
            )

    def nearest(self, z):
        """int32 codes ``[...]`` of the nearest codebook entries of ``z`` ``[..., D]``."""
        self._check(z)
        flat = ops.reshape(ops.cast(z, "float32"), (-1, self.embed_dim))
        book = ops.convert_to_tensor(self.codebook)
        # ||z - e||^2 = ||z||^2 - 2 z.e + ||e||^2; the ||z||^2 term does not change the argmin.
        scores = ops.sum(ops.square(book), axis=1)[None, :] - 2.0 * ops.matmul(
            flat, ops.transpose(book)
        )
        # tf.argmin: Keras' argmin adds bitwise ops (for -0.0) that LiteRT has no kernel for.
        codes = tf.argmin(scores, axis=1, output_type=tf.int32)
        return ops.reshape(codes, ops.shape(z)[:-1])

    def lookup(self, codes):
        """The codebook vectors ``[..., D]`` of int codes ``[...]``."""
        return ops.take(self.codebook, ops.cast(codes, "int32"), axis=0)

    def call(self, z):
        codes = self.nearest(z)
        z = ops.cast(z, "float32")
        quantized = self.lookup(codes)
        return z + ops.stop_gradient(quantized - z), codes

    def compute_output_spec(self, z):
        return (
            keras.KerasTensor(z.shape, "float32"),
            keras.KerasTensor(z.shape[:-1], "int32"),
        )

    def update(self, latents, codes, seed):
        """One EMA step of the codebook and the dead-code restarts (after a training step).

        Args:
            latents: the encoder outputs ``[..., D]`` the step quantised.
            codes: their codes ``[...]``.
            seed: int ``[2]``, the stateless seed of the restart draw (a pure function of
                the step, so a resumed run restarts the codes the original would).

        Returns:
            ``{"perplexity", "used_codes", "restarted"}`` of the global batch: the code
            perplexity, the fraction of codes it used, the number of codes restarted.
        """
        k, d = self.codebook_size, self.embed_dim
        flat = tf.reshape(tf.stop_gradient(tf.cast(latents, tf.float32)), [-1, d])
        onehot = tf.one_hot(tf.reshape(tf.cast(codes, tf.int32), [-1]), k, dtype=tf.float32)
        counts = _replica_sum(tf.reduce_sum(onehot, axis=0))  # [K]
        sums = _replica_sum(tf.matmul(onehot, flat, transpose_a=True))  # [K, D]
        ema_counts = self.decay * self.ema_counts + (1.0 - self.decay) * counts
        ema_sums = self.decay * self.ema_sums + (1.0 - self.decay) * sums
        n = tf.reduce_sum(ema_counts)
        smoothed = (ema_counts + self.epsilon) / (n + k * self.epsilon) * n
        codebook = ema_sums / tf.maximum(smoothed, 1e-12)[:, None]

        used = counts > 0
        idle = tf.where(used, tf.zeros_like(counts), self.idle_steps + 1.0)
        dead = idle >= float(self.dead_code_steps)
        # Restart candidates: distinct encoder outputs of the batch drawn with probability
        # proportional to their squared distance to their code (k-means++ seeding, by the
        # Gumbel top-k trick), so that restarts go where the codebook is poor rather than
        # to the background most vectors are; cycled when the batch has fewer than K.
        # The global batch's vectors on every replica: the same restarts on any number
        # of replicas as on one device.
        flat_codes = tf.reshape(tf.cast(codes, tf.int32), [-1])
        error = tf.reduce_sum(tf.square(flat - tf.gather(self.codebook, flat_codes)), axis=1)
        candidates, error = _replica_concat(flat), _replica_concat(error)
        m = tf.shape(candidates)[0]
        u = tf.random.stateless_uniform([m], seed=tf.cast(seed, tf.int64), minval=1e-7, maxval=1.0)
        keys = tf.math.log(error + 1e-12) - tf.math.log(-tf.math.log(u))
        order = tf.argsort(keys, direction="DESCENDING")
        picks = tf.gather(candidates, tf.gather(order, tf.range(k) % m))
        dead_rows = dead[:, None]
        # A restarted code counts as one vector at its new place.
        self.codebook.assign(tf.where(dead_rows, picks, codebook))
        self.ema_sums.assign(tf.where(dead_rows, picks, ema_sums))
        self.ema_counts.assign(tf.where(dead, tf.ones_like(ema_counts), ema_counts))
        self.idle_steps.assign(tf.where(dead, tf.zeros_like(idle), idle))
        return {
            "perplexity": code_perplexity(counts),
            "used_codes": tf.reduce_mean(tf.cast(used, tf.float32)),
            "restarted": tf.reduce_sum(tf.cast(dead, tf.float32)),
        }

    def get_config(self):
        config = super().get_config()
        config.update(
            codebook_size=self.codebook_size,
            embed_dim=self.embed_dim,
            decay=self.decay,
            epsilon=self.epsilon,
            dead_code_steps=self.dead_code_steps,
        )
        return config


# -------------------------------------------------------------------- VQ-VAE
def _relu(x):
    return ops.maximum(x, 0.0)


def temporal_levels(temporal_stride, levels):
    """``log2(temporal_stride)``: how many of the ``levels`` strided convolutions halve
    time; one-line ValueError unless it is a power of two with at most ``levels``."""
    check_positive(temporal_stride=temporal_stride)
    n = int(round(math.log2(temporal_stride)))
    if 2**n != temporal_stride or n > levels:
        raise ValueError(
            f"temporal_stride={temporal_stride} must be a power of two up to "
            f"2**levels={2**levels} (one halving of time per strided convolution)"
        )
    return n


@keras.saving.register_keras_serializable(package="keras_vgan")
class VQVAE(keras.Model):
    """A 3D-convolutional VQ-VAE: clips -> int32 codes -> clips (see the module docstring).

    Args:
        frames, size, channels: the clips it is built for (``[B, frames, size, size,
            channels]``; other multiples of the strides encode too).
        widths: encoder channels after each strided convolution, finest first (the
            decoder mirrors them); the frame shrinks by ``2**len(widths)``.
        temporal_stride: how much time shrinks (a power of two, at most
            ``2**len(widths)``).
        codebook_size, embed_dim: ``K`` codes of ``D`` numbers.
        res_blocks: residual blocks at the coarsest level, in the encoder and decoder.
        decay, epsilon, dead_code_steps: the codebook's EMA and restarts
            (``VectorQuantizer``).
        output_bias: the initial bias of the output layer: the decoder starts out at
            this pixel value. -1 (the background) for the built-in sets, whose clips
            are ~90% background: from 0 the first few hundred Adam steps go to moving
            that bias alone (about lr per step).
    """

    def __init__(self, frames=16, size=32, channels=1, widths=(16, 32), temporal_stride=2,
                 codebook_size=512, embed_dim=64, res_blocks=2, decay=0.99, epsilon=1e-5,
                 dead_code_steps=100, output_bias=0.0, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        widths = check_widths(widths)
        check_positive(frames=frames, channels=channels)
        if isinstance(res_blocks, bool) or not isinstance(res_blocks, int) or res_blocks < 0:
            raise ValueError(f"res_blocks={res_blocks!r} must be an integer >= 0")
        levels = len(widths)
        self._time_levels = temporal_levels(temporal_stride, levels)
        check_frame_size(size, levels)
        if frames % temporal_stride:
            raise ValueError(
                f"frames={frames} must be a multiple of temporal_stride={temporal_stride}"
            )
        # === Config ===
        self.frames, self.size, self.channels = frames, size, channels
        self.widths = widths
        self.temporal_stride = temporal_stride
        self.codebook_size = codebook_size
        self.embed_dim = embed_dim
        self.res_blocks = res_blocks
        self.decay, self.epsilon = float(decay), float(epsilon)
        self.dead_code_steps = dead_code_steps
        self.output_bias = float(output_bias)
        self.spatial_stride = 2**levels
        # === Layers ===
        conv = keras.layers.Conv3D
        top = widths[-1]

        def strides(i):
            return (2 if i < self._time_levels else 1, 2, 2)

        def kernel(i):  # even kernels where a dimension is halved (no checkerboard)
            return (4 if strides(i)[0] == 2 else 3, 4, 4)

        self.enc_stem = conv(widths[0], 3, padding="same", name="enc_stem")
        self.enc_down = [
            conv(w, kernel(i), strides=strides(i), padding="same", name=f"enc_down{i}")
            for i, w in enumerate(widths)
        ]
        self.enc_res = [self._res_block(top, f"enc_res{i}") for i in range(res_blocks)]
        self.enc_out = conv(embed_dim, 1, name="enc_out")
        self.quantizer = VectorQuantizer(
            codebook_size, embed_dim, decay=decay, epsilon=epsilon,
            dead_code_steps=dead_code_steps, name="quantizer",
        )  # fmt: skip
        self.dec_in = conv(top, 3, padding="same", name="dec_in")
        self.dec_res = [self._res_block(top, f"dec_res{i}") for i in range(res_blocks)]
        up_widths = (widths[0],) + widths[:-1]  # what each up-sampling level gives
        self.dec_up = [
            keras.layers.Conv3DTranspose(
                up_widths[i], kernel(i), strides=strides(i), padding="same", name=f"dec_up{i}"
            )
            for i in reversed(range(levels))
        ]
        self.dec_out = conv(channels, 3, padding="same", name="dec_out",
                            bias_initializer=keras.initializers.Constant(self.output_bias))  # fmt: skip
        self.build(None)

    @staticmethod
    def _res_block(width, name):
        return (
            keras.layers.Conv3D(width, 3, padding="same", name=f"{name}_a"),
            keras.layers.Conv3D(width, 1, name=f"{name}_b"),
        )

    def build(self, input_shape=None):
        shape = (1, self.frames, self.size, self.size, self.channels)
        self._forward(keras.KerasTensor(shape), training=False)
        self.built = True

    # ------------------------------------------------------------- geometry
    def token_shape(self, frames=None, size=None):
        """``(t, h, w)`` of the codes of clips of ``frames`` x ``size`` x ``size`` (default:
        the built clip); one-line ValueError when the strides do not divide them."""
        frames = self.frames if frames is None else frames
        size = self.size if size is None else size
        check_positive(frames=frames, size=size)
        if frames % self.temporal_stride or size % self.spatial_stride:
            raise ValueError(
                f"clips of {frames} frames of {size}x{size} do not tokenize: frames must be a "
                f"multiple of temporal_stride={self.temporal_stride} and size of "
                f"{self.spatial_stride}"
            )
        s = size // self.spatial_stride
        return (frames // self.temporal_stride, s, s)

    @property
    def codebook(self):
        """The code vectors ``[codebook_size, embed_dim]`` (the quantizer's weight)."""
        return self.quantizer.codebook

    @property
    def serving_input_shape(self):
        """``(T, H, W, C)`` of one clip (the export endpoints' input)."""
        return (self.frames, self.size, self.size, self.channels)

    def _check_video(self, video, name="video"):
        shape = tuple(video.shape)
        ok = len(shape) == 5 and shape[-1] == self.channels
        if ok and None not in shape[1:4]:
            t, h, w = shape[1:4]
            ok = h == w and not t % self.temporal_stride and not h % self.spatial_stride
        if not ok:
            raise ValueError(
                f"{name} has shape {shape}; expected [B, T, H, H, {self.channels}] with T a "
                f"multiple of {self.temporal_stride} and H of {self.spatial_stride}"
            )

    def _check_codes(self, codes):
        if len(codes.shape) != 4 or not np.issubdtype(np.dtype(ops.dtype(codes)), np.integer):
            raise ValueError(
                f"codes have shape {tuple(codes.shape)} and dtype {ops.dtype(codes)}; "
                "expected integer codes [B, t, h, w]"
            )
        if isinstance(codes, np.ndarray) and codes.size:
            low, high = int(codes.min()), int(codes.max())
            if low < 0 or high >= self.codebook_size:
                raise ValueError(
                    f"codes span [{low}, {high}]; expected codes in [0, {self.codebook_size})"
                )

    # ---------------------------------------------------------------- nets
    def _res(self, blocks, x):
        for a, b in blocks:
            x = x + b(_relu(a(_relu(x))))
        return x

    def embed(self, video, training=False):
        """The encoder's continuous latents ``[B, t, h, w, D]`` of clips in [-1, 1]."""
        x = _relu(self.enc_stem(ops.cast(video, self.compute_dtype)))
        for layer in self.enc_down:
            x = _relu(layer(x))
        x = _relu(self._res(self.enc_res, x))
        return self.enc_out(x)

    def decode_latents(self, quantized, training=False):
        """Clips ``[B, T, H, W, C]`` in [-1, 1] of quantised latents ``[B, t, h, w, D]``."""
        x = self.dec_in(ops.cast(quantized, self.compute_dtype))
        x = _relu(self._res(self.dec_res, x))
        for layer in self.dec_up:
            x = _relu(layer(x))
        return bounded(ops.cast(self.dec_out(x), "float32"))

    def _forward(self, video, training=False):
        latents = ops.cast(self.embed(video, training), "float32")
        quantized, codes = self.quantizer(latents)
        commitment = ops.mean(ops.square(latents - ops.stop_gradient(quantized)))
        return {
            "video": self.decode_latents(quantized, training),
            "latents": latents,
            "codes": codes,
            "commitment": commitment,
        }

    def forward(self, video, training=False):
        """Everything a training step needs: ``{"video"`` (the reconstruction),
        ``"latents"`` (encoder outputs), ``"codes"``, ``"commitment"`` (the loss)}``."""
        self._check_video(video)
        return self._forward(video, training)

    def call(self, video, training=False):
        """The reconstruction ``[B, T, H, W, C]`` of clips ``video`` in [-1, 1]."""
        return self.forward(video, training)["video"]

    def compute_output_spec(self, video, training=False):
        return keras.KerasTensor(video.shape, "float32")

    def encode(self, video):
        """int32 codes ``[B, t, h, w]`` of clips ``[B, T, H, W, C]`` in [-1, 1]."""
        self._check_video(video)
        return self.quantizer.nearest(self.embed(video))

    def decode(self, codes):
        """Clips ``[B, T, H, W, C]`` in [-1, 1] of int codes ``[B, t, h, w]``."""
        self._check_codes(codes)
        return self.decode_latents(self.quantizer.lookup(codes))

    def get_config(self):
        config = super().get_config()
        config.update(
            frames=self.frames,
            size=self.size,
            channels=self.channels,
            widths=list(self.widths),
            temporal_stride=self.temporal_stride,
            codebook_size=self.codebook_size,
            embed_dim=self.embed_dim,
            res_blocks=self.res_blocks,
            decay=self.decay,
            epsilon=self.epsilon,
            dead_code_steps=self.dead_code_steps,
            output_bias=self.output_bias,
        )
        return config


# ------------------------------------------------------------------ loading
def load_tokenizer(path):
    """The trained ``VQVAE`` of a run directory of ``python -m training`` (its
    ``model.keras``, else its newest checkpoint), a checkpoint, or a ``.keras`` file of
    the engine or of the network alone. From an engine, its EMA copy (what it samples
    and serves with).

    Raises:
        ValueError: one line naming the path, when it holds no tokenizer.
    """
    import os

    # Imported here: models are leaves, the loaders sit above them.
    from keras_vgan.export.load import load_checkpoint, load_keras, load_run

    path = os.fspath(path)
    if os.path.isfile(path) and path.endswith(".keras"):
        try:
            model = keras.saving.load_model(path)
        except Exception:  # noqa: BLE001  (load_keras words the failure in one line)
            model = load_keras(path)
    elif os.path.isdir(os.path.join(path, "checkpoints")) or os.path.exists(
        os.path.join(path, "model.keras")
    ):
        model = load_run(path)
    elif os.path.isdir(path):
        model = load_checkpoint(path)
    else:
        raise ValueError(
            f"tokenizer {path!r} is neither a run directory, a checkpoint nor a .keras file"
        )
    if isinstance(model, VQVAE):
        return model
    net = getattr(model, "ema_generator", None)
    if not isinstance(net, VQVAE):
        raise ValueError(f"{path!r} holds a {type(model).__name__}, not a VQ-VAE tokenizer")
    return net


# -------------------------------------------------------------- registration
def check_config(config):
    """The tokenizer's fields: geometry, the codebook, the commitment weight."""
    levels = config.depth
    temporal_levels(config.temporal_stride, levels)
    check_frame_size(config.size, levels)
    if config.frames % config.temporal_stride:
        raise ValueError(
            f"frames={config.frames} must be a multiple of temporal_stride={config.temporal_stride}"
        )
    if config.codebook_size < 2:
        raise ValueError(f"codebook_size={config.codebook_size!r} must be an integer >= 2")
    check_positive(dead_code_steps=config.dead_code_steps)
    if not 0.0 <= config.codebook_decay < 1.0:
        raise ValueError(f"codebook_decay={config.codebook_decay!r} must be in [0, 1)")
    if not config.commitment_weight >= 0:
        raise ValueError(f"commitment_weight={config.commitment_weight!r} must be >= 0")
    if config.eval_every:
        raise ValueError(
            f"eval_every={config.eval_every}: model='vqvae' is a tokenizer, it has no samples "
            "to score (python -m training.evaluate_tasks --run RUN_DIR reports its PSNR/SSIM)"
        )


def build_networks(config):
    """``(VQVAE, None)``: ``depth`` strided levels of ``width * 2**i`` channels, codes of
    ``latent_dim`` numbers."""
    net = VQVAE(
        frames=config.frames,
        size=config.size,
        channels=config.channels,
        widths=config.widths(finest_first=True),
        temporal_stride=config.temporal_stride,
        codebook_size=config.codebook_size,
        embed_dim=config.latent_dim,
        decay=config.codebook_decay,
        dead_code_steps=config.dead_code_steps,
        # The built-in sets are dark backgrounds with bright objects: start there.
        output_bias=-1.0 if config.data in ("moving_mnist", "shapes") else 0.0,
        name="generator",
    )
    return net, None


def build_model(config, networks):
    """The compiled ``tokenizer.VideoTokenizer`` of a vqvae config (imported here: models
    are leaves, the engine is above them)."""
    from keras_vgan.tokenizer import build_tokenizer

    return build_tokenizer(config, networks)


def sample_callback(config, model, run_dir, data):
    """Reconstruction panels (``tokenizer.sample_callback``)."""
    from keras_vgan.tokenizer import sample_callback as samples

    return samples(config, model, run_dir, data)


TOKENS_SERVING = registry.Serving("tokens", "reconstruct")
registry.register(
    registry.ModelFamily(
        name="vqvae",
        build=build_networks,
        generators=(VQVAE,),
        check=check_config,
        serving=TOKENS_SERVING,
        d_norms=("batch", "layer", "none", "spectral"),  # no discriminator: any value
        build_model=build_model,
        samples=sample_callback,
    )
)
