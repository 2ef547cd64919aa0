"""``python -m generate.translate SOURCE --input CLIPS``: restyle your clips with an unpaired translator.

    python -m generate.translate tensorboard_logs/recycle_gan_moving_mnist-... --input my.mp4
    python -m generate.translate model.keras --input frames_folder/ --direction b_to_a --out out/

SOURCE is a Recycle-GAN run directory (its ``model.keras``, else its newest checkpoint)
or a ``.keras`` file. ``--input`` is a video file, a folder of videos or a folder of
frame folders (``keras_vgan.data.open_source``): it is cut into clips of the model's
frames (evenly spaced starts), resized and centre-cropped to its frame size, with the
source domain's channels, and translated by the EMA generator of ``--direction``.

Writes into ``--out``: ``clip_NNN.mp4`` / ``.gif`` per translated clip, and
``side_by_side.gif`` / ``.mp4`` / ``contact_sheet.png`` (input | translation, one clip
per row). Bad input: one line, exit status 2.
"""

import os
import sys

from training.program import EXIT_FAILED, Parser, quiet_tensorflow


def _parser():
    p = Parser(prog="python -m generate.translate", description=__doc__.splitlines()[0])
    p.add_argument("source", help="a recycle_gan run directory or .keras file")
    p.add_argument("--input", required=True, help="a video, a folder of videos or frame folders")
    p.add_argument("--direction", default="a_to_b", help="a_to_b (default) or b_to_a")
    p.add_argument("--max-clips", type=int, default=8, help="clips translated at most (8)")
    p.add_argument("--out", default="translated", help="output directory (default: translated)")
    p.add_argument("--fps", type=int, default=8)
    return p


def read_clips(path, frames, size, channels, max_clips):
    """Up to ``max_clips`` clips ``[N, frames, size, size, channels]`` of ``path`` in [-1, 1]."""
    import numpy as np

    from keras_vgan import data

    source = data.open_source(
        path, frames=frames, size=size, channels=channels, start="even", resize="crop"
    )
    ds = source.dataset(batch_size=max_clips, shuffle=False, repeat=False, drop_remainder=False)
    clips = next(iter(ds), None)
    if clips is None:
        raise ValueError(f"--input {path!r} gave no clip of {frames} frames")
    return np.asarray(clips, np.float32)


def translate_clips(model, clips, direction, out, fps=8):
    """Translates ``clips`` and writes the files of the module docstring; returns the paths."""
    import numpy as np

    from keras_vgan import video_io
    from keras_vgan.unpaired_samples import unpaired_panels

    result = np.asarray(model.translate(clips, direction))
    panels = unpaired_panels(clips, result)  # input | translation
    os.makedirs(out, exist_ok=True)
    paths = []
    for i, clip in enumerate(video_io.to_uint8(result)):
        base = os.path.join(out, f"clip_{i:03d}")
        paths += [video_io.write_mp4(base + ".mp4", clip, fps=fps)]
        paths += [video_io.write_gif(base + ".gif", clip, fps=fps)]
    flat = panels.reshape((-1,) + panels.shape[2:])
    grid = video_io.video_grid(video_io.to_uint8(flat), cols=2)
    paths.append(video_io.write_gif(os.path.join(out, "side_by_side.gif"), grid, fps=fps))
    paths.append(video_io.write_mp4(os.path.join(out, "side_by_side.mp4"), grid, fps=fps))
    sheet = video_io.contact_sheet(grid[None])
    paths.append(video_io.write_png(os.path.join(out, "contact_sheet.png"), sheet))
    return result, paths


def main(argv=None):
    parser = _parser()
    args, status = parser.parse_or_status(argv)
    if args is None:
        return status
    if args.direction not in ("a_to_b", "b_to_a"):
        return parser.fail(f"--direction {args.direction!r} must be a_to_b or b_to_a")
    if args.max_clips < 1:
        return parser.fail(f"--max-clips {args.max_clips} must be >= 1")
    if args.fps < 1:
        return parser.fail(f"--fps {args.fps} must be >= 1")
    for name, path in (("SOURCE", args.source), ("--input", args.input)):
        if not os.path.exists(path):
            return parser.fail(f"{name} {path!r} does not exist")
    with quiet_tensorflow():
        from keras_vgan.export.load import SourceError, is_run_dir, load_model
        from keras_vgan.unpaired import RecycleGAN

    try:
        kind = "run" if is_run_dir(args.source) else "model"
        model = load_model(**{kind: args.source})
    except SourceError as e:
        return parser.fail(str(e))
    if not isinstance(model, RecycleGAN):
        return parser.fail(f"{args.source!r} holds a {type(model).__name__}, not a RecycleGAN")
    net = model.ema_generator if args.direction == "a_to_b" else model.ema_generator_ba
    frames, size, _, channels = net.serving_input_shape
    try:
        with quiet_tensorflow():
            clips = read_clips(args.input, frames, size, channels, args.max_clips)
            result, paths = translate_clips(model, clips, args.direction, args.out, args.fps)
    except ValueError as e:  # DataError included: unreadable or too short input
        return parser.fail(str(e).splitlines()[0])
    b, t, h, w, c = result.shape
    print(f"{b} clips of {t}x{h}x{w}x{c} ({args.direction}) from {args.input} -> {args.out}/")
    print(f"  {os.path.join(args.out, 'side_by_side.gif')}, contact_sheet.png, clip_*.mp4/.gif")
    return 0 if paths else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
