"""Video-to-video translation (edges -> digits): the recurrent U-Net and its frame + video
discriminator, round trips, a few steps, overfitting, causality of the recurrence, the
training and evaluation programs (built-in pairs and paired folders), the export endpoint."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_vgan import video_io
from keras_vgan.export import endpoints
from keras_vgan.models.translation import TranslationDiscriminator, TranslationGenerator
from keras_vgan.tasks import VideoTaskGAN, task_baselines
from tests.helpers import SIZE, changed, overfit, pairs, run_serialization_test, snapshot

FRAMES = 4


def task_gan(widths=(4, 8), seed=0):
    keras.utils.set_random_seed(seed)
    g = TranslationGenerator(FRAMES, SIZE, in_channels=1, channels=1, widths=widths)
    d = TranslationDiscriminator(FRAMES, SIZE, in_channels=1, channels=1, widths=(4, 8))
    return VideoTaskGAN(g, d, condition="channels", ema_decay=0.5)


def test_shapes_heads_and_bad_input():
    g = TranslationGenerator(FRAMES, SIZE, in_channels=3, channels=1, widths=(4, 8))
    source = np.random.default_rng(0).uniform(-1, 1, (2, 7, SIZE, SIZE, 3)).astype("float32")
    out = np.asarray(g(source))  # any clip length, 3 -> 1 channels
    assert out.shape == (2, 7, SIZE, SIZE, 1) and np.all(np.abs(out) <= 1)
    assert endpoints.task_endpoint_name(g) == "translate"
    assert endpoints.task_input_shape(g) == (FRAMES, SIZE, SIZE, 3)
    d = TranslationDiscriminator(FRAMES, SIZE, in_channels=3, channels=1, widths=(4, 8))
    heads = d(np.concatenate([source[:, :FRAMES], out[:, :FRAMES]], axis=-1))
    # 2D PatchGAN: 4x4 patches per frame, 4 frames; 3D: 2 frames x 4x4 patches.
    assert heads["frame"].shape == (2, FRAMES * 16) and heads["video"].shape == (2, 2 * 16)
    with pytest.raises(ValueError, match=r"expected \[B, T, 16, 16, 3\]"):
        g(source[..., :1])
    with pytest.raises(ValueError, match="must be a multiple of 2\\*\\*2=4"):
        TranslationGenerator(FRAMES, 18, widths=(4, 8))


def test_recurrence_is_causal_and_feeds_back_its_own_frames():
    g = TranslationGenerator(FRAMES, SIZE, widths=(4, 8))
    x, _ = pairs("translation", n=2, frames=FRAMES)
    base = np.asarray(g(x))
    early, late = x.copy(), x.copy()
    early[:, 0] = -early[:, 0]
    late[:, 2] = -late[:, 2]
    out_early, out_late = np.asarray(g(early)), np.asarray(g(late))
    # Source frame 0 reaches output frame 2 only through output frames 0 and 1.
    assert np.abs(out_early[:, 2] - base[:, 2]).max() > 1e-6
    np.testing.assert_array_equal(out_late[:, :2], base[:, :2])  # nothing flows back in time
    assert np.abs(out_late[:, 2] - base[:, 2]).max() > 1e-6


def test_round_trip_and_a_few_steps_move_both_heads(tmp_path):
    gan = task_gan()
    gan.compile(temporal_weight=1.0)
    x, y = pairs("translation", n=2, frames=FRAMES)
    g0 = snapshot(gan.generator.trainable_variables)
    d0 = snapshot(gan.discriminator.trainable_variables)
    history = gan.fit(tf.data.Dataset.from_tensors((x, y)).repeat(2), verbose=0).history
    assert {"d_loss", "g_loss", "l1", "temporal"} <= set(history)
    assert all(np.all(np.isfinite(v)) for v in history.values())
    assert all(changed(g0, gan.generator.trainable_variables))
    # Both the frame and the video head of the discriminator learn.
    d = gan.discriminator
    moved = {id(v) for v, m in zip(d.trainable_variables, changed(d0, d.trainable_variables),
                                   strict=True) if m}  # fmt: skip
    video = {id(v) for v in d.video.trainable_variables}
    frame = {id(v) for v in d.frame_head.trainable_variables}
    assert moved == {id(v) for v in d.trainable_variables} and video and frame <= moved
    loaded = run_serialization_test(gan, tmp_path, x)
    assert loaded.get_compile_config()["temporal_weight"] == 1.0


@pytest.mark.slow  # suite time; the family stays covered in the default run
def test_overfits_a_handful_of_clips_and_beats_the_identity_baseline():
    keras.utils.set_random_seed(0)
    x, y = pairs("translation", n=4, frames=FRAMES)
    gan = task_gan(widths=(8, 16))
    _, before, after, floor = overfit(
        gan,
        x,
        y,
        steps=120,
        g_optimizer=keras.optimizers.Adam(3e-3),
        temporal_weight=1.0,
    )
    identity = float(np.mean((np.asarray(task_baselines("translation")["identity"](x)) - y) ** 2))
    assert after < 0.2 * before, (after, before)
    assert after < 0.5 * floor, (after, floor)  # it reads the edges: below any input-blind output
    assert after < 0.5 * identity, (after, identity)


TINY = [
    "--preset", "translate_edges_moving_mnist", "--frames", str(FRAMES), "--size", "16",
    "--depth", "2", "--width", "4", "--batch-size", "2", "--num-samples", "2", "--epochs", "1",
    "--steps-per-epoch", "2", "--quiet",
]  # fmt: skip


@pytest.mark.slow  # the paired-folder program run below keeps the program path in the default run
def test_training_program_trains_the_preset_and_evaluation_prints_the_table(tmp_path, capsys):
    from keras_vgan import presets, runs
    from training import evaluate_tasks
    from training.cli import main

    config = presets.get_preset("translate_edges_moving_mnist")
    assert config.temporal_weight > 0 and config.family.task == "translation"
    assert main([*TINY, "--logdir", str(tmp_path), "--run-name", "t"]) == 0
    (run_dir,) = [str(p) for p in tmp_path.iterdir()]
    assert runs.load_run_config(run_dir).model == "translate"
    gif = video_io.read_gif(os.path.join(run_dir, "samples", "final.gif"), channels=1)
    assert gif.shape == (FRAMES, 2 * 16 + 1, 3 * 16 + 2, 1)  # input | output | truth
    capsys.readouterr()
    assert evaluate_tasks.main(["--run", run_dir, "--clips", "4"]) == 0
    out = capsys.readouterr().out
    for word in ("translation: translate", "identity", "mse", "ssim", "t+3"):
        assert word in out, out


@pytest.mark.slow  # suite time; the family stays covered in the default run
def test_training_program_reads_paired_folders(tmp_path):
    from keras_vgan import runs
    from training.cli import main

    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        video = rng.integers(0, 256, (6, 16, 16, 1), dtype=np.uint8)
        for folder, v in (("inputs", 255 - video), ("targets", video)):
            os.makedirs(tmp_path / "pairs" / folder / name)
            for t, frame in enumerate(v):
                video_io.write_png(str(tmp_path / "pairs" / folder / name / f"{t:04d}.png"), frame)
    args = [*TINY, "--data", str(tmp_path / "pairs"), "--logdir", str(tmp_path / "logs")]
    assert main([*args, "--steps-per-epoch", "1"]) == 0
    (run_dir,) = [str(p) for p in (tmp_path / "logs").iterdir()]
    assert runs.load_run_config(run_dir).data == str(tmp_path / "pairs")
    model = keras.saving.load_model(os.path.join(run_dir, "model.keras"))
    assert isinstance(model, VideoTaskGAN) and model.condition == "channels"


def test_saved_model_has_a_translate_signature_equal_to_keras(tmp_path):
    from keras_vgan.export import export_saved_model

    model = task_gan()
    assert set(endpoints.endpoints_of(model)) == {"serving_default", "translate"}
    path = export_saved_model(model, str(tmp_path / "t" / "1"))
    source = np.random.default_rng(0).uniform(-1, 1, (2, FRAMES, SIZE, SIZE, 1)).astype("float32")
    out = tf.saved_model.load(path).signatures["translate"](frames=tf.constant(source))["video"]
    np.testing.assert_allclose(out.numpy(), np.asarray(model.generate(source)), atol=1e-5)
