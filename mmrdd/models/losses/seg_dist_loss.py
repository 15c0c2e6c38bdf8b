# Copyright (c) mmrdd contributors. All rights reserved.
from mmrazor.registry import MODELS
from torch import Tensor

from ...functional.dist import seg_dist_loss
from ._checks import check_positive
from .pair_kd_loss import PairKDLoss


@MODELS.register_module()
class SegDISTLoss(PairKDLoss):
    """DIST for segmentation logits, over the pixels of the batch.

    `Knowledge Distillation from A Stronger Teacher
    <https://arxiv.org/abs/2205.10536>`_ (Huang et al., NeurIPS 2022). With
    ``Y = softmax(logits / tau)`` as one row per pixel, ``(N*H*W, C)``::

        inter = 1 - mean_p pearson(Y_S[p, :], Y_T[p, :])
        intra = 1 - mean_c pearson(Y_S[:, c], Y_T[:, c])
        loss  = loss_weight * tau^2 * (inter_loss_weight * inter
                                       + intra_loss_weight * intra)

    This is the official segmentation code (hunto/DIST_KD,
    ``segmentation/losses/dist_kd.py``; tau 1, on the decode logits with
    weight 1 and the auxiliary logits with 0.4). MMRazor's ``DISTLoss``
    expects (N, C): given 4-D logits its inter-class term is the same, but
    its intra-class term correlates each class over the batch dimension at
    each position instead of over all pixels, hence this loss (the name
    avoids MMRazor's ``DISTLoss``).

    Args:
        inter_loss_weight (float): Weight of the inter-class term (beta).
            Defaults to 1.0.
        intra_loss_weight (float): Weight of the intra-class term (gamma).
            Defaults to 1.0.
        tau (float): Temperature. Defaults to 1.0.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    same_channels = True

    def __init__(self,
                 inter_loss_weight: float = 1.0,
                 intra_loss_weight: float = 1.0,
                 tau: float = 1.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        self.inter_loss_weight = inter_loss_weight
        self.intra_loss_weight = intra_loss_weight
        self.tau = check_positive('tau', tau)

    def kd(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """The DIST loss of logits (N, C, H, W)."""
        return seg_dist_loss(preds_S, preds_T, self.inter_loss_weight,
                             self.intra_loss_weight, self.tau)


#: the name of mmrdd 0.2
MODELS.register_module(name='RDDSegDISTLoss', module=SegDISTLoss)
