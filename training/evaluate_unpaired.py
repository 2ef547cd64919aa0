"""``python -m training.evaluate_unpaired --run RUN_DIR``: score an unpaired translator.

Loads ``RUN_DIR/model.keras`` (a ``unpaired.RecycleGAN``; else the newest checkpoint) and
``config.json``, draws held-out clips of both domains (built-in data: the held-out test digits, another seed;
folders: the run's ``--data`` / ``--data-b`` reshuffled) and prints, per direction, the
offline FD of the translations against the target domain next to the untranslated
input's (the baseline) and a second real draw's (the floor), and the warping error of
the translations under the source clips' flow next to the source's own
(``keras_vgan.metrics.unpaired``). Writes the rows as JSON to ``--out`` (default
``RUN_DIR/eval_unpaired.json``).

    python -m training.evaluate_unpaired --run tensorboard_logs/recycle_gan_moving_mnist-...

Bad input prints one line and exits with status 2.
"""

import json
import os
import sys

from training.program import Parser, quiet_tensorflow


def build_parser():
    parser = Parser(
        prog="python -m training.evaluate_unpaired", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--run", required=True, metavar="RUN_DIR", help="a recycle_gan run")
    parser.add_argument("--clips", type=int, default=256, help="held-out clips per domain (256)")
    parser.add_argument("--batch-size", type=int, default=32, help="clips per batch (32)")
    parser.add_argument("--seed", type=int, default=None, help="held-out draw (run seed + 1000)")
    parser.add_argument(
        "--flow-method", default="dis", help="the source clips' flow: dis, farneback or spynet"
    )
    parser.add_argument("--out", default=None, metavar="FILE.json", help="where the JSON goes")
    return parser


def evaluate_run(run_dir, clips=256, batch_size=32, seed=None, flow_method="dis"):
    """``(rows, title)``: ``{metric: (value, protocol)}`` of an unpaired run (its
    ``model.keras``, else its newest checkpoint)."""
    from keras_vgan import config as config_lib
    from keras_vgan import runs
    from keras_vgan.export.load import load_run
    from keras_vgan.metrics.unpaired import translation_scores
    from keras_vgan.models.recycle_gan import unpaired_batches
    from keras_vgan.motion import FLOW_METHODS
    from keras_vgan.unpaired import RecycleGAN

    if flow_method not in FLOW_METHODS:
        raise ValueError(f"--flow-method {flow_method!r} is not one of {', '.join(FLOW_METHODS)}")
    if not os.path.isdir(run_dir):
        raise ValueError(f"run directory {run_dir!r} does not exist")
    config = runs.load_run_config(run_dir)
    if config.family.train_data is None or config.model != "recycle_gan":
        raise ValueError(f"{run_dir!r} trained model={config.model!r}, not recycle_gan")
    model = load_run(run_dir)  # model.keras, else the newest checkpoint (a stopped run)
    if not isinstance(model, RecycleGAN):
        raise ValueError(f"{run_dir!r} holds a {type(model).__name__}, expected a RecycleGAN")
    data = config_lib.validate_config(config)  # both domains opened once
    seed = config.seed + 1000 if seed is None else seed

    def draw(s):
        batches = list(
            unpaired_batches(
                config, data=data, seed=s, split="test", num_clips=clips, batch_size=batch_size
            )  # fmt: skip
        )
        if not batches:
            raise ValueError(f"no held-out clips could be read from data={config.data!r}")
        return [b[0] for b in batches], [b[1] for b in batches]

    a, b = draw(seed)
    ref_a, ref_b = draw(seed + 1)
    rows = translation_scores(model.translate, a, b, ref_a, ref_b, flow_method=flow_method)
    style = config.data_b or f"{config.data} restyled {config.domain_b!r}"
    title = (
        f"recycle_gan: A = {config.data}, B = {style}; {sum(len(x) for x in a)} held-out clips "
        f"per domain, seed {seed}"
    )
    return rows, title


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("clips", "batch_size"):
        if getattr(args, name) < 1:
            flag = name.replace("_", "-")
            return parser.fail(f"--{flag}={getattr(args, name)} must be a positive integer")
    if args.clips < 2:
        return parser.fail(f"--clips={args.clips} must be >= 2")
    with quiet_tensorflow():
        import keras_vgan  # noqa: F401  (registers the serialisable classes)
    try:
        with quiet_tensorflow():
            rows, title = evaluate_run(
                args.run, args.clips, args.batch_size, args.seed, args.flow_method
            )
    except (ValueError, FileNotFoundError) as e:
        return parser.fail(str(e).splitlines()[0])
    width = max(len(k) for k in rows)
    print(title)
    print(f"{'metric':<{width}}  {'value':>10}  protocol")
    for name, (value, protocol) in rows.items():
        print(f"{name:<{width}}  {value:>10.4f}  {protocol}")
    out = args.out or os.path.join(args.run, "eval_unpaired.json")
    result = {"run": os.path.abspath(args.run), "title": title,
              "results": [{"metric": k, "value": v, "protocol": p} for k, (v, p) in rows.items()]}  # fmt: skip
    tmp = out + ".partial"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=2)
    os.replace(tmp, out)
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
