# Copyright (c) mmrdd contributors. All rights reserved.
"""Batch augmentations of mmrdd and the data preprocessor that runs them."""
from .kd_augments import prepare_kd_augments
from .rdd_candidate_picker import RDDCandidatePicker, keep_recorded
from .rdd_mixed_label_loss import RDDMixedLabelLoss, install_mixed_label_loss
from .rdd_seg_cutmix import RDDSegCutMix
from .rdd_seg_data_preprocessor import RDDBatchAugments, RDDSegDataPreProcessor
from .rdd_seg_mixup import RDDSegMixup

__all__ = [
    'RDDSegCutMix', 'RDDSegDataPreProcessor', 'RDDBatchAugments',
    'RDDSegMixup', 'RDDMixedLabelLoss', 'install_mixed_label_loss',
    'RDDCandidatePicker', 'keep_recorded', 'prepare_kd_augments'
]
