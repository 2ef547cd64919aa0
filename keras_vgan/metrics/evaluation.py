"""Evaluating a generator: real and generated clips in batches -> metric rows with protocols.

``Evaluator`` embeds the real clips once (offline encoder features, and I3D
logits when FVD is asked for) and then scores any number of generators, or
one generator at many points of training (``callbacks.PeriodicEvaluation``),
without holding clips in memory. Each result row is
``{"metric", "value", "protocol"}``: the protocol says how the number was
obtained (clips, frames, real data, embedding), since these numbers compare
only under the same protocol.

Default protocol: ``num_clips`` generated clips (noise from
``numpy.random.default_rng(seed)``, the EMA generator) against as many real
clips drawn with ``EVAL_SEED`` (a seed no training run uses by default, so
the real clips are fresh draws, not the first training batches): for the
built-in Moving MNIST the ``train`` digits (the distribution the model
learned), for a path or TFDS source its clips in the source's shuffled order.
"""

import math

import numpy as np

from keras_vgan.metrics import offline
from keras_vgan.metrics.frechet import frechet_distance
from keras_vgan.metrics.fvd import FVD_NUM_CLIPS, I3DEmbedder, fvd_protocol, i3d_embeddings
from keras_vgan.metrics.inception import inception_score
from keras_vgan.metrics.kernel import kernel_distance

EVAL_SEED = 20240601
METRICS = ("offline", "fvd")


def real_batches(data, *, frames, size, channels=1, num_clips, batch_size=64, seed=EVAL_SEED):
    """Real clips for evaluation: ``(list of float32 batches [b, T, H, W, C], description)``.

    Args:
        data: ``"moving_mnist"``, ``"shapes"``, a path or ``tfds:NAME`` (as
            ``python -m training --data``).
        frames, size, channels: the clip format (that of the generator).
        num_clips: how many clips.
        batch_size: clips per batch.
        seed: the draw (``EVAL_SEED`` by default).
    """
    from keras_vgan import data as data_lib

    num_clips = int(num_clips)
    if num_clips < 2:
        raise ValueError(f"num_clips={num_clips} must be >= 2")
    common = dict(frames=frames, size=size, num_clips=num_clips, batch_size=batch_size)
    if data == "moving_mnist":
        ds = data_lib.moving_mnist(seed=seed, split="train", drop_remainder=False, **common)
        what = f"built-in moving_mnist, train digits, seed {seed}"
    elif data == "shapes":
        ds = data_lib.bouncing_shapes(seed=seed, channels=channels, drop_remainder=False, **common)
        what = f"built-in shapes, seed {seed}"
    else:
        source = data_lib.open_source(data, frames=frames, size=size, channels=channels)
        ds = source.dataset(batch_size=batch_size, seed=seed, drop_remainder=False)
        ds = ds.take(math.ceil(num_clips / batch_size))
        what = f"{data}, shuffled with seed {seed}"
    batches, n = [], 0
    for batch in ds:
        batch = batch[0] if isinstance(batch, tuple) else batch
        batch = np.asarray(batch)[: num_clips - n]
        batches.append(batch)
        n += len(batch)
        if n >= num_clips:
            break
    if n < num_clips:
        raise ValueError(f"data {data!r} gave {n} clips, fewer than num_clips={num_clips}")
    return batches, f"{n} clips of {frames}x{size}x{size}x{channels} from {what}"


def generated_batches(gan, num_clips, batch_size=64, seed=0, use_ema=True):
    """Yields ``num_clips`` clips of a ``VideoGAN`` in float32 batches (noise from ``seed``)."""
    rng = np.random.default_rng(seed)
    done = 0
    while done < num_clips:
        n = min(batch_size, num_clips - done)
        z = rng.standard_normal((n, gan.latent_dim)).astype("float32")
        labels = None
        num_classes = getattr(gan.ema_generator, "num_classes", 0) if gan.conditional else 0
        if num_classes:
            labels = (np.arange(done, done + n) % num_classes).astype("int32")
        yield np.asarray(gan.generate(z, labels=labels, use_ema=use_ema), np.float32)
        done += n


class Evaluator:
    """Scores generated clips against fixed real clips.

    Args:
        real: real clips: an array ``[N, T, H, W, C]`` or a list of batches.
        real_description: what the real clips are (goes into each protocol).
        metrics: a subset of ``("offline", "fvd")``: ``offline`` gives
            ``offline_fd``, ``offline_kvd`` and ``offline_is``
            (``keras_vgan.metrics.offline``), ``fvd`` the FVD
            (``keras_vgan.metrics.fvd``; needs ``i3d``).
        i3d: path of the local ``i3d-kinetics-400`` module (or an
            ``I3DEmbedder``), for ``fvd``.
        encoder: the offline ``OfflineVideoEncoder`` (the shipped one by default).
    """

    def __init__(
        self, real, real_description="real clips", metrics=("offline",), i3d=None, encoder=None
    ):
        metrics = tuple(metrics)
        bad = [m for m in metrics if m not in METRICS]
        if bad or not metrics:
            raise ValueError(f"metrics {list(metrics)} must be a non-empty subset of {METRICS}")
        self.metrics = metrics
        self.real_description = real_description
        self.encoder = encoder
        if "offline" in metrics:
            self.encoder = encoder or offline.load_encoder()
        self.i3d = None
        if "fvd" in metrics:
            self.i3d = i3d if isinstance(i3d, I3DEmbedder) else I3DEmbedder(i3d)
        batches = [real] if hasattr(real, "shape") else list(real)
        self.real = self._embed(batches)
        self.num_real = next(iter(self.real.values())).shape[0]

    def _embed(self, batches):
        out = {}
        if "offline" in self.metrics:
            out["features"], out["probs"] = offline.embed(batches, self.encoder)
        if "fvd" in self.metrics:
            out["i3d"] = i3d_embeddings(batches, self.i3d)
        return out

    def evaluate(self, fake):
        """Rows ``[{"metric", "value", "protocol"}]`` for generated clips (array or batches)."""
        batches = [fake] if hasattr(fake, "shape") else fake
        emb = self._embed(batches)
        n = next(iter(emb.values())).shape[0]
        versus = f"{n} generated vs {self.real_description}"
        rows = []
        if "offline" in self.metrics:
            enc = "offline Moving MNIST encoder, 128-d penultimate features, first 16 frames at 32x32 grey"
            rows += [
                {
                    "metric": "offline_fd",
                    "value": frechet_distance(self.real["features"], emb["features"]),
                    "protocol": f"Fréchet distance; {enc}; {versus}",
                },
                {
                    "metric": "offline_kvd",
                    "value": kernel_distance(self.real["features"], emb["features"]),
                    "protocol": f"unbiased MMD^2, kernel (x.y/128 + 1)^3; {enc}; {versus}",
                },
                {
                    "metric": "offline_is",
                    "value": inception_score(emb["probs"])[0],
                    "protocol": (
                        f"Inception Score of the offline encoder's digit softmax, {n} generated "
                        "clips, 1 split (real two-digit clips score at most 5)"
                    ),
                },
            ]
        if "fvd" in self.metrics:
            rows.append(
                {
                    "metric": "fvd",
                    "value": frechet_distance(self.real["i3d"], emb["i3d"]),
                    "protocol": fvd_protocol(
                        self.num_real, n, self.real_description, self.i3d.path
                    ),
                }
            )
        return rows


def evaluate_gan(
    gan,
    data="moving_mnist",
    metrics=("offline",),
    num_clips=FVD_NUM_CLIPS,
    i3d=None,
    seed=0,
    batch_size=64,
):
    """Evaluates a ``VideoGAN`` against real clips of ``data`` in the generator's format.

    Returns:
        The rows of ``Evaluator.evaluate``.
    """
    _, frames, size, _, channels = clip_shape(gan)
    real, what = real_batches(
        data,
        frames=frames,
        size=size,
        channels=channels,
        num_clips=num_clips,
        batch_size=batch_size,
    )
    evaluator = Evaluator(real, what, metrics=metrics, i3d=i3d)
    return evaluator.evaluate(generated_batches(gan, num_clips, batch_size, seed))


def clip_shape(gan):
    """``(None, T, H, W, C)`` of the generator's clips."""
    video = gan.generate(np.zeros((1, gan.latent_dim), "float32"))
    return (None, *video.shape[1:])
