"""Train the shipped SPyNet on the exact flow of the built-in data sets.

    .venv/bin/python -m keras_vgan.motion.train [--cpu-seconds 300] [--out PATH]

Batches mix built-in Moving MNIST (``split="train"`` digits) and bouncing shapes (RGB),
64x64, each clip's consecutive frame pairs with their exact forward flow
(``return_flow=True``), randomly cropped to ``--crop`` pixels (32: the motion of the
64x64 data at a quarter of the cost; the network is fully convolutional). The loss is the end-point error summed over the pyramid (each
level against the truth average-pooled to its size, values scaled with it), Adam 1e-3.
Training stops after ``--cpu-seconds`` of process CPU time (all threads), so the result
does not depend on how busy the machine is; the weights go to ``--out`` (default: the
package's ``assets/spynet.weights.h5``, what ``spynet(pretrained=True)`` loads).
Held-out end-point errors: ``benchmarks/flow_epe.py``.
"""

import argparse
import os
import time

import keras_vgan  # noqa: F401  (oneDNN on before TensorFlow loads)

SIZE = 64
FRAMES = 3  # clips of 3 frames: 2 pairs each


def training_batches(batch_clips=8, seed=0, crop=SIZE):
    """``(pairs [N, 2, crop, crop, 3], flow [N, crop, crop, 2])``: half MNIST (grey to 3),
    half shapes, each pair cropped at a random place (stateless, from ``seed``)."""
    import tensorflow as tf

    from keras_vgan.data.moving_mnist import moving_mnist
    from keras_vgan.data.shapes import bouncing_shapes
    from keras_vgan.motion.spynet import clip_pairs

    common = dict(frames=FRAMES, size=SIZE, batch_size=batch_clips, seed=seed, return_flow=True)
    digits = moving_mnist(split="train", **common)
    shapes = bouncing_shapes(num_shapes=3, **common)

    def to_pairs(a, b):
        (xa, fa), (xb, fb) = a, b
        x = tf.concat([tf.repeat(xa, 3, axis=-1), xb], axis=0)
        f = tf.concat([fa, fb], axis=0)
        pairs, flow = clip_pairs(x), tf.reshape(f, (-1, SIZE, SIZE, 2))
        if crop == SIZE:
            return pairs, flow
        # One crop per pair: pair and flow stacked along channels, cropped together.
        n = tf.shape(flow)[0]
        frames = tf.reshape(tf.transpose(pairs, [0, 2, 3, 1, 4]), (n, SIZE, SIZE, 6))
        both = tf.concat([frames, flow], axis=-1)  # [n, H, W, 2 * 3 + 2]
        corners = tf.random.uniform((n, 2), 0, SIZE - crop + 1, tf.int32)
        both = tf.map_fn(lambda a: tf.slice(a[0], [a[1][0], a[1][1], 0], [crop, crop, 8]),
                         (both, corners), fn_output_signature=tf.float32)  # fmt: skip
        pairs = tf.transpose(tf.reshape(both[..., :6], (n, crop, crop, 2, 3)), [0, 3, 1, 2, 4])
        return pairs, both[..., 6:]

    return tf.data.Dataset.zip(digits, shapes).map(to_pairs).prefetch(2)


def pyramid_loss(flows, truth):
    """End-point error of every pyramid level against the pooled truth, summed.

    Per level: the mean over all pixels plus the mean over the moving ones (about a
    tenth of them), so that the still background does not drown the motion.
    """
    import tensorflow as tf

    total = 0.0
    for k, flow in enumerate(reversed(flows)):
        scale = 2**k
        target = tf.nn.avg_pool2d(truth, scale, scale, "VALID") / scale if k else truth
        err = tf.sqrt(tf.reduce_sum(tf.square(flow - target), axis=-1) + 1e-9)
        moving = tf.cast(tf.reduce_any(target != 0, axis=-1), err.dtype)
        total += tf.reduce_mean(err) + tf.reduce_sum(err * moving) / (tf.reduce_sum(moving) + 1)
    return total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-seconds", type=float, default=300.0, help="CPU budget (300)")
    parser.add_argument("--out", default=None, help="weights file (.weights.h5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--crop", type=int, default=32, help="training crop (32; 64: none)")
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf

    from keras_vgan.motion.spynet import WEIGHTS, SPyNet

    keras.utils.set_random_seed(args.seed)
    tf.random.set_seed(args.seed)
    model = SPyNet(name="spynet")
    optimizer = keras.optimizers.Adam(args.lr)

    @tf.function(jit_compile=False)
    def step(pairs, truth):
        with tf.GradientTape() as tape:
            flows = model.pyramid_flows(pairs)
            loss = pyramid_loss(flows, truth)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        epe = tf.reduce_mean(tf.norm(flows[-1] - truth + 1e-9, axis=-1))
        return loss, epe

    start = time.process_time()
    for i, (pairs, truth) in enumerate(training_batches(seed=args.seed, crop=args.crop)):
        loss, epe = step(pairs, truth)
        used = time.process_time() - start
        if i % 50 == 0:
            print(f"step {i:5d}  loss {float(loss):.4f}  epe {float(epe):.4f}  cpu {used:.0f}s",
                  flush=True)  # fmt: skip
        if used > args.cpu_seconds:
            break
    out = args.out or os.path.join(os.path.dirname(__file__), "assets", WEIGHTS)
    model.save_weights(out)
    print(f"{i + 1} steps, {used:.0f} CPU-s; weights -> {out} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
