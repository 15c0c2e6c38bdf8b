# Copyright (c) mmrdd contributors. All rights reserved.
"""Is an augmentation good for KD? T. stddev and teacher entropy, per variant.

    python tools/analysis_tools/kd_augment_stats.py CONFIG [--batches 20]
        [--group 1] [--pool 2] [--cutmix-prob 0.5] [--mixup-prob 0.5]
        [--out stats.json] [--cfg-options model.teacher_ckpt=PATH ...]

CONFIG is an mmrdd distillation config; only its teacher, data
preprocessor and training dataloader are built. Every variant (no
augmentation, CutMix, mixup, CutMixPick by teacher entropy) sees the same
``--batches`` training batches; T. stddev (Wang et al., NeurIPS 2022) is
the per-class standard deviation of the teacher's mean probability over
subsets of ``--group`` batches, averaged over the classes (lower predicts a
lower student test loss). See :mod:`mmrdd_lab.kd_augment_stats`.
"""
import argparse
import json
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction

TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))
# the repository (mmrdd from a clone) and tools/ (the lab, mmrdd_lab)
sys.path[:0] = [osp.dirname(TOOLS), TOOLS]
import mmrdd  # noqa: F401,E402
from mmrdd_lab.kd_augment_stats import (augment_stats, default_variants,
                                        format_table, load_pipeline,
                                        teacher_main_logits)


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='an mmrdd distillation config')
    parser.add_argument(
        '--batches',
        type=int,
        default=20,
        help='training batches per variant (default 20)')
    parser.add_argument(
        '--group',
        type=int,
        default=1,
        help='batches per subset of T. stddev (default 1)')
    parser.add_argument(
        '--pool',
        type=int,
        default=2,
        help='candidate batches of the pick (default 2)')
    parser.add_argument('--cutmix-prob', type=float, default=0.5)
    parser.add_argument('--mixup-prob', type=float, default=0.5)
    parser.add_argument(
        '--alpha',
        type=float,
        default=1.0,
        help='Beta parameter of CutMix and mixup')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', help='write the statistics as JSON here')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, key=value')
    return parser.parse_args()


def main() -> None:
    """Compute and print the table."""
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    torch.manual_seed(args.seed)
    batches, teacher = load_pipeline(cfg, args.batches, args.device, args.seed)
    stats = augment_stats(
        batches, teacher_main_logits(teacher),
        default_variants(args.cutmix_prob, args.mixup_prob, args.alpha,
                         args.pool, args.seed), args.group)
    print(format_table(stats))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(stats, f, indent=2)


if __name__ == '__main__':
    main()
