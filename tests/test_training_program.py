"""The training program: a real tiny run, bad input, SIGKILL + --resume, divergence."""

import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_vgan import summaries, video_io
from keras_vgan.callbacks import TrainingCheckpoint
from keras_vgan.presets import get_preset
from training.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = [
    "--preset", "quick", "--frames", "4", "--size", "16", "--depth", "2", "--width", "4",
    "--latent-dim", "8", "--batch-size", "4", "--num-samples", "4",
]  # fmt: skip


def run_program(args, **kwargs):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    return subprocess.Popen(
        [sys.executable, "-m", "training", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def latest_state(run_dir):
    path = TrainingCheckpoint.latest(os.path.join(run_dir, "checkpoints"))
    if path is None:
        return None
    with open(os.path.join(path, "state.json")) as f:
        return json.load(f)


def test_tiny_run_writes_config_scalars_gif_samples_checkpoints_and_model(tmp_path, capsys):
    code = main([*TINY, "--epochs", "2", "--steps-per-epoch", "3", "--logdir", str(tmp_path),
                 "--run-name", "tiny", "--quiet"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    (run_dir,) = [str(p) for p in tmp_path.iterdir()]
    assert os.path.basename(run_dir).startswith("tiny-")
    assert "samples:" in out and "final.gif" in out

    config = json.load(open(os.path.join(run_dir, "config.json")))
    assert config["frames"] == 4 and config["size"] == 16 and config["epochs"] == 2
    assert config["loss"] == get_preset("quick").loss  # resolved, not only the overrides

    assert latest_state(run_dir) == {"epoch": 2, "step": 6}

    scalars = summaries.read_scalars(run_dir)
    d_loss = [v for k, v in scalars.items() if k.endswith("epoch_d_loss")]
    assert d_loss and len(d_loss[0]) == 2 and all(np.isfinite(x) for _, x in d_loss[0])

    gifs = summaries.read_video_summaries(os.path.join(run_dir, "samples"))
    # On the global step (3 steps an epoch), as the scalars: epochs 1, 2 and the final sample.
    assert sorted(step for step, _, _ in gifs) == [3, 6, 6]
    for name in ("epoch_0001.gif", "epoch_0002.gif", "final.gif"):
        clip = video_io.read_gif(os.path.join(run_dir, "samples", name))
        assert clip.shape[0] == 4  # frames
    assert video_io.read_video(os.path.join(run_dir, "samples", "final.mp4")).shape[0] == 4
    assert os.path.exists(os.path.join(run_dir, "samples", "final.png"))

    gan = keras.saving.load_model(os.path.join(run_dir, "model.keras"))
    videos = gan.predict(np.zeros((2, 8), "float32"), verbose=0)
    assert videos.shape == (2, 4, 16, 16, 1)
    assert np.all(np.abs(videos) <= 1)


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--preset", "nope"], "unknown preset 'nope'; available:"),
        (["--frames", "0"], "frames=0 must be a positive integer"),
        (["--size", "-32"], "size=-32 must be a positive integer"),
        (["--frames", "20"], "frames=20 cannot be produced by a depth-3 network"),
        (["--size", "36"], "size=36 cannot be produced by a depth-3 network"),
        (["--channels", "3"], "channels=3 is not available for data='moving_mnist'"),
        (["--loss", "wgan-gp"], "wgan-gp"),
        (["--strategy", "tpu"], "strategy='tpu' is not one of"),
        (["--batch-size", "lots"], "argument --batch-size: invalid int value: 'lots'"),
        (["--resume", "/no/such/run"], "run directory '/no/such/run' does not exist"),
        (["--bogus-flag"], "unrecognized arguments: --bogus-flag"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, expected, capsys):
    with pytest.raises(SystemExit) as info:
        code = main(args)
        raise SystemExit(code)
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert expected in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_resume_rejects_changed_settings_and_non_run_dirs(tmp_path, capsys):
    assert main(["--resume", str(tmp_path)]) == 2
    assert "is not a run directory (no config.json)" in capsys.readouterr().err
    (tmp_path / "config.json").write_text(json.dumps({"frames": 4}))
    assert main(["--resume", str(tmp_path), "--size", "32"]) == 2
    assert "only --epochs and --strategy may change, not --size" in capsys.readouterr().err


def test_bad_input_from_the_real_program_has_no_traceback():
    proc = run_program(["--frames", "12"])
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert err.strip().splitlines() == [
        "python -m training: error: frames=12 cannot be produced by a depth-3 network: "
        "it must be a multiple of 2**depth=8 (e.g. 8, 16)"
    ]


def _final_weights(run_dir):
    gan = keras.saving.load_model(os.path.join(run_dir, "model.keras"))
    return [w.numpy() for w in gan.weights], gan


@pytest.mark.slow  # ~22 s; test_run_faults resumes from checkpoints in the default run
def test_sigkill_then_resume_continues_exactly(tmp_path):
    args = [*TINY, "--steps-per-epoch", "4", "--logdir", str(tmp_path), "--quiet"]
    proc = run_program([*args, "--epochs", "200", "--run-name", "killed"])
    run_dir = None
    deadline = time.time() + 240
    while time.time() < deadline:
        dirs = list(tmp_path.glob("killed-*"))
        if dirs:
            run_dir = str(dirs[0])
            state = latest_state(run_dir)
            if state and state["epoch"] >= 2:
                break
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not os.path.exists(os.path.join(run_dir, "model.keras"))  # really cut short

    state = latest_state(run_dir)  # the newest complete checkpoint survived the kill
    epochs = state["epoch"] + 2
    resumed = run_program(["--resume", run_dir, "--epochs", str(epochs), "--quiet"])
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert latest_state(run_dir) == {"epoch": epochs, "step": 4 * epochs}
    assert os.path.exists(os.path.join(run_dir, "samples", f"epoch_{epochs:04d}.gif"))

    # An uninterrupted run of the same length ends with the same weights: the
    # resumed run restored weights, both optimizers, EMA, step, noise and data.
    straight = run_program([*args, "--epochs", str(epochs), "--run-name", "straight"])
    out, err = straight.communicate(timeout=300)
    assert straight.returncode == 0, err
    (straight_dir,) = [str(p) for p in tmp_path.glob("straight-*")]
    a, gan_a = _final_weights(run_dir)
    b, gan_b = _final_weights(straight_dir)
    assert int(gan_a.g_optimizer.iterations.numpy()) == 4 * epochs
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)


class _Poison(keras.callbacks.Callback):
    """Puts a NaN into the discriminator at the start of the given epoch."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            kernel = self.model.discriminator.trainable_variables[0]
            kernel.assign(tf.fill(kernel.shape, float("nan")))


def test_nan_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    from keras_vgan.builders import build_gan, build_train_dataset

    config = get_preset("quick")
    for k, v in dict(frames=4, size=16, depth=2, width=4, latent_dim=8, batch_size=4).items():
        setattr(config, k, v)
    gan = build_gan(config)
    ckpt = TrainingCheckpoint(str(tmp_path))
    gan.fit(
        build_train_dataset(config),
        epochs=4,
        steps_per_epoch=2,
        callbacks=[ckpt, _Poison(epoch=2)],
        verbose=0,
    )
    assert ckpt.diverged is not None
    assert "became nan at epoch 3, batch 1" in ckpt.diverged
    assert int(gan.g_optimizer.iterations.numpy()) == 5  # stopped right after the bad batch
    assert TrainingCheckpoint.latest(str(tmp_path)).endswith("ckpt-000000004")
    restored = build_gan(config)
    state = TrainingCheckpoint.restore(restored, str(tmp_path))
    assert state == {"epoch": 2, "step": 4}
    for w in restored.weights:
        assert np.all(np.isfinite(w.numpy()))


def test_diverging_program_exits_nonzero_with_one_line(tmp_path, capsys):
    code = main([*TINY, "--epochs", "3", "--steps-per-epoch", "3", "--g-lr", "1e38",
                 "--d-lr", "1e38", "--logdir", str(tmp_path), "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 3
    assert err.startswith("python -m training: error: training diverged: ")
    assert "became nan" in err or "became inf" in err
    assert err.count("\n") == 1


PROGRAMS = ["training.cli", "training.evaluate", "training.evaluate_tasks", "training.frames",
            "export.cli", "export.client", "generate.cli", "training.evaluate_unpaired",
            "generate.translate"]  # fmt: skip


@pytest.mark.parametrize("module", PROGRAMS)
def test_every_program_uses_the_shared_parser_and_quiet_start(module):
    import importlib
    import inspect

    source = inspect.getsource(importlib.import_module(module))
    assert "from training.program import" in source
    assert "ArgumentParser" not in source and "EXIT_USAGE =" not in source


def test_program_helpers_one_line_errors_and_no_tensorflow_on_import(capsys):
    from training.program import EXIT_USAGE, Parser

    parser = Parser(prog="python -m demo")
    parser.add_argument("--n", type=int, default=1)
    assert parser.fail("--n 0 must be >= 1") == EXIT_USAGE == 2
    assert capsys.readouterr().err == "python -m demo: error: --n 0 must be >= 1\n"
    assert parser.parse_or_status(["--n", "x"]) == (None, 2)
    assert (
        capsys.readouterr().err == "python -m demo: error: argument --n: invalid int value: 'x'\n"
    )
    assert parser.parse_or_status(["--help"]) == (None, 0)
    args, status = parser.parse_or_status(["--n", "3"])
    assert args.n == 3 and status is None
    # The module is imported before TensorFlow may start (flag errors cost no TF start-up).
    probe = "import sys, training.program; print('tensorflow' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr
