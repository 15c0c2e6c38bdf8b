# Copyright (c) mmrdd contributors. All rights reserved.
"""CamVidDataset on a tiny folder in SegNet's CamVid layout."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmcv import imwrite
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmseg.registry import DATASETS
from mmseg.utils import register_all_modules

import mmrdd  # noqa: F401
from mmrdd.datasets import CamVidDataset

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SPLITS = dict(train=3, val=2, test=1)
H, W = 36, 48


@pytest.fixture(autouse=True)
def mmseg_scope():
    """Pipelines resolve ``LoadAnnotations`` etc. in MMSeg's scope; the
    global default scope is restored afterwards."""
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield


def label_map(seed):
    """Ids 0-10 in bands, a void (11) block top left."""
    rng = np.random.default_rng(seed)
    lab = np.repeat(rng.integers(0, 11, size=(H, 1)), W, axis=1)
    lab[:6, :8] = 11
    return lab.astype(np.uint8)


@pytest.fixture(scope='module')
def camvid_root(tmp_path_factory):
    """SegNet layout; train.txt with SegNet's absolute /SegNet/CamVid/ paths,
    val.txt relative, test.txt absent (directory scan)."""
    root = tmp_path_factory.mktemp('CamVid')
    rng = np.random.default_rng(0)
    for split, n in SPLITS.items():
        lines = []
        for i in range(n):
            name = f'0001TP_{i:06d}.png'
            img = rng.integers(0, 256, size=(H, W, 3), dtype=np.uint8)
            imwrite(img, str(root / split / name))
            imwrite(label_map(i), str(root / f'{split}annot' / name))
            prefix = '/SegNet/CamVid/' if split == 'train' else ''
            lines.append(f'{prefix}{split}/{name} {prefix}{split}annot/{name}')
        if split != 'test':
            (root / f'{split}.txt').write_text('\n'.join(lines) + '\n')
    return str(root)


def test_metainfo():
    meta = CamVidDataset.METAINFO
    assert len(meta['classes']) == 11 and len(meta['palette']) == 11
    assert meta['classes'][0] == 'Sky' and meta['classes'][10] == 'Bicyclist'
    assert CamVidDataset.get_label_map() == {11: 255}
    # a class subset keeps MMSeg's mapping, void still ignored
    sub = CamVidDataset.get_label_map(['Road', 'Car'])
    assert sub[3] == 0 and sub[8] == 1 and sub[0] == 255 and sub[11] == 255


@pytest.mark.parametrize('split', ['train', 'val'])
def test_two_column_lists(camvid_root, split):
    ds = CamVidDataset(data_root=camvid_root, ann_file=f'{split}.txt')
    assert len(ds) == SPLITS[split]
    info = ds.get_data_info(0)
    assert info['img_path'] == osp.join(camvid_root, split,
                                        '0001TP_000000.png')
    assert info['seg_map_path'] == osp.join(camvid_root, f'{split}annot',
                                            '0001TP_000000.png')
    assert osp.isfile(info['img_path']) and osp.isfile(info['seg_map_path'])


def test_data_prefix_scan(camvid_root):
    ds = CamVidDataset(
        data_root=camvid_root,
        data_prefix=dict(img_path='test', seg_map_path='testannot'))
    assert len(ds) == SPLITS['test']


def test_bad_list_line(camvid_root, tmp_path):
    bad = tmp_path / 'bad.txt'
    bad.write_text('train/a.png trainannot/a.png\ntrain/b.png\n')
    with pytest.raises(ValueError, match='line 2'):
        CamVidDataset(data_root=camvid_root, ann_file=str(bad))


def test_void_label_is_ignored(camvid_root):
    ds = CamVidDataset(
        data_root=camvid_root,
        ann_file='val.txt',
        pipeline=[dict(type='LoadAnnotations')])
    for i in range(len(ds)):
        gt = ds[i]['gt_seg_map']
        raw = label_map(i)
        assert (gt[raw == 11] == 255).all()
        np.testing.assert_array_equal(gt[raw != 11], raw[raw != 11])
        assert 11 not in np.unique(gt)


def test_config_pipelines(camvid_root):
    cfg = Config.fromfile(osp.join(ROOT, 'configs/_base_/datasets/camvid.py'))
    assert cfg.crop_size == (360, 480)
    for loader, split in (('train_dataloader', 'train'),
                          ('val_dataloader', 'val'), ('test_dataloader',
                                                      'test')):
        ds_cfg = cfg[loader].dataset.copy()
        ds_cfg.data_root = camvid_root
        if split == 'test':  # the fixture has no test.txt: scan the folder
            ds_cfg.pop('ann_file')
            ds_cfg.data_prefix = dict(
                img_path='test', seg_map_path='testannot')
        ds = DATASETS.build(ds_cfg)
        assert len(ds) == SPLITS[split]
        for _ in range(3 if split == 'train' else 1):
            sample = ds[0]
            img = sample['inputs']
            gt = sample['data_samples'].gt_sem_seg.data
            assert img.dtype == torch.uint8 and img.shape[0] == 3
            values = set(gt.unique().tolist())
            assert values <= set(range(11)) | {255}
            assert 11 not in values
            if split == 'train':
                # rescaled 0.5-2.0 from 360x480, cropped to at most 360x480
                assert tuple(gt.shape[1:]) == tuple(img.shape[1:])
                assert img.shape[1] <= 360 and img.shape[2] <= 480
                assert img.shape[1] >= 180 or img.shape[2] >= 240
            else:
                # image resized to 360x480, labels at the original size
                assert tuple(img.shape[1:]) == (360, 480)
                assert tuple(gt.shape[1:]) == (H, W)
                meta = sample['data_samples'].metainfo
                assert tuple(meta['ori_shape']) == (H, W)
