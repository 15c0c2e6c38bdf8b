# Copyright (c) mmrdd contributors. All rights reserved.
"""The shared body of the logit divergences with a per-pixel weight map."""
from typing import Callable, Optional

import torch.nn as nn
from torch import Tensor

from mmrdd.arg_checks import check_choice, is_number
from mmrdd.functional import RESIZE_TO, match_logit_sizes


class WeightedLogitDivergence(nn.Module):
    """A divergence of student from teacher logits, weighted per pixel.

    Subclasses set :attr:`divergence`, a pure function
    ``(preds_S, preds_T, tau, weight) -> Tensor`` of
    :mod:`mmrdd.functional`. Logits of different sizes (a SegFormer teacher
    at 1/4, a DeepLabV3-D8 student at 1/8) are first brought to one size,
    see :func:`~mmrdd.functional.match_logit_sizes`.

    Args:
        tau (float): Temperature. Defaults to 1.0.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        resize_to (str): When the sizes differ, ``'student'`` resizes the
            teacher's logits to the student's size, ``'teacher'`` the
            student's logits (and the weight map) to the teacher's.
            Defaults to ``'student'``.
        align_corners (bool): ``align_corners`` of that resize. Defaults to
            False.
    """

    divergence: Callable[..., Tensor]

    def __init__(self,
                 tau: float = 1.0,
                 loss_weight: float = 1.0,
                 resize_to: str = 'student',
                 align_corners: bool = False) -> None:
        super().__init__()
        if not is_number(tau) or not tau > 0:
            raise ValueError(f'{type(self).__name__}: tau must be a positive '
                             f'number, got {tau!r}.')
        check_choice(type(self).__name__, 'resize_to', resize_to, RESIZE_TO)
        self.tau = tau
        self.loss_weight = loss_weight
        self.resize_to = resize_to
        self.align_corners = align_corners

    def forward(self,
                preds_S: Tensor,
                preds_T: Tensor,
                weight: Optional[Tensor] = None) -> Tensor:
        """Compute the loss.

        Args:
            preds_S (Tensor): Student logits of shape (N, C, h, w).
            preds_T (Tensor): Teacher logits of shape (N, C, h', w').
            weight (Tensor, optional): Per-pixel weight at the student's
                size, (N, h, w). Defaults to None.

        Returns:
            Tensor: Scalar float32 loss.
        """
        preds_S, preds_T, weight = match_logit_sizes(preds_S, preds_T, weight,
                                                     self.resize_to,
                                                     self.align_corners)
        return self.loss_weight * type(self).divergence(
            preds_S, preds_T, tau=self.tau, weight=weight)
