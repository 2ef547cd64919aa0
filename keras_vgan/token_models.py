"""The token models' engine: ``TokenModel``, a ``keras.Model`` for ``model.fit`` on clips.

It trains a transformer over a frozen VQ-VAE's codes (``keras_vgan.models.vqvae``):
MaskGIT (``models.maskgit``, masked bidirectional) or VideoGPT (``models.videogpt``,
causal autoregressive). The tokenizer is a sub-model: each batch of clips is encoded
into tokens inside ``train_step``, so the data path is the clip path every source
shares (the prediction task's ``(context, future)`` pairs are joined in time, as the VAE
engine does: ``variational.unpack_vae_batch``), and a ``.keras`` file of the engine holds
the tokenizer it samples through.

One optimizer, one loss: the cross-entropy of the transformer's logits at the positions
its family trains (``generator.corrupt``: every token for VideoGPT, the masked ones for
MaskGIT), averaged over them. Logged (``Mean`` metrics):

* ``loss``: that cross-entropy, nats per predicted token;
* ``accuracy``: the share of predicted tokens whose argmax is right;
* ``nll_token`` / ``nll_frame`` (VideoGPT only: ``generator.likelihood``): the NLL of
  the clip's tokens in nats per token, and per video frame (times ``L / frames``).
  It is the likelihood of the codes, not of the pixels (a VQ-VAE gives no pixel
  likelihood), so it compares token models on one tokenizer only.

Distribution scaling, the EMA generator, trackers and serialisation come from
``engine.GenerativeModel``; the MaskGIT masks are one counter-based draw per step.

Sampling (EMA weights by default; ``temperature`` / ``top_k`` default to the engine's):

* ``generate(z)``: unconditional clips ``[B, frames, H, W, C]``; ``z`` ``[B, latent_dim]``
  standard normal, the sampler's uniforms through the normal CDF
  (``layers.sampling.uniforms_from_normal``), so the model serves like a GAN;
* ``generate(context, seed=s)`` / ``predict_samples(context, n)``: the future frames
  after ``context_frames`` context frames, whose tokens are given and kept; ``noise=``
  ``[B, 1, latent_dim]`` gives the normals explicitly (``Serving("vae")`` endpoints).

The sampler (``generator.sample``: a ``tf.while_loop`` of a fixed number of steps), the
context's encoding and the decoding run in one ``tf.function`` per setting.
"""

import functools
import math
import os

import keras
import tensorflow as tf
from keras import ops

from keras_vgan.engine import GenerativeModel
from keras_vgan.layers.checks import check_positive
from keras_vgan.layers.sampling import check_sampling, uniforms_from_normal
from keras_vgan.variational import SampledFutures, prediction_noise, unpack_vae_batch

LOGS = ("loss", "accuracy", "nll_token", "nll_frame")


def token_cross_entropy(logits, targets, weights):
    """``(mean cross-entropy, accuracy)`` over the positions of ``weights`` > 0.

    Args:
        logits: ``[B, L, V]``.
        targets: int ``[B, L]``.
        weights: ``[B, L]``, 1 where a position is predicted (0 elsewhere).
    """
    logits = tf.cast(logits, tf.float32)
    targets = tf.cast(targets, tf.int32)
    weights = tf.cast(weights, tf.float32)
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(targets, logits)
    hit = tf.cast(tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), targets), tf.float32)
    total = tf.maximum(tf.reduce_sum(weights), 1.0)
    return tf.reduce_sum(ce * weights) / total, tf.reduce_sum(hit * weights) / total


@keras.saving.register_keras_serializable(package="keras_vgan")
class TokenModel(SampledFutures, GenerativeModel):
    """A token transformer over a frozen tokenizer, trained with ``fit``; see the module.

    Args:
        generator: a ``MaskGITTransformer`` or ``VideoGPTTransformer`` on the tokenizer's
            grid and codebook.
        tokenizer: a trained ``VQVAE`` (``encode``, ``decode``, ``token_shape``,
            ``codebook_size``); frozen.
        ema_decay: decay of the moving average of the transformer's weights (0: none).
        seed: base seed (the MaskGIT masks; the noise of ``generate(num=...)``).
        conditional: batches carry a class label per clip.
        temperature: default sampling temperature (0: the argmax).
        top_k: default top-k of sampling (0: every token; 1: greedy).
    """

    NETWORKS = ("generator", "tokenizer")
    discriminator = None  # no adversary (what code that treats every engine alike reads)

    def __init__(self, generator, tokenizer, ema_decay=0.999, seed=0, conditional=False,
                 temperature=1.0, top_k=0, **kwargs):  # fmt: skip
        super().__init__(
            {"generator": generator, "tokenizer": tokenizer},
            ema_decay=ema_decay,
            seed=seed,
            **kwargs,
        )
        tokenizer.trainable = False  # frozen: its codes are the data
        check_tokenizer_matches(tokenizer, generator)
        self.conditional = bool(conditional)
        if self.conditional and not generator.num_classes:
            raise ValueError("conditional=True needs a generator with num_classes > 0")
        check_sampling(top_k, temperature)
        self.temperature = float(temperature)
        self.top_k = top_k
        self.condition = "time"  # samples show the context before the future
        logs = LOGS if generator.likelihood else LOGS[:2]
        self._set_trackers(LOGS, logs)
        self._samplers = {}
        self.build()

    def build(self, input_shape=None):
        if not self.tokenizer.built:  # a tokenizer rebuilt from its config (loading)
            net = self.generator
            self.tokenizer.encode(ops.zeros((1, net.frames, net.size, net.size, net.channels)))
        super().build()

    @property
    def latent_dim(self):
        """Normals of one sample: the sampler's uniforms (``generator.noise_size``)."""
        return self.generator.noise_size

    @property
    def frames(self):
        return self.generator.frames

    # ---------------------------------------------------------------- compile
    def compile(self, g_optimizer=None, **kwargs):
        """Configures training.

        Args:
            g_optimizer: optimizer (or identifier); Adam(2e-4, beta_1=0.5) by default.
            **kwargs: passed to ``keras.Model.compile`` (e.g. ``jit_compile``).
        """
        self._compile_engine({"g_optimizer": g_optimizer}, {}, **kwargs)

    # ------------------------------------------------------------------ step
    def encode(self, clips, name="clips", frames=None):
        """Token ids ``[B, L']`` of clips ``[B, T, H, W, C]`` (``T`` = ``frames``, default
        the model's), flattened row-major; one-line ValueError for another shape."""
        net = self.generator
        frames = net.frames if frames is None else frames
        want = (frames, net.size, net.size, net.channels)
        if len(clips.shape) != 5 or tuple(clips.shape[1:]) != want:
            raise ValueError(
                f"{name} has shape {tuple(clips.shape)}; expected [B, {', '.join(map(str, want))}]"
            )
        codes = self.tokenizer.encode(tf.cast(clips, tf.float32))
        codes = tf.stop_gradient(tf.cast(codes, tf.int32))
        t, h, w = net.token_grid(frames)
        return tf.reshape(codes, [-1, t * h * w])  # a static length: the sampler's loops

    def _labels(self, labels):
        if not self.conditional:
            return None
        if labels is None:
            raise ValueError("a conditional TokenModel needs labels in every batch")
        return labels

    def _terms(self, net, data, noise_fn, training):
        clips, labels = unpack_vae_batch(data)
        labels = self._labels(labels)
        tokens = self.encode(clips)
        size = net.corrupt_noise_size
        noise = noise_fn([tf.shape(tokens)[0], size]) if size else None
        inputs, weights = net.corrupt(tokens, noise, context_tokens=net.context_tokens)
        logits = net(inputs, labels=labels, training=training)
        return token_cross_entropy(logits, tokens, weights)

    def _logs(self, loss, accuracy):
        logs = dict(loss=loss, accuracy=accuracy)
        if self.generator.likelihood:
            logs.update(nll_token=loss, nll_frame=loss * self.generator.tokens_per_frame)
        return self._results(logs)

    def train_step(self, data):
        step = self.g_optimizer.iterations
        variables = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            loss, accuracy = self._terms(
                self.generator, data, lambda s: self._random("uniform", s, step, 0), True
            )
            scaled = self.scaled_loss(loss, self.g_optimizer)
        self.apply_scaled_gradients(tape, scaled, self.g_optimizer, variables)
        self._update_ema()
        return self._logs(loss, accuracy)

    def test_step(self, data):
        """The loss of the EMA transformer with fixed masks (``evaluate``): held-out NLL."""

        def noise(shape):
            return tf.random.stateless_uniform(shape, seed=tf.constant([self.seed, -1], tf.int64))

        return self._logs(*self._terms(self.ema_generator, data, noise, False))

    def held_out_nll(self, batches):
        """The prediction protocol's likelihood over held-out ``(context, future)`` pairs
        (``((context, labels), future)`` when conditional), EMA weights: the NLL of the
        future's tokens given the context's, in nats per future frame and per token, and
        bits per token (``bits_dim``: a token is a token model's dimension); ``{}`` for a
        family without a likelihood (MaskGIT). What ``training.evaluate_tasks`` reports."""
        net = self.ema_generator
        if not net.likelihood:
            return {}
        total, clips = 0.0, 0
        start = net.context_tokens
        for x, y in batches:
            context, labels = x if isinstance(x, (tuple, list)) else (x, None)
            clip = tf.concat([tf.cast(context, tf.float32), tf.cast(y, tf.float32)], axis=1)
            tokens = self.encode(clip)
            logits = tf.cast(net(tokens, labels=self._labels(labels)), tf.float32)
            ce = tf.nn.sparse_softmax_cross_entropy_with_logits(tokens, logits)
            total += float(tf.reduce_sum(ce[:, start:]))
            clips += int(ce.shape[0])
        if not clips:
            raise ValueError("held-out batches are empty: no clips to score")
        per_token = total / (clips * (net.length - start))
        return {
            "nll_frame": total / (clips * net.target_frames),
            "nll_token": per_token,
            "bits_dim": per_token / math.log(2.0),
            "nll_clips": clips,
        }

    # -------------------------------------------------------------- sampling
    def sample_noise(self, num, seed=0):
        """``num`` noise vectors ``[num, latent_dim]`` for an integer seed."""
        return keras.random.normal((num, self.latent_dim), seed=seed)

    def call(self, z, labels=None, training=False):
        return self.generate(z, labels=labels)

    def _cycled(self, labels, batch):
        if self.conditional and labels is None:
            return tf.range(batch) % self.generator.num_classes
        return labels if self.conditional else None

    def _sampler(self, use_ema, top_k, temperature, context):
        """The ``tf.function`` ``(z[, labels][, context clips]) -> clips`` of one setting
        (fixed signatures: any batch size, one trace)."""
        key = (bool(use_ema), top_k, temperature, bool(context))
        if key not in self._samplers:
            net = self.ema_generator if use_ema else self.generator
            specs = [tf.TensorSpec((None, self.latent_dim), tf.float32)]
            if self.conditional:
                specs.append(tf.TensorSpec((None,), tf.int32))
            if context:
                specs.append(tf.TensorSpec((None, *net.serving_input_shape), tf.float32))

            def run(z, *rest):
                rest = list(rest)
                labels = rest.pop(0) if self.conditional else None
                tokens = None
                if context:
                    tokens = self.encode(rest.pop(0), "context", frames=net.context_frames)
                u = uniforms_from_normal(z)
                out = net.sample(u, labels=labels, context=tokens, top_k=top_k,
                                 temperature=temperature)  # fmt: skip
                t, h, w = net.grid
                video = self.tokenizer.decode(tf.reshape(out, [-1, t, h, w]))
                return tf.cast(video, tf.float32)

            # autograph off: the loops are explicit tf.while_loops, the Python is static.
            self._samplers[key] = tf.function(run, input_signature=specs, autograph=False)
        return self._samplers[key]

    def _run(self, use_ema, top_k, temperature, z, labels, context=None):
        args = [z]
        if self.conditional:
            args.append(tf.cast(tf.reshape(labels, [-1]), tf.int32))
        if context is not None:
            args.append(context)
        return self._sampler(use_ema, top_k, temperature, context is not None)(*args)

    def generate(self, inputs=None, labels=None, num=None, seed=0, use_ema=True, frames=None,
                 noise=None, sample=0, top_k=None, temperature=None):  # fmt: skip
        """Unconditional clips from noise, or futures after context frames.

        Args:
            inputs: noise ``[B, latent_dim]`` (None: ``num`` clips drawn from ``seed``):
                clips ``[B, frames, H, W, C]``; or context ``[B, context_frames, H, W, C]``:
                the ``target_frames`` frames after it.
            labels: int labels ``[B]`` of a conditional model (None cycles the classes).
            num, seed: clips / the noise seed when no noise is given.
            use_ema: sample with the moving-average weights (the default).
            frames: prediction: must be the trained ``target_frames`` if given (the token
                grid is fixed).
            noise: prediction: the normals ``[B, 1, latent_dim]`` (default: drawn from
                ``(seed, sample)``, ``variational.prediction_noise``).
            sample: prediction: which of the seed's samples (``predict_samples``).
            top_k, temperature: sampling (default: the engine's).
        """
        net = self.ema_generator if use_ema else self.generator
        top_k = self.top_k if top_k is None else top_k
        temperature = self.temperature if temperature is None else temperature
        check_sampling(top_k, temperature)
        if inputs is not None and len(inputs.shape) == 5:
            if frames is not None and frames != net.target_frames:
                raise ValueError(
                    f"frames={frames}: a token model predicts its trained {net.target_frames} "
                    "frames (its token grid is fixed)"
                )
            if tuple(inputs.shape[1:]) != net.serving_input_shape:
                want = ", ".join(map(str, net.serving_input_shape))
                raise ValueError(f"context has shape {tuple(inputs.shape)}; expected [B, {want}]")
            context = tf.cast(inputs, tf.float32)
            batch = tf.shape(context)[0]
            if noise is None:
                noise = prediction_noise(batch, 1, self.latent_dim, seed, sample)
            z = tf.reshape(tf.cast(noise, tf.float32), [-1, self.latent_dim])
            video = self._run(use_ema, top_k, temperature, z, self._cycled(labels, batch),
                              context)  # fmt: skip
            return video[:, net.context_frames :]
        if frames is not None and frames != net.frames:
            raise ValueError(f"frames={frames}: unconditional clips have the trained {net.frames}")
        z = self.sample_noise(num or 1, seed=seed) if inputs is None else inputs
        z = tf.cast(z, tf.float32)
        if len(z.shape) != 2 or z.shape[-1] != self.latent_dim:
            raise ValueError(f"z has shape {tuple(z.shape)}; expected [B, {self.latent_dim}]")
        return self._run(use_ema, top_k, temperature, z, self._cycled(labels, tf.shape(z)[0]))

    # ---------------------------------------------------------------- config
    def get_config(self):
        config = super().get_config()
        config.update(conditional=self.conditional, temperature=self.temperature,
                      top_k=self.top_k)  # fmt: skip
        return config


# ---------------------------------------------------------------- tokenizer
def check_tokenizer_matches(tokenizer, generator):
    """One-line ValueError unless ``generator`` models ``tokenizer``'s codes of its clips."""
    for name in ("encode", "decode", "token_shape", "codebook_size"):
        if not hasattr(tokenizer, name):
            raise ValueError(
                f"tokenizer is a {type(tokenizer).__name__} without {name}: expected a VQVAE"
            )
    grid = tuple(int(g) for g in tokenizer.token_shape(generator.frames, generator.size))
    if grid != tuple(generator.grid) or int(tokenizer.codebook_size) != generator.vocab_size:
        raise ValueError(
            f"the tokenizer gives a {grid} grid of {tokenizer.codebook_size} codes for "
            f"{generator.frames} frames of {generator.size}x{generator.size}; the transformer "
            f"models a {tuple(generator.grid)} grid of {generator.vocab_size}"
        )


def open_tokenizer(path):
    """The trained ``VQVAE`` of ``path`` (a vqvae run directory or a .keras file);
    one-line ValueError naming the ``tokenizer`` field otherwise."""
    hint = "a trained vqvae run (python -m training --preset vqvae_moving_mnist) or its .keras"
    if not isinstance(path, str) or not path:
        raise ValueError(f"tokenizer={path!r}: the token models need --tokenizer, {hint}")
    if not os.path.exists(os.path.expanduser(path)):
        raise ValueError(f"tokenizer={path!r} does not exist; expected {hint}")
    from keras_vgan.models import vqvae  # noqa: PLC0415  (the tokenizer's own loader)

    try:
        tokenizer = vqvae.load_tokenizer(os.path.expanduser(path))
    except Exception as e:  # a foreign run, a corrupt file: one line, naming the field
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ValueError(f"tokenizer={path!r} is not {hint}: {first}") from None
    if not isinstance(tokenizer, vqvae.VQVAE):
        raise ValueError(f"tokenizer={path!r} holds a {type(tokenizer).__name__}, not a VQVAE")
    return tokenizer


def _stamp(path):
    path = os.path.abspath(os.path.expanduser(path))
    try:
        return path, os.stat(path).st_mtime_ns
    except OSError:
        return path, None


@functools.lru_cache(maxsize=8)
def _facts(path, stamp):
    tokenizer = open_tokenizer(path)
    return tokenizer, int(tokenizer.codebook_size)


def tokenizer_facts(config):
    """``(grid, codebook_size)`` of the config's tokenizer for its frames and size (the
    tokenizer is loaded once per path and modification time)."""
    tokenizer, codebook = _facts(config.tokenizer, _stamp(config.tokenizer))
    try:
        grid = tuple(int(g) for g in tokenizer.token_shape(config.frames, config.size))
    except ValueError as e:
        raise ValueError(
            f"frames={config.frames}, size={config.size} do not fit tokenizer="
            f"{config.tokenizer!r}: {str(e).splitlines()[0]}"
        ) from None
    channels = getattr(tokenizer, "channels", config.channels)
    if int(channels) != config.channels:
        raise ValueError(
            f"channels={config.channels}: tokenizer={config.tokenizer!r} codes {channels}-channel "
            "clips"
        )
    return grid, codebook


# ---------------------------------------------------------------- registration
def check_token_config(config):
    """The token families' fields: the tokenizer and the geometry it gives, the
    transformer, sampling, and labels from built-in data only."""
    check_positive(heads=config.heads, decode_steps=config.decode_steps)
    if config.width % config.heads:
        raise ValueError(f"width={config.width} must be a multiple of heads={config.heads}")
    check_sampling(config.top_k, config.temperature)
    if not 1 <= config.context_frames < config.frames:
        raise ValueError(
            f"context_frames={config.context_frames} must be in [1, frames={config.frames})"
        )
    if config.num_classes and config.data not in ("moving_mnist", "shapes"):
        raise ValueError(
            f"num_classes={config.num_classes}: the token models take labels from the built-in "
            f"data sets only, not data={config.data!r}"
        )
    (t, _, _), _ = tokenizer_facts(config)
    if config.frames % t or config.context_frames % (config.frames // t):
        raise ValueError(
            f"context_frames={config.context_frames} must be a multiple of "
            f"{config.frames // t if config.frames % t == 0 else '?'} (the tokenizer's frames "
            f"per token frame; frames={config.frames} gives {t} token frames)"
        )


def build_transformer(cls, config, **kwargs):
    """A family's transformer (``cls``) of a checked config, on its tokenizer's grid."""
    grid, codebook = tokenizer_facts(config)
    return cls(
        grid=grid,
        vocab_size=codebook,
        dim=config.width,
        depth=config.depth,
        heads=config.heads,
        num_classes=config.num_classes,
        frames=config.frames,
        size=config.size,
        channels=config.channels,
        context_frames=config.context_frames,
        name="generator",
        **kwargs,
    )


def build_token_model(config, networks):
    """A compiled ``TokenModel`` of a checked config and its ``(transformer, None)``; the
    tokenizer is loaded here (inside the strategy scope of the run)."""
    from keras_vgan.builders import learning_rate  # noqa: PLC0415  (builders import this)

    net = networks[0] if isinstance(networks, (tuple, list)) else networks
    model = TokenModel(
        net,
        open_tokenizer(config.tokenizer),
        ema_decay=config.ema_decay,
        seed=config.seed,
        conditional=config.num_classes > 0,
        temperature=config.temperature,
        top_k=config.top_k,
        name=f"{config.model}_tokens",
    )
    model.compile(
        g_optimizer=keras.optimizers.Adam(
            learning_rate(config, config.g_lr),
            beta_1=config.beta_1,
            beta_2=config.beta_2,
            name="g_adam",
        )
    )
    return model
