"""Shared helpers for the export, serving and generate tests: tiny models of every kind."""

import dataclasses

import numpy as np

from keras_vgan import presets

LATENT = 8
FRAMES, SIZE = 8, 16
KINDS = ("vgan", "frame_gan", "tgan", "mocogan")
CLASSES = 10  # built-in Moving MNIST labels


def tiny_gan(model="vgan", num_classes=0, spread=True, seed=0):
    """A tiny ``VideoGAN`` (8 frames of 16x16, width 8) built from the quick preset.

    ``spread``: redraw the EMA generator's kernels with variance 1 / fan-in so
    that its clips use the whole [-1, 1] range (an untrained DCGAN init gives
    outputs near 0, where every format would agree trivially).
    """
    config = dataclasses.replace(
        presets.get_preset("quick"),
        model=model,
        frames=FRAMES,
        size=SIZE,
        depth=2,
        width=8,
        latent_dim=LATENT,
        num_classes=num_classes,
        mask_l1=0.1 if model == "vgan" else 0.0,
        seed=seed,
    )
    gan = presets.build_gan(config)
    gan._export_case_config = config  # for tests that write a run directory
    if spread:
        rng = np.random.default_rng(seed)
        for v in gan.ema_generator.weights:
            name = v.path.rsplit("/", 1)[-1]
            if name in ("kernel", "recurrent_kernel") and len(v.shape) >= 2:
                fan_in = int(np.prod(v.shape)) // int(v.shape[-1])
                if "transpose" in v.path or len(v.shape) == 5:
                    fan_in = int(np.prod(v.shape)) // int(v.shape[-2])
                v.assign(rng.normal(0, 1.0 / np.sqrt(fan_in), v.shape).astype("float32"))
    return gan


def noise(gan, n=2, seed=1):
    return np.random.default_rng(seed).standard_normal((n, gan.latent_dim)).astype("float32")


def labels_for(gan, n=2):
    return (np.arange(n, dtype="int32") * 3 + 1) % CLASSES if gan.conditional else None


def reference(gan, z, labels=None):
    return np.asarray(gan.generate(z, labels=labels))
