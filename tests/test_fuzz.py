"""Property-based fuzzing (hypothesis) of the places where user input enters.

Every case must end in a one-line error (the project's error types, or a ValueError /
OSError with a one-line message; exit status 2 and one stderr line for a program), a
skip with one warning line, or a correct result: never another exception (a traceback
to the user), never a hang (per-example deadlines, per-test timeouts).

Edges: the video readers (``video_io``, ``data.VideoFiles``, ``data.FrameFolders``)
on real files with random byte damage and truncation; the Moving MNIST ``.npy``
loader with random shapes, dtypes and damaged headers; the flags of ``python -m
training`` with random values per ``TrainConfig`` field type (parsed and validated,
training stubbed out); ``config.json`` of a run (``--resume``, ``load_run_config``);
the SavedModel and LiteRT samplers of ``keras_vgan.export`` with wrong shapes, dtypes
and ranks.

Profiles: ``fuzz`` (the default run: a few examples per test, derandomised, so the
suite stays fast and stable) and ``fuzz-long`` (``KERAS_VGAN_FUZZ=long``: many
random examples); the ``slow`` tests at the end run every edge with many examples.
"""

import contextlib
import dataclasses
import datetime
import io
import json
import logging
import math
import os
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

settings.register_profile(
    "fuzz",
    max_examples=25,
    deadline=datetime.timedelta(seconds=20),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz-long",
    max_examples=200,
    deadline=datetime.timedelta(seconds=30),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("fuzz-long" if os.environ.get("KERAS_VGAN_FUZZ") == "long" else "fuzz")
LONG = settings(max_examples=300, derandomize=False)  # the slow tests

from keras_vgan import video_io  # noqa: E402
from keras_vgan.config import TrainConfig  # noqa: E402
from keras_vgan.data.base import DataError, ItemError  # noqa: E402
from keras_vgan.data.frame_folders import FrameFolders  # noqa: E402
from keras_vgan.data.moving_mnist_file import MovingMNISTFile, load_moving_mnist_file  # noqa: E402
from keras_vgan.data.video_files import VideoFiles, probe_video  # noqa: E402

pytestmark = pytest.mark.timeout(300)


def one_line(error):
    text = str(error)
    assert text and "\n" not in text.strip() and "Traceback" not in text, repr(text)
    return text


def damage(data, cut, edits):
    """``data`` cut to ``cut`` bytes (None: whole), then ``edits`` ``(position, byte)``."""
    b = bytearray(data if cut is None else data[: min(cut, len(data))])
    for pos, value in edits:
        if b:
            b[pos % len(b)] = value
    return bytes(b)


damages = st.tuples(
    st.one_of(st.none(), st.integers(0, 4096)),
    st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=24),
)


@pytest.fixture(scope="module")
def real_files(tmp_path_factory):
    """Small real files written by video_io: an mp4, a GIF and a PNG frame."""
    root = tmp_path_factory.mktemp("real")
    rng = np.random.default_rng(0)
    clip = (rng.random((8, 16, 16, 3)) * 255).astype(np.uint8)
    paths = {
        "mp4": video_io.write_mp4(root / "clip.mp4", clip),
        "gif": video_io.write_gif(root / "clip.gif", clip),
        "png": video_io.write_png(root / "frame.png", clip[0]),
    }
    return root, Files({k: open(p, "rb").read() for k, p in paths.items()})


class Files(dict):
    def __repr__(self):  # hypothesis prints the arguments of a failing case
        return f"Files({', '.join(f'{k}: {len(v)} bytes' for k, v in self.items())})"


# === video readers ===


def check_read(kind, path):
    try:
        video = video_io.read_gif(path) if kind == "gif" else video_io.read_video(path)
    except (OSError, ValueError) as e:
        assert os.fspath(path) in one_line(e)
        return None
    assert video.dtype == np.uint8 and video.ndim == 4 and video.shape[-1] == 3
    assert video.shape[0] >= 1 and min(video.shape[1:3]) >= 1
    return video


@given(kind=st.sampled_from(["mp4", "gif"]), hurt=damages)
def test_damaged_video_files_read_or_fail_in_one_line(real_files, tmp_path_factory, kind, hurt):
    _, files = real_files
    path = tmp_path_factory.mktemp("damaged") / f"clip.{kind}"
    path.write_bytes(damage(files[kind], *hurt))
    check_read(kind, path)
    if kind == "mp4":
        try:
            info = probe_video(os.fspath(path))
        except ItemError as e:
            one_line(e)
        else:
            assert info["frames"] >= 1 and min(info["height"], info["width"]) >= 8


class Warnings(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@contextlib.contextmanager
def data_warnings():
    handler = Warnings()
    logger = logging.getLogger("keras_vgan.data")
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


def check_clips(source, n, frames, size, channels):
    """``n`` clips of ``source`` decode to the right shape in [-1, 1] (a file that fails
    while decoding is dropped with a warning, never an exception)."""
    clips = list(source.dataset(batch_size=1, repeat=True, seed=1).take(n).as_numpy_iterator())
    for clip in clips:
        assert clip.shape == (1, frames, size, size, channels)
        assert np.isfinite(clip).all() and clip.min() >= -1 and clip.max() <= 1
    return clips


def check_source(build, names, kinds):
    """Builds a source from an intact and a damaged item: the damaged one is read or
    skipped with one warning line; the intact one always remains."""
    with data_warnings() as lines:
        try:
            source = build()
        except (DataError, ValueError) as e:
            pytest.fail(f"the intact file should keep the source usable: {one_line(e)}")
        check_clips(source, 2, 4, 16, 1)
    for line in lines:
        one_line(line)
    # (an item that fails while decoding stays in items and is added to skipped)
    assert len(source.items) >= 1 and len(source.items) <= len(names)
    assert {s.name for s in source.skipped} <= {i.name for i in source.items} | {
        os.path.join(source.root, n) for n in os.listdir(source.root)
    }, source.skipped
    assert len(lines) >= source.num_skipped
    assert {s.kind for s in source.skipped} <= kinds, source.skipped


@settings(max_examples=6)
@given(hurt=damages)
def test_a_damaged_video_in_a_folder_is_read_or_skipped_with_one_warning(
    real_files, tmp_path_factory, hurt
):
    _, files = real_files
    folder = tmp_path_factory.mktemp("videos")
    (folder / "a_intact.mp4").write_bytes(files["mp4"])
    (folder / "b_damaged.mp4").write_bytes(damage(files["mp4"], *hurt))
    check_source(
        lambda: VideoFiles(folder, frames=4, size=16, channels=1, probe_workers=1),
        ["a", "b"],
        {"empty", "not a video", "no frames", "too small", "too short", "truncated",
         "decode error"},
    )  # fmt: skip


@settings(max_examples=6)
@given(hurt=damages, which=st.integers(0, 5))
def test_a_damaged_frame_in_a_frame_folder_is_read_or_skipped(
    real_files, tmp_path_factory, hurt, which
):
    _, files = real_files
    root = tmp_path_factory.mktemp("frames")
    for clip in ("a_intact", "b_damaged"):
        (root / clip).mkdir()
        for i in range(6):
            data = files["png"]
            if clip == "b_damaged" and i == which:
                data = damage(data, *hurt)
            (root / clip / f"f{i}.png").write_bytes(data)
    with data_warnings() as lines:
        source = FrameFolders(root, frames=4, size=16, channels=1, probe_workers=1)
        check_clips(source, 2, 4, 16, 1)
    for line in lines:
        one_line(line)
    assert 1 <= len(source.items) <= 2 and source.num_skipped <= len(lines)


# === the Moving MNIST .npy loader ===

DTYPES = ["uint8", "int8", "uint16", ">u2", "int64", "float16", "float32", "float64", "bool",
          "complex64", "U3", "V2"]  # fmt: skip


@given(
    shape=st.lists(st.integers(0, 5), min_size=0, max_size=5),
    dtype=st.sampled_from(DTYPES),
    frames=st.one_of(st.none(), st.integers(-1, 7)),
    size=st.one_of(st.none(), st.integers(-1, 9), st.just((4, 6))),
    channels=st.sampled_from([1, 3, 2, 0]),
    stride=st.integers(0, 3),
)
def test_moving_mnist_arrays_of_any_shape_and_dtype(
    tmp_path_factory, shape, dtype, frames, size, channels, stride
):
    path = tmp_path_factory.mktemp("npy") / "seq.npy"
    np.save(path, np.ones(shape, dtype=dtype))
    try:
        array = load_moving_mnist_file(path)
    except DataError as e:
        assert str(path) in one_line(e)
        assert not (dtype == "uint8" and len(shape) == 4 and 0 not in shape)
        return
    assert array.dtype == np.uint8 and array.shape == tuple(shape)
    try:
        source = MovingMNISTFile(path, frames=frames, size=size, channels=channels, stride=stride)
    except (DataError, ValueError) as e:
        one_line(e)
        return
    clip = next(iter(source.dataset(batch_size=1, repeat=True)))
    assert clip.shape == (1, source.frames, source.height, source.width, channels)
    assert np.isfinite(clip.numpy()).all()


@given(hurt=damages)
def test_damaged_moving_mnist_files_fail_in_one_line(tmp_path_factory, hurt):
    path = tmp_path_factory.mktemp("npy") / "seq.npy"
    good = io.BytesIO()
    np.save(good, np.arange(4 * 3 * 8 * 8, dtype=np.uint8).reshape(4, 3, 8, 8))
    path.write_bytes(damage(good.getvalue(), *hurt))
    try:
        source = MovingMNISTFile(path, frames=2, size=8)
    except DataError as e:
        one_line(e)
        return
    clip = next(iter(source.dataset(batch_size=1)))
    assert clip.shape == (1, 2, 8, 8, 1)


# === the flags of python -m training ===

FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}
# Paths that exist would open (and walk) real data: the data flag draws from these.
DATA_VALUES = ["moving_mnist", "shapes", "tfds:", "/no/such/data", "", "-", "moving"]
argv_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)


def field_values(name):
    """Random flag values for a TrainConfig field, drawn by the field's type."""
    kind = type(FIELDS[name].default)
    if name == "data":
        return st.sampled_from(DATA_VALUES)
    if kind is int:
        numbers = st.one_of(st.integers(-3, 70), st.integers(-(10**20), 10**20))
        return st.one_of(numbers.map(str), st.sampled_from(["1.5", "0x10", "1e3"]), argv_text)
    if kind is float:
        floats = st.floats(allow_nan=True, allow_infinity=True)
        return st.one_of(floats.map(repr), st.sampled_from(["nan", "-inf", "1e400"]), argv_text)
    return st.one_of(argv_text, st.sampled_from(["batch", "layer", "none", "x2", "wgan"]))


flag_sets = st.lists(st.sampled_from(sorted(FIELDS)), min_size=1, max_size=4, unique=True).flatmap(
    lambda names: st.tuples(*[st.tuples(st.just(n), field_values(n)) for n in names])
)


class WouldTrain(Exception):
    """Raised by the stubbed ``runs.train``: the flags were accepted."""


def run_program(argv, tmp):
    """``training.cli.main(argv)`` in-process with training stubbed out.

    Returns:
        ``(status, stderr, config or None)``: the config ``runs.train`` was handed.
    """
    from training import cli

    seen = {}

    def train(config, run_dir, **kwargs):
        seen["config"] = config
        raise WouldTrain

    err = io.StringIO()
    with (
        mock.patch("keras_vgan.runs.train", train),
        contextlib.redirect_stderr(err),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        try:
            status = cli.main([*argv, "--logdir", os.fspath(tmp)])
        except SystemExit as e:
            status = e.code
        except WouldTrain:
            status = "train"
    return status, err.getvalue(), seen.get("config")


def check_program(status, err, config):
    if status == "train":  # accepted: every numeric field is a finite number
        assert err == "", err
        for name, value in dataclasses.asdict(config).items():
            if isinstance(value, float):
                assert math.isfinite(value), (name, value)
        assert 0 <= config.seed < 2**31  # keras.utils.set_random_seed takes it
        return
    assert status == 2, (status, err)
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("python -m training: error: "), err
    assert "Traceback" not in err


@given(flags=flag_sets)
def test_random_flag_values_are_accepted_or_one_line_exit_2(tmp_path_factory, flags):
    argv = []
    for name, value in flags:
        argv += ["--" + name.replace("_", "-"), value]
    check_program(*run_program(argv, tmp_path_factory.mktemp("logs")))


# === config.json of a run ===

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def config_files(draw):
    """Bytes of a config.json: a valid one with fields of wrong types, a damaged one,
    or any JSON at all."""
    good = dataclasses.asdict(TrainConfig())
    how = draw(st.sampled_from(["wrong types", "damaged", "any json"]))
    if how == "wrong types":
        for name in draw(st.lists(st.sampled_from(sorted(good)), min_size=1, max_size=3)):
            good[name] = draw(json_values)
        return json.dumps(good).encode()
    if how == "damaged":
        return damage(json.dumps(good, indent=2).encode(), *draw(damages))
    return json.dumps(draw(json_values)).encode()


@given(data=config_files())
def test_a_bad_config_json_is_one_line_on_resume(tmp_path_factory, data):
    from keras_vgan import runs

    run_dir = tmp_path_factory.mktemp("run")
    (run_dir / "config.json").write_bytes(data)
    try:
        config = runs.load_run_config(run_dir)
    except (ValueError, OSError) as e:
        one_line(e)
    else:
        assert isinstance(config, TrainConfig)
    check_program(*run_program(["--resume", os.fspath(run_dir)], run_dir))


# === the serving samplers (SavedModel, LiteRT) ===


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A tiny conditional VGAN exported once: its SavedModel and fp32 LiteRT samplers."""
    pytest.importorskip("ai_edge_litert", reason="the LiteRT sampler needs ai-edge-litert")
    from keras_vgan.export import litert, runners, saved_model
    from tests.helpers import CLASSES, tiny_gan

    gan = tiny_gan("vgan", CLASSES)
    root = tmp_path_factory.mktemp("served")
    saved = saved_model.export_saved_model(gan, root / "1")
    tflite = litert.export_litert(gan, root / "gan.tflite")
    samplers = [runners.SavedModelSampler(saved), runners.LiteRTSampler(tflite)]
    return gan, samplers


@st.composite
def sampler_inputs(draw, latent, classes):
    """``(z, labels, valid)``: noise and labels, right or wrong in shape, dtype, rank."""
    batch = draw(st.integers(0, 3))
    valid = True
    how = draw(st.sampled_from(["right", "width", "rank", "dtype", "nonfinite", "text"]))
    if how == "right":
        z = np.random.default_rng(draw(st.integers(0, 99))).standard_normal((batch, latent))
        z = z.astype(draw(st.sampled_from(["float32", "float64", "float16"])))
    elif how == "width":
        z = np.zeros((batch, draw(st.integers(0, 3 * latent).filter(lambda n: n != latent))))
        valid = False
    elif how == "rank":
        shape = draw(st.lists(st.integers(1, latent), max_size=4).filter(lambda s: len(s) != 2))
        z, valid = np.zeros(shape, np.float32), False
    elif how == "dtype":
        dtype = draw(st.sampled_from(["complex64", "bool", "U4", "object"]))
        z, valid = np.zeros((batch, latent), dtype), False
    elif how == "nonfinite":
        z = np.zeros((max(batch, 1), latent), np.float32)
        z[0, draw(st.integers(0, latent - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        valid = False
    else:
        z, valid = draw(st.sampled_from(["noise", [[1.0, "a"]], [[0.0], [0.0, 1.0]]])), False
    kind = draw(st.sampled_from(["none", "right", "range", "count", "float", "text"]))
    n = len(z) if isinstance(z, np.ndarray) and z.ndim >= 1 else batch
    if kind == "none":
        labels = None
    elif kind == "right":
        labels = np.arange(n) % classes
        labels = labels.astype(draw(st.sampled_from(["int8", "int32", "int64", "uint8"])))
    elif kind == "range":
        labels = np.full(max(n, 1), draw(st.sampled_from([-1, classes, 2**31 + 1, 2**40])))
        valid = False
    elif kind == "count":
        labels = np.zeros(n + draw(st.integers(1, 3)), np.int32)
        valid = False
    elif kind == "float":
        labels, valid = np.full(max(n, 1), 0.5), False
    else:
        labels, valid = draw(st.sampled_from(["a", ["x"], [[0], [1, 2]]])), False
    return z, labels, valid


@given(data=st.data())
def test_samplers_reject_wrong_inputs_in_one_line_and_never_give_wrong_output(served, data):
    from tests.helpers import CLASSES, LATENT, reference

    gan, samplers = served
    z, labels, valid = data.draw(sampler_inputs(LATENT, CLASSES))
    for sampler in samplers:
        try:
            out = sampler(z, labels)
        except ValueError as e:
            one_line(e)
            assert not valid, f"{sampler.format} refused a valid input: {e}"
            continue
        assert valid, f"{sampler.format} accepted an invalid input: z {np.shape(z)} {labels!r}"
        z32 = np.asarray(z, np.float32)
        expected = reference(gan, z32, None if labels is None else np.asarray(labels, np.int32))
        assert out.shape == expected.shape
        np.testing.assert_allclose(out, expected, atol=1e-4)


# === long runs ===


@pytest.mark.slow
@LONG
@given(kind=st.sampled_from(["mp4", "gif"]), hurt=damages)
def test_long_damaged_video_files(real_files, tmp_path_factory, kind, hurt):
    test_damaged_video_files_read_or_fail_in_one_line.hypothesis.inner_test(
        real_files, tmp_path_factory, kind, hurt
    )


@pytest.mark.slow
@LONG
@given(flags=flag_sets)
def test_long_random_flags(tmp_path_factory, flags):
    test_random_flag_values_are_accepted_or_one_line_exit_2.hypothesis.inner_test(
        tmp_path_factory, flags
    )


@pytest.mark.slow
@LONG
@given(data=config_files())
def test_long_config_json(tmp_path_factory, data):
    test_a_bad_config_json_is_one_line_on_resume.hypothesis.inner_test(tmp_path_factory, data)


@pytest.mark.slow
@LONG
@given(data=st.data())
def test_long_samplers(served, data):
    test_samplers_reject_wrong_inputs_in_one_line_and_never_give_wrong_output.hypothesis.inner_test(
        served, data
    )


@pytest.mark.slow
@settings(max_examples=100, derandomize=False)
@given(
    shape=st.lists(st.integers(0, 5), min_size=0, max_size=5),
    dtype=st.sampled_from(DTYPES),
    frames=st.one_of(st.none(), st.integers(-1, 7)),
    size=st.one_of(st.none(), st.integers(-1, 9), st.just((4, 6))),
    channels=st.sampled_from([1, 3, 2, 0]),
    stride=st.integers(0, 3),
)
def test_long_moving_mnist_arrays(tmp_path_factory, shape, dtype, frames, size, channels, stride):
    test_moving_mnist_arrays_of_any_shape_and_dtype.hypothesis.inner_test(
        tmp_path_factory, shape, dtype, frames, size, channels, stride
    )


@pytest.mark.slow
@settings(max_examples=40, derandomize=False)
@given(hurt=damages, which=st.integers(0, 5))
def test_long_damaged_folders(real_files, tmp_path_factory, hurt, which):
    test_a_damaged_video_in_a_folder_is_read_or_skipped_with_one_warning.hypothesis.inner_test(
        real_files, tmp_path_factory, hurt
    )
    test_a_damaged_frame_in_a_frame_folder_is_read_or_skipped.hypothesis.inner_test(
        real_files, tmp_path_factory, hurt, which
    )
