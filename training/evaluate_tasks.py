"""``python -m training.evaluate_tasks --run RUN_DIR``: the metric table of a task model.

Loads ``RUN_DIR/model.keras`` (a ``tasks.VideoTaskGAN``) and ``config.json``, runs the
EMA generator on held-out pairs (built-in data: the held-out test digits and another
seed; data on disk: the run's ``--data`` or this program's, with another seed) and
prints MSE, MAE (per frame, summed over pixels on [0, 1]), SSIM, PSNR and the
temporal-consistency error, averaged and per time step, next to the task's trivial
baselines (copy-last-frame and blank for prediction, linear blending for
interpolation, bilinear up-sampling or the noisy input for restoration, the source
clip itself for translation). Interpolation is scored on the frames between the key
frames only.

    python -m training.evaluate_tasks --run tensorboard_logs/predict_convlstm_moving_mnist-...
    python -m training.evaluate_tasks --run RUN_DIR --frames 30   # roll out 30 frames

Bad input prints one line and exits with status 2.
"""

import dataclasses
import os
import sys

from training.program import Parser, quiet_tensorflow


def build_parser():
    parser = Parser(
        prog="python -m training.evaluate_tasks",
        description="Print the reconstruction metrics of a trained task model.",
    )
    parser.add_argument("--run", required=True, metavar="RUN_DIR", help="a task model's run")
    parser.add_argument("--clips", type=int, default=256, help="held-out clips (default 256)")
    parser.add_argument("--batch-size", type=int, default=32, help="clips per batch")
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the held-out clips (default: run seed + 1000)",
    )
    parser.add_argument("--data", default=None, help="evaluate on other data (a path)")
    parser.add_argument(
        "--frames",
        type=int,
        default=None,
        help="prediction: frames to roll out (default: the run's; more than the targets "
        "are scored on the available targets)",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=None,
        help="stochastic models (svg_lp, tdvae): futures per context, scored best-of-N and "
        "mean (default 10)",
    )
    return parser


def evaluate_run(run_dir, clips=256, batch_size=32, seed=None, data=None, frames=None,
                 samples=None):  # fmt: skip
    """Scores a task run; returns ``(rows, per_step, title)``.

    ``rows`` maps the model and each baseline to ``{metric: mean}``; ``per_step``
    maps them to ``{metric: [T]}``. A stochastic model (one with ``predict_samples``,
    the VAE family) gives two rows, ``<model> best-of-N`` and ``<model> mean-of-N``,
    of ``samples`` futures per context (default 10). The model's first row also holds
    OpenSTL's cost figures: ``params`` (the generator's parameters) and ``clips_per_s``
    (inference on one held-out batch, wall clock, after a warm-up call).
    """
    import time

    import keras
    import numpy as np

    from keras_vgan import builders, registry, runs
    from keras_vgan import config as config_lib
    from keras_vgan.data import pairs as pairs_lib
    from keras_vgan.metrics.reconstruction import evaluate_predictor, evaluate_stochastic_predictor
    from keras_vgan.tasks import task_baselines

    config = runs.load_run_config(run_dir)
    task = config.family.task
    if config.family.serving.inputs == "tokens":  # a tokenizer: reconstructions, code usage
        from keras_vgan.tokenizer import evaluate_run as evaluate_tokenizer_run

        return evaluate_tokenizer_run(run_dir, config, clips, batch_size, seed, data)
    if task is None:
        raise ValueError(f"{run_dir!r} trained model={config.model!r}, not a task model")
    run_data = None
    if data is not None:
        config = dataclasses.replace(config, data=data)
        run_data = config_lib.validate_config(config)  # the data is opened once
    path = os.path.join(run_dir, "model.keras")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path!r} does not exist (the run has not finished)")
    model = keras.saving.load_model(path)
    family = registry.family_of(getattr(model, "ema_generator", None))
    if family is None or family.task != task:
        raise ValueError(f"{path!r} holds a {type(model).__name__}, not a {task} model")
    stochastic = hasattr(model, "predict_samples")
    samples = (10 if stochastic else 1) if samples is None else samples
    if samples > 1 and not stochastic:
        raise ValueError(f"samples={samples}: model={config.model!r} is deterministic")
    labelled = bool(getattr(model, "conditional", False))
    seed = config.seed + 1000 if seed is None else seed
    held_out = list(
        builders.build_task_pairs(
            config,
            seed=seed,
            split="test",
            num_clips=clips,
            batch_size=batch_size,
            data=run_data,
            labels=labelled,
        )
    )
    # A conditional model's inputs are (context, labels); baselines see the context.
    held_out = [((b[0], b[2]), b[1]) if labelled else b for b in held_out]

    def context_of(x):
        return x[0] if labelled else x

    def labels_of(x):
        return {"labels": x[1]} if labelled else {}

    if not held_out:
        raise ValueError(f"no held-out pairs could be read from data={config.data!r}")
    kwargs = {}
    if task == "prediction" and frames is not None:
        kwargs["frames"] = frames
    stride = config.key_stride or config.frames - 1
    scale = pairs_lib.degrade_scale(config.degrade) if task == "restoration" else 1
    n = held_out[0][1].shape[1]
    if task == "interpolation":
        # Only the frames between the key frames (those are copied from the input).
        between = [t for t in range(n) if t % stride]
        held_out = [(x, np.asarray(y)[:, between]) for x, y in held_out]

    def scored(fn):
        if task == "interpolation":
            return lambda x: np.asarray(fn(x))[:, between]
        # Roll-outs longer than the targets are scored on the frames that have targets.
        return lambda x: fn(x)[:, :n]

    rows, per_step = {}, {}
    if stochastic:
        results = evaluate_stochastic_predictor(
            lambda x, s: scored(
                lambda c: model.generate(c, seed=seed, sample=s, **labels_of(x), **kwargs)
            )(context_of(x)),
            held_out,
            samples,
            ssim=config.size >= 11,
        )
        for kind, metrics in results.items():
            rows[f"{config.model} {kind}-of-{samples}"] = metrics.result()
            per_step[f"{config.model} {kind}-of-{samples}"] = metrics.per_step()
        predictors = {}
    else:
        predictors = {config.model: scored(lambda x: model.generate(x, **kwargs))}
    for name, fn in task_baselines(task, stride=stride, scale=scale).items():
        fn = (lambda x, fn=fn: fn(x, n)) if task == "prediction" else fn
        predictors[name] = scored(lambda x, fn=fn: fn(context_of(x)))
    for name, fn in predictors.items():
        metrics = evaluate_predictor(fn, held_out, ssim=config.size >= 11)
        rows[name] = metrics.result()
        per_step[name] = metrics.per_step()
    first = next(iter(rows))
    if not stochastic:
        x = held_out[0][0]
        model.generate(x, **kwargs)  # traced: the timing is of inference alone
        start = time.perf_counter()
        np.asarray(model.generate(x, **kwargs))
        rows[first]["clips_per_s"] = len(x) / (time.perf_counter() - start)
    rows[first]["params"] = int(model.ema_generator.count_params())
    if hasattr(model, "held_out_nll"):  # likelihood models (vpn): nats per future frame
        rows[first].update(model.held_out_nll(held_out))
    title = (
        f"{task}: {config.model} on {config.data} ({rows[first]['clips']} held-out "
        f"clips, seed {seed}); MSE/MAE per frame summed over pixels on [0, 1]"
    )
    return rows, per_step, title


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("clips", "batch_size", "frames", "samples"):
        value = getattr(args, name)
        if value is not None and value < 1:
            return parser.fail(f"--{name.replace('_', '-')}={value} must be a positive integer")
    with quiet_tensorflow():
        from keras_vgan.metrics.reconstruction import format_per_step, format_table
    try:
        rows, per_step, title = evaluate_run(
            args.run,
            clips=args.clips,
            batch_size=args.batch_size,
            seed=args.seed,
            data=args.data,
            frames=args.frames,
            samples=args.samples,
        )
    except (ValueError, FileNotFoundError) as e:
        return parser.fail(str(e))
    print(format_table(rows, title=title))
    model = next(iter(rows))
    speed = rows[model].get("clips_per_s")
    print(
        f"{model}: {rows[model]['params']:,} generator parameters"
        + (f", {speed:.1f} clips/s inference" if speed else "")
    )
    if "perplexity" in rows[model]:  # a tokenizer
        r = rows[model]
        print(f"{model}: code perplexity {r['perplexity']:.1f}, {r['used_codes']:.1%} of the "
              "codebook used by the held-out clips")  # fmt: skip
    if "nll_frame" in rows[model]:
        r = rows[model]
        print(f"{model}: NLL {r['nll_frame']:.2f} nats/frame ({r['bits_dim']:.4f} bits/dim) of "
              f"the future given the context, {r['nll_clips']} held-out clips")  # fmt: skip
    print(f"\nper time step ({model}):")
    print(format_per_step(per_step[model], metrics=("mse", "mae", "ssim", "psnr")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
