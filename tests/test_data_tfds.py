"""Labelled TFDS data: a tiny data set built on disk by a builder defined here.

No network: ``TinyClips`` is a ``tfds.core.GeneratorBasedBuilder`` whose examples are
made in memory (random frames of 20x28, a ``Video`` feature and a ``ClassLabel``),
written to a temporary data dir. The builder is not registered, so TFDS finds the data
set by name in the data dir, as the training program does in its own process.
"""

import json
import logging
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from keras_vgan import data, video_io
from keras_vgan.data import DataError

tfds = pytest.importorskip("tensorflow_datasets")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME = "tiny_clips"  # TinyClips, in snake case
CLASSES = ["circle", "square", "star"]  # sorted, as class folders are
H, W = 20, 28  # not square: "crop" cuts the sides
LENGTHS = [6, 7, 8, 9, 10, 2, 12]  # element 5 is shorter than a 4-frame clip
SHORT = 5


def element(i):
    """Element ``i``: random uint8 frames ``[LENGTHS[i], H, W, 3]``, class ``i % 3``."""
    rng = np.random.default_rng(i)
    return rng.integers(0, 256, (LENGTHS[i], H, W, 3), dtype=np.uint8), i % 3


class TinyClips(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """Seven random clips of three classes."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            description="keras_vgan test clips",
            features=tfds.features.FeaturesDict(
                {
                    "video": tfds.features.Video(shape=(None, H, W, 3)),
                    "label": tfds.features.ClassLabel(names=CLASSES),
                }
            ),
        )

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples()}

    def _generate_examples(self):
        for i in range(len(LENGTHS)):
            frames, label = element(i)
            yield i, {"video": frames, "label": label}


@pytest.fixture(scope="module")
def tiny_tfds(tmp_path_factory):
    """The data dir holding the prepared ``tiny_clips``."""
    data_dir = tmp_path_factory.mktemp("tfds")
    config = tfds.download.DownloadConfig(try_download_gcs=False)
    TinyClips(data_dir=str(data_dir)).download_and_prepare(download_config=config)
    return str(data_dir)


@pytest.fixture(scope="module")
def same_as_frame_folders(tmp_path_factory):
    """The same elements as PNG frame folders ``root/<class>/e<i>/``."""
    root = tmp_path_factory.mktemp("frames")
    for i in range(len(LENGTHS)):
        frames, label = element(i)
        for t, frame in enumerate(frames):
            video_io.write_png(str(root / CLASSES[label] / f"e{i}" / f"{t:03d}.png"), frame)
    return str(root)


def warnings_of(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "keras_vgan.data"]


def pairs_of(ds):
    return sorted((int(y), video_io.to_uint8(x.numpy()).tobytes()) for x, y in ds)


def test_tfds_clips_take_the_same_path_as_files(tiny_tfds, same_as_frame_folders, caplog):
    caplog.set_level(logging.WARNING, "keras_vgan.data")
    clip = dict(frames=4, size=16, start="even", labels=True)
    source = data.TFDSVideos(NAME, data_dir=tiny_tfds, **clip)
    assert isinstance(source, data.ClipSource)
    assert source.class_names == CLASSES and source.video_key == "video"
    assert source.num_examples == len(LENGTHS) and source.split == "train"
    ds = source.dataset(shuffle=False, repeat=2)
    assert ds.element_spec[0].shape == (4, 16, 16, 3) and ds.element_spec[1].dtype == tf.int32
    got = pairs_of(ds)

    # The same frames as files: the same crop, resize and labels, byte for byte.
    files = data.FrameFolders(same_as_frame_folders, **clip)
    assert files.class_names == CLASSES
    assert got == sorted(pairs_of(files.dataset(shuffle=False, repeat=2)))
    assert len(got) == 2 * (len(LENGTHS) - 1)

    # The short element: skipped with one line (not once per epoch), and recorded.
    lines = [x for x in warnings_of(caplog) if "TFDS element" in x]
    assert len(lines) == 1 and "\n" not in lines[0]
    assert lines[0].startswith("keras_vgan.data: skipping TFDS element '")
    assert "2 frames, shorter than one clip (4 frames at stride 1 need 4)" in lines[0]
    assert source.skip_counts == {"too short": 1} and source.skipped[0].kind == "too short"


def test_tfds_labels_batches_class_names_and_data_dir_from_the_environment(
    tiny_tfds, tmp_path, monkeypatch
):
    monkeypatch.setenv("TFDS_DATA_DIR", tiny_tfds)
    source = data.open_source(f"tfds:{NAME}", frames=3, size=(8, 12), stride=2, labels=True)
    clips, labels = next(iter(source.dataset(batch_size=4, seed=1)))
    assert clips.shape == (4, 3, 8, 12, 3) and labels.shape == (4,)
    assert set(labels.numpy()) <= {0, 1, 2}
    path = source.save_class_names(tmp_path / "run" / "class_names.json")
    assert json.loads(open(path).read()) == CLASSES
    again = data.open_source(f"tfds:{NAME}", frames=3, size=8, labels=True)
    first = [b.numpy().tobytes() for b, _ in again.dataset(seed=3).take(5)]
    assert first == [b.numpy().tobytes() for b, _ in again.dataset(seed=3).take(5)]

    plain = data.TFDSVideos(NAME, frames=3, size=8, channels=1)
    assert plain.class_names is None and next(iter(plain.dataset())).shape == (3, 8, 8, 1)
    with pytest.raises(ValueError, match="no class labels"):
        plain.save_class_names(tmp_path / "x.json")


def test_tfds_with_no_element_long_enough_ends_with_one_error(tiny_tfds):
    source = data.TFDSVideos(NAME, data_dir=tiny_tfds, frames=40, size=8)
    with pytest.raises(tf.errors.OpError, match="every TFDS element of this source failed"):
        list(source.dataset(repeat=True))
    with pytest.raises(DataError, match="has no split 'test'"):
        data.TFDSVideos(NAME, data_dir=tiny_tfds, split="test")


@pytest.mark.slow  # 24 s; the TFDS clip path, labels and class names are in the default run
def test_training_program_trains_a_conditional_model_from_labelled_tfds(tiny_tfds, tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT, TFDS_DATA_DIR=tiny_tfds)
    args = ["--preset", "quick", "--frames", "4", "--size", "16", "--depth", "2", "--width", "4",
            "--latent-dim", "8", "--batch-size", "4", "--num-samples", "4", "--channels", "3",
            "--epochs", "1", "--steps-per-epoch", "2", "--quiet", "--data", f"tfds:{NAME}",
            "--num-classes", "3", "--logdir", str(tmp_path / "logs"), "--run-name", "tfds"]  # fmt: skip
    proc = subprocess.run([sys.executable, "-m", "training", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=400)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run_dir,) = list((tmp_path / "logs").iterdir())
    assert json.loads((run_dir / "class_names.json").read_text()) == CLASSES
    config = json.loads((run_dir / "config.json").read_text())
    assert config["data"] == f"tfds:{NAME}" and config["num_classes"] == 3
    assert (run_dir / "model.keras").exists()

    # A class count the data set does not have: one line, exit 2, nothing written.
    wrong = list(args)
    wrong[wrong.index("--num-classes") + 1] = "2"
    wrong[wrong.index("--logdir") + 1] = str(tmp_path / "wrong")
    proc = subprocess.run([sys.executable, "-m", "training", *wrong], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=200)  # fmt: skip
    assert proc.returncode == 2 and "3 classes" in proc.stderr, proc.stderr
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert not (tmp_path / "wrong").exists()
