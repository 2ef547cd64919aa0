"""The unpaired translation engine: ``RecycleGAN``, a ``keras.Model`` for ``model.fit``.

Bansal, Ma, Ramanan & Sheikh, "Recycle-GAN: Unsupervised Video Retargeting" (ECCV
2018). Batches are ``(clips_a, clips_b)`` of two domains drawn independently
(``keras_vgan.data.unpaired``), each ``[B, T, H, W, C]`` in [-1, 1], ``T >= 3``. Six
networks (``keras_vgan.models.recycle_gan``): generators ``G_AB`` (``generator``) and
``G_BA`` (``generator_ba``), frame discriminators ``D_B`` (``discriminator``: it judges
what ``generator`` makes) and ``D_A`` (``discriminator_a``), and the temporal
predictors ``P_A``, ``P_B``. One step, with ``a`` and ``b`` the two batches::

    L_G = adv_weight       * (adv_G(D_B(G_AB(a))) + adv_G(D_A(G_BA(b))))
        + recycle_weight   * (recycle(a; G_AB, P_B, G_BA) + recycle(b; G_BA, P_A, G_AB))
        + recurrent_weight * (recurrent(a; P_A) + recurrent(b; P_B))
        + cycle_weight     * (|a - G_BA(G_AB(a))| + |b - G_AB(G_BA(b))|)
    L_D = adv_D(D_B(b), D_B(G_AB(a))) + adv_D(D_A(a), D_A(G_BA(b)))

(``keras_vgan.losses``: ``recycle_loss``, ``recurrent_loss``, ``cycle_loss``). As in the
paper's code, the generators and predictors share one optimizer (``g_optimizer``) and
are updated first; the discriminators (``d_optimizer``) then judge the clips that very
generator step produced (no second generator pass). The adversarial loss is any of
``losses.ADVERSARIAL_LOSSES`` (CycleGAN and Recycle-GAN use least squares).

The EMA of both generators is kept (``ema_generator``, ``ema_generator_ba``; ramped
as ``engine.GenerativeModel``'s); optimizers, compile config, serialisation and the
distribution rule come from the engine base.

Inference (EMA weights by default): ``translate(clips, "a_to_b")`` /
``translate(clips, "b_to_a")``; ``generate(clips)`` and ``call`` are A -> B. Exports
serve ``translate_a_to_b`` (the family's declared endpoint, also ``serving_default``)
and ``translate_b_to_a`` (``serving_endpoints``).
"""

import keras
import tensorflow as tf

from keras_vgan import losses as losses_lib
from keras_vgan.engine import GenerativeModel, TwoPlayerModel, copy_weights, logit_heads, update_ema

DIRECTIONS = ("a_to_b", "b_to_a")


def unpack_unpaired(data):
    """``(clips_a, clips_b)`` of a batch: a 2-tuple or ``{"a": ..., "b": ...}``."""
    if isinstance(data, dict):
        return data["a"], data["b"]
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return data[0], data[1]
    raise ValueError(
        "an unpaired batch must be (clips_a, clips_b) or {'a': ..., 'b': ...}, "
        f"got {type(data).__name__}"
    )


@keras.saving.register_keras_serializable(package="keras_vgan")
class RecycleGAN(TwoPlayerModel):
    """Recycle-GAN's two generators, two discriminators and two predictors, with ``fit``.

    Args:
        generator: ``G_AB``, clips of A -> clips of B (``serving_input_shape`` given).
        generator_ba: ``G_BA``, clips of B -> clips of A.
        discriminator: ``D_B``, clips of B -> logits (a tensor or a dict of heads).
        discriminator_a: ``D_A``, clips of A -> logits.
        predictor_a, predictor_b: ``P_A``, ``P_B``: clips ``[B, T, ...]`` -> the next
            frame of every pair ``[B, T - 2, ...]``.
        ema_decay: decay of both generators' moving averages (0: none).
        seed: stored for reproducibility (the step draws no noise).
    """

    NETWORKS = (
        "generator",
        "generator_ba",
        "discriminator",
        "discriminator_a",
        "predictor_a",
        "predictor_b",
    )
    OPTIMIZERS = {
        "d_optimizer": ("discriminator", "discriminator_a"),
        "g_optimizer": ("generator", "generator_ba", "predictor_a", "predictor_b"),
    }

    def __init__(self, generator, generator_ba, discriminator, discriminator_a, predictor_a,
                 predictor_b, ema_decay=0.999, seed=0, **kwargs):  # fmt: skip
        networks = dict(
            generator=generator,
            generator_ba=generator_ba,
            discriminator=discriminator,
            discriminator_a=discriminator_a,
            predictor_a=predictor_a,
            predictor_b=predictor_b,
        )
        # TwoPlayerModel's constructor takes exactly two networks; the base takes them all.
        GenerativeModel.__init__(self, networks, ema_decay=ema_decay, seed=seed, **kwargs)
        self.ema_generator_ba = generator_ba.__class__.from_config(generator_ba.get_config())
        self.condition = "none"  # what code that treats every engine alike reads
        self._set_trackers(
            ("d_loss", "g_loss", "recycle", "recurrent", "cycle", "d_real", "d_fake"),
            ("d_loss", "g_loss", "recycle", "recurrent", "d_real", "d_fake"),
        )
        self.build()  # the networks build themselves at construction

    # ------------------------------------------------------------------ EMA
    def copy_generator_to_ema(self):
        super().copy_generator_to_ema()
        copy_weights(self.ema_generator_ba, self.generator_ba)

    def _update_ema(self):
        super()._update_ema()
        update_ema(
            self.ema_generator_ba,
            self.generator_ba,
            self.step_optimizer.iterations,
            self.ema_decay,
        )

    # --------------------------------------------------------------- compile
    def compile(self, d_optimizer=None, g_optimizer=None, loss="lsgan", adv_weight=1.0,
                recycle_weight=10.0, recurrent_weight=10.0, cycle_weight=0.0,
                **kwargs):  # fmt: skip
        """Configures the losses (module docstring).

        Args:
            d_optimizer: trains both discriminators; g_optimizer: both generators and
                both predictors. Adam(2e-4, beta_1=0.5) by default.
            loss: adversarial loss name, one of ``losses.ADVERSARIAL_LOSSES``.
            adv_weight, recycle_weight, recurrent_weight, cycle_weight: the weights of
                the generators' terms (each >= 0; 0 skips a term's computation).
            **kwargs: passed to ``keras.Model.compile``.
        """
        weights = dict(
            adv_weight=adv_weight,
            recycle_weight=recycle_weight,
            recurrent_weight=recurrent_weight,
            cycle_weight=cycle_weight,
        )
        self._compile_game(d_optimizer, g_optimizer, loss, weights, **kwargs)
        active = ["d_loss", "g_loss", "recycle", "recurrent"]
        active += ["cycle"] if cycle_weight else []
        self._active = tuple(active + ["d_real", "d_fake"])

    # ------------------------------------------------------------- inference
    def _generators(self, direction, use_ema):
        if direction not in DIRECTIONS:
            raise ValueError(f"direction={direction!r} is not one of {', '.join(DIRECTIONS)}")
        if direction == "a_to_b":
            return self.ema_generator if use_ema else self.generator
        return self.ema_generator_ba if use_ema else self.generator_ba

    def translate(self, clips, direction="a_to_b", use_ema=True):
        """Clips of one domain translated to the other, ``[B, T, H, W, C']`` in [-1, 1].

        Args:
            clips: ``[B, T, H, W, C]`` of the source domain, in [-1, 1].
            direction: ``"a_to_b"`` or ``"b_to_a"``.
            use_ema: use the moving-average weights (the default).
        """
        net = self._generators(direction, use_ema)
        return net(tf.cast(clips, tf.float32), training=False)

    def generate(self, inputs, use_ema=True, direction="a_to_b"):
        """``translate(inputs, direction)``: A -> B by default (what ``frames`` serving calls)."""
        return self.translate(inputs, direction, use_ema)

    def call(self, inputs, training=False):
        return self.ema_generator(inputs, training=training)

    def serving_endpoints(self):
        """``translate_b_to_a`` next to the family's ``translate_a_to_b``
        (``export.endpoints``)."""
        shape = (None,) + tuple(int(s) for s in self.ema_generator_ba.serving_input_shape)

        def b_to_a(frames):
            return {"video": tf.cast(self.translate(frames, "b_to_a"), tf.float32)}

        return {"translate_b_to_a": (b_to_a, (tf.TensorSpec(shape, tf.float32, name="frames"),))}

    # ------------------------------------------------------------------ step
    def _discriminate(self, clips, condition=None, training=True):
        # ``condition`` names the discriminator: "b" (D_B, the default) or "a" (D_A).
        net = self.discriminator_a if condition == "a" else self.discriminator
        return logit_heads(net(clips, training=training))

    def _adversarial_g(self, heads):
        return tf.add_n([self._g_loss_fn(h) for h in heads])

    def _adversarial_d(self, real_heads, fake_heads):
        return tf.add_n(
            [self._d_loss_fn(r, f) for r, f in zip(real_heads, fake_heads, strict=True)]
        )

    def train_step(self, data):
        a, b = (tf.cast(x, tf.float32) for x in unpack_unpaired(data))
        g_ab, g_ba = self.generator, self.generator_ba

        def forward(x):
            return g_ab(x, training=True)

        def backward(x):
            return g_ba(x, training=True)

        def p_a(x):
            return self.predictor_a(x, training=True)

        def p_b(x):
            return self.predictor_b(x, training=True)

        # --- generators and predictors
        g_vars = [
            v for n in self.OPTIMIZERS["g_optimizer"] for v in getattr(self, n).trainable_variables
        ]
        logs = {}
        with tf.GradientTape() as tape:
            fake_b = tf.cast(forward(a), tf.float32)
            fake_a = tf.cast(backward(b), tf.float32)
            g_loss = self._adversarial_g(self._discriminate(fake_b, "b"))
            g_loss += self._adversarial_g(self._discriminate(fake_a, "a"))
            total = self.adv_weight * g_loss
            recycle = losses_lib.recycle_loss(a, fake_b, p_b, backward)
            recycle += losses_lib.recycle_loss(b, fake_a, p_a, forward)
            recurrent = losses_lib.recurrent_loss(a, p_a) + losses_lib.recurrent_loss(b, p_b)
            total += self.recycle_weight * recycle + self.recurrent_weight * recurrent
            logs.update(recycle=recycle, recurrent=recurrent)
            if self.cycle_weight:
                cycle = losses_lib.cycle_loss(a, backward(fake_b))
                cycle += losses_lib.cycle_loss(b, forward(fake_a))
                total += self.cycle_weight * cycle
                logs["cycle"] = cycle
            scaled = self.scaled_loss(total, self.g_optimizer)
        self.apply_scaled_gradients(tape, scaled, self.g_optimizer, g_vars)
        self._update_ema()

        # --- discriminators, on the clips of that generator step
        fake_b, fake_a = tf.stop_gradient(fake_b), tf.stop_gradient(fake_a)
        d_vars = self.discriminator.trainable_variables + self.discriminator_a.trainable_variables
        with tf.GradientTape() as tape:
            real_heads = self._discriminate(b, "b") + self._discriminate(a, "a")
            fake_heads = self._discriminate(fake_b, "b") + self._discriminate(fake_a, "a")
            d_loss = self._adversarial_d(real_heads, fake_heads)
            scaled = self.scaled_loss(d_loss, self.d_optimizer)
        self.apply_scaled_gradients(tape, scaled, self.d_optimizer, d_vars)
        return self._log_step(logs, d_loss, g_loss, real_heads, fake_heads)

    def test_step(self, data):
        raise NotImplementedError(
            "RecycleGAN has no validation loss; score translations with "
            "python -m training.evaluate_unpaired (keras_vgan.metrics.unpaired)"
        )


def build_recycle_gan(config, networks):
    """A compiled ``RecycleGAN`` of a checked config and its ``(generators,
    discriminators)`` dicts (``models.recycle_gan.build_networks``)."""
    generators, discriminators = networks
    model = RecycleGAN(
        **generators,
        **discriminators,
        ema_decay=config.ema_decay,
        seed=config.seed,
        name=f"{config.model}_unpaired",
    )
    # Called by builders.build_gan: its optimizers (the config's lr schedule), one piece of code.
    from keras_vgan.builders import adam_optimizers  # noqa: PLC0415

    model.compile(
        **adam_optimizers(config),
        loss=config.loss,
        adv_weight=config.adv_weight,
        recycle_weight=config.recycle_weight,
        recurrent_weight=config.recurrent_weight,
        cycle_weight=config.cycle_weight,
    )
    return model
