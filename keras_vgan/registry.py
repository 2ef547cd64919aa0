"""The model registry: every model family says here what it is, in its own file.

A *family* is what the ``model`` field of a ``TrainConfig`` names (``"vgan"``,
``"predict_convlstm"``, ...). Each family registers one ``ModelFamily`` at the
end of its model file (``keras_vgan/models/<family>.py``); the builders
(``keras_vgan.builders``), the config checks (``keras_vgan.config``), the
training program and serving read this table and nothing else, so adding a
family touches its model file and its registration only.

This module imports nothing of keras_vgan: the model files import it, and
``keras_vgan.models`` (imported by ``keras_vgan/__init__``) fills it.
"""

import dataclasses
from collections.abc import Callable


@dataclasses.dataclass(frozen=True)
class Serving:
    """What a family's trained model serves; ``keras_vgan.export.endpoints`` builds it.

    Attributes:
        inputs: ``"noise"``: latents ``z`` ``[None, latent_dim]`` (``serving_default``,
            ``generate_uint8``, ``generate_seeded``, and ``generate`` with labels for a
            class-conditional model); ``"timed_noise"``: the same, plus
            ``generate_timestamps`` (``z`` and ``timestamps`` ``[None, None]``, SavedModel
            only) for generators sampled at any times; ``"frames"``: input clips
            ``[None, T_in, h, w, C_in]`` of the generator's ``serving_input_shape``
            (``serving_default`` and ``name``).
        name: the named endpoint of a ``"frames"`` family (``"predict"``, ...). ``"vae"``
            (sequential VAEs): the noise endpoints, and ``name`` / ``<name>_noise``
            (context frames and a seed / explicit noise; ``endpoints.vae_endpoints``).
            ``"tokens"`` (a video tokenizer, vqvae): ``serving_default`` / ``name``
            (``reconstruct``), ``encode`` (clips -> int32 codes) and ``decode``
            (``endpoints.tokenizer_endpoints``).
    """

    inputs: str = "noise"
    name: str | None = None


NOISE = Serving("noise")  # every unconditional GAN family


@dataclasses.dataclass(frozen=True)
class ModelFamily:
    """One model family and everything the rest of the toolkit needs to know about it.

    Attributes:
        name: the ``TrainConfig.model`` value.
        build: ``config -> (generator, discriminator)`` for a checked ``TrainConfig``.
        generators: the generator classes ``build`` makes; a loaded model's family is
            found from its generator's class (``family_of``).
        check: ``config -> None``, the family's own checks (geometry, task fields);
            one-line ValueError naming the field.
        serving: what an export of the trained model serves (a ``Serving``; the
            endpoints are built from it by ``keras_vgan.export.endpoints``).
        d_norms: the ``d_norm`` values its discriminator takes.
        num_classes: whether ``num_classes > 0`` (class-conditional) is supported.
        task: None for an unconditional GAN (``engine.VideoGAN``); otherwise the
            kind of ``(inputs, targets)`` pairs it learns from, one of
            ``keras_vgan.data.pairs.TASKS``, trained by ``tasks.VideoTaskGAN``.
        condition: task families: what the discriminator sees besides the clip
            (``tasks.VideoTaskGAN``'s ``condition``).
        baselines: task families: ``(stride=None, scale=1) -> {name: fn(inputs)}``,
            the trivial predictors it is scored against.
        build_model: ``(config, networks) -> compiled model`` for a family trained by
            another engine (a ``engine.GenerativeModel`` subclass: a VAE, a token
            model); None: ``engine.VideoGAN``, or ``tasks.VideoTaskGAN`` with a ``task``.
        timestamps: its generator takes ``timestamps=`` (``[B, T]`` frame times) and its
            discriminator judges clips at given times: it trains on sparse frames
            (``TrainConfig.sparse_frames``; ``engine.VideoGAN(timed=True)``).
        open_data: a family trained on more than one clip stream (two unpaired domains):
            ``config -> {RunData field: value}`` opens its data (``config.open_data``).
        train_data: ``(config, start_step, data) -> tf.data.Dataset``, its training
            batches (``builders.build_train_dataset``); None: clips or task pairs.
        samples: ``(config, model, run_dir, data) -> callback``, its sample files
            (``runs.train``); None: noise samples or the task panels.
        generator_options: the generator fields of ``TrainConfig`` its ``build`` reads
            (``GENERATOR_OPTIONS``); another family refuses a non-default value.
    """

    name: str
    build: Callable
    generators: tuple
    check: Callable
    serving: Serving
    d_norms: tuple
    num_classes: bool = False
    task: str | None = None
    condition: str = "none"
    baselines: Callable | None = None
    build_model: Callable | None = None
    timestamps: bool = False
    open_data: Callable | None = None
    train_data: Callable | None = None
    samples: Callable | None = None
    generator_options: tuple = ()


# TrainConfig fields that only some generators read: its own width (g_width) and how its
# image generator upsamples (g_upsample).
GENERATOR_OPTIONS = ("g_width", "g_upsample")

_FAMILIES = {}
_BY_GENERATOR = {}


def register(family):
    """Adds ``family`` to the registry and returns it; one-line ValueError for a taken name."""
    if family.name in _FAMILIES:
        raise ValueError(f"model family {family.name!r} is already registered")
    _FAMILIES[family.name] = family
    for cls in family.generators:
        _BY_GENERATOR.setdefault(cls, family)  # the first family that builds it serves it
    return family


def get(name):
    """The family registered as ``name``; one-line ValueError naming the choices."""
    if name not in _FAMILIES:
        raise ValueError(f"model={name!r} is not one of {', '.join(names())}")
    return _FAMILIES[name]


def names():
    """Every family name, in registration order."""
    return tuple(_FAMILIES)


def families():
    """Every ``ModelFamily``, in registration order."""
    return tuple(_FAMILIES.values())


def family_of(generator):
    """The family whose builder makes ``generator``'s class, or None."""
    return _BY_GENERATOR.get(type(generator))


def task_families(task):
    """The families trained on ``task`` pairs (``"prediction"``, ...)."""
    return tuple(f for f in _FAMILIES.values() if f.task == task)
