# Copyright (c) mmrdd contributors. All rights reserved.
import torch.nn as nn
from mmrazor.registry import MODELS
from torch import Tensor

from ...functional.kt import logit_tailoring_kd
from ._checks import check_positive, check_same_size


@MODELS.register_module()
class KTLogitTailoringLoss(nn.Module):
    """KT logit tailoring: channel-wise divergence to tailored teacher logits.

    `Knowledge Tailoring: Bridging the Teacher-Student Gap in Semantic
    Segmentation` (Cheung et al., Pattern Recognition 2025). Student and
    teacher logits are resized to the label size (nearest) and each class's
    map is flattened with the labels: inside the class's region raised to
    the mean of its positive logits, outside capped at its mean
    (:func:`~mmrdd.functional.kt.tailor_logits`, giving ``cls + non``)::

        loss = loss_weight * (CWD(S, cls_T + non_T) + CWD(cls_S, cls_T)
                              + CWD(non_S, non_T))

    with ``CWD`` the channel-wise divergence at temperature ``tau`` (the
    teacher side detached). As the official training loop (seok-hwa/KT
    ``train_KT.py``, ``--lambda-mask``, with ``CriterionKT('channel',
    'kl')`` of ``losses/KT.py``), on the decode-head logits. Ignored pixels
    belong to no class (the official ``-1`` label becomes an extra one-hot
    channel that is dropped). MMRazor has no such loss.

    Args:
        tau (float): Temperature (the official ``--kd-temperature``).
            Defaults to 4.0.
        ignore_index (int): Label of ignored pixels. Defaults to 255.
        loss_weight (float): Weight of the loss (``--lambda-mask``).
            Defaults to 1.0.
    """

    def __init__(self,
                 tau: float = 4.0,
                 ignore_index: int = 255,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.tau = check_positive('tau', tau)
        self.ignore_index = ignore_index
        self.loss_weight = loss_weight

    def forward(self, preds_S: Tensor, preds_T: Tensor,
                gt_labels: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            preds_S (Tensor): Student logits of shape (N, K, h, w).
            preds_T (Tensor): Teacher logits of shape (N, K, h, w).
            gt_labels (Tensor): Labels (N, H, W), e.g. the second input of
                the student's ``decode_head.loss_decode``.

        Returns:
            Tensor: Scalar float32 loss.
        """
        check_same_size(preds_S, preds_T, same_channels=True)
        if gt_labels.dim() == 4 and gt_labels.shape[1] == 1:
            gt_labels = gt_labels[:, 0]
        if gt_labels.dim() != 3 or gt_labels.shape[0] != preds_S.shape[0]:
            raise ValueError(
                f'gt_labels must be (N, H, W) with N = {preds_S.shape[0]}, '
                f'got {tuple(gt_labels.shape)}')
        num_classes = preds_S.shape[1]
        stray = ((gt_labels < 0) | (gt_labels >= num_classes)) & (
            gt_labels != self.ignore_index)
        if bool(stray.any()):
            raise ValueError(
                f'KTLogitTailoringLoss: labels outside [0, {num_classes}) '
                f'that are not ignore_index={self.ignore_index}; set '
                'ignore_index to the data set\'s ignored label.')
        return self.loss_weight * logit_tailoring_kd(
            preds_S, preds_T, gt_labels, self.tau, self.ignore_index)
