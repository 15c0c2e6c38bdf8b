#!/usr/bin/env bash
# Creates (or completes) the virtual environment with the pinned OpenMMLab stack.
#
#   bash tools/setup_env.sh [VENV_DIR]       (default: .venv)
#
# mmcv 2.1.0 has no wheel for torch 2.13, so its compiled ops are built once from
# the source distribution (~16 min on 2 CPU cores) into a wheel cache outside the
# repository ($MMRDD_WHEEL_CACHE, default ~/.cache/mmrdd/wheels); later installs
# take that wheel in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv}
CACHE=${MMRDD_WHEEL_CACHE:-$HOME/.cache/mmrdd/wheels}
MMCV_VERSION=2.1.0
TORCH_VERSION=2.13.0

if [ -f "$VENV/.mmrdd-installed" ] && [ "$VENV/.mmrdd-installed" -nt setup.py ] \
    && [ "$VENV/.mmrdd-installed" -nt requirements/runtime.txt ]; then
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

mkdir -p "$CACHE"
TORCH_TAG=$($PY -c "import torch;print(torch.__version__.split('+')[0].replace('.', ''))")
WHEEL_DIR="$CACHE/torch$TORCH_TAG"
if ! ls "$WHEEL_DIR"/mmcv-$MMCV_VERSION-*.whl >/dev/null 2>&1; then
  echo "[setup] building mmcv $MMCV_VERSION with ops against torch $TORCH_VERSION" \
       "(once, ~16 min on 2 cores) into $WHEEL_DIR"
  mkdir -p "$WHEEL_DIR"
  # torch pulled the newest setuptools, which has no pkg_resources (mmcv's
  # setup.py imports it): build with an older one; requirements/runtime.txt
  # puts back the range torch declares.
  $PIP install -q "setuptools<70"
  BUILD=$(mktemp -d)
  MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
    $PIP wheel --no-build-isolation --no-deps --no-binary mmcv \
    "mmcv==$MMCV_VERSION" -w "$BUILD"
  mv "$BUILD"/mmcv-*.whl "$WHEEL_DIR"/
  rm -rf "$BUILD"
fi
$PIP install -q "$WHEEL_DIR"/mmcv-$MMCV_VERSION-*.whl
$PIP install -q -r requirements/runtime.txt -r requirements/tests.txt
$PIP install -q --no-deps --no-build-isolation -e .
touch "$VENV/.mmrdd-installed"
echo "[setup] environment ready: $VENV"
