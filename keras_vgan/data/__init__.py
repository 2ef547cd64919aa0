"""Built-in data sets as tf.data pipelines (no downloads)."""

from keras_vgan.data.moving_mnist import load_mnist_digits, moving_mnist

__all__ = ["load_mnist_digits", "moving_mnist"]
