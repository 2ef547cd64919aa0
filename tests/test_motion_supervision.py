"""Motion supervision of a warping predictor: the built-in data's exact motion to one frame
(``flow_to``), the prediction pairs that carry it, the end-point error (known answers), the
flow head's ``return_motion``, and ``motion_weight`` in training, config and errors."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_vgan import builders, losses, presets
from keras_vgan.config import validate_config
from keras_vgan.data.builtin import builtin_dataset
from keras_vgan.data.pairs import builtin_pairs
from keras_vgan.layers import ClipDiscriminator
from keras_vgan.models.simvp import SimVPFlowPredictor, SimVPPredictor
from keras_vgan.motion import backward_warp
from keras_vgan.tasks import VideoTaskGAN
from tests.helpers import SIZE, changed, snapshot
from tests.test_simvp import K, N, _set_readout, predictor


# ------------------------------------------------------------ exact motion to a frame
def test_moving_mnist_flow_to_reads_every_frame_from_one_frame():
    ds = builtin_dataset("moving_mnist", frames=8, size=32, num_digits=1, batch_size=4,
                         num_clips=4, return_flow=True, flow_to=3)  # fmt: skip
    x, flow = (np.asarray(a) for a in next(iter(ds)))
    assert flow.shape == (4, 8, 32, 32, 2)
    assert not flow[:, 3].any()  # frame 3 to itself
    ink = x[..., 0] > -1
    assert np.array_equal(np.any(flow != 0, -1) & ~ink, np.zeros_like(ink))  # 0 off the ink
    moved = 0
    for t in range(8):  # frame 3 sampled along flow[t] is frame t on its ink
        warped = np.asarray(backward_warp(x[:, 3], flow[:, t]))
        np.testing.assert_allclose(warped[ink[:, t]], x[:, t][ink[:, t]], atol=1e-5)
        moved += np.abs(x[:, 3] - x[:, t])[ink[:, t]].mean() > 0.1
    assert moved >= 6  # the digits do move: frame 3 itself would not do
    # The displacement grows with the distance in time (before any bounce it is linear).
    assert np.allclose(flow, np.round(flow))


def test_shapes_flow_to_reads_every_frame_from_one_frame_within_antialiasing():
    ds = builtin_dataset("shapes", frames=6, size=32, num_shapes=1, batch_size=4,
                         num_clips=4, return_flow=True, flow_to=2)  # fmt: skip
    x, flow = (np.asarray(a) for a in next(iter(ds)))
    assert flow.shape == (4, 6, 32, 32, 2) and not flow[:, 2].any()
    for t in (0, 4, 5):
        on = np.any(flow[:, t] != 0, -1)
        warped = np.asarray(backward_warp(x[:, 2], flow[:, t]))
        err = np.abs(warped - x[:, t])[on].mean()
        still = np.abs(x[:, 2] - x[:, t])[on].mean()
        assert err < 0.3 * still, (t, err, still)


def test_flow_to_validation():
    with pytest.raises(ValueError, match="flow_to=3 needs return_flow=True"):
        builtin_dataset("moving_mnist", frames=8, flow_to=3)
    with pytest.raises(ValueError, match=r"flow_to=8 must be a frame of the clip \(< frames=8\)"):
        builtin_dataset("moving_mnist", frames=8, return_flow=True, flow_to=8)
    with pytest.raises(ValueError, match="flow_to"):
        builtin_dataset("shapes", frames=8, return_flow=True, flow_to=-1)


def test_prediction_pairs_carry_the_motion_of_the_future_to_the_last_context_frame():
    ds = builtin_pairs("prediction", frames=7, size=32, batch_size=2, num_clips=2,
                       context_frames=4, motion=True)  # fmt: skip
    batch = next(iter(ds))
    x, y, m = (np.asarray(batch[k]) for k in ("inputs", "targets", "motion"))
    assert (x.shape, y.shape, m.shape) == ((2, 4, 32, 32, 1), (2, 3, 32, 32, 1), (2, 3, 32, 32, 3))
    # Same clips as the plain pairs.
    plain_x, plain_y = next(iter(builtin_pairs("prediction", frames=7, size=32, batch_size=2,
                                               num_clips=2, context_frames=4)))  # fmt: skip
    np.testing.assert_array_equal(x, plain_x)
    np.testing.assert_array_equal(y, plain_y)
    ink = y[..., 0] > -1
    np.testing.assert_array_equal(m[..., 2], ink.astype("float32"))  # weighted on the ink
    for j in range(3):  # exact but where the two digits overlap in one of the frames
        warped = np.asarray(backward_warp(x[:, -1], m[:, j, ..., :2]))
        err = np.abs(warped - y[:, j])[ink[:, j]]
        still = np.abs(x[:, -1] - y[:, j])[ink[:, j]]
        assert np.mean(err < 1e-5) > 0.75 and err.mean() < 0.3 * still.mean(), j
    shapes = next(iter(builtin_pairs("prediction", "shapes", frames=5, size=32, batch_size=2,
                                     num_clips=2, context_frames=3, motion=True)))  # fmt: skip
    assert np.all(np.asarray(shapes["motion"])[..., 2] == 1.0)  # still background: motion 0
    with pytest.raises(ValueError, match="motion targets are for prediction"):
        builtin_pairs("interpolation", frames=5, size=32, batch_size=2, motion=True)


# ------------------------------------------------------------------ the loss
def test_motion_endpoint_error_known_answers():
    target = np.zeros((1, 2, 2, 3), "float32")
    target[..., 0], target[..., 1], target[..., 2] = 3.0, 4.0, 1.0
    motion = np.zeros((1, 2, 2, 2), "float32")
    np.testing.assert_allclose(losses.motion_endpoint_error(motion, target), 5.0, rtol=1e-6)
    np.testing.assert_allclose(
        losses.motion_endpoint_error(target[..., :2], target), 1e-3, rtol=1e-3
    )  # eps where they agree
    # Only weighted pixels count, as a weighted mean: two at 5 px, one (weight 2) at 0.
    target[0, 0, 0, 2], target[0, 0, 1, 2] = 0.0, 2.0
    motion[0, 0, 1] = (3.0, 4.0)
    want = (5.0 + 5.0 + 2 * 1e-3) / 4  # the agreeing pixel still costs eps
    np.testing.assert_allclose(losses.motion_endpoint_error(motion, target), want, rtol=1e-5)
    assert float(losses.motion_endpoint_error(motion, np.zeros_like(target))) == 0.0  # no weight
    with pytest.raises(ValueError, match=r"must end in \(dx, dy\)"):
        losses.motion_endpoint_error(motion, target[..., :2])


# ---------------------------------------------------------- the flow head's motion
def test_flow_head_returns_the_chained_motion_it_warps_along():
    g = predictor(SimVPFlowPredictor)
    x = np.asarray(next(iter(builtin_pairs("prediction", frames=K + N, size=SIZE, batch_size=2,
                                           num_clips=2, context_frames=K)))[0])  # fmt: skip
    _set_readout(g, [-1.0, 0.5, 50.0, -1.0])  # every step: 1 px left, half a pixel down
    out = g(x, return_motion=True)
    np.testing.assert_allclose(np.asarray(out["video"]), np.asarray(g(x)), atol=1e-6)
    motion = np.asarray(out["motion"])
    assert motion.shape == (2, N, SIZE, SIZE, 2)
    for j in range(N):  # chained: j + 1 steps back to the last context frame
        interior = motion[:, j, 4:-4, 4:-4]
        np.testing.assert_allclose(interior[..., 0], -(j + 1.0), atol=1e-5)
        np.testing.assert_allclose(interior[..., 1], 0.5 * (j + 1), atol=1e-5)
    with pytest.raises(ValueError, match="return_motion needs head='flow'"):
        predictor(SimVPPredictor)(x, return_motion=True)
    with pytest.raises(ValueError, match="one pass"):
        g(x, frames=N + 1, return_motion=True)


# ------------------------------------------------------------------ training
def _motion_gan(seed=0, **compile_kwargs):
    keras.utils.set_random_seed(seed)
    d = ClipDiscriminator(frames=K + N, size=SIZE, channels=1, widths=(4, 8))
    gan = VideoTaskGAN(predictor(SimVPFlowPredictor), d, condition="time", ema_decay=0.5)
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-2), **compile_kwargs)
    return gan


def _motion_batches(n=4):
    return builtin_pairs("prediction", frames=K + N, size=SIZE, batch_size=n, num_clips=n,
                         context_frames=K, motion=True)  # fmt: skip


@pytest.mark.parametrize("adv_weight", [0.0, 0.01])
def test_motion_weight_trains_the_motion_towards_the_known_one(adv_weight):
    gan = _motion_gan(adv_weight=adv_weight, l1_weight=1.0, l2_weight=0.3, motion_weight=0.1)
    batch = _motion_batches().cache()
    g0 = snapshot(gan.generator.trainable_variables)
    history = gan.fit(batch, epochs=25, verbose=0).history
    assert "motion" in history and all(np.isfinite(v).all() for v in history.values())
    assert history["motion"][-1] < 0.7 * history["motion"][0], history["motion"]
    moved = changed(g0, gan.generator.trainable_variables)
    assert sum(moved) > 0.9 * len(moved)
    assert gan.get_compile_config()["motion_weight"] == 0.1


def test_motion_weight_without_motion_in_the_batch_is_one_clear_error():
    gan = _motion_gan(adv_weight=0.0, motion_weight=0.1)
    plain = builtin_pairs("prediction", frames=K + N, size=SIZE, batch_size=2, num_clips=2,
                          context_frames=K)  # fmt: skip
    with pytest.raises(ValueError, match=r"motion_weight > 0 needs batches \{'inputs'"):
        gan.fit(plain, verbose=0)


def _tiny(model="predict_simvp_flow", **overrides):
    config = dataclasses.replace(
        presets.get_preset(f"{model}_moving_mnist"), size=SIZE, width=4, depth=2, frames=6,
        context_frames=3, batch_size=2,
    )  # fmt: skip
    return dataclasses.replace(config, **overrides)


def test_config_motion_weight_builds_the_stream_and_the_term():
    config = _tiny(motion_weight=0.05)
    validate_config(config)
    batch = next(iter(builders.build_train_dataset(config)))
    assert set(batch) == {"inputs", "targets", "motion"}
    assert batch["motion"].shape == (2, 3, SIZE, SIZE, 3)
    gan = builders.build_gan(config)
    assert gan.get_compile_config()["motion_weight"] == 0.05
    history = gan.fit(builders.build_train_dataset(config).take(2), verbose=0).history
    assert np.isfinite(history["motion"]).all()
    # Without the term the stream is the plain pairs.
    assert isinstance(next(iter(builders.build_train_dataset(_tiny()))), tuple)


def test_config_motion_weight_errors(tmp_path):
    with pytest.raises(ValueError, match="needs a predictor that warps along a motion"):
        validate_config(_tiny("predict_simvp", motion_weight=0.1))
    with pytest.raises(ValueError, match="motion_weight=-0.1 must be >= 0"):
        validate_config(_tiny(motion_weight=-0.1))
    video = tmp_path / "clips"
    video.mkdir()
    with pytest.raises(ValueError, match="needs built-in data"):
        validate_config(_tiny(motion_weight=0.1, data=str(video)))
    with pytest.raises(ValueError, match="motion targets come from the built-in data"):
        builders.build_task_pairs(_tiny(data=str(video)), motion=True, data=object())


def test_motion_term_is_off_by_default_and_logs_nothing():
    gan = _motion_gan(adv_weight=0.0)
    x = np.zeros((2, K, SIZE, SIZE, 1), "float32")
    history = gan.fit(tf.data.Dataset.from_tensors((x, x[:, :N])), verbose=0).history
    assert "motion" not in history
