# Copyright (c) mmrdd contributors. All rights reserved.
"""Logit distillation divergences with an optional per-pixel weight map.

Both compute in float32 and detach the teacher's logits and the weight map.
"""
from typing import Optional

import torch.nn.functional as F
from torch import Tensor


def _check_inputs(preds_S: Tensor, preds_T: Tensor, tau: float,
                  weight: Optional[Tensor]) -> None:
    """Validate shapes (Python-level only, no device sync) and ``tau``."""
    if isinstance(tau, bool) or not isinstance(tau, (int, float)) \
            or not tau > 0:
        raise ValueError(f'tau must be a positive number, got {tau!r}')
    if preds_S.dim() != 4:
        raise ValueError('preds_S must have shape (N, C, H, W), got '
                         f'{tuple(preds_S.shape)}')
    if tuple(preds_S.shape) != tuple(preds_T.shape):
        raise ValueError(f'preds_S {tuple(preds_S.shape)} and preds_T '
                         f'{tuple(preds_T.shape)} must have the same shape')
    if weight is not None:
        expected = (preds_S.shape[0], ) + tuple(preds_S.shape[2:])
        if tuple(weight.shape) != expected:
            raise ValueError(f'weight must have shape {expected} (N, H, W) '
                             f'to match preds {tuple(preds_S.shape)}, got '
                             f'{tuple(weight.shape)}')


def pixel_kl_divergence(preds_S: Tensor,
                        preds_T: Tensor,
                        tau: float = 1.0,
                        weight: Optional[Tensor] = None) -> Tensor:
    """Per-pixel KL divergence of the teacher's class distribution from the
    student's, averaged over all pixels.

    ::

        kl(p) = tau^2 * sum_c P_T(c, p) * (log P_T(c, p) - log P_S(c, p))
        loss  = mean_{n, p} weight(n, p) * kl(n, p)

    with ``P = softmax(logits / tau)`` over classes. The mean runs over all
    ``N * H * W`` pixels (the pixel KD of the RDD / CIRKD reference code);
    this is ``H * W`` times smaller than MMRazor's ``KLDivergence`` with
    ``reduction='batchmean'``. The weight is not renormalised.

    Args:
        preds_S (Tensor): Student logits of shape (N, C, H, W).
        preds_T (Tensor): Teacher logits of shape (N, C, H, W); detached.
        tau (float): Temperature. Defaults to 1.0.
        weight (Tensor, optional): Per-pixel weight of shape (N, H, W);
            detached. Defaults to None (all ones).

    Returns:
        Tensor: Scalar float32 loss.
    """
    _check_inputs(preds_S, preds_T, tau, weight)
    log_p_S = F.log_softmax(preds_S.float() / tau, dim=1)
    log_p_T = F.log_softmax(preds_T.detach().float() / tau, dim=1)
    kl = (log_p_T.exp() * (log_p_T - log_p_S)).sum(dim=1) * (tau**2)
    if weight is not None:
        kl = kl * weight.detach().float()
    return kl.mean()


def channel_wise_divergence(preds_S: Tensor,
                            preds_T: Tensor,
                            tau: float = 1.0,
                            weight: Optional[Tensor] = None) -> Tensor:
    """Channel-wise divergence (CWD), optionally weighted per pixel.

    ::

        P(n, c, .) = softmax over the H * W positions of logits(n, c) / tau
        loss = tau^2 / (N * C) * sum_{n, c, p} weight(n, p)
               * P_T(n, c, p) * (log P_T(n, c, p) - log P_S(n, c, p))

    With ``weight=None`` this equals MMRazor's ``ChannelWiseDivergence``
    (without its ``loss_weight``).

    Args:
        preds_S (Tensor): Student logits of shape (N, C, H, W).
        preds_T (Tensor): Teacher logits of shape (N, C, H, W); detached.
        tau (float): Temperature. Defaults to 1.0.
        weight (Tensor, optional): Per-pixel weight of shape (N, H, W),
            broadcast over channels; detached. Defaults to None (all ones).

    Returns:
        Tensor: Scalar float32 loss.
    """
    _check_inputs(preds_S, preds_T, tau, weight)
    N, C = preds_S.shape[:2]
    log_p_S = F.log_softmax(preds_S.float().flatten(2) / tau, dim=2)
    log_p_T = F.log_softmax(preds_T.detach().float().flatten(2) / tau, dim=2)
    terms = log_p_T.exp() * (log_p_T - log_p_S)
    if weight is not None:
        terms = terms * weight.detach().float().flatten(1).unsqueeze(1)
    return terms.sum() * (tau**2) / (N * C)
