"""A run under faults: damaged checkpoints, per-step TensorBoard, one writer per run."""

import json
import logging
import os
import shutil

import h5py
import numpy as np
import pytest
from tensorboard.backend.event_processing import plugin_event_accumulator

from keras_vgan.callbacks import CheckpointError, TrainingCheckpoint
from keras_vgan.runs import RunLocked, run_lock
from training.cli import main

TINY = [
    "--preset", "quick", "--frames", "4", "--size", "16", "--depth", "2", "--width", "4",
    "--latent-dim", "8", "--batch-size", "4", "--num-samples", "4", "--quiet",
]  # fmt: skip


def _ckpts(run_dir):
    return sorted(os.listdir(os.path.join(run_dir, "checkpoints")))


def _state(run_dir):
    path = TrainingCheckpoint.latest(os.path.join(run_dir, "checkpoints"))
    with open(os.path.join(path, "state.json")) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def base_run(tmp_path_factory):
    """A finished 3-epoch run (2 steps each) keeping 2 checkpoints: steps 4 and 6."""
    logdir = tmp_path_factory.mktemp("runs")
    code = main([*TINY, "--epochs", "3", "--steps-per-epoch", "2", "--logdir", str(logdir),
                 "--run-name", "base", "--log-every", "1"])  # fmt: skip
    assert code == 0
    (run_dir,) = logdir.iterdir()
    assert _ckpts(run_dir) == ["ckpt-000000004", "ckpt-000000006", "latest"]
    return str(run_dir)


@pytest.fixture
def run_copy(base_run, tmp_path):
    path = str(tmp_path / "run")
    shutil.copytree(base_run, path)
    os.remove(os.path.join(path, "model.keras"))  # resume from the checkpoints only
    return path


def _truncate(path):
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(size // 2)


DAMAGE = {
    "truncated weights": lambda c: _truncate(os.path.join(c, "state.weights.h5")),
    "empty weights": lambda c: open(os.path.join(c, "state.weights.h5"), "w").close(),
    "deleted weights": lambda c: os.remove(os.path.join(c, "state.weights.h5")),
    "deleted state": lambda c: os.remove(os.path.join(c, "state.json")),
    "cut state": lambda c: open(os.path.join(c, "state.json"), "w").write('{"epoch": 3, "st'),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_restore_takes_the_newest_intact_checkpoint_with_one_warning(run_copy, damage, caplog):
    from keras_vgan.builders import build_gan
    from keras_vgan.runs import load_run_config

    ckpt_dir = os.path.join(run_copy, "checkpoints")
    DAMAGE[damage](os.path.join(ckpt_dir, "ckpt-000000006"))
    gan = build_gan(load_run_config(run_copy))
    with caplog.at_level(logging.WARNING, logger="keras_vgan.checkpoints"):
        state = TrainingCheckpoint.restore(gan, ckpt_dir)
    assert state == {"epoch": 2, "step": 4}
    assert int(gan.g_optimizer.iterations.numpy()) == 4  # the weights of step 4 are loaded
    warned = [r.getMessage() for r in caplog.records if r.name == "keras_vgan.checkpoints"]
    assert len(warned) == 1 and "ckpt-000000006" in warned[0], warned


def test_resume_program_continues_from_the_newest_intact_checkpoint(run_copy, caplog):
    DAMAGE["truncated weights"](os.path.join(run_copy, "checkpoints", "ckpt-000000006"))
    with caplog.at_level(logging.WARNING, logger="keras_vgan.checkpoints"):
        code = main(["--resume", run_copy, "--epochs", "4"])
    assert code == 0
    warned = [r.getMessage() for r in caplog.records if r.name == "keras_vgan.checkpoints"]
    assert len(warned) == 1 and "ckpt-000000006" in warned[0], warned
    # Resumed from step 4 (epoch 2): epochs 3 and 4 again -> step 8.
    assert _state(run_copy) == {"epoch": 4, "step": 8}


def test_a_cut_latest_pointer_does_not_matter(run_copy):
    with open(os.path.join(run_copy, "checkpoints", "latest"), "w") as f:
        f.write("ckpt-0000")
    assert main(["--resume", run_copy, "--epochs", "4"]) == 0
    assert _state(run_copy) == {"epoch": 4, "step": 8}  # from step 6: epoch 4 only


def test_no_intact_checkpoint_is_one_line_and_exit_2(run_copy, capsys):
    for name in ("ckpt-000000004", "ckpt-000000006"):
        _truncate(os.path.join(run_copy, "checkpoints", name, "state.weights.h5"))
    assert main(["--resume", run_copy, "--epochs", "4"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("python -m training: error: no intact checkpoint in ")
    assert "all 2 are damaged" in err[-1] and "Traceback" not in "\n".join(err)


def test_export_takes_the_newest_intact_checkpoint(run_copy, tmp_path):
    from keras_vgan.export.load import load_run

    DAMAGE["truncated weights"](os.path.join(run_copy, "checkpoints", "ckpt-000000006"))
    gan = load_run(run_copy)  # no model.keras: the checkpoints
    assert int(gan.g_optimizer.iterations.numpy()) == 4


def _fake_checkpoint(directory, step, intact=True):
    path = os.path.join(directory, f"ckpt-{step:09d}")
    os.makedirs(path)
    with open(os.path.join(path, "state.json"), "w") as f:
        json.dump({"epoch": step, "step": step}, f)
    with h5py.File(os.path.join(path, "state.weights.h5"), "w") as f:
        f["w"] = np.zeros(1000)
    if not intact:
        _truncate(os.path.join(path, "state.weights.h5"))
    return path


def test_pruning_keeps_n_intact_and_never_the_last_intact_one(tmp_path):
    d = str(tmp_path)
    for step in (1, 2, 3):
        _fake_checkpoint(d, step)
    _fake_checkpoint(d, 4, intact=False)  # the newest is damaged
    TrainingCheckpoint(d, keep=1)._prune()
    # The damaged newest does not count: the newest intact (3) stays, older ones go.
    assert sorted(os.listdir(d)) == ["ckpt-000000003", "ckpt-000000004"]
    TrainingCheckpoint(d, keep=2)._prune()
    assert sorted(os.listdir(d)) == ["ckpt-000000003", "ckpt-000000004"]


def test_keep_checkpoints_flag(tmp_path):
    code = main([*TINY, "--epochs", "4", "--steps-per-epoch", "1", "--logdir", str(tmp_path),
                 "--run-name", "k", "--keep-checkpoints", "3"])  # fmt: skip
    assert code == 0
    (run_dir,) = tmp_path.iterdir()
    assert [n for n in _ckpts(run_dir) if n.startswith("ckpt-")] == [
        "ckpt-000000002", "ckpt-000000003", "ckpt-000000004"
    ]  # fmt: skip


def test_bad_keep_and_log_every_are_one_line(capsys):
    assert main([*TINY, "--keep-checkpoints", "0"]) == 2
    assert "keep_checkpoints=0 must be a positive integer" in capsys.readouterr().err
    assert main([*TINY, "--log-every", "0"]) == 2
    assert "log_every=0 must be a positive integer" in capsys.readouterr().err


def _tensors(log_dir):
    acc = plugin_event_accumulator.EventAccumulator(log_dir, size_guidance={"tensors": 0})
    acc.Reload()
    return {
        tag: [(e.step, e.tensor_proto) for e in acc.Tensors(tag)] for tag in acc.Tags()["tensors"]
    }


def test_tensorboard_scalars_every_n_steps_and_images_on_the_same_global_step(tmp_path):
    import tensorflow as tf

    code = main([*TINY, "--epochs", "2", "--steps-per-epoch", "6", "--logdir", str(tmp_path),
                 "--run-name", "tb", "--log-every", "2"])  # fmt: skip
    assert code == 0
    (run_dir,) = tmp_path.iterdir()
    scalars = _tensors(os.path.join(run_dir, "train"))  # TensorBoard's own reader
    steps = {tag: [s for s, _ in events] for tag, events in scalars.items()}
    assert steps["d_loss"] == [2, 4, 6, 8, 10, 12]
    assert steps["g_loss"] == [2, 4, 6, 8, 10, 12]
    assert steps["lr/g_optimizer"] == steps["lr/d_optimizer"] == [2, 4, 6, 8, 10, 12]
    assert steps["steps_per_second"] == [2, 4, 6, 8, 10, 12]
    assert steps["epoch_d_loss"] == [6, 12]

    def values(tag):
        return [float(tf.make_ndarray(t)) for _, t in scalars[tag]]

    assert all(v > 0 and np.isfinite(v) for v in values("steps_per_second"))
    config = json.load(open(os.path.join(run_dir, "config.json")))
    assert values("lr/g_optimizer") == pytest.approx([config["g_lr"]] * 6)
    assert values("lr/d_optimizer") == pytest.approx([config["d_lr"]] * 6)
    # Window means over 2 steps: the three windows of an epoch average to its mean.
    d = values("d_loss")
    assert np.mean(d[:3]) == pytest.approx(values("epoch_d_loss")[0], rel=1e-4, abs=1e-5)
    assert np.mean(d[3:]) == pytest.approx(values("epoch_d_loss")[1], rel=1e-4, abs=1e-5)
    images = _tensors(os.path.join(run_dir, "samples"))
    assert [s for s, _ in images["samples/ema_generator"]] == [6, 12, 12]  # epochs 1, 2, final


def test_a_second_writer_is_refused_and_a_stale_lock_is_not(run_copy, capsys):
    with run_lock(run_copy):  # another training process holds the run
        assert main(["--resume", run_copy, "--epochs", "4"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "is being trained by another process" in err[0], err
        with pytest.raises(RunLocked):
            with run_lock(run_copy):
                pass
    # A lock file left by a killed process (no live holder) does not block.
    with open(os.path.join(run_copy, ".lock"), "w") as f:
        f.write("999999\n")
    assert main(["--resume", run_copy, "--epochs", "4"]) == 0


def test_restore_without_checkpoints_is_none_and_all_damaged_raises(tmp_path):
    assert TrainingCheckpoint.restore(object(), str(tmp_path)) is None
    _fake_checkpoint(str(tmp_path), 1, intact=False)
    with pytest.raises(CheckpointError, match="no intact checkpoint"):
        TrainingCheckpoint.restore(object(), str(tmp_path))
