"""What the video-prediction families share: the predictor base, the baselines, the checks.

A predictor maps ``context [B, K, H, W, C]`` to ``[B, frames, H, W, C]`` in [-1, 1]
(``frames`` defaults to the trained horizon ``target_frames``; more frames roll it out
on its own predictions). ``PredictorBase`` holds its config, checks and Keras plumbing;
``prediction_baselines`` are the trivial predictors every one of them is scored against
(``copy_last_frame`` and the blank background frame).
"""

import keras
from keras import ops

from keras_vgan.layers.checks import check_frame_size, check_positive, check_widths


def copy_last_frame(context, frames):
    """The copy-last-frame baseline: the last context frame repeated ``frames`` times.

    Args:
        context: ``[B, K, H, W, C]``.
        frames: how many future frames.

    Returns:
        ``[B, frames, H, W, C]``.
    """
    last = context[:, -1:]
    return ops.repeat(last, int(frames), axis=1)


def blank_frames(context, frames):
    """The blank baseline: background (-1) frames shaped like ``context``'s."""
    return -ops.ones((ops.shape(context)[0], frames, *ops.shape(context)[2:]))


def prediction_baselines(stride=None, scale=1):
    """``copy_last_frame`` and ``blank`` (background, -1): ``fn(context, frames)``."""
    return {"copy_last_frame": copy_last_frame, "blank": blank_frames}


def check_context_frames(config):
    """``context_frames`` leaves at least one frame to predict; one-line ValueError."""
    if not 1 <= config.context_frames < config.frames:
        raise ValueError(
            f"context_frames={config.context_frames} must be in [1, frames={config.frames})"
        )


class PredictorBase(keras.Model):
    """Shared config, checks and Keras plumbing of the predictors.

    A subclass sets ``context_frames``, ``target_frames``, ``size``, ``channels`` and
    ``widths`` in its constructor, builds its layers, calls ``self.build(None)`` and
    writes ``call(context, frames=None, training=False)``.
    """

    def _check(self, context_frames, target_frames, size, channels, widths=None, levels=None):
        check_positive(
            context_frames=context_frames,
            target_frames=target_frames,
            channels=channels,
        )
        if widths is not None:
            levels = len(check_widths(widths))
        check_frame_size(size, levels)

    def _check_context(self, context):
        shape = tuple(context.shape[1:])
        want = (self.size, self.size, self.channels)
        if len(shape) != 4 or shape[1:] != want:
            raise ValueError(
                f"context has shape {tuple(context.shape)}; expected [B, K, {self.size}, "
                f"{self.size}, {self.channels}]"
            )

    def _check_context_length(self, context):
        if context.shape[1] != self.context_frames:
            raise ValueError(
                f"context has {context.shape[1]} frames; this {type(self).__name__} reads "
                f"context_frames={self.context_frames}"
            )

    def _frames(self, frames):
        frames = self.target_frames if frames is None else frames
        check_positive(frames=frames)
        return frames

    def _roll_out(self, x, frames, predict):
        """``predict`` (K -> N frames) again on the last K frames until ``frames`` exist."""
        outputs, have = [], 0
        while have < frames:
            y = predict(x)
            outputs.append(y)
            have += self.target_frames
            x = ops.concatenate([x, y], axis=1)[:, -self.context_frames :]
        out = ops.concatenate(outputs, axis=1) if len(outputs) > 1 else outputs[0]
        return out[:, :frames]

    def build(self, input_shape):
        shape = (1, self.context_frames, self.size, self.size, self.channels)
        self.call(keras.KerasTensor(shape))
        self.built = True

    def compute_output_spec(self, context, frames=None, training=False):
        frames = self._frames(frames)
        shape = (context.shape[0], frames, self.size, self.size, self.channels)
        return keras.KerasTensor(shape)

    @property
    def serving_input_shape(self):
        """``(K, H, W, C)`` of one context clip (for the export endpoints)."""
        return (self.context_frames, self.size, self.size, self.channels)

    def _base_config(self):
        return dict(
            context_frames=self.context_frames,
            target_frames=self.target_frames,
            size=self.size,
            channels=self.channels,
        )
