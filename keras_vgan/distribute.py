"""Distribution strategies by name: ``one_device``, ``mirrored``, ``multi_worker``.

Only ``tf.distribute`` strategies are used; the engine scales its losses so a
step is the same whatever the number of replicas (see ``engine``).
"""

import tensorflow as tf

STRATEGIES = ("one_device", "mirrored", "multi_worker")


def get_strategy(name="one_device", devices=None):
    """Returns a ``tf.distribute.Strategy`` by name.

    Args:
        name: ``"one_device"`` (the first GPU if any, else the CPU),
            ``"mirrored"`` (all local GPUs, or ``devices``), or
            ``"multi_worker"`` (``MultiWorkerMirroredStrategy``; the cluster
            comes from the ``TF_CONFIG`` environment variable).
        devices: optional device names for ``"mirrored"`` (e.g. two logical
            CPUs in tests).

    Raises:
        ValueError: for an unknown name.
    """
    if name == "one_device":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices)
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"strategy={name!r} is not one of {', '.join(STRATEGIES)}")
