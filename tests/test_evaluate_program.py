"""``python -m training.evaluate`` and the periodic evaluation callback."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_vgan import runs
from keras_vgan.builders import build_gan
from keras_vgan.config import validate_config
from keras_vgan.presets import get_preset
from training import evaluate


def _config():
    config = get_preset("quick")  # 16 frames of 32x32 grey Moving MNIST
    config.width, config.latent_dim, config.batch_size = 4, 8, 4
    return config


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run directory of an untrained tiny VGAN (config.json + model.keras)."""
    path = str(tmp_path_factory.mktemp("run"))
    config = _config()
    runs.write_config(path, config)
    build_gan(config).save(os.path.join(path, "model.keras"))
    return path


def test_evaluate_a_run(run_dir, capsys):
    assert evaluate.main(["--run", run_dir, "--num-clips", "32", "--batch-size", "16"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["metric", "value", "protocol"]
    for metric in ("offline_fd", "offline_kvd", "offline_is"):
        assert metric in out
    with open(os.path.join(run_dir, "eval.json")) as f:
        result = json.load(f)
    assert result["data"] == "moving_mnist" and result["num_clips"] == 32
    rows = {r["metric"]: r for r in result["results"]}
    assert rows["offline_fd"]["value"] > 0
    assert "32 generated vs 32 clips of 16x32x32x1" in rows["offline_fd"]["protocol"]


def test_evaluate_a_model_file(run_dir, tmp_path, capsys):
    out = str(tmp_path / "scores.json")
    model = os.path.join(run_dir, "model.keras")
    assert evaluate.main(["--model", model, "--num-clips", "16", "--out", out]) == 0
    with open(out) as f:
        assert len(json.load(f)["results"]) == 3


@pytest.mark.parametrize(
    "args, match",
    [
        (["--run", "/nonexistent/run"], "does not exist"),
        (["--model", "/nonexistent/x.keras"], "is not a .keras file"),
        (["--metrics", "fid"], "subset of offline, fvd"),
        (["--metrics", "fvd"], "i3d-kinetics-400.*no path was given"),
        (["--i3d", "/nonexistent/i3d"], "i3d-kinetics-400.*is not a directory"),
        (["--num-clips", "1"], "must be >= 2"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run_dir, args, match, capsys):
    if "--run" not in args and "--model" not in args:
        args = ["--run", run_dir, *args]
    assert evaluate.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("python -m training.evaluate: error:")
    import re

    assert re.search(match, err), err


def test_short_clips_are_refused(tmp_path, capsys):
    config = _config()
    config.frames, config.depth = 8, 2
    path = str(tmp_path / "short.keras")
    build_gan(config).save(path)
    assert evaluate.main(["--model", path, "--num-clips", "4"]) == 2
    assert "at least 16" in capsys.readouterr().err


def test_periodic_evaluation_logs_to_tensorboard(tmp_path):
    config = _config()
    config.eval_every, config.eval_clips = 2, 16
    (callback,) = runs._evaluation(config, str(tmp_path))  # what runs.train adds
    callback.batch_size = 8
    callback.set_model(build_gan(config))
    logs = [{"d_loss": 1.0} for _ in range(4)]
    for epoch in range(4):  # the hooks fit calls
        callback.on_epoch_end(epoch, logs[epoch])
    callback.on_train_end()
    assert [r["step"] for r in callback.results] == [2, 4]  # every 2nd epoch
    assert "eval_offline_fd" not in logs[0] and np.isfinite(logs[1]["eval_offline_fd"])
    # Same fixed noise each time: an unchanged generator scores the same.
    assert logs[1]["eval_offline_fd"] == pytest.approx(logs[3]["eval_offline_fd"])
    log_dir = os.path.join(str(tmp_path), "eval")
    tags = set()
    for name in os.listdir(log_dir):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(log_dir, name)):
            tags |= {v.tag for v in event.summary.value}
    assert {"eval/offline_fd", "eval/offline_kvd", "eval/offline_is"} <= tags


def test_eval_config_fields_are_validated():
    config = _config()
    config.eval_every = -1
    with pytest.raises(ValueError, match="eval_every=-1"):
        validate_config(config)
    config = _config()
    config.eval_every, config.frames, config.depth = 1, 8, 2
    with pytest.raises(ValueError, match="needs frames >= 16"):
        validate_config(config)
