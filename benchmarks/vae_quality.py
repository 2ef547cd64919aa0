"""The VAE family on Moving MNIST 10 -> 10 after a fixed CPU budget per model.

Trains SVG-LP and TD-VAE (the ``svg_lp_moving_mnist`` / ``tdvae_moving_mnist``
presets at ``--size``, default 32x32) on the built-in Moving MNIST (training digits)
until the process has used ``--budget-cpu-s`` seconds of CPU time for training
(``callbacks.CPUBudget``: all threads, so the budget does not depend on how busy a
shared machine is), then scores the EMA network on held-out clips (the held-out test
digits, another seed):

* prediction: ``--samples`` futures per context; MSE (per frame, summed over pixels on
  [0, 1]), SSIM and PSNR (``keras_vgan.metrics.reconstruction``) of the best sample per
  clip (best-of-N) and averaged over the samples (mean), next to copy-last-frame;
  per time step for the best-of-N;
* generation: the offline Fréchet distance (``keras_vgan.metrics.offline``, 16 frames
  of 32x32) of ``--fd-clips`` unconditional samples (the prior after the blank start
  frame) against as many real clips; the real test clips against other real clips
  give its floor.

Each model writes ``OUT/<model>.json``; ``--report OUT`` prints the table of what is there.

    python benchmarks/vae_quality.py --out /tmp/vq                       # 300 CPU-s each
    python benchmarks/vae_quality.py --budget-cpu-s 30 --clips 32 --fd-clips 64 --out /tmp/v
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

import keras_vgan  # noqa: E402, F401, I001  (oneDNN on before TensorFlow loads)
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_vgan import builders, presets, runtime  # noqa: E402
from keras_vgan.callbacks import CPUBudget  # noqa: E402
from keras_vgan.data import builtin_dataset  # noqa: E402
from keras_vgan.metrics.offline import offline_metrics  # noqa: E402
from keras_vgan.metrics.reconstruction import (  # noqa: E402
    evaluate_predictor,
    evaluate_stochastic_predictor,
    format_per_step,
    format_table,
)
from keras_vgan.variational import prediction_noise  # noqa: E402

MODELS = ("svg_lp", "tdvae")
COLUMNS = ("mse", "ssim", "psnr", "offline_fd", "steps", "cpu_s")


def config_of(model, args):
    config = presets.get_preset(f"{model}_moving_mnist")
    return dataclasses.replace(
        config,
        size=args.size,
        width=args.width,
        depth=3,
        batch_size=args.batch_size,
        epochs=1,
        steps_per_epoch=10**6,
        seed=args.seed,
    )


def held_out_pairs(config, clips):
    return list(
        builders.build_task_pairs(
            config, seed=config.seed + 1000, split="test", num_clips=clips, batch_size=32
        )
    )


def real_clips(size, num, seed, split):
    ds = builtin_dataset("moving_mnist", frames=16, size=size, num_clips=num, batch_size=64,
                         seed=seed, split=split, drop_remainder=False)  # fmt: skip
    return np.concatenate([np.asarray(b) for b in ds])


def run_one(model, args):
    config = config_of(model, args)
    keras.utils.set_random_seed(config.seed)
    vae = builders.build_gan(config)
    budget = CPUBudget(args.budget_cpu_s)
    wall = time.time()
    history = vae.fit(builders.build_train_dataset(config), epochs=1,
                      steps_per_epoch=config.steps_per_epoch, callbacks=[budget],
                      verbose=0)  # fmt: skip
    steps = int(vae.g_optimizer.iterations.numpy())
    train_cpu, wall = budget.used(), time.time() - wall
    net = vae.ema_generator
    steps_noise = net.noise_steps(net.target_frames)

    @tf.function(reduce_retracing=True, autograph=False)  # static Python loops
    def predict(x, noise):
        return vae.generate(x, noise=noise)

    def sample(x, s):
        noise = prediction_noise(tf.shape(x)[0], steps_noise, net.z_dim, seed=7, sample=s)
        return predict(tf.constant(x), noise)

    held_out = held_out_pairs(config, args.clips)
    scores = evaluate_stochastic_predictor(sample, held_out, args.samples)
    rows = {f"{model} best-of-{args.samples}": scores["best"].result(),
            f"{model} mean-of-{args.samples}": scores["mean"].result()}  # fmt: skip
    per_step = scores["best"].per_step()

    # Unconditional samples vs real held-out clips (16 frames of 32x32 for the metric).
    latent = vae.latent_dim

    @tf.function(reduce_retracing=True, autograph=False)  # static Python loops
    def uncond(z):
        return vae.generate(z)

    rng = np.random.default_rng(11)
    fake = [
        np.asarray(uncond(tf.constant(rng.standard_normal((32, latent)), tf.float32)))[:, :16]
        for _ in range(-(-args.fd_clips // 32))
    ]
    fake = np.concatenate(fake)[: args.fd_clips]
    real = real_clips(args.size, args.fd_clips, config.seed + 2000, "test")
    fd = offline_metrics(real, fake)["offline_fd"]
    for row in rows.values():
        row.update(offline_fd=fd, steps=steps, cpu_s=train_cpu)
    result = dict(
        model=model,
        rows=rows,
        per_step={k: v.tolist() for k, v in per_step.items()},
        steps=steps,
        train_cpu_s=train_cpu,
        train_wall_s=wall,
        final_loss={k: float(v[-1]) for k, v in history.history.items()},
        config=dataclasses.asdict(config),
    )
    return result


def baseline_rows(args):
    config = config_of("svg_lp", args)
    held_out = held_out_pairs(config, args.clips)
    copy = evaluate_predictor(lambda x: np.repeat(np.asarray(x)[:, -1:], 10, axis=1), held_out)
    real_a = real_clips(args.size, args.fd_clips, args.seed + 2000, "test")
    real_b = real_clips(args.size, args.fd_clips, args.seed + 3000, "test")
    row = copy.result()
    row["offline_fd"] = offline_metrics(real_a, real_b)["offline_fd"]  # real vs real: the floor
    return {"copy_last_frame (FD: real vs real)": row}


def report(out):
    rows, per_step = {}, {}
    base = os.path.join(out, "baselines.json")
    for path in sorted(glob.glob(os.path.join(out, "*.json"))):
        if os.path.basename(path) in ("baselines.json", "meta.json"):
            continue
        with open(path) as f:
            r = json.load(f)
        for row in r["rows"].values():
            row.setdefault("cpu_s", row.get("train_cpu_s"))  # files of the first version
        rows.update(r["rows"])
        per_step[r["model"]] = r["per_step"]
    if os.path.exists(base):
        with open(base) as f:
            rows.update(json.load(f))
    meta = {}
    if os.path.exists(os.path.join(out, "meta.json")):
        with open(os.path.join(out, "meta.json")) as f:
            meta = json.load(f)
    title = (
        f"Moving MNIST 10 -> 10 at {meta.get('size', '?')}x{meta.get('size', '?')}, "
        f"{meta.get('clips', '?')} held-out clips, {meta.get('samples', '?')} samples per "
        f"context; {meta.get('budget_cpu_s', '?')} CPU-s of training per model; MSE per "
        f"frame summed over pixels on [0, 1]; offline FD of {meta.get('fd_clips', '?')} "
        "unconditional 16-frame samples"
    )
    print(format_table(rows, columns=COLUMNS, title=title))
    for model, steps in per_step.items():
        print(f"\nper time step ({model}, best-of-N):")
        print(format_per_step({k: np.asarray(v) for k, v in steps.items()},
                              metrics=("mse", "ssim", "psnr")))  # fmt: skip
    if meta.get("runtime"):
        runtime_lines = meta["runtime"]
        print(
            "\n" + "\n".join(runtime_lines if isinstance(runtime_lines, list) else [runtime_lines])
        )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="/tmp/vae_quality")
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--budget-cpu-s", type=float, default=300.0)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--clips", type=int, default=128, help="held-out clips")
    p.add_argument("--samples", type=int, default=5, help="futures per context")
    p.add_argument("--fd-clips", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--report", default=None, metavar="OUT", help="print the table of OUT")
    args = p.parse_args(argv)
    if args.report:
        report(args.report)
        return 0
    os.makedirs(args.out, exist_ok=True)
    meta = {k: getattr(args, k) for k in ("size", "clips", "samples", "fd_clips", "budget_cpu_s")}
    meta["runtime"] = runtime.format_runtime()
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(meta, f)
    with open(os.path.join(args.out, "baselines.json"), "w") as f:
        json.dump(baseline_rows(args), f)
    for model in args.models.split(","):
        result = run_one(model, args)
        with open(os.path.join(args.out, f"{model}.json"), "w") as f:
            json.dump(result, f, indent=1)
        print(f"{model}: {result['steps']} steps, {result['train_cpu_s']:.0f} CPU-s", flush=True)
    report(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
