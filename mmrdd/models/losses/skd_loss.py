# Copyright (c) mmrdd contributors. All rights reserved.
import torch.nn as nn
from mmrazor.registry import MODELS
from torch import Tensor

from ...functional.skd import pairwise_similarity_kd
from ._checks import check_positive_int, check_same_size


@MODELS.register_module()
class SKDLoss(nn.Module):
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
        super().__init__()
        self.pool = check_positive_int('pool', pool)
        self.loss_weight = loss_weight

    def forward(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            preds_S (Tensor): Student features of shape (N, C_s, H, W).
            preds_T (Tensor): Teacher features of shape (N, C_t, H, W).

        Returns:
            Tensor: Scalar float32 loss.
        """
        check_same_size(preds_S, preds_T)
        return self.loss_weight * pairwise_similarity_kd(
            preds_S, preds_T, self.pool)
