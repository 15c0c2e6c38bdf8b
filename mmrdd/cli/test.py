# Copyright (c) OpenMMLab. All rights reserved. Adapted for mmrdd.
"""Test (and evaluate) a segmentor or a distilled student (MMSeg 1.x style).

Installed as ``mmrdd-test``; ``tools/test.py`` and ``tools/dist_test.sh``
run the same :func:`main` from a clone.
"""
import argparse

from mmengine.config import Config
from mmengine.runner import Runner

import mmrdd  # noqa: F401  (torch-2 compatibility before mmrazor loads)
from mmrdd.runtime import (add_launch_arguments, close_launcher,
                           load_tool_config, run_runner, take_load_from)


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='MMSeg test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out',
        type=str,
        help='the directory to save output prediction for offline evaluation')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved. If specified, it '
        'will be automatically saved to the work_dir/timestamp/show_dir')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--tta', action='store_true', help='Test time augmentation')
    add_launch_arguments(parser)
    return parser.parse_args()


def trigger_visualization_hook(cfg: Config,
                               args: argparse.Namespace) -> Config:
    """Turn on MMSeg's ``VisualizationHook`` for ``--show``/``--show-dir``."""
    default_hooks = cfg.default_hooks
    if 'visualization' not in default_hooks:
        raise RuntimeError(
            'VisualizationHook must be included in default_hooks: add '
            "visualization=dict(type='SegVisualizationHook') to default_hooks."
        )
    visualization_hook = default_hooks['visualization']
    visualization_hook['draw'] = True
    if args.show:
        visualization_hook['show'] = True
        visualization_hook['wait_time'] = args.wait_time
    if args.show_dir:
        cfg.visualizer['save_dir'] = args.show_dir
    return cfg


def main() -> None:
    """Build the runner from the config and test the checkpoint."""
    args = parse_args()
    cfg = load_tool_config(args)

    # read now (a file that is not a checkpoint stops here), load strictly
    # the part that belongs in this config's model (LoadWeightsHook)
    cfg.load_from = args.checkpoint
    cfg.resume = False
    weights = take_load_from(cfg, what='test')

    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)

    if args.tta:
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model

    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True

    runner = Runner.from_cfg(cfg)
    run_runner(runner, 'test', weights)
    del runner  # freed by close_launcher, before the group is closed
    close_launcher()
    print(f'tools/test.py scored: {weights.report}', flush=True)


if __name__ == '__main__':
    main()
