"""Reconstruction metrics for conditional video tasks: MSE, MAE, PSNR, SSIM, temporal error.

All functions take clips ``[B, T, H, W, C]`` in [-1, 1] (the library's range) and
score them on the [0, 1] pixel scale of the literature (``x01 = (x + 1) / 2``).
Per-frame values are ``[B, T]``; ``ReconstructionMetrics`` accumulates them over
batches and reports each per time step (averaged over clips) and averaged over
steps.

* MSE and MAE follow the Moving MNIST convention (Srivastava et al. 2015; Shi et
  al. 2015; Wang et al., PredRNN, 2017; Gao et al., SimVP, 2022): the error is
  **summed over the pixels of a frame** and averaged over frames and clips, e.g.
  ``MSE = mean_{b,t} sum_{h,w,c} (p01 - y01)^2``. A 64x64 frame that misses one
  full-intensity pixel has MSE 1.
* PSNR = ``10 log10(1 / mean_{h,w,c} (p01 - y01)^2)`` per frame, in dB (a frame
  that matches exactly is reported as ``PSNR_CAP`` dB rather than infinity).
* SSIM is TensorFlow's own ``tf.image.ssim`` (Wang et al. 2004; 11x11 Gaussian
  window, sigma 1.5, k1 0.01, k2 0.03, ``max_val=1``) per frame; frames must be at
  least 11 pixels high and wide.
* The temporal-consistency error compares motion rather than frames:
  ``mean_{h,w,c} |(p_t - p_{t-1}) - (y_t - y_{t-1})|`` on [0, 1] per pair of
  consecutive frames, ``[B, T-1]``. It is 0 when the prediction changes exactly
  as the truth does, even if both are offset; flicker that the truth does not
  have raises it.
"""

import numpy as np
import tensorflow as tf

PSNR_CAP = 100.0  # dB reported for a frame reproduced exactly
SSIM_WINDOW = 11  # tf.image.ssim's default filter size
METRICS = ("mse", "mae", "psnr", "ssim")


def _pair(prediction, target):
    p = tf.convert_to_tensor(prediction, tf.float32)
    y = tf.convert_to_tensor(target, tf.float32)
    if p.shape.rank != 5 or p.shape != y.shape:
        raise ValueError(
            f"prediction {tuple(p.shape)} and target {tuple(y.shape)} must be clips of the "
            "same shape [B, T, H, W, C]"
        )
    return (p + 1.0) / 2.0, (y + 1.0) / 2.0


def per_frame_mse(prediction, target):
    """Squared error summed over each frame's pixels on [0, 1]: ``[B, T]``."""
    p, y = _pair(prediction, target)
    return tf.reduce_sum(tf.square(p - y), axis=[2, 3, 4])


def per_frame_mae(prediction, target):
    """Absolute error summed over each frame's pixels on [0, 1]: ``[B, T]``."""
    p, y = _pair(prediction, target)
    return tf.reduce_sum(tf.abs(p - y), axis=[2, 3, 4])


def per_frame_psnr(prediction, target):
    """PSNR of each frame in dB on [0, 1] (``PSNR_CAP`` for an exact frame): ``[B, T]``."""
    p, y = _pair(prediction, target)
    mse = tf.reduce_mean(tf.square(p - y), axis=[2, 3, 4])
    psnr = 10.0 * tf.math.log(1.0 / tf.maximum(mse, 1e-30)) / tf.math.log(10.0)
    return tf.where(mse > 0, tf.minimum(psnr, PSNR_CAP), PSNR_CAP)


def per_frame_ssim(prediction, target):
    """``tf.image.ssim`` of each frame on [0, 1]: ``[B, T]``."""
    p, y = _pair(prediction, target)
    h, w = p.shape[2], p.shape[3]
    if min(h, w) < SSIM_WINDOW:
        raise ValueError(
            f"SSIM needs frames of at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels "
            f"(tf.image.ssim's window), got {h}x{w}"
        )
    b, t = tf.shape(p)[0], tf.shape(p)[1]
    frames_p = tf.reshape(p, tf.concat([[b * t], tf.shape(p)[2:]], 0))
    frames_y = tf.reshape(y, tf.concat([[b * t], tf.shape(y)[2:]], 0))
    return tf.reshape(tf.image.ssim(frames_p, frames_y, max_val=1.0), [b, t])


def temporal_consistency_error(prediction, target):
    """``mean |(p_t - p_{t-1}) - (y_t - y_{t-1})|`` over pixels on [0, 1]: ``[B, T-1]``."""
    p, y = _pair(prediction, target)
    dp = p[:, 1:] - p[:, :-1]
    dy = y[:, 1:] - y[:, :-1]
    return tf.reduce_mean(tf.abs(dp - dy), axis=[2, 3, 4])


def per_frame_metrics(prediction, target, ssim=True):
    """Every per-frame metric as numpy ``[B, T]`` arrays, plus ``temporal`` ``[B, T-1]``."""
    out = {
        "mse": per_frame_mse(prediction, target),
        "mae": per_frame_mae(prediction, target),
        "psnr": per_frame_psnr(prediction, target),
        "temporal": temporal_consistency_error(prediction, target),
    }
    if ssim:
        out["ssim"] = per_frame_ssim(prediction, target)
    return {k: np.asarray(v, np.float64) for k, v in out.items()}


class ReconstructionMetrics:
    """Accumulates per-frame metrics over batches of (prediction, target) clips.

    Args:
        ssim: compute SSIM (frames must be at least 11x11).

    ``update(prediction, target)`` adds a batch; ``per_step()`` returns each
    metric's mean over clips for every time step (``{name: [T]}``, ``temporal``
    ``[T-1]``); ``result()`` their means over clips and steps (``{name: float}``)
    plus ``clips``.
    """

    def __init__(self, ssim=True):
        self.ssim = bool(ssim)
        self._sums = {}
        self._clips = 0

    def update(self, prediction, target):
        return self.add(per_frame_metrics(prediction, target, ssim=self.ssim))

    def add(self, values):
        """Adds per-frame values ``{metric: [B, T]}`` (``per_frame_metrics``'s, or a
        selection of them such as ``best_of_n``'s)."""
        for name, v in values.items():
            total = v.sum(axis=0)
            if name in self._sums and self._sums[name].shape != total.shape:
                raise ValueError(
                    f"clips of {total.shape[0]} steps cannot join earlier ones of "
                    f"{self._sums[name].shape[0]}"
                )
            self._sums[name] = self._sums.get(name, 0.0) + total
        self._clips += int(next(iter(values.values())).shape[0])
        return self

    def per_step(self):
        if not self._clips:
            raise ValueError("no clips were added (call update first)")
        return {k: v / self._clips for k, v in self._sums.items()}

    def result(self):
        out = {k: float(np.mean(v)) if v.size else 0.0 for k, v in self.per_step().items()}
        out["clips"] = self._clips
        return out


def format_table(rows, columns=("mse", "mae", "ssim", "psnr", "temporal"), title=None):
    """A plain-text table: ``rows`` maps a row name to a ``{metric: value}`` dict.

    Missing values print as ``-``. Returns the table as one string.
    """
    names = list(rows)
    width = max([len(n) for n in names] + [5])
    head = f"{'':<{width}}" + "".join(f"{c:>11}" for c in columns)
    lines = [title] if title else []
    lines += [head, "-" * len(head)]
    for name in names:
        cells = []
        for c in columns:
            v = rows[name].get(c)
            cells.append(f"{'-':>11}" if v is None else f"{v:>11.4g}")
        lines.append(f"{name:<{width}}" + "".join(cells))
    return "\n".join(lines)


def format_per_step(per_step, metrics=("mse", "ssim")):
    """A table with one row per time step (1-based) and one column per metric."""
    steps = len(per_step[metrics[0]])
    rows = {
        f"t+{t + 1}": {m: float(per_step[m][t]) for m in metrics if m in per_step}
        for t in range(steps)
    }
    return format_table(rows, columns=metrics)


HIGHER_IS_BETTER = ("psnr", "ssim")


def best_of_n(values):
    """Per clip and metric, the per-frame values of the best of ``N`` samples.

    Stochastic predictors are scored on their best sample (Denton & Fergus 2018;
    Babaeizadeh et al. 2018): for each clip the sample whose mean over time is
    best, lowest MSE / MAE / temporal error, highest PSNR / SSIM, each metric
    choosing on its own.

    Args:
        values: ``{metric: [N, B, T]}`` per-frame values of ``N`` samples.

    Returns:
        ``{metric: [B, T]}``.
    """
    out = {}
    for name, v in values.items():
        v = np.asarray(v, np.float64)
        score = v.mean(axis=2) if v.shape[2] else np.zeros(v.shape[:2])
        pick = score.argmax(axis=0) if name in HIGHER_IS_BETTER else score.argmin(axis=0)
        out[name] = v[pick, np.arange(v.shape[1])]
    return out


def evaluate_stochastic_predictor(sample, pairs, num_samples, ssim=True):
    """Scores ``N`` samples per input: best-of-N and the mean over samples.

    Args:
        sample: ``sample(inputs, s) -> clips``, the ``s``-th of ``num_samples``
            predictions (e.g. ``lambda x, s: model.generate(x, seed=0, sample=s)``).
        pairs: an iterable of ``(inputs, targets)`` batches.
        num_samples: ``N`` >= 1.
        ssim: compute SSIM.

    Returns:
        ``{"best": ReconstructionMetrics, "mean": ReconstructionMetrics}``: per clip
        the best sample (``best_of_n``), and every sample's values averaged over the
        samples (the expected score of one sample).
    """
    n = int(num_samples)
    if n < 1:
        raise ValueError(f"num_samples={num_samples!r} must be a positive integer")
    best, mean = ReconstructionMetrics(ssim=ssim), ReconstructionMetrics(ssim=ssim)
    for inputs, targets in pairs:
        runs = [per_frame_metrics(np.asarray(sample(inputs, s)), targets, ssim) for s in range(n)]
        stacked = {k: np.stack([r[k] for r in runs]) for k in runs[0]}
        best.add(best_of_n(stacked))
        mean.add({k: v.mean(axis=0) for k, v in stacked.items()})
    return {"best": best, "mean": mean}


def evaluate_predictor(predict, pairs, ssim=True):
    """Scores ``predict(inputs) -> clips`` on a finite data set of ``(inputs, targets)``.

    Args:
        predict: a callable, e.g. ``model.generate`` or a baseline.
        pairs: an iterable of ``(inputs, targets)`` batches.
        ssim: compute SSIM.

    Returns:
        The filled ``ReconstructionMetrics``.
    """
    metrics = ReconstructionMetrics(ssim=ssim)
    for inputs, targets in pairs:
        metrics.update(np.asarray(predict(inputs)), targets)
    return metrics
