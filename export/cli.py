"""``python -m export``: a trained model as SavedModel (TF Serving), LiteRT and ONNX.

    python -m export --run RUN_DIR [--out exported] [--format saved_model,tflite,onnx]
    python -m export --checkpoint RUN_DIR/checkpoints/ckpt-000001200 --format all
    python -m export --model gan.keras --name vgan --format tflite_int8

Writes, for the next integer version ``V`` of ``OUT/<name>/``::

    OUT/<name>/V/                          SavedModel (what TF Serving serves)
    OUT/<name>/<name>.vV.fp32.tflite       LiteRT fp32 (also fp16, dynamic_int8, int8)
    OUT/<name>/<name>.vV.onnx              ONNX

TF Serving only reads the integer directories of ``--model_base_path``, so the
files beside them do not disturb it. Every artifact samples with the EMA
generator. After writing, each artifact is run in its own runtime (TensorFlow,
``ai_edge_litert``, ``onnxruntime``) on two noise draws and compared with the
Keras model (``--no-verify`` skips it). One-line errors and exit status 2 on
bad input.
"""

import contextlib
import os
import re
import sys
import tempfile

from training.program import EXIT_FAILED, Parser, quiet_tensorflow

LITERT_FORMATS = {
    "tflite": "fp32",
    "tflite_fp16": "fp16",
    "tflite_dynamic_int8": "dynamic_int8",
    "tflite_int8": "int8",
}
FORMATS = ("saved_model", *LITERT_FORMATS, "onnx")


def next_version(model_dir):
    """The next integer version under ``model_dir`` (1 when there is none).

    Counts SavedModel version directories and ``<name>.vN.*`` files alike, so
    that every format of one export shares its version number.
    """
    if not os.path.isdir(model_dir):
        return 1
    versions = []
    for n in os.listdir(model_dir):
        if n.isdigit():
            versions.append(int(n))
        else:
            m = re.match(r".*\.v(\d+)\.(tflite|onnx)$", n)
            if m:
                versions.append(int(m.group(1)))
    return max(versions, default=0) + 1


def parse_formats(text):
    """``"saved_model,tflite"`` or ``"all"`` -> a tuple of known formats (ValueError otherwise)."""
    names = FORMATS if text == "all" else tuple(t.strip() for t in text.split(",") if t.strip())
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        raise ValueError(
            f"unknown format {unknown[0] if unknown else text!r}; expected a comma list of "
            f"{', '.join(FORMATS)} (or all)"
        )
    return names


def artifact_paths(out, name, version, formats):
    """``{format: path}`` for an export of ``formats`` (see the module docstring)."""
    model_dir = os.path.join(out, name)
    stem = os.path.join(model_dir, f"{name}.v{version}")
    paths = {}
    for fmt in formats:
        if fmt == "saved_model":
            paths[fmt] = os.path.join(model_dir, str(version))
        elif fmt in LITERT_FORMATS:
            paths[fmt] = f"{stem}.{LITERT_FORMATS[fmt]}.tflite"
        else:
            paths[fmt] = f"{stem}.onnx"
    return paths


@contextlib.contextmanager
def _native_log_to_file():
    """Sends fd 2 (the converters' native log lines) to a temporary file meanwhile.

    TensorFlow's grappler and the LiteRT / ONNX converters write informational
    lines straight to the descriptor; they are shown only when a step fails.
    """
    if os.environ.get("KERAS_VGAN_VERBOSE_TF"):
        yield None
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield log
        except BaseException:
            os.dup2(saved, 2)
            log.seek(0)
            sys.stderr.write(log.read().decode(errors="replace")[-4000:])
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _size(path):
    if os.path.isdir(path):
        return sum(
            os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files
        )
    return os.path.getsize(path)


def _run_dir_of(args):
    """The run directory behind the source flags (for its config and data), or None."""
    path = args.run or args.checkpoint or (os.path.dirname(os.path.abspath(args.model)))
    path = os.path.abspath(path)
    for _ in range(3):  # RUN, RUN/checkpoints, RUN/checkpoints/ckpt-N
        if os.path.exists(os.path.join(path, "config.json")):
            return path
        path = os.path.dirname(path)
    return None


def _task_calibration(args):
    """Input clips of a task run's training data for full-integer calibration."""
    from keras_vgan.export import litert
    from keras_vgan.runs import load_run_config

    run_dir = _run_dir_of(args)
    if run_dir is None:
        raise ValueError(
            "tflite_int8 of a task model calibrates on its training data: export it with "
            "--run or --checkpoint (or a model.keras inside its run directory)"
        )
    return litert.representative_inputs(load_run_config(run_dir))


def _verify(model, path):
    """Largest |difference| between ``path`` run in its runtime and the Keras model."""
    import numpy as np

    from keras_vgan.export import open_sampler

    if not hasattr(model, "latent_dim"):
        return None  # task models take frames: their tests cover parity
    sampler = open_sampler(path)
    z = np.asarray(model.sample_noise(2, seed=0))
    labels = sampler.cycled_labels(2) if sampler.num_classes else None
    want = np.asarray(model.generate(z, labels=labels))
    return float(np.max(np.abs(sampler(z, labels) - want)))


def main(argv=None):
    parser = Parser(prog="python -m export", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", help="a run directory (its model.keras, else newest checkpoint)")
    source.add_argument("--checkpoint", help="RUN/checkpoints/ckpt-N or RUN/checkpoints")
    source.add_argument("--model", help="a .keras file saved from a VideoGAN or task model")
    parser.add_argument("--out", default="exported", help="base directory (default: exported)")
    parser.add_argument("--name", default=None, help="model name (default: the model's name)")
    parser.add_argument(
        "--format",
        default="saved_model",
        help=f"comma list of {', '.join(FORMATS)}, or all (default: saved_model)",
    )
    parser.add_argument("--no-verify", action="store_true", help="skip the parity check")
    args, status = parser.parse_or_status(argv)
    if args is None:
        return status

    try:
        formats = parse_formats(args.format)
    except ValueError as e:
        return parser.fail(str(e))
    if args.name is not None and not re.fullmatch(r"[A-Za-z0-9_.-]+", args.name):
        return parser.fail(f"--name {args.name!r} must use letters, digits, '_', '-', '.' only")
    with quiet_tensorflow():
        from keras_vgan import export as export_lib
        from keras_vgan.export.onnx import require_onnx

        try:
            if "onnx" in formats:
                require_onnx()
        except ImportError as e:
            onnx_missing = str(e)
        else:
            onnx_missing = None
    if onnx_missing:
        return parser.fail(onnx_missing)

    try:
        model = export_lib.load_model(run=args.run, checkpoint=args.checkpoint, model=args.model)
    except export_lib.SourceError as e:
        return parser.fail(str(e))
    representative = None
    if "tflite_int8" in formats and not hasattr(model, "latent_dim"):
        try:
            representative = _task_calibration(args)
        except (OSError, ValueError) as e:
            return parser.fail(str(e).splitlines()[0])
    name = args.name or model.name
    version = next_version(os.path.join(args.out, name))
    paths = artifact_paths(args.out, name, version, formats)
    rows = []
    for fmt, path in paths.items():
        try:
            with _native_log_to_file():
                if fmt == "saved_model":
                    export_lib.export_saved_model(model, path)
                elif fmt in LITERT_FORMATS:
                    mode = LITERT_FORMATS[fmt]
                    export_lib.export_litert(model, path, mode, representative=representative)
                else:
                    export_lib.export_onnx(model, path)
                diff = None if args.no_verify else _verify(model, path)
        except Exception as e:  # a converter failure: its log above, then one line
            first = (str(e).strip().splitlines() or [""])[0]
            print(f"{parser.prog}: {fmt} failed: {type(e).__name__}: {first}", file=sys.stderr)
            return EXIT_FAILED
        rows.append((fmt, path, _size(path), diff))
    print(f"{'format':<22}{'size':>12}  {'max |diff| vs Keras':>20}  path")
    for fmt, path, size, diff in rows:
        shown = "-" if diff is None else f"{diff:.3g}"
        print(f"{fmt:<22}{size / 1e6:>10.2f}MB  {shown:>20}  {path}")
    if "saved_model" in formats:
        base = os.path.abspath(os.path.join(args.out, name))
        print(
            f"serve with: docker run -p 8500:8500 -p 8501:8501 "
            f"--mount type=bind,source={base},target=/models/{name} "
            f"-e MODEL_NAME={name} tensorflow/serving"
        )
    return 0
