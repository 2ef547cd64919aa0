"""MoCoGAN: content/motion decomposition, variable-length sampling, two discriminators."""

import dataclasses

import keras
import numpy as np
import pytest

from keras_vgan import builders, presets
from keras_vgan.config import validate_config
from keras_vgan.engine import VideoGAN
from keras_vgan.models import (
    LayeredMoCoGANGenerator,
    MoCoGANDiscriminator,
    MoCoGANGenerator,
    mocogan,
)
from keras_vgan.motion import composite_layers
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

CONTENT, MOTION = 6, 3
CLIPS = (2, FRAMES, SIZE, SIZE, 1)  # what generate(noise(gan)) gives


def tiny_generator(channels=1, cls=MoCoGANGenerator, **kwargs):
    return cls(
        content_dim=CONTENT,
        motion_dim=MOTION,
        frames=FRAMES,
        size=SIZE,
        channels=channels,
        widths=(8, 4),
        **kwargs,
    )


def tiny_discriminator(channels=1, **kwargs):
    return MoCoGANDiscriminator(
        frames=FRAMES,
        size=SIZE,
        channels=channels,
        image_widths=(4, 8),
        video_widths=(4, 8),
        **kwargs,
    )


def tiny(channels=1, d_kwargs=None, **kwargs):
    return VideoGAN(
        tiny_generator(channels), tiny_discriminator(channels, **(d_kwargs or {})), **kwargs
    )


def assert_motion_is_causal(g, z, video):
    """The innovation of step 3 changes frames 3.. only (``video = g(z)``)."""
    z_m = z.copy()
    start = CONTENT + MOTION + 2 * MOTION
    z_m[:, start : start + MOTION] += 1.0
    other = g(z_m).numpy()
    np.testing.assert_array_equal(other[:, :2], video[:, :2])
    assert not np.allclose(other[:, 2:], video[:, 2:])


def test_noise_layout_content_fixed_motion_causal():
    g = tiny_generator(channels=3)
    assert g.latent_dim == CONTENT + (FRAMES + 1) * MOTION
    z = np.random.default_rng(0).standard_normal((2, g.latent_dim)).astype("float32")
    video = g(z).numpy()
    check_video(video, 2, channels=3)
    assert not np.allclose(video[:, 0], video[:, -1])
    assert g.motion_codes(z).shape == (2, FRAMES, MOTION)
    # The content code changes every frame of the clip.
    z_c = z.copy()
    z_c[:, :CONTENT] += 1.0
    assert all(not np.allclose(a, b) for a, b in zip(g(z_c).numpy()[0], video[0], strict=True))
    assert_motion_is_causal(g, z, video)


def test_clips_of_other_lengths_from_the_same_noise():
    gan = tiny(ema_decay=0.9)
    # Move the generator away from its moving average (as training would).
    rng = np.random.default_rng(0)
    for w in gan.generator.trainable_variables:
        w.assign(w.numpy() + 0.05 * rng.standard_normal(w.shape).astype("float32"))
    z = noise(gan, 2)
    full = gan.generate(z).numpy()  # EMA generator
    short = gan.generate(z, frames=2).numpy()
    long = gan.generate(z, frames=9, motion_seed=5).numpy()
    check_video(short, 2, frames=2)
    check_video(long, 2, frames=9)
    np.testing.assert_allclose(short, full[:, :2], atol=1e-6)  # a prefix of the clip
    np.testing.assert_allclose(long[:, :FRAMES], full, atol=1e-6)
    np.testing.assert_array_equal(gan.generate(z, frames=9, motion_seed=5).numpy(), long)
    assert not np.allclose(
        gan.generate(z, frames=9, motion_seed=6).numpy()[:, FRAMES:], long[:, FRAMES:]
    )
    # The EMA generator is what generate() samples, at any length.
    np.testing.assert_array_equal(long, gan.ema_generator(z, frames=9, motion_seed=5).numpy())
    assert not np.allclose(long, gan.generate(z, frames=9, motion_seed=5, use_ema=False).numpy())


def test_discriminator_returns_image_and_video_heads():
    d = tiny_discriminator()
    out = d(clips(3))
    assert set(out) == {"image", "video"}
    assert out["image"].shape == (3, FRAMES) and out["video"].shape == (3, 1)
    # k sampled frames: random (but seeded) while training, evenly spaced otherwise.
    a, b = tiny_discriminator(image_frames=2, seed=3), tiny_discriminator(image_frames=2, seed=3)
    b.set_weights(a.get_weights())
    x = clips(3)
    assert a(x)["image"].shape == (3, 2)
    first = [a(x, training=True)["image"].numpy() for _ in range(3)]
    second = [b(x, training=True)["image"].numpy() for _ in range(3)]
    np.testing.assert_array_equal(first, second)
    assert not all(np.allclose(first[0], f) for f in first[1:])
    single = a.image_head(a.image_encoder(x[:, -1])).numpy().reshape(3)
    np.testing.assert_allclose(a(x)["image"].numpy()[:, 1], single, atol=1e-6)  # frames 0, T-1


def test_gradient_penalty_with_image_and_video_heads():
    gan = tiny(d_kwargs=dict(norm="layer", image_frames=2))
    history = run_generator_test(
        gan, dataset(), noise(gan), CLIPS, loss="wgan", gp_weight=10.0, may_stay=("head/bias",)
    )
    assert history["gp"][-1] > 0


def test_fit_trains_generator_and_both_discriminators_then_keras_round_trip(tmp_path):
    gan = tiny(d_kwargs=dict(norm="spectral", image_frames=2), ema_decay=0.9)
    run_generator_test(gan, dataset(), noise(gan), CLIPS, loss="hinge", may_stay=("head/bias",))
    loaded = run_serialization_test(
        gan, tmp_path, noise(gan), video=clips(2), frames=7, motion_seed=2
    )
    # The frame sampler's state is saved: both draw the same frames next.
    x = clips(2)
    keras.tree.map_structure(
        np.testing.assert_array_equal,
        keras.tree.map_structure(np.asarray, loaded.discriminator(x, training=True)),
        keras.tree.map_structure(np.asarray, gan.discriminator(x, training=True)),
    )


def test_bad_arguments_name_the_value():
    with pytest.raises(ValueError, match="image_frames=5 must be in"):
        tiny_discriminator(image_frames=5)
    g = tiny_generator()
    with pytest.raises(ValueError, match="latent_dim=21"):
        g(np.zeros((1, 5), "float32"))
    with pytest.raises(ValueError, match="frames=0 must be a positive integer"):
        g(np.zeros((1, g.latent_dim), "float32"), frames=0)


# ============================================================ layered MoCoGAN
def tiny_layered(channels=1, **kwargs):
    return tiny_generator(channels, LayeredMoCoGANGenerator, hidden=8, **kwargs)


def _spread(generator, seed=0):
    """Weights off their (still, near-zero) initial values, as training would leave them."""
    rng = np.random.default_rng(seed)
    for w in generator.trainable_variables:
        w.assign(w.numpy() + 0.3 * rng.standard_normal(w.shape).astype("float32"))


def test_composite_layers_is_translate_then_over_values_and_gradients():
    """The fused compositing equals moving each layer of each frame with ``translate``
    and compositing back to front, in value and in every input's gradient (RGB layers,
    sub-pixel shifts, some off the canvas)."""
    import tensorflow as tf

    from keras_vgan.motion import translate

    rng = np.random.default_rng(3)
    b, n, layers, h, w, c = 2, 3, 2, 8, 6, 3
    inputs = [
        rng.uniform(-1, 1, (b, h, w, c)),
        rng.uniform(-1, 1, (b, layers, h, w, c)),
        rng.uniform(0, 1, (b, layers, h, w, 1)),
        rng.uniform(-9, 9, (b, n, layers, 2)),
    ]
    inputs = [tf.constant(x.astype("float32")) for x in inputs]

    def reference(background, colour, alpha, shift):
        frames = []
        for k in range(n):
            out = background
            for layer in range(layers):
                rgba = tf.concat([colour[:, layer], alpha[:, layer]], axis=-1)
                moved = translate(rgba, shift[:, k, layer])
                out = moved[..., c:] * moved[..., :c] + (1.0 - moved[..., c:]) * out
            frames.append(out)
        return tf.stack(frames, axis=1)

    def value_and_grads(fn):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            y = fn(*inputs)
            loss = tf.reduce_sum(tf.sin(3.0 * y))
        return y, tape.gradient(loss, inputs)

    got, got_grads = value_and_grads(composite_layers)
    want, want_grads = value_and_grads(reference)
    np.testing.assert_allclose(got, want, atol=1e-5)
    for g, r in zip(got_grads, want_grads, strict=True):
        np.testing.assert_allclose(g, r, atol=1e-4)
    assert np.abs(want_grads[3].numpy()).max() > 0.1  # the shifts do get gradient


def test_space_mean_pool_is_average_pooling():
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3, 8, 12, 2)).astype("float32")
    want = keras.ops.average_pool(x, (1, 2, 2), (1, 2, 2), padding="valid")
    np.testing.assert_allclose(mocogan.space_mean_pool(x, 2), want, atol=1e-6)
    blocks = x.reshape(2, 3, 2, 4, 3, 4, 2).mean(axis=(3, 5))
    np.testing.assert_allclose(mocogan.space_mean_pool(x, 4), blocks, atol=1e-6)


def test_composite_layers_known_answers():
    s = 8
    background = np.full((1, s, s, 1), -1.0, "float32")
    colour = np.ones((1, 2, s, s, 1), "float32")
    alpha = np.zeros((1, 2, s, s, 1), "float32")
    alpha[0, 0, 2, 3] = 1.0  # layer 0: one opaque pixel at (y=2, x=3)
    alpha[0, 1, 5, 5] = 1.0  # layer 1 (on top): one at (5, 5), colour 0.5
    colour[0, 1] = 0.5
    shift = np.array(
        [
            [
                [[0.0, 0.0], [0.0, 0.0]],
                [[2.0, 1.0], [0.0, 0.0]],
                [[0.5, 0.0], [-1.0, 0.0]],
                [[20.0, 0.0], [0.0, 0.0]],
            ]
        ],
        "float32",
    )
    out = np.asarray(composite_layers(background, colour, alpha, shift))
    assert out.shape == (1, 4, s, s, 1)
    expect = np.full((4, s, s), -1.0, "float32")
    expect[0, 2, 3], expect[0, 5, 5] = 1.0, 0.5  # still
    expect[1, 3, 5], expect[1, 5, 5] = 1.0, 0.5  # layer 0 moved by dx=2, dy=1
    expect[2, 2, 3] = expect[2, 2, 4] = 0.0  # half a pixel: half over the background
    expect[2, 5, 4] = 0.5  # layer 1 one pixel left
    expect[3, 5, 5] = 0.5  # layer 0 moved off the canvas: gone, nothing wraps round
    np.testing.assert_allclose(out[0, ..., 0], expect, atol=1e-6)
    # The top layer covers the one below it where both are opaque.
    alpha[0, 0, 5, 5] = 1.0
    top = np.asarray(composite_layers(background, colour, alpha, shift[:, :1]))
    assert top[0, 0, 5, 5, 0] == pytest.approx(0.5)


@pytest.mark.parametrize("sprite_size", [None, 8])
def test_layered_generator_draws_once_and_moves_what_it_drew(sprite_size):
    g = tiny_layered(sprite_size=sprite_size)
    z = np.random.default_rng(1).standard_normal((2, g.latent_dim)).astype("float32")
    # Untrained, the layers rest: every frame is the same image.
    still = g(z).numpy()
    check_video(still, 2)
    np.testing.assert_array_equal(still, np.repeat(still[:, :1], FRAMES, axis=1))
    _spread(g)
    video = g(z).numpy()
    check_video(video, 2)
    assert not np.allclose(video[:, 0], video[:, -1])
    # Frame k is the composite of the clip's layers at the k-th shifts.
    content, motion = z[:, :CONTENT], g.motion_codes(z)
    background, colour, alpha = g.layers_of(content)
    shift = g.shifts(content, motion)
    assert shift.shape == (2, FRAMES, 2, 2)
    assert np.max(np.abs(shift)) <= SIZE / 2
    np.testing.assert_allclose(video, composite_layers(background, colour, alpha, shift), atol=1e-6)
    assert alpha.shape == (2, 2, SIZE, SIZE, 1) and colour.shape == (2, 2, SIZE, SIZE, 1)
    if sprite_size:  # sprites drawn centred: transparent outside their box
        lo = (SIZE - sprite_size) // 2
        box = np.zeros((SIZE, SIZE, 1), bool)
        box[lo : lo + sprite_size, lo : lo + sprite_size] = True
        alpha = np.asarray(alpha)
        assert np.all(alpha[:, :, ~box] == 0.0) and np.all(alpha[:, :, box] > 0.0)
        # Each sprite has its own code: the two layers differ.
        assert not np.allclose(alpha[:, 0], alpha[:, 1])
    # Motion stays causal (MoCoGAN's layout); other lengths extend the same clip.
    assert_motion_is_causal(g, z, video)
    # (1e-5: another clip length changes the shapes oneDNN's kernels block on; AVX2 machines
    # round differently there, by up to 6e-6)
    np.testing.assert_allclose(g(z, frames=9, motion_seed=3).numpy()[:, :FRAMES], video, atol=1e-5)


@pytest.mark.parametrize("num_classes,sprite_size", [(0, None), (3, None), (0, 8)])
def test_layered_gan_trains_samples_classes_and_round_trips(num_classes, sprite_size, tmp_path):
    kw = dict(num_classes=num_classes, embed_dim=4) if num_classes else {}
    g = tiny_layered(sprite_size=sprite_size, **kw)
    d = tiny_discriminator(image_frames=2, num_classes=num_classes)
    gan = VideoGAN(g, d, conditional=bool(num_classes), ema_decay=0.9)
    labels = np.array([0, 1, 2, 1], "int32") if num_classes else None
    gen_labels = np.array([2, 0], "int32") if num_classes else None
    run_generator_test(
        gan,
        dataset(labels=labels) if num_classes else dataset(),
        noise(gan),
        CLIPS,
        labels=gen_labels,
        may_stay=("head/bias",),
    )
    if num_classes:
        z = np.tile(np.random.default_rng(0).standard_normal((1, gan.latent_dim)), (3, 1))
        video = gan.generate(z.astype("float32"), labels=np.array([0, 1, 0])).numpy()
        assert not np.allclose(video[0], video[1])
        np.testing.assert_allclose(video[0], video[2], atol=1e-6)
    loaded = run_serialization_test(
        gan, tmp_path, noise(gan), video=clips(2), labels=gen_labels, frames=7, motion_seed=2
    )
    assert loaded.generator.get_config()["sprites"] == 2
    assert loaded.generator.get_config()["sprite_size"] == sprite_size


def test_layered_bad_arguments_name_the_value():
    with pytest.raises(ValueError, match="sprites=0 must be a positive integer"):
        tiny_layered(sprites=0)
    with pytest.raises(ValueError, match="max_shift=-1 must be a positive number of pixels"):
        tiny_layered(max_shift=-1)
    with pytest.raises(ValueError, match="max_shift='4' must be a positive number"):
        tiny_layered(max_shift="4")
    with pytest.raises(ValueError, match="sprite_size=6 cannot be produced by a depth-2 network"):
        tiny_layered(sprite_size=6)
    with pytest.raises(ValueError, match="sprite_size=32 must be at most size=16"):
        tiny_layered(sprite_size=32)
    with pytest.raises(ValueError, match="sprite_widths=\\[8\\] must have one width per level"):
        tiny_layered(sprite_size=8, sprite_widths=[8])
    with pytest.raises(ValueError, match="sprite_widths\\[1\\]=0 must be a positive integer"):
        tiny_layered(sprite_size=8, sprite_widths=[8, 0])
    with pytest.raises(ValueError, match="sprite_widths is given but sprite_size is not"):
        tiny_layered(sprite_widths=[8, 4])
    # By default a sprite of half the canvas gets twice the widths (about the same FLOPs).
    assert tiny_layered(sprite_size=8).sprite_widths == (16, 8)


def test_sprite_size_is_checked_with_the_config():
    config = presets.get_preset("mocogan_layers_quick")  # 32x32, depth 3
    validate_config(dataclasses.replace(config, sprite_size=16))
    for fields, message in [
        (dict(sprite_size=-8), "sprite_size=-8 must be 0 \\(full-canvas layers\\)"),
        (dict(sprite_size=64), "sprite_size=64 must be at most size=32"),
        (dict(sprite_size=12), "sprite_size=12 must be a multiple of 2\\*\\*depth=8"),
        (dict(sprite_size=16, model="mocogan"), "is an option of model='mocogan_layers' only"),
        (dict(d_mbstd=-1), "d_mbstd=-1 must be 0 \\(off\\) or a group size"),
        (dict(d_mbstd=5), "d_mbstd=5 must divide batch_size=16"),
        (dict(d_mbstd=4, model="vgan", sprite_size=0), "d_mbstd=4 is an option of mocogan"),
    ]:
        with pytest.raises(ValueError, match=message):
            validate_config(dataclasses.replace(config, **fields))


@pytest.mark.parametrize("cls", [MoCoGANGenerator, LayeredMoCoGANGenerator])
def test_resize_upsampling_generator_trains_and_round_trips(tmp_path, cls):
    """``upsample="resize"``: nearest x2 + 3x3 convolutions in every level, no transposed
    convolution left; trains and reloads with identical outputs (the shared helpers)."""
    g = tiny_generator(cls=cls, upsample="resize")
    kinds = {type(layer).__name__ for layer in g.decoder._flatten_layers()}
    assert "NearestUpsample" in kinds and "Conv2DTranspose" not in kinds, kinds
    assert g.get_config()["upsample"] == "resize"
    plain = tiny_generator(cls=cls)
    assert "Conv2DTranspose" in {type(layer).__name__ for layer in plain.decoder._flatten_layers()}
    gan = VideoGAN(g, tiny_discriminator(1, image_frames=2))
    run_generator_test(gan, dataset(), noise(gan), CLIPS, loss="hinge", may_stay=("head/bias",))
    run_serialization_test(gan, tmp_path, noise(gan), video=clips(2))
    with pytest.raises(ValueError, match="upsample='bilinear' is not one of transpose, resize"):
        tiny_generator(cls=cls, upsample="bilinear")


def test_generator_width_and_upsampling_from_the_config():
    """``g_width`` widens the generator alone; both options are refused where unread."""
    config = dataclasses.replace(
        presets.get_preset("mocogan_layers_quick"), g_width=24, g_upsample="resize"
    )
    validate_config(config)
    assert config.generator_widths() == (96, 48, 24) and config.widths() == (64, 32, 16)
    g, d = builders.build_networks(config)
    assert g.widths == (96, 48, 24) and g.decoder.upsample == "resize"
    assert d.image_widths == (16, 32, 64)  # the discriminators keep width
    for fields, message in [
        (dict(g_width=-8), "g_width=-8 must be 0 \\(= width\\)"),
        (dict(g_upsample="bilinear"), "g_upsample='bilinear' is not one of"),
        (
            dict(model="vgan", d_mbstd=0, d_video_downsample=1, g_upsample="resize"),
            "g_upsample='resize' is an option of frame_gan, mocogan, mocogan_layers, tgan, "
            "not of model='vgan'",
        ),
    ]:
        with pytest.raises(ValueError, match=message):
            validate_config(dataclasses.replace(config, **fields))
    stylegan_v = dataclasses.replace(presets.get_preset("stylegan_v_moving_mnist"), g_width=8)
    with pytest.raises(ValueError, match="g_width=8 is an option of .*, not of model='stylegan_v'"):
        validate_config(stylegan_v)


def test_video_discriminator_on_downsampled_clips():
    """``video_downsample=2``: D_V sees each 2x2 block's mean, D_I the full frames."""
    d = tiny_discriminator(video_downsample=2, norm="none")
    assert d.get_config()["video_downsample"] == 2
    v = clips(2)
    out = d(v)
    assert out["video"].shape == (2, 1) and out["image"].shape == (2, FRAMES)
    # Moving ink inside every 2x2 block keeps the block means: D_V cannot tell, D_I can.
    swapped = v.copy()
    swapped[:, :, 0::2], swapped[:, :, 1::2] = v[:, :, 1::2], v[:, :, 0::2]
    again = d(swapped)
    np.testing.assert_allclose(out["video"], again["video"], atol=1e-5)
    assert not np.allclose(out["image"], again["image"])
    gan = VideoGAN(tiny_generator(), d)
    run_generator_test(gan, dataset(), noise(gan), CLIPS, loss="hinge", may_stay=("head/bias",))
    with pytest.raises(ValueError, match="video_downsample=3 must divide size=16"):
        tiny_discriminator(video_downsample=3)
    with pytest.raises(ValueError, match="video_downsample=0 must be a positive integer"):
        tiny_discriminator(video_downsample=0)
    config = presets.get_preset("mocogan_layers_quick")
    for k, message in [
        (0, "d_video_downsample=0 must be a positive integer"),
        (3, "d_video_downsample=3: size=32 / 3 must be a multiple of 2\\*\\*depth=8"),
    ]:
        with pytest.raises(ValueError, match=message):
            validate_config(dataclasses.replace(config, d_video_downsample=k))
    with pytest.raises(ValueError, match="d_video_downsample=2 is an option of mocogan"):
        validate_config(dataclasses.replace(config, model="vgan", d_mbstd=0, d_video_downsample=2))
    validate_config(dataclasses.replace(config, d_video_downsample=2))


def test_image_discriminator_sees_the_spread_of_the_batch():
    """With ``mbstd_group`` D_I's logit of a frame depends on the other clips of its group."""
    d = tiny_discriminator(image_frames=2, mbstd_group=2)
    assert d.get_config()["mbstd_group"] == 2
    v = clips(4)
    out = d(v)["image"].numpy()
    changed = v.copy()
    changed[1] = -changed[1]  # clip 1 shares its groups with clip 3 (rows n and n + N/G)
    again = d(changed)["image"].numpy()
    assert not np.allclose(out[3], again[3])
    np.testing.assert_allclose(out[2], again[2], atol=1e-6)  # clip 2's group is (0, 2)
    plain = tiny_discriminator(image_frames=2)
    with pytest.raises(ValueError, match="mbstd_group=-1 must be 0 \\(off\\) or a group size"):
        tiny_discriminator(mbstd_group=-1)
    assert plain.get_config()["mbstd_group"] == 0


def test_image_discriminator_frames_from_the_config():
    """``d_image_frames`` sets D_I's frames per clip; 0 keeps each family's default."""
    config = presets.get_preset("mocogan_layers_quick")
    validate_config(config)
    _, d = builders.build_networks(config)
    assert d.judged_frames == mocogan.LAYERED_IMAGE_FRAMES == 4
    two = dataclasses.replace(config, d_image_frames=2)
    validate_config(two)
    _, d = builders.build_networks(two)
    assert d.judged_frames == 2
    video = np.random.default_rng(0).uniform(-1, 1, (2, config.frames, config.size, config.size, 1))
    assert d(video.astype("float32"))["image"].shape == (2, 2)
    plain = dataclasses.replace(config, model="mocogan", d_video_downsample=1)
    _, d = builders.build_networks(plain)
    assert d.judged_frames == config.frames  # MoCoGAN's D_I: every frame
    for fields, message in [
        (dict(d_image_frames=-1), "d_image_frames=-1 must be 0 \\(the family's default\\)"),
        (dict(d_image_frames=17), "d_image_frames=17 must be <= frames=16"),
        (
            dict(model="vgan", d_mbstd=0, d_video_downsample=1, d_image_frames=2),
            "d_image_frames=2 is an option of mocogan and mocogan_layers",
        ),
    ]:
        with pytest.raises(ValueError, match=message):
            validate_config(dataclasses.replace(config, **fields))
