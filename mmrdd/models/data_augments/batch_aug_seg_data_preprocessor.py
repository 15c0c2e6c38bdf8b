# Copyright (c) mmrdd contributors. All rights reserved.
"""MMSeg's data preprocessor with working ``batch_augments``."""
from typing import List, Optional

from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS

from .batch_augments import BatchAugments


@MODELS.register_module()
class BatchAugSegDataPreProcessor(SegDataPreProcessor):
    """``SegDataPreProcessor`` whose ``batch_augments`` list is built.

    MMSeg 1.2.2 documents ``batch_augments (list[dict])`` but stores the list
    unbuilt ("TODO: support batch augmentations") and then calls it as
    ``self.batch_augments(inputs, data_samples)``, so any list fails. This
    class builds the configs (MMSeg ``MODELS``, e.g.
    :class:`~mmrdd.models.SegCutMix`) and applies them in order, on
    training batches only, after normalisation and padding to ``size``
    exactly where MMSeg calls them. Everything else is MMSeg's.

    In a distillation config the algorithm's preprocessor (the student's,
    unless ``model.data_preprocessor`` is set) runs before the teacher and
    the student, so both see the augmented batch. A top-level
    ``data_preprocessor`` is injected into the MMRazor-scoped algorithm by
    the Runner: write the type as ``'mmseg.BatchAugSegDataPreProcessor'``.

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
            self.batch_augments = BatchAugments(batch_augments)


#: the name of mmrdd 0.2
MODELS.register_module(
    name='RDDSegDataPreProcessor', module=BatchAugSegDataPreProcessor)
