# Copyright (c) mmrdd contributors. All rights reserved.
import torch.nn as nn
from mmrazor.registry import MODELS
from torch import Tensor

from ...functional.ifvd import intra_class_variation_kd
from ._checks import check_positive_int, check_same_size


@MODELS.register_module()
class IFVDLoss(nn.Module):
    """Intra-class feature variation distillation loss.

    `Intra-class Feature Variation Distillation for Semantic Segmentation
    <https://arxiv.org/abs/2007.13125>`_ (Wang et al., ECCV 2020). With the
    labels resized (nearest) to the feature size, the centre of each class
    in each image is its mean feature, and ``IFV(p) = cos(f(p),
    centre(y(p)))`` (1 at ignored pixels, which are their own centre)::

        loss = loss_weight * mean_{n, p} (IFV^S(n, p) - IFV^T(n, p))^2

    As in the official code used by CIRKD and RDD (``losses/ifvd.py``, on
    the decode head's last feature). Channel numbers may differ. MMRazor has
    no such loss.

    Args:
        num_classes (int): Number of classes.
        loss_weight (float): Weight of the loss (CIRKD's script: 20).
            Defaults to 1.0.
    """

    def __init__(self, num_classes: int, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.num_classes = check_positive_int('num_classes', num_classes)
        self.loss_weight = loss_weight

    def forward(self, preds_S: Tensor, preds_T: Tensor,
                gt_labels: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            preds_S (Tensor): Student features of shape (N, C_s, H, W).
            preds_T (Tensor): Teacher features of shape (N, C_t, H, W).
            gt_labels (Tensor): Labels (N, H', W'), e.g. the second input of
                the student's ``decode_head.loss_decode``.

        Returns:
            Tensor: Scalar float32 loss.
        """
        check_same_size(preds_S, preds_T)
        if gt_labels.dim() == 4 and gt_labels.shape[1] == 1:
            gt_labels = gt_labels[:, 0]
        return self.loss_weight * intra_class_variation_kd(
            preds_S, preds_T, gt_labels, self.num_classes)
