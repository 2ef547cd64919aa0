"""Classical optical flow of clips (OpenCV DIS and Farnebäck) and its end-point error.

Convention (``keras_vgan.motion``): a flow is ``(dx, dy)`` in pixels on the grid it lives
on. ``direction="forward"`` gives, for frames ``t -> t + 1``, the flow on frame ``t``'s
grid with ``frame_{t+1}(x + flow_t(x)) ~ frame_t(x)`` (OpenCV's own convention for
``calcOpticalFlow*(prev=frame_t, next=frame_{t+1})``): ``warp.backward_warp(frame_{t+1},
flow_t)`` reproduces frame ``t``. ``direction="backward"`` gives the flow on frame
``t + 1``'s grid with ``frame_t(x + flow(x)) ~ frame_{t+1}(x)``: it warps frame ``t`` (or
a generated frame ``t``) onto frame ``t + 1``, as vid2vid's temporal term needs.

Methods: ``"dis"`` -- Kroeger et al., "Fast Optical Flow using Dense Inverse Search"
(ECCV 2016), ``cv2.DISOpticalFlow`` at its ``MEDIUM`` preset; ``"farneback"`` --
Farnebäck, "Two-Frame Motion Estimation Based on Polynomial Expansion" (SCIA 2003),
``cv2.calcOpticalFlowFarneback`` (pyramid 0.5 x 3 levels, 9-pixel window, 3 iterations,
polynomial 5 / 1.1). Both run on the CPU on greyscale uint8 frames.
"""

import cv2
import numpy as np

CLASSICAL = ("dis", "farneback")
DIRECTIONS = ("forward", "backward")


def to_gray_uint8(clips):
    """Clips ``[B, T, H, W, C]`` (float in [-1, 1], or uint8) -> uint8 grey ``[B, T, H, W]``.

    Colour (``C = 3``, RGB) is converted with ITU-R 601 luma weights; 1 channel is taken
    as it is.
    """
    x = np.asarray(clips)
    if x.ndim != 5 or x.shape[-1] not in (1, 3):
        raise ValueError(f"clips have shape {x.shape}; expected [B, T, H, W, C] with C 1 or 3")
    if x.dtype != np.uint8:
        x = np.clip(np.round((x.astype(np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)
    if x.shape[-1] == 3:
        luma = x.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        return np.clip(np.round(luma), 0, 255).astype(np.uint8)
    return x[..., 0]


def _pair_flow(method, first, second, dis):
    if method == "dis":
        return dis.calc(first, second, None)
    return cv2.calcOpticalFlowFarneback(first, second, None, 0.5, 3, 9, 3, 5, 1.1, 0)


def classical_flow(clips, method="dis", direction="forward"):
    """OpenCV optical flow between consecutive frames of every clip.

    Args:
        clips: ``[B, T, H, W, C]``, float in [-1, 1] or uint8, ``C`` 1 or 3, ``T >= 2``.
        method: ``"dis"`` or ``"farneback"`` (module docstring).
        direction: ``"forward"`` (flow on frame ``t``, frame ``t + 1`` read at
            ``x + flow`` gives frame ``t``) or ``"backward"`` (flow on frame ``t + 1``,
            frame ``t`` read at ``x + flow`` gives frame ``t + 1``).

    Returns:
        float32 ``[B, T - 1, H, W, 2]`` ``(dx, dy)`` in pixels.
    """
    if method not in CLASSICAL:
        raise ValueError(f"method={method!r} is not one of {', '.join(CLASSICAL)}")
    if direction not in DIRECTIONS:
        raise ValueError(f"direction={direction!r} is not one of {', '.join(DIRECTIONS)}")
    gray = to_gray_uint8(clips)
    if gray.shape[1] < 2:
        raise ValueError(f"clips have {gray.shape[1]} frame(s); flow needs T >= 2")
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) if method == "dis" else None
    b, t, h, w = gray.shape
    out = np.zeros((b, t - 1, h, w, 2), np.float32)
    for i in range(b):
        for j in range(t - 1):
            first, second = gray[i, j], gray[i, j + 1]
            if direction == "backward":
                first, second = second, first
            out[i, j] = _pair_flow(method, first, second, dis)
    return out


def endpoint_error(flow, truth, mask=None):
    """Mean end-point error ``|flow - truth|_2`` in pixels (over ``mask``'s pixels if given).

    Args:
        flow, truth: ``[..., H, W, 2]`` flows of the same shape.
        mask: optional boolean ``[..., H, W]``: the pixels averaged over.

    Returns:
        A float (NaN for an empty mask).
    """
    flow, truth = np.asarray(flow, np.float32), np.asarray(truth, np.float32)
    if flow.shape != truth.shape or flow.shape[-1] != 2:
        raise ValueError(
            f"flow {flow.shape} and truth {truth.shape} must have the same shape [..., 2]"
        )
    err = np.sqrt(np.sum(np.square(flow - truth), axis=-1))
    if mask is None:
        return float(err.mean())
    mask = np.asarray(mask, bool)
    return float(err[mask].mean()) if mask.any() else float("nan")
