"""Adversarial losses and regularisers for GAN training.

Every function here is pure: it takes discriminator (critic) logits, or a
critic callable and data, and returns a scalar float32 tensor. Losses are
MEANS over the batch; dividing by the number of replicas is the engine's job.
Inputs are cast to float32 first, so float16 / bfloat16 logits from a
mixed-precision model are safe, and ``log(sigmoid(x))`` is always written
with ``softplus`` for numerical stability.

Adversarial losses (each kind a ``(discriminator_loss, generator_loss)`` pair,
looked up by name with ``get_adversarial_loss``):

* ``"minimax"``: Goodfellow et al. 2014, with the original saturating G loss.
* ``"non_saturating"``: the same D loss, G maximises ``log D(G(z))``.
* ``"lsgan"``: least squares, Mao et al. 2017.
* ``"wgan"``: Wasserstein critic, Arjovsky et al. 2017 (WGAN-GP is ``"wgan"``
  plus ``gradient_penalty``, Gulrajani et al. 2017; the engine adds it).
* ``"hinge"``: Lim & Ye 2017; Miyato et al. 2018.

Regularisers:

* ``gradient_penalty``: WGAN-GP two-sided penalty on interpolates.
* ``r1_penalty``: squared gradient norm on real data (Mescheder et al. 2018).
* ``mask_sparsity``: L1 prior on the VGAN foreground mask (Vondrick et al. 2016).
* ``ssim_loss``: ``1 - SSIM`` of the frames, scored on [0, 1] (Wang et al. 2004; as a
  training loss, Zhao et al. 2017).
* ``differential_divergence``: TAU's differential divergence regularisation of a
  predicted clip against its target (Tan et al. 2023).

Unpaired video translation (Recycle-GAN, Bansal et al. 2018; ``keras_vgan.unpaired``):

* ``cycle_loss``: CycleGAN's cycle consistency ``E |x - G_BA(G_AB(x))|``.
* ``recurrent_loss``: a temporal predictor's error ``E |x_{t+1} - P(x_{t-1}, x_t)|``.
* ``recycle_loss``: the error of the cycle through the other domain's predictor,
  ``E |x_{t+1} - G_BA(P_B(G_AB(x_{t-1}), G_AB(x_t)))|``.

Notation: ``D(x)`` is a real logit, ``D(G(z))`` a fake logit, ``E`` the mean
over all elements (the batch, for logits of shape ``[B]`` or ``[B, 1]``).
"""

import keras
import tensorflow as tf

__all__ = [
    "ADVERSARIAL_LOSSES",
    "get_adversarial_loss",
    "minimax_discriminator_loss",
    "minimax_generator_loss",
    "non_saturating_generator_loss",
    "lsgan_discriminator_loss",
    "lsgan_generator_loss",
    "wasserstein_discriminator_loss",
    "wasserstein_generator_loss",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "gradient_penalty",
    "r1_penalty",
    "mask_sparsity",
    "differential_divergence",
    "cycle_loss",
    "recurrent_loss",
    "recycle_loss",
]


def _f32(x):
    return tf.cast(x, tf.float32)


# --- Minimax / non-saturating (Goodfellow et al. 2014) -----------------------


def minimax_discriminator_loss(real_logits, fake_logits):
    """Discriminator loss of the original GAN.

    ``L_D = E[softplus(-D(x))] + E[softplus(D(G(z)))]``, i.e. the binary
    cross-entropy ``-E[log sigmoid(D(x))] - E[log(1 - sigmoid(D(G(z))))]``.
    Also the D loss of the non-saturating GAN.

    Goodfellow et al. 2014, "Generative Adversarial Nets".

    Args:
        real_logits: discriminator logits on real data, shape ``[B]`` or ``[B, 1]``.
        fake_logits: discriminator logits on generated data, same shape.

    Returns:
        Scalar float32 loss, a mean over the batch.
    """
    real_logits, fake_logits = _f32(real_logits), _f32(fake_logits)
    return tf.reduce_mean(tf.nn.softplus(-real_logits)) + tf.reduce_mean(
        tf.nn.softplus(fake_logits)
    )


def minimax_generator_loss(fake_logits):
    """Saturating generator loss of the original GAN.

    ``L_G = E[log(1 - sigmoid(D(G(z))))] = -E[softplus(D(G(z)))]``: the
    generator minimises the value the discriminator maximises. Its gradient
    vanishes when D confidently rejects the fakes; it is kept because the
    VGAN-era papers train with it. Prefer ``non_saturating_generator_loss``.

    Goodfellow et al. 2014, "Generative Adversarial Nets".

    Args:
        fake_logits: discriminator logits on generated data, shape ``[B]`` or ``[B, 1]``.

    Returns:
        Scalar float32 loss, a mean over the batch (always <= 0).
    """
    return -tf.reduce_mean(tf.nn.softplus(_f32(fake_logits)))


def non_saturating_generator_loss(fake_logits):
    """Non-saturating generator loss.

    ``L_G = -E[log sigmoid(D(G(z)))] = E[softplus(-D(G(z)))]``. Pairs with
    ``minimax_discriminator_loss``.

    Goodfellow et al. 2014, "Generative Adversarial Nets" (Section 3).

    Args:
        fake_logits: discriminator logits on generated data, shape ``[B]`` or ``[B, 1]``.

    Returns:
        Scalar float32 loss, a mean over the batch (always >= 0).
    """
    return tf.reduce_mean(tf.nn.softplus(-_f32(fake_logits)))


# --- Least squares (Mao et al. 2017) ------------------------------------------


def lsgan_discriminator_loss(real_logits, fake_logits):
    """Least-squares GAN discriminator loss with targets a=0 (fake), b=1 (real).

    ``L_D = 0.5 * E[(D(x) - 1)^2] + 0.5 * E[D(G(z))^2]``.

    Mao et al. 2017, "Least Squares Generative Adversarial Networks".

    Args:
        real_logits: discriminator outputs on real data, shape ``[B]`` or ``[B, 1]``.
        fake_logits: discriminator outputs on generated data, same shape.

    Returns:
        Scalar float32 loss, a mean over the batch.
    """
    real_logits, fake_logits = _f32(real_logits), _f32(fake_logits)
    return 0.5 * tf.reduce_mean(tf.square(real_logits - 1.0)) + 0.5 * tf.reduce_mean(
        tf.square(fake_logits)
    )


def lsgan_generator_loss(fake_logits):
    """Least-squares GAN generator loss with target c=1.

    ``L_G = 0.5 * E[(D(G(z)) - 1)^2]``.

    Mao et al. 2017, "Least Squares Generative Adversarial Networks".

    Args:
        fake_logits: discriminator outputs on generated data, shape ``[B]`` or ``[B, 1]``.

    Returns:
        Scalar float32 loss, a mean over the batch.
    """
    return 0.5 * tf.reduce_mean(tf.square(_f32(fake_logits) - 1.0))


# --- Wasserstein (Arjovsky et al. 2017) ----------------------------------------


def wasserstein_discriminator_loss(real_logits, fake_logits):
    """Wasserstein critic loss.

    ``L_D = E[D(G(z))] - E[D(x)]``. The critic must be kept Lipschitz: add
    ``gradient_penalty`` (WGAN-GP, Gulrajani et al. 2017, "Improved Training of
    Wasserstein GANs") or clip weights.

    Arjovsky et al. 2017, "Wasserstein Generative Adversarial Networks".

    Args:
        real_logits: critic scores on real data, shape ``[B]`` or ``[B, 1]``.
        fake_logits: critic scores on generated data, same shape.

    Returns:
        Scalar float32 loss, a mean over the batch.
    """
    return tf.reduce_mean(_f32(fake_logits)) - tf.reduce_mean(_f32(real_logits))


def wasserstein_generator_loss(fake_logits):
    """Wasserstein generator loss.

    ``L_G = -E[D(G(z))]``.

    Arjovsky et al. 2017, "Wasserstein Generative Adversarial Networks".

    Args:
        fake_logits: critic scores on generated data, shape ``[B]`` or ``[B, 1]``.

    Returns:
        Scalar float32 loss, a mean over the batch.
    """
    return -tf.reduce_mean(_f32(fake_logits))


# --- Hinge (Lim & Ye 2017; Miyato et al. 2018) ---------------------------------


def hinge_discriminator_loss(real_logits, fake_logits):
    """Hinge discriminator loss.

    ``L_D = E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]``.

    Lim & Ye 2017, "Geometric GAN"; Miyato et al. 2018, "Spectral
    Normalization for Generative Adversarial Networks".

    Args:
        real_logits: discriminator logits on real data, shape ``[B]`` or ``[B, 1]``.
        fake_logits: discriminator logits on generated data, same shape.

    Returns:
        Scalar float32 loss, a mean over the batch.
    """
    real_logits, fake_logits = _f32(real_logits), _f32(fake_logits)
    return tf.reduce_mean(tf.nn.relu(1.0 - real_logits)) + tf.reduce_mean(
        tf.nn.relu(1.0 + fake_logits)
    )


def hinge_generator_loss(fake_logits):
    """Hinge generator loss.

    ``L_G = -E[D(G(z))]``.

    Lim & Ye 2017, "Geometric GAN"; Miyato et al. 2018, "Spectral
    Normalization for Generative Adversarial Networks".

    Args:
        fake_logits: discriminator logits on generated data, shape ``[B]`` or ``[B, 1]``.

    Returns:
        Scalar float32 loss, a mean over the batch.
    """
    return -tf.reduce_mean(_f32(fake_logits))


# --- Registry ----------------------------------------------------------------

ADVERSARIAL_LOSSES = {
    "minimax": (minimax_discriminator_loss, minimax_generator_loss),
    "non_saturating": (minimax_discriminator_loss, non_saturating_generator_loss),
    "lsgan": (lsgan_discriminator_loss, lsgan_generator_loss),
    "wgan": (wasserstein_discriminator_loss, wasserstein_generator_loss),
    "hinge": (hinge_discriminator_loss, hinge_generator_loss),
}


def get_adversarial_loss(name):
    """Looks up an adversarial loss pair by name.

    Args:
        name: one of the keys of ``ADVERSARIAL_LOSSES``: ``"minimax"``,
            ``"non_saturating"``, ``"lsgan"``, ``"wgan"``, ``"hinge"``.
            WGAN-GP is ``"wgan"`` plus ``gradient_penalty``.

    Returns:
        A ``(discriminator_loss_fn, generator_loss_fn)`` tuple; the D function
        takes ``(real_logits, fake_logits)``, the G function ``(fake_logits)``.

    Raises:
        ValueError: if ``name`` is not a known loss.
    """
    try:
        return ADVERSARIAL_LOSSES[name]
    except (KeyError, TypeError):
        allowed = ", ".join(repr(k) for k in ADVERSARIAL_LOSSES)
        raise ValueError(
            f"Unknown adversarial loss {name!r}; expected one of: {allowed}."
        ) from None


# --- Regularisers --------------------------------------------------------------


def _per_sample_squared_norm(grads):
    # Flatten every non-batch axis, so any rank (videos, frames, vectors) works.
    grads = tf.reshape(_f32(grads), [tf.shape(grads)[0], -1])
    return tf.reduce_sum(tf.square(grads), axis=1)  # [B]


def _input_gradients(critic_fn, x):
    """Returns d sum(critic_fn(x)) / dx, recorded so outer tapes can differentiate it."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        scores = _f32(critic_fn(x))
        total = tf.reduce_sum(scores)
    return tape.gradient(total, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)


def _batch_broadcast_shape(x):
    # [B, 1, ..., 1] with as many ones as x has non-batch axes.
    shape = tf.shape(x)
    return tf.concat([shape[:1], tf.ones_like(shape[1:])], axis=0)


def _uniform_alpha(x, seed):
    shape = _batch_broadcast_shape(x)
    if seed is None:
        return tf.random.uniform(shape, dtype=tf.float32)
    if isinstance(seed, keras.random.SeedGenerator):
        seed = seed.next()
    seed = tf.convert_to_tensor(seed)
    if seed.dtype != tf.int32:
        # Stateless ops want int32 seeds under XLA; fold wider seeds into range.
        seed = tf.cast(tf.math.floormod(tf.cast(seed, tf.int64), 2**31 - 1), tf.int32)
    return tf.random.stateless_uniform(shape, seed=seed, dtype=tf.float32)


def gradient_penalty(critic_fn, real, fake, alpha=None, seed=None, target=1.0):
    """Two-sided gradient penalty of WGAN-GP.

    ``x_hat = alpha * x + (1 - alpha) * G(z)``, ``alpha ~ U[0, 1)`` per sample,
    ``GP = E[(||grad_{x_hat} D(x_hat)||_2 - target)^2]``,
    with the norm taken per sample over all non-batch axes (``1e-12`` is added
    inside the square root so its gradient stays finite at zero). The caller
    multiplies by lambda (10 in the paper).

    The input gradient is computed with an inner ``tf.GradientTape``; call this
    inside the tape that differentiates the critic's weights and the penalty is
    differentiable with respect to them (double backpropagation).

    Gulrajani et al. 2017, "Improved Training of Wasserstein GANs".

    Args:
        critic_fn: callable mapping a batch like ``real`` to scores ``[B]`` or
            ``[B, 1]`` (usually the discriminator, e.g. ``lambda x: d(x, training=True)``).
        real: real batch, e.g. videos ``[B, T, H, W, C]``.
        fake: generated batch, same shape as ``real``.
        alpha: optional interpolation weights, shape ``[B]`` or ``[B, 1, ..., 1]``
            (or anything broadcastable to ``real``). Drawn uniformly when None.
        seed: used only when ``alpha`` is None. None for a stateful draw, a
            shape-``[2]`` integer tensor for ``tf.random.stateless_uniform``, or
            a ``keras.random.SeedGenerator`` whose next seed is used.
        target: the gradient norm the penalty pulls towards (1 for 1-Lipschitz).

    Returns:
        Scalar float32 penalty, a mean over the batch.
    """
    real, fake = _f32(real), _f32(fake)
    if alpha is None:
        alpha = _uniform_alpha(real, seed)  # [B, 1, ..., 1]
    else:
        alpha = _f32(alpha)
        if alpha.shape.rank == 1 and real.shape.rank != 1:
            alpha = tf.reshape(alpha, _batch_broadcast_shape(real))  # [B] -> [B, 1, ..., 1]
    x_hat = alpha * real + (1.0 - alpha) * fake
    grads = _input_gradients(critic_fn, x_hat)
    norms = tf.sqrt(_per_sample_squared_norm(grads) + 1e-12)  # [B]
    return tf.reduce_mean(tf.square(norms - tf.cast(target, tf.float32)))


def r1_penalty(critic_fn, real):
    """R1 gradient penalty on real data.

    ``R1 = E_x[||grad_x D(x)||_2^2]``, the squared norm taken per sample over
    all non-batch axes. This returns the plain mean; the regulariser of the
    paper is ``gamma / 2 * R1``, so the caller multiplies by ``gamma / 2``
    (and, for lazy regularisation, by the interval).

    Like ``gradient_penalty`` it uses an inner tape, so it is differentiable
    with respect to the critic's weights when called inside an outer tape.

    Mescheder et al. 2018, "Which Training Methods for GANs do actually Converge?".

    Args:
        critic_fn: callable mapping ``real`` to scores ``[B]`` or ``[B, 1]``.
        real: real batch, e.g. videos ``[B, T, H, W, C]``.

    Returns:
        Scalar float32 penalty, a mean over the batch.
    """
    grads = _input_gradients(critic_fn, _f32(real))
    return tf.reduce_mean(_per_sample_squared_norm(grads))


def mask_sparsity(mask):
    """L1 sparsity prior on a foreground mask.

    ``L_mask = E[|m|]``, the mean absolute value over all elements, which
    pushes the two-stream VGAN generator to explain as much of the video as it
    can with the static background. The caller multiplies by the weight.

    Vondrick et al. 2016, "Generating Videos with Scene Dynamics".

    Args:
        mask: foreground mask of any shape, e.g. ``[B, T, H, W, 1]`` in [0, 1].

    Returns:
        Scalar float32 penalty.
    """
    return tf.reduce_mean(tf.abs(_f32(mask)))


DIVERGENCE_AXES = ("pixels", "time")


def differential_divergence(prediction, target, tau=0.1, over="pixels"):
    """TAU's differential divergence regularisation: motion must be distributed alike.

    With frame differences ``dP_t = P_{t+1} - P_t`` and ``dY_t = Y_{t+1} - Y_t`` of a
    prediction and its target ``[B, T, H, W, C]`` (on the [0, 1] scale, as in the
    paper) and ``p = softmax(dP / tau)``, ``q = softmax(dY / tau)``::

        L = mean over all elements of p * (log p - log q)

    i.e. ``KL(p || q)`` summed over the softmax axis, divided by its length (the
    mean of OpenSTL's ``diff_div_reg``, written with log-softmax instead of an
    epsilon). 0 for clips of fewer than 3 frames (OpenSTL's rule) and when the
    differences match up to a constant along the softmax axis.

    Tan et al. 2023, "Temporal Attention Unit: Towards Efficient Spatiotemporal
    Predictive Learning" (CVPR), eq. 8.

    Args:
        prediction, target: clips ``[B, T, H, W, C]`` of the same shape.
        tau: the softmax temperature (0.1 in the paper).
        over: the softmax axis: ``"pixels"`` (the flattened H, W, C of each
            difference frame, as OpenSTL computes it) or ``"time"`` (the T - 1
            differences of each pixel).

    Returns:
        Scalar float32 loss, >= 0.
    """
    if over not in DIVERGENCE_AXES:
        raise ValueError(f"over={over!r} is not one of {', '.join(DIVERGENCE_AXES)}")
    if not tau > 0:
        raise ValueError(f"tau={tau!r} must be > 0")
    p, y = _f32(prediction), _f32(target)
    if p.shape.rank != 5 or p.shape != y.shape:
        raise ValueError(
            f"prediction {tuple(p.shape)} and target {tuple(y.shape)} must be clips of the "
            "same shape [B, T, H, W, C]"
        )
    if p.shape[1] is not None and p.shape[1] <= 2:
        return tf.constant(0.0)
    b, t = tf.shape(p)[0], tf.shape(p)[1]
    dp = tf.reshape(p[:, 1:] - p[:, :-1], [b, t - 1, -1])
    dy = tf.reshape(y[:, 1:] - y[:, :-1], [b, t - 1, -1])
    axis = -1 if over == "pixels" else 1
    log_p = tf.nn.log_softmax(dp / tau, axis=axis)
    log_q = tf.nn.log_softmax(dy / tau, axis=axis)
    return tf.reduce_mean(tf.exp(log_p) * (log_p - log_q))


def ssim_loss(prediction, target):
    """``1 - mean SSIM`` of the frames of two clips ``[B, T, H, W, C]`` in [-1, 1].

    The clips are in the library's range and are scored on [0, 1], as the metrics
    do: SSIM is ``tf.image.ssim`` (11x11 Gaussian window, ``max_val=1``) of
    ``(x + 1) / 2``, the very function the prediction tables report
    (``metrics.reconstruction.per_frame_ssim``), so frames
    must be at least 11x11. As a reconstruction term (Zhao, Gallo, Frosio & Kautz 2017,
    "Loss Functions for Image Restoration with Neural Networks", IEEE TCI) it weighs
    what squared error does not: a faint haze on a black background costs SSIM through
    the luminance term ``(2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1)`` with
    ``C1 = 1e-4``, so a haze of 1% of full scale halves the SSIM of a background window
    while it adds only ``1e-4`` to its squared error.

    Returns:
        Scalar float32 loss in [0, 2] (0 for identical clips).
    """
    # Imported here: keras_vgan.metrics loads the evaluation stack. per_frame_ssim checks
    # the shapes and the window.
    from keras_vgan.metrics.reconstruction import per_frame_ssim

    return 1.0 - tf.reduce_mean(per_frame_ssim(prediction, target))


# ------------------------------------------------------ unpaired video translation
# Bansal, Ma, Ramanan & Sheikh, "Recycle-GAN: Unsupervised Video Retargeting" (ECCV
# 2018). The paper writes the recurrent and recycle terms as squared norms; its
# released code (and CycleGAN's cycle term) uses the L1 distance, as here. A predictor
# ``P`` maps a clip ``[B, T, H, W, C]`` to its next frames ``[B, T - 2, H, W, C]``:
# output ``t - 1`` is the prediction of frame ``t + 1`` from frames ``t - 1`` and ``t``.


def _clips(x, name, min_frames=1):
    x = _f32(x)
    if x.shape.rank != 5 or (x.shape[1] is not None and x.shape[1] < min_frames):
        raise ValueError(
            f"{name} has shape {tuple(x.shape)}; expected clips [B, T, H, W, C] with "
            f"T >= {min_frames}"
        )
    return x


def _same_shape(a, b, what):
    if a.shape != b.shape:
        raise ValueError(f"{what} has shape {tuple(b.shape)}; expected {tuple(a.shape)}")


def cycle_loss(real, reconstructed):
    """CycleGAN's cycle-consistency loss (Zhu et al. 2017): ``E |x - G_BA(G_AB(x))|``.

    Args:
        real: clips (or any tensor) ``x``.
        reconstructed: ``G_BA(G_AB(x))``, the same shape.

    Returns:
        Scalar float32 mean absolute error, >= 0.
    """
    real, reconstructed = _f32(real), _f32(reconstructed)
    _same_shape(real, reconstructed, "reconstructed")
    return tf.reduce_mean(tf.abs(real - reconstructed))


def recurrent_loss(clips, predictor):
    """Recycle-GAN's recurrent loss: ``E_t |x_{t+1} - P(x_{t-1}, x_t)|`` over
    ``t = 1 .. T - 2`` (a temporal predictor of one domain on its own clips).

    Args:
        clips: ``[B, T, H, W, C]``, ``T >= 3``.
        predictor: ``clips -> [B, T - 2, H, W, C]``, the next frame of every pair
            (module note above).

    Returns:
        Scalar float32 mean absolute error, >= 0.
    """
    x = _clips(clips, "clips", 3)
    predicted = _f32(predictor(x))
    _same_shape(x[:, 2:], predicted, "the predictor's output")
    return tf.reduce_mean(tf.abs(x[:, 2:] - predicted))


def recycle_loss(real, translated, predictor, back):
    """Recycle-GAN's recycle loss: ``E_t |x_{t+1} - G_BA(P_B(G_AB(x_{t-1}), G_AB(x_t)))|``.

    Domain A's clip is translated to B, B's predictor extrapolates it one frame per
    pair, and the prediction is translated back: it must land on A's true next frame,
    which ties the two generators to the motion of each domain (space *and* time).

    Args:
        real: domain A clips ``x`` ``[B, T, H, W, C]``, ``T >= 3``.
        translated: ``G_AB(x)`` ``[B, T, H, W, C']``.
        predictor: domain B's predictor ``P_B``: ``clips -> [B, T - 2, ...]``.
        back: ``G_BA``: clips of domain B -> clips of domain A.

    Returns:
        Scalar float32 mean absolute error, >= 0.
    """
    x = _clips(real, "real", 3)
    y = _clips(translated, "translated", 3)
    if y.shape[:2] != x.shape[:2]:
        raise ValueError(
            f"translated has shape {tuple(y.shape)}; expected the batch and frames of real "
            f"{tuple(x.shape)}"
        )
    recycled = _f32(back(predictor(y)))
    _same_shape(x[:, 2:], recycled, "the recycled clip")
    return tf.reduce_mean(tf.abs(x[:, 2:] - recycled))
