"""The training engines' base classes and ``VideoGAN``, a ``keras.Model`` for ``model.fit``.

``GenerativeModel`` is what every engine shares, whatever it trains (a GAN,
a conditional-task GAN, and the VAE or token models to come): the networks
serialised in its config, the EMA generator, the optimizers and their part of
the compile config, the trackers of the logged values, the counter-based noise
and the distribution rule (``minimize``). ``TwoPlayerModel`` adds a
discriminator, its optimizer, the adversarial loss and the penalties' critic;
``VideoGAN`` (here) and ``tasks.VideoTaskGAN`` are its two games.

The engine sequences the two phases of a GAN step and never knows which
architecture it trains. It relies on two small contracts:

* a generator maps ``z`` ``[B, latent_dim]`` (and ``labels=`` for conditional
  models) to a tensor ``[B, T, H, W, C]`` or to a dict holding ``"video"``
  and, optionally, a ``"mask"`` (weighed by ``mask_l1``);
* a discriminator maps a clip (and ``labels=``) to logits, or to a dict of
  logits (several heads, e.g. an image and a video discriminator); the
  adversarial loss is summed over heads. A head is ``[B, 1]`` or, for
  per-frame judges, ``[B, K]`` (each entry one judged sample of the mean
  losses). The gradient penalty and R1 differentiate the per-clip score
  implied by the losses: each head averaged over its non-batch axes, summed
  over heads.

With ``compile(augment=...)`` the discriminator only sees augmented clips,
real and generated alike, in both phases (DiffAugment; see
``keras_vgan.augment``): one draw of parameters per clip, applied to all of
its frames, from the same counter-based stream as the noise; the penalties
are taken on the augmented clips.

Distribution: each replica computes mean losses over its local batch and the
engine divides them by the number of replicas before taking gradients, which
are then summed across replicas, so that N replicas with global batch B take
exactly the step one device takes with batch B. The noise of a step is drawn
for the global batch from a counter-based (stateless) seed and each replica
takes its slice, so the same holds for the noise and a resumed run continues
the same noise stream (the counter is the optimizer's step). Logged values are
the unscaled means. A replica's rows of the global batch are rows
``[r b, (r + 1) b)`` (``distribute.distribute_dataset``), the rows of its noise.
"""

import keras
import tensorflow as tf

from keras_vgan import augment as augment_lib
from keras_vgan import losses as losses_lib


def video_of(output):
    """The clip of a generator's output: the tensor itself, or its ``"video"`` entry."""
    return output["video"] if isinstance(output, dict) else output


def logit_heads(output):
    """A discriminator's output as a list of logit tensors (float32), dict keys sorted."""
    if isinstance(output, dict):
        return [tf.cast(output[k], tf.float32) for k in sorted(output)]
    return [tf.cast(output, tf.float32)]


def clip_scores(heads):
    """The per-clip score ``[B]`` the mean losses imply: each head averaged over its
    non-batch axes, summed over heads (what the gradient penalty and R1 differentiate)."""
    return tf.add_n([tf.reduce_mean(tf.reshape(h, [tf.shape(h)[0], -1]), axis=1) for h in heads])


def unpack_clips(data):
    """Splits a batch into ``(videos, labels)``; ``labels`` is None if absent."""
    if isinstance(data, (tuple, list)):
        if len(data) == 1:
            return data[0], None
        return data[0], data[1]
    if isinstance(data, dict):
        return data["videos"], data.get("labels")
    return data, None


def unpack_timed_clips(data):
    """Splits a sparse-frame batch ``(frames, timestamps[, labels])`` into
    ``(frames [B, K, H, W, C], timestamps [B, K], labels or None)``."""
    if isinstance(data, dict):
        return data["videos"], data["timestamps"], data.get("labels")
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
        raise ValueError(
            "a timed VideoGAN trains on (frames, timestamps) or (frames, timestamps, labels) "
            "batches (keras_vgan.data.sparse_frames)"
        )
    return data[0], data[1], (data[2] if len(data) == 3 else None)


def replica_context():
    """``(replicas in sync, this replica's id)``; ``(1, 0)`` outside a strategy."""
    ctx = tf.distribute.get_replica_context()
    if ctx is None:
        return 1, 0
    return ctx.num_replicas_in_sync, ctx.replica_id_in_sync_group


class GenerativeModel(keras.Model):
    """What every engine shares, whatever it trains; subclass it for a new kind of model.

    A subclass names its networks and optimizers in three class attributes:

    * ``NETWORKS``: the constructor arguments that are sub-models, serialised in
      ``get_config`` and rebuilt by ``from_config`` (``"generator"`` first);
    * ``OPTIMIZERS``: ``{compile keyword: names of the networks it trains}``; each
      is serialised in ``get_compile_config`` and built in the strategy scope;
    * ``STEP_OPTIMIZER``: the optimizer whose ``iterations`` count training
      steps: ``model.optimizer`` (what Keras callbacks read), the EMA ramp and the
      noise counter.

    A single-optimizer model (a VAE, a token model) keeps the defaults
    (``{"g_optimizer": ("generator",)}``) or names its own, calls
    ``_compile_engine`` from ``compile`` with its loss weights, and writes a
    ``train_step`` with ``scaled_loss`` / ``apply_scaled_gradients`` and
    ``_results``.

    Args:
        networks: ``{name: keras.Model}`` in ``NETWORKS`` order; ``generator``
            is copied into ``ema_generator``, its exponential moving average.
        ema_decay: decay of the EMA; the effective decay ramps up as
            ``min(decay, (1+n)/(10+n))`` over the first updates
            (``tf.train.ExponentialMovingAverage``'s ``num_updates`` rule). 0
            disables the average (the EMA generator then tracks the generator).
        seed: base seed of the counter-based noise stream (``_random``).
    """

    NETWORKS = ("generator",)
    OPTIMIZERS = {"g_optimizer": ("generator",)}
    STEP_OPTIMIZER = "g_optimizer"

    def __init__(self, networks, ema_decay=0.999, seed=0, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= float(ema_decay) < 1.0:
            raise ValueError(f"ema_decay={ema_decay!r} must be in [0, 1)")
        # === Config ===
        for name in self.NETWORKS:
            setattr(self, name, networks[name])
        self.ema_decay = float(ema_decay)
        self.seed = int(seed)
        # === Networks ===
        # Same architecture as the generator; its weights are the moving average.
        generator = networks["generator"]
        self.ema_generator = generator.__class__.from_config(generator.get_config())

    def _set_trackers(self, names, active):
        """Creates a ``Mean`` per logged value in ``names``; ``active`` are reported."""
        self._trackers = {n: keras.metrics.Mean(name=n) for n in names}
        self._active = tuple(active)

    @property
    def metrics(self):
        return [self._trackers[n] for n in self._active]

    @property
    def step_optimizer(self):
        return getattr(self, self.STEP_OPTIMIZER)

    # ------------------------------------------------------------------ EMA
    def build(self, input_shape=None):
        # The networks are built (by the subclass or at their construction): start the
        # moving average at the generator's weights.
        self.copy_generator_to_ema()
        self.built = True

    def copy_generator_to_ema(self):
        """Sets the EMA generator's weights to the generator's."""
        copy_weights(self.ema_generator, self.generator)

    def _update_ema(self):
        # Called after the step optimizer's update: its iterations count EMA updates.
        update_ema(
            self.ema_generator, self.generator, self.step_optimizer.iterations, self.ema_decay
        )

    # -------------------------------------------------------------- compile
    def _compile_engine(self, optimizers, weights, **kwargs):
        """The shared part of ``compile``.

        Args:
            optimizers: ``{OPTIMIZERS key: optimizer, identifier or None}``; None
                is Adam with the DCGAN settings (lr 2e-4, beta_1 0.5). Each is
                wrapped in a ``LossScaleOptimizer`` under ``mixed_float16``.
            weights: ``{name: value}`` loss weights, each >= 0, stored as float
                attributes and in the compile config.
            **kwargs: passed to ``keras.Model.compile`` (e.g. ``jit_compile``).
        """
        for name, value in weights.items():
            if float(value) < 0:
                raise ValueError(f"{name}={value!r} must be >= 0")
        kwargs.pop("loss", None)
        kwargs.pop("optimizer", None)
        for name in self.OPTIMIZERS:
            setattr(
                self, name, make_optimizer(optimizers.get(name), name.replace("optimizer", "adam"))
            )
        # model.optimizer is the step optimizer: its step counter is the training step
        # that Keras callbacks (TensorBoard) read.
        super().compile(optimizer=self.step_optimizer, **kwargs)
        for name, value in weights.items():
            setattr(self, name, float(value))
        self._weight_names = tuple(weights)
        self.build_optimizers()

    def build_optimizers(self):
        """Creates optimizer slots now (required inside a distribution scope)."""
        if not self.built:
            self.build()
        for name, networks in self.OPTIMIZERS.items():
            variables = [v for n in networks for v in getattr(self, n).trainable_variables]
            getattr(self, name).build(variables)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras 3.15 (TF backend) reduces the first batch across replicas
        # (strategy.reduce(MEAN)) only to trace a symbolic build of what is unbuilt.
        # Under MultiWorkerMirroredStrategy that reduce fails on tuple batches
        # ((videos, labels), (inputs, targets), timed frames). An engine builds its
        # networks at construction and its optimizers at compile: with everything
        # built there is nothing to trace, so the reduce is skipped.
        built = (
            self.built
            and all(layer.built for layer in self._flatten_layers())
            and all(getattr(self, n).built for n in self.OPTIMIZERS)
            and getattr(self, "_compile_loss", None) is None
            and getattr(self, "_compile_metrics", None) is None
        )
        if not built:
            super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    def get_compile_config(self):
        config = {n: keras.optimizers.serialize(getattr(self, n)) for n in self.OPTIMIZERS}
        config.update({n: getattr(self, n) for n in self._weight_names})
        return config

    def compile_from_config(self, config):
        config = dict(config)
        for key in self.OPTIMIZERS:
            config[key] = keras.optimizers.deserialize(config[key])
        self.compile(**config)

    # ----------------------------------------------------------------- step
    def scaled_loss(self, loss, optimizer):
        """What a replica differentiates (inside the tape): ``loss / replicas``, then
        the optimizer's loss scale; the gradients are summed across replicas, so N
        replicas with global batch B take the step one device takes with batch B."""
        replicas, _ = replica_context()
        return optimizer.scale_loss(loss / replicas)

    @staticmethod
    def apply_scaled_gradients(tape, scaled, optimizer, variables):
        """Applies the gradients of a ``scaled_loss`` to ``variables``."""
        grads = tape.gradient(scaled, variables)
        optimizer.apply_gradients(zip(grads, variables, strict=True))

    def _random(self, kind, shape_local, step, phase, stream="noise"):
        """Draws ``shape_local`` for this replica as a slice of a global draw.

        The seed is ``(seed, 64 * step + phase)``: a pure function of the
        optimizer step, so a resumed run draws what the original would have.
        The ``"augment"`` stream uses ``-(64 * step + phase) - 1``, disjoint
        from the noise stream.
        """
        replicas, rid = replica_context()
        b = shape_local[0]
        counter = tf.cast(step, tf.int64) * 64 + phase
        if stream == "augment":
            counter = -counter - 1
        seed = tf.stack([tf.constant(self.seed, tf.int64), counter])
        shape = tf.concat([[b * replicas], shape_local[1:]], axis=0)
        if kind == "normal":
            draw = tf.random.stateless_normal(shape, seed=seed)
        else:
            draw = tf.random.stateless_uniform(shape, seed=seed)
        return draw[rid * b : (rid + 1) * b]

    def _results(self, logs):
        """Updates the trackers with ``logs`` (unscaled means); returns what ``fit`` logs."""
        for name, value in logs.items():
            self._trackers[name].update_state(value)
        results = {m.name: m.result() for m in self.metrics}
        if _multi_worker(tf.distribute.get_strategy()):
            # Keras 3.15 reduces multi-worker logs with strategy.reduce(MEAN, axis=0),
            # which fails on scalars; rank-1 logs reduce to the scalar mean.
            results = {k: tf.reshape(v, [1]) for k, v in results.items()}
        return results

    # --------------------------------------------------------------- config
    def get_config(self):
        config = super().get_config()
        config.update({n: keras.layers.serialize(getattr(self, n)) for n in self.NETWORKS})
        config.update(ema_decay=self.ema_decay, seed=self.seed)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in cls.NETWORKS:
            config[name] = keras.layers.deserialize(config[name])
        return cls(**config)


class TwoPlayerModel(GenerativeModel):
    """A generator against a discriminator: what ``VideoGAN`` and ``tasks.VideoTaskGAN``
    share on top of ``GenerativeModel``: the discriminator and its optimizer, the
    adversarial loss (in the compile config as ``loss``), the critic of the
    penalties and the adversarial logs.

    Subclasses give ``_discriminate(clips, condition, training=True)``, the
    discriminator's logit heads for ``clips`` given what they are conditioned on.
    """

    NETWORKS = ("generator", "discriminator")
    OPTIMIZERS = {"d_optimizer": ("discriminator",), "g_optimizer": ("generator",)}

    def __init__(self, generator, discriminator, ema_decay=0.999, seed=0, **kwargs):
        super().__init__(
            {"generator": generator, "discriminator": discriminator},
            ema_decay=ema_decay,
            seed=seed,
            **kwargs,
        )

    def _compile_game(self, d_optimizer, g_optimizer, loss, weights, **kwargs):
        """``_compile_engine`` plus the adversarial loss ``loss`` (``losses.ADVERSARIAL_LOSSES``)."""
        self._d_loss_fn, self._g_loss_fn = losses_lib.get_adversarial_loss(loss)
        self.loss_name = loss
        self._compile_engine(
            {"d_optimizer": d_optimizer, "g_optimizer": g_optimizer}, weights, **kwargs
        )

    def get_compile_config(self):
        config = super().get_compile_config()
        config["loss"] = self.loss_name
        return config

    def _critic(self, condition):
        """``x -> [B]``: the per-clip score of clips ``x`` (given ``condition``) whose
        input gradient the penalties take."""
        return lambda x: clip_scores(self._discriminate(x, condition))

    def _log_step(self, logs, d_loss, g_loss, real_heads, fake_heads):
        """Adds the adversarial values to ``logs``, updates the trackers; what ``fit`` logs."""
        logs.update(
            d_loss=d_loss,
            g_loss=g_loss,
            d_real=tf.reduce_mean([tf.reduce_mean(h) for h in real_heads]),
            d_fake=tf.reduce_mean([tf.reduce_mean(h) for h in fake_heads]),
        )
        return self._results(logs)


@keras.saving.register_keras_serializable(package="keras_vgan")
class VideoGAN(TwoPlayerModel):
    """A video GAN trained with ``fit``: generator, discriminator and an EMA generator.

    Args:
        generator: a ``keras.Model`` with a ``latent_dim`` attribute (or pass
            ``latent_dim``); see the module docstring for the contract.
        discriminator: a ``keras.Model`` mapping clips to logits.
        latent_dim: noise size; defaults to ``generator.latent_dim``.
        d_steps: discriminator updates per generator update (each with fresh
            noise on the same real batch).
        ema_decay: decay of the exponential moving average of the generator
            weights (``GenerativeModel``); 0 disables the average.
        seed: base seed of the counter-based noise stream.
        conditional: whether batches carry labels (``(videos, labels)``) that
            are passed to both networks as ``labels=``.
        timed: whether batches carry frame times: ``(frames, timestamps[, labels])``
            (``keras_vgan.data.sparse_frames``: K frames per clip ``[B, K, H, W, C]`` at
            times ``[B, K]``). Both networks get ``timestamps=``; the generated clips
            of a step are rendered at the real batch's timestamps, so real and fake
            frames are judged at the same times.

    ``call(z)`` (and so ``predict``) samples from the EMA generator.
    """

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim=None,
        d_steps=1,
        ema_decay=0.999,
        seed=0,
        conditional=False,
        timed=False,
        **kwargs,
    ):
        if latent_dim is None:
            latent_dim = getattr(generator, "latent_dim", None)
        if latent_dim is None:
            raise ValueError("latent_dim is required when the generator has no latent_dim")
        if int(d_steps) < 1:
            raise ValueError(f"d_steps={d_steps!r} must be an integer >= 1")
        super().__init__(generator, discriminator, ema_decay=ema_decay, seed=seed, **kwargs)
        # === Config ===
        self.latent_dim = int(latent_dim)
        self.d_steps = int(d_steps)
        self.conditional = bool(conditional)
        self.timed = bool(timed)
        # === Trackers ===
        self._set_trackers(
            ("d_loss", "g_loss", "d_real", "d_fake", "gp", "r1", "mask_l1"),
            ("d_loss", "g_loss", "d_real", "d_fake"),
        )
        # Networks know their shapes: build now so weights exist before compile/fit.
        self.build()

    # ------------------------------------------------------------------ build
    def build(self, input_shape=None):
        z = keras.KerasTensor((None, self.latent_dim))
        for net in (self.generator, self.ema_generator):
            if not net.built:
                net.build(z.shape)
        if not self.discriminator.built:
            spec = self.generator.compute_output_spec(z)
            self.discriminator.build(video_of(spec).shape)
        super().build()

    # ---------------------------------------------------------------- compile
    def compile(
        self,
        d_optimizer=None,
        g_optimizer=None,
        loss="non_saturating",
        gp_weight=0.0,
        r1_gamma=0.0,
        mask_l1=0.0,
        augment=None,
        r1_interval=1,
        **kwargs,
    ):
        """Configures the adversarial game.

        Args:
            d_optimizer, g_optimizer: optimizers (or their identifiers); Adam
                with the DCGAN settings (lr 2e-4, beta_1 0.5) by default.
            loss: adversarial loss name, one of ``losses.ADVERSARIAL_LOSSES``.
            gp_weight: weight of the WGAN-GP gradient penalty (0 = off).
            r1_gamma: R1 weight gamma; the penalty added is ``gamma / 2 * R1``.
            r1_interval: lazy R1 (StyleGAN2): the penalty is taken on every
                ``r1_interval``-th step only, multiplied by ``r1_interval`` so that
                its average weight is unchanged (the logged ``r1`` is 0 on the
                steps between).
            mask_l1: weight of the L1 sparsity prior on the generator's mask.
            augment: differentiable augmentation policy for what the
                discriminator sees, e.g. ``"translation,cutout,brightness"``
                (see ``keras_vgan.augment``); None or "" = off.
            **kwargs: passed to ``keras.Model.compile`` (e.g. ``jit_compile``).
        """
        if isinstance(r1_interval, bool) or not isinstance(r1_interval, int) or r1_interval < 1:
            raise ValueError(f"r1_interval={r1_interval!r} must be an integer >= 1")
        weights = dict(gp_weight=gp_weight, r1_gamma=r1_gamma, mask_l1=mask_l1)
        self._compile_game(d_optimizer, g_optimizer, loss, weights, **kwargs)
        self.r1_interval = int(r1_interval)
        self.augment = augment_lib.policy_string(augment)
        active = ["d_loss", "g_loss", "d_real", "d_fake"]
        active += [n for n, w in (("gp", gp_weight), ("r1", r1_gamma), ("mask_l1", mask_l1)) if w]
        self._active = tuple(active)

    def get_compile_config(self):
        config = super().get_compile_config()
        config["augment"] = self.augment
        config["r1_interval"] = self.r1_interval
        return config

    # ----------------------------------------------------------------- noise
    def sample_noise(self, num, seed=0):
        """Returns ``num`` latent vectors ``[num, latent_dim]`` for an integer seed."""
        return keras.random.normal((num, self.latent_dim), seed=seed)

    # -------------------------------------------------------------- sampling
    def call(self, z, labels=None, training=False):
        return video_of(self._generate(self.ema_generator, z, labels, training))

    def generate(self, z=None, labels=None, num=None, seed=0, use_ema=True, **kwargs):
        """Samples videos ``[B, T, H, W, C]`` in [-1, 1].

        Args:
            z: noise ``[B, latent_dim]``; drawn from ``seed`` if None.
            labels: int class labels ``[B]`` for conditional models; None
                cycles through the generator's ``num_classes`` (clip ``i``
                gets class ``i % num_classes``).
            num: number of clips when ``z`` is None.
            seed: seed for ``z`` when ``z`` is None.
            use_ema: sample with the moving-average weights (the default).
            **kwargs: passed to the generator, e.g. ``frames=N`` for
                MoCoGAN clips of another length.
        """
        if z is None:
            z = self.sample_noise(num or 1, seed=seed)
        net = self.ema_generator if use_ema else self.generator
        if self.conditional and labels is None and getattr(net, "num_classes", 0):
            labels = tf.range(tf.shape(z)[0]) % net.num_classes
        return video_of(self._generate(net, z, labels, training=False, **kwargs))

    def _generate(self, net, z, labels, training, **kwargs):
        if kwargs.get("timestamps", 0) is None:
            del kwargs["timestamps"]
        if self.conditional:
            return net(z, labels=labels, training=training, **kwargs)
        return net(z, training=training, **kwargs)

    def _augment(self, x, step, phase):
        """The discriminator's view of clips ``x``: augmented if ``compile(augment=...)``."""
        n = augment_lib.num_params(self.augment)
        if not n:
            return x
        u = self._random("uniform", [tf.shape(x)[0], n], step, phase, stream="augment")
        return augment_lib.augment_videos(x, u, self.augment)

    def _discriminate(self, x, labels, training=True):
        # ``labels`` is the condition: the labels, or (labels, timestamps) when timed.
        kwargs = {}
        if self.timed:
            labels, kwargs["timestamps"] = labels
        if self.conditional:
            kwargs["labels"] = labels
        return logit_heads(self.discriminator(x, training=training, **kwargs))

    def _r1(self, condition, real, step):
        """R1 on ``real``, lazily: every ``r1_interval``-th step (0 on the others)."""
        penalty = lambda: losses_lib.r1_penalty(self._critic(condition), real)  # noqa: E731
        interval = getattr(self, "r1_interval", 1)
        if interval == 1:
            return penalty()
        due = tf.equal(tf.math.floormod(tf.cast(step, tf.int64), interval), 0)
        return tf.cond(due, penalty, lambda: tf.zeros([], tf.float32))

    # ------------------------------------------------------------------ step
    def train_step(self, data):
        timestamps = None
        if self.timed:
            real, timestamps, labels = unpack_timed_clips(data)
            condition = (labels, timestamps)
        else:
            real, labels = unpack_clips(data)
            condition = labels
        real = tf.cast(real, tf.float32)
        batch = tf.shape(real)[0]
        step = self.g_optimizer.iterations
        logs = {}

        # --- discriminator phase(s)
        for i in range(self.d_steps):
            z = self._random("normal", [batch, self.latent_dim], step, 2 * i)
            out = self._generate(self.generator, z, labels, True, timestamps=timestamps)
            fake = tf.stop_gradient(tf.cast(video_of(out), tf.float32))
            d_vars = self.discriminator.trainable_variables
            # Augmentation (if any) is the same in every frame of a clip, drawn afresh per step.
            real_d = self._augment(real, step, 2 * i)
            fake = self._augment(fake, step, 2 * i + 1)
            with tf.GradientTape() as tape:
                real_heads = self._discriminate(real_d, condition)
                fake_heads = self._discriminate(fake, condition)
                d_loss = tf.add_n(
                    [self._d_loss_fn(r, f) for r, f in zip(real_heads, fake_heads, strict=True)]
                )
                total = d_loss
                if self.gp_weight:
                    rank = len(real.shape)
                    alpha = self._random("uniform", [batch] + [1] * (rank - 1), step, 2 * i + 1)
                    gp = losses_lib.gradient_penalty(
                        self._critic(condition), real_d, fake, alpha=alpha
                    )
                    total += self.gp_weight * gp
                    logs["gp"] = gp
                if self.r1_gamma:
                    r1 = self._r1(condition, real_d, step)
                    total += 0.5 * self.r1_gamma * getattr(self, "r1_interval", 1) * r1
                    logs["r1"] = r1
                scaled = self.scaled_loss(total, self.d_optimizer)
            self.apply_scaled_gradients(tape, scaled, self.d_optimizer, d_vars)

        # --- generator phase
        z = self._random("normal", [batch, self.latent_dim], step, 2 * self.d_steps)
        g_vars = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            out = self._generate(self.generator, z, labels, True, timestamps=timestamps)
            fake = tf.cast(video_of(out), tf.float32)
            fake_heads = self._discriminate(self._augment(fake, step, 2 * self.d_steps), condition)
            g_loss = tf.add_n([self._g_loss_fn(f) for f in fake_heads])
            total = g_loss
            if self.mask_l1 and isinstance(out, dict) and "mask" in out:
                m = losses_lib.mask_sparsity(out["mask"])
                total += self.mask_l1 * m
                logs["mask_l1"] = m
            scaled = self.scaled_loss(total, self.g_optimizer)
        self.apply_scaled_gradients(tape, scaled, self.g_optimizer, g_vars)
        self._update_ema()

        return self._log_step(logs, d_loss, g_loss, real_heads, fake_heads)

    def test_step(self, data):
        raise NotImplementedError(
            "VideoGAN has no validation loss; evaluate samples with keras_vgan.metrics"
        )

    # ---------------------------------------------------------------- config
    def get_config(self):
        config = super().get_config()
        config.update(
            latent_dim=self.latent_dim,
            d_steps=self.d_steps,
            conditional=self.conditional,
            timed=self.timed,
        )
        return config


def _multi_worker(strategy):
    """True under MultiWorkerMirroredStrategy with a real multi-worker cluster."""
    return (
        isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
        and strategy.extended._in_multi_worker_mode()
    )


def make_optimizer(optimizer=None, default_name="adam"):
    """An optimizer from an optimizer or identifier.

    Adam with the DCGAN settings (lr 2e-4, beta_1 0.5, named ``default_name``)
    where None; wrapped in a ``LossScaleOptimizer`` under the ``mixed_float16``
    policy.
    """
    opt = keras.optimizers.get(
        optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5, name=default_name)
    )
    if keras.config.dtype_policy().name == "mixed_float16":
        opt = keras.optimizers.LossScaleOptimizer(opt)
    return opt


def copy_weights(target, source):
    """Assigns every weight of ``source`` to the same-architecture ``target``."""
    for t, w in zip(target.weights, source.weights, strict=True):
        t.assign(w)


def update_ema(ema_net, net, iterations, decay):
    """One EMA step of ``ema_net`` towards ``net`` after ``iterations`` updates.

    ``ema <- w + d (ema - w)`` with ``d = min(decay, (1 + n) / (10 + n))``
    (``tf.train.ExponentialMovingAverage``'s ``num_updates`` ramp); non-trainable
    weights (normalisation statistics) are copied, as in StyleGAN2-ADA.
    """
    n = tf.cast(iterations, tf.float32)
    d = tf.minimum(decay, (1.0 + n) / (10.0 + n))
    for ema, w in zip(ema_net.trainable_variables, net.trainable_variables, strict=True):
        ema.assign(w + d * (ema - w))
    for ema, w in zip(ema_net.non_trainable_variables, net.non_trainable_variables, strict=True):
        ema.assign(w)
