# Copyright (c) mmrdd contributors. All rights reserved.
"""Reuse keyed on content: a finished toy run is reused only when the
teacher's and the initial weights, the data set, the config and the options
are those of the new run (issue 22: a teacher re-trained in place kept its
path, and the runs distilled from the old one were reused)."""
import json
import os.path as osp

import pytest
import torch

from mmrdd.datasets import generate_toy_dataset
from mmrdd_lab import seeds
from mmrdd_lab.fingerprint import (checkpoint_sha256, dataset_sha256,
                                   fingerprint_changes, run_fingerprint,
                                   state_dict_sha256)
from mmrdd_lab.train_runs import RunTime

KD_CFG = seeds.VARIANTS['kd'][1]


def _save(path, value: float, name: str = 'w') -> str:
    torch.save(dict(state_dict={name: torch.full((3, 2), value)}), str(path))
    return str(path)


@pytest.fixture(scope='module')
def data_root(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('toyseg'))
    generate_toy_dataset(root, num_train=2, num_val=1, num_test=1)
    return root


def test_weights_are_keyed_by_content_not_by_file(tmp_path):
    """Same tensors in two files (names differ, hence the bytes): one key;
    one changed value, dtype or name: another."""
    a = checkpoint_sha256(_save(tmp_path / 'a.pth', 1.0))
    assert checkpoint_sha256(_save(tmp_path / 'other_name.pth', 1.0)) == a
    torch.save({'w': torch.full((3, 2), 1.0)}, str(tmp_path / 'bare.pth'))
    assert checkpoint_sha256(str(tmp_path / 'bare.pth')) == a
    assert checkpoint_sha256(_save(tmp_path / 'b.pth', 1.5)) != a
    assert checkpoint_sha256(_save(tmp_path / 'c.pth', 1.0, 'v')) != a
    half = {'w': torch.full((3, 2), 1.0, dtype=torch.float16)}
    assert state_dict_sha256(half) != a
    with pytest.raises(TypeError, match="'w' is a int"):
        state_dict_sha256({'w': 3})


def test_the_data_set_is_keyed_by_its_bytes(tmp_path, data_root):
    key = dataset_sha256(data_root)
    copy = str(tmp_path / 'copy')
    generate_toy_dataset(copy, num_train=2, num_val=1, num_test=1)
    assert dataset_sha256(copy) == key  # same content, another folder
    label = osp.join(copy, 'ann_dir', 'test', '00000.png')
    with open(label, 'ab') as f:
        f.write(b'\0')
    assert dataset_sha256(copy) != key
    with pytest.raises(FileNotFoundError, match='make_toy_dataset.py'):
        dataset_sha256(str(tmp_path / 'nothing'))
    # the three loaders' data roots changed alike: one sentence
    keys = [f'{s}_dataloader.dataset.data_root' for s in ('train', 'val')]
    old = run_fingerprint(KD_CFG, [f'{k}={data_root}' for k in keys], 1,
                          seeds.REPO_ROOT)
    new = run_fingerprint(KD_CFG, [f'{k}={copy}' for k in keys], 1,
                          seeds.REPO_ROOT)
    assert fingerprint_changes(old, new) == [
        f'the data set changed: sha256 {key[:12]} -> '
        f'{dataset_sha256(copy)[:12]} ({", ".join(keys)})'
    ]


def test_fingerprint_changes_name_what_differs(tmp_path, data_root):
    teacher = _save(tmp_path / 'teacher.pth', 1.0)
    opts = [
        f'train_dataloader.dataset.data_root={data_root}', 'randomness.seed=3',
        f'model.teacher_ckpt={teacher}'
    ]
    old = run_fingerprint(KD_CFG, opts, 1, seeds.REPO_ROOT)
    assert old['options'] == ['randomness.seed=3']  # no paths
    assert set(old['contents']) == {
        'train_dataloader.dataset.data_root', 'model.teacher_ckpt'
    }
    # the same content elsewhere: the same key
    copy = str(tmp_path / 'teacher_copy.pth')
    _save(copy, 1.0)
    moved = run_fingerprint(KD_CFG, opts[:2] + [f'model.teacher_ckpt={copy}'],
                            1, seeds.REPO_ROOT)
    assert fingerprint_changes(old, moved) == []
    # validating during training changes the dropout draws after it
    curve = run_fingerprint(KD_CFG, opts + ['train_cfg.val_interval=200'], 1,
                            seeds.REPO_ROOT)
    assert fingerprint_changes(
        old, curve) == ['the options changed (+train_cfg.val_interval=200)']
    _save(teacher, 2.0)  # the teacher re-trained in place: same path
    new = run_fingerprint(KD_CFG, opts[:2] + ['randomness.seed=4'] + opts[2:],
                          2, seeds.REPO_ROOT)
    changes = fingerprint_changes(old, new)
    assert len(changes) == 3, changes
    before = old['contents']['model.teacher_ckpt'][:12]
    after = new['contents']['model.teacher_ckpt'][:12]
    assert changes[0] == (f'the teacher checkpoint changed: sha256 {before} '
                          f'-> {after} (model.teacher_ckpt)')
    assert changes[1] == 'the options changed (+randomness.seed=4)'
    assert changes[2].startswith('the training threads changed (1 -> 2')
    other = dict(old, config_sha256='0' * 64)
    assert fingerprint_changes(other, old) == [
        f'the config {KD_CFG} changed (resolved content sha256 000000000000 '
        f'-> {old["config_sha256"][:12]})'
    ]
    assert 'no content fingerprint' in fingerprint_changes(None, old)[0]


def test_a_run_is_trained_again_when_the_teacher_changed_in_place(
        tmp_path, data_root, monkeypatch):
    """The issue's case, through ``run_variant``: the teacher file is
    re-written at the same path, the pixel KD run distilled from the old one
    is not reused, and the console says why; with nothing changed it is
    reused. Training and scoring are replaced by recorders."""
    trained, said = [], []

    def fake_training(config, work_dir, options, description, *args):
        trained.append(options)
        ckpt = osp.join(work_dir, f'iter_{len(trained)}.pth')
        torch.save(dict(state_dict={'architecture.w': torch.zeros(1)}), ckpt)
        with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
            f.write(ckpt)
        return RunTime(1.0, 0.5)

    def fake_scores(*args, **kwargs):
        return dict(mIoU=40.0 + len(trained), per_class={}, aAcc=0.0)

    monkeypatch.setattr(seeds, 'run_training', fake_training)
    monkeypatch.setattr('mmrdd_lab.evaluate.evaluate_segmentor', fake_scores)
    monkeypatch.setattr(seeds, '_say', lambda progress, msg: said.append(msg))
    (tmp_path / 'run').mkdir()
    teacher = _save(tmp_path / 'teacher.pth', 1.0)
    init = _save(tmp_path / 'init.pth', 0.5)

    def kd_run():
        return seeds.run_variant(
            'kd',
            0,
            str(tmp_path / 'run'),
            init,
            data_root,
            teacher,
            iters=2,
            threads=1,
            reuse=True)

    first = kd_run()
    assert len(trained) == 1 and first['mIoU'] == 41.0
    stored = json.loads((tmp_path / 'run' / 'result.json').read_text())
    assert stored['fingerprint'] == first['fingerprint']
    assert kd_run()['mIoU'] == 41.0 and len(trained) == 1  # reused
    assert said[-1].startswith('seed 0 pixel KD: reusing the finished run')
    _save(teacher, 2.0)  # re-trained in place
    again = kd_run()
    assert len(trained) == 2 and again['mIoU'] == 42.0
    assert 'does not apply: the teacher checkpoint changed: sha256 ' in said[
        -1]
    assert said[-1].endswith('(model.teacher_ckpt)')
    assert again['fingerprint']['contents']['model.teacher_ckpt'] != \
        first['fingerprint']['contents']['model.teacher_ckpt']
