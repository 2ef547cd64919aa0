"""Task pairs from data on disk: the Moving MNIST .npy file and folders of paired videos."""

import os

import numpy as np
import pytest

from keras_vgan import video_io
from keras_vgan.data import DataError
from keras_vgan.data import pairs as pairs_lib


def test_moving_mnist_file_gives_10_to_10_prediction_pairs(tmp_path):
    rng = np.random.default_rng(0)
    array = rng.integers(0, 256, (20, 3, 64, 64), dtype=np.uint8)
    path = str(tmp_path / "mnist_test_seq.npy")
    np.save(path, array)
    ds = pairs_lib.source_pairs("prediction", path, frames=20, size=64, batch_size=2,
                                context_frames=10)  # fmt: skip
    x, y = next(iter(ds))
    assert x.shape == (2, 10, 64, 64, 1) and y.shape == (2, 10, 64, 64, 1)
    # The pair is one sequence of the file cut in two, scaled to [-1, 1].
    clip = np.concatenate([x[0], y[0]])[..., 0]
    matches = [np.allclose(clip, array[:, i] / 127.5 - 1.0, atol=1e-5) for i in range(3)]
    assert sum(matches) == 1


def test_paired_folders_align_inputs_with_targets(tmp_path):
    rng = np.random.default_rng(1)
    for name in ("a", "b"):
        video = rng.integers(0, 256, (6, 16, 16, 3), dtype=np.uint8)
        for folder, v in (("inputs", 255 - video), ("targets", video)):
            os.makedirs(tmp_path / folder / name)  # frame folders: lossless PNG frames
            for t, frame in enumerate(v):
                video_io.write_png(str(tmp_path / folder / name / f"{t:04d}.png"), frame)
    assert pairs_lib.is_paired_folder(tmp_path)
    x, y = next(
        iter(pairs_lib.paired_folders(tmp_path, frames=4, size=16, channels=3, batch_size=2))
    )
    assert x.shape == y.shape == (2, 4, 16, 16, 3)
    # inputs are the negatives of the targets: the same clip of the same file was cut from both.
    np.testing.assert_allclose(np.asarray(x), -np.asarray(y), atol=1e-5)
    os.rename(tmp_path / "inputs" / "b", tmp_path / "inputs" / "c")
    with pytest.raises(DataError, match="must hold the same items"):
        pairs_lib.paired_folders(tmp_path, frames=4, size=16, channels=3)
    with pytest.raises(DataError, match="is not a folder of paired videos"):
        pairs_lib.paired_folders(tmp_path / "inputs", frames=4)
