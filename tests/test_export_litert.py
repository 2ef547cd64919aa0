"""LiteRT export: every precision runs in ai_edge_litert with builtin ops only, within a
stated tolerance of the Keras model, and the files shrink as the precision drops.

Tolerances, on clips that span [-1, 1] (``helpers.tiny_gan`` spreads the weights),
max |LiteRT - Keras| (and mean):
  fp32          1e-5            (rounding only)
  fp16          4e-3            (half a uint8 pixel level, 1/255)
  dynamic_int8  0.06  (0.006)   (int8 weights; 8 uint8 levels at worst)
  int8          0.12  (0.015)   (int8 weights and activations, calibrated on noise)
Measured on all eight tiny kinds: fp32 <= 4e-7, fp16 <= 1e-3, dynamic_int8 <= 0.032
(mean <= 0.003), int8 <= 0.078 (mean <= 0.0075).
"""

import os

import numpy as np
import pytest

pytest.importorskip("ai_edge_litert", reason="LiteRT tests need ai-edge-litert (in [dev])")

from keras_vgan.export import litert  # noqa: E402
from tests.helpers import CLASSES, KINDS, labels_for, noise, run_export_test, tiny_gan  # noqa: E402

TOLERANCE = {  # mode: (max, mean)
    "fp32": (1e-5, 1e-6),
    "fp16": (4e-3, 5e-4),
    "dynamic_int8": (0.06, 0.006),
    "int8": (0.12, 0.015),
}


# The layered MoCoGAN moves its layers by sub-pixel shifts (tanh x max_shift pixels): a
# quantisation step of the shift moves every edge pixel. Measured on the tiny GANs
# (max / mean / p99 |error|): dynamic_int8 0.084 / 0.004 / 0.021, int8 0.19 / 0.014 / 0.075
# with motion.translate's tent matrices (0.40 / 0.038 / 0.23 with the gathers of
# backward_warp before; MoCoGAN: 0.057 / 0.007 / 0.025).
# With sprites (sprite_size=8 of 16x16 frames) full int8 measured 0.31 / 0.011 / 0.081: a
# lower mean, one edge pixel further off (dynamic_int8 0.093 / 0.003 / 0.023).
KIND_TOLERANCE = {
    "mocogan_layers": {"dynamic_int8": (0.1, 0.006), "int8": (0.25, 0.02)},
    "mocogan_layers_sprites": {"dynamic_int8": (0.1, 0.006), "int8": (0.35, 0.02)},
}


def check_parity(gan, tmp_path, mode, kind=None):
    """The LiteRT file of ``mode``: builtin ops only, within ``TOLERANCE`` of Keras."""
    z, labels = noise(gan, 3, seed=7), labels_for(gan, 3)
    tolerance = KIND_TOLERANCE.get(kind, {}).get(mode, TOLERANCE[mode])
    return run_export_test(gan, tmp_path, mode, z, tolerance, labels=labels)


def test_every_precision_of_vgan_matches_keras_and_shrinks(tmp_path):
    gan = tiny_gan("vgan")
    sizes = {}
    for mode in litert.MODES:
        sampler = check_parity(gan, tmp_path, mode)
        sizes[mode] = os.path.getsize(sampler.path)
        assert sampler.meta["litert_mode"] == mode and sampler.latent_dim == gan.latent_dim
        assert set(sampler.interpreter.get_signature_list()) == {"serving_default"}
    assert sizes["fp16"] < sizes["fp32"] and sizes["dynamic_int8"] < sizes["fp32"], sizes
    with pytest.raises(ValueError, match="LiteRT mode 'int4' is not one of"):
        litert.convert(gan, "int4")


@pytest.mark.parametrize("mode", ["fp32", "int8"])
def test_conditional_mocogan_has_both_signatures(tmp_path, mode):
    gan = tiny_gan("mocogan", CLASSES)  # GRU unrolled for builtin ops; label input
    sampler = check_parity(gan, tmp_path, mode)
    assert set(sampler.interpreter.get_signature_list()) == {"serving_default", "generate"}
    assert sampler.num_classes == CLASSES
    # serving_default cycles the classes: the same as labels 0, 1, 2.
    z = noise(gan, 3)
    runner = sampler.interpreter.get_signature_runner("serving_default")
    np.testing.assert_allclose(
        runner(z=z)["video"], sampler(z, np.arange(3)), atol=TOLERANCE[mode][0]
    )


@pytest.mark.parametrize("mode", ["fp32", "int8"])
def test_layered_mocogan_with_sprites(tmp_path, mode):
    """The main job's renderer (sprites padded onto the canvas, then translated)."""
    gan = tiny_gan("mocogan_layers", sprite_size=8)
    check_parity(gan, tmp_path, mode, "mocogan_layers_sprites")


def test_resize_upsampling_generator(tmp_path):
    """Nearest x2 + 3x3 convolutions (``g_upsample="resize"``) in builtin ops."""
    gan = tiny_gan("mocogan_layers", g_upsample="resize")
    check_parity(gan, tmp_path, "fp32")


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(TOLERANCE))
@pytest.mark.parametrize("num_classes", [0, CLASSES])
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_in_every_precision(tmp_path, kind, num_classes, mode):
    gan = tiny_gan(kind, num_classes)
    check_parity(gan, tmp_path, mode, kind)
