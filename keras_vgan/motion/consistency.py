"""vid2vid's flow-warped temporal consistency for translation: ``FlowTranslationGAN``.

Wang et al., "Video-to-Video Synthesis" (NeurIPS 2018) keep a translated video
coherent by asking frame ``t`` to agree with the previous output frame warped by the
optical flow. Here the flow is that of the *source* clip (the translation keeps the
motion), from frame ``t - 1`` onto frame ``t`` (the backward flow, on frame ``t``'s
grid; ``keras_vgan.motion``), and the term added to the generator's loss is::

    flow_weight * mean_{b, t >= 1, h, w, c} |y_t - warp(y_{t-1}, flow_{t-1 -> t})|

with ``warp`` the differentiable ``backward_warp`` (border padding), so the gradient
reaches both frames. The flow is computed on the fly from the source batch by
``flow_method``: ``"spynet"`` (the shipped weights, frozen, in the graph) or
``"dis"`` / ``"farneback"`` (OpenCV, through ``tf.numpy_function``: training only).
No occlusion mask: the synthetic data have few occlusions.

This module sits at the engine layer (it subclasses ``tasks.VideoTaskGAN``);
``keras_vgan.motion`` itself does not import it. ``builders.build_gan`` uses it for a
translation config with ``flow_weight > 0``.
"""

import keras
import tensorflow as tf

from keras_vgan import losses as losses_lib
from keras_vgan.engine import video_of
from keras_vgan.motion import FLOW_METHODS, classical_flow, network_flow, spynet, warp_clip
from keras_vgan.tasks import VideoTaskGAN, temporal_difference_loss, unpack_pair


def flow_warp_loss(clips, flow):
    """``mean |x_t - warp(x_{t-1}, flow_{t-1})|`` over ``t >= 1`` (0 for one frame).

    Args:
        clips: ``[B, T, H, W, C]``.
        flow: the backward flow ``[B, T - 1, H, W, 2]`` (``flow[:, t]`` on frame
            ``t + 1``'s grid, reading frame ``t``).
    """
    if clips.shape[1] is not None and clips.shape[1] < 2:
        return tf.constant(0.0)
    warped = warp_clip(clips[:, :-1], tf.cast(flow, clips.dtype))
    return tf.reduce_mean(tf.abs(clips[:, 1:] - warped))


@keras.saving.register_keras_serializable(package="keras_vgan")
class FlowTranslationGAN(VideoTaskGAN):
    """``tasks.VideoTaskGAN`` plus the flow-warped temporal term (module docstring).

    Args:
        flow_method: ``"spynet"``, ``"dis"`` or ``"farneback"``: the source's flow.
        Others: as ``tasks.VideoTaskGAN``.

    ``compile(flow_weight=...)`` sets the term's weight (logged as ``flow_warp``).
    """

    def __init__(self, generator, discriminator, flow_method="spynet", **kwargs):
        if flow_method not in FLOW_METHODS:
            raise ValueError(f"flow_method={flow_method!r} is not one of {', '.join(FLOW_METHODS)}")
        super().__init__(generator, discriminator, **kwargs)
        self.flow_method = flow_method
        self.flow_weight = 0.0  # set by compile
        # Held in a plain function, not as a tracked layer: it is not part of the model
        # that is saved (the shipped weights are reloaded), and never trained.
        self._flow_net = (
            (lambda net: lambda: net)(spynet(True)) if flow_method == "spynet" else None
        )

    def _set_trackers(self, names, active):
        # Called by the base's constructor, before the model is built (and locked).
        super()._set_trackers(tuple(names) + ("flow_warp",), active)

    def compile(self, *args, flow_weight=0.0, **kwargs):
        """``tasks.VideoTaskGAN.compile`` plus ``flow_weight`` (the warped term's weight)."""
        super().compile(*args, **kwargs)
        self.flow_weight = float(flow_weight)
        active = list(self._active)
        if self.flow_weight and "flow_warp" not in active:
            active.insert(active.index("l2") + 1, "flow_warp")
        self._active = tuple(active)

    def get_compile_config(self):
        config = super().get_compile_config()
        config["flow_weight"] = self.flow_weight
        return config

    def source_flow(self, inputs):
        """The backward flow of source clips ``[B, T, H, W, C]``: ``[B, T - 1, H, W, 2]``."""
        if self.flow_method == "spynet":
            return tf.stop_gradient(network_flow(self._flow_net(), inputs, "backward"))
        flow = tf.numpy_function(
            lambda x: classical_flow(x, self.flow_method, "backward"), [inputs], tf.float32
        )
        shape = inputs.shape
        return tf.ensure_shape(flow, (shape[0], shape[1] - 1, shape[2], shape[3], 2))

    def train_step(self, data):
        inputs, real = unpack_pair(data)
        inputs = tf.cast(inputs, tf.float32)
        real = tf.cast(real, tf.float32)
        logs = {}
        flow = self.source_flow(inputs) if self.flow_weight else None

        # --- discriminator phase (as tasks.VideoTaskGAN)
        fake = tf.stop_gradient(
            tf.cast(video_of(self.generator(inputs, training=True)), tf.float32)
        )
        d_vars = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            real_heads = self._discriminate(real, inputs)
            fake_heads = self._discriminate(fake, inputs)
            d_loss = tf.add_n(
                [self._d_loss_fn(r, f) for r, f in zip(real_heads, fake_heads, strict=True)]
            )
            total = d_loss
            if self.r1_gamma:
                r1 = losses_lib.r1_penalty(self._critic(inputs), real)
                total += 0.5 * self.r1_gamma * r1
                logs["r1"] = r1
            scaled = self.scaled_loss(total, self.d_optimizer)
        self.apply_scaled_gradients(tape, scaled, self.d_optimizer, d_vars)

        # --- generator phase, with the flow-warped term
        g_vars = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            fake = tf.cast(video_of(self.generator(inputs, training=True)), tf.float32)
            fake_heads = self._discriminate(fake, inputs)
            g_loss = tf.add_n([self._g_loss_fn(f) for f in fake_heads])
            err = fake - real
            l1 = tf.reduce_mean(tf.abs(err))
            l2 = tf.reduce_mean(tf.square(err))
            total = self.adv_weight * g_loss + self.l1_weight * l1 + self.l2_weight * l2
            logs.update(l1=l1, l2=l2)
            if self.temporal_weight:
                tc = temporal_difference_loss(fake, real)
                total += self.temporal_weight * tc
                logs["temporal"] = tc
            if self.flow_weight:
                fw = flow_warp_loss(fake, flow)
                total += self.flow_weight * fw
                logs["flow_warp"] = fw
            scaled = self.scaled_loss(total, self.g_optimizer)
        self.apply_scaled_gradients(tape, scaled, self.g_optimizer, g_vars)
        self._update_ema()
        return self._log_step(logs, d_loss, g_loss, real_heads, fake_heads)

    def get_config(self):
        config = super().get_config()
        config.update(flow_method=self.flow_method)
        return config
