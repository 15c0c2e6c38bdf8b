# Copyright (c) mmrdd contributors. All rights reserved.
"""The main job on the built-in toy data set: RDD end to end, on a CPU.

    python tools/demo.py [--work-dir work_dirs/demo] [--seed 0]

1. generates the toy data set (once, deterministic) under ``data/toyseg``:
   train, val and the held-out test split;
2. takes the toy teacher committed to the repository
   (``checkpoints/toy/``, sha256 checked; ``--retrain-teacher`` trains it
   here, ``--teacher-ckpt`` takes another);
3. trains the toy student three ways for one seed, from the same initial
   weights, data order and schedule (2k iterations), all three at once on
   one thread each: alone, with pixel KD, and with RDD (+ pixel KD), one
   progress bar per run (full logs in each run's folder
   ``<work-dir>/seed{S}/{student,kd,rdd}``; a finished run is reused only
   when its config, teacher and initial weights, data, options and threads
   are this run's, ``--rerun`` trains it again);
4. scores each on the test split and prints mIoU, per-class IoU and wall
   time per run, with the teacher's row; beside it, the multi-seed verdict
   that ``tools/analysis_tools/seeds.py`` measured earlier, read from
   ``docs/results/seeds_toy.json`` with the command that wrote it, and
   whether this run has the settings of one of its seeds;
5. draws ``<work-dir>/summary.png`` and RDD's difficulty maps for a few test
   images.

The runs are exactly those of seed ``--seed`` of the seeds tool
(:mod:`mmrdd_lab.seeds`); the pipeline is :mod:`mmrdd_lab.demo`.
"""
import argparse
import os
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# the repository (mmrdd from a clone) and tools/ (the lab, mmrdd_lab)
sys.path[:0] = [ROOT, osp.join(ROOT, 'tools')]


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    from mmrdd_lab.train_runs import add_toy_run_arguments
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_toy_run_arguments(parser, jobs=3)
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='seed of the student runs (initial weights, '
        'data order)')
    parser.add_argument(
        '--rerun',
        action='store_true',
        help='train the student runs again even when a '
        'finished run with the same options is there')
    parser.add_argument(
        '--num-vis',
        type=int,
        default=3,
        help='test images whose difficulty maps are drawn')
    return parser.parse_args()


def main() -> None:
    """Run the demo from the repository root."""
    args = parse_args()
    os.chdir(ROOT)
    from mmrdd_lab.demo import run_demo
    run_demo(args)


if __name__ == '__main__':
    main()
