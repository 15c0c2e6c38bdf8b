# Copyright (c) mmrdd contributors. All rights reserved.
"""Data sets of mmrdd."""
from .camvid_dataset import CamVidDataset
from .toy_generator import generate_toy_dataset
from .toy_seg_dataset import ToySegDataset

__all__ = ['CamVidDataset', 'ToySegDataset', 'generate_toy_dataset']
