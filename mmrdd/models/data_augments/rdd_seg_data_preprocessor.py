# Copyright (c) mmrdd contributors. All rights reserved.
"""MMSeg's data preprocessor with working ``batch_augments``."""
from typing import Any, List, Optional, Sequence, Tuple

from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from torch import Tensor


class RDDBatchAugments:
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


@MODELS.register_module()
class RDDSegDataPreProcessor(SegDataPreProcessor):
    """``SegDataPreProcessor`` whose ``batch_augments`` list is built.

    MMSeg 1.2.2 documents ``batch_augments (list[dict])`` but stores the list
    unbuilt ("TODO: support batch augmentations") and then calls it as
    ``self.batch_augments(inputs, data_samples)``, so any list fails. This
    class builds the configs (MMSeg ``MODELS``, e.g.
    :class:`~mmrdd.models.RDDSegCutMix`) and applies them in order, on
    training batches only, after normalisation and padding to ``size``
    exactly where MMSeg calls them. Everything else is MMSeg's.

    In a distillation config the algorithm's preprocessor (the student's,
    unless ``model.data_preprocessor`` is set) runs before the teacher and
    the student, so both see the augmented batch. A top-level
    ``data_preprocessor`` is injected into the MMRazor-scoped algorithm by
    the Runner: write the type as ``'mmseg.RDDSegDataPreProcessor'``.

    Args:
        batch_augments (list[dict], optional): Batch augmentation configs.
            Defaults to None.
        **kwargs: The other arguments of ``SegDataPreProcessor``.
    """

    def __init__(self,
                 *args,
                 batch_augments: Optional[List[dict]] = None,
                 **kwargs) -> None:
        super().__init__(*args, batch_augments=None, **kwargs)
        if batch_augments:
            self.batch_augments = RDDBatchAugments(batch_augments)
