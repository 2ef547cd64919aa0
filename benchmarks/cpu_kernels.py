"""The CPU-specific choices of keras_vgan.layers.blocks, re-measured on this CPU.

Run by hand (never part of the test suite)::

    .venv/bin/python benchmarks/cpu_kernels.py                 # both tables
    .venv/bin/python benchmarks/cpu_kernels.py --only subpixel --reps 7

Two choices are made by shape in ``keras_vgan/layers/blocks.py``:

* ``SUBPIXEL_MAX_CHANNELS``: a 4x4x4 stride-2 transposed conv with at most that
  many output channels runs as one stride-1 sub-pixel conv + interleave
  (``conv3d_transpose_x2``) instead of TensorFlow's direct op. Table 1 times the
  forward op and forward + both gradients, direct against sub-pixel, over output
  channel counts, at a training shape (batch 8, input 16x32x32x32: the VGAN
  paper generator's last up block before its heads).
* ``MATMUL_MAX_ROWS``: a transposed conv whose input has at most that many
  rows (B*T*H*W) runs as one matmul + overlap-add
  (``conv3d_transpose_x2_matmul``). Table 2 times the forward op at batch 1
  (inference) and forward + gradients at batch 8 (training), direct against
  matmul, over input sizes with 512 -> 256 channels (the generator's first block).

Each cell is the median of ``--reps`` calls of a ``tf.function`` after two
warm-up calls. ``speed-up`` > 1 means the keras_vgan form is faster. The
runtime facts (CPU, instruction sets, oneDNN) are printed first: the figures
hold for that CPU only.
"""

import argparse
import statistics
import sys
import time

import keras_vgan  # noqa: F401  (oneDNN on before TensorFlow loads: keras_vgan.runtime)


def _parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", choices=("subpixel", "matmul"), default=None)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--channels", default="1,2,3,4,8,16", help="Table 1 output channels")
    p.add_argument("--positions", default="2x2x2,2x4x4,4x4x4,4x8x8", help="Table 2 inputs TxHxW")
    return p.parse_args(argv)


def _time(fn, args, reps):
    for _ in range(2):
        _fetch(fn(*args))
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        _fetch(fn(*args))
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def _fetch(out):
    for t in out if isinstance(out, (list, tuple)) else (out,):
        t.numpy()


def _pair(tf, op, grads):
    """A tf.function of the op, or of the op's output summed with both gradients."""
    if not grads:
        return tf.function(lambda x, k: op(x, k))

    @tf.function
    def step(x, k):
        with tf.GradientTape() as tape:
            tape.watch([x, k])
            y = op(x, k)
            loss = tf.reduce_sum(y * y)
        return tape.gradient(loss, [x, k])

    return step


def main(argv=None):
    args = _parse_args(argv)
    import tensorflow as tf

    from keras_vgan import runtime
    from keras_vgan.layers import blocks

    for line in runtime.format_runtime():
        print(line)

    def direct(x, k):
        b, t, h, w, _ = x.shape
        return tf.nn.conv3d_transpose(
            x, k, [b, 2 * t, 2 * h, 2 * w, k.shape[3]], [1, 2, 2, 2, 1], "SAME"
        )

    rng = tf.random.Generator.from_seed(0)
    if args.only in (None, "subpixel"):
        print()
        print(
            f"Table 1: thin transposed conv 4x4x4/2, input [8, 16, 32, 32, 32] -> C_out "
            f"(ms, median of {args.reps}); blocks.SUBPIXEL_MAX_CHANNELS = "
            f"{blocks.SUBPIXEL_MAX_CHANNELS}"
        )
        print(
            "| C_out | fwd direct | fwd sub-pixel | speed-up | fwd+bwd direct | fwd+bwd sub-pixel | speed-up |"
        )
        print("|---|---|---|---|---|---|---|")
        x = rng.normal((8, 16, 32, 32, 32))
        for c in (int(v) for v in args.channels.split(",")):
            k = rng.normal((4, 4, 4, c, 32)) * 0.05
            cells = []
            for grads in (False, True):
                a = _time(_pair(tf, direct, grads), (x, k), args.reps)
                b = _time(_pair(tf, blocks.conv3d_transpose_x2, grads), (x, k), args.reps)
                cells += [f"{a:.1f}", f"{b:.1f}", f"{a / b:.2f}x"]
            print(f"| {c} | " + " | ".join(cells) + " |")
            sys.stdout.flush()
    if args.only in (None, "matmul"):
        print()
        print(
            f"Table 2: coarse transposed conv 4x4x4/2, 512 -> 256 channels (ms, median of "
            f"{args.reps}); blocks.MATMUL_MAX_ROWS = {blocks.MATMUL_MAX_ROWS}"
        )
        print(
            "| input TxHxW | rows at b1 | b1 fwd direct | b1 fwd matmul | speed-up "
            "| b8 fwd+bwd direct | b8 fwd+bwd matmul | speed-up |"
        )
        print("|---|---|---|---|---|---|---|---|")
        k = rng.normal((4, 4, 4, 256, 512)) * 0.02
        for spec in args.positions.split(","):
            t, h, w = (int(v) for v in spec.split("x"))
            cells = []
            for batch, grads in ((1, False), (8, True)):
                x = rng.normal((batch, t, h, w, 512))
                a = _time(_pair(tf, direct, grads), (x, k), args.reps)
                b = _time(_pair(tf, blocks.conv3d_transpose_x2_matmul, grads), (x, k), args.reps)
                cells += [f"{a:.1f}", f"{b:.1f}", f"{a / b:.2f}x"]
            print(f"| {spec} | {t * h * w} | " + " | ".join(cells) + " |")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
