# Copyright (c) mmrdd contributors. All rights reserved.
"""Test (and evaluate) a segmentor or a distilled student.

The command line is :mod:`mmrdd.cli.test` (installed as ``mmrdd-test``);
this file runs it from a clone, with the clone's ``mmrdd`` first on the path.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..'))
from mmrdd.cli.test import main  # noqa: E402

if __name__ == '__main__':
    main()
