"""Reconstruction PSNR / SSIM of held-out clips inverted into trained MoCoGAN / StyleGAN-V runs.

    .venv/bin/python benchmarks/inversion_quality.py RUN_DIR [RUN_DIR ...] --clips 16 --steps 200

Each run (``python -m training`` output, e.g. ``--preset stylegan_v_quick``) is scored on
``--clips`` built-in Moving MNIST clips drawn from the *test* digits (never seen in
training), at the run's clip shape. Rows: the starting codes (random, and the codes an
``InversionEncoder`` trained for ``--encoder-steps`` on the run's own samples gives),
then the optimised codes in every latent space the family has (``keras_vgan.editing``),
from a random start and, in ``w``, from the encoder's. Reference rows: a blank clip (the
background alone) and the clip's own first frame frozen. CPU seconds are process time
per clip (the clips are inverted as one batch). ``--sheet DIR`` writes a contact sheet
per run (rows: input, then one reconstruction per space, for the first 4 clips).
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras_vgan  # noqa: E402, F401  (oneDNN before TensorFlow)
from keras_vgan import data, editing, runtime, video_io  # noqa: E402
from keras_vgan.export.load import load_run  # noqa: E402

HELD_OUT_SEED = 31337


def held_out(num, frames, size):
    ds = data.moving_mnist(
        frames=frames, size=size, num_clips=num, batch_size=num, seed=HELD_OUT_SEED, split="test"
    )
    return np.asarray(next(iter(ds)))


def _row(name, scores, cpu=None):
    ssim = scores.get("ssim", np.array([np.nan]))
    cpu = "" if cpu is None else f"{cpu:.1f}"
    return f"| {name} | {scores['psnr'].mean():.2f} | {ssim.mean():.3f} | {cpu} |"


def score_run(run_dir, num, steps, encoder_steps, sheet_dir=None):
    gan = load_run(run_dir)
    adapter = editing.adapter_for(gan)
    frames, size, _, _ = adapter.clip_shape
    clips = held_out(num, frames, size)
    name = type(adapter.generator).__name__
    lines = [f"\n{name} from {run_dir}: {num} held-out clips, {steps} steps", ""]
    lines += ["| codes | PSNR dB | SSIM | CPU-s / clip |", "|---|---:|---:|---:|"]
    blank = np.full_like(clips, -1.0)
    frozen = np.repeat(clips[:, :1], frames, axis=1)
    lines.append(_row("blank clip (background only)", editing.clip_scores(blank, clips)))
    lines.append(_row("first frame frozen", editing.clip_scores(frozen, clips)))
    print("\n".join(lines), flush=True)
    lines = []
    cpu0 = time.process_time()
    encoder, losses = editing.train_encoder(gan, steps=encoder_steps, seed=0)
    encoder_cpu = time.process_time() - cpu0
    print(f"(encoder: {encoder_steps} steps, latent MSE {losses[-1]:.3f}, {encoder_cpu:.0f} CPU-s)")
    start = editing.invert(adapter, clips, steps=0)
    print(
        _row(
            "random codes (start)",
            {k[8:]: v for k, v in start.scores.items() if k[:8] == "initial_"},
        )
    )
    enc = editing.invert(editing.adapter_for(gan, "w"), clips, steps=0, encoder=encoder)
    print(_row("encoder codes (start)", enc.scores), flush=True)
    rows = [("input", clips)]
    for space in type(adapter).spaces:
        result = editing.invert(editing.adapter_for(gan, space), clips, steps=steps)
        print(
            _row(f"inverted, {space}, random start", result.scores, result.cpu_seconds / num),
            flush=True,
        )
        rows.append((space, result.reconstruction))
    result = editing.invert(editing.adapter_for(gan, "w"), clips, steps=steps, encoder=encoder)
    print(_row("inverted, w, encoder start", result.scores, result.cpu_seconds / num), flush=True)
    rows.append(("w_encoder", result.reconstruction))
    if sheet_dir:
        os.makedirs(sheet_dir, exist_ok=True)
        strips = [video_io.contact_sheet(v[:4]) for _, v in rows]
        # clip-major: for each of the 4 clips, its input and every reconstruction
        h = size
        per_clip = [np.concatenate([s[i * h : (i + 1) * h] for s in strips]) for i in range(4)]
        path = os.path.join(sheet_dir, f"{name}.png")
        video_io.write_png(path, np.concatenate(per_clip))
        print(f"sheet {path}: per clip, rows {', '.join(n for n, _ in rows)}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+")
    p.add_argument("--clips", type=int, default=16)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--encoder-steps", type=int, default=300)
    p.add_argument("--sheet", default=None)
    args = p.parse_args(argv)
    print(runtime.format_runtime())
    for run in args.runs:
        score_run(run, args.clips, args.steps, args.encoder_steps, args.sheet)


if __name__ == "__main__":
    main()
