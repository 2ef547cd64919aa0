"""Fréchet distance between two sets of embeddings (FID / FVD / the offline metric).

Each set is summarised by the mean and covariance of its embeddings, and the
distance is that of two Gaussians with those moments (Dowson & Landau, 1982;
used as FID by Heusel et al., 2017, and as FVD by Unterthiner et al., 2018)::

    d^2 = ||mu_1 - mu_2||^2 + tr(S_1 + S_2 - 2 (S_1 S_2)^{1/2})

The trace of the matrix square root is computed in float64 from symmetric
eigendecompositions: ``tr (S_1 S_2)^{1/2} = tr (A S_2 A)^{1/2}`` with
``A = S_1^{1/2}`` (``S_1 S_2`` and ``A S_2 A`` are similar), and ``A S_2 A`` is
symmetric positive semi-definite, so its square root is that of its
eigenvalues. Eigenvalues that round-off makes slightly negative are clipped to
0. This needs no regularising ``eps`` and stays exact for singular covariances
(fewer samples than dimensions, dead features), where the usual
``scipy.linalg.sqrtm(S_1 @ S_2)`` returns complex values or NaN.
"""

import numpy as np


def _as_embeddings(x, name):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must be embeddings [N, D], got shape {x.shape}")
    if x.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 embeddings for a covariance, got {x.shape[0]}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} holds NaN or Inf values")
    return x


def embedding_statistics(embeddings):
    """Mean ``[D]`` and unbiased covariance ``[D, D]`` (float64) of embeddings ``[N, D]``."""
    x = _as_embeddings(embeddings, "embeddings")
    return x.mean(axis=0), np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])


def _sqrt_psd(matrix):
    """Symmetric square root of a symmetric positive semi-definite matrix (float64)."""
    w, v = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def trace_sqrt_product(sigma1, sigma2):
    """``tr (S_1 S_2)^{1/2}`` for symmetric PSD ``S_1``, ``S_2``, in float64."""
    a = _sqrt_psd(np.asarray(sigma1, np.float64))
    m = a @ np.asarray(sigma2, np.float64) @ a
    w = np.linalg.eigvalsh((m + m.T) / 2.0)
    return float(np.sqrt(np.clip(w, 0.0, None)).sum())


def frechet_distance_from_statistics(mu1, sigma1, mu2, sigma2):
    """Squared Fréchet distance of ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``.

    Args:
        mu1, mu2: means ``[D]``.
        sigma1, sigma2: covariances ``[D, D]`` (symmetric PSD).

    Returns:
        ``||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^{1/2})`` as a Python float
        (>= 0 up to round-off; clipped at 0).
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    d = mu1.shape[0]
    for name, m in (("mu1", mu1), ("mu2", mu2)):
        if m.shape != (d,):
            raise ValueError(f"{name} must have shape ({d},), got {m.shape}")
    for name, s in (("sigma1", sigma1), ("sigma2", sigma2)):
        if s.shape != (d, d):
            raise ValueError(f"{name} must have shape ({d}, {d}), got {s.shape}")
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2)
    value -= 2.0 * trace_sqrt_product(sigma1, sigma2)
    return max(float(value), 0.0)


def frechet_distance(x, y):
    """Squared Fréchet distance between embedding sets ``x`` ``[N, D]`` and ``y`` ``[M, D]``.

    Fits a Gaussian (mean, unbiased covariance) to each set and returns
    ``frechet_distance_from_statistics`` of the two (Heusel et al., 2017,
    "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
    Equilibrium"). Identical sets give 0 up to round-off.
    """
    x = _as_embeddings(x, "x")
    y = _as_embeddings(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"x and y must have the same embedding size, got {x.shape[1]} and {y.shape[1]}"
        )
    return frechet_distance_from_statistics(*embedding_statistics(x), *embedding_statistics(y))
