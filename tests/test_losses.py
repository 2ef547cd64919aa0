"""Known-answer tests for keras_vgan.losses.

Expected values are worked out by hand with ``math``, never by calling the
function under test.
"""

import math

import keras
import pytest
import tensorflow as tf

from keras_vgan import losses

REAL = [0.0, 2.0]
FAKE = [-1.0, 4.0]


def softplus(x):
    return math.log1p(math.exp(x))


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def mean(xs):
    return sum(xs) / len(xs)


def as_tensor(values, shape=None, dtype=tf.float32):
    t = tf.constant(values, dtype=dtype)
    return t if shape is None else tf.reshape(t, shape)


# --- Known answers for every D and G loss -----------------------------------------

# (name, expected D loss, expected G loss) for REAL = [0, 2], FAKE = [-1, 4].
KNOWN_ANSWERS = [
    (
        "minimax",
        # -log sigmoid(real) - log(1 - sigmoid(fake))
        mean([-math.log(sigmoid(r)) for r in REAL])
        + mean([-math.log(1.0 - sigmoid(f)) for f in FAKE]),
        # log(1 - sigmoid(fake))
        mean([math.log(1.0 - sigmoid(f)) for f in FAKE]),
    ),
    (
        "non_saturating",
        mean([-math.log(sigmoid(r)) for r in REAL])
        + mean([-math.log(1.0 - sigmoid(f)) for f in FAKE]),
        # -log sigmoid(fake)
        mean([-math.log(sigmoid(f)) for f in FAKE]),
    ),
    # 0.5 * mean((0-1)^2, (2-1)^2) + 0.5 * mean((-1)^2, 4^2) = 0.5 + 4.25
    ("lsgan", 4.75, 0.5 * mean([(-1.0 - 1.0) ** 2, (4.0 - 1.0) ** 2])),
    # mean(fake) - mean(real) = 1.5 - 1; G: -mean(fake)
    ("wgan", 0.5, -1.5),
    # mean(relu(1-0), relu(1-2)) + mean(relu(1-1), relu(1+4)) = 0.5 + 2.5
    ("hinge", 3.0, -1.5),
]


@pytest.mark.parametrize("name,expected_d,expected_g", KNOWN_ANSWERS)
@pytest.mark.parametrize("shape", [None, [2, 1]])
def test_known_answers(name, expected_d, expected_g, shape):
    d_fn, g_fn = losses.get_adversarial_loss(name)
    real, fake = as_tensor(REAL, shape), as_tensor(FAKE, shape)
    d_loss, g_loss = d_fn(real, fake), g_fn(fake)
    assert d_loss.shape == () and g_loss.shape == ()
    assert d_loss.dtype == tf.float32 and g_loss.dtype == tf.float32
    assert float(d_loss) == pytest.approx(expected_d, rel=1e-6, abs=1e-6)
    assert float(g_loss) == pytest.approx(expected_g, rel=1e-6, abs=1e-6)


def test_direct_functions_match_registry():
    assert losses.ADVERSARIAL_LOSSES == {
        "minimax": (losses.minimax_discriminator_loss, losses.minimax_generator_loss),
        "non_saturating": (
            losses.minimax_discriminator_loss,
            losses.non_saturating_generator_loss,
        ),
        "lsgan": (losses.lsgan_discriminator_loss, losses.lsgan_generator_loss),
        "wgan": (losses.wasserstein_discriminator_loss, losses.wasserstein_generator_loss),
        "hinge": (losses.hinge_discriminator_loss, losses.hinge_generator_loss),
    }


def test_minimax_generator_is_softplus_form():
    # log(1 - sigmoid(x)) = -softplus(x)
    fake = as_tensor(FAKE)
    expected = -mean([softplus(f) for f in FAKE])
    assert float(losses.minimax_generator_loss(fake)) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("dtype", [tf.float16, tf.bfloat16])
@pytest.mark.parametrize("name", sorted(losses.ADVERSARIAL_LOSSES))
def test_low_precision_logits_give_float32(name, dtype):
    d_fn, g_fn = losses.get_adversarial_loss(name)
    real, fake = as_tensor(REAL, dtype=dtype), as_tensor(FAKE, dtype=dtype)
    assert d_fn(real, fake).dtype == tf.float32
    assert g_fn(fake).dtype == tf.float32


# --- Saturating vs non-saturating gradients -------------------------------------


def _grad(fn, values):
    x = tf.constant(values)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = fn(x)
    return [float(g) for g in tape.gradient(loss, x)]


def test_saturating_vs_non_saturating_generator_gradients():
    # Fakes that D confidently rejects (-10), is unsure about (0), accepts (10).
    fake = [-10.0, 0.0, 10.0]
    n = len(fake)
    g_minimax = _grad(losses.minimax_generator_loss, fake)
    g_ns = _grad(losses.non_saturating_generator_loss, fake)
    # d/dx -mean(softplus(x)) = -sigmoid(x) / n; d/dx mean(softplus(-x)) = -sigmoid(-x) / n.
    for x, gm, gn in zip(fake, g_minimax, g_ns, strict=True):
        assert gm == pytest.approx(-sigmoid(x) / n, rel=1e-5)
        assert gn == pytest.approx(-sigmoid(-x) / n, rel=1e-5)
        # Both push the fake logit up: same sign, so descent raises D(G(z)).
        assert gm < 0 and gn < 0
    # Early in training (D rejects fakes) the saturating loss vanishes, the
    # non-saturating one does not; the roles swap once D is fooled.
    assert abs(g_minimax[0]) < 1e-4 and abs(g_ns[0]) > 0.3
    assert g_minimax[1] == pytest.approx(g_ns[1])
    assert abs(g_ns[2]) < 1e-4 and abs(g_minimax[2]) > 0.3


# --- Numerical stability -------------------------------------------------------------


def test_stability_large_logits():
    big = 100.0
    good_real, good_fake = as_tensor([big, big]), as_tensor([-big, -big])
    bad_real, bad_fake = as_tensor([-big, -big]), as_tensor([big, big])
    for fn, args, expected in [
        # D right with huge margin: loss -> 0; D wrong: loss -> 2 * 100.
        (losses.minimax_discriminator_loss, (good_real, good_fake), 0.0),
        (losses.minimax_discriminator_loss, (bad_real, bad_fake), 2 * big),
        # log(1 - sigmoid(x)) -> -x for large x, -> 0 for very negative x.
        (losses.minimax_generator_loss, (bad_fake,), -big),
        (losses.minimax_generator_loss, (good_fake,), 0.0),
        # -log sigmoid(x) -> -x for very negative x, -> 0 for large x.
        (losses.non_saturating_generator_loss, (good_fake,), big),
        (losses.non_saturating_generator_loss, (bad_fake,), 0.0),
        (losses.hinge_discriminator_loss, (good_real, good_fake), 0.0),
        (losses.hinge_discriminator_loss, (bad_real, bad_fake), 2 * (1 + big)),
    ]:
        value = float(fn(*args))
        assert math.isfinite(value), fn.__name__
        assert value == pytest.approx(expected, abs=1e-5), fn.__name__

    # Gradients stay finite too (log(sigmoid(x)) would give inf / nan here).
    for fn in (losses.minimax_generator_loss, losses.non_saturating_generator_loss):
        for values in ([big, -big], [-big, big]):
            assert all(math.isfinite(g) for g in _grad(fn, values))


# --- Registry --------------------------------------------------------------------


def test_get_adversarial_loss_bad_name():
    with pytest.raises(ValueError) as info:
        losses.get_adversarial_loss("wgan-gp")
    message = str(info.value)
    assert "'wgan-gp'" in message
    assert "\n" not in message
    for name in ("minimax", "non_saturating", "lsgan", "wgan", "hinge"):
        assert repr(name) in message


def test_get_adversarial_loss_unhashable_name():
    with pytest.raises(ValueError, match="expected one of"):
        losses.get_adversarial_loss(["hinge"])


# --- Gradient penalty ------------------------------------------------------------

SAMPLE_SHAPE = [2, 3, 4, 1]  # [T, H, W, C]: a tiny video
N = 2 * 3 * 4 * 1  # elements per sample


def linear_critic(w):
    # D(x) = sum(w * x) per sample: grad_x D = w for every x.
    return lambda x: tf.reduce_sum(w * x, axis=[1, 2, 3, 4])


def quadratic_critic(x):
    # D(x) = 0.5 * sum(x^2) per sample: grad_x D = x.
    return 0.5 * tf.reduce_sum(tf.square(x), axis=[1, 2, 3, 4])


def video_batch(values):
    # [B] per-sample constants -> [B, T, H, W, C] filled with them.
    return tf.ones([len(values)] + SAMPLE_SHAPE) * tf.reshape(tf.constant(values), [-1, 1, 1, 1, 1])


def test_gradient_penalty_linear_critic():
    w = tf.fill(SAMPLE_SHAPE, 0.5)  # ||w|| = sqrt(24 * 0.25) = sqrt(6)
    real, fake = video_batch([1.0, -2.0, 3.0]), video_batch([0.0, 5.0, -1.0])
    gp = losses.gradient_penalty(linear_critic(w), real, fake)
    assert gp.shape == () and gp.dtype == tf.float32
    assert float(gp) == pytest.approx((math.sqrt(6.0) - 1.0) ** 2, rel=1e-5)
    gp0 = losses.gradient_penalty(linear_critic(w), real, fake, target=0.0)
    assert float(gp0) == pytest.approx(6.0, rel=1e-5)


def test_gradient_penalty_quadratic_critic_fixed_alpha():
    real, fake = video_batch([1.0, 1.0]), video_batch([0.0, 0.0])
    # x_hat_i = alpha_i * ones, so ||grad|| = ||x_hat_i|| = alpha_i * sqrt(N).
    alphas = [0.25, 0.5]
    expected = mean([(a * math.sqrt(N) - 1.0) ** 2 for a in alphas])
    for alpha in (tf.constant(alphas), tf.reshape(tf.constant(alphas), [2, 1, 1, 1, 1])):
        gp = losses.gradient_penalty(quadratic_critic, real, fake, alpha=alpha)
        assert float(gp) == pytest.approx(expected, rel=1e-5)


def test_gradient_penalty_differentiable_wrt_critic_weights():
    w = tf.fill(SAMPLE_SHAPE, 0.5)  # ||w|| = sqrt(6)
    v = tf.Variable(2.0)

    def critic(x):
        return v * tf.reduce_sum(w * x, axis=[1, 2, 3, 4])

    real, fake = video_batch([1.0, 2.0]), video_batch([0.0, 3.0])
    with tf.GradientTape() as tape:
        gp = losses.gradient_penalty(critic, real, fake)
    # GP = (v ||w|| - 1)^2, dGP/dv = 2 (v ||w|| - 1) ||w||.
    norm = math.sqrt(6.0)
    assert float(gp) == pytest.approx((2.0 * norm - 1.0) ** 2, rel=1e-5)
    grad = tape.gradient(gp, v)
    assert grad is not None
    assert float(grad) == pytest.approx(2.0 * (2.0 * norm - 1.0) * norm, rel=1e-5)


def test_gradient_penalty_in_tf_function_with_keras_layer():
    layer = keras.layers.Dense(1, kernel_initializer="ones", use_bias=False)
    layer.build((None, 4))
    real, fake = tf.ones([3, 4]), tf.zeros([3, 4])

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            gp = losses.gradient_penalty(layer, real, fake, seed=tf.constant([1, 2]))
        return gp, tape.gradient(gp, layer.kernel)

    gp, grad = step()
    # Kernel of ones: grad_x = ones(4), norm 2, GP = 1; dGP/dk_j = 2 (2 - 1) * k_j / 2 = 1.
    assert float(gp) == pytest.approx(1.0, rel=1e-5)
    assert grad.shape == (4, 1)
    assert [float(g) for g in tf.reshape(grad, [-1])] == pytest.approx([1.0] * 4, rel=1e-5)


def test_gradient_penalty_seeded_alpha():
    real, fake = video_batch([1.0, 1.0, 1.0, 1.0]), video_batch([0.0] * 4)
    seed = tf.constant([3, 7], dtype=tf.int32)
    a = float(losses.gradient_penalty(quadratic_critic, real, fake, seed=seed))
    b = float(losses.gradient_penalty(quadratic_critic, real, fake, seed=seed))
    c = float(losses.gradient_penalty(quadratic_critic, real, fake, seed=tf.constant([4, 7])))
    assert a == b and a != c
    # alpha in [0, 1): each term (alpha sqrt(N) - 1)^2 lies in [0, (sqrt(N) - 1)^2].
    for value in (a, c):
        assert 0.0 <= value <= (math.sqrt(N) - 1.0) ** 2
    # int64 seeds and a SeedGenerator work; None draws statefully.
    losses.gradient_penalty(quadratic_critic, real, fake, seed=tf.constant([3, 7], tf.int64))
    losses.gradient_penalty(quadratic_critic, real, fake, seed=keras.random.SeedGenerator(1))
    assert math.isfinite(float(losses.gradient_penalty(quadratic_critic, real, fake)))


# --- R1 --------------------------------------------------------------------------------


def test_r1_linear_and_quadratic_critics():
    w = tf.fill(SAMPLE_SHAPE, 0.5)  # ||w||^2 = 6
    real = video_batch([1.0, -3.0])
    assert float(losses.r1_penalty(linear_critic(w), real)) == pytest.approx(6.0, rel=1e-6)
    # grad = x, ||x_i||^2 = c_i^2 N.
    expected = mean([1.0 * N, 9.0 * N])
    assert float(losses.r1_penalty(quadratic_critic, real)) == pytest.approx(expected, rel=1e-6)


def test_r1_differentiable_wrt_critic_weights():
    w = tf.fill(SAMPLE_SHAPE, 0.5)
    v = tf.Variable(3.0)

    def critic(x):
        return v * tf.reduce_sum(w * x, axis=[1, 2, 3, 4])

    with tf.GradientTape() as tape:
        r1 = losses.r1_penalty(critic, video_batch([1.0, 2.0]))
    # R1 = v^2 ||w||^2, dR1/dv = 2 v ||w||^2.
    assert float(r1) == pytest.approx(9.0 * 6.0, rel=1e-6)
    assert float(tape.gradient(r1, v)) == pytest.approx(2.0 * 3.0 * 6.0, rel=1e-6)


# --- Mask sparsity ---------------------------------------------------------------------


def test_mask_sparsity():
    mask = tf.constant([[0.5, -0.25], [1.0, 0.0]], dtype=tf.float16)
    value = losses.mask_sparsity(mask)
    assert value.dtype == tf.float32
    assert float(value) == pytest.approx((0.5 + 0.25 + 1.0 + 0.0) / 4, rel=1e-6)
