# Copyright (c) mmrdd contributors. All rights reserved.
"""Wire the KD data augmentations into a distillation algorithm."""
from typing import Optional, Tuple

from mmrazor.registry import TASK_UTILS
from torch import nn

from .mixed_label_loss import MixedLabelLoss


def prepare_kd_augments(
    data_preprocessor: nn.Module,
    student: nn.Module,
    distiller,
    picker: Optional[dict] = None
) -> Tuple[Optional[object], Optional[MixedLabelLoss]]:
    """Build the picker, and the task loss of batches with two label maps.

    Called once by :class:`~mmrdd.models.FrozenTeacherDistill`. When a batch
    augmentation of its data preprocessor keeps two label maps
    (``mixes_label_maps``, :class:`~mmrdd.models.SegMixup`), the
    algorithm computes the student's task loss on both
    (:class:`~mmrdd.models.MixedLabelLoss`), and the augmentation is told
    so (``enable_label_maps``); otherwise nothing changes.

    Args:
        data_preprocessor (nn.Module): The algorithm's data preprocessor.
        student (nn.Module): The student segmentor.
        distiller (ConfigurableDistiller): The distiller (picking refuses
            its deliveries).
        picker (dict, optional): Config of the candidate picker, built in
            MMRazor's ``TASK_UTILS`` (``CandidatePicker``). Defaults to
            None (no picking).

    Returns:
        tuple: The picker and the mixed-label loss, each None when off.
    """
    augments = getattr(
        getattr(data_preprocessor, 'batch_augments', None), 'augments', [])
    mixing = [a for a in augments if getattr(a, 'mixes_label_maps', False)]
    mixed_label_loss = None
    if mixing:
        mixed_label_loss = MixedLabelLoss(student)
        for aug in mixing:
            aug.enable_label_maps()
    if picker is None:
        return None, mixed_label_loss
    if mixing:
        raise ValueError(
            'picking draws its candidates from an unmixed batch: remove '
            'the mixup batch augmentation from the data preprocessor when '
            'model.picker is set (the picker runs its own augments).')
    if distiller.deliveries.deliveries:
        raise ValueError(
            'picking keeps some of the candidates the teacher saw, and '
            "MMRazor's deliveries would replay all of them into the "
            "student's pass: remove the distiller's deliveries when "
            'model.picker is set.')
    return TASK_UTILS.build(picker), mixed_label_loss
