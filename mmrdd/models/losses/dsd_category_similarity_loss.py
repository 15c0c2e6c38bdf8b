# Copyright (c) mmrdd contributors. All rights reserved.
import torch.nn as nn
from mmrazor.registry import MODELS
from torch import Tensor

from ...functional.dsd import category_similarity_kd
from ._checks import check_positive, check_positive_int, check_same_size


@MODELS.register_module()
class DSDCategorySimilarityLoss(nn.Module):
    """DSD category similarity loss.

    `Double Similarity Distillation for Semantic Image Segmentation
    <https://arxiv.org/abs/2107.08591>`_ (Feng et al., TIP 2021). The
    logits are average-pooled (``pool x pool``, ceil mode), each class
    becomes a distribution over positions (softmax of ``logits / tau``) and
    ``G = P P^T`` is the ``C x C`` class affinity::

        loss = loss_weight * mean_{n, c, c'} (G^S - G^T)^2

    As in the official code (``losses/dsd.py``; tau 4, pool 2), on the
    decode-head logits.

    Args:
        tau (float): Temperature. Defaults to 4.0.
        pool (int): Pooling window and stride. Defaults to 2.
        loss_weight (float): Weight of the loss (the reference: 10).
            Defaults to 1.0.
    """

    def __init__(self,
                 tau: float = 4.0,
                 pool: int = 2,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.tau = check_positive('tau', tau)
        self.pool = check_positive_int('pool', pool)
        self.loss_weight = loss_weight

    def forward(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            preds_S (Tensor): Student logits of shape (N, C, H, W).
            preds_T (Tensor): Teacher logits of shape (N, C, H, W).

        Returns:
            Tensor: Scalar float32 loss.
        """
        check_same_size(preds_S, preds_T, same_channels=True)
        return self.loss_weight * category_similarity_kd(
            preds_S, preds_T, self.tau, self.pool)
