# Copyright (c) mmrdd contributors. All rights reserved.
"""The random source of the batch augmentations."""
from typing import Optional

import torch
from mmengine.dist import get_rank

from mmrdd.arg_checks import is_int


class RankSeededGenerator:
    """torch's global RNG, or a private generator seeded with seed + rank.

    The private generator is created at first use, when the process group
    (and so the rank) is known.

    Args:
        owner (str): Name of the augmentation, for the error message.
        seed (int, optional): The seed; None uses torch's global RNG.
    """

    def __init__(self, owner: str, seed: Optional[int]) -> None:
        if seed is not None and not is_int(seed):
            raise TypeError(f'{owner}: seed must be an int or None, got '
                            f'{seed!r}.')
        self.seed = seed
        self._generator: Optional[torch.Generator] = None

    def get(self) -> Optional[torch.Generator]:
        """The private generator (None for torch's global RNG)."""
        if self.seed is not None and self._generator is None:
            self._generator = torch.Generator().manual_seed(self.seed +
                                                            get_rank())
        return self._generator
