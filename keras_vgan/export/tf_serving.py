"""Talking to TF Serving: gRPC ``PredictRequest`` and REST bodies for an exported model.

The request builders use ``tensorflow-serving-api`` (install it with
``pip install --no-deps tensorflow-serving-api``: its only other dependency
is the full ``tensorflow`` package, which a client does not need beyond
``tf.make_tensor_proto``). ``validate_request`` / ``validate_rest_body``
check a request against the exported signature the way the model server
does (every input present, none unknown, dtype and shape compatible), and
``run_request`` executes a validated request on the SavedModel in-process,
which is what the server does with it. The real model server cannot run on
the CPU development machines of this project (no container runtime); the
README shows how to start it.
"""

import json
import os

import numpy as np

SERVE_TAG = "serve"


def signature_defs(saved_model_dir):
    """``{name: SignatureDef}`` of a SavedModel's ``serve`` meta graph (read from the proto)."""
    from tensorflow.core.protobuf import saved_model_pb2

    with open(os.path.join(saved_model_dir, "saved_model.pb"), "rb") as f:
        sm = saved_model_pb2.SavedModel.FromString(f.read())
    for meta in sm.meta_graphs:
        if SERVE_TAG in meta.meta_info_def.tags:
            return dict(meta.signature_def)
    raise ValueError(f"SavedModel {saved_model_dir!r} has no meta graph tagged {SERVE_TAG!r}")


def _signature(defs, name):
    if name not in defs:
        raise ValueError(
            f"signature {name!r} is not exported; available: {', '.join(sorted(defs))}"
        )
    return defs[name]


def _spec(tensor_info):
    """``(numpy dtype, shape with -1 for unknown)`` of a TensorInfo."""
    import tensorflow as tf

    dtype = tf.dtypes.as_dtype(tensor_info.dtype).as_numpy_dtype
    shape = [d.size for d in tensor_info.tensor_shape.dim]
    return np.dtype(dtype), shape


def _check_shape(name, shape, expected):
    ok = len(shape) == len(expected) and all(
        e in (-1, s) for s, e in zip(shape, expected, strict=False)
    )
    if not ok:
        want = "[" + ", ".join("None" if e == -1 else str(e) for e in expected) + "]"
        raise ValueError(f"input {name!r} has shape {list(shape)}; the signature expects {want}")


def _check_names(given, expected, signature):
    missing = sorted(set(expected) - set(given))
    extra = sorted(set(given) - set(expected))
    if missing:
        raise ValueError(
            f"signature {signature!r} needs input(s) {missing}; the request lacks them"
        )
    if extra:
        raise ValueError(
            f"signature {signature!r} has no input(s) {extra}; it takes {sorted(expected)}"
        )


# ----------------------------------------------------------------- gRPC
def predict_request(model_name, signature_name, inputs, version=None):
    """A ``tensorflow_serving.apis.predict_pb2.PredictRequest``.

    Args:
        model_name: the served model's name (``--model_name`` / ``MODEL_NAME``).
        signature_name: e.g. ``serving_default``, ``generate_seeded``.
        inputs: ``{input name: array-like}``, already in the signature's dtypes.
        version: a version to pin (default: the server's latest).
    """
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature_name
    if version is not None:
        request.model_spec.version.value = int(version)
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(np.asarray(value)))
    return request


def validate_request(defs, request):
    """Checks a ``PredictRequest`` against ``signature_defs``; one-line ValueError if it misfits."""
    import tensorflow as tf

    sig = _signature(defs, request.model_spec.signature_name or "serving_default")
    _check_names(request.inputs.keys(), sig.inputs.keys(), request.model_spec.signature_name)
    for name, proto in request.inputs.items():
        dtype, expected = _spec(sig.inputs[name])
        got = np.dtype(tf.dtypes.as_dtype(proto.dtype).as_numpy_dtype)
        if got != dtype:
            raise ValueError(f"input {name!r} is {got}; the signature expects {dtype}")
        _check_shape(name, [d.size for d in proto.tensor_shape.dim], expected)


def run_request(saved_model_dir, request):
    """Executes a validated ``PredictRequest`` on the SavedModel; a ``PredictResponse``."""
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    validate_request(signature_defs(saved_model_dir), request)
    fn = tf.saved_model.load(saved_model_dir).signatures[
        request.model_spec.signature_name or "serving_default"
    ]
    feeds = {k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()}
    response = predict_pb2.PredictResponse()
    response.model_spec.CopyFrom(request.model_spec)
    for name, value in fn(**feeds).items():
        response.outputs[name].CopyFrom(tf.make_tensor_proto(value.numpy()))
    return response


def predict_grpc(server, request, timeout=60.0):
    """Sends ``request`` to a TF Serving gRPC endpoint (``host:8500``); the response."""
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    with grpc.insecure_channel(server) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        return stub.Predict(request, timeout=timeout)


def response_arrays(response):
    """``{output name: numpy array}`` of a ``PredictResponse``."""
    import tensorflow as tf

    return {k: tf.make_ndarray(v) for k, v in response.outputs.items()}


# ----------------------------------------------------------------- REST
def rest_body(signature_name, inputs):
    """The JSON body of ``POST /v1/models/<name>:predict`` (columnar ``inputs`` format)."""
    return {
        "signature_name": signature_name,
        "inputs": {k: np.asarray(v).tolist() for k, v in inputs.items()},
    }


def validate_rest_body(defs, body):
    """Checks a REST body (dict or JSON text) against ``signature_defs``; one-line ValueError."""
    if isinstance(body, (str, bytes)):
        body = json.loads(body)
    if "inputs" not in body:
        raise ValueError("REST body has no 'inputs' (columnar format expected)")
    name = body.get("signature_name", "serving_default")
    sig = _signature(defs, name)
    inputs = body["inputs"]
    if not isinstance(inputs, dict):
        if len(sig.inputs) != 1:
            raise ValueError(f"signature {name!r} has several inputs: 'inputs' must name them")
        inputs = {next(iter(sig.inputs)): inputs}
    _check_names(inputs.keys(), sig.inputs.keys(), name)
    for key, value in inputs.items():
        dtype, expected = _spec(sig.inputs[key])
        try:
            array = np.asarray(value)
        except ValueError:  # numpy refuses inhomogeneous nesting
            array = np.asarray(None, dtype=object)
        if array.dtype == object:
            raise ValueError(f"input {key!r} is a ragged list; expected a dense array")
        if np.issubdtype(dtype, np.integer) and not np.issubdtype(array.dtype, np.integer):
            raise ValueError(
                f"input {key!r} holds {array.dtype} values; the signature expects {dtype}"
            )
        if np.issubdtype(dtype, np.floating) and not np.issubdtype(array.dtype, np.number):
            raise ValueError(
                f"input {key!r} holds {array.dtype} values; the signature expects {dtype}"
            )
        _check_shape(key, array.shape, expected)
    return {k: np.asarray(v, dtype=_spec(sig.inputs[k])[0]) for k, v in inputs.items()}


def predict_rest(url, model_name, body, timeout=60.0):
    """POSTs ``body`` to ``<url>/v1/models/<model_name>:predict``; the decoded JSON reply."""
    import urllib.request

    request = urllib.request.Request(
        f"{url.rstrip('/')}/v1/models/{model_name}:predict",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        return json.loads(reply.read())
