"""The video tokenizer (models.vqvae, tokenizer.VideoTokenizer): quantizer known answers,
the EMA codebook and dead-code restarts, training with fit, the tokenizer round trip,
``.keras`` round trips, bad inputs, the evaluation program and export parity."""

import dataclasses
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_vgan.data import moving_mnist
from keras_vgan.metrics.reconstruction import ReconstructionMetrics
from keras_vgan.models.vqvae import VQVAE, VectorQuantizer, code_perplexity, load_tokenizer
from keras_vgan.tokenizer import LOGS, VideoTokenizer, evaluate_tokenizer
from tests.helpers import changed, run_export_test, run_serialization_test, snapshot

FRAMES, SIZE, K = 8, 16, 16
TINY = dict(frames=FRAMES, size=SIZE, channels=1, widths=(8, 16), codebook_size=K,
            embed_dim=8, res_blocks=1, dead_code_steps=4, output_bias=-1.0)  # fmt: skip


def quantizer(codebook, **kwargs):
    """A built ``VectorQuantizer`` whose codebook is ``codebook`` ``[K, D]``."""
    codebook = np.asarray(codebook, "float32")
    layer = VectorQuantizer(codebook.shape[0], codebook.shape[1], **kwargs)
    layer.build((None, codebook.shape[1]))
    layer.codebook.assign(codebook)
    return layer


def digits(n=8, seed=0):
    """``n`` Moving MNIST clips of 8 frames of 16x16."""
    ds = moving_mnist(frames=FRAMES, size=SIZE, num_clips=n, batch_size=n, seed=seed)
    return np.asarray(next(iter(ds)))


# ------------------------------------------------------------------ known answers
def test_quantizer_picks_the_nearest_code_with_a_straight_through_gradient():
    layer = quantizer([[0, 0], [1, 0], [0, 2]])
    z = tf.constant([[0.1, 0.1], [0.9, -0.2], [0.2, 1.5], [0.6, 0.0]])
    weights = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    with tf.GradientTape() as tape:
        tape.watch(z)
        quantized, codes = layer(z)
        total = tf.reduce_sum(weights * quantized)
    np.testing.assert_array_equal(codes, [0, 1, 2, 1])
    np.testing.assert_allclose(quantized, [[0, 0], [1, 0], [0, 2], [1, 0]], atol=1e-6)
    # Straight through: d(sum w * q)/dz is w, as if quantisation were the identity.
    np.testing.assert_allclose(tape.gradient(total, z), weights)
    # Shapes: codes drop the last axis; lookup inverts it.
    grid = tf.random.stateless_normal([2, 3, 4, 2], seed=[1, 2])
    q, c = layer(grid)
    assert c.shape == (2, 3, 4) and c.dtype == tf.int32
    np.testing.assert_allclose(layer.lookup(c), q, atol=1e-6)
    np.testing.assert_allclose(code_perplexity([5, 0, 0]), 1.0)
    np.testing.assert_allclose(code_perplexity([1, 1, 1, 1]), 4.0, rtol=1e-6)


def test_ema_update_of_known_batches_gives_the_known_codebook():
    layer = quantizer([[9, 9], [-9, -9]], decay=0.5, dead_code_steps=100)
    seed = tf.constant([0, 0], tf.int64)
    # Step 1: code 0 gets (1, 0) and (3, 0), code 1 gets (0, 2): counts (2, 1) -> EMA
    # counts (1, 0.5), sums ((2, 0), (0, 1)): each code at the mean of its vectors.
    z = tf.constant([[1.0, 0.0], [3.0, 0.0], [0.0, 2.0]])
    usage = layer.update(z, tf.constant([0, 0, 1]), seed)
    np.testing.assert_allclose(layer.codebook, [[2, 0], [0, 2]], atol=1e-4)
    np.testing.assert_allclose(layer.ema_counts, [1.0, 0.5], atol=1e-6)
    p = np.array([2 / 3, 1 / 3])
    np.testing.assert_allclose(usage["perplexity"], np.exp(-np.sum(p * np.log(p))), rtol=1e-5)
    assert float(usage["used_codes"]) == 1.0 and float(usage["restarted"]) == 0.0
    # Step 2: (4, 0) -> code 0, (0, 4) -> code 1: counts (1, 0.75), sums ((3, 0), (0, 2.5)).
    layer.update(tf.constant([[4.0, 0.0], [0.0, 4.0]]), tf.constant([0, 1]), seed)
    np.testing.assert_allclose(layer.ema_counts, [1.0, 0.75], atol=1e-6)
    np.testing.assert_allclose(layer.codebook, [[3, 0], [0, 2.5 / 0.75]], atol=1e-4)
    np.testing.assert_array_equal(layer.idle_steps, [0, 0])


def test_dead_codes_restart_at_encoder_outputs_of_the_batch():
    layer = quantizer(np.zeros((4, 2)), decay=0.9, dead_code_steps=2)
    z = tf.constant([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0], [2.0, 2.0]])
    everything_to_zero = tf.zeros([5], tf.int32)
    seed = tf.constant([3, 7], tf.int64)
    # The idle counters start at dead_code_steps: the first update restarts every code
    # the batch does not use, each at a distinct vector of the batch.
    usage = layer.update(z, everything_to_zero, seed)
    assert float(usage["restarted"]) == 3 and float(usage["used_codes"]) == 0.25
    revived = np.asarray(layer.codebook)[1:]
    rows = {tuple(r) for r in np.asarray(z)}
    assert {tuple(r) for r in revived} <= rows and len({tuple(r) for r in revived}) == 3
    # The batch now uses the revived codes: at least 3 codes in use instead of 1.
    assert len(np.unique(layer.nearest(z))) >= 3
    # A restarted code idles from 0 again: one unused update later it is still kept...
    np.testing.assert_array_equal(layer.idle_steps, [0, 0, 0, 0])
    assert float(layer.update(z, everything_to_zero, seed)["restarted"]) == 0
    # ... and restarted after dead_code_steps of them.
    assert float(layer.update(z, everything_to_zero, seed)["restarted"]) == 3
    # The draw is a pure function of the seed (a resumed run restarts the same codes).
    again = quantizer(np.zeros((4, 2)), decay=0.9, dead_code_steps=2)
    again.update(z, everything_to_zero, seed)
    np.testing.assert_array_equal(np.asarray(again.codebook)[1:], revived)


@pytest.mark.slow  # suite time; the family stays covered in the default run
def test_two_replicas_update_the_codebook_as_one_device():
    """The statistics and restart candidates are those of the global batch: a step on
    two replicas (each with half the batch) leaves the codebook one device leaves."""
    rng = np.random.default_rng(0)
    z = rng.normal(size=(8, 2)).astype("float32")
    init = rng.normal(size=(6, 2)).astype("float32")
    seed = tf.constant([1, 2], tf.int64)
    one = quantizer(init, decay=0.9, dead_code_steps=1)
    codes = np.asarray(one.nearest(z))
    assert float(one.update(z, codes, seed)["restarted"]) >= 1  # the restarts are compared too
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        two = quantizer(init, decay=0.9, dead_code_steps=1)

    def half(array):
        return strategy.experimental_distribute_values_from_function(
            lambda ctx: array[
                4 * ctx.replica_id_in_sync_group : 4 * ctx.replica_id_in_sync_group + 4
            ]
        )

    step = tf.function(lambda a, b: two.update(a, b, seed))
    strategy.run(step, args=(half(z), half(codes)))
    for a, b in ((one.codebook, two.codebook), (one.ema_counts, two.ema_counts)):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), atol=1e-6)


# ------------------------------------------------------------------ the network
def test_shapes_token_shape_and_bad_inputs():
    net = VQVAE(**TINY)
    x = digits(2)
    codes = net.encode(x)
    assert codes.shape == (2, 4, 4, 4) and codes.dtype == tf.int32
    assert net.token_shape() == (4, 4, 4) and net.token_shape(20, 32) == (10, 8, 8)
    assert net.decode(codes).shape == x.shape and net(x).shape == x.shape
    # Fully convolutional: longer clips (20 frames, as a 10 -> 10 prediction clip) tokenize.
    longer = np.concatenate([x, x[:, :4]], axis=1)[:, :12]
    assert net.encode(longer).shape == (2, 6, 4, 4)
    bad = [
        (lambda: VQVAE(**{**TINY, "frames": 7}), "frames=7 must be a multiple of"),
        (lambda: VQVAE(**{**TINY, "temporal_stride": 3}), "temporal_stride=3 must be a power"),
        (lambda: VQVAE(**{**TINY, "temporal_stride": 8}), "temporal_stride=8 must be a power"),
        (lambda: VQVAE(**{**TINY, "size": 18}), "size=18 must be a multiple of 2\\*\\*2"),
        (lambda: VQVAE(**{**TINY, "codebook_size": 1}), "codebook_size=1 must be an integer"),
        (lambda: VQVAE(**{**TINY, "res_blocks": -1}), "res_blocks=-1 must be an integer"),
        (lambda: VectorQuantizer(8, 4, decay=1.0), "decay=1.0 must be in \\[0, 1\\)"),
        (lambda: net.encode(x[:, :7]), "video has shape \\(2, 7, 16, 16, 1\\)"),
        (lambda: net.encode(np.zeros((2, 8, 16, 16, 3), "float32")), "expected \\[B, T, H, H, 1\\]"),
        (lambda: net.decode(codes[:, 0]), "codes have shape \\(2, 4, 4\\)"),
        (lambda: net.decode(np.asarray(codes, "float32")), "expected integer codes"),
        (lambda: net.decode(np.full((1, 4, 4, 4), K, "int32")), "expected codes in \\[0, 16\\)"),
        (lambda: net.token_shape(15, 16), "15 frames of 16x16 do not tokenize"),
        (lambda: net.quantizer.nearest(np.zeros((3, 5), "float32")), "embed_dim=8"),
    ]  # fmt: skip
    for fn, message in bad:
        with pytest.raises(ValueError, match=message):
            fn()


# ------------------------------------------------------------------ training
STEPS = 40  # per epoch; two epochs


@pytest.fixture(scope="module")
def trained():
    """A tiny tokenizer fitted 2 x 60 steps on fresh Moving MNIST clips: ``(model,
    history, before, x)`` with ``x`` 8 clips it did not train on."""
    keras.utils.set_random_seed(0)
    model = VideoTokenizer(VQVAE(name="generator", **TINY), ema_decay=0.5, seed=3)
    model.compile(g_optimizer=keras.optimizers.Adam(3e-3), commitment_weight=0.25)
    before = snapshot(model.generator.trainable_variables)
    clips = moving_mnist(frames=FRAMES, size=SIZE, num_clips=4 * STEPS, batch_size=4, seed=1)
    history = model.fit(clips.repeat(), epochs=2, steps_per_epoch=STEPS, verbose=0).history
    return model, history, before, digits(8, seed=9)


def test_fit_moves_every_weight_logs_code_usage_and_keeps_the_codes(trained):
    model, history, before, x = trained
    assert set(history) == set(LOGS)
    for name, values in history.items():
        assert np.all(np.isfinite(values)), (name, values)
    moved = changed(before, model.generator.trainable_variables)
    names = [v.path for v in model.generator.trainable_variables]
    assert all(moved), [n for n, m in zip(names, moved, strict=True) if not m]
    assert model.optimizer.iterations.numpy() == 2 * STEPS
    # The logged loss is its two terms (epoch means of a linear combination).
    h = {k: v[-1] for k, v in history.items()}  # the second epoch
    np.testing.assert_allclose(h["loss"], h["reconstruction"] + 0.25 * h["commitment"], rtol=1e-5)
    # Code usage above a floor in every step of the second epoch (restarts keep the
    # codebook in use; without them a fresh VQ-VAE tends to a handful of codes).
    assert h["used_codes"] >= 0.5 and h["perplexity"] >= 4.0, h
    assert h["reconstruction"] < history["reconstruction"][0], history
    # The tokenizer round trip: the codes of its own decoded clips mostly match, well
    # above the agreement of independent draws from the two code frequencies (most
    # codes are background: chance is high; after 80 tiny steps, the 240 CPU-s preset
    # run's figure is in the README).
    codes = np.asarray(model.encode(x))
    again = np.asarray(model.encode(model.decode(codes)))
    p, q = (np.bincount(c.ravel(), minlength=K) / c.size for c in (codes, again))
    match, chance = np.mean(codes == again), np.sum(p * q)
    kappa = (match - chance) / (1 - chance)  # Cohen's: 0 at chance, 1 when all match
    assert match >= 0.5 and kappa >= 0.25, (match, chance)
    # Held-out clips reconstruct better than reconstructing nothing (the background).
    result = evaluate_tokenizer(model, [x])
    blank = ReconstructionMetrics(ssim=True).update(-np.ones_like(x), x).result()
    assert result["psnr"] > blank["psnr"] + 1.0, (result, blank)
    assert 1.0 <= result["perplexity"] <= K and 0 < result["used_codes"] <= 1
    assert result["per_step"]["psnr"].shape == (FRAMES,)


def test_keras_round_trip_and_load_tokenizer(trained, tmp_path):
    model, _, _, x = trained
    loaded = run_serialization_test(model, tmp_path, x)
    for a, b in ((loaded, model), (loaded.generator, model.generator)):
        np.testing.assert_array_equal(a.encode(x), b.encode(x))
    assert loaded.get_compile_config()["commitment_weight"] == 0.25
    path = os.path.join(tmp_path, f"{model.name}.keras")
    net = load_tokenizer(path)
    assert type(net) is VQVAE and net.codebook_size == K
    np.testing.assert_array_equal(net.codebook, model.ema_generator.codebook)
    np.testing.assert_array_equal(net.encode(x), model.encode(x))
    with pytest.raises(ValueError, match="neither a run directory, a checkpoint nor a .keras"):
        load_tokenizer(os.path.join(tmp_path, "missing.keras"))


@pytest.mark.slow  # ~8 s; the program test runs evaluate_tasks too
def test_evaluation_program_scores_a_tokenizer_run(trained, tmp_path, capsys):
    from keras_vgan import presets, runs
    from training import evaluate_tasks

    model, _, _, x = trained
    config = dataclasses.replace(presets.get_preset("vqvae_moving_mnist"), frames=FRAMES,
                                 size=SIZE, codebook_size=K, latent_dim=8)  # fmt: skip
    run = str(tmp_path / "run")
    os.makedirs(run)
    runs.write_config(run, config)
    model.save(os.path.join(run, "model.keras"))
    np.testing.assert_array_equal(load_tokenizer(run).encode(x), model.encode(x))
    assert evaluate_tasks.main(["--run", run, "--clips", "4", "--batch-size", "4"]) == 0
    out = capsys.readouterr().out
    assert "reconstruction: vqvae on moving_mnist (4 held-out clips" in out, out
    assert "codes 4x4x4 of 16" in out and "code perplexity" in out and "\nblank " in out, out


# ------------------------------------------------------------------ export
@pytest.mark.slow  # suite time; the family stays covered in the default run
def test_saved_model_serves_reconstruct_encode_and_decode(trained, tmp_path):
    from keras_vgan.export import export_saved_model

    model, _, _, x = trained
    x = x[:2]
    codes = np.asarray(model.encode(x))
    sigs = tf.saved_model.load(export_saved_model(model, os.path.join(tmp_path, "sm", "1")))
    sigs = sigs.signatures
    for name in ("serving_default", "reconstruct"):
        got = sigs[name](frames=tf.constant(x))["video"]
        np.testing.assert_allclose(got, model.generate(x), atol=1e-5)
    np.testing.assert_array_equal(sigs["encode"](frames=tf.constant(x))["codes"], codes)
    got = sigs["decode"](codes=tf.constant(codes))["video"]
    np.testing.assert_allclose(got, model.decode(codes), atol=1e-5)


@pytest.mark.slow
def test_litert_fp32_serves_reconstruct_encode_and_decode(trained, tmp_path):
    from keras_vgan.export import litert

    model, _, _, x = trained
    x = x[:2]
    codes = np.asarray(model.encode(x))
    # LiteRT fp32 (builtin ops only, run_export_test checks): the same reconstructions,
    # the codes of the same clips (float rounding may flip a near tie), the same decoding.
    run_export_test(model, tmp_path, "fp32", x, 1e-4, endpoint="reconstruct")
    interp = litert.interpreter(os.path.join(tmp_path, "reconstruct.fp32.tflite"))
    lite_codes = interp.get_signature_runner("encode")(frames=x)["codes"]
    assert np.mean(lite_codes == codes) >= 0.99
    lite = interp.get_signature_runner("decode")(codes=codes)["video"]
    np.testing.assert_allclose(lite, model.decode(codes), atol=1e-4)


@pytest.mark.slow
def test_onnx_and_int8_litert(trained, tmp_path):
    import onnxruntime as ort

    from keras_vgan.export import export_litert, export_onnx, litert

    model, _, _, x = trained
    x = x[:2]
    codes = np.asarray(model.encode(x))
    run_export_test(model, tmp_path, "onnx", x, 1e-4, endpoint="reconstruct")
    _, encode, decode = export_onnx(
        model, os.path.join(tmp_path, "tok.onnx"), endpoint_names=["encode", "decode"]
    )
    assert np.mean(ort.InferenceSession(encode).run(None, {"frames": x})[0] == codes) >= 0.99
    video = ort.InferenceSession(decode).run(None, {"codes": codes})[0]
    np.testing.assert_allclose(video, model.decode(codes), atol=1e-4)
    # Full-integer LiteRT: the clip endpoints calibrate on clips, decode on its own
    # uniformly drawn codes; without clips the export names the endpoint that lacks them.
    with pytest.raises(ValueError, match="'serving_default' has no representative data"):
        export_litert(model, os.path.join(tmp_path, "no.int8.tflite"), "int8")
    path = export_litert(model, os.path.join(tmp_path, "tok.int8.tflite"), "int8",
                         representative=[c[None] for c in digits(8, seed=4)])  # fmt: skip
    interp = litert.interpreter(path)
    lite = interp.get_signature_runner("decode")(codes=codes)["video"]
    assert np.mean(np.abs(lite - np.asarray(model.decode(codes)))) < 0.1


# ------------------------------------------------------------------ programs
def _program(*args, timeout=600):
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)  # fmt: skip


@pytest.mark.slow
def test_programs_train_evaluate_and_export_a_tokenizer(tmp_path):
    logdir = str(tmp_path / "runs")
    flags = ("--frames 8 --size 16 --width 8 --codebook-size 16 --latent-dim 8 --batch-size 4 "
             "--epochs 1 --steps-per-epoch 6 --num-samples 2 --quiet").split()  # fmt: skip
    out = _program("training", "--preset", "vqvae_moving_mnist", "--logdir", logdir, *flags)
    assert out.returncode == 0, out.stderr[-2000:]
    (run,) = [os.path.join(logdir, d) for d in os.listdir(logdir)]
    assert os.path.exists(os.path.join(run, "samples", "final.gif"))
    net = load_tokenizer(run)
    assert net.token_shape() == (4, 4, 4) and net.codebook_size == 16
    out = _program("training.evaluate_tasks", "--run", run, "--clips", "8", "--batch-size", "4")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "code perplexity" in out.stdout and "psnr" in out.stdout, out.stdout
    out = _program("export", "--run", run, "--out", str(tmp_path / "exported"),
                   "--format", "saved_model,tflite")  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    # Bad flags: one line naming the value, exit status 2, no traceback.
    out = _program("training", "--preset", "vqvae_moving_mnist", "--temporal-stride", "3",
                   "--logdir", logdir)  # fmt: skip
    assert out.returncode == 2 and "temporal_stride=3" in out.stderr
    assert "Traceback" not in out.stderr
