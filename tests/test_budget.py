"""The CPU budget of a run (``TrainConfig.cpu_budget_s``, ``callbacks.CPUBudget``)."""

import dataclasses

import helpers
import pytest
import tensorflow as tf

from keras_vgan import presets
from keras_vgan.callbacks import CPUBudget
from keras_vgan.config import validate_config


def _stream():
    x = helpers.clips(8, frames=helpers.EXPORT_FRAMES)  # the tiny GAN's clips
    return tf.data.Dataset.from_tensor_slices(x).batch(2).repeat()


def test_budget_stops_fit_after_the_step_that_crosses_it():
    gan = helpers.tiny_gan(spread=False)
    ds = _stream()
    budget = CPUBudget(1e-9)  # any step crosses it
    history = gan.fit(ds, epochs=3, steps_per_epoch=4, callbacks=[budget], verbose=0)
    assert budget.exhausted and budget.used() > 0
    assert int(gan.g_optimizer.iterations.numpy()) == 1  # one step, then stop
    assert len(history.history["g_loss"]) == 1  # the epoch it began still ends


def test_a_budget_it_does_not_reach_changes_nothing():
    gan = helpers.tiny_gan(spread=False)
    ds = _stream()
    budget = CPUBudget(3600)
    gan.fit(ds, epochs=2, steps_per_epoch=2, callbacks=[budget], verbose=0)
    assert not budget.exhausted
    assert int(gan.g_optimizer.iterations.numpy()) == 4
    assert budget.steps == 4  # one CPU-time mark per step, non-decreasing, after the start
    assert budget.start <= budget.marks[0] and budget.marks == sorted(budget.marks)


@pytest.mark.parametrize("seconds", [0, -1.0])
def test_bad_budget(seconds):
    with pytest.raises(ValueError, match="must be > 0"):
        CPUBudget(seconds)
    if seconds:
        config = dataclasses.replace(presets.get_preset("quick"), cpu_budget_s=seconds)
        with pytest.raises(ValueError, match=r"^cpu_budget_s=-1.0 must be >= 0$"):
            validate_config(config)
