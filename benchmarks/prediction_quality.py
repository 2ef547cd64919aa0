"""Moving MNIST 10 -> 10 prediction quality after a fixed CPU budget per model.

Trains each prediction preset (``predict_convlstm_moving_mnist``,
``predict_conv3d_moving_mnist``) on the built-in Moving MNIST (training digits,
seed 0) until the process has used ``--budget-cpu-s`` seconds of CPU time (all
threads counted, so the budget does not depend on how busy a shared machine
is), then scores the EMA generator on held-out clips (the 500 held-out test
digits, another seed) next to the copy-last-frame and blank-frame baselines.

MSE and MAE are per frame, summed over the 64x64 pixels on the [0, 1] scale and
averaged over frames and clips (the Moving MNIST convention); SSIM is
``tf.image.ssim``. Published results on the real Moving MNIST test set, after long
GPU training, for reference: ConvLSTM 29.9 MSE / 0.925 SSIM, PredRNN 25.0 / 0.944,
SimVP 15.1 / 0.967.

    python benchmarks/prediction_quality.py                    # 600 CPU-s per model
    python benchmarks/prediction_quality.py --budget-cpu-s 60 --clips 64   # a quick look
"""

import argparse
import dataclasses
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras_vgan  # noqa: E402, F401, I001  (oneDNN on before TensorFlow loads)
import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_vgan import builders, presets  # noqa: E402
from keras_vgan.metrics.reconstruction import evaluate_predictor, format_table  # noqa: E402
from keras_vgan.tasks import task_baselines  # noqa: E402

MODELS = ("predict_convlstm", "predict_conv3d")


class CPUBudget(keras.callbacks.Callback):
    """Stops training once the process has used ``seconds`` of CPU time since ``start``."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds = float(seconds)
        self.start = time.process_time()
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if time.process_time() - self.start >= self.seconds:
            self.model.stop_training = True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-cpu-s", type=float, default=600.0, help="CPU seconds per model")
    parser.add_argument("--size", type=int, default=64, help="frame size (default 64)")
    parser.add_argument("--clips", type=int, default=256, help="held-out clips")
    parser.add_argument("--eval-seed", type=int, default=1234, help="seed of the held-out clips")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated models")
    args = parser.parse_args(argv)
    print("\n".join(keras_vgan.runtime.format_runtime()))  # the figures hold for this CPU

    config0 = dataclasses.replace(presets.get_preset(f"{MODELS[0]}_moving_mnist"), size=args.size)
    held_out = list(
        builders.build_task_pairs(
            config0, seed=args.eval_seed, split="test", num_clips=args.clips, batch_size=32
        )
    )
    rows, notes = {}, {}
    for name, fn in task_baselines("prediction").items():
        rows[name] = evaluate_predictor(lambda x, fn=fn: fn(x, 10), held_out).result()
        notes[name] = "baseline"
    per_step = {}
    for model in args.models.split(","):
        config = dataclasses.replace(presets.get_preset(f"{model}_moving_mnist"), size=args.size)
        keras.utils.set_random_seed(config.seed)
        gan = builders.build_gan(config)
        budget = CPUBudget(args.budget_cpu_s)
        wall = time.time()
        gan.fit(
            builders.build_task_pairs(config),
            epochs=10_000,
            steps_per_epoch=50,
            callbacks=[budget],
            verbose=0,
        )
        wall = time.time() - wall
        metrics = evaluate_predictor(lambda x, gan=gan: gan.generate(x), held_out)
        rows[model] = metrics.result()
        per_step[model] = metrics.per_step()["mse"]
        params = gan.generator.count_params()
        notes[model] = (
            f"{budget.steps} steps of batch {config.batch_size}, "
            f"{time.process_time() - budget.start:.0f} CPU-s, {wall:.0f} s wall, "
            f"{params:,} generator parameters"
        )
        print(f"{model}: {notes[model]}", flush=True)

    title = (
        f"Moving MNIST 10 -> 10, {args.size}x{args.size}, {args.clips} held-out clips "
        f"(test digits, seed {args.eval_seed}); budget {args.budget_cpu_s:.0f} CPU-s per model"
    )
    print()
    print(format_table(rows, columns=("mse", "mae", "ssim", "psnr", "temporal"), title=title))
    print()
    for model, mse in per_step.items():
        print(f"{model} MSE per step: " + " ".join(f"{v:.1f}" for v in mse))
    for name, note in notes.items():
        print(f"{name}: {note}")
    for model in per_step:
        better = rows[model]["mse"] < rows["copy_last_frame"]["mse"]
        print(f"{model} beats copy-last-frame on MSE: {better}")
    return 0


if __name__ == "__main__":
    np.set_printoptions(precision=2)
    sys.exit(main())
