"""Training throughput of a VideoGAN: clips/s and achieved GFLOP/s against matmul.

Run by hand (never part of the test suite)::

    .venv/bin/python benchmarks/train_throughput.py            # VGAN paper config
    .venv/bin/python benchmarks/train_throughput.py --steps 5 --warmup 2 --device-info

Defaults are the VGAN paper configuration: 32 frames of 64x64x3, generator
widths 512-256-128-64 (``--width 64 --depth 4``), batch 8, built with
``builders.build_gan`` from ``--preset vgan_paper``.

``--model frame_gan|tgan|mocogan|mocogan_layers`` measures another family of
``keras_vgan.models`` at the same clip size and widths (its RGB-shapes preset
``MODEL_PRESETS[model]`` with the geometry flags applied); ``--model all``
measures every family in turn and ends with a one-table summary::

    .venv/bin/python benchmarks/train_throughput.py --model all --steps 3 --warmup 1

What is measured:

* ``matmul``: this machine's fp32 ``tf.linalg.matmul`` of two 2048x2048
  matrices inside a ``tf.function`` (after warm-up), timed in the same process
  ``--matmul-reps`` times before the run and once after each timed step
  (outside the step's time); the *median* of these is the reference figure
  (the best is printed too).
* the training step: ``model.fit`` on a ``tf.data`` dataset of one constant
  batch repeated (so input is not measured), ``--warmup`` steps first (tracing
  and first-call costs, untimed), then ``--steps`` steps, each timed with
  ``time.perf_counter`` from Keras' batch-begin to batch-end callbacks (the
  end waits for the step's logged loss). The *median* step is the figure;
  ``fit()``'s own wall time (iterator set-up and teardown) is printed apart.
* ``cpu share``: this process's CPU time over wall time x cores during the
  timed steps; well under ~95% on a CPU run means other processes took cores
  and the figures are not clean.

``achieved = step FLOPs / median step time``; ``ratio = achieved / matmul``.

FLOP convention (analytic, from layer shapes, see ``analytic_flops``):

* a multiply-add counts as 2 FLOPs; only Conv2D/3D, Conv2D/3DTranspose and
  Dense layers are counted (a convolution costs
  ``out_positions * kernel_volume * C_in * C_out * 2``, a transposed
  convolution ``in_positions * kernel_volume * C_in * C_out * 2``, padding
  positions included); elementwise work (normalisation, activations, biases,
  losses, optimizer and EMA updates) is ignored;
* backward = 2x forward (input gradient + weight gradient);
* one training step (``d_steps`` = 1) =
  D phase: G forward (1x G) + D forward+backward on the real and on the fake
  batch (3x D each), then
  G phase: G forward+backward (3x G) + D forward and input-gradient backward
  on the fake batch (2x D);
  i.e. ``4 G + 8 D`` forward passes' worth (each extra ``d_steps`` adds
  ``1 G + 6 D``). The D phase's first-layer input gradient on real data is
  not needed but is counted (the convention is per phase, not per op).
* a gradient penalty (WGAN-GP ``gp_weight`` or R1 ``r1_gamma``) adds ``6 D``
  per D step: D forward on its input (1x), the input gradient (1x), and the
  double backpropagation through both, which differentiates the
  input-gradient graph and the forward graph again (input and weight
  gradients of each: 4x).
"""

import argparse
import dataclasses
import json
import os
import statistics
import sys
import time

import keras_vgan  # noqa: F401  (oneDNN on before TensorFlow loads: keras_vgan.runtime)

# The preset each model family is measured with (geometry flags then applied).
MODEL_PRESETS = {
    "vgan": "vgan_paper",
    "frame_gan": "frame_gan_shapes",
    "tgan": "tgan_shapes",
    "mocogan": "mocogan_shapes",
    "mocogan_layers": "mocogan_layers_shapes",
}


def _parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--model",
        default="vgan",
        choices=tuple(MODEL_PRESETS) + ("all",),
        help="model family (its preset: MODEL_PRESETS); all = each in turn + a summary",
    )
    p.add_argument(
        "--preset", default=None, help="keras_vgan.presets name (default: the model's preset)"
    )
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--frames", type=int, default=32)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--channels", type=int, default=3)
    p.add_argument("--width", type=int, default=64, help="generator's finest width")
    p.add_argument("--depth", type=int, default=4, help="x2 levels (widths width*2**(depth-1)..)")
    p.add_argument("--steps", type=int, default=10, help="timed training steps")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first (tracing)")
    p.add_argument("--matmul-size", type=int, default=2048)
    p.add_argument("--matmul-reps", type=int, default=10)
    p.add_argument(
        "--mixed-precision", action="store_true", help="mixed_float16 policy (for GPU runs)"
    )
    p.add_argument("--intra-op", type=int, default=0, help="TF intra-op threads (0 = TF default)")
    p.add_argument("--inter-op", type=int, default=0, help="TF inter-op threads (0 = TF default)")
    p.add_argument(
        "--no-subpixel",
        action="store_true",
        help="use Keras' direct ops for thin 3D (transposed) convs (A/B of the sub-pixel path)",
    )
    p.add_argument(
        "--device-info",
        action="store_true",
        help="(kept for old command lines: the runtime facts are always printed)",
    )
    p.add_argument(
        "--matmul-max-rows",
        type=int,
        default=None,
        help="override blocks.MATMUL_MAX_ROWS (A/B of the matmul form of coarse transposed convs)",
    )
    p.add_argument(
        "--ab-onednn",
        action="store_true",
        help="before/after in one run: each model with TF_ENABLE_ONEDNN_OPTS=0, then =1",
    )
    p.add_argument("--json-out", default=None, help=argparse.SUPPRESS)  # --ab-onednn's children
    args = p.parse_args(argv)
    for name in ("batch", "frames", "size", "channels", "width", "depth", "steps"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')}={getattr(args, name)} must be >= 1")
    if args.warmup < 0:
        p.error(f"--warmup={args.warmup} must be >= 0")
    return args


# ----------------------------------------------------------------- FLOPs
def _kind(layer):
    """ "conv", "conv_transpose", "dense" or None (subclasses count as their Keras base)."""
    import keras

    L = keras.layers
    if isinstance(layer, (L.Conv1DTranspose, L.Conv2DTranspose, L.Conv3DTranspose)):
        return "conv_transpose"
    if isinstance(layer, (L.Conv1D, L.Conv2D, L.Conv3D, L.DepthwiseConv1D, L.DepthwiseConv2D)):
        return "conv"  # a depthwise kernel is kernel_volume x C x 1: the same formula
    if isinstance(layer, L.Dense):
        return "dense"
    return None


def _layer_flops(layer, in_shape, out_shape):
    """Forward FLOPs of one call of a counted layer (for the whole call batch)."""
    import numpy as np

    kernel = int(np.prod(layer.kernel.shape))  # kernel_volume * C_in/groups * C_out
    kind = _kind(layer)
    if kind == "conv":  # out_positions = batch x output positions
        return 2 * int(np.prod(out_shape[:-1])) * kernel
    if kind in ("conv_transpose", "dense"):  # in_positions (dense: rows)
        return 2 * int(np.prod(in_shape[:-1])) * kernel
    return 0


def _counted(layer):
    return _kind(layer) is not None


def _walk(layers):
    """Every layer reachable from ``layers`` (depth first, each once)."""
    seen, out = set(), []
    stack = list(reversed(layers))
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        out.append(layer)
        stack.extend(reversed(list(layer._flatten_layers(include_self=False, recursive=False))))
    return out


def analytic_flops(model_or_layers, input_shape=None, batch=1, by_layer=False):
    """Analytic forward FLOPs (2 per multiply-add) of a model's conv/dense layers.

    The model is traced once (a ``tf.function`` concrete function, nothing is
    computed) on a batch-1 input; every Conv{1,2,3}D[Transpose] and Dense
    sub-layer found by walking the model records the input and output shapes
    of each of its calls and is costed from its kernel shape: a convolution
    ``out_positions * kernel.size * 2``, a transposed convolution
    ``in_positions * kernel.size * 2`` (``kernel.size`` = kernel volume x C_in
    x C_out), a dense layer ``rows * kernel.size * 2``. Everything else
    (normalisation, activations, biases) is ignored.

    Args:
        model_or_layers: a built ``keras.Model``/layer (called on one input),
            or a list ``[model, layer, ...]``: the first is called, the FLOPs of
            the given layers and their sub-layers are summed.
        input_shape: per-sample input shape (no batch axis), e.g. ``(100,)``
            for a generator or ``(32, 64, 64, 3)`` for a discriminator;
            default: ``(model.latent_dim,)`` if the model has one.
        batch: the FLOPs are multiplied by this batch size.
        by_layer: also return ``{layer.path: flops}``.

    Returns:
        The forward FLOPs for ``batch`` samples (and the per-layer dict if
        ``by_layer``).
    """
    import tensorflow as tf

    roots = (
        list(model_or_layers) if isinstance(model_or_layers, (list, tuple)) else [model_or_layers]
    )
    model = roots[0]
    if input_shape is None:
        latent = getattr(model, "latent_dim", None)
        if latent is None:
            raise ValueError("input_shape is required for a model without latent_dim")
        input_shape = (latent,)
    layers = [layer for layer in _walk(roots) if _counted(layer)]
    calls = {id(layer): [] for layer in layers}

    def recorder(layer):
        inner = layer.call

        def call(x, *args, **kwargs):
            y = inner(x, *args, **kwargs)
            calls[id(layer)].append((tuple(x.shape), tuple(y.shape)))
            return y

        return call

    # Instance attributes shadow the class's ``call`` (Keras calls ``self.call``);
    # object.__setattr__ keeps Keras' attribute tracking out of it.
    for layer in layers:
        object.__setattr__(layer, "call", recorder(layer))
    try:
        spec = tf.TensorSpec((1,) + tuple(input_shape), model.compute_dtype)
        tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
    finally:
        for layer in layers:
            object.__delattr__(layer, "call")
    per_layer = {}
    for layer in layers:
        flops = sum(_layer_flops(layer, i, o) for i, o in calls[id(layer)])
        per_layer[layer.path] = flops * batch
    total = sum(per_layer.values())
    return (total, per_layer) if by_layer else total


def step_flops(g_forward, d_forward, d_steps=1, penalty=False):
    """Training-step FLOPs from per-batch forward FLOPs (see the module docstring)."""
    d_phase = g_forward + 3 * d_forward + 3 * d_forward + (6 * d_forward if penalty else 0)
    g_phase = 3 * g_forward + 2 * d_forward
    return d_steps * d_phase + g_phase


# ---------------------------------------------------------------- matmul
def matmul_probe(n=2048, warmup=3):
    """A callable timing one fp32 ``tf.linalg.matmul`` of n x n matrices (tf.function); GFLOP/s."""
    import tensorflow as tf

    a = tf.random.normal((n, n), dtype=tf.float32, seed=1)
    b = tf.random.normal((n, n), dtype=tf.float32, seed=2)

    @tf.function
    def mm(a, b):
        return tf.reduce_sum(tf.linalg.matmul(a, b)[0, :1])  # tiny fetch, full matmul

    for _ in range(warmup):
        mm(a, b).numpy()

    def probe():
        t0 = time.perf_counter()
        mm(a, b).numpy()
        return 2.0 * n**3 / (time.perf_counter() - t0) / 1e9

    return probe


def matmul_gflops(n=2048, reps=10, warmup=3):
    """fp32 matmul GFLOP/s over ``reps`` repetitions after warm-up: (median, best)."""
    probe = matmul_probe(n, warmup)
    rates = [probe() for _ in range(reps)]
    return statistics.median(rates), max(rates)


# ----------------------------------------------------------------- train
class _StepTimer:
    """Per-step wall times of a fit (Keras callback built lazily to keep imports local)."""

    @staticmethod
    def make(probe=None):
        """``probe``: called after each timed step (outside its time), results kept."""
        import keras

        class Timer(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.times = []
                self.cpu_times = []  # process CPU time (all threads) per step
                self.probes = []

            def on_train_batch_begin(self, batch, logs=None):
                self._t, self._c = time.perf_counter(), time.process_time()

            def on_train_batch_end(self, batch, logs=None):
                # Reading a logged scalar waits for the step to finish.
                for value in (logs or {}).values():
                    float(value)
                    break
                self.times.append(time.perf_counter() - self._t)
                self.cpu_times.append(time.process_time() - self._c)
                if probe is not None:
                    self.probes.append(probe())

        return Timer()


def device_lines():
    """The runtime facts (keras_vgan.runtime) and the load average, as lines."""
    from keras_vgan import runtime

    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return [*runtime.format_runtime(), f"load average  {load}"]


def main(argv=None):
    args = _parse_args(argv)
    if args.model == "all" and args.preset:
        sys.exit("--preset names one preset; leave it out with --model all")
    models = tuple(MODEL_PRESETS) if args.model == "all" else (args.model,)
    if args.ab_onednn:
        return _ab_onednn(args, models, sys.argv[1:] if argv is None else list(argv))
    summary = [measure(args, args.preset or MODEL_PRESETS[m]) for m in models]
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(summary, f)
    if len(summary) > 1:
        print()
        print(
            "model zoo training throughput (same clip size; step = d_steps x (1G+6D"
            " [+6D with a gradient penalty]) + 3G+2D; conv/dense FLOPs only)"
        )
        head = ("model", "preset", "d_steps", "G GF/clip", "D GF/clip", "step GF", "s/step")
        head += ("clips/s", "GFLOP/s", "of matmul")
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in summary:
            print(
                f"| {r['model']} | {r['preset']} | {r['d_steps']} | {r['g_clip']:.3f} | "
                f"{r['d_clip']:.3f} | {r['step_gflop']:.1f} | {r['step_s']:.3f} | "
                f"{r['clips_s']:.2f} | {r['gflops']:.1f} | {r['ratio']:.0%} |"
            )
        print(f"clip {summary[0]['clip']}, batch {args.batch}")
    return 0


def _ab_onednn(args, models, argv):
    """Each model measured in a child process with oneDNN off, then on; one table."""
    import subprocess
    import tempfile

    # TensorFlow reads the variable once, at import: a process per setting.
    base = [a for a in argv if a != "--ab-onednn"]
    if "--model" in base:
        i = base.index("--model")
        del base[i : i + 2]
    base = [a for a in base if not a.startswith("--model=")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in models:
            for value in ("0", "1"):
                out = os.path.join(tmp, f"{model}-{value}.json")
                env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS=value)
                cmd = [sys.executable, os.path.abspath(__file__), *base, "--model", model]
                print(f"\n### {model}, TF_ENABLE_ONEDNN_OPTS={value}", flush=True)
                subprocess.run([*cmd, "--json-out", out], env=env, check=True)
                with open(out) as f:
                    (row,) = json.load(f)
                rows.append((model, value, row))
    print()
    print("oneDNN off (TensorFlow's default without AVX-512) -> on (keras_vgan's default)")
    head = ("model", "clip, batch", "oneDNN", "s/step", "clips/s", "GFLOP/s", "of matmul")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for model, value, r in rows:
        print(
            f"| {model} | {r['clip']}, {args.batch} | {'on' if value == '1' else 'off'} | "
            f"{r['step_s']:.3f} | {r['clips_s']:.2f} | {r['gflops']:.1f} | {r['ratio']:.0%} |"
        )
    for model in models:
        off, on = (r for m, _, r in rows if m == model)
        print(f"{model}: {off['step_s'] / on['step_s']:.1f}x faster with oneDNN on")
    return 0


def measure(args, preset):
    """Times one preset's training step; prints its report, returns its summary row."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TF's C++ start-up chatter
    import numpy as np
    import tensorflow as tf

    if args.intra_op:
        tf.config.threading.set_intra_op_parallelism_threads(args.intra_op)
    if args.inter_op:
        tf.config.threading.set_inter_op_parallelism_threads(args.inter_op)
    import keras

    from keras_vgan import builders, presets
    from keras_vgan.layers import blocks

    if args.no_subpixel:
        blocks.SUBPIXEL_MAX_CHANNELS = 0  # read at trace time by the Subpixel* layers
    if args.matmul_max_rows is not None:
        blocks.MATMUL_MAX_ROWS = args.matmul_max_rows  # read at trace time too

    if args.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")

    config = presets.get_preset(preset)
    config = dataclasses.replace(
        config,
        batch_size=args.batch,
        frames=args.frames,
        size=args.size,
        channels=args.channels,
        width=args.width,
        depth=args.depth,
    )
    load0 = os.getloadavg()[0]
    # The matmul reference is taken in the same process and conditions: reps
    # before the run, then one after each timed step (outside the step's time),
    # so a slower or faster machine moves both figures together.
    probe = matmul_probe(args.matmul_size)
    mm_rates = [probe() for _ in range(args.matmul_reps)]

    gan = builders.build_gan(config)
    g_fwd, g_layers = analytic_flops(gan.generator, batch=args.batch, by_layer=True)
    clip = (config.frames, config.size, config.size, config.channels)
    d_fwd, d_layers = analytic_flops(gan.discriminator, clip, batch=args.batch, by_layer=True)
    penalty = bool(config.gp_weight or config.r1_gamma)
    flops = step_flops(g_fwd, d_fwd, config.d_steps, penalty)

    rng = np.random.default_rng(0)
    batch = rng.uniform(-1, 1, (args.batch,) + clip).astype("float32")
    ds = tf.data.Dataset.from_tensors(tf.constant(batch)).repeat()
    if args.warmup:
        t0 = time.perf_counter()
        gan.fit(ds, epochs=1, steps_per_epoch=args.warmup, verbose=0, shuffle=False)
        warm_s = time.perf_counter() - t0
    else:
        warm_s = 0.0
    timer = _StepTimer.make(probe)
    t0 = time.perf_counter()
    gan.fit(ds, epochs=1, steps_per_epoch=args.steps, verbose=0, shuffle=False, callbacks=[timer])
    elapsed = time.perf_counter() - t0
    # CPU time of this process (all threads) over wall time x cores during the
    # steps: well below 100% on a CPU-only run means other processes took cores.
    cpu_share = sum(timer.cpu_times) / sum(timer.times) / len(os.sched_getaffinity(0))
    load1 = os.getloadavg()[0]
    print(
        "matmul GFLOP/s:",
        " ".join(f"{r:.0f}" for r in mm_rates),
        "| after each step:",
        " ".join(f"{r:.0f}" for r in timer.probes),
    )
    mm_rates += timer.probes
    mm_median, mm_best = statistics.median(mm_rates), max(mm_rates)
    print("step times (s):", " ".join(f"{t:.2f}" for t in timer.times))

    times = timer.times
    # The median step is the figure: robust to a step slowed by another process.
    step_s = statistics.median(times)
    achieved = flops / step_s / 1e9
    widths = "-".join(str(w) for w in gan.generator.widths)
    rows = [
        (
            "configuration",
            f"{preset} ({config.model}): "
            f"{config.frames}x{config.size}x{config.size}x{config.channels}, "
            f"batch {args.batch}, G widths {widths}, d_steps {config.d_steps}",
        ),
        ("dtype policy", keras.config.dtype_policy().name),
        ("sub-pixel path", f"thin 3D convs with <= {blocks.SUBPIXEL_MAX_CHANNELS} channels"),
        ("matmul path", f"coarse transposed convs with <= {blocks.MATMUL_MAX_ROWS} B*T*H*W rows"),
        (
            "G forward",
            f"{g_fwd / 1e9:9.2f} GFLOP per batch ({g_fwd / args.batch / 1e9:.3f} per clip)",
        ),
        (
            "D forward",
            f"{d_fwd / 1e9:9.2f} GFLOP per batch ({d_fwd / args.batch / 1e9:.3f} per clip)",
        ),
        (
            "step FLOPs",
            f"{flops / 1e9:9.2f} GFLOP  (= {config.d_steps}x(1G+{12 if penalty else 6}D) + 3G+2D"
            f"{'; gradient penalty 6D per D step' if penalty else ''})",
        ),
        ("warm-up", f"{args.warmup} steps in {warm_s:.1f} s (tracing included)"),
        (
            "time per step",
            f"{step_s:9.3f} s  (median of {args.steps}; mean {statistics.mean(times):.3f}, "
            f"min {min(times):.3f}, max {max(times):.3f}; fit() took {elapsed:.1f} s)",
        ),
        ("clips/s", f"{args.batch / step_s:9.2f}"),
        ("achieved", f"{achieved:9.1f} GFLOP/s  (step FLOPs / median step time)"),
        (
            "matmul fp32",
            f"{mm_median:9.1f} GFLOP/s  (median of {len(mm_rates)} {args.matmul_size}^2 products: "
            f"{args.matmul_reps} before + 1 after each step; best {mm_best:.1f})",
        ),
        ("ratio", f"{achieved / mm_median:9.1%}  achieved / matmul median (target >= 80%)"),
        ("load average", f"{load0:.2f} before, {load1:.2f} after (1 min)"),
        (
            "cpu share",
            f"{cpu_share:9.0%}  this process's CPU time / (wall x cores) over the timed steps "
            f"(median CPU time per step {statistics.median(timer.cpu_times):.2f} s)",
        ),
    ]
    print("VideoGAN training throughput")
    print("  conv/dense FLOPs only, multiply-add = 2; elementwise ops (BN, activations) ignored")
    print(
        "  step = D phase [G fwd 1x + D fwd+bwd 3x real + 3x fake] + G phase [G 3x + D fwd+input-grad 2x]"
    )
    for line in device_lines():
        print(f"  {line}")
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print("per-layer forward GFLOP per batch:")
    for name, table in (("G", g_layers), ("D", d_layers)):
        for path, f in table.items():
            print(f"  {name} {path:<45} {f / 1e9:8.3f}")
    return {
        "model": config.model,
        "preset": preset,
        "clip": "x".join(str(n) for n in clip),
        "d_steps": config.d_steps,
        "g_clip": g_fwd / args.batch / 1e9,
        "d_clip": d_fwd / args.batch / 1e9,
        "step_gflop": flops / 1e9,
        "step_s": step_s,
        "clips_s": args.batch / step_s,
        "gflops": achieved,
        "ratio": achieved / mm_median,
    }


if __name__ == "__main__":
    sys.exit(main())
