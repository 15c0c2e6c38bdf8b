# Copyright (c) mmrdd contributors. All rights reserved.
"""The tools' data options: ``--cfg-options data_root=PATH`` reaches every
split (VOC aug's concatenated training sets too), and a loader without
workers does not keep them (``persistent_workers``)."""
import argparse
import os.path as osp
import uuid

import pytest
from mmengine.config import Config
from mmengine.logging import MMLogger

from mmrdd.runtime import (add_launch_arguments, config_file,
                           fix_persistent_workers, load_tool_config,
                           set_data_root)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
VOC = osp.join(
    ROOT, 'configs', 'rdd', 'rdd_logits_deeplabv3_r101-d8_'
    'deeplabv3_r18-d8_4xb4-40k_voc12aug-512x512.py')
VOC_KEYS = [
    'train_dataloader.dataset.datasets.0.data_root',
    'train_dataloader.dataset.datasets.1.data_root',
    'val_dataloader.dataset.data_root', 'test_dataloader.dataset.data_root'
]


def parse(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    add_launch_arguments(parser)
    return parser.parse_args(argv)


def roots(cfg):
    """The data_root of VOC aug's four data sets."""
    train = cfg.train_dataloader.dataset.datasets
    return [
        train[0].data_root, train[1].data_root,
        cfg.val_dataloader.dataset.data_root,
        cfg.test_dataloader.dataset.data_root
    ]


@pytest.fixture
def log_file(tmp_path, monkeypatch):
    """A fresh current MMLogger writing to a file; returns its path."""
    monkeypatch.setenv('LOCAL_RANK', '0')
    path = tmp_path / 'tool.log'
    MMLogger.get_instance(f'data-options-{uuid.uuid4()}', log_file=str(path))
    return path


def test_mmengine_alone_leaves_the_splits_where_they_were():
    """Why the option needs us: the variable is resolved at parse time."""
    cfg = Config.fromfile(VOC)
    cfg.merge_from_dict({'data_root': '/my/VOC2012'})
    assert roots(cfg) == ['data/VOCdevkit/VOC2012'] * 4


def test_data_root_reaches_every_split_and_both_concatenated_sets(log_file):
    cfg = load_tool_config(
        parse([VOC, '--cfg-options', 'data_root=/my/VOC2012']))
    assert roots(cfg) == ['/my/VOC2012'] * 4
    assert cfg.data_root == '/my/VOC2012'
    assert ('data_root=/my/VOC2012 for every split: ' +
            ', '.join(VOC_KEYS)) in log_file.read_text()


def test_a_splits_own_key_wins(log_file):
    cfg = load_tool_config(
        parse([
            VOC, '--cfg-options', 'data_root=/my/VOC2012',
            'val_dataloader.dataset.data_root=/other'
        ]))
    assert roots(cfg)[:3] == ['/my/VOC2012', '/my/VOC2012', '/other']


def test_data_root_on_the_concatenated_set_names_the_keys_to_use(log_file):
    """The issue's error: MMSeg's README key on VOC aug's ConcatDataset."""
    with pytest.raises(ValueError) as err:
        load_tool_config(
            parse([
                VOC, '--cfg-options',
                'train_dataloader.dataset.data_root=/my/VOC2012'
            ]))
    message = str(err.value)
    assert message.startswith('train_dataloader.dataset is a ConcatDataset, '
                              'which has no data_root: give data_root=PATH')
    assert VOC_KEYS[0] in message and VOC_KEYS[1] in message


def test_set_data_root_returns_the_keys_and_refuses_a_config_without():
    cfg = Config.fromfile(VOC)
    assert set_data_root(cfg, '/x') == VOC_KEYS
    empty = Config(
        dict(train_dataloader=dict(dataset=dict(type='X', ann_file='a'))))
    with pytest.raises(ValueError, match='no data set of this config has'):
        set_data_root(empty, '/x')


def test_mmseg_config_name_with_data_root(log_file):
    """``tools/test.py mmseg::...`` (a scoring config): the file is
    MMSeg's, the work_dir its name, the data root every split's."""
    name = 'mmseg::deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py'
    cfg = load_tool_config(
        parse([name, '--cfg-options', 'data_root=/my/cityscapes']))
    assert cfg.filename == config_file(name)
    assert cfg.model.backbone.depth == 18
    assert cfg.work_dir == osp.join(
        './work_dirs', 'deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024')
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[split].dataset.data_root == '/my/cityscapes'


def test_persistent_workers_only_with_workers(log_file):
    cfg = load_tool_config(
        parse([
            VOC, '--cfg-options', 'train_dataloader.num_workers=0',
            'val_dataloader.num_workers=0'
        ]))
    assert cfg.train_dataloader.persistent_workers is False
    assert cfg.val_dataloader.persistent_workers is False
    # test_dataloader keeps its 4 workers (MMSeg's base), and with them
    # persistent_workers
    assert cfg.test_dataloader.num_workers == 4
    assert cfg.test_dataloader.persistent_workers is True
    assert ('train_dataloader, val_dataloader: num_workers=0, so '
            'persistent_workers=False') in log_file.read_text()


def test_persistent_workers_untouched_when_consistent():
    cfg = Config(
        dict(
            train_dataloader=dict(num_workers=2, persistent_workers=True),
            val_dataloader=dict(num_workers=0, persistent_workers=False),
            test_dataloader=None))
    assert fix_persistent_workers(cfg) == []
    assert cfg.train_dataloader.persistent_workers is True
