"""Where a trained model comes from: a run directory, a checkpoint or a ``.keras`` file.

* a run directory: its ``model.keras`` (written when training ends) or, when
  there is none yet, the newest checkpoint under ``checkpoints/`` restored
  into the model its ``config.json`` builds;
* a checkpoint: ``RUN/checkpoints/ckpt-N`` or ``RUN/checkpoints`` (the newest
  one), restored into the model of ``RUN/config.json``;
* a ``.keras`` file saved from a ``VideoGAN`` or a task model.

Every failure is a ``SourceError`` (a ValueError) with a one-line message
naming the path and what was expected.
"""

import os

import keras

from keras_vgan.builders import build_gan
from keras_vgan.callbacks import TrainingCheckpoint
from keras_vgan.runs import load_run_config


class SourceError(ValueError):
    """A model source that cannot be used (one-line message)."""


def _first_line(e):
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"


def _servable(model, path):
    if not hasattr(model, "ema_generator") and not hasattr(model, "serving_endpoints"):
        raise SourceError(
            f"{path!r} holds a {type(model).__name__}, expected a VideoGAN or a task model"
        )
    return model


def load_keras(path):
    """A model from a ``.keras`` file."""
    path = os.fspath(path)
    if not os.path.isfile(path) or not path.endswith(".keras"):
        raise SourceError(f"{path!r} is not a .keras file")
    try:
        model = keras.saving.load_model(path)
    except Exception as e:  # a corrupt or foreign file: say which
        raise SourceError(f"cannot load {path!r}: {_first_line(e)}") from None
    return _servable(model, path)


def _restore(run_dir, ckpt_dir, ckpt_path):
    try:
        config = load_run_config(run_dir)
        gan = build_gan(config)
    except (OSError, ValueError, TypeError) as e:
        raise SourceError(f"cannot rebuild the model of {run_dir!r}: {_first_line(e)}") from None
    try:
        if ckpt_path is None:
            TrainingCheckpoint.restore(gan, ckpt_dir)
        else:
            gan.load_weights(os.path.join(ckpt_path, "state.weights.h5"))
    except Exception as e:
        raise SourceError(f"cannot restore {ckpt_path or ckpt_dir!r}: {_first_line(e)}") from None
    return gan


def load_checkpoint(path):
    """The model of a checkpoint directory (``ckpt-N`` or the ``checkpoints`` folder)."""
    path = os.path.abspath(os.fspath(path))
    if not os.path.isdir(path):
        raise SourceError(f"checkpoint {path!r} does not exist")
    if os.path.exists(os.path.join(path, "state.json")):  # one ckpt-N directory
        ckpt_dir, ckpt = os.path.dirname(path), path
        if not os.path.exists(os.path.join(path, "state.weights.h5")):
            raise SourceError(f"checkpoint {path!r} has no state.weights.h5")
    else:  # a checkpoints folder: its newest complete checkpoint
        ckpt_dir, ckpt = path, TrainingCheckpoint.latest(path)
        if ckpt is None:
            raise SourceError(
                f"{path!r} is not a checkpoint (expected RUN/checkpoints/ckpt-N with "
                "state.json, or a checkpoints folder with a 'latest' pointer)"
            )
    run_dir = os.path.dirname(ckpt_dir)
    if not os.path.exists(os.path.join(run_dir, "config.json")):
        raise SourceError(
            f"checkpoint {path!r} is not inside a run directory (no {run_dir}/config.json)"
        )
    return _restore(run_dir, ckpt_dir, ckpt)


def load_run(run_dir):
    """The model of a run directory: ``model.keras``, else its newest checkpoint."""
    run_dir = os.fspath(run_dir)
    if not os.path.isdir(run_dir):
        raise SourceError(f"run directory {run_dir!r} does not exist")
    final = os.path.join(run_dir, "model.keras")
    if os.path.exists(final):
        return load_keras(final)
    ckpt_dir = os.path.join(run_dir, "checkpoints")
    if TrainingCheckpoint.latest(ckpt_dir) is None:
        raise SourceError(
            f"run directory {run_dir!r} has no model.keras and no checkpoint "
            "(was it trained for at least one epoch?)"
        )
    return load_checkpoint(ckpt_dir)


def load_model(run=None, checkpoint=None, model=None):
    """Exactly one of ``run``, ``checkpoint``, ``model`` (a .keras path) -> the model."""
    given = [(k, v) for k, v in (("run", run), ("checkpoint", checkpoint), ("model", model)) if v]
    if len(given) != 1:
        raise SourceError("give exactly one of run, checkpoint, model")
    kind, value = given[0]
    return {"run": load_run, "checkpoint": load_checkpoint, "model": load_keras}[kind](value)


def is_run_dir(path):
    return os.path.isdir(path) and (
        os.path.exists(os.path.join(path, "config.json"))
        or os.path.exists(os.path.join(path, "model.keras"))
    )
