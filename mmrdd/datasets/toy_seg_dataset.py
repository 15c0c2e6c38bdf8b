# Copyright (c) mmrdd contributors. All rights reserved.
"""MMSeg data set class of the synthetic ``ToySeg`` data set."""
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .toy_generator import CLASSES, PALETTE


@DATASETS.register_module()
class ToySegDataset(BaseSegDataset):
    """The synthetic toy data set written by
    :func:`mmrdd.datasets.generate_toy_dataset` (or
    ``tools/misc/make_toy_dataset.py``).

    Eight classes (see :data:`mmrdd.datasets.toy_generator.CLASSES`), images
    ``img_dir/{split}/*.png`` and label maps ``ann_dir/{split}/*.png`` with
    255 as the ignore index; label 0 (``background``) is a real class, so
    ``reduce_zero_label`` is False.

    Args:
        img_suffix (str): Suffix of the images. Defaults to '.png'.
        seg_map_suffix (str): Suffix of the label maps. Defaults to '.png'.
        reduce_zero_label (bool): Defaults to False.
        **kwargs: Passed to :class:`mmseg.datasets.BaseSegDataset`.
    """
    METAINFO = dict(classes=CLASSES, palette=PALETTE)

    def __init__(self,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 reduce_zero_label: bool = False,
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)
