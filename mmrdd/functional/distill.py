# Copyright (c) mmrdd contributors. All rights reserved.
"""Logit distillation divergences with an optional per-pixel weight map.

Both compute in float32 (float64 inputs stay float64) and detach the
teacher's logits and the weight map.
"""
from typing import Optional, Tuple

import torch.nn.functional as F
from torch import Tensor

from .difficulty import resize_map
from .dtype import at_least_float32


def _check_inputs(preds_S: Tensor, preds_T: Tensor,
                  weight: Optional[Tensor]) -> None:
    """Validate shapes (Python-level only, no device sync)."""
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


#: Valid ``resize_to`` values of :func:`match_logit_sizes`.
RESIZE_TO: Tuple[str, ...] = ('student', 'teacher')


def match_logit_sizes(
        preds_S: Tensor,
        preds_T: Tensor,
        weight: Optional[Tensor] = None,
        resize_to: str = 'student',
        align_corners: bool = False
) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
    """Bring student and teacher logits (and a weight map) to one size.

    Heterogeneous pairs predict at different strides (SegFormer at 1/4,
    DeepLabV3-D8 at 1/8). With ``resize_to='student'`` the teacher's logits
    are resized bilinearly to the student's size; with ``'teacher'`` the
    student's logits and ``weight`` (given at the student's size) are
    resized to the teacher's. Inputs of equal size are returned as they are.

    Args:
        preds_S (Tensor): Student logits, (N, C, h, w).
        preds_T (Tensor): Teacher logits, (N, C, h', w').
        weight (Tensor, optional): Per-pixel weight at the student's size,
            (N, h, w). Defaults to None.
        resize_to (str): One of :data:`RESIZE_TO`. Defaults to 'student'.
        align_corners (bool): ``align_corners`` of the bilinear resize.
            Defaults to False.

    Returns:
        tuple[Tensor, Tensor, Tensor | None]: ``preds_S``, ``preds_T`` and
        ``weight`` at one spatial size.
    """
    size_S, size_T = tuple(preds_S.shape[2:]), tuple(preds_T.shape[2:])
    if size_S == size_T:
        return preds_S, preds_T, weight
    if resize_to == 'student':
        return preds_S, F.interpolate(
            preds_T, size_S, mode='bilinear',
            align_corners=align_corners), weight
    preds_S = F.interpolate(
        preds_S, size_T, mode='bilinear', align_corners=align_corners)
    if weight is not None:
        weight = resize_map(weight, size_T, align_corners)
    return preds_S, preds_T, weight


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
        Tensor: Scalar float32 loss (float64 for float64 inputs).
    """
    _check_inputs(preds_S, preds_T, weight)
    log_p_S = F.log_softmax(at_least_float32(preds_S) / tau, dim=1)
    log_p_T = F.log_softmax(at_least_float32(preds_T.detach()) / tau, dim=1)
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
        Tensor: Scalar float32 loss (float64 for float64 inputs).
    """
    _check_inputs(preds_S, preds_T, weight)
    N, C = preds_S.shape[:2]
    log_p_S = F.log_softmax(at_least_float32(preds_S).flatten(2) / tau, dim=2)
    log_p_T = F.log_softmax(
        at_least_float32(preds_T.detach()).flatten(2) / tau, dim=2)
    terms = log_p_T.exp() * (log_p_T - log_p_S)
    if weight is not None:
        terms = terms * weight.detach().float().flatten(1).unsqueeze(1)
    return terms.sum() * (tau**2) / (N * C)
