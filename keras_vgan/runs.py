"""A training run on disk: config -> strategy -> model -> data -> ``fit``, resumable.

A run directory holds::

    config.json            the fully resolved TrainConfig
    runtime.json           CPU / instruction sets, oneDNN, threads, versions, devices of
                           the latest start (keras_vgan.runtime.runtime_info)
    train/                 TensorBoard scalars every ``log_every`` steps and per epoch, on
                           the global step (callbacks.StepScalars)
    samples/               epoch_NNNN.gif/.mp4/.png, final.*, and the TensorBoard
                           event file with the animated sample GIFs (global step too)
    checkpoints/           atomic training state, the ``keep_checkpoints`` newest intact
                           ones (see callbacks.TrainingCheckpoint)
    .lock                  held (flock) by the one training process writing the run
    eval/                  offline-metric scalars every ``eval_every`` epochs (if > 0)
    model.keras            the whole VideoGAN at the end of training

``train`` is what ``python -m training`` runs; it is usable from a notebook.

Multi-worker runs (``strategy="multi_worker"``): every worker runs ``train`` on the
same config and run directory; only the chief (``distribute.is_chief``) writes it
and holds its lock. The others train in step, write nothing (saving needs no
collective op: the chief reads its own copy of the mirrored weights), and on
``resume`` read the chief's checkpoints, so the run directory must then be on a
file system every worker sees. Step ``k`` trains on the same global batch and
noise whatever the number of workers and replicas (``distribute.distribute_dataset``
and the engine's counter-based noise), so a run resumes on another cluster size.
"""

import contextlib
import dataclasses
import fcntl
import json
import os
import time

import keras
import tensorflow as tf

from keras_vgan.builders import build_gan, build_task_pairs, build_train_dataset
from keras_vgan.callbacks import (
    CPUBudget,
    PeriodicEvaluation,
    StepScalars,
    TaskSamples,
    TrainingCheckpoint,
    TrainingDiverged,
    VideoSamples,
    global_step,
)
from keras_vgan.config import TrainConfig, validate_config
from keras_vgan.distribute import (
    ClusterError,
    check_global_batch,
    distribute_dataset,
    get_strategy,
    is_chief,
)
from keras_vgan.runtime import write_runtime


@dataclasses.dataclass
class RunResult:
    """What a finished run produced."""

    run_dir: str
    epochs_done: int
    steps_done: int
    samples_gif: str
    history: dict


def new_run_dir(logdir, name, create=True):
    """A fresh ``logdir/name-YYYYmmdd-HHMMSS`` directory (suffixed if taken).

    With ``create=False`` only the path is chosen (a multi-worker chief tells the
    others the name first; ``train`` creates it on the chief).
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = os.path.join(logdir, f"{name}-{stamp}")
    path, i = base, 1
    while os.path.exists(path):
        path, i = f"{base}-{i}", i + 1
    if create:
        os.makedirs(path)
    return path


def load_run_config(run_dir):
    """Reads ``run_dir/config.json``; one-line errors for a missing or bad run dir."""
    path = os.path.join(run_dir, "config.json")
    if not os.path.isdir(run_dir):
        raise FileNotFoundError(f"run directory {run_dir!r} does not exist")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{run_dir!r} is not a run directory (no config.json)")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (ValueError, RecursionError) as e:  # bad JSON, bad UTF-8, absurd nesting
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ValueError(f"{path!r} is not a valid config file: {first}") from None
    try:
        return TrainConfig.from_dict(data)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{path!r}: {str(e).splitlines()[0]}") from None


def write_config(run_dir, config):
    tmp = os.path.join(run_dir, "config.json.partial")
    with open(tmp, "w") as f:
        f.write(config.to_json())
    os.replace(tmp, os.path.join(run_dir, "config.json"))


class RunLocked(ValueError):
    """Another process is training the same run directory (a one-line message)."""


@contextlib.contextmanager
def run_lock(run_dir):
    """Holds ``run_dir/.lock`` (an exclusive ``flock``) while a process writes the run.

    The kernel drops the lock when its process ends, killed or not, so a lock
    left by a killed run never blocks a later resume.

    Raises:
        RunLocked: another live process holds it.
    """
    os.makedirs(run_dir, exist_ok=True)  # train() may be handed a directory to create
    path = os.path.join(run_dir, ".lock")
    f = open(path, "a+")
    try:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "?"
            raise RunLocked(
                f"run directory {run_dir!r} is being trained by another process (pid {holder}); "
                "wait for it to end or stop it first"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        yield
    finally:
        f.close()  # releases the lock


def train(config, run_dir, resume=False, verbose="auto", devices=None, data=None, strategy=None):
    """Trains (or resumes) a run.

    Args:
        config: a ``TrainConfig``; checked here unless ``data`` is given.
        run_dir: the run directory (created by the caller, e.g. ``new_run_dir``, or here).
        resume: continue from the newest checkpoint in ``run_dir``.
        verbose: passed to ``fit`` (``"auto"`` shows the Keras progress bar).
        devices: devices for the ``mirrored`` strategy (default: all GPUs).
        data: the ``RunData`` of ``config.validate_config(config)`` when the caller has
            checked the config already (the training program): the data is opened once.
        strategy: a strategy the caller built (the training program builds the
            multi-worker one once the workers have met); default: ``config.strategy``.

    Returns:
        A ``RunResult`` (``samples_gif`` is None on a worker that is not the chief).

    Raises:
        TrainingDiverged: a loss became NaN/Inf; the last good checkpoint is kept.
        RunLocked: another process is training ``run_dir``.
        callbacks.CheckpointError: resuming, and no checkpoint of the run is intact.
        distribute.ClusterError: the batch does not split over the replicas, the
            workers resumed different checkpoints, or a bad ``TF_CONFIG``.
    """
    if data is None:
        data = validate_config(config)  # opens and probes the data, once
    if strategy is None:
        strategy = get_strategy(config.strategy, devices=devices)
    check_global_batch(strategy, config.batch_size)  # before anything is written
    if not is_chief(strategy):
        return _train(config, run_dir, resume, verbose, data, strategy, write=False)
    with run_lock(run_dir):
        return _train(config, run_dir, resume, verbose, data, strategy, write=True)


def _train(config, run_dir, resume, verbose, data, strategy, write):
    keras.utils.set_random_seed(config.seed)
    ckpt_dir = os.path.join(run_dir, "checkpoints")
    if write:
        os.makedirs(ckpt_dir, exist_ok=True)
    with strategy.scope():
        gan = build_gan(config)
    state = TrainingCheckpoint.restore(gan, ckpt_dir) if resume else None
    initial_epoch = state["epoch"] if state else 0
    start_step = state["step"] if state else 0
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        _check_same_start(strategy, initial_epoch, start_step)
    if not write:
        # A worker that is not the chief: it trains in step and writes nothing.
        checkpoint = TrainingCheckpoint(ckpt_dir, keep=config.keep_checkpoints, write=False)
        history = _fit(config, gan, data, strategy, [checkpoint], initial_epoch, start_step,
                       verbose)  # fmt: skip
        if checkpoint.diverged:
            raise TrainingDiverged(checkpoint.diverged)
        return RunResult(
            run_dir=run_dir,
            epochs_done=config.epochs,
            steps_done=int(gan.step_optimizer.iterations.numpy()),
            samples_gif=None,
            history=history,
        )
    if not resume:
        write_config(run_dir, config)
    write_runtime(os.path.join(run_dir, "runtime.json"))  # this start's machine facts
    if config.num_classes and data.source is not None:
        # The label of class i is class_names[i]: generate/export need the list.
        data.source.save_class_names(os.path.join(run_dir, "class_names.json"))

    if config.family.samples is not None:  # e.g. A | A->B | B | B->A of two domains
        samples = config.family.samples(config, gan, run_dir, data)
    elif config.family.task:
        samples = _task_samples(config, gan, run_dir, data)  # input | prediction | ground truth
    else:
        samples = VideoSamples(
            os.path.join(run_dir, "samples"),
            num_samples=config.num_samples,
            seed=config.seed + 1,
            fps=config.fps,
        )
    checkpoint = TrainingCheckpoint(ckpt_dir, keep=config.keep_checkpoints)
    callbacks = [
        checkpoint,
        samples,
        *_evaluation(config, run_dir),
        StepScalars(os.path.join(run_dir, "train"), every=config.log_every),
    ]
    if config.cpu_budget_s:
        callbacks.append(CPUBudget(config.cpu_budget_s))
    history = _fit(config, gan, data, strategy, callbacks, initial_epoch, start_step, verbose)
    if checkpoint.diverged:
        raise TrainingDiverged(checkpoint.diverged)
    samples.set_model(gan)
    gif = samples.write("final", step=global_step(gan, config.epochs))
    tmp = os.path.join(run_dir, "model.partial.keras")
    gan.save(tmp)
    os.replace(tmp, os.path.join(run_dir, "model.keras"))
    return RunResult(
        run_dir=run_dir,
        # A CPU budget may end the run early; the last epoch it began counts as done.
        epochs_done=initial_epoch + len(next(iter(history.values()))) if history else config.epochs,
        steps_done=int(gan.g_optimizer.iterations.numpy()),
        samples_gif=gif,
        history=history,
    )


def _fit(config, gan, data, strategy, callbacks, initial_epoch, start_step, verbose):
    """Fits from ``initial_epoch`` on the stream from ``start_step``; the history (dict)."""
    if initial_epoch >= config.epochs:
        return {}
    dataset = distribute_dataset(
        strategy,
        lambda: build_train_dataset(config, start_step=start_step, data=data),
        config.batch_size,
    )
    h = gan.fit(
        dataset,
        epochs=config.epochs,
        initial_epoch=initial_epoch,
        steps_per_epoch=config.steps_per_epoch,
        callbacks=callbacks,
        verbose=verbose,
        shuffle=False,  # an infinite generated stream: nothing to shuffle
    )
    return h.history


def _check_same_start(strategy, epoch, step):
    """ClusterError unless every worker starts at the same ``(epoch, step)``.

    Every worker computes the same sums, so all of them reach the same verdict
    (the values are all equal iff ``n * sum(v**2) == sum(v)**2``).
    """
    local = tf.constant([1, epoch, step, epoch * epoch, step * step], tf.float64)
    total = tf.function(
        lambda: strategy.reduce("SUM", strategy.run(lambda: tf.identity(local)), axis=None)
    )
    n, e, s, e2, s2 = total().numpy()
    if n * e2 != e * e or n * s2 != s * s:
        raise ClusterError(
            f"the workers resumed from different checkpoints (this one at epoch {epoch}, "
            f"step {step}; the mean is step {s / n:g}): every worker must read the chief's "
            "run directory (a file system all of them see)"
        )


def _task_samples(config, gan, run_dir, data):
    """Side-by-side samples of a task model on a fixed batch of held-out pairs."""
    n = config.num_samples
    pairs = build_task_pairs(
        config, seed=config.seed + 1, split="test", num_clips=n, batch_size=n, data=data
    )
    inputs, targets = next(iter(pairs))
    return TaskSamples(
        os.path.join(run_dir, "samples"), inputs, targets, condition=gan.condition, fps=config.fps
    )


def _evaluation(config, run_dir):
    """``[PeriodicEvaluation]`` (offline metric to ``RUN_DIR/eval``) if ``eval_every``, else []."""
    if not config.eval_every:
        return []
    return [
        PeriodicEvaluation(
            os.path.join(run_dir, "eval"),
            data=config.data,
            every=config.eval_every,
            num_clips=config.eval_clips,
            seed=config.seed + 2,
        )
    ]
