# Copyright (c) mmrdd contributors. All rights reserved.
"""Batch augmentations of mmrdd and the data preprocessor that runs them."""
from .batch_aug_seg_data_preprocessor import BatchAugSegDataPreProcessor
from .batch_augments import BatchAugments
from .candidate_picker import CandidatePicker
from .kd_augments import prepare_kd_augments
from .mixed_label_loss import MixedLabelLoss
from .seg_cutmix import SegCutMix
from .seg_mixup import SegMixup

__all__ = [
    'SegCutMix', 'BatchAugSegDataPreProcessor', 'BatchAugments', 'SegMixup',
    'MixedLabelLoss', 'CandidatePicker', 'prepare_kd_augments'
]
