"""The tests' base, in the keras-hub manner: tiny data and models, and the checks every
model family runs on its tiny configuration.

* ``run_generator_test``: outputs have the right shape and stay finite in [-1, 1], and a
  few training steps move every weight of both networks with finite losses;
* ``run_serialization_test``: a ``.keras`` save/load gives identical outputs (an engine's
  networks also alone and inside the loaded engine), and ``from_config(get_config())``
  gives an equal config;
* ``run_export_test``: one export format (SavedModel, a LiteRT precision, ONNX) run in its
  own runtime agrees with the Keras model within a stated tolerance.

Also here: the conditional tasks' pairs and overfit criterion, the tiny GAN of every kind
that the export, serving and generate tests share, and the fixed model and batch of the
distribution tests (``multi_worker_step.py`` imports this file as ``helpers``).
"""

import copy
import dataclasses
import os

import keras
import numpy as np
import tensorflow as tf

from keras_vgan import builders, presets
from keras_vgan.data.pairs import builtin_pairs
from keras_vgan.engine import VideoGAN
from keras_vgan.models import VGANDiscriminator, VGANGenerator

# ==================================================================== tiny data
FRAMES, SIZE = 4, 16  # the model-zoo clips; task pairs are 16x16 too


def clips(n=4, channels=1, frames=FRAMES, seed=0):
    """``n`` uniform random clips ``[n, frames, 16, 16, channels]`` in [-1, 1]."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (n, frames, SIZE, SIZE, channels)).astype("float32")


def dataset(n=4, batch=2, channels=1, labels=None):
    """``clips(n)`` (with ``labels``, if given) as batches of ``batch``."""
    x = clips(n, channels)
    data = x if labels is None else (x, np.asarray(labels, "int32"))
    return tf.data.Dataset.from_tensor_slices(data).batch(batch, drop_remainder=True)


def noise(gan, n=2, seed=1):
    """Standard normal latents ``[n, gan.latent_dim]``."""
    return np.random.default_rng(seed).standard_normal((n, gan.latent_dim)).astype("float32")


def pairs(task, n=4, frames=6, seed=0, **kwargs):
    """``n`` Moving MNIST pairs of ``frames`` frames of 16x16, as numpy arrays."""
    ds = builtin_pairs(
        task, frames=frames, size=SIZE, batch_size=n, seed=seed, num_clips=n, **kwargs
    )
    x, y = next(iter(ds))
    return np.asarray(x), np.asarray(y)


def mse(a, b):
    return float(np.mean((np.asarray(a) - np.asarray(b)) ** 2))


# ====================================================================== weights
def snapshot(variables):
    """The values of ``variables`` now, as numpy copies."""
    return [np.array(v.numpy()) for v in variables]


def changed(before, variables):
    """Per variable: whether it moved away from its ``snapshot``."""
    return [not np.allclose(b, v.numpy()) for b, v in zip(before, variables, strict=True)]


# ================================================================ generator test
def check_video(video, n, frames=FRAMES, channels=1, size=SIZE):
    """``video`` is ``[n, frames, size, size, channels]``, finite and in [-1, 1]."""
    _check_clips(video, (n, frames, size, size, channels))


def _check_clips(video, shape):
    video = np.asarray(video)
    assert video.shape == tuple(shape), (video.shape, shape)
    assert np.all(np.isfinite(video)) and np.all(np.abs(video) <= 1.0)


def _generate(model, inputs, labels=None, **kwargs):
    if labels is not None:
        kwargs["labels"] = labels
    return model.generate(inputs, **kwargs)


def run_generator_test(
    gan, data, inputs=None, shape=None, labels=None, epochs=1, may_stay=(), **compile_kwargs
):
    """Compiles ``gan`` (a ``VideoGAN`` or ``VideoTaskGAN``), fits it on ``data`` and checks it.

    Every logged value is finite and every trainable weight of the generator and the
    discriminator moved. With ``inputs`` (noise, or a task's input clips, and ``labels``),
    ``generate`` with and without the EMA weights gives finite clips of ``shape`` in
    [-1, 1], before and after training.

    Args:
        may_stay: path endings of weights with no gradient by design (the last bias of a
            Wasserstein critic cancels out of its loss).
        **compile_kwargs: passed to ``gan.compile``.

    Returns:
        The ``fit`` history.
    """
    gan.compile(**compile_kwargs)

    def check_outputs():
        if inputs is not None:
            for use_ema in (True, False):
                _check_clips(_generate(gan, inputs, labels, use_ema=use_ema), shape)

    check_outputs()
    g0 = snapshot(gan.generator.trainable_variables)
    d0 = snapshot(gan.discriminator.trainable_variables)
    history = gan.fit(data, epochs=epochs, verbose=0).history
    for name, values in history.items():
        assert np.all(np.isfinite(values)), (name, values)
    stuck = []
    for net, before in ((gan.generator, g0), (gan.discriminator, d0)):
        moved = changed(before, net.trainable_variables)
        stuck += [v.path for v, m in zip(net.trainable_variables, moved, strict=True) if not m]
    stuck = [p for p in stuck if not p.endswith(tuple(may_stay))]
    assert not stuck, stuck
    check_outputs()
    return history


def overfit(gan, x, y, steps, **compile_kwargs):
    """Trains a task GAN on a handful of clips; returns ``(history, error_before,
    error_after, floor)``.

    ``floor`` is the error of the best output that ignores the inputs (the per-pixel mean
    of the targets): a generator whose conditioning is not wired cannot go below it. The
    training is a ``run_generator_test`` (every weight moves, losses stay finite).
    """
    # compile() leaves the raw generator as it is: its error now is the error after compile.
    before = mse(gan.generate(x, use_ema=False), y)
    data = tf.data.Dataset.from_tensors((x, y)).repeat(steps)
    history = run_generator_test(gan, data, x, y.shape, **compile_kwargs)
    after = mse(gan.generate(x, use_ema=False), y)
    floor = mse(np.broadcast_to(y.mean(axis=0, keepdims=True), y.shape), y)
    return history, before, after, floor


# ============================================================ serialization test
def _plain(config):
    """The scalar entries of a config (what a ``.keras`` file must keep exactly)."""
    return {k: v for k, v in config.items() if v is None or isinstance(v, (bool, int, float, str))}


def _assert_same(got, expected):
    """Two outputs (arrays or structures of them) are identical."""
    got, expected = (keras.tree.map_structure(np.asarray, o) for o in (got, expected))
    keras.tree.map_structure(np.testing.assert_array_equal, got, expected)


def _check_config_round_trip(model):
    config = model.get_config()
    clone = type(model).from_config(copy.deepcopy(config))
    assert clone.get_config() == config, type(model).__name__


def run_serialization_test(model, tmp_path, inputs, video=None, labels=None, **kwargs):
    """``.keras`` save/load keeps ``model`` exactly; ``from_config(get_config())`` too.

    Args:
        model: a network, compared on ``model(inputs, labels=labels, **kwargs)``; or an
            engine (``VideoGAN``, ``VideoTaskGAN``), compared on ``generate(inputs,
            labels=labels, use_ema=..., **kwargs)`` with and without the EMA weights, whose
            compile settings must survive too, and whose generator (on ``inputs``) and
            discriminator (on ``video``, if given) are saved alone and checked, alone and
            inside the loaded engine.
        tmp_path: a folder for the ``.keras`` files.
        labels: class labels of a conditional model (passed only when given).

    Returns:
        The loaded model.
    """
    _check_config_round_trip(model)
    path = os.path.join(tmp_path, f"{model.name}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model), (type(loaded), type(model))
    assert _plain(loaded.get_config()) == _plain(model.get_config())
    label_kw = {} if labels is None else {"labels": labels}
    if not hasattr(model, "generate"):  # a network
        _assert_same(loaded(inputs, **label_kw, **kwargs), model(inputs, **label_kw, **kwargs))
        return loaded
    if model.compiled:
        assert _plain(loaded.get_compile_config()) == _plain(model.get_compile_config())
    for use_ema in (True, False):
        _assert_same(
            _generate(loaded, inputs, labels, use_ema=use_ema, **kwargs),
            _generate(model, inputs, labels, use_ema=use_ema, **kwargs),
        )
    # The networks saved on their own, and inside the loaded engine, give identical outputs.
    for net, inside, x, kw in (
        (model.generator, loaded.generator, inputs, {**label_kw, **kwargs}),
        (model.discriminator, loaded.discriminator, video, label_kw),
    ):
        if x is None:
            continue
        run_serialization_test(net, tmp_path, x, **kw)
        _assert_same(inside(x, **kw), net(x, **kw))
    return loaded


# =================================================================== export test
LATENT = 8
EXPORT_FRAMES = 8  # the tiny GANs of the export, serving and generate tests: 8 x 16 x 16
KINDS = ("vgan", "frame_gan", "tgan", "mocogan", "mocogan_layers")
CLASSES = 10  # built-in Moving MNIST labels
LITERT_FORMATS = ("fp32", "fp16", "dynamic_int8", "int8")


def tiny_gan(model="vgan", num_classes=0, spread=True, seed=0, **overrides):
    """A tiny ``VideoGAN`` (8 frames of 16x16, width 8) built from the quick preset.

    Its config is ``gan._tiny_config`` (for tests that write a run directory).

    ``overrides``: other fields of its config (``sprite_size=8``, ...).

    ``spread``: redraw the EMA generator's kernels with variance 1 / fan-in so
    that its clips use the whole [-1, 1] range (an untrained DCGAN init gives
    outputs near 0, where every format would agree trivially).
    """
    config = dataclasses.replace(
        presets.get_preset("quick"),
        model=model,
        frames=EXPORT_FRAMES,
        size=SIZE,
        depth=2,
        width=8,
        latent_dim=LATENT,
        num_classes=num_classes,
        mask_l1=0.1 if model == "vgan" else 0.0,
        seed=seed,
        **overrides,
    )
    gan = builders.build_gan(config)
    gan._tiny_config = config
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


def labels_for(gan, n=2):
    return (np.arange(n, dtype="int32") * 3 + 1) % CLASSES if gan.conditional else None


def reference(gan, z, labels=None):
    return np.asarray(gan.generate(z, labels=labels))


def run_export_test(
    model, tmp_path, fmt, inputs, tolerance, labels=None, endpoint=None, representative=None
):
    """Exports ``model`` as ``fmt`` into ``tmp_path``, runs it in its own runtime and checks
    max (and mean) |exported - Keras ``generate``| against ``tolerance``.

    Args:
        fmt: ``saved_model``, a LiteRT precision (``fp32``, ``fp16``, ``dynamic_int8``,
            ``int8``; only builtin ops allowed) or ``onnx``.
        inputs: noise ``[B, latent_dim]`` of a GAN (with ``labels``, run through
            ``open_sampler``), or the input clips of a task model (run through its
            ``endpoint`` signature, e.g. ``predict``).
        tolerance: the largest allowed |difference|, or ``(max, mean)``.
        representative: a task model's LiteRT int8 calibration inputs.

    Returns:
        The ``Sampler`` of a GAN's artifact; the exported outputs of a task model.
    """
    from keras_vgan.export import export_litert, export_onnx, export_saved_model, litert

    max_tol, mean_tol = tolerance if isinstance(tolerance, tuple) else (tolerance, None)
    name = endpoint or "gan"
    if fmt == "saved_model":
        path = export_saved_model(model, os.path.join(tmp_path, name, "1"))
    elif fmt in LITERT_FORMATS:
        path = os.path.join(tmp_path, f"{name}.{fmt}.tflite")
        export_litert(model, path, fmt, representative=representative)
        ops = litert.op_names(litert.interpreter(path))
        assert not [op for op in ops if op.startswith("Flex") or op == "CUSTOM"], ops
    elif fmt == "onnx":
        (path,) = export_onnx(model, os.path.join(tmp_path, f"{name}.onnx"))
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    if endpoint is None:
        from keras_vgan.export import open_sampler

        result = open_sampler(path)
        got, want = result(inputs, labels), reference(model, inputs, labels)
    else:
        got = result = _run_task_endpoint(path, fmt, endpoint, inputs)
        want = np.asarray(model.generate(inputs))
    err = np.abs(got - want)
    assert err.max() <= max_tol, (fmt, err.max(), max_tol)
    if mean_tol is not None:
        assert err.mean() <= mean_tol, (fmt, err.mean(), mean_tol)
    return result


def _run_task_endpoint(path, fmt, endpoint, x):
    """A task model's exported ``endpoint`` on input clips ``x``, in the format's runtime."""
    if fmt == "saved_model":
        sig = tf.saved_model.load(path).signatures[endpoint]
        return sig(frames=tf.constant(x))["video"].numpy()
    if fmt == "onnx":  # the primary .onnx file holds the task's endpoint
        import onnxruntime as ort

        return ort.InferenceSession(path).run(None, {"frames": x})[0]
    from keras_vgan.export import litert

    return litert.interpreter(path).get_signature_runner(endpoint)(frames=x)["video"]


# ============================================================ distribution tests
def make_gan():
    """The distribution tests' VGAN (fixed seed, EMA, compiled): one step of it is compared."""
    keras.utils.set_random_seed(5)
    g = VGANGenerator(latent_dim=8, frames=4, size=8, channels=1, widths=(16, 8))
    d = VGANDiscriminator(frames=4, size=8, channels=1, widths=(8, 16))
    gan = VideoGAN(g, d, seed=5, ema_decay=0.9)
    gan.compile(mask_l1=0.1)
    return gan


def global_batch(n=8):
    return np.random.default_rng(4).uniform(-1, 1, (n, 4, 8, 8, 1)).astype("float32")


# ============================================================ token models' tokenizer
def untrained_tokenizer(tmp_path, config=None, **kwargs):
    """A ``.keras`` file of an untrained ``VQVAE`` (path returned) for the token models'
    ``tokenizer`` field: the ``vqvae`` preset of ``config``'s data and channels, or a
    ``VQVAE(**kwargs)``. Untrained codes are a fixed function of the clip: enough for
    the mechanics (geometry, training steps, sampling, serialisation)."""
    from keras_vgan.models.vqvae import VQVAE

    if config is not None:
        name = "vqvae_shapes" if config.data == "shapes" else "vqvae_moving_mnist"
        vq_config = dataclasses.replace(presets.get_preset(name), channels=config.channels)
        net = builders.build_networks(vq_config)[0]
    else:
        net = VQVAE(name="generator", **kwargs)
    path = os.path.join(tmp_path, f"tokenizer_{net.channels}.keras")
    net.save(path)
    return path
