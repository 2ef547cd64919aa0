"""SimVP (gSTA) and TAU predictors: shapes and roll-out, TAU's differential divergence
(known answers), the reconstruction-only step, round trips, overfitting, the learning-rate
schedules and their validation, presets and export."""

import dataclasses
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_vgan import builders, losses, presets, registry
from keras_vgan.config import validate_config
from keras_vgan.layers import ClipDiscriminator
from keras_vgan.models.simvp import (
    SimVPFlowPredictor,
    SimVPPredictor,
    TAUPredictor,
    TranslatorBlock,
)
from keras_vgan.tasks import VideoTaskGAN
from tests.helpers import SIZE, changed, overfit, pairs, run_serialization_test, snapshot

K, N = 3, 3
TINY = dict(size=SIZE, channels=1, hid_s=4, hid_t=8, n_s=2, n_t=2, kernel_size=7)


def predictor(cls=SimVPPredictor, k=K, n=N, **kwargs):
    return cls(k, n, **{**TINY, **kwargs})


def task_gan(cls=SimVPPredictor, seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    d = ClipDiscriminator(frames=K + N, size=SIZE, channels=1, widths=(4, 8))
    return VideoTaskGAN(predictor(cls, **kwargs), d, condition="time", ema_decay=0.5)


# ------------------------------------------------------------------ networks
@pytest.mark.parametrize("cls", [SimVPPredictor, SimVPFlowPredictor, TAUPredictor])
def test_shapes_and_roll_out_feed_predictions_back(cls):
    g = predictor(cls)
    x, _ = pairs("prediction", n=2, context_frames=K)
    y = np.asarray(g(x))
    assert y.shape == (2, N, SIZE, SIZE, 1) and np.all(np.abs(y) <= 1)
    longer = np.asarray(g(x, frames=2 * N + 1))  # beyond the trained horizon
    assert longer.shape == (2, 2 * N + 1, SIZE, SIZE, 1)
    np.testing.assert_allclose(longer[:, :N], y, atol=1e-6)
    # The second pass reads the last K frames of context + predictions.
    again = np.asarray(g(np.concatenate([x, y], axis=1)[:, -K:]))
    np.testing.assert_allclose(longer[:, N : 2 * N], again, atol=1e-5)
    # K != N: the decoder's skip is the last context frame's.
    assert predictor(cls, k=2, n=4)(x[:, :2]).shape == (2, 4, SIZE, SIZE, 1)


def test_bad_arguments_are_one_line_errors():
    g = predictor()
    x, _ = pairs("prediction", n=1, context_frames=K)
    cases = [
        (lambda: g(np.zeros((1, K, 8, 8, 1), "float32")), "expected \\[B, K, 16, 16, 1\\]"),
        (lambda: g(x[:, :2]), "context has 2 frames; this SimVPPredictor reads context_frames=3"),
        (lambda: g(x, frames=0), "frames=0 must be a positive integer"),
        (lambda: predictor(hid_s=5), "hid_s=5 must be even"),
        (lambda: predictor(n_t=1), "n_t=1 must be an integer >= 2"),
        (lambda: predictor(translator="lstm"), "translator='lstm' is not one of gsta, tau"),
        (lambda: predictor(TAUPredictor, translator="gsta"), "translator is 'tau'"),
        (lambda: predictor(head="voxels"), "head='voxels' is not one of pixels, flow"),
        (lambda: predictor(SimVPFlowPredictor, head="pixels"), "head is 'flow'"),
        (lambda: predictor(motion_prior="x"), "motion_prior='x' is not one of none, spynet"),
        (lambda: predictor(motion_prior="spynet"), "motion_prior='spynet' needs head='flow'"),
        (
            lambda: predictor(SimVPFlowPredictor, k=1, motion_prior="spynet"),
            "needs context_frames >= 2",
        ),
        (lambda: predictor(size=18, n_s=4), "size=18 must be a multiple of 2\\*\\*2=4"),
        (lambda: TranslatorBlock(8, kind="x"), "kind='x' is not one of gsta, tau"),
    ]
    for fn, message in cases:
        with pytest.raises(ValueError, match=message):
            fn()


def _set_readout(g, bias):
    """The read-out of ``g`` fixed to ``bias`` everywhere (zero weights)."""
    kernel, b = g.readout.weights
    kernel.assign(np.zeros(kernel.shape, "float32"))
    b.assign(np.asarray(bias, "float32"))


def test_flow_head_warps_the_last_frame_along_the_chained_motion():
    """Known answers: the flow head's frame j is the last context frame moved by j steps."""
    g = predictor(SimVPFlowPredictor, motion_prior="none")
    assert g.readout.filters == 4  # dx, dy, mask logit, pixels
    x, _ = pairs("prediction", n=2, context_frames=K)
    x = np.asarray(x)
    last = x[:, -1]
    # At initialisation: no motion, an even blend of the last frame and the background.
    want = np.repeat(0.5 * last[:, None] - 0.5, N, axis=1)
    np.testing.assert_allclose(np.asarray(g(x)), want, atol=2e-2)
    # Every step reads one pixel to the left (dx = -1) with the mask fully on the warp:
    # frame j is the last frame shifted right by j pixels (the left edge repeats).
    _set_readout(g, [-1.0, 0.0, 50.0, -1.0])
    y = np.asarray(g(x))
    for j in range(N):
        shift = j + 1
        moved = np.concatenate([np.repeat(last[:, :, :1], shift, 2), last[:, :, :-shift]], 2)
        np.testing.assert_allclose(y[:, j], moved, atol=1e-5, err_msg=f"step {j}")
    # Half a pixel per step: two steps make one whole pixel (chained, not re-blurred).
    _set_readout(g, [0.0, -0.5, 50.0, -1.0])
    y = np.asarray(g(x))
    down = np.concatenate([last[:, :1], last[:, :-1]], axis=1)
    np.testing.assert_allclose(y[:, 1], down, atol=1e-5)
    np.testing.assert_allclose(y[:, 0], 0.5 * (last + down), atol=1e-5)
    # The mask fully on the pixels: the background level, whatever the motion.
    _set_readout(g, [3.0, 2.0, -50.0, -1.0])
    np.testing.assert_allclose(np.asarray(g(x)), np.full((2, N) + last.shape[1:], -1.0), atol=1e-6)


def test_flow_heads_motion_prior_carries_the_last_steps_motion_on():
    """With no correction from the read-out, the prior alone predicts constant velocity: a
    blob moving 2 pixels per frame goes on moving (the frozen, shipped SPyNet's flow)."""
    size = 32
    yy, xx = np.mgrid[:size, :size]

    def blob(cx):
        return (2 * np.exp(-((xx - cx) ** 2 + (yy - 14) ** 2) / 8.0) - 1).astype("float32")

    clip = np.stack([blob(8 + 2 * t) for t in range(5)])[None, ..., None]  # 3 + 2 frames
    assert predictor(SimVPFlowPredictor).motion_prior == "none"  # the default
    g = predictor(SimVPFlowPredictor, k=3, n=2, size=size, motion_prior="spynet")
    assert g.motion_prior == "spynet" and not g.flow_net.trainable
    assert all(not v.trainable for v in g.flow_net.weights)
    _set_readout(g, [0.0, 0.0, 50.0, -1.0])  # the warp alone, no residual motion
    y = np.asarray(g(clip[:, :3]))
    for j in range(2):
        error = np.abs(y[0, j] - clip[0, 3 + j]).mean()
        still = np.abs(clip[0, 2] - clip[0, 3 + j]).mean()
        assert error < 0.5 * still, (j, error, still)  # copy-last scores 1.0 * still


def test_flow_head_trains_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    g = predictor(SimVPFlowPredictor, motion_prior="spynet")
    gan = VideoTaskGAN(g, ClipDiscriminator(K + N, SIZE, 1, (4, 8)), "time", ema_decay=0.5)
    gan.compile(adv_weight=0.0, l1_weight=1.0, l2_weight=0.3)
    x, y = pairs("prediction", n=4, context_frames=K)
    g0 = snapshot(gan.generator.trainable_variables)
    history = gan.fit(tf.data.Dataset.from_tensors((x, y)).repeat(3), verbose=0).history
    assert all(np.isfinite(v).all() for v in history.values())
    moved = changed(g0, gan.generator.trainable_variables)
    assert sum(moved) > 0.9 * len(moved)
    loaded = run_serialization_test(gan, tmp_path, x[:2])
    assert type(loaded.generator) is SimVPFlowPredictor and loaded.generator.head == "flow"
    assert loaded.generator.motion_prior == "spynet"
    np.testing.assert_array_equal(
        np.asarray(loaded.generate(x[:2], frames=5)), np.asarray(gan.generate(x[:2], frames=5))
    )


def test_tau_block_is_static_times_dynamic_attention_and_gsta_is_gated():
    """The two translators differ only in the attention; TAU's SE weights are used."""
    x = tf.random.stateless_normal((2, 4, 4, 8), seed=(1, 2))
    tau = TranslatorBlock(8, 12, kind="tau", kernel_size=7)
    gsta = TranslatorBlock(8, 12, kind="gsta", kernel_size=7)
    assert tau(x).shape == gsta(x).shape == (2, 4, 4, 12)
    assert tau.conv1.filters == 8 and gsta.conv1.filters == 16  # gsta: value and gate
    before = np.asarray(tau(x))
    tau.se_2.kernel.assign(tf.zeros_like(tau.se_2.kernel))  # SE gate -> 0.5 everywhere
    assert not np.allclose(before, np.asarray(tau(x)))


# ---------------------------------------------------------- the divergence loss
def test_differential_divergence_known_answers():
    # Two pixels, three frames: the target's second pixel brightens by 0.1 once.
    y = np.zeros((1, 3, 1, 2, 1), "float32")
    y[:, 1:, 0, 1] = 0.1
    p = np.zeros_like(y)  # a still prediction: uniform softmax over both axes
    # One of the four (difference, pixel) softmax rows differs from uniform: the KL of
    # (1/2, 1/2) against softmax(0, 1) = (1, e) / (1 + e) is ln((1 + e) / 2) - 1/2; the
    # loss is its mean over 2 x 2 elements.
    expected = (math.log((1 + math.e) / 2) - 0.5) / 4
    for over in ("pixels", "time"):
        got = float(losses.differential_divergence(p, y, tau=0.1, over=over))
        assert got == pytest.approx(expected, rel=1e-5), over
    # Zero for matching motion, motion offset by a constant per difference frame, and
    # clips of two frames.
    assert float(losses.differential_divergence(y, y)) == pytest.approx(0.0, abs=1e-7)
    shifted = y + np.arange(3, dtype="float32")[None, :, None, None, None]
    assert float(losses.differential_divergence(shifted, y)) == pytest.approx(0.0, abs=1e-6)
    assert float(losses.differential_divergence(p[:, :2], y[:, :2])) == 0.0
    # OpenSTL's diff_div_reg (epsilon form) on random clips, written out in numpy.
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0, 1, (2, 2, 5, 4, 4, 1)).astype("float32")
    da, db = (np.diff(v, axis=1).reshape(2, 4, -1) / 0.1 for v in (a, b))
    sa, sb = (np.exp(d) / np.exp(d).sum(-1, keepdims=True) for d in (da, db))
    reference = np.mean(sa * np.log(sa / (sb + 1e-12) + 1e-12))
    assert float(losses.differential_divergence(a, b)) == pytest.approx(reference, rel=1e-4)
    for kwargs, message in [
        (dict(over="space"), "over='space' is not one of pixels, time"),
        (dict(tau=0.0), "tau=0.0 must be > 0"),
    ]:
        with pytest.raises(ValueError, match=message):
            losses.differential_divergence(p, y, **kwargs)
    with pytest.raises(ValueError, match="must be clips of the same shape"):
        losses.differential_divergence(p[0], y[0])


def test_ssim_loss_known_answers():
    # Clips in [-1, 1], scored on [0, 1]. Constant frames have no variance: SSIM is the
    # luminance term alone, (2 a b + C1) / (a^2 + b^2 + C1), C1 = (0.01 * max_val)^2,
    # with a, b the frames' values on [0, 1].
    c1 = 1e-4
    shape = (2, 3, 16, 16, 1)
    black = np.full(shape, -1.0, "float32")

    def clip(v01):
        return np.full(shape, 2 * v01 - 1, "float32")

    for a, b in [(0.5, 0.0), (0.01, 0.0), (0.3, 0.6)]:
        expected = 1 - (2 * a * b + c1) / (a * a + b * b + c1)
        got = float(losses.ssim_loss(clip(a), clip(b)))
        assert got == pytest.approx(expected, rel=1e-3), (a, b)
    # A 1% haze on black halves the SSIM (loss 0.5) at a squared error of only 1e-4.
    assert float(losses.ssim_loss(clip(0.01), black)) == pytest.approx(0.5, rel=1e-3)
    rng = np.random.default_rng(0)
    y = rng.uniform(-1, 1, shape).astype("float32")
    assert float(losses.ssim_loss(y, y)) == pytest.approx(0.0, abs=1e-6)
    # The mean over frames of tf.image.ssim on [0, 1], the metric the tables report.
    p = np.clip(y + rng.normal(0, 0.2, shape), -1, 1).astype("float32")
    frames = (-1, 16, 16, 1)
    p01, y01 = ((v.reshape(frames) + 1) / 2 for v in (p, y))
    reference = 1 - np.mean(tf.image.ssim(p01, y01, max_val=1.0))
    assert float(losses.ssim_loss(p, y)) == pytest.approx(float(reference), rel=1e-5)
    with pytest.raises(ValueError, match="must be clips of the same shape"):
        losses.ssim_loss(p[0], y[0])
    with pytest.raises(ValueError, match="at least 11x11"):
        losses.ssim_loss(p[:, :, :8, :8], y[:, :, :8, :8])


# ------------------------------------------------------------------- training
def test_reconstruction_alone_skips_the_discriminator_and_round_trips(tmp_path):
    gan = task_gan(TAUPredictor, seed=1)
    gan.compile(adv_weight=0.0, l1_weight=0.0, l2_weight=1.0, dd_weight=0.1, ssim_weight=0.5)
    x, y = pairs("prediction", n=4, context_frames=K)
    g0, d0 = snapshot(gan.generator.trainable_variables), snapshot(gan.discriminator.weights)
    history = gan.fit(tf.data.Dataset.from_tensors((x, y)).repeat(3), verbose=0).history
    assert set(history) == {"l1", "l2", "dd", "ssim_loss"}
    assert all(np.isfinite(v).all() and v[-1] > 0 for v in history.values())
    moved = changed(g0, gan.generator.trainable_variables)
    assert sum(moved) > 0.9 * len(moved)  # (all of them: the overfit test's 120 steps)
    assert not any(changed(d0, gan.discriminator.weights))  # neither run nor trained
    assert int(gan.d_optimizer.iterations) == 0 and int(gan.g_optimizer.iterations) == 3
    # The trained engine survives a .keras round trip: outputs, compile settings, roll-out.
    loaded = run_serialization_test(gan, tmp_path, x[:2])
    assert loaded.get_compile_config()["dd_weight"] == 0.1
    assert loaded.get_compile_config()["ssim_weight"] == 0.5
    np.testing.assert_array_equal(
        np.asarray(loaded.generate(x[:2], frames=5)), np.asarray(gan.generate(x[:2], frames=5))
    )


@pytest.mark.parametrize(
    "cls,dd_weight",
    # Both slow (12 s each): the predictor contracts of the default run are the
    # reconstruction-only step, round trip, roll-out and export tests above and below.
    [
        pytest.param(SimVPPredictor, 0.0, marks=pytest.mark.slow),
        pytest.param(TAUPredictor, 0.1, marks=pytest.mark.slow),
        pytest.param(SimVPFlowPredictor, 0.0, marks=pytest.mark.slow),
    ],
)
def test_overfits_a_handful_of_clips_below_what_ignoring_the_context_allows(cls, dd_weight):
    keras.utils.set_random_seed(0)
    g = predictor(cls, hid_s=8, hid_t=16)
    gan = VideoTaskGAN(g, ClipDiscriminator(K + N, SIZE, 1, (4, 8)), "time", ema_decay=0.5)
    x, y = pairs("prediction", n=4, context_frames=K)
    history, before, after, floor = overfit(
        gan,
        x,
        y,
        steps=120,
        g_optimizer=keras.optimizers.Adam(3e-3),
        l1_weight=0.0,
        l2_weight=1.0,
        dd_weight=dd_weight,
    )  # with the adversarial term: run_generator_test checks every weight of both moves
    assert after < 0.2 * before, (after, before)
    assert after < 0.8 * floor, (after, floor)  # it uses the context: conditioning is wired
    assert set(history) >= {"d_loss", "g_loss", "l1", "l2"}


# ------------------------------------------------------------ schedules, presets
def test_learning_rate_schedules_known_values_and_validation():
    config = dataclasses.replace(
        presets.get_preset("predict_simvp_moving_mnist"), epochs=2, steps_per_epoch=50
    )
    lr = config.g_lr
    onecycle = builders.learning_rate(config, lr)  # the preset's: 30 warm-up steps of 100
    assert isinstance(onecycle, keras.optimizers.schedules.CosineDecay)
    for step, want in [(0, lr / 25), (15, (lr / 25 + lr) / 2), (30, lr), (100, lr / 25e4)]:
        assert float(onecycle(step)) == pytest.approx(want, rel=1e-4), step
    cosine = builders.learning_rate(dataclasses.replace(config, lr_schedule="cosine"), lr)
    assert float(cosine(50)) == pytest.approx(lr / 2, rel=1e-4) and float(cosine(100)) == 0
    assert builders.learning_rate(dataclasses.replace(config, lr_schedule="constant"), lr) == lr
    g_adam = builders.adam_optimizers(config)["g_optimizer"]
    assert float(g_adam.learning_rate) == pytest.approx(lr / 25, rel=1e-4)  # at step 0
    for field, value, message in [
        ("lr_schedule", "linear", "lr_schedule='linear' is not one of constant, cosine, onecycle"),
        ("dd_weight", -0.1, "dd_weight=-0.1 must be >= 0"),
        ("ssim_weight", -1.0, "ssim_weight=-1.0 must be >= 0"),
        ("width", 15, "width=15 must be even"),
        ("depth", 1, "depth=1 must be >= 2"),
        ("size", 66, "size=66 must be a multiple of 2\\*\\*2=4"),
        ("context_frames", 20, "context_frames=20 must be in \\[1, frames=20\\)"),
    ]:
        with pytest.raises(ValueError, match=message):
            validate_config(dataclasses.replace(config, **{field: value}))
    with pytest.raises(ValueError, match="ssim_weight=1.0 needs frames of at least 11x11"):
        validate_config(dataclasses.replace(config, ssim_weight=1.0, size=8, depth=2))


@pytest.mark.parametrize(
    "name",
    ["predict_simvp_moving_mnist", "predict_simvp_flow_moving_mnist", "predict_tau_moving_mnist"],
)
def test_presets_build_the_family_with_the_papers_recipe(name):
    config = presets.get_preset(name)
    validate_config(config)
    assert (config.adv_weight, config.lr_schedule) == (0.0, "onecycle")
    # The recipe measured at 900 CPU-s (README): L1 + 0.3 L2, one-cycle peak 5e-3.
    assert (config.l1_weight, config.l2_weight, config.g_lr) == (1.0, 0.3, 5e-3)
    assert config.dd_weight == (0.1 if "tau" in name else 0.0)
    tiny = dataclasses.replace(config, size=SIZE, width=4, depth=2, frames=6, context_frames=3)
    gan = builders.build_gan(tiny)
    cls = {"predict_tau": TAUPredictor, "predict_simvp_flow": SimVPFlowPredictor}.get(
        config.model, SimVPPredictor
    )
    assert type(gan.generator) is cls and registry.family_of(gan.generator).name == config.model
    assert gan.get_compile_config()["dd_weight"] == config.dd_weight
    x, _ = pairs("prediction", n=2, context_frames=3)
    assert gan.generate(x, frames=4).shape == (2, 4, SIZE, SIZE, 1)


# --------------------------------------------------------------------- export
def _export_check(name, formats, tmp_path):
    from keras_vgan.export import endpoints, litert
    from tests.helpers import run_export_test

    tolerance = {"saved_model": 1e-6, "fp32": 1e-5, "int8": 0.15, "onnx": 1e-5}
    config = dataclasses.replace(
        presets.get_preset(name), size=SIZE, width=4, depth=2, frames=6, context_frames=3,
        batch_size=2,
    )  # fmt: skip
    model = builders.build_gan(config)
    assert set(endpoints.endpoints_of(model)) == {"serving_default", "predict"}
    calibration = litert.representative_inputs(config, 8)
    x = np.concatenate(calibration[:2])
    for fmt in formats:
        run_export_test(
            model, tmp_path, fmt, x, tolerance[fmt], endpoint="predict",
            representative=calibration,
        )  # fmt: skip


@pytest.mark.slow  # suite time; the family stays covered in the default run
def test_tau_exports_its_predict_signature(tmp_path):
    pytest.importorskip("ai_edge_litert", reason="needs ai-edge-litert (in [dev])")
    _export_check("predict_tau_moving_mnist", ["saved_model", "fp32"], tmp_path)


def test_flow_predictor_exports_its_predict_signature_in_every_format(tmp_path):
    """The warp (gathers) and the chained motion convert in every format."""
    pytest.importorskip("ai_edge_litert", reason="needs ai-edge-litert (in [dev])")
    pytest.importorskip("onnxruntime", reason="needs the [onnx] extra")
    _export_check("predict_simvp_flow_moving_mnist", ["saved_model", "fp32", "onnx"], tmp_path)


@pytest.mark.slow  # ONNX and int8 of the same blocks; the default run covers SavedModel + LiteRT
@pytest.mark.parametrize(
    "name",
    ["predict_simvp_moving_mnist", "predict_simvp_flow_moving_mnist", "predict_tau_moving_mnist"],
)
def test_every_predictor_exports_its_predict_signature_in_every_format(tmp_path, name):
    pytest.importorskip("ai_edge_litert", reason="needs ai-edge-litert (in [dev])")
    pytest.importorskip("onnxruntime", reason="needs the [onnx] extra")
    _export_check(name, ["saved_model", "fp32", "int8", "onnx"], tmp_path)
