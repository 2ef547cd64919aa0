"""The tokenizer engine: ``VideoTokenizer``, a ``keras.Model`` that trains a VQ-VAE with ``fit``.

One optimizer, one loss (van den Oord et al. 2017, with the codebook learnt by EMA
rather than by its loss term)::

    loss = reconstruction + commitment_weight * commitment

``reconstruction`` is the per-pixel mean squared error of the reconstructed clip
([-1, 1] scale), ``commitment`` the network's ``mean ||z - sg(e)||^2``. After the
gradient step the codebook takes its EMA step and restarts dead codes
(``models.vqvae.VectorQuantizer.update``; the restart draw is a pure function of
``(seed, step)``, so a resumed run continues the same stream), then the EMA copy of
the weights moves (``engine.GenerativeModel``; the codebook, a non-trainable weight,
is copied into it). Logged every step: ``loss``, ``reconstruction``,
``commitment``, the code ``perplexity`` and the fraction of codes used
(``used_codes``) in the global batch, and the codes ``restarted``.

Batches are clips ``[B, T, H, W, C]`` from any data source, ``(clips, labels)``
(labels ignored) or prediction pairs (joined in time: ``variational.unpack_vae_batch``).

Inference (EMA weights by default): ``generate(clips)`` / ``reconstruct(clips)``,
``encode(clips) -> codes``, ``decode(codes) -> clips``. ``evaluate_tokenizer`` scores
reconstructions (PSNR, SSIM, MSE of ``keras_vgan.metrics.reconstruction``) and the
code usage of held-out clips (``held_out_clips``).
"""

import math

import keras
import numpy as np
import tensorflow as tf

from keras_vgan.engine import GenerativeModel
from keras_vgan.metrics.reconstruction import SSIM_WINDOW, ReconstructionMetrics
from keras_vgan.models.vqvae import code_perplexity
from keras_vgan.variational import unpack_vae_batch

LOGS = ("loss", "reconstruction", "commitment", "perplexity", "used_codes", "restarted")


@keras.saving.register_keras_serializable(package="keras_vgan")
class VideoTokenizer(GenerativeModel):
    """A ``models.vqvae.VQVAE`` and its EMA copy, trained with ``fit``.

    Args:
        generator: the ``VQVAE``.
        ema_decay: decay of the moving average of the weights (0: none).
        seed: base seed of the counter-based draws (the dead-code restarts).
    """

    discriminator = None  # no adversary (what code that treats every engine alike reads)

    def __init__(self, generator, ema_decay=0.99, seed=0, **kwargs):
        super().__init__({"generator": generator}, ema_decay=ema_decay, seed=seed, **kwargs)
        self.condition = "none"  # samples: input | reconstruction | input
        self._set_trackers(LOGS, LOGS)
        self.build()

    @property
    def codebook_size(self):
        return self.generator.codebook_size

    # ---------------------------------------------------------------- compile
    def compile(self, g_optimizer=None, commitment_weight=0.25, **kwargs):
        """Configures training.

        Args:
            g_optimizer: optimizer (or identifier); Adam(2e-4, beta_1=0.5) by default.
            commitment_weight: beta, the weight of the commitment loss (>= 0).
            **kwargs: passed to ``keras.Model.compile`` (e.g. ``jit_compile``).
        """
        self._compile_engine(
            {"g_optimizer": g_optimizer}, {"commitment_weight": commitment_weight}, **kwargs
        )

    # ------------------------------------------------------------------ step
    def _terms(self, net, data, training):
        clips, _ = unpack_vae_batch(data)
        clips = tf.cast(clips, tf.float32)
        out = net.forward(clips, training=training)
        recon = tf.reduce_mean(tf.square(tf.cast(out["video"], tf.float32) - clips))
        commitment = tf.cast(out["commitment"], tf.float32)
        return out, recon + self.commitment_weight * commitment, recon, commitment

    def train_step(self, data):
        step = tf.identity(self.g_optimizer.iterations)  # before the update moves it
        variables = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            out, loss, recon, commitment = self._terms(self.generator, data, True)
            scaled = self.scaled_loss(loss, self.g_optimizer)
        self.apply_scaled_gradients(tape, scaled, self.g_optimizer, variables)
        seed = tf.stack([tf.constant(self.seed, tf.int64), tf.cast(step, tf.int64)])
        usage = self.generator.quantizer.update(out["latents"], out["codes"], seed)
        self._update_ema()
        return self._results(dict(loss=loss, reconstruction=recon, commitment=commitment, **usage))

    def test_step(self, data):
        """The loss terms and code usage of the EMA network (``evaluate``); no update."""
        out, loss, recon, commitment = self._terms(self.ema_generator, data, False)
        counts = tf.math.bincount(
            tf.reshape(out["codes"], [-1]), minlength=self.codebook_size, dtype=tf.float32
        )
        return self._results(
            dict(
                loss=loss,
                reconstruction=recon,
                commitment=commitment,
                perplexity=code_perplexity(counts),
                used_codes=tf.reduce_mean(tf.cast(counts > 0, tf.float32)),
                restarted=tf.zeros([]),
            )
        )

    # -------------------------------------------------------------- inference
    def _net(self, use_ema):
        return self.ema_generator if use_ema else self.generator

    def call(self, clips, training=False):
        return self.ema_generator(clips, training=training)

    def generate(self, inputs, use_ema=True):
        """Reconstructions ``[B, T, H, W, C]`` of clips ``inputs`` (what the sample
        callbacks and the export endpoints call)."""
        return self._net(use_ema)(tf.cast(inputs, tf.float32))

    reconstruct = generate

    def encode(self, clips, use_ema=True):
        """int32 codes ``[B, t, h, w]`` of clips."""
        return self._net(use_ema).encode(tf.cast(clips, tf.float32))

    def decode(self, codes, use_ema=True):
        """Clips ``[B, T, H, W, C]`` of int codes ``[B, t, h, w]``."""
        return self._net(use_ema).decode(codes)


def build_tokenizer(config, networks):
    """A compiled ``VideoTokenizer`` of a checked vqvae config and its ``(VQVAE, None)``."""
    from keras_vgan.builders import learning_rate  # the run's lr_schedule

    net = networks[0] if isinstance(networks, (tuple, list)) else networks
    model = VideoTokenizer(net, ema_decay=config.ema_decay, seed=config.seed,
                           name=f"{config.model}_tokenizer")  # fmt: skip
    model.compile(
        g_optimizer=keras.optimizers.Adam(
            learning_rate(config, config.g_lr),
            beta_1=config.beta_1,
            beta_2=config.beta_2,
            name="g_adam",
        ),
        commitment_weight=config.commitment_weight,
    )
    return model


def sample_callback(config, model, run_dir, data):
    """The run's sample files: input | reconstruction | input panels of a fixed batch of
    ``num_samples`` clips (``held_out_clips`` with seed + 1: held-out digits for Moving
    MNIST; data on disk has no split) through ``callbacks.TaskSamples`` (TensorBoard too)."""
    import os

    from keras_vgan.callbacks import TaskSamples  # the callbacks sit above the engines

    n = config.num_samples
    (clips,) = held_out_clips(config, n, n, seed=config.seed + 1, source=data.source)[:1]
    return TaskSamples(os.path.join(run_dir, "samples"), clips, clips, condition="none",
                       fps=config.fps)  # fmt: skip


# ------------------------------------------------------------------ evaluation
def held_out_clips(config, num_clips=256, batch_size=32, seed=None, source=None):
    """Clips a tokenizer run did not train on, as a list of float32 batches.

    Built-in Moving MNIST: the held-out test digits with seed ``seed`` (default: the
    run's seed + 1000); shapes: that seed; data on disk (``config.data``, or the opened
    ``source``, a ``data.ClipSource``): its clips shuffled with that seed.
    """
    from keras_vgan import data as data_lib

    seed = config.seed + 1000 if seed is None else int(seed)
    common = dict(frames=config.frames, size=config.size, batch_size=batch_size, seed=seed)
    if source is None and config.data == "moving_mnist":
        ds = data_lib.moving_mnist(split="test", num_clips=num_clips, drop_remainder=False,
                                   **common)  # fmt: skip
    elif source is None and config.data == "shapes":
        ds = data_lib.bouncing_shapes(channels=config.channels, num_clips=num_clips,
                                      drop_remainder=False, **common)  # fmt: skip
    else:
        if source is None:
            source = data_lib.open_source(config.data, frames=config.frames, size=config.size,
                                          channels=config.channels)  # fmt: skip
        ds = source.dataset(batch_size=batch_size, seed=seed, drop_remainder=False)
        ds = ds.take(math.ceil(num_clips / batch_size))
    out, n = [], 0
    for batch in ds:
        batch = np.asarray(batch[0] if isinstance(batch, tuple) else batch, np.float32)
        out.append(batch[: num_clips - n])
        n += len(out[-1])
        if n >= num_clips:
            break
    if not n:
        raise ValueError(f"no held-out clips could be read from data={config.data!r}")
    return out


def evaluate_tokenizer(tokenizer, batches, use_ema=True):
    """Reconstruction and code usage of ``tokenizer`` on clip ``batches``.

    Args:
        tokenizer: a ``VideoTokenizer`` or a ``VQVAE``.
        batches: an iterable of clips ``[b, T, H, W, C]`` in [-1, 1].
        use_ema: an engine's EMA copy (the default) or its raw weights.

    Returns:
        ``{"psnr", "ssim", "mse", "mae", "temporal", "clips"}`` of the reconstructions
        (``metrics.reconstruction``: on [0, 1], MSE/MAE summed over a frame's pixels;
        SSIM when frames are at least 11x11), ``perplexity`` and ``used_codes`` (the
        fraction of the codebook) of every code of the clips together, and
        ``clips_per_s`` (encode + decode, wall clock, after a warm-up batch), and
        ``per_step``: each metric per frame (``{metric: [T]}``).
    """
    import time

    net = getattr(tokenizer, "ema_generator" if use_ema else "generator", tokenizer)
    metrics, counts, seconds, timed = None, np.zeros(net.codebook_size), 0.0, 0
    encode = tf.function(net.encode)
    decode = tf.function(net.decode)
    for i, clips in enumerate(batches):
        clips = np.asarray(clips, np.float32)
        if metrics is None:
            metrics = ReconstructionMetrics(ssim=min(clips.shape[2:4]) >= SSIM_WINDOW)
            decode(encode(clips))  # traced: the timing is of inference alone
        start = time.perf_counter()
        codes = encode(clips)
        video = np.asarray(decode(codes))
        if i:
            seconds, timed = seconds + time.perf_counter() - start, timed + len(clips)
        metrics.update(video, clips)
        counts += np.bincount(np.asarray(codes).ravel(), minlength=net.codebook_size)
    if metrics is None:
        raise ValueError("no clips to evaluate the tokenizer on")
    result = metrics.result()
    result["per_step"] = metrics.per_step()
    result["perplexity"] = float(code_perplexity(counts))
    result["used_codes"] = float(np.mean(counts > 0))
    if timed:
        result["clips_per_s"] = timed / seconds
    return result


def evaluate_run(run_dir, config, clips=256, batch_size=32, seed=None, data=None):
    """The evaluation table of a tokenizer run (``python -m training.evaluate_tasks``).

    Args:
        run_dir: the run directory (its ``model.keras``, else its newest checkpoint).
        config: the run's ``TrainConfig``.
        clips, batch_size: held-out clips and their batches (``held_out_clips``).
        seed: their seed (default: the run's seed + 1000).
        data: score on other data (a path, ``tfds:NAME`` or a built-in name).

    Returns:
        ``(rows, per_step, title)``: ``rows`` maps the model (``evaluate_tokenizer``'s
        figures and ``params``) and the ``blank`` baseline (every pixel background, -1:
        the score of reconstructing nothing) to ``{metric: value}``; ``per_step`` the
        same to ``{metric: [T]}``.
    """
    import dataclasses

    from keras_vgan.models.vqvae import load_tokenizer

    if data is not None:
        config = dataclasses.replace(config, data=data)
    net = load_tokenizer(run_dir)
    seed = config.seed + 1000 if seed is None else int(seed)
    batches = held_out_clips(config, clips, batch_size, seed)
    rows, per_step = {}, {}
    result = evaluate_tokenizer(net, batches)
    per_step[config.model] = result.pop("per_step")
    result["params"] = int(net.count_params())
    rows[config.model] = result
    blank = ReconstructionMetrics(ssim=result.get("ssim") is not None)
    for x in batches:
        blank.update(-np.ones_like(x), x)
    rows["blank"], per_step["blank"] = blank.result(), blank.per_step()
    t, h, w = net.token_shape(config.frames, config.size)
    kind = "held-out clips" if config.data in ("moving_mnist", "shapes") else "clips"
    title = (
        f"reconstruction: {config.model} on {config.data} ({result['clips']} {kind}, "
        f"seed {seed}); codes {t}x{h}x{w} of {net.codebook_size}; MSE/MAE per frame summed "
        "over pixels on [0, 1]"
    )
    return rows, per_step, title
