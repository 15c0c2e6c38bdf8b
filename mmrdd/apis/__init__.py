# Copyright (c) mmrdd contributors. All rights reserved.
"""High-level helpers: evaluation for reports and the demo."""
from .evaluate import confusion_iou, evaluate_segmentor

__all__ = ['evaluate_segmentor', 'confusion_iou']
from .kd_augment_stats import augment_stats, default_variants  # noqa: E402

__all__ += ['augment_stats', 'default_variants']
