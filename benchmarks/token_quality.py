"""The token transformers (MaskGIT, VideoGPT) on Moving MNIST after a fixed CPU budget each.

Run by hand (never part of the test suite), under the machine's benchmark lock::

    flock /tmp/kvgan_bench.lock .venv/bin/python benchmarks/token_quality.py --out /tmp/tq
    .venv/bin/python benchmarks/token_quality.py --report /tmp/tq      # the table again

1. The tokenizer: the ``vqvae_moving_mnist`` preset (16 frames of 32x32, an 8 x 8 x 8
   grid of 256 codes) trained for ``--tokenizer-cpu-s`` (``callbacks.CPUBudget``: process
   CPU time of all threads, so a budget buys the same work on a busy machine), or an
   existing one (``--tokenizer RUN_DIR_OR_KERAS``). Saved as ``OUT/tokenizer.keras``.
2. Each of ``--models`` (``<model>_moving_mnist``: 20 frames, 10 -> 10, a 10 x 8 x 8 grid
   of 640 tokens) trained on those codes for ``--budget-cpu-s``, then scored with its
   EMA weights on held-out clips (the held-out test digits, another seed):

   * ``nll_tok`` / ``nll_frame``: VideoGPT's NLL of the future's tokens given the
     context's (nats per token, per future frame; ``TokenModel.held_out_nll``): the
     likelihood of the codes, not of the pixels, so it is comparable between token
     models of one tokenizer only (MaskGIT has none: ``-``);
   * ``mse`` / ``ssim`` / ``psnr``: one sampled future per context from 10 context
     frames (``keras_vgan.metrics.reconstruction``: MSE per frame summed over pixels
     on [0, 1]);
   * ``offline_fd``: the offline Fréchet distance (``keras_vgan.metrics.offline``, the
     first 16 frames at 32x32) of ``--fd-clips`` unconditional samples against as many
     real held-out clips (``quality_comparison.py``'s metric);
   * ``s_clip``: wall seconds per unconditional clip (batches of ``--batch-eval``, after
     a warm-up batch) and ``cpu_s_clip``: CPU seconds per clip.

   Reference rows: copy-last-frame (prediction) with real-vs-real FD (the floor), and
   the tokenizer's reconstructions (the best any model of its codes can do: every
   future token right; FD of reconstructed real clips).

Each model writes ``OUT/<model>.json``; ``--report OUT`` prints the table of what is there.
"""

import argparse
import dataclasses
import glob
import json
import os
import resource
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
from keras_vgan.metrics.reconstruction import evaluate_predictor, format_table  # noqa: E402
from keras_vgan.models.vqvae import load_tokenizer  # noqa: E402

MODELS = ("maskgit", "videogpt")
COLUMNS = ("nll_tok", "nll_frame", "mse", "ssim", "psnr", "offline_fd", "s_clip", "cpu_s_clip",
           "steps", "cpu_s")  # fmt: skip


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def train_tokenizer(args):
    path = os.path.join(args.out, "tokenizer.keras")
    if args.tokenizer:
        net = load_tokenizer(args.tokenizer)
        net.save(path)
        info = {"source": args.tokenizer}
        config = os.path.join(args.tokenizer, "config.json")
        if os.path.exists(config):  # a run directory: its CPU budget
            with open(config) as f:
                info["cpu_s"] = json.load(f).get("cpu_budget_s", 0.0)
        return path, info
    if os.path.exists(path):
        with open(os.path.join(args.out, "tokenizer.json")) as f:
            return path, json.load(f)
    config = dataclasses.replace(presets.get_preset("vqvae_moving_mnist"), epochs=1,
                                 steps_per_epoch=10**6, seed=args.seed)  # fmt: skip
    keras.utils.set_random_seed(config.seed)
    engine = builders.build_gan(config)
    budget = CPUBudget(args.tokenizer_cpu_s)
    engine.fit(builders.build_train_dataset(config), epochs=1,
               steps_per_epoch=config.steps_per_epoch, callbacks=[budget], verbose=0)  # fmt: skip
    engine.ema_generator.save(path)
    info = {"steps": int(engine.g_optimizer.iterations.numpy()), "cpu_s": budget.used()}
    with open(os.path.join(args.out, "tokenizer.json"), "w") as f:
        json.dump(info, f)
    return path, info


def config_of(model, args, tokenizer):
    return dataclasses.replace(
        presets.get_preset(f"{model}_moving_mnist"),
        tokenizer=tokenizer,
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


def real_clips(num, seed, frames=16):
    ds = builtin_dataset("moving_mnist", frames=frames, size=32, num_clips=num, batch_size=64,
                         seed=seed, split="test", drop_remainder=False)  # fmt: skip
    return np.concatenate([np.asarray(b) for b in ds])


def unconditional(model, num, batch, seed=11):
    """``num`` clips (first 16 frames), and wall / CPU seconds per clip after a warm-up."""
    rng = np.random.default_rng(seed)
    model.generate(rng.standard_normal((batch, model.latent_dim)).astype("float32"))  # traced
    out, wall, cpu, timed = [], 0.0, 0.0, 0
    while sum(len(o) for o in out) < num:
        z = rng.standard_normal((batch, model.latent_dim)).astype("float32")
        w, c = time.perf_counter(), cpu_seconds()
        video = np.asarray(model.generate(z))
        wall, cpu, timed = wall + time.perf_counter() - w, cpu + cpu_seconds() - c, timed + batch
        out.append(video[:, :16])
    return np.concatenate(out)[:num], wall / timed, cpu / timed


def run_one(model, args, tokenizer):
    config = config_of(model, args, tokenizer)
    keras.utils.set_random_seed(config.seed)
    engine = builders.build_gan(config)
    budget = CPUBudget(args.budget_cpu_s)
    wall = time.time()
    history = engine.fit(builders.build_train_dataset(config), epochs=1,
                         steps_per_epoch=config.steps_per_epoch, callbacks=[budget],
                         verbose=0)  # fmt: skip
    steps = int(engine.g_optimizer.iterations.numpy())
    train_cpu, wall = budget.used(), time.time() - wall
    engine.save(os.path.join(args.out, f"{model}.keras"))

    held_out = held_out_pairs(config, args.clips)
    row = dict(steps=steps, cpu_s=train_cpu)
    nll = engine.held_out_nll(held_out)
    if nll:
        row.update(nll_tok=nll["nll_token"], nll_frame=nll["nll_frame"])
    scores = evaluate_predictor(lambda x: engine.generate(x, seed=7), held_out)
    row.update({k: v for k, v in scores.result().items() if k in ("mse", "ssim", "psnr")})
    fake, per_clip, cpu_clip = unconditional(engine, args.fd_clips, args.batch_eval)
    real = real_clips(args.fd_clips, config.seed + 2000)
    row.update(offline_fd=offline_metrics(real, fake)["offline_fd"], s_clip=per_clip,
               cpu_s_clip=cpu_clip)  # fmt: skip
    return dict(
        model=model,
        rows={f"{model} ({config.width}x{config.depth}, top_k={config.top_k})": row},
        steps=steps,
        train_cpu_s=train_cpu,
        train_wall_s=wall,
        final_loss={k: float(v[-1]) for k, v in history.history.items()},
        config=dataclasses.asdict(config),
    )


def reference_rows(args, tokenizer):
    config = config_of("videogpt", args, tokenizer)
    held_out = held_out_pairs(config, args.clips)
    copy = evaluate_predictor(lambda x: np.repeat(np.asarray(x)[:, -1:], 10, axis=1), held_out)
    real_a = real_clips(args.fd_clips, args.seed + 2000)
    real_b = real_clips(args.fd_clips, args.seed + 3000)
    rows = {"copy_last_frame (FD: real vs real)": copy.result()}
    rows["copy_last_frame (FD: real vs real)"]["offline_fd"] = offline_metrics(real_a, real_b)[
        "offline_fd"
    ]
    net = load_tokenizer(tokenizer)
    round_trip = tf.function(lambda v: net.decode(net.encode(v)))

    recon = evaluate_predictor(
        lambda xy: np.asarray(round_trip(tf.concat(xy, axis=1)))[:, 10:],
        [((x, y), y) for x, y in held_out],
    )
    row = recon.result()
    row["offline_fd"] = offline_metrics(real_a, np.asarray(round_trip(real_b)))["offline_fd"]
    rows["tokenizer reconstruction (ceiling)"] = row
    return rows


def report(out):
    rows = {}
    for path in sorted(glob.glob(os.path.join(out, "*.json"))):
        if os.path.basename(path) in ("meta.json", "tokenizer.json", "references.json"):
            continue
        with open(path) as f:
            rows.update(json.load(f)["rows"])
    if os.path.exists(os.path.join(out, "references.json")):
        with open(os.path.join(out, "references.json")) as f:
            rows.update(json.load(f))
    meta = {}
    if os.path.exists(os.path.join(out, "meta.json")):
        with open(os.path.join(out, "meta.json")) as f:
            meta = json.load(f)
    tok = meta.get("tokenizer", {})
    title = (
        f"Moving MNIST 10 -> 10 at 32x32 over vqvae_moving_mnist codes (tokenizer: "
        f"{tok.get('steps', '?')} steps, {tok.get('cpu_s', 0):.0f} CPU-s); "
        f"{meta.get('budget_cpu_s', '?')} CPU-s of training per model; {meta.get('clips', '?')} "
        f"held-out clips, one sample per context; MSE per frame summed over pixels on [0, 1]; "
        f"offline FD of {meta.get('fd_clips', '?')} unconditional 16-frame samples; seed "
        f"{meta.get('seed', '?')}"
    )
    print(format_table(rows, columns=COLUMNS, title=title))
    if meta.get("runtime"):
        lines = meta["runtime"]
        print("\n" + "\n".join(lines if isinstance(lines, list) else [lines]))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="/tmp/token_quality")
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--budget-cpu-s", type=float, default=240.0)
    p.add_argument("--tokenizer-cpu-s", type=float, default=300.0)
    p.add_argument("--tokenizer", default=None, help="an existing vqvae run or .keras")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--batch-eval", type=int, default=32, help="clips per sampling batch")
    p.add_argument("--clips", type=int, default=64, help="held-out clips")
    p.add_argument("--fd-clips", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--report", default=None, metavar="OUT", help="print the table of OUT")
    args = p.parse_args(argv)
    if args.report:
        report(args.report)
        return 0
    bad = [m for m in args.models.split(",") if m not in MODELS]
    if bad:
        p.error(f"--models {args.models!r}: expected a comma list of {', '.join(MODELS)}")
    os.makedirs(args.out, exist_ok=True)
    tokenizer, info = train_tokenizer(args)
    print(f"tokenizer: {tokenizer} {info}", flush=True)
    meta = {k: getattr(args, k) for k in ("clips", "fd_clips", "budget_cpu_s", "seed")}
    meta.update(tokenizer=info, runtime=runtime.format_runtime())
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(meta, f)
    with open(os.path.join(args.out, "references.json"), "w") as f:
        json.dump(reference_rows(args, tokenizer), f)
    for model in args.models.split(","):
        result = run_one(model, args, tokenizer)
        with open(os.path.join(args.out, f"{model}.json"), "w") as f:
            json.dump(result, f, indent=1)
        print(f"{model}: {result['steps']} steps, {result['train_cpu_s']:.0f} CPU-s", flush=True)
    report(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
