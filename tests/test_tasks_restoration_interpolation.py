"""Restoration (x2 / x4 super-resolution, denoising) and frame interpolation: data pairs,
shapes, round trips, a few steps, overfitting a handful of clips, baselines."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_vgan.data import pairs as pairs_lib
from keras_vgan.layers import ClipDiscriminator
from keras_vgan.models.enhancement import VideoEnhancer
from keras_vgan.models.interpolation import FrameInterpolator, linear_blend
from keras_vgan.tasks import VideoTaskGAN, task_baselines
from tests.helpers import SIZE, overfit, pairs, run_serialization_test

FRAMES = 5


def test_degradations_and_key_frames_known_answers():
    clip = np.zeros((1, 1, 4, 4, 1), np.float32)
    clip[0, 0, :2, :2, 0] = 1.0  # a 2x2 block
    np.testing.assert_allclose(
        np.asarray(pairs_lib.downsample(tf.constant(clip), 2))[0, 0, :, :, 0], [[1, 0], [0, 0]]
    )
    np.testing.assert_allclose(
        np.asarray(pairs_lib.downsample(tf.constant(clip), 4))[0, 0, :, :, 0], [[0.25]]
    )
    noisy = [pairs_lib.degrade_clips(tf.constant(clip), "noise", [0, i]) for i in (1, 1, 2)]
    np.testing.assert_array_equal(noisy[0], noisy[1])  # a pure function of the seed
    assert not np.allclose(noisy[0], noisy[2])
    # Sobel magnitude of a vertical step edge from 0 to 1 (on [0, 1]) is 4: the map's maximum.
    step = -np.ones((1, 1, 5, 6, 1), np.float32)
    step[..., 3:, :] = 1.0
    edges = np.asarray(pairs_lib.edge_maps(tf.constant(step)))
    assert edges.max() == pytest.approx(1.0) and edges[0, 0, 0, 0, 0] == pytest.approx(-1.0)
    x, y = pairs("interpolation", n=2, frames=FRAMES, stride=2)
    np.testing.assert_array_equal(x, y[:, ::2])
    keys = np.stack([np.zeros((2, 2, 1)), np.ones((2, 2, 1))])[None].astype("float32")
    blend = np.asarray(linear_blend(keys, 4))[0, :, 0, 0, 0]
    np.testing.assert_allclose(blend, [0, 0.25, 0.5, 0.75, 1])
    with pytest.raises(ValueError, match="stride=3 must divide frames - 1 = 4"):
        pairs("interpolation", n=2, frames=FRAMES, stride=3)
    with pytest.raises(ValueError, match="degrade='x3' is not one of"):
        pairs("restoration", n=2, frames=FRAMES, degrade="x3")


@pytest.mark.parametrize("degrade", ["x2", "x4", "noise"])
def test_enhancer_shapes_and_round_trip(tmp_path, degrade):
    scale = pairs_lib.degrade_scale(degrade)
    g = VideoEnhancer(frames=FRAMES, size=SIZE, channels=1, scale=scale, widths=(4, 8))
    x, y = pairs("restoration", n=2, frames=FRAMES, degrade=degrade)
    assert x.shape == (2, FRAMES, SIZE // scale, SIZE // scale, 1)
    out = np.asarray(g(x))
    assert out.shape == y.shape and np.all(np.abs(out) <= 1)
    if degrade == "x2":
        gan = VideoTaskGAN(g, ClipDiscriminator(FRAMES, SIZE, 1, (4, 8)), "none", ema_decay=0.5)
        gan.compile()
        run_serialization_test(gan, tmp_path, x)
        with pytest.raises(ValueError, match="expected \\[B, T, 8, 8, 1\\]"):
            g(y)


def test_interpolator_keeps_key_frames_and_round_trips(tmp_path):
    g = FrameInterpolator(key_frames=3, stride=2, size=SIZE, channels=1, widths=(4, 8))
    x, y = pairs("interpolation", n=2, frames=FRAMES, stride=2)
    out = np.asarray(g(x))
    assert out.shape == y.shape and np.all(np.abs(out) <= 1)
    np.testing.assert_allclose(out[:, ::2], x, atol=1e-6)  # key frames pass through
    gan = VideoTaskGAN(g, ClipDiscriminator(FRAMES, SIZE, 1, (4, 8)), "none", ema_decay=0.5)
    gan.compile(l2_weight=1.0)
    run_serialization_test(gan, tmp_path, x)


@pytest.mark.parametrize("task", ["restoration", "interpolation"])
def test_overfits_a_handful_of_clips_and_beats_its_baseline(task):
    keras.utils.set_random_seed(0)
    if task == "restoration":
        g = VideoEnhancer(frames=FRAMES, size=SIZE, channels=1, scale=2, widths=(8, 16))
        x, y = pairs(task, n=4, frames=FRAMES, degrade="x2")
        baseline = task_baselines(task, scale=2)["bilinear"]
    else:
        g = FrameInterpolator(
            key_frames=2, stride=FRAMES - 1, size=SIZE, channels=1, widths=(8, 16)
        )
        x, y = pairs(task, n=4, frames=FRAMES)
        baseline = task_baselines(task, stride=FRAMES - 1)["linear_blend"]
    gan = VideoTaskGAN(g, ClipDiscriminator(FRAMES, SIZE, 1, (4, 8)), "none", ema_decay=0.5)
    _, before, after, _ = overfit(
        gan, x, y, steps=100, g_optimizer=keras.optimizers.Adam(3e-3), l1_weight=0.0, l2_weight=1.0
    )
    base = float(np.mean((np.asarray(baseline(x)) - y) ** 2))
    assert after < 0.5 * base, (after, base)  # well below the baseline it starts from
    assert after < before
