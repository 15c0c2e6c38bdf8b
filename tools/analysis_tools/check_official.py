# Copyright (c) mmrdd contributors. All rights reserved.
"""Run a method's official loss and ours on the same seeded inputs.

Usage::

    git -C /work/.mirror/OSVAI+Af-DCD/repo archive HEAD | tar -x -C /tmp/afdcd
    python tools/analysis_tools/check_official.py afdcd \\
        --official-root /tmp/afdcd --official-commit 5b086a7...
    # -> docs/results/official_afdcd.json

The official code is imported from the checkout at run time (nothing of it
is kept here); official code written for CUDA runs on the CPU through
patches the result file lists. The file holds, per case, both values and
their difference, the gradients' largest differences, the shapes, the
arguments and the official commit. Exit status 1 when a relative difference
exceeds the tolerance (1e-5).

One entry per method in ``METHODS``: the module of ``mmrdd_lab.official``
whose ``run(official_root, repo_root, seed)`` returns the method's cases.
"""
import argparse
import importlib
import json
import os
import os.path as osp
import platform
import sys

import torch

TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))
REPO = osp.dirname(TOOLS)
# the repository (mmrdd from a clone) and tools/ (the lab, mmrdd_lab)
sys.path[:0] = [REPO, TOOLS]
from mmrdd_lab.official.common import (CPU_PATCHES, REL_TOL, TOLERANCE,
                                       official_commit, worst)

#: method -> the module that checks it (``mmrdd_lab.official.<module>``)
METHODS = {
    'afdcd': 'afdcd',
    'kt': 'kt',
}


def parse_args() -> argparse.Namespace:
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


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    module = importlib.import_module(
        f'mmrdd_lab.official.{METHODS[args.method]}')
    result = module.run(args.official_root, REPO, args.seed)
    value, grad = worst(result['cases'])
    out = dict(
        method=args.method,
        official=dict(
            repository=result.pop('repository'),
            commit=official_commit(args.official_root, args.official_commit),
            files=result.pop('files')),
        command='python tools/analysis_tools/check_official.py '
        f'{args.method} --official-root OFFICIAL_CHECKOUT --seed {args.seed}',
        torch=torch.__version__,
        python=platform.python_version(),
        device='cpu',
        cpu_patches=CPU_PATCHES,
        tolerance=TOLERANCE,
        max_rel_diff=dict(value=value, gradient=grad),
        passed=value <= REL_TOL and grad <= REL_TOL,
        **result)
    path = args.out or osp.join(REPO, 'docs', 'results',
                                f'official_{args.method}.json')
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print(f'{args.method}: {len(out["cases"])} cases, largest relative '
          f'difference {value:.2e} (values), {grad:.2e} (gradients): '
          f'{"passed" if out["passed"] else "FAILED"} -> {path}')
    sys.exit(0 if out['passed'] else 1)


if __name__ == '__main__':
    main()
