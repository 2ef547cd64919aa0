"""Motion: optical flow (OpenCV DIS / Farnebäck and a small SPyNet), backward warping,
motion-aware discriminators and the warping error.

Flow convention: ``(dx, dy)`` in pixels on the grid the flow lives on; ``backward_warp(
image, flow)`` reads ``image`` at ``x + flow(x)``. The *forward* flow of frames ``t ->
t + 1`` lives on frame ``t`` (frame ``t + 1`` warped by it gives frame ``t``: OpenCV's
convention and the built-in data's ``return_flow``); the *backward* flow lives on frame
``t + 1`` (frame ``t`` warped by it gives frame ``t + 1``). Clips ``[B, T, H, W, C]``
give flows ``[B, T - 1, H, W, 2]``.

Imports only Keras, OpenCV and NumPy (no other part of ``keras_vgan``), so model families
and metrics can use it. ``python -m keras_vgan.motion.train`` trains the shipped SPyNet.
"""

from keras_vgan.motion.discriminator import (
    FLOW_SCALE,
    MOTION_INPUTS,
    MotionDiscriminator,
    frame_differences,
    motion_channels,
)
from keras_vgan.motion.flow import CLASSICAL, classical_flow, endpoint_error, to_gray_uint8
from keras_vgan.motion.spynet import SPyNet, clip_pairs, network_flow, spynet
from keras_vgan.motion.warp import (
    PADDINGS,
    BackwardWarp,
    backward_warp,
    composite_layers,
    translate,
    warp_clip,
)

FLOW_METHODS = ("spynet",) + CLASSICAL


def optical_flow(clips, method="spynet", direction="forward", model=None):
    """Flow between consecutive frames of clips ``[B, T, H, W, C]``: ``[B, T - 1, H, W, 2]``.

    Args:
        clips: float in [-1, 1] (uint8 too for the OpenCV methods).
        method: ``"spynet"`` (differentiable; ``model`` or the shipped weights), ``"dis"``
            or ``"farneback"`` (NumPy in, NumPy out).
        direction: ``"forward"`` or ``"backward"`` (module docstring).
        model: the flow network for ``"spynet"`` (default ``spynet(pretrained=True)``).
    """
    if method not in FLOW_METHODS:
        raise ValueError(f"method={method!r} is not one of {', '.join(FLOW_METHODS)}")
    if method == "spynet":
        return network_flow(model or spynet(pretrained=True), clips, direction)
    return classical_flow(clips, method, direction)


__all__ = [
    "CLASSICAL",
    "FLOW_METHODS",
    "FLOW_SCALE",
    "MOTION_INPUTS",
    "PADDINGS",
    "BackwardWarp",
    "MotionDiscriminator",
    "SPyNet",
    "backward_warp",
    "classical_flow",
    "composite_layers",
    "clip_pairs",
    "endpoint_error",
    "frame_differences",
    "motion_channels",
    "network_flow",
    "optical_flow",
    "spynet",
    "to_gray_uint8",
    "translate",
    "warp_clip",
]
