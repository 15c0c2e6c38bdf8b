# Copyright (c) mmrdd contributors. All rights reserved.
"""What the pairwise-mixing batch augmentations share."""
from typing import Optional

import torch

from mmrdd.arg_checks import is_number
from .rank_seeded_generator import RankSeededGenerator


class MixBatchAugment:
    """Base of the batch augmentations that mix each sample with a partner.

    Checks the two parameters every such augmentation has, once, and owns
    its random source (:class:`RankSeededGenerator`). Subclasses
    (:class:`~mmrdd.models.SegCutMix`, :class:`~mmrdd.models.SegMixup`)
    implement ``__call__(inputs, data_samples)``.

    Args:
        prob (float): Probability that a sample is mixed, in [0, 1].
        alpha (float): Beta parameter of the mixing ratio, > 0.
        seed (int, optional): Seed of a private generator (seeded with
            ``seed + rank`` at first use); None uses torch's global RNG.
    """

    def __init__(self, prob: float, alpha: float, seed: Optional[int]) -> None:
        name = type(self).__name__
        if not is_number(prob) or not 0 <= prob <= 1:
            raise ValueError(f'{name}: prob must be in [0, 1], got {prob!r}.')
        if not is_number(alpha) or alpha <= 0:
            raise ValueError(f'{name}: alpha must be > 0, got {alpha!r}.')
        self.prob = float(prob)
        self.alpha = float(alpha)
        self.seed = seed
        self._rng = RankSeededGenerator(name, seed)

    @property
    def generator(self) -> Optional[torch.Generator]:
        """The private generator, created at first use; None for global."""
        return self._rng.get()
