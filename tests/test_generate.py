"""``python -m generate``: clips from a .keras file, a checkpoint-only run, a SavedModel,
a .tflite and an .onnx file; the same seed gives the same clips in every format; mp4,
GIF and PNG outputs; labels, truncation, clip length; one-line errors with exit 2."""

import os

import numpy as np
import pytest

from generate.cli import main as generate_main
from generate.cli import sample
from keras_vgan import video_io
from keras_vgan.export import (
    endpoints,
    export_litert,
    export_onnx,
    export_saved_model,
    open_sampler,
)
from tests.helpers import CLASSES, SIZE, tiny_gan
from tests.helpers import EXPORT_FRAMES as FRAMES

pytest.importorskip("ai_edge_litert", reason="needs ai-edge-litert (in [dev])")
pytest.importorskip("onnxruntime", reason="needs the [onnx] extra")


def test_latent_noise_is_sample_noise_and_truncation_bounds_it():
    z = endpoints.latent_noise(5, 8, seed=3).numpy()
    gan = tiny_gan("vgan")
    np.testing.assert_array_equal(z, np.asarray(gan.sample_noise(5, seed=3)))
    t = endpoints.latent_noise(500, 8, seed=3, truncation=0.5).numpy()
    assert np.abs(t).max() <= 0.5 and 0.2 < np.abs(t).mean() < 0.3  # truncated N(0,1): 0.245
    inside = np.abs(z) <= 0.5  # entries already in range are kept
    np.testing.assert_array_equal(t[:5][inside], z[inside])
    with pytest.raises(ValueError, match="truncation=0.0 must be > 0"):
        endpoints.latent_noise(2, 8, truncation=0.0)


@pytest.mark.slow  # 10-15 s; keeps the default suite under 15 min on 2 cores
def test_every_format_gives_the_same_clips_and_writes_files(tmp_path, capsys):
    gan = tiny_gan("vgan")
    model = str(tmp_path / "gan.keras")
    gan.save(model)
    sources = {
        "keras": model,
        "saved_model": export_saved_model(gan, str(tmp_path / "served" / "vgan" / "1")),
        "litert": export_litert(gan, str(tmp_path / "vgan.tflite")),
        "onnx": export_onnx(gan, str(tmp_path / "vgan.onnx"))[0],
    }
    want = np.asarray(gan.generate(num=3, seed=4))
    for fmt, path in sources.items():
        sampler = open_sampler(path)
        assert sampler.format == fmt
        np.testing.assert_allclose(sample(sampler, 3, seed=4), want, atol=1e-5, err_msg=fmt)
    # the program itself, from a TF Serving model directory (its highest version)
    out = tmp_path / "out"
    code = generate_main(
        [str(tmp_path / "served" / "vgan"), "--num", "3", "--seed", "4", "--out", str(out)]
    )
    assert code == 0, capsys.readouterr().err
    names = sorted(os.listdir(out))
    assert names == sorted(
        [f"clip_{i:03d}.{e}" for i in range(3) for e in ("mp4", "gif")]
        + ["grid.gif", "grid.mp4", "contact_sheet.png"]
    )
    gif = video_io.read_gif(out / "clip_001.gif", channels=1)
    np.testing.assert_array_equal(gif, video_io.to_uint8(want[1]))  # grey GIF is lossless
    mp4 = video_io.read_video(out / "clip_001.mp4")
    assert mp4.shape == (FRAMES, SIZE, SIZE, 3)
    sheet = np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(out / "contact_sheet.png"))
    assert sheet.shape == (3 * SIZE, FRAMES * SIZE)
    assert "3 clips of 8x16x16x1" in capsys.readouterr().out


def test_labels_truncation_and_length_from_a_mocogan_checkpoint(tmp_path, capsys):
    from tests.test_export_program import checkpoint_run

    gan, run = checkpoint_run(tmp_path, "mocogan", CLASSES)
    sampler = open_sampler(str(run))
    assert sampler.variable_frames and sampler.num_classes == CLASSES
    z = np.asarray(endpoints.latent_noise(2, gan.latent_dim, seed=1))
    np.testing.assert_allclose(
        sample(sampler, 2, seed=1, label=3), np.asarray(gan.generate(z, labels=[3, 3])), atol=1e-6
    )
    longer = sample(sampler, 2, seed=1, label=3, frames=12)
    assert longer.shape[1] == 12
    np.testing.assert_allclose(longer[:, :FRAMES], sample(sampler, 2, seed=1, label=3), atol=1e-5)
    truncated = sample(sampler, 2, seed=1, label=3, truncation=0.3)
    assert not np.allclose(truncated, sample(sampler, 2, seed=1, label=3))
    out = str(tmp_path / "o")
    args = [
        str(run),
        "--num",
        "2",
        "--label",
        "9",
        "--frames",
        "12",
        "--truncation",
        "0.7",
        "--out",
        out,
    ]
    assert generate_main(args) == 0
    assert video_io.read_gif(os.path.join(out, "clip_000.gif"), channels=1).shape[0] == 12
    capsys.readouterr()
    tflite = export_litert(gan, str(tmp_path / "m.tflite"))
    cases = [
        ([str(run), "--label", "10"], "label 10 is outside the class range [0, 9]"),
        ([str(run), "--label", "-1"], "label -1 is outside the class range [0, 9]"),
        ([tflite, "--frames", "12"], "makes clips of 8 frames only"),
        ([tflite, "--label", "12"], "label 12 is outside the class range [0, 9]"),
    ]
    for argv, message in cases:
        assert generate_main([*argv, "--out", out]) == 2, argv
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (argv, err)


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    gan = tiny_gan("frame_gan", spread=False)
    model = str(tmp_path / "g.keras")
    gan.save(model)
    (tmp_path / "empty_run").mkdir()
    (tmp_path / "empty_run" / "config.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("hi")
    (tmp_path / "broken.tflite").write_bytes(b"nope")
    cases = [
        ([str(tmp_path / "missing.keras")], "does not exist"),
        ([str(tmp_path / "notes.txt")], "is not a run directory, checkpoint, .keras file"),
        ([str(tmp_path / "empty_run")], "has no model.keras and no checkpoint"),
        ([str(tmp_path / "broken.tflite")], "cannot load"),
        ([model, "--label", "1"], "is unconditional (it takes no label)"),
        ([model, "--frames", "4"], "makes clips of 8 frames only"),
        ([model, "--num", "0"], "--num 0 must be >= 1"),
        ([model, "--truncation", "-1"], "--truncation -1.0 must be > 0"),
        ([], "give PATH or --checkpoint"),
        ([model, "--seed", "x"], "invalid int value: 'x'"),
    ]
    for argv, message in cases:
        assert generate_main([*argv, "--out", str(tmp_path / "o")]) == 2, argv
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (argv, err)
