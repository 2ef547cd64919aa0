"""Frame-independent DCGAN baseline: shapes, frame independence, training, saving."""

import numpy as np
import pytest

from keras_vgan.engine import VideoGAN
from keras_vgan.models import FrameDiscriminator, FrameGenerator
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

D = 6  # per-frame latent
CLIPS = (2, FRAMES, SIZE, SIZE, 1)  # what generate(noise(gan)) gives


def tiny(d_norm="batch", channels=1, **kwargs):
    g = FrameGenerator(
        frame_latent_dim=D, frames=FRAMES, size=SIZE, channels=channels, widths=(8, 4)
    )
    d = FrameDiscriminator(frames=FRAMES, size=SIZE, channels=channels, widths=(4, 8), norm=d_norm)
    return VideoGAN(g, d, **kwargs)


def test_generator_renders_each_frame_from_its_own_latent():
    gan = tiny(channels=3)
    assert gan.latent_dim == FRAMES * D
    z = noise(gan, 3)
    video = gan.generator(z).numpy()
    check_video(video, 3, channels=3)
    # Changing frame 1's latent changes frame 1 and nothing else (inference mode).
    z2 = z.copy()
    z2[:, D : 2 * D] += 1.0
    other = gan.generator(z2).numpy()
    assert not np.allclose(other[:, 1], video[:, 1])
    np.testing.assert_array_equal(np.delete(other, 1, axis=1), np.delete(video, 1, axis=1))


@pytest.mark.parametrize("norm", ["batch", "spectral"])
def test_discriminator_judges_single_frames(norm):
    d = FrameDiscriminator(frames=FRAMES, size=SIZE, channels=1, widths=(4, 8), norm=norm)
    x = clips(2)
    logits = d(x).numpy()
    assert logits.shape == (2, FRAMES)  # one logit per frame
    y = x.copy()
    y[:, 2] = 0.0
    other = d(y).numpy()
    assert not np.allclose(other[:, 2], logits[:, 2])
    np.testing.assert_allclose(np.delete(other, 2, axis=1), np.delete(logits, 2, axis=1), atol=1e-6)


def test_wgan_gp_on_per_frame_logits():
    # [B, T] logits: the penalty differentiates the per-clip mean of the frame logits.
    gan = tiny(d_norm="layer")
    history = run_generator_test(
        gan, dataset(), noise(gan), CLIPS, loss="wgan", gp_weight=10.0, may_stay=("head/bias",)
    )
    assert history["gp"][-1] > 0


def test_fit_then_keras_round_trip(tmp_path):
    gan = tiny(d_norm="spectral", ema_decay=0.9)
    # While every hinge is active the last bias's gradients from real and fake cancel.
    history = run_generator_test(
        gan, dataset(), noise(gan), CLIPS, loss="hinge", may_stay=("head/bias",)
    )
    assert set(history) == {"d_loss", "g_loss", "d_real", "d_fake"}
    run_serialization_test(gan, tmp_path, noise(gan), video=clips(2))


def test_bad_geometry_names_the_value():
    with pytest.raises(ValueError, match="size=18 cannot be produced by a depth-2 network"):
        FrameGenerator(frame_latent_dim=4, frames=3, size=18, channels=1, widths=(8, 4))
    with pytest.raises(ValueError, match="norm='spectral' is not one of"):
        FrameGenerator(
            frame_latent_dim=4, frames=3, size=16, channels=1, widths=(8, 4), norm="spectral"
        )
    with pytest.raises(ValueError, match="frames=0 must be a positive integer"):
        FrameDiscriminator(frames=0, size=16, channels=1, widths=(4, 8))
