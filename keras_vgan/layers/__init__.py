"""Reusable building blocks for video generators and discriminators."""

from keras_vgan.layers.blocks import DownBlock, UpBlock, make_norm

__all__ = ["DownBlock", "UpBlock", "make_norm"]
