"""Known-answer tests of the Fréchet distance, KVD and the Inception Score."""

import numpy as np
import pytest

from keras_vgan.metrics.frechet import (
    embedding_statistics,
    frechet_distance,
    frechet_distance_from_statistics,
    trace_sqrt_product,
)
from keras_vgan.metrics.inception import inception_score
from keras_vgan.metrics.kernel import kernel_distance, mmd2_unbiased, polynomial_kernel


def _spd(rng, d):
    a = rng.standard_normal((d, d))
    return a @ a.T + 0.1 * np.eye(d)


# ---------------------------------------------------------------- Fréchet distance
def test_identical_sets_give_zero():
    x = np.random.default_rng(0).standard_normal((400, 16)) * 3.0 + 1.0
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)


def test_diagonal_gaussians_closed_form():
    # Commuting covariances: d^2 = |mu1 - mu2|^2 + sum (sqrt a - sqrt b)^2.
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.0])
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.25])
    want = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    got = frechet_distance_from_statistics(mu1, np.diag(a), mu2, np.diag(b))
    assert got == pytest.approx(want, rel=1e-12)
    assert want == pytest.approx(5.0 + 1.0 + 1.0 + 6.25)


def test_non_commuting_2x2_closed_form():
    # For 2x2 PSD matrices: tr (S1 S2)^{1/2} = sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2)).
    s1 = np.array([[2.0, 0.7], [0.7, 1.0]])
    s2 = np.array([[1.0, -0.4], [-0.4, 3.0]])
    tr_sqrt = np.sqrt(np.trace(s1 @ s2) + 2.0 * np.sqrt(np.linalg.det(s1) * np.linalg.det(s2)))
    assert trace_sqrt_product(s1, s2) == pytest.approx(tr_sqrt, rel=1e-12)
    mu1, mu2 = np.array([0.5, -1.0]), np.array([0.0, 0.0])
    want = 1.25 + np.trace(s1) + np.trace(s2) - 2.0 * tr_sqrt
    assert frechet_distance_from_statistics(mu1, s1, mu2, s2) == pytest.approx(want, rel=1e-12)


def test_samples_of_known_gaussians_approach_the_closed_form():
    rng = np.random.default_rng(1)
    d = 4
    s1, s2 = _spd(rng, d), _spd(rng, d)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    want = frechet_distance_from_statistics(mu1, s1, mu2, s2)
    x = rng.multivariate_normal(mu1, s1, size=200_000)
    y = rng.multivariate_normal(mu2, s2, size=200_000)
    assert frechet_distance(x, y) == pytest.approx(want, rel=0.02)
    mu, sigma = embedding_statistics(x)
    np.testing.assert_allclose(sigma, s1, atol=0.1 * np.abs(s1).max())


def test_shift_adds_squared_distance_of_means():
    x = np.random.default_rng(2).standard_normal((300, 8))
    assert frechet_distance(x, x + 0.5) == pytest.approx(8 * 0.25, rel=1e-9)


def test_singular_covariances_stay_finite():
    # Fewer samples than dimensions and dead features: rank-deficient covariances.
    rng = np.random.default_rng(3)
    x = np.zeros((10, 64))
    x[:, :5] = rng.standard_normal((10, 5))
    y = np.zeros((10, 64))
    y[:, 3:9] = rng.standard_normal((10, 6))
    value = frechet_distance(x, y)
    assert np.isfinite(value) and value > 0
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)
    # The same value from the closed form on the singular statistics.
    s1 = np.diag([1.0, 0.0, 0.0])
    s2 = np.diag([0.0, 4.0, 0.0])
    assert frechet_distance_from_statistics(np.zeros(3), s1, np.zeros(3), s2) == pytest.approx(5.0)


def test_frechet_validates_inputs():
    with pytest.raises(ValueError, match="embeddings"):
        frechet_distance(np.zeros((4,)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="same embedding size"):
        frechet_distance(np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="at least 2"):
        frechet_distance(np.zeros((1, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.full((4, 3), np.nan), np.zeros((4, 3)))


# ---------------------------------------------------------------- KVD
def test_kernel_distance_known_answer():
    # d = 2: k = (x.y / 2 + 1)^3. Off-diagonal k(x1, x2) = k(y1, y2) = 1;
    # k(x, y) in {1, 1, 3.375, 3.375}, mean 2.1875: 1 + 1 - 2 * 2.1875.
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([[0.0, 0.0], [1.0, 1.0]])
    assert kernel_distance(x, y) == pytest.approx(-2.375, rel=1e-12)
    np.testing.assert_allclose(polynomial_kernel(x, y), [[1.0, 3.375], [1.0, 3.375]])


def test_kernel_distance_matches_the_double_sum():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((7, 3)), rng.standard_normal((5, 3)) + 0.3

    def k(a, b):
        return (a @ b / 3 + 1) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    assert mmd2_unbiased(x, y) == pytest.approx(xx + yy - 2 * xy, rel=1e-12)


def test_kernel_distance_is_unbiased():
    # Same distribution, tiny sets: the unbiased estimate averages to 0 (a biased
    # V-statistic would average to a clearly positive value); a shift is positive.
    rng = np.random.default_rng(5)
    same = [
        kernel_distance(rng.standard_normal((8, 3)), rng.standard_normal((8, 3)))
        for _ in range(400)
    ]
    assert abs(np.mean(same)) < 3 * np.std(same) / np.sqrt(len(same))
    shifted = kernel_distance(rng.standard_normal((500, 3)), rng.standard_normal((500, 3)) + 1.0)
    assert shifted > 0.1


def test_kernel_distance_subsets():
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((200, 4)), rng.standard_normal((200, 4)) + 0.5
    full = kernel_distance(x, y)
    sub = kernel_distance(x, y, num_subsets=50, subset_size=100, seed=0)
    assert sub == pytest.approx(full, rel=0.15)
    with pytest.raises(ValueError, match="subset_size"):
        kernel_distance(x, y, num_subsets=2, subset_size=500)


# ---------------------------------------------------------------- Inception Score
def test_inception_score_known_answers():
    k = 10
    assert inception_score(np.eye(k)[np.arange(100) % k])[0] == pytest.approx(k)
    assert inception_score(np.tile([0.2, 0.3, 0.5], (50, 1)))[0] == pytest.approx(1.0)
    # Half on two classes, two groups: p(y) uniform over 4, KL = log 2 -> IS 2.
    p = np.array([[0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5]] * 20)
    assert inception_score(p)[0] == pytest.approx(2.0)
    mean, std = inception_score(np.eye(k)[np.arange(100) % k], splits=10)
    assert mean == pytest.approx(k) and std == pytest.approx(0.0)


def test_inception_score_validates():
    with pytest.raises(ValueError, match="summing to 1"):
        inception_score(np.ones((4, 3)))
    with pytest.raises(ValueError, match="splits"):
        inception_score(np.eye(3), splits=5)
