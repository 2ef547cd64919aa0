"""oneDNN on wherever keras_vgan runs TensorFlow, and the runtime facts of a run."""

import json
import os
import subprocess
import sys

import pytest

from keras_vgan import runtime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
x86_only = pytest.mark.skipif(not runtime.is_x86(), reason="oneDNN set-up applies to x86 only")


def _env(**values):
    """This process's environment without the oneDNN variable, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if k != runtime.ONEDNN_ENV}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT, **values)
    return env


def _python(code, **env):
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_runtime_info_names_cpu_isa_onednn_threads_versions_devices():
    info = runtime.runtime_info()
    for key in ("cpu_model", "isa", "onednn", "intra_op_threads", "tensorflow", "keras"):
        assert key in info
    assert isinstance(info["onednn"], bool)
    assert info["cpu_count"] >= 1 and info["devices"]
    assert info["avx512"] == ("avx512f" in info["isa"])
    json.dumps(info)  # JSON-ready
    lines = runtime.format_runtime(info)
    assert any(line.startswith("oneDNN") for line in lines)
    assert any(info["cpu_model"] in line for line in lines)


@x86_only
def test_enable_onednn_sets_the_variable_only_when_the_user_did_not(monkeypatch):
    # As if TensorFlow were not imported yet (the check is sys.modules membership).
    monkeypatch.delitem(sys.modules, "tensorflow")
    monkeypatch.delenv(runtime.ONEDNN_ENV, raising=False)
    assert runtime.enable_onednn() is True
    assert os.environ[runtime.ONEDNN_ENV] == "1"
    monkeypatch.setenv(runtime.ONEDNN_ENV, "0")
    assert runtime.enable_onednn() is False
    assert os.environ[runtime.ONEDNN_ENV] == "0"


@x86_only
def test_suite_runs_with_the_variable_set_and_in_effect():
    # conftest imports keras_vgan before TensorFlow; CI sets nothing, so this is "1"
    # (a developer's explicit "0" is kept, and then in effect too).
    assert runtime.onednn_enabled() == (os.environ[runtime.ONEDNN_ENV] == "1")


@x86_only
@pytest.mark.slow  # suite time; the family stays covered in the default run
def test_training_program_turns_onednn_on_and_records_it(tmp_path):
    args = [
        "--preset", "quick", "--frames", "4", "--size", "16", "--depth", "2", "--width", "4",
        "--latent-dim", "8", "--batch-size", "2", "--num-samples", "2", "--epochs", "1",
        "--steps-per-epoch", "1", "--logdir", str(tmp_path), "--run-name", "r", "--quiet",
    ]  # fmt: skip
    # As a user runs it: neither variable set.
    env = {k: v for k, v in _env().items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    proc = subprocess.run(
        [sys.executable, "-m", "training", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    # No native TensorFlow log lines reach the user (with oneDNN on an AVX2 CPU TF logs a
    # harmless "oneDNN supports DT_INT32 only on ... AVX-512" error at the first op).
    native = [line for line in proc.stderr.splitlines() if line[:5] in ("E0000", "W0000", "I0000")]
    assert native == [], native
    (run_dir,) = tmp_path.iterdir()
    info = json.loads((run_dir / "runtime.json").read_text())
    assert info["onednn"] is True
    assert info["TF_ENABLE_ONEDNN_OPTS"] == "1"
    assert info["tensorflow"] and info["cpu_model"]


_PROGRAM_PATH = """
import json
from training.program import quiet_tensorflow
with quiet_tensorflow():
    from keras_vgan import runtime
print(json.dumps([runtime.onednn_enabled(), runtime.os.environ.get(runtime.ONEDNN_ENV)]))
"""


@x86_only
@pytest.mark.parametrize("value, expected", [(None, [True, "1"]), ("0", [False, "0"])])
def test_every_program_path_sets_onednn_and_respects_an_explicit_zero(value, expected):
    # All programs (training, evaluate, evaluate_tasks, frames, export, export.client,
    # generate) load TensorFlow through training.program.quiet_tensorflow.
    env = {} if value is None else {runtime.ONEDNN_ENV: value}
    proc = _python(_PROGRAM_PATH, **env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == expected


_LIBRARY_USER = """
import tensorflow as tf  # imported before keras_vgan, no variable set
from tensorflow.python.util import _pywrap_util_port
import keras_vgan
keras_vgan.runtime.enable_onednn()  # a second call must not warn again
print("ONEDNN", int(_pywrap_util_port.IsMklEnabled()))
"""


@x86_only
def test_library_user_who_imported_tensorflow_first_gets_one_warning_line():
    proc = _python(_LIBRARY_USER)
    assert proc.returncode == 0, proc.stderr
    enabled = proc.stdout.split("ONEDNN")[-1].strip() == "1"
    lines = [line for line in proc.stderr.splitlines() if "OneDNNWarning" in line]
    if enabled:  # an AVX-512 CPU: TensorFlow's default is already on, nothing to say
        assert lines == []
    else:
        assert len(lines) == 1
        assert "TF_ENABLE_ONEDNN_OPTS=1" in lines[0] and "slower" in lines[0]


@x86_only
def test_no_warning_when_the_user_chose_onednn_off():
    proc = _python(_LIBRARY_USER, **{runtime.ONEDNN_ENV: "0"})
    assert proc.returncode == 0, proc.stderr
    assert "OneDNNWarning" not in proc.stderr
    assert proc.stdout.split("ONEDNN")[-1].strip() == "0"
