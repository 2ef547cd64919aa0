"""FVD by the reference protocol, with stand-in I3D modules built and saved here.

The stand-ins have the TF-Hub ``i3d-kinetics-400`` interface (a ``default``
signature: float32 ``[B, T, 224, 224, 3]`` in [-1, 1] -> logits ``[B, 400]``);
one is a TF2 SavedModel, the other a TF1 SavedModel with two graphs (no tags,
``train``) as TF-Hub's TF1 modules have. Their logits are a fixed linear map
of 8x8-pooled frames and frame differences, so they see appearance and time.
"""

import os

import numpy as np
import pytest
import tensorflow as tf

from keras_vgan.metrics import fvd
from keras_vgan.metrics.frechet import frechet_distance

POOL = 28  # 224 / 8


def _weights():
    rng = np.random.default_rng(0)
    return (
        rng.standard_normal((2 * POOL * POOL * 3, fvd.I3D_EMBEDDING_DIM)).astype("float32") * 0.05
    )


def _logits(videos, w):
    b = tf.shape(videos)[0]
    frames = tf.reshape(videos, [-1, 224, 224, 3])
    pooled = tf.nn.avg_pool2d(frames, 8, 8, "VALID")
    pooled = tf.reshape(pooled, [b, -1, POOL * POOL * 3])  # [B, T, F]
    motion = tf.reduce_mean(tf.abs(pooled[:, 1:] - pooled[:, :-1]), axis=1)
    feats = tf.concat([tf.reduce_mean(pooled, axis=1), 4.0 * motion], axis=1)
    return tf.matmul(feats, w)


class _StandIn(tf.Module):
    def __init__(self):
        super().__init__()
        self.w = tf.Variable(_weights())

    @tf.function(input_signature=[tf.TensorSpec([None, None, 224, 224, 3], tf.float32)])
    def __call__(self, videos):
        return {"default": _logits(videos, self.w)}


@pytest.fixture(scope="module")
def tf2_module(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("i3d_tf2"))
    module = _StandIn()
    tf.saved_model.save(module, path, signatures={"default": module.__call__})
    return path


@pytest.fixture(scope="module")
def tf1_module(tmp_path_factory):
    path = os.path.join(str(tmp_path_factory.mktemp("i3d_tf1")), "module")
    with tf.Graph().as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, None, 224, 224, 3], name="rgb_input")
        w = tf.compat.v1.get_variable("w", initializer=_weights())
        y = _logits(x, w)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            sig = tf.compat.v1.saved_model.predict_signature_def({"rgb_input": x}, {"default": y})
            builder = tf.compat.v1.saved_model.Builder(path)
            builder.add_meta_graph_and_variables(sess, [], signature_def_map={"default": sig})
            builder.add_meta_graph(["train"], signature_def_map={"default": sig})
            builder.save()
    return path


def _clips(n, seed, frames=16, size=32, channels=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (n, frames, size, size, channels)).astype("float32")


def test_preprocessing_follows_the_reference():
    clips = _clips(2, 0, frames=18, size=32, channels=1)
    x = fvd.preprocess_for_i3d(clips).numpy()
    assert x.shape == (2, 16, 224, 224, 3)  # first 16 frames, 224x224, grey -> RGB
    np.testing.assert_array_equal(x[..., 0], x[..., 2])
    # TF1's resize_bilinear (no half-pixel centres): output pixel i reads input i * 32 / 224.
    frame = clips[1, 3, :, :, 0]
    np.testing.assert_allclose(x[1, 3, 0, 0, 0], frame[0, 0], rtol=1e-6)
    np.testing.assert_allclose(x[1, 3, 7, 0, 0], frame[1, 0], atol=1e-6)  # 7 * 32/224 = 1
    # uint8 pixels are scaled by 2 x / 255 - 1, as in the reference.
    u8 = np.full((1, 16, 224, 224, 3), 255, np.uint8)
    u8[..., 1] = 0
    y = fvd.preprocess_for_i3d(u8).numpy()
    assert y[..., 0].min() == 1.0 and y[..., 1].max() == -1.0


@pytest.mark.parametrize(
    "shape, dtype, match",
    [
        ((2, 8, 32, 32, 1), "float32", "8 frames"),
        ((2, 16, 32, 32, 2), "float32", "2 channels"),
        ((2, 16, 32, 32), "float32", "B, T, H, W, C"),
        ((2, 16, 32, 32, 1), "int32", "dtype int32"),
    ],
)
def test_preprocessing_rejects_bad_clips(shape, dtype, match):
    with pytest.raises(ValueError, match=match):
        fvd.preprocess_for_i3d(np.zeros(shape, dtype))


def test_fvd_with_a_tf2_stand_in(tf2_module):
    embedder = fvd.I3DEmbedder(tf2_module, batch_size=4)
    real, other = _clips(6, 1), _clips(6, 2)
    assert fvd.frechet_video_distance(real, real, embedder) == pytest.approx(0.0, abs=1e-6)
    # FVD is the Fréchet distance of the module's logits on the preprocessed clips.
    module = tf.saved_model.load(tf2_module)
    want = frechet_distance(
        module.signatures["default"](fvd.preprocess_for_i3d(real))["default"].numpy(),
        module.signatures["default"](fvd.preprocess_for_i3d(other))["default"].numpy(),
    )
    got = fvd.frechet_video_distance(real, other, embedder)
    assert got == pytest.approx(want, rel=1e-5) and got > 0
    # Frames shuffled in time keep each clip's mean frame but move the embedding: the
    # order of frames reaches the network.
    smooth = np.cumsum(_clips(6, 3) * 0.1, axis=1).clip(-1, 1)  # slowly changing clips
    shuffled = smooth[:, np.random.default_rng(0).permutation(16)]
    assert fvd.frechet_video_distance(smooth, shuffled, embedder) > 0.1


def test_fvd_with_a_tf1_hub_style_module(tf1_module, tf2_module):
    # Two graphs (no tags, train): loaded like tensorflow_hub loads TF1 modules.
    real, other = _clips(6, 4), _clips(6, 5)
    got = fvd.frechet_video_distance(real, other, tf1_module)
    want = fvd.frechet_video_distance(real, other, tf2_module)
    assert got == pytest.approx(want, rel=1e-5)


def test_missing_module_errors_name_what_is_missing(tmp_path):
    with pytest.raises(fvd.I3DNotFound, match="i3d-kinetics-400.*no path was given"):
        fvd.I3DEmbedder(None)
    with pytest.raises(fvd.I3DNotFound, match="is not a directory"):
        fvd.I3DEmbedder(str(tmp_path / "nowhere"))
    with pytest.raises(fvd.I3DNotFound, match="no saved_model.pb"):
        fvd.I3DEmbedder(str(tmp_path))
    (tmp_path / "saved_model.pb").write_bytes(b"not a proto")
    with pytest.raises(ValueError, match="cannot load the I3D module"):
        fvd.I3DEmbedder(str(tmp_path))


def test_wrong_interface_is_refused(tmp_path):
    class Small(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, None, 224, 224, 3], tf.float32)])
        def __call__(self, videos):
            return {"default": tf.reduce_mean(videos, axis=[1, 2, 3])}  # [B, 3], not 400

    small = Small()
    tf.saved_model.save(small, str(tmp_path), signatures={"default": small.__call__})
    with pytest.raises(ValueError, match=r"expected logits \[B, 400\]"):
        fvd.frechet_video_distance(_clips(3, 0), _clips(3, 1), str(tmp_path))


def test_protocol_line():
    line = fvd.fvd_protocol(2048, 2048, "moving_mnist", "/models/i3d")
    for part in ("FVD_16", "2048 generated vs 2048 real", "stride 1", "224x224", "/models/i3d"):
        assert part in line
