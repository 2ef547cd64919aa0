"""TGAN: temporal generator, image generator, spectrally normalised 3D critic; training, saving."""

import numpy as np
import pytest

from keras_vgan.engine import VideoGAN
from keras_vgan.models import TGANDiscriminator, TGANGenerator
from tests.helpers import (
    FRAMES,
    SIZE,
    check_video,
    clips,
    dataset,
    noise,
    run_generator_test,
    run_serialization_test,
)

LATENT, FRAME_LATENT = 8, 6
CLIPS = (2, FRAMES, SIZE, SIZE, 1)  # what generate(noise(gan)) gives


def tiny_generator(channels=1, **kwargs):
    return TGANGenerator(
        latent_dim=LATENT,
        frames=FRAMES,
        size=SIZE,
        channels=channels,
        widths=(8, 4),
        temporal_widths=(8, 4),
        frame_latent_dim=FRAME_LATENT,
        **kwargs,
    )


def tiny(d_norm="spectral", channels=1, **kwargs):
    d = TGANDiscriminator(frames=FRAMES, size=SIZE, channels=channels, widths=(4, 8), norm=d_norm)
    return VideoGAN(tiny_generator(channels), d, **kwargs)


def test_temporal_generator_drives_the_frames():
    g = tiny_generator(channels=3)
    z = np.random.default_rng(0).standard_normal((3, LATENT)).astype("float32")
    latents = g.frame_latents(z).numpy()
    assert latents.shape == (3, FRAMES, FRAME_LATENT)
    assert np.all(np.abs(latents) <= 1)  # tanh
    assert not np.allclose(latents[:, 0], latents[:, -1])
    video = g(z).numpy()
    check_video(video, 3, channels=3)
    assert not np.allclose(video[:, 0], video[:, -1])  # frames differ over time
    # The paper's temporal generator: four x2 layers from one step to 16 frame latents.
    paper = TGANGenerator(
        frames=16, size=64, widths=(8, 8, 8, 8), temporal_widths=(512, 256, 128, 128)
    )
    assert paper.t0 == 1 and paper.t_out.kernel.shape == (4, 100, 128)
    assert paper.frame_latents(np.zeros((1, 100), "float32")).shape == (1, 16, 100)


def test_spectral_norm_holds_the_critic_layers_to_unit_spectral_norm():
    d = TGANDiscriminator(frames=FRAMES, size=SIZE, channels=1, widths=(4, 8), norm="spectral")
    x = clips(2)
    assert d(x).shape == (2, 1)
    for _ in range(30):  # one power iteration per training call
        d(x, training=True)
    kernels = [w for w in d.trainable_weights if w.path.endswith("kernel")]
    assert len(kernels) == 3  # two conv blocks and the head
    for k in kernels:
        sigma = np.linalg.svd(k.numpy().reshape(-1, k.shape[-1]), compute_uv=False)[0]
        assert sigma == pytest.approx(1.0, abs=0.05), k.path


def test_fit_with_wgan_gp():
    gan = tiny(d_norm="layer", d_steps=2)
    history = run_generator_test(
        gan, dataset(), noise(gan), CLIPS, loss="wgan", gp_weight=10.0, may_stay=("head/bias",)
    )
    assert history["gp"][-1] > 0
    assert int(gan.d_optimizer.iterations.numpy()) == 4


def test_fit_with_hinge_and_spectral_norm_then_keras_round_trip(tmp_path):
    gan = tiny(ema_decay=0.9)
    # While every hinge is active the last bias's gradients from real and fake cancel.
    run_generator_test(gan, dataset(), noise(gan), CLIPS, loss="hinge", may_stay=("head/bias",))
    run_serialization_test(gan, tmp_path, noise(gan), video=clips(2))


def test_bad_arguments_name_the_value():
    with pytest.raises(ValueError, match="frames=6 cannot be produced by 2 temporal x2 layers"):
        TGANGenerator(latent_dim=4, frames=6, size=16, widths=(8, 4), temporal_widths=(8, 4))
    with pytest.raises(ValueError, match="norm='group' is not one of"):
        TGANDiscriminator(frames=4, size=16, channels=1, widths=(4, 8), norm="group")
