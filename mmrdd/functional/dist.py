# Copyright (c) mmrdd contributors. All rights reserved.
"""DIST for segmentation (Huang et al., NeurIPS 2022), over pixel rows.

As in the official segmentation code (hunto/DIST_KD,
``segmentation/losses/dist_kd.py``): the logits are reshaped to one row per
pixel, ``(N * H * W, C)``, before the inter- and intra-class relations.
"""
from torch import Tensor


def pearson_rows(a: Tensor, b: Tensor, eps: float = 1e-8) -> Tensor:
    """Pearson correlation of each row of ``a`` with the same row of ``b``.

    Args:
        a (Tensor): Shape (R, K).
        b (Tensor): Shape (R, K).
        eps (float): Added to the product of the norms. Defaults to 1e-8.

    Returns:
        Tensor: Shape (R,).
    """
    a = a - a.mean(1, keepdim=True)
    b = b - b.mean(1, keepdim=True)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1) + eps)


def seg_dist_loss(logits_S: Tensor,
                  logits_T: Tensor,
                  beta: float = 1.0,
                  gamma: float = 1.0,
                  tau: float = 1.0) -> Tensor:
    """DIST over the pixels of segmentation logits.

    With ``Y = softmax(logits / tau)`` over classes, as rows ``(N*H*W, C)``::

        inter = 1 - mean_pixels pearson(Y_S[p, :], Y_T[p, :])
        intra = 1 - mean_classes pearson(Y_S[:, c], Y_T[:, c])
        loss  = tau^2 * (beta * inter + gamma * intra)

    The intra-class term correlates each class over *all pixels of the
    batch*; MMRazor's ``DISTLoss`` on 4-D logits correlates over the batch
    dimension only, per position.

    Args:
        logits_S (Tensor): Student logits of shape (N, C, H, W).
        logits_T (Tensor): Teacher logits of shape (N, C, H, W); detached.
        beta (float): Weight of the inter-class term. Defaults to 1.0.
        gamma (float): Weight of the intra-class term. Defaults to 1.0.
        tau (float): Temperature (the official code uses 1).
            Defaults to 1.0.

    Returns:
        Tensor: Scalar float32 loss.
    """
    c = logits_S.shape[1]
    y_s = (logits_S.float().movedim(1, -1).reshape(-1, c) / tau).softmax(1)
    y_t = (logits_T.detach().float().movedim(1, -1).reshape(-1, c) /
           tau).softmax(1)
    inter = 1 - pearson_rows(y_s, y_t).mean()
    intra = 1 - pearson_rows(y_s.t(), y_t.t()).mean()
    return tau**2 * (beta * inter + gamma * intra)
