"""MultiWorkerMirroredStrategy: two real local worker processes take one-device steps."""

import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from keras_vgan.distribute import get_strategy
from tests.helpers import global_batch, make_gan

HERE = os.path.dirname(os.path.abspath(__file__))


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.mark.slow  # 30 s; the 2-worker program runs of test_multihost.py (slow) cover it end to end,
# and the default run keeps the in-process replica slicing (test_multihost.py) and mirrored
# equivalence (test_engine.py)
def test_two_workers_take_the_same_step_as_one_device(tmp_path):
    ports = ",".join(map(str, free_ports(2)))
    env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE), TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("TF_CONFIG", None)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                os.path.join(HERE, "multi_worker_step.py"),
                str(i),
                ports,
                str(tmp_path / f"w{i}.npz"),
            ],  # fmt: skip
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(2)
    ]
    for p in procs:
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0, out[-2000:]

    reference = make_gan()
    history = reference.fit(tf.data.Dataset.from_tensors(global_batch()), epochs=1, verbose=0)
    expected = [w.numpy() for w in reference.weights]
    for i in range(2):
        got = np.load(tmp_path / f"w{i}.npz")
        assert int(got["replicas"]) == 2
        np.testing.assert_allclose(got["d_loss"], history.history["d_loss"][-1], rtol=1e-4)
        for j, w in enumerate(expected):
            np.testing.assert_allclose(got[f"w{j}"], w, rtol=1e-4, atol=1e-5)


def test_unknown_strategy_name_is_a_one_line_error():
    with pytest.raises(ValueError, match="strategy='tpu' is not one of one_device, mirrored"):
        get_strategy("tpu")
