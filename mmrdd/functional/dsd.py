# Copyright (c) mmrdd contributors. All rights reserved.
"""Double similarity distillation (DSD, Feng et al., TIP 2021).

Pixel similarity (residual attention between maps of one model) and
category similarity (class-by-class affinity of the logits), as in the
official code used by CIRKD and RDD (``losses/dsd.py``). The teacher's
tensors are detached.
"""
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


def attention_map(feat: Tensor, p: int = 2) -> Tensor:
    """Spatial attention of attention transfer (Zagoruyko & Komodakis).

    ``normalize_L2(mean_c feat^p)`` over the ``H * W`` positions.

    Args:
        feat (Tensor): Features of shape (N, C, H, W).
        p (int): Power. Defaults to 2.

    Returns:
        Tensor: Attention of shape (N, H * W).
    """
    return F.normalize(feat.float().pow(p).mean(1).flatten(1), dim=1)


def pixel_similarity_kd(feats_S: Sequence[Tensor],
                        feats_T: Sequence[Tensor]) -> Tensor:
    """DSD pixel similarity: residual attention between maps of a model.

    With ``a_k = attention_map(f_k)`` for the ``K`` given maps of one model
    (all of the same spatial size), the residuals of every pair ``n < m``
    are ``r_nm = normalize(a_m - a_n)``, and::

        loss = mean_{n < m} mean_{i, p} (r^S_nm(i, p) - r^T_nm(i, p))^2

    Args:
        feats_S (Sequence[Tensor]): ``K >= 2`` student maps, each
            (N, C_k, H, W).
        feats_T (Sequence[Tensor]): The matching teacher maps; detached.

    Returns:
        Tensor: Scalar float32 loss.
    """
    att_S = [attention_map(f) for f in feats_S]
    att_T = [attention_map(f.detach()) for f in feats_T]
    terms = []
    for n in range(len(att_S) - 1):
        for m in range(n + 1, len(att_S)):
            r_s = F.normalize(att_S[m] - att_S[n], dim=1)
            r_t = F.normalize(att_T[m] - att_T[n], dim=1)
            terms.append((r_s - r_t).pow(2).mean())
    return torch.stack(terms).mean()


def category_similarity(logits: Tensor,
                        tau: float = 4.0,
                        pool: int = 2) -> Tensor:
    """Class-by-class affinity of logits.

    ``avg_pool(pool, ceil_mode)``, then per class a softmax over the
    positions of ``logits / tau``, then the ``C x C`` Gram matrix.

    Args:
        logits (Tensor): Logits of shape (N, C, H, W).
        tau (float): Temperature. Defaults to 4.0.
        pool (int): Average-pooling window and stride. Defaults to 2.

    Returns:
        Tensor: Affinities of shape (N, C, C).
    """
    x = logits.float()
    if pool > 1:
        x = F.avg_pool2d(x, pool, pool, ceil_mode=True)
    x = F.softmax(x.flatten(2) / tau, dim=2)
    return torch.bmm(x, x.transpose(1, 2))


def category_similarity_kd(logits_S: Tensor,
                           logits_T: Tensor,
                           tau: float = 4.0,
                           pool: int = 2) -> Tensor:
    """DSD category similarity: mean squared difference of the affinities.

    ``loss = mean_{i, c, c'} (G^S(i, c, c') - G^T(i, c, c'))^2`` with
    ``G = category_similarity(logits, tau, pool)``.

    Args:
        logits_S (Tensor): Student logits of shape (N, C, H, W).
        logits_T (Tensor): Teacher logits of shape (N, C, H, W); detached.
        tau (float): Temperature. Defaults to 4.0.
        pool (int): Average-pooling window and stride. Defaults to 2.

    Returns:
        Tensor: Scalar float32 loss.
    """
    g_s = category_similarity(logits_S, tau, pool)
    g_t = category_similarity(logits_T.detach(), tau, pool)
    return (g_s - g_t).pow(2).mean()
