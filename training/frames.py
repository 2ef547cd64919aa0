"""``python -m training.frames``: a video's frames as PNG files, and frame files back to a video.

    python -m training.frames extract clip.mp4 clip_frames/ [--every 2] [--size 64] [--grey]
    python -m training.frames assemble clip_frames/ clip.gif [--fps 8]   # or clip.mp4

Errors print one line and exit with status 2.
"""

import os
import sys

from training.program import Parser, quiet_tensorflow


def build_parser():
    parser = Parser(
        prog="python -m training.frames",
        description="Extract a video's frames as PNG files, or assemble frame files into a video.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    extract = commands.add_parser("extract", help="video -> numbered PNG files")
    extract.add_argument("video", help="a video file OpenCV reads (mp4, avi, mov, webm, mkv ...)")
    extract.add_argument("out_dir", help="folder for the PNG files (created)")
    extract.add_argument("--every", type=int, default=1, help="keep every N-th frame (default 1)")
    extract.add_argument("--start", type=int, default=0, help="first frame to keep (default 0)")
    extract.add_argument("--max-frames", type=int, default=None, help="stop after N frames")
    extract.add_argument("--size", type=int, default=None, help="resize to SIZE x SIZE")
    extract.add_argument(
        "--stretch", action="store_true", help="with --size: stretch instead of centre crop"
    )
    extract.add_argument("--grey", action="store_true", help="write grey frames")
    extract.add_argument(
        "--pattern", default="frame_{:06d}.png", help="file name pattern (default frame_{:06d}.png)"
    )
    assemble = commands.add_parser("assemble", help="numbered image files -> .mp4/.avi/.gif")
    assemble.add_argument("frames", help="a folder of frames (natural order: f2 before f10)")
    assemble.add_argument("out", help="output video: .gif (Pillow) or .mp4/.avi/.mov/.mkv")
    assemble.add_argument("--fps", type=float, default=8.0, help="frames per second (default 8)")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    with quiet_tensorflow():
        from keras_vgan.data import frame_folders

    try:
        if args.command == "extract":
            written = frame_folders.extract_frames(
                args.video,
                args.out_dir,
                every=args.every,
                start=args.start,
                max_frames=args.max_frames,
                size=args.size,
                resize="stretch" if args.stretch else "crop",
                channels=1 if args.grey else 3,
                pattern=args.pattern,
            )
            print(f"wrote {len(written)} frames to {os.path.dirname(written[0])}")
        else:
            out = frame_folders.frames_to_video(args.frames, args.out, fps=args.fps)
            print(f"wrote {out}")
    except (OSError, ValueError) as e:
        return parser.fail(str(e))
    return 0


if __name__ == "__main__":
    sys.exit(main())
