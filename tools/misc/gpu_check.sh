#!/usr/bin/env bash
# The prepared GPU check (docs/gpu_check.md): one command that spends a lent
# GPU machine's minutes on measurement.
#
#   bash tools/misc/gpu_check.sh --prepare [DIR]     here, once (needs PyPI):
#       downloads the wheels the GPU machine lacks and mmcv's source archive
#       into DIR (default .gpu_wheels, git-ignored) and checks them
#   bash tools/misc/gpu_check.sh OUT                 on the GPU machine, with
#       .gpu_wheels carried: set-up, CUDA tests, step benchmark, a short
#       training run; everything it learns goes to OUT (7 files)
#   bash tools/misc/gpu_check.sh --cpu-dry-run OUT   here and in CI: the same
#       sequence on CPU at a tiny size, with the stack of PYTHON (.venv)
#   bash tools/misc/gpu_check.sh --install-only      the set-up alone
#
# Environment: PYTHON (the interpreter; default python3 on the GPU machine,
# .venv/bin/python for the dry run and --prepare), GPU_CHECK_WHEELS (the
# wheel folder, default .gpu_wheels), GPU_CHECK_BUDGET_S (seconds for the
# whole run: 570 on the GPU, since one command there may run 600; 900 for
# the dry run), GPU_CHECK_BUILD_MMCV=0 (--install-only without building
# mmcv: the install test on a Python without torch), MAX_JOBS (mmcv build
# jobs, default the core count).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
WHEELS=${GPU_CHECK_WHEELS:-$ROOT/.gpu_wheels}
HELPER="tools/misc/gpu_check.py"
RDD_CFG=configs/rdd/rdd_logits_deeplabv3_r101-d8_deeplabv3_r18-d8_4xb4-40k_cityscapes-512x1024.py
CIRKD_CFG=configs/rdd/rdd+cirkd_feat_deeplabv3_r101-d8_deeplabv3_r18-d8_4xb4-40k_cityscapes-512x1024.py
DSD_CFG=configs/rdd/rdd+dsd_feat_deeplabv3_r101-d8_deeplabv3_r18-d8_4xb4-40k_cityscapes-512x1024.py

usage() {
  sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

log() { echo "[gpu_check $(date +%H:%M:%S)] $*"; }

default_python() {
  if [ -n "${PYTHON:-}" ]; then
    echo "$PYTHON"
  elif [ "$1" = gpu ] || [ ! -x "$ROOT/.venv/bin/python" ]; then
    echo python3
  else
    echo "$ROOT/.venv/bin/python"
  fi
}

# ---------------------------------------------------------------- prepare
prepare() {
  local dir=${1:-$WHEELS} py
  py=$(default_python prepare)
  mkdir -p "$dir"
  log "downloading the carried wheels (CPython 3.12, manylinux x86_64) into $dir"
  "$py" -m pip download -q --disable-pip-version-check --no-deps \
    --only-binary :all: --python-version 3.12 --implementation cp \
    --abi cp312 --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d "$dir" -r requirements/gpu_check.txt || return 1
  log "downloading the mmcv 2.1.0 source archive"
  "$py" -m pip download -q --disable-pip-version-check --no-deps \
    --no-binary :all: -d "$dir" mmcv==2.1.0 || return 1
  "$py" "$HELPER" check-wheels "$dir" || return 1
  log "carry it: name $(realpath --relative-to="$ROOT" "$dir") in the" \
      "device run's carry; $(du -sh "$dir" | cut -f1) plus the" \
      "repository's $(git ls-files -z | xargs -0 du -cb | tail -1 |
                       awk '{printf "%.1f MiB", $1 / 1048576}') (limit 64 MiB)"
}

# ---------------------------------------------------------------- install
# Into PYTHON's own environment (the GPU machine is bare and given back
# afterwards), with --no-deps: the image's torch, numpy (2.x there; ours
# says <2, which nothing in the check needs) and opencv-python-headless
# (mmengine asks for opencv-python, the same cv2) stay as they are.
install_stack() {
  local py=$1 pip t0 mmcv_sdist
  pip="$py -m pip --disable-pip-version-check"
  t0=$(date +%s)
  if [ ! -d "$WHEELS" ]; then
    log "no wheel folder $WHEELS: run 'bash tools/misc/gpu_check.sh" \
        "--prepare' where PyPI is reachable and carry .gpu_wheels"
    return 1
  fi
  "$py" "$HELPER" check-wheels "$WHEELS" || return 1
  log "installing the carried wheels"
  # shellcheck disable=SC2086
  $pip install -q --no-index --no-deps --no-cache-dir "$WHEELS"/*.whl ||
    return 1
  if [ "${GPU_CHECK_BUILD_MMCV:-1}" != 0 ]; then
    mmcv_sdist=$(ls "$WHEELS"/mmcv-2.1.0.tar.gz)
    # mmcv's compiled ops with their CPU kernels only. MMSeg imports
    # mmcv.ops when it loads (some heads use its ops), so mmcv._ext must
    # exist and declare every op; no model or loss of this check calls one
    # (ResNetV1c, MobileNetV2, the ASPP/PSP/FCN heads, RDD and the KD
    # losses are plain torch), and a CUDA build compiles ~100 kernels with
    # nvcc for minutes. With the GPU hidden and FORCE_CUDA=0 mmcv's
    # setup.py builds CppExtension. A CUDA op called on GPU tensors by
    # mistake would fail loudly ("not implemented for CUDA"), not silently.
    log "building mmcv 2.1.0 with its CPU ops (MAX_JOBS=${MAX_JOBS:-$(nproc)})"
    CUDA_VISIBLE_DEVICES="" MMCV_WITH_OPS=1 FORCE_CUDA=0 \
      MAX_JOBS=${MAX_JOBS:-$(nproc)} \
      $pip install -q --no-index --no-deps --no-cache-dir \
      --no-build-isolation "$mmcv_sdist" || return 1
  fi
  log "installing mmrdd (editable, no dependencies)"
  $pip install -q --no-index --no-deps --no-build-isolation -e . ||
    return 1
  if [ "${GPU_CHECK_BUILD_MMCV:-1}" != 0 ]; then
    "$py" -c 'import mmcv.ops, mmseg.models, mmrdd, mmrazor.models' ||
      return 1
  fi
  log "set-up took $(( $(date +%s) - t0 )) s"
}

# ----------------------------------------------------------------- phases
# run_phase NAME CAP_S RESERVE_S CMD...: run CMD under a time limit of at
# most CAP_S that leaves RESERVE_S of the budget to the later phases where
# it can (in a crunch the earlier phase wins: at least a minute, or what is
# left); its
# output is shown as it comes, each line prefixed with "  [NAME] " (so that
# no line of it reads as the closing line of a test run); its status and
# seconds go to $WORK/phases.tsv.
run_phase() {
  local name=$1 cap=$2 reserve=$3 left limit t0 rc status
  shift 3
  left=$(( DEADLINE - $(date +%s) ))
  limit=$(( left - reserve ))
  [ "$limit" -lt 60 ] && limit=$(( left < 60 ? left : 60 ))
  [ "$limit" -gt "$cap" ] && limit=$cap
  if [ "$limit" -lt 15 ]; then
    log "phase $name: skipped, ${left}s of the budget left"
    printf '%s\tskipped\t0\t-\n' "$name" >>"$WORK/phases.tsv"
    return 0
  fi
  log "phase $name (limit ${limit}s)"
  t0=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" 2>&1 | sed -u "s/^/  [$name] /"
  rc=${PIPESTATUS[0]}
  case $rc in
    0) status=ok ;;
    124 | 137) status=timeout ;;
    *) status=failed ;;
  esac
  printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$(( $(date +%s) - t0 ))" \
    "$rc" >>"$WORK/phases.tsv"
  log "phase $name: $status after $(( $(date +%s) - t0 ))s (rc $rc)"
  summarize
  return 0
}

summarize() {
  "$PY" "$HELPER" summary --out "$OUT" --work "$WORK" --mode "$MODE" \
    --started "$STARTED" || log "summary failed (see above)"
}

run_check() {
  local t0
  STARTED=$(date +%s)
  DEADLINE=$(( STARTED + BUDGET ))
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")
  : >"$WORK/phases.tsv"
  log "mode $MODE, python $PY, output $OUT, work $WORK, budget ${BUDGET}s"
  if [ "$MODE" = gpu ]; then
    nvidia-smi --query-gpu=name,driver_version,memory.total \
      --format=csv,noheader 2>&1 | sed 's/^/[gpu_check] gpu: /'
    t0=$(date +%s)
    install_stack "$PY" >"$OUT/install.log" 2>&1
    rc=$?
    tail -n 5 "$OUT/install.log"
    printf 'install\t%s\t%s\t%s\n' "$([ $rc = 0 ] && echo ok || echo failed)" \
      "$(( $(date +%s) - t0 ))" "$rc" >>"$WORK/phases.tsv"
    log "set-up: $(( $(date +%s) - t0 ))s (target <= 240 s), rc $rc"
    if [ $rc != 0 ]; then
      tail -n 40 "$OUT/install.log"
      summarize
      return 1
    fi
  else
    printf 'install\tskipped\t0\t-\n' >>"$WORK/phases.tsv"
    log "install: skipped (the dry run uses the stack of $PY)"
  fi
  "$PY" "$HELPER" environment --out "$WORK/environment.json" ||
    log "environment report failed"
  summarize

  local device amp_dtype bench_args train_args test_env
  if [ "$MODE" = gpu ]; then
    device=cuda
    test_env=(MMRDD_REQUIRE_CUDA=1)
    bench_args=(--device cuda --cudnn-benchmark --batch-size 4
                --crop 512 1024 --iters 20 --warmup 3 --memory-steps 2
                --memory-jobs 4)
    train_args=(--scale full)
  else
    # one thread per process: on a shared 2-core VM, OpenMP threads that
    # wait for each other make a step tens of times slower
    export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
    device=cpu
    test_env=(MMRDD_TEST_CUDA_ON_CPU=1)
    bench_args=(--device cpu --batch-size 2 --crop 32 64 --iters 1
                --warmup 1 --memory none --threads 1)
    train_args=(--scale tiny)
  fi
  amp_dtype=$([ "$device" = cuda ] && echo float16 || echo bfloat16)
  log "device $device, AMP $amp_dtype"

  # 1. the CUDA tests (on the GPU they must not skip; the dry run runs their
  #    code on CPU); -qq: no "N passed" line that CI could take for its own
  #    test run's (the counts are in summary.json and the verdict)
  run_phase cuda_tests 120 200 env "${test_env[@]}" "$PY" -m pytest \
    tests/test_cuda -m cuda -qq -rfEs -p no:cacheprovider \
    --junitxml="$OUT/cuda_tests.xml"
  # 2. the step benchmark at the paper's size (full) or tiny (dry run);
  #    after a slow set-up, half the timed steps, so that it ends in time
  if [ "$MODE" = gpu ] && [ $(( DEADLINE - $(date +%s) )) -lt 350 ]; then
    log "benchmark: short of time, 10 timed steps per variant"
    bench_args+=(--iters 10 --warmup 2)
  fi
  run_phase benchmark 240 110 "$PY" tools/analysis_tools/benchmark.py \
    "$RDD_CFG" --synthetic --amp --min-kept auto "${bench_args[@]}" \
    --variants student pixel-kd mmrazor-kd rdd-tfe rdd-tse \
    --variant "rdd+cirkd=$CIRKD_CFG" --variant "rdd+dsd=$DSD_CFG" \
    --out "$OUT/benchmark.json"
  # 3. a short training through tools/train.py on synthetic Cityscapes
  run_phase train 200 5 "$PY" "$HELPER" train --config "$RDD_CFG" \
    --work "$WORK/train" "${train_args[@]}"
  log "done in $(( $(date +%s) - STARTED ))s; files in $OUT:"
  ls -la "$OUT"
  "$PY" "$HELPER" verdict --out "$OUT"
}

main() {
  case "${1:-}" in
    -h | --help) usage 0 ;;
    --prepare)
      shift
      prepare "$@"
      return ;;
    --install-only)
      PY=$(default_python gpu)
      install_stack "$PY"
      return ;;
    --cpu-dry-run)
      MODE=cpu-dry-run
      shift
      BUDGET=${GPU_CHECK_BUDGET_S:-900} ;;
    -*) usage 2 ;;
    "") usage 2 ;;
    *)
      MODE=gpu
      BUDGET=${GPU_CHECK_BUDGET_S:-570} ;;
  esac
  OUT=${1:-$ROOT/work_dirs/gpu_check_dry_run}
  mkdir -p "$OUT"
  OUT=$(cd "$OUT" && pwd)
  if [ "$MODE" = gpu ]; then
    PY=$(default_python gpu)
  else
    PY=$(default_python dry)
  fi
  export PYTHONUNBUFFERED=1
  run_check 2>&1 | tee "$OUT/gpu_check.log"
}

main "$@"
