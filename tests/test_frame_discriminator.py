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


# A predictor's config (its view: 4 real context frames, then 4 predicted ones).
_PREDICT = dict(model="predict_simvp_flow", frames=8, context_frames=4, adv_weight=0.0)


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


def test_dual_discriminator_trains_with_a_predictor_and_judges_only_the_future():
    config = _config(**{**_PREDICT, "adv_weight": 0.1, "d_frames": 2, "l1_weight": 1.0})
    validate_config(config)
    gan = builders.build_gan(config)
    dual = gan.discriminator
    assert isinstance(dual, DualDiscriminator) and dual.skip == 4
    assert DualDiscriminator.from_config(dual.get_config()).skip == 4
    # The frame head sees the predicted frames only: a view whose context is changed
    # leaves it alone (evenly spaced frames outside training), its future does not.
    view = _clips(2)
    heads = dual(view)
    assert sorted(heads) == ["frames", "video"] and tuple(heads["frames"].shape) == (2, 2)
    other_context = tf.concat([-view[:, :4], view[:, 4:]], axis=1)
    other_future = tf.concat([view[:, :4], -view[:, 4:]], axis=1)
    np.testing.assert_allclose(dual(other_context)["frames"], heads["frames"], atol=1e-6)
    assert not np.allclose(dual(other_future)["frames"], heads["frames"], atol=1e-4)
    x, y = helpers.pairs("prediction", n=2, frames=8, context_frames=4)
    data = tf.data.Dataset.from_tensors((x, y)).repeat(4)
    # The MLPs' norms sit under layer scales that start near 0: in 4 steps their gammas
    # move less than the check resolves (test_simvp's 120-step overfit test sees them move).
    history = helpers.run_generator_test(
        gan, data, x, y.shape, may_stay=("norm2/gamma",), **builders.adam_optimizers(config)
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
        (dict(model="stylegan_v", sparse_frames=3, d_norm="none"), "needs a video GAN"),
        (dict(model="translate", frames=8), r"needs a task whose discriminator sees the clip"),
        (_PREDICT, r"^d_frames=3 needs adv_weight > 0"),
        (
            {**_PREDICT, "adv_weight": 0.1, "d_frames": 5},
            r"^d_frames=5 must be <= frames - context_frames=4$",
        ),
    ],
)
def test_bad_d_frames(kwargs, message):
    with pytest.raises(ValueError, match=message):
        validate_config(_config(**kwargs))
