# Copyright (c) mmrdd contributors. All rights reserved.
from mmrazor.registry import MODELS
from torch import Tensor

from ...functional.cirkd import minibatch_pixel_pair_kd
from ._checks import check_positive
from .pair_kd_loss import PairKDLoss


@MODELS.register_module()
class CIRKDMiniBatchLoss(PairKDLoss):
    """CIRKD mini-batch pixel-to-pixel relation loss.

    `Cross-Image Relational Knowledge Distillation for Semantic Segmentation
    <https://arxiv.org/abs/2204.06986>`_ (Yang et al., CVPR 2022). For every
    ordered pair of images ``(i, j)`` of the (per-process) batch, with
    L2-normalised features, ``A_ij = f_i^T f_j`` (``HW x HW``)::

        loss = loss_weight / N^2 * sum_{i, j} 1 / HW * sum_rows
               KL(softmax(A^T_ij / tau) || softmax(A^S_ij / tau))

    As in the official code, the pairs are those of the local batch (its
    cross-GPU gather is commented out) and no projection is needed: each
    similarity stays within one model, so channel numbers may differ.
    No MMRazor loss computes this relation.

    Args:
        tau (float): Temperature of the similarity distribution.
            Defaults to 0.1.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self, tau: float = 0.1, loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        self.tau = check_positive('tau', tau)

    def kd(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """The relation loss of features (N, C_s, H, W), (N, C_t, H, W)."""
        return minibatch_pixel_pair_kd(preds_S, preds_T, self.tau)
