"""Differentiable augmentation of video clips, the same for every frame of a clip.

DiffAugment (Zhao, Liu, Lin, Zhu & Han 2020, "Differentiable Augmentation for
Data-Efficient GAN Training") shows the discriminator only augmented clips,
real and generated alike, with transformations that gradients flow through,
so the generator is trained through them too; the discriminator then
over-fits a small data set much later. For video every transformation draws
its parameters once per clip and applies them to all of its frames (as
StyleGAN-V does): a per-frame draw would make real clips flicker, which the
discriminator could learn to tell from generated ones.

Transformations (DiffAugment's, videos in [-1, 1]), in the order applied:

* ``brightness``: ``x + (u - 0.5)``;
* ``saturation``: ``(x - mean_c) * 2u + mean_c`` (mean over channels);
* ``contrast``: ``(x - mean) * (u + 0.5) + mean`` (mean of each frame);
* ``color``: the three above;
* ``translation``: shift by up to 1/8 of the size in each direction (whole
  pixels), zero-filled;
* ``cutout``: zero a square of half the size at a random position.

``augment_videos`` is a pure function of the clips and uniform numbers ``u``
(one row per clip): the engine draws ``u`` from its counter-based noise
stream, so augmented runs stay reproducible, resumable and equal under
distribution. ``diff_augment`` draws ``u`` itself from a seed.
"""

import tensorflow as tf

AUGMENTATIONS = ("brightness", "saturation", "contrast", "color", "translation", "cutout")
_ORDER = ("brightness", "saturation", "contrast", "translation", "cutout")
_PARAMS = {"brightness": 1, "saturation": 1, "contrast": 1, "translation": 2, "cutout": 2}
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def parse_policy(policy):
    """A policy (``"translation,cutout,brightness"``, a sequence, or ""/None) -> ops in order.

    Raises:
        ValueError: one line naming an unknown transformation.
    """
    if not policy:
        return ()
    names = policy.split(",") if isinstance(policy, str) else list(policy)
    ops = set()
    for name in (n.strip() for n in names):
        if not name:
            continue
        if name not in AUGMENTATIONS:
            raise ValueError(
                f"augmentation {name!r} is not one of {', '.join(AUGMENTATIONS)} "
                "(comma-separated, e.g. 'translation,cutout,brightness')"
            )
        ops.update(("brightness", "saturation", "contrast") if name == "color" else (name,))
    return tuple(op for op in _ORDER if op in ops)


def policy_string(policy):
    """The canonical comma-separated form of a policy ("" for none)."""
    return ",".join(parse_policy(policy))


def num_params(policy):
    """Uniform numbers per clip that ``augment_videos`` reads for ``policy``."""
    return sum(_PARAMS[op] for op in parse_policy(policy))


def _shift_index(n, shift):
    """Rows of a zero-padded (by ``n``) axis that a per-clip shift reads: ``[B, n]``."""
    return tf.range(n)[None, :] - shift[:, None] + n


def _translate(x, uy, ux):
    # x: [B, T, H, W, C]; shifts are whole pixels in [-s, s], s = round(ratio * size).
    h, w = x.shape[2], x.shape[3]
    sy, sx = int(h * TRANSLATION_RATIO + 0.5), int(w * TRANSLATION_RATIO + 0.5)
    dy = tf.cast(tf.floor(uy * (2 * sy + 1)), tf.int32) - sy  # [B]
    dx = tf.cast(tf.floor(ux * (2 * sx + 1)), tf.int32) - sx
    x = tf.pad(x, [[0, 0], [0, 0], [h, h], [w, w], [0, 0]])  # zero fill
    x = tf.gather(x, _shift_index(h, dy), axis=2, batch_dims=1)  # [B, T, H, 3W, C]
    return tf.gather(x, _shift_index(w, dx), axis=3, batch_dims=1)  # [B, T, H, W, C]


def _cutout(x, uy, ux):
    h, w = x.shape[2], x.shape[3]
    ch, cw = int(h * CUTOUT_RATIO + 0.5), int(w * CUTOUT_RATIO + 0.5)
    # DiffAugment: centre offset in [0, size + (1 - cut % 2)), square [offset - cut // 2, + cut).
    oy = tf.cast(tf.floor(uy * (h + 1 - ch % 2)), tf.int32) - ch // 2  # [B]
    ox = tf.cast(tf.floor(ux * (w + 1 - cw % 2)), tf.int32) - cw // 2
    rows = tf.range(h)[None, :] - oy[:, None]  # [B, H]
    cols = tf.range(w)[None, :] - ox[:, None]
    inside_y = tf.cast((rows >= 0) & (rows < ch), x.dtype)
    inside_x = tf.cast((cols >= 0) & (cols < cw), x.dtype)
    mask = 1.0 - inside_y[:, :, None] * inside_x[:, None, :]  # [B, H, W]
    return x * mask[:, None, :, :, None]


def augment_videos(videos, u, policy):
    """Applies ``policy`` to clips with per-clip parameters ``u``; differentiable in ``videos``.

    Args:
        videos: ``[B, T, H, W, C]`` float clips in [-1, 1] (static ``H, W``).
        u: ``[B, num_params(policy)]`` uniform numbers in [0, 1), one row per
            clip; every frame of clip ``b`` is transformed with row ``b``.
        policy: see ``parse_policy``.

    Returns:
        The augmented clips, same shape and dtype.
    """
    ops = parse_policy(policy)
    if not ops:
        return videos
    x = tf.convert_to_tensor(videos)
    if x.shape.rank != 5:
        raise ValueError(f"videos must be [B, T, H, W, C], got shape {x.shape}")
    u = tf.cast(u, x.dtype)
    i = 0

    def take(n):
        nonlocal i
        cols = [u[:, i + k] for k in range(n)]
        i += n
        return cols

    for op in ops:
        if op == "brightness":
            (a,) = take(1)
            x = x + (a - 0.5)[:, None, None, None, None]
        elif op == "saturation":
            (a,) = take(1)
            mean = tf.reduce_mean(x, axis=-1, keepdims=True)
            x = (x - mean) * (2.0 * a)[:, None, None, None, None] + mean
        elif op == "contrast":
            (a,) = take(1)
            mean = tf.reduce_mean(x, axis=[2, 3, 4], keepdims=True)  # per frame
            x = (x - mean) * (a + 0.5)[:, None, None, None, None] + mean
        elif op == "translation":
            x = _translate(x, *take(2))
        elif op == "cutout":
            x = _cutout(x, *take(2))
    return x


def diff_augment(videos, policy="translation,cutout,brightness", seed=(0, 0)):
    """``augment_videos`` with ``u`` drawn by ``tf.random.stateless_uniform`` from ``seed``."""
    n = num_params(policy)
    if not n:
        return videos
    u = tf.random.stateless_uniform([tf.shape(videos)[0], n], seed=seed)
    return augment_videos(videos, u, policy)
