# Copyright (c) mmrdd contributors. All rights reserved.
"""Tiny fake copies of the four data sets in their real on-disk formats.

File names, folders, list files and label encodings are those that MMSeg's
data sets (and mmrdd's CamVid) read, as the official releases and MMSeg's
converters leave them; the images are small and their content is random
blocks. Each writer returns the folder to give as ``data_root``.

* Cityscapes: ``leftImg8bit/<split>/<city>/<city>_<seq>_<frame>``
  ``_leftImg8bit.png`` and, as MMSeg's
  ``tools/dataset_converters/cityscapes.py`` writes them,
  ``gtFine/<split>/<city>/..._gtFine_labelTrainIds.png`` (0-18, 255 void)
  beside the release's ``..._gtFine_labelIds.png`` (ids up to 33, which the
  data set must not read: the label check would stop the run).
* Pascal VOC 2012 + SBD aug: ``JPEGImages/*.jpg``, ``SegmentationClass/*.png``
  (palette PNGs, 255 on object borders), ``SegmentationClassAug/*.png``
  (grey PNGs, ``tools/dataset_converters/voc_aug.py``) and
  ``ImageSets/Segmentation/{train,val,aug}.txt``.
* ADE20K: ``images/{training,validation}/ADE_*.jpg`` and
  ``annotations/.../ADE_*.png`` with 0 = "other" and 1-150 the classes
  (``reduce_zero_label``).
* CamVid (SegNet): ``{train,val,test}/`` and ``*annot/`` PNGs with ids 0-10
  and 11 = void, and SegNet's two-column lists with ``/SegNet/CamVid/`` paths.
"""
import os
import os.path as osp
from typing import Tuple

import numpy as np
from PIL import Image


def _label(rng: np.random.Generator, size: Tuple[int, int], low: int,
           high: int) -> np.ndarray:
    """A label map of four random blocks of classes in [low, high]."""
    h, w = size
    label = np.empty((h, w), np.uint8)
    classes = rng.integers(low, high + 1, size=4)
    label[:h // 2, :w // 2], label[:h // 2, w // 2:] = classes[:2]
    label[h // 2:, :w // 2], label[h // 2:, w // 2:] = classes[2:]
    return label


def _image(rng: np.random.Generator, label: np.ndarray) -> np.ndarray:
    """An RGB image whose colour follows the label, plus noise."""
    colours = rng.integers(0, 256, size=(256, 3))
    noise = rng.integers(-20, 21, size=label.shape + (3, ))
    return np.clip(colours[label] + noise, 0, 255).astype(np.uint8)


def _save(array: np.ndarray, path: str, palette=None) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    img = Image.fromarray(array)
    if palette is not None:  # an 'L' image becomes 'P', values kept
        img.putpalette(palette)
    img.save(path)


def write_cityscapes(root: str, size=(64, 128), seed=0) -> str:
    """Cityscapes after MMSeg's converter: trainIds next to labelIds."""
    rng = np.random.default_rng(seed)
    cities = dict(train=('aachen', 'bremen'), val=('frankfurt', ))
    for split in cities:
        for city in cities[split]:
            for frame in range(2):
                stem = f'{city}_000000_{frame:06d}'
                train_ids = _label(rng, size, 0, 18)
                train_ids[:, :2] = 255  # the ego-vehicle border: void
                _save(
                    _image(rng, train_ids),
                    osp.join(root, 'leftImg8bit', split, city,
                             f'{stem}_leftImg8bit.png'))
                gt = osp.join(root, 'gtFine', split, city, stem)
                _save(train_ids, f'{gt}_gtFine_labelTrainIds.png')
                # the release's ids (0 unlabelled, 7 road, ..., 33 bicycle)
                label_ids = np.where(train_ids == 255, 0, train_ids + 15)
                _save(label_ids.astype(np.uint8), f'{gt}_gtFine_labelIds.png')
    return root


def _voc_palette() -> list:
    """The PASCAL VOC colour map (bit-interleaved class ids)."""
    palette = []
    for i in range(256):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        palette += [r, g, b]
    return palette


def write_voc_aug(root: str, size=(32, 48), seed=0) -> str:
    """``VOCdevkit/VOC2012`` with SBD's aug labels; returns ``VOC2012``."""
    rng = np.random.default_rng(seed)
    voc = osp.join(root, 'VOCdevkit', 'VOC2012')
    lists = dict(
        train=['2007_000032', '2007_000039'],
        val=['2007_000033', '2007_000042'],
        # SBD's images that are in neither VOC list (the converter's aug.txt)
        aug=['2008_000002', '2008_000003'])
    palette = _voc_palette()
    for name in sorted({n for names in lists.values() for n in names}):
        label = _label(rng, size, 0, 20)
        _save(_image(rng, label), osp.join(voc, 'JPEGImages', name + '.jpg'))
        # SBD's conversion: no border class
        _save(label, osp.join(voc, 'SegmentationClassAug', name + '.png'))
        if name.startswith('2007'):  # VOC 2012's own, borders 255
            border = label.copy()
            border[size[0] // 2, :] = 255
            _save(border, osp.join(voc, 'SegmentationClass', name + '.png'),
                  palette)
    os.makedirs(osp.join(voc, 'ImageSets', 'Segmentation'), exist_ok=True)
    for split, names in lists.items():
        with open(
                osp.join(voc, 'ImageSets', 'Segmentation', split + '.txt'),
                'w') as f:
            f.write('\n'.join(names) + '\n')
    return voc


def write_ade20k(root: str, size=(32, 48), seed=0) -> str:
    """``ade/ADEChallengeData2016``; returns that folder."""
    rng = np.random.default_rng(seed)
    ade = osp.join(root, 'ade', 'ADEChallengeData2016')
    for split, prefix in (('training', 'ADE_train'), ('validation',
                                                      'ADE_val')):
        for i in range(1, 3 if split == 'validation' else 5):
            name = f'{prefix}_{i:08d}'
            label = _label(rng, size, 0, 150)
            label[0, :] = 0  # 'other', ignored after reduce_zero_label
            label[-1, :] = 150  # the last class: out of range without it
            _save(
                _image(rng, label),
                osp.join(ade, 'images', split, name + '.jpg'))
            _save(label, osp.join(ade, 'annotations', split, name + '.png'))
    return ade


def write_camvid(root: str, size=(45, 60), seed=0) -> str:
    """SegNet's ``CamVid`` folder with its lists; returns that folder."""
    rng = np.random.default_rng(seed)
    camvid = osp.join(root, 'CamVid')
    for split, count in (('train', 4), ('val', 2), ('test', 2)):
        lines = []
        for i in range(count):
            name = f'0001TP_{split}{i:03d}.png'
            label = _label(rng, size, 0, 10)
            label[:, 0] = 11  # void
            _save(_image(rng, label), osp.join(camvid, split, name))
            _save(label, osp.join(camvid, split + 'annot', name))
            lines.append(f'/SegNet/CamVid/{split}/{name} '
                         f'/SegNet/CamVid/{split}annot/{name}')
        with open(osp.join(camvid, split + '.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    return camvid
