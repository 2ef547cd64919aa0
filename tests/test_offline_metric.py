"""The offline video metric: shipped encoder, clip conversion, and its sanity.

The sanity test draws real Moving MNIST clips twice (independent seeds) and
compares the first draw with the second (the floor), with the second's frames
shuffled in time, with its first frame repeated (frozen), and with uniform
noise: each must be clearly and increasingly worse.
"""

import keras
import numpy as np
import pytest

from keras_vgan import data
from keras_vgan.metrics import offline
from keras_vgan.metrics.evaluation import Evaluator, generated_batches, real_batches

N = 512  # clips per set: enough for stable 128-d statistics, ~1 s to embed


def _real(seed, n=N, size=32):
    ds = data.moving_mnist(frames=16, size=size, num_clips=n, batch_size=n, seed=seed)
    return next(iter(ds)).numpy()


@pytest.fixture(scope="module")
def sets():
    a, b = _real(101), _real(202)
    rng = np.random.default_rng(0)
    shuffled = np.stack([clip[rng.permutation(16)] for clip in b])
    frozen = np.repeat(b[:, :1], 16, axis=1)
    noise = rng.uniform(-1, 1, b.shape).astype("float32")
    return a, {"real": b, "shuffled": shuffled, "frozen": frozen, "noise": noise}


@pytest.fixture(scope="module")
def scores(sets):
    a, others = sets
    ref = offline.embed(a)
    return {name: offline.offline_metrics(ref, offline.embed(x)) for name, x in others.items()}


def test_shipped_encoder_is_small_and_loads():
    import os

    path = offline.default_encoder_path()
    assert os.path.getsize(path) < 2_000_000
    encoder = offline.load_encoder()
    assert isinstance(encoder, offline.OfflineVideoEncoder)
    assert (encoder.frames, encoder.size, encoder.channels) == (16, 32, 1)


def test_offline_fd_is_sensitive_to_time_and_content(scores):
    fd = {k: v["offline_fd"] for k, v in scores.items()}
    print({k: round(v, 3) for k, v in fd.items()})
    # Real vs an independent real draw sits at the floor; breaking time (shuffled
    # frames), removing motion (frozen) and removing content (noise) are each
    # clearly and increasingly worse.
    assert fd["shuffled"] > 5 * fd["real"]
    assert fd["frozen"] > 1.5 * fd["shuffled"]
    assert fd["noise"] > 1.5 * fd["frozen"]


def test_kvd_and_is_agree(scores):
    kvd = {k: v["offline_kvd"] for k, v in scores.items()}
    assert abs(kvd["real"]) < 0.1 * kvd["shuffled"]
    assert kvd["real"] < kvd["shuffled"] < kvd["noise"] and kvd["frozen"] < kvd["noise"]
    is_ = {k: v["offline_is"] for k, v in scores.items()}
    # Real two-digit clips: about half the mass on each of two digits -> IS near 5.
    assert 3.0 < is_["real"] <= 5.0 + 1e-6
    assert is_["noise"] < 2.0


def test_clip_conversion():
    clips = _real(7, n=4)
    grey = offline.prepare_clips(clips).numpy()
    np.testing.assert_allclose(grey, clips, atol=1e-6)
    # RGB with equal channels has the same luma; uint8 pixels map to [-1, 1].
    rgb = offline.prepare_clips(np.repeat(clips, 3, axis=-1)).numpy()
    np.testing.assert_allclose(rgb, clips, atol=1e-5)
    u8 = np.round((clips + 1) * 127.5).astype(np.uint8)
    np.testing.assert_allclose(offline.prepare_clips(u8).numpy(), clips, atol=1 / 255)
    # Longer and larger clips: the first 16 frames, resized to 32x32 (64x64 Moving
    # MNIST becomes close to the 32x32 rendering of the same clips).
    big = data.moving_mnist(frames=20, size=64, num_clips=4, batch_size=4, seed=7)
    small = offline.prepare_clips(next(iter(big)).numpy()).numpy()
    assert small.shape == (4, 16, 32, 32, 1)
    f_small, _ = offline.embed(small)
    f_ref, _ = offline.embed(clips)
    assert np.linalg.norm(f_small - f_ref) < 0.5 * np.linalg.norm(f_ref)


def test_moving_mnist_full_labels():
    # return_labels="all" (the encoder's training targets) leaves the clips unchanged and
    # agrees with return_labels=True on the first digit.
    kw = dict(frames=16, size=32, num_clips=8, batch_size=8, seed=4)
    clips, first = next(iter(data.moving_mnist(return_labels=True, **kw)))
    clips_all, labels = next(iter(data.moving_mnist(return_labels="all", **kw)))
    np.testing.assert_array_equal(clips_all, clips)
    np.testing.assert_array_equal(labels["digits"][:, 0], first)
    assert labels["directions"].shape == (8, 2)
    theta = labels["directions"].numpy()
    assert np.all((theta >= 0) & (theta < 2 * np.pi))
    bins = offline.direction_bins(labels["directions"]).numpy()
    assert bins.shape == (8, 8) and np.all((bins.sum(1) >= 1) & (bins.sum(1) <= 2))
    # A digit moving right (theta 0) and one moving down (theta pi/2; y grows downwards).
    np.testing.assert_array_equal(
        offline.direction_bins([[0.1, np.pi / 2]]).numpy(), [[1, 0, 1, 0, 0, 0, 0, 0]]
    )
    with pytest.raises(ValueError, match="return_labels"):
        data.moving_mnist(return_labels="first", **kw)


@pytest.mark.parametrize(
    "shape, dtype, match",
    [
        ((2, 8, 32, 32, 1), "float32", "8 frames"),
        ((2, 16, 32, 32, 4), "float32", "4 channels"),
        ((2, 16, 4, 4, 1), "float32", "4x4 pixels"),
        ((16, 32, 32, 1), "float32", "B, T, H, W, C"),
        ((2, 16, 32, 32, 1), "int16", "dtype int16"),
    ],
)
def test_clip_conversion_errors(shape, dtype, match):
    with pytest.raises(ValueError, match=match):
        offline.prepare_clips(np.zeros(shape, dtype))


def test_encoder_round_trip(tmp_path):
    encoder = offline.OfflineVideoEncoder(widths=(4, 4, 8, 8), feature_dim=8)
    x = _real(3, n=2)
    path = str(tmp_path / "enc.keras")
    encoder.save(path)
    loaded = keras.saving.load_model(path)
    for key, value in encoder(x).items():
        np.testing.assert_allclose(loaded(x)[key], value, rtol=1e-5, atol=1e-6)
    assert loaded.get_config()["widths"] == [4, 4, 8, 8]


def test_evaluator_on_an_untrained_generator():
    from keras_vgan.builders import build_gan
    from keras_vgan.presets import get_preset

    config = get_preset("quick")
    config.width, config.latent_dim = 8, 16
    gan = build_gan(config)
    real, what = real_batches("moving_mnist", frames=16, size=32, num_clips=64, batch_size=32)
    rows = Evaluator(real, what).evaluate(generated_batches(gan, 64, batch_size=32))
    assert [r["metric"] for r in rows] == ["offline_fd", "offline_kvd", "offline_is"]
    assert all(np.isfinite(r["value"]) for r in rows)
    assert "64 generated vs 64 clips of 16x32x32x1" in rows[0]["protocol"]
    # Its clips are far from real ones: above the real-vs-real floor of the same size.
    floor = Evaluator(real, what).evaluate(_real(55, n=64))[0]["value"]
    assert rows[0]["value"] > 2 * floor


@pytest.mark.slow
def test_train_offline_encoder_briefly(tmp_path):
    from keras_vgan.metrics import train_offline_encoder as tr

    x, labels = next(
        iter(
            data.moving_mnist(
                frames=16, size=32, num_clips=64, batch_size=64, seed=9, return_labels="all"
            )
        )
    )

    def class_loss(encoder):
        logits = encoder(x)["class_logits"]
        return float(
            keras.losses.categorical_crossentropy(
                offline.digit_targets(labels["digits"]), logits, from_logits=True
            )
            .numpy()
            .mean()
        )

    keras.utils.set_random_seed(0)
    fresh = offline.OfflineVideoEncoder()  # the initial weights train_encoder(seed=0) starts from
    trained = tr.train_encoder(steps=300, batch_size=16, seed=0, log_every=0)
    assert class_loss(trained) < class_loss(fresh) - 0.1
    assert set(tr.evaluate_encoder(trained, num_clips=128)) == {"digit", "digits", "directions"}
    out = str(tmp_path / "enc.keras")
    assert tr.main(["--steps", "20", "--batch-size", "8", "--out", out]) == 0
    assert isinstance(offline.load_encoder(out), offline.OfflineVideoEncoder)
