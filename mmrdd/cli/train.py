# Copyright (c) OpenMMLab. All rights reserved. Adapted for mmrdd.
"""Train a segmentor, or distil one with RDD (MMSeg 1.x ``tools/train.py``).

Installed as ``mmrdd-train``; ``tools/train.py`` and ``tools/dist_train.sh``
run the same :func:`main` from a clone.
"""
import argparse
import logging

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner

import mmrdd  # noqa: F401  (torch-2 compatibility before mmrazor loads)
from mmrdd.runtime import (ResumeMismatchError, WorkDirInUseError,
                           add_launch_arguments, add_train_guards,
                           check_resume_checkpoint, close_launcher,
                           load_tool_config, run_runner, setup_amp,
                           take_load_from, work_dir_held)


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        action='store_true',
        default=False,
        help='resume from the latest checkpoint in the work_dir automatically')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training')
    add_launch_arguments(parser)
    return parser.parse_args()


def main() -> None:
    """Build the runner from the config and train."""
    args = parse_args()
    cfg = load_tool_config(args)

    if args.amp:
        optim_wrapper = cfg.optim_wrapper.type
        if optim_wrapper in ('AmpOptimWrapper', 'CPUAmpOptimWrapper'):
            print_log(
                'AMP training is already enabled in your config.',
                logger='current',
                level=logging.WARNING)
        elif optim_wrapper != 'OptimWrapper':
            raise ValueError(
                '`--amp` is only supported when the optimizer wrapper type is '
                f'`OptimWrapper`, but got {optim_wrapper}.')
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    # without CUDA: bfloat16 CPU autocast instead of AmpOptimWrapper
    setup_amp(cfg)

    cfg.resume = args.resume
    # atomic checkpoints, the run fingerprint (docs/guards.md)
    add_train_guards(cfg)
    try:
        # one run per work dir, taken before anything is written there
        with work_dir_held(cfg.work_dir):
            train(cfg)
    except (WorkDirInUseError, ResumeMismatchError) as e:
        raise SystemExit(f'tools/train.py: {e}') from None


def train(cfg: Config) -> None:
    """Check the checkpoint to resume, build the runner and train.

    Args:
        cfg (Config): The training config (``resume`` set).
    """
    if cfg.resume:
        # a truncated or converted checkpoint: a clear error, not a pickle
        # traceback or KeyError: 'message_hub'
        try:
            found = check_resume_checkpoint(cfg.work_dir, cfg.get('load_from'))
        except RuntimeError as e:
            raise SystemExit(f'tools/train.py: {e}') from None
        if found is None:  # MMEngine: "resumed from ... None"
            print_log(
                f'--resume: {cfg.work_dir} has no checkpoint (no '
                'last_checkpoint): training starts at iteration 0.',
                logger='current',
                level=logging.WARNING)
    # load_from (not resuming): read now, loaded strictly before iteration 0
    weights = take_load_from(cfg)

    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        from mmseg.registry import RUNNERS
        runner = RUNNERS.build(cfg)
    run_runner(runner, 'train', weights)
    del runner  # freed by close_launcher, before the group is closed
    close_launcher()


if __name__ == '__main__':
    main()
