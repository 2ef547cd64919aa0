"""Input throughput: clips/s of the data pipelines against what training consumes.

Run by hand (never part of the test suite)::

    .venv/bin/python benchmarks/data_throughput.py
    .venv/bin/python benchmarks/data_throughput.py --train-clips-per-s 1.9   # skip the GAN

What is measured (all clips 32 frames, RGB unless noted, batches of 8, after one
warm-up batch, for at least ``--seconds`` each):

* ``mp4 folder``: ``VideoFiles`` over a folder of generated mp4 files (``--videos``
  files of ``--video-frames`` frames, bouncing shapes written with OpenCV's mp4v), at
  64x64 and 128x128 (the files have that size: decode + colour conversion, no resize),
  and 128x128 files cut to 64x64 (decode + centre crop + area resize). Random starts,
  shuffled, parallel decoding (``AUTOTUNE``), and with one decoder for reference.
* ``Moving MNIST .npy``: ``MovingMNISTFile`` over a generated ``[20, N, 64, 64]`` file
  (20-frame clips, grey).
* built-in ``moving_mnist`` (grey) and ``shapes`` (RGB, the VGAN paper preset's data),
  generated on the fly.
* training consumption: the ``vgan_paper`` preset (32x64x64x3, batch 8) through
  ``model.fit`` on a constant batch (input not measured), median step time.

The target is input >= 10x training consumption, so training never waits on data.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

import keras_vgan  # noqa: F401  (oneDNN on before TensorFlow loads: keras_vgan.runtime)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def _parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--videos", type=int, default=24, help="generated videos per folder")
    p.add_argument("--video-frames", type=int, default=64, help="frames per generated video")
    p.add_argument("--frames", type=int, default=32, help="frames per clip")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seconds", type=float, default=4.0, help="timed seconds per row")
    p.add_argument("--train-steps", type=int, default=3, help="timed VGAN steps (0: skip)")
    p.add_argument("--train-clips-per-s", type=float, default=None, help="use this training figure")
    return p.parse_args(argv)


def clips_per_second(ds, batch, seconds):
    """Iterates a batched dataset: one warm-up batch, then batches for >= seconds."""
    it = iter(ds)
    next(it)
    n, t0 = 0, time.perf_counter()
    while True:
        x = next(it)
        n += int((x[0] if isinstance(x, tuple) else x).shape[0])
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return n / elapsed


def write_videos(folder, count, frames, size):
    from keras_vgan import data, video_io

    ds = data.bouncing_shapes(frames=frames, size=size, num_clips=count, batch_size=1, seed=9)
    for i, clip in enumerate(ds):
        video_io.write_mp4(os.path.join(folder, f"clip_{i:03d}.mp4"), clip[0].numpy(), fps=25)


def training_clips_per_second(steps, batch):
    import dataclasses

    import numpy as np
    import tensorflow as tf

    from keras_vgan import builders, presets

    config = dataclasses.replace(presets.get_preset("vgan_paper"), batch_size=batch)
    gan = builders.build_gan(config)
    shape = (batch, config.frames, config.size, config.size, config.channels)
    x = np.random.default_rng(0).uniform(-1, 1, shape).astype("float32")
    ds = tf.data.Dataset.from_tensors(x).repeat()
    gan.fit(ds, epochs=1, steps_per_epoch=1, verbose=0, shuffle=False)  # tracing
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        gan.fit(ds, epochs=1, steps_per_epoch=1, verbose=0, shuffle=False)
        times.append(time.perf_counter() - t0)
    return batch / statistics.median(times)


def main(argv=None):
    args = _parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    print("\n".join(keras_vgan.runtime.format_runtime()))  # the figures hold for this CPU
    import numpy as np
    import tensorflow as tf

    from keras_vgan import data, video_io

    b, t = args.batch, args.frames
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in (64, 128):
            folder = os.path.join(tmp, f"mp4_{size}")
            t0 = time.perf_counter()
            write_videos(folder, args.videos, args.video_frames, size)
            probe_t0 = time.perf_counter()
            source = data.VideoFiles(folder, frames=t, size=size, channels=3)
            probe_s = time.perf_counter() - probe_t0
            print(
                f"wrote {args.videos} mp4s of {args.video_frames}x{size}x{size} in "
                f"{probe_t0 - t0:.1f} s; probed in {probe_s * 1000:.0f} ms",
                flush=True,
            )
            rows.append(
                (
                    f"mp4 folder {size}x{size}",
                    f"{t}x{size}x{size}x3",
                    clips_per_second(source.dataset(batch_size=b), b, args.seconds),
                )
            )
            rows.append(
                (
                    f"mp4 folder {size}x{size}, 1 decoder",
                    f"{t}x{size}x{size}x3",
                    clips_per_second(
                        source.dataset(batch_size=b, num_parallel_calls=1), b, args.seconds
                    ),
                )
            )
            if size == 128:
                small = data.VideoFiles(folder, frames=t, size=64, channels=3)
                rows.append(
                    (
                        "mp4 folder 128x128 -> 64x64",
                        f"{t}x64x64x3",
                        clips_per_second(small.dataset(batch_size=b), b, args.seconds),
                    )
                )
        mm = data.moving_mnist(frames=20, size=64, num_clips=512, batch_size=256, seed=1)
        array = np.concatenate([video_io.to_uint8(x.numpy())[..., 0] for x in mm])
        npy = os.path.join(tmp, "mnist_test_seq.npy")
        np.save(npy, array.transpose(1, 0, 2, 3))  # [20, 512, 64, 64] like the real file
        rows.append(
            (
                "Moving MNIST .npy",
                "20x64x64x1",
                clips_per_second(data.MovingMNISTFile(npy).dataset(batch_size=b), b, args.seconds),
            )
        )
    rows.append(
        (
            "built-in moving_mnist",
            f"{t}x64x64x1",
            clips_per_second(data.moving_mnist(frames=t, size=64, batch_size=b), b, args.seconds),
        )
    )
    rows.append(
        (
            "built-in shapes",
            f"{t}x64x64x3",
            clips_per_second(
                data.bouncing_shapes(frames=t, size=64, batch_size=b), b, args.seconds
            ),
        )
    )

    if args.train_clips_per_s is not None:
        train, how = args.train_clips_per_s, "given"
    elif args.train_steps > 0:
        train, how = training_clips_per_second(args.train_steps, b), "measured"
    else:
        train, how = None, ""

    print()
    print(f"Input pipeline throughput (clips/s, batches of {b})")
    print(f"  cpus {os.cpu_count()}, tensorflow {tf.__version__}")
    if train:
        print(f"  training consumption: {train:.2f} clips/s (vgan_paper, batch {b}, {how})")
    w = max(len(r[0]) for r in rows)
    print(f"{'source':<{w}}  {'clip':<12}  {'clips/s':>9}  {'x training':>10}")
    for name, clip, rate in rows:
        ratio = f"{rate / train:9.0f}x" if train else "-"
        print(f"{name:<{w}}  {clip:<12}  {rate:9.1f}  {ratio:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
