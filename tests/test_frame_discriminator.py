"""The frame discriminator next to a video discriminator (``TrainConfig.d_frames``)."""

import dataclasses

import helpers
import numpy as np
import pytest
import tensorflow as tf

from keras_vgan import builders, presets
from keras_vgan.config import validate_config
from keras_vgan.layers.frames import DualDiscriminator, sample_frames


def _config(model="vgan", **kwargs):
    base = dict(frames=8, size=16, depth=2, width=8, latent_dim=8, batch_size=2, d_frames=3)
    return dataclasses.replace(presets.get_preset("quick"), model=model, **{**base, **kwargs})


def _clips(n=4):
    return helpers.clips(n, frames=8)


@pytest.mark.parametrize("model", ["vgan", "tgan"])
def test_dual_discriminator_trains_with_the_video_gan(model):
    config = _config(model, mask_l1=0.0)
    gan = builders.build_gan(config)
    assert isinstance(gan.discriminator, DualDiscriminator)
    heads = gan.discriminator(_clips(2))
    assert sorted(heads) == ["frames", "video"]
    assert tuple(heads["frames"].shape) == (2, 3)
    data = tf.data.Dataset.from_tensor_slices(_clips(4)).batch(2, drop_remainder=True)
    z = helpers.noise(gan, 2)
    history = helpers.run_generator_test(
        gan, data, inputs=z, shape=(2, 8, 16, 16, 1), **builders.adam_optimizers(config)
    )
    assert np.isfinite(history["d_loss"]).all()


def test_dual_discriminator_round_trip_and_kept_heads(tmp_path):
    mocogan = builders.build_gan(_config("mocogan", latent_dim=8))
    dual = mocogan.discriminator  # MoCoGAN's own heads ("image", "video") are kept
    x = _clips(2)
    assert sorted(dual(x)) == ["frames", "image", "video"]
    helpers.run_serialization_test(dual, tmp_path, x)


def test_frame_draws_are_reproducible_and_advance():
    video = tf.constant(np.arange(2 * 8, dtype="float32").reshape(2, 8, 1, 1, 1))
    calls = tf.Variable(0, dtype=tf.int64)
    first = sample_frames(video, 3, 7, calls, training=True).numpy()
    second = sample_frames(video, 3, 7, calls, training=True).numpy()
    assert int(calls.numpy()) == 2
    calls.assign(0)
    np.testing.assert_array_equal(sample_frames(video, 3, 7, calls, training=True), first)
    assert not np.array_equal(first, second)  # the counter moves the draw on
    # Each drawn frame is a frame of its own clip.
    assert set(first[0].ravel()) <= set(range(8)) and set(first[1].ravel()) <= set(range(8, 16))
    evenly = sample_frames(video, 3, 7, calls, training=False).numpy()[0].ravel()
    np.testing.assert_array_equal(evenly, [0, 4, 7])  # round(linspace(0, 7, 3))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(d_frames=9), r"^d_frames=9 must be <= frames=8$"),
        (dict(d_frames=-1), r"^d_frames=-1 must be"),
        (dict(model="predict_convlstm", frames=8, context_frames=4), "needs a video GAN"),
    ],
)
def test_bad_d_frames(kwargs, message):
    with pytest.raises(ValueError, match=message):
        validate_config(_config(**kwargs))
