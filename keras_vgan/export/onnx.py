"""ONNX export with tf2onnx (the converter behind Keras' ``model.export(format="onnx")``).

One ``.onnx`` graph per endpoint (ONNX has no named signatures): the main
file holds the primary endpoint (``serving_default`` for unconditional
generators, ``generate`` with ``z`` and ``label`` for conditional ones, the
task endpoint for task models); other endpoints go to
``<stem>.<endpoint>.onnx`` when asked for. ``endpoints.metadata`` is stored in
the model's ``metadata_props`` under ``keras_vgan``. Run with
``onnxruntime.InferenceSession``.

Needs the optional ``[onnx]`` extra (``tf2onnx``, ``onnx``, ``onnxruntime``).
"""

import json
import os

import tensorflow as tf

from keras_vgan.export import endpoints
from keras_vgan.export.saved_model import select_endpoints

OPSET = 17
METADATA_KEY = "keras_vgan"


def require_onnx():
    """Imports tf2onnx and onnx; one-line ImportError naming the extra when absent."""
    try:
        import onnx  # noqa: F401
        import tf2onnx  # noqa: F401
    except ImportError as e:
        raise ImportError(
            f"ONNX export needs the [onnx] extra (pip install 'keras_vgan[onnx]'): {e}"
        ) from None


def primary_endpoint(model):
    """Name of the endpoint the main ``.onnx`` file holds: ``generate`` of a conditional
    GAN, a task's named endpoint, else ``serving_default``."""
    eps = endpoints.endpoints_of(model)
    generator = getattr(model, "ema_generator", None)
    task = endpoints.task_endpoint_name(generator) if generator is not None else None
    for name in ("generate", task):
        if name in eps and "onnx" in eps[name].formats:
            return name
    return "serving_default"


def convert(model, endpoint_name=None, opset=OPSET):
    """``onnx.ModelProto`` of one endpoint (default: ``primary_endpoint``)."""
    require_onnx()
    import tf2onnx

    name = endpoint_name or primary_endpoint(model)
    (ep,) = select_endpoints(model, "onnx", [name])
    with endpoints.unrolled_rnns(model):
        fn = tf.function(ep.fn, input_signature=list(ep.input_signature))
        proto, _ = tf2onnx.convert.from_function(
            fn, input_signature=list(ep.input_signature), opset=opset
        )
    info = endpoints.metadata(model)
    info["endpoints"] = {name: info["endpoints"][name]}
    info["onnx_endpoint"] = name
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(info)
    return proto


def export_onnx(model, path, endpoint_names=None, opset=OPSET):
    """Writes the primary endpoint to ``path`` and others to ``<stem>.<name>.onnx``.

    Returns:
        The list of files written, ``path`` first.
    """
    path = os.fspath(path)
    if not path.endswith(".onnx"):
        raise ValueError(f"ONNX path {path!r} must end with .onnx")
    primary = primary_endpoint(model)
    names = [primary] + [n for n in (endpoint_names or []) if n != primary]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    written = []
    for name in names:
        target = path if name == primary else f"{path[: -len('.onnx')]}.{name}.onnx"
        proto = convert(model, name, opset)
        tmp = target + ".partial"
        with open(tmp, "wb") as f:
            f.write(proto.SerializeToString())
        os.replace(tmp, target)
        written.append(target)
    return written


def read_metadata(session):
    """The ``keras_vgan`` metadata of an ``onnxruntime.InferenceSession``, or None."""
    raw = session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
    return json.loads(raw) if raw else None
