# Copyright (c) mmrdd contributors. All rights reserved.
"""MasKD: masked distillation with receptive tokens (Huang et al., ICLR 2023).

As in the official segmentation code (hunto/MasKD, ``segmentation/``,
``losses/maskd.py``). Stage 1 learns ``T`` receptive tokens (a ``T x C``
matrix) on the frozen teacher's map; each token turns a map into a soft
pixel mask. Stage 2 distils the student's map into the teacher's under
those masks. In the official Cityscapes setting the maps are the heads'
logits (``C`` = 19 classes, ``T`` = 8).

The official code trains in float32. The products and sums over pixels
here run in float32 even under autocast (``--amp``): in float16 a sum of
squared logit differences over a 64 x 128 map overflows.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def _float32(t: Tensor):
    """A context without autocast on ``t``'s device."""
    return torch.autocast(device_type=t.device.type, enabled=False)


def receptive_token_masks(feat: Tensor, tokens: Tensor) -> Tensor:
    """The soft pixel masks of the tokens: ``sigmoid(tokens @ feat)``.

    Args:
        feat (Tensor): Map of shape (N, C, H, W) (in MasKD the teacher's).
        tokens (Tensor): Receptive tokens of shape (T, C).

    Returns:
        Tensor: Masks in (0, 1) of shape (N, T, H, W).
    """
    n, c, h, w = feat.shape
    with _float32(feat):
        attn = torch.matmul(tokens.float(), feat.float().reshape(n, c, h * w))
    return attn.sigmoid().reshape(n, tokens.shape[0], h, w)


def token_masked_map(feat: Tensor, masks: Tensor) -> Tensor:
    """The map seen through all tokens: ``sum_t masks[:, t] * feat``.

    Stage 1 trains the tokens so that this map still segments well.

    Args:
        feat (Tensor): Map of shape (N, C, H, W).
        masks (Tensor): Masks of shape (N, T, H, W).

    Returns:
        Tensor: Shape (N, C, H, W).
    """
    return feat * masks.sum(1, keepdim=True)


def token_dice_overlap(masks: Tensor, eps: float = 1e-12) -> Tensor:
    """Mean Dice coefficient between the masks of different tokens.

    Per image, with ``m_t`` the flattened mask of token ``t``::

        dice(i, j) = 2 <m_i, m_j> / (|m_i|^2 + |m_j|^2 + 2 eps)

    averaged over the images and the ``T (T - 1)`` ordered pairs
    ``i != j``. Stage 1 minimises it so that the tokens look at different
    pixels (the official ``dice_coeff``, whose two norms each carry
    ``eps``).

    Args:
        masks (Tensor): Masks of shape (N, T, H, W), ``T >= 2``.
        eps (float): Added to each squared norm. Defaults to 1e-12.

    Returns:
        Tensor: Scalar.
    """
    m = masks.float().flatten(2)
    num_tokens = m.shape[1]
    with _float32(m):
        inter = torch.matmul(m, m.transpose(1, 2))
    sq = (m * m).sum(-1)
    dice = 2 * inter / (sq[:, :, None] + sq[:, None, :] + 2 * eps)
    off_diagonal = ~torch.eye(num_tokens, dtype=torch.bool, device=m.device)
    return dice[:, off_diagonal].mean()


def masked_map_kd(preds_S: Tensor,
                  preds_T: Tensor,
                  masks: Tensor,
                  eps: float = 1e-5) -> Tensor:
    """MasKD's distillation under masks.

    For image ``n``, token ``t`` and channel ``c``, over the pixels ``p``::

        d(n, t, c) = sum_p (m_t(p) S_c(p) - m_t(p) T_c(p))^2
                     / (sum_p m_t(p) + eps)
        loss = 0.5 * mean_{n, t, c} d(n, t, c)

    (the squared difference carries the mask squared, the normaliser the
    mask itself, as in the official code).

    Args:
        preds_S (Tensor): Student map of shape (N, C, H, W).
        preds_T (Tensor): Teacher map of shape (N, C, H, W); detached.
        masks (Tensor): Masks of shape (N, T, H, W), e.g.
            :func:`receptive_token_masks` of the teacher's map; detached.
        eps (float): Added to each mask's area. Defaults to 1e-5.

    Returns:
        Tensor: Scalar float32 loss.
    """
    masks = masks.detach().float()
    diff2 = (preds_S.float() - preds_T.detach().float()).pow(2)
    with _float32(diff2):
        num = torch.einsum('nthw,nchw->ntc', masks.pow(2), diff2)
    area = masks.sum((2, 3)).unsqueeze(-1)
    return 0.5 * (num / (area + eps)).mean()


def mean_valid_cross_entropy(logits: Tensor,
                             labels: Tensor,
                             ignore_index: int = 255,
                             align_corners: bool = False) -> Tensor:
    """Cross entropy of logits resized to the labels, mean over valid pixels.

    ``torch.nn.CrossEntropyLoss(ignore_index=...)`` after a bilinear resize,
    as the official MasKD (and CIRKD) ``SegCrossEntropyLoss``; 0 (not NaN)
    when no pixel is valid.

    Args:
        logits (Tensor): Shape (N, C, h, w).
        labels (Tensor): Shape (N, H, W), int64.
        ignore_index (int): Label of ignored pixels. Defaults to 255.
        align_corners (bool): Of the bilinear resize. Defaults to False.

    Returns:
        Tensor: Scalar float32 loss.
    """
    logits = F.interpolate(
        logits.float(),
        labels.shape[-2:],
        mode='bilinear',
        align_corners=align_corners)
    total = F.cross_entropy(
        logits, labels, ignore_index=ignore_index, reduction='sum')
    valid = (labels != ignore_index).sum().clamp(min=1)
    return total / valid


def token_stage_losses(logits: Tensor,
                       masks: Tensor,
                       labels: Tensor,
                       ignore_index: int = 255,
                       align_corners: bool = False) -> Tuple[Tensor, Tensor]:
    """The two losses of MasKD's stage 1 (official ``train_mask_module.py``).

    ``ce`` is :func:`mean_valid_cross_entropy` of the logits seen through
    the tokens (:func:`token_masked_map`), ``dice`` the overlap of the
    tokens' masks (:func:`token_dice_overlap`); the official total is
    ``ce + dice``.

    Args:
        logits (Tensor): The frozen teacher's logits, (N, C, h, w).
        masks (Tensor): The tokens' masks of those logits, (N, T, h, w).
        labels (Tensor): Shape (N, H, W), int64.
        ignore_index (int): Label of ignored pixels. Defaults to 255.
        align_corners (bool): Of the resize to the labels. Defaults to
            False.

    Returns:
        tuple[Tensor, Tensor]: ``(ce, dice)``, scalars.
    """
    ce = mean_valid_cross_entropy(
        token_masked_map(logits.float(), masks), labels, ignore_index,
        align_corners)
    return ce, token_dice_overlap(masks)
