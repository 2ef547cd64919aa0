"""VideoGAN engine: training changes weights, losses, EMA, saving, distribution."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_vgan.engine import VideoGAN
from keras_vgan.models import VGANDiscriminator, VGANGenerator
from tests.helpers import changed, global_batch, make_gan, snapshot

FRAMES, SIZE, LATENT = 4, 8, 8


def tiny_gan(d_norm="batch", **kwargs):
    g = VGANGenerator(latent_dim=LATENT, frames=FRAMES, size=SIZE, channels=1, widths=(16, 8))
    d = VGANDiscriminator(frames=FRAMES, size=SIZE, channels=1, widths=(8, 16), norm=d_norm)
    return VideoGAN(g, d, **kwargs)


def clips(n=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (n, FRAMES, SIZE, SIZE, 1)).astype("float32")


def dataset(n=8, batch=4):
    return tf.data.Dataset.from_tensor_slices(clips(n)).batch(batch, drop_remainder=True)


def test_fit_updates_both_networks_and_keeps_losses_finite():
    gan = tiny_gan()
    gan.compile(mask_l1=0.1)
    g0 = snapshot(gan.generator.trainable_variables)
    d0 = snapshot(gan.discriminator.trainable_variables)
    history = gan.fit(dataset(), epochs=2, verbose=0).history
    assert set(history) == {"d_loss", "g_loss", "d_real", "d_fake", "mask_l1"}
    for values in history.values():
        assert np.all(np.isfinite(values))
    assert all(changed(g0, gan.generator.trainable_variables))
    assert all(changed(d0, gan.discriminator.trainable_variables))
    assert int(gan.g_optimizer.iterations.numpy()) == 4
    assert int(gan.d_optimizer.iterations.numpy()) == 4


def test_d_steps_runs_several_discriminator_updates_per_generator_update():
    gan = tiny_gan(d_steps=3)
    gan.compile()
    gan.fit(dataset(), epochs=1, verbose=0)
    assert int(gan.g_optimizer.iterations.numpy()) == 2
    assert int(gan.d_optimizer.iterations.numpy()) == 6


@pytest.mark.parametrize(
    "loss,extra,d_norm,expect",
    [
        ("minimax", {}, "batch", None),
        ("lsgan", {}, "batch", None),
        ("hinge", {}, "batch", None),
        ("wgan", {"gp_weight": 10.0}, "layer", "gp"),
        ("non_saturating", {"r1_gamma": 1.0}, "none", "r1"),
    ],
)
def test_every_loss_and_penalty_trains(loss, extra, d_norm, expect):
    gan = tiny_gan(d_norm=d_norm)
    gan.compile(loss=loss, **extra)
    d0 = snapshot(gan.discriminator.trainable_variables)
    history = gan.fit(dataset(), epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in history.values())
    if expect:
        assert history[expect][-1] > 0
    assert any(changed(d0, gan.discriminator.trainable_variables))


def test_gradient_penalty_changes_the_discriminator_update():
    results = []
    for gp in (0.0, 10.0):
        keras.utils.set_random_seed(0)
        gan = tiny_gan(d_norm="layer")
        gan.compile(loss="wgan", gp_weight=gp)
        gan.fit(dataset(4, 4), epochs=1, verbose=0)
        results.append(snapshot(gan.discriminator.trainable_variables))
    assert any(not np.allclose(a, b) for a, b in zip(*results, strict=True))


def test_ema_generator_lags_the_generator_and_matches_with_zero_decay():
    gan = tiny_gan(ema_decay=0.9)
    gan.compile()
    gan.fit(dataset(16), epochs=1, verbose=0)
    z = np.random.default_rng(1).standard_normal((2, LATENT)).astype("float32")
    ema = gan.generate(z).numpy()
    raw = gan.generate(z, use_ema=False).numpy()
    assert not np.allclose(ema, raw)
    np.testing.assert_allclose(gan.predict(z, verbose=0), ema, atol=1e-6)

    plain = tiny_gan(ema_decay=0.0)
    plain.compile()
    plain.fit(dataset(), epochs=1, verbose=0)
    for a, b in zip(plain.ema_generator.weights, plain.generator.weights, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-7)


def test_ema_update_rule_known_answer():
    gan = tiny_gan(ema_decay=0.5)
    gan.compile()
    ema_before = snapshot(gan.ema_generator.trainable_variables)
    gan.fit(dataset(4, 4), epochs=1, verbose=0)  # one step: n = 1 -> decay = min(0.5, 2/11)
    decay = min(0.5, 2 / 11)
    for e0, e1, w in zip(
        ema_before,
        gan.ema_generator.trainable_variables,
        gan.generator.trainable_variables,
        strict=True,
    ):
        expected = w.numpy() + decay * (e0 - w.numpy())
        np.testing.assert_allclose(e1.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_keras_round_trip_keeps_outputs_compile_and_optimizer_state(tmp_path):
    gan = tiny_gan(d_steps=2, ema_decay=0.95, seed=7)
    gan.compile(loss="hinge", mask_l1=0.2, g_optimizer=keras.optimizers.Adam(1e-3))
    gan.fit(dataset(), epochs=1, verbose=0)
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    z = np.random.default_rng(2).standard_normal((3, LATENT)).astype("float32")
    np.testing.assert_array_equal(loaded(z).numpy(), gan(z).numpy())
    np.testing.assert_array_equal(
        loaded.generate(z, use_ema=False).numpy(), gan.generate(z, use_ema=False).numpy()
    )
    x = clips(2)
    np.testing.assert_array_equal(loaded.discriminator(x).numpy(), gan.discriminator(x).numpy())
    assert (loaded.d_steps, loaded.ema_decay, loaded.seed) == (2, 0.95, 7)
    assert loaded.loss_name == "hinge" and loaded.mask_l1 == 0.2
    assert float(loaded.g_optimizer.learning_rate.numpy()) == pytest.approx(1e-3)
    assert int(loaded.d_optimizer.iterations.numpy()) == 4
    # The loaded model keeps training from where it was.
    loaded.fit(dataset(), epochs=1, verbose=0)
    assert int(loaded.g_optimizer.iterations.numpy()) == 4


def test_training_noise_is_a_function_of_the_step():
    """Two models with the same weights and seed take identical steps (resumability)."""
    a, b = tiny_gan(seed=3), tiny_gan(seed=3)
    a.compile()
    b.compile()
    b.set_weights(a.get_weights())
    ds = dataset(4, 4)
    a.fit(ds, epochs=1, verbose=0)
    b.fit(ds, epochs=1, verbose=0)
    for x, y in zip(a.weights, b.weights, strict=True):
        np.testing.assert_array_equal(x.numpy(), y.numpy())


class LabelledGenerator(keras.Model):
    """A small real conditional generator: the label's embedding is added to z."""

    def __init__(self, latent_dim=LATENT, num_classes=3, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.embed = keras.layers.Embedding(num_classes, latent_dim)
        self.body = VGANGenerator(latent_dim, FRAMES, SIZE, 1, widths=(8, 8))

    def call(self, z, labels=None, training=False):
        return self.body(z + self.embed(labels), training=training)

    def build(self, input_shape):
        self.call(keras.KerasTensor((1, self.latent_dim)), labels=np.zeros((1,), "int32"))

    def compute_output_spec(self, z, labels=None, training=False):
        return self.body.compute_output_spec(z)

    def get_config(self):
        return {"latent_dim": self.latent_dim, "num_classes": self.num_classes, "name": self.name}


class LabelledDiscriminator(keras.Model):
    """Projection discriminator head (Miyato & Koyama 2018) on a VGAN trunk."""

    def __init__(self, num_classes=3, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.trunk = VGANDiscriminator(FRAMES, SIZE, 1, widths=(8, 8))
        self.embed = keras.layers.Embedding(num_classes, 1)

    def call(self, x, labels=None, training=False):
        return self.trunk(x, training=training) + self.embed(labels)

    def build(self, input_shape):
        self.call(keras.KerasTensor((1, FRAMES, SIZE, SIZE, 1)), labels=np.zeros((1,), "int32"))

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name}


def test_conditional_hook_passes_labels_to_both_networks():
    gan = VideoGAN(LabelledGenerator(), LabelledDiscriminator(), conditional=True)
    gan.compile()
    labels = np.array([0, 1, 2, 1, 0, 2, 1, 0], "int32")
    ds = tf.data.Dataset.from_tensor_slices((clips(8), labels)).batch(4)
    e0 = snapshot(gan.generator.embed.trainable_variables)
    p0 = snapshot(gan.discriminator.embed.trainable_variables)
    gan.fit(ds, epochs=1, verbose=0)
    assert all(changed(e0, gan.generator.embed.trainable_variables))
    assert all(changed(p0, gan.discriminator.embed.trainable_variables))
    z = np.zeros((2, LATENT), "float32")
    a = gan.generate(z, labels=np.array([0, 1])).numpy()
    assert not np.allclose(a[0], a[1])  # same noise, different label -> different clip


def test_bad_arguments_raise_one_line_errors():
    with pytest.raises(ValueError, match="d_steps"):
        tiny_gan(d_steps=0)
    with pytest.raises(ValueError, match="ema_decay"):
        tiny_gan(ema_decay=1.0)
    gan = tiny_gan()
    with pytest.raises(ValueError, match="wgan-gp"):
        gan.compile(loss="wgan-gp")
    with pytest.raises(ValueError, match="gp_weight"):
        gan.compile(gp_weight=-1)


def _one_step(strategy):
    with strategy.scope():
        gan = make_gan()  # seeded: identical initial weights under both strategies
    initial = snapshot(gan.weights)
    history = gan.fit(tf.data.Dataset.from_tensors(global_batch()), epochs=1, verbose=0).history
    return initial, snapshot(gan.weights), history


def test_mirrored_two_replicas_take_the_same_step_as_one_device():
    cpus = tf.config.list_logical_devices("CPU")
    if len(cpus) < 2:
        pytest.skip("needs two logical CPU devices (configured in conftest before TF starts)")
    init, one, h1 = _one_step(tf.distribute.OneDeviceStrategy("/cpu:0"))
    init2, two, h2 = _one_step(tf.distribute.MirroredStrategy([cpus[0].name, cpus[1].name]))
    assert len(one) == len(two) > 0
    for a, b in zip(init, init2, strict=True):
        np.testing.assert_array_equal(a, b)
    moved = 0
    for a, b, w0 in zip(one, two, init, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
        moved += not np.allclose(a, w0)
    assert moved > len(one) // 2  # the step really changed the weights
    for key in h1:
        np.testing.assert_allclose(h1[key], h2[key], rtol=1e-4, atol=1e-5)


def test_mixed_precision_wraps_optimizers_and_trains():
    keras.config.set_dtype_policy("mixed_float16")
    try:
        gan = tiny_gan()
        gan.compile(mask_l1=0.1)
        assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
        assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
        g0 = snapshot(gan.generator.trainable_variables)
        history = gan.fit(dataset(), epochs=1, verbose=0).history
        assert all(np.isfinite(v[-1]) for v in history.values())
        assert any(changed(g0, gan.generator.trainable_variables))
        assert gan.generator.trainable_variables[0].dtype == "float32"  # master weights
    finally:
        keras.config.set_dtype_policy("float32")
