#!/usr/bin/env bash
# Distributed train with torchrun (PyTorch's launcher), MMSeg 1.x style.
#   tools/dist_train.sh CONFIG NUM_PROCS [ARGS...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
# Without GPUs the processes run on CPU with the gloo backend.
# PYTHON: see tools/launch_common.sh (default: the python on PATH if it has
# the stack, else the repository's .venv).
set -euo pipefail
CONFIG=$1
GPUS=$2
shift 2
source "$(dirname "$0")/launch_common.sh"
mmrdd_torchrun "$GPUS" train.py "$CONFIG" "$@"
