# Copyright (c) mmrdd contributors. All rights reserved.
"""Batch augmentations of mmrdd and the data preprocessor that runs them."""
from .rdd_seg_cutmix import RDDSegCutMix
from .rdd_seg_data_preprocessor import RDDBatchAugments, RDDSegDataPreProcessor

__all__ = ['RDDSegCutMix', 'RDDSegDataPreProcessor', 'RDDBatchAugments']
