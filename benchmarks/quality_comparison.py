"""Sample quality of the model families under one CPU budget, by the offline metric.

Run by hand (never part of the test suite)::

    .venv/bin/python benchmarks/quality_comparison.py --workdir /tmp/quality --train
    .venv/bin/python benchmarks/quality_comparison.py --workdir /tmp/quality   # evaluate only
    # the same with another training seed (the table needs two):
    .venv/bin/python benchmarks/quality_comparison.py --workdir /tmp/quality_s1 --train \
        --train-seed 1

``--train`` trains each model (``--models``, default every family in ``MODELS``)
one after the other with ``python -m training`` (each its own process, so one does
not slow the next) on the built-in Moving MNIST at 16 frames of 32x32 (the offline
encoder's clip format), each for **the same CPU budget** (``--budget-cpu-s``,
default 300: ``TrainConfig.cpu_budget_s``, process CPU time of all threads, so a
budget buys the same work on a busy machine), starting from each family's preset:
the 64x64 zoo presets with the geometry reduced (``--width 16 --depth 3``), batch 16
and ``ema_decay`` 0.99; StyleGAN-V from its own 32x32 preset
(``stylegan_v_quick``). A family is compared at equal cost, not equal steps: a cheaper
step gets more of them. ``--variant NAME=MODEL:FLAGS`` adds a run of MODEL's preset
with extra training flags (``--variant vgan_hinge=vgan:"--loss hinge"``): the A/B
of a change at the same budget. A run that already finished in ``--workdir`` is
reused. Wall and CPU time of each run are recorded in ``WORKDIR/timings.json``.

Evaluation then prints one table: for each trained model (and with
``--untrained`` an untrained generator of the same architecture) and reference
rows (real vs an independent real draw: the floor; real vs uniform noise), the
offline Fréchet distance (``keras_vgan.metrics.offline``), KVD and the
Inception-Score analogue, each on ``--clips`` generated clips (default 2,048)
against as many real clips (``keras_vgan.metrics.evaluation``'s protocol), and
for each trained model "FD shuf": the FD of the same clips with their frames
shuffled in time. Shuffling real clips raises the FD from the floor to the
"frames shuffled" row; a generator whose FD does not move has no coherent
motion to destroy, and one whose FD falls under shuffling makes too little
motion. For models that sample any length (``generate(z, frames=N)``), "FD late"
is the FD of frames 48-63 of 64-frame samples (against the same real 16-frame
clips): quality must not collapse past the trained length. The table is also
written to ``WORKDIR/quality.json``.
"""

import argparse
import inspect
import json
import os
import resource
import shlex
import shutil
import subprocess
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # native log lines off (the table is the output)

import keras_vgan  # noqa: F401  (oneDNN on before TensorFlow loads: keras_vgan.runtime)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = {
    # model: (preset it starts from, extra flags, reduce the geometry to GEOMETRY)
    "frame_gan": ("frame_gan_moving_mnist", [], True),
    "vgan": ("vgan_moving_mnist", ["--latent-dim", "64"], True),
    "mocogan": ("mocogan_moving_mnist", [], True),
    "tgan": ("tgan_moving_mnist", [], True),
    "mocogan_layers": ("mocogan_layers_moving_mnist", [], True),
    # Its own small preset (the geometry and batch of its recipe): 16x32x32 already.
    "stylegan_v": ("stylegan_v_quick", [], False),
}
GEOMETRY = ["--width", "16", "--depth", "3"]
CLIP = ["--frames", "16", "--size", "32", "--channels", "1", "--data", "moving_mnist"]


def _children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def parse_variants(specs):
    """``["NAME=MODEL:FLAGS", ...]`` -> ``{NAME: (preset, flags, reduce)}`` added to MODELS."""
    out = {}
    for spec in specs:
        name, sep, rest = spec.partition("=")
        model, _, flags = rest.partition(":")
        if not sep or model not in MODELS or not name or name in MODELS:
            raise SystemExit(
                f"--variant {spec!r}: expected NAME=MODEL:FLAGS with MODEL one of "
                f"{', '.join(MODELS)} and a new NAME"
            )
        preset, extra, reduce = MODELS[model]
        out[name] = (preset, [*extra, *shlex.split(flags)], reduce)
    return out


def train_all(workdir, budget_cpu_s, models, table, train_seed=0, steps_per_epoch=100):
    """Trains each of ``models`` (names of ``table``) for ``budget_cpu_s`` CPU seconds."""
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
        preset, extra, reduce = table[model]
        cmd = [sys.executable, "-m", "training", "--preset", preset, *CLIP]
        if reduce:  # the zoo's 64x64 presets, brought to one small geometry and batch
            cmd += [*GEOMETRY, "--batch-size", "16", "--ema-decay", "0.99"]
        # Epochs enough for any budget; the budget ends the run.
        cmd += ["--epochs", "100000", "--steps-per-epoch", str(steps_per_epoch)]
        cmd += ["--cpu-budget-s", str(budget_cpu_s), *extra]
        cmd += ["--seed", str(train_seed), "--logdir", workdir, "--quiet", "--run-name", model]
        if os.path.exists(run_dir):
            shutil.rmtree(run_dir)  # an unfinished run: a budget does not resume
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
            "budget_cpu_s": budget_cpu_s,
            "wall_s": round(time.perf_counter() - wall0, 1),
            "cpu_s": round(_children_cpu() - cpu0, 1),
            "load_before": round(load0, 2),
            "load_after": round(os.getloadavg()[0], 2),
        }
        with open(timings_path, "w") as f:
            json.dump(timings, f, indent=2)
        print(f"{model}: {timings[model]}", flush=True)
    return timings


def _any_length(gan):
    """Whether the generator samples any clip length (``generate(z, frames=N)``)."""
    return "frames" in inspect.signature(type(gan.ema_generator).call).parameters


def _late_batches(gan, num_clips, batch_size, seed, frames=64, window=16):
    """The last ``window`` frames of ``frames``-frame samples (the same noise as the FD's)."""
    rng = np.random.default_rng(seed)
    done = 0
    while done < num_clips:
        n = min(batch_size, num_clips - done)
        z = rng.standard_normal((n, gan.latent_dim)).astype("float32")
        labels = None
        if gan.conditional:
            labels = (np.arange(done, done + n) % gan.ema_generator.num_classes).astype("int32")
        video = np.asarray(gan.generate(z, labels=labels, frames=frames), np.float32)
        yield video[:, frames - window :]
        done += n


def evaluate_all(workdir, models, num_clips, seed, batch_size=128, untrained_rows=False):
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
        if untrained_rows:
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
        if _any_length(gan):  # frames 48-63 of 64-frame samples: no collapse over time
            late = list(_late_batches(gan, num_clips, batch_size, seed))
            table[-1]["fd_late"] = evaluator.evaluate(late)[0]["value"]
    return table, protocol


def print_table(table, protocol):
    print("Offline metric on built-in Moving MNIST, 16 frames of 32x32 (lower FD/KVD is better)")
    for key in ("offline_fd", "offline_kvd", "offline_is"):
        print(f"  {key}: {protocol[key]['protocol']}")
    head = (
        f"{'clips':<34} {'FD':>9} {'KVD':>9} {'IS':>6} {'FD shuf':>9} {'FD late':>9} "
        f"{'G steps':>8} {'wall s':>7} {'CPU s':>7}"
    )
    print("FD shuf: FD of the same generated clips with their frames shuffled in time")
    print("FD late: FD of frames 48-63 of 64-frame samples (models that sample any length)")
    print(head)
    print("-" * len(head))
    for row in table:
        extra = ""
        if "steps" in row:
            late = f"{row['fd_late']:>9.3f}" if "fd_late" in row else f"{'-':>9}"
            extra = (
                f" {row['fd_shuffled']:>9.3f} {late} {row['steps']:>8} {row['wall_s'] or 0:>7.0f} "
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
    parser.add_argument(
        "--budget-cpu-s", type=float, default=300.0, help="CPU seconds of training per model"
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        help='NAME=MODEL:FLAGS, a run of MODEL with extra flags, e.g. vgan_h=vgan:"--loss hinge"',
    )
    parser.add_argument("--clips", type=int, default=2048)
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated noise")
    parser.add_argument(
        "--untrained", action="store_true", help="also score each untrained generator"
    )
    parser.add_argument("--train-seed", type=int, default=0, help="--seed of the training runs")
    args = parser.parse_args(argv)
    print("\n".join(keras_vgan.runtime.format_runtime()))  # the figures hold for this CPU
    variants = parse_variants(args.variant)
    table = {**MODELS, **variants}
    # A variant also named in --models is one run, not two rows.
    models = list(dict.fromkeys([m for m in args.models.split(",") if m] + list(variants)))
    unknown = [m for m in models if m not in table]
    if unknown and args.train:  # evaluation reads any finished run of WORKDIR by name
        raise SystemExit(f"--models: unknown {unknown}; known: {', '.join(table)}")
    if args.train:
        train_all(args.workdir, args.budget_cpu_s, models, table, args.train_seed)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    table, protocol = evaluate_all(
        args.workdir, models, args.clips, args.seed, untrained_rows=args.untrained
    )
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
