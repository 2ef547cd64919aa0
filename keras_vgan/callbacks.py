"""Callbacks for video GAN runs: samples in TensorBoard and on disk, safe checkpoints.

``VideoSamples`` draws a fixed noise batch from the EMA generator every epoch
and writes an animated GIF to TensorBoard's image dashboard plus GIF/mp4/PNG
files. ``TrainingCheckpoint`` keeps the complete training state (both
networks, the EMA generator, both optimizers, epoch and step) in numbered
directories switched by an atomic pointer, so a process killed at any moment
leaves the last good state readable; it also stops training on a non-finite
loss without saving the diverged weights.
"""

import json
import logging
import math
import os
import shutil
import time

import h5py
import keras
import numpy as np
import tensorflow as tf

from keras_vgan import summaries, video_io
from keras_vgan.metrics import evaluation

logger = logging.getLogger("keras_vgan.checkpoints")


def global_step(model, default=0):
    """Training steps a model has taken (its step optimizer's ``iterations``)."""
    optimizer = getattr(model, "step_optimizer", None) or getattr(model, "optimizer", None)
    if optimizer is None:
        return int(default)
    return int(optimizer.iterations.numpy())


class _SampleFiles(keras.callbacks.Callback):
    """What sample callbacks share: GIF/mp4/PNG files, an animated GIF in TensorBoard
    (run ``directory``), and a ``write`` every ``every`` epochs."""

    def __init__(self, directory, fps=8, every=1):
        super().__init__()
        self.directory = directory
        self.fps = int(fps)
        self.every = int(every)
        self._writer = None

    def write(self, name, step):
        raise NotImplementedError

    def _emit(self, name, step, clips, grid, sheet, tag, description, cols=None):
        """Writes ``name``.gif/.mp4 (``grid`` [T, H, W, C] uint8), ``name``.png (``sheet``)
        and ``clips`` (float, [-1, 1]) to TensorBoard under ``tag``; returns the GIF path."""
        os.makedirs(self.directory, exist_ok=True)
        base = os.path.join(self.directory, name)
        video_io.write_gif(base + ".gif", grid, fps=self.fps)
        video_io.write_mp4(base + ".mp4", grid, fps=self.fps)
        video_io.write_png(base + ".png", sheet)
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.directory)
        with self._writer.as_default():
            summaries.video_summary(
                tag, clips, step=step, fps=self.fps, cols=cols, description=description
            )
        self._writer.flush()
        return base + ".gif"

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0 and not getattr(self.model, "stop_training", False):
            # The global step, as the scalars (StepScalars): one x-axis in TensorBoard.
            self.write(f"epoch_{epoch + 1:04d}", step=global_step(self.model, epoch + 1))

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class VideoSamples(_SampleFiles):
    """Writes samples from a fixed noise batch at the end of every ``every`` epochs.

    Args:
        directory: where files (``epoch_0003.gif``/``.mp4``/``.png``) and the
            TensorBoard event file (run ``samples``) go.
        num_samples: clips in the grid.
        seed: seed of the fixed noise batch (same clips every epoch, so the
            progress of the generator is visible).
        fps: frame rate of the files.
        every: epochs between samples.
        labels: optional int labels for conditional models.
    """

    def __init__(self, directory, num_samples=16, seed=1234, fps=8, every=1, labels=None):
        super().__init__(directory, fps=fps, every=every)
        self.num_samples = int(num_samples)
        self.seed = int(seed)
        self.labels = labels
        self._z = None

    def _noise(self):
        if self._z is None:
            rng = np.random.default_rng(self.seed)
            shape = (self.num_samples, self.model.latent_dim)
            self._z = rng.standard_normal(shape).astype("float32")
        return self._z

    def write(self, name, step):
        """Samples now and writes ``name``.gif/.mp4/.png; returns the GIF path."""
        videos = np.asarray(self.model.generate(self._noise(), labels=self.labels))
        pixels = video_io.to_uint8(videos)  # [B, T, H, W, C]
        return self._emit(
            name,
            step,
            videos,
            grid=video_io.video_grid(pixels),  # [T, H', W', C]
            sheet=video_io.contact_sheet(pixels[:8]),  # one row per clip (up to 8)
            tag="samples/ema_generator",
            description="Fixed-noise samples from the EMA generator",
        )


class StepScalars(keras.callbacks.Callback):
    """TensorBoard scalars on the global step, every ``every`` steps and at each epoch end.

    Every ``every`` steps: the mean of each logged value over those steps (Keras
    logs epoch-to-date means; the per-step values are recovered from them, so a
    GAN's losses are seen step by step, not smoothed over the epoch), each
    optimizer's learning rate (``lr/<optimizer>``, schedules included) and
    ``steps_per_second``. At each epoch end: ``epoch_<name>`` (the epoch's mean).
    All on the global step (the step optimizer's iterations), the step the
    sample GIFs use, so both dashboards share one x-axis.

    Args:
        log_dir: the TensorBoard run directory (e.g. ``RUN_DIR/train``).
        every: steps between scalar points (>= 1).
    """

    def __init__(self, log_dir, every=50):
        super().__init__()
        self.log_dir = log_dir
        self.every = int(every)
        if self.every < 1:
            raise ValueError(f"every={every!r} must be >= 1")
        self._writer = None

    def _scalar(self, name, value, step):
        tf.summary.scalar(name, float(value), step=step)

    def on_train_begin(self, logs=None):
        self._writer = self._writer or tf.summary.create_file_writer(self.log_dir)
        self._sums, self._count = {}, 0
        self._clock = (time.perf_counter(), global_step(self.model))

    def on_epoch_begin(self, epoch, logs=None):
        self._prev, self._batches = {}, 0

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1
        k = self._batches
        for name, value in (logs or {}).items():
            mean = float(np.mean(np.asarray(value, dtype="float64")))
            # Keras logs the mean of the epoch so far: this batch's value is k m_k - (k-1) m_(k-1).
            current = k * mean - (k - 1) * self._prev.get(name, 0.0)
            self._prev[name] = mean
            self._sums[name] = self._sums.get(name, 0.0) + current
        self._count += 1
        step = global_step(self.model)
        if step % self.every:
            return
        now = time.perf_counter()
        t0, s0 = self._clock
        with self._writer.as_default():
            for name, total in self._sums.items():
                self._scalar(name, total / self._count, step)
            for attr in getattr(self.model, "OPTIMIZERS", ()) or ("optimizer",):
                optimizer = getattr(self.model, attr, None)
                if optimizer is not None:
                    lr = optimizer.learning_rate
                    self._scalar(f"lr/{attr}", np.asarray(lr), step)
            if now > t0 and step > s0:
                self._scalar("steps_per_second", (step - s0) / (now - t0), step)
        self._writer.flush()
        self._sums, self._count = {}, 0
        self._clock = (now, step)

    def on_epoch_end(self, epoch, logs=None):
        step = global_step(self.model)
        with self._writer.as_default():
            for name, value in (logs or {}).items():
                self._scalar(f"epoch_{name}", np.mean(np.asarray(value, dtype="float64")), step)
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class TrainingDiverged(RuntimeError):
    """Raised (by the training program) when a loss became NaN or Inf."""


class CheckpointError(ValueError):
    """No intact checkpoint where there are checkpoints (a one-line message)."""


_warned_damaged = set()


def _first_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


class TrainingCheckpoint(keras.callbacks.Callback):
    """Atomic, resumable checkpoints of the whole training state that survive damage.

    Layout: ``directory/ckpt-<step>/state.weights.h5`` + ``state.json``, and
    ``directory/latest`` naming the newest one written. A new checkpoint is
    written in full under a ``.partial`` name and renamed into place before
    ``latest`` is switched with ``os.replace``; older ones are then removed so
    that ``keep`` intact ones stay (the newest intact one is never removed).
    Saved at the end of each epoch (choose ``steps_per_epoch`` for the interval).

    Reading never trusts one file: ``latest`` and ``restore`` take the newest
    *intact* checkpoint (``state.json`` with integer ``epoch`` and ``step``, an
    HDF5 weights file that opens: HDF5 checks the stored end of file, so a
    truncated copy fails), with one warning line per damaged newer one, and
    ``restore`` falls back further when a file opens but does not load. Only
    when every checkpoint is damaged does ``restore`` raise ``CheckpointError``.

    After every batch the logged values are checked; on NaN or Inf training
    stops, nothing is saved, and ``diverged`` holds a one-line explanation.

    With ``write=False`` (a multi-worker task that is not the chief) it only
    checks: the workers see the same reduced logs, so all of them stop at the
    same batch, and only the chief saves (the saved weights are read locally on
    it: saving needs no collective, so the other workers write nothing).
    """

    def __init__(self, directory, keep=2, write=True):
        super().__init__()
        self.directory = directory
        self.write = bool(write)
        self.keep = int(keep)
        if self.keep < 1:
            raise ValueError(f"keep={keep!r} must be >= 1")
        self.diverged = None
        self._epoch = 0

    # --- reading
    @staticmethod
    def candidates(directory):
        """``ckpt-*`` directories of ``directory``, newest (highest step) first."""
        try:
            names = os.listdir(directory)
        except OSError:
            return []
        names = [
            n
            for n in names
            if n.startswith("ckpt-")
            and not n.endswith(".partial")
            and os.path.isdir(os.path.join(directory, n))
        ]
        return [os.path.join(directory, n) for n in sorted(names, reverse=True)]

    @staticmethod
    def damage(path):
        """Why the checkpoint at ``path`` cannot be restored, or None when it looks intact."""
        try:
            with open(os.path.join(path, "state.json")) as f:
                state = json.load(f)
        except FileNotFoundError:
            return "state.json is missing"
        except (OSError, ValueError) as e:
            return f"state.json is unreadable ({_first_line(e)})"
        if not isinstance(state, dict) or not all(
            isinstance(state.get(k), int) and not isinstance(state.get(k), bool)
            for k in ("epoch", "step")
        ):
            return "state.json has no integer epoch and step"
        weights = os.path.join(path, "state.weights.h5")
        try:
            size = os.path.getsize(weights)
        except OSError:
            return "state.weights.h5 is missing"
        if size == 0:
            return "state.weights.h5 is empty"
        try:
            with h5py.File(weights, "r"):
                pass
        except Exception as e:  # h5py raises OSError, sometimes others, for damage
            return f"state.weights.h5 is damaged ({_first_line(e)})"
        return None

    @staticmethod
    def _warn(path, reason):
        if path not in _warned_damaged:
            _warned_damaged.add(path)
            logger.warning("keras_vgan: skipping damaged checkpoint %s: %s", path, reason)

    @staticmethod
    def latest(directory):
        """Path of the newest intact checkpoint in ``directory``, or None.

        Each damaged checkpoint newer than it gets one warning line (once per process).
        """
        for path in TrainingCheckpoint.candidates(directory):
            reason = TrainingCheckpoint.damage(path)
            if reason is None:
                return path
            TrainingCheckpoint._warn(path, reason)
        return None

    @staticmethod
    def restore(model, directory):
        """Loads the newest intact checkpoint into a built, compiled model.

        Returns:
            The saved state dict (``epoch``: completed epochs, ``step``:
            generator steps taken), or None when there is no checkpoint.

        Raises:
            CheckpointError: there are checkpoints and none of them loads.
        """
        paths = TrainingCheckpoint.candidates(directory)
        first = None
        for path in paths:
            reason = TrainingCheckpoint.damage(path)
            if reason is None:
                try:
                    # A failed load may leave some weights set: the next one sets all.
                    model.load_weights(os.path.join(path, "state.weights.h5"))
                    with open(os.path.join(path, "state.json")) as f:
                        return json.load(f)
                except Exception as e:
                    reason = f"state.weights.h5 does not load ({_first_line(e)})"
            TrainingCheckpoint._warn(path, reason)
            first = first or (os.path.basename(path), reason)
        if paths:
            raise CheckpointError(
                f"no intact checkpoint in {directory!r}: all {len(paths)} are damaged "
                f"(newest {first[0]}: {first[1]})"
            )
        return None

    # --- writing
    def save(self, epoch_done):
        step = global_step(self.model)
        name = f"ckpt-{step:09d}"
        path = os.path.join(self.directory, name)
        tmp = path + ".partial"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        self.model.save_weights(os.path.join(tmp, "state.weights.h5"))
        with open(os.path.join(tmp, "state.json"), "w") as f:
            json.dump({"epoch": epoch_done, "step": step}, f)
            f.flush()
            os.fsync(f.fileno())
        shutil.rmtree(path, ignore_errors=True)
        os.replace(tmp, path)
        pointer_tmp = os.path.join(self.directory, "latest.partial")
        with open(pointer_tmp, "w") as f:
            f.write(name)
            f.flush()
            os.fsync(f.fileno())
        os.replace(pointer_tmp, os.path.join(self.directory, "latest"))
        self._prune()
        return path

    def _prune(self):
        """Removes checkpoints older than the ``keep`` newest intact ones.

        Damaged ones among the newest stay (to be looked at) and do not count, so
        the newest intact checkpoint is never removed.
        """
        intact = 0
        for path in self.candidates(self.directory):
            if intact >= self.keep:
                shutil.rmtree(path, ignore_errors=True)
            elif self.damage(path) is None:
                intact += 1

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        bad = _first_non_finite(logs)
        if bad is not None:
            name, value = bad
            last = self.latest(self.directory)
            self.diverged = (
                f"{name} became {value} at epoch {self._epoch + 1}, batch {batch + 1}; "
                f"training stopped and the last good checkpoint was kept: {last or 'none yet'}"
            )
            self.model.stop_training = True
            return

    def on_epoch_end(self, epoch, logs=None):
        if self.write and self.diverged is None and _first_non_finite(logs) is None:
            self.save(epoch + 1)


def _first_non_finite(logs):
    for name, value in (logs or {}).items():
        v = float(np.mean(np.asarray(value, dtype="float64")))
        if not math.isfinite(v):
            return name, v
    return None


class PeriodicEvaluation(keras.callbacks.Callback):
    """Scores the EMA generator every ``every`` epochs and logs it to TensorBoard.

    The real clips (``num_clips`` in the generator's format, from ``data``) are
    embedded once when training starts; then at the end of every ``every``
    epochs ``num_clips`` clips generated from the same noise (``seed``) are
    scored with ``keras_vgan.metrics.evaluation.Evaluator``: by default the
    offline metric (``offline_fd``, ``offline_kvd``, ``offline_is``), plus FVD
    with ``metrics=("offline", "fvd")`` and ``i3d``. Each value is written as
    the scalar ``eval/<metric>`` (run ``log_dir``, step = epochs done), added to
    the epoch's logs as ``eval_<metric>`` and kept in ``results``.

    Args:
        log_dir: TensorBoard directory of the scalars (e.g. ``RUN_DIR/eval``).
        data: the real data: ``"moving_mnist"``, ``"shapes"``, a path or ``tfds:NAME``.
        every: epochs between evaluations.
        num_clips: generated and real clips per evaluation (fewer than the
            2,048 of a final evaluation keeps it cheap; the values are then
            higher, but comparable along the run).
        seed: seed of the fixed noise.
        metrics: see ``Evaluator``.
        i3d: path of the local ``i3d-kinetics-400`` module (for ``"fvd"``).
        batch_size: clips generated and embedded at a time.
    """

    def __init__(
        self,
        log_dir,
        data="moving_mnist",
        every=1,
        num_clips=256,
        seed=0,
        metrics=("offline",),
        i3d=None,
        batch_size=64,
    ):
        super().__init__()
        if int(every) < 1:
            raise ValueError(f"every={every!r} must be an integer >= 1")
        self.log_dir = log_dir
        self.data = data
        self.every = int(every)
        self.num_clips = int(num_clips)
        self.seed = int(seed)
        self.metrics = tuple(metrics)
        self.i3d = i3d
        self.batch_size = int(batch_size)
        self.results = []
        self._evaluator = None
        self._writer = None

    def _prepare(self):
        _, frames, size, _, channels = evaluation.clip_shape(self.model)
        real, what = evaluation.real_batches(
            self.data,
            frames=frames,
            size=size,
            channels=channels,
            num_clips=self.num_clips,
            batch_size=self.batch_size,
        )
        self._evaluator = evaluation.Evaluator(real, what, metrics=self.metrics, i3d=self.i3d)

    def evaluate(self, step):
        """Scores the model now; writes the scalars at ``step`` and returns the rows."""
        if self._evaluator is None:
            self._prepare()
        fake = evaluation.generated_batches(
            self.model, self.num_clips, self.batch_size, seed=self.seed
        )
        rows = self._evaluator.evaluate(fake)
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.log_dir)
        with self._writer.as_default():
            for row in rows:
                tf.summary.scalar(f"eval/{row['metric']}", row["value"], step=step)
                tf.summary.text(f"eval/{row['metric']}/protocol", row["protocol"], step=step)
        self._writer.flush()
        self.results.append({"step": int(step), "rows": rows})
        return rows

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every or getattr(self.model, "stop_training", False):
            return
        rows = self.evaluate(epoch + 1)
        if logs is not None:
            logs.update({f"eval_{row['metric']}": row["value"] for row in rows})

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def side_by_side(inputs, prediction, targets, condition="none"):
    """Clips ``[B, 3, T, H, W, C]``: input | prediction | ground truth, aligned in time.

    With ``condition="time"`` (prediction) the context is shown before each panel's
    future (the input panel's future is blank); otherwise the input is stretched to
    the prediction's frames (nearest frame), frame size (nearest pixel) and channels
    (grey repeated to RGB, RGB averaged to grey). Float arrays in [-1, 1].
    """
    x, p, y = (np.asarray(a, np.float32) for a in (inputs, prediction, targets))
    b, t, h, w, c = p.shape
    if x.shape[-1] != c:
        x = np.repeat(x, c, axis=-1) if x.shape[-1] == 1 else x.mean(-1, keepdims=True)
        x = x[..., :c]
    if condition == "time":
        k = x.shape[1]
        blank = np.full((b, t) + x.shape[2:], -1.0, np.float32)
        x, p, y = (np.concatenate([x, v], axis=1) for v in (blank, p, y))
        t += k
    else:
        ti = np.minimum(np.arange(t) * x.shape[1] // t, x.shape[1] - 1)
        hi = np.arange(h) * x.shape[2] // h
        wi = np.arange(w) * x.shape[3] // w
        x = x[:, ti][:, :, hi][:, :, :, wi]
    return np.stack([x, p, y], axis=1)


class TaskSamples(_SampleFiles):
    """Side-by-side GIFs (input | prediction | ground truth) of a fixed batch for task models.

    Every ``every`` epochs the EMA generator of a ``tasks.VideoTaskGAN`` runs on
    the same ``inputs``; one row per clip, three panels per row (see
    ``side_by_side``), written as ``<name>.gif``, ``.mp4`` and ``.png`` (the grid's
    frames side by side) and as an animated GIF in TensorBoard's IMAGES
    tab (tag ``samples/input_prediction_truth``, run ``directory``).

    Args:
        directory: where files and the TensorBoard event file go.
        inputs, targets: a fixed batch of pairs (numpy or tensors).
        condition: the model's ``condition`` (``"time"`` shows the context first).
        fps: frame rate of the GIFs.
        every: epochs between samples.
    """

    def __init__(self, directory, inputs, targets, condition="none", fps=8, every=1):
        super().__init__(directory, fps=fps, every=every)
        self.inputs = np.asarray(inputs, np.float32)
        self.targets = np.asarray(targets, np.float32)
        self.condition = condition

    def write(self, name, step):
        """Runs the generator and writes ``name``.gif/.png; returns the GIF path."""
        prediction = np.asarray(self.model.generate(self.inputs))
        panels = side_by_side(self.inputs, prediction, self.targets, self.condition)
        b = panels.shape[0]
        clips = panels.reshape((b * 3,) + panels.shape[2:])  # row-major: 3 panels per clip
        grid = video_io.video_grid(video_io.to_uint8(clips), cols=3)
        return self._emit(
            name,
            step,
            clips,
            grid=grid,
            sheet=video_io.contact_sheet(grid[None]),
            tag="samples/input_prediction_truth",
            description="input | prediction (EMA generator) | ground truth, one clip per row",
            cols=3,
        )


class CPUBudget(keras.callbacks.Callback):
    """Stops ``fit`` once the process has used ``seconds`` of CPU time since training began.

    CPU time (``time.process_time``: every thread of the process) rather than wall
    time, so that a budget buys the same work on a quiet and on a shared machine;
    comparisons of model families at equal cost use it (``benchmarks/``). Training
    stops after the step that crosses the budget; Keras then ends the epoch, so the
    epoch-end callbacks (checkpoint, samples) still run.

    Args:
        seconds: the budget, > 0.
    """

    def __init__(self, seconds):
        super().__init__()
        if not seconds > 0:
            raise ValueError(f"CPU budget seconds={seconds!r} must be > 0")
        self.seconds = float(seconds)
        self.start = None
        self.exhausted = False
        self.marks = []  # CPU time at the end of every step: per-step costs for benchmarks

    @property
    def steps(self):
        """Training steps run since training began."""
        return len(self.marks)

    def on_train_begin(self, logs=None):
        self.start = time.process_time()
        self.marks = []

    def used(self):
        """CPU seconds used since training began (0 before it began)."""
        return 0.0 if self.start is None else time.process_time() - self.start

    def on_train_batch_end(self, batch, logs=None):
        self.marks.append(time.process_time())
        if self.used() >= self.seconds:
            self.exhausted = True
            self.model.stop_training = True
