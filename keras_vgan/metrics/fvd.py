"""Fréchet Video Distance by the reference protocol (Unterthiner et al., 2018).

"Towards Accurate Generative Models of Video: A New Metric & Challenges"
(arXiv:1812.01717), reference code ``google-research/frechet_video_distance``:

* embedding network: I3D (Carreira & Zisserman, 2017) trained on
  Kinetics-400, the TF-Hub module ``deepmind/i3d-kinetics-400/1``; the
  embedding is its logits layer (400 values per clip, the reference's
  ``RGB/inception_i3d/Mean:0``, which is the module's ``default`` output);
* clips: 16 consecutive frames (temporal stride 1; the first 16 of each clip
  here), every frame resized bilinearly to 224x224 with TF1's
  ``resize_bilinear`` (``align_corners=False``, no half-pixel centres: what the
  reference calls), values scaled to [-1, 1]; grey clips are repeated to 3
  channels;
* distance: the Fréchet distance of the two sets of logits
  (``keras_vgan.metrics.frechet``);
* number of clips: 2,048 generated against 2,048 real is the usual choice
  (StyleGAN-V, DIGAN, MoCoGAN-HD report FVD_16 on 2,048); FVD shrinks as the
  number of clips grows, so numbers are comparable only at the same count and
  with the same real clips (which data, split and how clips are cut), all of
  which ``fvd_protocol`` writes into the result.

Nothing is downloaded: the user supplies a local copy of the module (a
SavedModel directory: ``saved_model.pb`` + ``variables/``, in TF-Hub's TF1
format or a TF2 SavedModel with the same interface), loaded with
``tf.saved_model.load``. The interface used: a ``default`` signature (or the
object itself, when callable) taking float32 ``[B, T, 224, 224, 3]`` in
[-1, 1] and returning logits ``[B, 400]`` (or a dict whose ``default`` entry
they are).
"""

import os

import numpy as np
import tensorflow as tf

from keras_vgan.metrics.frechet import frechet_distance

FVD_FRAMES = 16
FVD_SIZE = 224
FVD_NUM_CLIPS = 2048
I3D_EMBEDDING_DIM = 400
I3D_MODULE = "i3d-kinetics-400"


class I3DNotFound(FileNotFoundError):
    """The local I3D module is not given or not where it was said to be."""


def _missing(what):
    return I3DNotFound(
        f"FVD needs a local copy of the TF-Hub module {I3D_MODULE} (deepmind/i3d-kinetics-400/1, "
        f"a SavedModel directory with saved_model.pb and variables/): {what}"
    )


class I3DEmbedder:
    """I3D Kinetics-400 logits of clips, from a local SavedModel directory.

    Args:
        path: the module directory (e.g. an unpacked
            ``i3d-kinetics-400_1.tar.gz``). Raises ``I3DNotFound`` (one line)
            when it is None, missing or holds no ``saved_model.pb``, and
            ``ValueError`` when it cannot be loaded or does not have the
            interface in the module docstring.
        batch_size: clips per forward pass (16 in the reference code).
    """

    def __init__(self, path, batch_size=16):
        if not path:
            raise _missing("no path was given (e.g. --i3d /path/to/i3d-kinetics-400)")
        path = os.path.expanduser(str(path))
        if not os.path.isdir(path):
            raise _missing(f"{path!r} is not a directory")
        if not os.path.exists(os.path.join(path, "saved_model.pb")):
            raise _missing(f"{path!r} has no saved_model.pb")
        self.path = path
        self.batch_size = int(batch_size)
        self._fn = self._load(path)

    @staticmethod
    def _load(path):
        # TF-Hub's TF1 format holds several graphs; the inference one has no tags
        # (what tensorflow_hub.load picks for it).
        tags = [] if os.path.exists(os.path.join(path, "tfhub_module.pb")) else None
        try:
            try:
                obj = tf.saved_model.load(path, tags=tags)
            except ValueError as e:
                if tags is not None or "tags" not in str(e):
                    raise
                obj = tf.saved_model.load(path, tags=[])
        except Exception as e:  # a corrupt or foreign directory: one line, no traceback
            msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
            raise ValueError(
                f"cannot load the I3D module {path!r}: {type(e).__name__}: {msg}"
            ) from None
        signatures = getattr(obj, "signatures", None)
        if signatures is not None and "default" in signatures:
            fn = signatures["default"]
            kwargs = fn.structured_input_signature[1]
            if len(kwargs) == 1:
                (name,) = kwargs
                return lambda x: fn(**{name: x})
            return fn
        if callable(obj):
            return obj
        raise ValueError(f"the I3D module {path!r} has no 'default' signature and is not callable")

    def __call__(self, clips):
        """Logits ``[B, 400]`` (float64) of preprocessed clips ``[B, 16, 224, 224, 3]``."""
        out = []
        for i in range(0, len(clips), self.batch_size):
            y = self._fn(tf.convert_to_tensor(clips[i : i + self.batch_size], tf.float32))
            if isinstance(y, dict):
                y = y["default"] if "default" in y else next(iter(y.values()))
            y = np.asarray(y, np.float64)
            if y.ndim != 2 or y.shape[1] != I3D_EMBEDDING_DIM:
                raise ValueError(
                    f"the I3D module {self.path!r} returned shape {y.shape}; "
                    f"expected logits [B, {I3D_EMBEDDING_DIM}]"
                )
            out.append(y)
        return np.concatenate(out)


def preprocess_for_i3d(videos, frames=FVD_FRAMES, size=FVD_SIZE):
    """Clips -> I3D input: float32 ``[B, 16, 224, 224, 3]`` in [-1, 1], as the reference.

    Args:
        videos: ``[B, T, H, W, C]``, float in [-1, 1] or uint8; ``T >= 16``
            (the first 16 frames), ``C`` 1 (repeated to RGB) or 3.

    Raises:
        ValueError: one line naming the shape or dtype and what is expected.
    """
    x = tf.convert_to_tensor(videos)
    if x.shape.rank != 5:
        raise ValueError(f"videos must be [B, T, H, W, C], got shape {tuple(x.shape)}")
    b, t, h, w, c = x.shape
    if t < frames:
        raise ValueError(f"videos have {t} frames; FVD takes clips of {frames} (T >= {frames})")
    if c not in (1, 3):
        raise ValueError(f"videos have {c} channels; FVD takes 1 (repeated to RGB) or 3")
    if x.dtype == tf.uint8:
        x = tf.cast(x, tf.float32) / 127.5 - 1.0  # the reference's 2 x / 255 - 1
    elif x.dtype.is_floating:
        x = tf.clip_by_value(tf.cast(x, tf.float32), -1.0, 1.0)
    else:
        raise ValueError(f"videos must be float in [-1, 1] or uint8, got dtype {x.dtype.name}")
    x = tf.reshape(x[:, :frames], [-1, h, w, c])
    if (h, w) != (size, size):
        # The reference's tf.image.resize_bilinear: no half-pixel centres.
        x = tf.raw_ops.ResizeBilinear(
            images=x, size=[size, size], align_corners=False, half_pixel_centers=False
        )
    if c == 1:
        x = tf.tile(x, [1, 1, 1, 3])
    return tf.reshape(x, [-1, frames, size, size, 3])


def i3d_embeddings(videos, embedder, chunk=64):
    """I3D logits ``[N, 400]`` of clips (an array or an iterable of batches)."""
    if hasattr(videos, "shape"):
        videos = [videos[i : i + chunk] for i in range(0, len(videos), chunk)]
    out = [embedder(preprocess_for_i3d(batch)) for batch in videos]
    if not out:
        raise ValueError("no clips to embed")
    return np.concatenate(out)


def fvd_protocol(num_real, num_fake, real_source, i3d_path):
    """The protocol line written next to an FVD value."""
    return (
        f"FVD_{FVD_FRAMES}: I3D Kinetics-400 logits ({I3D_MODULE} at {i3d_path}); "
        f"{num_fake} generated vs {num_real} real clips ({real_source}); first {FVD_FRAMES} "
        f"frames, stride 1; bilinear {FVD_SIZE}x{FVD_SIZE}, [-1, 1], grey repeated to RGB"
    )


def frechet_video_distance(real, fake, i3d):
    """FVD of ``fake`` clips against ``real`` clips.

    Args:
        real, fake: clips ``[N, T, H, W, C]`` (see ``preprocess_for_i3d``), or
            iterables of batches, or precomputed logits ``[N, 400]``.
        i3d: an ``I3DEmbedder`` or the path of the local module.

    Returns:
        The FVD (a float). Use ``FVD_NUM_CLIPS`` (2,048) clips per side for
        numbers comparable with the literature.
    """
    embedder = i3d if isinstance(i3d, I3DEmbedder) else I3DEmbedder(i3d)

    def logits(v):
        if hasattr(v, "shape") and len(v.shape) == 2:
            return np.asarray(v, np.float64)
        return i3d_embeddings(v, embedder)

    return frechet_distance(logits(real), logits(fake))
