# Copyright (c) mmrdd contributors. All rights reserved.
"""Mixup for segmentation batches (pure tensor functions).

Zhang et al., "mixup: Beyond Empirical Risk Minimization", ICLR 2018
(arXiv 1710.09412), teacher-labelled as in Wang et al., "Knowledge
Distillation Thrives on Data Augmentation", arXiv 2012.02909: the images
are blended pixel-wise, the teacher labels the blend, and the task loss is
the lambda-weighted sum of the losses on the two label maps.
"""
from typing import NamedTuple, Optional

import torch
from torch import Tensor

from .cutmix import _beta


class SegMixupParams(NamedTuple):
    """What :func:`mixup_params` draws for one batch.

    Attributes:
        lam (float): The weight of each sample's own image and labels, in
            [0, 1]; one value for the batch.
        partner (Tensor): Index of each sample's partner, (N, ) int64; a
            sample that is not mixed is its own partner.
    """
    lam: float
    partner: Tensor


def mixup_params(
        batch_size: int,
        alpha: float = 1.0,
        prob: float = 1.0,
        generator: Optional[torch.Generator] = None) -> SegMixupParams:
    """Draw mixup's weight and partners for a batch.

    ``lam ~ Beta(alpha, alpha)``, once per batch (as mixup's reference code
    and the KD paper's code). Each sample is mixed with probability
    ``prob``; partners of mixed samples follow one random cycle through the
    batch (never the sample itself when ``batch_size > 1``); unmixed
    samples, and a batch of one, are their own partners.

    Args:
        batch_size (int): N.
        alpha (float): Beta parameter, > 0. Defaults to 1.0.
        prob (float): Probability that a sample is mixed. Defaults to 1.0.
        generator (torch.Generator, optional): Source of randomness (CPU).
            Defaults to None: torch's global RNG.

    Returns:
        SegMixupParams: ``lam`` and the partners.
    """
    order = torch.randperm(batch_size, generator=generator)
    cycle = torch.empty_like(order)
    cycle[order] = order.roll(-1)
    apply = torch.rand(batch_size, generator=generator) < prob
    lam = float(_beta(alpha, 1, generator)[0])
    if batch_size < 2:
        apply[:] = False
    partner = torch.where(apply, cycle, torch.arange(batch_size))
    return SegMixupParams(lam, partner)


def mix_images(inputs: Tensor, lam: float, partner: Tensor) -> Tensor:
    """``lam * x_i + (1 - lam) * x_partner(i)``; unmixed samples unchanged.

    Args:
        inputs (Tensor): Images, (N, C, H, W).
        lam (float): Weight of the own image.
        partner (Tensor): (N, ) int64.

    Returns:
        Tensor: The blended images, (N, C, H, W).
    """
    partner = partner.to(inputs.device)
    own = partner == torch.arange(inputs.shape[0], device=inputs.device)
    mixed = inputs * lam + inputs[partner] * (1.0 - lam)
    return torch.where(own.view(-1, 1, 1, 1), inputs, mixed)
