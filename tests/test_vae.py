"""The VAE family (SVG-LP, TD-VAE) and its engine: known answers, shapes, training,
stochastic prediction, round trips, overfitting, the programs and export."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_vgan.data.builtin import DIRECTIONS, builtin_dataset, direction_class
from keras_vgan.metrics.reconstruction import best_of_n, evaluate_stochastic_predictor
from keras_vgan.models.vae import SVGLP, TDVAE, gaussian_kl, gaussian_log_prob
from keras_vgan.variational import VideoVAE, unpack_vae_batch
from tests.helpers import SIZE, changed, mse, pairs, run_serialization_test, snapshot

K, N = 3, 3
TINY = dict(size=SIZE, channels=1, widths=(4, 8), z_dim=4, rnn_size=8)


def svg(**kwargs):
    return SVGLP(K, N, g_dim=8, name="generator", **{**TINY, **kwargs})


def tdvae(**kwargs):
    return TDVAE(K, N, max_jump=3, name="generator", **{**TINY, **kwargs})


def engine(net, seed=0, **compile_kwargs):
    keras.utils.set_random_seed(seed)
    model = VideoVAE(net, ema_decay=0.5, seed=seed, conditional=net.num_classes > 0)
    model.compile(**compile_kwargs)
    return model


# ------------------------------------------------------------------ known answers
def test_gaussian_kl_log_prob_and_best_of_n_known_answers():
    zero, one = np.zeros((1, 3), "float32"), np.ones((1, 3), "float32")
    # KL(N(1, 1) || N(0, 1)) = 1/2 per dimension; KL(N(0, e) || N(0, 1)) = (e - 1 - 1) / 2.
    np.testing.assert_allclose(gaussian_kl(one, zero, zero, zero), [1.5], rtol=1e-6)
    np.testing.assert_allclose(gaussian_kl(zero, one, zero, zero), [1.5 * (np.e - 2)], rtol=1e-6)
    np.testing.assert_allclose(gaussian_kl(one, one, one, one), [0.0], atol=1e-7)
    # log N(0; 0, 1) = -log(2 pi) / 2 per dimension.
    np.testing.assert_allclose(gaussian_log_prob(zero, zero, zero), [-1.5 * np.log(2 * np.pi)])
    # Two samples, two clips, two steps: each metric picks its own best sample per clip.
    values = {
        "mse": np.array([[[1, 3], [5, 5]], [[2, 2], [1, 1]]], float),
        "ssim": np.array([[[0.9, 0.1], [0.2, 0.2]], [[0.4, 0.4], [0.3, 0.5]]]),
    }
    best = best_of_n(values)
    np.testing.assert_array_equal(best["mse"], [[1, 3], [1, 1]])  # ties: the first sample
    np.testing.assert_array_equal(best["ssim"], [[0.9, 0.1], [0.3, 0.5]])


def test_stochastic_metrics_known_answer():
    target = -np.ones((1, 2, 16, 16, 1), "float32")

    def sample(x, s):  # sample 0 misses one pixel in each frame, sample 1 is exact
        out = target.copy()
        if s == 0:
            out[:, :, 0, 0] = 1.0
        return out

    results = evaluate_stochastic_predictor(sample, [(target[:, :1], target)], 2)
    assert results["best"].result()["mse"] == 0.0
    assert results["mean"].result()["mse"] == 0.5  # one full pixel (MSE 1) in half the samples
    assert results["best"].result()["psnr"] == 100.0
    with pytest.raises(ValueError, match="num_samples=0 must be a positive integer"):
        evaluate_stochastic_predictor(sample, [], 0)


def test_direction_labels_known_answer():
    theta = tf.constant([0.0, 0.1, np.pi / 2, np.pi, 2 * np.pi - 1e-4])
    np.testing.assert_array_equal(direction_class(theta), [0, 0, 2, 4, DIRECTIONS - 1])
    ds = builtin_dataset("moving_mnist", frames=3, size=32, num_clips=4, batch_size=4,
                         return_labels="direction")  # fmt: skip
    x, y = next(iter(ds))
    assert x.shape == (4, 3, 32, 32, 1) and y.dtype == tf.int32
    assert np.all((0 <= y.numpy()) & (y.numpy() < DIRECTIONS))
    with pytest.raises(ValueError, match="return_labels='direction' needs 'moving_mnist'"):
        builtin_dataset("shapes", return_labels="direction")


def test_batches_of_every_kind_unpack_to_clips_and_labels():
    x, y = pairs("prediction", n=2, frames=K + N, context_frames=K)
    labels = np.array([1, 2], "int32")
    for batch in ((x, y), {"inputs": x, "targets": y}, np.concatenate([x, y], 1)):
        clips, none = unpack_vae_batch(batch)
        assert clips.shape == (2, K + N, SIZE, SIZE, 1) and none is None
    for batch in ((x, y, labels), (np.concatenate([x, y], 1), labels)):
        clips, got = unpack_vae_batch(batch)
        assert clips.shape[1] == K + N and got is labels
    with pytest.raises(ValueError, match="a VAE batch has 1 to 3 parts, got 4"):
        unpack_vae_batch((x, y, labels, labels))


# ------------------------------------------------------------------ SVG-LP
def test_svg_lp_trains_samples_predicts_stochastically_and_round_trips(tmp_path):
    x, y = pairs("prediction", n=2, frames=K + N, context_frames=K)
    labels = np.array([0, 2], "int32")  # action-conditional: one label per clip
    model = engine(svg(num_classes=3), kl_weight=0.5)
    # Shapes: unconditional clips of the trained length, futures, roll-outs past the horizon.
    assert model.latent_dim == (K + N) * 4
    assert model.generate(num=2, seed=1).shape == (2, K + N, SIZE, SIZE, 1)
    assert model.generate(x, labels=labels).shape == (2, N, SIZE, SIZE, 1)
    longer = np.asarray(model.generate(x, labels=labels, frames=2 * N + 1, seed=3))
    assert longer.shape == (2, 2 * N + 1, SIZE, SIZE, 1) and np.all(np.abs(longer) <= 1)
    np.testing.assert_allclose(longer[:, :N], model.generate(x, labels=labels, seed=3), atol=1e-5)
    with pytest.raises(ValueError, match="expected \\[B, T, 16, 16, 1\\]"):
        model.generate(np.zeros((2, K, 8, 8, 1), "float32"))
    with pytest.raises(ValueError, match="z has shape \\(2, 5\\); expected \\[B, 24\\]"):
        model.generate(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match="needs labels in every batch"):
        model.train_step((tf.constant(x), tf.constant(y)))

    before = snapshot(model.generator.trainable_variables)
    data = tf.data.Dataset.from_tensors((x, y, labels)).repeat(3)
    history = model.fit(data, epochs=1, verbose=0).history
    assert set(history) == {"loss", "reconstruction", "kl"}
    # The ELBO's known answer: the logged loss is reconstruction + beta * KL (beta 0.5).
    logs = model.test_step((tf.constant(x), tf.constant(y), tf.constant(labels)))
    np.testing.assert_allclose(
        float(logs["loss"]), float(logs["reconstruction"]) + 0.5 * float(logs["kl"]), rtol=1e-5
    )
    assert all(np.isfinite(v).all() for v in history.values())
    assert all(changed(before, model.generator.trainable_variables))

    # Stochastic: noise changes the future of one context; one seed repeats it.
    samples = np.asarray(model.predict_samples(x, 3, seed=7, labels=labels, use_ema=False))
    assert samples.shape == (2, 3, N, SIZE, SIZE, 1)
    assert not np.array_equal(samples[:, 0], samples[:, 1])
    again = np.asarray(model.generate(x, labels=labels, seed=7, sample=1, use_ema=False))
    np.testing.assert_array_equal(again, samples[:, 1])
    a = np.asarray(model.generate(x, labels=labels[::-1], seed=7, sample=1, use_ema=False))
    assert not np.array_equal(a, again)  # the label conditions the future
    # The context is kept: the first future frame is the same whatever the noise of the
    # later steps, which change only what follows.
    net = model.generator
    noise = np.random.default_rng(0).standard_normal((2, N, 4)).astype("float32")
    other = noise.copy()
    other[:, 1:] += 1.0
    a, b = (np.asarray(net.rollout(x, n, labels=labels)) for n in (noise, other))
    np.testing.assert_array_equal(a[:, 0], b[:, 0])
    assert not np.array_equal(a[:, 1:], b[:, 1:])

    loaded = run_serialization_test(model, tmp_path, x, labels=labels)
    np.testing.assert_array_equal(
        loaded.predict_samples(x, 2, seed=4, labels=labels),
        model.predict_samples(x, 2, seed=4, labels=labels),
    )
    assert loaded.kl_weight == model.kl_weight and loaded.conditional


# ------------------------------------------------------------------ TD-VAE
def test_tdvae_trains_jumps_and_round_trips(tmp_path):
    x, y = pairs("prediction", n=2, frames=K + N, context_frames=K)
    model = engine(tdvae())
    assert model.latent_dim == (K + N + 1) * 4
    assert model.generate(num=2).shape == (2, K + N, SIZE, SIZE, 1)
    assert model.generate(x, frames=5).shape == (2, 5, SIZE, SIZE, 1)
    net = model.generator
    noise = np.random.default_rng(1).standard_normal((2, 3, 4)).astype("float32")
    jumps = np.asarray(net.jump(x, (1, 3), noise))
    assert jumps.shape == (2, 2, SIZE, SIZE, 1) and mse(jumps[:, 0], jumps[:, 1]) > 0
    with pytest.raises(ValueError, match="jump 4 must be in \\[1, max_jump=3\\]"):
        net.jump(x, (4,), noise)
    before = snapshot(net.trainable_variables)
    clips = np.concatenate([x, y], axis=1)  # plain clips train too
    history = model.fit(tf.data.Dataset.from_tensors(clips).repeat(3), verbose=0).history
    assert np.isfinite(history["loss"]).all() and np.isfinite(history["kl"]).all()
    moved = changed(before, net.trainable_variables)
    assert sum(moved) == len(moved), [
        v.path for v, m in zip(net.trainable_variables, moved, strict=True) if not m
    ]
    s = np.asarray(model.predict_samples(x, 2, seed=0, use_ema=False))
    assert not np.array_equal(s[:, 0], s[:, 1])
    run_serialization_test(model.generator, tmp_path, x)  # the engine's: SVG-LP's test


# ------------------------------------------------------------------ overfitting
@pytest.mark.slow
@pytest.mark.parametrize("make", [svg, tdvae], ids=["svg_lp", "tdvae"])
def test_overfits_a_handful_of_clips(make):
    x, y = pairs("prediction", n=4, frames=K + N, context_frames=K, seed=3)
    clips = np.concatenate([x, y], axis=1)
    model = engine(make(), g_optimizer=keras.optimizers.Adam(3e-3), kl_weight=1e-4)
    eps = tf.zeros((4, model.generator.train_noise_size(K + N)))
    start = model.generator.elbo(tf.constant(clips), eps)
    history = model.fit(tf.data.Dataset.from_tensors(clips).repeat(300), verbose=0).history
    end = model.generator.elbo(tf.constant(clips), eps)
    assert history["loss"][-1] < 0.5 * float(start["reconstruction"])
    # Reconstructions beat the best output that ignores the clip: the per-pixel mean of
    # the frames it reconstructs.
    target = np.asarray(end["target"])
    floor = mse(np.broadcast_to(target.mean(axis=0, keepdims=True), target.shape), target)
    assert float(end["reconstruction"]) < 0.5 * floor, (float(end["reconstruction"]), floor)


# ------------------------------------------------------------------ programs, export
PROGRAM = [
    "--frames", "6", "--context-frames", "3", "--size", "16", "--depth", "2", "--width", "4",
    "--latent-dim", "4", "--rnn-size", "8", "--batch-size", "2", "--num-samples", "2",
    "--epochs", "1", "--steps-per-epoch", "2", "--quiet",
]  # fmt: skip


@pytest.mark.slow  # ~40 CPU-s; the presets build in test_presets_and_export
def test_training_evaluation_generate_and_saved_model_programs(tmp_path, capsys):
    from generate.cli import main as generate_main
    from keras_vgan import summaries
    from keras_vgan.export import export_saved_model
    from keras_vgan.export.load import load_run
    from training import evaluate_tasks
    from training.cli import main as train_main

    logdir = tmp_path / "runs"
    assert train_main(["--preset", "svg_lp_moving_mnist", *PROGRAM, "--logdir", str(logdir)]) == 0
    (run_dir,) = [str(p) for p in logdir.iterdir()]
    assert os.path.exists(os.path.join(run_dir, "samples", "final.gif"))
    tags = {tag for _, tag, _ in summaries.read_video_summaries(os.path.join(run_dir, "samples"))}
    assert tags == {"samples/input_prediction_truth"}
    scalars = summaries.read_scalars(os.path.join(run_dir, "train"))
    for name in ("loss", "reconstruction", "kl"):
        assert any(k.endswith(name) for k in scalars), sorted(scalars)
    capsys.readouterr()
    args = ["--run", run_dir, "--clips", "4", "--samples", "2", "--frames", "5"]
    assert evaluate_tasks.main(args) == 0
    out = capsys.readouterr().out
    for word in ("svg_lp best-of-2", "svg_lp mean-of-2", "copy_last_frame", "ssim", "t+3"):
        assert word in out
    assert generate_main([run_dir, "--num", "2", "--out", str(tmp_path / "gen")]) == 0
    assert os.path.exists(tmp_path / "gen" / "grid.gif")

    model = load_run(run_dir)
    path = export_saved_model(model, str(tmp_path / "sm" / "1"))
    sigs = tf.saved_model.load(path).signatures
    x, _ = pairs("prediction", n=2, frames=6, context_frames=3)
    got = sigs["predict"](frames=tf.constant(x), seed=tf.constant(5))["video"]
    np.testing.assert_allclose(got, model.generate(x, seed=5), atol=1e-5)
    z = np.asarray(model.sample_noise(2, seed=1))
    np.testing.assert_allclose(sigs["serving_default"](z=tf.constant(z))["video"],
                               model.generate(z), atol=1e-5)  # fmt: skip
    assert (
        train_main(["--preset", "svg_lp_action_moving_mnist", *PROGRAM, "--num-classes", "10"]) == 2
    )
    assert "labels='direction' has 8 classes" in capsys.readouterr().err


def spread(model, seed=0):
    """Redraws the EMA network's kernels with variance 1 / fan-in, so that its outputs use
    the range (an untrained DCGAN init gives clips near 0, where formats agree trivially)."""
    rng = np.random.default_rng(seed)
    for v in model.ema_generator.weights:
        if v.path.endswith("kernel") and len(v.shape) >= 2:
            fan_in = int(np.prod(v.shape[:-1]))
            v.assign(rng.normal(0, 1.0 / np.sqrt(fan_in), v.shape).astype("float32"))


def test_seeded_prediction_is_saved_model_only_a_known_gap():
    from keras_vgan.export import endpoints
    from keras_vgan.export.saved_model import select_endpoints

    model = engine(svg())
    eps = endpoints.endpoints_of(model)
    assert {"serving_default", "generate_seeded", "predict", "predict_noise"} <= set(eps)
    assert eps["predict"].formats == ("saved_model",)
    # Stateless random ops are neither LiteRT builtins nor converted by tf2onnx: the seeded
    # endpoint is refused there with a clear error; predict_noise (explicit noise) serves.
    for fmt in ("litert", "onnx"):
        with pytest.raises(ValueError, match=f"unknown endpoint\\(s\\) \\['predict'\\] for {fmt}"):
            select_endpoints(model, fmt, ["predict"])


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["fp32", "onnx"])
def test_predict_noise_in_litert_and_onnx_matches_keras(tmp_path, fmt):
    from keras_vgan.export import export_litert, export_onnx, litert

    model = engine(svg())
    spread(model)
    x, _ = pairs("prediction", n=2, frames=K + N, context_frames=K)
    noise = np.random.default_rng(2).standard_normal((2, N, 4)).astype("float32")
    want = np.asarray(model.generate(x, noise=noise))
    assert want.std() > 0.05
    if fmt == "onnx":
        ort = pytest.importorskip("onnxruntime", reason="needs the [onnx] extra")
        _, path = export_onnx(model, str(tmp_path / "vae.onnx"), ["predict_noise"])
        got = ort.InferenceSession(path).run(None, {"frames": x, "noise": noise})[0]
    else:
        pytest.importorskip("ai_edge_litert", reason="needs ai-edge-litert (in [dev])")
        path = export_litert(model, str(tmp_path / "vae.tflite"), "fp32", ["predict_noise"])
        runner = litert.interpreter(path).get_signature_runner("predict_noise")
        got = runner(frames=x, noise=noise)["video"]
    np.testing.assert_allclose(got, want, atol=1e-4)
