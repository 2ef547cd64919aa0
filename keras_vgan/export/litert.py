"""LiteRT (TFLite) export: fp32, fp16, dynamic-range int8 and full-integer int8.

The path is the one Keras and TensorFlow recommend for Keras 3 models:
``ExportArchive`` -> SavedModel -> ``tf.lite.TFLiteConverter.from_saved_model``,
with every LiteRT endpoint of ``export.endpoints`` as a signature of one
``.tflite`` file (``serving_default``, ``generate`` for conditional models,
the task endpoints). Builtin ops only: the LiteRT runtime on PyPI
(``ai-edge-litert``) has no TensorFlow (Flex) kernels. Run the file with
``ai_edge_litert.interpreter.Interpreter`` (``tf.lite.Interpreter`` is
deprecated).

Precisions (``MODES``):

* ``fp32``: float weights and arithmetic.
* ``fp16``: weights stored as float16, dequantised to float32 at load.
* ``dynamic_int8``: weights of dense / convolution layers as int8, activations
  quantised on the fly where a kernel supports it (dense layers), float
  elsewhere.
* ``int8``: full-integer quantisation calibrated on a representative data
  set (the endpoints' ``representative``: noise draws for generators; frames
  of the training data for task models when they provide them); float32
  inputs and outputs, int8 ops inside.

LiteRT has no int8 kernels for 3D convolutions: in both int8 modes the
``CONV_3D`` / ``CONV_3D_TRANSPOSE`` layers of 3D generators (VGAN's
foreground stream, the sub-pixel output convs) stay float32, while dense
layers and 2D (transposed) convolutions are int8. The VGAN paper generator
shrinks from 65.5 MB (fp32) to 50.2 MB (either int8 mode) and 33.0 MB (fp16).

``endpoints.metadata`` is stored in the file's ``keras_vgan`` metadata entry.
"""

import json
import os
import tempfile

import numpy as np
import tensorflow as tf

from keras_vgan.builders import build_train_dataset
from keras_vgan.export import endpoints
from keras_vgan.export.saved_model import export_saved_model, select_endpoints

MODES = ("fp32", "fp16", "dynamic_int8", "int8")
METADATA_NAME = "keras_vgan"
REPRESENTATIVE_SAMPLES = 32


def _representative(eps, samples, data=None):
    def generate():
        for ep in eps:
            source = ep.representative
            # Data (input clips) calibrates the single float input endpoints; an integer
            # input (a tokenizer's codes) keeps its endpoint's own representative.
            sig = ep.input_signature
            if data is not None and len(sig) == 1 and sig[0].dtype.is_floating:
                name = ep.input_names[0]
                source = lambda n, name=name: ({name: x} for x in list(data)[:n])  # noqa: E731
            if source is None:
                raise ValueError(
                    f"endpoint {ep.name!r} has no representative data for int8 calibration "
                    "(pass representative=..., e.g. input clips of the training data)"
                )
            for item in source(samples):
                yield (ep.name, item) if len(eps) > 1 else item

    return generate


def convert(
    model, mode="fp32", endpoint_names=None, samples=REPRESENTATIVE_SAMPLES, representative=None
):
    """``model``'s LiteRT endpoints as ``.tflite`` bytes in precision ``mode``.

    ``representative``: for ``int8``, an iterable of input arrays (each with a
    batch axis of 1) used for every single-input endpoint in place of its own
    ``Endpoint.representative`` -- e.g. input clips of a task model's training
    data (``representative_inputs``).
    """
    if mode not in MODES:
        raise ValueError(f"LiteRT mode {mode!r} is not one of {', '.join(MODES)}")
    eps = select_endpoints(model, "litert", endpoint_names)
    names = [ep.name for ep in eps]
    with tempfile.TemporaryDirectory() as tmp:
        saved = export_saved_model(model, os.path.join(tmp, "1"), names, format="litert")
        converter = tf.lite.TFLiteConverter.from_saved_model(saved, signature_keys=names)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if mode != "fp32":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if mode == "fp16":
            converter.target_spec.supported_types = [tf.float16]
        if mode == "int8":
            converter.representative_dataset = _representative(eps, samples, representative)
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        flat = converter.convert()
    info = endpoints.metadata(model)
    info["endpoints"] = {k: v for k, v in info["endpoints"].items() if k in names}
    info["litert_mode"] = mode
    return add_metadata(flat, METADATA_NAME, json.dumps(info).encode())


def export_litert(model, path, mode="fp32", endpoint_names=None, representative=None):
    """Writes ``model``'s LiteRT endpoints to ``path`` (``.tflite``); returns ``path``."""
    path = os.fspath(path)
    if not path.endswith(".tflite"):
        raise ValueError(f"LiteRT path {path!r} must end with .tflite")
    flat = convert(model, mode, endpoint_names, representative=representative)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".partial"
    with open(tmp, "wb") as f:
        f.write(flat)
    os.replace(tmp, path)
    return path


# ---------------------------------------------------------------- metadata
def add_metadata(flat, name, data):
    """``flat`` (.tflite bytes) with a metadata entry ``name`` holding ``data``."""
    from tensorflow.lite.python import schema_py_generated as schema_fb
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(flat))
    buffer = schema_fb.BufferT()
    buffer.data = np.frombuffer(data, dtype=np.uint8)
    model.buffers.append(buffer)
    entry = schema_fb.MetadataT()
    entry.name = name
    entry.buffer = len(model.buffers) - 1
    model.metadata = (model.metadata or []) + [entry]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def read_metadata(flat, name=METADATA_NAME):
    """The metadata entry ``name`` of ``.tflite`` bytes as a dict, or None."""
    from tensorflow.lite.python import schema_py_generated as schema_fb

    model = schema_fb.Model.GetRootAs(flat, 0)
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if entry.Name() is not None and entry.Name().decode() == name:
            raw = model.Buffers(entry.Buffer()).DataAsNumpy()
            return json.loads(bytes(raw).decode())
    return None


def interpreter(path_or_bytes, num_threads=None):
    """An ``ai_edge_litert`` interpreter for a file or ``.tflite`` bytes."""
    from ai_edge_litert.interpreter import Interpreter

    if isinstance(path_or_bytes, (bytes, bytearray)):
        return Interpreter(model_content=bytes(path_or_bytes), num_threads=num_threads)
    return Interpreter(model_path=os.fspath(path_or_bytes), num_threads=num_threads)


def op_names(interp):
    """The builtin op names a LiteRT interpreter runs (for 'builtin ops only' checks)."""
    return sorted({op["op_name"] for op in interp._get_ops_details()})


def representative_inputs(config, samples=REPRESENTATIVE_SAMPLES):
    """Input clips ``[1, T_in, h, w, C_in]`` of a task run's training data (its config).

    The first ``samples`` inputs of ``builders.build_train_dataset(config)``
    (``(inputs, targets)`` batches), one clip per item: the calibration data of
    a task model's full-integer export.
    """
    out = []
    for batch in build_train_dataset(config):
        if isinstance(batch, (tuple, list)):
            inputs = batch[0]
        else:  # a dict of pairs, or plain clips (a tokenizer's data)
            inputs = batch["inputs"] if isinstance(batch, dict) else batch
        for clip in np.asarray(inputs, np.float32):
            out.append(clip[None])
            if len(out) >= samples:
                return out
    return out
