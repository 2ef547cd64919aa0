"""ONNX export (tf2onnx) run with onnxruntime: parity with Keras for every model kind.

Tolerance: max |onnxruntime - Keras| <= 1e-5 on clips spanning [-1, 1] (fp32 both;
measured <= 2e-9 on the untrained models, a few 1e-7 on spread weights).
"""

import numpy as np
import pytest

pytest.importorskip("tf2onnx", reason="ONNX export needs the [onnx] extra (tf2onnx)")
pytest.importorskip("onnxruntime", reason="ONNX tests need the [onnx] extra (onnxruntime)")

from keras_vgan.export.onnx import primary_endpoint  # noqa: E402
from tests.helpers import (  # noqa: E402
    CLASSES,
    KINDS,
    labels_for,
    noise,
    reference,
    run_export_test,
    tiny_gan,
)

ATOL = 1e-5


def check(gan, tmp_path):
    return run_export_test(gan, tmp_path, "onnx", noise(gan, 3), ATOL, labels=labels_for(gan, 3))


def test_unconditional_vgan(tmp_path):
    gan = tiny_gan("vgan")
    sampler = check(gan, tmp_path)
    assert [i.name for i in sampler.session.get_inputs()] == ["z"]
    assert sampler.meta["onnx_endpoint"] == "serving_default"
    assert sampler.session.get_inputs()[0].shape[1] == gan.latent_dim


def test_conditional_mocogan_takes_z_and_label(tmp_path):
    gan = tiny_gan("mocogan", CLASSES)
    assert primary_endpoint(gan) == "generate"
    sampler = check(gan, tmp_path)
    assert sorted(i.name for i in sampler.session.get_inputs()) == ["label", "z"]
    assert sampler.num_classes == CLASSES
    z = noise(gan, 3)  # without labels the client cycles the classes, as serving_default does
    np.testing.assert_allclose(sampler(z), reference(gan, z, np.arange(3)), atol=ATOL)


def test_layered_mocogan_with_sprites(tmp_path):
    """The main job's renderer: sprites padded onto the canvas and translated."""
    check(tiny_gan("mocogan_layers", sprite_size=8), tmp_path)


def test_resize_upsampling_generator(tmp_path):
    """Nearest x2 + 3x3 convolutions (``g_upsample="resize"``)."""
    check(tiny_gan("mocogan_layers", g_upsample="resize"), tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("num_classes", [0, CLASSES])
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind(tmp_path, kind, num_classes):
    check(tiny_gan(kind, num_classes), tmp_path)
