# Copyright (c) mmrdd contributors. All rights reserved.
"""The command lines of an installed mmrdd (``setup.py`` entry points).

* ``mmrdd-train`` -- :mod:`.train`, MMSeg's ``tools/train.py`` for RDD;
* ``mmrdd-test`` -- :mod:`.test`, MMSeg's ``tools/test.py``;
* ``mmrdd-convert`` -- :mod:`.convert`, a distillation checkpoint to the
  student's, for plain MMSeg.

Each takes ``mmrdd::``, ``mmseg::`` and ``mmrazor::`` configs as well as
paths. A multi-GPU run of an installed mmrdd is
``torchrun --nproc_per_node=N -m mmrdd.cli.train CONFIG --launcher pytorch``;
from a clone, ``tools/dist_train.sh`` runs the same module.
"""
