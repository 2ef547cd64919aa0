"""What the noise-to-clip GAN families of the zoo share: their registration and clip keywords.

The one module of ``keras_vgan/models/`` that families may import besides ``layers/``
(``tests/test_architecture.py``): it holds no model, only the registration pattern
that VGAN, TGAN, MoCoGAN and the frame baseline have in common.
"""

from keras_vgan import registry
from keras_vgan.layers.checks import D_NORMS, check_geometry
from keras_vgan.layers.predictors import prediction_baselines


def clip_keywords(config):
    """``(clip, cond)``: the clip geometry keywords every GAN constructor takes, and
    ``num_classes`` when the config is class-conditional (else an empty dict)."""
    clip = dict(frames=config.frames, size=config.size, channels=config.channels)
    cond = dict(num_classes=config.num_classes) if config.num_classes else {}
    return clip, cond


def check_clip_geometry(config):
    """A ``depth``-level x2 pyramid must produce the config's frames and size."""
    check_geometry(config.frames, config.size, config.depth, config.channels)


def register_noise_gan(
    name, build, generators, d_norms=D_NORMS, generator_options=registry.GENERATOR_OPTIONS
):
    """Registers a GAN family that maps noise (and optionally a class) to clips.

    Args:
        name: the ``--model`` name.
        build: ``config -> (generator, discriminator)``.
        generators: the generator classes it builds (serving finds a family by them).
        d_norms: the discriminator norms the family accepts.
        generator_options: the ``registry.GENERATOR_OPTIONS`` its ``build`` reads.
    """
    registry.register(
        registry.ModelFamily(
            name=name,
            build=build,
            generators=tuple(generators),
            check=check_clip_geometry,
            serving=registry.NOISE,
            d_norms=d_norms,
            num_classes=True,
            generator_options=tuple(generator_options),
        )
    )


def prediction_family(check):
    """The ``ModelFamily`` fields every video predictor shares (context -> future frames,
    a ``predict`` endpoint, the copy-last-frame and blank baselines), with its ``check``."""
    return dict(
        check=check,
        serving=registry.Serving("frames", "predict"),
        d_norms=D_NORMS,
        task="prediction",
        condition="time",  # D judges context + future
        baselines=prediction_baselines,
    )


def build_token_model(config, networks):
    """The compiled ``token_models.TokenModel`` of a token family (the engine sits above
    the models, so it is imported when a model is built)."""
    from keras_vgan.token_models import build_token_model as build

    return build(config, networks)


def token_family(check):
    """The ``ModelFamily`` fields every token transformer shares (over a frozen
    tokenizer's codes; trained by ``token_models.TokenModel``; context -> future
    frames, served like the VAE family), with its ``check``."""
    return dict(
        check=check,
        serving=registry.Serving("vae", "predict"),
        d_norms=D_NORMS,  # no discriminator: any value
        num_classes=True,
        task="prediction",
        condition="time",
        baselines=prediction_baselines,
        build_model=build_token_model,
    )
