"""Data sets as tf.data pipelines of float32 clips ``[T, H, W, C]`` in [-1, 1].

The built-in sets need no download: ``moving_mnist`` (from 5,000 bundled MNIST digits)
and ``bouncing_shapes``. ``builtin_dataset(name, **kwargs)`` picks one by name.
"""

import tensorflow as tf

from keras_vgan.data.moving_mnist import MNIST_SPLITS, load_mnist_digits, moving_mnist
from keras_vgan.data.shapes import SHAPE_NAMES, bouncing_shapes

_BUILTIN = {"moving_mnist": moving_mnist, "shapes": bouncing_shapes}
BUILTIN_DATASETS = tuple(_BUILTIN)


def builtin_dataset(name: str, **kwargs) -> tf.data.Dataset:
    """Build a built-in data set by name.

    Args:
        name: one of ``BUILTIN_DATASETS``: ``"moving_mnist"`` or ``"shapes"``.
        **kwargs: keyword arguments of ``moving_mnist`` or ``bouncing_shapes``.

    Returns:
        The ``tf.data.Dataset``.
    """
    if name not in _BUILTIN:
        raise ValueError(f"unknown built-in data set {name!r}; expected one of {BUILTIN_DATASETS}")
    return _BUILTIN[name](**kwargs)


__all__ = [
    "BUILTIN_DATASETS",
    "MNIST_SPLITS",
    "SHAPE_NAMES",
    "bouncing_shapes",
    "builtin_dataset",
    "load_mnist_digits",
    "moving_mnist",
]
