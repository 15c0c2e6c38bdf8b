# Copyright (c) mmrdd contributors. All rights reserved.
"""Tests of the synthetic ToySeg data set: generator and MMSeg data set."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmrdd.datasets import ToySegDataset, generate_toy_dataset
from mmrdd.datasets.toy_generator import (BUSH, CLASSES, DESERT, MEADOW,
                                          PALETTE, ROCK, WIRE, _rng_for,
                                          dataset_checksum, draw_sample)

PARAMS = dict(num_train=4, num_val=3, num_test=3, size=64, seed=3)
TEACHER_CFG = 'configs/toy/deeplabv3_toy-r50-d8_1xb8-4k_toyseg-96x96.py'
STUDENT_CFG = 'configs/toy/deeplabv3_toy-r18-d8_1xb8-2k_toyseg-96x96.py'
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _files(root):
    """Relative paths of all PNG files under ``root``."""
    out = []
    for d, _, names in os.walk(root):
        out += [
            osp.relpath(osp.join(d, n), root) for n in names
            if n.endswith('.png')
        ]
    return sorted(out)


def _labels(root, split):
    """All label maps of a split, as a list of (H, W) uint8 arrays."""
    ann_dir = osp.join(root, 'ann_dir', split)
    return [
        cv2.imread(osp.join(ann_dir, n), cv2.IMREAD_UNCHANGED)
        for n in sorted(os.listdir(ann_dir))
    ]


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toyseg_a'))
    meta = generate_toy_dataset(root, **PARAMS)
    assert meta['skipped'] is False
    return root


def test_layout_and_determinism(toy_root, tmp_path):
    files = _files(toy_root)
    assert len(files) == 2 * (
        PARAMS['num_train'] + PARAMS['num_val'] + PARAMS['num_test'])
    assert 'img_dir/train/00000.png' in files
    assert 'ann_dir/val/00002.png' in files
    img = cv2.imread(osp.join(toy_root, 'img_dir/train/00000.png'))
    assert img.shape == (64, 64, 3) and img.dtype == np.uint8

    other = str(tmp_path / 'toyseg_b')
    meta_b = generate_toy_dataset(other, **PARAMS)
    assert _files(other) == files
    for rel in files:
        with open(osp.join(toy_root, rel), 'rb') as fa, \
                open(osp.join(other, rel), 'rb') as fb:
            assert fa.read() == fb.read(), rel
    # checksums: stored == recomputed, and equal across the two runs
    with open(osp.join(toy_root, 'meta.json')) as f:
        meta_a = json.load(f)
    for split in ('train', 'val', 'test'):
        assert meta_a['sha256'][split] == meta_b['sha256'][split]
        assert dataset_checksum(toy_root, split) == meta_a['sha256'][split]
    # another seed gives other data
    third = str(tmp_path / 'toyseg_c')
    meta_c = generate_toy_dataset(third, **dict(PARAMS, seed=4))
    assert meta_c['sha256']['train'] != meta_a['sha256']['train']


def test_test_split_is_held_out_and_leaves_train_val_alone(toy_root, tmp_path):
    # the same parameters without a test split: train and val byte for byte
    # the same (adding the split changed nothing the old runs saw)
    no_test = str(tmp_path / 'no_test')
    meta = generate_toy_dataset(no_test, **dict(PARAMS, num_test=0))
    with open(osp.join(toy_root, 'meta.json')) as f:
        meta_a = json.load(f)
    for split in ('train', 'val'):
        assert meta['sha256'][split] == meta_a['sha256'][split]
    assert os.listdir(osp.join(no_test, 'img_dir', 'test')) == []
    # test images come from their own stream: none equals a train or val
    # image of the same index
    for index in range(PARAMS['num_test']):
        test_img, _ = draw_sample(
            _rng_for(PARAMS['seed'], 'test', index), PARAMS['size'])
        saved = cv2.imread(osp.join(toy_root, f'img_dir/test/{index:05d}.png'))
        np.testing.assert_array_equal(saved[..., ::-1], test_img)
        for split in ('train', 'val'):
            other, _ = draw_sample(
                _rng_for(PARAMS['seed'], split, index), PARAMS['size'])
            assert not np.array_equal(test_img, other)
    # the toy configs score on it
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, STUDENT_CFG))
    assert cfg.test_dataloader.dataset.data_prefix == dict(
        img_path='img_dir/test', seg_map_path='ann_dir/test')
    assert cfg.val_dataloader.dataset.data_prefix['img_path'] == 'img_dir/val'


@pytest.mark.parametrize('bad', [dict(num_test=-1), dict(num_val=2.5)])
def test_bad_split_sizes(tmp_path, bad):
    name = next(iter(bad))
    with pytest.raises(ValueError, match=f'{name} must be an int >= 0'):
        generate_toy_dataset(str(tmp_path), **dict(PARAMS, **bad))


def test_order_independence(toy_root):
    # sample i of a split depends on (seed, split, i) only
    img, label = draw_sample(
        _rng_for(PARAMS['seed'], 'val', 2), PARAMS['size'])
    saved = cv2.imread(osp.join(toy_root, 'img_dir/val/00002.png'))
    np.testing.assert_array_equal(saved[..., ::-1], img)
    np.testing.assert_array_equal(_labels(toy_root, 'val')[2], label)
    img_t, _ = draw_sample(
        _rng_for(PARAMS['seed'], 'train', 2), PARAMS['size'])
    assert not np.array_equal(img, img_t)


def test_idempotence(tmp_path):
    root = str(tmp_path / 'toy')
    generate_toy_dataset(root, **PARAMS)
    path = osp.join(root, 'img_dir/train/00000.png')
    os.utime(path, (1, 1))
    meta = generate_toy_dataset(root, **PARAMS)
    assert meta['skipped'] is True
    assert os.stat(path).st_mtime == 1  # nothing rewritten
    # other parameters regenerate, and remove files that no longer belong
    meta = generate_toy_dataset(root, **dict(PARAMS, num_train=2))
    assert meta['skipped'] is False
    assert sorted(os.listdir(osp.join(
        root, 'img_dir/train'))) == ['00000.png', '00001.png']
    assert sorted(os.listdir(osp.join(
        root, 'ann_dir/train'))) == ['00000.png', '00001.png']
    # a broken stamp regenerates
    with open(osp.join(root, 'meta.json'), 'w') as f:
        f.write('{not json')
    assert generate_toy_dataset(root, **dict(PARAMS,
                                             num_train=2))['skipped'] is False


def test_label_values_and_class_presence(toy_root):
    for split in ('train', 'val', 'test'):
        labels = np.stack(_labels(toy_root, split))
        values = set(np.unique(labels).tolist())
        allowed = set(range(len(CLASSES))) | {255}
        assert values <= allowed
        # every class, and the ignore band, in every split
        assert values == allowed, (split, allowed - values)


def test_thin_structures_and_context():
    kernel = np.ones((3, 3), np.uint8)
    wire_pixels = thick_pixels = 0
    squares = {BUSH: 0, ROCK: 0}
    for index in range(6):
        _, label = draw_sample(_rng_for(0, 'train', index), 128)
        wire = (label == WIRE).astype(np.uint8)
        assert wire.any()
        # a 1-2 px wide curve holds no full 3x3 block, except where two
        # wires cross
        wire_pixels += int(wire.sum())
        thick_pixels += int(cv2.erode(wire, kernel).sum())
        # bush sits in meadow and rock in desert: the 1-px ring around
        # every square is its region (or a wire drawn over it)
        for square, region in ((BUSH, MEADOW), (ROCK, DESERT)):
            mask = (label == square).astype(np.uint8)
            squares[square] += int(mask.sum())
            ring = cv2.dilate(mask, kernel).astype(bool) & ~mask.astype(bool)
            assert np.isin(label[ring], [region, WIRE]).all()
    assert thick_pixels <= 0.05 * wire_pixels
    assert min(squares.values()) > 0


def test_toy_seg_dataset(toy_root):
    from mmseg.registry import DATASETS

    dataset = DATASETS.build(
        dict(
            type='ToySegDataset',
            data_root=toy_root,
            data_prefix=dict(
                img_path='img_dir/train', seg_map_path='ann_dir/train'),
            pipeline=[
                dict(type='mmseg.LoadImageFromFile'),
                dict(type='mmseg.LoadAnnotations')
            ]))
    assert isinstance(dataset, ToySegDataset)
    assert len(dataset) == PARAMS['num_train']
    assert dataset.metainfo['classes'] == CLASSES
    assert [list(c) for c in dataset.metainfo['palette']] == PALETTE
    assert dataset.reduce_zero_label is False
    sample = dataset[0]
    assert sample['img'].shape == (64, 64, 3)
    assert sample['gt_seg_map'].shape == (64, 64)
    np.testing.assert_array_equal(sample['gt_seg_map'],
                                  _labels(toy_root, 'train')[0])

    val = ToySegDataset(
        data_root=toy_root,
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'))
    assert len(val) == PARAMS['num_val']


def test_toy_configs():
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS

    sizes = {}
    for name, path in (('toy_teacher', TEACHER_CFG), ('toy_student',
                                                      STUDENT_CFG)):
        cfg = Config.fromfile(osp.join(REPO, path))
        assert cfg.train_dataloader.dataset.type == 'ToySegDataset'
        assert cfg.model.decode_head.num_classes == len(CLASSES)
        assert cfg.model.auxiliary_head.num_classes == len(CLASSES)
        assert cfg.model.auxiliary_head.loss_decode.loss_weight == 0.4
        assert cfg.model.backbone.norm_cfg.type == 'BN'
        with DefaultScope.overwrite_default_scope('mmseg'):
            model = MODELS.build(cfg.model)
        assert model.with_auxiliary_head
        sizes[name] = sum(p.numel() for p in model.parameters())
    assert sizes['toy_teacher'] > 3 * sizes['toy_student']
