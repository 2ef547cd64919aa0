"""Built-in data sets: Moving MNIST and bouncing shapes."""

import numpy as np
import pytest
import tensorflow as tf

from keras_vgan import data
from keras_vgan.data.moving_mnist import bounce_positions


def _clips(ds):
    """All elements of a finite data set as one NumPy array [N, ...] (unbatching)."""
    out = [np.asarray(x) for x in ds]
    return np.concatenate(out) if out[0].ndim == 5 else np.stack(out)


def _to_uint8(clip):
    return np.round((np.asarray(clip) + 1.0) * 127.5).astype(np.int64)


# --------------------------------------------------------------------------- MNIST digits


def test_mnist_digits_are_real_and_balanced():
    images, labels = data.load_mnist_digits()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (5000,) and labels.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(labels), [500] * 10)
    # MNIST statistics: mean grey level 0.1307 * 255 and ~19% of pixels inked.
    assert 30 < images.mean() < 37
    ink = (images > 0).sum(axis=(1, 2))
    assert 40 < ink.min() and ink.max() < 500 and 120 < ink.mean() < 200
    assert images.max() == 255

    def extent(mean_image):  # weighted standard deviation of row and column coordinates
        w = mean_image / mean_image.sum()
        coords = np.arange(28.0)
        rows, cols = w.sum(axis=1), w.sum(axis=0)
        sd = [np.sqrt((p * (coords - (p * coords).sum()) ** 2).sum()) for p in (rows, cols)]
        return sd[0], sd[1]

    tall, wide = extent(images[labels == 1].mean(axis=0))
    assert tall > 2.0 * wide  # a mean "1" is a thin vertical stroke
    tall0, wide0 = extent(images[labels == 0].mean(axis=0))
    assert 0.7 < tall0 / wide0 < 1.4  # a mean "0" is a round blob


def test_mnist_splits():
    train_x, train_y = data.load_mnist_digits("train")
    test_x, test_y = data.load_mnist_digits("test")
    np.testing.assert_array_equal(np.bincount(train_y), [450] * 10)
    np.testing.assert_array_equal(np.bincount(test_y), [50] * 10)
    all_x, _ = data.load_mnist_digits("all")
    train_keys = {x.tobytes() for x in train_x}
    assert not any(x.tobytes() in train_keys for x in test_x)
    assert len(train_keys | {x.tobytes() for x in test_x}) == len({x.tobytes() for x in all_x})
    assert data.load_mnist_digits("train")[0] is train_x  # cached
    assert not train_x.flags.writeable
    with pytest.raises(ValueError, match="split"):
        data.load_mnist_digits("valid")


# --------------------------------------------------------------------------- Moving MNIST


def test_moving_mnist_shapes_dtypes_range():
    ds = data.moving_mnist(num_clips=4, batch_size=2)
    assert ds.element_spec.shape == (2, 20, 64, 64, 1)
    clips = _clips(ds)
    assert clips.shape == (4, 20, 64, 64, 1) and clips.dtype == np.float32
    assert clips.min() == -1.0 and clips.max() <= 1.0 and clips.max() > 0.9
    assert 0.03 < (clips > -1.0).mean() < 0.3  # mostly background, some ink

    small = _clips(data.moving_mnist(frames=5, size=32, num_digits=3, num_clips=2))
    assert small.shape == (2, 5, 32, 32, 1)
    clip, label = next(iter(data.moving_mnist(return_labels=True)))
    assert clip.shape == (20, 64, 64, 1) and label.dtype == tf.int32 and label.shape == ()


def test_moving_mnist_determinism():
    a = _clips(data.moving_mnist(num_clips=3, seed=7))
    b = _clips(data.moving_mnist(num_clips=3, seed=7))
    c = _clips(data.moving_mnist(num_clips=3, seed=8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a[0], a[1])  # clips of one stream differ too


def test_moving_mnist_clip_index_independent_of_batching_and_resumable():
    base = _clips(data.moving_mnist(num_clips=10, frames=8, seed=3))
    batched = _clips(data.moving_mnist(num_clips=10, frames=8, seed=3, batch_size=3))
    np.testing.assert_array_equal(batched, base[:9])  # drop_remainder drops clip 9
    kept = _clips(
        data.moving_mnist(num_clips=10, frames=8, seed=3, batch_size=3, drop_remainder=False)
    )
    np.testing.assert_array_equal(kept, base)
    resumed = _clips(data.moving_mnist(num_clips=4, frames=8, seed=3, start_index=6))
    np.testing.assert_array_equal(resumed, base[6:])
    infinite = data.moving_mnist(frames=8, seed=3, start_index=6, batch_size=2)
    np.testing.assert_array_equal(next(iter(infinite)), base[6:8])


def _find_digit(frame, bank):
    """Indices of the bank digits that appear unmodified somewhere in a one-digit frame."""
    frame = _to_uint8(frame)[..., 0]
    windows = np.lib.stride_tricks.sliding_window_view(frame, (28, 28))
    found = []
    for i in np.flatnonzero(bank.reshape(len(bank), -1).sum(axis=1) == frame.sum()):
        if (windows == bank[i]).all(axis=(2, 3)).any():
            found.append(i)
    return found


def test_moving_mnist_renders_real_digits_with_labels():
    for split in ("train", "test"):
        images, labels = data.load_mnist_digits(split)
        ds = data.moving_mnist(num_digits=1, num_clips=4, frames=3, split=split, return_labels=True)
        for clip, label in ds:
            for frame in clip:
                found = _find_digit(frame, images)
                assert found, "frame does not contain an unmodified digit of the split"
                assert int(label) in {int(labels[i]) for i in found}


def test_moving_mnist_motion_and_bouncing():
    clips = _to_uint8(_clips(data.moving_mnist(num_digits=1, num_clips=6, frames=200, seed=5)))
    for clip in clips[..., 0]:
        # It moves: consecutive frames differ (except, rarely, when a step only reaches a
        # wall it was already touching: the original clamps positions to the walls).
        assert np.mean([not np.array_equal(clip[t], clip[t + 1]) for t in range(199)]) > 0.9
        # The digit never leaves the canvas: its ink mass is exactly constant.
        mass = clip.sum(axis=(1, 2))
        assert (mass == mass[0]).all()
        # ... and it does bounce: it sweeps the whole 36-pixel range on some axis.
        rows, cols = np.arange(64.0)[:, None], np.arange(64.0)[None, :]
        cy = (clip * rows).sum(axis=(1, 2)) / mass
        cx = (clip * cols).sum(axis=(1, 2)) / mass
        assert max(np.ptp(cy), np.ptp(cx)) >= 35
        # At 0.1 of the 36-pixel free range per frame: 3.6 px per frame, less at walls.
        assert 3.0 < np.hypot(np.diff(cy), np.diff(cx)).mean() < 3.7


def test_moving_mnist_two_digits_keep_their_mass_apart():
    """Two digits: full mass whenever their ink does not overlap, less (max) where it does."""
    clip = _to_uint8(next(iter(data.moving_mnist(num_digits=2, frames=60, seed=11))))[..., 0]
    mass = clip.sum(axis=(1, 2))
    # Most frames have no overlap and show exactly the two digits' total mass; overlaps
    # only lose mass (pixel-wise maximum), and never most of it.
    assert np.median(mass) == mass.max()
    assert mass.min() < mass.max()  # this clip has crossings
    assert mass.min() > 0.5 * mass.max()


def _original_walk(y, x, theta, steps, step_length=0.1):
    """The generator of Srivastava et al. (2015), one digit, in float64."""
    v_y, v_x = np.sin(theta), np.cos(theta)
    out = []
    for _ in range(steps):
        y += v_y * step_length
        x += v_x * step_length
        if x <= 0:
            x, v_x = 0.0, -v_x
        if x >= 1.0:
            x, v_x = 1.0, -v_x
        if y <= 0:
            y, v_y = 0.0, -v_y
        if y >= 1.0:
            y, v_y = 1.0, -v_y
        out.append((y, x))
    return np.array(out)


def test_bounce_positions_match_the_original_generator():
    rng = np.random.default_rng(0)
    n, steps = 200, 100
    start = rng.random((n, 2))
    theta = rng.random(n) * 2 * np.pi
    velocity = 0.1 * np.stack([np.sin(theta), np.cos(theta)], axis=-1)
    got = bounce_positions(tf.constant(start), tf.constant(velocity), steps).numpy()  # [T, n, 2]
    want = np.stack([_original_walk(*start[i], theta[i], steps) for i in range(n)], axis=1)
    assert got.min() >= 0.0 and got.max() <= 1.0
    np.testing.assert_allclose(got, want, atol=1e-9)
    # The integer pixel positions (as the original: truncation of 36 * p) agree.
    assert (np.floor(got * 36) == np.floor(want * 36)).mean() > 0.999


# --------------------------------------------------------------------------- shapes


def test_shapes_shapes_dtypes_range_and_colour():
    ds = data.bouncing_shapes(num_clips=4, batch_size=4)
    assert ds.element_spec.shape == (4, 16, 64, 64, 3)
    clips = _clips(ds)
    assert clips.shape == (4, 16, 64, 64, 3) and clips.dtype == np.float32
    assert clips.min() >= -1.0 and clips.max() <= 1.0
    assert clips.max() > 0.5  # bright shapes
    assert np.median(clips) < -0.7  # on a dark background
    # Colour: the channels differ substantially where shapes are.
    bright = clips.max(axis=-1) > 0.0
    spread = clips.max(axis=-1) - clips.min(axis=-1)
    assert spread[bright].mean() > 0.3

    grey = _clips(data.bouncing_shapes(num_clips=2, channels=1, frames=4, size=32))
    assert grey.shape == (2, 4, 32, 32, 1) and grey.max() > 0.0

    labels = [int(y) for _, y in data.bouncing_shapes(num_clips=40, frames=1, return_labels=True)]
    assert set(labels) == {0, 1, 2}
    assert len(data.SHAPE_NAMES) == 3


def test_shapes_determinism_batching_and_resume():
    base = _clips(data.bouncing_shapes(num_clips=6, frames=4, seed=2))
    np.testing.assert_array_equal(base, _clips(data.bouncing_shapes(num_clips=6, frames=4, seed=2)))
    assert not np.array_equal(base, _clips(data.bouncing_shapes(num_clips=6, frames=4, seed=3)))
    batched = _clips(data.bouncing_shapes(num_clips=6, frames=4, seed=2, batch_size=4))
    np.testing.assert_allclose(batched, base[:4], atol=1e-6)
    resumed = _clips(data.bouncing_shapes(num_clips=2, frames=4, seed=2, start_index=4))
    np.testing.assert_allclose(resumed, base[4:], atol=1e-6)


def test_shapes_move_and_stay_inside():
    clips = _clips(data.bouncing_shapes(num_shapes=1, num_clips=4, frames=200, seed=1, size=48))
    for clip in clips:
        background = np.median(clip[0].reshape(-1, 3), axis=0)
        ink = np.abs(clip - background).sum(axis=-1)  # [T, H, W]
        mass = ink.sum(axis=(1, 2))
        # The shape is never cut by the canvas edge (antialiasing wobbles by a few %).
        assert mass.max() / mass.min() < 1.1
        assert all(not np.allclose(clip[t], clip[t + 1]) for t in range(199))
        cy = (ink * np.arange(48.0)[:, None]).sum(axis=(1, 2)) / mass
        cx = (ink * np.arange(48.0)[None, :]).sum(axis=(1, 2)) / mass
        radius_max = 48 / 6
        for c in (cy, cx):
            assert c.min() > radius_max * 0.5 - 1 and c.max() < 48 - radius_max * 0.5 + 1
        assert max(np.ptp(cy), np.ptp(cx)) > 20  # it bounces across the canvas


# --------------------------------------------------------------------------- dispatch, errors


def test_builtin_dataset_dispatch():
    assert data.BUILTIN_DATASETS == ("moving_mnist", "shapes")
    a = _clips(data.builtin_dataset("moving_mnist", num_clips=1, frames=2))
    np.testing.assert_array_equal(a, _clips(data.moving_mnist(num_clips=1, frames=2)))
    b = _clips(data.builtin_dataset("shapes", num_clips=1, frames=2, channels=1))
    assert b.shape == (1, 2, 64, 64, 1)
    with pytest.raises(ValueError, match="moving_mnist"):
        data.builtin_dataset("ucf101")


@pytest.mark.parametrize(
    "factory, kwargs, name",
    [
        (data.moving_mnist, {"frames": 0}, "frames"),
        (data.moving_mnist, {"size": 15}, "size"),
        (data.moving_mnist, {"size": 64.0}, "size"),
        (data.moving_mnist, {"num_digits": 0}, "num_digits"),
        (data.moving_mnist, {"num_clips": 0}, "num_clips"),
        (data.moving_mnist, {"batch_size": 0}, "batch_size"),
        (data.moving_mnist, {"start_index": -1}, "start_index"),
        (data.moving_mnist, {"seed": "a"}, "seed"),
        (data.bouncing_shapes, {"seed": 2**64}, "seed"),
        (data.moving_mnist, {"split": "validation"}, "split"),
        (data.bouncing_shapes, {"frames": -3}, "frames"),
        (data.bouncing_shapes, {"size": 8}, "size"),
        (data.bouncing_shapes, {"num_shapes": 0}, "num_shapes"),
        (data.bouncing_shapes, {"channels": 2}, "channels"),
        (data.bouncing_shapes, {"num_clips": 0}, "num_clips"),
        (data.bouncing_shapes, {"batch_size": True}, "batch_size"),
    ],
)
def test_bad_arguments_raise(factory, kwargs, name):
    with pytest.raises(ValueError, match=name) as info:
        factory(**kwargs)
    message = str(info.value)
    assert "\n" not in message and repr(next(iter(kwargs.values()))) in message
