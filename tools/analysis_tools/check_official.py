# Copyright (c) mmrdd contributors. All rights reserved.
"""Ours against the official code of a KD method, on the same inputs.

    python tools/analysis_tools/check_official.py METHOD \
        --official-root DIR [--official-commit SHA] [--seed 0] [--out FILE]

DIR is a checkout of the method's official repository, e.g.
``git -C /work/.mirror/hunto+MasKD/repo archive HEAD | tar -x -C DIR``;
its loss files are imported from there at run time (this repository holds
none of their code). The official losses and ours run on the same seeded
inputs, with the Cityscapes configs' shapes and arguments; the JSON
(default ``docs/results/official_<METHOD>.json``) holds the values, the
maximum absolute and relative differences of values and gradients, the
shapes, the arguments and the official commit. Exit status 1 when a
relative difference exceeds ``--tolerance``.

One row per method in ``METHODS``: the lab module
(``tools/mmrdd_lab/official_<method>.py``) whose ``check(root, seed)``
runs both, or ``module:function`` where one module checks several methods
(``mmrdd_lab.official_kd_family``: the eight methods of winycg/CIRKD and
hunto/DIST_KD). Adding a method is one row here and its check function.
"""
import argparse
import importlib
import json
import os
import os.path as osp
import sys

import torch

TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))
# the repository (mmrdd from a clone) and tools/ (the lab, mmrdd_lab)
sys.path[:0] = [osp.dirname(TOOLS), TOOLS]
from mmrdd_lab.official_check import official_commit, worst  # noqa: E402

#: method -> the lab module that runs the official code and ours
METHODS = {
    'maskd': 'mmrdd_lab.official_maskd',
    # winycg/CIRKD (losses/*.py) and hunto/DIST_KD
    'at': 'mmrdd_lab.official_kd_family:check_at',
    'cwd': 'mmrdd_lab.official_kd_family:check_cwd',
    'fitnet': 'mmrdd_lab.official_kd_family:check_fitnet',
    'skd': 'mmrdd_lab.official_kd_family:check_skd',
    'ifvd': 'mmrdd_lab.official_kd_family:check_ifvd',
    'dsd': 'mmrdd_lab.official_kd_family:check_dsd',
    'cirkd': 'mmrdd_lab.official_kd_family:check_cirkd',
    'dist': 'mmrdd_lab.official_kd_family:check_dist',
}


def checker(method: str):
    """The ``check(root, seed)`` function of a row of ``METHODS``."""
    module, _, function = METHODS[method].partition(':')
    return getattr(importlib.import_module(module), function or 'check')


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('method', choices=sorted(METHODS))
    parser.add_argument(
        '--official-root',
        required=True,
        help='a checkout of the official repository')
    parser.add_argument(
        '--official-commit',
        help='its commit (default: git rev-parse HEAD in the checkout)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--tolerance',
        type=float,
        default=1e-5,
        help='largest accepted relative difference')
    parser.add_argument(
        '--out', help='default: docs/results/official_<METHOD>.json')
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    commit = official_commit(args.official_root, args.official_commit)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    result = checker(args.method)(args.official_root, args.seed)
    result['official']['commit'] = commit
    max_rel = worst(result['checks'])
    result = dict(
        method=args.method,
        command=' '.join(['python', 'tools/analysis_tools/check_official.py'] +
                         sys.argv[1:]),
        torch=torch.__version__,
        device='cpu',
        tolerance=args.tolerance,
        max_rel=max_rel,
        passed=max_rel <= args.tolerance,
        **result)
    out = args.out or osp.join(
        osp.dirname(TOOLS), 'docs', 'results', f'official_{args.method}.json')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(result, f, indent=2)
        f.write('\n')
    print(f'{args.method}: max relative difference {max_rel:.3g} '
          f'(tolerance {args.tolerance:g}) -> '
          f'{"PASS" if result["passed"] else "FAIL"}; wrote {out}')
    return 0 if result['passed'] else 1


if __name__ == '__main__':
    sys.exit(main())
