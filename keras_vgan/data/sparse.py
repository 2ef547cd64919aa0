"""Sparse-frame clips: K frames of each clip and their times, for continuous-time models.

StyleGAN-V (Skorokhodov et al., CVPR 2022) trains on ``K = 3`` frames per clip, drawn
at random from a window of at most ``max_dist + 1`` consecutive frames (the paper's
``max_dist = 32``), and tells both networks when they were taken. ``sparse_frames``
is that draw as one transform of a clip stream, so every source shares it: the
built-in sets, video folders, frame folders, the Moving MNIST ``.npy`` file and TFDS
all give clips of ``max_dist + 1`` frames (the config's ``data_frames()``) and this
picks the frames.

Per clip: ``K`` distinct frame indices, uniformly among the window's subsets of
``K`` frames, sorted; the timestamps are the indices minus the first one (the first
frame is at time 0), so the largest time is at most the window length - 1. The draw
of batch ``n`` is a pure function of ``(seed, n)``: a stream resumed at batch ``n``
(``start_batch=n``) continues the same draws.
"""

import tensorflow as tf

SEED_SALT = 0x5350  # keeps these draws apart from the clip sources' own (seed, epoch) ones


def check_sparse(frames, window):
    """One-line ValueError unless ``1 <= frames <= window``."""
    for name, value in (("frames", frames), ("window", window)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name}={value!r} must be a positive integer")
    if frames > window:
        raise ValueError(f"frames={frames} must be <= the clips' {window} frames")


def sparse_indices(batch, window, frames, seed):
    """``[batch, frames]`` sorted distinct int32 indices into a ``window``-frame clip.

    The top ``frames`` of ``window`` i.i.d. uniform keys are a uniformly random
    subset (every subset equally likely); sorting gives the frames in time order.
    """
    keys = tf.random.stateless_uniform(tf.stack([batch, window]), seed=seed)
    _, index = tf.math.top_k(keys, k=frames)
    return tf.sort(index, axis=-1)


def sparse_frames(dataset, frames, seed=0, start_batch=0):
    """Maps a batched clip stream to sparse-frame batches with their timestamps.

    Args:
        dataset: batches of clips ``[B, W, H, W', C]`` (W frames each), or
            ``(clips, labels)`` batches (any source's ``dataset(batch_size=...)``, or a
            built-in set's).
        frames: ``K``, the frames kept per clip (``K <= W``).
        seed: seeds the draws (with the batch number).
        start_batch: the number of the first batch (a resumed stream's step).

    Returns:
        ``(frames [B, K, H, W', C], timestamps [B, K] float32)`` batches, or
        ``(frames, timestamps, labels)``; timestamps start at 0 and are at most W - 1.
    """
    spec = dataset.element_spec
    labelled = isinstance(spec, tuple)
    clip_spec = spec[0] if labelled else spec
    if clip_spec.shape.rank != 5:
        raise ValueError(
            f"sparse_frames takes batches of clips [B, T, H, W, C], got {clip_spec.shape}"
        )
    window = clip_spec.shape[1]
    check_sparse(frames, window)
    seed = tf.constant(int(seed), tf.int64)

    def pick(n, element):
        clips, labels = element if labelled else (element, None)
        key = tf.stack([seed, n * 65536 + SEED_SALT])
        index = sparse_indices(tf.shape(clips)[0], window, frames, key)
        picked = tf.gather(clips, index, axis=1, batch_dims=1)
        times = tf.cast(index - index[:, :1], tf.float32)
        return (picked, times, labels) if labelled else (picked, times)

    start = tf.constant(int(start_batch), tf.int64)
    return dataset.enumerate(start).map(pick, num_parallel_calls=tf.data.AUTOTUNE)
