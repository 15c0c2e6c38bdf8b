# Copyright (c) mmrdd contributors. All rights reserved.
"""Knowledge Tailoring (KT, Cheung et al., Pattern Recognition 2025).

As in the official code (seok-hwa/KT, ``train_KT.py``, whose training loop
computes the tailoring inline, with ``losses/KT.py`` ``CriterionKT`` and
``models/tailoring.py`` ``Tailoring``):

* feature tailoring re-mixes one model's feature by its channel
  correlation with the other's (:func:`tailor_features`);
* logit tailoring flattens each class's logit map inside and outside the
  class's labelled region (:func:`tailor_logits`), and the student learns
  the tailored teacher maps by channel-wise divergence
  (:func:`logit_tailoring_kd`);
* the contrastive term is ``nn.TripletMarginLoss`` on 4-D maps, whose
  distance runs over the last axis (:func:`row_triplet_margin`).
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .distill import channel_wise_divergence
from .dtype import at_least_float32


def tailor_features(guide: Tensor, source: Tensor) -> Tuple[Tensor, Tensor]:
    """Re-mix ``source``'s channels by their correlation with ``guide``'s.

    Per image, with every channel's map L2-normalised over the positions,
    ``R = norm(guide) @ norm(source)^T`` is the (C_g, C_s) channel
    correlation and::

        high = R @ source          # (C_g, H * W)
        low  = (1 - R) @ source

    Gradients flow through ``R`` and ``source`` (the official code detaches
    neither; the teacher's feature has no gradient anyway).

    Args:
        guide (Tensor): Shape (N, C_g, H, W).
        source (Tensor): Shape (N, C_s, H, W).

    Returns:
        tuple[Tensor, Tensor]: ``(high, low)``, each (N, C_g, H, W), float32
        (float64 for float64 inputs).
    """
    n, c_g, h, w = guide.shape
    g = at_least_float32(guide).flatten(2)
    s = at_least_float32(source).flatten(2)
    corr = F.normalize(g, dim=2) @ F.normalize(s, dim=2).transpose(1, 2)
    high = (corr @ s).view(n, c_g, h, w)
    low = ((1 - corr) @ s).view(n, c_g, h, w)
    return high, low


def row_triplet_margin(anchor: Tensor,
                       positive: Tensor,
                       negative: Tensor,
                       margin: float = 1.0,
                       eps: float = 1e-7) -> Tensor:
    """``nn.TripletMarginLoss(margin, p=2, eps)`` on (N, C, H, W) maps.

    PyTorch's pairwise distance runs over the *last* axis: each row
    ``(n, c, h, :)`` of a map is one sample::

        d(a, b) = || a(n, c, h, :) - b(n, c, h, :) + eps ||_2
        loss    = mean_{n, c, h} max(0, margin + d(a, p) - d(a, n))

    Args:
        anchor (Tensor): Shape (N, C, H, W).
        positive (Tensor): Shape (N, C, H, W).
        negative (Tensor): Shape (N, C, H, W).
        margin (float): Defaults to 1.0.
        eps (float): Added to the differences. Defaults to 1e-7.

    Returns:
        Tensor: Scalar float32 loss (float64 for float64 inputs).
    """
    a = at_least_float32(anchor)
    d_pos = (a - at_least_float32(positive) + eps).norm(p=2, dim=-1)
    d_neg = (a - at_least_float32(negative) + eps).norm(p=2, dim=-1)
    return (margin + d_pos - d_neg).clamp(min=0).mean()


def class_masks(labels: Tensor,
                num_classes: int,
                ignore_index: int = 255) -> Tensor:
    """One-hot class masks; ignored pixels belong to no class.

    Args:
        labels (Tensor): Shape (N, H, W).
        num_classes (int): Number of classes ``K``.
        ignore_index (int): Label of ignored pixels. Defaults to 255.

    Returns:
        Tensor: Bool masks of shape (N, K, H, W).
    """
    classes = torch.arange(num_classes, device=labels.device)
    valid = labels != ignore_index
    return (labels.unsqueeze(1) == classes.view(1, -1, 1, 1)) & \
        valid.unsqueeze(1)


def tailor_logits(logits: Tensor, masks: Tensor) -> Tuple[Tensor, Tensor]:
    """KT's logit tailoring of one model's logit maps.

    For image ``n`` and class ``k``, with ``in = masks[n, k]`` and
    ``x = logits[n, k]``::

        a   = mean of the positive values of x * in      # skipped if none
        b   = mean over all H * W positions of x * (1 - in)
        cls = where(x * in < a, a, x * in) * in           # raised to a
        non = where(x * (1 - in) > b, b, x * (1 - in)) * (1 - in)

    The official code does this in a loop over images and classes with
    in-place assignments; ``a`` and ``b`` carry gradients.

    Args:
        logits (Tensor): Shape (N, K, H, W) at the label size.
        masks (Tensor): Bool class masks (N, K, H, W), see
            :func:`class_masks`.

    Returns:
        tuple[Tensor, Tensor]: ``(cls, non)``, each (N, K, H, W), float32
        (float64 for float64 inputs);
        the tailored map is ``cls + non``.
    """
    x = at_least_float32(logits)
    inside = masks.to(x.dtype)
    outside = 1 - inside
    x_in = x * inside
    positive = x_in > 0
    count = positive.sum((2, 3), keepdim=True)
    mean_pos = (x_in * positive).sum((2, 3), keepdim=True) / count.clamp(min=1)
    raise_to = (x_in < mean_pos) & (count > 0)
    cls = torch.where(raise_to, mean_pos, x_in) * inside
    x_out = x * outside
    mean_out = x_out.mean((2, 3), keepdim=True)
    non = torch.where(x_out > mean_out, mean_out, x_out) * outside
    return cls, non


def logit_tailoring_kd(logits_S: Tensor,
                       logits_T: Tensor,
                       labels: Tensor,
                       tau: float = 4.0,
                       ignore_index: int = 255) -> Tensor:
    """KT's logit-tailoring loss.

    Both logit maps are resized to the label size by nearest neighbour and
    tailored (:func:`tailor_logits`) with the labels' class masks; then,
    with ``CWD`` the channel-wise divergence at temperature ``tau``::

        loss = CWD(S, cls_T + non_T) + CWD(cls_S, cls_T) + CWD(non_S, non_T)

    (the first term takes the student's untailored logits).

    Args:
        logits_S (Tensor): Student logits of shape (N, K, h, w).
        logits_T (Tensor): Teacher logits of shape (N, K, h, w); detached.
        labels (Tensor): Labels of shape (N, H, W).
        tau (float): Temperature. Defaults to 4.0.
        ignore_index (int): Label of ignored pixels. Defaults to 255.

    Returns:
        Tensor: Scalar float32 loss (float64 for float64 inputs).
    """
    size = tuple(labels.shape[-2:])
    s = F.interpolate(at_least_float32(logits_S), size, mode='nearest')
    t = F.interpolate(
        at_least_float32(logits_T.detach()), size, mode='nearest')
    masks = class_masks(labels, s.shape[1], ignore_index)
    cls_s, non_s = tailor_logits(s, masks)
    cls_t, non_t = tailor_logits(t, masks)
    return (channel_wise_divergence(s, cls_t + non_t, tau) +
            channel_wise_divergence(cls_s, cls_t, tau) +
            channel_wise_divergence(non_s, non_t, tau))
