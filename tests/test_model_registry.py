"""The model registry drives the config checks, the builders and serving; data opens once."""

import dataclasses

import pytest
import tensorflow as tf

from keras_vgan import builders, data, presets, registry, tasks, video_io
from keras_vgan import config as config_lib
from keras_vgan.data import pairs
from keras_vgan.engine import VideoGAN
from keras_vgan.export import endpoints
from keras_vgan.models import vgan

FAMILIES = (
    "vgan",
    "frame_gan",
    "tgan",
    "mocogan",
    "mocogan_layers",
    "stylegan_v",
    "predict_convlstm",
    "predict_conv3d",
    "predict_simvp",
    "predict_simvp_flow",
    "predict_tau",
    "interpolate",
    "translate",
    "enhance",
    "svg_lp",
    "tdvae",
    "maskgit",
    "videogpt",
    "vpn",
    "recycle_gan",
    "vqvae",
)
TASK_ENDPOINTS = {
    "prediction": "predict",
    "interpolation": "interpolate",
    "translation": "translate",
    "restoration": "enhance",
}


def test_every_family_is_registered_once_with_what_the_toolkit_needs():
    assert sorted(registry.names()) == sorted(FAMILIES)
    assert {p.model for p in presets.PRESETS.values()} <= set(registry.names())
    for family in registry.families():
        assert family.generators and callable(family.build) and callable(family.check)
        for cls in family.generators:
            assert registry._BY_GENERATOR[cls] is family
        if family.train_data is not None:  # two unpaired domains: its own data and engine
            assert family.build_model and family.open_data and family.samples
            assert family.serving.inputs == "frames" and family.serving.name
        elif family.serving.inputs == "tokens":  # a tokenizer: its own engine and samples
            assert family.task is None and family.build_model and family.samples
            assert family.serving.inputs in endpoints.BUILDERS
        elif family.task is None:  # a GAN sampled from noise (at any times: timed_noise)
            assert family.serving in (registry.NOISE, registry.Serving("timed_noise"))
            assert family.baselines is None and family.serving.inputs in endpoints.BUILDERS
        elif family.build_model is not None:  # its own engine: the VAE family
            assert family.task in pairs.TASKS and family.serving.inputs in endpoints.BUILDERS
        else:
            assert family.task in pairs.TASKS and family.condition in tasks.VIEWS
            assert family.serving == registry.Serving("frames", TASK_ENDPOINTS[family.task])
            assert not family.num_classes
    assert {f.task for f in registry.families()} - {None} == set(pairs.TASKS)
    with pytest.raises(ValueError, match="model='nope' is not one of"):
        registry.get("nope")
    with pytest.raises(ValueError, match="already registered"):
        registry.register(registry.get("vgan"))


def test_a_new_family_is_one_registration(monkeypatch):
    """A family registered from outside: the checks, builders and serving all take it."""
    calls = []

    def build(config):
        calls.append(config.model)
        return vgan.build_networks(config)

    family = dataclasses.replace(registry.get("vgan"), name="my_vgan", build=build)
    monkeypatch.setattr(registry, "_FAMILIES", dict(registry._FAMILIES))
    monkeypatch.setattr(registry, "_BY_GENERATOR", dict(registry._BY_GENERATOR))
    registry.register(family)
    config = dataclasses.replace(
        presets.get_preset("quick"), model="my_vgan", frames=4, size=16, depth=2, width=4
    )
    config_lib.validate_config(config)
    gan = builders.build_gan(config)
    assert calls == ["my_vgan"] and isinstance(gan, VideoGAN) and gan.name == "my_vgan_gan"
    assert "generate_seeded" in endpoints.endpoints_of(gan)
    with pytest.raises(ValueError, match="d_norm='spectral' is not one of"):
        config_lib.validate_config(dataclasses.replace(config, d_norm="spectral"))
    # A family trained by its own engine (a VAE, a token model) builds it from its networks.
    other = dataclasses.replace(family, name="my_engine", build_model=lambda c, nets: (c, nets))
    registry.register(other)
    config = dataclasses.replace(config, model="my_engine")
    built, networks = builders.build_gan(config)
    assert built is config and [n.name for n in networks] == ["generator", "discriminator"]


def test_validate_config_opens_the_data_once_and_the_builders_reuse_it(tmp_path, monkeypatch):
    clips = next(iter(data.bouncing_shapes(frames=8, size=16, batch_size=2, channels=3, seed=1)))
    for k, clip in enumerate(clips.numpy()):
        video_io.write_mp4(str(tmp_path / f"v{k}.mp4"), clip)
    opened = []
    open_source = data.open_source

    def counting(*args, **kwargs):
        opened.append(args[0])
        return open_source(*args, **kwargs)

    monkeypatch.setattr(data, "open_source", counting)
    config = dataclasses.replace(
        presets.get_preset("quick"),
        data=str(tmp_path),
        frames=4,
        size=16,
        channels=3,
        depth=2,
        width=4,
        batch_size=2,
    )
    run_data = config_lib.validate_config(config)
    batch = next(iter(builders.build_train_dataset(config, data=run_data)))
    assert batch.shape == (2, 4, 16, 16, 3) and opened == [str(tmp_path)]
    task = dataclasses.replace(presets.get_preset("sr_x2_moving_mnist"), data=str(tmp_path),
                               frames=4, size=16, channels=3, width=4, depth=2, batch_size=2)  # fmt: skip
    run_data = config_lib.validate_config(task)
    inputs, targets = next(iter(builders.build_task_pairs(task, data=run_data)))
    assert inputs.shape == (2, 4, 8, 8, 3) and targets.shape == (2, 4, 16, 16, 3)
    assert len(opened) == 2


def test_task_baselines_come_from_the_registrations():
    assert set(tasks.task_baselines("prediction")) == {"copy_last_frame", "blank"}
    assert set(tasks.task_baselines("interpolation", stride=4)) == {"linear_blend"}
    assert set(tasks.task_baselines("translation")) == {"identity"}
    assert set(tasks.task_baselines("restoration", scale=2)) == {"bilinear"}
    assert set(tasks.task_baselines("restoration")) == {"identity"}
    assert tasks.task_baselines("nope") == {}


def test_serving_comes_from_the_family_or_a_hook_never_from_the_class_name():
    class Plain:
        name = "plain"
        ema_generator = object()  # no registered family

    with pytest.raises(ValueError, match="has nothing to serve"):
        endpoints.endpoints_of(Plain())

    class Hooked(Plain):
        def serving_endpoints(self):
            spec = tf.TensorSpec((None, 2), tf.float32, name="x")
            return {"double": (lambda x: {"video": 2 * x}, (spec,))}

    eps = endpoints.endpoints_of(Hooked())
    assert list(eps) == ["serving_default", "double"]
    assert endpoints.task_endpoint_name(Plain.ema_generator) is None
