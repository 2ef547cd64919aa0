"""Backward warping: an image sampled at ``x + flow(x)``, bilinear, from gathers.

The flow convention of the whole package (``keras_vgan.motion``): a flow ``[..., H, W, 2]``
holds ``(dx, dy)`` in pixels of the grid it lives on, and ``backward_warp(image, flow)``
is ``image`` read at ``(x + dx, y + dy)`` for every pixel ``(x, y)`` of that grid. With
the *forward* flow of frames ``t -> t + 1`` (it lives on frame ``t``),
``backward_warp(frame_{t+1}, flow)`` reproduces frame ``t``.

Sampling is bilinear over the four neighbouring pixels, written with ``gather`` and
arithmetic only (no ``ImageProjectiveTransform`` or ``grid_sample``), so it
differentiates in both the image and the flow and exports to SavedModel, LiteRT and
ONNX. Borders: ``padding="border"`` (the default) clamps the sample point into the
image (the edge pixels repeat outwards); ``padding="zeros"`` reads 0 outside it, each
of the four neighbours that falls outside weighing 0.
"""

import keras
from keras import ops

PADDINGS = ("border", "zeros")


def _check_padding(padding):
    if padding not in PADDINGS:
        raise ValueError(f"padding={padding!r} is not one of {', '.join(PADDINGS)}")
    return padding


def _image_and(image, other, name, rank, expected):
    """``image [B, H, W, C]`` as a tensor and ``other`` (``rank`` axes, the last of size
    2, as ``expected`` writes it) cast to its dtype, or one clear error."""
    if len(image.shape) != 4 or len(other.shape) != rank or other.shape[-1] != 2:
        raise ValueError(
            f"image {tuple(image.shape)} and {name} {tuple(other.shape)} must be [B, H, W, C] "
            f"and {expected}"
        )
    image = ops.convert_to_tensor(image)
    return image, ops.cast(other, image.dtype)


def backward_warp(image, flow, padding="border"):
    """Bilinear sampling of ``image`` at ``x + flow(x)``.

    Args:
        image: ``[B, H, W, C]`` float.
        flow: ``[B, H, W, 2]`` ``(dx, dy)`` in pixels.
        padding: ``"border"`` (clamp the sample point) or ``"zeros"`` (0 outside).

    Returns:
        ``[B, H, W, C]``, the warped image, in ``image``'s dtype.
    """
    _check_padding(padding)
    image, flow = _image_and(image, flow, "flow", 4, "[B, H, W, 2]")
    shape = ops.shape(image)
    b, h, w, c = shape[0], shape[1], shape[2], shape[3]
    hf, wf = ops.cast(h, image.dtype), ops.cast(w, image.dtype)
    gx = ops.cast(ops.arange(w), image.dtype)[None, None, :]
    gy = ops.cast(ops.arange(h), image.dtype)[None, :, None]
    x = gx + flow[..., 0]
    y = gy + flow[..., 1]
    if padding == "border":
        x = ops.clip(x, 0.0, wf - 1.0)
        y = ops.clip(y, 0.0, hf - 1.0)
    x0 = ops.floor(x)
    y0 = ops.floor(y)
    fx = (x - x0)[..., None]
    fy = (y - y0)[..., None]
    flat = ops.reshape(image, (-1, c))
    base = (ops.arange(b) * h * w)[:, None, None]

    def tap(yi, xi, weight):
        inside = (xi >= 0) & (xi <= wf - 1) & (yi >= 0) & (yi <= hf - 1)
        xc = ops.cast(ops.clip(xi, 0.0, wf - 1.0), "int32")
        yc = ops.cast(ops.clip(yi, 0.0, hf - 1.0), "int32")
        values = ops.take(flat, ops.reshape(base + yc * w + xc, (-1,)), axis=0)
        values = ops.reshape(values, shape)
        if padding == "zeros":
            weight = weight * ops.cast(inside, image.dtype)[..., None]
        return values * weight

    return (
        tap(y0, x0, (1 - fx) * (1 - fy))
        + tap(y0, x0 + 1, fx * (1 - fy))
        + tap(y0 + 1, x0, (1 - fx) * fy)
        + tap(y0 + 1, x0 + 1, fx * fy)
    )


@keras.saving.register_keras_serializable(package="keras_vgan")
class BackwardWarp(keras.layers.Layer):
    """``[image, flow] -> image`` read at ``x + flow(x)``, bilinear (``backward_warp``).

    Args:
        padding: ``"border"`` (the default: the sample point is clamped into the image,
            edge pixels repeat) or ``"zeros"`` (0 outside the image).

    Call: ``([image [B, H, W, C], flow [B, H, W, 2] (dx, dy) pixels]) -> [B, H, W, C]``.
    """

    def __init__(self, padding="border", **kwargs):
        super().__init__(**kwargs)
        self.padding = _check_padding(padding)

    def call(self, inputs):
        image, flow = inputs
        return backward_warp(image, flow, padding=self.padding)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        config = super().get_config()
        config.update(padding=self.padding)
        return config


def warp_clip(clip, flow, padding="border"):
    """Every frame of ``clip`` ``[B, T, H, W, C]`` warped by ``flow`` ``[B, T, H, W, 2]``."""
    shape = ops.shape(clip)
    frames = ops.reshape(clip, (-1, shape[2], shape[3], clip.shape[-1]))
    flows = ops.reshape(flow, (-1, shape[2], shape[3], 2))
    return ops.reshape(backward_warp(frames, flows, padding=padding), shape)


def _tent(offset):
    """``max(0, 1 - |offset|)``, the bilinear weight of a pixel ``offset`` from the sample
    point, with bilinear sampling's one-sided derivative at whole pixels (``abs`` and
    ``relu`` have none there: a layer at rest, shift exactly 0, would get no gradient).

    Written as the tent rather than as ``floor`` and one-hot comparisons (the same values)
    because full-integer LiteRT quantises it gracefully: a position off by a
    quantisation step moves the weights a little instead of flipping a comparison.
    """
    if keras.backend.is_keras_tensor(offset):  # symbolic (a model's build): shapes only
        return ops.relu(1.0 - ops.abs(offset))
    return _tent_with_gradient(offset)


@ops.custom_gradient
def _tent_with_gradient(offset):
    weight = ops.relu(1.0 - ops.abs(offset))

    def grad(upstream):
        # d weight / d offset of (1 - f) at offset = -f and f at offset = 1 - f, f in [0, 1).
        left = ops.cast((offset > -1.0) & (offset <= 0.0), offset.dtype)
        right = ops.cast((offset > 0.0) & (offset <= 1.0), offset.dtype)
        return upstream * (left - right)

    return weight, grad


def _tent_matrix(n, d):
    """``[..., n, n]``: ``T[o, i] = tent(i - (o - d))``, the bilinear weight of input pixel
    ``i`` for output pixel ``o`` of a 1D signal moved by ``d`` (``[...]``) pixels."""
    grid = ops.cast(ops.arange(n), d.dtype)
    return _tent(grid[None, :] - grid[:, None] + d[..., None, None])


def translate(image, shift):
    """Images moved by one translation each: bilinear, 0 outside the image.

    Equal to ``backward_warp(image, flow, padding="zeros")`` with the constant flow
    ``-shift`` (the image moves by ``+shift``), but written as two small matrix products
    instead of gathers: bilinear sampling along x is the matrix ``T[x, x'] = max(0, 1 -
    |x' - (x - dx)|)`` (a tent around the sample point; taps outside the image have no
    column, so they weigh 0; the gradient in ``shift`` is backward_warp's, also at whole
    pixels), and the same along y. Forward and backward are dense ``matmul``s, about 10x
    faster on a CPU than the gathers and their scatter-add gradient, and they export to
    SavedModel, LiteRT and ONNX (``BatchMatMul``).

    Args:
        image: ``[B, H, W, C]`` float.
        shift: ``[B, 2]`` ``(dx, dy)`` in pixels per image.

    Returns:
        ``[B, H, W, C]``: ``out(x, y) = image(x - dx, y - dy)``, in ``image``'s dtype.
    """
    image, shift = _image_and(image, shift, "shift", 2, "[B, 2]")
    h, w, c = image.shape[1], image.shape[2], image.shape[3]

    # Along y: [B, H, H] @ [B, H, W * C]; along x: [B, H * C, W] @ [B, W, W]^T (x last,
    # so both are one product per image rather than one per row).
    rows = ops.matmul(_tent_matrix(h, shift[:, 1]), ops.reshape(image, (-1, h, w * c)))
    rows = ops.reshape(
        ops.transpose(ops.reshape(rows, (-1, h, w, c)), (0, 1, 3, 2)), (-1, h * c, w)
    )
    out = ops.matmul(rows, ops.transpose(_tent_matrix(w, shift[:, 0]), (0, 2, 1)))
    return ops.transpose(ops.reshape(out, (-1, h, c, w)), (0, 1, 3, 2))


def composite_layers(background, colour, alpha, shift):
    """Frames of layers translated over a static background, composited back to front.

    Args:
        background: ``[B, H, W, C]``.
        colour: ``[B, L, H, W, C]``, the layers' colours.
        alpha: ``[B, L, H, W, 1]`` in [0, 1], their opacity (layer ``L - 1`` on top).
        shift: ``[B, N, L, 2]`` ``(dx, dy)``: where each layer is moved, in pixels, in
            each of ``N`` frames (bilinear, so sub-pixel shifts blend neighbours; outside
            the canvas a layer is transparent).

    Returns:
        ``[B, N, H, W, C]``: per frame ``out = a * colour + (1 - a) * out`` over the layers.
    """
    _, n, layers, _ = shift.shape
    h, w, c = background.shape[1], background.shape[2], background.shape[3]
    cc = c + 1
    # ``translate``'s two tent matrices, arranged so that no tensor is copied per frame and
    # none has more than 5 axes (LiteRT's slicing kernels stop there). Along x, one product
    # per (clip, layer) moves its rows, (channel, row) pairs, to every frame at once: the
    # right factor is the frames' T_x^T side by side, [W, N * W]. Along y, one product per
    # (clip, layer, frame). Forward and backward took 12 ms against 35 ms for each layer
    # copied per frame, translated and sliced (16 clips of 16 frames, 32x32, 2 layers, 1 core).
    stacked = ops.concatenate([colour, ops.cast(alpha, colour.dtype)], axis=-1)
    dtype = stacked.dtype
    image = ops.reshape(ops.transpose(stacked, (0, 1, 4, 2, 3)), (-1, cc * h, w))
    shift = ops.transpose(ops.cast(shift, dtype), (0, 2, 1, 3))  # [B, L, N, 2]
    grid_w = ops.cast(ops.arange(w), dtype)
    dx = ops.reshape(shift[..., 0], (-1, 1, n, 1))
    # T_x^T[i, k, o] = tent(i - (o - dx_k)): the weight of input column i in output column o.
    tx = _tent(grid_w[:, None, None] - grid_w[None, None, :] + dx)  # [B * L, W, N, W]
    rows = ops.matmul(image, ops.reshape(tx, (-1, w, n * w)))  # [B * L, C' * H, N * W]
    rows = ops.transpose(ops.reshape(rows, (-1, cc, h, n, w)), (0, 3, 2, 1, 4))
    ty = _tent_matrix(h, ops.reshape(shift[..., 1], (-1,)))  # [B * L * N, H, H]
    moved = ops.matmul(ty, ops.reshape(rows, (-1, h, cc * w)))  # [B * L * N, H, C' * W]
    moved = ops.reshape(moved, (-1, layers, n * h, cc, w))  # [B, L, N * H, C', W]
    out = ops.tile(ops.transpose(background, (0, 1, 3, 2))[:, None], (1, n, 1, 1, 1))
    out = ops.reshape(out, (-1, n * h, c, w))  # [B, N * H, C, W]
    # Unstack and split rather than slices: their gradients are a stack and a concatenation,
    # where a strided slice's scatters into zeros.
    for layer in ops.unstack(moved, axis=1):  # back to front
        colour_l, a = ops.split(layer, [c], axis=2)
        out = a * colour_l + (1.0 - a) * out
    return ops.transpose(ops.reshape(out, (-1, n, h, c, w)), (0, 1, 2, 4, 3))
