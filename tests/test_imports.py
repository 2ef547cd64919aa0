"""Every module of keras_vgan imports on its own, first, in a fresh interpreter: no cycles.

A cycle hidden by import order shows up as an ImportError (a partially initialised
module) when the module at its other end is imported first. Importing TensorFlow
once per module would take minutes, so one fresh interpreter imports the
third-party libraries (none of keras_vgan), then forks one child per module; each
child starts with no keras_vgan module loaded and imports its module first.
"""

import os
import pathlib
import subprocess
import sys

import keras_vgan

PACKAGE = pathlib.Path(keras_vgan.__file__).parent

CHILDREN = r"""
import importlib, os, sys, traceback, warnings
warnings.simplefilter("ignore")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
import cv2, keras, numpy, PIL.Image, tensorflow  # third-party only: no keras_vgan yet
assert not [m for m in sys.modules if m.split(".")[0] == "keras_vgan"]
failed = []
for name in sys.argv[1:]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: keras_vgan is not loaded; import `name` first
        os.close(read)
        try:
            importlib.import_module(name)
            code = 0
        except BaseException:
            os.write(write, traceback.format_exc().encode())
            code = 1
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        error = f.read().decode()
    _, status = os.waitpid(pid, 0)
    if status:
        failed.append(f"--- import {name} first:\n{error or f'exit status {status}'}")
print("\n".join(failed))
sys.exit(1 if failed else 0)
"""


def all_modules():
    """Every module of the package, from its files (nothing imported)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ("keras_vgan", *path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def test_every_module_imports_first_in_a_fresh_interpreter():
    modules = all_modules()
    assert len(modules) > 40 and "keras_vgan.export.endpoints" in modules
    root = str(PACKAGE.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [sys.executable, "-c", CHILDREN, *modules],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=root,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
