"""Motion-aware discrimination: a video discriminator that also sees the clip's motion.

``MotionDiscriminator(d, motion)`` wraps any video discriminator ``d`` (whatever its
family) and feeds it the clip with its motion joined along channels:

* ``"diff"``: the frame differences ``x_t - x_{t-1}`` (0 for the first frame):
  ``[B, T, H, W, 2C]``, cheap;
* ``"flow"``: the forward flow of the frozen shipped ``SPyNet`` (``spynet.spynet``)
  from frame ``t`` to ``t + 1`` (0 for the last frame), divided by ``FLOW_SCALE``
  pixels: ``[B, T, H, W, C + 2]``. The network is differentiable, so the generator
  also learns through the flow of its clips.

``d`` must be built for those channels (``motion_channels``); ``builders`` builds the
family's discriminator for them when ``TrainConfig.d_motion`` is set, so every video
GAN family gets the option without code of its own.
"""

import keras
from keras import ops

from keras_vgan.motion.spynet import SPyNet, network_flow, spynet

MOTION_INPUTS = ("diff", "flow")
FLOW_SCALE = 4.0  # pixels per frame: the built-in data's fastest motion


def _check_motion(motion):
    if motion not in MOTION_INPUTS:
        raise ValueError(f"motion={motion!r} is not one of {', '.join(MOTION_INPUTS)}")
    return motion


def motion_channels(channels, motion):
    """Channels the wrapped discriminator reads for clips of ``channels`` channels."""
    return channels * 2 if _check_motion(motion) == "diff" else channels + 2


def frame_differences(clips):
    """``x_t - x_{t-1}`` of clips ``[B, T, H, W, C]``, 0 for the first frame (same shape)."""
    diff = clips[:, 1:] - clips[:, :-1]
    return ops.concatenate([ops.zeros_like(clips[:, :1]), diff], axis=1)


@keras.saving.register_keras_serializable(package="keras_vgan")
class MotionDiscriminator(keras.Model):
    """A discriminator of ``[clip, motion(clip)]`` (module docstring).

    Args:
        discriminator: the video discriminator, built for ``motion_channels(C, motion)``
            channels; called with the joined clip and any keyword (e.g. ``labels=``).
        motion: ``"diff"`` or ``"flow"``.
        flow_net: the flow network for ``"flow"`` (default: the shipped ``SPyNet``); it
            is frozen.

    Call: ``(clips [B, T, H, W, C], **kwargs) -> discriminator(joined, **kwargs)``.
    """

    def __init__(self, discriminator, motion="diff", flow_net=None, **kwargs):
        super().__init__(**kwargs)
        self.motion = _check_motion(motion)
        self.discriminator = discriminator
        self.flow_net = None
        if motion == "flow":
            self.flow_net = flow_net if flow_net is not None else spynet(pretrained=True)
            self.flow_net.trainable = False
        self.built = True

    def motion_of(self, clips):
        """The motion channels of clips ``[B, T, H, W, C]``: ``[B, T, H, W, C or 2]``."""
        if self.motion == "diff":
            return frame_differences(clips)
        if clips.shape[1] is not None and clips.shape[1] < 2:
            return ops.zeros(ops.shape(clips)[:4] + (2,), clips.dtype)
        flow = ops.cast(network_flow(self.flow_net, clips), clips.dtype) / FLOW_SCALE
        return ops.concatenate([flow, ops.zeros_like(flow[:, :1])], axis=1)

    def call(self, clips, training=False, **kwargs):
        clips = ops.convert_to_tensor(clips)
        joined = ops.concatenate([clips, self.motion_of(clips)], axis=-1)
        return self.discriminator(joined, training=training, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(
            discriminator=keras.saving.serialize_keras_object(self.discriminator),
            motion=self.motion,
            flow_net=(
                None
                if self.flow_net is None
                else keras.saving.serialize_keras_object(self.flow_net)
            ),
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        if config.get("flow_net") is not None:
            config["flow_net"] = keras.saving.deserialize_keras_object(config["flow_net"])
        return cls(**config)


__all__ = ["FLOW_SCALE", "MOTION_INPUTS", "MotionDiscriminator", "SPyNet", "frame_differences"]
