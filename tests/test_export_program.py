"""``python -m export``: every format from a .keras file, a checkpoint-only run directory,
shared version numbers, and one-line errors with exit status 2."""

import os

import numpy as np
import pytest
import tensorflow as tf

from export.cli import main as export_main
from export.cli import next_version
from keras_vgan.callbacks import TrainingCheckpoint
from keras_vgan.runs import write_config
from tests.helpers import CLASSES, noise, reference, tiny_gan

pytest.importorskip("ai_edge_litert", reason="needs ai-edge-litert (in [dev])")
pytest.importorskip("tf2onnx", reason="needs the [onnx] extra")


def checkpoint_run(tmp_path, kind="vgan", num_classes=0):
    """A run directory with config.json and one checkpoint, no model.keras."""
    gan = tiny_gan(kind, num_classes)
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    config = gan._tiny_config
    write_config(str(run), config)
    saver = TrainingCheckpoint(str(run / "checkpoints"))
    saver.set_model(gan)
    saver.save(1)
    return gan, run


@pytest.mark.slow  # 10-15 s; keeps the default suite under 15 min on 2 cores
def test_all_formats_share_a_version_and_match_keras(tmp_path, capsys):
    gan = tiny_gan("vgan")
    model = tmp_path / "gan.keras"
    gan.save(model)
    out = tmp_path / "exported"
    assert (
        export_main(["--model", str(model), "--out", str(out), "--name", "tiny", "--format", "all"])
        == 0
    )
    table = capsys.readouterr().out
    files = sorted(os.listdir(out / "tiny"))
    assert files == [
        "1",
        "tiny.v1.dynamic_int8.tflite",
        "tiny.v1.fp16.tflite",
        "tiny.v1.fp32.tflite",
        "tiny.v1.int8.tflite",
        "tiny.v1.onnx",
    ]
    diffs = {line.split()[0]: float(line.split()[2]) for line in table.splitlines()[1:7]}
    assert diffs["saved_model"] < 1e-5 and diffs["tflite"] < 1e-5 and diffs["onnx"] < 1e-5
    assert diffs["tflite_fp16"] < 4e-3 and diffs["tflite_int8"] < 0.12, diffs
    assert "--model_base_path" not in table and "target=/models/tiny" in table
    assert next_version(str(out / "tiny")) == 2
    assert (
        export_main(
            ["--model", str(model), "--out", str(out), "--name", "tiny", "--format", "onnx"]
        )
        == 0
    )
    assert "tiny.v2.onnx" in os.listdir(out / "tiny")


def test_checkpoint_only_run_exports_its_ema_generator(tmp_path, capsys):
    gan, run = checkpoint_run(tmp_path, "tgan", CLASSES)
    out = tmp_path / "exported"
    assert export_main(["--run", str(run), "--out", str(out), "--name", "t"]) == 0
    assert (
        export_main(["--checkpoint", str(run / "checkpoints"), "--out", str(out), "--name", "t"])
        == 0
    )
    z, labels = noise(gan, 2), np.array([2, 9], "int32")
    for version in ("1", "2"):
        sig = tf.saved_model.load(str(out / "t" / version)).signatures["generate"]
        video = sig(z=tf.constant(z), label=tf.constant(labels))["video"].numpy()
        np.testing.assert_allclose(video, reference(gan, z, labels), atol=1e-6)


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "empty_run").mkdir()
    (tmp_path / "notes.txt").write_text("hi")
    (tmp_path / "plain").mkdir()
    cases = [
        (["--run", str(tmp_path / "missing")], "does not exist"),
        (["--run", str(tmp_path / "empty_run")], "has no model.keras and no checkpoint"),
        (["--model", str(tmp_path / "notes.txt")], "is not a .keras file"),
        (["--checkpoint", str(tmp_path / "plain")], "is not a checkpoint"),
        (["--checkpoint", str(tmp_path / "nope")], "does not exist"),
        (["--model", "x.keras", "--format", "tflite,coreml"], "unknown format 'coreml'"),
        (["--model", "x.keras", "--name", "a/b"], "--name 'a/b' must use"),
        (["--model", "x.keras", "--run", "r"], "not allowed with argument"),
    ]
    for args, message in cases:
        assert export_main(args) == 2, args
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (args, err)
