# Copyright (c) mmrdd contributors. All rights reserved.
"""Strip a distillation checkpoint down to the student, for plain MMSeg.

The command line is :mod:`mmrdd.cli.convert` (installed as ``mmrdd-convert``);
this file runs it from a clone, with the clone's ``mmrdd`` first on the path.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
from mmrdd.cli.convert import main  # noqa: E402

if __name__ == '__main__':
    main()
