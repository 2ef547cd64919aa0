"""One MultiWorkerMirroredStrategy training step, run as a worker process by test_distribute.

Usage: python tests/multi_worker_step.py INDEX PORT0,PORT1 OUT.npz
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
index, ports, out = int(sys.argv[1]), sys.argv[2].split(","), sys.argv[3]
os.environ["TF_CONFIG"] = json.dumps(
    {
        "cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
        "task": {"type": "worker", "index": index},
    }
)
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repo root

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_vgan.distribute import get_strategy  # noqa: E402
from tests.helpers import global_batch, make_gan  # noqa: E402

strategy = get_strategy("multi_worker")
with strategy.scope():
    gan = make_gan()
history = gan.fit(tf.data.Dataset.from_tensors(global_batch()), epochs=1, verbose=0).history
np.savez(
    out,
    replicas=strategy.num_replicas_in_sync,
    d_loss=history["d_loss"][-1],
    **{f"w{i}": w.numpy() for i, w in enumerate(gan.weights)},
)
