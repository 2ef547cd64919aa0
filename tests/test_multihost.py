"""Multi-host training through the program: TF_CONFIG checks, the rendezvous, the data
stream sliced by global batch position, and real two-worker runs on 127.0.0.1.

The default run keeps the cheap parts (TF_CONFIG and flag errors in-process, the
rendezvous on loopback threads, the slicing of data and noise over two logical CPUs).
The multi-process runs are ``slow``: two ``python -m training`` workers end with the
weights of a one-device run, write one run directory (the chief's), resume across
cluster sizes, and a missing peer ends in a one-line error, not a hang.
"""

import dataclasses
import json
import os
import socket
import subprocess
import sys
import threading
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_vgan import builders, distribute, presets
from keras_vgan.callbacks import TrainingCheckpoint
from keras_vgan.distribute import Cluster, ClusterError, read_cluster, rendezvous
from tests.helpers import make_gan
from training.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Augmentation draws per-row parameters, so the weights only match one device when
# every replica trains on exactly its rows of the global batch with their noise.
TINY = [
    "--preset", "quick", "--frames", "4", "--size", "16", "--depth", "2", "--width", "4",
    "--latent-dim", "8", "--batch-size", "4", "--num-samples", "2", "--steps-per-epoch", "2",
    "--augment", "translation,cutout", "--quiet",
]  # fmt: skip
PROG = "python -m training: error: "


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def tf_config(ports, index, job="worker"):
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    return json.dumps({"cluster": cluster, "task": {"type": job, "index": index}})


# ============================================================ TF_CONFIG, in-process
WORKERS = {"worker": ["127.0.0.1:2001", "127.0.0.1:2002"]}


def _spec(cluster=None, task=None):
    return json.dumps(
        {"cluster": cluster or WORKERS, "task": task or {"type": "worker", "index": 0}}
    )


BAD_TF_CONFIGS = [
    ("", "strategy='multi_worker' needs the TF_CONFIG environment variable"),
    ("{cluster: 1", "TF_CONFIG is not valid JSON (Expecting property name"),
    ("[1, 2]", 'TF_CONFIG must be a JSON object with "cluster" and "task"'),
    (_spec({"ps": ["a:1"]}), "TF_CONFIG cluster job 'ps' is not supported"),
    (_spec({"worker": []}), "TF_CONFIG cluster 'worker' is []; expected a non-empty list"),
    (_spec({"worker": ["host"]}), "TF_CONFIG cluster 'worker' entry 0 is 'host'"),
    (_spec({"worker": ["h:99999"]}), "with a port in 1-65535"),
    (_spec({"worker": ["h:1", "h:1"]}), "address 'h:1' is given twice"),
    (_spec({"chief": ["a:1", "b:1"], "worker": ["c:1"]}), "'chief' has 2 tasks; at most 1"),
    (_spec(task={"type": "chief", "index": 0}), "task type 'chief' is not a job of the"),
    (_spec(task={"type": "worker", "index": "1"}), "task index '1' must be an integer"),
    (_spec(task={"type": "worker", "index": 2}), "task index 2 is out of range: the cluster"
                                                 " has 2 'worker' tasks (index 0-1)"),
    (json.dumps({"cluster": WORKERS}), 'TF_CONFIG "task" is None; expected'),
]  # fmt: skip


def test_tf_config_is_checked_and_ranks_put_the_chief_first():
    # One test, not one per case: each test's teardown (clear_session) costs ~1 s.
    for value, expected in BAD_TF_CONFIGS:
        with pytest.raises(ClusterError) as e:
            read_cluster(value)
        assert expected in str(e.value) and "\n" not in str(e.value), value
    spec = _spec({"worker": ["w:1", "w:2"], "chief": ["c:1"]}, {"type": "worker", "index": 1})
    c = read_cluster(spec)
    assert [t[:2] for t in c.tasks] == [("chief", 0), ("worker", 0), ("worker", 1)]
    assert (c.rank, c.num_workers, c.is_chief, c.address) == (2, 3, False, "w:2")
    assert read_cluster(_spec()).is_chief  # no chief: worker 0 writes the run


def test_program_refuses_a_bad_cluster_with_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    cases = [
        (None, [], "strategy='multi_worker' needs the TF_CONFIG environment variable"),
        ("not json", [], "TF_CONFIG is not valid JSON"),
        (_spec(task={"type": "worker", "index": 5}), [], "task index 5 is out of range"),
        (_spec(), ["--cluster-timeout", "0"], "--cluster-timeout=0.0 must be > 0 seconds"),
    ]
    for value, extra, expected in cases:
        if value is None:
            monkeypatch.delenv("TF_CONFIG", raising=False)
        else:
            monkeypatch.setenv("TF_CONFIG", value)
        code = main([*TINY, "--strategy", "multi_worker", "--logdir", str(tmp_path), *extra])
        err = capsys.readouterr().err
        assert code == 2
        assert len(err.strip().splitlines()) == 1 and err.startswith(PROG), err
        assert expected in err
        assert not list(tmp_path.iterdir())  # nothing written


# ====================================================== the rendezvous, loopback threads
def _clusters(n):
    tasks = tuple(("worker", i, f"127.0.0.1:{p}") for i, p in enumerate(free_ports(n)))
    return [Cluster(tasks, "worker", i) for i in range(n)]


def _meet(clusters, checks, timeout=10.0):
    results = [None] * len(clusters)

    def one(i):
        try:
            results[i] = rendezvous(clusters[i], timeout, check=checks[i], message=f"run-{i}")
        except ClusterError as e:
            results[i] = e

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(clusters))]
    for t in threads:
        t.start()
        time.sleep(0.1)  # they start at different times
    for t in threads:
        t.join(30)
    return results


def test_rendezvous_carries_the_chiefs_message_and_frees_the_ports():
    clusters = _clusters(3)
    assert _meet(clusters, ["cfg"] * 3) == ["run-0"] * 3  # every worker: the chief's name
    for c in clusters:  # free again for TensorFlow's servers
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("", int(c.address.rpartition(":")[2])))


def test_rendezvous_refuses_another_config_and_times_out_on_a_missing_peer():
    results = _meet(_clusters(2), ["cfg", "other"])
    for r in results:
        assert isinstance(r, ClusterError) and "runs another config" in str(r)
    clusters = _clusters(2)
    start = time.monotonic()
    with pytest.raises(ClusterError) as e:
        rendezvous(clusters[1], timeout=0.5)
    assert time.monotonic() - start < 5
    assert str(e.value) == (
        f"no answer within 0.5 s from worker 0 ({clusters[0].address}); start every task of "
        "TF_CONFIG (or raise --cluster-timeout)"
    )


# ======================================== the same stream on 2 replicas, in-process
def _tiny_config(**overrides):
    return dataclasses.replace(
        presets.get_preset("quick"), frames=4, size=16, depth=2, width=4, latent_dim=8,
        batch_size=4, augment="translation", **overrides,
    )  # fmt: skip


def test_two_replicas_take_their_rows_of_the_global_batch_and_its_noise():
    config = _tiny_config(data="shapes", num_classes=3)  # (videos, labels) batches
    one = next(iter(builders.build_train_dataset(config, start_step=5)))
    one = one if isinstance(one, tuple) else (one,)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    ds = distribute.distribute_dataset(
        strategy, lambda: builders.build_train_dataset(config, start_step=5), config.batch_size
    )
    got = next(iter(ds))
    got = got if isinstance(got, tuple) else (got,)
    for whole, parts in zip(one, got, strict=True):
        halves = strategy.experimental_local_results(parts)
        np.testing.assert_array_equal(np.concatenate(halves), whole)  # rows 0-1, then 2-3

    gan = make_gan()  # the engine's noise: a function of (seed, step, phase) and the replica

    def draw():
        return gan._random("normal", [2, 8], 7, 1), gan._random("uniform", [2, 3], 7, 2, "augment")

    noise = [np.concatenate(strategy.experimental_local_results(x)) for x in strategy.run(draw)]
    np.testing.assert_array_equal(noise[0], gan._random("normal", [4, 8], 7, 1))
    np.testing.assert_array_equal(noise[1], gan._random("uniform", [4, 3], 7, 2, "augment"))
    with pytest.raises(ClusterError, match="batch_size=3 must be a multiple of the 2 replicas"):
        distribute.distribute_dataset(strategy, lambda: None, 3)


# ============================================================ multi-process (slow)
def _env(**extra):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    env.pop("TF_CONFIG", None)
    return dict(env, **extra)


def _start(args, tf_config_value=None):
    env = _env(**({"TF_CONFIG": tf_config_value} if tf_config_value else {}))
    return subprocess.Popen(
        [sys.executable, "-m", "training", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(procs, timeout=900):  # generous: 2 shared cores under load
    outs = []
    for p in procs:
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            out, err = "", "timed out"
        if p.returncode != 0:
            for q in procs:
                if q.poll() is None:
                    q.kill()
                    q.wait()
        assert p.returncode == 0, err[-3000:]
        outs.append(out)
    return outs


def _run_dir(out):
    (line,) = [x for x in out.splitlines() if x.startswith("run directory: ")]
    return line[len("run directory: ") :].split(" (written by the chief")[0]


def two_workers(args, logdirs):
    """Runs two loopback workers; their stdouts."""
    ports = free_ports(2)
    procs = [
        _start([*args, "--strategy", "multi_worker", "--cluster-timeout", "120",
                "--logdir", str(logdirs[i])], tf_config(ports, i))
        for i in range(2)
    ]  # fmt: skip
    return _finish(procs)


def one_device(args, logdir):
    (out,) = _finish([_start([*args, "--strategy", "one_device", "--logdir", str(logdir)])])
    return _run_dir(out)


def weights(run_dir):
    gan = keras.saving.load_model(os.path.join(run_dir, "model.keras"))
    return [w.numpy() for w in gan.weights], int(gan.g_optimizer.iterations.numpy())


def max_difference(run_a, run_b, steps):
    (a, steps_a), (b, steps_b) = weights(run_a), weights(run_b)
    assert steps_a == steps_b == steps
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b, strict=True))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """``kind -> run dir`` of one-device runs of 2 epochs x 2 steps (each made once)."""
    root, runs = tmp_path_factory.mktemp("reference"), {}
    extra = {"plain": [], "labels": ["--data", "shapes", "--num-classes", "3"]}

    def run(kind):
        if kind not in runs:
            args = [*TINY, *extra[kind], "--epochs", "2", "--run-name", f"ref_{kind}"]
            runs[kind] = one_device(args, root)
        return runs[kind]

    return run


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["plain", "labels"])
def test_two_workers_write_one_run_and_end_with_the_one_device_weights(kind, reference, tmp_path):
    extra = ["--data", "shapes", "--num-classes", "3"] if kind == "labels" else []
    start = time.monotonic()
    outs = two_workers([*TINY, *extra, "--epochs", "2", "--run-name", "mw"],
                       [tmp_path / "chief", tmp_path / "worker1"])  # fmt: skip
    seconds = time.monotonic() - start
    run_dir = _run_dir(outs[0])
    assert _run_dir(outs[1]) == os.path.join(str(tmp_path / "worker1"), os.path.basename(run_dir))
    assert "writes nothing" in outs[1] and "model:" in outs[0] and "model:" not in outs[1]
    assert [p.name for p in (tmp_path / "chief").iterdir()] == [os.path.basename(run_dir)]
    assert not (tmp_path / "worker1").exists()  # the other worker wrote nothing
    for name in ("config.json", "runtime.json", "model.keras", "samples/final.gif", "train"):
        assert os.path.exists(os.path.join(run_dir, name)), name
    state = TrainingCheckpoint.latest(os.path.join(run_dir, "checkpoints"))
    assert os.path.basename(state) == "ckpt-000000004"
    diff = max_difference(run_dir, reference(kind), steps=4)
    print(f"\n2 workers vs 1 device ({kind}): max |weight difference| {diff:.2e}, {seconds:.0f} s")
    assert diff < 1e-5


@pytest.mark.slow
def test_a_run_resumes_across_cluster_sizes(reference, tmp_path):
    # 2 workers for an epoch, then 1 device for the second.
    outs = two_workers([*TINY, "--epochs", "1", "--run-name", "a"], [tmp_path, tmp_path])
    run_a = _run_dir(outs[0])
    assert _run_dir(outs[1]) == run_a
    _finish([_start(["--resume", run_a, "--epochs", "2", "--strategy", "one_device", "--quiet"])])
    diff_a = max_difference(run_a, reference("plain"), steps=4)
    # 1 device for an epoch, then 2 workers (both read the chief's checkpoint).
    run_b = one_device([*TINY, "--epochs", "1", "--run-name", "b"], tmp_path)
    ports = free_ports(2)
    procs = [
        _start(["--resume", run_b, "--epochs", "2", "--strategy", "multi_worker", "--quiet"],
               tf_config(ports, i))
        for i in range(2)
    ]  # fmt: skip
    _finish(procs)
    diff_b = max_difference(run_b, reference("plain"), steps=4)
    print(f"\nresumed 2 workers -> 1 device: {diff_a:.2e}; 1 device -> 2 workers: {diff_b:.2e}")
    assert diff_a < 1e-5 and diff_b < 1e-5
    state = TrainingCheckpoint.latest(os.path.join(run_b, "checkpoints"))
    assert os.path.basename(state) == "ckpt-000000004"


@pytest.mark.slow
@pytest.mark.parametrize("index", [0, 1])
def test_a_missing_peer_is_a_one_line_error_within_the_timeout(index, tmp_path):
    ports = free_ports(2)
    start = time.monotonic()
    proc = _start([*TINY, "--strategy", "multi_worker", "--cluster-timeout", "3",
                   "--logdir", str(tmp_path)], tf_config(ports, index))  # fmt: skip
    out, err = proc.communicate(timeout=300)  # a hang fails here
    assert proc.returncode == 2, err
    other = 1 - index
    assert err.strip().splitlines() == [
        f"{PROG}no answer within 3 s from worker {other} (127.0.0.1:{ports[other]}); start "
        "every task of TF_CONFIG (or raise --cluster-timeout)"
    ]
    assert time.monotonic() - start < 300  # TensorFlow's import and 3 s, not a hang
    assert not list(tmp_path.iterdir())
