"""Presets validate and build; the SavedModel export serves the EMA generator."""

import dataclasses
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from export.cli import main as export_main
from export.cli import next_version
from keras_vgan import builders, presets, video_io
from keras_vgan import config as config_lib
from keras_vgan.export import export_saved_model
from tests.helpers import untrained_tokenizer


def _default_run_presets():
    """The first preset (sorted) of each kind (model, class-conditional, sparse frames),
    plus the main job's: they run by default; the others share their code path and
    are marked slow (the suite's time budget; ``-m slow`` runs them all)."""
    seen, keep = set(), {"quick", "stylegan_v_quick", "mocogan_layers_quick"}
    for name in sorted(presets.PRESETS):
        c = presets.get_preset(name)
        kind = (c.model, bool(c.num_classes), bool(c.sparse_frames))
        if kind not in seen:
            keep.add(name)
        seen.add(kind)
    return keep


DEFAULT_PRESETS = _default_run_presets()


@pytest.mark.parametrize(
    "name",
    [n if n in DEFAULT_PRESETS else pytest.param(n, marks=pytest.mark.slow)
     for n in sorted(presets.PRESETS)],
)  # fmt: skip
def test_every_preset_validates_and_builds(name, tmp_path):
    config = presets.get_preset(name)
    if config.model in ("maskgit", "videogpt"):  # they model a trained tokenizer's codes
        config = dataclasses.replace(config, tokenizer=untrained_tokenizer(tmp_path, config))
    config_lib.validate_config(config)
    gan = builders.build_gan(config)
    if config.family.build_model is None:  # a GAN engine (the VAE family has no adversary)
        assert gan.loss_name == config.loss
    batch = next(iter(builders.build_train_dataset(dataclasses.replace(config, batch_size=2))))
    if config.family.task:  # conditional tasks: (inputs, targets) pairs (+ labels: a VAE's)
        inputs, targets = batch[:2]
        assert inputs.shape[0] == targets.shape[0] == 2
        assert targets.shape[-3:] == (config.size, config.size, config.channels)
        assert tuple(gan(inputs).shape) == tuple(targets.shape)  # the generator fits its data
        return
    if config.family.train_data:  # its own batches: Recycle-GAN's unpaired (clips_a, clips_b)
        clips_a, clips_b = batch
        assert (
            clips_a.shape[:-1] == clips_b.shape[:-1] == (2, config.frames, config.size, config.size)
        )
        assert not np.array_equal(clips_a[..., :1], clips_b[..., :1])  # two domains, not one
        return
    assert gan.generator.frames == config.frames and gan.generator.size == config.size
    if config.sparse_frames:  # sparse-frame presets: (frames, timestamps[, labels]) batches
        frames, times = batch[:2]
        k = config.sparse_frames
        assert frames.shape == (2, k, config.size, config.size, config.channels)
        assert times.shape == (2, k) and gan.timed
        return
    if config.num_classes:  # conditional presets: (clips, labels) batches
        batch, labels = batch
        assert labels.shape == (2,) and gan.conditional
    assert batch.shape == (2, config.frames, config.size, config.size, config.channels)


def test_get_preset_returns_an_independent_copy_and_json_round_trips():
    a = presets.get_preset("quick")
    a.frames = 99
    assert presets.get_preset("quick").frames != 99
    b = presets.TrainConfig.from_dict(json.loads(presets.get_preset("quick").to_json()))
    assert b == presets.get_preset("quick")
    with pytest.raises(ValueError, match="unknown config keys"):
        presets.TrainConfig.from_dict({"nope": 1})


def test_batch_norm_critic_with_gradient_penalty_is_refused():
    config = dataclasses.replace(presets.get_preset("quick"), loss="wgan", gp_weight=10.0)
    with pytest.raises(ValueError, match="d_norm='batch' with gp_weight=10.0"):
        config_lib.validate_config(config)


def tiny_gan():
    config = presets.get_preset("quick")
    config = dataclasses.replace(config, frames=4, size=16, depth=2, width=4, latent_dim=8)
    return builders.build_gan(config)


def test_saved_model_signatures_match_the_keras_model(tmp_path):
    gan = tiny_gan()
    out = export_saved_model(gan, str(tmp_path / "vgan" / "1"))
    loaded = tf.saved_model.load(out)
    assert {"serving_default", "generate_uint8", "generate_seeded"} <= set(loaded.signatures)
    z = np.random.default_rng(0).standard_normal((3, 8)).astype("float32")
    video = loaded.signatures["serving_default"](z=tf.constant(z))["video"].numpy()
    np.testing.assert_allclose(video, gan(z).numpy(), atol=1e-6)
    pixels = loaded.signatures["generate_uint8"](z=tf.constant(z))["video"].numpy()
    assert pixels.dtype == np.uint8
    np.testing.assert_array_equal(pixels, video_io.to_uint8(video))


def test_export_program_versions_and_bad_input(tmp_path, capsys):
    gan = tiny_gan()
    model_path = str(tmp_path / "gan.keras")
    gan.save(model_path)
    out = str(tmp_path / "exported")
    assert export_main(["--model", model_path, "--out", out, "--name", "vgan"]) == 0
    assert export_main(["--model", model_path, "--out", out, "--name", "vgan"]) == 0
    assert sorted(os.listdir(os.path.join(out, "vgan"))) == ["1", "2"]
    assert next_version(os.path.join(out, "vgan")) == 3
    capsys.readouterr()

    cases = [
        (["--run", str(tmp_path / "missing")], "does not exist"),
        (["--run", str(tmp_path)], "has no model.keras"),
        (["--model", str(tmp_path / "x.h5")], "is not a .keras file"),
    ]
    for args, message in cases:
        assert export_main(args) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    bad = tmp_path / "broken.keras"
    bad.write_bytes(b"not a zip")
    assert export_main(["--model", str(bad)]) == 2
    assert "cannot load" in capsys.readouterr().err
