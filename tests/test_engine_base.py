"""The engine base serves a single-optimizer model (the shape of the VAE / token engines)."""

import keras
import numpy as np
import tensorflow as tf

from keras_vgan.engine import GenerativeModel


@keras.saving.register_keras_serializable(package="keras_vgan_tests")
class Reconstructor(GenerativeModel):
    """One network, one optimizer, an L2 reconstruction loss: what a VAE engine starts from."""

    OPTIMIZERS = {"optimizer_g": ("generator",)}
    STEP_OPTIMIZER = "optimizer_g"

    def __init__(self, generator, ema_decay=0.5, seed=0, **kwargs):
        super().__init__({"generator": generator}, ema_decay=ema_decay, seed=seed, **kwargs)
        self._set_trackers(("loss", "noise"), ("loss",))
        self.build()

    def compile(self, optimizer_g=None, l2_weight=1.0, **kwargs):
        self._compile_engine({"optimizer_g": optimizer_g}, {"l2_weight": l2_weight}, **kwargs)

    def call(self, x, training=False):
        return self.ema_generator(x, training=training)

    def train_step(self, data):
        x = tf.cast(data, tf.float32)
        step = self.step_optimizer.iterations
        noise = self._random("normal", [tf.shape(x)[0], 4], step, 0)
        with tf.GradientTape() as tape:
            loss = self.l2_weight * tf.reduce_mean(tf.square(self.generator(x + 0 * noise) - x))
            scaled = self.scaled_loss(loss, self.optimizer_g)
        variables = self.generator.trainable_variables
        self.apply_scaled_gradients(tape, scaled, self.optimizer_g, variables)
        self._update_ema()
        return self._results({"loss": loss})


def _net():
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)], name="generator")


def test_a_single_optimizer_engine_trains_saves_and_loads(tmp_path):
    model = Reconstructor(_net())
    model.compile(optimizer_g=keras.optimizers.SGD(0.1), l2_weight=2.0)
    assert model.optimizer is model.optimizer_g and [m.name for m in model.metrics] == ["loss"]
    x = np.random.default_rng(0).standard_normal((8, 4)).astype("float32")
    before = [w.numpy().copy() for w in model.ema_generator.weights]
    history = model.fit(x, batch_size=4, epochs=1, verbose=0).history
    assert set(history) == {"loss"} and int(model.optimizer_g.iterations.numpy()) == 2
    after = model.ema_generator.weights
    assert any(not np.allclose(a, w.numpy()) for a, w in zip(before, after, strict=True))
    assert model.get_compile_config()["l2_weight"] == 2.0
    path = str(tmp_path / "r.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(model(x)))
    assert loaded.get_compile_config()["l2_weight"] == 2.0
    assert int(loaded.optimizer_g.iterations.numpy()) == 2
    assert loaded.get_config()["ema_decay"] == 0.5
