"""Sub-pixel 3D convolutions: same outputs and gradients as Keras' layers."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_vgan.layers import SubpixelConv3D, SubpixelConv3DTranspose, conv3d_transpose_x2


def twin_layers(fast_cls, keras_cls, shape, filters):
    fast = fast_cls(filters, 4, strides=2, padding="same")
    ref = keras_cls(filters, 4, strides=2, padding="same")
    fast.build(shape)
    ref.build(shape)
    rng = np.random.default_rng(0)
    for a, b in zip(fast.weights, ref.weights, strict=True):
        value = rng.normal(0, 0.1, a.shape).astype("float32")
        a.assign(value)
        b.assign(value)
    x = tf.constant(rng.normal(0, 1, shape).astype("float32"))
    return fast, ref, x


def assert_close(a, b, tol=1e-5):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    assert np.max(np.abs(a - b)) <= tol * max(1.0, np.max(np.abs(b)))


@pytest.mark.parametrize(
    "shape,filters",
    [
        ((2, 2, 4, 3, 8), 3),  # thin output: sub-pixel
        ((1, 1, 3, 2, 4), 1),
        ((2, 2, 2, 2, 4), 16),  # coarse input: matmul + overlap-add
        ((2, 2, 4, 4, 16), 24),  # the generator's first level (2x4x4), 32 positions
        ((3, 1, 1, 1, 8), 8),
        ((2, 4, 4, 4, 4), 16),  # 64 positions: Keras' op
    ],
)
def test_transpose_matches_keras_forward_and_gradients(shape, filters):
    fast, ref, x = twin_layers(
        SubpixelConv3DTranspose, keras.layers.Conv3DTranspose, shape, filters
    )
    grads = []
    for layer in (fast, ref):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(y * tf.sin(y))
        grads.append((y, *tape.gradient(loss, [x, *layer.trainable_weights])))
    for a, b in zip(*grads, strict=True):
        assert_close(a, b)


@pytest.mark.parametrize("shape", [(2, 2, 4, 6, 3), (2, 4, 4, 4, 1), (2, 3, 4, 4, 1)])
def test_conv_matches_keras_including_second_order(shape):
    """Forward, input gradient and the gradient of a gradient penalty (WGAN-GP / R1)."""
    fast, ref, x = twin_layers(SubpixelConv3D, keras.layers.Conv3D, shape, 4)
    results = []
    for layer in (fast, ref):
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = layer(x)
                score = tf.reduce_sum(tf.tanh(y))
            dx = inner.gradient(score, x)
            penalty = tf.reduce_sum(tf.square(dx)) + score
        results.append((y, dx, *outer.gradient(penalty, layer.trainable_weights)))
    for a, b in zip(*results, strict=True):
        assert_close(a, b)


def test_function_matches_tf_op_with_unknown_batch():
    rng = np.random.default_rng(1)
    x = tf.constant(rng.normal(0, 1, (3, 2, 4, 2, 5)).astype("float32"))
    k = tf.constant(rng.normal(0, 1, (4, 4, 4, 2, 5)).astype("float32"))
    fn = tf.function(
        conv3d_transpose_x2,
        input_signature=[tf.TensorSpec([None, 2, 4, 2, 5]), tf.TensorSpec([4, 4, 4, 2, 5])],
    )
    expected = tf.nn.conv3d_transpose(x, k, [3, 4, 8, 4, 2], [1, 2, 2, 2, 1], "SAME")
    assert_close(fn(x, k), expected)


def test_unknown_spatial_size_falls_back_to_keras():
    layer = SubpixelConv3DTranspose(3, 4, strides=2, padding="same")
    layer.build((None, None, 4, 4, 8))
    fn = tf.function(layer, input_signature=[tf.TensorSpec([None, None, 4, 4, 8])])
    x = tf.random.normal((2, 2, 4, 4, 8))
    assert fn(x).shape == (2, 4, 8, 8, 3)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (2, 3, 4, 2, 3)])
def test_nearest_upsample_is_numpy_repeat_with_static_shapes(shape):
    """The resize generators' upsampling: every pixel (voxel) copied ``factor`` times per
    axis, the same as Keras' UpSampling2D, with the traced shape fully known."""
    from keras_vgan.layers.blocks import NearestUpsample

    x = np.random.default_rng(0).normal(size=shape).astype("float32")
    layer = NearestUpsample(2)
    expected = x
    for axis in range(1, len(shape) - 1):
        expected = expected.repeat(2, axis)
    np.testing.assert_array_equal(np.asarray(layer(x)), expected)
    if len(shape) == 4:
        np.testing.assert_array_equal(expected, np.asarray(keras.layers.UpSampling2D(2)(x)))
    traced = tf.function(layer).get_concrete_function(tf.TensorSpec((None, *shape[1:]), tf.float32))
    assert traced.structured_outputs.shape[1:] == expected.shape[1:]
    assert layer.compute_output_shape((None, *shape[1:])) == (None, *expected.shape[1:])
    with pytest.raises(ValueError, match="factor=0 must be a positive integer"):
        NearestUpsample(0)
