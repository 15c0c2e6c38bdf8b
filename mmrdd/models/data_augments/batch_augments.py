# Copyright (c) mmrdd contributors. All rights reserved.
"""A callable list of built batch augmentations."""
from typing import Any, List, Sequence, Tuple

from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from torch import Tensor


class BatchAugments:
    """Apply built batch augmentations in order (a callable list).

    Args:
        augments (Sequence[dict | callable]): Configs (built in MMSeg's
            ``MODELS`` and scope unless they name another ``_scope_``) or
            callables ``(inputs, data_samples) -> (inputs,
            data_samples)``.
    """

    def __init__(self, augments: Sequence[Any]) -> None:
        # built in MMSeg's scope even inside an MMRazor-scoped algorithm
        self.augments = [
            MODELS.build(dict(dict(
                _scope_='mmseg'), **a)) if isinstance(a, dict) else a
            for a in augments
        ]
        for aug in self.augments:
            if not callable(aug):
                raise TypeError(f'batch augmentation {aug!r} is not callable.')

    def __call__(
        self, inputs: Tensor, data_samples: List[SegDataSample]
    ) -> Tuple[Tensor, List[SegDataSample]]:
        for aug in self.augments:
            inputs, data_samples = aug(inputs, data_samples)
        return inputs, data_samples

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.augments})'
