"""Recycle-GAN (Bansal, Ma, Ramanan & Sheikh, ECCV 2018): unpaired video-to-video translation.

Two domains A and B come without pairs (``keras_vgan.data.unpaired``). Recycle-GAN
trains, as CycleGAN does, two frame generators ``G_AB``, ``G_BA`` against two frame
discriminators ``D_B``, ``D_A``, and adds a temporal predictor per domain, ``P_A`` and
``P_B``, that predicts frame ``t + 1`` from frames ``t - 1`` and ``t`` (the paper's
recurrent predictor). The losses (``keras_vgan.losses``; trained by
``keras_vgan.unpaired.RecycleGAN``) tie the translation to the motion of each domain::

    adversarial   D_B(G_AB(a)), D_A(G_BA(b))
    recurrent     |a_{t+1} - P_A(a_{t-1}, a_t)|                     (and for b, P_B)
    recycle       |a_{t+1} - G_BA(P_B(G_AB(a_{t-1}), G_AB(a_t)))|   (and b -> a -> b)
    cycle         |a - G_BA(G_AB(a))|                               (optional, CycleGAN's)

The networks here, all per frame (time folded into the batch) as in the paper:

* ``RecycleGANGenerator``: a 2D U-Net (``layers.frame_nets.FrameUNet``) on every frame,
  ``[B, T, H, W, C_in] -> [B, T, H, W, C_out]`` in [-1, 1] (a straight-through clip,
  ``layers.blocks.bounded``, as the task generators);
* ``RecyclePredictor``: the same U-Net on frames ``(t - 1, t)`` joined along channels,
  its output added to frame ``t`` (so an untrained predictor starts at copy-last-frame
  instead of noise): ``[B, T, H, W, C] -> [B, T - 2, H, W, C]``, the next frame of every
  pair;
* the discriminators are ``layers.frame_nets.FramePatchGAN``: one logit per patch of
  every frame.
"""

import keras
from keras import ops

from keras_vgan import registry
from keras_vgan.layers.blocks import bounded
from keras_vgan.layers.checks import D_NORMS, check_frame_size, check_positive, check_widths
from keras_vgan.layers.frame_nets import FramePatchGAN, FrameUNet


def _check_clips(x, frames_at_least, size, channels, name):
    shape = tuple(x.shape)
    want = (size, size, channels)
    if len(shape) != 5 or shape[2:] != want or shape[1] is None or shape[1] < frames_at_least:
        raise ValueError(
            f"{name} have shape {shape}; expected [B, T, {', '.join(map(str, want))}] with a "
            f"known T >= {frames_at_least}"
        )
    return shape


@keras.saving.register_keras_serializable(package="keras_vgan")
class RecycleGANGenerator(keras.Model):
    """A frame-to-frame translator applied to every frame of a clip (a 2D U-Net).

    Args:
        frames: clip length it is built (and served) for; any length works at call.
        size: frame height and width (a multiple of ``2**len(widths)``).
        in_channels: channels of the source domain's frames.
        channels: channels of the target domain's frames.
        widths: U-Net widths, finest first.

    Call: ``(clips [B, T, size, size, in_channels]) -> [B, T, size, size, channels]``
    in [-1, 1].
    """

    def __init__(self, frames=16, size=32, in_channels=1, channels=1, widths=(16, 32, 64),
                 **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        widths = check_widths(widths)
        check_positive(frames=frames, in_channels=in_channels, channels=channels)
        check_frame_size(size, len(widths))
        # === Config ===
        self.frames = frames
        self.size = size
        self.in_channels = in_channels
        self.channels = channels
        self.widths = widths
        # === Layers ===
        self.body = FrameUNet(widths, channels, name="unet")
        self.build(None)

    @property
    def serving_input_shape(self):
        """``(T, H, W, C_in)`` of one source clip (for the export endpoints)."""
        return (self.frames, self.size, self.size, self.in_channels)

    def build(self, input_shape):
        self.call(keras.KerasTensor((1,) + self.serving_input_shape))
        self.built = True

    def call(self, clips, training=False):
        shape = _check_clips(clips, 1, self.size, self.in_channels, "source clips")
        x = ops.cast(clips, self.compute_dtype)
        frames = ops.reshape(x, (-1, self.size, self.size, self.in_channels))
        y = bounded(self.body(frames))
        return ops.reshape(y, (-1, shape[1], self.size, self.size, self.channels))

    def compute_output_spec(self, clips, training=False):
        return keras.KerasTensor(
            (clips.shape[0], clips.shape[1], self.size, self.size, self.channels)
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            frames=self.frames,
            size=self.size,
            in_channels=self.in_channels,
            channels=self.channels,
            widths=list(self.widths),
        )
        return config


@keras.saving.register_keras_serializable(package="keras_vgan")
class RecyclePredictor(keras.Model):
    """A domain's temporal predictor: frame ``t + 1`` from frames ``t - 1`` and ``t``.

    Args:
        size: frame height and width (a multiple of ``2**len(widths)``).
        channels: channels of the domain's frames.
        widths: U-Net widths, finest first.

    Call: ``(clips [B, T, size, size, channels], T >= 3) -> [B, T - 2, size, size,
    channels]``: output ``i`` predicts frame ``i + 2`` from frames ``i`` and ``i + 1``.
    """

    def __init__(self, size=32, channels=1, widths=(16, 32, 64), **kwargs):
        super().__init__(**kwargs)
        widths = check_widths(widths)
        check_positive(channels=channels)
        check_frame_size(size, len(widths))
        # === Config ===
        self.size = size
        self.channels = channels
        self.widths = widths
        # === Layers ===
        self.body = FrameUNet(widths, channels, name="unet")
        self.build(None)

    def build(self, input_shape):
        self.call(keras.KerasTensor((1, 3, self.size, self.size, self.channels)))
        self.built = True

    def call(self, clips, training=False):
        shape = _check_clips(clips, 3, self.size, self.channels, "clips")
        x = ops.cast(clips, self.compute_dtype)
        frame = (self.size, self.size, self.channels)
        previous = ops.reshape(x[:, :-2], (-1,) + frame)
        current = ops.reshape(x[:, 1:-1], (-1,) + frame)
        # Residual on the last frame: an untrained predictor copies it.
        y = bounded(current + self.body(ops.concatenate([previous, current], axis=-1)))
        return ops.reshape(y, (-1, shape[1] - 2) + frame)

    def compute_output_spec(self, clips, training=False):
        return keras.KerasTensor((clips.shape[0], clips.shape[1] - 2) + tuple(clips.shape[2:]))

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, channels=self.channels, widths=list(self.widths))
        return config


__all__ = ["RecycleGANGenerator", "RecyclePredictor"]


# ============================================================ registration
def domain_channels(config):
    """``(C_a, C_b)``: domain A has the config's channels; B the same from ``--data-b``,
    else what the built-in style makes (``data.unpaired.style_channels``)."""
    from keras_vgan.data.unpaired import style_channels  # noqa: PLC0415 (OpenCV on use)

    if config.data_b:
        return config.channels, config.channels
    return config.channels, style_channels(config.domain_b, config.channels)


def build_networks(config):
    """``(generators, discriminators)``: ``{"generator": G_AB, "generator_ba": G_BA,
    "predictor_a": P_A, "predictor_b": P_B}`` and ``{"discriminator": D_B,
    "discriminator_a": D_A}`` (the names of ``unpaired.RecycleGAN``'s networks)."""
    widths = config.widths(finest_first=True)
    ca, cb = domain_channels(config)
    clip = dict(frames=config.frames, size=config.size, widths=widths)
    d = dict(size=config.size, widths=widths, norm=config.d_norm)
    p = dict(size=config.size, widths=widths)
    generators = {
        "generator": RecycleGANGenerator(in_channels=ca, channels=cb, name="g_ab", **clip),
        "generator_ba": RecycleGANGenerator(in_channels=cb, channels=ca, name="g_ba", **clip),
        "predictor_a": RecyclePredictor(channels=ca, name="p_a", **p),
        "predictor_b": RecyclePredictor(channels=cb, name="p_b", **p),
    }
    discriminators = {
        "discriminator": FramePatchGAN(channels=cb, name="d_b", **d),
        "discriminator_a": FramePatchGAN(channels=ca, name="d_a", **d),
    }
    return generators, discriminators


def check_config(config):
    """The family's own fields; one-line ValueError naming the field."""
    import os  # noqa: PLC0415

    from keras_vgan.data.unpaired import BUILTIN, parse_style  # noqa: PLC0415

    check_frame_size(config.size, config.depth)
    if config.frames < 3:
        raise ValueError(
            f"frames={config.frames}: recycle_gan's predictors need frames >= 3 "
            "(frame t + 1 from frames t - 1 and t)"
        )
    parse_style(config.domain_b)
    for name in ("adv_weight", "recycle_weight", "recurrent_weight", "cycle_weight"):
        if getattr(config, name) < 0:
            raise ValueError(f"{name}={getattr(config, name)!r} must be >= 0")
    for name in ("gp_weight", "r1_gamma"):
        if getattr(config, name):
            raise ValueError(f"{name}={getattr(config, name)!r}: recycle_gan takes no penalty")
    if config.eval_every:
        raise ValueError(
            f"eval_every={config.eval_every}: recycle_gan is scored after training "
            "(python -m training.evaluate_unpaired --run RUN_DIR)"
        )
    if config.data_b:
        if not os.path.exists(os.path.expanduser(config.data_b)):
            raise ValueError(f"data_b={config.data_b!r} does not exist (a folder of videos)")
    elif config.data not in BUILTIN:
        raise ValueError(
            f"data={config.data!r} is a path: recycle_gan needs domain B as well "
            "(--data-b, a folder of videos or frame folders)"
        )


def source_options(config):
    """The clip options both domains' sources are opened with."""
    return dict(
        frames=config.frames,
        size=config.size,
        channels=config.channels,
        stride=config.data_stride,
        start=config.data_start,
        resize=config.data_resize,
    )


def open_data(config):
    """``{"source": domain A's source or None, "source_b": domain B's or None}``."""
    from keras_vgan.data.unpaired import open_domains  # noqa: PLC0415

    a, b = open_domains(config.data, config.data_b, **source_options(config))
    return {"source": a, "source_b": b}


def unpaired_batches(config, data=None, start_step=0, seed=None, split="train",
                     num_clips=None, batch_size=None):  # fmt: skip
    """``(clips_a, clips_b)`` batches of a checked config (``data``: its ``RunData``)."""
    from keras_vgan.data.unpaired import unpaired_dataset  # noqa: PLC0415

    batch_size = batch_size or config.batch_size
    if data is None:
        opened = open_data(config)
        source_a, source_b = opened["source"], opened["source_b"]
    else:
        source_a, source_b = data.source, getattr(data, "source_b", None)
    return unpaired_dataset(
        config.data,
        style=config.domain_b,
        source_a=source_a,
        source_b=source_b,
        frames=config.frames,
        size=config.size,
        channels=config.channels,
        batch_size=batch_size,
        seed=config.seed if seed is None else seed,
        start_index=start_step * batch_size,
        num_clips=num_clips,
        split=split,
        drop_remainder=num_clips is None,
    )


def build_model(config, networks):
    """The compiled ``unpaired.RecycleGAN`` (imported here: models are leaves, the
    engine is above them)."""
    from keras_vgan.unpaired import build_recycle_gan  # noqa: PLC0415

    return build_recycle_gan(config, networks)


def sample_callback(config, model, run_dir, data):
    """The run's side-by-side samples (A | A->B | B | B->A) on held-out clips."""
    from keras_vgan.unpaired_samples import run_samples  # noqa: PLC0415

    return run_samples(config, model, run_dir, data)


registry.register(
    registry.ModelFamily(
        name="recycle_gan",
        build=build_networks,
        generators=(RecycleGANGenerator,),
        check=check_config,
        serving=registry.Serving("frames", "translate_a_to_b"),
        d_norms=D_NORMS,
        build_model=build_model,
        open_data=open_data,
        train_data=lambda config, start_step=0, data=None: unpaired_batches(
            config, data=data, start_step=start_step
        ),
        samples=sample_callback,
    )
)
