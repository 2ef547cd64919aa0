"""keras_vgan.motion: warping, flows (OpenCV, SPyNet), the built-in data's exact flow,
the warping error, motion-aware discriminators and the flow-warped translation term."""

import dataclasses

import keras
import numpy as np
import pytest
from helpers import SIZE, run_serialization_test

from keras_vgan import builders, motion
from keras_vgan import config as config_lib
from keras_vgan.data.builtin import builtin_dataset
from keras_vgan.metrics import mean_warping_error, warping_error
from keras_vgan.motion.consistency import FlowTranslationGAN, flow_warp_loss


def square_clip(shift=(3, 2), frames=2, size=64, side=16, channels=1, seed=0):
    """A textured square on a dark background moving ``shift = (dx, dy)`` px per frame.

    Returns ``(clip [1, T, size, size, C] in [-1, 1], inside [size, size])`` where
    ``inside`` marks the square's interior in frame 0 (2 px in from its edges).
    """
    rng = np.random.default_rng(seed)
    texture = rng.uniform(0.2, 1.0, (side // 4, side // 4))
    texture = np.kron(texture, np.ones((4, 4)))  # 4x4 blocks: features DIS can follow
    clip = np.full((1, frames, size, size, channels), -1.0, np.float32)
    y0, x0 = 20, 18
    for t in range(frames):
        y, x = y0 + t * shift[1], x0 + t * shift[0]
        clip[0, t, y : y + side, x : x + side] = (texture * 2 - 1)[..., None]
    inside = np.zeros((size, size), bool)
    inside[y0 + 2 : y0 + side - 2, x0 + 2 : x0 + side - 2] = True
    return clip, inside


# ---------------------------------------------------------------------------- warping
def test_backward_warp_identity_integer_shift_and_borders():
    rng = np.random.default_rng(0)
    image = rng.uniform(-1, 1, (2, 12, 10, 3)).astype("float32")
    zero = np.zeros((2, 12, 10, 2), "float32")
    np.testing.assert_array_equal(motion.backward_warp(image, zero), image)
    flow = zero + np.array([2.0, -1.0], "float32")  # read at (x + 2, y - 1)
    for padding in motion.PADDINGS:
        out = np.asarray(motion.backward_warp(image, flow, padding=padding))
        np.testing.assert_allclose(out[:, 1:, :-2], image[:, :-1, 2:], atol=1e-6)
    out = np.asarray(motion.backward_warp(image, flow, padding="zeros"))
    assert not out[:, 0].any() and not out[:, :, -2:].any()  # read outside: 0
    out = np.asarray(motion.backward_warp(image, flow))  # border: clamped to the edge
    np.testing.assert_allclose(out[:, 1:, -1], image[:, :-1, -1], atol=1e-6)
    # Half a pixel right: the mean of the two neighbours.
    half = np.asarray(motion.backward_warp(image, zero + np.array([0.5, 0.0], "float32")))
    np.testing.assert_allclose(half[:, :, :-1], (image[:, :, :-1] + image[:, :, 1:]) / 2, atol=1e-6)


def test_translate_known_answer_and_equals_backward_warp_with_its_gradients():
    import tensorflow as tf

    rng = np.random.default_rng(1)
    image = rng.uniform(-1, 1, (6, 9, 11, 2)).astype("float32")
    # Whole pixels, half pixels, fractions, off the canvas and at rest.
    shift = np.array([[0, 0], [1, 0], [0.5, -2.25], [-3.7, 4.1], [20, 0], [-10.5, -8.5]], "float32")
    out = np.asarray(motion.translate(image, shift))
    np.testing.assert_array_equal(out[0], image[0])
    np.testing.assert_allclose(out[1][:, 1:], image[1][:, :-1], atol=1e-6)  # moved right
    assert not out[1][:, 0].any() and not out[4].any()  # 0 where nothing moved in
    flow = -shift[:, None, None, :] * np.ones((1, 9, 11, 1), "float32")
    np.testing.assert_allclose(out, motion.backward_warp(image, flow, padding="zeros"), atol=1e-6)
    x, s = tf.constant(image), tf.constant(shift)
    weights = tf.constant(rng.normal(size=image.shape).astype("float32"))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, s])
        a = tf.reduce_sum(motion.translate(x, s) * weights)
        f = -s[:, None, None, :] * tf.ones((1, 9, 11, 1))
        b = tf.reduce_sum(motion.backward_warp(x, f, padding="zeros") * weights)
    for ga, gb in zip(tape.gradient(a, [x, s]), tape.gradient(b, [x, s]), strict=True):
        np.testing.assert_allclose(ga, gb, rtol=1e-4, atol=1e-4)
    # At rest the shift still has a gradient (one-sided, as bilinear sampling's).
    assert np.abs(tape.gradient(a, s)[0]).sum() > 0
    with pytest.raises(ValueError, match=r"must be \[B, H, W, C\] and \[B, 2\]"):
        motion.translate(image, shift[:, :1])


def test_warp_layer_round_trip(tmp_path):
    image = keras.Input((8, 8, 2))
    flow = keras.Input((8, 8, 2))
    model = keras.Model([image, flow], motion.BackwardWarp(padding="zeros")([image, flow]))
    rng = np.random.default_rng(1)
    x = [rng.uniform(-1, 1, (2, 8, 8, 2)).astype("float32"),
         rng.uniform(-3, 3, (2, 8, 8, 2)).astype("float32")]  # fmt: skip
    loaded = run_serialization_test(model, tmp_path, x)
    assert loaded.layers[-1].padding == "zeros"


# ------------------------------------------------------------------------------ flows
@pytest.mark.parametrize("method", motion.CLASSICAL)
def test_classical_flow_of_a_shifted_square(method):
    clip, inside = square_clip(shift=(3, 2))
    flow = motion.classical_flow(clip, method)  # forward: on frame 0
    assert flow.shape == (1, 1, 64, 64, 2)
    np.testing.assert_allclose(np.median(flow[0, 0][inside], axis=0), [3, 2], atol=0.5)
    back = motion.classical_flow(clip, method, direction="backward")  # on frame 1
    shifted = np.roll(np.roll(inside, 2, axis=0), 3, axis=1)
    np.testing.assert_allclose(np.median(back[0, 0][shifted], axis=0), [-3, -2], atol=0.5)
    # uint8 and RGB input: the same flow.
    rgb = np.round((np.repeat(clip, 3, axis=-1) + 1) * 127.5).astype(np.uint8)
    np.testing.assert_allclose(motion.classical_flow(rgb, method), flow, atol=1e-3)


def test_spynet_flow_of_a_shifted_square():
    net = motion.spynet(pretrained=True)
    clip, inside = square_clip(shift=(2, -1))
    flow = np.asarray(motion.network_flow(net, clip))[0, 0]
    np.testing.assert_allclose(flow[inside].mean(axis=0), [2, -1], atol=0.6)
    still = np.asarray(motion.network_flow(net, np.repeat(clip[:, :1], 2, axis=1)))
    assert np.abs(still).mean() < 0.2  # no motion: (about) no flow


def test_spynet_round_trip_and_bad_inputs(tmp_path):
    net = motion.SPyNet(levels=2, widths=(4,), kernel_size=3, name="tiny_spynet")
    x = np.random.default_rng(0).uniform(-1, 1, (2, 2, 8, 8, 3)).astype("float32")
    assert run_serialization_test(net, tmp_path, x).levels == 2
    with pytest.raises(ValueError, match=r"multiples of 2"):
        net(np.zeros((1, 2, 9, 8, 1), "float32"))
    with pytest.raises(ValueError, match=r"\[B, 2, H, W, C\]"):
        net(np.zeros((1, 3, 8, 8, 1), "float32"))
    with pytest.raises(ValueError, match="levels=0"):
        motion.SPyNet(levels=0)


def test_shipped_spynet_is_small_and_packaged():
    from importlib import resources

    ref = resources.files("keras_vgan.motion").joinpath("assets", "spynet.weights.h5")
    assert ref.is_file() and len(ref.read_bytes()) < 1_000_000
    text = open(config_lib.__file__.replace("keras_vgan/config.py", "setup.cfg")).read()
    assert "keras_vgan.motion = assets/*.h5" in text


# ------------------------------------------------------------- exact flow of the data
def test_moving_mnist_exact_flow_warps_frame_t_plus_1_onto_frame_t():
    ds = builtin_dataset("moving_mnist", frames=6, size=32, num_digits=1, batch_size=4,
                         num_clips=4, return_flow=True)  # fmt: skip
    x, flow = (np.asarray(a) for a in next(iter(ds)))
    assert flow.shape == (4, 5, 32, 32, 2)
    ink = x[:, :-1, ..., 0] > -1  # object pixels of frame t
    moving = np.any(flow != 0, axis=-1)
    assert np.array_equal(moving & ~ink, np.zeros_like(ink))  # 0 on the background
    assert moving.sum() > 0.5 * ink.sum()  # digits move (a bounce may pause one)
    warped = np.asarray(motion.warp_clip(x[:, 1:], flow))
    np.testing.assert_allclose(warped[ink], x[:, :-1][ink], atol=1e-5)
    assert np.allclose(flow, np.round(flow))  # digits move by whole pixels


def test_shapes_exact_flow_warps_within_antialiasing():
    ds = builtin_dataset("shapes", frames=5, size=32, num_shapes=1, batch_size=4,
                         num_clips=4, return_flow=True)  # fmt: skip
    x, flow = (np.asarray(a) for a in next(iter(ds)))
    moving = np.any(flow != 0, axis=-1)
    assert moving.mean() > 0.02
    err_true = mean_warping_error(x, flow, "forward", mask=moving)
    err_zero = mean_warping_error(x, np.zeros_like(flow), "forward", mask=moving)
    assert err_true < 0.03 < err_zero  # sub-pixel bilinear vs antialiased edges


def test_return_flow_validation():
    with pytest.raises(ValueError, match="return_flow"):
        builtin_dataset("moving_mnist", return_flow=True, return_labels=True)
    with pytest.raises(ValueError, match="return_flow"):
        builtin_dataset("shapes", return_flow="yes")


# ------------------------------------------------------------------- warping error
def test_warping_error_known_answer():
    side, size = 6, 16
    clip = np.full((1, 3, size, size, 1), -1.0, "float32")
    for t in range(3):
        clip[0, t, 5 : 5 + side, 4 + t : 4 + t + side] = 1.0  # 1 px right per frame
    back = np.zeros((1, 2, size, size, 2), "float32")
    back[..., 0] = -1.0  # on frame t + 1, read frame t one pixel to the left
    np.testing.assert_allclose(warping_error(clip, back), 0.0, atol=1e-6)
    # No flow: one column appears and one disappears, each pixel off by 1 on [0, 1].
    expected = 2 * side / size**2
    np.testing.assert_allclose(warping_error(clip, np.zeros_like(back)), expected, rtol=1e-5)
    np.testing.assert_allclose(warping_error(clip, -back, "forward"), 0.0, atol=1e-6)
    mask = np.zeros((1, 2, size, size), bool)
    mask[:, :, 5 : 5 + side, 9] = True  # on a disappearing/appearing column? (x = 4 + side - 1)
    assert mean_warping_error(clip, back, mask=mask) < 1e-6
    with pytest.raises(ValueError, match="flow has shape"):
        warping_error(clip, back[:, :1])
    with pytest.raises(ValueError, match="direction"):
        warping_error(clip, back, "sideways")


# ------------------------------------------------------------ motion-aware D (d_motion)
def _tiny(model="vgan", **kwargs):
    base = dict(frames=4, size=SIZE, width=8, depth=2, batch_size=2, steps_per_epoch=2,
                epochs=1)  # fmt: skip
    return config_lib.TrainConfig(model=model, **{**base, **kwargs})


def test_d_motion_diff_trains_a_tiny_gan():
    config = _tiny(d_motion="diff")
    config_lib.validate_config(config)
    gan = builders.build_gan(config)
    assert isinstance(gan.discriminator, motion.MotionDiscriminator)
    gan.discriminator.discriminator(np.zeros((1, 4, SIZE, SIZE, 2), "float32"))  # clip + diff
    before = [v.numpy().copy() for v in gan.discriminator.trainable_variables]
    history = gan.fit(builders.build_train_dataset(config).take(2), epochs=1, verbose=0)
    assert np.isfinite(history.history["d_loss"][-1])
    after = gan.discriminator.trainable_variables
    assert any(not np.array_equal(a, b.numpy()) for a, b in zip(before, after, strict=True))
    x = np.random.default_rng(0).uniform(-1, 1, (2, 4, SIZE, SIZE, 1)).astype("float32")
    diff = np.asarray(motion.frame_differences(x))
    np.testing.assert_array_equal(diff[:, 0], 0)
    np.testing.assert_allclose(diff[:, 1:], x[:, 1:] - x[:, :-1])


def test_d_motion_flow_gives_gradients_to_the_generator(tmp_path):
    config = _tiny(d_motion="flow")
    config_lib.validate_config(config)
    generator, d = builders.build_networks(config)
    d.discriminator(np.zeros((1, 4, SIZE, SIZE, 3), "float32"))  # clip + (dx, dy)
    assert not d.flow_net.trainable_variables
    z = keras.random.normal((2, generator.latent_dim), seed=1)
    import tensorflow as tf

    with tf.GradientTape() as tape:
        out = generator(z, training=True)
        score = tf.reduce_sum(d(out["video"] if isinstance(out, dict) else out))
    grads = tape.gradient(score, generator.trainable_variables)
    assert all(g is not None for g in grads)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 4, SIZE, SIZE, 1)).astype("float32")
    run_serialization_test(d, tmp_path, x)


def test_motion_validation_errors():
    cases = {
        "d_motion='optical'": _tiny(d_motion="optical"),
        "needs a video GAN family": _tiny("translate", frames=4, d_motion="diff"),
        "flow_weight=1.0 needs a translation": _tiny(flow_weight=1.0),
        "flow_method='raft'": _tiny("translate", flow_weight=1.0, flow_method="raft"),
        "flow_weight=-1": _tiny("translate", flow_weight=-1.0),
    }
    for message, config in cases.items():
        with pytest.raises(ValueError, match=message.replace("(", r"\(")):
            config_lib.validate_config(config)
    with pytest.raises(ValueError, match="padding='wrap'"):
        motion.BackwardWarp(padding="wrap")
    with pytest.raises(ValueError, match="method='raft'"):
        motion.optical_flow(np.zeros((1, 2, 8, 8, 1)), "raft")
    with pytest.raises(ValueError, match="motion='flows'"):
        motion.MotionDiscriminator(keras.layers.Identity(), "flows")


# --------------------------------------------- flow-warped temporal term (translation)
def test_flow_warp_loss_known_answer():
    clip, _ = square_clip(shift=(2, 0), frames=3, size=32, side=8)
    back = np.zeros((1, 2, 32, 32, 2), "float32")
    back[..., 0] = -2.0
    assert float(flow_warp_loss(clip, back)) < 1e-6
    assert float(flow_warp_loss(clip, np.zeros_like(back))) > 0.01


def test_flow_translation_trains():
    config = _tiny("translate", frames=4, flow_weight=1.0, flow_method="dis")
    config_lib.validate_config(config)
    gan = builders.build_gan(config)
    assert isinstance(gan, FlowTranslationGAN) and gan.flow_weight == 1.0
    before = [v.numpy().copy() for v in gan.generator.trainable_variables]
    history = gan.fit(builders.build_train_dataset(config).take(2), epochs=1, verbose=0)
    assert np.isfinite(history.history["flow_warp"][-1]) and history.history["flow_warp"][-1] > 0
    after = gan.generator.trainable_variables
    assert any(not np.array_equal(a, b.numpy()) for a, b in zip(before, after, strict=True))
    plain = builders.build_gan(dataclasses.replace(config, flow_weight=0.0))
    assert not isinstance(plain, FlowTranslationGAN)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["farneback", "spynet"])
def test_flow_translation_round_trip(method, tmp_path):
    config = _tiny("translate", frames=4, flow_weight=0.5, flow_method=method)
    gan = builders.build_gan(config)
    gan.fit(builders.build_train_dataset(config).take(1), epochs=1, verbose=0)
    x, _ = next(iter(builders.build_train_dataset(config)))
    loaded = run_serialization_test(gan, tmp_path, np.asarray(x))
    assert loaded.flow_method == method and loaded.flow_weight == 0.5
