"""A small differentiable optical-flow network in the manner of SPyNet.

Ranjan & Black, "Optical Flow Estimation using a Spatial Pyramid Network" (CVPR 2017):
the flow is estimated coarse to fine over an image pyramid. At the coarsest level it
starts at 0; at each level the flow of the level below is up-sampled (x2, values
doubled), the second frame is warped by it (``warp.backward_warp``) and a small conv
net reads ``(frame 1, warped frame 2, up-sampled flow)`` and predicts a residual that
is added::

    V_k = up(V_{k-1}) + G_k(I1_k, warp(I2_k, up(V_{k-1})), up(V_{k-1})),   V_{-1} = 0

Here the frames are made grey (the mean of their channels, so one set of weights
serves 1- and 3-channel clips), the pyramid is built by 2x2 average pooling, and each
``G_k`` is four ``kernel_size`` convolutions (ReLU between them) instead of SPyNet's
five 7x7. Its output follows the package convention (``keras_vgan.motion``): the
forward flow ``(dx, dy)`` in pixels on frame 1's grid, frame 2 read at ``x + flow``
gives frame 1. Everything is differentiable, so a discriminator or a loss can look
at the flow of generated clips and pass gradients back.

``spynet(pretrained=True)`` loads the weights shipped with the package
(``assets/spynet.weights.h5``), trained by ``python -m keras_vgan.motion.train`` on the
exact flow of the built-in Moving MNIST and bouncing shapes (64x64 frames, motions of up
to about 4 pixels per frame).
"""

from importlib import resources

import keras
from keras import ops

from keras_vgan.motion.warp import backward_warp

WEIGHTS = "spynet.weights.h5"
DIRECTIONS = ("forward", "backward")


@keras.saving.register_keras_serializable(package="keras_vgan")
class SPyNet(keras.Model):
    """Coarse-to-fine flow network (Ranjan & Black 2017), small.

    Args:
        levels: pyramid levels; frame height and width must be multiples of
            ``2 ** (levels - 1)``.
        widths: widths of the hidden convolutions of each level's net.
        kernel_size: their kernel size.

    Call: ``(pair [B, 2, H, W, C]) -> flow [B, H, W, 2]`` ``(dx, dy)`` in pixels, the
    forward flow of ``pair[:, 0] -> pair[:, 1]`` on ``pair[:, 0]``'s grid; frames in
    [-1, 1], any ``C`` (made grey).
    """

    def __init__(self, levels=3, widths=(16, 32, 16), kernel_size=5, **kwargs):
        super().__init__(**kwargs)
        widths = tuple(int(w) for w in widths)
        if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
            raise ValueError(f"levels={levels!r} must be an integer >= 1")
        if not widths or min(widths) < 1:
            raise ValueError(f"widths={widths!r} must be positive integers")
        # === Config ===
        self.levels = levels
        self.widths = widths
        self.kernel_size = int(kernel_size)
        # === Layers === (level 0 is the coarsest)
        self.level_nets = []
        for k in range(levels):
            convs = [
                keras.layers.Conv2D(
                    w, kernel_size, padding="same", activation="relu", name=f"level{k}_conv{i}"
                )  # fmt: skip
                for i, w in enumerate(widths)
            ]
            convs.append(
                keras.layers.Conv2D(
                    2,
                    kernel_size,
                    padding="same",
                    name=f"level{k}_flow",
                    kernel_initializer=keras.initializers.RandomNormal(stddev=1e-3),
                )  # fmt: skip
            )
            for conv, c_in in zip(convs, (4,) + widths, strict=True):
                conv.build((None, None, None, c_in))
            self.level_nets.append(convs)
        self.built = True

    def _check(self, pair):
        shape = tuple(pair.shape)
        m = 2 ** (self.levels - 1)
        if len(shape) != 5 or shape[1] != 2:
            raise ValueError(f"pair has shape {shape}; expected [B, 2, H, W, C]")
        for n in shape[2:4]:
            if n is not None and n % m:
                raise ValueError(
                    f"pair has shape {shape}; H and W must be multiples of {m} "
                    f"(2 ** (levels - 1), levels={self.levels})"
                )

    def pyramid_flows(self, pair):
        """The flow of every level, coarsest first (level ``k`` at ``1 / 2**(levels-1-k)``)."""
        self._check(pair)
        x = ops.cast(pair, self.compute_dtype)
        first = ops.mean(x[:, 0], axis=-1, keepdims=True)
        second = ops.mean(x[:, 1], axis=-1, keepdims=True)
        firsts, seconds = [first], [second]
        for _ in range(self.levels - 1):
            firsts.insert(0, ops.average_pool(firsts[0], 2, 2))
            seconds.insert(0, ops.average_pool(seconds[0], 2, 2))
        flows = []
        flow = ops.zeros_like(ops.concatenate([firsts[0], firsts[0]], axis=-1))
        for k, convs in enumerate(self.level_nets):
            if k:
                shape = ops.shape(firsts[k])
                flow = 2.0 * ops.image.resize(flow, (shape[1], shape[2]), interpolation="bilinear")
            h = ops.concatenate([firsts[k], backward_warp(seconds[k], flow), flow], axis=-1)
            for conv in convs:
                h = conv(h)
            flow = flow + h
            flows.append(flow)
        return flows

    def call(self, pair, training=False):
        return self.pyramid_flows(pair)[-1]

    def compute_output_spec(self, pair, training=False):
        return keras.KerasTensor((pair.shape[0],) + tuple(pair.shape[2:4]) + (2,))

    def get_config(self):
        config = super().get_config()
        config.update(levels=self.levels, widths=list(self.widths), kernel_size=self.kernel_size)
        return config


def spynet(pretrained=True):
    """A ``SPyNet`` of the default architecture; ``pretrained``: with the shipped weights."""
    model = SPyNet(name="spynet")
    if pretrained:
        ref = resources.files("keras_vgan.motion").joinpath("assets").joinpath(WEIGHTS)
        with resources.as_file(ref) as path:
            model.load_weights(str(path))
    return model


def clip_pairs(clips, direction="forward"):
    """Consecutive frame pairs of clips ``[B, T, H, W, C]`` -> ``[B * (T - 1), 2, H, W, C]``.

    ``"forward"`` pairs ``(frame_t, frame_{t+1})``, ``"backward"`` ``(frame_{t+1},
    frame_t)``: their flows follow ``flow.classical_flow``'s two directions.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction={direction!r} is not one of {', '.join(DIRECTIONS)}")
    if len(clips.shape) != 5 or clips.shape[1] is None or clips.shape[1] < 2:
        raise ValueError(f"clips have shape {tuple(clips.shape)}; expected [B, T >= 2, H, W, C]")
    a, b = clips[:, :-1], clips[:, 1:]
    if direction == "backward":
        a, b = b, a
    pair = ops.stack([a, b], axis=2)  # [B, T - 1, 2, H, W, C]
    return ops.reshape(pair, (-1, 2) + tuple(clips.shape[2:]))


def network_flow(model, clips, direction="forward"):
    """A flow network's flow between consecutive frames: ``[B, T - 1, H, W, 2]``.

    Args:
        model: a ``SPyNet`` (or any model mapping ``[N, 2, H, W, C]`` pairs to flows).
        clips: ``[B, T, H, W, C]`` in [-1, 1].
        direction: ``"forward"`` or ``"backward"`` (``flow.classical_flow``).
    """
    clips = ops.convert_to_tensor(clips)
    flow = model(clip_pairs(clips, direction))
    shape = ops.shape(clips)
    return ops.reshape(flow, (shape[0], clips.shape[1] - 1, shape[2], shape[3], 2))
