"""``python -m generate PATH``: sample videos from a trained or exported generator.

    python -m generate tensorboard_logs/quick-20261123-101500 --num 8 --seed 1
    python -m generate exported/vgan_gan --num 4                # TF Serving dir: highest version
    python -m generate exported/vgan_gan/vgan_gan.v1.int8.tflite --truncation 1.5
    python -m generate gan.keras --label 3 --frames 48          # MoCoGAN: any length
    python -m generate --checkpoint RUN/checkpoints --num 4

PATH is a run directory (its ``model.keras``, else its newest checkpoint), a
``.keras`` file, a SavedModel directory (or a TF Serving model directory), a
``.tflite`` file (run with LiteRT) or an ``.onnx`` file (run with
onnxruntime). The noise is ``keras_vgan.export.endpoints.latent_noise(num, seed,
truncation)``, the same in every format, so one seed gives the same clips
from every form of one model (up to each format's precision).

Writes into ``--out``: ``clip_NNN.mp4`` (OpenCV) and ``clip_NNN.gif`` per clip,
``grid.gif`` / ``grid.mp4`` with all clips tiled, and ``contact_sheet.png``
(one row of frames per clip). Bad input: one line, exit status 2.
"""

import os

from training.program import EXIT_FAILED, Parser, quiet_tensorflow


def _parser():
    p = Parser(prog="python -m generate", description=__doc__.splitlines()[0])
    p.add_argument("path", nargs="?", help="run dir, .keras, SavedModel dir, .tflite or .onnx")
    p.add_argument("--checkpoint", help="RUN/checkpoints/ckpt-N or RUN/checkpoints instead of PATH")
    p.add_argument("--num", type=int, default=8, help="clips to sample (default 8)")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    p.add_argument(
        "--label", type=int, default=None, help="class of every clip (conditional models)"
    )
    p.add_argument(
        "--truncation",
        type=float,
        default=None,
        help="truncation trick: latents resampled into [-T, T] (default: none)",
    )
    p.add_argument(
        "--frames", type=int, default=None, help="clip length (MoCoGAN from Keras sources only)"
    )
    p.add_argument("--out", default="generated", help="output directory (default: generated)")
    p.add_argument("--fps", type=int, default=8)
    return p


def _check_args(args):
    if bool(args.path) == bool(args.checkpoint):
        return "give PATH or --checkpoint (one of them)"
    if args.num < 1:
        return f"--num {args.num} must be >= 1"
    if not 0 <= args.seed < 2**31:
        return f"--seed {args.seed} must be in [0, 2**31)"
    if args.truncation is not None and not args.truncation > 0:
        return f"--truncation {args.truncation} must be > 0"
    if args.frames is not None and args.frames < 1:
        return f"--frames {args.frames} must be >= 1"
    if args.fps < 1:
        return f"--fps {args.fps} must be >= 1"
    return None


def sample(sampler, num, seed=0, label=None, truncation=None, frames=None):
    """``num`` clips (float32 ``[num, T, H, W, C]``) from a ``runners.Sampler``."""
    import numpy as np

    from keras_vgan.export import endpoints

    z = np.asarray(endpoints.latent_noise(num, sampler.latent_dim, seed, truncation))
    labels = None
    if label is not None:
        labels = np.full((num,), label, np.int32)
    elif sampler.num_classes:
        labels = sampler.cycled_labels(num)
    return sampler(z, labels=labels, frames=frames)


def write_outputs(videos, out, fps=8):
    """Per-clip mp4 + GIF, grid GIF + mp4 and a PNG contact sheet; returns the paths."""
    from keras_vgan import video_io

    pixels = video_io.to_uint8(videos)
    os.makedirs(out, exist_ok=True)
    paths = []
    for i, clip in enumerate(pixels):
        base = os.path.join(out, f"clip_{i:03d}")
        paths.append(video_io.write_mp4(base + ".mp4", clip, fps=fps))
        paths.append(video_io.write_gif(base + ".gif", clip, fps=fps))
    grid = video_io.video_grid(pixels)
    paths.append(video_io.write_gif(os.path.join(out, "grid.gif"), grid, fps=fps))
    paths.append(video_io.write_mp4(os.path.join(out, "grid.mp4"), grid, fps=fps))
    sheet = video_io.contact_sheet(pixels, max_frames=16)
    paths.append(video_io.write_png(os.path.join(out, "contact_sheet.png"), sheet))
    return paths


def main(argv=None):
    parser = _parser()
    args, status = parser.parse_or_status(argv)
    if args is None:
        return status
    problem = _check_args(args)
    if problem:
        return parser.fail(problem)
    source = args.checkpoint or args.path
    if not os.path.exists(source):
        return parser.fail(f"{source!r} does not exist")

    with quiet_tensorflow():
        from keras_vgan.export.load import SourceError
        from keras_vgan.export.runners import open_sampler

    try:
        sampler = open_sampler(source, checkpoint=bool(args.checkpoint))
    except SourceError as e:
        return parser.fail(str(e))
    if args.label is not None and not sampler.num_classes:
        return parser.fail(f"--label {args.label}: {source!r} is unconditional (it takes no label)")
    try:
        videos = sample(sampler, args.num, args.seed, args.label, args.truncation, args.frames)
    except ValueError as e:  # label out of range, a length the format cannot make
        return parser.fail(str(e).splitlines()[0])
    paths = write_outputs(videos, args.out, args.fps)
    b, t, h, w, c = videos.shape
    print(f"{b} clips of {t}x{h}x{w}x{c} from {source} ({sampler.format}) -> {args.out}/")
    print(f"  {os.path.join(args.out, 'contact_sheet.png')}, grid.gif, grid.mp4, clip_*.mp4/.gif")
    return 0 if paths else EXIT_FAILED
