# Copyright (c) mmrdd contributors. All rights reserved.
"""Batch augmentations of mmrdd and the data preprocessor that runs them."""
from .kd_augments import prepare_kd_augments
from .mixed_label_loss import MixedLabelLoss
from .rdd_candidate_picker import RDDCandidatePicker
from .rdd_seg_cutmix import RDDSegCutMix
from .rdd_seg_data_preprocessor import RDDBatchAugments, RDDSegDataPreProcessor
from .rdd_seg_mixup import RDDSegMixup

__all__ = [
    'RDDSegCutMix', 'RDDSegDataPreProcessor', 'RDDBatchAugments',
    'RDDSegMixup', 'MixedLabelLoss', 'RDDCandidatePicker',
    'prepare_kd_augments'
]
