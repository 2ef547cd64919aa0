"""End-point error of the optical flows against the built-in data's exact flow.

Run by hand (never part of the test suite)::

    .venv/bin/python benchmarks/flow_epe.py [--clips 32] [--frames 8]

Held-out clips (Moving MNIST ``split="test"`` digits and bouncing shapes in RGB, 64x64,
seed 1234: the shipped SPyNet was trained on ``split="train"`` with seed 0) and their
exact forward flow (``return_flow=True``). For each method (a zero flow for reference,
OpenCV DIS and Farnebäck, the shipped SPyNet) the table gives the mean end-point error
in pixels over the moving-object pixels and over all pixels, and the CPU milliseconds
per frame pair.
"""

import argparse
import time

import keras_vgan  # noqa: F401  (oneDNN on before TensorFlow loads: keras_vgan.runtime)


def held_out(name, clips, frames, seed=1234):
    """``(clips [N, T, 64, 64, C], flow [N, T - 1, 64, 64, 2])`` of a built-in set."""
    import numpy as np

    from keras_vgan.data.builtin import builtin_dataset

    options = dict(frames=frames, size=64, num_clips=clips, batch_size=clips, seed=seed)
    if name == "moving_mnist":
        options["split"] = "test"
    x, f = next(iter(builtin_dataset(name, return_flow=True, **options)))
    return np.asarray(x), np.asarray(f)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=32, help="clips per data set (32)")
    parser.add_argument("--frames", type=int, default=8, help="frames per clip (8)")
    args = parser.parse_args(argv)

    import numpy as np

    from keras_vgan import motion, runtime

    print("\n".join(runtime.format_runtime()))
    net = motion.spynet(pretrained=True)
    methods = {
        "zero flow": lambda x: np.zeros(x.shape[:1] + (x.shape[1] - 1,) + x.shape[2:4] + (2,)),
        "DIS (OpenCV, medium)": lambda x: motion.classical_flow(x, "dis"),
        "Farneback (OpenCV)": lambda x: motion.classical_flow(x, "farneback"),
        "SPyNet (shipped)": lambda x: np.asarray(motion.network_flow(net, x)),
    }
    rows = []
    for name in ("moving_mnist", "shapes"):
        x, truth = held_out(name, args.clips, args.frames)
        moving = np.any(truth != 0, axis=-1)
        pairs = truth.shape[0] * truth.shape[1]
        for method, fn in methods.items():
            fn(x[:1])  # warm-up (graph tracing)
            start = time.process_time()
            flow = fn(x)
            ms = 1000 * (time.process_time() - start) / pairs
            rows.append((name, method, motion.endpoint_error(flow, truth, moving),
                         motion.endpoint_error(flow, truth), ms))  # fmt: skip
    print(f"{args.clips} held-out clips x {args.frames - 1} pairs per data set, 64x64")
    print("| data | method | EPE moving px | EPE all px | CPU ms / pair |")
    print("|---|---|---:|---:|---:|")
    for name, method, epe_m, epe_a, ms in rows:
        print(f"| {name} | {method} | {epe_m:.3f} | {epe_a:.3f} | {ms:.1f} |")


if __name__ == "__main__":
    main()
