"""Video prediction: both predictors, roll-out, the task engine, round trips, overfitting,
distribution, and the training + evaluation programs on a tiny preset."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_vgan.layers import ClipDiscriminator
from keras_vgan.models.prediction import Conv3DPredictor, ConvLSTMPredictor, copy_last_frame
from keras_vgan.tasks import VideoTaskGAN, discriminator_view, temporal_difference_loss, unpack_pair
from tests.helpers import SIZE, overfit, pairs, run_serialization_test, snapshot

K, N = 3, 3


def predictor(cls, **kwargs):
    extra = dict(hidden=(8,)) if cls is ConvLSTMPredictor else dict(translator_width=4)
    return cls(K, N, size=SIZE, channels=1, widths=(4, 8), **extra, **kwargs)


def task_gan(cls=ConvLSTMPredictor, seed=0):
    keras.utils.set_random_seed(seed)
    d = ClipDiscriminator(frames=K + N, size=SIZE, channels=1, widths=(4, 8))
    return VideoTaskGAN(predictor(cls), d, condition="time", ema_decay=0.5)


@pytest.mark.parametrize("cls", [ConvLSTMPredictor, Conv3DPredictor])
def test_shapes_and_autoregressive_roll_out(cls):
    g = predictor(cls)
    x, _ = pairs("prediction", n=2, context_frames=K)
    y = np.asarray(g(x))
    assert y.shape == (2, N, SIZE, SIZE, 1) and np.all(np.abs(y) <= 1)
    longer = np.asarray(g(x, frames=2 * N + 1))  # beyond the trained horizon
    assert longer.shape == (2, 2 * N + 1, SIZE, SIZE, 1)
    np.testing.assert_allclose(longer[:, :N], y, atol=1e-6)  # the roll-out extends the output
    with pytest.raises(ValueError, match="expected \\[B, K, 16, 16, 1\\]"):
        g(np.zeros((2, K, 8, 8, 1), "float32"))
    with pytest.raises(ValueError, match="frames=0 must be a positive integer"):
        g(x, frames=0)


def test_engine_helpers_known_answers():
    x = np.zeros((2, 3, 8, 8, 1), "float32")
    clip = np.ones((2, 4, 16, 16, 1), "float32")
    assert discriminator_view(x, clip[:, :, :8, :8], "time").shape == (2, 7, 8, 8, 1)
    assert discriminator_view(x[:, :1].repeat(4, 1), clip, "channels").shape == (2, 4, 16, 16, 2)
    assert discriminator_view(x, clip, "none") is clip
    real = np.zeros((1, 3, 2, 2, 1), "float32")
    fake = real.copy()
    fake[:, 1] = 0.5  # a flicker: differences +0.5 then -0.5 where the truth is still
    assert float(temporal_difference_loss(tf.constant(fake), tf.constant(real))) == 0.5
    a, b = unpack_pair({"inputs": 1, "targets": 2})
    assert (a, b) == (1, 2)
    with pytest.raises(ValueError, match="must be \\(inputs, targets\\)"):
        unpack_pair(np.zeros(3))
    with pytest.raises(ValueError, match="condition='space' is not one of"):
        VideoTaskGAN(predictor(ConvLSTMPredictor), ClipDiscriminator(6, SIZE, 1, (4,)), "space")
    ctx = np.arange(2 * 3).reshape(2, 3, 1, 1, 1).astype("float32")
    np.testing.assert_array_equal(
        np.asarray(copy_last_frame(ctx, 2))[:, :, 0, 0, 0], [[2, 2], [5, 5]]
    )


def test_round_trip_keeps_outputs_compile_settings_and_roll_out(tmp_path):
    gan = task_gan(Conv3DPredictor)
    gan.compile(l2_weight=1.0, adv_weight=0.05)
    x, _ = pairs("prediction", n=2, context_frames=K)
    loaded = run_serialization_test(gan, tmp_path, x)
    assert loaded.get_compile_config()["l2_weight"] == 1.0
    np.testing.assert_array_equal(
        np.asarray(loaded.generate(x, frames=5)), np.asarray(gan.generate(x, frames=5))
    )
    np.testing.assert_array_equal(np.asarray(loaded.predict(x, verbose=0)), np.asarray(gan(x)))


@pytest.mark.parametrize(
    "cls,extra",
    [
        (Conv3DPredictor, dict(translator_width=8)),
        pytest.param(ConvLSTMPredictor, dict(hidden=(16,)), marks=pytest.mark.slow),
    ],
)
def test_overfits_a_handful_of_clips_below_what_ignoring_the_context_allows(cls, extra):
    keras.utils.set_random_seed(0)
    g = cls(K, N, size=SIZE, channels=1, widths=(8, 16), **extra)
    gan = VideoTaskGAN(g, ClipDiscriminator(K + N, SIZE, 1, (4, 8)), "time", ema_decay=0.5)
    x, y = pairs("prediction", n=4, context_frames=K)
    history, before, after, floor = overfit(
        gan,
        x,
        y,
        steps=150,
        g_optimizer=keras.optimizers.Adam(3e-3),
        l1_weight=0.0,
        l2_weight=1.0,
    )
    assert after < 0.1 * before
    assert after < 0.8 * floor, (after, floor)  # it uses the context: conditioning is wired
    assert set(history) >= {"d_loss", "g_loss", "l1", "l2", "d_real", "d_fake"}


def _one_step(strategy, x, y):
    with strategy.scope():
        gan = task_gan(Conv3DPredictor, seed=3)
        gan.compile(l2_weight=1.0)
    initial = snapshot(gan.weights)
    history = gan.fit(tf.data.Dataset.from_tensors((x, y)), epochs=1, verbose=0).history
    return initial, snapshot(gan.weights), history


@pytest.mark.slow  # ~15 s; the distribution rule is the one engine.VideoGAN tests by default
def test_mirrored_two_replicas_take_the_same_step_as_one_device():
    cpus = tf.config.list_logical_devices("CPU")
    if len(cpus) < 2:
        pytest.skip("needs two logical CPU devices (configured in conftest before TF starts)")
    x, y = pairs("prediction", n=4, context_frames=K)
    init, one, h1 = _one_step(tf.distribute.OneDeviceStrategy("/cpu:0"), x, y)
    init2, two, h2 = _one_step(tf.distribute.MirroredStrategy([cpus[0].name, cpus[1].name]), x, y)
    for a, b in zip(init, init2, strict=True):
        np.testing.assert_array_equal(a, b)
    moved = 0
    for a, b, w0 in zip(one, two, init, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
        moved += not np.allclose(a, w0)
    assert moved > len(one) // 2
    for key in h1:
        np.testing.assert_allclose(h1[key], h2[key], rtol=1e-4, atol=1e-5)


TINY = [
    "--preset", "predict_convlstm_moving_mnist", "--frames", "6", "--context-frames", "3",
    "--size", "16", "--depth", "2", "--width", "4", "--batch-size", "4", "--num-samples", "2",
    "--epochs", "1", "--steps-per-epoch", "2", "--quiet",
]  # fmt: skip


def test_training_program_writes_side_by_side_samples_and_evaluation_prints_the_table(
    tmp_path, capsys
):
    from keras_vgan import summaries, video_io
    from training import evaluate_tasks
    from training.cli import main

    assert main([*TINY, "--logdir", str(tmp_path), "--run-name", "p"]) == 0
    (run_dir,) = [str(p) for p in tmp_path.iterdir()]
    gif = video_io.read_gif(os.path.join(run_dir, "samples", "final.gif"), channels=1)
    # 6 frames (context + future); 2 rows x 3 panels (input | prediction | truth) of 16x16.
    assert gif.shape == (6, 2 * 16 + 1, 3 * 16 + 2, 1)
    tags = {tag for _, tag, _ in summaries.read_video_summaries(os.path.join(run_dir, "samples"))}
    assert tags == {"samples/input_prediction_truth"}
    capsys.readouterr()
    assert evaluate_tasks.main(["--run", run_dir, "--clips", "4", "--frames", "5"]) == 0
    out = capsys.readouterr().out
    for word in ("predict_convlstm", "copy_last_frame", "blank", "mse", "ssim", "t+3"):
        assert word in out
    assert evaluate_tasks.main(["--run", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--context-frames", "6"], "context_frames=6 must be in [1, frames=6)"),
        (["--size", "18"], "size=18 must be a multiple of 2**2=4"),
        (["--num-classes", "10"], "num_classes=10 is not supported by task models"),
    ],
)
def test_bad_task_flags_are_one_line_and_exit_2(args, expected, capsys):
    from training.cli import main

    assert main([*TINY, *args]) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1
