# Copyright (c) mmrdd contributors. All rights reserved.
"""Train a segmentor, or distil one with RDD.

The command line is :mod:`mmrdd.cli.train` (installed as ``mmrdd-train``);
this file runs it from a clone, with the clone's ``mmrdd`` first on the path.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..'))
from mmrdd.cli.train import main  # noqa: E402

if __name__ == '__main__':
    main()
