# Sourced by tools/dist_*.sh and tools/slurm_*.sh: the one launch of each kind
# (mmrdd_torchrun, mmrdd_srun) that the train and test scripts share.
#
# mmrdd_find_python sets PYTHON, the interpreter that runs tools/train.py and
# tools/test.py, to the first of
#   1. $PYTHON, if set;
#   2. `python` on PATH, if it has the stack (an activated venv or conda env,
#      e.g. an existing OpenMMLab environment);
#   3. <repo>/.venv/bin/python, the environment `make demo` / `make test` made.
# Otherwise it stops, saying how to set one up.
mmrdd_has_stack() {
  "$1" -c 'import importlib.util as u, sys
sys.exit(any(u.find_spec(m) is None
             for m in ("torch", "mmengine", "mmseg", "mmrazor")))' \
    >/dev/null 2>&1
}

mmrdd_find_python() {
  local repo
  repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  if [ -n "${PYTHON:-}" ]; then
    return 0
  fi
  if command -v python >/dev/null 2>&1 && mmrdd_has_stack python; then
    PYTHON=python
  elif [ -x "$repo/.venv/bin/python" ] && mmrdd_has_stack "$repo/.venv/bin/python"; then
    PYTHON="$repo/.venv/bin/python"
    echo "[mmrdd] using $PYTHON (the python on PATH lacks torch/MMSeg/MMRazor;" \
         "activate another environment or set PYTHON=... to change)" >&2
  else
    echo "error: no python with torch, MMEngine, MMSeg and MMRazor found:" \
         "the python on PATH lacks them and $repo/.venv does not exist." \
         "Run 'make test' (or 'make demo') in $repo to create .venv," \
         "activate your OpenMMLab environment, or set PYTHON=/path/to/python." >&2
    exit 1
  fi
}

# mmrdd_torchrun NUM_PROCS TOOL [ARGS...]: tools/TOOL under torchrun
# (PyTorch's launcher), --launcher pytorch before ARGS (so a --launcher in
# ARGS still wins, as in MMSeg's scripts). Multi-node: NNODES, NODE_RANK,
# MASTER_ADDR and PORT, set alike on every node. Without GPUs the processes
# run on CPU with the gloo backend.
mmrdd_torchrun() {
  local procs=$1 tool=$2 tools
  shift 2
  tools=$(dirname "${BASH_SOURCE[0]}")
  mmrdd_find_python
  PYTHONPATH="$tools/..":${PYTHONPATH:-} \
  "$PYTHON" -m torch.distributed.run \
      --nnodes="${NNODES:-1}" \
      --node_rank="${NODE_RANK:-0}" \
      --master_addr="${MASTER_ADDR:-127.0.0.1}" \
      --nproc_per_node="$procs" \
      --master_port="${PORT:-29500}" \
      "$tools/$tool" --launcher pytorch "$@"
}

# mmrdd_srun PARTITION JOB_NAME TOOL [ARGS...]: tools/TOOL on a slurm
# cluster, one task per GPU, --launcher=slurm before ARGS. GPUS (4), GPUS_PER_NODE (4),
# CPUS_PER_TASK (5) and SRUN_ARGS (extra srun options) as in MMSeg.
mmrdd_srun() {
  local partition=$1 job_name=$2 tool=$3 tools
  shift 3
  tools=$(dirname "${BASH_SOURCE[0]}")
  mmrdd_find_python
  local gpus=${GPUS:-4} per_node=${GPUS_PER_NODE:-4}
  # SRUN_ARGS is split on spaces on purpose: several srun options
  # shellcheck disable=SC2086
  PYTHONPATH="$tools/..":${PYTHONPATH:-} \
  srun -p "$partition" \
      --job-name="$job_name" \
      --gres=gpu:"$per_node" \
      --ntasks="$gpus" \
      --ntasks-per-node="$per_node" \
      --cpus-per-task="${CPUS_PER_TASK:-5}" \
      --kill-on-bad-exit=1 \
      ${SRUN_ARGS:-} \
      "$PYTHON" -u "$tools/$tool" --launcher=slurm "$@"
}
