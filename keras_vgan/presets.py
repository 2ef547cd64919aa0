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

from keras_vgan import losses as losses_lib
from keras_vgan.engine import VideoGAN
from keras_vgan.layers.blocks import NORMS
from keras_vgan.models.vgan import (
    VGANDiscriminator,
    VGANGenerator,
    check_geometry,
    default_widths,
)

MODELS = ("vgan",)
DATA = ("moving_mnist", "shapes")
# Built-in data sets and the channel counts they can produce.
DATA_CHANNELS = {"moving_mnist": (1,), "shapes": (1, 3)}


@dataclasses.dataclass
class TrainConfig:
    """Every setting of a training run; each field is a flag of ``python -m training``."""

    model: str = "vgan"
    data: str = "moving_mnist"
    frames: int = 16
    size: int = 64
    channels: int = 1
    latent_dim: int = 100
    width: int = 64  # generator's finest width; the coarsest is width * 2**(depth-1)
    depth: int = 4  # x2 up/down-sampling levels: frames and size are multiples of 2**depth
    g_norm: str = "batch"
    d_norm: str = "batch"
    loss: str = "non_saturating"
    gp_weight: float = 0.0
    r1_gamma: float = 0.0
    mask_l1: float = 0.1  # VGAN's lambda for the mask sparsity prior
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
    _choice("data", config.data, DATA)
    _choice("g_norm", config.g_norm, NORMS)
    _choice("d_norm", config.d_norm, NORMS)
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
    check_geometry(config.frames, config.size, config.depth, config.channels)
    allowed = DATA_CHANNELS[config.data]
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


def build_gan(config):
    """Builds and compiles the ``VideoGAN`` of a config (call inside a strategy scope)."""
    validate_config(config)
    generator = VGANGenerator(
        latent_dim=config.latent_dim,
        frames=config.frames,
        size=config.size,
        channels=config.channels,
        widths=default_widths(config.width, config.depth),
        norm=config.g_norm,
        name="generator",
    )
    discriminator = VGANDiscriminator(
        frames=config.frames,
        size=config.size,
        channels=config.channels,
        widths=default_widths(config.width, config.depth, reverse=True),
        norm=config.d_norm,
        name="discriminator",
    )
    gan = VideoGAN(
        generator,
        discriminator,
        d_steps=config.d_steps,
        ema_decay=config.ema_decay,
        seed=config.seed,
        name=f"{config.model}_gan",
    )
    gan.compile(
        d_optimizer=keras.optimizers.Adam(
            config.d_lr, beta_1=config.beta_1, beta_2=config.beta_2, name="d_adam"
        ),
        g_optimizer=keras.optimizers.Adam(
            config.g_lr, beta_1=config.beta_1, beta_2=config.beta_2, name="g_adam"
        ),
        loss=config.loss,
        gp_weight=config.gp_weight,
        r1_gamma=config.r1_gamma,
        mask_l1=config.mask_l1,
    )
    return gan


def build_train_dataset(config, start_step=0):
    """The infinite training stream of a config, batched, starting at ``start_step``.

    Clip ``i`` of the built-in data is a pure function of ``(seed, i)``, so a
    run resumed at step ``s`` continues with clip ``s * batch_size``.
    """
    from keras_vgan import data as data_lib

    kwargs = dict(
        frames=config.frames,
        size=config.size,
        batch_size=config.batch_size,
        seed=config.seed,
        start_index=start_step * config.batch_size,
    )
    if config.data == "shapes":
        kwargs["channels"] = config.channels
    return data_lib.builtin_dataset(config.data, **kwargs)
