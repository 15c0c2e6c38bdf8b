# Copyright (c) mmrdd contributors. All rights reserved.
"""Intra-class feature variation distillation (IFVD, Wang et al., ECCV 2020).

As in the official code used by CIRKD and RDD (``losses/ifvd.py``). The
teacher's features are detached.
"""
import torch
import torch.nn.functional as F
from torch import Tensor

from .cirkd import labels_at


def class_center_similarity(feat: Tensor,
                            labels: Tensor,
                            num_classes: int,
                            eps: float = 1e-6) -> Tensor:
    """Cosine similarity of each pixel's feature to its class centre.

    The centre of class ``c`` in image ``n`` is the mean feature of its
    pixels (``sum / (count + eps)``); pixels of no class (ignored) are their
    own centre, so their similarity is 1.

    Args:
        feat (Tensor): Features of shape (N, C, H, W).
        labels (Tensor): Labels at feature size, shape (N, H, W).
        num_classes (int): Number of classes.
        eps (float): Added to the pixel counts. Defaults to 1e-6.

    Returns:
        Tensor: Similarities of shape (N, H, W).
    """
    x = feat.float()
    onehot = torch.stack([labels == c for c in range(num_classes)], 1)
    onehot = onehot.float().flatten(2)  # N, K, HW
    flat = x.flatten(2)  # N, C, HW
    centers = torch.bmm(flat, onehot.transpose(1, 2)) / (
        onehot.sum(2)[:, None] + eps)  # N, C, K
    center_map = torch.bmm(centers, onehot)  # N, C, HW
    labelled = onehot.sum(1, keepdim=True) > 0
    center_map = torch.where(labelled, center_map, flat).view_as(x)
    return F.cosine_similarity(x, center_map, dim=1, eps=1e-8)


def intra_class_variation_kd(feat_S: Tensor, feat_T: Tensor, labels: Tensor,
                             num_classes: int) -> Tensor:
    """IFVD: ``mean_{n, p} (IFV^S(n, p) - IFV^T(n, p))^2``.

    ``IFV = class_center_similarity(feat, labels, num_classes)``, with the
    labels resized (nearest) to the feature size; the mean runs over all
    ``N * H * W`` positions, ignored ones included (their term is 0).

    Args:
        feat_S (Tensor): Student features of shape (N, C_s, H, W).
        feat_T (Tensor): Teacher features of shape (N, C_t, H, W); detached.
        labels (Tensor): Labels of shape (N, H', W').
        num_classes (int): Number of classes.

    Returns:
        Tensor: Scalar float32 loss.
    """
    lab = labels_at(labels, feat_S.shape[-2:])
    ifv_s = class_center_similarity(feat_S, lab, num_classes)
    ifv_t = class_center_similarity(feat_T.detach(), lab, num_classes)
    return (ifv_s - ifv_t).pow(2).mean()
