"""Class-conditional VGAN, TGAN, MoCoGAN and frame GAN: embedding in G, projection in D."""

import dataclasses

import numpy as np
import pytest

from keras_vgan import builders, presets
from keras_vgan import config as config_lib
from keras_vgan.engine import VideoGAN
from keras_vgan.layers.conditioning import ProjectionHead
from keras_vgan.models import (
    ConditionalVGANDiscriminator,
    ConditionalVGANGenerator,
    FrameDiscriminator,
    FrameGenerator,
    MoCoGANDiscriminator,
    MoCoGANGenerator,
    TGANDiscriminator,
    TGANGenerator,
)
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

K = 3  # classes
CLIP = dict(frames=FRAMES, size=SIZE, channels=1)


def build(family, d_norm="batch"):
    if family == "vgan":
        g = ConditionalVGANGenerator(K, latent_dim=8, widths=(8, 4), embed_dim=4, **CLIP)
        d = ConditionalVGANDiscriminator(K, widths=(4, 8), norm=d_norm, **CLIP)
    elif family == "tgan":
        g = TGANGenerator(
            latent_dim=8, widths=(8, 4), temporal_widths=(8, 4), frame_latent_dim=4,
            num_classes=K, embed_dim=4, **CLIP,
        )  # fmt: skip
        d = TGANDiscriminator(widths=(4, 8), norm=d_norm, num_classes=K, **CLIP)
    elif family == "mocogan":
        g = MoCoGANGenerator(
            content_dim=6, motion_dim=3, widths=(8, 4), num_classes=K, embed_dim=4, **CLIP
        )
        d = MoCoGANDiscriminator(
            image_widths=(4, 8), video_widths=(4, 8), norm=d_norm, num_classes=K, **CLIP
        )
    else:
        g = FrameGenerator(frame_latent_dim=4, widths=(8, 4), num_classes=K, embed_dim=4, **CLIP)
        d = FrameDiscriminator(widths=(4, 8), norm=d_norm, num_classes=K, **CLIP)
    return VideoGAN(g, d, conditional=True, ema_decay=0.9)


def _video_logits(out):
    return np.asarray(out["video"] if isinstance(out, dict) else out)


def _projections(net):
    return [layer for layer in net._flatten_layers() if isinstance(layer, ProjectionHead)]


FAMILIES = ["vgan", "tgan", "mocogan", "frame_gan"]


@pytest.mark.parametrize("family", FAMILIES)
def test_conditional_training_sampling_and_round_trip(family, tmp_path):
    gan = build(family, d_norm="spectral" if family == "tgan" else "batch")
    labels = np.array([0, 1, 2, 1], "int32")
    # Every weight moves, the label embedding and the projection included.
    run_generator_test(
        gan,
        dataset(labels=labels),
        noise(gan, 3),
        (3, FRAMES, SIZE, SIZE, 1),
        labels=np.array([2, 0, 1], "int32"),
        loss="hinge" if family == "tgan" else "non_saturating",
        may_stay=("head/bias",),
    )
    # Same noise, different labels -> different clips; same label -> same clip.
    z = np.tile(np.random.default_rng(0).standard_normal((1, gan.latent_dim)), (3, 1))
    z = z.astype("float32")
    video = gan.generate(z, labels=np.array([0, 1, 0])).numpy()
    check_video(video, 3)
    assert not np.allclose(video[0], video[1])
    np.testing.assert_allclose(video[0], video[2], atol=1e-6)
    # Without labels, generate() cycles through the classes (sample grids).
    np.testing.assert_array_equal(
        gan.generate(z).numpy(), gan.generate(z, labels=[0, 1, 2]).numpy()
    )
    run_serialization_test(gan, tmp_path, z, video=clips(3), labels=np.array([2, 0, 1], "int32"))


@pytest.mark.parametrize("family", FAMILIES)
def test_the_label_reaches_the_projection(family):
    d = build(family).discriminator
    x = np.repeat(clips(1), 3, axis=0)  # one clip, three labels
    (projection,) = _projections(d)
    kernel = projection.projection.kernel  # V: [classes, features]
    kernel.assign(np.zeros(kernel.shape, "float32"))
    flat = _video_logits(d(x, labels=np.array([0, 1, 2])))
    np.testing.assert_allclose(flat, flat[:1].repeat(3, axis=0), atol=1e-6)  # V = 0: no class term
    v = np.zeros(kernel.shape, "float32")
    v[1] = 1.0  # only class 1 gets a term: <V[1], sum of features>
    kernel.assign(v)
    logits = _video_logits(d(x, labels=np.array([0, 1, 2])))
    np.testing.assert_allclose(logits[[0, 2]], flat[[0, 2]], atol=1e-6)
    assert np.all(np.abs(logits[1] - flat[1]) > 1e-4)
    with pytest.raises(ValueError, match="class-conditional"):
        d(x)


def test_generators_refuse_missing_labels():
    gan = build("tgan")
    with pytest.raises(ValueError, match="pass labels="):
        gan.generator(np.zeros((1, gan.latent_dim), "float32"))


@pytest.mark.parametrize(
    "preset", ["vgan_cond_moving_mnist", "tgan_cond_shapes", "mocogan_cond_moving_mnist"]
)
def test_conditional_presets_build_and_read_labelled_data(preset):
    config = dataclasses.replace(
        presets.get_preset(preset), frames=4, size=16, width=4, depth=2, batch_size=2
    )
    gan = builders.build_gan(config)
    assert gan.conditional and gan.generator.num_classes == config.num_classes
    clips_, labels = next(iter(builders.build_train_dataset(config)))
    assert clips_.shape == (2, 4, 16, 16, config.channels) and labels.shape == (2,)
    assert np.all((labels.numpy() >= 0) & (labels.numpy() < config.num_classes))


def test_config_validation_of_classes_and_norms():
    base = presets.get_preset("tgan_cond_shapes")
    with pytest.raises(
        ValueError, match="num_classes=10 does not match the labels of data='shapes'"
    ):
        config_lib.validate_config(dataclasses.replace(base, num_classes=10))
    with pytest.raises(ValueError, match="num_classes=-1 must be an integer >= 0"):
        config_lib.validate_config(dataclasses.replace(base, num_classes=-1))
    with pytest.raises(ValueError, match="d_norm='spectral' is not one of"):
        config_lib.validate_config(
            dataclasses.replace(presets.get_preset("quick"), d_norm="spectral")
        )
