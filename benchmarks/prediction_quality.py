"""Moving MNIST 10 -> 10 prediction quality after a fixed CPU budget per model and seed.

Trains each prediction preset (``predict_<model>_moving_mnist``: SimVP, TAU, ConvLSTM,
the 3D predictor) on the built-in Moving MNIST (training digits) for ``--seeds`` until
the process has used ``--budget-cpu-s`` seconds of CPU time (all threads counted, so
the budget does not depend on how busy a shared machine is), then scores the EMA
generator on held-out clips (the 500 held-out test digits, another seed) next to the
copy-last-frame and blank-frame baselines, with OpenSTL's protocol:

* MSE and MAE per frame, summed over the 64x64 pixels on the [0, 1] scale, averaged
  over frames and clips; SSIM (``tf.image.ssim``) and PSNR per frame
  (``keras_vgan.metrics.reconstruction``); per time step too;
* generator parameters, analytic forward FLOPs per clip (2 per multiply-add of the
  convolutions and dense layers: ``train_throughput.analytic_flops``) and inference
  clips per second (batch 16, wall clock);
* the standard ``mnist_test_seq.npy`` (``--npy``: its first ``--clips`` sequences) when
  given, besides the built-in held-out split;
* an autoregressive roll-out to 20 future frames (held-out 30-frame clips).

The one-cycle schedule needs the run's length in advance: a throwaway copy of the
model first times a few steps (not counted in the budget; its CPU seconds are
reported), and the schedule spans the steps the budget then buys. A model spec
``NAME+adv`` trains with the engine's adversarial term (``adv_weight=0.01``).
Each (model, seed) writes ``OUT/<model>-s<seed>.json``, a side-by-side GIF
(context + prediction | context + truth) and a PNG sheet (truth and prediction rows
of the future frames); ``--report OUT`` prints the tables of what is there.

Published results on the real Moving MNIST test set, after long GPU training, for
reference: ConvLSTM 29.9 MSE / 0.925 SSIM, PredRNN 25.0 / 0.944, SimVP 23.8 / 0.948,
TAU 19.8 / 0.957 (OpenSTL, 200 epochs).

    python benchmarks/prediction_quality.py --out /tmp/pq            # 900 CPU-s, seeds 0,1
    python benchmarks/prediction_quality.py --budget-cpu-s 60 --seeds 0 --clips 64 --out /tmp/q
    python benchmarks/prediction_quality.py --report /tmp/pq
"""

import argparse
import dataclasses
import glob
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras_vgan  # noqa: E402, F401, I001  (oneDNN on before TensorFlow loads)
import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_vgan import builders, presets, video_io  # noqa: E402
from keras_vgan.callbacks import CPUBudget  # noqa: E402
from keras_vgan.metrics.reconstruction import evaluate_predictor, format_table  # noqa: E402
from keras_vgan.tasks import task_baselines  # noqa: E402

MODELS = (
    "predict_simvp",
    "predict_simvp_flow",
    "predict_tau",
    "predict_convlstm",
    "predict_conv3d",
)
METRICS = ("mse", "mae", "ssim", "psnr")
HIGHER = {"ssim", "psnr"}
# "Beats" means better by this fraction of the baseline's value: a predictor that has
# collapsed to the blank frame matches it to a few parts in a thousand, which is a tie.
MARGIN = 0.01
CALIBRATION_STEPS = 6


def config_of(spec, size, seed):
    """``(name, config)`` of a model spec: ``predict_x``, then ``+adv`` (the adversarial
    term, ``adv_weight=0.01``) or ``+FIELD=VALUE`` overrides of the preset."""
    model, *variants = spec.split("+")
    config = dataclasses.replace(presets.get_preset(f"{model}_moving_mnist"), size=size, seed=seed)
    for variant in variants:
        field, _, value = variant.partition("=")
        if variant == "adv":
            field, value = "adv_weight", "0.01"
        if not hasattr(config, field) or not value:
            raise ValueError(f"model spec {spec!r}: {variant!r} is not adv or FIELD=VALUE")
        kind = type(getattr(config, field))
        config = dataclasses.replace(config, **{field: kind(value)})
    return spec, config


def step_cost(config):
    """CPU seconds per training step of ``config``'s model (a throwaway copy, after
    tracing) and the CPU seconds the measurement took."""
    t0 = time.process_time()
    keras.utils.set_random_seed(config.seed)
    gan = builders.build_gan(config)
    timer = CPUBudget(1e9)
    gan.fit(
        builders.build_task_pairs(config).take(CALIBRATION_STEPS),
        epochs=1,
        callbacks=[timer],
        verbose=0,
    )
    m = timer.marks
    cost = (m[-1] - m[1]) / (len(m) - 2)  # the first step traces
    return cost, time.process_time() - t0


def inference_speed(gan, x, repeats=3):
    """Clips per second of ``gan.generate`` on the batch ``x`` (wall clock, after a warm-up)."""
    gan.generate(x)
    t = time.time()
    for _ in range(repeats):
        np.asarray(gan.generate(x))
    return repeats * len(x) / (time.time() - t)


def write_samples(path, gan, held_out, n=3):
    """A side-by-side GIF (context + prediction | context + truth) and a PNG sheet."""
    x, y = (np.asarray(a)[:n] for a in held_out[0])
    p = np.asarray(gan.generate(x))
    left = np.concatenate([x, p], axis=1)
    right = np.concatenate([x, y], axis=1)
    side = np.concatenate([left, np.full_like(left[:, :, :, :1], 1.0), right], axis=3)
    video_io.write_gif(path + ".gif", video_io.video_grid(side, cols=1, pad=2, pad_value=1.0))
    rows = np.stack([y, p], axis=1).reshape((-1,) + y.shape[1:])  # truth, prediction, ...
    video_io.write_png(path + ".png", video_io.contact_sheet(rows))


def npy_pairs(path, clips, batch=32):
    """The first ``clips`` sequences of ``mnist_test_seq.npy`` as (context, future) batches."""
    seq = np.load(path, mmap_mode="r")[:, :clips]  # [20, N, 64, 64] uint8
    v = np.asarray(seq, np.float32).transpose(1, 0, 2, 3)[..., None] / 127.5 - 1.0
    return [(v[i : i + batch, :10], v[i : i + batch, 10:]) for i in range(0, len(v), batch)]


def run_one(spec, seed, args, held_out, long_held_out, npy):
    from train_throughput import analytic_flops

    name, config = config_of(spec, args.size, seed)
    cost, calibration = step_cost(config)
    steps = max(int(args.budget_cpu_s / cost), 10)
    config = dataclasses.replace(config, epochs=1, steps_per_epoch=steps)
    keras.utils.set_random_seed(seed)
    gan = builders.build_gan(config)
    budget = CPUBudget(args.budget_cpu_s)
    wall = time.time()
    history = gan.fit(
        builders.build_task_pairs(config), epochs=1, steps_per_epoch=steps,
        callbacks=[budget], verbose=0,
    ).history  # fmt: skip
    wall = time.time() - wall
    used = budget.marks[-1] - budget.start
    metrics = evaluate_predictor(lambda x: gan.generate(x), held_out)
    k = config.context_frames
    out = dict(
        model=name,
        seed=seed,
        steps=budget.steps,
        planned_steps=steps,
        batch_size=config.batch_size,
        cpu_s=used,
        wall_s=wall,
        calibration_cpu_s=calibration,
        final_l2=float(history["l2"][-1]),
        result=metrics.result(),
        per_step={m: [float(v) for v in metrics.per_step()[m]] for m in METRICS},
        params=int(gan.generator.count_params()),
        gflops_per_clip=analytic_flops(gan.ema_generator, (k, args.size, args.size, 1)) / 1e9,
        clips_per_s=inference_speed(gan, np.asarray(held_out[0][0])[:16]),
    )
    if long_held_out:
        n = np.asarray(long_held_out[0][1]).shape[1]
        roll = evaluate_predictor(lambda x: gan.generate(x, frames=n), long_held_out)
        out["rollout_per_step"] = {m: [float(v) for v in roll.per_step()[m]] for m in METRICS}
    if npy:
        out["npy_result"] = evaluate_predictor(lambda x: gan.generate(x), npy).result()
    base = os.path.join(args.out, f"{name}-s{seed}")
    write_samples(base, gan, held_out)
    with open(base + ".json", "w") as f:
        json.dump(out, f, indent=1)
    print(
        f"{name} seed {seed}: {out['steps']} steps of batch {config.batch_size}, "
        f"{used:.0f} CPU-s ({calibration:.0f} CPU-s calibration), {wall:.0f} s wall; "
        + " ".join(f"{m} {out['result'][m]:.4g}" for m in METRICS),
        flush=True,
    )


def baselines(held_out, frames):
    rows, per_step = {}, {}
    for name, fn in task_baselines("prediction").items():
        m = evaluate_predictor(lambda x, fn=fn: fn(x, frames), held_out)
        rows[name] = m.result()
        per_step[name] = {k: [float(v) for v in m.per_step()[k]] for k in METRICS}
    return rows, per_step


def _beats(result, rows, margin=MARGIN):
    """Whether ``result`` is better than both baselines of ``rows`` on every metric by
    ``margin`` of the baseline's value."""
    return all(
        result[k] > rows[b][k] * (1 + margin)
        if k in HIGHER
        else result[k] < rows[b][k] * (1 - margin)
        for k in METRICS
        for b in ("blank", "copy_last_frame")
    )


def report(out_dir):
    """Prints the tables of the runs in ``out_dir``; returns whether the best model
    beats both baselines on every metric."""
    with open(os.path.join(out_dir, "baselines.json")) as f:
        base = json.load(f)
    runs = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(out_dir, "*-s*.json")))]
    if not runs:
        print(f"no runs in {out_dir}")
        return False
    print(base["title"])
    rows = dict(base["rows"])
    by_model = {}
    for r in runs:
        by_model.setdefault(r["model"], []).append(r)
        rows[f"{r['model']} s{r['seed']}"] = r["result"]
    means = {}
    for model, rs in by_model.items():
        means[model] = {m: float(np.mean([r["result"][m] for r in rs])) for m in METRICS}
        rows[f"{model} mean"] = means[model]
    print(format_table(rows, columns=METRICS))
    print("\nper run: steps x batch, CPU-s (budget), parameters, forward GFLOP/clip, clips/s")
    for r in runs:
        print(
            f"  {r['model']} s{r['seed']}: {r['steps']} x {r['batch_size']} "
            f"(planned {r['planned_steps']}), {r['cpu_s']:.0f} CPU-s + "
            f"{r['calibration_cpu_s']:.0f} calibration, {r['wall_s']:.0f} s wall; "
            f"{r['params']:,} params, {r['gflops_per_clip']:.2f} GFLOP, "
            f"{r['clips_per_s']:.1f} clips/s"
        )
    print("\nper time step (mean over seeds): MSE / SSIM")
    steps = len(base["per_step"]["blank"]["mse"])
    width = max(len(n) for n in [*base["per_step"], *by_model]) + 2  # the name column
    head = "".join(f"{'t+' + str(t + 1):>13}" for t in range(steps))
    print(f"{'':<{width}}{head}")
    series = {n: v for n, v in base["per_step"].items()}
    for model, rs in by_model.items():
        series[model] = {m: np.mean([r["per_step"][m] for r in rs], axis=0) for m in METRICS}
    for name, ps in series.items():
        cells = "".join(f"{a:>7.1f}/{b:.3f}" for a, b in zip(ps["mse"], ps["ssim"], strict=True))
        print(f"{name:<{width}}{cells}")
    if any("rollout_per_step" in r for r in runs):
        print("\nroll-out to 20 future frames (trained on 10), MSE per step, mean over seeds:")
        for name, ps in base.get("rollout_per_step", {}).items():
            print(f"  {name:<{width}}" + " ".join(f"{v:.0f}" for v in ps["mse"]))
        for model, rs in by_model.items():
            rr = [r["rollout_per_step"]["mse"] for r in rs if "rollout_per_step" in r]
            print(f"  {model:<{width}}" + " ".join(f"{v:.0f}" for v in np.mean(rr, axis=0)))
    if any("npy_result" in r for r in runs):
        print("\nmnist_test_seq.npy:")
        npy_rows = dict(base.get("npy_rows", {}))
        for r in runs:
            if "npy_result" in r:
                npy_rows[f"{r['model']} s{r['seed']}"] = r["npy_result"]
        print(format_table(npy_rows, columns=METRICS))
    print()
    ok_any = False
    for model, m in means.items():
        beats = _beats(m, base["rows"])
        every_seed = all(_beats(r["result"], base["rows"]) for r in by_model[model])
        ok_any |= beats
        print(
            f"{model} beats blank and copy-last-frame on every metric by {MARGIN:.0%}: "
            f"mean {beats}, "
            f"every seed {every_seed}"
        )
    return ok_any


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-cpu-s", type=float, default=900.0, help="CPU seconds per run")
    parser.add_argument("--size", type=int, default=64, help="frame size (default 64)")
    parser.add_argument("--clips", type=int, default=256, help="held-out clips")
    parser.add_argument("--eval-seed", type=int, default=1234, help="seed of the held-out clips")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated model specs")
    parser.add_argument("--seeds", default="0,1", help="comma-separated training seeds")
    parser.add_argument("--npy", default=None, help="mnist_test_seq.npy, scored too if given")
    parser.add_argument("--out", default="prediction_quality", help="folder of the results")
    parser.add_argument("--report", default=None, metavar="OUT", help="print the tables of OUT")
    parser.add_argument(
        "--threads", type=int, default=0, help="TensorFlow intra-op threads (0: TF's default)"
    )
    args = parser.parse_args(argv)
    if args.report:
        return 0 if report(args.report) else 1
    if args.threads:  # CPU-s per step barely change; a 1-thread process gets less of a busy CPU
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    print("\n".join(keras_vgan.runtime.format_runtime()), flush=True)
    os.makedirs(args.out, exist_ok=True)
    _, config0 = config_of(MODELS[0], args.size, 0)
    pairs_of = dict(seed=args.eval_seed, split="test", num_clips=args.clips, batch_size=32)
    held_out = list(builders.build_task_pairs(config0, **pairs_of))
    long_config = dataclasses.replace(config0, frames=30)
    long_held_out = list(builders.build_task_pairs(long_config, **{**pairs_of, "num_clips": 64}))
    npy = npy_pairs(args.npy, args.clips) if args.npy else None
    rows, per_step = baselines(held_out, 10)
    _, roll_per_step = baselines(long_held_out, 20)
    title = (
        f"Moving MNIST 10 -> 10, {args.size}x{args.size}, {args.clips} held-out clips "
        f"(test digits, seed {args.eval_seed}); budget {args.budget_cpu_s:.0f} CPU-s per run; "
        "MSE/MAE per frame summed over pixels on [0, 1]"
    )
    base = dict(title=title, rows=rows, per_step=per_step, rollout_per_step=roll_per_step)
    if npy:
        base["npy_rows"] = baselines(npy, 10)[0]
    path = os.path.join(args.out, "baselines.json")
    with open(f"{path}.{os.getpid()}", "w") as f:  # parallel processes may share OUT
        json.dump(base, f, indent=1)
    os.replace(f"{path}.{os.getpid()}", path)
    for spec in args.models.split(","):
        for seed in [int(s) for s in args.seeds.split(",")]:
            run_one(spec, seed, args, held_out, long_held_out, npy)
    print()
    return 0 if report(args.out) else 1


if __name__ == "__main__":
    np.set_printoptions(precision=2)
    sys.exit(main())
