"""Reusable building blocks for video generators and discriminators."""

from keras_vgan.layers.blocks import (
    DownBlock,
    SubpixelConv3D,
    SubpixelConv3DTranspose,
    UpBlock,
    conv3d_transpose_x2,
    make_norm,
)

__all__ = [
    "DownBlock",
    "SubpixelConv3D",
    "SubpixelConv3DTranspose",
    "UpBlock",
    "conv3d_transpose_x2",
    "make_norm",
]
