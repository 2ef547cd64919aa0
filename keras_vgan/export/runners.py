"""Sampling from any deployed form of a generator, each in its own real runtime.

``open_sampler(path)`` recognises a run directory, a checkpoint, a ``.keras``
file, a SavedModel directory (or a TF Serving model directory of integer
versions: the highest is used), a ``.tflite`` file (run with
``ai_edge_litert``) or an ``.onnx`` file (run with ``onnxruntime``) and
returns a ``Sampler``: ``sampler(z, labels=None, frames=None)`` -> float32
videos ``[B, T, H, W, C]`` in [-1, 1]. The generate program and the latency
benchmark use it; the tests use it for parity between formats.
"""

import inspect
import os

import numpy as np

from keras_vgan.export import endpoints, litert, saved_model
from keras_vgan.export import onnx as onnx_export
from keras_vgan.export.load import SourceError, is_run_dir, load_checkpoint, load_keras, load_run


class Sampler:
    """Common interface; subclasses set the attributes in ``__init__``.

    Attributes:
        format: ``keras``, ``saved_model``, ``litert`` or ``onnx``.
        latent_dim: noise size (None for task models).
        num_classes: classes of a conditional generator (0 = unconditional).
        frames: clip length the model produces by default.
        variable_frames: whether ``frames=`` may change it (MoCoGAN in Keras).
        path: where it was loaded from.
    """

    format = "?"
    latent_dim = None
    num_classes = 0
    frames = None
    variable_frames = False
    path = None

    def __call__(self, z, labels=None, frames=None):
        z = check_noise(z, self.latent_dim, self.path)
        if labels is not None:
            if not self.num_classes:
                raise ValueError(f"{self.path!r} is unconditional: it takes no label")
            labels = as_labels(labels)
            check_labels(labels, self.num_classes)  # before int32: no wrap-around
            labels = labels.astype(np.int32)
            if labels.shape[0] != z.shape[0]:
                raise ValueError(f"{labels.shape[0]} labels for {z.shape[0]} clips")
        if frames is not None and frames != self.frames and not self.variable_frames:
            raise ValueError(
                f"frames={frames}: {self.path!r} ({self.format}) makes clips of "
                f"{self.frames} frames only; other lengths need a MoCoGAN run dir, "
                "checkpoint or .keras file"
            )
        return np.asarray(self._run(z, labels, frames), np.float32)

    def cycled_labels(self, n):
        """Clip ``i`` gets class ``i % num_classes`` (what ``serving_default`` does)."""
        return np.arange(n, dtype=np.int32) % self.num_classes

    def _run(self, z, labels, frames):
        raise NotImplementedError


def check_noise(z, latent_dim, path=None):
    """``z`` as float32 ``[B, latent_dim]``; a one-line ValueError for another rank, size,
    a non-numeric dtype or non-finite values (a runtime would fail in many lines, or
    return NaN clips)."""
    try:
        array = np.asarray(z)
    except (ValueError, TypeError) as e:  # ragged lists
        raise ValueError(f"z is not an array of numbers ({str(e).splitlines()[0]})") from None
    expected = f"float noise [B, {latent_dim if latent_dim is not None else 'latent_dim'}]"
    if array.dtype.kind not in "iuf":
        raise ValueError(f"z has dtype {array.dtype}; expected {expected}")
    if array.ndim != 2 or (latent_dim is not None and array.shape[1] != latent_dim):
        raise ValueError(f"z has shape {tuple(array.shape)}; expected {expected} for {path!r}")
    array = array.astype(np.float32)
    if not np.isfinite(array).all():
        raise ValueError(f"z holds NaN or Inf; expected finite {expected}")
    return array


def as_labels(labels):
    """Class labels as int64 ``[B]``; a one-line ValueError unless they are integers."""
    try:
        array = np.asarray(labels)
    except (ValueError, TypeError) as e:
        raise ValueError(f"labels are not integers ({str(e).splitlines()[0]})") from None
    if array.dtype.kind in "f" and np.isfinite(array).all() and (array == np.round(array)).all():
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise ValueError(f"labels have dtype {array.dtype} ({labels!r:.40}); expected integers")
    return array.astype(np.int64).reshape(-1)


def check_labels(labels, num_classes):
    """One-line ValueError when a label lies outside ``[0, num_classes)``."""
    bad = [int(x) for x in np.asarray(labels).reshape(-1) if not 0 <= int(x) < num_classes]
    if bad:
        raise ValueError(
            f"label {bad[0]} is outside the class range [0, {num_classes - 1}] of this model"
        )


class KerasSampler(Sampler):
    """A ``VideoGAN`` in Keras (EMA generator)."""

    format = "keras"

    def __init__(self, model, path=None):
        if not hasattr(model, "latent_dim"):
            raise SourceError(
                f"{path!r} is a {type(model).__name__} (a task model): it needs input "
                "frames, not noise; call model.generate(frames) or its served signature"
            )
        self.model = model
        self.path = path
        gen = model.ema_generator
        self.latent_dim = model.latent_dim
        self.num_classes = endpoints.num_classes(model)
        self.frames = getattr(gen, "frames", None)
        self.variable_frames = "frames" in inspect.signature(gen.call).parameters

    def _run(self, z, labels, frames):
        kwargs = {"frames": frames} if frames is not None and self.variable_frames else {}
        return self.model.generate(z, labels=labels, **kwargs)


class SavedModelSampler(Sampler):
    """A SavedModel, loaded with ``tf.saved_model.load`` (the TF Serving graph)."""

    format = "saved_model"

    def __init__(self, path):
        import tensorflow as tf

        self.path = path
        self.loaded = tf.saved_model.load(path)
        sigs = self.loaded.signatures
        if "serving_default" not in sigs:
            raise SourceError(f"SavedModel {path!r} has no serving_default signature")
        spec = sigs["serving_default"].structured_input_signature[1]
        if "z" not in spec:
            raise SourceError(
                f"SavedModel {path!r} takes {sorted(spec)}, not noise z: not a generator"
            )
        self.latent_dim = int(spec["z"].shape[-1])
        meta = saved_model.read_metadata(path) or {}
        self.num_classes = int(meta.get("num_classes") or 0)
        out = sigs["serving_default"].structured_outputs["video"]
        self.frames = meta.get("frames") or out.shape[1]

    def _run(self, z, labels, frames):
        import tensorflow as tf

        sigs = self.loaded.signatures
        if labels is not None:
            return sigs["generate"](z=tf.constant(z), label=tf.constant(labels))["video"]
        return sigs["serving_default"](z=tf.constant(z))["video"]


class LiteRTSampler(Sampler):
    """A ``.tflite`` file run by ``ai_edge_litert.interpreter.Interpreter``."""

    format = "litert"

    def __init__(self, path, num_threads=None):
        self.path = path
        with open(path, "rb") as f:
            flat = f.read()
        try:
            self.interpreter = litert.interpreter(flat, num_threads=num_threads)
        except (ValueError, RuntimeError) as e:
            raise SourceError(
                f"cannot load {path!r} with LiteRT: {str(e).splitlines()[0]}"
            ) from None
        sigs = self.interpreter.get_signature_list()
        if "serving_default" not in sigs or "z" not in sigs["serving_default"]["inputs"]:
            raise SourceError(f"{path!r} has no serving_default signature taking z")
        self.meta = litert.read_metadata(flat) or {}
        self._runners = {name: self.interpreter.get_signature_runner(name) for name in sigs}
        details = self._runners["serving_default"].get_input_details()["z"]
        self.latent_dim = int(details["shape_signature"][-1])
        self.num_classes = int(self.meta.get("num_classes") or 0)
        self.frames = self.meta.get("frames")

    def _run(self, z, labels, frames):
        if labels is not None:
            return self._runners["generate"](z=z, label=labels)["video"]
        return self._runners["serving_default"](z=z)["video"]


class ONNXSampler(Sampler):
    """An ``.onnx`` file run by ``onnxruntime.InferenceSession`` (CPU)."""

    format = "onnx"

    def __init__(self, path, threads=None):
        try:
            import onnxruntime as ort
        except ImportError:
            raise SourceError(
                f"{path!r}: running ONNX needs onnxruntime (pip install 'keras_vgan[onnx]')"
            ) from None
        self.path = path
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        except Exception as e:
            raise SourceError(
                f"cannot load {path!r} with onnxruntime: {str(e).splitlines()[0]}"
            ) from None
        inputs = {i.name: i for i in self.session.get_inputs()}
        if "z" not in inputs:
            raise SourceError(f"{path!r} takes {sorted(inputs)}, not noise z: not a generator")
        self.latent_dim = int(inputs["z"].shape[-1])
        self.takes_label = "label" in inputs
        self.meta = onnx_export.read_metadata(self.session) or {}
        self.num_classes = int(self.meta.get("num_classes") or 0)
        self.frames = self.meta.get("frames")
        self.output = self.session.get_outputs()[0].name

    def _run(self, z, labels, frames):
        feeds = {"z": z}
        if self.takes_label:
            feeds["label"] = labels if labels is not None else self.cycled_labels(len(z))
        return self.session.run([self.output], feeds)[0]


def saved_model_dir(path):
    """``path`` if it is a SavedModel; its highest integer version if it is a TF Serving
    model directory; else None."""
    if os.path.exists(os.path.join(path, "saved_model.pb")):
        return path
    versions = [int(n) for n in os.listdir(path) if n.isdigit()] if os.path.isdir(path) else []
    for v in sorted(versions, reverse=True):
        candidate = os.path.join(path, str(v))
        if os.path.exists(os.path.join(candidate, "saved_model.pb")):
            return candidate
    return None


def open_sampler(path, checkpoint=False):
    """A ``Sampler`` for ``path`` (see the module docstring); ``SourceError`` otherwise."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise SourceError(f"{path!r} does not exist")
    if checkpoint:
        return KerasSampler(load_checkpoint(path), path)
    if os.path.isdir(path):
        if is_run_dir(path):
            return KerasSampler(load_run(path), path)
        saved = saved_model_dir(path)
        if saved is not None:
            return SavedModelSampler(saved)
        if os.path.exists(os.path.join(path, "state.json")) or os.path.exists(
            os.path.join(path, "latest")
        ):
            return KerasSampler(load_checkpoint(path), path)
    elif path.endswith(".keras"):
        return KerasSampler(load_keras(path), path)
    elif path.endswith(".tflite"):
        return LiteRTSampler(path)
    elif path.endswith(".onnx"):
        return ONNXSampler(path)
    raise SourceError(
        f"{path!r} is not a run directory, checkpoint, .keras file, SavedModel directory, "
        ".tflite or .onnx file"
    )
