"""Distribution strategies by name: ``one_device``, ``mirrored``, ``multi_worker``.

Only ``tf.distribute`` strategies are used; the engine scales its losses so a
step is the same whatever the number of replicas (see ``engine``).

Multi-worker training reads its cluster from ``TF_CONFIG``, checked here before
TensorFlow starts anything (``read_cluster``). The workers then meet
(``rendezvous``): plain TCP on their own ``TF_CONFIG`` ports, with a deadline,
before TensorFlow's collective runtime takes those ports, because a
``MultiWorkerMirroredStrategy`` whose peers never come waits forever without
answering signals. The rendezvous also checks that every worker runs the same
config and carries the chief's message (the run directory's name) to the others.

``distribute_dataset`` shards a stream of global batches by position: every input
pipeline builds the same global batches and keeps its rows, so step ``k`` trains
on the same clips on one device, N local replicas or M workers.
"""

import contextlib
import dataclasses
import hashlib
import json
import os
import socket
import threading
import time

import tensorflow as tf

STRATEGIES = ("one_device", "mirrored", "multi_worker")
JOBS = ("chief", "worker")  # the TF_CONFIG jobs multi-worker training takes
EXAMPLE = (
    '{"cluster": {"worker": ["host0:12345", "host1:12345"]}, '
    '"task": {"type": "worker", "index": 0}}'
)


class ClusterError(ValueError):
    """A bad cluster (``TF_CONFIG``, an unreachable peer, a batch that does not split)."""


@dataclasses.dataclass(frozen=True)
class Cluster:
    """The cluster of a multi-worker run, as ``TF_CONFIG`` gives it.

    Attributes:
        tasks: ``(job, index, "host:port")`` of every task, the chief first (rank 0),
            then the workers in order: the order of TensorFlow's ``id_in_cluster``.
        task_type: this process's job (``"chief"`` or ``"worker"``).
        task_index: this process's index in its job.
    """

    tasks: tuple
    task_type: str
    task_index: int

    @property
    def rank(self):
        """This task's position in ``tasks`` (0 is the chief)."""
        return [(j, i) for j, i, _ in self.tasks].index((self.task_type, self.task_index))

    @property
    def num_workers(self):
        return len(self.tasks)

    @property
    def is_chief(self):
        """The ``chief`` task, or worker 0 when there is none: the one that writes the run."""
        return self.rank == 0

    @property
    def address(self):
        return self.tasks[self.rank][2]

    def name_of(self, rank):
        job, index, address = self.tasks[rank]
        return f"{job} {index} ({address})"


def _address(value, where):
    if not isinstance(value, str) or value.count(":") < 1:
        raise ClusterError(f'TF_CONFIG {where} is {value!r:.60}; expected "host:port"')
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ClusterError(
            f'TF_CONFIG {where} is {value!r:.60}; expected "host:port" with a port in 1-65535'
        )
    return value


def read_cluster(tf_config=None):
    """Parses and checks ``TF_CONFIG`` (the environment variable when ``tf_config`` is None).

    Returns:
        A ``Cluster``.

    Raises:
        ClusterError: one line naming what is missing or malformed and what was expected.
    """
    if tf_config is None:
        tf_config = os.environ.get("TF_CONFIG", "")
    if not tf_config.strip():
        raise ClusterError(
            f"strategy='multi_worker' needs the TF_CONFIG environment variable on every "
            f"worker, e.g. {EXAMPLE}"
        )
    try:
        spec = json.loads(tf_config)
    except ValueError as e:
        raise ClusterError(f"TF_CONFIG is not valid JSON ({str(e).splitlines()[0]})") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("cluster"), dict):
        raise ClusterError(
            f'TF_CONFIG must be a JSON object with "cluster" and "task", e.g. {EXAMPLE}'
        )
    cluster = spec["cluster"]
    unknown = sorted(set(cluster) - set(JOBS))
    if unknown:
        raise ClusterError(
            f"TF_CONFIG cluster job {unknown[0]!r} is not supported; multi-worker training "
            "takes 'chief' (at most one) and 'worker' tasks"
        )
    if not cluster:
        raise ClusterError(f'TF_CONFIG "cluster" names no tasks; expected e.g. {EXAMPLE}')
    tasks = []
    for job in JOBS:
        if job not in cluster:
            continue
        addresses = cluster[job]
        if not isinstance(addresses, list) or not addresses:
            raise ClusterError(
                f'TF_CONFIG cluster {job!r} is {addresses!r:.60}; expected a non-empty list of "host:port"'
            )
        if job == "chief" and len(addresses) > 1:
            raise ClusterError(f"TF_CONFIG cluster 'chief' has {len(addresses)} tasks; at most 1")
        for i, a in enumerate(addresses):
            tasks.append((job, i, _address(a, f"cluster {job!r} entry {i}")))
    seen = set()
    for _, _, a in tasks:
        if a in seen:
            raise ClusterError(
                f"TF_CONFIG cluster address {a!r} is given twice; each task needs its own"
            )
        seen.add(a)
    task = spec.get("task")
    if not isinstance(task, dict):
        raise ClusterError(
            f'TF_CONFIG "task" is {task!r:.60}; expected {{"type": "worker", "index": N}}'
        )
    job, index = task.get("type"), task.get("index")
    if job not in cluster:
        raise ClusterError(
            f"TF_CONFIG task type {job!r:.40} is not a job of the cluster ({', '.join(sorted(cluster))})"
        )
    count = len(cluster[job])
    if not isinstance(index, int) or isinstance(index, bool):
        raise ClusterError(
            f"TF_CONFIG task index {index!r:.40} must be an integer in 0-{count - 1}"
        )
    if not 0 <= index < count:
        raise ClusterError(
            f"TF_CONFIG task index {index} is out of range: the cluster has {count} "
            f"{job!r} task{'s' if count > 1 else ''} (index 0-{count - 1})"
        )
    return Cluster(tuple(tasks), job, index)


# ------------------------------------------------------------------------ rendezvous
def _digest(text):
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _send(conn, hello):
    conn.sendall((json.dumps(hello) + "\n").encode())


def _receive(conn, deadline):
    data = b""
    while not data.endswith(b"\n"):
        conn.settimeout(max(0.05, deadline - time.monotonic()))
        chunk = conn.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    hello = json.loads(data)
    if not isinstance(hello, dict) or hello.get("keras_vgan") != 1:
        raise ConnectionError("not a keras_vgan worker")
    return hello


def rendezvous(cluster, timeout=60.0, check="", message=""):
    """Meets every other task of ``cluster`` within ``timeout`` seconds, before TensorFlow.

    Every task listens on its own ``TF_CONFIG`` port and connects to every other
    one; each connection swaps a line naming the task, a digest of the cluster and
    of ``check``, and the sender's ``message``. A task is done when it has reached
    every peer and every peer has reached it: the ports are then free for
    TensorFlow's servers.

    Args:
        cluster: a ``Cluster``.
        timeout: seconds to wait for all peers (> 0).
        check: text that must be the same on every task (e.g. the config as JSON).
        message: what the chief tells the others (ignored on the others).

    Returns:
        The chief's ``message``.

    Raises:
        ClusterError: a peer did not answer in time, or runs another cluster or config.
    """
    if cluster.num_workers == 1:
        return message
    deadline = time.monotonic() + float(timeout)
    own = {
        "keras_vgan": 1,
        "rank": cluster.rank,
        "cluster": _digest(json.dumps(cluster.tasks)),
        "check": _digest(check),
        "message": message if cluster.is_chief else "",
    }
    heard, reached, errors = {}, set(), []
    lock = threading.Lock()

    def accept(hello):
        rank = hello.get("rank")
        if hello.get("cluster") != own["cluster"]:
            errors.append(f"the task at rank {rank} has another TF_CONFIG cluster")
        elif hello.get("check") != own["check"]:
            errors.append(
                f"{cluster.name_of(rank)} runs another config than this "
                f"{cluster.task_type} (the flags of every worker must match)"
            )
        with lock:
            heard[rank] = hello

    port = int(cluster.address.rpartition(":")[2])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("", port))
    except OSError as e:
        listener.close()
        raise ClusterError(
            f"{cluster.name_of(cluster.rank)} cannot listen on port {port} "
            f"({e.strerror or e}); TF_CONFIG must give each task a free port"
        ) from None
    listener.listen(cluster.num_workers * 2)
    stop = threading.Event()

    def serve():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with contextlib.closing(conn):
                try:
                    hello = _receive(conn, time.monotonic() + 5)
                    _send(conn, own)
                except (OSError, ValueError, ConnectionError):
                    continue
                accept(hello)
                with lock:
                    reached.add(hello.get("rank"))

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    peers = [r for r in range(cluster.num_workers) if r != cluster.rank]
    try:
        pending = list(peers)
        while pending and not errors and time.monotonic() < deadline:
            for rank in list(pending):
                host, _, p = cluster.tasks[rank][2].rpartition(":")
                try:
                    with socket.create_connection((host.strip("[]"), int(p)), timeout=1.0) as c:
                        _send(c, own)
                        accept(_receive(c, min(deadline, time.monotonic() + 5)))
                    pending.remove(rank)
                except (OSError, ValueError, ConnectionError):
                    pass
            if pending:
                time.sleep(0.2)
        while not errors and time.monotonic() < deadline:
            with lock:
                if set(peers) <= reached:
                    break
            time.sleep(0.05)
    finally:
        stop.set()
        server.join()
        listener.close()
    if errors:
        raise ClusterError(errors[0])
    with lock:
        missing = [r for r in peers if r not in heard or r not in reached]
    if missing:
        who = ", ".join(cluster.name_of(r) for r in missing)
        raise ClusterError(
            f"no answer within {timeout:g} s from {who}; start every task of TF_CONFIG "
            "(or raise --cluster-timeout)"
        )
    return heard[0]["message"] if not cluster.is_chief else message


# ------------------------------------------------------------------------ strategies
_MULTI_WORKER = {}  # TensorFlow starts its collective runtime once per process


def multi_worker_strategy(cluster=None, timeout=60.0, check="", message=""):
    """Checks ``TF_CONFIG``, meets the peers (``rendezvous``), builds the strategy.

    TensorFlow allows one ``MultiWorkerMirroredStrategy`` runtime per process: a
    second call returns the first strategy and chief message.

    Args:
        cluster: a ``Cluster``; read from ``TF_CONFIG`` if None.
        timeout, check, message: see ``rendezvous``.

    Returns:
        ``(strategy, chief_message)``.

    Raises:
        ClusterError: bad ``TF_CONFIG``, a peer that does not answer, another config.
    """
    if "strategy" in _MULTI_WORKER:
        return _MULTI_WORKER["strategy"], _MULTI_WORKER["message"]
    cluster = cluster or read_cluster()
    chief_message = rendezvous(cluster, timeout=timeout, check=check, message=message)
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    _MULTI_WORKER.update(strategy=strategy, message=chief_message)
    return strategy, chief_message


def get_strategy(name="one_device", devices=None):
    """Returns a ``tf.distribute.Strategy`` by name.

    Args:
        name: ``"one_device"`` (the first GPU if any, else the CPU),
            ``"mirrored"`` (all local GPUs, or ``devices``), or
            ``"multi_worker"`` (``MultiWorkerMirroredStrategy``; the cluster
            comes from the ``TF_CONFIG`` environment variable, and the workers
            meet first: ``multi_worker_strategy``).
        devices: optional device names for ``"mirrored"`` (e.g. two logical
            CPUs in tests).

    Raises:
        ValueError: for an unknown name.
        ClusterError: ``"multi_worker"`` with a bad ``TF_CONFIG`` or unreachable peers.
    """
    if name == "one_device":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices)
    if name == "multi_worker":
        return multi_worker_strategy()[0]
    raise ValueError(f"strategy={name!r} is not one of {', '.join(STRATEGIES)}")


def is_chief(strategy):
    """Whether this process writes the run: always, except on a multi-worker non-chief."""
    return bool(strategy.extended.should_checkpoint)


# ------------------------------------------------------------------------ data
def _rows(start, count):
    return lambda *batch: (
        tuple(x[start : start + count] for x in batch)
        if len(batch) > 1
        else batch[0][start : start + count]
    )


def check_global_batch(strategy, batch_size):
    """ClusterError unless the global ``batch_size`` splits evenly over the replicas."""
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise ClusterError(
            f"batch_size={batch_size} must be a multiple of the {replicas} replicas in sync "
            "(the global batch is split evenly)"
        )


def distribute_dataset(strategy, make_dataset, batch_size):
    """Global batches sharded by position: replica ``r`` gets rows ``[r b, (r + 1) b)``.

    Every input pipeline (one per worker) builds the whole stream of global
    batches with ``make_dataset()`` (a pure function of the config, the same on
    every worker), keeps the rows of its replicas, and splits them into
    per-replica batches of ``b = batch_size / replicas``, in replica order. This
    is the slicing of the engine's counter-based noise (``engine.GenerativeModel
    ._random``), so a step is the step one device takes on the whole batch. No
    tf.data auto-sharding (which falls back to ``DATA`` sharding for generated
    data and changes which clips form a global batch).

    Args:
        strategy: a ``tf.distribute.Strategy``.
        make_dataset: ``() -> tf.data.Dataset`` of global batches (a tensor or a
            tuple of tensors with the batch first).
        batch_size: the global batch size.

    Returns:
        ``make_dataset()`` with one replica; else a distributed dataset for ``fit``.

    Raises:
        ClusterError: ``batch_size`` is not a multiple of the replicas in sync.
    """
    if strategy.num_replicas_in_sync == 1:
        return make_dataset()
    check_global_batch(strategy, batch_size)

    def dataset_fn(context):
        per_replica = context.get_per_replica_batch_size(batch_size)
        local = context.num_replicas_in_sync // context.num_input_pipelines
        first = context.input_pipeline_id * local * per_replica
        ds = make_dataset().map(_rows(first, local * per_replica))
        return ds.rebatch(per_replica)  # local replica i takes the i-th piece

    return strategy.distribute_datasets_from_function(dataset_fn)
