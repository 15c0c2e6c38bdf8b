# Copyright (c) mmrdd contributors. All rights reserved.
"""Run a method's official loss and ours on the same seeded inputs.

Usage::

    git clone https://github.com/OWNER/NAME /tmp/official
    python tools/analysis_tools/check_official.py METHOD \\
        --official-root /tmp/official [--official-commit SHA] [--seed 0]
    # -> docs/results/official_<METHOD>.json

The official code is imported from the checkout at run time (this
repository holds none of it); official code written for CUDA runs on the
CPU through patches the result file lists. The inputs have the Cityscapes
configs' shapes and arguments (student and teacher of different widths,
ignored pixels). The file holds both values of every compared quantity,
their differences (values and gradients), the shapes, the arguments and the
official commit. Exit status 1 when a relative difference exceeds the
tolerance (1e-5).

One row per method in ``METHODS``: ``module:function`` of
:mod:`mmrdd_lab.official`. A ``run(root, repo_root, seed)`` function returns
the method's cases (values and gradients per term); a ``check(root, seed)``
function returns its checks (one difference per compared quantity). Adding
a method is one row here and its function.
"""
import argparse
import importlib
import json
import os
import os.path as osp
import platform
import sys
from typing import Callable, Tuple

import torch

TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))
REPO = osp.dirname(TOOLS)
# the repository (mmrdd from a clone) and tools/ (the lab, mmrdd_lab)
sys.path[:0] = [REPO, TOOLS]
from mmrdd_lab.official import checks
from mmrdd_lab.official.common import (CPU_PATCHES, REL_TOL, TOLERANCE,
                                       official_commit, worst)

#: method -> ``module:function`` of :mod:`mmrdd_lab.official`
METHODS = {
    'maskd': 'maskd:check',  # hunto/MasKD segmentation/
    'afdcd': 'afdcd:run',  # OSVAI/Af-DCD
    'kt': 'kt:run',  # seok-hwa/KT
    # winycg/CIRKD (losses/*.py) and hunto/DIST_KD
    'at': 'kd_family:check_at',
    'cwd': 'kd_family:check_cwd',
    'fitnet': 'kd_family:check_fitnet',
    'skd': 'kd_family:check_skd',
    'ifvd': 'kd_family:check_ifvd',
    'dsd': 'kd_family:check_dsd',
    'cirkd': 'kd_family:check_cirkd',
    'dist': 'kd_family:check_dist',
}


def checker(method: str) -> Tuple[str, Callable]:
    """The kind (``run`` or ``check``) and function of a row of
    ``METHODS``."""
    module, _, function = METHODS[method].partition(':')
    module = importlib.import_module(f'mmrdd_lab.official.{module}')
    return function, getattr(module, function)


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description="Compare a method's official loss with ours")
    parser.add_argument('method', choices=sorted(METHODS))
    parser.add_argument(
        '--official-root',
        required=True,
        help='a checkout of the official repository')
    parser.add_argument(
        '--official-commit',
        default=None,
        help='its commit, if the checkout is not a git work tree '
        '(e.g. extracted with git archive)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument(
        '--out',
        default=None,
        help='result file (default docs/results/official_<method>.json)')
    return parser.parse_args()


def main() -> int:
    """Run the check, write its file; 0 when it passed."""
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    kind, function = checker(args.method)
    commit = official_commit(args.official_root, args.official_commit)
    header = dict(
        method=args.method,
        command='python tools/analysis_tools/check_official.py '
        f'{args.method} --official-root OFFICIAL_CHECKOUT --seed {args.seed}',
        torch=torch.__version__,
        python=platform.python_version(),
        device='cpu')
    if kind == 'run':
        result = function(args.official_root, REPO, args.seed)
        value, grad = worst(result['cases'])
        out = dict(
            header,
            official=dict(
                repository=result.pop('repository'),
                commit=commit,
                files=result.pop('files')),
            cpu_patches=CPU_PATCHES,
            tolerance=TOLERANCE,
            max_rel_diff=dict(value=value, gradient=grad),
            passed=value <= REL_TOL and grad <= REL_TOL,
            **result)
        worst_rel = max(value, grad)
    else:
        result = function(args.official_root, args.seed)
        result['official']['commit'] = commit
        worst_rel = checks.worst(result['checks'])
        out = dict(
            header,
            tolerance=REL_TOL,
            max_rel=worst_rel,
            passed=worst_rel <= REL_TOL,
            **result)
    path = args.out or osp.join(REPO, 'docs', 'results',
                                f'official_{args.method}.json')
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print(f'{args.method}: largest relative difference {worst_rel:.2e} '
          f'(tolerance {REL_TOL:g}): '
          f'{"passed" if out["passed"] else "FAILED"} -> {path}')
    return 0 if out['passed'] else 1


if __name__ == '__main__':
    sys.exit(main())
