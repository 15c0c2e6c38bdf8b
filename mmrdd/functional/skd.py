# Copyright (c) mmrdd contributors. All rights reserved.
"""Structured KD, pair-wise term (SKD, Liu et al., CVPR 2019 / TPAMI 2020).

As in the official code used by CIRKD and RDD (``losses/skd.py``). The
teacher's features are detached.
"""
import torch
import torch.nn.functional as F
from torch import Tensor


def pairwise_similarity(feat: Tensor, pool: int = 2) -> Tensor:
    """Pixel-by-pixel cosine similarity after max pooling.

    ``max_pool(pool, ceil_mode)``, L2 normalisation along channels, then
    the ``HW x HW`` Gram matrix of the pooled positions.

    Args:
        feat (Tensor): Features of shape (N, C, H, W).
        pool (int): Max-pooling window and stride. Defaults to 2.

    Returns:
        Tensor: Similarities of shape (N, h * w, h * w).
    """
    x = feat.float()
    if pool > 1:
        x = F.max_pool2d(x, pool, pool, ceil_mode=True)
    x = F.normalize(x, p=2, dim=1).flatten(2)
    return torch.bmm(x.transpose(1, 2), x)


def pairwise_similarity_kd(feat_S: Tensor,
                           feat_T: Tensor,
                           pool: int = 2) -> Tensor:
    """SKD pair-wise distillation: ``mean (A^S - A^T)^2``.

    ``A = pairwise_similarity(feat, pool)``; student and teacher may have
    different channel numbers.

    Args:
        feat_S (Tensor): Student features of shape (N, C_s, H, W).
        feat_T (Tensor): Teacher features of shape (N, C_t, H, W); detached.
        pool (int): Max-pooling window and stride. Defaults to 2.

    Returns:
        Tensor: Scalar float32 loss.
    """
    a_s = pairwise_similarity(feat_S, pool)
    a_t = pairwise_similarity(feat_T.detach(), pool)
    return (a_s - a_t).pow(2).mean()
