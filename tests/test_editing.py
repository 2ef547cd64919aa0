"""Inversion and editing of real clips (keras_vgan.editing) and ``python -m generate.edit``."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from generate import edit as edit_program
from keras_vgan import data, editing, video_io
from keras_vgan.engine import copy_weights
from keras_vgan.metrics import offline
from tests.helpers import EXPORT_FRAMES, SIZE, tiny_gan


def real_clips(n=2, seed=3):
    """``n`` built-in Moving MNIST clips of the tiny GANs' shape (8 x 16 x 16 x 1)."""
    ds = data.moving_mnist(frames=EXPORT_FRAMES, size=SIZE, num_clips=n, batch_size=n, seed=seed)
    return np.asarray(next(iter(ds)))


def trained_mocogan():
    """A tiny MoCoGAN whose weights spread its outputs over [-1, 1], trained a few steps."""
    gan = tiny_gan("mocogan")  # the EMA generator's kernels redrawn: clips use [-1, 1]
    copy_weights(gan.generator, gan.ema_generator)
    gan.compile()
    before = [np.array(v) for v in gan.generator.trainable_variables]
    ds = tf.data.Dataset.from_tensor_slices(real_clips(4, seed=11)).batch(2)
    history = gan.fit(ds, epochs=1, verbose=0).history
    assert all(np.all(np.isfinite(v)) for v in history.values()), history
    variables = gan.generator.trainable_variables
    assert any(not np.allclose(b, v) for b, v in zip(before, variables, strict=True))
    return gan


def spread_stylegan_v():
    """A tiny StyleGAN-V whose weights are moved as training would move them (its
    training step costs more to trace than this file's budget: the MoCoGAN is trained)."""
    keras.utils.set_random_seed(0)  # its initial weights too: not whatever ran before
    gan = tiny_gan("stylegan_v", spread=False)
    rng = np.random.default_rng(0)
    for v in gan.ema_generator.trainable_variables:
        v.assign(v.numpy() + 0.3 * rng.standard_normal(v.shape).astype("float32"))
    return gan


@pytest.fixture(scope="module")
def mocogan():
    return trained_mocogan()


@pytest.fixture(scope="module")
def stylegan_v():
    return spread_stylegan_v()


@pytest.fixture(scope="module")
def gans(mocogan, stylegan_v):
    return {"mocogan": mocogan, "stylegan_v": stylegan_v}


def known_clips(adapter, n=2, seed=5):
    """``(z*, G(z*))``: clips the model renders from known latents."""
    z = np.random.default_rng(seed).standard_normal((n, adapter.latent_dim)).astype("float32")
    return z, np.asarray(adapter.render(adapter.codes_from_z(z)))


# ============================================================== inversion
@pytest.mark.parametrize(
    "model,space",
    [pytest.param("mocogan", "z", marks=pytest.mark.slow), ("stylegan_v", "w+")],
)  # MoCoGAN's trained fixture and perceptual term: ~10 s (its known answer runs by default)
def test_inversion_lowers_the_reconstruction_error_of_real_clips(gans, model, space):
    adapter = editing.adapter_for(gans[model], space)
    clips = real_clips()
    # The perceptual term in one case (it is the slow part on a CPU).
    perceptual = 0.1 if model == "mocogan" else 0.0
    result = editing.invert(adapter, clips, steps=40, perceptual_weight=perceptual)
    s = result.scores
    assert np.all(s["mse"] < 0.8 * s["initial_mse"]), s
    assert np.all(s["psnr"] > s["initial_psnr"] + 1.0), s
    assert len(result.losses) == 40 and np.all(np.isfinite(result.losses))
    assert result.losses[-1] < result.losses[0]
    # The scores are those of the returned reconstruction, which the codes render.
    np.testing.assert_allclose(
        s["mse"], np.mean((result.reconstruction - clips) ** 2, (1, 2, 3, 4))
    )
    again = np.asarray(adapter.render(result.codes, frames=clips.shape[1]))
    np.testing.assert_allclose(again, result.reconstruction, atol=1e-5)
    assert result.reconstruction.shape == clips.shape and result.cpu_seconds > 0


def test_known_answer_mocogan_clip_is_recovered_from_random_codes(mocogan):
    adapter = editing.adapter_for(mocogan, "w")
    _, target = known_clips(adapter)
    result = editing.invert(adapter, target, steps=150, perceptual_weight=0.0, prior_weight=0.0)
    assert np.all(result.scores["initial_mse"] > 0.02), result.scores
    assert np.all(result.scores["mse"] < 1e-4), result.scores  # from ~0.1: near zero


def test_known_answer_stylegan_v_recovers_its_codes_near_them(stylegan_v):
    # StyleGAN-V's objective has other minima far from the codes (a random start ends at
    # ~1/4 of its error); started near them, the projection goes most of the way there.
    adapter = editing.adapter_for(stylegan_v, "w+")
    z, target = known_clips(adapter)
    codes = adapter.codes_from_z(z)
    stats = editing.code_statistics(adapter)
    rng = np.random.default_rng(1)
    start = {
        k: np.asarray(v) + 0.1 * np.asarray(stats.std[k]) * rng.standard_normal(v.shape)
        for k, v in codes.items()
    }
    result = editing.invert(
        adapter,
        target,
        steps=150,
        learning_rate=0.02,
        init=start,
        perceptual_weight=0.0,
        prior_weight=0.0,
    )
    assert np.all(result.scores["initial_mse"] > 0.01), result.scores
    assert np.all(result.scores["mse"] < 0.05 * result.scores["initial_mse"]), result.scores
    assert np.all(result.scores["mse"] < 2e-3), result.scores  # PSNR > 33 dB


@pytest.mark.slow  # suite time; the family stays covered in the default run
def test_encoder_trained_on_the_generators_samples_starts_the_inversion(mocogan):
    encoder, losses = editing.train_encoder(mocogan, steps=40, batch_size=8)
    assert np.all(np.isfinite(losses)) and np.mean(losses[-5:]) < np.mean(losses[:5])
    adapter = editing.adapter_for(mocogan, "w")
    clips = real_clips()
    result = editing.invert(adapter, clips, steps=0, encoder=encoder)
    expected = adapter.codes_from_z(encoder(clips))
    for part in editing.PARTS:
        np.testing.assert_allclose(result.initial_codes[part], expected[part], atol=1e-6)
        np.testing.assert_allclose(result.codes[part], expected[part], atol=1e-5)


# ================================================================== edits
def test_swaps_keep_the_part_they_claim_to_keep(gans):
    for model, space in (("mocogan", "w"), ("stylegan_v", "w+")):
        adapter = editing.adapter_for(gans[model], space)
        a = {k: np.asarray(v) for k, v in adapter.random_codes(2, seed=1).items()}
        b = {k: np.asarray(v) for k, v in adapter.random_codes(2, seed=2).items()}
        keep_motion = editing.swap_content(a, b)
        assert keep_motion["motion"] is a["motion"] and keep_motion["content"] is b["content"]
        keep_content = editing.swap_motion(a, b)
        assert keep_content["content"] is a["content"] and keep_content["motion"] is b["motion"]
        # b's content with a's motion, from either side, is one clip; and differs from a's.
        one = np.asarray(adapter.render(keep_motion))
        other = np.asarray(adapter.render(editing.swap_motion(b, a)))
        np.testing.assert_array_equal(one, other)
        assert np.abs(one - np.asarray(adapter.render(a))).mean() > 1e-3, model


@pytest.mark.slow  # suite time; the family stays covered in the default run
def test_interpolation_ends_at_the_two_clips_and_blends_one_part(stylegan_v):
    adapter = editing.adapter_for(stylegan_v, "w")
    a = {k: np.asarray(v) for k, v in adapter.random_codes(1, seed=1).items()}
    b = {k: np.asarray(v) for k, v in adapter.random_codes(1, seed=2).items()}
    for part in editing.PARTS:
        np.testing.assert_allclose(editing.interpolate(a, b, 0.0)[part], a[part])
        np.testing.assert_allclose(editing.interpolate(a, b, 1.0)[part], b[part])
        np.testing.assert_allclose(
            editing.interpolate(a, b, 0.25)[part], 0.75 * a[part] + 0.25 * b[part], rtol=1e-6
        )
    half = editing.interpolate(a, b, 0.5, parts=("motion",))
    assert half["content"] is a["content"]
    np.testing.assert_allclose(half["motion"], (a["motion"] + b["motion"]) / 2, rtol=1e-6)


@pytest.mark.parametrize("model,space", [("mocogan", "z"), ("mocogan", "w"), ("stylegan_v", "w")])
def test_retime_gives_the_requested_frames_and_keeps_the_first(gans, model, space):
    adapter = editing.adapter_for(gans[model], space)
    codes = adapter.random_codes(2, seed=4)
    clip = np.asarray(adapter.render(codes))
    longer = editing.retime(adapter, codes, frames=12)
    assert longer.shape == (2, 12, SIZE, SIZE, 1)
    # A causal GRU / anchored motion: the first frames do not depend on the later ones.
    np.testing.assert_allclose(longer[:, : clip.shape[1]], clip, atol=1e-5)
    shorter = editing.retime(adapter, codes, frames=3)
    np.testing.assert_allclose(shorter, clip[:, :3], atol=1e-5)


@pytest.mark.slow  # suite time; the family stays covered in the default run
def test_stylegan_v_renders_the_same_codes_at_other_timestamps(stylegan_v):
    adapter = editing.adapter_for(stylegan_v, "w+")
    codes = adapter.random_codes(2, seed=4)
    clip = np.asarray(adapter.render(codes))
    times = np.array([0.0, 2.0, 2.5, 7.0, 20.0], "float32")
    at = editing.retime(adapter, codes, timestamps=times)
    assert at.shape == (2, 5, SIZE, SIZE, 1)
    np.testing.assert_allclose(at[:, [0, 1, 3]], clip[:, [0, 2, 7]], atol=1e-5)
    assert np.abs(at[:, 2] - clip[:, 2]).mean() > 1e-4  # half a frame on: a new frame


# ========================================================= losses, known answers
def test_perceptual_distance_known_answers():
    encoder = offline.load_encoder()
    rng = np.random.default_rng(0)
    a = tf.constant(rng.uniform(-1, 1, (2, 8, 32, 32, 1)).astype("float32"))
    b = tf.constant(rng.uniform(-1, 1, (2, 8, 32, 32, 1)).astype("float32"))
    np.testing.assert_allclose(editing.perceptual_distance(a, a, encoder), 0.0, atol=1e-6)
    d = np.asarray(editing.perceptual_distance(a, b, encoder, depth=2))
    # By hand: unit-length features per position, squared distance, mean, summed over maps.
    expected = np.zeros(2)
    for fa, fb in zip(encoder.feature_maps(a, 2), encoder.feature_maps(b, 2), strict=True):
        fa, fb = np.asarray(fa, np.float64), np.asarray(fb, np.float64)
        fa /= np.sqrt((fa**2).sum(-1, keepdims=True) + 1e-8)
        fb /= np.sqrt((fb**2).sum(-1, keepdims=True) + 1e-8)
        expected += ((fa - fb) ** 2).sum(-1).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(d, expected, rtol=1e-4)
    assert np.all(d > 0) and np.all(d <= 4 * 2)
    np.testing.assert_allclose(editing.perceptual_distance(b, a, encoder, depth=2), d, rtol=1e-5)


def test_prior_penalty_known_answer():
    stats = editing.CodeStatistics(
        mean={"content": tf.zeros(3), "motion": tf.ones((2, 2))},
        std={"content": tf.fill([3], 2.0), "motion": tf.ones((2, 2))},
    )
    codes = {
        "content": tf.constant([[2.0, -2.0, 0.0]]),
        "motion": tf.constant([[[1.0, 3.0], [1.0, 1.0]]]),
    }
    # content: (1 + 1 + 0) / 3; motion: (0 + 4 + 0 + 0) / 4; their mean.
    np.testing.assert_allclose(editing.prior_penalty(codes, stats), [(2 / 3 + 1) / 2], rtol=1e-6)


# ============================================================== bad inputs
def test_bad_inputs_raise_one_clear_error(mocogan, tmp_path):
    with pytest.raises(ValueError, match="VGANGenerator cannot be inverted"):
        editing.adapter_for(tiny_gan("vgan"))
    with pytest.raises(ValueError, match="space='w\\+'"):
        editing.adapter_for(mocogan, "w+")
    adapter = editing.adapter_for(mocogan, "w")
    with pytest.raises(ValueError, match="clips are 8x8x1"):
        editing.invert(adapter, np.zeros((1, 8, 8, 8, 1), "float32"))
    with pytest.raises(ValueError, match="clips has shape"):
        editing.invert(adapter, np.zeros((8, 16, 16, 1), "float32"))
    with pytest.raises(ValueError, match=r"clips must be finite and in \[-1, 1\]"):
        editing.invert(adapter, np.full((1, 8, 16, 16, 1), 3.0, "float32"))
    with pytest.raises(ValueError, match="steps=-1"):
        editing.invert(adapter, real_clips(1), steps=-1)
    with pytest.raises(ValueError, match="init='best'"):
        editing.invert(adapter, real_clips(1), init="best")
    a = adapter.random_codes(1)
    with pytest.raises(ValueError, match="donor's motion codes have shape"):
        editing.swap_content(a, adapter.random_codes(1, frames=4))
    with pytest.raises(ValueError, match="parts="):
        editing.interpolate(a, a, 0.5, parts=("colour",))
    with pytest.raises(ValueError, match="timestamps: MoCoGAN"):
        editing.retime(adapter, a, timestamps=[0.0, 0.5])
    path = video_io.write_gif(os.path.join(tmp_path, "short.gif"), real_clips(1)[0, :3])
    with pytest.raises(ValueError, match="has 3 frames; the model renders 8"):
        editing.read_clip(path, 8, SIZE, 1)


# ================================================================ program
@pytest.mark.slow  # suite time; the family stays covered in the default run
def test_program_inverts_edits_and_writes_its_files(mocogan, tmp_path, capsys):
    model = os.path.join(tmp_path, "gan.keras")
    mocogan.save(model)
    clips = real_clips(2, seed=7)
    a = video_io.write_gif(os.path.join(tmp_path, "a.gif"), clips[0])
    b = video_io.write_mp4(os.path.join(tmp_path, "b.mp4"), clips[1])
    out = os.path.join(tmp_path, "edited")
    argv = [model, "--clip", a, "--clip-b", b, "--space", "w", "--steps", "5"]
    argv += ["--interpolate-steps", "2", "--retime-frames", "12", "--out", out]
    assert edit_program.main(argv) == 0
    printed = capsys.readouterr().out
    assert "reconstruction: PSNR" in printed and "reconstruction_b: PSNR" in printed
    names = ["input", "reconstruction", "input_b", "reconstruction_b", "swap_content"]
    names += ["swap_motion", "interpolate_00", "interpolate_01", "retime"]
    for name in names:
        for ext in (".gif", ".mp4"):
            assert os.path.getsize(os.path.join(out, name + ext)) > 0, name + ext
    assert video_io.read_gif(os.path.join(out, "retime.gif"), channels=1).shape[0] == 12
    with Image.open(os.path.join(out, "contact_sheet.png")) as im:
        sheet = np.asarray(im)
    assert sheet.shape[:2] == (9 * SIZE, EXPORT_FRAMES * SIZE)  # 9 rows of 8 frames


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--clip", "missing.gif"], "--clip 'missing.gif' does not exist"),
        (["--clip", "CLIP", "--edits", "swap,retime"], "'swap' is not one of"),
        (["--clip", "CLIP", "--edits", "interpolate"], "interpolate needs --clip-b"),
        (["--clip", "CLIP", "--space", "w+"], "space='w+'"),
        (["--clip", "CLIP", "--steps", "-3"], "--steps -3 must be >= 0"),
        (["--clip", "CLIP", "--label", "2"], "--label 2:"),
        (["--clip", "SHORT"], "has 3 frames; the model renders 8"),
    ],
)
def test_program_bad_input_is_one_line(mocogan, tmp_path, capsys, argv, message):
    model = os.path.join(tmp_path, "gan.keras")
    mocogan.save(model)
    clips = real_clips(1)
    paths = {
        "CLIP": video_io.write_gif(os.path.join(tmp_path, "a.gif"), clips[0]),
        "SHORT": video_io.write_gif(os.path.join(tmp_path, "s.gif"), clips[0, :3]),
    }
    argv = [model] + [paths.get(a, a) for a in argv] + ["--steps", "0"] * ("--steps" not in argv)
    argv += ["--out", os.path.join(tmp_path, "out")]
    assert edit_program.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert err.startswith("python -m generate.edit: error:")


def test_program_refuses_a_family_without_an_adapter(tmp_path, capsys):
    model = os.path.join(tmp_path, "vgan.keras")
    tiny_gan("vgan").save(model)
    clip = video_io.write_gif(os.path.join(tmp_path, "a.gif"), real_clips(1)[0])
    assert edit_program.main([model, "--clip", clip, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cannot be inverted" in err, err
