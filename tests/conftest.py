# Copyright (c) mmrdd contributors. All rights reserved.
"""Test setup: make ``tests/_toy_models.py`` and the repo importable."""
import os.path as osp
import sys

HERE = osp.dirname(osp.abspath(__file__))
sys.path[:0] = [HERE, osp.dirname(HERE)]
