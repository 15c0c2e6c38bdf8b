# Copyright (c) mmrdd contributors. All rights reserved.
"""Argument and shape checks shared by the distillation losses."""
from torch import Tensor

from mmrdd.arg_checks import is_int, is_number


def check_positive(name: str, value: float) -> float:
    """``value`` if it is a positive number, else a ValueError."""
    if not is_number(value) or not value > 0:
        raise ValueError(f'{name} must be a positive number, got {value!r}')
    return float(value)


def check_positive_int(name: str, value: int) -> int:
    """``value`` if it is a positive int, else a ValueError."""
    if not is_int(value) or value < 1:
        raise ValueError(f'{name} must be a positive int, got {value!r}')
    return value


def check_same_size(preds_S: Tensor,
                    preds_T: Tensor,
                    same_channels: bool = False) -> None:
    """4-D inputs of the same batch and spatial size (and channels)."""
    if preds_S.dim() != 4 or preds_T.dim() != 4:
        raise ValueError('expected (N, C, H, W) student and teacher maps, got '
                         f'{tuple(preds_S.shape)} and {tuple(preds_T.shape)}')
    s, t = list(preds_S.shape), list(preds_T.shape)
    if not same_channels:
        s[1] = t[1] = 0
    if s != t:
        what = 'shape' if same_channels else 'batch and spatial size'
        raise ValueError(
            f'student {tuple(preds_S.shape)} and teacher '
            f'{tuple(preds_T.shape)} maps must have the same {what}; record '
            'maps of the same stride (or resize them with a connector)')


def check_feature_channels(loss: object, preds_S: Tensor,
                           preds_T: Tensor) -> None:
    """A feature pair of the batch and spatial size and the channels that
    ``loss`` (with ``student_channels`` and ``teacher_channels``) was
    built for."""
    check_same_size(preds_S, preds_T)
    if preds_S.shape[1] != loss.student_channels or \
            preds_T.shape[1] != loss.teacher_channels:
        raise ValueError(
            f'{type(loss).__name__}(student_channels='
            f'{loss.student_channels}, teacher_channels='
            f'{loss.teacher_channels}) got features of {preds_S.shape[1]} '
            f'and {preds_T.shape[1]} channels: set the two to the recorded '
            "features' channels.")
