# Copyright (c) mmrdd contributors. All rights reserved.
"""CutMix for segmentation batches (pure tensor functions).

Yun et al., "CutMix: Regularization Strategy to Train Strong Classifiers with
Localizable Features", ICCV 2019 (arXiv 1905.04899); applied to segmentation
distillation as in Wang et al., "Knowledge Distillation Thrives on Data
Augmentation", arXiv 2012.02909: the teacher labels whatever the student
sees, so the KD targets follow the mixed images.
"""
from typing import NamedTuple, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor


class SegCutMixResult(NamedTuple):
    """What :func:`seg_cutmix` returns.

    Attributes:
        inputs (Tensor): Mixed images, (N, C, H, W).
        labels (Tensor): Mixed label maps, the shape of the given labels.
        masks (Tensor): Pasted boxes, (N, H, W) bool: True where a pixel
            comes from the partner.
        partner (Tensor): Index of each sample's partner, (N, ) int64.
    """
    inputs: Tensor
    labels: Tensor
    masks: Tensor
    partner: Tensor


def _beta(alpha: float, num: int,
          generator: Optional[torch.Generator]) -> Tensor:
    """``num`` draws of Beta(alpha, alpha), reproducible from ``generator``.

    torch has no Beta sampler that takes a generator, so a NumPy generator is
    seeded from one draw of the torch generator (or of torch's global RNG).
    """
    seed = int(torch.randint(0, 2**62, (1, ), generator=generator))
    lam = np.random.default_rng(seed).beta(alpha, alpha, size=num)
    return torch.from_numpy(lam)


def cutmix_boxes(
        batch_size: int,
        size: Sequence[int],
        alpha: float = 1.0,
        prob: float = 1.0,
        generator: Optional[torch.Generator] = None) -> Tuple[Tensor, Tensor]:
    """Draw CutMix boxes and partners for a batch.

    Each sample is mixed with probability ``prob``. A mixed sample draws
    ``lam ~ Beta(alpha, alpha)`` and a box of side ratio ``sqrt(1 - lam)``
    centred uniformly in the image, clipped to it (CutMix's ``rand_bbox``,
    so the pasted area is ``1 - lam`` before clipping). Partners form one
    random cycle through the batch, so no sample is its own partner when
    ``batch_size > 1``; a batch of one is never mixed.

    Args:
        batch_size (int): N.
        size (Sequence[int]): (H, W).
        alpha (float): Beta parameter, > 0; 1 draws the area uniformly.
            Defaults to 1.0.
        prob (float): Probability that a sample is mixed. Defaults to 1.0.
        generator (torch.Generator, optional): Source of randomness (a CPU
            generator). Defaults to None: torch's global RNG.

    Returns:
        tuple[Tensor, Tensor]: Boxes (N, 4) int64 as (y1, x1, y2, x2),
        half-open, empty (all 0) for unmixed samples; partners (N, ) int64.
    """
    if alpha <= 0:
        raise ValueError(f'CutMix alpha must be > 0, got {alpha}.')
    if not 0 <= prob <= 1:
        raise ValueError(f'CutMix prob must be in [0, 1], got {prob}.')
    h, w = int(size[0]), int(size[1])
    # Draw everything, whatever prob is, so that one seed gives one stream.
    order = torch.randperm(batch_size, generator=generator)
    partner = torch.empty_like(order)
    partner[order] = order.roll(-1)
    apply = torch.rand(batch_size, generator=generator) < prob
    lam = _beta(alpha, batch_size, generator)
    cy = torch.randint(0, h, (batch_size, ), generator=generator)
    cx = torch.randint(0, w, (batch_size, ), generator=generator)
    if batch_size < 2:
        apply[:] = False
    ratio = torch.sqrt(1.0 - lam)
    half_h = (h * ratio).long() // 2
    half_w = (w * ratio).long() // 2
    boxes = torch.stack([(cy - half_h).clamp(0, h), (cx - half_w).clamp(0, w),
                         (cy + half_h).clamp(0, h), (cx + half_w).clamp(0, w)],
                        dim=1)
    boxes[~apply] = 0
    return boxes, partner


def box_masks(boxes: Tensor,
              size: Sequence[int],
              device: Optional[torch.device] = None) -> Tensor:
    """Rasterise half-open boxes (y1, x1, y2, x2) into (N, H, W) bool masks.

    Args:
        boxes (Tensor): (N, 4) integer boxes.
        size (Sequence[int]): (H, W).
        device (torch.device, optional): Device of the masks. Defaults to the
            device of ``boxes``.

    Returns:
        Tensor: (N, H, W) bool, True inside the box.
    """
    boxes = boxes.to(device or boxes.device)
    ys = torch.arange(int(size[0]), device=boxes.device)
    xs = torch.arange(int(size[1]), device=boxes.device)
    in_y = (ys[None] >= boxes[:, 0:1]) & (ys[None] < boxes[:, 2:3])
    in_x = (xs[None] >= boxes[:, 1:2]) & (xs[None] < boxes[:, 3:4])
    return in_y[:, :, None] & in_x[:, None, :]


def paste_boxes(x: Tensor, masks: Tensor, partner: Tensor) -> Tensor:
    """``where(masks, x[partner], x)``, masks broadcast over middle dims.

    Args:
        x (Tensor): (N, ..., H, W), e.g. images (N, C, H, W) or label maps
            (N, H, W) / (N, 1, H, W).
        masks (Tensor): (N, H, W) bool.
        partner (Tensor): (N, ) int64.

    Returns:
        Tensor: ``x`` with the partner's pixels inside the boxes.
    """
    if x.dim() < 3 or x.shape[0] != masks.shape[0] or \
            tuple(x.shape[-2:]) != tuple(masks.shape[-2:]):
        raise ValueError(f'cannot paste (N, H, W) boxes {tuple(masks.shape)} '
                         f'into a tensor of shape {tuple(x.shape)}.')
    masks = masks.to(x.device).view(masks.shape[0], *([1] * (x.dim() - 3)),
                                    *masks.shape[-2:])
    return torch.where(masks, x[partner.to(x.device)], x)


def seg_cutmix(inputs: Tensor,
               labels: Tensor,
               alpha: float = 1.0,
               prob: float = 1.0,
               generator: Optional[torch.Generator] = None) -> SegCutMixResult:
    """CutMix a segmentation batch: images and label maps, same boxes.

    For each mixed sample ``i`` with partner ``j`` and box ``B_i``::

        x'_i = where(B_i, x_j, x_i)        y'_i = where(B_i, y_j, y_i)

    Pixels are copied, never blended, so labels stay exact: ignored pixels
    (255, padding) travel with their image pixels. Partners are read from
    the unmixed batch.

    Args:
        inputs (Tensor): Images, (N, C, H, W).
        labels (Tensor): Label maps, (N, H, W) or (N, 1, H, W).
        alpha (float): Beta parameter of the box area. Defaults to 1.0.
        prob (float): Probability that a sample is mixed. Defaults to 1.0.
        generator (torch.Generator, optional): See :func:`cutmix_boxes`.
            Defaults to None (torch's global RNG).

    Returns:
        SegCutMixResult: Mixed inputs and labels, the box masks, partners.
    """
    if inputs.dim() != 4:
        raise ValueError(f'inputs must be (N, C, H, W), got '
                         f'{tuple(inputs.shape)}.')
    n, _, h, w = inputs.shape
    if labels.dim() not in (3, 4) or labels.shape[0] != n or \
            tuple(labels.shape[-2:]) != (h, w):
        raise ValueError(
            f'labels must be (N, H, W) or (N, 1, H, W) matching inputs '
            f'{tuple(inputs.shape)}, got {tuple(labels.shape)}.')
    boxes, partner = cutmix_boxes(n, (h, w), alpha, prob, generator)
    masks = box_masks(boxes, (h, w), inputs.device)
    partner = partner.to(inputs.device)
    return SegCutMixResult(
        paste_boxes(inputs, masks, partner),
        paste_boxes(labels, masks, partner), masks, partner)
