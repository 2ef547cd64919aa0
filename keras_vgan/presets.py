"""Named training presets and the builders that turn one into a model and data.

A preset is a ``TrainConfig`` dataclass. The training program exposes every
field as a flag, validates the resolved config with ``validate_config`` and
writes it as JSON into the run directory; ``build_gan`` and
``build_train_dataset`` are what a library user calls to reproduce a run in
a notebook.
"""

import dataclasses
import json

import keras

from keras_vgan import augment as augment_lib
from keras_vgan import losses as losses_lib
from keras_vgan.engine import VideoGAN
from keras_vgan.layers.blocks import NORMS
from keras_vgan.models.conditional_vgan import (
    ConditionalVGANDiscriminator,
    ConditionalVGANGenerator,
)
from keras_vgan.models.frame_gan import D_NORMS, FrameDiscriminator, FrameGenerator
from keras_vgan.models.mocogan import MoCoGANDiscriminator, MoCoGANGenerator
from keras_vgan.models.tgan import TGANDiscriminator, TGANGenerator
from keras_vgan.models.vgan import (
    VGANDiscriminator,
    VGANGenerator,
    check_geometry,
    default_widths,
)

# vgan: Vondrick et al. 2016; frame_gan: frame-independent DCGAN baseline; tgan: Saito et
# al. 2017; mocogan: Tulyakov et al. 2018 (keras_vgan/models/).
# Conditional tasks (keras_vgan/tasks.py): model name -> task; built by build_task_gan.
TASK_MODELS = {
    "predict_convlstm": "prediction",
    "predict_conv3d": "prediction",
    "interpolate": "interpolation",
    "translate": "translation",
    "enhance": "restoration",
}
MODELS = ("vgan", "frame_gan", "tgan", "mocogan", *TASK_MODELS)
MOCOGAN_MOTION_DIM = 10  # the paper's motion code size; latent_dim is its content code size
DATA = ("moving_mnist", "shapes")
# Built-in data sets and the channel counts they can produce. ``data`` may also be a
# path (a video folder or file, frame folders, a Moving MNIST .npy) or ``tfds:NAME``:
# any of those gives 1 or 3 channels (see ``keras_vgan.data.open_source``).
DATA_CHANNELS = {"moving_mnist": (1,), "shapes": (1, 3)}
# Data sets that give class labels (for num_classes > 0), and how many classes.
DATA_CLASSES = {"moving_mnist": 10, "shapes": 3}  # class of the first digit / shape


@dataclasses.dataclass
class TrainConfig:
    """Every setting of a training run; each field is a flag of ``python -m training``."""

    model: str = "vgan"
    data: str = "moving_mnist"
    # Data on disk (``data`` a path or tfds:NAME): frame step, clip starts, how frames fit.
    data_stride: int = 1  # take every n-th frame of a video (temporal subsampling)
    data_start: str = "random"  # clip starts: "random" or "even" (evenly spaced)
    data_resize: str = "crop"  # "crop" (keep aspect, centre crop) or "stretch"
    frames: int = 16
    size: int = 64
    channels: int = 1
    latent_dim: int = 100  # frame_gan: per frame; mocogan: the content code
    num_classes: int = 0  # > 0: class-conditional on the data's labels (DATA_CLASSES)
    width: int = 64  # generator's finest width; the coarsest is width * 2**(depth-1)
    depth: int = 4  # x2 up/down-sampling levels: frames and size are multiples of 2**depth
    g_norm: str = "batch"
    d_norm: str = "batch"
    loss: str = "non_saturating"
    gp_weight: float = 0.0
    r1_gamma: float = 0.0
    mask_l1: float = 0.1  # VGAN's lambda for the mask sparsity prior
    augment: str = ""  # DiffAugment policy for D's inputs, e.g. "translation,cutout,brightness"
    d_steps: int = 1
    g_lr: float = 2e-4
    d_lr: float = 2e-4
    beta_1: float = 0.5
    beta_2: float = 0.999
    ema_decay: float = 0.999
    batch_size: int = 32
    epochs: int = 20
    steps_per_epoch: int = 200
    seed: int = 0
    strategy: str = "one_device"
    num_samples: int = 16  # clips in the sample grid written each epoch
    fps: int = 8  # frames per second of sample GIF/mp4 files
    eval_every: int = 0  # epochs between offline-metric evaluations in TensorBoard (0: off)
    eval_clips: int = 256  # generated and real clips per evaluation (callbacks.PeriodicEvaluation)
    # Conditional tasks (model in TASK_MODELS; keras_vgan/tasks.py). ``frames`` is the whole
    # clip, ``width``/``depth`` the networks' finest width and number of /2 levels.
    context_frames: int = 10  # prediction: frames of context; the other frames are predicted
    key_stride: int = 0  # interpolation: frames between key frames (0 = first and last only)
    degrade: str = "x2"  # restoration: x2 / x4 super-resolution or noise (denoising)
    adv_weight: float = 0.01  # adversarial term next to the reconstruction terms
    l1_weight: float = 1.0
    l2_weight: float = 0.0
    temporal_weight: float = 0.0  # temporal-consistency term (translation)

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data):
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown config keys {unknown}; expected fields of TrainConfig")
        return cls(**data)


PRESETS = {
    # About five minutes on a 2-core CPU: small clips, small network.
    "quick": TrainConfig(
        frames=16,
        size=32,
        width=16,
        depth=3,
        latent_dim=64,
        batch_size=16,
        epochs=40,
        steps_per_epoch=60,
        ema_decay=0.99,
        num_samples=16,
    ),
    # VGAN on the built-in Moving MNIST at the paper's resolution and depth.
    "vgan_moving_mnist": TrainConfig(frames=32, size=64, channels=1, width=64, depth=4),
    # The paper's exact configuration (32 frames of 64x64x3) on RGB bouncing shapes.
    "vgan_paper": TrainConfig(data="shapes", frames=32, size=64, channels=3, width=64, depth=4),
    # RGB bouncing shapes, 16 frames: a quicker 3-channel run.
    "vgan_shapes": TrainConfig(data="shapes", frames=16, size=64, channels=3, width=32, depth=4),
    # WGAN-GP variant: layer norm in the critic (batch statistics break the per-sample penalty).
    "vgan_wgan_gp": TrainConfig(
        loss="wgan",
        gp_weight=10.0,
        d_norm="layer",
        d_steps=5,
        g_lr=1e-4,
        d_lr=1e-4,
        beta_1=0.0,
        beta_2=0.9,
        frames=16,
        size=64,
        width=32,
    ),
    # --- Model zoo (keras_vgan/models/): 16 frames of 64x64, as in the TGAN/MoCoGAN papers.
    # Frame-independent DCGAN baseline: what a model without time does.
    "frame_gan_moving_mnist": TrainConfig(
        model="frame_gan", frames=16, size=64, width=32, depth=4, mask_l1=0.0
    ),
    "frame_gan_shapes": TrainConfig(
        model="frame_gan", data="shapes", channels=3, frames=16, size=64, width=32, mask_l1=0.0
    ),
    # TGAN: spectral normalisation + hinge loss in place of the paper's WGAN with
    # singular value clipping.
    "tgan_moving_mnist": TrainConfig(
        model="tgan",
        frames=16,
        size=64,
        width=32,
        depth=4,
        loss="hinge",
        d_norm="spectral",
        mask_l1=0.0,
    ),
    # TGAN with WGAN-GP (layer-normalised critic, 5 critic steps, Adam(1e-4, 0, 0.9)).
    "tgan_shapes": TrainConfig(
        model="tgan",
        data="shapes",
        channels=3,
        frames=16,
        size=64,
        width=32,
        depth=4,
        loss="wgan",
        gp_weight=10.0,
        d_norm="layer",
        d_steps=5,
        g_lr=1e-4,
        d_lr=1e-4,
        beta_1=0.0,
        beta_2=0.9,
        mask_l1=0.0,
    ),
    # MoCoGAN: content code of 50 (latent_dim), motion code of 10, image + video discriminators.
    "mocogan_moving_mnist": TrainConfig(
        model="mocogan", frames=16, size=64, width=32, depth=4, latent_dim=50, mask_l1=0.0
    ),
    "mocogan_shapes": TrainConfig(
        model="mocogan",
        data="shapes",
        channels=3,
        frames=16,
        size=64,
        width=32,
        depth=4,
        latent_dim=50,
        mask_l1=0.0,
    ),
    # Class-conditional (label embedding in G, projection discriminator): Moving MNIST
    # labels are the first digit's class, bouncing shapes' the first shape's type.
    "vgan_cond_moving_mnist": TrainConfig(
        model="vgan", num_classes=10, frames=16, size=64, width=32, depth=4
    ),
    "tgan_cond_shapes": TrainConfig(
        model="tgan",
        data="shapes",
        channels=3,
        num_classes=3,
        frames=16,
        size=64,
        width=32,
        depth=4,
        loss="hinge",
        d_norm="spectral",
        mask_l1=0.0,
    ),
    "mocogan_cond_moving_mnist": TrainConfig(
        model="mocogan",
        num_classes=10,
        frames=16,
        size=64,
        width=32,
        depth=4,
        latent_dim=50,
        mask_l1=0.0,
    ),
}


def get_preset(name):
    """Returns a copy of a named preset; one-line ValueError for an unknown name."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; available: {', '.join(sorted(PRESETS))}")
    return dataclasses.replace(PRESETS[name])


def _choice(name, value, allowed):
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(allowed)}")


def validate_config(config):
    """Checks a config before anything is built; one-line ValueError naming the field."""
    _choice("model", config.model, MODELS)
    _check_data_name(config.data)
    _choice("g_norm", config.g_norm, NORMS)
    # "spectral" (spectral normalisation) exists in the discriminators of keras_vgan/models/
    # other than VGAN's.
    _choice("d_norm", config.d_norm, NORMS if config.model == "vgan" else D_NORMS)
    augment_lib.parse_policy(config.augment)
    num_classes = config.num_classes
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 0:
        raise ValueError(f"num_classes={num_classes!r} must be an integer >= 0 (0 = unconditional)")
    if num_classes and config.data in DATA and num_classes != DATA_CLASSES.get(config.data):
        have = ", ".join(f"{k} ({v})" for k, v in DATA_CLASSES.items())
        if config.data in DATA_CLASSES:
            what = f"does not match the labels of data={config.data!r}"
        else:
            what = f"needs labels and data={config.data!r} has none"
        raise ValueError(
            f"num_classes={num_classes} {what}; data sets with labels (classes): {have}"
        )
    _choice("loss", config.loss, tuple(losses_lib.ADVERSARIAL_LOSSES))
    from keras_vgan.distribute import STRATEGIES

    _choice("strategy", config.strategy, STRATEGIES)
    positive = (
        "frames size channels latent_dim width depth d_steps batch_size epochs "
        "steps_per_epoch num_samples fps"
    ).split()
    for name in positive:
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name}={value!r} must be a positive integer")
    for name in ("g_lr", "d_lr"):
        if not getattr(config, name) > 0:
            raise ValueError(f"{name}={getattr(config, name)!r} must be > 0")
    for name in ("gp_weight", "r1_gamma", "mask_l1"):
        if getattr(config, name) < 0:
            raise ValueError(f"{name}={getattr(config, name)!r} must be >= 0")
    for name in ("beta_1", "beta_2", "ema_decay"):
        if not 0 <= getattr(config, name) < 1:
            raise ValueError(f"{name}={getattr(config, name)!r} must be in [0, 1)")
    _check_eval(config)
    if config.model in TASK_MODELS:
        validate_task_config(config)  # task geometry; probes data on disk as pairs
    else:
        check_geometry(config.frames, config.size, config.depth, config.channels)
    allowed = DATA_CHANNELS.get(config.data, (1, 3))
    if config.channels not in allowed:
        raise ValueError(
            f"channels={config.channels} is not available for data={config.data!r}; "
            f"allowed: {', '.join(map(str, allowed))}"
        )
    if config.gp_weight and config.d_norm == "batch":
        raise ValueError(
            f"d_norm='batch' with gp_weight={config.gp_weight} is unsound "
            "(batch statistics mix the samples the penalty treats separately); use 'layer' or 'none'"
        )
    if config.data not in DATA and config.model not in TASK_MODELS:
        _check_data_options(config)
        # Opens and probes the data: one-line error if none is usable.
        source = data_source(config)
        found = len(source.class_names or ())
        if num_classes and found != num_classes:
            raise ValueError(
                f"num_classes={num_classes} does not match data={config.data!r}, which has "
                f"{found} classes (sub-folders root/<class>/<video>)"
                if found
                else f"num_classes={num_classes} needs labels and data={config.data!r} has none "
                "(class labels come from sub-folders: root/<class>/<video>)"
            )


def _check_eval(config):
    """The periodic evaluation fields (``eval_every``, ``eval_clips``); one-line ValueError."""
    for name, low in (("eval_every", 0), ("eval_clips", 2)):
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name}={value!r} must be an integer >= {low}")
    if config.eval_every and config.model in TASK_MODELS:
        raise ValueError(
            f"eval_every scores unconditional samples; model={config.model!r} is a task model"
        )
    if config.eval_every and config.frames < 16:
        raise ValueError(
            f"eval_every={config.eval_every} needs frames >= 16 (the offline metric's clip "
            f"length), got frames={config.frames}"
        )


def build_gan(config):
    """Builds and compiles the ``VideoGAN`` of a config (call inside a strategy scope).

    Task models (``TASK_MODELS``) give a ``tasks.VideoTaskGAN`` (``build_task_gan``).
    """
    if config.model in TASK_MODELS:
        return build_task_gan(config)
    validate_config(config)
    generator, discriminator = build_networks(config)
    gan = VideoGAN(
        generator,
        discriminator,
        d_steps=config.d_steps,
        ema_decay=config.ema_decay,
        seed=config.seed,
        conditional=config.num_classes > 0,
        name=f"{config.model}_gan",
    )
    gan.compile(
        **_adam_optimizers(config),
        loss=config.loss,
        gp_weight=config.gp_weight,
        r1_gamma=config.r1_gamma,
        mask_l1=config.mask_l1,
        augment=config.augment,
    )
    return gan


def _adam_optimizers(config):
    """The config's two Adam optimizers, as ``compile`` keywords (build inside the scope)."""
    betas = dict(beta_1=config.beta_1, beta_2=config.beta_2)
    return dict(
        d_optimizer=keras.optimizers.Adam(config.d_lr, name="d_adam", **betas),
        g_optimizer=keras.optimizers.Adam(config.g_lr, name="g_adam", **betas),
    )


def build_networks(config):
    """The ``(generator, discriminator)`` of a config's ``model`` (not validated here)."""
    g_widths = default_widths(config.width, config.depth)
    d_widths = default_widths(config.width, config.depth, reverse=True)
    clip = dict(frames=config.frames, size=config.size, channels=config.channels)
    nc = config.num_classes
    g_cond = dict(num_classes=nc) if nc else {}
    if config.model == "vgan":
        g_cls, d_cls = (
            (ConditionalVGANGenerator, ConditionalVGANDiscriminator)
            if nc
            else (VGANGenerator, VGANDiscriminator)
        )
        cond = dict(num_classes=nc) if nc else {}
        generator = g_cls(
            latent_dim=config.latent_dim,
            widths=g_widths,
            norm=config.g_norm,
            name="generator",
            **clip,
            **cond,
        )
        discriminator = d_cls(
            widths=d_widths, norm=config.d_norm, name="discriminator", **clip, **cond
        )
    elif config.model == "frame_gan":
        generator = FrameGenerator(
            frame_latent_dim=config.latent_dim,
            widths=g_widths,
            norm=config.g_norm,
            name="generator",
            **clip,
            **g_cond,
        )
        discriminator = FrameDiscriminator(
            widths=d_widths, norm=config.d_norm, num_classes=nc, name="discriminator", **clip
        )
    elif config.model == "tgan":
        # Temporal generator: depth x2 layers over time, as wide as the image generator.
        generator = TGANGenerator(
            latent_dim=config.latent_dim,
            widths=g_widths,
            temporal_widths=g_widths,
            frame_latent_dim=config.latent_dim,
            norm=config.g_norm,
            name="generator",
            **clip,
            **g_cond,
        )
        discriminator = TGANDiscriminator(
            widths=d_widths, norm=config.d_norm, num_classes=nc, name="discriminator", **clip
        )
    elif config.model == "mocogan":
        generator = MoCoGANGenerator(
            content_dim=config.latent_dim,
            motion_dim=MOCOGAN_MOTION_DIM,
            widths=g_widths,
            norm=config.g_norm,
            name="generator",
            **clip,
            **g_cond,
        )
        discriminator = MoCoGANDiscriminator(
            image_widths=d_widths,
            video_widths=d_widths,
            norm=config.d_norm,
            num_classes=nc,
            name="discriminator",
            **clip,
        )
    else:
        raise ValueError(f"model={config.model!r} is not one of {', '.join(MODELS)}")
    return generator, discriminator


def _check_data_name(data):
    """A built-in name, ``tfds:NAME`` or an existing path; one-line ValueError otherwise."""
    if not isinstance(data, str) or not data:
        raise ValueError(f"data={data!r} must be a built-in name, a path or tfds:NAME")
    if data in DATA or data.startswith("tfds:"):
        return
    import os

    if not os.path.exists(os.path.expanduser(data)):
        raise ValueError(
            f"data={data!r} is neither a built-in data set ({', '.join(DATA)}), "
            "tfds:NAME nor an existing path"
        )


def _check_data_options(config):
    from keras_vgan.data import sources

    if not isinstance(config.data_stride, int) or config.data_stride < 1:
        raise ValueError(f"data_stride={config.data_stride!r} must be a positive integer")
    _choice("data_start", config.data_start, sources.START_MODES)
    _choice("data_resize", config.data_resize, sources.RESIZE_MODES)


def data_source(config):
    """The ``keras_vgan.data`` source of a config whose ``data`` is a path or ``tfds:NAME``.

    Files are probed once per process while they are unchanged (``validate_config``
    and ``build_train_dataset`` share the result); a path with nothing readable raises
    a one-line ``DataError`` (a ValueError), each bad file a warning line.
    """
    from keras_vgan import data as data_lib

    options = dict(
        frames=config.frames,
        size=config.size,
        channels=config.channels,
        stride=config.data_stride,
        start=config.data_start,
        resize=config.data_resize,
    )
    if config.num_classes:
        options["labels"] = True  # (clips, labels) from root/<class>/<video>
    return data_lib.sources.open_source_cached(config.data, **options)


def build_train_dataset(config, start_step=0):
    """The infinite training stream of a config, batched, starting at ``start_step``.

    Clip ``i`` of the built-in data is a pure function of ``(seed, i)``, so a
    run resumed at step ``s`` continues with clip ``s * batch_size``. Data on
    disk (a path or ``tfds:NAME``) is cut into clips of the config's frames and
    size, reshuffled each epoch from ``(seed, epoch)``; a resumed run skips the
    clips already used, which continues the same stream while the files are
    unchanged and none fails to decode after the start-up probe.
    """
    from keras_vgan import data as data_lib

    if config.model in TASK_MODELS:
        return build_task_pairs(config, start_step=start_step)  # (inputs, targets) batches
    if config.data not in DATA:
        return data_source(config).dataset(
            batch_size=config.batch_size,
            seed=config.seed,
            start_index=start_step * config.batch_size,
            drop_remainder=True,
        )

    kwargs = dict(
        frames=config.frames,
        size=config.size,
        batch_size=config.batch_size,
        seed=config.seed,
        start_index=start_step * config.batch_size,
    )
    if config.data == "shapes":
        kwargs["channels"] = config.channels
    if config.num_classes:
        kwargs["return_labels"] = True  # (clips, labels) batches for conditional models
    return data_lib.builtin_dataset(config.data, **kwargs)


# ============================================================ conditional tasks
# Task models (TASK_MODELS) train a generator conditioned on input frames with
# keras_vgan.tasks.VideoTaskGAN on (inputs, targets) pairs from keras_vgan.data.pairs.

_TASK_COMMON = dict(
    data="moving_mnist",
    size=64,
    width=16,
    depth=3,
    d_norm="spectral",
    mask_l1=0.0,
    g_lr=1e-3,
    d_lr=2e-4,
    ema_decay=0.99,
    batch_size=8,
    epochs=20,
    steps_per_epoch=100,
    num_samples=4,
)
PRESETS.update(
    {
        # Moving MNIST 10 -> 10 (the standard split), 64x64; an L2 reconstruction term
        # (the metric is MSE: L1's median is the blank background on sparse digits).
        "predict_convlstm_moving_mnist": TrainConfig(
            model="predict_convlstm",
            frames=20,
            context_frames=10,
            l1_weight=0.0,
            l2_weight=1.0,
            **_TASK_COMMON,
        ),
        "predict_conv3d_moving_mnist": TrainConfig(
            model="predict_conv3d",
            frames=20,
            context_frames=10,
            l1_weight=0.0,
            l2_weight=1.0,
            **_TASK_COMMON,
        ),
        # The first and last of 9 frames -> the 7 between (key_stride=4: every 4th frame).
        "interpolate_moving_mnist": TrainConfig(
            model="interpolate", frames=9, l1_weight=0.0, l2_weight=1.0, **_TASK_COMMON
        ),
        # Video-to-video translation: Sobel edge maps -> the digits of 8-frame clips; frame +
        # video discriminators on (source, output), L1 plus the temporal-consistency term.
        "translate_edges_moving_mnist": TrainConfig(
            model="translate", frames=8, temporal_weight=1.0, **_TASK_COMMON
        ),
        # Restoration of 8-frame clips: x2 / x4 super-resolution (area down-sampling) and
        # denoising (Gaussian noise, std 0.2).
        "sr_x2_moving_mnist": TrainConfig(model="enhance", frames=8, degrade="x2", **_TASK_COMMON),
        "sr_x4_moving_mnist": TrainConfig(model="enhance", frames=8, degrade="x4", **_TASK_COMMON),
        "denoise_moving_mnist": TrainConfig(
            model="enhance", frames=8, degrade="noise", **_TASK_COMMON
        ),
    }
)


def task_of(config):
    """The task of a config's model (``"prediction"``, ...), or None for a GAN."""
    return TASK_MODELS.get(config.model)


def validate_task_config(config):
    """Checks the task fields of a task model's config; one-line ValueError."""
    from keras_vgan.models.prediction import check_frame_size

    task = task_of(config)
    if config.num_classes:
        raise ValueError(f"num_classes={config.num_classes} is not supported by task models")
    check_frame_size(config.size, config.depth)
    for name in ("adv_weight", "l1_weight", "l2_weight", "temporal_weight"):
        if getattr(config, name) < 0:
            raise ValueError(f"{name}={getattr(config, name)!r} must be >= 0")
    if task == "prediction" and not 1 <= config.context_frames < config.frames:
        raise ValueError(
            f"context_frames={config.context_frames} must be in [1, frames={config.frames})"
        )
    if task == "interpolation":
        if config.key_stride < 0 or config.frames < 2:
            raise ValueError(f"key_stride={config.key_stride} must be >= 0 and frames >= 2")
        stride = config.key_stride or config.frames - 1
        if (config.frames - 1) % stride:
            raise ValueError(
                f"key_stride={stride} must divide frames - 1 = {config.frames - 1} "
                "(key frames at 0, key_stride, ..., frames - 1)"
            )
    if task == "restoration":
        from keras_vgan.data.pairs import degrade_scale

        if config.size % degrade_scale(config.degrade):
            raise ValueError(f"size={config.size} must be a multiple of the {config.degrade} scale")
    allowed = DATA_CHANNELS.get(config.data, (1, 3))
    if config.channels not in allowed:
        raise ValueError(
            f"channels={config.channels} is not available for data={config.data!r}; "
            f"allowed: {', '.join(map(str, allowed))}"
        )
    if config.data not in DATA:
        build_task_pairs(config)  # opens and probes the data: one-line DataError if unusable


def _task_widths(config):
    return default_widths(config.width, config.depth, reverse=True)  # finest first


def build_task_networks(config):
    """``(generator, discriminator, condition)`` of a task model's config."""
    from keras_vgan.models import prediction

    widths = _task_widths(config)
    task = task_of(config)
    clip = dict(size=config.size, channels=config.channels)
    if task == "prediction":
        k, n = config.context_frames, config.frames - config.context_frames
        if config.model == "predict_convlstm":
            generator = prediction.ConvLSTMPredictor(
                k, n, widths=widths, hidden=(widths[-1],), name="generator", **clip
            )
        else:
            generator = prediction.Conv3DPredictor(
                k, n, widths=widths, translator_width=config.width, name="generator", **clip
            )
        # The discriminator judges context + prediction: the whole clip.
        discriminator = prediction.ClipDiscriminator(
            frames=config.frames, widths=widths, norm=config.d_norm, name="discriminator", **clip
        )
        return generator, discriminator, "time"
    if task == "translation":
        from keras_vgan.models.translation import TranslationDiscriminator, TranslationGenerator

        # Paired folders and built-in pairs give sources with the clip's channels.
        pair = dict(size=config.size, in_channels=config.channels, channels=config.channels)
        generator = TranslationGenerator(config.frames, widths=widths, name="generator", **pair)
        discriminator = TranslationDiscriminator(
            config.frames, widths=widths, norm=config.d_norm, name="discriminator", **pair
        )
        return generator, discriminator, "channels"  # D judges (source, output) pairs
    # Interpolation and restoration: the discriminator judges the output clip alone.
    discriminator = prediction.ClipDiscriminator(
        frames=config.frames, widths=widths, norm=config.d_norm, name="discriminator", **clip
    )
    if task == "interpolation":
        from keras_vgan.models.interpolation import FrameInterpolator

        stride = config.key_stride or config.frames - 1
        generator = FrameInterpolator(
            (config.frames - 1) // stride + 1, stride, widths=widths, name="generator", **clip
        )
        return generator, discriminator, "none"
    if task == "restoration":
        from keras_vgan.data.pairs import degrade_scale
        from keras_vgan.models.enhancement import VideoEnhancer

        generator = VideoEnhancer(
            frames=config.frames,
            scale=degrade_scale(config.degrade),
            widths=widths,
            name="generator",
            **clip,
        )
        return generator, discriminator, "none"
    raise ValueError(f"model={config.model!r} is not a task model ({', '.join(TASK_MODELS)})")


def build_task_gan(config):
    """Builds and compiles the ``tasks.VideoTaskGAN`` of a task config (inside a strategy scope)."""
    from keras_vgan.tasks import VideoTaskGAN

    validate_config(config)
    generator, discriminator, condition = build_task_networks(config)
    gan = VideoTaskGAN(
        generator,
        discriminator,
        condition=condition,
        ema_decay=config.ema_decay,
        seed=config.seed,
        name=f"{config.model}_task",
    )
    gan.compile(
        **_adam_optimizers(config),
        loss=config.loss,
        adv_weight=config.adv_weight,
        l1_weight=config.l1_weight,
        l2_weight=config.l2_weight,
        temporal_weight=config.temporal_weight,
        r1_gamma=config.r1_gamma,
    )
    return gan


def build_task_pairs(config, start_step=0, seed=None, split="train", num_clips=None,
                     batch_size=None):  # fmt: skip
    """``(inputs, targets)`` batches of a task config.

    Args:
        config: a task model's ``TrainConfig``.
        start_step: resume the stream at this training step.
        seed: another seed for held-out clips (default: the config's).
        split: built-in Moving MNIST digits: ``"train"``, or ``"test"`` (held out).
        num_clips: a finite number of clips (built-in data); None = infinite.
        batch_size: default the config's.
    """
    from keras_vgan.data import pairs

    task = task_of(config)
    batch_size = batch_size or config.batch_size
    seed = config.seed if seed is None else seed
    options = dict(
        frames=config.frames,
        size=config.size,
        channels=config.channels,
        batch_size=batch_size,
        seed=seed,
        start_index=start_step * batch_size,
        context_frames=config.context_frames,
        stride=config.key_stride or None,
        degrade=config.degrade,
    )
    if config.data in DATA:
        return pairs.builtin_pairs(task, config.data, split=split, num_clips=num_clips, **options)
    ds = pairs.source_pairs(task, config.data, **options)
    return ds.take(-(-num_clips // batch_size)) if num_clips else ds
