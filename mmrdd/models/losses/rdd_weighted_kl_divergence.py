# Copyright (c) mmrdd contributors. All rights reserved.
from typing import Optional

import torch.nn as nn
from mmrazor.registry import MODELS
from torch import Tensor

from ...functional import pixel_kl_divergence


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

    Args:
        tau (float): Temperature. Defaults to 1.0.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self, tau: float = 1.0, loss_weight: float = 1.0) -> None:
        super().__init__()
        if not tau > 0:
            raise ValueError(f'tau must be a positive number, got {tau!r}')
        self.tau = tau
        self.loss_weight = loss_weight

    def forward(self,
                preds_S: Tensor,
                preds_T: Tensor,
                weight: Optional[Tensor] = None) -> Tensor:
        """Compute the loss.

        Args:
            preds_S (Tensor): Student logits of shape (N, C, H, W).
            preds_T (Tensor): Teacher logits of shape (N, C, H, W).
            weight (Tensor, optional): Per-pixel weight of shape (N, H, W).
                Defaults to None.

        Returns:
            Tensor: Scalar float32 loss.
        """
        return self.loss_weight * pixel_kl_divergence(
            preds_S, preds_T, tau=self.tau, weight=weight)
