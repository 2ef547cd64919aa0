"""Differentiable augmentation: same in every frame, known answers, and in the engine for real and fake."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_vgan import augment, builders, presets
from keras_vgan import config as config_lib
from keras_vgan.engine import VideoGAN
from tests.helpers import FRAMES, SIZE, clips

ALL = "color,translation,cutout"


def test_policy_parsing():
    assert augment.parse_policy("cutout, translation,brightness") == (
        "brightness",
        "translation",
        "cutout",
    )
    assert augment.parse_policy("color") == ("brightness", "saturation", "contrast")
    assert augment.parse_policy("") == () and augment.parse_policy(None) == ()
    assert augment.num_params(ALL) == 7
    with pytest.raises(ValueError, match="augmentation 'flip' is not one of"):
        augment.parse_policy("translation,flip")


def test_every_frame_of_a_clip_gets_the_same_transformation():
    x = clips(3, channels=3)
    u = np.random.default_rng(1).uniform(size=(3, augment.num_params(ALL))).astype("float32")
    out = augment.augment_videos(x, u, ALL).numpy()
    assert out.shape == x.shape
    for t in range(FRAMES):
        # Frame t of the clip = frame t of a static clip made of that frame, same parameters.
        static = np.repeat(x[:, t : t + 1], FRAMES, axis=1)
        np.testing.assert_allclose(
            out[:, t], augment.augment_videos(static, u, ALL).numpy()[:, t], atol=1e-6
        )
    static_out = augment.augment_videos(np.repeat(x[:, :1], FRAMES, axis=1), u, ALL).numpy()
    for t in range(1, FRAMES):
        np.testing.assert_array_equal(static_out[:, t], static_out[:, 0])
    # Different clips get different parameters.
    same = np.repeat(x[:1], 3, axis=0)
    out = augment.augment_videos(same, u, ALL).numpy()
    assert not np.allclose(out[0], out[1])


def test_known_answers():
    x = clips(2)
    # Brightness adds u - 0.5.
    u = np.array([[0.9], [0.1]], "float32")
    np.testing.assert_allclose(
        augment.augment_videos(x, u, "brightness").numpy(),
        x + np.array([0.4, -0.4], "float32")[:, None, None, None, None],
        atol=1e-6,
    )
    # Translation: shifts in [-2, 2] pixels for size 16; u = 0.999 -> +2 down / right, zero fill.
    u = np.array([[0.999, 0.999], [0.5, 0.5]], "float32")
    out = augment.augment_videos(x, u, "translation").numpy()
    np.testing.assert_array_equal(out[0, :, 2:, 2:], x[0, :, :-2, :-2])
    np.testing.assert_array_equal(out[0, :, :2], 0.0)
    np.testing.assert_array_equal(out[1], x[1])  # u = 0.5: no shift
    # Cutout: a zeroed 8x8 square (half the size), in every frame at the same place.
    out = augment.augment_videos(x + 2.0, np.array([[0.5, 0.5]] * 2, "float32"), "cutout").numpy()
    zero = out == 0.0
    assert zero.sum() == 2 * FRAMES * 8 * 8
    np.testing.assert_array_equal(zero[:, :1].repeat(FRAMES, axis=1), zero)


def test_gradients_flow_through_the_augmentation():
    x = tf.constant(clips(2, channels=3))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = augment.diff_augment(x, ALL, seed=(1, 2))
        loss = tf.reduce_sum(tf.square(y))
    grad = tape.gradient(loss, x).numpy()
    assert np.all(np.isfinite(grad)) and np.abs(grad).sum() > 0
    np.testing.assert_array_equal(augment.diff_augment(x, ALL, seed=(1, 2)).numpy(), y.numpy())


class ConstantGenerator(keras.Model):
    """Clips of ones, times a trainable scale (so the generator has a gradient)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = 2
        self.scale = self.add_weight(shape=(), initializer="ones", name="scale")

    def call(self, z, training=False):
        ones = tf.ones([tf.shape(z)[0], FRAMES, SIZE, SIZE, 1])
        return ones * self.scale + 0.0 * tf.reduce_sum(z)

    def compute_output_spec(self, z, training=False):
        return keras.KerasTensor((z.shape[0], FRAMES, SIZE, SIZE, 1))

    def get_config(self):
        return {"name": self.name}


class SpyDiscriminator(keras.Model):
    """Records what it is shown (eager runs only)."""

    seen = []

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(1)
        self.dense.build((None, 1))

    def call(self, x, training=False):
        if tf.executing_eagerly():
            SpyDiscriminator.seen.append(np.array(x))
        return self.dense(tf.reduce_mean(x, axis=[1, 2, 3]))

    def get_config(self):
        return {"name": self.name}


def test_engine_shows_the_discriminator_augmented_real_and_fake_clips():
    SpyDiscriminator.seen = []
    gan = VideoGAN(ConstantGenerator(), SpyDiscriminator(), ema_decay=0.0)
    gan.compile(augment="cutout", run_eagerly=True)
    assert gan.get_compile_config()["augment"] == "cutout"
    real = np.ones((2, FRAMES, SIZE, SIZE, 1), "float32")
    gan.fit(tf.data.Dataset.from_tensors(real), epochs=1, verbose=0)
    # D phase: real, fake; G phase: fake. Real and fake are both ones before augmentation.
    assert len(SpyDiscriminator.seen) == 3
    for x in SpyDiscriminator.seen:
        for clip in x:
            hole = clip == 0.0  # an 8x8 square, clipped where it crosses the border
            assert 0 < hole.sum() <= FRAMES * 8 * 8
            np.testing.assert_array_equal(hole, hole[:1].repeat(FRAMES, axis=0))
    # Fresh parameters for each batch shown.
    assert not np.array_equal(SpyDiscriminator.seen[0], SpyDiscriminator.seen[1])
    # No policy: the discriminator sees the clips as they are.
    SpyDiscriminator.seen = []
    gan.compile(run_eagerly=True)
    gan.fit(tf.data.Dataset.from_tensors(real), epochs=1, verbose=0)
    assert len(SpyDiscriminator.seen) == 3 and np.all(SpyDiscriminator.seen[0] == 1.0)
    assert all(np.ptp(x) == 0 for x in SpyDiscriminator.seen)  # constant clips, nothing cut


def test_preset_flag_reaches_the_engine():
    config = dataclasses.replace(
        presets.get_preset("frame_gan_shapes"),
        frames=4,
        size=16,
        width=4,
        depth=2,
        batch_size=2,
        augment="translation,cutout,brightness",
    )
    gan = builders.build_gan(config)
    assert gan.augment == "brightness,translation,cutout"
    history = gan.fit(builders.build_train_dataset(config), steps_per_epoch=2, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in history.values())
    with pytest.raises(ValueError, match="augmentation 'zoom'"):
        config_lib.validate_config(dataclasses.replace(config, augment="zoom"))
