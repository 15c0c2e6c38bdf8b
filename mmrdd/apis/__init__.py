# Copyright (c) mmrdd contributors. All rights reserved.
"""High-level helpers: evaluation for reports and the demo."""
from .evaluate import confusion_iou, evaluate_segmentor

__all__ = ['evaluate_segmentor', 'confusion_iou']
