"""The VAE family: stochastic video prediction with SVG-LP and TD-VAE.

* ``SVGLP``: "Stochastic Video Generation with a Learned Prior" (Denton & Fergus,
  ICML 2018). A per-frame DCGAN-like encoder maps every frame to ``h_t``; an LSTM
  posterior ``q(z_t | x_1..t)`` reads ``h_t``, a learned LSTM prior
  ``p(z_t | x_1..t-1)`` reads ``h_{t-1}``, and an LSTM frame predictor maps
  ``[h_{t-1}, z_t]`` to the code the decoder renders into ``x_t``, with skip
  connections from the encoder features of the last context frame. Trained with
  ``MSE + beta * KL(q || p)`` (the paper's beta is 1e-4).
* ``TDVAE``: "Temporal Difference Variational Auto-Encoder" (Gregor et al., ICLR
  2019) in the paper's one-layer form: a belief LSTM over frame encodings gives
  ``b_t``; a belief distribution ``p_B(z | b_t)``, a jumpy transition
  ``p_T(z_t2 | z_t1, delta)``, a smoothing posterior ``q_S(z_t1 | z_t2, b_t1,
  b_t2, delta)`` and a decoder ``p_D(x | z)``. Each training step picks one pair
  ``t1 < t2 = t1 + delta`` (``delta <= max_jump``) per clip; the loss is
  ``-log p_D(x_t2 | z_t2)`` (as MSE) plus ``beta`` times ``KL(q_S || p_B(b_t1)) +
  log p_B(z_t2 | b_t2) - log p_T(z_t2 | z_t1)``.

Both start every sequence at a blank frame (background, -1), so the same model
samples unconditionally (from the blank frame alone) and predicts from any number
of context frames. Optional conditioning on a class or action per clip
(``num_classes > 0``, e.g. the direction of motion, as in DVG's "uses action
information as a condition") joins the recurrent inputs as a one-hot code.

The networks share one contract with their engine (``keras_vgan.variational.VideoVAE``):

* ``elbo(clips, eps, labels=None, training=False)`` -> ``{"video", "target",
  "reconstruction", "kl"}`` (the reconstructions and the frames they reconstruct): clips ``[B, T, H, W, C]``, ``eps`` standard normal ``[B,
  train_noise_size(T)]`` (all the randomness of a step: posterior samples, and
  TD-VAE's choice of time points), scalar mean terms;
* ``rollout(context, noise, labels=None, horizon=None)`` -> the future ``[B,
  horizon, H, W, C]`` after ``context`` ``[B, K, H, W, C]`` (None: sampled from
  the blank frame), with prior noise ``[B, noise_steps(horizon), z_dim]``;
* ``frames`` (the clip length of an unconditional sample), ``z_dim``,
  ``context_frames``, ``target_frames`` and ``serving_input_shape``.
"""

import math

import keras
from keras import ops

from keras_vgan import registry
from keras_vgan.layers.blocks import bounded, dcgan_init, leaky, make_norm
from keras_vgan.layers.checks import NORMS, check_frame_size, check_positive, check_widths
from keras_vgan.layers.conditioning import check_num_classes, labels_vector

LOG_2PI = math.log(2.0 * math.pi)


# ------------------------------------------------------------------ Gaussians
def gaussian_kl(mu_q, logvar_q, mu_p, logvar_p):
    """``KL(N(mu_q, e^logvar_q) || N(mu_p, e^logvar_p))`` summed over the last axis.

    ``0.5 * sum(logvar_p - logvar_q + (e^logvar_q + (mu_q - mu_p)^2) / e^logvar_p - 1)``
    (diagonal Gaussians, Kingma & Welling 2014, appendix B).
    """
    return 0.5 * ops.sum(
        logvar_p
        - logvar_q
        + (ops.exp(logvar_q) + ops.square(mu_q - mu_p)) * ops.exp(-logvar_p)
        - 1.0,
        axis=-1,
    )


def gaussian_log_prob(z, mu, logvar):
    """``log N(z; mu, e^logvar)`` summed over the last axis."""
    return -0.5 * ops.sum(LOG_2PI + logvar + ops.square(z - mu) * ops.exp(-logvar), axis=-1)


def _split_gaussian(params):
    mu, logvar = ops.split(params, 2, axis=-1)
    return mu, ops.clip(logvar, -10.0, 10.0)


def _sample(mu, logvar, eps):
    return mu + ops.exp(0.5 * logvar) * eps


def _blank(like):
    """The start frame ``[B, 1, H, W, C]`` of background (-1) shaped like ``like[:, :1]``."""
    return -ops.ones_like(like[:, :1])


# --------------------------------------------------------------------- layers
@keras.saving.register_keras_serializable(package="keras_vgan")
class FrameEncoder(keras.layers.Layer):
    """DCGAN-like per-frame encoder: 4x4 stride-2 convolutions, then a dense code.

    Call: frames ``[N, H, W, C]`` -> ``(code [N, dim] in (-1, 1), features)``;
    ``features[i]`` is level ``i``'s output ``[N, H / 2**(i+1), W / 2**(i+1),
    widths[i]]`` (the decoder's skips).
    """

    def __init__(self, widths, dim, norm="batch", **kwargs):
        super().__init__(**kwargs)
        self.widths = check_widths(widths)
        self.dim = int(dim)
        self.norm = norm
        self.convs = [
            keras.layers.Conv2D(
                w, 4, 2, padding="same", kernel_initializer=dcgan_init(), name=f"conv_{i}"
            )
            for i, w in enumerate(self.widths)
        ]
        self.norms = [None] + [
            make_norm(norm, name=f"norm_{i}") for i in range(1, len(self.widths))
        ]
        self.flatten = keras.layers.Flatten()
        self.code = keras.layers.Dense(self.dim, kernel_initializer=dcgan_init(), name="code")
        self.code_norm = make_norm(norm, name="code_norm")

    def call(self, x, training=False):
        features = []
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = conv(x)
            if norm is not None:
                x = norm(x, training=training)
            x = leaky(x)
            features.append(x)
        code = self.code(self.flatten(x))
        if self.code_norm is not None:
            code = self.code_norm(code, training=training)
        return ops.tanh(code), features

    def get_config(self):
        config = super().get_config()
        config.update(widths=list(self.widths), dim=self.dim, norm=self.norm)
        return config


@keras.saving.register_keras_serializable(package="keras_vgan")
class FrameDecoder(keras.layers.Layer):
    """The mirror of ``FrameEncoder``: a dense map to the coarsest grid, then 4x4 stride-2
    transposed convolutions, each level optionally joined by the encoder's skip features.

    Call: ``code [N, dim]`` (and ``skips``, the encoder features of one frame per
    sample, or None) -> frames ``[N, H, W, C]`` in [-1, 1] (a straight-through clip).
    """

    def __init__(self, size, channels, widths, norm="batch", skip=True, **kwargs):
        super().__init__(**kwargs)
        self.size = int(size)
        self.channels = int(channels)
        self.widths = check_widths(widths)
        self.norm = norm
        self.skip = bool(skip)
        levels = len(self.widths)
        self.grid = self.size // 2**levels
        self.project = keras.layers.Dense(
            self.grid * self.grid * self.widths[-1], kernel_initializer=dcgan_init(), name="project"
        )
        self.project_norm = make_norm(norm, name="project_norm")
        outs = [self.channels]  # level i renders widths[i - 1], level 0 the frame
        outs = outs + list(self.widths[:-1])
        self.ups = [
            keras.layers.Conv2DTranspose(
                outs[i], 4, 2, padding="same", kernel_initializer=dcgan_init(), name=f"up_{i}"
            )
            for i in range(levels)
        ]
        self.norms = [None] + [make_norm(norm, name=f"norm_{i}") for i in range(1, levels)]

    def call(self, code, skips=None, training=False):
        x = self.project(code)
        x = ops.reshape(x, (-1, self.grid, self.grid, self.widths[-1]))
        if self.project_norm is not None:
            x = self.project_norm(x, training=training)
        x = leaky(x)
        for i in reversed(range(len(self.widths))):
            if self.skip:
                x = ops.concatenate([x, skips[i]], axis=-1)
            x = self.ups[i](x)
            if i:
                if self.norms[i] is not None:
                    x = self.norms[i](x, training=training)
                x = leaky(x)
        return bounded(x)

    def get_config(self):
        config = super().get_config()
        config.update(
            size=self.size,
            channels=self.channels,
            widths=list(self.widths),
            norm=self.norm,
            skip=self.skip,
        )
        return config


@keras.saving.register_keras_serializable(package="keras_vgan")
class LSTMStack(keras.layers.Layer):
    """SVG's recurrent block: dense embedding, ``layers`` LSTM cells, dense output.

    Call: ``x [B, in]`` and ``states`` (a list of ``[h, c]`` per cell) -> ``(y [B,
    units_out], states)``; ``zero_states(batch)`` gives the initial states.
    """

    def __init__(self, units, output_dim, layers=1, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.output_dim = int(output_dim)
        self.layers = int(layers)
        self.embed = keras.layers.Dense(self.units, name="embed")
        self.cells = [keras.layers.LSTMCell(self.units, name=f"lstm_{i}") for i in range(layers)]
        self.out = keras.layers.Dense(self.output_dim, name="out")

    def zero_states(self, batch):
        z = ops.zeros((batch, self.units))
        return [[z, z] for _ in range(self.layers)]

    def call(self, x, states):
        h = self.embed(x)
        new = []
        for cell, state in zip(self.cells, states, strict=True):
            h, state = cell(h, state)
            new.append(list(state))
        return self.out(h), new

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, output_dim=self.output_dim, layers=self.layers)
        return config


# ---------------------------------------------------------------- the models
class _VideoVAENet(keras.Model):
    """What SVG-LP and TD-VAE share: geometry, labels, checks and config."""

    def _setup(self, context_frames, target_frames, size, channels, widths, z_dim, num_classes,
               norm):  # fmt: skip
        check_positive(
            context_frames=context_frames,
            target_frames=target_frames,
            size=size,
            channels=channels,
            z_dim=z_dim,
        )
        self.context_frames = int(context_frames)
        self.target_frames = int(target_frames)
        self.size = int(size)
        self.channels = int(channels)
        self.widths = check_widths(widths)
        check_frame_size(self.size, len(self.widths))
        self.z_dim = int(z_dim)
        self.num_classes = check_num_classes(num_classes)
        if norm not in NORMS:
            raise ValueError(f"norm={norm!r} is not one of {', '.join(NORMS)}")
        self.norm = norm

    @property
    def frames(self):
        """The length of a training clip: context and target frames."""
        return self.context_frames + self.target_frames

    @property
    def serving_input_shape(self):
        """``(K, H, W, C)`` of one context clip (for the export endpoints)."""
        return (self.context_frames, self.size, self.size, self.channels)

    def _label_code(self, labels, batch):
        """One-hot labels ``[B, num_classes]`` (``[B, 0]`` when unconditional)."""
        if not self.num_classes:
            return ops.zeros((batch, 0))
        return ops.one_hot(labels_vector(labels), self.num_classes)

    def _check_clips(self, x, name):
        shape = tuple(x.shape)
        want = (self.size, self.size, self.channels)
        if len(shape) != 5 or shape[2:] != want:
            raise ValueError(
                f"{name} has shape {shape}; expected [B, T, {self.size}, {self.size}, "
                f"{self.channels}]"
            )

    def _horizon(self, horizon):
        horizon = self.target_frames if horizon is None else horizon
        check_positive(horizon=horizon)
        return int(horizon)

    def _encode_frames(self, clips, training):
        """Encodes every frame of ``[B, T, ...]`` in one batch: ``(codes [B, T, d], features)``."""
        b, t = ops.shape(clips)[0], clips.shape[1]
        code, features = self.encoder(
            ops.reshape(clips, (-1,) + tuple(clips.shape[2:])), training=training
        )
        code = ops.reshape(code, (b, t, -1))
        features = [ops.reshape(f, (b, t) + tuple(f.shape[1:])) for f in features]
        return code, features

    def _build_now(self):
        # One frame creates every weight (the steps share their layers) at a fraction of
        # the cost of a whole clip.
        x = ops.zeros((1, 1, self.size, self.size, self.channels))
        labels = ops.zeros((1,), "int32") if self.num_classes else None
        self.elbo(x, ops.zeros((1, self.train_noise_size(1))), labels)
        self.built = True

    def build(self, input_shape=None):
        self._build_now()

    def call(self, context, noise=None, labels=None, horizon=None, training=False):
        """The future after ``context`` ``[B, K, H, W, C]``; zero noise (the prior's mean
        path) where ``noise`` is None."""
        horizon = self._horizon(horizon)
        if noise is None:
            noise = ops.zeros((ops.shape(context)[0], self.noise_steps(horizon), self.z_dim))
        return self.rollout(context, noise, labels=labels, horizon=horizon, training=training)

    def _base_config(self):
        return dict(
            context_frames=self.context_frames,
            target_frames=self.target_frames,
            size=self.size,
            channels=self.channels,
            widths=list(self.widths),
            z_dim=self.z_dim,
            num_classes=self.num_classes,
            norm=self.norm,
        )


@keras.saving.register_keras_serializable(package="keras_vgan")
class SVGLP(_VideoVAENet):
    """SVG-LP (Denton & Fergus 2018): learned-prior stochastic video prediction.

    Args:
        context_frames: frames of context ``K`` (the skips come from frame ``K``).
        target_frames: frames predicted by default (the trained horizon).
        size, channels: frame geometry; ``size`` a multiple of ``2**len(widths)``.
        widths: the encoder's widths, finest first (the decoder mirrors them).
        z_dim: latent size per frame (the paper: 10 on SM-MNIST).
        g_dim: the frame code's size (the paper: 128).
        rnn_size: LSTM units (the paper: 256).
        predictor_layers, prior_layers, posterior_layers: LSTM cells of each (2, 1, 1).
        num_classes: > 0: conditioned on a class / action per clip.
        norm: the convolutional networks' normalisation.

    Sequence ``s_0`` (blank), ``s_1 .. s_T`` (the clip): frame ``s_t`` is decoded
    from ``[h(s_{t-1}), z_t]`` with the encoder features of ``s_min(t-1, K)`` as skips;
    ``z_t`` comes from the posterior (training, and warming up on real context) or
    from the learned prior (sampling).
    """

    def __init__(self, context_frames, target_frames, size=64, channels=1,
                 widths=(64, 128, 256, 512), z_dim=10, g_dim=128, rnn_size=256,
                 predictor_layers=2, prior_layers=1, posterior_layers=1, num_classes=0,
                 norm="batch", **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self._setup(context_frames, target_frames, size, channels, widths, z_dim, num_classes,
                    norm)  # fmt: skip
        check_positive(
            g_dim=g_dim,
            rnn_size=rnn_size,
            predictor_layers=predictor_layers,
            prior_layers=prior_layers,
            posterior_layers=posterior_layers,
        )
        self.g_dim = int(g_dim)
        self.rnn_size = int(rnn_size)
        self.predictor_layers = int(predictor_layers)
        self.prior_layers = int(prior_layers)
        self.posterior_layers = int(posterior_layers)
        self.encoder = FrameEncoder(self.widths, self.g_dim, norm=norm, name="encoder")
        self.decoder = FrameDecoder(
            self.size, self.channels, self.widths, norm=norm, skip=True, name="decoder"
        )
        self.predictor = LSTMStack(self.rnn_size, self.g_dim, predictor_layers, name="predictor")
        self.prior = LSTMStack(self.rnn_size, 2 * self.z_dim, prior_layers, name="prior")
        self.posterior = LSTMStack(self.rnn_size, 2 * self.z_dim, posterior_layers,
                                   name="posterior")  # fmt: skip
        self._build_now()

    def noise_steps(self, horizon):
        """Prior draws of a roll-out of ``horizon`` frames: one per frame."""
        return int(horizon)

    def train_noise_size(self, frames):
        """Standard normals per clip of one training step: a posterior draw per frame."""
        return int(frames) * self.z_dim

    def _predict(self, h_prev, z, label, states):
        g, states = self.predictor(ops.concatenate([h_prev, z, label], axis=-1), states)
        return ops.tanh(g), states

    def elbo(self, clips, eps, labels=None, training=False):
        """Teacher-forced pass over ``clips`` ``[B, T, H, W, C]``: every frame decoded from
        the posterior; returns the reconstructions and the per-pixel MSE and the KL
        (summed over latents and frames, divided by frames: the mean per frame)."""
        self._check_clips(clips, "clips")
        b, t = ops.shape(clips)[0], clips.shape[1]
        eps = ops.reshape(eps, (b, t, self.z_dim))
        seq = ops.concatenate([_blank(clips), clips], axis=1)  # [B, T + 1, ...]
        h, features = self._encode_frames(seq, training)
        label = self._label_code(labels, b)
        states = {n: getattr(self, n).zero_states(b) for n in ("predictor", "prior", "posterior")}
        codes, kls = [], []
        for step in range(1, t + 1):
            prior_in = ops.concatenate([h[:, step - 1], label], axis=-1)
            post_in = ops.concatenate([h[:, step], label], axis=-1)
            p, states["prior"] = self.prior(prior_in, states["prior"])
            q, states["posterior"] = self.posterior(post_in, states["posterior"])
            mu_p, lv_p = _split_gaussian(p)
            mu_q, lv_q = _split_gaussian(q)
            z = _sample(mu_q, lv_q, eps[:, step - 1])
            g, states["predictor"] = self._predict(h[:, step - 1], z, label, states["predictor"])
            codes.append(g)
            kls.append(gaussian_kl(mu_q, lv_q, mu_p, lv_p))
        skip_at = [min(step - 1, self.context_frames) for step in range(1, t + 1)]
        skips = [ops.take(f, skip_at, axis=1) for f in features]
        flat = [ops.reshape(s, (-1,) + tuple(s.shape[2:])) for s in skips]
        video = self.decoder(ops.reshape(ops.stack(codes, axis=1), (-1, self.g_dim)), flat,
                             training=training)  # fmt: skip
        video = ops.reshape(video, ops.shape(clips))
        recon = ops.mean(ops.square(video - clips))
        kl = ops.mean(ops.stack(kls, axis=1))
        return {"video": video, "target": clips, "reconstruction": recon, "kl": kl}

    def rollout(self, context, noise, labels=None, horizon=None, training=False):
        """``horizon`` frames after ``context`` (None: from the blank frame alone), the
        prior sampled with ``noise`` ``[B, horizon, z_dim]``; the LSTMs first read the
        context with posterior means."""
        horizon = self._horizon(horizon)
        b = ops.shape(noise)[0]
        if context is None:
            seq = -ops.ones((b, 1, self.size, self.size, self.channels))
        else:
            self._check_clips(context, "context")
            seq = ops.concatenate([_blank(context), ops.cast(context, "float32")], axis=1)
        k = seq.shape[1] - 1
        h, features = self._encode_frames(seq, training)
        h_all = [h[:, i] for i in range(k + 1)]
        feats = [[f[:, i] for f in features] for i in range(k + 1)]
        label = self._label_code(labels, b)
        states = {n: getattr(self, n).zero_states(b) for n in ("predictor", "prior", "posterior")}
        for step in range(1, k + 1):  # warm up on the real context
            _, states["prior"] = self.prior(
                ops.concatenate([h_all[step - 1], label], -1), states["prior"]
            )
            q, states["posterior"] = self.posterior(
                ops.concatenate([h_all[step], label], -1), states["posterior"]
            )
            mu_q, _ = _split_gaussian(q)
            _, states["predictor"] = self._predict(h_all[step - 1], mu_q, label,
                                                   states["predictor"])  # fmt: skip
        future = []
        for j in range(horizon):
            step = k + 1 + j
            p, states["prior"] = self.prior(
                ops.concatenate([h_all[step - 1], label], -1), states["prior"]
            )
            mu_p, lv_p = _split_gaussian(p)
            z = _sample(mu_p, lv_p, noise[:, j])
            g, states["predictor"] = self._predict(h_all[step - 1], z, label, states["predictor"])
            frame = self.decoder(g, feats[min(step - 1, self.context_frames)], training=training)
            future.append(frame)
            if j + 1 < horizon:
                code, f = self.encoder(frame, training=training)
                h_all.append(code)
                feats.append(f)
        return ops.stack(future, axis=1)

    def get_config(self):
        config = super().get_config()
        config.update(self._base_config())
        config.update(
            g_dim=self.g_dim,
            rnn_size=self.rnn_size,
            predictor_layers=self.predictor_layers,
            prior_layers=self.prior_layers,
            posterior_layers=self.posterior_layers,
        )
        return config


@keras.saving.register_keras_serializable(package="keras_vgan")
class TDVAE(_VideoVAENet):
    """TD-VAE (Gregor et al. 2019), one latent layer, jumps of up to ``max_jump`` frames.

    Args:
        context_frames, target_frames, size, channels, widths, z_dim, num_classes,
            norm: as ``SVGLP``.
        rnn_size: units of the belief LSTM and of the hidden layers.
        max_jump: the largest jump ``delta`` trained (and sampled) at once.

    ``jump(context, jumps, noise)`` samples states ``z_{K+delta}`` straight from the
    belief at the last context frame for each ``delta`` of ``jumps`` and decodes them.
    """

    def __init__(self, context_frames, target_frames, size=64, channels=1,
                 widths=(64, 128, 256, 512), z_dim=8, rnn_size=128, max_jump=4, num_classes=0,
                 norm="batch", **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self._setup(context_frames, target_frames, size, channels, widths, z_dim, num_classes,
                    norm)  # fmt: skip
        check_positive(rnn_size=rnn_size, max_jump=max_jump)
        self.rnn_size = int(rnn_size)
        self.max_jump = int(max_jump)
        r, zd = self.rnn_size, self.z_dim
        self.encoder = FrameEncoder(self.widths, r, norm=norm, name="encoder")
        self.decoder = FrameDecoder(
            self.size, self.channels, self.widths, norm=norm, skip=False, name="decoder"
        )
        self.belief = keras.layers.LSTM(r, return_sequences=True, name="belief")

        def mlp(name, out):
            return keras.Sequential(
                [keras.layers.Dense(r, activation="tanh"), keras.layers.Dense(out)], name=name
            )

        self.belief_dist = mlp("belief_dist", 2 * zd)  # p_B(z | b)
        self.transition = mlp("transition", 2 * zd)  # p_T(z2 | z1, delta)
        self.smoothing = mlp("smoothing", 2 * zd)  # q_S(z1 | z2, b1, b2, delta)
        self.render = keras.layers.Dense(r, activation="tanh", name="render")  # z -> code
        self._build_now()

    def noise_steps(self, horizon):
        """Normals of a roll-out of ``horizon`` frames: the first state, then a jump per frame."""
        return int(horizon) + 1

    def train_noise_size(self, frames):
        """Two for the time points, ``z_dim`` for each of ``z_t2`` and ``z_t1``."""
        return 2 + 2 * self.z_dim

    def beliefs(self, seq, labels=None, training=False):
        """``b_t`` ``[B, T, rnn_size]`` of a sequence ``[B, T, H, W, C]``."""
        e, _ = self._encode_frames(seq, training)
        label = self._label_code(labels, ops.shape(seq)[0])
        if self.num_classes:
            label = ops.repeat(label[:, None], seq.shape[1], axis=1)
            e = ops.concatenate([e, label], axis=-1)
        return self.belief(e, training=training)

    def _delta_code(self, delta, batch):
        d = ops.one_hot(ops.cast(delta, "int32") - 1, self.max_jump)
        return ops.broadcast_to(d, (batch, self.max_jump)) if len(d.shape) == 1 else d

    def _transition(self, z1, delta_code):
        mu, lv = _split_gaussian(self.transition(ops.concatenate([z1, delta_code], -1)))
        return z1 + mu, lv  # a residual mean: the state moves by a learned step

    def _decode(self, z, training):
        return self.decoder(self.render(z), None, training=training)

    def elbo(self, clips, eps, labels=None, training=False):
        """One jump ``t1 -> t2`` per clip of ``clips`` ``[B, T, ...]`` (with the blank
        start as ``s_0``); returns the decoded ``x_t2``, its per-pixel MSE and the KL terms."""
        self._check_clips(clips, "clips")
        b, t = ops.shape(clips)[0], clips.shape[1]
        zd = self.z_dim
        seq = ops.concatenate([_blank(clips), clips], axis=1)  # [B, T + 1, ...]
        beliefs = self.beliefs(seq, labels, training)
        u = 0.5 * (1.0 + ops.erf(eps[:, :2] / math.sqrt(2.0)))  # normals -> uniforms
        jump = min(self.max_jump, t)
        delta = 1 + ops.minimum(ops.cast(u[:, 0] * jump, "int32"), jump - 1)  # [B] in 1..D
        t1 = ops.minimum(ops.cast(u[:, 1] * ops.cast(t + 1 - delta, "float32"), "int32"), t - delta)
        t2 = t1 + delta
        b1 = ops.take_along_axis(beliefs, t1[:, None, None], axis=1)[:, 0]
        b2 = ops.take_along_axis(beliefs, t2[:, None, None], axis=1)[:, 0]
        x2 = ops.take_along_axis(seq, t2[:, None, None, None, None], axis=1)[:, 0]
        code = self._delta_code(delta, b)
        mu_b2, lv_b2 = _split_gaussian(self.belief_dist(b2))
        z2 = _sample(mu_b2, lv_b2, eps[:, 2 : 2 + zd])
        mu_q, lv_q = _split_gaussian(self.smoothing(ops.concatenate([z2, b1, b2, code], -1)))
        z1 = _sample(mu_q, lv_q, eps[:, 2 + zd : 2 + 2 * zd])
        mu_b1, lv_b1 = _split_gaussian(self.belief_dist(b1))
        mu_t, lv_t = self._transition(z1, code)
        kl = gaussian_kl(mu_q, lv_q, mu_b1, lv_b1) + (
            gaussian_log_prob(z2, mu_b2, lv_b2) - gaussian_log_prob(z2, mu_t, lv_t)
        )
        video = self._decode(z2, training)[:, None]
        recon = ops.mean(ops.square(video - x2[:, None]))
        return {"video": video, "target": x2[:, None], "reconstruction": recon, "kl": ops.mean(kl)}

    def _first_state(self, context, noise0, labels, training):
        b = ops.shape(noise0)[0]
        if context is None:
            seq = -ops.ones((b, 1, self.size, self.size, self.channels))
        else:
            self._check_clips(context, "context")
            seq = ops.concatenate([_blank(context), ops.cast(context, "float32")], axis=1)
        b_last = self.beliefs(seq, labels, training)[:, -1]
        mu, lv = _split_gaussian(self.belief_dist(b_last))
        return _sample(mu, lv, noise0)

    def rollout(self, context, noise, labels=None, horizon=None, training=False):
        """``horizon`` frames after ``context`` by jumps of one frame from a state sampled
        from the belief; ``noise`` ``[B, horizon + 1, z_dim]``."""
        horizon = self._horizon(horizon)
        z = self._first_state(context, noise[:, 0], labels, training)
        one = self._delta_code(ops.ones(()), ops.shape(z)[0])
        frames = []
        for j in range(horizon):
            mu, lv = self._transition(z, one)
            z = _sample(mu, lv, noise[:, j + 1])
            frames.append(self._decode(z, training))
        return ops.stack(frames, axis=1)

    def jump(self, context, jumps, noise, labels=None):
        """Frames ``K + delta`` for each ``delta`` of ``jumps`` (each <= ``max_jump``), each
        sampled in one jump from the state at the last context frame.

        Args:
            context: ``[B, K, H, W, C]``.
            jumps: jump lengths, e.g. ``(1, 2, 4)``.
            noise: ``[B, 1 + len(jumps), z_dim]``.

        Returns:
            ``[B, len(jumps), H, W, C]``.
        """
        for d in jumps:
            if not 1 <= int(d) <= self.max_jump:
                raise ValueError(f"jump {d!r} must be in [1, max_jump={self.max_jump}]")
        z = self._first_state(context, noise[:, 0], labels, False)
        out = []
        for i, d in enumerate(jumps):
            mu, lv = self._transition(z, self._delta_code(ops.full((), d), ops.shape(z)[0]))
            out.append(self._decode(_sample(mu, lv, noise[:, i + 1]), False))
        return ops.stack(out, axis=1)

    def get_config(self):
        config = super().get_config()
        config.update(self._base_config())
        config.update(rnn_size=self.rnn_size, max_jump=self.max_jump)
        return config


# -------------------------------------------------------------- registration
def check_config(config):
    """The VAE family's fields: geometry, context, the KL weight, labels from built-in data."""
    check_frame_size(config.size, config.depth)
    if not 1 <= config.context_frames < config.frames:
        raise ValueError(
            f"context_frames={config.context_frames} must be in [1, frames={config.frames})"
        )
    if not config.kl_weight >= 0:
        raise ValueError(f"kl_weight={config.kl_weight!r} must be >= 0")
    check_positive(rnn_size=config.rnn_size, max_jump=config.max_jump)
    if config.num_classes and config.data not in ("moving_mnist", "shapes"):
        raise ValueError(
            f"num_classes={config.num_classes}: the VAE family takes labels from the built-in "
            f"data sets only, not data={config.data!r}"
        )


def _geometry(config):
    return dict(
        context_frames=config.context_frames,
        target_frames=config.frames - config.context_frames,
        size=config.size,
        channels=config.channels,
        widths=config.widths(finest_first=True),
        z_dim=config.latent_dim,
        num_classes=config.num_classes,
        norm=config.g_norm,
    )


def build_svg_lp(config):
    """``(SVGLP, None)``: the paper's code (128) is half the LSTM units."""
    net = SVGLP(
        g_dim=max(config.rnn_size // 2, 8),
        rnn_size=config.rnn_size,
        name="generator",
        **_geometry(config),
    )
    return net, None


def build_tdvae(config):
    """``(TDVAE, None)``."""
    net = TDVAE(rnn_size=config.rnn_size, max_jump=config.max_jump, name="generator",
                **_geometry(config))  # fmt: skip
    return net, None


def build_model(config, networks):
    """The compiled ``variational.VideoVAE`` of a VAE config (imported here: models are
    leaves, the engine is above them)."""
    from keras_vgan.variational import build_vae

    return build_vae(config, networks)


def baselines(stride=None, scale=1):
    """``copy_last_frame`` and ``blank`` (background, -1): ``fn(context, frames)``."""
    return {
        "copy_last_frame": lambda x, frames: ops.repeat(x[:, -1:], int(frames), axis=1),
        "blank": lambda x, frames: -ops.ones((ops.shape(x)[0], frames, *ops.shape(x)[2:])),
    }


VAE_SERVING = registry.Serving("vae", "predict")
_VAE = dict(
    check=check_config,
    serving=VAE_SERVING,
    d_norms=("batch", "layer", "none", "spectral"),  # no discriminator: any value
    num_classes=True,
    task="prediction",
    condition="time",
    build_model=build_model,
)
registry.register(
    registry.ModelFamily(name="svg_lp", build=build_svg_lp, generators=(SVGLP,), **_VAE)
)
registry.register(
    registry.ModelFamily(name="tdvae", build=build_tdvae, generators=(TDVAE,), **_VAE)
)
