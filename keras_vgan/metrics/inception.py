"""Inception Score from any classifier's class probabilities (Salimans et al., 2016).

``IS = exp(E_x KL(p(y|x) || p(y)))`` with ``p(y)`` the mean of ``p(y|x)`` over
the samples: high when each sample is confidently one class and the classes
are diverse. ``keras_vgan.metrics.offline`` uses it with its Moving MNIST
classifier (an analogue of the Inception network's IS for video, as in TGAN
and MoCoGAN which used a C3D classifier on UCF-101).
"""

import numpy as np


def inception_score(probs, splits=1, eps=1e-12):
    """Inception Score of class probabilities ``probs`` ``[N, K]``.

    Args:
        probs: ``p(y|x)`` per sample, rows summing to 1.
        splits: the samples are cut into this many equal parts and the score
            is computed on each (Salimans et al. used 10).
        eps: floor inside the logarithms (``0 log 0 = 0``).

    Returns:
        ``(mean, std)`` of the per-split scores. ``K`` one-hot samples spread
        evenly over ``K`` classes give ``K``; identical rows give 1.
    """
    p = np.asarray(probs, np.float64)
    if p.ndim != 2 or p.shape[0] < 1:
        raise ValueError(f"probs must be class probabilities [N, K], got shape {p.shape}")
    if np.any(p < -1e-6) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("probs must be non-negative rows summing to 1 (softmax outputs)")
    splits = int(splits)
    if not 1 <= splits <= p.shape[0]:
        raise ValueError(f"splits={splits} must be in [1, {p.shape[0]}]")
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(axis=0, keepdims=True)
        kl = np.sum(part * (np.log(part + eps) - np.log(marginal + eps)), axis=1)
        scores.append(float(np.exp(kl.mean())))
    return float(np.mean(scores)), float(np.std(scores))
