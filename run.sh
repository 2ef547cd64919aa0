#!/usr/bin/env bash
# keras_vgan's front door.
#   bash run.sh train [flags]   set up .venv if needed, train mocogan_layers_quick on built-in data
#   bash run.sh test  [args]    set up .venv if needed, run the test suite (what CI runs)
set -euo pipefail
cd "$(dirname "$0")"

find_python() {
  for p in "${PYTHON:-}" python3.11 python3 python; do
    [[ -n "$p" ]] && command -v "$p" >/dev/null 2>&1 || continue
    if "$p" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
      echo "$p"; return 0
    fi
  done
  echo "run.sh: error: Python 3.10+ not found (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

setup() {
  local py stamp=.venv/.installed
  if [[ ! -x .venv/bin/python ]]; then
    py=$(find_python)
    echo "run.sh: creating .venv with $py" >&2
    "$py" -m venv .venv
  fi
  # Reinstall only when the dependency list changed.
  if [[ ! -f $stamp || setup.cfg -nt $stamp ]]; then
    echo "run.sh: installing keras_vgan and its dependencies into .venv" >&2
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[dev]"
    touch "$stamp"
  fi
}

# TensorFlow leaves oneDNN off on x86 CPUs without AVX-512, where 3D convolutions then
# run ~100x slower; keras_vgan/runtime.py explains. A value the user set is kept.
case "$(uname -m)" in
  x86_64|amd64|i?86) export TF_ENABLE_ONEDNN_OPTS="${TF_ENABLE_ONEDNN_OPTS:-1}" ;;
esac

cmd=${1:-}
[[ $# -gt 0 ]] && shift
case "$cmd" in
  train)
    setup
    # The main job: the layered MoCoGAN's five-minute preset (the best offline FD after
    # 450 CPU-s, both seeds, against StyleGAN-V's; README, Which model); a --preset of the
    # user's comes later on the command line and wins.
    exec .venv/bin/python -m training --preset mocogan_layers_quick "$@"
    ;;
  test)
    setup
    # pytest exits 5 when it collected no test: set -e / exec make that a failure too.
    # Two pytest-xdist workers by default (KVGAN_TEST_WORKERS=0: one process): most
    # tests are small graphs whose tracing and Python overhead use one core, so two
    # workers on the 2-core CI machine halve the suite's wall time (18.9 -> 9.1 min).
    exec .venv/bin/python -m pytest -n "${KVGAN_TEST_WORKERS:-2}" "$@"
    ;;
  *)
    echo "usage: bash run.sh train [training flags] | bash run.sh test [pytest args]" >&2
    exit 2
    ;;
esac
