"""Every registered network and layer of ``keras_vgan.models`` / ``keras_vgan.layers`` survives
serialisation: ``.keras`` save/load with identical outputs for models, registry
deserialisation with identical outputs for layers, and ``from_config(get_config())``
with an equal config for both. A class without a tiny case here fails the test.
"""

import importlib
import inspect
import pkgutil

import keras
import numpy as np
import pytest

import keras_vgan.editing  # noqa: F401  (registers InversionEncoder)
import keras_vgan.layers
import keras_vgan.models
from keras_vgan.models import VGANDiscriminator
from tests.helpers import run_serialization_test

CLIP = dict(frames=4, size=16, channels=1)


def _uniform(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")


def _normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


LABELS = np.array([2, 0], "int32")

# (registered class name, constructor kwargs, call inputs, call kwargs); tiny configurations.
MODEL_CASES = [
    ("VGANGenerator", dict(latent_dim=8, widths=(16, 8), **CLIP), _normal(2, 8), {}),
    ("VGANDiscriminator", dict(widths=(8, 16), **CLIP), _uniform(2, 4, 16, 16, 1), {}),
    (
        "ConditionalVGANGenerator",
        dict(num_classes=3, latent_dim=8, widths=(16, 8), **CLIP),
        _normal(2, 8),
        dict(labels=LABELS),
    ),
    (
        "ConditionalVGANDiscriminator",
        dict(num_classes=3, widths=(8, 16), norm="layer", **CLIP),
        _uniform(2, 4, 16, 16, 1),
        dict(labels=LABELS),
    ),
    ("FrameGenerator", dict(frame_latent_dim=4, widths=(8, 4), **CLIP), _normal(2, 16), {}),
    (
        "FrameGenerator",
        dict(frame_latent_dim=4, widths=(8, 4), num_classes=3, embed_dim=4, **CLIP),
        _normal(2, 16),
        dict(labels=LABELS),
    ),
    (
        "FrameDiscriminator",
        dict(widths=(4, 8), norm="spectral", num_classes=3, **CLIP),
        _uniform(2, 4, 16, 16, 1),
        dict(labels=LABELS),
    ),
    (
        "TGANGenerator",
        dict(latent_dim=8, widths=(8, 4), temporal_widths=(8, 4), frame_latent_dim=4, **CLIP),
        _normal(2, 8),
        {},
    ),
    (
        "TGANDiscriminator",
        dict(widths=(4, 8), norm="spectral", num_classes=3, **CLIP),
        _uniform(2, 4, 16, 16, 1),
        dict(labels=LABELS),
    ),
    (
        "MoCoGANGenerator",
        dict(content_dim=4, motion_dim=2, widths=(8, 4), num_classes=3, embed_dim=4, **CLIP),
        _normal(2, 14),
        dict(labels=LABELS, frames=6),
    ),
    (
        "LayeredMoCoGANGenerator",
        dict(content_dim=4, motion_dim=2, widths=(8, 4), num_classes=3, embed_dim=4, sprites=3,
             max_shift=5.0, hidden=8, **CLIP),
        _normal(2, 14),
        dict(labels=LABELS, frames=6),
    ),
    (
        "LayeredMoCoGANGenerator",
        dict(content_dim=4, motion_dim=2, widths=(8, 4), sprites=2, sprite_size=8, hidden=8,
             **CLIP),
        _normal(2, 14),
        dict(frames=6),
    ),
    (
        "MoCoGANDiscriminator",
        dict(image_widths=(4, 8), video_widths=(4, 8), image_frames=2, **CLIP),
        _uniform(2, 4, 16, 16, 1),
        {},
    ),
    (
        "MoCoGANDiscriminator",
        dict(image_widths=(4, 8), video_widths=(4, 8), image_frames=2, mbstd_group=2, **CLIP),
        _uniform(2, 4, 16, 16, 1),
        {},
    ),
    (
        "ConvLSTMPredictor",
        dict(context_frames=2, target_frames=2, size=16, channels=1, widths=(4, 8), hidden=(8,)),
        _uniform(2, 2, 16, 16, 1),
        dict(frames=3),
    ),
    (
        "Conv3DPredictor",
        dict(
            context_frames=2,
            target_frames=2,
            size=16,
            channels=1,
            widths=(4, 8),
            translator_width=4,
            translator_layers=2,
        ),
        _uniform(2, 2, 16, 16, 1),
        dict(frames=3),
    ),  # fmt: skip
    ("ClipDiscriminator", dict(widths=(4, 8), **CLIP), _uniform(2, 4, 16, 16, 1), {}),
    (
        "ClipDiscriminator",
        dict(widths=(4, 8), norm="batch", **CLIP),
        _uniform(2, 4, 16, 16, 1),
        {},
    ),
    (
        "VideoEnhancer",
        dict(scale=2, widths=(4, 8), **CLIP),
        _uniform(2, 4, 8, 8, 1),
        {},
    ),
    (
        "FrameInterpolator",
        dict(key_frames=2, stride=3, size=16, channels=1, widths=(4, 8)),
        _uniform(2, 2, 16, 16, 1),
        {},
    ),
    (
        "TranslationGenerator",
        dict(frames=4, size=16, in_channels=3, channels=1, widths=(4, 8)),
        _uniform(2, 4, 16, 16, 3),
        {},
    ),
    (
        "TranslationDiscriminator",
        dict(frames=4, size=16, in_channels=3, channels=1, widths=(4, 8), norm="batch"),
        _uniform(2, 4, 16, 16, 4),
        {},
    ),
    (
        "RecycleGANGenerator",
        dict(frames=4, size=16, in_channels=1, channels=3, widths=(4, 8)),
        _uniform(2, 4, 16, 16, 1),
        {},
    ),
    ("RecyclePredictor", dict(size=16, channels=3, widths=(4, 8)), _uniform(2, 4, 16, 16, 3), {}),
    ("FramePatchGAN", dict(size=16, channels=3, widths=(4, 8), norm="batch"),
     _uniform(2, 3, 16, 16, 3), {}),
    (
        "DualDiscriminator",
        dict(
            discriminator=VGANDiscriminator(widths=(8, 16), **CLIP),
            widths=(4, 8),
            image_frames=2,
            **CLIP,
        ),
        _uniform(2, 4, 16, 16, 1),
        {},
    ),
    (
        "StyleGANVGenerator",
        dict(
            content_dim=8,
            motion_dim=8,
            w_dim=16,
            widths=(16, 16, 8),
            motion_z_distance=2,
            time_features=8,
            **CLIP,
        ),
        _normal(2, 64),  # latent_dim: content 8 + motion codes of the anchors
        dict(timestamps=np.array([[0.0, 1.5, 3.0], [0.0, 2.0, 7.0]], "float32")),
    ),
    (
        "StyleGANVDiscriminator",
        dict(frames=3, size=16, channels=1, widths=(8, 16, 16), mbstd_group=2, time_features=4,
             max_distance=3, num_classes=3),
        _uniform(2, 3, 16, 16, 1),
        dict(labels=LABELS, timestamps=np.array([[0.0, 1.0, 3.0], [0.0, 2.0, 3.0]], "float32")),
    ),
    (
        "SimVPPredictor",
        dict(context_frames=2, target_frames=2, size=16, hid_s=4, hid_t=8, n_s=2, n_t=2,
             kernel_size=5),
        _uniform(2, 2, 16, 16, 1),
        {},
    ),
    (
        "SimVPFlowPredictor",
        dict(context_frames=2, target_frames=2, size=16, hid_s=4, hid_t=8, n_s=2, n_t=2,
             kernel_size=5),
        _uniform(2, 2, 16, 16, 1),
        {},
    ),
    (
        "TAUPredictor",
        dict(context_frames=2, target_frames=2, size=16, hid_s=4, hid_t=8, n_s=2, n_t=2,
             kernel_size=5),
        _uniform(2, 2, 16, 16, 1),
        {},
    ),
    (
        "SVGLP",
        dict(context_frames=2, target_frames=2, size=16, channels=1, widths=(4, 8), z_dim=2,
             g_dim=8, rnn_size=8),
        _uniform(2, 2, 16, 16, 1),
        {},
    ),
    (
        "TDVAE",
        dict(context_frames=2, target_frames=2, size=16, channels=1, widths=(4, 8), z_dim=2,
             rnn_size=8, max_jump=2),
        _uniform(2, 2, 16, 16, 1),
        {},
    ),
    ("VideoPixelNetwork", dict(frames=4, context_frames=2, size=16, width=4, blocks=1),
     _uniform(2, 4, 16, 16, 1), {}),
    ("VideoPixelNetwork", dict(frames=4, context_frames=2, size=8, width=4, blocks=2,
                               num_classes=3), _uniform(2, 3, 8, 8, 1), dict(labels=LABELS)),
    (
        "MaskGITTransformer",
        dict(grid=(2, 2, 2), vocab_size=6, dim=8, depth=1, heads=2, frames=4, size=16,
             context_frames=2, num_classes=3, decode_steps=2),
        np.arange(16, dtype="int32").reshape(2, 8) % 7,  # 6: the mask id
        dict(labels=LABELS),
    ),
    (
        "VideoGPTTransformer",
        dict(grid=(2, 2, 2), vocab_size=6, dim=8, depth=1, heads=2, frames=4, size=16),
        np.arange(16, dtype="int32").reshape(2, 8) % 6,
        {},
    ),
    (
        "VQVAE",
        dict(widths=(4, 8), codebook_size=8, embed_dim=4, res_blocks=1, **CLIP),
        _uniform(2, 4, 16, 16, 1),
        {},
    ),
    ("InversionEncoder", dict(latent_dim=6, widths=(4, 8), **CLIP), _uniform(2, 4, 16, 16, 1), {}),
]  # fmt: skip

# (registered class name, constructor kwargs, positional call inputs).
LAYER_CASES = [
    ("SubpixelConv3DTranspose", dict(filters=2, kernel_size=4, strides=2, padding="same"),
     (_uniform(2, 2, 4, 4, 8),)),
    ("SubpixelConv3D", dict(filters=4, kernel_size=4, strides=2, padding="same"),
     (_uniform(2, 4, 8, 8, 1),)),
    ("UpBlock", dict(filters=4, rank=3), (_uniform(2, 2, 4, 4, 8),)),
    ("UpBlock", dict(filters=4, rank=2, upsample="resize"), (_uniform(2, 4, 4, 8),)),
    ("NearestUpsample", dict(factor=2), (_uniform(2, 2, 4, 4, 3),)),
    ("DownBlock", dict(filters=4, rank=2, norm="layer"), (_uniform(2, 8, 8, 3),)),
    ("LeakyDownBlock", dict(filters=4, rank=3, spectral_norm=True), (_uniform(2, 4, 8, 8, 1),)),
    ("ProjectionHead", dict(num_classes=3, channels=8), (_uniform(2, 2, 2, 8), LABELS)),
    ("ImageDecoder", dict(size=16, channels=1, widths=(8, 4)), (_normal(2, 6),)),
    ("ImageEncoder", dict(widths=(4, 8), norm="batch"), (_uniform(2, 16, 16, 1),)),
    ("VideoEncoder", dict(widths=(4, 8), norm="spectral"), (_uniform(2, 4, 16, 16, 1),)),
    ("UNet3D", dict(widths=(4, 8), out_channels=1), (_uniform(2, 4, 16, 16, 2),)),
    ("FrameUNet", dict(widths=(4, 8), out_channels=3), (_uniform(2, 16, 16, 2),)),
    ("TemporalUpBlock", dict(filters=8, norm="batch"), (_uniform(2, 2, 8),)),
    ("ConvLSTMCell", dict(filters=4),
     (_uniform(2, 4, 4, 3), (_uniform(2, 4, 4, 4, seed=1), _uniform(2, 4, 4, 4, seed=2)))),
    ("ConvSC", dict(filters=4, sampling="none"), (_uniform(2, 8, 8, 3),)),
    ("TranslatorBlock", dict(dim=8, kind="tau", kernel_size=5, reduction=4),
     (_uniform(2, 4, 4, 8),)),
    ("EqualizedConv", dict(filters=4), (_uniform(2, 8, 8, 3),)),
    ("EqualizedDense", dict(units=4), (_uniform(2, 6),)),
    ("ModulatedConv2D", dict(filters=4, resolution=4), (_uniform(2, 4, 4, 3), _uniform(2, 5))),
    ("MotionEncoder", dict(motion_dim=4, time_features=4, distance=2),
     (_normal(2, 5, 4), np.array([[0.0, 1.0, 2.5, 3.0]] * 2, "float32"))),
    ("SynthesisNetwork", dict(size=16, channels=1, widths=(8, 8, 4)), (_normal(2, 6),)),
    ("FrameEncoder", dict(widths=(4, 8), dim=6), (_uniform(2, 16, 16, 1),)),
    ("FrameDecoder", dict(size=16, channels=1, widths=(4, 8), skip=False), (_normal(2, 6),)),
    ("LSTMStack", dict(units=4, output_dim=3, layers=1),
     (_uniform(2, 5), [(_uniform(2, 4, seed=1), _uniform(2, 4, seed=2))])),
    ("MaskedConv2D", dict(filters=4, kernel_size=3, mask_type="A"), (_uniform(2, 8, 8, 1),)),
    ("GatedPixelBlock", dict(filters=4), (_uniform(2, 8, 8, 4), _uniform(2, 8, 8, 6, seed=1))),
    ("CausalTimeBlock", dict(filters=4, dilation=2), (_uniform(2, 5, 8, 8, 4),)),
    ("GridPositionEmbedding", dict(grid=(2, 2, 2), dim=4), (_uniform(2, 8, 4),)),
    ("CachedMultiHeadAttention", dict(num_heads=2, key_dim=4),
     (_uniform(2, 3, 8), _uniform(2, 5, 8, seed=1))),
    ("TransformerBlock", dict(dim=8, heads=2, mlp_ratio=2), (_uniform(2, 5, 8),)),
    ("ClassToken", dict(num_classes=3, dim=4), (LABELS,)),
    ("VectorQuantizer", dict(codebook_size=8, embed_dim=4), (_normal(2, 3, 4),)),
]  # fmt: skip


def registered_classes():
    """``{registered name: class}`` of every keras_vgan class defined in models/ and layers/."""
    found = {}
    for package in (keras_vgan.models, keras_vgan.layers):
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            module = importlib.import_module(info.name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__ == module.__name__ and issubclass(cls, keras.layers.Layer):
                    name = keras.saving.get_registered_name(cls)
                    if name.startswith("keras_vgan>"):
                        found[name.split(">", 1)[1]] = cls
    return found


def _registered(name):
    cls = keras.saving.get_registered_object(f"keras_vgan>{name}")
    assert cls is not None, f"keras_vgan>{name} is not registered"
    return cls


def _ids(cases):
    return [f"{case[0]}-{i}" for i, case in enumerate(cases)]


def test_every_registered_class_has_a_case():
    classes = registered_classes()
    assert len(classes) > 20  # the walk found the package's layers and models
    cased = {c[0] for c in MODEL_CASES} | {c[0] for c in LAYER_CASES}
    assert sorted(set(classes) - cased) == []
    for name, cls in classes.items():  # models get the .keras test, layers the registry one
        in_models = name in {c[0] for c in MODEL_CASES}
        assert in_models == issubclass(cls, keras.Model), name


@pytest.mark.parametrize("name,kwargs,inputs,call_kwargs", MODEL_CASES, ids=_ids(MODEL_CASES))
def test_model_round_trip(name, kwargs, inputs, call_kwargs, tmp_path):
    model = _registered(name)(**kwargs)
    call_kwargs = dict(call_kwargs)  # the case's dict is shared between runs
    labels = call_kwargs.pop("labels", None)
    run_serialization_test(model, tmp_path, inputs, labels=labels, **call_kwargs)


@pytest.mark.parametrize("name,kwargs,inputs", LAYER_CASES, ids=_ids(LAYER_CASES))
def test_layer_round_trip(name, kwargs, inputs):
    layer = _registered(name)(**kwargs)
    expected = keras.tree.map_structure(np.asarray, layer(*inputs))
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config
    # Through the registry, by registered name (what a .keras file holds).
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(clone) is type(layer) and clone.get_config() == config
    clone(*inputs)  # builds it
    clone.set_weights(layer.get_weights())
    got = keras.tree.map_structure(np.asarray, clone(*inputs))
    keras.tree.map_structure(np.testing.assert_array_equal, got, expected)
