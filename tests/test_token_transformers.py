"""The token transformers (MaskGIT, VideoGPT) and their engine: sampling known answers,
causality, context kept through decoding, training steps, round trips, bad inputs,
overfitting a tiny token set, the programs and export."""

import dataclasses
import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_vgan import config as config_lib
from keras_vgan import presets
from keras_vgan.layers.sampling import (
    check_sampling,
    sample_categorical,
    uniforms_from_normal,
)
from keras_vgan.layers.transformer import GridPositionEmbedding, TransformerBlock
from keras_vgan.models.maskgit import MaskGITTransformer, mask_schedule
from keras_vgan.models.videogpt import VideoGPTTransformer
from keras_vgan.models.vqvae import VQVAE
from keras_vgan.token_models import TokenModel, token_cross_entropy
from tests.helpers import changed, snapshot, untrained_tokenizer

# The engine's tiny tokenizer: 4 frames of 16x16 -> a (2, 4, 4) grid of 8 codes.
VQ = dict(frames=4, size=16, channels=1, widths=(4, 8), temporal_stride=2, codebook_size=8,
          embed_dim=4, res_blocks=0)  # fmt: skip
NET = dict(dim=16, depth=1, heads=2, frames=4, size=16, context_frames=2)


def tiny_net(cls, grid=(2, 2, 2), vocab=6, **kwargs):
    keras.utils.set_random_seed(1)
    return cls(grid, vocab, **{**NET, **kwargs})


@pytest.fixture(scope="module")
def tokenizer():
    keras.utils.set_random_seed(0)
    return VQVAE(name="tokenizer", **VQ)


def engine(cls, tokenizer, num_classes=0, **kwargs):
    keras.utils.set_random_seed(2)
    net = cls(tokenizer.token_shape(4, 16), VQ["codebook_size"], num_classes=num_classes,
              name="generator", **{**NET, **kwargs})  # fmt: skip
    model = TokenModel(net, tokenizer, ema_decay=0.5, seed=3, conditional=num_classes > 0)
    model.compile(g_optimizer=keras.optimizers.Adam(1e-2))
    return model


def clips(n=4, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 4, 16, 16, 1)).astype("float32")


# ------------------------------------------------------------------ known answers
def test_sampling_known_answers():
    # Eight evenly spaced uniforms through the CDF of (1/2, 1/4, 1/4): exactly 4, 2, 2.
    logits = np.log(np.tile([[0.5, 0.25, 0.25]], (8, 1))).astype("float32")
    u = (np.arange(8) + 0.5) / 8
    np.testing.assert_array_equal(sample_categorical(logits, u), [0, 0, 0, 0, 1, 1, 2, 2])
    # top-2 of (0.5, 0.3, 0.2): renormalised to (5/8, 3/8); class 2 is never drawn.
    logits = np.log(np.tile([[0.2, 0.5, 0.3]], (8, 1))).astype("float32")
    np.testing.assert_array_equal(sample_categorical(logits, u, top_k=2), [1] * 5 + [2] * 3)
    # Temperature 2 flattens (1/2, 1/4, 1/4) to weights sqrt: (0.414, 0.293, 0.293).
    logits = np.log(np.tile([[0.5, 0.25, 0.25]], (1000, 1))).astype("float32")
    u = (np.arange(1000) + 0.5) / 1000
    counts = np.bincount(np.asarray(sample_categorical(logits, u, temperature=2.0)), minlength=3)
    w = np.sqrt([0.5, 0.25, 0.25])
    np.testing.assert_allclose(counts / 1000, w / w.sum(), atol=1.5e-3)
    # top_k=1, temperature 0, and temperature -> 0 are the argmax, whatever the uniforms.
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(64, 16)).astype("float32")
    best = logits.argmax(-1)
    for kwargs in (dict(top_k=1), dict(temperature=0.0), dict(temperature=1e-6)):
        got = sample_categorical(logits, rng.uniform(size=64).astype("float32"), **kwargs)
        np.testing.assert_array_equal(got, best)
    # The normal CDF without erf: Phi(0) = 1/2, Phi(1.96) = 0.975, within 3e-7 throughout.
    z = np.linspace(-6, 6, 241).astype("float32")
    want = [0.5 * math.erfc(-float(v) / math.sqrt(2.0)) for v in z]
    np.testing.assert_allclose(uniforms_from_normal(z), want, atol=3e-7)
    # The schedule: everything masked at 0, nothing at 1, half at 2/3.
    np.testing.assert_allclose(mask_schedule(np.array([0.0, 2 / 3, 1.0])), [1, 0.5, 0], atol=1e-6)
    # Cross-entropy over the weighted positions only: log 2 at a uniform pair, accuracy 1/2.
    logits = np.array([[[0.0, 0.0], [5.0, 0.0], [0.0, 9.0]]], "float32")
    ce, acc = token_cross_entropy(logits, np.array([[0, 1, 1]]), np.array([[1.0, 1.0, 0.0]]))
    np.testing.assert_allclose(ce, (math.log(2) + 5 + math.log1p(math.exp(-5))) / 2, rtol=1e-5)
    assert float(acc) == 0.5  # argmax 0 is right at position 0, wrong at 1
    for bad, match in ((dict(top_k=-1), "top_k=-1"), (dict(temperature=-0.5), "temperature=-0.5"),
                       (dict(top_k=1.5), "top_k=1.5")):  # fmt: skip
        with pytest.raises(ValueError, match=match):
            check_sampling(**bad)


# ------------------------------------------------------------------ VideoGPT
def test_videogpt_is_causal_and_its_cached_sampler_matches_the_full_pass():
    net = tiny_net(VideoGPTTransformer, num_classes=3)
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 6, (3, 8)).astype("int32")
    labels = np.array([0, 1, 2], "int32")
    logits = np.asarray(net(tokens, labels=labels))
    assert logits.shape == (3, 8, 6)
    for t in (0, 3, 7):  # a change at t: logits at positions <= t unchanged, exactly
        other = tokens.copy()
        other[:, t] = (other[:, t] + 1) % 6
        after = np.asarray(net(other, labels=labels))
        np.testing.assert_array_equal(after[:, : t + 1], logits[:, : t + 1])
        if t < 7:
            assert np.abs(after[:, t + 1 :] - logits[:, t + 1 :]).max() > 1e-6
    # The label is the start token: it moves the first position's logits.
    assert np.abs(np.asarray(net(tokens, labels=(labels + 1) % 3))[:, 0] - logits[:, 0]).max() > 0
    # The cached sampler, greedy: every token is the argmax of the full causal pass.
    u = rng.uniform(size=(3, 8)).astype("float32")
    greedy = np.asarray(net.sample(u, labels=labels, top_k=1))
    np.testing.assert_array_equal(greedy, np.asarray(net(greedy, labels=labels)).argmax(-1))
    # Sampled: token i is the inverse-CDF draw of u_i under the full pass's logits at i.
    drawn = np.asarray(net.sample(u, labels=labels, temperature=1.0))
    full = np.asarray(net(drawn, labels=labels))
    np.testing.assert_array_equal(drawn, sample_categorical(full, u))
    # Prediction: the context tokens are written as given.
    context = tokens[:, :4]
    out = np.asarray(net.sample(u, labels=labels, context=context))
    np.testing.assert_array_equal(out[:, :4], context)
    with pytest.raises(ValueError, match="pass labels="):
        net(tokens)
    with pytest.raises(ValueError, match="context tokens has shape \\(3, 4, 1\\)"):
        net.sample(u, labels=labels, context=context[..., None])


# ------------------------------------------------------------------ MaskGIT
def test_maskgit_masks_by_the_cosine_schedule_and_decoding_keeps_the_context():
    net = tiny_net(MaskGITTransformer, decode_steps=3, context_prob=1.0)
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 6, (4, 8)).astype("int32")
    noise = rng.uniform(size=(4, 10)).astype("float32")
    noise[:, 0] = [0.0, 0.5, 0.9, 0.999]
    inputs, weights = (np.asarray(a) for a in net.corrupt(tokens, noise))
    # ceil(cos(pi r / 2) * 8) masked, at least 1: 8, 6, 2, 1; elsewhere the tokens unchanged.
    np.testing.assert_array_equal(weights.sum(1), [8, 6, 2, 1])
    np.testing.assert_array_equal(inputs == net.mask_id, weights == 1)
    np.testing.assert_array_equal(np.where(weights == 0, inputs, -1),
                                  np.where(weights == 0, tokens, -1))  # fmt: skip
    # With context (context_prob 1): the first 4 tokens are never masked, of the other 4:
    # 4, 3, 1, 1.
    _, weights = (np.asarray(a) for a in net.corrupt(tokens, noise, context_tokens=4))
    assert not weights[:, :4].any()
    np.testing.assert_array_equal(weights.sum(1), [4, 3, 1, 1])

    u = rng.uniform(size=(4, net.noise_size)).astype("float32")
    assert net.noise_size == 2 * 3 * 8
    out = np.asarray(net.sample(u))
    assert out.shape == (4, 8) and out.min() >= 0 and out.max() < 6  # no mask id is left
    context = tokens[:, :4]
    out = np.asarray(net.sample(u, context=context, temperature=2.0))
    np.testing.assert_array_equal(out[:, :4], context)
    assert out.max() < 6
    # Bidirectional: a late token moves the early logits (unlike VideoGPT).
    other = tokens.copy()
    other[:, 7] = (other[:, 7] + 1) % 6
    assert np.abs(np.asarray(net(other))[:, 0] - np.asarray(net(tokens))[:, 0]).max() > 0
    # Greedy decoding is a pure function of the logits: the noise does not matter.
    a = net.sample(u, top_k=1)
    b = net.sample(rng.uniform(size=u.shape).astype("float32"), top_k=1)
    np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ the engine
@pytest.mark.parametrize(
    "cls,classes",
    [
        (MaskGITTransformer, 3),
        # ~25 s more; its own parts (causality, the cached sampler) are tested above.
        pytest.param(VideoGPTTransformer, 0, marks=pytest.mark.slow),
    ],
    ids=["maskgit_conditional", "videogpt"],
)
def test_token_models_train_sample_predict_and_round_trip(tokenizer, tmp_path, cls, classes):
    x = clips(4)
    extra = dict(decode_steps=2) if cls is MaskGITTransformer else {}
    model = engine(cls, tokenizer, num_classes=classes, **extra)
    labels = np.array([0, 1, 2, 0], "int32")
    data = (x, labels) if classes else x
    before = snapshot(model.generator.trainable_variables)
    frozen = snapshot(model.tokenizer.weights)
    history = model.fit(tf.data.Dataset.from_tensors(data).repeat(3), verbose=0).history
    assert all(np.isfinite(v).all() for v in history.values()), history
    assert all(changed(before, model.generator.trainable_variables))
    assert not any(changed(frozen, model.tokenizer.weights))  # the tokenizer stays frozen
    if cls is VideoGPTTransformer:  # an exact likelihood: per token and per frame
        assert set(history) == {"loss", "accuracy", "nll_token", "nll_frame"}
        np.testing.assert_allclose(history["nll_frame"], np.array(history["nll_token"]) * 8)
        held_out = model.evaluate(tf.data.Dataset.from_tensors(data), verbose=0, return_dict=True)
        assert np.isfinite(held_out["nll_token"])
    else:  # a masked cross-entropy, no likelihood
        assert set(history) == {"loss", "accuracy"}
    lab = labels[:2] if classes else None
    z = np.asarray(model.sample_noise(2, seed=1))
    video = np.asarray(model.generate(z, labels=lab))
    assert video.shape == (2, 4, 16, 16, 1) and np.abs(video).max() <= 1
    future = np.asarray(model.generate(x[:2, :2], labels=lab, seed=4))
    assert future.shape == (2, 2, 16, 16, 1)
    samples = np.asarray(model.predict_samples(x[:2, :2], 2, seed=4, labels=lab))
    np.testing.assert_array_equal(samples[:, 0], future)  # sample 0 of seed 4
    assert np.abs(samples[:, 1] - future).max() > 0  # sample 1 draws other noise

    path = os.path.join(tmp_path, f"{cls.__name__}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is TokenModel and loaded.get_config() == model.get_config()
    assert loaded.get_compile_config() == model.get_compile_config()
    for net in ("generator", "ema_generator", "tokenizer"):  # every weight, exactly
        for a, b in zip(getattr(loaded, net).weights, getattr(model, net).weights, strict=True):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.generate(z, labels=lab), video)
    np.testing.assert_array_equal(loaded.generate(x[:2, :2], labels=lab, seed=4), future)


def test_bad_inputs_raise_one_clear_value_error(tokenizer, tmp_path):
    model = engine(VideoGPTTransformer, tokenizer)
    with pytest.raises(ValueError, match="z has shape \\(2, 5\\); expected \\[B, 32\\]"):
        model.generate(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match="context has shape \\(2, 3, 16, 16, 1\\)"):
        model.generate(clips(2)[:, :3])
    with pytest.raises(ValueError, match="frames=3: a token model predicts its trained 2"):
        model.generate(clips(2)[:, :2], frames=3)
    with pytest.raises(ValueError, match="temperature=-1"):
        model.generate(num=1, temperature=-1)
    with pytest.raises(ValueError, match="clips has shape \\(4, 4, 8, 8, 1\\)"):
        model.train_step(tf.zeros((4, 4, 8, 8, 1)))
    conditional = engine(MaskGITTransformer, tokenizer, num_classes=3)
    with pytest.raises(ValueError, match="needs labels in every batch"):
        conditional.train_step(tf.constant(clips(2)))
    wrong = VideoGPTTransformer((2, 2, 2), 8, **NET)
    with pytest.raises(ValueError, match="the tokenizer gives a \\(2, 4, 4\\) grid of 8 codes"):
        TokenModel(wrong, tokenizer)
    with pytest.raises(ValueError, match="dim=10 must be a multiple of heads=4"):
        TransformerBlock(10, 4)
    with pytest.raises(ValueError, match="grid=\\(2, 2\\) must be \\(t, h, w\\)"):
        GridPositionEmbedding((2, 2), 4)
    with pytest.raises(ValueError, match="context_frames=1 must be a multiple of 2"):
        VideoGPTTransformer((2, 2, 2), 6, **{**NET, "context_frames": 1})
    # The config's tokenizer: missing, absent, not a tokenizer; one line each.
    base = dataclasses.replace(presets.get_preset("videogpt_moving_mnist"), frames=4, size=16,
                               context_frames=2, width=16, depth=1)  # fmt: skip
    bogus = tmp_path / "bogus.keras"
    bogus.write_text("not a model")
    for value, match in (("", "tokenizer='': the token models need --tokenizer"),
                         (str(tmp_path / "nope"), "does not exist"),
                         (str(bogus), "is not a trained vqvae run")):  # fmt: skip
        with pytest.raises(ValueError, match=match) as info:
            config_lib.validate_config(dataclasses.replace(base, tokenizer=value))
        assert "\n" not in str(info.value)
    good = untrained_tokenizer(tmp_path, **VQ)
    with pytest.raises(ValueError, match="context_frames=1 must be a multiple of 2"):
        config_lib.validate_config(dataclasses.replace(base, tokenizer=good, context_frames=1))
    with pytest.raises(ValueError, match="frames=5, size=16 do not fit tokenizer="):
        config_lib.validate_config(dataclasses.replace(base, tokenizer=good, frames=5))
    with pytest.raises(ValueError, match="width=16 must be a multiple of heads=3"):
        config_lib.validate_config(dataclasses.replace(base, tokenizer=good, heads=3))


def test_training_program_refuses_a_missing_tokenizer_in_one_line(capsys):
    from training.cli import main as train_main

    assert train_main(["--preset", "maskgit_moving_mnist"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--tokenizer" in err and "vqvae_moving_mnist" in err, err


def test_seeded_endpoints_are_saved_model_only_a_known_gap(tokenizer):
    from keras_vgan.export import endpoints
    from keras_vgan.export.saved_model import select_endpoints

    model = engine(MaskGITTransformer, tokenizer, decode_steps=2)
    eps = endpoints.endpoints_of(model)
    # Stateless random ops are neither LiteRT builtins nor ONNX ops: the seeded endpoints
    # are SavedModel only; the noise endpoints (the sampling loop itself) go everywhere.
    assert eps["predict"].formats == ("saved_model",)
    assert eps["generate_seeded"].formats == ("saved_model",)
    assert set(eps["predict_noise"].formats) == {"saved_model", "litert", "onnx"}
    assert eps["predict_noise"].input_signature[1].shape.as_list() == [None, 1, model.latent_dim]
    with pytest.raises(ValueError, match="unknown endpoint\\(s\\) \\['predict'\\] for onnx"):
        select_endpoints(model, "onnx", ["predict"])


# ------------------------------------------------------------------ overfitting
def _overfit(net, tokens, steps, lr=3e-3):
    """Trains ``net`` on ``tokens`` with its own corruption; returns the last loss."""
    opt = keras.optimizers.Adam(lr)

    @tf.function
    def step(noise):
        inputs, weights = net.corrupt(tokens, noise, context_tokens=0)
        with tf.GradientTape() as tape:
            loss, _ = token_cross_entropy(net(inputs, training=True), tokens, weights)
        grads = tape.gradient(loss, net.trainable_variables)
        opt.apply_gradients(zip(grads, net.trainable_variables, strict=True))
        return loss

    size = max(net.corrupt_noise_size, 1)
    for i in range(steps):
        noise = tf.random.stateless_uniform((len(tokens), size), seed=(0, i))
        loss = float(step(noise))
    return loss


@pytest.mark.slow  # ~20 s alone: two nets memorise two sequences
def test_each_model_overfits_a_tiny_token_set():
    # Two sequences of a learnable structure: a ramp and its mirror.
    tokens = tf.constant([[0, 1, 2, 3, 4, 5, 0, 1], [5, 4, 3, 2, 1, 0, 5, 4]], tf.int32)
    gpt = tiny_net(VideoGPTTransformer, dim=32, depth=2, num_classes=0)
    # Memorised: only the first token (0 or 5, one bit) is left to chance, ln 2 / 8 per token.
    assert _overfit(gpt, tokens, 300) < math.log(2.0) / 8 + 0.01
    # Given its first token, greedy sampling writes the rest of its sequence.
    u = np.full((2, 8), 0.5, "float32")
    np.testing.assert_array_equal(gpt.sample(u, context=tokens[:, :1], top_k=1), tokens)
    mask = tiny_net(MaskGITTransformer, dim=32, depth=2, decode_steps=4)
    _overfit(mask, tokens, 800, lr=1e-3)
    # Half the tokens masked (ratio 2/3: cos(pi / 3) = 1/2): any visible token tells the
    # sequences apart, so the masked half is known. (A fully masked clip, a third of the
    # training ratios, cannot be: ln 2 per token, which keeps the training loss up.)
    noise = np.random.default_rng(1).uniform(size=(2, 10)).astype("float32")
    noise[:, 0] = 2 / 3
    inputs, weights = mask.corrupt(tokens, noise)
    assert float(np.asarray(weights).sum()) == 8
    assert float(token_cross_entropy(mask(inputs), tokens, weights)[0]) < 0.1
    # Given the first token, iterative decoding fills in the rest of its sequence.
    u = np.random.default_rng(0).uniform(size=(2, mask.noise_size)).astype("float32")
    np.testing.assert_array_equal(mask.sample(u, context=tokens[:, :1], top_k=1), tokens)


# ------------------------------------------------------------------ programs, export
def spread(net, seed=0):
    """Redraws ``net``'s kernels with standard deviation 3 / sqrt(fan-in) and its codebook
    N(0, 1), so that an untrained tokenizer decodes different codes to clearly different
    clips (its initial decoder draws every code near the same grey)."""
    rng = np.random.default_rng(seed)
    for v in net.weights:
        if v.path.endswith("kernel") and len(v.shape) >= 2:
            fan_in = int(np.prod(v.shape[:-1]))
            v.assign(rng.normal(0, 3.0 / np.sqrt(fan_in), v.shape).astype("float32"))
        elif "codebook" in v.path:
            v.assign(rng.normal(0, 1.0, v.shape).astype("float32"))


PROGRAM = [
    "--frames", "16", "--context-frames", "8", "--size", "16", "--width", "16", "--depth", "1",
    "--heads", "2", "--decode-steps", "2", "--batch-size", "2", "--num-samples", "2",
    "--epochs", "1", "--steps-per-epoch", "2", "--quiet",
]  # fmt: skip


@pytest.mark.slow  # ~40 s alone, minutes on a busy machine: two trainings, evaluation, export x3
def test_programs_train_generate_evaluate_and_export(tmp_path, capsys):
    from generate.cli import main as generate_main
    from keras_vgan.export import export_litert, export_onnx, export_saved_model, litert
    from keras_vgan.export.load import load_run
    from training import evaluate, evaluate_tasks
    from training.cli import main as train_main

    tok = untrained_tokenizer(tmp_path, **VQ)
    for name in ("videogpt", "maskgit"):
        logdir = tmp_path / name
        argv = ["--preset", f"{name}_moving_mnist", "--tokenizer", tok, *PROGRAM]
        assert train_main([*argv, "--logdir", str(logdir)]) == 0
        (run_dir,) = [str(p) for p in logdir.iterdir()]
        assert os.path.exists(os.path.join(run_dir, "samples", "final.gif"))
        capsys.readouterr()
        assert evaluate_tasks.main(["--run", run_dir, "--clips", "2", "--samples", "1"]) == 0
        out = capsys.readouterr().out
        assert f"{name} best-of-1" in out and "copy_last_frame" in out
        if name == "videogpt":
            assert "nats/frame" in out
        assert evaluate.main(["--run", run_dir, "--num-clips", "4", "--batch-size", "4"]) == 0
        assert "offline_fd" in capsys.readouterr().out
        assert generate_main([run_dir, "--num", "2", "--out", str(tmp_path / "gen")]) == 0
        assert os.path.exists(tmp_path / "gen" / "grid.gif")

        model = load_run(run_dir)
        spread(model.tokenizer)  # else an untrained decoder draws every code alike
        z = np.asarray(model.sample_noise(2, seed=1))
        x = np.asarray(model.generate(z))[:, :8]
        want = np.asarray(model.generate(z))
        assert want.std(axis=0).mean() > 0.05  # the clips differ: the parity means something
        sigs = tf.saved_model.load(export_saved_model(model, str(tmp_path / name / "sm" / "1")))
        sigs = sigs.signatures
        np.testing.assert_allclose(sigs["serving_default"](z=tf.constant(z))["video"], want,
                                   atol=1e-5)  # fmt: skip
        got = sigs["predict"](frames=tf.constant(x), seed=tf.constant(5))["video"]
        np.testing.assert_allclose(got, model.generate(x, seed=5), atol=1e-5)
        path = str(tmp_path / f"{name}.tflite")
        export_litert(model, path, "fp32")
        runner = litert.interpreter(path).get_signature_runner("serving_default")
        np.testing.assert_allclose(runner(z=z)["video"], want, atol=1e-4)
        import onnxruntime as ort

        (path,) = export_onnx(model, str(tmp_path / f"{name}.onnx"))
        got = ort.InferenceSession(path).run(None, {"z": z})[0]
        np.testing.assert_allclose(got, want, atol=1e-4)
