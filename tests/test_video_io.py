"""Tests for keras_vgan.video_io and keras_vgan.summaries (fast, files under tmp_path)."""

import io
import os
import stat

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_vgan import summaries, video_io

T, H, W = 8, 32, 40


def _ramp_gray():
    """uint8 [T, H, W, 1]: a horizontal ramp that moves 3 levels per frame."""
    t = np.arange(T)[:, None, None]
    x = np.arange(W)[None, None, :]
    v = np.broadcast_to((x * 6 + t * 3) % 256, (T, H, W))
    return np.ascontiguousarray(v, dtype=np.uint8)[..., None]


def _smooth_rgb():
    """uint8 [T, H, W, 3]: three moving gradients, a few thousand distinct colours."""
    t = np.arange(T)[:, None, None]
    y = np.arange(H)[None, :, None]
    x = np.arange(W)[None, None, :]
    chans = [x * 6 + t * 4, y * 7 + 0 * t, (x + y) * 3 + t * 10]
    v = np.stack([np.broadcast_to(c, (T, H, W)) for c in chans], axis=-1)
    return np.clip(v, 0, 255).astype(np.uint8)


def _few_colour_rgb():
    """uint8 [6, 16, 16, 3]: at most 8 colours, a white square moving diagonally."""
    v = np.zeros((6, 16, 16, 3), np.uint8)
    for i in range(6):
        v[i] = [(i * 40, 0, 255 - i * 40), (0, 255, 0)][i % 2]
        v[i, i : i + 3, i : i + 3] = 255
    return v


# === to_uint8 ===


def test_to_uint8_known_values():
    x = np.array([-1.0, 0.0, 1.0, -3.0, 3.0, 0.5, np.nan], np.float32)
    # (x + 1) * 127.5 rounded half up: 0 -> 127.5 -> 128.
    np.testing.assert_array_equal(video_io.to_uint8(x), [0, 128, 255, 0, 255, 191, 128])
    assert video_io.to_uint8(tf.constant([-1.0, 1.0])).tolist() == [0, 255]
    u = np.arange(256, dtype=np.uint8)
    assert video_io.to_uint8(u) is u
    with pytest.raises(ValueError, match="int32"):
        video_io.to_uint8(np.zeros(3, np.int32))


# === video_grid ===


def test_video_grid_shape_and_layout():
    b = 5
    v = np.stack([np.full((3, 8, 10, 1), i + 1, np.uint8) for i in range(b)])
    g = video_io.video_grid(v, pad=1, pad_value=0)
    # 5 clips -> 3 columns x 2 rows, 1-pixel gaps between tiles only.
    assert g.shape == (3, 2 * 8 + 1, 3 * 10 + 2, 1)
    assert g.dtype == np.uint8
    assert g[0, 0, 0, 0] == 1 and g[0, 0, 11, 0] == 2 and g[0, 9, 0, 0] == 4
    assert g[0, 9, 22, 0] == 0  # empty sixth cell keeps pad_value
    assert g[0, 8, 0, 0] == 0  # gap row
    f = video_io.video_grid(np.zeros((4, 2, 6, 6, 3), np.float32), cols=4, pad=2)
    assert f.shape == (2, 6, 4 * 6 + 3 * 2, 3) and f.dtype == np.float32


# === GIF ===


def test_gif_round_trip_grayscale_is_exact(tmp_path):
    v = _ramp_gray()
    path = tmp_path / "gray.gif"
    assert video_io.write_gif(path, v, fps=10) == os.fspath(path)
    assert os.listdir(tmp_path) == ["gray.gif"]  # no temporary left behind
    with Image.open(path) as im:
        assert im.n_frames == T and im.size == (W, H)
        assert im.info["loop"] == 0 and im.info["duration"] == 100
    back = video_io.read_gif(path, channels=1)
    assert back.shape == (T, H, W, 1)
    # Tolerance 0: grayscale GIFs use a 256-level grey palette.
    np.testing.assert_array_equal(back, v)
    np.testing.assert_array_equal(video_io.read_gif(path), np.repeat(v, 3, axis=-1))


def test_gif_round_trip_rgb(tmp_path):
    v = _smooth_rgb()
    path = tmp_path / "rgb.gif"
    video_io.write_gif(path, video_io.to_uint8(v).astype(np.float32) / 127.5 - 1.0)
    with Image.open(path) as im:
        assert im.n_frames == T and im.size == (W, H)
    back = video_io.read_gif(path)
    assert back.shape == (T, H, W, 3) and back.dtype == np.uint8
    err = np.abs(back.astype(int) - v.astype(int))
    # Thousands of colours squeezed into one 256-colour palette (measured: mean
    # ~7, max ~32 levels). Tolerance: mean < 10, max <= 48.
    assert err.mean() < 10 and err.max() <= 48
    # With at most 256 colours the shared palette is exact.
    few = _few_colour_rgb()
    np.testing.assert_array_equal(video_io.read_gif(io.BytesIO(video_io.encode_gif(few))), few)


def test_gif_palette_is_shared_across_frames():
    v = _smooth_rgb()
    assert len(np.unique(v.reshape(-1, 3), axis=0)) > 256
    back = video_io.read_gif(io.BytesIO(video_io.encode_gif(v)))
    # One palette for the whole clip: at most 256 colours over all frames
    # (per-frame palettes would use up to 256 per frame and flicker).
    assert len(np.unique(back.reshape(-1, 3), axis=0)) <= 256


# === mp4 ===


def test_mp4_round_trip(tmp_path):
    v = _smooth_rgb()
    path = tmp_path / "clip.mp4"
    video_io.write_mp4(path, v, fps=8)
    assert os.listdir(tmp_path) == ["clip.mp4"]
    back = video_io.read_video(path)
    assert back.shape == (T, H, W, 3) and back.dtype == np.uint8
    # mp4v is lossy; a smooth clip comes back within a few levels on average.
    assert np.abs(back.astype(float) - v).mean() < 10
    assert video_io.read_video(path, max_frames=3).shape == (3, H, W, 3)


def test_video_reader_seeks_strides_and_fails_in_one_line(tmp_path):
    # Frame k is flat grey 20 + 25 k: its index survives the lossy codec.
    levels = 20 + 25 * np.arange(T)
    v = np.broadcast_to(levels[:, None, None, None], (T, H, W, 3)).astype(np.uint8)
    path = video_io.write_mp4(tmp_path / "index.mp4", v)
    with video_io.VideoReader(path) as video:
        assert video.frame_count == T and video.fps == 8
        frames = list(video.frames(start=1, stride=3))  # frames 1, 4, 7
    assert [f.shape for f in frames] == [(H, W, 3)] * 3
    np.testing.assert_allclose([f.mean() for f in frames], levels[[1, 4, 7]], atol=4)
    with video_io.VideoReader(path) as video:
        assert len(list(video.frames(count=2))) == 2 and video.count_remaining() == T - 2
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video" * 10)
    with pytest.raises(OSError) as info:
        video_io.VideoReader(junk)
    assert str(info.value) == f"cannot open video {str(junk)!r} with OpenCV"


def test_mp4_grayscale_and_odd_size(tmp_path):
    v = _ramp_gray()[:, :31, :39]
    path = tmp_path / "gray.mp4"
    video_io.write_mp4(path, v)
    back = video_io.read_video(path)
    # Grayscale -> 3 channels; odd sizes padded by one replicated row/column.
    assert back.shape == (T, 32, 40, 3)
    assert np.abs(back[:, :31, :39].astype(float) - v).mean() < 10


def test_mp4_errors_name_the_path(tmp_path):
    v = np.zeros((2, 16, 16, 3), np.uint8)
    bad = tmp_path / "clip.gif"  # FFmpeg's gif muxer refuses the mp4v codec
    with pytest.raises(OSError, match="clip.gif"):
        video_io.write_mp4(bad, v)
    assert os.listdir(tmp_path) == []
    with pytest.raises(OSError, match="missing.mp4"):
        video_io.read_video(tmp_path / "missing.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video" * 10)
    with pytest.raises((OSError, ValueError), match="junk.mp4"):
        video_io.read_video(junk)


# === contact sheet / PNG ===


def test_contact_sheet_and_png(tmp_path):
    v = _smooth_rgb()
    sheet = video_io.contact_sheet(v)
    assert sheet.shape == (H, W * T, 3) and sheet.dtype == np.uint8
    np.testing.assert_array_equal(sheet[:, W : 2 * W], v[1])
    some = video_io.contact_sheet(v, max_frames=3)  # frames 0, 4 (3.5 rounds to 4), 7
    assert some.shape == (H, 3 * W, 3)
    np.testing.assert_array_equal(some[:, -W:], v[-1])
    batch = video_io.contact_sheet(np.zeros((2, 4, 8, 6, 1), np.float32))
    assert batch.shape == (16, 24, 1) and batch.max() == 128
    path = tmp_path / "sheet.png"
    video_io.write_png(path, sheet)
    with Image.open(path) as im:
        np.testing.assert_array_equal(np.asarray(im), sheet)


# === bad shapes ===


@pytest.mark.parametrize(
    "fn, arg, shape",
    [
        (video_io.video_grid, "videos", (T, H, W, 3)),
        (video_io.encode_gif, "video", (2, T, H, W, 3)),
        (video_io.encode_gif, "video", (T, H, W, 4)),
        (lambda x: video_io.write_mp4("/nonexistent/x.mp4", x), "video", (H, W, 3)),
        (video_io.contact_sheet, "video", (H, W)),
        (lambda x: video_io.write_png("/nonexistent/x.png", x), "image", (2, H, W, 3)),
        (lambda x: summaries.video_summary("v", x, step=0), "videos", (H, W, 3)),
    ],
)
def test_bad_shapes_raise_value_error_naming_the_argument(fn, arg, shape, tmp_path):
    writer = tf.summary.create_file_writer(os.fspath(tmp_path))
    with writer.as_default(), pytest.raises(ValueError, match=rf"^{arg} has shape") as e:
        fn(np.zeros(shape, np.uint8))
    assert str(shape) in str(e.value) and "expected [" in str(e.value)
    assert "\n" not in str(e.value)


# === summaries ===


def test_video_summary_writes_animated_gif(tmp_path):
    rng = np.random.default_rng(0)
    videos = rng.uniform(-1, 1, (3, T, 16, 12, 3)).astype(np.float32)  # distinct frames
    writer = tf.summary.create_file_writer(os.fspath(tmp_path))
    with writer.as_default():
        ok = summaries.video_summary("samples", tf.constant(videos), step=7, description="hi")
        summaries.video_summary("samples", videos, step=8, max_outputs=1)
    writer.flush()
    assert bool(ok)

    got = summaries.read_video_summaries(tmp_path)
    assert [(s, tag) for s, tag, _ in got] == [(7, "samples"), (8, "samples")]
    with Image.open(io.BytesIO(got[0][2])) as im:
        assert im.format == "GIF" and im.is_animated and im.n_frames == T
        assert im.size == (2 * 12 + 1, 2 * 16 + 1)  # 3 clips -> 2x2 grid
    with Image.open(io.BytesIO(got[1][2])) as im:
        assert im.size == (12, 16)

    # The raw event: image-plugin metadata and tf.summary.image's [w, h, bytes] layout.
    (event_file,) = [os.path.join(tmp_path, f) for f in os.listdir(tmp_path)]
    values = [
        v
        for e in tf.compat.v1.train.summary_iterator(event_file)
        for v in e.summary.value
        if v.tag == "samples"
    ]
    assert values[0].metadata.plugin_data.plugin_name == "images"
    assert values[0].metadata.summary_description == "hi"
    w, h, gif = tf.make_ndarray(values[0].tensor)
    assert (w, h) == (b"25", b"33") and gif == got[0][2]


def test_video_summary_without_writer_returns_false():
    assert not bool(summaries.video_summary("v", np.zeros((1, 2, 4, 4, 1)), step=0))


def test_read_scalars_tensor_and_simple_value(tmp_path):
    metadata = tf.compat.v1.SummaryMetadata()
    metadata.plugin_data.plugin_name = "scalars"
    writer = tf.summary.create_file_writer(os.fspath(tmp_path / "train"))
    with writer.as_default():
        for step in range(3):
            # What tf.summary.scalar writes: a float32 rank-0 tensor, plugin "scalars".
            tf.summary.write("epoch_loss", tf.constant(0.5 * step), step=step, metadata=metadata)
        legacy = tf.compat.v1.Summary(
            value=[tf.compat.v1.Summary.Value(tag="old", simple_value=2.5)]
        )
        tf.summary.experimental.write_raw_pb(legacy.SerializeToString(), step=4)
        summaries.video_summary("gif", np.zeros((1, 2, 4, 4, 1)), step=0)  # not a scalar
    writer.flush()
    got = summaries.read_scalars(tmp_path)
    assert got == {"train/epoch_loss": [(0, 0.0), (1, 0.5), (2, 1.0)], "train/old": [(4, 2.5)]}
    assert summaries.read_video_summaries(tmp_path, tag="gif")[0][1] == "train/gif"


def test_read_scalars_reads_tf_summary_scalar(tmp_path):
    pytest.importorskip("tensorboard", reason="tf.summary.scalar needs the tensorboard package")
    writer = tf.summary.create_file_writer(os.fspath(tmp_path))
    with writer.as_default():
        tf.summary.scalar("loss", 1.25, step=3)
    writer.flush()
    assert summaries.read_scalars(tmp_path) == {"loss": [(3, 1.25)]}


def test_written_files_get_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        clip = np.zeros((2, 8, 8, 1), np.uint8)
        for name, write in (("a.gif", video_io.write_gif), ("a.mp4", video_io.write_mp4)):
            write(str(tmp_path / name), clip)
            assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o644
    finally:
        os.umask(old)
