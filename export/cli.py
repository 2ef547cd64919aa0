"""``python -m export --run RUN_DIR --out DIR``: a run's EMA generator as a SavedModel.

Writes ``DIR/<model_name>/<version>/`` (the next integer version), the layout
TF Serving watches. One-line errors and exit status 2 on bad input.
"""

import argparse
import os
import sys

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _fail(message):
    print(f"python -m export: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def next_version(model_dir):
    """The next integer version under ``model_dir`` (1 when there is none)."""
    if not os.path.isdir(model_dir):
        return 1
    versions = [int(n) for n in os.listdir(model_dir) if n.isdigit()]
    return max(versions, default=0) + 1


def main(argv=None):
    parser = _Parser(prog="python -m export", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", help="a run directory (uses its model.keras)")
    source.add_argument("--model", help="a .keras file saved from a VideoGAN")
    parser.add_argument("--out", default="exported", help="base directory (default: exported)")
    parser.add_argument("--name", default=None, help="model name (default: the model's name)")
    args = parser.parse_args(argv)

    path = args.model
    if args.run:
        if not os.path.isdir(args.run):
            return _fail(f"run directory {args.run!r} does not exist")
        path = os.path.join(args.run, "model.keras")
        if not os.path.exists(path):
            return _fail(f"{args.run!r} has no model.keras (is the run finished?)")
    elif not os.path.isfile(path) or not path.endswith(".keras"):
        return _fail(f"--model {path!r} is not a .keras file")

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    import keras_vgan  # noqa: F401  (registers the serialisable classes)
    from keras_vgan.engine import VideoGAN
    from keras_vgan.serving import export_saved_model

    try:
        gan = keras.saving.load_model(path)
    except Exception as e:  # a corrupt or foreign file: say which, no traceback
        return _fail(f"cannot load {path!r}: {type(e).__name__}: {str(e).splitlines()[0]}")
    if not isinstance(gan, VideoGAN):
        return _fail(f"{path!r} holds a {type(gan).__name__}, expected a VideoGAN")
    name = args.name or gan.name
    model_dir = os.path.join(args.out, name)
    out = os.path.join(model_dir, str(next_version(model_dir)))
    export_saved_model(gan, out)
    print(f"SavedModel: {out}")
    print(
        f"serve with: docker run -p 8501:8501 -v {os.path.abspath(model_dir)}:/models/{name} "
        f"-e MODEL_NAME={name} tensorflow/serving"
    )
    return 0
