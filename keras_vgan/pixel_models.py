"""The pixel-likelihood engine: ``VideoPixelModel``, a ``keras.Model`` for ``model.fit``.

It trains an autoregressive pixel network (``keras_vgan.models.vpn.VideoPixelNetwork``)
by maximum likelihood: the cross-entropy of every pixel's 256-way softmax against its
uint8 value (the data path's [-1, 1] floats quantised back to 0..255 exactly), averaged
over the pixels of the batch. Logged (``Mean`` metrics, in nats unless said):

* ``loss``: the mean negative log-likelihood per pixel (what is minimised);
* ``nll_frame``: nats per frame (``loss * H * W * C``), VPN's figure;
* ``bits_dim``: bits per dimension (``loss / ln 2``).

All three are of every frame of the clip, the first ones included (predicted from the
blank context); ``nll(clips, from_frame=K)`` scores the frames after ``K`` given frames,
the prediction protocol of the paper (``held_out_nll`` over held-out pairs).

Batches are what the VAE engine takes (``variational.unpack_vae_batch``): clips, the
prediction task's ``(context, future)`` pairs joined in time, with labels for a
class-conditional network. Distribution scaling, the EMA network, trackers and
serialisation come from ``engine.GenerativeModel``.

Sampling (EMA weights by default; ``temperature`` / ``top_k`` default to the engine's):

* ``generate(z)``: unconditional clips of ``generator.frames`` frames from the blank
  context; ``z`` ``[B, latent_dim]`` standard normal, one number per pixel
  (``latent_dim = frames * H * W``), turned into the uniform draw of that pixel
  (``u = Phi(z)``), so the model serves like a GAN (``Serving("vae")`` endpoints);
* ``generate(context, seed=s)`` / ``predict_samples(context, n)``: futures of context
  frames (kept fixed); ``noise=`` ``[B, frames, H * W]`` gives the normals explicitly.
"""

import math

import keras
import tensorflow as tf

from keras_vgan.engine import GenerativeModel
from keras_vgan.layers.sampling import check_sampling, uniforms_from_normal
from keras_vgan.models.vpn import to_levels
from keras_vgan.variational import SampledFutures, prediction_noise, unpack_vae_batch

LOGS = ("loss", "nll_frame", "bits_dim")


def pixel_nll(logits, clips):
    """Negative log-likelihood in nats of each pixel ``[B, T, H, W]``: the cross-entropy of
    ``logits`` ``[B, T, H, W, 256]`` against the uint8 values of ``clips`` ``[B, T, H, W, 1]``
    in [-1, 1]."""
    targets = to_levels(clips)[..., 0]
    return tf.nn.sparse_softmax_cross_entropy_with_logits(targets, tf.cast(logits, tf.float32))


@keras.saving.register_keras_serializable(package="keras_vgan")
class VideoPixelModel(SampledFutures, GenerativeModel):
    """An autoregressive pixel model of video (VPN) trained with ``fit``; see the module.

    Args:
        generator: a ``VideoPixelNetwork``.
        ema_decay: decay of the moving average of the weights (0: none).
        seed: base seed (the noise of ``generate(num=...)`` and of ``predict``).
        conditional: batches carry a class label per clip.
        temperature: default sampling temperature (0: the argmax).
        top_k: default top-k of sampling (0: the full softmax; 1: greedy).
    """

    discriminator = None  # no adversary (what code that treats every engine alike reads)

    def __init__(self, generator, ema_decay=0.999, seed=0, conditional=False, temperature=1.0,
                 top_k=0, **kwargs):  # fmt: skip
        super().__init__({"generator": generator}, ema_decay=ema_decay, seed=seed, **kwargs)
        self.conditional = bool(conditional)
        if self.conditional and not getattr(generator, "num_classes", 0):
            raise ValueError("conditional=True needs a generator with num_classes > 0")
        check_sampling(top_k, temperature)
        self.temperature = float(temperature)
        self.top_k = top_k
        self.condition = "time"  # samples show the context before the future
        self._set_trackers(LOGS, LOGS)
        self._samplers = {}
        self.build()

    @property
    def latent_dim(self):
        """Noise of one unconditional clip: one normal per pixel of every frame."""
        net = self.generator
        return net.noise_steps(net.frames) * net.z_dim

    def compile(self, g_optimizer=None, **kwargs):
        """Configures training: ``g_optimizer`` (Adam(2e-4, beta_1=0.5) by default);
        ``**kwargs`` go to ``keras.Model.compile``. The loss is the likelihood's."""
        self._compile_engine({"g_optimizer": g_optimizer}, {}, **kwargs)

    # ------------------------------------------------------------------ step
    def _clips(self, data):
        clips, labels = unpack_vae_batch(data)
        if self.conditional and labels is None:
            raise ValueError("a conditional VideoPixelModel needs labels in every batch")
        return tf.cast(clips, tf.float32), (labels if self.conditional else None)

    def _logs(self, nll):
        per_pixel = tf.reduce_mean(nll)
        net = self.generator
        return dict(
            loss=per_pixel,
            nll_frame=per_pixel * float(net.size * net.size * net.channels),
            bits_dim=per_pixel / math.log(2.0),
        )

    def train_step(self, data):
        clips, labels = self._clips(data)
        variables = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            nll = pixel_nll(self.generator(clips, labels=labels, training=True), clips)
            loss = tf.reduce_mean(nll)
            scaled = self.scaled_loss(loss, self.g_optimizer)
        self.apply_scaled_gradients(tape, scaled, self.g_optimizer, variables)
        self._update_ema()
        return self._results(self._logs(nll))

    def test_step(self, data):
        """The likelihood of the EMA network (``evaluate``)."""
        clips, labels = self._clips(data)
        return self._results(self._logs(pixel_nll(self.ema_generator(clips, labels=labels), clips)))

    def nll(self, clips, labels=None, from_frame=0, use_ema=True):
        """Nats per frame ``[B, T - from_frame]`` of ``clips`` ``[B, T, H, W, 1]``: each
        frame's pixels given every earlier frame (frames before ``from_frame`` are given,
        not scored)."""
        net = self._net(use_ema)
        clips = tf.cast(clips, tf.float32)
        per_pixel = pixel_nll(net(clips, labels=self._cycled(labels, tf.shape(clips)[0])), clips)
        return tf.reduce_sum(per_pixel[:, from_frame:], axis=[2, 3])

    def held_out_nll(self, batches):
        """The prediction protocol's likelihood over held-out ``(context, future)`` pairs
        (``((context, labels), future)`` when conditional), EMA weights: nats per future
        frame given the context, and bits per dimension; ``{"nll_frame", "bits_dim",
        "nll_clips"}`` (what ``training.evaluate_tasks`` reports)."""
        total, frames, clips = 0.0, 0, 0
        net = self.ema_generator
        for x, y in batches:
            context, labels = x if isinstance(x, (tuple, list)) else (x, None)
            clip = tf.concat([tf.cast(context, tf.float32), tf.cast(y, tf.float32)], axis=1)
            per_frame = self.nll(clip, labels=labels, from_frame=context.shape[1])
            total += float(tf.reduce_sum(per_frame))
            frames += int(per_frame.shape[0] * per_frame.shape[1])
            clips += int(per_frame.shape[0])
        if not frames:
            raise ValueError("held-out batches are empty: no frames to score")
        nats = total / frames
        return {
            "nll_frame": nats,
            "bits_dim": nats / (net.size * net.size * net.channels * math.log(2.0)),
            "nll_clips": clips,
        }

    # -------------------------------------------------------------- sampling
    def _net(self, use_ema):
        return self.ema_generator if use_ema else self.generator

    def _cycled(self, labels, batch):
        if self.conditional and labels is None:
            return tf.range(batch) % self.generator.num_classes
        return labels if self.conditional else None

    def sample_noise(self, num, seed=0):
        """``num`` unconditional noise vectors ``[num, latent_dim]`` for an integer seed."""
        return keras.random.normal((num, self.latent_dim), seed=seed)

    def call(self, z, labels=None, training=False):
        return self.generate(z, labels=labels)

    def _sample(self, net, context, normals, labels, temperature, top_k):
        """``net.sample`` at ``u = Phi(normals)``, traced once per setting when eager (a
        Python loop over 256 pixel steps per frame would run op by op)."""
        uniforms = uniforms_from_normal(normals)
        if not tf.executing_eagerly():  # inside a traced graph (an export) already
            return net.sample(context, uniforms, labels, temperature, top_k)
        key = (id(net), context is None, float(temperature), int(top_k))
        if key not in self._samplers:

            def run(context, uniforms, labels):
                return net.sample(context, uniforms, labels, temperature, top_k)

            # No autograph: the loops are explicit tf.while_loops, and autograph re-reads
            # the source file (which may have changed since the import).
            self._samplers[key] = tf.function(run, reduce_retracing=True, autograph=False)
        return self._samplers[key](context, uniforms, labels)

    def generate(self, inputs=None, labels=None, num=None, seed=0, use_ema=True, frames=None,
                 noise=None, sample=0, temperature=None, top_k=None):  # fmt: skip
        """Unconditional clips from noise, or futures after context frames.

        Args:
            inputs: noise ``[B, latent_dim]`` (None: ``num`` clips drawn from ``seed``):
                clips ``[B, generator.frames, H, W, 1]`` from the blank context; or
                context ``[B, K, H, W, 1]``: the next ``frames`` (default the trained
                ``target_frames``) frames, the context kept fixed.
            labels: int labels ``[B]`` of a conditional model (None cycles the classes).
            num, seed: clips / the noise seed when no noise is given.
            use_ema: sample with the moving-average weights (the default).
            frames: prediction: frames to sample (past the trained horizon too).
            noise: prediction: standard normals ``[B, frames, H * W]`` (default: drawn
                from ``(seed, sample)``, ``variational.prediction_noise``).
            sample: prediction: which of the seed's samples (``predict_samples``).
            temperature, top_k: sampling settings (default: the engine's).
        """
        net = self._net(use_ema)
        temperature = self.temperature if temperature is None else temperature
        top_k = self.top_k if top_k is None else top_k
        check_sampling(top_k, temperature)
        if inputs is not None and len(inputs.shape) == 5:
            context = tf.cast(inputs, tf.float32)
            horizon = net.target_frames if frames is None else int(frames)
            if horizon < 1:
                raise ValueError(f"frames={frames!r} must be a positive integer")
            batch = tf.shape(context)[0]
            if noise is None:
                noise = prediction_noise(batch, horizon, net.z_dim, seed, sample)
            net._check_clips(context, "context")
            return self._sample(net, context, noise, self._cycled(labels, batch),
                                temperature, top_k)  # fmt: skip
        if frames is not None and frames != net.frames:
            raise ValueError(
                f"frames={frames}: unconditional clips have the trained {net.frames} frames "
                "(give context frames to sample longer)"
            )
        z = self.sample_noise(num or 1, seed=seed) if inputs is None else inputs
        z = tf.cast(z, tf.float32)
        if len(z.shape) != 2 or z.shape[-1] != self.latent_dim:
            raise ValueError(f"z has shape {tuple(z.shape)}; expected [B, {self.latent_dim}]")
        z = tf.reshape(z, [-1, net.frames, net.z_dim])
        return self._sample(net, None, z, self._cycled(labels, tf.shape(z)[0]), temperature,
                            top_k)  # fmt: skip

    # ---------------------------------------------------------------- config
    def get_config(self):
        config = super().get_config()
        config.update(conditional=self.conditional, temperature=self.temperature,
                      top_k=self.top_k)  # fmt: skip
        return config


def build_pixel_model(config, networks):
    """A compiled ``VideoPixelModel`` of a checked VPN config and its ``(network, None)``."""
    net = networks[0] if isinstance(networks, (tuple, list)) else networks
    model = VideoPixelModel(
        net,
        ema_decay=config.ema_decay,
        seed=config.seed,
        conditional=config.num_classes > 0,
        temperature=config.temperature,
        top_k=config.top_k,
        name=f"{config.model}_pixel",
    )
    model.compile(
        g_optimizer=keras.optimizers.Adam(
            config.g_lr, beta_1=config.beta_1, beta_2=config.beta_2, name="g_adam"
        )
    )
    return model
