"""Test set-up: quiet TensorFlow, oneDNN on, two logical CPUs (MirroredStrategy tests), seeds."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# keras_vgan first: it turns oneDNN on before TensorFlow loads (keras_vgan/runtime.py).
import keras_vgan  # noqa: E402, F401, I001
import tensorflow as tf  # noqa: E402

# Two logical CPU devices let MirroredStrategy run with two replicas on a CPU-only
# machine. This must happen before TensorFlow initialises its devices.
_cpus = tf.config.list_physical_devices("CPU")
try:
    tf.config.set_logical_device_configuration(
        _cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2
    )
except RuntimeError:  # devices already initialised by an earlier import
    pass

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed_and_clear():
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()
