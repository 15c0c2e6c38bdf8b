#!/usr/bin/env bash
# Lint as CI does: flake8, isort and yapf (settings in setup.cfg, versions
# in requirements/tests.txt) and the license header: the first line of every
# .py file under mmrdd/, tools/ and tests/ is a `# Copyright (c) ...` line.
# Prints every violation; exits non-zero if any.
#   bash tools/misc/lint.sh [PYTHON]   (default: .venv/bin/python if present)
set -uo pipefail
cd "$(dirname "$0")/../.."
PY=${1:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python)}
PATHS=(mmrdd tools tests configs setup.py)
status=0
echo "[lint] flake8"
"$PY" -m flake8 "${PATHS[@]}" || status=1
echo "[lint] isort --check-only --diff"
"$PY" -m isort --check-only --diff "${PATHS[@]}" || status=1
echo "[lint] yapf --diff --recursive"
"$PY" -m yapf --diff --recursive "${PATHS[@]}" || status=1
echo "[lint] license header (first line '# Copyright (c) ...')"
missing=$(find mmrdd tools tests -name '*.py' -not -path '*/__pycache__/*' \
    -exec awk 'FNR == 1 && !/^# Copyright \(c\) / { print FILENAME }' {} +)
if [ -n "$missing" ]; then
    echo "$missing" | sed 's/$/: no license header/'
    status=1
fi
if [ "$status" -ne 0 ]; then
    echo "[lint] FAILED: fix the above (isort PATH; yapf -i PATH)" >&2
else
    echo "[lint] passed"
fi
exit "$status"
