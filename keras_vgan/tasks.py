"""The conditional-task engine: ``VideoTaskGAN``, a ``keras.Model`` for ``model.fit``.

Prediction, interpolation, video-to-video translation and restoration share one
training step: a generator conditioned on input frames is trained with an
adversarial loss from a discriminator that sees the whole clip (so that time
stays coherent) plus a weighted reconstruction term, as in Mathieu, Couprie &
LeCun, "Deep multi-scale video prediction beyond mean square error" (ICLR
2016) and Wang et al., "Video-to-Video Synthesis" (NeurIPS 2018)::

    L_D = adv_D(D(view(x, y)), D(view(x, G(x))))          [+ gamma/2 R1]
    L_G = adv_weight * adv_G(D(view(x, G(x))))
        + l1_weight * mean|G(x) - y| + l2_weight * mean (G(x) - y)^2
        + temporal_weight * mean|(G(x)_t - G(x)_{t-1}) - (y_t - y_{t-1})|
        + dd_weight * differential_divergence(G(x), y)           (TAU, on [0, 1])
        + ssim_weight * (1 - SSIM(G(x), y))                        (scored on [0, 1])

With ``adv_weight=0`` the step is reconstruction alone: the discriminator is
neither run nor trained (its compute is saved; ``d_loss`` and ``g_loss`` are not
logged), as the predictors' papers train them.

Contracts (the engine never knows which architecture it trains):

* batches are ``(inputs, targets)`` or dicts ``{"inputs": ..., "targets": ...}``,
  both ``[B, T, H, W, C]`` in [-1, 1] (their ``T``, ``H, W`` and ``C`` may differ);
* the generator maps ``inputs`` to a tensor shaped like ``targets`` (or a dict
  holding ``"video"``); it builds itself at construction;
* the discriminator maps the *view* of a clip to logits or a dict of logits
  (heads summed, as in ``engine.VideoGAN``). The view is set by ``condition``:
  ``"time"`` -- inputs and clip concatenated in time (prediction: context +
  future); ``"channels"`` -- inputs (resized to the clip's frame size)
  concatenated along channels (translation: source + output); ``"none"`` --
  the clip alone (interpolation, whose outputs contain the key frames, and
  restoration).

The EMA generator, optimizers, compile config, serialisation and distribution
rule come from the engine base (``engine.TwoPlayerModel``): each replica's
mean losses are divided by the number of replicas before the gradients are
summed, so N replicas with global batch B take the step one device takes with
batch B; logged values are the unscaled means. Which family trains on which
task, with which ``condition`` and baselines, is its registration
(``keras_vgan.registry``).
"""

import keras
import tensorflow as tf

from keras_vgan import losses as losses_lib
from keras_vgan import registry
from keras_vgan.engine import TwoPlayerModel, logit_heads, video_of


def unpack_pair(data):
    """Splits a batch into ``(inputs, targets)``."""
    if isinstance(data, dict):
        return data["inputs"], data["targets"]
    if isinstance(data, (tuple, list)) and len(data) >= 2:
        return data[0], data[1]
    raise ValueError(
        "a task batch must be (inputs, targets) or {'inputs': ..., 'targets': ...}, "
        f"got {type(data).__name__}"
    )


def resize_frames(x, height, width):
    """Bilinear resize of every frame of ``x`` ``[B, T, h, w, C]`` to ``height x width``."""
    if x.shape[2] == height and x.shape[3] == width:
        return x
    b, t = tf.shape(x)[0], tf.shape(x)[1]
    frames = tf.reshape(x, tf.concat([[b * t], tf.shape(x)[2:]], 0))
    frames = tf.image.resize(frames, (height, width), method="bilinear")
    return tf.reshape(frames, [b, t, height, width, x.shape[-1]])


def _time_view(inputs, clip):
    return tf.concat([tf.cast(inputs, clip.dtype), clip], axis=1)


def _channels_view(inputs, clip):
    x = resize_frames(tf.cast(inputs, clip.dtype), clip.shape[2], clip.shape[3])
    return tf.concat([x, clip], axis=-1)


# What the discriminator judges, by ``condition`` (see the module docstring).
VIEWS = {
    "time": _time_view,
    "channels": _channels_view,
    "none": lambda inputs, clip: clip,
}


def discriminator_view(inputs, clip, condition):
    """What the discriminator judges for ``condition`` (see the module docstring)."""
    return VIEWS[condition](inputs, clip)


def temporal_difference_loss(fake, real):
    """``mean |(fake_t - fake_{t-1}) - (real_t - real_{t-1})|``: motion must match.

    0 for clips of one frame.
    """
    if fake.shape[1] is not None and fake.shape[1] < 2:
        return tf.constant(0.0)
    df = fake[:, 1:] - fake[:, :-1]
    dr = real[:, 1:] - real[:, :-1]
    return tf.reduce_mean(tf.abs(df - dr))


@keras.saving.register_keras_serializable(package="keras_vgan")
class VideoTaskGAN(TwoPlayerModel):
    """A conditioned video generator trained adversarially plus reconstruction, with ``fit``.

    Args:
        generator: a ``keras.Model`` mapping inputs to clips (module docstring).
        discriminator: a ``keras.Model`` mapping the view of a clip to logits.
        condition: ``"time"``, ``"channels"`` or ``"none"``: what the
            discriminator sees besides the clip (module docstring).
        ema_decay: decay of the generator's exponential moving average
            (ramped as in ``engine.GenerativeModel``); 0 disables it.
        seed: stored for reproducibility of the run (the step itself draws no
            noise).

    ``call(inputs)`` (and so ``predict``) runs the EMA generator;
    ``generate(inputs, **kwargs)`` passes keyword arguments such as
    ``frames=N`` (roll-out length of a predictor) to it.
    """

    def __init__(
        self, generator, discriminator, condition="time", ema_decay=0.999, seed=0, **kwargs
    ):
        if condition not in VIEWS:
            raise ValueError(f"condition={condition!r} is not one of {', '.join(VIEWS)}")
        super().__init__(generator, discriminator, ema_decay=ema_decay, seed=seed, **kwargs)
        # === Config ===
        self.condition = condition
        # === Trackers ===
        self._set_trackers(
            (
                "d_loss",
                "g_loss",
                "l1",
                "l2",
                "temporal",
                "dd",
                "ssim_loss",
                "r1",
                "d_real",
                "d_fake",
            ),
            ("d_loss", "g_loss", "l1", "l2", "d_real", "d_fake"),
        )
        # The networks build themselves at construction (they know their shapes).
        self.build()

    # ---------------------------------------------------------------- compile
    def compile(
        self,
        d_optimizer=None,
        g_optimizer=None,
        loss="non_saturating",
        adv_weight=0.01,
        l1_weight=1.0,
        l2_weight=0.0,
        temporal_weight=0.0,
        r1_gamma=0.0,
        dd_weight=0.0,
        ssim_weight=0.0,
        **kwargs,
    ):
        """Configures the losses.

        Args:
            d_optimizer, g_optimizer: optimizers (or identifiers); Adam(2e-4,
                beta_1=0.5) by default.
            loss: adversarial loss name, one of ``losses.ADVERSARIAL_LOSSES``.
            adv_weight: weight of the generator's adversarial loss (0 trains
                the generator on reconstruction alone and skips the
                discriminator: it is neither run nor trained).
            l1_weight, l2_weight: weights of the mean absolute and mean squared
                reconstruction errors (on the [-1, 1] scale).
            temporal_weight: weight of ``temporal_difference_loss`` (translation).
            r1_gamma: R1 weight gamma on the real views (``gamma / 2 * R1``).
            dd_weight: weight of TAU's differential divergence regularisation
                (``losses.differential_divergence`` of the clips on [0, 1]).
            ssim_weight: weight of the structural term ``losses.ssim_loss`` (``1 -
                SSIM`` of the frames on [0, 1]; frames of at least 11x11).
            **kwargs: passed to ``keras.Model.compile``.
        """
        weights = dict(
            adv_weight=adv_weight,
            l1_weight=l1_weight,
            l2_weight=l2_weight,
            temporal_weight=temporal_weight,
            r1_gamma=r1_gamma,
            dd_weight=dd_weight,
            ssim_weight=ssim_weight,
        )
        self._compile_game(d_optimizer, g_optimizer, loss, weights, **kwargs)
        adversarial = bool(adv_weight)
        active = ["d_loss", "g_loss"] if adversarial else []
        active += ["l1", "l2"]
        active += ["temporal"] if temporal_weight else []
        active += ["dd"] if dd_weight else []
        active += ["ssim_loss"] if ssim_weight else []
        active += ["r1"] if r1_gamma and adversarial else []
        self._active = tuple(active + (["d_real", "d_fake"] if adversarial else []))

    # -------------------------------------------------------------- inference
    def call(self, inputs, training=False):
        return video_of(self.ema_generator(inputs, training=training))

    def generate(self, inputs, use_ema=True, **kwargs):
        """The generator's clip ``[B, T, H, W, C]`` in [-1, 1] for ``inputs``.

        Args:
            inputs: the conditioning frames ``[B, T_in, h, w, C_in]``.
            use_ema: use the moving-average weights (the default).
            **kwargs: passed to the generator (e.g. ``frames=N`` to roll a
                predictor out beyond its trained horizon).
        """
        net = self.ema_generator if use_ema else self.generator
        return video_of(net(inputs, training=False, **kwargs))

    # ------------------------------------------------------------------ step
    def _discriminate(self, clip, inputs, training=True):
        view = discriminator_view(inputs, clip, self.condition)
        return logit_heads(self.discriminator(view, training=training))

    def train_step(self, data):
        inputs, real = unpack_pair(data)
        inputs = tf.cast(inputs, tf.float32)
        real = tf.cast(real, tf.float32)
        logs = {}
        if not self.adv_weight:  # reconstruction alone: no discriminator (Python-level)
            self._generator_step(inputs, real, logs)
            self._update_ema()
            return self._results(logs)

        # --- discriminator phase
        fake = tf.stop_gradient(
            tf.cast(video_of(self.generator(inputs, training=True)), tf.float32)
        )
        d_vars = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            real_heads = self._discriminate(real, inputs)
            fake_heads = self._discriminate(fake, inputs)
            d_loss = tf.add_n(
                [self._d_loss_fn(r, f) for r, f in zip(real_heads, fake_heads, strict=True)]
            )
            total = d_loss
            if self.r1_gamma:
                r1 = losses_lib.r1_penalty(self._critic(inputs), real)
                total += 0.5 * self.r1_gamma * r1
                logs["r1"] = r1
            scaled = self.scaled_loss(total, self.d_optimizer)
        self.apply_scaled_gradients(tape, scaled, self.d_optimizer, d_vars)

        # --- generator phase
        g_loss, fake_heads = self._generator_step(inputs, real, logs)
        self._update_ema()

        return self._log_step(logs, d_loss, g_loss, real_heads, fake_heads)

    def _generator_step(self, inputs, real, logs):
        """One generator update (the adversarial term only with ``adv_weight``); fills
        ``logs`` with the reconstruction terms; returns ``(g_loss, fake_heads)``."""
        g_vars = self.generator.trainable_variables
        g_loss, fake_heads = None, None
        with tf.GradientTape() as tape:
            fake = tf.cast(video_of(self.generator(inputs, training=True)), tf.float32)
            err = fake - real
            l1 = tf.reduce_mean(tf.abs(err))
            l2 = tf.reduce_mean(tf.square(err))
            total = self.l1_weight * l1 + self.l2_weight * l2
            logs.update(l1=l1, l2=l2)  # both logged whatever their weights
            if self.adv_weight:
                fake_heads = self._discriminate(fake, inputs)
                g_loss = tf.add_n([self._g_loss_fn(f) for f in fake_heads])
                total += self.adv_weight * g_loss
            if self.temporal_weight:
                tc = temporal_difference_loss(fake, real)
                total += self.temporal_weight * tc
                logs["temporal"] = tc
            if self.dd_weight:
                dd = losses_lib.differential_divergence((fake + 1.0) / 2.0, (real + 1.0) / 2.0)
                total += self.dd_weight * dd
                logs["dd"] = dd
            if self.ssim_weight:
                s = losses_lib.ssim_loss(fake, real)  # clips in [-1, 1], scored on [0, 1]
                total += self.ssim_weight * s
                logs["ssim_loss"] = s
            scaled = self.scaled_loss(total, self.g_optimizer)
        self.apply_scaled_gradients(tape, scaled, self.g_optimizer, g_vars)
        return g_loss, fake_heads

    def test_step(self, data):
        """Reconstruction errors of the EMA generator (``evaluate`` / validation data)."""
        inputs, real = unpack_pair(data)
        fake = tf.cast(self(tf.cast(inputs, tf.float32)), tf.float32)
        err = fake - tf.cast(real, tf.float32)
        self._trackers["l1"].update_state(tf.reduce_mean(tf.abs(err)))
        self._trackers["l2"].update_state(tf.reduce_mean(tf.square(err)))
        return {n: self._trackers[n].result() for n in ("l1", "l2")}

    # ---------------------------------------------------------------- config
    def get_config(self):
        config = super().get_config()
        config.update(condition=self.condition)
        return config


# ----------------------------------------------------------------- baselines
def task_baselines(task, stride=None, scale=1):
    """Trivial reference predictors ``{name: fn(inputs) -> clips}`` for evaluation.

    The baselines a family of ``task`` registers (``registry.ModelFamily.baselines``):

    * prediction (``fn(context, frames)``): ``copy_last_frame`` (the last context
      frame held) and ``blank`` (background, -1);
    * interpolation: ``linear_blend`` of the key frames ``stride`` apart;
    * restoration: ``bilinear`` up-sampling by ``scale`` (for denoising, ``scale=1``:
      the noisy input itself, ``identity``);
    * translation: ``identity`` (the source clip itself, as if it were the target).
    """
    for family in registry.task_families(task):
        if family.baselines is not None:
            return family.baselines(stride=stride, scale=scale)
    return {}
