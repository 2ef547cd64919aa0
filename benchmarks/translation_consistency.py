"""Temporal consistency of vid2vid-style translation with and without the flow-warped term.

Run by hand (never part of the test suite)::

    .venv/bin/python benchmarks/translation_consistency.py --workdir /tmp/tc_s0 --train \
        --budget-cpu-s 300 --train-seed 0

``--train`` trains the ``translate_edges_moving_mnist`` preset (Sobel edges -> Moving
MNIST, 8 frames of 64x64) twice for the same CPU budget (``TrainConfig.cpu_budget_s``):
as it is (``base``: L1 + adversarial + the frame-difference temporal term) and with the
flow-warped temporal term (``flow``: ``--flow-weight W --flow-method M``, default 1.0
and ``dis``; ``keras_vgan.motion.consistency``). A finished run in ``--workdir`` is
reused.

Evaluation: held-out clips (``split="test"`` digits, seed 4321) with their exact flow
(``return_flow=True``); for each run and two references (the target itself, and the
source edges) the table gives the warping error (``metrics.warping_error`` with the
exact forward flow, on [0, 1]) over all pixels and over the moving-object pixels, the
frame-difference temporal error (``metrics.temporal_consistency_error``), and the L1
error against the target on [0, 1].
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import keras_vgan  # noqa: F401  (oneDNN on before TensorFlow loads: keras_vgan.runtime)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESET = "translate_edges_moving_mnist"


def train(workdir, name, budget, seed, extra):
    run_dir = os.path.join(workdir, name)
    if os.path.exists(os.path.join(run_dir, "model.keras")):
        print(f"{name}: reusing {run_dir}", flush=True)
        return
    if os.path.exists(run_dir):
        shutil.rmtree(run_dir)
    cmd = [sys.executable, "-m", "training", "--preset", PRESET, "--epochs", "100000",
           "--steps-per-epoch", "50", "--cpu-budget-s", str(budget), "--seed", str(seed),
           "--logdir", workdir, "--quiet", "--run-name", name, *extra]  # fmt: skip
    print(f"{name}: {' '.join(cmd[1:])}", flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT)
    made = sorted(d for d in os.listdir(workdir) if d.startswith(name + "-"))
    if made:
        os.replace(os.path.join(workdir, made[-1]), run_dir)
    print(f"{name}: {time.perf_counter() - start:.0f} s wall", flush=True)


def evaluate(workdir, names, clips):
    import keras
    import numpy as np

    from keras_vgan import builders  # noqa: F401  (registers FlowTranslationGAN)
    from keras_vgan.data.builtin import builtin_dataset
    from keras_vgan.data.pairs import edge_maps
    from keras_vgan.metrics import temporal_consistency_error, warping_error

    ds = builtin_dataset("moving_mnist", frames=8, size=64, num_clips=clips, batch_size=clips,
                         seed=4321, split="test", return_flow=True)  # fmt: skip
    target, flow = (np.asarray(a) for a in next(iter(ds)))
    source = np.asarray(edge_maps(target))
    moving = np.any(flow != 0, axis=-1)
    outputs = {"target itself (floor)": target, "source edges": source}
    for name in names:
        model = keras.saving.load_model(os.path.join(workdir, name, "model.keras"))
        outputs[name] = np.concatenate(
            [np.asarray(model.generate(source[i : i + 16])) for i in range(0, clips, 16)]
        )
    rows = []
    for name, clip in outputs.items():
        rows.append(dict(
            name=name,
            warp_all=float(np.mean(warping_error(clip, flow, "forward"))),
            warp_moving=float(np.mean(warping_error(clip, flow, "forward", mask=moving))),
            temporal=float(np.mean(temporal_consistency_error(clip, target))),
            l1=float(np.mean(np.abs(clip - target)) / 2),
        ))  # fmt: skip
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--train", action="store_true", help="train missing runs first")
    parser.add_argument("--budget-cpu-s", type=float, default=300.0)
    parser.add_argument("--train-seed", type=int, default=0)
    parser.add_argument("--flow-weight", type=float, default=1.0)
    parser.add_argument("--flow-method", default="dis")
    parser.add_argument("--clips", type=int, default=64, help="held-out clips (64)")
    args = parser.parse_args(argv)
    os.makedirs(args.workdir, exist_ok=True)
    runs = {
        "base": [],
        "flow": ["--flow-weight", str(args.flow_weight), "--flow-method", args.flow_method],
    }
    if args.train:
        for name, extra in runs.items():
            train(args.workdir, name, args.budget_cpu_s, args.train_seed, extra)
    from keras_vgan import runtime

    print("\n".join(runtime.format_runtime()))
    rows = evaluate(args.workdir, list(runs), args.clips)
    print(f"{PRESET}, {args.budget_cpu_s:.0f} CPU-s each, training seed {args.train_seed}, "
          f"flow run: --flow-weight {args.flow_weight} --flow-method {args.flow_method}; "
          f"{args.clips} held-out clips (on [0, 1])")  # fmt: skip
    print("| output | warping err, all px | warping err, moving px | temporal err | L1 |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['name']} | {r['warp_all']:.4f} | {r['warp_moving']:.4f} | "
              f"{r['temporal']:.4f} | {r['l1']:.4f} |")  # fmt: skip
    with open(os.path.join(args.workdir, "consistency.json"), "w") as f:
        json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
