"""Recycle-GAN (unpaired video translation): its losses' known answers, the unpaired
domains, the cycle on tiny data, round trips, export parity and the programs."""

import dataclasses
import json
import os

import cv2
import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_vgan import builders, losses, presets, registry, video_io
from keras_vgan import config as config_lib
from keras_vgan.data import moving_mnist
from keras_vgan.data import unpaired as unpaired_data
from keras_vgan.export import endpoints
from keras_vgan.layers.frame_nets import FramePatchGAN
from keras_vgan.models.recycle_gan import RecycleGANGenerator, RecyclePredictor
from keras_vgan.unpaired import RecycleGAN
from tests.helpers import (
    _run_task_endpoint,
    changed,
    run_export_test,
    run_serialization_test,
    snapshot,
)

FRAMES, SIZE = 4, 16
TINY = ["--preset", "recycle_gan_moving_mnist", "--frames", str(FRAMES), "--size", str(SIZE),
        "--depth", "2", "--width", "8", "--batch-size", "2", "--num-samples", "2"]  # fmt: skip


def tiny_config(**kwargs):
    """The preset at 4 frames of 16x16, widths 8-16, batch 2 (domain B: thick + colour)."""
    base = dict(frames=FRAMES, size=SIZE, depth=2, width=8, batch_size=2, g_lr=1e-3, d_lr=1e-3)
    return dataclasses.replace(presets.get_preset("recycle_gan_moving_mnist"), **{**base, **kwargs})


def ramp(n=2, frames=5, value=0.1):
    """Clips whose frame ``t`` is ``t * value`` everywhere: ``[n, frames, 4, 4, 1]``."""
    t = np.arange(frames, dtype="float32") * value
    return np.broadcast_to(t[None, :, None, None, None], (n, frames, 4, 4, 1)).copy()


# ================================================================= the losses
def copy_last(x):
    return x[:, 1:-1]


def extrapolate(x):
    return 2.0 * x[:, 1:-1] - x[:, :-2]


def test_losses_known_answers_and_bad_shapes():
    x = ramp()
    # A copy-last predictor is off by one step (0.1) everywhere; linear extrapolation is exact.
    assert float(losses.recurrent_loss(x, copy_last)) == pytest.approx(0.1, abs=1e-6)
    assert float(losses.recurrent_loss(x, extrapolate)) == pytest.approx(0.0, abs=1e-6)
    # Identity translation, copy-last predictor, translation back adds 0.05: |0.1 - 0.05|.
    back = lambda y: y + 0.05  # noqa: E731
    assert float(losses.recycle_loss(x, x, copy_last, back)) == pytest.approx(0.05, abs=1e-6)
    # Translated to 2x, extrapolated exactly, halved back: the true next frame.
    recycle = losses.recycle_loss(x, 2.0 * x, extrapolate, lambda y: y / 2.0)
    assert float(recycle) == pytest.approx(0.0, abs=1e-6)
    assert float(losses.cycle_loss(x, x + 0.2)) == pytest.approx(0.2, abs=1e-6)
    assert float(losses.cycle_loss(x, -x)) == pytest.approx(2 * np.mean(np.abs(x)), rel=1e-6)
    with pytest.raises(ValueError, match=r"clips has shape \(2, 2, 4, 4, 1\); expected .*T >= 3"):
        losses.recurrent_loss(ramp(frames=2), copy_last)
    with pytest.raises(ValueError, match="the predictor's output has shape"):
        losses.recurrent_loss(x, lambda c: c)
    with pytest.raises(ValueError, match="translated has shape"):
        losses.recycle_loss(x, x[:, :3], copy_last, back)
    with pytest.raises(ValueError, match="reconstructed has shape"):
        losses.cycle_loss(x, x[:1])


# ============================================================= unpaired domains
def test_restyle_known_answers_and_determinism():
    frame = np.zeros((1, 1, 9, 9, 1), np.uint8)
    frame[0, 0, 4, 4] = 255  # one ink pixel
    thick = unpaired_data.restyle(frame, "thick")
    ink = thick[0, 0, ..., 0] > 0
    # The 3x3 elliptic kernel is a plus: the pixel and its 4 neighbours.
    assert ink.sum() == 5 and ink[3, 4] and ink[5, 4] and ink[4, 3] and ink[4, 5] and not ink[3, 3]
    inverted = unpaired_data.restyle(frame, "invert")
    assert inverted[0, 0, 4, 4, 0] == -1.0 and inverted[0, 0, 0, 0, 0] == 1.0
    colour = unpaired_data.restyle(frame, "thick+colour")
    assert colour.shape == (1, 1, 9, 9, 3)
    np.testing.assert_allclose(colour[0, 0, 0, 0], unpaired_data.COLOUR_BACKGROUND / 127.5 - 1)
    np.testing.assert_allclose(colour[0, 0, 3, 4], unpaired_data.COLOUR_STROKE / 127.5 - 1)
    clips = np.asarray(next(iter(moving_mnist(frames=3, size=32, batch_size=2, num_clips=2))))
    once, twice = (unpaired_data.restyle(clips, "thick+colour") for _ in range(2))
    np.testing.assert_array_equal(once, twice)
    # Float input in [-1, 1] and uint8 input give the same clip.
    pixels = np.round((clips + 1) * 127.5).astype(np.uint8)
    np.testing.assert_array_equal(
        unpaired_data.restyle(pixels, "thick"), unpaired_data.restyle(clips, "thick")
    )
    assert unpaired_data.style_channels("thick", 1) == 1
    assert unpaired_data.style_channels("invert+colour", 1) == 3
    with pytest.raises(
        ValueError, match="domain_b='wavy': 'wavy' is not one of invert, thick, colour"
    ):
        unpaired_data.parse_style("wavy")
    with pytest.raises(ValueError, match="'colour' makes RGB frames, so it must come last"):
        unpaired_data.parse_style("colour+thick")


def test_domains_are_drawn_independently_and_resume():
    kwargs = dict(style="thick", frames=FRAMES, size=SIZE, batch_size=2, seed=3)
    a, b = (
        np.asarray(x) for x in next(iter(unpaired_data.unpaired_dataset("moving_mnist", **kwargs)))
    )
    assert a.shape == b.shape == (2, FRAMES, SIZE, SIZE, 1)
    # B is the restyle of clips drawn with another seed: not of A's clips (unpaired).
    other = moving_mnist(
        frames=FRAMES, size=SIZE, batch_size=2, seed=unpaired_data.domain_b_seed(3)
    )
    np.testing.assert_array_equal(b, unpaired_data.restyle(np.asarray(next(iter(other))), "thick"))
    for i in range(2):
        for j in range(2):
            assert np.abs(unpaired_data.restyle(a[i : i + 1], "thick") - b[j : j + 1]).max() > 0.5
    # A resumed stream continues both domains where they were.
    second = list(unpaired_data.unpaired_dataset("moving_mnist", num_clips=4, **kwargs))[1]
    resumed = next(iter(unpaired_data.unpaired_dataset("moving_mnist", start_index=2, **kwargs)))
    for x, y in zip(second, resumed, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def write_videos(folder, n=2, frames=6, seed=0):
    os.makedirs(folder, exist_ok=True)
    clips = next(iter(moving_mnist(frames=frames, size=SIZE, batch_size=n, seed=seed)))
    for k, clip in enumerate(np.asarray(clips)):
        video_io.write_mp4(os.path.join(folder, f"v{k}.mp4"), video_io.to_uint8(clip))


@pytest.mark.slow  # suite time; the family stays covered in the default run
def test_folders_of_two_domains_and_one_line_errors(tmp_path, capsys):
    from training.cli import main

    write_videos(str(tmp_path / "a"))
    write_videos(str(tmp_path / "b"), seed=1)
    config = tiny_config(data=str(tmp_path / "a"), data_b=str(tmp_path / "b"))
    run_data = config_lib.validate_config(config)
    assert run_data.source is not None and run_data.source_b is not None
    a, b = next(iter(builders.build_train_dataset(config, data=run_data)))
    assert a.shape == b.shape == (2, FRAMES, SIZE, SIZE, 1)
    empty = tmp_path / "empty"
    empty.mkdir()
    for args, expected in (
        (["--data-b", str(tmp_path / "missing")], "data_b='"),
        (["--data-b", str(empty)], "data_b='"),
        (["--data", str(tmp_path / "a")], "needs domain B as well (--data-b"),
        (["--domain-b", "wavy"], "domain_b='wavy'"),
        (["--frames", "2"], "frames=2: recycle_gan's predictors need frames >= 3"),
    ):
        assert main([*TINY, *args]) == 2
        err = capsys.readouterr().err
        assert expected in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert "holds no videos" in (main([*TINY, "--data-b", str(empty)]), capsys.readouterr().err)[1]
    from generate.translate import main as translate

    assert translate([str(tmp_path / "nope"), "--input", str(tmp_path / "a")]) == 2
    assert "SOURCE" in capsys.readouterr().err


# ==================================================================== the metric
def test_translation_scores_identity_and_oracle():
    from keras_vgan.metrics.unpaired import translation_scores

    def draw(seed):
        ds = unpaired_data.unpaired_dataset(
            "moving_mnist", style="thick", frames=16, size=16, batch_size=6, seed=seed, num_clips=6
        )
        return (np.asarray(x) for x in next(iter(ds)))

    a, b = draw(0)
    ref_a, ref_b = draw(1)

    # A -> B: the oracle (B is A restyled); B -> A: the identity.
    def translate(x, direction):
        return unpaired_data.restyle(x, "thick") if direction == "a_to_b" else x

    scores = translation_scores(translate, a, b, ref_a, ref_b)
    expected = {f"{p}_{k}" for k in ("ab", "ba") for p in ("fd", "warp")}
    expected |= {"fd_ab_identity", "fd_ba_identity", "fd_a_floor", "fd_b_floor"}
    assert set(scores) == expected | {"warp_a_source", "warp_b_source"}
    # An identity "translator" scores exactly what the untranslated input scores.
    assert scores["fd_ba"][0] == pytest.approx(scores["fd_ba_identity"][0], rel=1e-9)
    assert scores["warp_ba"][0] == pytest.approx(scores["warp_b_source"][0], rel=1e-9)
    assert scores["fd_ab_identity"][0] == pytest.approx(scores["fd_ba_identity"][0], rel=1e-6)
    # The oracle lands nearer to B than its input does; warping the thickened clip by
    # A's flow errs more than A itself (more ink moves), but stays finite.
    assert scores["fd_ab"][0] < scores["fd_ab_identity"][0]
    assert 0 < scores["warp_a_source"][0] < scores["warp_ab"][0] < 1


# ============================================================ the cycle on tiny data
@pytest.fixture(scope="module")
def trained():
    """A tiny engine trained 16 steps on one fixed batch; its recycle loss before and after."""
    keras.utils.set_random_seed(0)
    config = tiny_config()
    run_data = config_lib.validate_config(config)
    model = builders.build_gan(config)
    a, b = (np.asarray(x) for x in next(iter(builders.build_train_dataset(config, data=run_data))))

    def recycle():
        def net(n):
            return lambda x: getattr(model, n)(x, training=False)

        ab, ba = net("generator")(a), net("generator_ba")(b)
        return float(
            losses.recycle_loss(a, ab, net("predictor_b"), net("generator_ba"))
            + losses.recycle_loss(b, ba, net("predictor_a"), net("generator"))
        )

    names = model.NETWORKS
    before = {n: snapshot(getattr(model, n).trainable_variables) for n in names}
    start = recycle()
    history = model.fit(tf.data.Dataset.from_tensors((a, b)).repeat(16), verbose=0).history
    return dict(model=model, a=a, b=b, before=before, start=start, end=recycle(), history=history)


def test_a_few_steps_lower_the_recycle_loss_and_move_every_network(trained):
    model, history = trained["model"], trained["history"]
    assert isinstance(model, RecycleGAN)
    assert {"d_loss", "g_loss", "recycle", "recurrent", "d_real", "d_fake"} <= set(history)
    assert all(np.all(np.isfinite(v)) for v in history.values())
    assert trained["end"] < 0.8 * trained["start"], (trained["start"], trained["end"])
    for name, before in trained["before"].items():
        net = getattr(model, name)
        moved = changed(before, net.trainable_variables)
        assert all(moved), (
            name,
            [v.path for v, m in zip(net.trainable_variables, moved, strict=True) if not m],
        )
        assert all(np.all(np.isfinite(v.numpy())) for v in net.trainable_variables), name
    # Both EMA generators follow their generators.
    for ema, raw in (
        (model.ema_generator, model.generator),
        (model.ema_generator_ba, model.generator_ba),
    ):
        assert any(
            not np.allclose(e.numpy(), r.numpy())
            for e, r in zip(ema.weights, raw.weights, strict=True)
        )
    ab = np.asarray(model.translate(trained["a"], "a_to_b"))
    ba = np.asarray(model.translate(trained["b"], "b_to_a"))
    assert ab.shape == (2, FRAMES, SIZE, SIZE, 3) and ba.shape == (2, FRAMES, SIZE, SIZE, 1)
    assert np.all(np.abs(ab) <= 1) and np.all(np.abs(ba) <= 1)
    with pytest.raises(ValueError, match="direction='sideways' is not one of a_to_b, b_to_a"):
        model.translate(trained["a"], "sideways")


def test_networks_check_their_inputs():
    g = RecycleGANGenerator(FRAMES, SIZE, in_channels=1, channels=3, widths=(4, 8))
    assert np.asarray(g(np.zeros((1, 7, SIZE, SIZE, 1), "float32"))).shape == (1, 7, SIZE, SIZE, 3)
    with pytest.raises(ValueError, match=r"source clips have shape \(1, 4, 16, 16, 3\)"):
        g(np.zeros((1, FRAMES, SIZE, SIZE, 3), "float32"))
    p = RecyclePredictor(SIZE, 1, widths=(4, 8))
    x = np.random.default_rng(0).uniform(-1, 1, (2, 5, SIZE, SIZE, 1)).astype("float32")
    assert np.asarray(p(x)).shape == (2, 3, SIZE, SIZE, 1)
    with pytest.raises(ValueError, match="with a known T >= 3"):
        p(x[:, :2])
    d = FramePatchGAN(SIZE, 3, widths=(4, 8))
    assert d(np.zeros((2, 3, SIZE, SIZE, 3), "float32")).shape == (2, 3 * 16)  # 4x4 patches
    with pytest.raises(ValueError, match="must be a multiple of 2\\*\\*2=4"):
        FramePatchGAN(18, 1, widths=(4, 8))


def test_round_trip_of_the_engine_and_both_directions(trained, tmp_path):
    model, a, b = trained["model"], trained["a"], trained["b"]
    loaded = run_serialization_test(model, tmp_path, a, video=b)
    assert loaded.get_compile_config()["recycle_weight"] == model.recycle_weight == 10.0
    for direction, x in (("a_to_b", a), ("b_to_a", b)):
        for use_ema in (True, False):
            np.testing.assert_array_equal(
                np.asarray(loaded.translate(x, direction, use_ema=use_ema)),
                np.asarray(model.translate(x, direction, use_ema=use_ema)),
            )
    for name, x in (
        ("generator_ba", b),
        ("discriminator_a", a),
        ("predictor_a", a),
        ("predictor_b", b),
    ):
        np.testing.assert_array_equal(
            np.asarray(getattr(loaded, name)(x)), np.asarray(getattr(model, name)(x))
        )


# ================================================================= export parity
@pytest.mark.slow  # suite time; the family stays covered in the default run
def test_export_serves_both_directions(trained, tmp_path):
    model, a, b = trained["model"], trained["a"], trained["b"]
    eps = endpoints.endpoints_of(model)
    assert list(eps) == ["serving_default", "translate_a_to_b", "translate_b_to_a"]
    assert registry.family_of(model.ema_generator).name == "recycle_gan"
    run_export_test(model, tmp_path, "saved_model", a, 1e-5, endpoint="translate_a_to_b")
    got = _run_task_endpoint(
        os.path.join(tmp_path, "translate_a_to_b", "1"), "saved_model", "translate_b_to_a", b
    )
    np.testing.assert_allclose(got, np.asarray(model.translate(b, "b_to_a")), atol=1e-5)


@pytest.mark.slow
def test_litert_and_onnx_exports_serve_both_directions(trained, tmp_path):
    from keras_vgan.export import export_onnx

    model, a, b = trained["model"], trained["a"], trained["b"]
    want_ba = np.asarray(model.translate(b, "b_to_a"))
    run_export_test(model, tmp_path, "fp32", a, 1e-4, endpoint="translate_a_to_b")
    path = os.path.join(tmp_path, "translate_a_to_b.fp32.tflite")
    np.testing.assert_allclose(
        _run_task_endpoint(path, "fp32", "translate_b_to_a", b), want_ba, atol=1e-4
    )
    run_export_test(model, tmp_path, "onnx", a, 1e-4, endpoint="translate_a_to_b")
    primary, other = export_onnx(model, str(tmp_path / "both.onnx"), ["translate_b_to_a"])
    assert other.endswith("both.translate_b_to_a.onnx")
    np.testing.assert_allclose(
        _run_task_endpoint(other, "onnx", "translate_b_to_a", b), want_ba, atol=1e-4
    )


# ================================================================== the programs
@pytest.mark.slow
def test_training_program_writes_samples_and_model_and_evaluation_scores_it(tmp_path, capsys):
    from training.cli import main
    from training.evaluate_unpaired import main as evaluate

    code = main(
        [*TINY, "--epochs", "1", "--steps-per-epoch", "2", "--logdir", str(tmp_path), "--quiet"]
    )
    assert code == 0, capsys.readouterr().err
    (run_dir,) = [os.path.join(tmp_path, d) for d in os.listdir(tmp_path)]
    for name in ("model.keras", "config.json", "samples/final.gif", "samples/final.png"):
        assert os.path.exists(os.path.join(run_dir, name)), name
    sheet = cv2.imread(os.path.join(run_dir, "samples", "final.png"))
    assert sheet.shape[1] >= 4 * SIZE  # A | A->B | B | B->A
    capsys.readouterr()
    assert evaluate(["--run", run_dir, "--clips", "4", "--batch-size", "2"]) == 0
    out = capsys.readouterr().out
    assert "warp_ab" in out and "warp_a_source" in out
    with open(os.path.join(run_dir, "eval_unpaired.json")) as f:
        rows = {r["metric"]: r["value"] for r in json.load(f)["results"]}
    assert set(rows) == {"warp_ab", "warp_a_source", "warp_ba", "warp_b_source"}  # 4 frames: no FD
    assert all(np.isfinite(v) for v in rows.values())
    assert evaluate(["--run", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    # A user's clip, translated by the run's model (both directions).
    from generate.translate import main as translate

    videos = tmp_path / "mine"
    write_videos(str(videos), n=1, frames=6)
    for direction in ("a_to_b", "b_to_a"):
        out = tmp_path / f"out_{direction}"
        code = translate([run_dir, "--input", str(videos), "--direction", direction,
                          "--out", str(out)])  # fmt: skip
        assert code == 0, capsys.readouterr().err
        assert {"side_by_side.gif", "contact_sheet.png", "clip_000.mp4"} <= set(os.listdir(out))
    gif = video_io.read_gif(str(tmp_path / "out_a_to_b" / "clip_000.gif"))
    assert gif.shape[1:] == (SIZE, SIZE, 3)  # domain B is RGB
    assert translate([run_dir, "--input", str(videos), "--direction", "up"]) == 2
    assert "--direction 'up' must be a_to_b or b_to_a" in capsys.readouterr().err
