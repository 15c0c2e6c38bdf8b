#!/usr/bin/env bash
# Distributed test with torchrun (PyTorch's launcher), MMSeg 1.x style.
#   tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [ARGS...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
# Without GPUs the processes run on CPU with the gloo backend.
# PYTHON: see tools/launch_common.sh.
set -euo pipefail
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
shift 3
source "$(dirname "$0")/launch_common.sh"
mmrdd_torchrun "$GPUS" test.py "$CONFIG" "$CHECKPOINT" "$@"
