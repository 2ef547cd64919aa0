"""Deploying a trained generator: one module per format, as Keras does.

* ``saved_model``: SavedModel with named signatures for TF Serving;
* ``litert``: ``.tflite`` in fp32, fp16, dynamic-range int8 and full int8;
* ``onnx``: ``.onnx`` via tf2onnx (optional ``[onnx]`` extra);
* ``tf_serving``: gRPC ``PredictRequest`` and REST bodies for a served model,
  validated against the exported signature;
* ``endpoints``: what every format serves (named endpoints), declared by each
  model family (``keras_vgan.registry``);
* ``load``: a model from a run directory, a checkpoint or a ``.keras`` file;
* ``runners``: sampling from any of these forms in its own runtime.

What the formats serve is defined once, in ``keras_vgan.export.endpoints``.
"""

from keras_vgan.export.litert import MODES as LITERT_MODES
from keras_vgan.export.litert import export_litert
from keras_vgan.export.load import SourceError, load_model
from keras_vgan.export.onnx import export_onnx
from keras_vgan.export.runners import open_sampler
from keras_vgan.export.saved_model import export_saved_model

__all__ = [
    "LITERT_MODES",
    "SourceError",
    "export_litert",
    "export_onnx",
    "export_saved_model",
    "load_model",
    "open_sampler",
]
