"""The VAE engine: ``VideoVAE``, a ``keras.Model`` for ``model.fit`` on clips or pairs.

One optimizer, one loss, the negative ELBO of the network (``keras_vgan.models.vae``)
with a weight ``beta`` on its KL terms (Higgins et al. 2017; SVG's beta 1e-4)::

    loss = reconstruction + kl_weight * kl

``reconstruction`` is the per-pixel mean squared error of the teacher-forced
reconstructions (a Gaussian likelihood of fixed variance, up to scale), ``kl`` the
network's KL terms per frame (SVG-LP: ``KL(q(z_t | x_1..t) || p(z_t | x_1..t-1))``
summed over latents, averaged over frames and clips; TD-VAE: its jump's KL
terms). The three are logged as ``Mean`` metrics: ``loss``, ``reconstruction``,
``kl``.

Batches are plain clips ``[B, T, H, W, C]`` (``(clips, labels)`` for a conditional
model), or the prediction task's pairs ``(context, future)`` (``(context, future,
labels)``, or dicts ``{"inputs", "targets", "labels"}``): a pair is trained as the
clip context + future, so any data source of ``keras_vgan.data`` feeds it.

The randomness of a step (posterior samples; TD-VAE's time points) is one
counter-based draw (``GenerativeModel._random``), so a resumed run continues the
same stream; the loss is scaled for ``tf.distribute`` as every engine's
(``scaled_loss`` / ``apply_scaled_gradients``); the EMA generator, compile config
and serialisation come from ``engine.GenerativeModel``.

Sampling (EMA weights by default):

* ``generate(z)``: unconditional clips of ``generator.frames`` frames, ``z``
  ``[B, latent_dim]`` the prior noise of every step (``latent_dim = noise_steps
  * z_dim``), so the model serves like a GAN (``Serving("noise")`` endpoints);
* ``generate(context, seed=s)`` / ``predict_samples(context, num_samples)``: futures
  after ``K`` context frames, one or ``N`` per context (``frames=`` rolls out past
  the trained horizon).
"""

import numbers

import keras
import tensorflow as tf

from keras_vgan.engine import GenerativeModel


def unpack_vae_batch(data):
    """``(clips, labels)`` of a batch: clips, ``(clips, labels)``, ``(context, future)``,
    ``(context, future, labels)`` or a dict (``videos`` or ``inputs`` / ``targets``,
    optional ``labels``); pairs are joined in time."""
    if isinstance(data, dict):
        labels = data.get("labels")
        if "inputs" in data:
            return _join(data["inputs"], data["targets"]), labels
        return data["videos"], labels
    if isinstance(data, (tuple, list)):
        if len(data) == 3:
            return _join(data[0], data[1]), data[2]
        if len(data) == 2:
            if len(data[1].shape) == 5:
                return _join(data[0], data[1]), None
            return data[0], data[1]
        if len(data) == 1:
            return data[0], None
        raise ValueError(f"a VAE batch has 1 to 3 parts, got {len(data)}")
    return data, None


def _join(context, future):
    return tf.concat([tf.cast(context, tf.float32), tf.cast(future, tf.float32)], axis=1)


def prediction_noise(batch, steps, z_dim, seed=0, sample=0):
    """Standard normal prior noise ``[batch, steps, z_dim]`` from ``(seed, sample)``
    (stateless: the same in eager code and inside an exported graph). Drawn step-major,
    so a longer roll-out's first steps get the noise of a shorter one (it extends it)."""
    seed = tf.stack([tf.cast(seed, tf.int32), tf.cast(sample, tf.int32)])
    shape = tf.stack([steps, tf.cast(batch, tf.int32), z_dim])
    return tf.transpose(tf.random.stateless_normal(shape, seed=seed), [1, 0, 2])


class SampledFutures:
    """``predict_samples`` for an engine whose ``generate(context, ..., sample=s)`` draws
    one future per noise stream ``s`` (the VAE, token and pixel engines)."""

    def predict_samples(self, context, num_samples=10, seed=0, frames=None, labels=None,
                        use_ema=True):  # fmt: skip
        """``num_samples`` futures per context: ``[B, num_samples, frames, H, W, C]``
        (sample ``s`` draws its noise from ``(seed, s)``)."""
        if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral):
            raise ValueError(f"num_samples={num_samples!r} must be a positive integer")
        if num_samples < 1:
            raise ValueError(f"num_samples={num_samples!r} must be a positive integer")
        outs = [
            self.generate(
                context, labels=labels, seed=seed, use_ema=use_ema, frames=frames, sample=s
            )  # fmt: skip
            for s in range(int(num_samples))
        ]
        return tf.stack(outs, axis=1)


@keras.saving.register_keras_serializable(package="keras_vgan")
class VideoVAE(SampledFutures, GenerativeModel):
    """A sequential VAE (SVG-LP, TD-VAE) trained with ``fit``: one network and its EMA.

    Args:
        generator: a network of ``keras_vgan.models.vae`` (``elbo``, ``rollout``).
        ema_decay: decay of the moving average of the weights (0: none).
        seed: base seed of the counter-based noise stream.
        conditional: whether batches carry a label per clip (class or action) that
            the network is conditioned on.
    """

    discriminator = None  # no adversary (what code that treats every engine alike reads)

    def __init__(self, generator, ema_decay=0.999, seed=0, conditional=False, **kwargs):
        super().__init__({"generator": generator}, ema_decay=ema_decay, seed=seed, **kwargs)
        self.conditional = bool(conditional)
        if self.conditional and not getattr(generator, "num_classes", 0):
            raise ValueError("conditional=True needs a generator with num_classes > 0")
        self.condition = "time"  # samples show the context before the future
        self._set_trackers(("loss", "reconstruction", "kl"), ("loss", "reconstruction", "kl"))
        self.build()

    @property
    def latent_dim(self):
        """Noise of one unconditional clip: every roll-out step's ``z_dim`` normals."""
        net = self.generator
        return net.noise_steps(net.frames) * net.z_dim

    # ---------------------------------------------------------------- compile
    def compile(self, g_optimizer=None, kl_weight=1e-4, **kwargs):
        """Configures training.

        Args:
            g_optimizer: optimizer (or identifier); Adam(2e-4, beta_1=0.5) by default.
            kl_weight: beta, the weight of the KL terms (>= 0).
            **kwargs: passed to ``keras.Model.compile`` (e.g. ``jit_compile``).
        """
        self._compile_engine({"g_optimizer": g_optimizer}, {"kl_weight": kl_weight}, **kwargs)

    # ------------------------------------------------------------------ step
    def _labels(self, labels):
        if not self.conditional:
            return None
        if labels is None:
            raise ValueError("a conditional VideoVAE needs labels in every batch")
        return labels

    def _terms(self, net, data, eps_fn, training):
        clips, labels = unpack_vae_batch(data)
        clips = tf.cast(clips, tf.float32)
        eps = eps_fn([tf.shape(clips)[0], net.train_noise_size(clips.shape[1])])
        terms = net.elbo(clips, eps, self._labels(labels), training=training)
        recon = tf.cast(terms["reconstruction"], tf.float32)
        kl = tf.cast(terms["kl"], tf.float32)
        return recon + self.kl_weight * kl, recon, kl

    def train_step(self, data):
        step = self.g_optimizer.iterations
        variables = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            loss, recon, kl = self._terms(
                self.generator, data, lambda s: self._random("normal", s, step, 0), True
            )
            scaled = self.scaled_loss(loss, self.g_optimizer)
        self.apply_scaled_gradients(tape, scaled, self.g_optimizer, variables)
        self._update_ema()
        return self._results(dict(loss=loss, reconstruction=recon, kl=kl))

    def test_step(self, data):
        """The ELBO terms of the EMA network with fixed noise (``evaluate``)."""

        def eps(shape):
            return tf.random.stateless_normal(shape, seed=tf.constant([self.seed, -1], tf.int64))

        loss, recon, kl = self._terms(self.ema_generator, data, eps, False)
        return self._results(dict(loss=loss, reconstruction=recon, kl=kl))

    # -------------------------------------------------------------- sampling
    def sample_noise(self, num, seed=0):
        """``num`` unconditional noise vectors ``[num, latent_dim]`` for an integer seed."""
        return keras.random.normal((num, self.latent_dim), seed=seed)

    def call(self, z, labels=None, training=False):
        return self.generate(z, labels=labels)

    def _net(self, use_ema):
        return self.ema_generator if use_ema else self.generator

    def _cycled(self, labels, batch):
        if self.conditional and labels is None:
            return tf.range(batch) % self.generator.num_classes
        return labels if self.conditional else None

    def generate(self, inputs=None, labels=None, num=None, seed=0, use_ema=True, frames=None,
                 noise=None, sample=0):  # fmt: skip
        """Unconditional clips from noise, or futures after context frames.

        Args:
            inputs: noise ``[B, latent_dim]`` (None: ``num`` clips drawn from ``seed``):
                clips ``[B, generator.frames, H, W, C]`` sampled from the prior after
                the blank start frame; or context ``[B, K, H, W, C]``: the next
                ``frames`` (default the trained horizon) frames.
            labels: int labels ``[B]`` of a conditional model (None cycles the classes).
            num, seed: clips / the noise seed when no noise is given.
            use_ema: sample with the moving-average weights (the default).
            frames: prediction: frames to roll out (past the trained horizon too).
            noise: prediction: the prior noise ``[B, noise_steps(frames), z_dim]``
                (default: drawn from ``(seed, sample)``).
            sample: prediction: which of the seed's samples (``predict_samples``).
        """
        net = self._net(use_ema)
        if inputs is not None and len(inputs.shape) == 5:
            context = tf.cast(inputs, tf.float32)
            horizon = net._horizon(frames)
            batch = tf.shape(context)[0]
            if noise is None:
                noise = prediction_noise(batch, net.noise_steps(horizon), net.z_dim, seed, sample)
            labels = self._cycled(labels, batch)
            return net.rollout(context, noise, labels=labels, horizon=horizon)
        if frames is not None and frames != net.frames:
            raise ValueError(
                f"frames={frames}: unconditional clips have the trained {net.frames} frames "
                "(give context frames to roll out longer)"
            )
        z = self.sample_noise(num or 1, seed=seed) if inputs is None else inputs
        z = tf.cast(z, tf.float32)
        if z.shape[-1] != self.latent_dim:
            raise ValueError(f"z has shape {tuple(z.shape)}; expected [B, {self.latent_dim}]")
        steps = net.noise_steps(net.frames)
        z = tf.reshape(z, [-1, steps, net.z_dim])
        labels = self._cycled(labels, tf.shape(z)[0])
        return net.rollout(None, z, labels=labels, horizon=net.frames)

    # ---------------------------------------------------------------- config
    def get_config(self):
        config = super().get_config()
        config.update(conditional=self.conditional)
        return config


def build_vae(config, networks):
    """A compiled ``VideoVAE`` of a checked VAE config and its ``(network, None)``."""
    net = networks[0] if isinstance(networks, (tuple, list)) else networks
    model = VideoVAE(
        net,
        ema_decay=config.ema_decay,
        seed=config.seed,
        conditional=config.num_classes > 0,
        name=f"{config.model}_vae",
    )
    model.compile(
        g_optimizer=keras.optimizers.Adam(
            config.g_lr, beta_1=config.beta_1, beta_2=config.beta_2, name="g_adam"
        ),
        kl_weight=config.kl_weight,
    )
    return model
