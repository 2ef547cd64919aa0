"""Shared checks for the model-zoo tests (frame GAN, TGAN, MoCoGAN, conditional models)."""

import keras
import numpy as np
import tensorflow as tf

from keras_vgan.engine import VideoGAN

FRAMES, SIZE = 4, 16


def clips(n=4, channels=1, frames=FRAMES, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (n, frames, SIZE, SIZE, channels)).astype("float32")


def dataset(n=4, batch=2, channels=1, labels=None):
    x = clips(n, channels)
    data = x if labels is None else (x, np.asarray(labels, "int32"))
    return tf.data.Dataset.from_tensor_slices(data).batch(batch, drop_remainder=True)


def snapshot(variables):
    return [np.array(v.numpy()) for v in variables]


def changed(before, variables):
    return [not np.allclose(b, v.numpy()) for b, v in zip(before, variables, strict=True)]


def noise(gan, n=2, seed=1):
    return np.random.default_rng(seed).standard_normal((n, gan.latent_dim)).astype("float32")


def check_video(video, n, frames=FRAMES, channels=1):
    video = np.asarray(video)
    assert video.shape == (n, frames, SIZE, SIZE, channels)
    assert np.all(np.isfinite(video)) and np.all(np.abs(video) <= 1.0)


def fit_changes_weights(gan, data, epochs=1, may_stay=(), **compile_kwargs):
    """Compiles, fits and checks: losses finite, every trainable weight of G and D moved.

    ``may_stay``: path endings of weights with no gradient by design (the last bias
    of a Wasserstein critic cancels out of its loss).
    """
    gan.compile(**compile_kwargs)
    g0 = snapshot(gan.generator.trainable_variables)
    d0 = snapshot(gan.discriminator.trainable_variables)
    history = gan.fit(data, epochs=epochs, verbose=0).history
    for name, values in history.items():
        assert np.all(np.isfinite(values)), (name, values)
    g_moved = changed(g0, gan.generator.trainable_variables)
    d_moved = changed(d0, gan.discriminator.trainable_variables)
    stuck = [
        v.path for v, m in zip(gan.generator.trainable_variables, g_moved, strict=True) if not m
    ]
    stuck += [
        v.path for v, m in zip(gan.discriminator.trainable_variables, d_moved, strict=True) if not m
    ]
    stuck = [p for p in stuck if not p.endswith(tuple(may_stay))]
    assert not stuck, stuck
    return history


def round_trip(gan, tmp_path, z, video=None, labels=None, **gen_kwargs):
    """Saves and reloads ``gan`` (.keras) and its networks; outputs must be identical."""
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, VideoGAN)
    for use_ema in (True, False):
        a = loaded.generate(z, labels=labels, use_ema=use_ema, **gen_kwargs)
        b = gan.generate(z, labels=labels, use_ema=use_ema, **gen_kwargs)
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # The loaded model and the standalone networks (saved on their own) give identical outputs.
    kw = {"labels": labels} if labels is not None else {}
    for net, x in ((gan.generator, z), (gan.discriminator, video)):
        if x is None:
            continue
        p = str(tmp_path / f"{net.name}.keras")
        net.save(p)
        alone = keras.saving.load_model(p)
        assert type(alone) is type(net)
        inside = loaded.generator if net is gan.generator else loaded.discriminator
        expected = keras.tree.map_structure(np.asarray, net(x, **kw))
        for other in (alone, inside):
            got = keras.tree.map_structure(np.asarray, other(x, **kw))
            keras.tree.map_structure(np.testing.assert_array_equal, got, expected)
    return loaded
