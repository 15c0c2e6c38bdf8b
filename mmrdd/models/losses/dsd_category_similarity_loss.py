# Copyright (c) mmrdd contributors. All rights reserved.
from mmrazor.registry import MODELS
from torch import Tensor

from ...functional.dsd import category_similarity_kd
from ._checks import check_positive, check_positive_int
from .pair_kd_loss import PairKDLoss


@MODELS.register_module()
class DSDCategorySimilarityLoss(PairKDLoss):
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

    same_channels = True

    def __init__(self,
                 tau: float = 4.0,
                 pool: int = 2,
                 loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        self.tau = check_positive('tau', tau)
        self.pool = check_positive_int('pool', pool)

    def kd(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """The category similarity loss of logits (N, C, H, W)."""
        return category_similarity_kd(preds_S, preds_T, self.tau, self.pool)
