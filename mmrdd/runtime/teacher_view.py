# Copyright (c) mmrdd contributors. All rights reserved.
"""The teacher sees the student's batch: check that it is what it expects.

A distillation step normalises the batch once, with the distillation
model's ``data_preprocessor`` (the student's unless the config gives one),
and runs the teacher on that tensor: the teacher's own preprocessor is
never used. A teacher trained with another mean, std or channel order then
predicts on inputs unlike any it was trained on, silently.
"""
from typing import Any, Dict, Optional

from torch import nn


def normalisation(preprocessor: Optional[nn.Module]) -> Optional[Dict]:
    """What an MMSeg ``SegDataPreProcessor`` does to the pixels.

    Args:
        preprocessor (nn.Module, optional): A data preprocessor.

    Returns:
        dict, optional: ``mean``, ``std`` (lists, or None without
        normalisation) and ``bgr_to_rgb`` (the channel swap); None for a
        preprocessor without these attributes (nothing to compare).
    """
    if preprocessor is None or not hasattr(preprocessor, 'channel_conversion'):
        return None
    on = getattr(preprocessor, '_enable_normalize', False)

    def values(name: str) -> Any:
        if not on:
            return None
        return [round(float(v), 4) for v in getattr(preprocessor, name)]

    return dict(
        mean=values('mean'),
        std=values('std'),
        bgr_to_rgb=bool(preprocessor.channel_conversion))


def check_teacher_view(teacher: nn.Module,
                       preprocessor: Optional[nn.Module]) -> None:
    """Stop when the teacher was configured with another normalisation.

    Args:
        teacher (nn.Module): The teacher segmentor (its
            ``data_preprocessor`` is what it was trained with).
        preprocessor (nn.Module, optional): The distillation model's
            ``data_preprocessor``, which makes the batch both models see.

    Raises:
        ValueError: Naming both normalisations and the fix.
    """
    expected = normalisation(getattr(teacher, 'data_preprocessor', None))
    given = normalisation(preprocessor)
    if expected is None or given is None or expected == given:
        return
    raise ValueError(
        'the teacher is configured for inputs normalised with '
        f'{_show(expected)}, but the distillation batch is normalised with '
        f'{_show(given)} (the student\'s data_preprocessor, or '
        'model.data_preprocessor), and the teacher runs on that batch. Give '
        'the student the teacher\'s normalisation (e.g. --cfg-options '
        f'model.architecture.data_preprocessor.mean="{expected["mean"]}" '
        f'model.architecture.data_preprocessor.std="{expected["std"]}" '
        'model.architecture.data_preprocessor.bgr_to_rgb='
        f'{expected["bgr_to_rgb"]}), or fix the teacher\'s data_preprocessor '
        'if it is the one that is wrong.')


def _show(view: Dict) -> str:
    return (f'mean {view["mean"]}, std {view["std"]}, '
            f'bgr_to_rgb={view["bgr_to_rgb"]}')
