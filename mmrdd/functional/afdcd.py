# Copyright (c) mmrdd contributors. All rights reserved.
"""Augmentation-free dense contrastive distillation (Af-DCD, Fan et al.,
NeurIPS 2023).

As in the official code (OSVAI/Af-DCD, ``losses/ocmgd.py``,
``OmniContrastiveFeatureLoss``): the student's feature, projected to the
teacher's channels and partly masked, goes through a learned projector; the
result mimics the teacher's feature (a summed squared error) and is
contrasted with it inside small spatial patches, token by token, where a
token is one position of one channel group. The teacher's feature is
detached.
"""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .dtype import at_least_float32


def random_keep_mask(shape: Sequence[int], mask_ratio: float,
                     device: torch.device) -> Tensor:
    """The official random mask: 0 for about ``mask_ratio`` of positions.

    Draws ``u ~ U[0, 1)`` of ``shape`` from torch's global generator of
    ``device`` and keeps the positions with ``u <= 1 - mask_ratio`` (the
    official ``torch.where(u > 1 - ratio, 0, 1)``).

    Args:
        shape (Sequence[int]): Mask shape, (N, 1, H, W).
        mask_ratio (float): Share of positions masked.
        device (torch.device): Where to draw.

    Returns:
        Tensor: Float mask of ``shape``, 1 = kept.
    """
    u = torch.rand(tuple(shape), device=device)
    return (u <= 1 - mask_ratio).float()


def center_keep_mask(shape: Sequence[int], device: torch.device) -> Tensor:
    """The official fixed mask: 0 on the central third of each side.

    Rows ``[H // 3, 2 * H // 3)`` times columns ``[W // 3, 2 * W // 3)``
    are masked (the official ``rand_mask=False``).

    Args:
        shape (Sequence[int]): Mask shape, (N, 1, H, W).
        device (torch.device): Where to build it.

    Returns:
        Tensor: Float mask of ``shape``, 1 = kept.
    """
    mask = torch.ones(tuple(shape), device=device)
    h, w = shape[-2:]
    mask[..., h // 3:2 * h // 3, w // 3:2 * w // 3] = 0
    return mask


def patch_group_tokens(x: Tensor, groups: int,
                       patch_size: Sequence[int]) -> Tensor:
    """Cut a map into patches of tokens; a token is one position of one
    channel group.

    Args:
        x (Tensor): Map of shape (N, C, H, W); ``C`` divisible by
            ``groups``, ``H`` and ``W`` by the patch size.
        groups (int): Channel groups ``M``.
        patch_size (Sequence[int]): ``(ph, pw)``.

    Returns:
        Tensor: Shape (N * H/ph * W/pw, ph * pw * M, C / M); token
        ``k * M + m`` of a patch is group ``m`` at its ``k``-th position
        (row-major), as the official ``_to_ctr_format``.
    """
    n, c, h, w = x.shape
    ph, pw = patch_size
    x = x.reshape(n, groups, c // groups, h // ph, ph, w // pw, pw)
    x = x.permute(0, 3, 5, 4, 6, 1, 2)  # n, h/ph, w/pw, ph, pw, M, C/M
    return x.reshape(n * (h // ph) * (w // pw), ph * pw * groups, c // groups)


def check_contrast_sizes(channels: int, height: int, width: int, groups: int,
                         patch_size: Sequence[int], pool_size: int) -> None:
    """Raise a ValueError naming the fix if a map cannot be cut.

    Args:
        channels (int): Channels ``C`` of the (teacher-sized) map.
        height (int): Map height before pooling.
        width (int): Map width before pooling.
        groups (int): Channel groups ``M``.
        patch_size (Sequence[int]): ``(ph, pw)``.
        pool_size (int): Max-pooling window and stride (0: none).
    """
    if channels % groups:
        raise ValueError(
            f'Af-DCD splits the {channels} teacher channels into groups='
            f'{groups} equal groups: choose groups dividing {channels}.')
    h, w = (height // pool_size, width // pool_size) if pool_size else (height,
                                                                        width)
    ph, pw = patch_size
    if h < ph or w < pw or h % ph or w % pw:
        raise ValueError(
            f'Af-DCD cuts the {height}x{width} feature map, max-pooled by '
            f'pool_size={pool_size} to {h}x{w}, into {ph}x{pw} patches: '
            'choose pool_size and patch_size so that the pooled size is a '
            'multiple of the patch size (the official code uses pool 4 and '
            'patches 4x4 on 64x128 Cityscapes features).')


def omni_contrastive_loss(preds_S: Tensor,
                          preds_T: Tensor,
                          tau: float = 0.07,
                          groups: int = 16,
                          patch_size: Sequence[int] = (4, 4),
                          pool_size: int = 4) -> Tensor:
    """Af-DCD's omni-contrastive term.

    Both maps are max-pooled (``pool_size``; 0 = none) and cut into
    tokens (:func:`patch_group_tokens`). In each patch, with
    ``s(i, j) = -||x_S(i) - x_T(j)||_1 / tau`` over the tokens' channels,
    token ``i`` of the student has the teacher's token ``i`` as positive and
    the teacher's tokens of the *other* channel groups (any position of the
    patch) as negatives::

        l(i) = -s(i, i) + log(exp s(i, i) + sum_{j: g(j) != g(i)} exp s(i, j))
        loss = sum_{patches, i} l(i) / (N * H' * W')

    with ``H' x W'`` the pooled size; the sum runs over all ``M`` groups (no
    mean over them), as the official code.

    Args:
        preds_S (Tensor): Projected student map of shape (N, C, H, W).
        preds_T (Tensor): Teacher map of shape (N, C, H, W); detached.
        tau (float): Temperature. Defaults to 0.07.
        groups (int): Channel groups ``M``. Defaults to 16.
        patch_size (Sequence[int]): ``(ph, pw)``. Defaults to (4, 4).
        pool_size (int): Max-pooling window and stride. Defaults to 4.

    Returns:
        Tensor: Scalar float32 loss (float64 for float64 inputs).
    """
    x_s, x_t = at_least_float32(preds_S), at_least_float32(preds_T.detach())
    check_contrast_sizes(x_t.shape[1], x_t.shape[2], x_t.shape[3], groups,
                         patch_size, pool_size)
    if pool_size:
        x_s, x_t = F.max_pool2d(x_s, pool_size), F.max_pool2d(x_t, pool_size)
    n, _, h, w = x_s.shape
    tok_s = patch_group_tokens(x_s, groups, patch_size)
    tok_t = patch_group_tokens(x_t, groups, patch_size)
    sim = -torch.cdist(tok_s, tok_t, p=1) / tau  # patches, K, K
    k = sim.shape[-1]
    group = torch.arange(k, device=sim.device) % groups
    same_group = group[:, None] == group[None, :]
    excluded = same_group & ~torch.eye(k, dtype=torch.bool, device=sim.device)
    # log-softmax, not logsumexp - diagonal: the similarities are large
    # (L1 distances / 0.07) and their difference would lose float32 digits
    log_p = sim.masked_fill(excluded, float('-inf')).log_softmax(-1)
    return -log_p.diagonal(dim1=-2, dim2=-1).sum() / (n * h * w)


def afdcd_losses(projected_S: Tensor,
                 preds_T: Tensor,
                 tau: float = 0.07,
                 groups: int = 16,
                 patch_size: Sequence[int] = (4, 4),
                 pool_size: int = 4) -> Tuple[Tensor, Tensor]:
    """Af-DCD's two terms on the projected, masked student map.

    ::

        fd  = sum (projected_S - preds_T)^2 / N      # feature mimicking
        ctr = omni_contrastive_loss(projected_S, preds_T, ...)

    Args:
        projected_S (Tensor): Student map after mask and projector,
            (N, C, H, W).
        preds_T (Tensor): Teacher map of shape (N, C, H, W); detached.
        tau (float): Temperature. Defaults to 0.07.
        groups (int): Channel groups. Defaults to 16.
        patch_size (Sequence[int]): Defaults to (4, 4).
        pool_size (int): Defaults to 4.

    Returns:
        tuple[Tensor, Tensor]: ``(fd, ctr)``, unweighted float32 scalars
        (float64 for float64 inputs).
    """
    n = projected_S.shape[0]
    diff = at_least_float32(projected_S) - at_least_float32(preds_T.detach())
    fd = diff.pow(2).sum() / n
    ctr = omni_contrastive_loss(projected_S, preds_T, tau, groups, patch_size,
                                pool_size)
    return fd, ctr
