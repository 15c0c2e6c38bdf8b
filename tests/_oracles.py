# Copyright (c) mmrdd contributors. All rights reserved.
"""Test oracles: plain, slow computations that the fast code is checked
against.

The OHEM selection of the reference code (``OhemCrossEntropy2dTensor`` of
sunyueue/RDD and winycg/CIRKD, ``utils/loss.py``): softmax materialised over
the classes, a full ``argsort``, the threshold read back to the host.
``tools/mmrdd_lab/benchmark_masks.py`` times our selection against the
same functions.
"""
import torch
import torch.nn.functional as F
from torch import Tensor


def reference_gt_prob(logits: Tensor,
                      label: Tensor,
                      ignore_index: int = 255) -> Tensor:
    """``q`` as the reference ``OhemCrossEntropy2dTensor`` computes it.

    Softmax over classes in the logits' dtype, transposed to (C, N*H*W),
    gathered with the flattened target; ignored pixels get 1.

    Args:
        logits (Tensor): (N, C, H, W) at the label size.
        label (Tensor): (N, H, W).
        ignore_index (int): Defaults to 255.

    Returns:
        Tensor: (N, H, W), the ground-truth class probability.
    """
    n, c, h, w = logits.shape
    target = label.reshape(-1)
    valid = target != ignore_index
    prob = F.softmax(logits, dim=1).transpose(0, 1).reshape(c, -1)
    prob = prob.masked_fill(~valid, 1)
    q = prob[target * valid.long(),
             torch.arange(len(target), device=target.device)]
    return q.view(n, h, w)


def reference_ohem_mask(q: Tensor,
                        valid: Tensor,
                        thresh: float = 0.7,
                        min_kept: int = 100000) -> Tensor:
    """The OHEM rule of the reference code, with a full ``argsort``.

    No mining (every valid pixel kept) when the batch has fewer than
    ``min_kept`` valid pixels; else the threshold is ``thresh``, raised to
    the ``min_kept``-th smallest ``q`` if that is larger (compared on the
    host), and the pixels with ``q`` at most the threshold are kept.

    Args:
        q (Tensor): (N, H, W) ground-truth class probability, 1 (or any
            value) at ignored pixels.
        valid (Tensor): (N, H, W) bool, the labelled pixels.
        thresh (float): Defaults to 0.7.
        min_kept (int): Defaults to 100000.

    Returns:
        Tensor: (N, H, W) bool, the kept pixels.
    """
    flat_valid = valid.flatten()
    num_valid = int(flat_valid.sum())
    if min_kept > num_valid or num_valid == 0:
        return valid.clone()
    mask_prob = q.flatten().masked_fill(~flat_valid, 1)
    threshold = thresh
    index = mask_prob.argsort()
    threshold_index = index[min(len(index), min_kept) - 1]
    if mask_prob[threshold_index] > thresh:
        threshold = mask_prob[threshold_index]
    return (flat_valid & mask_prob.le(threshold)).view_as(valid)


# ------------------------------------------------------------- MasKD ----
# Restated in our own words from hunto/MasKD, segmentation/losses/maskd.py
# and segmentation/losses/loss.py at commit
# b5af34fe343f1b82689291871f85b97a6aea4278 (MaskModule.forward_mask,
# MaskModule.forward_train, dice_coeff, MasKDLoss.forward,
# SegCrossEntropyLoss.forward): the official tensor layout, no shortcut.
MASKD_COMMIT = 'b5af34fe343f1b82689291871f85b97a6aea4278'


def reference_maskd_masks(feat: Tensor, tokens: Tensor) -> Tensor:
    """``MaskModule.forward_mask``: the (T, C) tokens expanded to every
    image, times the map flattened to (N, C, H*W), sigmoid, (N, T, H, W)."""
    n, c, h, w = feat.shape
    attn = tokens.expand(n, -1, -1) @ feat.view(n, c, h * w)
    return attn.sigmoid().view(n, -1, h, w)


def reference_maskd_loss(preds_S: Tensor, preds_T: Tensor,
                         tokens: Tensor) -> Tensor:
    """``MasKDLoss.forward``: both maps times every mask, (N, T, C, H, W);
    squared differences summed over the pixels, divided by the mask's sum
    plus 1e-5, averaged over (N, T, C), halved."""
    masks = reference_maskd_masks(preds_T, tokens)
    masked_s = preds_S.unsqueeze(1) * masks.unsqueeze(2)
    masked_t = preds_T.unsqueeze(1) * masks.unsqueeze(2)
    per_channel = ((masked_s - masked_t)**2).sum((3, 4))
    per_channel = per_channel / (masks.sum((2, 3)).unsqueeze(-1) + 1e-5)
    return 0.5 * per_channel.mean()


def reference_dice_overlap(masks: Tensor) -> Tensor:
    """``dice_coeff`` as an explicit loop: per image and ordered pair of
    different tokens, ``2 <m_i, m_j> / ((|m_j|^2 + 1e-12) + (|m_i|^2 +
    1e-12))``, averaged over all of them."""
    flat = masks.flatten(2)
    n, t = flat.shape[:2]
    total, count = 0, 0
    for b in range(n):
        for i in range(t):
            for j in range(t):
                if i == j:
                    continue
                mi, mj = flat[b, i], flat[b, j]
                total = total + 2 * (mi * mj).sum() / ((
                    (mj * mj).sum() + 1e-12) + ((mi * mi).sum() + 1e-12))
                count += 1
    return total / count


def reference_token_stage_loss(logits: Tensor, labels: Tensor, tokens: Tensor,
                               ignore_index: int) -> Tensor:
    """One step of ``train_mask_module.py``: ``MaskModule.forward_train``
    (the logits times every mask, (N, T, C, h, w), summed over the tokens;
    plus ``dice_coeff`` of the masks) and ``SegCrossEntropyLoss`` (bilinear
    resize to the labels with ``align_corners=True``, then
    ``nn.CrossEntropyLoss(ignore_index)``, the mean over labelled pixels).
    The 0.4-weighted auxiliary CE of the script has no gradient for the
    tokens and is left out."""
    masks = reference_maskd_masks(logits, tokens)
    out = (logits.unsqueeze(1) * masks.unsqueeze(2)).sum(1)
    out = F.interpolate(
        out, labels.shape[-2:], mode='bilinear', align_corners=True)
    ce = torch.nn.CrossEntropyLoss(ignore_index=ignore_index)(out, labels)
    return ce + reference_dice_overlap(masks)
