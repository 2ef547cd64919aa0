"""``python -m training``: flags -> preset -> data -> strategy -> fit.

Every ``TrainConfig`` field is a flag (``--batch-size 8``); a preset gives the
defaults. Errors in the flags print one line and exit with status 2.

``--strategy multi_worker`` runs one process per host with the same flags and a
``TF_CONFIG`` each (README, "Multi-host training"): ``TF_CONFIG`` is checked
first, the workers meet within ``--cluster-timeout`` seconds, the chief picks
the run directory and tells the others its name; only the chief writes it.
"""

import argparse
import dataclasses
import os
import sys

from training.program import EXIT_DIVERGED, EXIT_INTERRUPTED, Parser, quiet_tensorflow


def _flag(name):
    return "--" + name.replace("_", "-")


def build_parser():
    with quiet_tensorflow():
        from keras_vgan.config import TrainConfig
        from keras_vgan.presets import PRESETS

    parser = Parser(
        prog="python -m training",
        description="Train a video GAN. Every preset field is a flag; the preset gives defaults.",
    )
    parser.add_argument(
        "--preset",
        default="quick",
        help=f"named preset (default: quick); one of: {', '.join(sorted(PRESETS))}",
    )
    parser.add_argument("--logdir", default="tensorboard_logs", help="where runs land")
    parser.add_argument("--run-name", default=None, help="run directory name (default: preset)")
    parser.add_argument("--resume", default=None, metavar="RUN_DIR", help="continue a run")
    parser.add_argument("--list-presets", action="store_true", help="print presets and exit")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--cluster-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="--strategy multi_worker: how long a worker waits for the others (default 60)",
    )
    group = parser.add_argument_group("config (defaults come from the preset)")
    for field in dataclasses.fields(TrainConfig):
        kind = field.type if isinstance(field.type, type) else type(field.default)
        group.add_argument(
            _flag(field.name),
            dest=field.name,
            type=kind,
            default=argparse.SUPPRESS,
            metavar=kind.__name__.upper(),
            help=f"(TrainConfig.{field.name}, default {field.default!r})",
        )
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    from keras_vgan import config as config_lib
    from keras_vgan import distribute, presets, runs
    from keras_vgan.callbacks import CheckpointError, TrainingDiverged

    if args.list_presets:
        for name in sorted(presets.PRESETS):
            print(f"{name}: {dataclasses.asdict(presets.PRESETS[name])}")
        return 0
    overrides = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(config_lib.TrainConfig)
        if hasattr(args, f.name)
    }
    try:
        if args.resume:
            config = runs.load_run_config(args.resume)
            fixed = sorted(set(overrides) - {"epochs", "strategy"})
            if fixed:
                return parser.fail(
                    f"--resume continues the saved config; only --epochs and --strategy may "
                    f"change, not {', '.join(_flag(n) for n in fixed)}"
                )
            config = dataclasses.replace(config, **overrides)
            run_dir = args.resume
        else:
            config = dataclasses.replace(presets.get_preset(args.preset), **overrides)
        data = config_lib.validate_config(config)  # checked and the data opened, once
        # Before TensorFlow builds anything of a cluster: TF_CONFIG checked, one line.
        cluster = distribute.read_cluster() if config.strategy == "multi_worker" else None
        if not args.cluster_timeout > 0:
            raise ValueError(f"--cluster-timeout={args.cluster_timeout!r} must be > 0 seconds")
    except (ValueError, FileNotFoundError) as e:
        return parser.fail(str(e))

    if not args.resume:
        # A multi-worker chief creates it in runs.train, once the workers agree on it.
        run_dir = runs.new_run_dir(args.logdir, args.run_name or args.preset, create=not cluster)
    strategy = None
    if cluster:
        try:
            strategy, name = distribute.multi_worker_strategy(
                cluster,
                timeout=args.cluster_timeout,
                check=config.to_json(),
                message=os.path.basename(os.path.normpath(run_dir)),
            )
        except distribute.ClusterError as e:
            return parser.fail(str(e))
        if not args.resume:
            run_dir = os.path.join(args.logdir, name)  # the chief's choice
    chief = cluster is None or cluster.is_chief
    note = (
        ""
        if chief
        else f" (written by the chief; {cluster.task_type} {cluster.task_index} writes nothing)"
    )
    print(f"run directory: {run_dir}{note}", flush=True)
    try:
        result = runs.train(
            config,
            run_dir,
            resume=bool(args.resume),
            verbose=0 if args.quiet else "auto",
            data=data,
            strategy=strategy,
        )
    except TrainingDiverged as e:
        return parser.fail(f"training diverged: {e}", EXIT_DIVERGED)
    except (runs.RunLocked, CheckpointError, distribute.ClusterError) as e:
        return parser.fail(str(e))
    except KeyboardInterrupt:
        print(
            f"\ninterrupted; continue with: python -m training --resume {run_dir}", file=sys.stderr
        )
        return EXIT_INTERRUPTED
    print(f"done: {result.epochs_done} epochs, {result.steps_done} generator steps")
    if result.samples_gif is None:
        return 0  # a worker that is not the chief: the chief reports the files
    samples = os.path.dirname(result.samples_gif)
    print(f"samples:     {result.samples_gif} (and .mp4, .png; per epoch in {samples})")
    print(f"model:       {os.path.join(run_dir, 'model.keras')}")
    print(f"TensorBoard: tensorboard --logdir {os.path.dirname(os.path.abspath(run_dir))}")
    return 0
