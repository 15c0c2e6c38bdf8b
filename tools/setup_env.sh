#!/usr/bin/env bash
# Creates (or completes) a virtual environment with the pinned OpenMMLab stack.
#
#   bash tools/setup_env.sh [VENV_DIR]                  (default: .venv)
#   TORCH_VERSION=2.1.2 bash tools/setup_env.sh .venv-compat
#
# TORCH_VERSION (default 2.13.0, the stack of `make demo` / `make test`) picks
# the torch release; `make test-compat` uses 2.1.2, the oldest torch we test.
# mmcv 2.1.0 is published on PyPI as source only, so its compiled ops are
# built once per torch version (~16 min on 2 CPU cores) into a wheel cache
# outside the repository ($MMRDD_WHEEL_CACHE, default ~/.cache/mmrdd/wheels,
# one folder per torch version: torch2130/, torch212/); later installs take
# that wheel in seconds.
#
# torch 2.13.0 is a CPU build. PyPI has no CPU build of torch 2.1 for Linux:
# its wheel is the CUDA 12.1 build, whose libraries link cuBLAS, cuDNN, cuFFT,
# NCCL, ... from the nvidia-*-cu12 wheels it depends on, so `import torch`
# fails without them (--no-deps does not work). That is the lightest torch
# 2.1 that imports: 2.6 GB to download, 5.3 GB in the venv; it runs on
# the CPU of a machine without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
CACHE=${MMRDD_WHEEL_CACHE:-$HOME/.cache/mmrdd/wheels}
MMCV_VERSION=2.1.0
STAMP="$VENV/.mmrdd-installed"

if [ -f "$STAMP" ] && [ "$STAMP" -nt setup.py ] \
    && [ "$STAMP" -nt requirements/runtime.txt ] \
    && [ "$STAMP" -nt requirements/tests.txt ] \
    && grep -qx "torch==$TORCH_VERSION" "$STAMP"; then
  exit 0
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
PY="$VENV/bin/python"
PIP="$PY -m pip --disable-pip-version-check"
$PIP install -q "setuptools<70" wheel
# The exact version only: a range lets pip take the newest CUDA build (several GB).
$PIP install -q "torch==$TORCH_VERSION"
$PIP install -q "numpy>=1.23,<2" "opencv-python>=4.7,<4.11" "mmengine==0.10.7" \
  ninja psutil

TORCH_TAG=$($PY -c "import torch;print(torch.__version__.split('+')[0].replace('.', ''))")
WHEEL_DIR="$CACHE/torch$TORCH_TAG"
if ! ls "$WHEEL_DIR"/mmcv-$MMCV_VERSION-*.whl >/dev/null 2>&1; then
  echo "[setup] building mmcv $MMCV_VERSION with ops against torch $TORCH_VERSION" \
       "(once, ~16 min on 2 cores) into $WHEEL_DIR"
  mkdir -p "$WHEEL_DIR"
  # torch 2.13 pulled the newest setuptools, which has no pkg_resources
  # (mmcv's setup.py imports it): build with an older one;
  # requirements/runtime.txt puts back the range torch declares.
  $PIP install -q "setuptools<70"
  BUILD=$(mktemp -d)
  # --no-cache-dir: pip's own wheel cache keys a wheel built from the sdist
  # by the sdist alone, so it would hand back an mmcv built against another
  # torch.
  MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
    $PIP wheel --no-cache-dir --no-build-isolation --no-deps --no-binary mmcv \
    "mmcv==$MMCV_VERSION" -w "$BUILD"
  mv "$BUILD"/mmcv-*.whl "$WHEEL_DIR"/
  rm -rf "$BUILD"
fi
# --force-reinstall: a venv that had another torch has an mmcv of the same
# version whose ops were built against that torch.
$PIP install -q --force-reinstall --no-deps "$WHEEL_DIR"/mmcv-$MMCV_VERSION-*.whl
$PIP install -q "$WHEEL_DIR"/mmcv-$MMCV_VERSION-*.whl
$PIP install -q -r requirements/runtime.txt -r requirements/tests.txt
$PIP install -q --no-deps --no-build-isolation -e .
echo "torch==$TORCH_VERSION" > "$STAMP"
echo "[setup] environment ready: $VENV (torch $TORCH_VERSION)"
