"""The built-in data sets, by name: ``moving_mnist`` and ``bouncing_shapes`` (``"shapes"``)."""

from __future__ import annotations

import math

import tensorflow as tf

from keras_vgan.data.moving_mnist import moving_mnist
from keras_vgan.data.shapes import bouncing_shapes

_BUILTIN = {"moving_mnist": moving_mnist, "shapes": bouncing_shapes}
BUILTIN_DATASETS = tuple(_BUILTIN)
DIRECTIONS = 8  # compass sectors of ``return_labels="direction"`` (45 degrees each)


def direction_class(theta):
    """The sector ``floor(theta / (2 pi / DIRECTIONS))`` of directions ``theta`` in [0, 2 pi)
    (radians, Moving MNIST's ``(dy, dx) = (sin, cos)``; 0: moving right, 2: down), int32."""
    sector = tf.cast(
        tf.floor(tf.cast(theta, tf.float32) * (DIRECTIONS / (2.0 * math.pi))), tf.int32
    )
    return tf.clip_by_value(sector, 0, DIRECTIONS - 1)


def builtin_dataset(name: str, **kwargs) -> tf.data.Dataset:
    """Build a built-in data set by name.

    Args:
        name: one of ``BUILTIN_DATASETS``: ``"moving_mnist"`` or ``"shapes"``.
        **kwargs: keyword arguments of ``moving_mnist`` or ``bouncing_shapes``; Moving
            MNIST also takes ``return_labels="direction"``: ``(clip, sector)`` with the
            first digit's initial direction of motion as one of ``DIRECTIONS`` classes
            (``direction_class``), an action label per clip. Both take
            ``return_flow=True``: ``(clip, flow)`` with the exact forward optical flow of
            the moving digits / shapes, ``[T - 1, H, W, 2]`` ``(dx, dy)`` pixels, 0 on the
            background (``keras_vgan.motion`` states the convention).

    Returns:
        The ``tf.data.Dataset``.
    """
    if name not in _BUILTIN:
        raise ValueError(f"unknown built-in data set {name!r}; expected one of {BUILTIN_DATASETS}")
    if kwargs.get("return_labels") == "direction":
        if name != "moving_mnist":
            raise ValueError(f"return_labels='direction' needs 'moving_mnist', not {name!r}")
        ds = moving_mnist(**{**kwargs, "return_labels": "all"})
        return ds.map(lambda x, y: (x, direction_class(y["directions"][..., 0])))
    return _BUILTIN[name](**kwargs)
