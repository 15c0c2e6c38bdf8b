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
