#!/usr/bin/env bash
# train on a slurm cluster, one task per GPU (MMSeg 1.x style).
#   [GPUS=8] [GPUS_PER_NODE=8] tools/slurm_train.sh PARTITION JOB_NAME CONFIG [ARGS...]
# CPUS_PER_TASK, SRUN_ARGS and PYTHON: see tools/launch_common.sh.
set -euxo pipefail
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
shift 3
source "$(dirname "$0")/launch_common.sh"
mmrdd_srun "$PARTITION" "$JOB_NAME" train.py "$CONFIG" "$@"
