# Copyright (c) mmrdd contributors. All rights reserved.
"""Teacher-only statistics of an augmentation for KD (pure functions).

Wang et al., "What Makes a 'Good' Data Augmentation in Knowledge
Distillation -- A Statistical Perspective", NeurIPS 2022 (arXiv 2012.02909
v3): the lower the standard deviation of the teacher's mean probability
over sampled subsets of the training inputs ("T. stddev"), the lower the
student's test loss.
"""
import torch
from torch import Tensor

from .kd_pick import pixel_entropy


def mean_probability(logits: Tensor) -> Tensor:
    """The teacher's mean class probability over all pixels of a subset.

    Args:
        logits (Tensor): (N, C, h, w), the teacher's logits on the N images
            of one subset.

    Returns:
        Tensor: (C, ) float32, ``mean_{n, p} softmax(logits)[n, :, p]``.
    """
    return torch.softmax(logits.float(), dim=1).mean(dim=(0, 2, 3))


def t_stddev(mean_probs: Tensor) -> Tensor:
    """T. stddev: per-class std of the subsets' mean probability, averaged.

    As the official code (``helper/loops.py``, ``check_ce_var``): the
    unbiased standard deviation over the G subsets, for each class, then
    the mean over the C classes.

    Args:
        mean_probs (Tensor): (G, C), one :func:`mean_probability` per
            subset, G >= 2.

    Returns:
        Tensor: 0-d float32.
    """
    return mean_probs.float().std(dim=0, unbiased=True).mean()


def mean_entropy(logits: Tensor) -> Tensor:
    """Mean per-pixel teacher entropy (nats) of a batch.

    Args:
        logits (Tensor): (N, C, h, w).

    Returns:
        Tensor: 0-d float32.
    """
    return pixel_entropy(logits).mean()
