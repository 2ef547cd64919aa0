"""Kernel video distance (KVD): unbiased MMD^2 with a cubic polynomial kernel.

The kernel distance of KID (Bińkowski et al., 2018, "Demystifying MMD GANs"),
applied to video embeddings as KVD (Unterthiner et al., 2018, "Towards Accurate
Generative Models of Video"). With ``k(x, y) = (x . y / d + 1)^3`` on
``d``-dimensional embeddings, ``X`` of ``m`` and ``Y`` of ``n`` samples::

    MMD^2_u = 1/(m(m-1)) sum_{i != j} k(x_i, x_j)
            + 1/(n(n-1)) sum_{i != j} k(y_i, y_j)
            - 2/(mn) sum_{i, j} k(x_i, y_j)

The estimate is unbiased, so it may be slightly negative when the two
distributions are the same; unlike the Fréchet distance it assumes no
Gaussian shape and its expectation does not depend on the sample size.
"""

import numpy as np


def polynomial_kernel(x, y, degree=3, gamma=None, coef0=1.0):
    """``k(x, y) = (gamma x . y + coef0)^degree`` for all pairs; ``gamma`` defaults to ``1/d``."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if gamma is None:
        gamma = 1.0 / x.shape[1]
    return (gamma * (x @ y.T) + coef0) ** degree


def _check(x, name):
    x = np.asarray(x, np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"{name} must be embeddings [N >= 2, D], got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} holds NaN or Inf values")
    return x


def mmd2_unbiased(x, y, degree=3, gamma=None, coef0=1.0):
    """Unbiased MMD^2 of sets ``x`` ``[m, d]`` and ``y`` ``[n, d]`` (formula in the module doc)."""
    x, y = _check(x, "x"), _check(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"x and y must have the same embedding size, got {x.shape[1]} and {y.shape[1]}"
        )
    m, n = x.shape[0], y.shape[0]
    kxx = polynomial_kernel(x, x, degree, gamma, coef0)
    kyy = polynomial_kernel(y, y, degree, gamma, coef0)
    kxy = polynomial_kernel(x, y, degree, gamma, coef0)
    sxx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    syy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(sxx + syy - 2.0 * kxy.mean())


def kernel_distance(x, y, num_subsets=None, subset_size=None, seed=0):
    """KVD / KID: unbiased MMD^2 with the kernel ``(x . y / d + 1)^3``.

    Args:
        x, y: embeddings ``[m, d]`` and ``[n, d]``.
        num_subsets: if given, the mean over this many random subsets of
            ``subset_size`` samples drawn without replacement from each set
            (KID's protocol: 100 subsets of 1,000); otherwise one estimate on
            all samples.
        subset_size: samples per subset (at most ``min(m, n)``).
        seed: seed of the subset draws.

    Returns:
        The estimate as a Python float (may be slightly negative).
    """
    x, y = _check(x, "x"), _check(y, "y")
    if num_subsets is None:
        return mmd2_unbiased(x, y)
    size = min(len(x), len(y)) if subset_size is None else int(subset_size)
    if not 2 <= size <= min(len(x), len(y)):
        raise ValueError(f"subset_size={subset_size!r} must be in [2, {min(len(x), len(y))}]")
    rng = np.random.default_rng(seed)
    values = [
        mmd2_unbiased(
            x[rng.choice(len(x), size, replace=False)], y[rng.choice(len(y), size, replace=False)]
        )
        for _ in range(int(num_subsets))
    ]
    return float(np.mean(values))
