"""The CPU runtime: oneDNN on wherever keras_vgan runs TensorFlow, and the facts of a run.

TensorFlow 2.21 turns its oneDNN kernels on by default only on x86 CPUs with
AVX-512-class features. Without them the 3D transposed convolution (the
forward op of every generator up block, the input gradient of every 3D
convolution) runs in a fallback kernel 100-300x slower, so a VGAN step on an
AVX2-only CPU (AMD before Zen 4, most Intel client CPUs) takes ~90x longer.
TensorFlow reads ``TF_ENABLE_ONEDNN_OPTS`` once, when it is imported, so the
variable must be set before that: :func:`enable_onednn` does it, and
``keras_vgan/__init__.py`` calls it before it imports TensorFlow.

This module imports nothing heavy at import time: the programs and the
benchmarks call :func:`enable_onednn` first, then import TensorFlow.
"""

import json
import os
import platform
import sys
import warnings

ONEDNN_ENV = "TF_ENABLE_ONEDNN_OPTS"
# The instruction sets that decide TensorFlow's CPU kernels, in /proc/cpuinfo's names.
ISA_FLAGS = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "amx_tile",
    "amx_bf16",
)
_X86 = ("x86_64", "amd64", "i386", "i686")
_warned = False


class OneDNNWarning(UserWarning):
    """TensorFlow was imported before keras_vgan with oneDNN off on an x86 CPU."""


def is_x86():
    return platform.machine().lower() in _X86


def enable_onednn():
    """Sets ``TF_ENABLE_ONEDNN_OPTS=1`` before TensorFlow is imported, on x86.

    A value the user set (``0`` included) is kept. If TensorFlow is already
    imported the variable can no longer act: when oneDNN is off there on x86
    and the user did not choose that, one :class:`OneDNNWarning` says what to
    set (once per process).

    Returns:
        ``True`` if this call set the variable, else ``False``.
    """
    if ONEDNN_ENV in os.environ or not is_x86():
        return False
    if "tensorflow" not in sys.modules:
        os.environ[ONEDNN_ENV] = "1"
        return True
    _warn_if_off()
    return False


def _warn_if_off():
    global _warned
    if _warned or onednn_enabled():
        return
    _warned = True
    model, flags = cpu_info()
    isa = "AVX-512" if "avx512f" in flags else "no AVX-512"
    warnings.warn(
        f"keras_vgan: TensorFlow was imported before keras_vgan with oneDNN off on this CPU "
        f"({model}, {isa}); 3D convolutions run up to 100x slower. Set {ONEDNN_ENV}=1 in the "
        f"environment before Python starts, or import keras_vgan before tensorflow.",
        OneDNNWarning,
        stacklevel=3,
    )


def onednn_enabled():
    """Whether the imported TensorFlow runs its oneDNN kernels (imports TensorFlow)."""
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:  # a TensorFlow without the probe: fall back to the variable
        return os.environ.get(ONEDNN_ENV, "").lower() in ("1", "true")
    return bool(_pywrap_util_port.IsMklEnabled())


def cpu_info():
    """``(model name, [instruction-set flags of ISA_FLAGS present])`` from /proc/cpuinfo."""
    model, flags = None, []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model is None:
                    model = value.strip()
                elif key in ("flags", "Features"):
                    have = set(value.split())
                    flags = [x for x in ISA_FLAGS if x in have]
                    break
    except OSError:  # not Linux
        pass
    return model or platform.processor() or platform.machine(), flags


def runtime_info():
    """The facts that decide speed and numerics of a run, as a JSON-ready dict.

    CPU model and instruction sets, cores, whether oneDNN is on (and the
    variable as set), TensorFlow's thread pools, TF / Keras / NumPy / Python
    versions and the logical devices. Imports TensorFlow.
    """
    import keras
    import numpy as np
    import tensorflow as tf

    model, flags = cpu_info()
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        affinity = os.cpu_count()
    gpus = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        gpus.append(details.get("device_name", gpu.name))
    return {
        "cpu_model": model,
        "machine": platform.machine(),
        "isa": flags,
        "avx512": "avx512f" in flags,
        "cpu_count": os.cpu_count(),
        "sched_affinity": affinity,
        "onednn": onednn_enabled(),
        "TF_ENABLE_ONEDNN_OPTS": os.environ.get(ONEDNN_ENV),
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "devices": [d.name for d in tf.config.list_logical_devices()],
        "gpus": gpus,
    }


def format_runtime(info=None):
    """``runtime_info()`` as aligned ``key  value`` lines (for benchmarks and logs)."""
    info = runtime_info() if info is None else info
    rows = [
        ("cpu", f"{info['cpu_model']} ({info['machine']}; {' '.join(info['isa'])})"),
        ("cores", f"{info['cpu_count']} (sched affinity {info['sched_affinity']})"),
        (
            "oneDNN",
            f"{'on' if info['onednn'] else 'off'} "
            f"({ONEDNN_ENV}={info['TF_ENABLE_ONEDNN_OPTS'] or '(unset)'})",
        ),
        (
            "threads intra/inter",
            f"{info['intra_op_threads']}/{info['inter_op_threads']} (0 = TF default)",
        ),
        (
            "versions",
            f"tensorflow {info['tensorflow']}, keras {info['keras']}, numpy {info['numpy']}, "
            f"python {info['python']}",
        ),
        ("gpu", ", ".join(info["gpus"]) or "none"),
    ]
    width = max(len(k) for k, _ in rows)
    return [f"{k:<{width}}  {v}" for k, v in rows]


def write_runtime(path):
    """Writes ``runtime_info()`` as JSON to ``path`` (the run directory's ``runtime.json``)."""
    info = runtime_info()
    with open(path, "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    return info
