"""Sample quality of the model families under one CPU budget, by the offline metric.

Run by hand (never part of the test suite)::

    .venv/bin/python benchmarks/quality_comparison.py --workdir /tmp/quality --train
    .venv/bin/python benchmarks/quality_comparison.py --workdir /tmp/quality   # evaluate only

``--train`` trains ``frame_gan``, ``vgan``, ``mocogan`` and ``tgan`` one after the
other with ``python -m training`` (each its own process, so one does not slow
the next) on the built-in Moving MNIST at 16 frames of 32x32 (the offline
encoder's clip format), batch 16, the same number of generator steps each
(``--steps``, default 2,400: the ``quick`` preset's budget, about 5 CPU minutes
for VGAN), starting from each family's ``*_moving_mnist`` preset with the
geometry reduced (``--width 16 --depth 3``) and ``ema_decay`` 0.99. A run that
already finished in ``--workdir`` is reused. Wall and CPU time of each run are
recorded in ``WORKDIR/timings.json``.

Evaluation then prints one table: for each trained model, an untrained
generator of the same architecture (same config, no steps) and two reference
rows (real vs an independent real draw: the floor; real vs uniform noise), the
offline Fréchet distance (``keras_vgan.metrics.offline``), KVD and the
Inception-Score analogue, each on ``--clips`` generated clips (default 2,048)
against as many real clips (``keras_vgan.metrics.evaluation``'s protocol), and
for each trained model "FD shuf": the FD of the same clips with their frames
shuffled in time. Shuffling real clips raises the FD from the floor to the
"frames shuffled" row; a generator whose FD does not move has no coherent
motion to destroy, and one whose FD falls under shuffling makes too little
motion. ``--train-seed`` repeats the training with another seed (use another
``--workdir``). The table is also written to ``WORKDIR/quality.json``.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import keras_vgan  # noqa: F401  (oneDNN on before TensorFlow loads: keras_vgan.runtime)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = {
    # model: (preset it starts from, extra flags)
    "frame_gan": ("frame_gan_moving_mnist", []),
    "vgan": ("quick", []),
    "mocogan": ("mocogan_moving_mnist", []),
    "tgan": ("tgan_moving_mnist", []),
}
GEOMETRY = ["--frames", "16", "--size", "32", "--width", "16", "--depth", "3"]


def _children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def train_all(workdir, steps, steps_per_epoch, models, train_seed=0):
    os.makedirs(workdir, exist_ok=True)
    timings_path = os.path.join(workdir, "timings.json")
    timings = {}
    if os.path.exists(timings_path):
        with open(timings_path) as f:
            timings = json.load(f)
    for model in models:
        run_dir = os.path.join(workdir, model)
        if os.path.exists(os.path.join(run_dir, "model.keras")):
            print(f"{model}: reusing {run_dir}", flush=True)
            continue
        preset, extra = MODELS[model]
        epochs = max(1, steps // steps_per_epoch)
        cmd = [sys.executable, "-m", "training", "--preset", preset, *GEOMETRY, *extra]
        cmd += ["--batch-size", "16", "--ema-decay", "0.99"]
        cmd += ["--epochs", str(epochs), "--steps-per-epoch", str(steps_per_epoch)]
        cmd += ["--seed", str(train_seed), "--logdir", workdir, "--quiet"]
        if os.path.exists(run_dir):
            cmd = [sys.executable, "-m", "training", "--resume", run_dir, "--quiet"]
        else:
            cmd += ["--run-name", model]
        print(f"{model}: {' '.join(cmd[1:])}", flush=True)
        wall0, cpu0 = time.perf_counter(), _children_cpu()
        load0 = os.getloadavg()[0]
        subprocess.run(cmd, check=True, cwd=ROOT)
        # ``python -m training`` names the run NAME-<time>: move it to WORKDIR/model.
        made = sorted(
            d
            for d in os.listdir(workdir)
            if d.startswith(model + "-") and os.path.isdir(os.path.join(workdir, d))
        )
        if made and not os.path.exists(run_dir):
            os.replace(os.path.join(workdir, made[-1]), run_dir)
        timings[model] = {
            "steps": epochs * steps_per_epoch,
            "wall_s": round(time.perf_counter() - wall0, 1),
            "cpu_s": round(_children_cpu() - cpu0, 1),
            "load_before": round(load0, 2),
            "load_after": round(os.getloadavg()[0], 2),
        }
        with open(timings_path, "w") as f:
            json.dump(timings, f, indent=2)
        print(f"{model}: {timings[model]}", flush=True)
    return timings


def evaluate_all(workdir, models, num_clips, seed, batch_size=128):
    """Rows of the comparison table (see the module docstring)."""
    import keras
    import numpy as np

    import keras_vgan  # noqa: F401  (registers the serialisable classes)
    from keras_vgan.builders import build_gan
    from keras_vgan.config import TrainConfig
    from keras_vgan.metrics import evaluation

    timings = {}
    path = os.path.join(workdir, "timings.json")
    if os.path.exists(path):
        with open(path) as f:
            timings = json.load(f)
    real, what = evaluation.real_batches(
        "moving_mnist", frames=16, size=32, num_clips=num_clips, batch_size=batch_size
    )
    evaluator = evaluation.Evaluator(real, what)
    table = []

    def add(name, fake, **extra):
        start = time.perf_counter()
        rows = {r["metric"]: r for r in evaluator.evaluate(fake)}
        table.append({"name": name, **{k: v["value"] for k, v in rows.items()}, **extra})
        print(f"  {name}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
        return rows

    other, _ = evaluation.real_batches(
        "moving_mnist",
        frames=16,
        size=32,
        num_clips=num_clips,
        batch_size=batch_size,
        seed=evaluation.EVAL_SEED + 1,
    )
    protocol = add("real, independent draw (floor)", other)
    rng = np.random.default_rng(seed)
    add("real, frames shuffled in time", [b[:, rng.permutation(16)] for b in other])
    add("real, first frame frozen", [np.repeat(b[:, :1], 16, axis=1) for b in other])
    add("uniform noise", [rng.uniform(-1, 1, b.shape).astype("float32") for b in other])
    for model in models:
        run_dir = os.path.join(workdir, model)
        if not os.path.exists(os.path.join(run_dir, "model.keras")):
            print(f"  {model}: no finished run in {run_dir}; skipped", file=sys.stderr)
            continue
        with open(os.path.join(run_dir, "config.json")) as f:
            config = TrainConfig.from_dict(json.load(f))
        keras.utils.set_random_seed(config.seed)  # the initial weights of the run
        untrained = build_gan(config)
        add(
            f"{model}, untrained",
            evaluation.generated_batches(untrained, num_clips, batch_size, seed),
        )
        gan = keras.saving.load_model(os.path.join(run_dir, "model.keras"))
        t = timings.get(model, {})
        fake = list(evaluation.generated_batches(gan, num_clips, batch_size, seed))
        add(
            f"{model}, trained",
            fake,
            steps=int(gan.g_optimizer.iterations.numpy()),
            wall_s=t.get("wall_s"),
            cpu_s=t.get("cpu_s"),
        )
        # The same clips with their frames shuffled: how much of the score comes from
        # coherent motion (real clips: floor -> the "frames shuffled" row).
        shuffled = [b[:, rng.permutation(b.shape[1])] for b in fake]
        table[-1]["fd_shuffled"] = evaluator.evaluate(shuffled)[0]["value"]
    return table, protocol


def print_table(table, protocol):
    print("Offline metric on built-in Moving MNIST, 16 frames of 32x32 (lower FD/KVD is better)")
    for key in ("offline_fd", "offline_kvd", "offline_is"):
        print(f"  {key}: {protocol[key]['protocol']}")
    head = (
        f"{'clips':<34} {'FD':>9} {'KVD':>9} {'IS':>6} {'FD shuf':>9} "
        f"{'G steps':>8} {'wall s':>7} {'CPU s':>7}"
    )
    print("FD shuf: FD of the same generated clips with their frames shuffled in time")
    print(head)
    print("-" * len(head))
    for row in table:
        extra = ""
        if "steps" in row:
            extra = (
                f" {row['fd_shuffled']:>9.3f} {row['steps']:>8} {row['wall_s'] or 0:>7.0f} "
                f"{row['cpu_s'] or 0:>7.0f}"
            )
        print(
            f"{row['name']:<34} {row['offline_fd']:>9.3f} {row['offline_kvd']:>9.3f} "
            f"{row['offline_is']:>6.2f}{extra}"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default="/tmp/keras_vgan_quality")
    parser.add_argument("--train", action="store_true", help="train missing runs first")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--steps", type=int, default=2400)
    parser.add_argument("--steps-per-epoch", type=int, default=200)
    parser.add_argument("--clips", type=int, default=2048)
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated noise")
    parser.add_argument("--train-seed", type=int, default=0, help="--seed of the training runs")
    args = parser.parse_args(argv)
    print("\n".join(keras_vgan.runtime.format_runtime()))  # the figures hold for this CPU
    models = [m for m in args.models.split(",") if m]
    if args.train:
        train_all(args.workdir, args.steps, args.steps_per_epoch, models, args.train_seed)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    table, protocol = evaluate_all(args.workdir, models, args.clips, args.seed)
    print_table(table, protocol)
    with open(os.path.join(args.workdir, "quality.json"), "w") as f:
        json.dump(
            {"protocol": {k: v["protocol"] for k, v in protocol.items()}, "rows": table},
            f,
            indent=2,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
