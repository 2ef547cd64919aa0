"""Known-answer tests of the reconstruction metrics (values computed by hand)."""

import math

import numpy as np
import pytest

from keras_vgan.metrics import reconstruction as rm

SHAPE = (1, 2, 16, 16, 1)  # one clip, two frames of 16x16


def clip(fill01=0.0):
    """A clip whose pixels are ``fill01`` on the [0, 1] scale (the metrics' scale)."""
    return np.full(SHAPE, 2.0 * fill01 - 1.0, np.float32)


def test_mse_and_mae_sum_over_the_pixels_of_a_frame():
    target = clip(0.0)
    pred = clip(0.0)
    pred[0, 0, 3, 4, 0] = 1.0  # frame 0: one pixel off by 1 (on [0, 1])
    pred[0, 1, :2, :4, 0] = 0.0  # frame 1: 8 pixels at 0.5
    np.testing.assert_allclose(rm.per_frame_mse(pred, target), [[1.0, 8 * 0.25]], rtol=1e-6)
    np.testing.assert_allclose(rm.per_frame_mae(pred, target), [[1.0, 8 * 0.5]], rtol=1e-6)


def test_psnr_known_answer_and_cap_for_an_exact_frame():
    target = clip(0.0)
    pred = clip(0.0)
    pred[0, 0, 0, 0, 0] = 1.0  # mean squared error 1/256 -> 10 log10(256) dB
    psnr = np.asarray(rm.per_frame_psnr(pred, target))
    assert psnr[0, 0] == pytest.approx(10 * math.log10(256), rel=1e-5)
    assert psnr[0, 1] == rm.PSNR_CAP


def test_ssim_of_identical_and_of_two_constant_frames():
    x = np.random.default_rng(0).uniform(-1, 1, SHAPE).astype("float32")
    np.testing.assert_allclose(rm.per_frame_ssim(x, x), [[1.0, 1.0]], atol=1e-6)
    # Constants a, b (no variance): SSIM = (2ab + C1) / (a^2 + b^2 + C1), C1 = (0.01 * 1)^2.
    a, b, c1 = 0.5, 0.0, 0.01**2
    expected = (2 * a * b + c1) / (a * a + b * b + c1)
    np.testing.assert_allclose(rm.per_frame_ssim(clip(a), clip(b)), [[expected] * 2], rtol=1e-3)


def test_temporal_consistency_compares_motion_not_offsets():
    target = clip(0.25)
    target[0, 1, 5, 5, 0] = 0.5  # one pixel goes from 0.25 to 0.75 on [0, 1]
    static = clip(0.25)
    np.testing.assert_allclose(
        rm.temporal_consistency_error(static, target), [[0.5 / 256]], rtol=1e-5
    )
    shifted = target + 0.2  # the same motion 0.1 brighter: no temporal error
    np.testing.assert_allclose(rm.temporal_consistency_error(shifted, target), [[0.0]], atol=1e-7)
    flicker = shifted.copy()
    flicker[0, 1] -= 0.4  # a global flicker of 0.2 on [0, 1] the truth does not have
    np.testing.assert_allclose(rm.temporal_consistency_error(flicker, target), [[0.2]], rtol=1e-5)


def test_accumulator_averages_per_step_over_clips_then_over_steps():
    target = np.concatenate([clip(0.0), clip(0.0)])  # two clips
    pred = target.copy()
    pred[0, 0, 0, :1, 0] = 1.0  # clip 0: MSE [1, 2]
    pred[0, 1, 0, :2, 0] = 1.0
    pred[1, 0, 0, :3, 0] = 1.0  # clip 1: MSE [3, 4]
    pred[1, 1, 0, :4, 0] = 1.0
    m = rm.ReconstructionMetrics()
    m.update(pred[:1], target[:1]).update(pred[1:], target[1:])
    np.testing.assert_allclose(m.per_step()["mse"], [2.0, 3.0])
    result = m.result()
    assert result["mse"] == pytest.approx(2.5) and result["clips"] == 2
    assert result["ssim"] <= 1.0 and len(m.per_step()["temporal"]) == 1
    table = rm.format_table({"model": result})
    assert "model" in table and "2.5" in table
    assert "t+2" in rm.format_per_step(m.per_step())


def test_bad_inputs_give_one_line_errors():
    with pytest.raises(ValueError, match="same shape"):
        rm.per_frame_mse(clip(), clip()[:, :1])
    small = np.zeros((1, 2, 8, 8, 1), np.float32)
    with pytest.raises(ValueError, match="at least 11x11"):
        rm.per_frame_ssim(small, small)
    m = rm.ReconstructionMetrics()
    with pytest.raises(ValueError, match="no clips"):
        m.result()
    m.update(clip(), clip())
    longer = np.zeros((1, 3, 16, 16, 1), np.float32)
    with pytest.raises(ValueError, match="cannot join"):
        m.update(longer, longer)
