"""Shared checks for the conditional-task tests (tests/test_tasks_*.py): tiny pairs, training,
round trips, the overfit criterion."""

import keras
import numpy as np
import tensorflow as tf

from keras_vgan.data.pairs import builtin_pairs
from keras_vgan.tasks import VideoTaskGAN

SIZE = 16


def pairs(task, n=4, frames=6, seed=0, **kwargs):
    """``n`` Moving MNIST pairs of ``frames`` frames of 16x16, as numpy arrays."""
    ds = builtin_pairs(
        task, frames=frames, size=SIZE, batch_size=n, seed=seed, num_clips=n, **kwargs
    )
    x, y = next(iter(ds))
    return np.asarray(x), np.asarray(y)


def snapshot(variables):
    return [np.array(v.numpy()) for v in variables]


def moved(before, variables):
    return [not np.allclose(b, v.numpy()) for b, v in zip(before, variables, strict=True)]


def mse(a, b):
    return float(np.mean((np.asarray(a) - np.asarray(b)) ** 2))


def overfit(gan, x, y, steps, **compile_kwargs):
    """Trains on a handful of clips; returns ``(history, error_before, error_after, floor)``.

    ``floor`` is the error of the best output that ignores the inputs (the per-pixel mean
    of the targets): a generator whose conditioning is not wired cannot go below it.
    Also checks that every trainable weight of both networks moved and losses are finite.
    """
    gan.compile(**compile_kwargs)
    g0 = snapshot(gan.generator.trainable_variables)
    d0 = snapshot(gan.discriminator.trainable_variables)
    before = mse(gan.generate(x, use_ema=False), y)
    data = tf.data.Dataset.from_tensors((x, y)).repeat(steps)
    history = gan.fit(data, epochs=1, verbose=0).history
    for name, values in history.items():
        assert np.all(np.isfinite(values)), (name, values)
    assert all(moved(g0, gan.generator.trainable_variables))
    assert all(moved(d0, gan.discriminator.trainable_variables))
    after = mse(gan.generate(x, use_ema=False), y)
    floor = mse(np.broadcast_to(y.mean(axis=0, keepdims=True), y.shape), y)
    return history, before, after, floor


def round_trip(gan, tmp_path, x, **gen_kwargs):
    """Saves and reloads the task GAN and its generator; outputs and compile settings match."""
    path = str(tmp_path / "task.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, VideoTaskGAN)
    assert loaded.get_compile_config()["l1_weight"] == gan.get_compile_config()["l1_weight"]
    assert loaded.condition == gan.condition
    for use_ema in (True, False):
        a = loaded.generate(x, use_ema=use_ema, **gen_kwargs)
        b = gan.generate(x, use_ema=use_ema, **gen_kwargs)
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    p = str(tmp_path / "generator.keras")
    gan.generator.save(p)
    alone = keras.saving.load_model(p)
    assert type(alone) is type(gan.generator)
    np.testing.assert_array_equal(
        np.asarray(alone(x, **gen_kwargs)), np.asarray(gan.generator(x, **gen_kwargs))
    )
    return loaded
