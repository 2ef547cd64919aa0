"""``python -m generate.edit MODEL --clip CLIP``: invert a real clip into a trained model and edit it.

    python -m generate.edit RUN_DIR --clip walk.mp4                       # reconstruction + edits
    python -m generate.edit gan.keras --clip a.gif --clip-b b.gif --space w+
    python -m generate.edit RUN/checkpoints --clip frames/ --edits retime --retime-frames 48
    python -m generate.edit RUN_DIR --clip a.gif --encoder-steps 300      # encoder-initialised

MODEL is a run directory (its ``model.keras``, else its newest checkpoint), a ``.keras``
file or a checkpoint (``RUN/checkpoints`` or ``RUN/checkpoints/ckpt-N``) of a model whose
family has an inversion adapter (``keras_vgan.editing``: MoCoGAN, StyleGAN-V). CLIP (and
``--clip-b``) is a GIF, a video file or a folder of frame images; its first frames are
fitted to the model's clip (frames, size, channels).

The clip is projected into the model's latent space (``--space``: ``z``, ``w``, or ``w+``
for StyleGAN-V) with content and motion codes apart, then edited (``--edits``):
``swap_content`` (the clip's motion, the content of ``--clip-b`` or of a random code),
``swap_motion`` (the clip's content, the other motion), ``interpolate`` (``--clip-b``
needed: ``--interpolate-steps`` clips from this clip to the other, ``--interpolate``
content, motion or both) and ``retime`` (the same codes rendered with ``--retime-frames``
frames).

Writes into ``--out``: ``input``, ``reconstruction`` (and ``input_b``,
``reconstruction_b``) and one file per edit, each as ``.gif`` and ``.mp4``, and
``contact_sheet.png`` (one row per clip, in that order); prints the reconstruction's
PSNR / SSIM. Bad input: one line, exit status 2.
"""

import os

from training.program import EXIT_USAGE, Parser, quiet_tensorflow

EDITS = ("swap_content", "swap_motion", "interpolate", "retime")
SPACES = ("z", "w", "w+")
PARTS = {"both": ("content", "motion"), "content": ("content",), "motion": ("motion",)}


def _parser():
    p = Parser(prog="python -m generate.edit", description=__doc__.splitlines()[0])
    p.add_argument("model", help="run dir, .keras file or checkpoint of a MoCoGAN / StyleGAN-V")
    p.add_argument("--clip", required=True, help="the clip to invert: GIF, video or frame folder")
    p.add_argument(
        "--clip-b", help="a second clip: the donor of the swaps, the interpolation's end"
    )
    p.add_argument(
        "--edits",
        default=None,
        help=f"comma list of {', '.join(EDITS)} (default: all; interpolate needs --clip-b)",
    )
    p.add_argument("--space", default="w", choices=SPACES, help="latent space (default w)")
    p.add_argument("--steps", type=int, default=300, help="optimisation steps (default 300)")
    p.add_argument("--lr", type=float, default=0.1, help="Adam step size (default 0.1)")
    p.add_argument("--perceptual-weight", type=float, default=0.1)
    p.add_argument("--prior-weight", type=float, default=1e-3)
    p.add_argument("--init", default="random", choices=("random", "mean"), help="start codes")
    p.add_argument(
        "--encoder-steps",
        type=int,
        default=0,
        help="train an encoder on the model's own samples for N steps and start from it",
    )
    p.add_argument("--retime-frames", type=int, default=None, help="retime: frames (default 2T)")
    p.add_argument("--interpolate-steps", type=int, default=5, help="interpolation clips")
    p.add_argument("--interpolate", default="both", choices=tuple(PARTS), help="what to blend")
    p.add_argument("--label", type=int, default=None, help="class of a conditional model")
    p.add_argument("--seed", type=int, default=0, help="random codes (default 0)")
    p.add_argument("--out", default="edited", help="output directory (default: edited)")
    p.add_argument("--fps", type=int, default=8)
    return p


def _edits(text, pair=True):
    if text is None:  # every edit the clips allow
        return [e for e in EDITS if pair or e != "interpolate"], None
    edits = [e.strip() for e in text.split(",") if e.strip()]
    bad = [e for e in edits if e not in EDITS]
    if bad:
        return None, f"--edits {text!r}: {bad[0]!r} is not one of {', '.join(EDITS)}"
    return edits, None


def _check_args(args):
    for path, flag in ((args.model, "MODEL"), (args.clip, "--clip"), (args.clip_b, "--clip-b")):
        if path is not None and not os.path.exists(path):
            return f"{flag} {path!r} does not exist"
    if args.steps < 0:
        return f"--steps {args.steps} must be >= 0"
    if not args.lr > 0:
        return f"--lr {args.lr} must be > 0"
    for flag, value in (
        ("--perceptual-weight", args.perceptual_weight),
        ("--prior-weight", args.prior_weight),
    ):
        if not value >= 0:
            return f"{flag} {value} must be >= 0"
    if args.encoder_steps < 0:
        return f"--encoder-steps {args.encoder_steps} must be >= 0"
    if args.retime_frames is not None and args.retime_frames < 1:
        return f"--retime-frames {args.retime_frames} must be >= 1"
    if args.interpolate_steps < 2:
        return f"--interpolate-steps {args.interpolate_steps} must be >= 2"
    if not 0 <= args.seed < 2**31:
        return f"--seed {args.seed} must be in [0, 2**31)"
    if args.fps < 1:
        return f"--fps {args.fps} must be >= 1"
    edits, problem = _edits(args.edits, bool(args.clip_b))
    if problem:
        return problem
    if "interpolate" in edits and not args.clip_b:
        return "--edits interpolate needs --clip-b (the clip to interpolate to)"
    return None


def load_model(path):
    """A run directory, ``.keras`` file or checkpoint -> the model (``SourceError`` if not)."""
    from keras_vgan.export import load

    if path.endswith(".keras"):
        return load.load_keras(path)
    if load.is_run_dir(path):
        return load.load_run(path)
    return load.load_checkpoint(path)


def _sheet(rows, frames):
    """One contact-sheet strip per clip (``frames`` evenly spaced), stacked, right-padded."""
    import numpy as np

    from keras_vgan import video_io

    strips = [video_io.contact_sheet(r, max_frames=frames) for r in rows]
    width = max(s.shape[1] for s in strips)
    padded = [np.pad(s, ((0, 0), (0, width - s.shape[1]), (0, 0))) for s in strips]
    return np.concatenate(padded, axis=0)


def _write(out, name, video, fps):
    from keras_vgan import video_io

    pixels = video_io.to_uint8(video)
    base = os.path.join(out, name)
    return [
        video_io.write_gif(base + ".gif", pixels, fps=fps),
        video_io.write_mp4(base + ".mp4", pixels, fps=fps),
    ]


def _score_line(name, result, i=0):
    s = result.scores
    ssim = f", SSIM {s['ssim'][i]:.3f}" if "ssim" in s else ""
    ssim0 = f", SSIM {s['initial_ssim'][i]:.3f}" if "initial_ssim" in s else ""
    return (
        f"{name}: PSNR {s['psnr'][i]:.2f} dB{ssim} (start: PSNR {s['initial_psnr'][i]:.2f} dB"
        f"{ssim0}), {len(result.losses)} steps in {result.space!r}, {result.cpu_seconds:.1f} CPU-s"
    )


def run(args, model):
    """Inverts and edits; returns ``(paths written, report lines)``."""
    import numpy as np

    from keras_vgan import editing

    adapter = editing.adapter_for(model, args.space)
    generator = adapter.generator
    frames, size, _, channels = adapter.clip_shape
    labels = None
    if getattr(generator, "num_classes", 0):
        if args.label is None:
            raise ValueError(f"{args.model!r} is class-conditional: give --label")
        if not 0 <= args.label < generator.num_classes:
            raise ValueError(f"--label {args.label} must be in [0, {generator.num_classes})")
        labels = np.array([args.label], np.int32)
    elif args.label is not None:
        raise ValueError(f"--label {args.label}: {args.model!r} is unconditional")
    clip = editing.read_clip(args.clip, frames, size, channels)[None]
    clip_b = editing.read_clip(args.clip_b, frames, size, channels)[None] if args.clip_b else None
    encoder, lines = None, []
    if args.encoder_steps:
        encoder, losses = editing.train_encoder(model, steps=args.encoder_steps, seed=args.seed)
        lines.append(f"encoder: {args.encoder_steps} steps, latent MSE {losses[-1]:.3f}")
    options = dict(
        steps=args.steps,
        learning_rate=args.lr,
        perceptual_weight=args.perceptual_weight,
        prior_weight=args.prior_weight,
        init="encoder" if encoder is not None else args.init,
        encoder=encoder,
        seed=args.seed,
        labels=labels,
    )
    result = editing.invert(adapter, clip, **options)
    lines.append(_score_line("reconstruction", result))
    os.makedirs(args.out, exist_ok=True)
    rows = [("input", clip), ("reconstruction", result.reconstruction)]
    codes = result.codes
    if clip_b is not None:
        result_b = editing.invert(adapter, clip_b, **options)
        lines.append(_score_line("reconstruction_b", result_b))
        donor = result_b.codes
        rows += [("input_b", clip_b), ("reconstruction_b", result_b.reconstruction)]
    else:  # the swaps take a random clip's codes
        donor = adapter.random_codes(1, args.seed + 1, labels, frames)
        donor = {k: np.asarray(v) for k, v in donor.items()}
    edits, _ = _edits(args.edits, clip_b is not None)
    for edit in edits:
        if edit == "swap_content":
            rows.append((edit, adapter.render(editing.swap_content(codes, donor), labels)))
        elif edit == "swap_motion":
            rows.append((edit, adapter.render(editing.swap_motion(codes, donor), labels)))
        elif edit == "interpolate":
            parts = PARTS[args.interpolate]
            for k, alpha in enumerate(np.linspace(0.0, 1.0, args.interpolate_steps)):
                mixed = editing.interpolate(codes, donor, float(alpha), parts)
                rows.append((f"interpolate_{k:02d}", adapter.render(mixed, labels)))
        elif edit == "retime":
            n = args.retime_frames or 2 * frames
            rows.append((edit, editing.retime(adapter, codes, frames=n, labels=labels)))
    paths = []
    for name, video in rows:
        paths += _write(args.out, name, np.asarray(video)[0], args.fps)
    from keras_vgan import video_io

    sheet = _sheet([np.asarray(v)[0] for _, v in rows], frames)
    paths.append(video_io.write_png(os.path.join(args.out, "contact_sheet.png"), sheet))
    lines.append(
        f"{len(rows)} clips -> {args.out}/: contact_sheet.png (rows: "
        f"{', '.join(n for n, _ in rows)}), each as .gif and .mp4"
    )
    return paths, lines


def main(argv=None):
    parser = _parser()
    args, status = parser.parse_or_status(argv)
    if args is None:
        return status
    problem = _check_args(args)
    if problem:
        return parser.fail(problem)
    with quiet_tensorflow():
        from keras_vgan.export.load import SourceError

    try:
        model = load_model(args.model)
        _, lines = run(args, model)
    except (SourceError, ValueError) as e:  # a bad model, clip, space or label
        return parser.fail(str(e).strip().splitlines()[0], EXIT_USAGE)
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
