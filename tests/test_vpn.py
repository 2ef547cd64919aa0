"""The Video Pixel Network (``model="vpn"``) and its engine: the PixelCNN masks, exact
causality, known likelihoods, the sampler (greedy = argmax, the context kept), training,
round trips, overfitting, the programs and export."""

import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_vgan.layers.sampling import uniforms_from_normal
from keras_vgan.models.vpn import (
    VideoPixelNetwork,
    from_levels,
    pixel_mask,
    to_levels,
)
from keras_vgan.pixel_models import VideoPixelModel, pixel_nll
from tests.helpers import changed, pairs, run_serialization_test, snapshot

S, T, K = 8, 4, 2  # 8x8 frames, 4-frame clips, 2 of context
TINY = dict(frames=T, context_frames=K, size=S, width=8, blocks=2)


def net(**kwargs):
    keras.utils.set_random_seed(kwargs.pop("seed", 0))
    return VideoPixelNetwork(name="generator", **{**TINY, **kwargs})


def engine(network, **kwargs):
    model = VideoPixelModel(network, ema_decay=0.5, conditional=network.num_classes > 0, **kwargs)
    model.compile(g_optimizer=keras.optimizers.Adam(3e-3))
    return model


def clips(n=2, frames=T, seed=0):
    """Random uint8 clips as the data path gives them: ``p / 127.5 - 1``."""
    levels = np.random.default_rng(seed).integers(0, 256, (n, frames, S, S, 1))
    return (levels / 127.5 - 1.0).astype("float32")


# ------------------------------------------------------------------ known answers
def test_pixel_masks_have_the_known_pattern():
    np.testing.assert_array_equal(pixel_mask(3, "A"), [[1, 1, 1], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(pixel_mask(3, "B"), [[1, 1, 1], [1, 1, 0], [0, 0, 0]])
    a5 = pixel_mask(5, "A")
    np.testing.assert_array_equal(a5[:2], np.ones((2, 5)))
    np.testing.assert_array_equal(a5[2], [1, 1, 0, 0, 0])
    np.testing.assert_array_equal(a5[3:], np.zeros((2, 5)))
    assert pixel_mask(1, "B").tolist() == [[1.0]] and pixel_mask(1, "A").tolist() == [[0.0]]
    with pytest.raises(ValueError, match="mask_type='C' is not one of A, B"):
        pixel_mask(3, "C")
    with pytest.raises(ValueError, match="kernel_size=4 must be an odd positive integer"):
        pixel_mask(4, "A")


def test_levels_round_trip_exactly_and_normal_cdf_is_phi():
    levels = np.arange(256)
    np.testing.assert_array_equal(to_levels(from_levels(levels)), levels)
    # The data path's floats (uint8 / 127.5 - 1 in float32) quantise back exactly.
    np.testing.assert_array_equal(to_levels((levels / 127.5 - 1).astype("float32")), levels)
    z = np.linspace(-6, 6, 101).astype("float32")
    phi = 0.5 * (1 + np.vectorize(math.erf)(z.astype("float64") / math.sqrt(2)))
    np.testing.assert_allclose(uniforms_from_normal(z), phi, atol=2e-7)  # the sampler's Phi


def test_uniform_model_nll_is_log_256_per_pixel_and_a_peaked_one_its_log_prob():
    model = engine(net())
    head = model.ema_generator.head
    head.kernel.assign(np.zeros(head.kernel.shape, "float32"))
    head.bias.assign(np.zeros(head.bias.shape, "float32"))
    x = clips()
    logs = model.test_step(tf.constant(x))
    np.testing.assert_allclose(float(logs["loss"]), math.log(256), rtol=1e-6)
    np.testing.assert_allclose(float(logs["bits_dim"]), 8.0, rtol=1e-6)
    np.testing.assert_allclose(float(logs["nll_frame"]), S * S * math.log(256), rtol=1e-6)
    np.testing.assert_allclose(model.nll(x, from_frame=K), np.full((2, T - K), S * S * math.log(256)), rtol=1e-6)  # fmt: skip
    # Logits that ignore the input, log p for a fixed p: every pixel's NLL is -log p[value].
    p = np.random.default_rng(1).dirichlet(np.ones(256)).astype("float32")
    head.bias.assign(np.log(p))
    levels = np.asarray(to_levels(x))[..., 0]
    got = pixel_nll(model.ema_generator(x), x)
    np.testing.assert_allclose(got, -np.log(p)[levels], rtol=1e-5)


# ------------------------------------------------------------------ causality
@pytest.mark.parametrize("conditional", [False, True], ids=["unconditional", "class"])
def test_changing_a_pixel_leaves_every_earlier_position_exactly_unchanged(conditional):
    network = net(num_classes=3 if conditional else 0, seed=2)
    labels = np.array([1, 2], "int32") if conditional else None
    x = clips(seed=3)
    base = np.asarray(network(x, labels=labels)).reshape(2, -1, 256)
    for t, y, col in ((0, 0, 0), (1, 3, 5), (2, 7, 0), (3, 4, 7)):
        changed_x = x.copy()
        changed_x[:, t, y, col] = -changed_x[:, t, y, col] + 0.5
        out = np.asarray(network(changed_x, labels=labels)).reshape(2, -1, 256)
        at = (t * S + y) * S + col  # raster position over (frame, row, column)
        # The pixel itself and every earlier one (earlier frames, earlier in its frame).
        np.testing.assert_array_equal(out[:, : at + 1], base[:, : at + 1])
        assert np.abs(out[:, at + 1 :] - base[:, at + 1 :]).max() > 0  # later ones see it
    if conditional:  # the label conditions every frame, the first one included
        other = np.asarray(network(x, labels=labels[::-1])).reshape(2, -1, 256)
        assert np.abs(other[:, 0] - base[:, 0]).max() > 0


# ------------------------------------------------------------------ sampling
def test_greedy_sampling_is_deterministic_and_the_argmax_of_its_own_logits():
    model = engine(net(seed=4))
    x = clips(seed=5)[:, :K]
    a = np.asarray(model.generate(x, top_k=1, seed=1))
    b = np.asarray(model.generate(x, top_k=1, seed=2))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (2, T - K, S, S, 1)
    # Teacher-forced on its own sample, the model's argmax is that sample: pixel by pixel
    # the sampler saw exactly what the training forward pass sees.
    logits = np.asarray(model.ema_generator(np.concatenate([x, a], axis=1)))[:, K:]
    np.testing.assert_array_equal(logits.argmax(-1), np.asarray(to_levels(a))[..., 0])
    # Top-k draws stay among the k most likely values (the full softmax: the next test).
    d = np.asarray(model.generate(x, seed=3, top_k=3, temperature=2.0))
    logits = np.asarray(model.ema_generator(np.concatenate([x, d], axis=1)))[:, K:]
    top3 = np.argsort(-logits, axis=-1)[..., :3]
    assert np.all((top3 == np.asarray(to_levels(d))).any(-1))


def test_generate_uses_noise_context_and_labels_and_checks_its_inputs():
    model = engine(net(num_classes=3, seed=6))
    x = clips(seed=7)[:, :K]
    labels = np.array([0, 2], "int32")
    assert model.latent_dim == T * S * S
    z = np.random.default_rng(0).standard_normal((2, model.latent_dim)).astype("float32")
    video = np.asarray(model.generate(z, labels=labels))
    assert video.shape == (2, T, S, S, 1) and np.all(np.abs(video) <= 1)
    np.testing.assert_array_equal(video, from_levels(to_levels(video)))  # 256 levels
    # Prediction: one sample per (seed, sample), explicit noise gives the same; labels count.
    first = np.asarray(model.generate(x, labels=labels, seed=3, sample=1))
    noise = tf.transpose(
        tf.random.stateless_normal([T - K, 2, S * S], seed=tf.constant([3, 1])), [1, 0, 2]
    )
    np.testing.assert_array_equal(first, model.generate(x, labels=labels, noise=noise))
    assert not np.array_equal(first, model.generate(x, labels=labels[::-1], seed=3, sample=1))
    samples = np.asarray(model.predict_samples(x, 2, seed=3, labels=labels))
    assert samples.shape == (2, 2, T - K, S, S, 1)
    np.testing.assert_array_equal(samples[:, 1], first)
    assert not np.array_equal(samples[:, 0], samples[:, 1])  # the noise draws the values
    longer = model.generate(x, labels=labels, frames=3, top_k=1)  # past the trained horizon
    assert longer.shape == (2, 3, S, S, 1)
    with pytest.raises(ValueError, match="z has shape \\(2, 5\\); expected \\[B, 256\\]"):
        model.generate(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match="context has shape \\(2, 2, 4, 4, 1\\); expected"):
        model.generate(np.zeros((2, 2, 4, 4, 1), "float32"))
    with pytest.raises(ValueError, match="top_k=-1 must be an integer >= 0"):
        model.generate(x, top_k=-1)
    with pytest.raises(ValueError, match="temperature=-1.0 must be a finite number >= 0"):
        model.generate(x, temperature=-1.0)
    with pytest.raises(ValueError, match="frames=3: unconditional clips have the trained 4"):
        model.generate(z, frames=3)
    with pytest.raises(ValueError, match="needs labels in every batch"):
        model.train_step(tf.constant(clips()))
    with pytest.raises(ValueError, match="channels=3: the VPN models greyscale frames"):
        VideoPixelNetwork(channels=3, **TINY)
    with pytest.raises(ValueError, match="context_frames=4 must be < frames=4"):
        VideoPixelNetwork(**{**TINY, "context_frames": 4})
    with pytest.raises(ValueError, match="clips has shape \\(2, 4, 8, 8\\); expected"):
        model.generator(np.zeros((2, 4, 8, 8), "float32"))


# ------------------------------------------------------------------ training
def test_fit_moves_every_weight_logs_finite_nats_and_round_trips(tmp_path):
    x, y = pairs("prediction", n=2, frames=T, context_frames=K)  # 16x16 Moving MNIST
    model = VideoPixelModel(
        VideoPixelNetwork(frames=T, context_frames=K, size=16, width=8, blocks=1, name="generator"),
        ema_decay=0.5,
        top_k=2,
    )
    model.compile(g_optimizer=keras.optimizers.Adam(3e-3))
    before = snapshot(model.generator.trainable_variables)
    history = model.fit(tf.data.Dataset.from_tensors((x, y)).repeat(3), verbose=0).history
    assert set(history) == {"loss", "nll_frame", "bits_dim"}
    assert all(np.isfinite(v).all() for v in history.values())
    moved = changed(before, model.generator.trainable_variables)
    assert all(moved), [v.path for v, m in zip(model.generator.trainable_variables, moved, strict=True) if not m]  # fmt: skip
    logs = model.test_step((tf.constant(x), tf.constant(y)))
    np.testing.assert_allclose(float(logs["nll_frame"]), 256 * float(logs["loss"]), rtol=1e-6)
    np.testing.assert_allclose(float(logs["bits_dim"]), float(logs["loss"]) / math.log(2), rtol=1e-6)  # fmt: skip
    nll = model.held_out_nll([(x, y)])
    np.testing.assert_allclose(nll["nll_frame"], float(np.mean(model.nll(np.concatenate([x, y], 1), from_frame=K))), rtol=1e-5)  # fmt: skip
    loaded = run_serialization_test(model, tmp_path, x)
    assert loaded.top_k == 2 and loaded.get_compile_config() == model.get_compile_config()


@pytest.mark.slow  # ~15 s
def test_overfits_two_clips_below_the_entropy_of_their_pixel_values():
    x, y = pairs("prediction", n=2, frames=T, context_frames=K, seed=3)
    data = np.concatenate([x, y], axis=1)[:, :, 4:12, 4:12]  # 8x8 crops with ink
    model = engine(net(width=16, seed=9))
    start = float(model.test_step(tf.constant(data))["loss"])
    model.fit(tf.data.Dataset.from_tensors(data).repeat(300), verbose=0)
    end = float(pixel_nll(model.generator(data), data).numpy().mean())
    # A model that ignores the frames and pixels before can do no better than the entropy
    # of the values' histogram.
    counts = np.bincount(np.asarray(to_levels(data)).ravel(), minlength=256)
    p = counts[counts > 0] / counts.sum()
    floor = float(-(p * np.log(p)).sum())
    assert end < 0.5 * floor and end < 0.2 * start, (start, end, floor)


# ------------------------------------------------------------------ export, programs
def test_seeded_prediction_is_saved_model_only_a_known_gap():
    from keras_vgan.export import endpoints
    from keras_vgan.export.saved_model import select_endpoints

    model = engine(net())
    eps = endpoints.endpoints_of(model)
    assert {"serving_default", "generate_seeded", "predict", "predict_noise"} <= set(eps)
    assert eps["predict"].formats == ("saved_model",)
    for fmt in ("litert", "onnx"):  # stateless random ops: neither LiteRT nor tf2onnx
        with pytest.raises(ValueError, match=f"unknown endpoint\\(s\\) \\['predict'\\] for {fmt}"):
            select_endpoints(model, fmt, ["predict"])


@pytest.mark.slow  # tracing the nested sampling loops: ~30-90 s per format
@pytest.mark.parametrize("fmt", ["saved_model", "fp32", "onnx"])
def test_exported_prediction_matches_keras(tmp_path, fmt):
    from keras_vgan.export import export_litert, export_onnx, export_saved_model, litert

    model = engine(net(blocks=1, seed=10))
    x = clips(seed=11)[:, :K]
    noise = np.random.default_rng(2).standard_normal((2, T - K, S * S)).astype("float32")
    want = np.asarray(model.generate(x, noise=noise))
    if fmt == "saved_model":
        path = export_saved_model(model, str(tmp_path / "vpn" / "1"), ["predict", "predict_noise"])
        sigs = tf.saved_model.load(path).signatures
        got = sigs["predict_noise"](frames=tf.constant(x), noise=tf.constant(noise))["video"]
        seeded = sigs["predict"](frames=tf.constant(x), seed=tf.constant(5))["video"]
        np.testing.assert_array_equal(seeded, model.generate(x, seed=5))
    elif fmt == "onnx":
        ort = pytest.importorskip("onnxruntime", reason="needs the [onnx] extra")
        _, path = export_onnx(model, str(tmp_path / "vpn.onnx"), ["predict_noise"])
        got = ort.InferenceSession(path).run(None, {"frames": x, "noise": noise})[0]
    else:
        pytest.importorskip("ai_edge_litert", reason="needs ai-edge-litert (in [dev])")
        path = export_litert(model, str(tmp_path / "vpn.tflite"), "fp32", ["predict_noise"])
        interp = litert.interpreter(path)
        ops = litert.op_names(interp)
        assert "WHILE" in ops and not [op for op in ops if op.startswith("Flex")], ops
        got = interp.get_signature_runner("predict_noise")(frames=x, noise=noise)["video"]
    got = np.asarray(got)
    if fmt == "saved_model":
        np.testing.assert_array_equal(got, want)
    else:
        # Another runtime's float rounding may move a uniform across a CDF step: a pixel
        # drawn at the next level (the program's check saw one: 2/255), rarely.
        assert np.mean(got != want) <= 0.02, np.mean(got != want)


PROGRAM = [
    "--frames", "4", "--context-frames", "2", "--size", "16", "--width", "8", "--depth", "1",
    "--batch-size", "2", "--num-samples", "2", "--epochs", "1", "--steps-per-epoch", "2",
    "--quiet",
]  # fmt: skip


@pytest.mark.slow  # ~40 CPU-s: a run, its evaluation and samples
def test_training_evaluation_and_generate_programs(tmp_path, capsys):
    from generate.cli import main as generate_main
    from training import evaluate_tasks
    from training.cli import main as train_main

    logdir = tmp_path / "runs"
    assert train_main(["--preset", "vpn_moving_mnist", *PROGRAM, "--logdir", str(logdir)]) == 0
    (run_dir,) = [str(p) for p in logdir.iterdir()]
    assert os.path.exists(os.path.join(run_dir, "samples", "final.gif"))
    capsys.readouterr()
    assert evaluate_tasks.main(["--run", run_dir, "--clips", "4", "--samples", "2"]) == 0
    out = capsys.readouterr().out
    for word in ("vpn best-of-2", "vpn mean-of-2", "copy_last_frame", "blank", "nats/frame"):
        assert word in out, out
    assert generate_main([run_dir, "--num", "2", "--out", str(tmp_path / "gen")]) == 0
    assert os.path.exists(tmp_path / "gen" / "grid.gif")
    assert train_main(["--preset", "vpn_moving_mnist", *PROGRAM, "--channels", "3"]) == 2
    assert "channels=3" in capsys.readouterr().err
    assert train_main(["--preset", "vpn_moving_mnist", *PROGRAM, "--top-k", "-2"]) == 2
    assert "top_k=-2" in capsys.readouterr().err
