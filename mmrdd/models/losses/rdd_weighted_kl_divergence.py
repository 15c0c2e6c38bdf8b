# Copyright (c) mmrdd contributors. All rights reserved.
from typing import Optional

import torch.nn as nn
from mmrazor.registry import MODELS
from torch import Tensor

from mmrdd.functional import RESIZE_TO, match_logit_sizes, pixel_kl_divergence


@MODELS.register_module()
class RDDWeightedKLDivergence(nn.Module):
    """Pixel-wise KL divergence of the student's class distribution from the
    teacher's, with an optional per-pixel weight map.

    The distillation loss of Relative Difficulty Distillation (`RDD
    <https://arxiv.org/abs/2407.03719>`_ and its reference code), averaged
    over all pixels::

        loss = loss_weight * mean_{n, p} weight(n, p) * tau^2
               * sum_c P_T(c, p) * (log P_T(c, p) - log P_S(c, p))

    with ``P = softmax(logits / tau)`` over classes. With ``weight=None`` it
    is the plain pixel KD (``H * W`` times smaller than MMRazor's
    ``KLDivergence`` with ``reduction='batchmean'``). The teacher's logits and
    the weight are detached.

    Logits of different sizes (a SegFormer teacher at 1/4, a DeepLabV3-D8
    student at 1/8) are first brought to one size, see
    :func:`~mmrdd.functional.match_logit_sizes`.

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

    def __init__(self,
                 tau: float = 1.0,
                 loss_weight: float = 1.0,
                 resize_to: str = 'student',
                 align_corners: bool = False) -> None:
        super().__init__()
        if isinstance(tau, bool) or not isinstance(tau, (int, float)) \
                or not tau > 0:
            raise ValueError(f'{type(self).__name__}: tau must be a positive '
                             f'number, got {tau!r}.')
        if resize_to not in RESIZE_TO:
            raise ValueError(f'{type(self).__name__}: resize_to must be one '
                             f'of {RESIZE_TO}, got {resize_to!r}.')
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
                size, (N, h, w).
                Defaults to None.

        Returns:
            Tensor: Scalar float32 loss.
        """
        preds_S, preds_T, weight = match_logit_sizes(
            preds_S, preds_T, weight, self.resize_to, self.align_corners)
        return self.loss_weight * pixel_kl_divergence(
            preds_S, preds_T, tau=self.tau, weight=weight)
