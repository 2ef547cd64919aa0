"""What a trained model exposes when deployed: named endpoints (signatures).

An *endpoint* is a TensorFlow function of named tensors returning a dict of
named tensors; every export format (SavedModel for TF Serving, LiteRT, ONNX:
the other modules of ``keras_vgan.export``) is written from the same
endpoints, so the formats agree by construction. All endpoints sample with
the EMA generator.

What a model serves is declared by its family (``registry.ModelFamily.serving``,
found from the class of the model's generator):

* ``Serving("noise")`` (the GANs; ``noise_endpoints``). TF Serving cannot
  leave a signature input out, so each use gets its own signature:

  * ``serving_default``: ``z`` float32 ``[None, latent_dim]`` -> ``video``
    float32 ``[None, T, H, W, C]`` in [-1, 1]. A class-conditional model
    cycles through its classes (clip ``i`` gets class ``i % num_classes``),
    as ``VideoGAN.generate`` does without labels.
  * ``generate_uint8``: the same input -> ``video`` uint8 ``[0, 255]`` pixels
    (``(v + 1) * 127.5`` rounded half up, as ``video_io.to_uint8``).
  * ``generate_seeded``: ``seed`` int32 ``[]`` and ``count`` int32 ``[]`` ->
    ``video``: the noise is drawn inside the graph (``latent_noise``), so a
    client needs none of its own; equal to ``gan.generate(num=count, seed=seed)``.
    SavedModel only (stateless random ops are not LiteRT builtins).
  * ``generate`` (conditional models): ``z`` and ``label`` int32 ``[None]``
    -> ``video``.

* ``Serving("timed_noise")`` (continuous-time GANs, e.g. StyleGAN-V): the noise
  endpoints (clips at timestamps ``0 .. T-1``) and ``generate_timestamps``: ``z`` and
  ``timestamps`` float32 ``[None, None]`` (frame times >= 0, one row per clip) ->
  ``video`` ``[None, T', H, W, C]``; SavedModel only (the clip length is a graph input).

* ``Serving("vae", name)`` (SVG-LP, TD-VAE; ``vae_endpoints``): the noise endpoints
  (unconditional clips) and ``name`` / ``<name>_noise``: futures of context ``frames``
  from a ``seed`` (SavedModel) or explicit ``noise`` (every format).

* ``Serving("tokens", name)`` (the video tokenizer, vqvae; ``tokenizer_endpoints``):
  ``serving_default`` and ``name`` (``reconstruct``): ``frames`` -> ``video``; ``encode``:
  ``frames`` -> ``codes`` int32 ``[None, t, h, w]``; ``decode``: ``codes`` -> ``video``.
  Every format (full-integer LiteRT calibrates ``decode`` on uniformly drawn codes).

* ``Serving("frames", name)`` (the conditional tasks; ``frames_endpoints``):
  ``serving_default`` and the endpoint ``name`` (``predict``, ``interpolate``,
  ``translate``, ``enhance``), both taking ``frames`` float32
  ``[None, T_in, h, w, C_in]``, the generator's ``serving_input_shape``.

A model outside the registry (or one that serves more) gives a
``serving_endpoints()`` method, on itself or on its generator, returning a
list of ``Endpoint`` (or a dict ``name -> (fn, input_signature)``): those are
added, and override a declared endpoint of the same name.

This module is a leaf: it imports nothing of keras_vgan but the registry.
"""

import dataclasses
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from keras_vgan import registry

FORMATS = ("saved_model", "litert", "onnx")
TRUNCATION_RESAMPLES = 8  # redraws of out-of-range entries before clipping


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """One named signature.

    Attributes:
        name: signature name (``serving_default``, ``generate``, ...).
        fn: called with one tensor per input spec (in order), returns a dict
            of named output tensors.
        input_signature: ``tf.TensorSpec``s whose ``name`` is the input name.
        formats: the export formats that carry it (a subset of ``FORMATS``).
        representative: optional ``n -> iterable of {input name: array}``
            used to calibrate full-integer LiteRT quantisation (e.g. frames
            from the training data for task models; noise for generators).
    """

    name: str
    fn: Callable
    input_signature: tuple
    formats: tuple = FORMATS
    representative: Callable | None = None

    @property
    def input_names(self):
        return tuple(s.name for s in self.input_signature)


# ------------------------------------------------------------------ noise
def latent_noise(num, latent_dim, seed=0, truncation=None):
    """Standard normal latents ``[num, latent_dim]`` drawn from an integer seed.

    Without truncation this is ``VideoGAN.sample_noise(num, seed)``: the
    stateless normal draw with seed ``[seed, 0]``. With ``truncation = t > 0``
    (the truncation trick of Brock et al. 2019, "Large Scale GAN Training for
    High Fidelity Natural Image Synthesis") every entry with ``|z| > t`` is
    redrawn (seeds ``[seed, k]``, ``k = 1..8``) and what is still out of range
    is clipped to ``[-t, t]``: samples from ``N(0, 1)`` truncated to
    ``[-t, t]``; smaller ``t`` trades variety for fidelity.

    Works eagerly and inside a graph (``num``, ``seed`` may be tensors).
    """
    seed = tf.cast(seed, tf.int32)
    shape = tf.stack([tf.cast(num, tf.int32), latent_dim])
    z = tf.random.stateless_normal(shape, seed=tf.stack([seed, 0]))
    if truncation is None:
        return z
    t = float(truncation)
    if not t > 0:
        raise ValueError(f"truncation={truncation!r} must be > 0 (or None for none)")
    for k in range(1, TRUNCATION_RESAMPLES + 1):
        redraw = tf.random.stateless_normal(shape, seed=tf.stack([seed, k]))
        z = tf.where(tf.abs(z) > t, redraw, z)
    return tf.clip_by_value(z, -t, t)


def to_uint8(video):
    """Float pixels in [-1, 1] -> uint8, exactly as ``video_io.to_uint8`` (in-graph)."""
    v = tf.clip_by_value(tf.cast(video, tf.float32), -1.0, 1.0)
    return tf.cast(tf.floor((v + 1.0) * 127.5 + 0.5), tf.uint8)


# -------------------------------------------------------------- endpoints
def _float_video(x):
    return tf.cast(x, tf.float32)


def num_classes(model):
    """Classes of a conditional ``VideoGAN`` (0 when unconditional or a task model)."""
    if not getattr(model, "conditional", False):
        return 0
    return int(getattr(model.ema_generator, "num_classes", 0) or 0)


def noise_endpoints(gan):
    """The endpoints of a GAN sampled from noise (``Serving("noise")``; module docstring)."""
    latent = gan.latent_dim
    z_spec = tf.TensorSpec((None, latent), tf.float32, name="z")
    classes = num_classes(gan)

    def video(z):
        return {"video": _float_video(gan.generate(z, use_ema=True))}

    def video_uint8(z):
        return {"video": to_uint8(gan.generate(z, use_ema=True))}

    def seeded(seed, count):
        z = latent_noise(count, latent, seed)
        return {"video": _float_video(gan.generate(z, use_ema=True))}

    def noise(n):
        rng = np.random.default_rng(1234)
        for i in range(n):
            item = {"z": rng.standard_normal((1, latent)).astype("float32")}
            if classes:
                item["label"] = np.asarray([i % classes], "int32")
            yield item

    out = [
        Endpoint("serving_default", video, (z_spec,), representative=noise),
        Endpoint("generate_uint8", video_uint8, (z_spec,), formats=("saved_model",)),
        Endpoint(
            "generate_seeded",
            seeded,
            (
                tf.TensorSpec((), tf.int32, name="seed"),
                tf.TensorSpec((), tf.int32, name="count"),
            ),
            formats=("saved_model",),
        ),
    ]
    if gan.conditional:

        def labelled(z, label):
            return {"video": _float_video(gan.generate(z, labels=label, use_ema=True))}

        out.append(
            Endpoint(
                "generate",
                labelled,
                (z_spec, tf.TensorSpec((None,), tf.int32, name="label")),
                representative=noise,
            )
        )
    return out


def timed_noise_endpoints(gan):
    """The noise endpoints plus ``generate_timestamps`` (``Serving("timed_noise")``)."""
    out = noise_endpoints(gan)
    classes = num_classes(gan)

    def at_times(z, timestamps):
        labels = tf.range(tf.shape(z)[0]) % classes if classes else None
        video = gan.generate(z, labels=labels, use_ema=True, timestamps=timestamps)
        return {"video": _float_video(video)}

    spec = (
        tf.TensorSpec((None, gan.latent_dim), tf.float32, name="z"),
        tf.TensorSpec((None, None), tf.float32, name="timestamps"),
    )
    out.append(Endpoint("generate_timestamps", at_times, spec, formats=("saved_model",)))
    return out


def task_input_shape(generator):
    """Per-sample input shape ``(T_in, h, w, C_in)`` of a task generator.

    Every task generator states it as its ``serving_input_shape``.
    """
    shape = getattr(generator, "serving_input_shape", None)
    if shape is None:
        raise ValueError(
            f"{type(generator).__name__} does not state its input shape: give it a "
            "serving_input_shape (T_in, h, w, C_in) or a serving_endpoints() method"
        )
    return tuple(int(s) for s in shape)


def task_endpoint_name(generator):
    """The named endpoint (``predict``, ``translate``, ...) its family declares, or None."""
    family = registry.family_of(generator)
    return family.serving.name if family is not None else None


def frames_endpoints(model, name=None, representative=None):
    """``serving_default`` and the endpoint ``name`` of a task model (``Serving("frames")``).

    ``representative``: optional ``n -> iterable of {"frames": [1, ...]}``
    (input clips from the training data) for full-integer LiteRT calibration.
    """
    spec = tf.TensorSpec((None,) + task_input_shape(model.ema_generator), tf.float32, name="frames")

    def run(frames):
        return {"video": _float_video(model.generate(frames, use_ema=True))}

    names = ["serving_default"] + ([name] if name else [])
    return [Endpoint(n, run, (spec,), representative=representative) for n in names]


def vae_endpoints(model, name="predict"):
    """A sequential VAE's endpoints (``Serving("vae", name)``): the noise endpoints
    (unconditional clips, ``z`` the prior noise of every step), and prediction from
    ``frames`` ``[None, K, H, W, C]`` (and ``label`` int32 ``[None]`` when conditional):

    * ``name`` (``predict``): with ``seed`` int32 ``[]``, the noise drawn inside the
      graph (stateless, ``variational.prediction_noise``; equal to
      ``model.generate(frames, seed=seed)``): SavedModel only (stateless random ops are
      not LiteRT builtins, nor ONNX ops tf2onnx converts);
    * ``<name>_noise``: with ``noise`` float32 ``[None, steps, z_dim]``, every format.
    """
    out = noise_endpoints(model)
    net = model.ema_generator
    frames = tf.TensorSpec((None,) + task_input_shape(net), tf.float32, name="frames")
    steps = net.noise_steps(net.target_frames)
    noise = tf.TensorSpec((None, steps, net.z_dim), tf.float32, name="noise")
    label = (tf.TensorSpec((None,), tf.int32, name="label"),) if model.conditional else ()

    def seeded(frames, seed, *label):
        video = model.generate(frames, seed=seed, labels=label[0] if label else None)
        return {"video": _float_video(video)}

    def with_noise(frames, noise, *label):
        video = model.generate(frames, noise=noise, labels=label[0] if label else None)
        return {"video": _float_video(video)}

    seed = tf.TensorSpec((), tf.int32, name="seed")
    return out + [
        Endpoint(name, seeded, (frames, seed) + label, formats=("saved_model",)),
        Endpoint(f"{name}_noise", with_noise, (frames, noise) + label),
    ]


def tokenizer_endpoints(model, name="reconstruct"):
    """A video tokenizer's endpoints (``Serving("tokens", name)``, ``tokenizer.VideoTokenizer``):

    * ``serving_default`` and ``name`` (``reconstruct``): ``frames`` float32
      ``[None, T, H, W, C]`` -> ``video``, the clip through the codes;
    * ``encode``: ``frames`` -> ``codes`` int32 ``[None, t, h, w]``;
    * ``decode``: ``codes`` int32 ``[None, t, h, w]`` -> ``video`` ``[None, T, H, W, C]``.

    Every format carries them (ONNX: one file each, ``reconstruct`` the main one).
    """
    net = model.ema_generator
    frames = tf.TensorSpec((None,) + task_input_shape(net), tf.float32, name="frames")
    codes = tf.TensorSpec((None,) + tuple(net.token_shape()), tf.int32, name="codes")

    def reconstruct(frames):
        return {"video": _float_video(model.generate(frames, use_ema=True))}

    def encode(frames):
        return {"codes": tf.cast(model.encode(frames, use_ema=True), tf.int32)}

    def decode(codes):
        return {"video": _float_video(model.decode(codes, use_ema=True))}

    def random_codes(n):  # int8 calibration of the decoder: codes drawn uniformly
        rng = np.random.default_rng(1234)
        shape = (1,) + tuple(net.token_shape())
        for _ in range(n):
            yield {"codes": rng.integers(0, net.codebook_size, shape).astype("int32")}

    return [
        Endpoint("serving_default", reconstruct, (frames,)),
        Endpoint(name, reconstruct, (frames,)),
        Endpoint("encode", encode, (frames,)),
        Endpoint("decode", decode, (codes,), representative=random_codes),
    ]


# What each kind of Serving builds (registry.Serving.inputs).
BUILDERS = {
    "noise": lambda model, serving: noise_endpoints(model),
    "timed_noise": lambda model, serving: timed_noise_endpoints(model),
    "frames": lambda model, serving: frames_endpoints(model, serving.name),
    "vae": lambda model, serving: vae_endpoints(model, serving.name or "predict"),
    "tokens": lambda model, serving: tokenizer_endpoints(model, serving.name or "reconstruct"),
}


def declared_endpoints(model):
    """The endpoints the family of ``model``'s generator declares ([] outside the registry)."""
    generator = getattr(model, "ema_generator", None)
    family = registry.family_of(generator) if generator is not None else None
    if family is None:
        return []
    return BUILDERS[family.serving.inputs](model, family.serving)


def _hook_endpoints(obj):
    hook = getattr(obj, "serving_endpoints", None)
    if hook is None:
        return []
    result = hook()
    if isinstance(result, dict):
        return [Endpoint(name, fn, tuple(signature)) for name, (fn, signature) in result.items()]
    return list(result)


def endpoints_of(model):
    """Every endpoint of ``model``: its family's, then its ``serving_endpoints()`` hooks'.

    Returns:
        ``{name: Endpoint}``, ``serving_default`` first.

    Raises:
        ValueError: one line, when the model exposes nothing to serve.
    """
    found = declared_endpoints(model)
    for obj in (model, getattr(model, "ema_generator", None)):
        if obj is not None:
            found += _hook_endpoints(obj)
    if not found:
        raise ValueError(
            f"{type(model).__name__} has nothing to serve: expected a model whose generator's "
            "family is registered (keras_vgan.registry) or a serving_endpoints() method"
        )
    result = {}
    for ep in found:
        result[ep.name] = ep  # a hook may override a declared endpoint
    if "serving_default" not in result:
        first = next(iter(result.values()))
        result["serving_default"] = dataclasses.replace(first, name="serving_default")
    return dict(sorted(result.items(), key=lambda kv: kv[0] != "serving_default"))


def metadata(model):
    """A JSON-able description of what an export of ``model`` serves."""
    gen = getattr(model, "ema_generator", None)
    info = {
        "format_version": 1,
        "name": model.name,
        "class": type(model).__name__,
        "generator": type(gen).__name__ if gen is not None else None,
        "latent_dim": getattr(model, "latent_dim", None),
        "num_classes": num_classes(model),
        "frames": getattr(gen, "frames", None),
        "size": getattr(gen, "size", None),
        "channels": getattr(gen, "channels", None),
        "endpoints": {},
    }
    for ep in endpoints_of(model).values():
        info["endpoints"][ep.name] = {
            "inputs": {
                s.name: {"dtype": s.dtype.name, "shape": s.shape.as_list()}
                for s in ep.input_signature
            },
            "formats": list(ep.formats),
        }
    return info


# ------------------------------------------------------------ trace setup
class unrolled_rnns:
    """Context manager: every Keras RNN layer inside ``model`` traces unrolled.

    A fixed-length ``GRU`` (MoCoGAN's motion code) otherwise becomes a while
    loop over a TensorList, which LiteRT cannot lower with a dynamic batch;
    unrolled, it is a chain of builtin ops with the same arithmetic.
    """

    def __init__(self, model):
        self._layers = [
            layer
            for layer in model._flatten_layers(include_self=True, recursive=True)
            if isinstance(layer, keras.layers.RNN)
        ]
        self._saved = []

    def __enter__(self):
        self._saved = [layer.unroll for layer in self._layers]
        for layer in self._layers:
            layer.unroll = True
        return self

    def __exit__(self, *exc):
        for layer, value in zip(self._layers, self._saved, strict=True):
            layer.unroll = value
        return False
