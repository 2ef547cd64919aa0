"""``python -m training.evaluate``: score a trained generator; print a table, write JSON.

    python -m training.evaluate --run RUN_DIR [--data moving_mnist] [--num-clips 2048]
    python -m training.evaluate --model gan.keras --data ~/videos/ --i3d ~/i3d-kinetics-400

Metrics (``--metrics``, default ``offline``, plus ``fvd`` when ``--i3d`` is given):
``offline_fd`` / ``offline_kvd`` / ``offline_is`` from the Moving MNIST encoder
shipped with the package (``keras_vgan.metrics.offline``), and ``fvd`` by the
reference protocol from a local copy of the TF-Hub module ``i3d-kinetics-400``
(``keras_vgan.metrics.fvd``). ``--num-clips`` generated clips (EMA generator,
noise from ``--seed``) are scored against as many real clips of ``--data``
(default: the run's training data; see ``keras_vgan.metrics.evaluation``).

Prints ``metric  value  protocol`` and writes the same rows as JSON to
``--out`` (default ``RUN_DIR/eval.json``, or ``eval_<name>.json`` next to a
``--model`` file). Bad input: one line and exit status 2.
"""

import json
import os
import sys
import time

from training.program import Parser, quiet_tensorflow


def build_parser():
    parser = Parser(prog="python -m training.evaluate", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", metavar="RUN_DIR", help="a run directory (its model.keras)")
    source.add_argument("--model", metavar="FILE.keras", help="a .keras file of a VideoGAN")
    parser.add_argument(
        "--data",
        default=None,
        help="real clips: moving_mnist, shapes, a path or tfds:NAME "
        "(default: the run's data; moving_mnist for --model)",
    )
    parser.add_argument(
        "--metrics",
        default=None,
        help="comma-separated: offline, fvd (default: offline, and fvd if --i3d is given)",
    )
    parser.add_argument("--i3d", default=None, metavar="DIR", help="local i3d-kinetics-400 module")
    parser.add_argument("--num-clips", type=int, default=2048, help="clips per side (2048)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generator's noise")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--out", default=None, metavar="FILE.json", help="where the JSON goes")
    return parser


def format_table(rows):
    """The rows as a plain-text table: metric, value, protocol."""
    width = max(len("metric"), *(len(r["metric"]) for r in rows))
    lines = [f"{'metric':<{width}}  {'value':>12}  protocol"]
    for r in rows:
        lines.append(f"{r['metric']:<{width}}  {r['value']:>12.4f}  {r['protocol']}")
    return "\n".join(lines)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.num_clips < 2:
        return parser.fail(f"--num-clips {args.num_clips} must be >= 2")
    if args.batch_size < 1:
        return parser.fail(f"--batch-size {args.batch_size} must be >= 1")
    metrics = (
        args.metrics.split(",") if args.metrics else ["offline"] + (["fvd"] if args.i3d else [])
    )
    metrics = [m.strip() for m in metrics if m.strip()]
    bad = [m for m in metrics if m not in ("offline", "fvd")]
    if bad or not metrics:
        return parser.fail(
            f"--metrics {args.metrics!r}: expected a comma-separated subset of offline, fvd"
        )

    data = args.data
    if args.run:
        if not os.path.isdir(args.run):
            return parser.fail(f"run directory {args.run!r} does not exist")
        path = os.path.join(args.run, "model.keras")
        if not os.path.exists(path):
            return parser.fail(f"{args.run!r} has no model.keras (is the run finished?)")
        if data is None:
            config_path = os.path.join(args.run, "config.json")
            if os.path.exists(config_path):
                with open(config_path) as f:
                    data = json.load(f).get("data")
        out = args.out or os.path.join(args.run, "eval.json")
    else:
        path = args.model
        if not os.path.isfile(path) or not path.endswith(".keras"):
            return parser.fail(f"--model {path!r} is not a .keras file")
        stem = os.path.splitext(os.path.basename(path))[0]
        out = args.out or os.path.join(os.path.dirname(os.path.abspath(path)), f"eval_{stem}.json")
    data = data or "moving_mnist"

    with quiet_tensorflow():
        import keras

        import keras_vgan  # noqa: F401  (registers the serialisable classes)
        from keras_vgan.engine import VideoGAN
        from keras_vgan.metrics import evaluation
        from keras_vgan.metrics.fvd import I3DEmbedder

    try:
        i3d = I3DEmbedder(args.i3d) if "fvd" in metrics else None
    except (ValueError, FileNotFoundError) as e:
        return parser.fail(str(e))
    try:
        gan = keras.saving.load_model(path)
    except Exception as e:  # a corrupt or foreign file: say which, no traceback
        return parser.fail(f"cannot load {path!r}: {type(e).__name__}: {str(e).splitlines()[0]}")
    # Any engine sampled from noise z: a VideoGAN, or one with latent_dim (token models).
    if not isinstance(gan, VideoGAN) and not hasattr(gan, "latent_dim"):
        return parser.fail(f"{path!r} holds a {type(gan).__name__}, expected a VideoGAN")

    start = time.perf_counter()
    error = None
    # TensorFlow's native runtime notices (oneDNN, ...) go to fd 2 while ops first run.
    with quiet_tensorflow():
        try:
            _, frames, size, _, channels = evaluation.clip_shape(gan)
            real, what = evaluation.real_batches(
                data,
                frames=frames,
                size=size,
                channels=channels,
                num_clips=args.num_clips,
                batch_size=args.batch_size,
            )
            evaluator = evaluation.Evaluator(real, what, metrics=metrics, i3d=i3d)
            rows = evaluator.evaluate(
                evaluation.generated_batches(gan, args.num_clips, args.batch_size, seed=args.seed)
            )
        except (ValueError, FileNotFoundError) as e:
            error = str(e).splitlines()[0]
    if error:
        return parser.fail(error)
    print(format_table(rows))
    result = {
        "model": os.path.abspath(path),
        "data": data,
        "num_clips": args.num_clips,
        "seed": args.seed,
        "metrics": metrics,
        "seconds": round(time.perf_counter() - start, 1),
        "results": rows,
    }
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".partial"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=2)
    os.replace(tmp, out)
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
