"""Data on disk: video folders, frame folders, the Moving MNIST file, TFDS, bad files.

Every file here is written by the tests (real videos through OpenCV, then damaged);
nothing is downloaded.
"""

import dataclasses
import json
import logging
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import tensorflow as tf

from keras_vgan import builders, data, presets, video_io
from keras_vgan import config as config_lib
from keras_vgan.data import DataError
from training import frames as frames_program
from training.cli import main as train_main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
T, H, W = 12, 32, 32  # every test video: 12 frames of 32x32
STEP = 12  # frame t of an "index" video is grey level 10 + STEP * t (t <= 20)


def index_video(t=T, h=H, w=W, offset=0):
    """uint8 [t, h, w, 3]: frame k is flat grey 10 + STEP * (k + offset): its index
    survives lossy codecs (a few levels of error)."""
    levels = 10 + STEP * (np.arange(t) + offset)
    return np.broadcast_to(levels[:, None, None, None], (t, h, w, 3)).astype(np.uint8).copy()


def frame_indices(clip, offset=0):
    """Recover the frame indices of a float clip [T, H, W, C] of an index video."""
    grey = (np.asarray(clip).reshape(len(clip), -1).mean(axis=1) + 1.0) * 127.5
    return np.round((grey - 10) / STEP).astype(int) - offset


def write_cv2(path, video, fourcc, backend=cv2.CAP_FFMPEG, fps=8.0):
    """Writes RGB uint8 [T, H, W, 3] with an explicit OpenCV codec (avi/webm/1x1)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    t, h, w, _ = video.shape
    writer = cv2.VideoWriter(path, backend, cv2.VideoWriter_fourcc(*fourcc), fps, (w, h), True)
    assert writer.isOpened(), path
    for frame in video:
        writer.write(np.ascontiguousarray(frame[..., ::-1]))
    writer.release()
    return path


def write_video(path, video):
    ext = os.path.splitext(path)[1]
    if ext == ".avi":
        return write_cv2(path, video, "MJPG")
    if ext == ".webm":
        level = cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        try:  # OpenCV warns about the VP80 tag, then writes a valid WebM
            return write_cv2(path, video, "VP80")
        finally:
            cv2.utils.logging.setLogLevel(level)
    return video_io.write_mp4(path, video)


def warnings_of(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "keras_vgan.data"]


def batches(ds):
    return [tuple(np.asarray(t) for t in x) if isinstance(x, tuple) else np.asarray(x) for x in ds]


# --------------------------------------------------------------------------- video folders


@pytest.fixture(scope="module")
def formats_dir(tmp_path_factory):
    """One index video per container; the offset tells them apart."""
    root = tmp_path_factory.mktemp("formats")
    for k, ext in enumerate([".mp4", ".avi", ".mov", ".webm", ".mkv"]):
        write_video(str(root / "nested" / f"v{k}{ext}" if k % 2 else root / f"v{k}{ext}"),
                    index_video(offset=k))  # fmt: skip
    return str(root)


def test_every_container_decodes_to_clips_with_the_right_frames(formats_dir, caplog):
    source = data.VideoFiles(
        formats_dir, frames=4, size=16, channels=1, stride=3, start="even", clips_per_video=2
    )
    assert not warnings_of(caplog) and source.skip_counts == {}
    names = sorted(os.path.basename(it.name) for it in source.items)
    assert names == ["v0.mp4", "v1.avi", "v2.mov", "v3.webm", "v4.mkv"]  # recursive
    assert all(it.num_frames == T for it in source.items)
    assert source.span == 10 and source.clips_per_epoch == 10

    clips = batches(source.dataset(shuffle=False, repeat=False))
    assert len(clips) == 10
    for i, clip in enumerate(clips):
        assert clip.shape == (4, 16, 16, 1) and clip.dtype == np.float32
        assert -1.0 <= clip.min() and clip.max() <= 1.0
        offset = int(os.path.basename(source.items[i // 2].name)[1])
        first = 0 if i % 2 == 0 else T - 10  # two evenly spaced clips: first and last
        np.testing.assert_array_equal(frame_indices(clip, offset), first + 3 * np.arange(4))


def test_random_starts_cover_the_video_and_batches_are_5d(formats_dir):
    source = data.VideoFiles([os.path.join(formats_dir, "v0.mp4")], frames=5, size=8)
    starts = set()
    for batch in source.dataset(batch_size=4, seed=3).take(10):
        assert batch.shape == (4, 5, 8, 8, 3)
        for clip in batch.numpy():
            idx = frame_indices(clip)
            np.testing.assert_array_equal(idx, idx[0] + np.arange(5))
            starts.add(idx[0])
    assert starts == set(range(T - 5 + 1))  # every possible start, and no other


def test_resize_crop_keeps_aspect_stretch_does_not_and_colours_are_rgb(tmp_path):
    bars = np.zeros((T, 32, 64, 3), np.uint8)  # red | green (half) | blue, left to right
    bars[:, :, :16, 0] = 255
    bars[:, :, 16:48, 1] = 255
    bars[:, :, 48:, 2] = 255
    path = write_video(str(tmp_path / "bars.avi"), bars)
    crop = next(iter(data.VideoFiles(path, frames=2, size=16, resize="crop").dataset()))
    stretch = next(iter(data.VideoFiles(path, frames=2, size=16, resize="stretch").dataset()))
    u = video_io.to_uint8(crop.numpy())
    assert u.shape == (2, 16, 16, 3)
    assert u[..., 1].min() > 200 and u[..., 0].max() < 60 and u[..., 2].max() < 60  # all green
    s = video_io.to_uint8(stretch.numpy())
    assert s[:, 8, 1, 0].min() > 200 and s[:, 8, 1, 1].max() < 60  # red on the left
    assert s[:, 8, 14, 2].min() > 200 and s[:, 8, 14, 1].max() < 60  # blue on the right
    grey = next(iter(data.VideoFiles(path, frames=2, size=(8, 12), channels=1).dataset()))
    assert grey.shape == (2, 8, 12, 1)


def test_class_labels_from_sub_folders_and_the_saved_class_list(tmp_path):
    root = tmp_path / "ucf"
    # Class k's videos start at grey offset 4 * k, so a clip tells its class.
    for k, cls in enumerate(["Walking", "Biking", "Diving"]):
        for j in range(2):
            write_video(str(root / cls / f"g{j}.mp4"), index_video(offset=4 * k))
    classes_json = tmp_path / "out" / "classes.json"
    source = data.VideoFiles(
        str(root), frames=2, size=8, start="even", labels=True, class_names_path=str(classes_json)
    )
    assert source.class_names == ["Biking", "Diving", "Walking"]  # sorted
    assert json.loads(classes_json.read_text()) == source.class_names
    ds = source.dataset(batch_size=3, repeat=False, seed=1)
    assert ds.element_spec[1].dtype == tf.int32
    seen = []
    for clips, labels in ds:
        for clip, label in zip(clips.numpy(), labels.numpy(), strict=True):
            offset = 4 * ["Walking", "Biking", "Diving"].index(source.class_names[label])
            assert frame_indices(clip)[0] == offset + 5  # the middle clip of that class
            seen.append(int(label))
    assert sorted(seen) == [0, 0, 1, 1, 2, 2]

    fixed = data.VideoFiles(
        str(root), frames=2, size=8, labels=True, class_names=["Walking", "Biking", "Diving"]
    )
    assert fixed.class_names == ["Walking", "Biking", "Diving"]
    write_video(str(root / "loose.mp4"), index_video())
    with pytest.raises(DataError, match="loose.mp4' lies directly in"):
        data.VideoFiles(str(root), frames=2, size=8, labels=True)


def test_shuffled_stream_is_reproducible_mixes_files_and_resumes_exactly(formats_dir):
    source = data.VideoFiles(formats_dir, frames=3, size=8, channels=1, clips_per_video=2)

    def stream(**kwargs):
        clips = batches(source.dataset(seed=7, **kwargs).take(24))
        return np.stack(clips)

    a, b = stream(), stream()
    np.testing.assert_array_equal(a, b)  # a pure function of the seed
    offsets = [int(round(frame_indices(c)[0])) for c in a]
    assert a[:10].reshape(10, -1).std(axis=0).max() > 0
    epoch0, epoch1 = offsets[:10], offsets[10:20]
    assert epoch0 != epoch1  # new starts and order each epoch
    np.testing.assert_array_equal(stream(start_index=7)[:17], a[7:])  # across an epoch edge
    other = batches(source.dataset(seed=8).take(10))
    assert not np.array_equal(np.stack(other), a[:10])

    # Evenly spaced starts 0 and 9 make each clip's first frame name its (file, clip).
    even = data.VideoFiles(formats_dir, frames=3, size=8, clips_per_video=2, start="even")
    order = [frame_indices(c)[0] for c in batches(even.dataset(seed=7).take(20))]
    files = [os.path.basename(it.name)[1] for it in even.items]
    assert (
        sorted(order[:10])
        == sorted(order[10:])
        == sorted(int(k) + s for k in files for s in (0, 9))
    )  # every clip once per epoch ...
    assert order[:10] != order[10:] and order[:10] != sorted(order[:10])  # ... shuffled anew


def test_cache_reuses_the_first_epochs_clips(formats_dir, tmp_path):
    source = data.VideoFiles(formats_dir, frames=3, size=8, channels=1)
    for cache in (True, str(tmp_path / "cache")):
        clips = batches(source.dataset(cache=cache, seed=1).take(15))
        epochs = [sorted(c.tobytes() for c in clips[i : i + 5]) for i in (0, 5, 10)]
        assert epochs[0] == epochs[1] == epochs[2]  # same clips ...
        assert any(
            not np.array_equal(x, y) for x, y in zip(clips[:5], clips[5:10], strict=True)
        )  # ... in a new order


# --------------------------------------------------------------------------- bad files


@pytest.fixture
def messy_dir(tmp_path):
    """Two good videos and one of each kind of bad file."""
    root = tmp_path / "messy"
    good = write_video(str(root / "good1.mp4"), index_video())
    write_video(str(root / "sub" / "good2.avi"), index_video(offset=1))
    blob = open(good, "rb").read()
    (root / "garbage.mp4").write_bytes(os.urandom(4000))
    (root / "truncated.mp4").write_bytes(blob[: len(blob) // 2])  # moov atom lost
    avi = open(write_video(str(tmp_path / "whole.avi"), index_video()), "rb").read()
    (root / "truncated.avi").write_bytes(avi[: len(avi) * 4 // 5])  # opens, frames missing
    (root / "notes.mkv").write_text("this is not a video\n")
    (root / "empty.webm").write_bytes(b"")
    write_cv2(str(root / "zero_frames.avi"), index_video(t=0), "MJPG")
    write_video(str(root / "short.mp4"), index_video(t=3))
    write_cv2(str(root / "one_pixel.avi"), index_video(h=1, w=1), "MJPG", cv2.CAP_OPENCV_MJPEG)
    os.symlink(str(tmp_path / "gone.mp4"), str(root / "dangling.mp4"))
    (root / "readme.txt").write_text("not a video extension: ignored")
    return str(root)


EXPECTED_SKIPS = {
    "garbage.mp4": ("not a video", "OpenCV cannot open it"),
    "truncated.mp4": ("not a video", "OpenCV cannot open it"),
    "truncated.avi": ("truncated", "the container says 12 frames, only"),
    "notes.mkv": ("not a video", "OpenCV cannot open it"),
    "empty.webm": ("empty", "empty file (0 bytes)"),
    "zero_frames.avi": ("no frames", "no decodable frames"),
    "short.mp4": ("too short", "3 frames, shorter than one clip (6 frames at stride 1 need 6)"),
    "one_pixel.avi": ("too small", "frames are 1x1, below the minimum 8x8"),
    "dangling.mp4": ("unreadable", "cannot read the file (No such file or directory)"),
}


def test_bad_files_are_skipped_with_one_warning_each_and_counted(messy_dir, caplog):
    caplog.set_level(logging.WARNING, "keras_vgan.data")
    source = data.VideoFiles(messy_dir, frames=6, size=16)
    assert [os.path.basename(it.name) for it in source.items] == ["good1.mp4", "good2.avi"]
    lines = warnings_of(caplog)
    assert len(lines) == len(EXPECTED_SKIPS) and all("\n" not in line for line in lines)
    for name, (_, reason) in EXPECTED_SKIPS.items():
        (line,) = [x for x in lines if f"{os.sep}{name}'" in x]
        assert line.startswith("keras_vgan.data: skipping video '") and reason in line
    assert {os.path.basename(s.name): s.kind for s in source.skipped} == {
        k: v[0] for k, v in EXPECTED_SKIPS.items()
    }
    assert source.skip_counts == {
        "not a video": 3, "truncated": 1, "empty": 1, "no frames": 1, "too short": 1,
        "too small": 1, "unreadable": 1,
    }  # fmt: skip
    clips = batches(source.dataset(repeat=2, shuffle=False))
    assert len(clips) == 4  # two epochs of the two good videos: nothing stopped


def test_a_list_with_a_missing_path_and_nothing_readable(messy_dir, tmp_path, caplog):
    source = data.VideoFiles([os.path.join(messy_dir, "good1.mp4"), str(tmp_path / "nope.avi")],
                             frames=4, size=8)  # fmt: skip
    assert len(source.items) == 1 and source.skip_counts == {"unreadable": 1}
    bad = [os.path.join(messy_dir, n) for n in ("garbage.mp4", "short.mp4", "empty.webm")]
    with pytest.raises(DataError) as info:
        data.VideoFiles(bad, frames=6, size=8)
    message = str(info.value)
    assert message == (
        "no readable videos in the 3 given files: all 3 skipped "
        "(1 empty, 1 not a video, 1 too short; see the warnings above)"
    )
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"no video files \(.mp4, .avi, .mov.*found under"):
        data.VideoFiles(str(tmp_path / "empty"))
    with pytest.raises(DataError, match="video path '/no/such/dir' does not exist"):
        data.VideoFiles("/no/such/dir")


def test_a_file_broken_after_the_probe_drops_out_with_one_warning(tmp_path, caplog):
    caplog.set_level(logging.WARNING, "keras_vgan.data")
    paths = [write_video(str(tmp_path / f"v{k}.avi"), index_video(offset=k)) for k in range(3)]
    # start="even", no shuffle: each epoch, the clips of v0, v1, v2 show frames 4.., 5.., 6..
    source = data.VideoFiles(str(tmp_path), frames=4, size=8, channels=1, start="even")
    os.truncate(paths[1], 600)  # header intact, frames gone
    clips = batches(source.dataset(repeat=3, shuffle=False))
    assert [frame_indices(c)[0] for c in clips] == [4, 6] * 3  # 3 epochs of v0 and v2
    lines = [x for x in warnings_of(caplog) if "v1.avi" in x]
    assert len(lines) == 1 and "while decoding clip at frame" in lines[0]
    assert source.skip_counts == {"not a video": 1}  # OpenCV can no longer open it

    for p in paths:  # everything broken: the stream ends with a clear error, no hang
        os.truncate(p, 600)
    with pytest.raises(tf.errors.OpError, match="every video of this source failed"):
        batches(source.dataset())


# --------------------------------------------------------------------------- frames


def test_extract_frames_then_frame_folders_then_back_to_video(tmp_path):
    video = write_video(str(tmp_path / "clip.mp4"), index_video())
    written = data.extract_frames(video, str(tmp_path / "frames" / "a"), every=2, size=16)
    assert [os.path.basename(p) for p in written] == [f"frame_{i:06d}.png" for i in range(0, T, 2)]
    first = cv2.imread(written[1], cv2.IMREAD_UNCHANGED)
    assert first.shape == (16, 16, 3) and abs(int(first.mean()) - (10 + 2 * STEP)) <= 3

    # Unpadded numbers: natural order puts f2 before f10.
    for k in range(T):
        video_io.write_png(str(tmp_path / "frames" / "b" / f"f{k}.png"), index_video()[k])
    assert [os.path.basename(p) for p in data.list_frames(str(tmp_path / "frames" / "b"))][:3] == [
        "f0.png", "f1.png", "f2.png"]  # fmt: skip
    source = data.FrameFolders(str(tmp_path / "frames"), frames=3, size=8, start="even")
    assert [os.path.basename(it.name) for it in source.items] == ["a", "b"]
    assert [it.num_frames for it in source.items] == [T // 2, T]
    a, b = batches(source.dataset(shuffle=False, repeat=False))
    np.testing.assert_array_equal(frame_indices(a), [2, 4, 6])  # the middle of 0, 2, .. 10
    np.testing.assert_array_equal(frame_indices(b), [4, 5, 6])  # the middle of 0..11

    gif = data.frames_to_video(str(tmp_path / "frames" / "b"), str(tmp_path / "b.gif"), fps=4)
    mp4 = data.frames_to_video(written, str(tmp_path / "a.mp4"))
    assert video_io.read_gif(gif).shape == (T, H, W, 3)
    back = video_io.read_video(mp4)
    assert back.shape == (T // 2, 16, 16, 3)
    levels = 10 + STEP * np.arange(0, T, 2)
    assert np.abs(back.mean(axis=(1, 2, 3)) - levels).max() < 8  # mp4v: a few levels off


def test_frame_folders_labels_and_bad_folders(tmp_path, caplog):
    for cls in ("jump", "run"):
        for clip in ("c0", "c1"):
            for k in range(6):
                video_io.write_png(str(tmp_path / cls / clip / f"{k:03d}.png"), index_video()[k])
    (tmp_path / "run" / "c1" / "005.png").write_bytes(b"broken png")  # last frame broken
    for k in range(2):
        video_io.write_png(str(tmp_path / "jump" / "short" / f"{k}.png"), index_video()[k])
    source = data.FrameFolders(str(tmp_path), frames=4, size=8, labels=True)
    assert source.class_names == ["jump", "run"]
    assert [it.label for it in source.items] == [0, 0, 1]
    assert source.skip_counts == {"unreadable image": 1, "too short": 1}
    lines = warnings_of(caplog)
    assert any("skipping frame folder" in x and "'005.png' cannot be read" in x for x in lines)


def test_frames_program_extracts_and_assembles(tmp_path, capsys):
    video = write_video(str(tmp_path / "v.mp4"), index_video())
    out = str(tmp_path / "png")
    assert frames_program.main(["extract", video, out, "--every", "3", "--grey"]) == 0
    assert "wrote 4 frames" in capsys.readouterr().out
    assert cv2.imread(os.path.join(out, "frame_000003.png"), cv2.IMREAD_UNCHANGED).ndim == 2
    assert frames_program.main(["assemble", out, str(tmp_path / "v.gif"), "--fps", "2"]) == 0
    assert video_io.read_gif(str(tmp_path / "v.gif"), channels=1).shape == (4, H, W, 1)
    assert frames_program.main(["extract", str(tmp_path / "nope.mp4"), out]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err


# --------------------------------------------------------------------------- Moving MNIST file


@pytest.fixture(scope="module")
def mnist_npy(tmp_path_factory):
    """A correctly shaped mnist_test_seq.npy ([20, 6, 64, 64] uint8) of real digits."""
    clips = next(iter(data.moving_mnist(frames=20, size=64, batch_size=6, seed=5)))
    array = video_io.to_uint8(clips.numpy())[..., 0].transpose(1, 0, 2, 3)  # [20, 6, 64, 64]
    path = tmp_path_factory.mktemp("mnist") / "mnist_test_seq.npy"
    np.save(path, array)
    return str(path), array


def test_moving_mnist_file_clips_and_context_target_split(mnist_npy):
    path, array = mnist_npy
    source = data.MovingMNISTFile(path)
    assert (source.frames, source.height, source.channels, len(source.items)) == (20, 64, 1, 6)
    clips = batches(source.dataset(shuffle=False, repeat=False))
    for i, clip in enumerate(clips):
        np.testing.assert_array_equal(video_io.to_uint8(clip)[..., 0], array[:, i])
    context, target = next(iter(source.dataset(batch_size=4, context_frames=10, shuffle=False)))
    assert context.shape == (4, 10, 64, 64, 1) and target.shape == (4, 10, 64, 64, 1)
    np.testing.assert_array_equal(video_io.to_uint8(target.numpy()[2])[..., 0], array[10:, 2])
    c, t = next(iter(data.split_context_target(data.MovingMNISTFile(path).dataset(), 10)))
    assert c.shape == t.shape == (10, 64, 64, 1)

    small = data.MovingMNISTFile(path, frames=8, size=32, channels=3, sequences=slice(4, None))
    batch = next(iter(small.dataset(batch_size=2)))
    assert batch.shape == (2, 8, 32, 32, 3) and len(small.items) == 2
    np.testing.assert_array_equal(batch[..., 0], batch[..., 2])  # grey repeated


def test_moving_mnist_file_bad_arrays_get_one_line_errors(tmp_path, mnist_npy):
    cases = {
        "float.npy": (np.zeros((20, 2, 64, 64), np.float32), r"shape \[20, 2, 64, 64\] and dtype float32"),
        "flat.npy": (np.zeros((20, 64, 64), np.uint8), r"shape \[20, 64, 64\] and dtype uint8"),
        "objects.npy": (np.array([{"a": 1}], dtype=object), "cannot read"),
    }  # fmt: skip
    for name, (array, match) in cases.items():
        np.save(tmp_path / name, array, allow_pickle=True)
        with pytest.raises(DataError, match=match) as info:
            data.MovingMNISTFile(str(tmp_path / name))
        assert "\n" not in str(info.value)
    (tmp_path / "junk.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(DataError, match="cannot read .* as a .npy array"):
        data.MovingMNISTFile(str(tmp_path / "junk.npy"))
    with pytest.raises(DataError, match="20-frame sequences, shorter than one clip"):
        data.MovingMNISTFile(mnist_npy[0], frames=32)
    with pytest.raises(DataError, match="does not exist"):
        data.MovingMNISTFile(str(tmp_path / "missing.npy"))


# --------------------------------------------------------------------------- TFDS


def test_tfds_absent_is_one_line_and_never_downloads(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds

    def no_download(*args, **kwargs):
        raise AssertionError("download attempted")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", no_download)
    with pytest.raises(DataError) as info:
        data.TFDSVideos("moving_mnist", data_dir=str(tmp_path))
    assert str(info.value) == (
        f"TFDS data set 'moving_mnist' is not prepared in {str(tmp_path)!r}; prepare it with "
        f"`tfds build moving_mnist --data_dir {tmp_path}` (or pass download=True)"
    )
    with pytest.raises(DataError, match="unknown TFDS data set 'no_such_set_xyz'"):
        data.TFDSVideos("no_such_set_xyz", data_dir=str(tmp_path))


def test_tfds_moving_mnist_prepared_from_a_local_file(tmp_path, monkeypatch, mnist_npy):
    import tensorflow_datasets as tfds
    from tensorflow_datasets.video import moving_mnist as tfds_mm

    path, array = mnist_npy

    def local_split(self, dl_manager):  # the real builder, fed the local file
        return [tfds.core.SplitGenerator(name=tfds.Split.TEST, gen_kwargs={"data_path": path})]

    assert "url_infos" not in vars(tfds_mm.MovingMnist)
    with monkeypatch.context() as m:
        m.setattr(tfds_mm.MovingMnist, "_split_generators", local_split)
        tfds_mm.MovingMnist.url_infos = None  # no download, so no checksums to look up
        try:
            tfds.builder("moving_mnist", data_dir=str(tmp_path)).download_and_prepare()
        finally:
            del tfds_mm.MovingMnist.url_infos
    source = data.TFDSVideos(
        "moving_mnist", data_dir=str(tmp_path), frames=20, size=64, channels=1, start="even"
    )
    assert source.split == "test" and source.video_key == "image_sequence"
    clips = batches(source.dataset(shuffle=False, repeat=False))
    got = sorted(video_io.to_uint8(c)[..., 0].tobytes() for c in clips)
    assert got == sorted(array[:, i].tobytes() for i in range(array.shape[1]))
    small = data.TFDSVideos("moving_mnist", data_dir=str(tmp_path), frames=4, size=32, stride=2)
    assert next(iter(small.dataset(batch_size=3))).shape == (3, 4, 32, 32, 3)
    ctx, tgt = next(iter(data.open_source("tfds:moving_mnist", data_dir=str(tmp_path), frames=20,
                                          size=64, channels=1).dataset(context_frames=10)))  # fmt: skip
    assert ctx.shape == tgt.shape == (10, 64, 64, 1)


# --------------------------------------------------------------------------- training program


def test_source_kind_and_config_validation(tmp_path, formats_dir, mnist_npy):
    assert data.source_kind(formats_dir) == "videos"
    assert data.source_kind(os.path.join(formats_dir, "v0.mp4")) == "video"
    assert data.source_kind(mnist_npy[0]) == "npy"
    assert data.source_kind("tfds:moving_mnist") == "tfds"
    (tmp_path / "f" / "c").mkdir(parents=True)
    video_io.write_png(str(tmp_path / "f" / "c" / "0.png"), index_video()[0])
    assert data.source_kind(str(tmp_path / "f")) == "frames"
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(DataError, match="neither a .npy array nor a video"):
        data.source_kind(str(tmp_path / "x.txt"))

    config = presets.get_preset("quick")
    config.data, config.frames, config.size, config.depth = mnist_npy[0], 8, 16, 2
    config_lib.validate_config(config)
    batch = next(iter(builders.build_train_dataset(config, start_step=3)))
    assert batch.shape == (config.batch_size, 8, 16, 16, 1)
    config.data = "/no/such/path"
    with pytest.raises(ValueError, match="data='/no/such/path' is neither a built-in data set"):
        config_lib.validate_config(config)


def test_training_program_refuses_unreadable_data_in_one_line(tmp_path, capsys, caplog):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.mp4").write_bytes(os.urandom(100))
    code = train_main(["--data", str(bad), "--logdir", str(tmp_path / "logs")])
    err = capsys.readouterr().err
    assert code == 2 and not (tmp_path / "logs").exists()
    assert err.startswith("python -m training: error: no readable videos in ")
    assert err.count("\n") == 1
    assert len(warnings_of(caplog)) == 1 and "a.mp4" in warnings_of(caplog)[0]


@pytest.mark.slow  # ~10 s; the folder source and the program are each covered by default
def test_training_program_trains_vgan_on_a_video_folder(tmp_path):
    root = tmp_path / "videos"
    clips = next(iter(data.bouncing_shapes(frames=8, size=24, batch_size=3, seed=2)))
    for k, clip in enumerate(clips.numpy()):
        video_io.write_mp4(str(root / f"s{k}.mp4"), clip)
    (root / "broken.mp4").write_bytes(b"\x00" * 64)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    args = ["--preset", "quick", "--frames", "4", "--size", "16", "--depth", "2", "--width", "4",
            "--latent-dim", "8", "--batch-size", "4", "--num-samples", "4", "--channels", "3",
            "--epochs", "1", "--steps-per-epoch", "2", "--quiet", "--data", str(root),
            "--logdir", str(tmp_path / "logs"), "--run-name", "folder"]  # fmt: skip
    proc = subprocess.run([sys.executable, "-m", "training", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "skipping video" in proc.stderr and "broken.mp4" in proc.stderr
    (run_dir,) = list((tmp_path / "logs").iterdir())
    config = json.loads((run_dir / "config.json").read_text())
    assert config["data"] == str(root) and config["channels"] == 3
    assert (run_dir / "model.keras").exists()
    sample = video_io.read_gif(str(run_dir / "samples" / "final.gif"))
    assert sample.shape[0] == 4


def test_conditional_training_on_class_folders_with_stride_and_even_starts(tmp_path):
    from keras_vgan import runs

    root = tmp_path / "videos"
    clips = next(iter(data.bouncing_shapes(frames=8, size=16, batch_size=4, channels=3, seed=3)))
    for k, clip in enumerate(clips.numpy()):
        video_io.write_mp4(str(root / ("jump" if k % 2 else "run") / f"v{k}.mp4"), clip)
    config = dataclasses.replace(
        presets.get_preset("quick"),
        data=str(root), frames=4, size=16, channels=3, depth=2, width=4, latent_dim=8,
        batch_size=4, num_samples=2, epochs=1, steps_per_epoch=2, num_classes=2,
        data_stride=2, data_start="even", data_resize="stretch",
    )  # fmt: skip
    batch, labels = next(iter(builders.build_train_dataset(config)))
    assert batch.shape == (4, 4, 16, 16, 3) and set(labels.numpy()) <= {0, 1}
    run_dir = tmp_path / "run"
    result = runs.train(config, str(run_dir), verbose=0)
    assert result.steps_done == 2
    assert json.loads((run_dir / "class_names.json").read_text()) == ["jump", "run"]
    assert json.loads((run_dir / "config.json").read_text())["data_stride"] == 2

    for field, value, expected in [
        ("num_classes", 3, "has 2 classes"),
        ("data_stride", 0, "data_stride=0 must be a positive integer"),
        ("data_resize", "zoom", "data_resize='zoom'"),
        ("data_start", "middle", "data_start='middle'"),
    ]:
        with pytest.raises(ValueError, match=expected):
            config_lib.validate_config(dataclasses.replace(config, **{field: value}))
    flat = tmp_path / "flat"
    video_io.write_mp4(str(flat / "v.mp4"), clips.numpy()[0])
    with pytest.raises(ValueError, match="needs one sub-folder per class"):
        config_lib.validate_config(dataclasses.replace(config, data=str(flat)))
