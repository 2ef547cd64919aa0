"""VGAN generator and discriminator: shapes, ranges, composition, geometry, saving."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_vgan.engine import VideoGAN
from keras_vgan.models import VGANDiscriminator, VGANGenerator, check_geometry
from tests.helpers import (
    FRAMES,
    SIZE,
    clips,
    dataset,
    noise,
    run_generator_test,
    run_serialization_test,
)


def small_generator(**kwargs):
    args = dict(latent_dim=8, frames=8, size=16, channels=3, widths=(16, 8))
    args.update(kwargs)
    return VGANGenerator(**args)


def test_generator_outputs_shapes_ranges_and_two_stream_composition():
    g = small_generator()
    z = np.random.default_rng(0).standard_normal((3, 8)).astype("float32")
    out = g(z)
    assert out["video"].shape == (3, 8, 16, 16, 3)
    assert out["mask"].shape == (3, 8, 16, 16, 1)
    assert out["foreground"].shape == (3, 8, 16, 16, 3)
    assert out["background"].shape == (3, 16, 16, 3)
    video, mask = out["video"].numpy(), out["mask"].numpy()
    assert np.all(np.abs(video) <= 1) and np.all((mask >= 0) & (mask <= 1))
    f, b = out["foreground"].numpy(), out["background"].numpy()
    np.testing.assert_allclose(video, mask * f + (1 - mask) * b[:, None], atol=1e-6)
    # The background is one image for the whole clip; the foreground moves.
    assert not np.allclose(f[:, 0], f[:, -1])


def test_discriminator_maps_clips_to_one_logit_each():
    d = VGANDiscriminator(frames=8, size=16, channels=3, widths=(8, 16))
    logits = d(np.zeros((4, 8, 16, 16, 3), "float32"))
    assert logits.shape == (4, 1)


@pytest.mark.parametrize("frames,size", [(16, 64), (32, 64), (16, 32), (32, 32)])
def test_paper_depth_supports_16_or_32_frames_and_32_or_64_pixels(frames, size):
    g = VGANGenerator(latent_dim=100, frames=frames, size=size, channels=3, widths=(8, 8, 8, 8))
    d = VGANDiscriminator(frames=frames, size=size, channels=3, widths=(8, 8, 8, 8))
    video = g(np.zeros((1, 100), "float32"))["video"]
    assert video.shape == (1, frames, size, size, 3)
    assert d(video).shape == (1, 1)


def test_paper_configuration_builds_with_the_published_widths():
    g = VGANGenerator(latent_dim=100, frames=32, size=64, channels=3, widths=(512, 256, 128, 64))
    d = VGANDiscriminator(frames=32, size=64, channels=3, widths=(64, 128, 256, 512))
    g.build((None, 100))
    d.build((None, 32, 64, 64, 3))
    spec = g.compute_output_spec(keras.KerasTensor((2, 100)))
    assert spec["video"].shape == (2, 32, 64, 64, 3)
    kernels = {w.path: w.shape for w in g.weights if w.path.endswith("kernel")}
    # First foreground level: 512 channels at 2x4x4 (the paper's first volume).
    assert kernels[g.fg_project.kernel.path] == (100, 2 * 4 * 4 * 512)
    assert g.fg_video.kernel.shape == (4, 4, 4, 3, 64)
    assert d.head.kernel.shape == (2, 4, 4, 512, 1)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(frames=10), "frames=10 cannot be produced by a depth-2 network"),
        (dict(size=18), "size=18 cannot be produced by a depth-2 network"),
        (dict(frames=0), "frames=0 must be a positive integer"),
        (dict(channels=-1), "channels=-1 must be a positive integer"),
    ],
)
def test_geometry_errors_name_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        small_generator(**kwargs)
    with pytest.raises(ValueError, match="depth=0 must be a positive integer"):
        check_geometry(8, 8, 0)


def test_generator_and_discriminator_keras_round_trip(tmp_path):
    g = small_generator(norm="layer")
    d = VGANDiscriminator(frames=8, size=16, channels=3, widths=(8, 16), norm="none")
    z = np.random.default_rng(1).standard_normal((2, 8)).astype("float32")
    x = np.random.default_rng(2).uniform(-1, 1, (2, 8, 16, 16, 3)).astype("float32")
    for model, inp in ((g, z), (d, x)):
        loaded = run_serialization_test(model, tmp_path, inp)  # every output identical
        assert loaded.get_config() == model.get_config()


def test_tiny_vgan_trains_and_round_trips(tmp_path):
    g = VGANGenerator(latent_dim=8, frames=FRAMES, size=SIZE, channels=1, widths=(8, 4))
    d = VGANDiscriminator(frames=FRAMES, size=SIZE, channels=1, widths=(4, 8))
    gan = VideoGAN(g, d, ema_decay=0.9)
    history = run_generator_test(
        gan, dataset(), noise(gan), (2, FRAMES, SIZE, SIZE, 1), mask_l1=0.1
    )
    assert "mask_l1" in history
    run_serialization_test(gan, tmp_path, noise(gan), video=clips(2))


def _mask_mean_after_training(mask_l1):
    keras.utils.set_random_seed(0)
    g = small_generator(channels=1)
    d = VGANDiscriminator(frames=8, size=16, channels=1, widths=(8, 16))
    gan = VideoGAN(g, d, ema_decay=0.0)
    gan.compile(mask_l1=mask_l1, g_optimizer=keras.optimizers.Adam(1e-2))
    real = np.random.default_rng(4).uniform(-1, 1, (8, 8, 16, 16, 1)).astype("float32")
    gan.fit(tf.data.Dataset.from_tensors(real).repeat(10), epochs=1, verbose=0)
    z = np.random.default_rng(3).standard_normal((8, 8)).astype("float32")
    return float(np.mean(g(z, training=True)["mask"]))


@pytest.mark.slow  # suite time; the family stays covered in the default run
def test_mask_sparsity_term_drives_the_mask_down():
    without, with_l1 = _mask_mean_after_training(0.0), _mask_mean_after_training(50.0)
    assert with_l1 < without - 0.1
