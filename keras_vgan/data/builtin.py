"""The built-in data sets, by name: ``moving_mnist`` and ``bouncing_shapes`` (``"shapes"``)."""

from __future__ import annotations

import tensorflow as tf

from keras_vgan.data.moving_mnist import moving_mnist
from keras_vgan.data.shapes import bouncing_shapes

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
