"""LiteRT export: every precision runs in ai_edge_litert with builtin ops only, within a
stated tolerance of the Keras model, and the files shrink as the precision drops.

Tolerances, on clips that span [-1, 1] (``export_case.tiny_gan`` spreads the weights),
max |LiteRT - Keras| (and mean):
  fp32          1e-5            (rounding only)
  fp16          4e-3            (half a uint8 pixel level, 1/255)
  dynamic_int8  0.06  (0.006)   (int8 weights; 8 uint8 levels at worst)
  int8          0.12  (0.015)   (int8 weights and activations, calibrated on noise)
Measured on all eight tiny kinds: fp32 <= 4e-7, fp16 <= 1e-3, dynamic_int8 <= 0.032
(mean <= 0.003), int8 <= 0.078 (mean <= 0.0075).
"""

import numpy as np
import pytest

pytest.importorskip("ai_edge_litert", reason="LiteRT tests need ai-edge-litert (in [dev])")

from keras_vgan.export import export_litert, litert, open_sampler  # noqa: E402
from tests.export_case import CLASSES, KINDS, labels_for, noise, reference, tiny_gan  # noqa: E402

TOLERANCE = {  # mode: (max, mean)
    "fp32": (1e-5, 1e-6),
    "fp16": (4e-3, 5e-4),
    "dynamic_int8": (0.06, 0.006),
    "int8": (0.12, 0.015),
}
BUILTIN_OK = {"DELEGATE"}  # XNNPACK's delegated subgraphs


def check_parity(gan, path, mode):
    z, labels = noise(gan, 3, seed=7), labels_for(gan, 3)
    sampler = open_sampler(path)
    err = np.abs(sampler(z, labels) - reference(gan, z, labels))
    max_tol, mean_tol = TOLERANCE[mode]
    assert err.max() <= max_tol and err.mean() <= mean_tol, (mode, err.max(), err.mean())
    ops = litert.op_names(sampler.interpreter)
    assert not [op for op in ops if op.startswith("Flex") or op == "CUSTOM"], ops
    return sampler


def test_every_precision_of_vgan_matches_keras_and_shrinks(tmp_path):
    gan = tiny_gan("vgan")
    sizes = {}
    for mode in litert.MODES:
        path = export_litert(gan, str(tmp_path / f"vgan.{mode}.tflite"), mode)
        sampler = check_parity(gan, path, mode)
        sizes[mode] = (tmp_path / f"vgan.{mode}.tflite").stat().st_size
        assert sampler.meta["litert_mode"] == mode and sampler.latent_dim == gan.latent_dim
        assert set(sampler.interpreter.get_signature_list()) == {"serving_default"}
    assert sizes["fp16"] < sizes["fp32"] and sizes["dynamic_int8"] < sizes["fp32"], sizes
    with pytest.raises(ValueError, match="LiteRT mode 'int4' is not one of"):
        litert.convert(gan, "int4")


@pytest.mark.parametrize("mode", ["fp32", "int8"])
def test_conditional_mocogan_has_both_signatures(tmp_path, mode):
    gan = tiny_gan("mocogan", CLASSES)  # GRU unrolled for builtin ops; label input
    path = export_litert(gan, str(tmp_path / "m.tflite"), mode)
    sampler = check_parity(gan, path, mode)
    assert set(sampler.interpreter.get_signature_list()) == {"serving_default", "generate"}
    assert sampler.num_classes == CLASSES
    # serving_default cycles the classes: the same as labels 0, 1, 2.
    z = noise(gan, 3)
    runner = sampler.interpreter.get_signature_runner("serving_default")
    np.testing.assert_allclose(
        runner(z=z)["video"], sampler(z, np.arange(3)), atol=TOLERANCE[mode][0]
    )


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(TOLERANCE))
@pytest.mark.parametrize("num_classes", [0, CLASSES])
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_in_every_precision(tmp_path, kind, num_classes, mode):
    gan = tiny_gan(kind, num_classes)
    check_parity(gan, export_litert(gan, str(tmp_path / "m.tflite"), mode), mode)
