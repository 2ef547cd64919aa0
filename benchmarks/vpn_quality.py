"""A trained Video Pixel Network (``model="vpn"``) on held-out Moving MNIST: the table.

Scores the EMA network of a finished run (``python -m training --preset vpn_moving_mnist
--cpu-budget-s N``) on held-out clips (the held-out test digits, the run's seed + 1000):

* likelihood: the NLL in nats per frame of the ``T - K`` future frames given the ``K``
  context frames (VPN's protocol), and of every frame (the first ones from the blank
  context), with bits per dimension;
* prediction from ``K`` context frames: MSE (per frame, summed over pixels on [0, 1]),
  SSIM and PSNR (``keras_vgan.metrics.reconstruction``) of the greedy future (top-k 1,
  pixel by pixel), of one sampled future (temperature 1) and, with ``--samples N > 1``,
  the best of N, next to copy-last-frame and blank;
* sampling cost: wall and CPU seconds per clip of the sampled futures and of the
  unconditional clips (batch ``--batch-size``, after a warm-up trace);
* generation: the offline Fréchet distance (``keras_vgan.metrics.offline``, clips
  resized to 32x32 by the metric) of ``--fd-clips`` unconditional samples against as
  many real held-out clips at the run's size; real against other real clips give its floor.

    python benchmarks/vpn_quality.py --run RUN_DIR --out RUN_DIR/vpn_quality.json
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras_vgan  # noqa: E402, F401, I001  (oneDNN on before TensorFlow loads)
import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_vgan import builders, runs, runtime  # noqa: E402
from keras_vgan.data import builtin_dataset  # noqa: E402
from keras_vgan.layers.predictors import prediction_baselines  # noqa: E402
from keras_vgan.metrics.offline import offline_metrics  # noqa: E402
from keras_vgan.models.vpn import to_levels  # noqa: E402
from keras_vgan.metrics.reconstruction import (  # noqa: E402
    evaluate_predictor,
    evaluate_stochastic_predictor,
    format_table,
)


def timed(fn):
    """``(result, wall seconds, process CPU seconds)`` of ``fn()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = np.asarray(fn())
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="a finished vpn run directory")
    parser.add_argument("--clips", type=int, default=64, help="held-out clips for prediction")
    parser.add_argument("--nll-clips", type=int, default=256, help="held-out clips for the NLL")
    parser.add_argument("--fd-clips", type=int, default=128, help="clips per side of the FD")
    parser.add_argument("--samples", type=int, default=1, help="sampled futures per context")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", default=None, help="JSON file (default RUN/vpn_quality.json)")
    args = parser.parse_args(argv)
    print("\n".join(runtime.format_runtime()))
    config = runs.load_run_config(args.run)
    if config.model != "vpn":
        parser.error(f"--run {args.run!r} trained model={config.model!r}, not vpn")
    model = keras.saving.load_model(os.path.join(args.run, "model.keras"))
    seed = config.seed + 1000
    k, n = config.context_frames, config.frames - config.context_frames

    def held_out(num):
        return list(builders.build_task_pairs(config, seed=seed, split="test", num_clips=num,
                                              batch_size=args.batch_size))  # fmt: skip

    result = {"run": args.run, "config": json.loads(config.to_json())}
    nll = model.held_out_nll(held_out(args.nll_clips))
    whole = [
        np.asarray(model.nll(np.concatenate([x, y], axis=1))) for x, y in held_out(args.nll_clips)
    ]
    whole = np.concatenate(whole)
    # References: the uniform model (log 256 a pixel) and the best model that ignores
    # every other pixel, the value histogram of training clips (add-one smoothed).
    train = builders.build_task_pairs(config, seed=config.seed, num_clips=args.nll_clips,
                                      batch_size=args.batch_size)  # fmt: skip
    counts = np.ones(256)
    for x, y in train:
        counts += np.bincount(
            np.asarray(to_levels(np.concatenate([x, y], 1))).ravel(), minlength=256
        )
    log_p = np.log(counts / counts.sum())
    future = np.concatenate([np.asarray(to_levels(y)) for _, y in held_out(args.nll_clips)])
    pixels = config.size * config.size
    result["nll"] = dict(
        nll,
        all_frames_nll_frame=float(whole.mean()),
        first_frame_nll=float(whole[:, 0].mean()),
        uniform_nll_frame=pixels * float(np.log(256)),
        histogram_nll_frame=-float(log_p[future].sum(axis=(2, 3, 4)).mean()),
    )
    print(f"references: uniform {result['nll']['uniform_nll_frame']:.1f}, value histogram "
          f"{result['nll']['histogram_nll_frame']:.1f} nats/frame")  # fmt: skip
    print(f"NLL {nll['nll_frame']:.2f} nats per future frame given {k} ({nll['bits_dim']:.4f} "
          f"bits/dim); every frame {whole.mean():.2f}; first frame {whole[:, 0].mean():.2f}")  # fmt: skip

    pairs = held_out(args.clips)
    ssim = config.size >= 11
    rows, cost = {}, {}
    x0 = pairs[0][0]
    model.generate(x0[:2], top_k=1)  # traced: the timings are of sampling alone
    model.generate(x0[:2])
    greedy_time, sampled_time = [0.0, 0.0], [0.0, 0.0]

    def greedy(x):
        out, wall, cpu = timed(lambda: model.generate(x, top_k=1))
        greedy_time[0] += wall
        greedy_time[1] += cpu
        return out

    def sampled(x, s=0):
        out, wall, cpu = timed(lambda: model.generate(x, seed=seed, sample=s))
        sampled_time[0] += wall
        sampled_time[1] += cpu
        return out

    rows["vpn greedy (top-k 1)"] = evaluate_predictor(greedy, pairs, ssim=ssim).result()
    if args.samples > 1:
        both = evaluate_stochastic_predictor(sampled, pairs, args.samples, ssim=ssim)
        rows[f"vpn best-of-{args.samples}"] = both["best"].result()
        rows[f"vpn mean-of-{args.samples}"] = both["mean"].result()
    else:
        rows["vpn sampled (T=1)"] = evaluate_predictor(sampled, pairs, ssim=ssim).result()
    for name, fn in prediction_baselines().items():
        rows[name] = evaluate_predictor(lambda x, fn=fn: fn(x, n), pairs, ssim=ssim).result()
    clips = sum(len(x) for x, _ in pairs)
    cost["greedy_s_per_clip"] = greedy_time[0] / clips
    cost["sampled_s_per_clip"] = sampled_time[0] / (clips * args.samples)
    cost["sampled_cpu_s_per_clip"] = sampled_time[1] / (clips * args.samples)
    print(format_table(rows, columns=("mse", "mae", "ssim", "psnr"),
                       title=f"{k} -> {n} on {clips} held-out clips of {config.size}x{config.size}"))  # fmt: skip
    result["prediction"] = rows

    net = model.ema_generator
    fake, wall, cpu = [], 0.0, 0.0
    model.generate(num=2, seed=99)  # traced
    for i in range(-(-args.fd_clips // args.batch_size)):
        z = np.asarray(model.sample_noise(args.batch_size, seed=10_000 + i))
        out, w, c = timed(lambda z=z: model.generate(z))
        fake.append(out)
        wall, cpu = wall + w, cpu + c
    fake = np.concatenate(fake)[: args.fd_clips]
    cost["unconditional_s_per_clip"] = wall / len(fake)
    cost["unconditional_cpu_s_per_clip"] = cpu / len(fake)

    def real(split_seed, num):
        ds = builtin_dataset("moving_mnist", frames=net.frames, size=config.size, split="test",
                             seed=split_seed, num_clips=num, batch_size=num)  # fmt: skip
        return np.asarray(next(iter(ds)))

    real_a, real_b = real(seed + 1, args.fd_clips), real(seed + 2, args.fd_clips)
    result["generation"] = {
        "offline_fd": offline_metrics(real_a, fake)["offline_fd"],
        "offline_fd_real_floor": offline_metrics(real_a, real_b)["offline_fd"],
        "fd_clips": int(len(fake)),
    }
    result["cost"] = cost
    print(json.dumps({"generation": result["generation"], "cost": cost}, indent=1))
    out = args.out or os.path.join(args.run, "vpn_quality.json")
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
