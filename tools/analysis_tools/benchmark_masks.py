# Copyright (c) mmrdd contributors. All rights reserved.
"""Micro-benchmark of RDD's difficulty masks, against a full-sort OHEM.

Usage::

    python tools/analysis_tools/benchmark_masks.py [--device cpu|cuda] \\
        [--scales 1 2 4] [--reps 10] [--batch-size 4] [--num-classes 19] \\
        [--label-size 512 1024] [--stride 8] [--out masks.json]

What is timed and checked: see :mod:`mmrdd_lab.benchmark_masks`.
"""
import argparse
import os.path as osp
import sys

TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))
# the repository (mmrdd from a clone) and tools/ (the lab, mmrdd_lab)
sys.path[:0] = [osp.dirname(TOOLS), TOOLS]
from mmrdd_lab.benchmark import CLOCKS, settings_from_args
from mmrdd_lab.benchmark_masks import MaskBenchmarkSettings, run_mask_benchmark


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Micro-benchmark of the RDD difficulty masks')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--num-classes', type=int, default=19)
    parser.add_argument(
        '--label-size',
        type=int,
        nargs=2,
        default=[512, 1024],
        metavar=('H', 'W'))
    parser.add_argument(
        '--stride',
        type=int,
        default=8,
        help='logit stride (1/8 for D8 models)')
    parser.add_argument('--scales', type=int, nargs='+', default=[1, 2, 4])
    parser.add_argument(
        '--reps',
        type=int,
        default=10,
        help='repetitions at scale 1 (divided by the scale, '
        'at least 3)')
    parser.add_argument('--thresh', type=float, default=0.7)
    parser.add_argument(
        '--min-kept',
        type=int,
        default=100000,
        help='at scale 1 (scaled with the pixels)')
    parser.add_argument(
        '--fixed-min-kept',
        action='store_true',
        help='do not scale min_kept with the pixels')
    parser.add_argument(
        '--no-distiller',
        dest='distiller',
        action='store_false',
        help='skip the two-head RDDDistiller rows')
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument(
        '--clock',
        default='wall',
        choices=list(CLOCKS),
        help="'cpu': process CPU time (CPU device; "
        'steadier on a shared machine with --threads 1)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default=None, help='write JSON here')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    args.label_size = tuple(args.label_size)
    run_mask_benchmark(settings_from_args(MaskBenchmarkSettings, args))


if __name__ == '__main__':
    main()
