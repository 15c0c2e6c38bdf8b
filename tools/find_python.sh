# Sourced by tools/dist_*.sh and tools/slurm_*.sh: sets PYTHON, the
# interpreter that runs tools/train.py and tools/test.py, to the first of
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
