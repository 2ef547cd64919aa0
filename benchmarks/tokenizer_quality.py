"""The video tokenizer's quality after a fixed CPU budget: reconstruction and code usage.

Trains a tokenizer preset (``vqvae_moving_mnist`` by default: 16 frames of 32x32 built-in
Moving MNIST, training digits) with ``runs.train`` until the process has used
``--budget-cpu-s`` seconds of CPU time (``--cpu-budget-s`` of the training program: all
threads counted, so the budget does not depend on how busy a shared machine is), then
scores it on ``--clips`` held-out clips (the held-out test digits, seed + 1000:
``tokenizer.held_out_clips``):

* PSNR, SSIM, MSE per frame (``keras_vgan.metrics.reconstruction``; on [0, 1], MSE
  summed over a frame's pixels), of the EMA copy (what ``load_tokenizer`` returns) and
  of the raw weights, next to the blank (all background) reconstruction;
* the code perplexity and the fraction of the codebook the held-out clips use;
* the round trip: how many codes of the decoded clips are the codes they were decoded
  from, and Cohen's kappa of that agreement (0 at chance, 1 when all match);
* training steps, CPU seconds per step, steps per wall second, encode + decode clips/s.

    flock /tmp/kvgan_bench.lock python benchmarks/tokenizer_quality.py --out /tmp/tq
    python benchmarks/tokenizer_quality.py --preset vqvae_shapes --budget-cpu-s 60 --out /tmp/tq
"""

import argparse  # noqa: I001  (keras_vgan before keras: oneDNN on first)
import dataclasses
import json
import os
import time

import keras_vgan  # noqa: F401, I001  (oneDNN on before TensorFlow loads)
import keras
import numpy as np

from keras_vgan import presets, runs, runtime


def round_trip(net, batches):
    """``(match, kappa)`` of ``encode(decode(codes))`` against ``codes``."""
    same = total = 0
    p = np.zeros(net.codebook_size)
    q = np.zeros(net.codebook_size)
    for x in batches:
        codes = np.asarray(net.encode(x))
        again = np.asarray(net.encode(net.decode(codes)))
        same, total = same + int(np.sum(codes == again)), total + codes.size
        p += np.bincount(codes.ravel(), minlength=net.codebook_size)
        q += np.bincount(again.ravel(), minlength=net.codebook_size)
    match, chance = same / total, float(np.sum(p / total * q / total))
    return match, (match - chance) / (1 - chance)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="vqvae_moving_mnist")
    parser.add_argument("--budget-cpu-s", type=float, default=240.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--clips", type=int, default=256)
    parser.add_argument("--out", required=True, help="where the run and the JSON go")
    args = parser.parse_args(argv)

    from keras_vgan.models.vqvae import load_tokenizer
    from keras_vgan.tokenizer import evaluate_tokenizer, held_out_clips

    config = dataclasses.replace(
        presets.get_preset(args.preset),
        seed=args.seed,
        epochs=10_000,  # the budget ends the run
        cpu_budget_s=args.budget_cpu_s,
    )
    run_dir = os.path.join(args.out, f"{args.preset}-s{args.seed}")
    wall, cpu = time.perf_counter(), time.process_time()
    result = runs.train(config, run_dir, verbose=0)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    steps = result.steps_done
    batches = held_out_clips(config, args.clips, 32)
    # Per step: the budget over the steps it bought (CPUBudget counts from the first step);
    # the whole process (building, tracing, samples, saving) in cpu_s / wall_s.
    row = {"steps": steps, "cpu_s_per_step": args.budget_cpu_s / steps, "cpu_s": cpu,
           "wall_s": wall, "steps_per_wall_s": steps / wall}  # fmt: skip
    ema = load_tokenizer(run_dir)
    engine = keras.saving.load_model(os.path.join(run_dir, "model.keras"))
    for name, net in (("ema", ema), ("raw", engine.generator)):
        scores = evaluate_tokenizer(net, batches)
        scores.pop("per_step")
        scores["round_trip"], scores["kappa"] = round_trip(net, batches)
        row[name] = scores
    from keras_vgan.metrics.reconstruction import ReconstructionMetrics

    blank = ReconstructionMetrics()
    for x in batches:
        blank.update(-np.ones_like(x), x)
    row["blank"] = blank.result()
    row["runtime"] = runtime.format_runtime()
    with open(os.path.join(args.out, f"{args.preset}-s{args.seed}.json"), "w") as f:
        json.dump(row, f, indent=2, default=float)
    print("\n".join(runtime.format_runtime()))
    print(
        f"{args.preset}, seed {args.seed}, {args.budget_cpu_s:g} CPU-s: {steps} steps, "
        f"{row['cpu_s_per_step']:.3f} CPU-s/step, {row['steps_per_wall_s']:.2f} steps/s wall "
        f"(the whole run: {cpu:.0f} CPU-s, {wall:.0f} s wall)"
    )
    print(
        "| weights | PSNR | SSIM | MSE | perplexity | used codes | round trip | kappa | clips/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in ("ema", "raw"):
        r = row[name]
        print(
            f"| {name} | {r['psnr']:.2f} | {r['ssim']:.3f} | {r['mse']:.2f} | "
            f"{r['perplexity']:.1f} | {r['used_codes']:.1%} | {r['round_trip']:.1%} | "
            f"{r['kappa']:.2f} | {r.get('clips_per_s', 0):.1f} |"
        )
    b = row["blank"]
    print(f"| blank | {b['psnr']:.2f} | {b['ssim']:.3f} | {b['mse']:.2f} | | | | | |")


if __name__ == "__main__":
    main()
