"""Silence TensorFlow's native start-up chatter for the command-line programs.

TensorFlow's C++ runtime writes informational lines (absl pre-init notice,
oneDNN notice, missing-CUDA warnings) straight to file descriptor 2 while it
is imported and while devices are first listed, before Python logging
settings apply. The programs import it inside ``quiet_tensorflow()`` so a
user sees their own output and our one-line errors only. Python exceptions
are unaffected: they are printed after the descriptor is restored.
"""

import contextlib
import os


@contextlib.contextmanager
def quiet_tensorflow():
    """Imports TensorFlow and initialises its devices with fd 2 sent to /dev/null.

    keras_vgan is imported first: it turns oneDNN on (``keras_vgan.runtime``)
    before TensorFlow loads, unless the user set ``TF_ENABLE_ONEDNN_OPTS``.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if os.environ.get("KERAS_VGAN_VERBOSE_TF"):
        import keras_vgan  # noqa: F401  (oneDNN set-up before TensorFlow)

        yield
        return
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import keras_vgan  # noqa: F401, I001  (oneDNN set-up before TensorFlow)
        import tensorflow as tf

        tf.config.list_physical_devices()
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
