"""Warping error: how well consecutive frames agree once motion is compensated.

Lai et al., "Learning Blind Video Temporal Consistency" (ECCV 2018) measure a video's
temporal consistency as the error between a frame and its neighbour warped onto it by
the optical flow (of the reference video), averaged over the (non-occluded) pixels;
vid2vid's temporal term is the same quantity as a loss. Here, on the [0, 1] scale of
``metrics.reconstruction``, per pair of consecutive frames ``[B, T - 1]``::

    backward flow (on frame t+1, reading frame t):   mean |x_{t+1} - warp(x_t, flow_t)|
    forward flow  (on frame t, reading frame t+1):   mean |x_t - warp(x_{t+1}, flow_t)|

with ``warp`` = ``motion.backward_warp`` (bilinear, border padding) and the mean over
pixels and channels, or over the pixels of ``mask`` (e.g. the occlusion-free or the
moving pixels). A clip whose frames move exactly as the flow says scores 0; flicker,
or motion other than the flow's, raises it.
"""

import numpy as np
import tensorflow as tf

from keras_vgan.motion import warp_clip

DIRECTIONS = ("backward", "forward")


def warping_error(clips, flow, direction="backward", mask=None):
    """Per pair of frames warping error on [0, 1] (module docstring): ``[B, T - 1]``.

    Args:
        clips: ``[B, T, H, W, C]`` in [-1, 1], ``T >= 2``.
        flow: ``[B, T - 1, H, W, 2]`` ``(dx, dy)`` pixels, ``direction`` as said.
        direction: ``"backward"`` or ``"forward"`` (module docstring).
        mask: optional ``[B, T - 1, H, W]``: the pixels averaged over (on the grid the
            flow lives on); a pair with an empty mask scores 0.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction={direction!r} is not one of {', '.join(DIRECTIONS)}")
    x = (tf.convert_to_tensor(clips, tf.float32) + 1.0) / 2.0
    f = tf.convert_to_tensor(flow, tf.float32)
    if x.shape.rank != 5 or x.shape[1] < 2:
        raise ValueError(f"clips have shape {tuple(x.shape)}; expected [B, T >= 2, H, W, C]")
    want = (x.shape[0], x.shape[1] - 1, x.shape[2], x.shape[3], 2)
    if tuple(f.shape) != want:
        raise ValueError(f"flow has shape {tuple(f.shape)}; expected {want} for these clips")
    if direction == "backward":
        target, source = x[:, 1:], x[:, :-1]
    else:
        target, source = x[:, :-1], x[:, 1:]
    err = tf.reduce_mean(tf.abs(target - warp_clip(source, f)), axis=-1)  # [B, T-1, H, W]
    if mask is None:
        return tf.reduce_mean(err, axis=[2, 3])
    m = tf.cast(tf.convert_to_tensor(mask), tf.float32)
    if tuple(m.shape) != want[:4]:
        raise ValueError(f"mask has shape {tuple(m.shape)}; expected {want[:4]}")
    return tf.math.divide_no_nan(tf.reduce_sum(err * m, axis=[2, 3]), tf.reduce_sum(m, axis=[2, 3]))


def mean_warping_error(clips, flow, direction="backward", mask=None):
    """``warping_error`` averaged over clips and pairs: a float."""
    return float(np.mean(warping_error(clips, flow, direction, mask)))
