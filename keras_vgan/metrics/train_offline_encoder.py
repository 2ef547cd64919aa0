"""Trains the offline metric's video encoder on the built-in Moving MNIST.

``python -m keras_vgan.metrics.train_offline_encoder [--steps 3000] [--out PATH]``
writes ``keras_vgan/metrics/assets/offline_encoder.keras`` by default (the
file the package ships) and prints held-out accuracies.

Data: ``keras_vgan.data.moving_mnist`` clips of 16 frames of 32x32, two
digits, ``split="train"`` digits (an infinite stream, seed ``--seed``); the
held-out check uses the ``"test"`` digits (other MNIST instances) and another
seed. Targets (``return_labels="all"``): the digit classes as a soft target
(half the mass on each digit; cross-entropy) and the set of the digits'
initial motion directions in 8 bins of 45 degrees (a sigmoid per bin;
binary cross-entropy). Adam, learning rate 1e-3 with cosine decay to 0, batch 32.
"""

import argparse
import os
import sys
import time


def _batches(batch_size, seed, split):
    from keras_vgan import data
    from keras_vgan.metrics import offline

    return data.moving_mnist(
        frames=offline.CLIP_FRAMES,
        size=offline.CLIP_SIZE,
        batch_size=batch_size,
        seed=seed,
        split=split,
        return_labels="all",
    )


def evaluate_encoder(encoder, num_clips=1024, seed=999, batch_size=128):
    """Held-out accuracies on test-split digits.

    Returns:
        A dict: ``digit`` (the most likely class is one of the clip's digits),
        ``digits`` (the two most likely classes are the two digits; the top one
        when both digits are the same) and ``directions`` (of the ``k`` true
        direction bins, the fraction among the ``k`` most likely).
    """
    import numpy as np
    import tensorflow as tf

    from keras_vgan.metrics import offline

    hits_1 = hits_d = hits_m = n = 0
    for clips, labels in _batches(batch_size, seed, "test").take(num_clips // batch_size):
        out = encoder(clips, training=False)
        top2 = tf.math.top_k(out["class_logits"], 2).indices.numpy()
        digits = labels["digits"].numpy()
        for pred, true in zip(top2, digits, strict=True):
            want = set(true.tolist())
            hits_1 += int(pred[0]) in want
            hits_d += set(pred[: len(want)].tolist()) == want
        bins = offline.direction_bins(labels["directions"]).numpy()
        order = np.argsort(-out["direction_logits"].numpy(), axis=1)
        for row, true_bins in zip(order, bins, strict=True):
            k = int(true_bins.sum())
            hits_m += true_bins[row[:k]].sum() / k
        n += len(digits)
    return {"digit": hits_1 / n, "digits": hits_d / n, "directions": hits_m / n}


def train_encoder(steps=3000, batch_size=32, seed=0, learning_rate=1e-3, log_every=250):
    """Trains a fresh ``OfflineVideoEncoder`` and returns it (see the module docstring)."""
    import keras
    import tensorflow as tf

    from keras_vgan.metrics import offline

    keras.utils.set_random_seed(seed)
    encoder = offline.OfflineVideoEncoder(name="offline_encoder")
    optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(learning_rate, steps))
    ce = keras.losses.CategoricalCrossentropy(from_logits=True)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def step(clips, digits, directions):
        with tf.GradientTape() as tape:
            out = encoder(clips, training=True)
            loss_c = ce(offline.digit_targets(digits), out["class_logits"])
            loss_m = bce(offline.direction_bins(directions), out["direction_logits"])
            loss = loss_c + loss_m
        grads = tape.gradient(loss, encoder.trainable_variables)
        optimizer.apply_gradients(zip(grads, encoder.trainable_variables, strict=True))
        return loss_c, loss_m

    start = time.perf_counter()
    data = _batches(batch_size, seed, "train").take(steps)
    for i, (clips, labels) in enumerate(data):
        loss_c, loss_m = step(clips, labels["digits"], labels["directions"])
        if log_every and (i + 1) % log_every == 0:
            print(
                f"step {i + 1}/{steps}: class loss {float(loss_c):.3f}, "
                f"direction loss {float(loss_m):.3f} ({time.perf_counter() - start:.0f} s)",
                flush=True,
            )
    return encoder


def main(argv=None):
    from keras_vgan.metrics import offline

    parser = argparse.ArgumentParser(
        prog="python -m keras_vgan.metrics.train_offline_encoder",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=offline.default_encoder_path())
    args = parser.parse_args(argv)
    if args.steps < 1 or args.batch_size < 1:
        print("error: --steps and --batch-size must be positive integers", file=sys.stderr)
        return 2
    encoder = train_encoder(args.steps, args.batch_size, args.seed)
    acc = evaluate_encoder(encoder)
    print(
        f"held-out (test-split digits): top class is a digit of the clip {acc['digit']:.1%}, "
        f"both digits {acc['digits']:.1%}, direction bins {acc['directions']:.1%}"
    )
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".partial.keras"
    encoder.save(tmp)
    os.replace(tmp, args.out)
    print(f"encoder: {args.out} ({os.path.getsize(args.out) / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
