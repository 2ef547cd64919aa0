"""StyleGAN-V: modulated convolution, continuous-time sampling, sparse frames, training,
serialization, export and the training program."""

import dataclasses
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_vgan import builders, presets
from keras_vgan import config as config_lib
from keras_vgan import data as data_lib
from keras_vgan.engine import VideoGAN
from keras_vgan.layers.blocks import minibatch_stddev
from keras_vgan.models import StyleGANVDiscriminator, StyleGANVGenerator
from keras_vgan.models.stylegan_v import modulated_conv2d
from tests.helpers import (
    check_video,
    clips,
    noise,
    run_export_test,
    run_generator_test,
    run_serialization_test,
)
from training.cli import main

FRAMES, SIZE, K = 4, 16, 3
CLASSES = 3


def tiny_generator(num_classes=0, channels=1, frames=FRAMES, **kwargs):
    return StyleGANVGenerator(
        content_dim=8,
        motion_dim=8,
        w_dim=16,
        frames=frames,
        size=SIZE,
        channels=channels,
        widths=(16, 16, 8),
        motion_z_distance=2,
        time_features=8,
        num_classes=num_classes,
        embed_dim=4,
        **kwargs,
    )


def tiny_discriminator(num_classes=0, channels=1, frames=K):
    return StyleGANVDiscriminator(
        frames=frames,
        size=SIZE,
        channels=channels,
        widths=(8, 16, 16),
        mbstd_group=2,
        time_features=4,
        max_distance=FRAMES - 1,
        num_classes=num_classes,
    )


def tiny(num_classes=0, **kwargs):
    return VideoGAN(
        tiny_generator(num_classes),
        tiny_discriminator(num_classes),
        timed=True,
        conditional=num_classes > 0,
        **kwargs,
    )


def sparse_data(n=4, batch=2, labels=None):
    """``(frames, timestamps[, labels])`` batches: K of the frames of random clips."""
    x = clips(n, frames=FRAMES)
    ds = tf.data.Dataset.from_tensor_slices(x if labels is None else (x, labels))
    return data_lib.sparse_frames(ds.batch(batch, drop_remainder=True), K, seed=3)


def spread(net, seed=0):
    """Moves every weight of ``net`` a little (as training would), so that outputs
    depend on all of them."""
    rng = np.random.default_rng(seed)
    for v in net.trainable_variables:
        v.assign(v.numpy() + 0.3 * rng.standard_normal(v.shape).astype("float32"))


# ============================================================== known answers
def reference_modulated_conv(x, kernel, styles, demodulate):
    """The paper's form: one convolution per sample with its own modulated kernel."""
    out = []
    k = kernel.shape[0]
    pad = k // 2
    for b in range(x.shape[0]):
        w = kernel * styles[b][None, None, :, None]
        if demodulate:
            w = w / np.sqrt(np.sum(w**2, axis=(0, 1, 2), keepdims=True) + 1e-8)
        xp = np.pad(x[b], ((pad, pad), (pad, pad), (0, 0)))
        h, wd = x.shape[1], x.shape[2]
        y = np.zeros((h, wd, kernel.shape[-1]))
        for i in range(h):
            for j in range(wd):
                y[i, j] = np.tensordot(xp[i : i + k, j : j + k], w, axes=3)
        out.append(y)
    return np.stack(out)


@pytest.mark.parametrize("demodulate", [True, False])
def test_modulated_conv_equals_the_grouped_per_sample_convolution(demodulate):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 5, 3)).astype("float32")
    kernel = rng.standard_normal((3, 3, 3, 4)).astype("float32")
    styles = rng.uniform(0.2, 2.0, (2, 3)).astype("float32")
    got = modulated_conv2d(x, kernel, styles, demodulate=demodulate).numpy()
    want = reference_modulated_conv(x, kernel, styles, demodulate)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    if demodulate:  # unit-variance weights per output: the output scale forgets the style
        again = modulated_conv2d(x, kernel, 5.0 * styles, demodulate=True).numpy()
        np.testing.assert_allclose(again, got, rtol=1e-4, atol=1e-5)


# ====================================================== continuous-time sampling
def test_generate_at_any_timestamps():
    g = tiny_generator()
    spread(g)
    z = np.random.default_rng(1).standard_normal((2, g.latent_dim)).astype("float32")
    full = g(z).numpy()
    check_video(full, 2)
    assert not np.allclose(full[:, 0], full[:, -1])  # motion
    at = g(z, timestamps=np.tile(np.arange(FRAMES, dtype="float32"), (2, 1)))
    np.testing.assert_allclose(at.numpy(), full, atol=1e-5)  # frames=N is t = 0 .. N-1
    np.testing.assert_array_equal(g(z, timestamps=[0.0, 2.0]), g(z, timestamps=[0.0, 2.0]))
    # Each frame depends on its own time only: any subset, in any order, per clip.
    odd = g(z, timestamps=[[3.0, 1.0], [0.0, 2.0]]).numpy()
    np.testing.assert_allclose(odd[0], full[0, [3, 1]], atol=1e-5)
    np.testing.assert_allclose(odd[1], full[1, [0, 2]], atol=1e-5)
    # Between frames: a new frame, continuous in t.
    half = g(z, timestamps=[1.5, 1.501]).numpy()
    assert not np.allclose(half[:, 0], full[:, 1], atol=1e-3)
    np.testing.assert_allclose(half[:, 0], half[:, 1], atol=2e-2)
    # Beyond the noise's anchors: more codes from motion_seed; the covered frames stay.
    long = g(z, timestamps=[0.0, 1.0, 2.0, 3.0, 40.0], motion_seed=4).numpy()
    np.testing.assert_allclose(long[:, :FRAMES], full, atol=1e-5)
    assert not np.allclose(g(z, timestamps=[40.0], motion_seed=5)[:, 0], long[:, 4])
    check_video(g(z, frames=9).numpy(), 2, frames=9)


def test_bad_inputs_give_one_clear_error():
    g = tiny_generator()
    z = np.zeros((2, g.latent_dim), "float32")
    with pytest.raises(ValueError, match="timestamps must be finite frame times >= 0"):
        g(z, timestamps=[[0.0, -1.0]] * 2)
    with pytest.raises(ValueError, match="timestamps has 3 rows for a batch of 2"):
        g(z, timestamps=np.zeros((3, 2), "float32"))
    with pytest.raises(ValueError, match=r"timestamps has shape \(1, 1, 2\)"):
        g(z, timestamps=np.zeros((1, 1, 2), "float32"))
    with pytest.raises(ValueError, match="pass frames= or timestamps=, not both"):
        g(z, frames=2, timestamps=[0.0])
    with pytest.raises(ValueError, match=f"latent_dim={g.latent_dim}"):
        g(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match="size=24 must be a power of two"):
        StyleGANVGenerator(size=24)
    with pytest.raises(ValueError, match="frames=3, H, W, C"):
        tiny_discriminator()(clips(2))  # 4 frames for a 3-frame judge
    base = dataclasses.replace(presets.get_preset("stylegan_v_quick"), size=16, width=4)
    bad = {
        "sparse_frames=17 must be <= frames=16": dict(sparse_frames=17),
        "max_frame_distance=1 must be >= sparse_frames - 1": dict(max_frame_distance=1),
        "r1_interval=0 must be an integer >= 1": dict(r1_interval=0),
        "sparse_frames=3 needs a model that takes timestamps": dict(model="vgan", d_norm="batch"),
        "max_frame_distance=4 needs sparse_frames > 0": dict(sparse_frames=0, max_frame_distance=4),
        "d_norm='batch' is not one of none": dict(d_norm="batch"),
    }
    for message, fields in bad.items():
        with pytest.raises(ValueError, match=message):
            config_lib.validate_config(dataclasses.replace(base, **fields))


# ============================================================== sparse frames
def _check_sparse_batch(frames, times, window, k=K):
    times = times.numpy()
    assert frames.shape[1] == k and times.shape == (frames.shape[0], k)
    assert np.all(times[:, 0] == 0) and np.all(np.diff(times, axis=1) > 0)  # sorted, distinct
    assert times.max() <= window - 1  # the distance bound


def test_sparse_frames_pick_sorted_frames_within_the_window():
    # Frame i of every clip holds the value i: the picked frames reveal their indices.
    window = 9
    values = np.arange(window, dtype="float32")[None, :, None, None, None]
    x = np.broadcast_to(values, (8, window, 2, 2, 1)) + np.arange(8)[:, None, None, None, None]
    ds = tf.data.Dataset.from_tensor_slices((x, np.arange(8, dtype="int32"))).batch(4)
    batches = list(data_lib.sparse_frames(ds, K, seed=1))
    seen = set()
    for frames, times, labels in batches:
        _check_sparse_batch(frames, times, window)
        first = frames.numpy()[:, 0, 0, 0, 0] - labels.numpy()  # index of the first pick
        np.testing.assert_array_equal(
            frames.numpy()[..., 0, 0, 0], first[:, None] + times.numpy() + labels.numpy()[:, None]
        )
        seen |= {tuple(t) for t in times.numpy()}
    assert len(seen) > 1  # draws differ between clips
    # Counter-based: a stream resumed at batch 1 draws what batch 1 drew.
    resumed = next(iter(data_lib.sparse_frames(ds.skip(1), K, seed=1, start_batch=1)))
    np.testing.assert_array_equal(resumed[1].numpy(), batches[1][1].numpy())
    with pytest.raises(ValueError, match="frames=10 must be <= the clips' 9 frames"):
        data_lib.sparse_frames(ds, 10)


@pytest.mark.parametrize(
    "source", ["moving_mnist", "npy", pytest.param("shapes", marks=pytest.mark.slow)]
)
def test_every_source_gives_sparse_frame_batches(source, tmp_path):
    config = dataclasses.replace(
        presets.get_preset("stylegan_v_quick"), size=16, batch_size=2, max_frame_distance=11
    )
    if source == "npy":  # the Moving MNIST file layout: [T, N, H, W] uint8
        path = str(tmp_path / "mnist_test_seq.npy")
        rng = np.random.default_rng(0)
        np.save(path, rng.integers(0, 255, (20, 3, 16, 16), dtype=np.uint8))
        config = dataclasses.replace(config, data=path)
    elif source == "shapes":
        config = dataclasses.replace(config, data="shapes", channels=3, num_classes=3)
    data = config_lib.validate_config(config)
    batch = next(iter(builders.build_train_dataset(config, data=data)))
    frames, times = batch[0], batch[1]
    assert frames.shape == (2, K, 16, 16, config.channels)
    _check_sparse_batch(frames, times, window=12)
    if config.num_classes:
        assert batch[2].shape == (2,)


# ======================================================= training and round trips
@pytest.fixture(scope="module")
def trained():
    """A tiny class-conditional StyleGAN-V after a few steps of lazy-R1 training."""
    gan = tiny(num_classes=CLASSES, ema_decay=0.9)
    data = sparse_data(labels=np.array([0, 1, 2, 0], "int32"))
    history = run_generator_test(
        gan, data, noise(gan), (2, FRAMES, SIZE, SIZE, 1), labels=np.array([0, 1], "int32"),
        r1_gamma=1.0, r1_interval=2, augment="translation",
    )  # fmt: skip
    return gan, history


def test_training_with_lazy_r1_then_keras_round_trip_at_timestamps(trained, tmp_path):
    gan, history = trained
    assert history["r1"][-1] > 0  # taken at step 0 of the 2
    assert gan.get_compile_config()["r1_interval"] == 2
    times = np.array([[0.0, 2.5, 7.0], [1.0, 2.0, 3.0]], "float32")
    labels = np.array([2, 1], "int32")
    z = noise(gan)
    video = gan.generate(z, labels=labels, timestamps=times).numpy()
    check_video(video, 2, frames=K)
    np.testing.assert_allclose(  # VideoGAN.generate: frames=N is timestamps 0 .. N-1
        gan.generate(z, labels=labels, frames=3).numpy(),
        gan.generate(z, labels=labels, timestamps=np.arange(3, dtype="float32")).numpy(),
        atol=1e-5,
    )
    run_serialization_test(gan, tmp_path, z, video=video, labels=labels, timestamps=times)


def test_lazy_r1_is_taken_every_interval_steps():
    gan = tiny()
    gan.compile(r1_gamma=1.0, r1_interval=3)
    frames, times = next(iter(sparse_data()))
    condition = (None, times)
    values = [float(gan._r1(condition, frames, step)) for step in range(4)]
    assert values[0] > 0 and values[1] == values[2] == 0.0
    np.testing.assert_allclose(values[3], values[0], rtol=1e-6)  # the same real batch


def test_class_conditional_sampling(trained):
    gan, _ = trained
    z = np.repeat(noise(gan, 1), 3, axis=0)
    by_class = gan.generate(z, labels=np.arange(3, dtype="int32")).numpy()
    assert not np.allclose(by_class[0], by_class[1]) and not np.allclose(by_class[1], by_class[2])
    # Without labels, clip i gets class i % num_classes (as every conditional family).
    np.testing.assert_array_equal(gan.generate(z).numpy(), by_class)


# ===================================================================== export
@pytest.fixture(scope="module")
def tiny_config_gan():
    config = dataclasses.replace(
        presets.get_preset("stylegan_v_quick"),
        frames=FRAMES,
        size=SIZE,
        width=4,
        depth=2,
        latent_dim=8,
        max_frame_distance=0,
    )
    gan = builders.build_gan(config)
    spread(gan.ema_generator)
    return gan


def test_saved_model_serves_clips_and_any_timestamps(tiny_config_gan, tmp_path):
    gan = tiny_config_gan
    z = noise(gan, 2)
    run_export_test(gan, tmp_path, "saved_model", z, 1e-5)
    loaded = tf.saved_model.load(str(tmp_path / "gan" / "1"))
    times = np.array([[0.0, 0.5, 9.0], [3.0, 2.0, 1.0]], "float32")
    got = loaded.signatures["generate_timestamps"](z=tf.constant(z), timestamps=times)["video"]
    np.testing.assert_allclose(got.numpy(), gan.generate(z, timestamps=times).numpy(), atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("fmt, tolerance", [("fp32", 1e-4), ("onnx", 1e-4)])
def test_litert_and_onnx_match_keras(tiny_config_gan, tmp_path, fmt, tolerance):
    run_export_test(tiny_config_gan, tmp_path, fmt, noise(tiny_config_gan, 2), tolerance)


# ==================================================================== program
@pytest.mark.slow  # ~25 s; the engine's training of this family runs in the default suite
def test_training_program_runs_two_steps_and_writes_16_frame_samples(tmp_path, capsys):
    code = main([
        "--model", "stylegan_v", "--preset", "stylegan_v_quick", "--size", "16", "--width", "4",
        "--depth", "2", "--latent-dim", "8", "--batch-size", "2", "--num-samples", "2",
        "--epochs", "1", "--steps-per-epoch", "2", "--r1-interval", "2",
        "--logdir", str(tmp_path), "--run-name", "sv", "--quiet",
    ])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    (run_dir,) = [str(p) for p in tmp_path.iterdir()]
    config = json.load(open(os.path.join(run_dir, "config.json")))
    assert config["model"] == "stylegan_v" and config["sparse_frames"] == K
    assert "final.gif" in out
    from keras_vgan import video_io

    gifs = [os.path.join(r, f) for r, _, fs in os.walk(run_dir) for f in fs if f.endswith(".gif")]
    assert gifs
    assert video_io.read_gif(gifs[0]).shape[0] == 16  # consecutive timestamps 0 .. 15


def test_minibatch_stddev_known_answers():
    x = np.array([0.0, 1.0, 2.0, 5.0], "float32").reshape(4, 1, 1, 1)
    # Groups of 2 are samples (0, 2) and (1, 3): standard deviations 1 and 2.
    out = np.asarray(minibatch_stddev(x, 2))
    assert out.shape == (4, 1, 1, 2)
    np.testing.assert_array_equal(out[..., 0], x[..., 0])
    np.testing.assert_allclose(out[:, 0, 0, 1], [1.0, 2.0, 1.0, 2.0], atol=1e-6)
    # A batch that is not a multiple of the group size is one group.
    out = np.asarray(minibatch_stddev(x[:3], 2))
    np.testing.assert_allclose(out[:, 0, 0, 1], np.full(3, np.std([0.0, 1.0, 2.0])), atol=1e-6)
    # The mean over features and positions: a constant batch gives (almost) 0.
    same = np.tile(np.random.default_rng(0).normal(size=(1, 2, 3, 4)), (4, 1, 1, 1))
    out = np.asarray(minibatch_stddev(same.astype("float32"), 4))
    assert out.shape == (4, 2, 3, 5) and np.all(np.abs(out[..., 4]) < 1e-3)
