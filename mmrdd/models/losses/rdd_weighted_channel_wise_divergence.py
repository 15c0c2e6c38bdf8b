# Copyright (c) mmrdd contributors. All rights reserved.
from typing import Optional

import torch.nn as nn
from mmrazor.registry import MODELS
from torch import Tensor

from ...functional import channel_wise_divergence


@MODELS.register_module()
class RDDWeightedChannelWiseDivergence(nn.Module):
    """Channel-wise divergence with an optional per-pixel weight map.

    `Channel-wise Distillation for Semantic Segmentation
    <https://arxiv.org/abs/2011.13256>`_ (CWD), where each spatial term may be
    weighted by a difficulty map of `RDD <https://arxiv.org/abs/2407.03719>`_::

        P(n, c, .) = softmax over the H * W positions of logits(n, c) / tau
        loss = loss_weight * tau^2 / (N * C) * sum_{n, c, p} weight(n, p)
               * P_T(n, c, p) * (log P_T(n, c, p) - log P_S(n, c, p))

    With ``weight=None`` it equals MMRazor's ``ChannelWiseDivergence``. The
    teacher's logits and the weight are detached.

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
            weight (Tensor, optional): Per-pixel weight of shape (N, H, W),
                broadcast over channels. Defaults to None.

        Returns:
            Tensor: Scalar float32 loss.
        """
        return self.loss_weight * channel_wise_divergence(
            preds_S, preds_T, tau=self.tau, weight=weight)
