# Copyright (c) mmrdd contributors. All rights reserved.
"""Time an RDD training step against plain KD, side by side, in one process.

Usage::

    # an RDD config: the variants are derived from it
    python tools/analysis_tools/benchmark.py \\
        configs/rdd/rdd_logits_..._cityscapes-512x1024.py --synthetic \\
        --device cuda --amp --batch-size 4 --crop 512 1024 --out bench.json
    # more distillation configs beside it, on the same networks and batch
    python tools/analysis_tools/benchmark.py configs/rdd/<rdd config>.py \\
        --synthetic --variant rdd+cirkd=configs/rdd/<rdd+cirkd config>.py
    # the cost table: every KD method alone and with RDD, paired with the
    # student alone and pixel KD; peak memory; checkpoint sizes
    python tools/analysis_tools/benchmark.py \\
        configs/rdd/rdd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py \\  # noqa: E501
        --synthetic --kd-methods all --out costs.json
    # checkpoint sizes only, of the full-size configs (no data, no steps)
    python tools/analysis_tools/benchmark.py configs/rdd/rdd_logits_..._cityscapes-512x1024.py \\  # noqa: E501
        --sizes-only --variants student pixel-kd rdd-tse --kd-methods all
    # a student config and a teacher config (RDD from --distiller)
    python tools/analysis_tools/benchmark.py configs/toy/deeplabv3_toy-r18-d8_1xb8-2k_toyseg-96x96.py \\  # noqa: E501
        configs/toy/deeplabv3_toy-r50-d8_1xb8-4k_toyseg-96x96.py --synthetic --batch-size 8 --crop 96 96  # noqa: E501

The variants, what a step is and how memory is measured: see
:mod:`mmrdd_lab.benchmark`.
"""
import argparse
import os.path as osp
import sys

from mmengine.config import DictAction

TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))
# the repository (mmrdd from a clone) and tools/ (the lab, mmrdd_lab)
sys.path[:0] = [osp.dirname(TOOLS), TOOLS]
from mmrdd_lab.benchmark import (BASE_VARIANTS, BUILTIN_VARIANTS, CLOCKS,
                                 KD_METHODS, StepBenchmarkSettings,
                                 parse_variant, run_step_benchmark,
                                 settings_from_args)

DEFAULT_DISTILLER = osp.join(
    osp.dirname(TOOLS), 'configs', '_base_', 'distill', 'rdd_logits.py')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Time RDD training steps against plain KD, side by side')
    parser.add_argument(
        'configs',
        nargs='+',
        help='a distillation config, or a student config and a teacher '
        'config')
    parser.add_argument(
        '--distiller',
        dest='distiller_config',
        default=DEFAULT_DISTILLER,
        help='RDD config whose model.distiller is used with a '
        'student and a teacher config')
    parser.add_argument(
        '--variants',
        nargs='+',
        default=list(BASE_VARIANTS),
        choices=BUILTIN_VARIANTS,
        metavar='VARIANT',
        help=f'any of {", ".join(BUILTIN_VARIANTS)}')
    parser.add_argument(
        '--variant',
        dest='extra_variants',
        action='append',
        type=parse_variant,
        default=[],
        metavar='NAME=CONFIG',
        help='an extra variant from another distillation '
        'config (repeatable); NAME ending in -tfe runs '
        'stage 1 of an RDD distiller, else stage 2')
    parser.add_argument(
        '--kd-methods',
        nargs='+',
        default=[],
        choices=sorted(KD_METHODS) + ['all'],
        metavar='METHOD',
        help='KD methods to run alone and with RDD (variants M and rdd+M, '
        'from configs/rdd/rdd+<method>_<pair of the config>.py): any of '
        f'{", ".join(sorted(KD_METHODS))}, or all')
    parser.add_argument(
        '--sizes-only',
        action='store_true',
        help='only the checkpoint sizes, one variant built at a time (no '
        'weights, data or steps: full-size configs on a small machine)')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision, as tools/train.py --amp')
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument(
        '--crop',
        type=int,
        nargs=2,
        default=[128, 256],
        metavar=('H', 'W'),
        help='synthetic image size (also the pad size)')
    parser.add_argument(
        '--synthetic',
        action='store_true',
        help="random images instead of the config's "
        'train_dataloader')
    parser.add_argument(
        '--labels',
        default='teacher',
        choices=['teacher', 'tiles'],
        help="synthetic labels: the sharpened teacher's "
        'predictions, or random classes on 16x16 tiles')
    parser.add_argument(
        '--iters', type=int, default=30, help='timed steps per variant')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument(
        '--round-size',
        type=int,
        default=1,
        help='steps of one variant before the next one')
    parser.add_argument(
        '--clock',
        default='wall',
        choices=list(CLOCKS),
        help="'cpu': process CPU time, steadier on a shared "
        'machine (best with --threads 1)')
    parser.add_argument(
        '--min-kept',
        default=None,
        help="TSE's min_kept: an int, or 'auto' (100000 "
        'scaled from 4x512x1024 to the batch)')
    parser.add_argument(
        '--teacher-ckpt',
        default=None,
        help="teacher weights (never the config's "
        'teacher_ckpt)')
    parser.add_argument('--lr', type=float, default=0.01, help='SGD lr')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument(
        '--memory',
        default='subprocess',
        choices=['subprocess', 'none'],
        help='peak memory, one process per variant')
    parser.add_argument('--memory-steps', type=int, default=3)
    parser.add_argument(
        '--memory-jobs',
        type=int,
        default=1,
        help='memory processes at once (each measures its own peak)')
    parser.add_argument(
        '--profile',
        type=int,
        default=0,
        metavar='N',
        help='also profile N steps per variant')
    parser.add_argument(
        '--cudnn-benchmark',
        action='store_true',
        help='torch.backends.cudnn.benchmark, as training sets it')
    parser.add_argument('--out', default=None, help='write JSON here')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the (first) config')
    args = parser.parse_args()
    args.extra_variants = dict(args.extra_variants)
    if 'all' in args.kd_methods:
        args.kd_methods = list(KD_METHODS)
    return args


def main() -> None:
    args = parse_args()
    run_step_benchmark(settings_from_args(StepBenchmarkSettings, args))


if __name__ == '__main__':
    main()
