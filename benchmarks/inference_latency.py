"""Inference latency of a generator in every deployed format, against its analytic FLOPs.

Run by hand (never part of the test suite)::

    .venv/bin/python benchmarks/inference_latency.py                      # vgan_paper + quick
    .venv/bin/python benchmarks/inference_latency.py --preset quick --reps 10
    .venv/bin/python benchmarks/inference_latency.py --formats saved_model,tflite_fp32

For each preset the generator is built with ``builders.build_gan`` (untrained
weights: latency does not depend on them), exported with
``keras_vgan.export`` to a temporary directory and run in each runtime:

* ``keras_eager``: ``gan.generate(z)`` called eagerly (the EMA generator);
* ``keras_predict``: ``gan.predict(z, batch_size=B)`` (Keras' compiled
  predict function, its per-call data-adapter overhead included);
* ``saved_model``: the ``serving_default`` signature of ``tf.saved_model.load``
  (what TF Serving runs, less its RPC);
* ``tflite_fp32`` / ``tflite_fp16`` / ``tflite_dynamic_int8`` / ``tflite_int8``:
  ``ai_edge_litert`` signature runners with ``num_threads = cpu count``
  (XNNPACK on where it applies);
* ``onnx``: ``onnxruntime`` CPU session.

Each row: median wall time of ``--reps`` calls after ``--warmup`` untimed
calls, for one clip and for a batch of ``--batch`` (default 8); clips/s =
batch / batch latency. ``analytic`` = forward FLOPs of the generator's conv
and dense layers (``train_throughput.analytic_flops``: 2 per multiply-add)
divided by this machine's fp32 matmul speed (``train_throughput.matmul_gflops``,
2048x2048, median of 10) -- the time the arithmetic takes at matmul speed.
The target is met when the best deployed format (SavedModel, LiteRT, ONNX)
at batch 1 is within 2x of the analytic time.

The machine may be shared: the load average is printed with the results.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

import keras_vgan  # noqa: F401  (oneDNN on before TensorFlow loads: keras_vgan.runtime)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

FORMATS = (
    "keras_eager",
    "keras_predict",
    "saved_model",
    "tflite_fp32",
    "tflite_fp16",
    "tflite_dynamic_int8",
    "tflite_int8",
    "onnx",
)
DEPLOYED = tuple(f for f in FORMATS if not f.startswith("keras"))


def _args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default="vgan_paper,quick", help="comma list of presets")
    p.add_argument(
        "--formats", default=",".join(FORMATS), help="comma list of " + ", ".join(FORMATS)
    )
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--reps", type=int, default=5, help="timed calls per row (median)")
    p.add_argument("--warmup", type=int, default=2)
    args = p.parse_args(argv)
    args.formats = [f for f in args.formats.split(",") if f]
    bad = [f for f in args.formats if f not in FORMATS]
    if bad:
        p.error(f"unknown format {bad[0]!r}; expected {', '.join(FORMATS)}")
    return args


def _median_time(fn, reps, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _runners(gan, fmt, tmp):
    """``(make(batch) -> callable, artifact size in bytes or None, export seconds)``."""
    import numpy as np

    from keras_vgan.export import export_litert, export_onnx, export_saved_model, runners

    def bind(run):
        """``batch -> callable`` running ``run(z)`` on fixed noise of that batch."""

        def make(b):
            z = np.random.default_rng(0).standard_normal((b, gan.latent_dim)).astype("float32")
            return lambda: run(z)

        return make

    if fmt == "keras_eager":
        return bind(lambda z: np.asarray(gan.generate(z))), None, 0.0
    if fmt == "keras_predict":
        return bind(lambda z: gan.predict(z, batch_size=len(z), verbose=0)), None, 0.0
    t0 = time.perf_counter()
    if fmt == "saved_model":
        path = export_saved_model(gan, os.path.join(tmp, "sm", "1"))
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
        sampler = runners.SavedModelSampler(path)
    elif fmt.startswith("tflite_"):
        path = export_litert(gan, os.path.join(tmp, f"{fmt}.tflite"), fmt[len("tflite_") :])
        size = os.path.getsize(path)
        sampler = runners.LiteRTSampler(path, num_threads=os.cpu_count())
    else:
        path = export_onnx(gan, os.path.join(tmp, "g.onnx"))[0]
        size = os.path.getsize(path)
        sampler = runners.ONNXSampler(path)
    seconds = time.perf_counter() - t0
    return bind(sampler), size, seconds


def measure(preset, args, matmul):
    import dataclasses

    import keras
    from train_throughput import analytic_flops

    from keras_vgan import builders, presets

    config = presets.get_preset(preset)
    keras.utils.set_random_seed(0)
    gan = builders.build_gan(dataclasses.replace(config, batch_size=args.batch))
    flops = analytic_flops(gan.ema_generator)  # per clip
    analytic = flops / (matmul * 1e9)
    shape = f"{config.frames}x{config.size}x{config.size}x{config.channels}"
    print(f"\n## {preset}: {type(gan.ema_generator).__name__}, clips {shape}, "
          f"{gan.ema_generator.count_params() / 1e6:.2f}M parameters")  # fmt: skip
    print(f"analytic forward FLOPs per clip: {flops / 1e9:.2f} GFLOP -> {analytic * 1e3:.1f} ms "
          f"at {matmul:.0f} GFLOP/s (fp32 matmul)")  # fmt: skip
    head = ("format", "size MB", "export s", "batch 1 ms", f"batch {args.batch} ms", "clips/s",
            "b1 / analytic")  # fmt: skip
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats:
            try:
                make, size, export_s = _runners(gan, fmt, tmp)
                one = _median_time(make(1), args.reps, args.warmup)
                many = _median_time(make(args.batch), max(1, args.reps // 2 + 1), 1)
            except Exception as e:  # report a format that fails instead of stopping
                first = (str(e).strip().splitlines() or [""])[0][:120]
                print(f"| {fmt} | failed: {type(e).__name__}: {first} |")
                continue
            rows[fmt] = one
            print(f"| {fmt} | {'-' if size is None else f'{size / 1e6:.1f}'} | {export_s:.1f} | "
                  f"{one * 1e3:.1f} | {many * 1e3:.1f} | {args.batch / many:.2f} | "
                  f"{one / analytic:.2f}x |", flush=True)  # fmt: skip
    deployed = {f: t for f, t in rows.items() if f in DEPLOYED}
    if deployed:
        best = min(deployed, key=deployed.get)
        ratio = deployed[best] / analytic
        verdict = "met" if ratio <= 2.0 else "NOT met"
        print(f"best deployed format at batch 1: {best}, {deployed[best] * 1e3:.1f} ms = "
              f"{ratio:.2f}x the analytic time (target <= 2x: {verdict})")  # fmt: skip
    return rows


def main(argv=None):
    args = _args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from train_throughput import device_lines, matmul_gflops

    matmul, best = matmul_gflops()
    print("\n".join(device_lines()))
    print(f"fp32 matmul 2048^2: median {matmul:.1f} GFLOP/s (best {best:.1f})")
    for preset in args.preset.split(","):
        measure(preset, args, matmul)
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
