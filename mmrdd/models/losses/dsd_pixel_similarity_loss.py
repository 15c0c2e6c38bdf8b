# Copyright (c) mmrdd contributors. All rights reserved.
from typing import Optional

import torch.nn as nn
from mmrazor.registry import MODELS
from torch import Tensor

from ...functional.dsd import pixel_similarity_kd
from ._checks import check_same_size


@MODELS.register_module()
class DSDPixelSimilarityLoss(nn.Module):
    """DSD pixel similarity (residual attention) loss.

    `Double Similarity Distillation for Semantic Image Segmentation
    <https://arxiv.org/abs/2107.08591>`_ (Feng et al., TIP 2021). With the
    attention map ``a_k = normalize(mean_c f_k^2)`` of each of the ``K``
    given maps of one model and residuals ``r_nm = normalize(a_m - a_n)``
    for every pair ``n < m``::

        loss = loss_weight * mean_{n < m} mean (r^S_nm - r^T_nm)^2

    The official code (``losses/dsd.py``, as called by CIRKD and RDD) uses
    three maps at stride 8: the auxiliary-head logits, the decode head's
    last feature (the input of ``conv_seg``) and the decode-head logits,
    in that order (``preds_S_0``, ``preds_S_1``, ``preds_S_2``). All maps
    must have the same spatial size; channel numbers may differ. MMRazor's
    ``ATLoss`` gives the attention of one pair, not these residuals.

    Args:
        loss_weight (float): Weight of the loss (the reference: 1000).
            Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self,
                preds_S_0: Tensor,
                preds_T_0: Tensor,
                preds_S_1: Tensor,
                preds_T_1: Tensor,
                preds_S_2: Optional[Tensor] = None,
                preds_T_2: Optional[Tensor] = None) -> Tensor:
        """Compute the loss over two or three pairs of maps.

        Args:
            preds_S_0 (Tensor): First student map, (N, C_0, H, W).
            preds_T_0 (Tensor): First teacher map, (N, C_0', H, W).
            preds_S_1 (Tensor): Second student map, (N, C_1, H, W).
            preds_T_1 (Tensor): Second teacher map, (N, C_1', H, W).
            preds_S_2 (Tensor, optional): Third student map. Defaults to
                None.
            preds_T_2 (Tensor, optional): Third teacher map. Defaults to
                None.

        Returns:
            Tensor: Scalar float32 loss.
        """
        feats_S = [preds_S_0, preds_S_1]
        feats_T = [preds_T_0, preds_T_1]
        if (preds_S_2 is None) != (preds_T_2 is None):
            raise ValueError('give both preds_S_2 and preds_T_2, or neither')
        if preds_S_2 is not None:
            feats_S.append(preds_S_2)
            feats_T.append(preds_T_2)
        for f in feats_S[1:] + feats_T:
            check_same_size(feats_S[0], f)
        return self.loss_weight * pixel_similarity_kd(feats_S, feats_T)
