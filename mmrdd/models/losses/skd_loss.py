# Copyright (c) mmrdd contributors. All rights reserved.
from mmrazor.registry import MODELS
from torch import Tensor

from ...functional.skd import pairwise_similarity_kd
from ._checks import check_positive_int
from .pair_kd_loss import PairKDLoss


@MODELS.register_module()
class SKDLoss(PairKDLoss):
    """Structured KD pair-wise similarity loss.

    `Structured Knowledge Distillation for Semantic Segmentation
    <https://arxiv.org/abs/1903.04197>`_ (Liu et al., CVPR 2019). Features
    are max-pooled (``pool x pool``, ceil mode), L2-normalised along
    channels, and ``A = f^T f`` is the pixel-by-pixel similarity::

        loss = loss_weight * mean_{n, p, q} (A^S(n, p, q) - A^T(n, p, q))^2

    As in the official code used by CIRKD and RDD (``losses/skd.py``; on
    the decode head's last feature, pool 2). Channel numbers may differ.
    SKD's holistic (adversarial) term is not part of this loss. MMRazor has
    no such pixel-pair loss.

    Args:
        pool (int): Pooling window and stride. Defaults to 2.
        loss_weight (float): Weight of the loss (CIRKD's script: 10).
            Defaults to 1.0.
    """

    def __init__(self, pool: int = 2, loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        self.pool = check_positive_int('pool', pool)

    def kd(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """The pair-wise loss of features (N, C_s, H, W), (N, C_t, H, W)."""
        return pairwise_similarity_kd(preds_S, preds_T, self.pool)
