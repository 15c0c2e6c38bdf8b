# Copyright (c) mmrdd contributors. All rights reserved.
"""Wire the KD data augmentations into a distillation algorithm."""
from typing import Optional

from mmrazor.registry import TASK_UTILS
from torch import nn

from .rdd_mixed_label_loss import install_mixed_label_loss


def prepare_kd_augments(algorithm: nn.Module, picker: Optional[dict] = None):
    """Build the picker; make the student's loss read mixup's label maps.

    Called once by :class:`~mmrdd.models.RDDSingleTeacherDistill`. When a
    batch augmentation of the algorithm's data preprocessor keeps two label
    maps (``mixes_label_maps``, :class:`~mmrdd.models.RDDSegMixup`), every
    student head gets :class:`~mmrdd.models.RDDMixedLabelLoss`; otherwise
    nothing changes.

    Args:
        algorithm (nn.Module): The distillation algorithm, with
            ``student``, ``distiller`` and ``data_preprocessor``.
        picker (dict, optional): Config of the candidate picker, built in
            MMRazor's ``TASK_UTILS`` (``RDDCandidatePicker``). Defaults to
            None (no picking).

    Returns:
        RDDCandidatePicker | None: The picker.
    """
    augments = getattr(
        getattr(algorithm.data_preprocessor, 'batch_augments', None),
        'augments', [])
    mixing = [a for a in augments if getattr(a, 'mixes_label_maps', False)]
    if mixing:
        install_mixed_label_loss(algorithm.student)
        for aug in mixing:
            aug.label_loss_installed = True
    if picker is None:
        return None
    if mixing:
        raise ValueError(
            'picking draws its candidates from an unmixed batch: remove '
            'the mixup batch augmentation from the data preprocessor when '
            'model.picker is set (the picker runs its own augments).')
    return TASK_UTILS.build(picker)
