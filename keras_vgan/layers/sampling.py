"""Categorical sampling from logits, with top-k and temperature, driven by given uniforms.

Every sampler of the token and pixel models draws its categorical values here. A draw
is an inverse-CDF look-up of one uniform per sample (``sample_categorical``): the
randomness is an input, so a sample is a pure function of its noise. That makes the
samplers deterministic given ``z`` (a resumed or exported model draws what the Keras
model draws), and keeps every op a LiteRT builtin and an ONNX op (cumulative sum,
comparison, top-k, gather): no random op inside a graph.

* ``temperature``: the logits are divided by it (``< 1`` sharpens, ``> 1`` flattens);
  ``0`` is the greedy limit, the argmax.
* ``top_k``: only the ``k`` largest logits keep their mass (Fan et al. 2018,
  "Hierarchical Neural Story Generation"), renormalised; ``0`` keeps all, ``1`` is the
  argmax.

``uniforms_from_normal`` maps standard normals to uniforms (the normal CDF), so the
token models serve like a GAN: their noise ``z`` ``[B, latent_dim]`` is standard normal.
"""

import math

from keras import ops

# The smallest uniform used: u == 0 would pick a class of probability 0 first in line.
_TINY = 1e-30


def check_sampling(top_k=0, temperature=1.0):
    """One-line ValueError unless ``top_k`` is an integer >= 0 and ``temperature >= 0``."""
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0:
        raise ValueError(f"top_k={top_k!r} must be an integer >= 0 (0: all classes)")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise ValueError(f"temperature={temperature!r} must be a number >= 0")
    if not (math.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"temperature={temperature!r} must be a finite number >= 0 (0: argmax)")


# Abramowitz & Stegun 7.1.26: erfc(x) ~ t (a1 + t (a2 + ...)) exp(-x^2), t = 1 / (1 + p x)
# for x >= 0, |error| <= 1.5e-7 (float32's resolution near 1).
_AS_P = 0.3275911
_AS_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def uniforms_from_normal(z):
    """Standard normal ``z`` -> uniforms in [0, 1] of the same shape: the normal CDF.

    Written with Abramowitz & Stegun's 7.1.26 (error <= 1.5e-7 ~ float32's resolution)
    rather than ``erf``, which LiteRT has no builtin for: abs, exp, a division and a
    select, so an exported sampler computes what the Keras one does. The tails use
    ``erfc`` directly, so small probabilities keep their relative precision.
    """
    z = ops.cast(z, "float32")
    x = ops.abs(z) / math.sqrt(2.0)
    t = 1.0 / (1.0 + _AS_P * x)
    poly = 0.0
    for a in reversed(_AS_A):
        poly = (poly + a) * t
    tail = 0.5 * poly * ops.exp(-x * x)  # Phi(-|z|)
    return ops.where(z >= 0, 1.0 - tail, tail)


def gumbel_from_uniform(u):
    """Standard Gumbel noise ``-log(-log u)`` of uniforms ``u`` (clipped away from 0 and 1)."""
    u = ops.clip(ops.cast(u, "float32"), 1e-20, 1.0 - 1e-7)
    return -ops.log(-ops.log(u))


def sample_categorical(logits, u, top_k=0, temperature=1.0):
    """Class indices drawn from ``softmax(logits / temperature)`` by inverse CDF.

    Args:
        logits: ``[..., V]`` float.
        u: uniforms in [0, 1], shaped ``logits.shape[:-1]``; the draw is the first class
            whose cumulative probability exceeds ``u`` (in order of decreasing logit when
            ``top_k > 0``, else in class order).
        top_k: keep the ``top_k`` largest logits only (0: all).
        temperature: divides the logits; 0 gives the argmax.

    Returns:
        int32 indices ``[...]``.
    """
    check_sampling(top_k, temperature)
    logits = ops.cast(logits, "float32")
    vocab = logits.shape[-1]
    if temperature == 0 or top_k == 1:
        return ops.cast(ops.argmax(logits, axis=-1), "int32")
    scaled = logits / float(temperature)
    index = None
    if top_k and top_k < vocab:
        scaled, index = ops.top_k(scaled, top_k, sorted=True)  # decreasing: the mode first
    probs = ops.softmax(scaled, axis=-1)
    cdf = ops.cumsum(probs, axis=-1)
    # Scaled by the total, which rounding leaves a little under 1: u near 1 stays in range.
    threshold = ops.maximum(ops.cast(u, "float32"), _TINY) * cdf[..., -1]
    pick = ops.sum(ops.cast(cdf < threshold[..., None], "int32"), axis=-1)
    pick = ops.minimum(pick, probs.shape[-1] - 1)
    if index is None:
        return ops.cast(pick, "int32")
    return ops.cast(ops.take_along_axis(index, pick[..., None], axis=-1)[..., 0], "int32")


def log_prob_of(logits, indices, temperature=1.0):
    """``log softmax(logits / temperature)`` at ``indices`` (int ``logits.shape[:-1]``)."""
    logits = ops.cast(logits, "float32")
    if temperature not in (0, 1, 1.0):
        logits = logits / float(temperature)
    logp = ops.log_softmax(logits, axis=-1)
    return ops.take_along_axis(logp, ops.cast(indices, "int32")[..., None], axis=-1)[..., 0]
